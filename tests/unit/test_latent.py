"""Latent-space operations: encoding, morphs, prior samples, dimension order, neighbours, the 2-D grid."""

from __future__ import annotations

import math

import pytest
import torch

from vae.config import ModelConfig
from vae.data import MnistSplit
from vae.latent import (
    decode_to_uint8,
    encode_all,
    interpolate,
    latent_grid,
    nearest,
    place_on_map,
    sample_prior,
    usage_order,
)
from vae.model import build_model

# ---------------------------------------------------------------- encoding and decoding


@pytest.mark.parametrize("kind", ["vae", "ae"])
def test_encode_all_in_batches(kind: str, fake_test: MnistSplit) -> None:
    torch.manual_seed(0)
    model = build_model(ModelConfig(kind=kind, hidden_dim=16, latent_dim=3)).train()
    mu, logvar = encode_all(model, fake_test.images, batch_size=100)  # 100 + 100 + 56
    assert model.training  # the mode is restored
    with torch.no_grad():
        ref_mu, ref_logvar = model.encode(fake_test.images)
    assert mu.shape == (len(fake_test), 3)
    assert torch.allclose(mu, ref_mu, atol=1e-6)
    if kind == "vae":
        assert torch.allclose(logvar, ref_logvar, atol=1e-6)
    else:
        assert logvar is None
    assert not mu.requires_grad


def test_decode_to_uint8() -> None:
    torch.manual_seed(0)
    model = build_model(ModelConfig(hidden_dim=16, latent_dim=3)).eval()
    z = torch.randn(4, 3, generator=torch.Generator().manual_seed(0))
    pixels = decode_to_uint8(model, z.double())
    assert pixels.dtype == torch.uint8
    assert pixels.shape == (4, 28, 28)
    with torch.no_grad():
        expected = (model.decode(z)[:, 0] * 255).round().to(torch.uint8)
    assert torch.equal(pixels, expected)
    assert torch.equal(decode_to_uint8(model, z[0]), expected[:1])  # one code, unbatched


# ---------------------------------------------------------------- interpolation


def test_interpolate_excludes_the_ends() -> None:
    z0, z1 = torch.tensor([0.0, 0.0]), torch.tensor([4.0, -8.0])
    frames = interpolate(z0, z1, 3)
    # t = 1/4, 2/4, 3/4
    assert torch.allclose(frames, torch.tensor([[1.0, -2.0], [2.0, -4.0], [3.0, -6.0]]))
    assert not any(torch.equal(f, z0) or torch.equal(f, z1) for f in frames)


def test_linear_midpoint() -> None:
    z0, z1 = torch.tensor([1.0, 2.0, -3.0]), torch.tensor([3.0, -2.0, 5.0])
    (mid,) = interpolate(z0, z1, 1)
    assert torch.allclose(mid, torch.tensor([2.0, 0.0, 1.0]))


@pytest.mark.parametrize("method", ["linear", "spherical"])
def test_frame_count(method: str) -> None:
    g = torch.Generator().manual_seed(0)
    z0, z1 = torch.randn(20, generator=g), torch.randn(20, generator=g)
    assert interpolate(z0, z1, 10, method).shape == (10, 20)


def test_spherical_keeps_the_norm_and_follows_the_arc() -> None:
    g = torch.Generator().manual_seed(0)
    z0, z1 = torch.randn(20, generator=g), torch.randn(20, generator=g)
    z1 = z1 * (z0.norm() / z1.norm())
    frames = interpolate(z0, z1, 9, "spherical")
    assert torch.allclose(frames.norm(dim=1), torch.full((9,), z0.norm().item()), rtol=1e-5)
    linear = interpolate(z0, z1, 9, "linear")
    assert bool((linear.norm(dim=1) < z0.norm() - 1e-3).all())  # the line cuts through the middle
    # the middle frame points along z0 + z1
    mid = frames[4]
    direction = (z0 + z1) / (z0 + z1).norm()
    assert torch.allclose(mid / mid.norm(), direction, atol=1e-5)


def test_spherical_ends_approach_the_codes() -> None:
    z0, z1 = torch.tensor([3.0, 0.0]), torch.tensor([0.0, 3.0])
    frames = interpolate(z0, z1, 99, "spherical")
    assert torch.allclose(frames[0], z0, atol=0.1)
    assert torch.allclose(frames[-1], z1, atol=0.1)
    # quarter circle, t = 1/100: (3 cos(π/200), 3 sin(π/200))
    angle = math.pi / 2 / 100
    assert torch.allclose(frames[0], torch.tensor([3 * math.cos(angle), 3 * math.sin(angle)]), atol=1e-5)


def test_spherical_of_parallel_codes_is_the_line() -> None:
    z0, z1 = torch.tensor([1.0, 1.0]), torch.tensor([3.0, 3.0])
    assert torch.allclose(interpolate(z0, z1, 3, "spherical"), interpolate(z0, z1, 3, "linear"))


def test_spherical_near_opposite_codes_keeps_the_norm() -> None:
    # The angle is π − 1e-4: arccos of a float32 cosine rounded to −1 gave frames of norm ~1000 here.
    z0, z1 = torch.tensor([1.0, 0.0]), torch.tensor([-1.0, 1e-4])
    frames = interpolate(z0, z1, 9, "spherical")
    assert torch.allclose(frames.norm(dim=1), torch.ones(9), atol=1e-4)
    # half way round the circle through +y, the side z1 leans to
    assert torch.allclose(frames[4], torch.tensor([0.0, 1.0]), atol=1e-3)


def test_spherical_of_opposite_codes_turns_through_a_fixed_orthogonal_axis() -> None:
    z0 = torch.tensor([0.6, 0.8, 0.0])
    frames = interpolate(z0, -z0, 3, "spherical")
    assert torch.allclose(frames.norm(dim=1), torch.ones(3), atol=1e-6)
    assert abs(float(frames[1] @ z0)) < 1e-6  # the middle frame is orthogonal to both codes
    assert torch.equal(frames, interpolate(z0, -z0, 3, "spherical"))  # and the same every time
    assert torch.allclose(frames[1], torch.tensor([0.0, 0.0, 1.0]), atol=1e-6)  # z's least-used axis


def test_spherical_with_a_zero_code_is_the_line() -> None:
    z0, z1 = torch.zeros(3), torch.tensor([1.0, 2.0, 3.0])
    assert torch.allclose(interpolate(z0, z1, 4, "spherical"), interpolate(z0, z1, 4, "linear"))


@pytest.mark.parametrize("method", ["linear", "spherical"])
def test_interpolate_batched_pairs_match_one_at_a_time(method: str) -> None:
    g = torch.Generator().manual_seed(3)
    z0, z1 = torch.randn(5, 8, generator=g), torch.randn(5, 8, generator=g)
    z1[2] = -z0[2]  # one exactly opposite pair in the batch
    batched = interpolate(z0, z1, 6, method)
    assert batched.shape == (5, 6, 8) and batched.dtype == torch.float32
    for i in range(5):
        assert torch.allclose(batched[i], interpolate(z0[i], z1[i], 6, method), atol=1e-6)


def test_spherical_norm_goes_linearly_between_the_norms() -> None:
    z0, z1 = torch.tensor([2.0, 0.0]), torch.tensor([0.0, 4.0])
    frames = interpolate(z0, z1, 3, "spherical")
    assert torch.allclose(frames.norm(dim=1), torch.tensor([2.5, 3.0, 3.5]), atol=1e-6)


def test_interpolate_rejects_bad_arguments() -> None:
    z0, z1 = torch.zeros(2), torch.ones(2)
    with pytest.raises(ValueError, match="method"):
        interpolate(z0, z1, 3, "cubic")
    with pytest.raises(ValueError, match="at least one frame"):
        interpolate(z0, z1, 0)
    with pytest.raises(ValueError, match="codes must"):
        interpolate(z0, torch.ones(3), 3)


# ---------------------------------------------------------------- prior samples


def test_sample_prior_per_seed() -> None:
    a, b, c = sample_prior(8, 5, seed=3), sample_prior(8, 5, seed=3), sample_prior(8, 5, seed=4)
    assert a.shape == (8, 5)
    assert torch.equal(a, b)
    assert not torch.equal(a, c)


def test_sample_prior_does_not_touch_the_global_rng() -> None:
    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    sample_prior(4, 2, seed=9)
    assert torch.equal(torch.rand(3), expected)


def test_temperature_scales_the_samples() -> None:
    base = sample_prior(100, 4, temperature=1.0, seed=1)
    assert torch.equal(sample_prior(100, 4, temperature=2.0, seed=1), 2.0 * base)
    assert torch.equal(sample_prior(100, 4, temperature=0.0, seed=1), torch.zeros(100, 4))
    wide = sample_prior(20000, 1, temperature=0.5, seed=2)
    assert abs(float(wide.std()) - 0.5) < 0.02


# ---------------------------------------------------------------- dimension usage


def test_usage_order_is_descending_and_stable() -> None:
    assert usage_order([0.1, 3.0, 0.0, 3.0, 1.5]) == [1, 3, 4, 0, 2]
    assert usage_order(torch.tensor([0.0, 0.0, 0.0])) == [0, 1, 2]


# ---------------------------------------------------------------- neighbours and the map


def codes(n: int, d: int, seed: int = 0) -> torch.Tensor:
    return torch.randn(n, d, generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize(("n", "d"), [(10, 2), (500, 20)])
def test_nearest_finds_exact_matches(n: int, d: int) -> None:
    bank = codes(n, d)
    rows = torch.tensor([0, n // 2, n - 1])
    indices, distances = nearest(bank[rows], bank, k=3)
    assert indices.shape == distances.shape == (3, 3)
    assert indices[:, 0].tolist() == rows.tolist()
    assert bool((distances[:, 0] < 1e-2).all())
    assert bool((distances[:, 1:] >= distances[:, :1]).all())


def test_nearest_by_hand() -> None:
    bank = torch.tensor([[0.0, 0.0], [3.0, 4.0], [1.0, 0.0], [-2.0, 0.0]])
    indices, distances = nearest(torch.tensor([[0.5, 0.0]]), bank, k=3)  # distances 0.5, 4.72, 0.5, 2.5
    assert sorted(indices[0, :2].tolist()) == [0, 2]
    assert indices[0, 2].item() == 3
    assert distances[0].tolist() == pytest.approx([0.5, 0.5, 2.5])
    indices, _ = nearest(torch.tensor([0.0, 0.0]), bank, k=10)  # k larger than the bank
    assert indices.tolist() == [[0, 2, 3, 1]]


def test_distance_of_a_code_to_itself_is_zero() -> None:
    bank = codes(500, 20)
    _, distances = nearest(bank[:50], bank, k=1)
    assert float(distances.max()) == 0.0


@pytest.mark.parametrize(("n", "d"), [(8, 2), (20, 20)])
def test_place_on_map_of_a_bank_point_small_bank(n: int, d: int) -> None:
    bank = codes(n, d)
    coords = 30 * codes(n, 2, seed=1)
    placed = place_on_map(bank[[1, 5]], bank, coords, k=4)
    assert torch.allclose(placed, coords[[1, 5]], atol=1e-2)


@pytest.mark.parametrize(("n", "d"), [(50, 2), (500, 20)])
def test_place_on_map_of_a_bank_point(n: int, d: int) -> None:
    bank = codes(n, d)
    coords = 30 * codes(n, 2, seed=1)  # t-SNE-like spread
    rows = torch.arange(0, n, n // 10)
    placed = place_on_map(bank[rows], bank, coords, k=10)
    assert torch.allclose(placed, coords[rows], atol=1e-2)


def test_place_on_map_between_two_points() -> None:
    bank = torch.tensor([[0.0, 0.0], [1.0, 0.0], [10.0, 10.0]])
    coords = torch.tensor([[0.0, 0.0], [4.0, 8.0], [-50.0, -50.0]])
    # a quarter of the way from bank 0 to bank 1: weights 1/0.25 and 1/0.75, i.e. 3/4 and 1/4
    placed = place_on_map(torch.tensor([[0.25, 0.0]]), bank, coords, k=2)
    assert torch.allclose(placed, torch.tensor([[1.0, 2.0]]), atol=1e-5)


# ---------------------------------------------------------------- the 2-D plane


def test_latent_grid_by_hand() -> None:
    grid = latent_grid(extent=3.0, steps=3)
    expected = [[-3, 3], [0, 3], [3, 3], [-3, 0], [0, 0], [3, 0], [-3, -3], [0, -3], [3, -3]]
    assert grid.tolist() == expected


def test_latent_grid_shape_and_order() -> None:
    grid = latent_grid(extent=2.0, steps=15).reshape(15, 15, 2)
    assert float(grid[0, :, 1].min()) == 2.0  # top row: largest z1
    assert float(grid[-1, :, 1].max()) == -2.0
    assert bool((grid[:, 1:, 0] > grid[:, :-1, 0]).all())  # z0 grows to the right
    assert bool((grid[1:, :, 1] < grid[:-1, :, 1]).all())  # z1 falls downwards
