"""The lecture's VAE and the plain autoencoder: shapes, layout, sampling in training, μ in eval."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from vae.config import ConfigError, ModelConfig
from vae.kinds import KINDS, kind_of
from vae.model import VAE, Autoencoder, build_model, sample_posterior


def batch(n: int = 5, seed: int = 0) -> torch.Tensor:
    return torch.rand(n, 784, generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("shape", [(5, 784), (5, 1, 28, 28)])
def test_vae_encode_shapes(shape: tuple[int, ...]) -> None:
    torch.manual_seed(0)
    model = build_model(ModelConfig(latent_dim=20))
    mu, logvar = model.encode(batch().reshape(shape))
    assert mu.shape == (5, 20)
    assert logvar is not None
    assert logvar.shape == (5, 20)


def test_flat_and_image_inputs_give_the_same_code() -> None:
    torch.manual_seed(0)
    model = build_model(ModelConfig(latent_dim=3, hidden_dim=16)).eval()
    x = batch()
    mu_flat, logvar_flat = model.encode(x)
    mu_img, logvar_img = model.encode(x.reshape(5, 1, 28, 28))
    assert torch.equal(mu_flat, mu_img)
    assert torch.equal(logvar_flat, logvar_img)


@pytest.mark.parametrize("shape", [(5, 784), (5, 1, 28, 28)])
def test_autoencoder_encode_has_no_logvar(shape: tuple[int, ...]) -> None:
    torch.manual_seed(0)
    model = build_model(ModelConfig(kind="ae", latent_dim=20))
    assert isinstance(model, Autoencoder)
    mu, logvar = model.encode(batch().reshape(shape))
    assert mu.shape == (5, 20)
    assert logvar is None


@pytest.mark.parametrize("kind", ["vae", "ae"])
def test_decode_gives_images_of_probabilities(kind: str) -> None:
    torch.manual_seed(0)
    model = build_model(ModelConfig(kind=kind, latent_dim=6, hidden_dim=24))
    z = torch.randn(7, 6, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        pixels = model.decode(z)
        expected = torch.sigmoid(model.decode_logits(z)).reshape(7, 1, 28, 28)
    assert pixels.shape == (7, 1, 28, 28)
    assert float(pixels.min()) > 0.0
    assert float(pixels.max()) < 1.0
    assert torch.allclose(pixels, expected)


def test_forward_returns_logits_and_the_code() -> None:
    torch.manual_seed(0)
    model = build_model(ModelConfig(latent_dim=4, hidden_dim=16)).eval()
    logits, mu, logvar = model(batch(3))
    assert logits.shape == (3, 784)
    assert mu.shape == logvar.shape == (3, 4)


@pytest.mark.parametrize(("hidden", "d"), [(16, 2), (64, 3), (400, 20)])
def test_hidden_and_latent_size_are_configurable(hidden: int, d: int) -> None:
    vae = build_model(ModelConfig(kind="vae", hidden_dim=hidden, latent_dim=d))
    ae = build_model(ModelConfig(kind="ae", hidden_dim=hidden, latent_dim=d))
    assert vae.latent_dim == ae.latent_dim == d
    assert (vae.encoder[0].out_features, vae.encoder[2].out_features) == (hidden, 2 * d)
    assert (ae.encoder[0].out_features, ae.encoder[2].out_features) == (hidden, d)
    for model in (vae, ae):
        assert (model.decoder[0].in_features, model.decoder[0].out_features) == (d, hidden)
        assert (model.decoder[2].in_features, model.decoder[2].out_features) == (hidden, 784)


def test_default_is_the_lecture_layout() -> None:
    model = build_model(ModelConfig())
    assert isinstance(model, VAE)
    assert model.kind == "vae"
    assert model.latent_dim == 20
    enc, dec = model.encoder, model.decoder
    assert [type(m) for m in enc] == [nn.Linear, nn.ReLU, nn.Linear]
    assert [type(m) for m in dec] == [nn.Linear, nn.ReLU, nn.Linear]
    assert (enc[0].in_features, enc[0].out_features) == (784, 400)
    assert (enc[2].in_features, enc[2].out_features) == (400, 40)
    assert (dec[0].in_features, dec[0].out_features) == (20, 400)
    assert (dec[2].in_features, dec[2].out_features) == (400, 784)
    # 784·400+400 + 400·40+40 + 20·400+400 + 400·784+784, counted by hand
    assert sum(p.numel() for p in model.parameters()) == 652_824


def test_vae_samples_while_training() -> None:
    torch.manual_seed(0)
    model = build_model(ModelConfig(latent_dim=4, hidden_dim=16)).train()
    x = batch()
    first, mu, logvar = model(x)
    second, _, _ = model(x)
    assert not torch.allclose(first, second)
    z = model.reparameterize(mu, logvar)
    assert z.shape == mu.shape
    assert not torch.allclose(z, mu)


def test_vae_returns_the_mean_in_eval() -> None:
    torch.manual_seed(0)
    model = build_model(ModelConfig(latent_dim=4, hidden_dim=16)).eval()
    x = batch()
    first, mu, logvar = model(x)
    second, _, _ = model(x)
    assert torch.equal(first, second)
    assert torch.equal(model.reparameterize(mu, logvar), mu)
    assert torch.equal(first, model.decode_logits(mu))


def test_autoencoder_is_deterministic_in_training_too() -> None:
    torch.manual_seed(0)
    model = build_model(ModelConfig(kind="ae", latent_dim=4, hidden_dim=16)).train()
    x = batch()
    first, mu, logvar = model(x)
    second, _, _ = model(x)
    assert logvar is None
    assert torch.equal(first, second)
    assert torch.equal(first, model.decode_logits(mu))


def test_sample_posterior_is_mu_plus_eps_sigma() -> None:
    mu = torch.tensor([[1.0, -2.0, 0.5]])
    logvar = torch.tensor([[0.0, 2 * torch.log(torch.tensor(3.0)).item(), -4.0]])
    z = sample_posterior(mu, logvar, torch.Generator().manual_seed(7))
    eps = torch.randn(mu.shape, generator=torch.Generator().manual_seed(7))
    expected = mu + eps * torch.tensor([[1.0, 3.0, torch.exp(torch.tensor(-2.0)).item()]])
    assert torch.allclose(z, expected, atol=1e-6)


def test_posterior_samples_have_the_posterior_spread() -> None:
    mu = torch.full((20000, 1), 2.0)
    logvar = torch.full((20000, 1), torch.log(torch.tensor(0.25)).item())  # σ = 0.5
    z = sample_posterior(mu, logvar, torch.Generator().manual_seed(0))
    assert abs(float(z.mean()) - 2.0) < 0.02
    assert abs(float(z.std()) - 0.5) < 0.02


@pytest.mark.parametrize(
    "kwargs",
    [
        {"kind": "gan"},
        {"hidden_dim": 0},
        {"latent_dim": 0},
        {"input_dim": -1},
        {"input_dim": 10},  # not MNIST's 784 pixels: no view could feed it a digit
        {"hidden_dim": 4097},
        {"latent_dim": 257},
        {"latent_dim": True},
        {"latent_dim": 3.0},
        {"hidden_dim": "400"},
        {"input_dim": 784.0},
    ],
)
def test_model_config_rejects_bad_values(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        ModelConfig(**kwargs)


def test_model_config_round_trip_and_unknown_keys() -> None:
    config = ModelConfig(kind="ae", hidden_dim=64, latent_dim=3)
    assert ModelConfig.from_dict(config.to_dict()) == config
    with pytest.raises(ValueError, match="hiden_dim"):
        ModelConfig.from_dict({**config.to_dict(), "hiden_dim": 3})


@pytest.mark.parametrize("kind", ["vae", "ae"])
def test_start_at_mean_image_sets_the_output_bias_to_the_mean_logit(kind: str) -> None:
    model = build_model(ModelConfig(kind=kind, hidden_dim=3, latent_dim=2))
    before = {k: v.clone() for k, v in model.state_dict().items()}
    # first pixels' means 0, 1, ½ and ¼ (the rest 0): 0 and 1 are clipped to 0.001 and 0.999, logit(¼) = −log 3
    images = torch.zeros(4, 784)
    images[:, :4] = torch.tensor(
        [[0.0, 1.0, 0.0, 0.0], [0.0, 1.0, 1.0, 0.0], [0.0, 1.0, 0.5, 1.0], [0.0, 1.0, 0.5, 0.0]]
    )
    model.start_at_mean_image(images)
    clip = torch.log(torch.tensor(0.999 / 0.001)).item()
    expected = torch.full((784,), -clip)
    expected[1:4] = torch.tensor([clip, 0.0, -torch.log(torch.tensor(3.0)).item()])
    assert torch.allclose(model.decoder[2].bias, expected, atol=1e-6)
    for key, value in model.state_dict().items():
        if key != "decoder.2.bias":
            assert torch.equal(value, before[key]), key


@pytest.mark.parametrize("name", list(KINDS))
def test_each_kind_builds_a_model_with_or_without_a_posterior(name: str) -> None:
    config = ModelConfig(kind=name, hidden_dim=8, latent_dim=2)
    model = build_model(config)
    kind = KINDS[name]
    assert model.kind == name
    assert kind_of(model) is kind and kind_of(config) is kind and kind_of(name) is kind
    _, logvar = model.encode(batch())
    assert (logvar is not None) == kind.has_posterior


def test_an_unknown_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="kind must be one of"):
        kind_of("gan")
    with pytest.raises(ConfigError, match="kind must be one of"):
        ModelConfig(kind="gan")
