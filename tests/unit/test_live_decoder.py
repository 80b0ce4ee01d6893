"""The in-page decoder's Python side: packed weights that decode like the server, slider ranges that clip
nothing, and the checks on what the page sends back. (The JavaScript itself: tests/test_live_browser.py.)"""

from __future__ import annotations

import base64
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from explorer.state.code_range import code_extent, out_of_range
from explorer.ui.components.latent_pad import packed_points, parse_pin
from explorer.ui.components.latent_sliders import parse_commit
from explorer.ui.components.weights import decode_like_the_page, half_precision_decoder, pack_decoder
from vae import load_checkpoint
from vae.atlas import load_atlas
from vae.codes import PRIOR_EXTENT
from vae.config import ModelConfig
from vae.latent import decode_to_uint8
from vae.model import build_model

SHIPPED = Path(__file__).resolve().parents[2] / "checkpoints"


def server_decode(model, z: np.ndarray) -> np.ndarray:
    return decode_to_uint8(model, torch.as_tensor(z, dtype=torch.float32)).reshape(len(z), 784).numpy()


def test_float16_weights_decode_within_one_level_of_the_server(trained_checkpoint):
    model = load_checkpoint(trained_checkpoint)
    z = np.random.default_rng(0).normal(0.0, 2.0, size=(2000, model.latent_dim))  # samples up to T = 2
    page = decode_like_the_page(half_precision_decoder(model), z).astype(int)
    assert np.abs(page - server_decode(model, z)).max() <= 1


@pytest.mark.parametrize("name", ["vae_d20", "vae_d2", "ae_d20"])
def test_shipped_models_decode_in_the_page_within_one_level(name):
    path = SHIPPED / f"{name}.safetensors"
    if not path.is_file():
        pytest.skip(f"{path} is not there")
    model = load_checkpoint(path)
    mu = load_atlas(path).mu
    prior = np.random.default_rng(1).normal(0.0, 2.0, size=(2000, model.latent_dim))
    z = np.concatenate([mu[::5], prior]).astype(np.float32)
    page = decode_like_the_page(half_precision_decoder(model), z).astype(int)
    assert np.abs(page - server_decode(model, z)).max() <= 1


def test_packed_payload_has_the_sizes_and_float16_arrays_the_page_reads():
    model = build_model(ModelConfig(kind="vae", hidden_dim=16, latent_dim=3)).eval()
    packed = pack_decoder(model)
    payload = packed.payload
    assert (payload["d"], payload["h"], payload["n"], payload["id"]) == (3, 16, 784, packed.model_id)
    w2t = np.frombuffer(base64.b64decode(payload["w2t"]), dtype="<f2").reshape(16, 784)
    np.testing.assert_allclose(w2t, model.decoder[2].weight.detach().numpy().T, atol=1e-3)
    assert len(base64.b64decode(payload["w1"])) == 2 * 16 * 3
    assert pack_decoder(model) is packed  # cached: a rerun packs nothing
    other = build_model(ModelConfig(kind="vae", hidden_dim=16, latent_dim=3)).eval()
    assert pack_decoder(other).model_id != packed.model_id  # other weights, another id in the page's cache


def test_code_extent_covers_test_codes_and_samples_up_to_t2():
    assert code_extent(None) == 6.0  # 3 standard deviations at T = 2
    assert code_extent(np.array([[0.5, -4.2]])) == 6.0
    assert code_extent(np.array([[16.1, 0.0]])) == 16.5  # an autoencoder's codes reach further
    assert code_extent(np.zeros((0, 3))) == 6.0


@pytest.mark.parametrize("name", ["vae_d20", "vae_d2"])
def test_no_shipped_test_code_is_beyond_the_sliders(name):
    path = SHIPPED / f"{name}.safetensors"
    if not path.is_file():
        pytest.skip(f"{path} is not there")
    mu = load_atlas(path).mu
    extent = code_extent(mu)
    assert not any(out_of_range(row, extent) for row in mu)
    assert (np.abs(mu) > PRIOR_EXTENT).any()  # the old ±3 clipped some of these


def test_out_of_range_names_the_coordinates_beyond():
    assert out_of_range([0.0, 6.0, -6.5, 7.25], 6.0) == [2, 3]


def test_commits_and_pins_from_the_page_are_checked():
    assert parse_commit({"code": [0.5, -1], "seq": 3}, 2) == ([0.5, -1.0], 3)
    for bad in (
        None,
        [],
        {"code": [0.5], "seq": 1},
        {"code": [0.5, math.nan], "seq": 1},
        {"code": [1, 2]},
        {"code": [1, 2], "seq": "1"},
        {"code": [True, 2], "seq": 1},
        {"code": "12", "seq": 1},
    ):
        assert parse_commit(bad, 2) is None, bad
    assert parse_pin([1.5, -2]) == [1.5, -2.0]
    assert parse_pin([1.5]) is None and parse_pin([1.5, math.inf]) is None and parse_pin("x") is None


def test_packed_points_are_float16_and_int8():
    points = packed_points(np.array([0.5, -1.25]), np.array([2.0, 0.0]), np.array([3, 9]))
    assert np.frombuffer(base64.b64decode(points["x"]), "<f2").tolist() == [0.5, -1.25]
    assert np.frombuffer(base64.b64decode(points["digits"]), "i1").tolist() == [3, 9]
