"""Morphs: encode two digits, walk between their codes (linear or spherical), decode every step."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from vae.codes import encode_means
from vae.images import as_uint8, gif_bytes, png_bytes, tile
from vae.latent import decode_to_uint8, interpolate
from vae.mnist_shape import IMAGE_SIDE, PIXELS
from vae.model import LatentModel


@dataclass(frozen=True)
class MorphRow:
    """original A, reconstruction A, k in-between frames, reconstruction B, original B."""

    method: str
    images: np.ndarray  # uint8 [k + 4, 28, 28]

    @property
    def frames(self) -> np.ndarray:
        return self.images[2:-2]

    def gif(self) -> bytes:
        """The decoded path (reconstructions and frames), looping back and forth."""
        return gif_bytes(self.images[1:-1])

    def png(self, scale: int = 3) -> bytes:
        """The whole row as one picture strip."""
        return png_bytes(tile(self.images, columns=len(self.images)), scale=scale)


def morph_row(
    model: LatentModel, image_a: torch.Tensor | np.ndarray, image_b: torch.Tensor | np.ndarray, frames: int, method: str
) -> MorphRow:
    """Encode both digits (μ), walk `frames` steps between the codes, decode everything."""
    pair = np.stack([np.asarray(image, dtype=np.float32).reshape(PIXELS) for image in (image_a, image_b)])
    return morph_between_codes(model, encode_means(model, pair), as_uint8(pair), frames, method)


def morph_between_codes(
    model: LatentModel, mu: torch.Tensor, originals: np.ndarray, frames: int, method: str
) -> MorphRow:
    """The morph from two codes already known (μ [2, d], e.g. recorded at an earlier epoch, whose
    encoder is not kept) and their two original images (uint8 [2, 28, 28])."""
    mu = torch.as_tensor(mu, dtype=torch.float32)
    path = torch.cat([mu[:1], interpolate(mu[0], mu[1], frames, method), mu[1:]])
    decoded = decode_to_uint8(model, path).numpy()
    originals = np.asarray(originals, dtype=np.uint8).reshape(2, IMAGE_SIDE, IMAGE_SIDE)
    return MorphRow(method, np.concatenate([originals[:1], decoded, originals[1:]]))
