"""The loss terms against values computed by hand from their formulas."""

from __future__ import annotations

import math

import pytest
import torch
from torch.nn import functional as F

from vae.losses import bce_with_logits, elbo_loss, kl_to_prior, reconstruction_nats


def bce_by_hand(logit: float, x: float) -> float:
    """−[x log σ(l) + (1−x) log(1−σ(l))] in float64."""
    p = 1.0 / (1.0 + math.exp(-logit))
    return -(x * math.log(p) + (1.0 - x) * math.log(1.0 - p))


LOGITS = [[0.5, -1.2, 2.0, 0.0], [-3.0, 0.25, 1.5, -0.7]]
TARGETS = [[0.0, 1.0, 0.3, 0.5], [1.0, 0.0, 0.9, 0.2]]


def test_bce_summed_over_pixels_matches_the_formula() -> None:
    logits = torch.tensor(LOGITS, dtype=torch.float64)
    x = torch.tensor(TARGETS, dtype=torch.float64)
    rows = zip(LOGITS, TARGETS, strict=True)
    per_row = [sum(bce_by_hand(logit, t) for logit, t in zip(lo, ta, strict=True)) for lo, ta in rows]
    assert reconstruction_nats(logits, x).item() == pytest.approx(sum(per_row), rel=1e-12)
    assert reconstruction_nats(logits, x, reduction="none").tolist() == pytest.approx(per_row, rel=1e-12)


def test_bce_in_float32_is_within_1e_7_nats_of_float64_everywhere() -> None:
    logits = torch.linspace(-120.0, 120.0, 200_001, dtype=torch.float64)
    for x in (0.0, 0.25, 1.0):
        target = torch.full_like(logits, x)
        exact = logits.clamp_min(0) - target * logits + torch.log1p(torch.exp(-logits.abs()))
        ours = bce_with_logits(logits.float(), target.float()).double()
        # relative to the float32 rounding of the result itself, plus the ≤ 6e-8 dropped e^−|l|
        assert ((ours - exact).abs() <= 1e-7 + 1e-6 * exact).all()


def test_bce_of_one_pixel_by_hand() -> None:
    # l = 0 → σ = ½, so the loss is log 2 whatever x is
    for x in (0.0, 0.3, 1.0):
        assert reconstruction_nats(torch.zeros(1, 1), torch.full((1, 1), x)).item() == pytest.approx(math.log(2))


def test_reconstruction_accepts_image_shaped_targets() -> None:
    logits = torch.randn(3, 784, generator=torch.Generator().manual_seed(0))
    x = torch.rand(3, 784, generator=torch.Generator().manual_seed(1))
    assert torch.equal(reconstruction_nats(logits, x.reshape(3, 1, 28, 28)), reconstruction_nats(logits, x))


@pytest.mark.parametrize(
    ("mu", "logvar", "per_dim"),
    [
        (1.0, 0.0, 0.5),  # ½(1 − 0 − 1 + 1)
        (0.0, math.log(4.0), 0.5 * (4.0 - math.log(4.0) - 1.0)),
        (-2.0, math.log(0.25), 0.5 * (0.25 - math.log(0.25) - 1.0 + 4.0)),
        (0.0, 0.0, 0.0),
    ],
)
def test_kl_by_hand(mu: float, logvar: float, per_dim: float) -> None:
    d = 3
    mus = torch.full((2, d), mu, dtype=torch.float64)
    logvars = torch.full((2, d), logvar, dtype=torch.float64)
    assert kl_to_prior(mus, logvars).item() == pytest.approx(2 * d * per_dim, rel=1e-12, abs=1e-15)
    assert kl_to_prior(mus, logvars, reduction="none").tolist() == pytest.approx([d * per_dim] * 2, abs=1e-12)


def test_kl_is_exactly_zero_at_the_prior() -> None:
    assert kl_to_prior(torch.zeros(4, 20), torch.zeros(4, 20)).item() == 0.0


def test_kl_is_positive_away_from_the_prior() -> None:
    g = torch.Generator().manual_seed(0)
    mu, logvar = torch.randn(50, 5, generator=g), torch.randn(50, 5, generator=g)
    assert bool((kl_to_prior(mu, logvar, reduction="none") > 0).all())


def test_beta_scales_only_the_kl() -> None:
    g = torch.Generator().manual_seed(0)
    logits, x = torch.randn(4, 784, generator=g), torch.rand(4, 784, generator=g)
    mu, logvar = torch.randn(4, 6, generator=g), torch.randn(4, 6, generator=g)
    one = elbo_loss(logits, x, mu, logvar, beta=1.0)
    for beta in (0.0, 0.25, 4.0):
        terms = elbo_loss(logits, x, mu, logvar, beta=beta)
        assert torch.equal(terms.recon, one.recon)
        assert torch.equal(terms.kl, one.kl)
        assert terms.total.item() == pytest.approx(one.recon.item() + beta * one.kl.item(), rel=1e-6)
    assert one.recon.item() == pytest.approx(reconstruction_nats(logits, x).item())
    assert one.kl.item() == pytest.approx(kl_to_prior(mu, logvar).item())


def test_autoencoder_loss_has_no_kl() -> None:
    g = torch.Generator().manual_seed(0)
    logits, x, mu = torch.randn(4, 784, generator=g), torch.rand(4, 784, generator=g), torch.randn(4, 6, generator=g)
    for beta in (1.0, 10.0):
        terms = elbo_loss(logits, x, mu, None, beta=beta)
        assert terms.kl.item() == 0.0
        assert torch.equal(terms.total, terms.recon)


@pytest.mark.parametrize("magnitude", [100.0, 200.0, 1000.0])
def test_reconstruction_is_stable_at_extreme_logits(magnitude: float) -> None:
    # Confidently wrong on both pixels: −log σ(−m) = log(1 + e^m) = m + log(1 + e^−m) ≈ m nats each.
    logits = torch.tensor([[magnitude, -magnitude]], requires_grad=True)
    x = torch.tensor([[0.0, 1.0]])
    loss = reconstruction_nats(logits, x)
    assert torch.isfinite(loss)
    assert loss.item() == pytest.approx(2 * magnitude, rel=1e-6)
    loss.backward()
    assert torch.isfinite(logits.grad).all()
    assert logits.grad[0].tolist() == pytest.approx([1.0, -1.0])  # σ(l) − x
    # Confidently right: ~0 nats, not NaN.
    right = reconstruction_nats(torch.tensor([[magnitude, -magnitude]]), torch.tensor([[1.0, 0.0]]))
    assert right.item() == pytest.approx(0.0, abs=1e-6)


def test_the_gradient_is_sigmoid_minus_x_at_zero_logits_too() -> None:
    # max(l, 0) and |l| have a kink at 0, where autograd picks a one-sided slope
    logits = torch.zeros(1, 3, requires_grad=True)
    reconstruction_nats(logits, torch.tensor([[0.0, 0.5, 1.0]])).backward()
    assert logits.grad.tolist() == [[0.5, 0.0, -0.5]]


def test_plain_bce_on_a_clamped_sigmoid_would_be_wrong_there() -> None:
    # The reason for working on logits: σ(200) rounds to 1 and torch clamps log 0 to −100,
    # so the naive loss says 100 nats per pixel instead of 200.
    logits = torch.tensor([[200.0, -200.0]])
    x = torch.tensor([[0.0, 1.0]])
    naive = F.binary_cross_entropy(torch.sigmoid(logits), x, reduction="sum").item()
    assert naive == pytest.approx(200.0)
    assert reconstruction_nats(logits, x).item() == pytest.approx(400.0)


def test_partial_targets_at_large_logits() -> None:
    # l = 50, x = 0.3: max(l, 0) − l·x + log(1 + e^−|l|) = 50 − 15 + ~0 = 35
    assert reconstruction_nats(torch.tensor([[50.0]]), torch.tensor([[0.3]])).item() == pytest.approx(35.0, rel=1e-6)


def test_detach_keeps_values() -> None:
    logits = torch.zeros(1, 4, requires_grad=True)
    terms = elbo_loss(logits, torch.ones(1, 4), torch.zeros(1, 2), torch.zeros(1, 2))
    detached = terms.detach()
    assert not detached.total.requires_grad
    assert detached.total.item() == pytest.approx(4 * math.log(2))
