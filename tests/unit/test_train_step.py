"""The training step: the lecture's loss on a batch, its gradients, its noise and its precision."""

from __future__ import annotations

import pytest
import torch
from torch.nn import functional as F

from vae.config import ModelConfig
from vae.model import build_model
from vae.train_step import TrainStep, native_bf16, resolve_precision


def batch(n: int = 16, seed: int = 0) -> torch.Tensor:
    x = torch.rand(n, 784, generator=torch.Generator().manual_seed(seed))
    x[x < 0.5] = 0.0  # like MNIST: many exact zeros, the rest spread over (0, 1]
    return x


@pytest.mark.parametrize(("kind", "beta"), [("vae", 1.0), ("vae", 4.0), ("ae", 1.0)])
def test_the_loss_is_summed_bce_plus_beta_kl(kind: str, beta: float) -> None:
    torch.manual_seed(3)
    model = build_model(ModelConfig(kind=kind, hidden_dim=32, latent_dim=5))
    x, eps = batch(), torch.randn(16, 5)
    terms = TrainStep(model, "fp32", beta)(x, eps)

    # pytorch/examples vae/main.py's loss_function, written out on the same noise
    with torch.no_grad():
        mu, logvar = model.encode(x)
        z = mu if logvar is None else mu + eps * torch.exp(0.5 * logvar)
        bce = F.binary_cross_entropy(torch.sigmoid(model.decode_logits(z)), x, reduction="sum").item()
        kld = 0.0 if logvar is None else (-0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())).item()
    assert terms.recon.item() == pytest.approx(bce, rel=1e-5)
    assert terms.kl.item() == pytest.approx(kld, rel=1e-5, abs=1e-6)
    assert terms.total.item() == pytest.approx(bce + beta * kld, rel=1e-5)
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in model.parameters())


def test_bf16_runs_the_products_in_bf16_and_stays_close_to_fp32() -> None:
    torch.manual_seed(4)
    model = build_model(ModelConfig(hidden_dim=64, latent_dim=8))
    x, eps = batch(64), torch.randn(64, 8)
    fp32 = TrainStep(model, "fp32")(x, eps)
    fp32_grads = [p.grad.clone() for p in model.parameters()]
    bf16 = TrainStep(model, "bf16")(x, eps)
    assert all(p.grad.dtype == torch.float32 for p in model.parameters())  # the weights stay fp32
    torch.testing.assert_close(bf16.total, fp32.total, rtol=1e-2, atol=0.0)
    grads = [p.grad for p in model.parameters()]
    assert any(not torch.equal(a, b) for a, b in zip(grads, fp32_grads, strict=True))
    for ours, theirs in zip(grads, fp32_grads, strict=True):
        assert (ours - theirs).norm() <= 0.05 * theirs.norm()


def test_the_step_draws_its_noise_from_its_generator_and_leaves_the_global_one_alone() -> None:
    model = build_model(ModelConfig(hidden_dim=16, latent_dim=3))
    step = TrainStep(model, "fp32", generator=torch.Generator().manual_seed(9))
    x = batch(8)
    global_state = torch.get_rng_state()
    first = step(x).total
    assert torch.equal(torch.get_rng_state(), global_state)
    step.generator.manual_seed(9)
    assert torch.equal(step(x).total, first)
    assert not torch.equal(step(x).total, first)


def test_without_a_generator_the_step_draws_from_the_global_one() -> None:
    model = build_model(ModelConfig(hidden_dim=16, latent_dim=3))
    step = TrainStep(model, "fp32")
    x = batch(8)
    torch.manual_seed(9)
    first = step(x).total
    torch.manual_seed(9)
    assert torch.equal(step(x).total, first)
    assert not torch.equal(step(x).total, first)


def test_the_gradients_are_of_this_batch_alone() -> None:
    model = build_model(ModelConfig(hidden_dim=16, latent_dim=3))
    step, eps = TrainStep(model, "fp32"), torch.zeros(8, 3)
    step(batch(8, seed=1), eps)
    once = [p.grad.clone() for p in model.parameters()]
    step(batch(8, seed=1), eps)  # a second call replaces the gradients, never adds to them
    assert all(torch.equal(p.grad, g) for p, g in zip(model.parameters(), once, strict=True))


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
    terms = TrainStep(model, precision)(torch.rand(4, 784, device="meta"))
    tensors = [terms.recon, terms.kl, terms.total, *(p.grad for p in model.parameters())]
    assert all(t.device.type == "meta" for t in tensors)
