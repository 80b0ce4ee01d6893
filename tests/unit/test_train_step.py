"""The hand-written training step against autograd on the same batch and the same noise."""

from __future__ import annotations

import copy

import pytest
import torch

from vae.config import ModelConfig
from vae.losses import elbo_loss
from vae.model import VAE, LatentModel, build_model, sample_posterior
from vae.train_step import (
    AutogradStep,
    FastStep,
    build_train_step,
    fast_step_unsupported,
    flatten_parameters,
    layer_views,
    mlp_layers,
    native_bf16,
    resolve_precision,
)


def batch(n: int = 16, seed: int = 0) -> torch.Tensor:
    x = torch.rand(n, 784, generator=torch.Generator().manual_seed(seed))
    x[x < 0.5] = 0.0  # like MNIST: many exact zeros, the rest spread over (0, 1]
    return x


def autograd_terms(model: LatentModel, x: torch.Tensor, eps: torch.Tensor, beta: float, bf16: bool = False):
    """Loss terms and gradients (in parameter order) the plain way: forward, elbo_loss, backward."""
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        mu, logvar = model.encode(x)
        z = mu if logvar is None else sample_posterior(mu.float(), logvar.float(), eps=eps)
        logits = model.decode_logits(z)
    terms = elbo_loss(logits, x, mu.float(), None if logvar is None else logvar.float(), beta)
    model.zero_grad()
    terms.total.backward()
    return terms, [p.grad.clone() for p in model.parameters()]


def step_gradients(step: FastStep) -> list[torch.Tensor]:
    return [t for pair in step.grads for t in pair]


@pytest.mark.parametrize(("kind", "beta"), [("vae", 1.0), ("vae", 4.0), ("vae", 0.0), ("ae", 1.0)])
def test_fp32_gradients_equal_autograd(kind: str, beta: float) -> None:
    torch.manual_seed(3)
    model = build_model(ModelConfig(kind=kind, hidden_dim=32, latent_dim=5))
    reference = copy.deepcopy(model)
    x, eps = batch(), torch.randn(16, 5)
    expected, grads = autograd_terms(reference, x, eps, beta)

    step = FastStep(model, "fp32", beta)
    terms = step(x, eps)

    for name in ("recon", "kl", "total"):
        torch.testing.assert_close(getattr(terms, name), getattr(expected, name).detach(), rtol=1e-5, atol=1e-3)
    for ours, theirs in zip(step_gradients(step), grads, strict=True):
        torch.testing.assert_close(ours, theirs, rtol=1e-4, atol=1e-4)


def test_bf16_gradients_match_autocast_to_bf16_precision() -> None:
    torch.manual_seed(4)
    model = build_model(ModelConfig(hidden_dim=64, latent_dim=8))
    reference = copy.deepcopy(model)
    x, eps = batch(64), torch.randn(64, 8)
    expected, grads = autograd_terms(reference, x, eps, 1.0, bf16=True)

    step = FastStep(model, "bf16", 1.0)
    terms = step(x, eps)

    torch.testing.assert_close(terms.total, expected.total.detach(), rtol=1e-2, atol=0.0)
    for ours, theirs in zip(step_gradients(step), grads, strict=True):
        # Same products in bf16 (8 significant bits): agreement to about 1% of the gradient's size.
        assert (ours - theirs).norm() <= 0.02 * theirs.norm()
    # and not the fp32 gradients: the products really ran in bf16
    _, fp32_grads = autograd_terms(copy.deepcopy(reference), x, eps, 1.0)
    assert any(not torch.equal(a, b) for a, b in zip(step_gradients(step), fp32_grads, strict=True))


def test_the_step_draws_its_noise_from_its_generator_and_leaves_the_global_one_alone() -> None:
    model = build_model(ModelConfig(hidden_dim=16, latent_dim=3))
    step = FastStep(model, "fp32", generator=torch.Generator().manual_seed(9))
    x = batch(8)
    global_state = torch.get_rng_state()
    first = step(x).total
    assert torch.equal(torch.get_rng_state(), global_state)
    step.generator.manual_seed(9)
    assert torch.equal(step(x).total, first)
    assert not torch.equal(step(x).total, first)


def test_without_a_generator_the_step_draws_from_the_global_one() -> None:
    model = build_model(ModelConfig(hidden_dim=16, latent_dim=3))
    step = FastStep(model, "fp32")
    x = batch(8)
    torch.manual_seed(9)
    first = step(x).total
    torch.manual_seed(9)
    assert torch.equal(step(x).total, first)
    assert not torch.equal(step(x).total, first)


def test_flat_parameters_are_the_models_own() -> None:
    torch.manual_seed(5)
    model = build_model(ModelConfig(hidden_dim=16, latent_dim=3))
    before = {k: v.clone() for k, v in model.state_dict().items()}
    x = batch(4)
    out_before = model.eval()(x)[0]
    flat = flatten_parameters(mlp_layers(model))

    assert flat.numel() == sum(p.numel() for p in model.parameters())
    for name, value in model.state_dict().items():
        assert torch.equal(value, before[name]), name
    torch.testing.assert_close(model(x)[0], out_before, rtol=0, atol=0)
    with torch.no_grad():
        flat.mul_(0.0)  # the parameters are views: changing the buffer changes the model
    assert all(int(torch.count_nonzero(p.detach())) == 0 for p in model.parameters())


def test_layer_views_follow_the_model_layout() -> None:
    model = build_model(ModelConfig(hidden_dim=16, latent_dim=3))
    flat = flatten_parameters(mlp_layers(model))
    views = [t for pair in layer_views(flat.data, mlp_layers(model)) for t in pair]
    for view, param in zip(views, model.parameters(), strict=True):
        assert view.shape == param.shape
        assert view.data_ptr() == param.data_ptr()


def test_bf16_copy_follows_the_master_weights_after_refresh() -> None:
    model = build_model(ModelConfig(hidden_dim=16, latent_dim=3))
    step = FastStep(model, "bf16")
    with torch.no_grad():
        step.flat.add_(1.0)
    assert not torch.equal(step.compute, step.flat.data.to(torch.bfloat16))
    step.refresh()
    assert torch.equal(step.compute, step.flat.data.to(torch.bfloat16))


def test_auto_precision_is_bf16_only_where_the_hardware_has_it() -> None:
    cpu = torch.device("cpu")
    assert resolve_precision("auto", cpu) == ("bf16" if native_bf16(cpu) else "fp32")
    assert resolve_precision("fp32", cpu) == "fp32"
    assert resolve_precision("bf16", cpu) == "bf16"
    assert not native_bf16(torch.device("meta"))


@pytest.mark.parametrize("kind", ["vae", "ae"])
@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_the_step_stays_on_the_models_device(kind: str, precision: str) -> None:
    # "meta" stands in for a GPU here: a tensor made on the CPU by mistake would raise a device error.
    model = build_model(ModelConfig(kind=kind, hidden_dim=16, latent_dim=3)).to("meta")
    step = FastStep(model, precision)
    terms = step(torch.rand(4, 784, device="meta"))
    optimizer = torch.optim.Adam([step.flat], lr=1e-3)
    optimizer.step()
    step.refresh()
    tensors = [terms.recon, terms.kl, terms.total, step.flat, step.flat.grad, step.compute]
    assert all(t.device.type == "meta" for t in tensors)


# ---------------------------------------------------------------- the reference step and the choice


def train(step_kind: type, model: LatentModel, precision: str, steps: int, zero_grad: bool) -> torch.Tensor:
    """Weights after `steps` Adam steps on fixed batches and noise."""
    step = step_kind(model, precision, 1.0)
    optimizer = torch.optim.Adam(step.parameters, lr=1e-2)
    for i in range(steps):
        if zero_grad:
            optimizer.zero_grad()  # sets the grads to None
        step(batch(16, seed=i), torch.randn(16, 3, generator=torch.Generator().manual_seed(100 + i)))
        optimizer.step()
        step.refresh()
    return torch.cat([p.detach().reshape(-1) for p in model.parameters()])


@pytest.mark.parametrize("kind", ["vae", "ae"])
@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_fast_and_autograd_steps_agree(kind: str, precision: str) -> None:
    torch.manual_seed(6)
    model = build_model(ModelConfig(kind=kind, hidden_dim=32, latent_dim=3))
    reference = copy.deepcopy(model)
    x, eps = batch(32), torch.randn(32, 3)
    fast, slow = FastStep(model, precision), AutogradStep(reference, precision)
    ours, theirs = fast(x, eps), slow(x, eps)
    tol = {"fp32": 1e-5, "bf16": 1e-2}[precision]
    for name in ("recon", "kl", "total"):
        torch.testing.assert_close(getattr(ours, name), getattr(theirs, name), rtol=tol, atol=1e-3)
    for mine, param in zip(step_gradients(fast), reference.parameters(), strict=True):
        assert (mine - param.grad).norm() <= (1e-4 if precision == "fp32" else 0.02) * param.grad.norm() + 1e-6
    # and a few Adam steps later the weights are still the same
    after_fast = train(FastStep, copy.deepcopy(reference), precision, 5, zero_grad=False)
    after_slow = train(AutogradStep, copy.deepcopy(reference), precision, 5, zero_grad=False)
    torch.testing.assert_close(after_fast, after_slow, rtol=0, atol=1e-4 if precision == "fp32" else 2e-2)


def test_zero_grad_every_step_still_trains() -> None:
    # optimizer.zero_grad() sets the flat grad to None: the step used to write into an orphaned buffer
    # and Adam skipped every update, leaving the weights as they were.
    torch.manual_seed(7)
    model = build_model(ModelConfig(hidden_dim=16, latent_dim=3))
    start = torch.cat([p.detach().reshape(-1) for p in model.parameters()])
    with_zero_grad = train(FastStep, copy.deepcopy(model), "fp32", 20, zero_grad=True)
    without = train(FastStep, copy.deepcopy(model), "fp32", 20, zero_grad=False)
    assert (with_zero_grad - start).abs().max() > 1e-2
    torch.testing.assert_close(with_zero_grad, without, rtol=0, atol=0)


class Scaled(VAE):
    """A VAE with one parameter outside its Linear layers."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__(config)
        self.scale = torch.nn.Parameter(torch.ones(()))

    def decode_logits(self, z: torch.Tensor) -> torch.Tensor:
        return self.scale * super().decode_logits(z)


def test_the_fast_step_takes_the_lecture_models_and_says_why_not_others() -> None:
    config = ModelConfig(hidden_dim=16, latent_dim=3)
    for kind in ("vae", "ae"):
        model = build_model(ModelConfig(kind=kind, hidden_dim=16, latent_dim=3))
        assert fast_step_unsupported(model) is None
        assert isinstance(build_train_step(model), FastStep)
    tanh = VAE(config)
    tanh.encoder[1] = torch.nn.Tanh()
    assert "encoder is not Linear → ReLU → Linear" in fast_step_unsupported(tanh)
    assert "not the library's VAE" in fast_step_unsupported(Scaled(config))
    hooked = VAE(config)
    hooked.decoder[0].register_forward_hook(lambda *_: None)
    assert "hooks" in fast_step_unsupported(hooked)
    step = build_train_step(tanh)
    assert isinstance(step, AutogradStep) and "encoder" in step.fallback_reason
    with pytest.raises(ValueError, match="cannot train this model"):
        FastStep(tanh)


def test_the_autograd_step_trains_a_model_the_fast_step_cannot() -> None:
    torch.manual_seed(8)
    model = Scaled(ModelConfig(hidden_dim=16, latent_dim=3))
    step = build_train_step(model, generator=torch.Generator().manual_seed(0))
    optimizer = torch.optim.Adam(step.parameters, lr=1e-2)
    x = batch(32)
    first = step(x).total.item()
    for _ in range(30):
        step(x)
        optimizer.step()
    assert step(x).total.item() < first
    assert model.scale.item() != 1.0
