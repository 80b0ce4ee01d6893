"""Small structured fake MNIST splits, and a log that prints nothing: fast tests never touch the real MNIST."""

from __future__ import annotations

import torch

from vae.data import MnistSplit

FAKE_MD5 = {"fake-images": "0" * 32, "fake-labels": "f" * 32}


def quiet(_message: str) -> None:
    """A `log` callback that prints nothing."""


def fake_split(count: int, seed: int) -> MnistSplit:
    """Structured 28×28 "digits": ten fixed class templates (blobs), each image its template with
    a few pixels flipped and its ink intensity varied, so a model has something to learn."""
    templates_rng = torch.Generator().manual_seed(1234)  # the same ten templates in every split
    coarse = (torch.rand(10, 1, 7, 7, generator=templates_rng) > 0.6).float()
    templates = torch.nn.functional.interpolate(coarse, size=(28, 28), mode="nearest").reshape(10, 784)
    rng = torch.Generator().manual_seed(seed)
    labels = torch.arange(count) % 10
    labels = labels[torch.randperm(count, generator=rng)]
    flips = torch.rand(count, 784, generator=rng) < 0.03
    ink = 0.6 + 0.4 * torch.rand(count, 1, generator=rng)
    images = torch.where(flips, 1.0 - templates[labels], templates[labels]) * ink
    return MnistSplit(images=images.float().contiguous(), labels=labels.long(), md5=dict(FAKE_MD5))
