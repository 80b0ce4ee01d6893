"""One training step: the loss of a batch and its gradients, ready for the optimizer.

Two steps with one interface (`step(x, eps=None) -> LossTerms`, `step.parameters` for the optimizer,
`step.refresh()` after each optimizer step):

- `FastStep`, for the lecture's MLP (two Linear–ReLU–Linear halves): the backward pass written out
  from the closed-form gradients in vae/losses.py. It saves autograd's per-op bookkeeping and, under
  bf16, autocast's recast of every weight on every step: on 2 CPU cores the step takes half the time
  (bench/train_speed.py). All parameters live in one flat fp32 buffer (the model's parameters become
  views of it), so Adam updates them in one fused call and the bf16 copy is refreshed in one copy.
- `AutogradStep`, the reference: forward, `elbo_loss`, backward. It trains any model the fast step
  does not support; tests/test_train_step.py checks the two agree on every model kind and precision.

`build_train_step` picks the fast step when the model's structure allows it and says why not otherwise.
"""

from __future__ import annotations

import torch
from torch import nn

from vae.kinds import kind_of
from vae.losses import LossTerms, elbo_loss, kl_grads, kl_to_prior, summed_bce_and_grad
from vae.model import VAE, Autoencoder, LatentModel, sample_posterior

COMPUTE_DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16}


def native_bf16(device: torch.device) -> bool:
    """Whether this device multiplies bf16 in hardware (elsewhere bf16 is emulated and slower than fp32)."""
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported(including_emulation=False)
    if device.type == "cpu":
        return torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported()
    return False


def resolve_precision(precision: str, device: torch.device) -> str:
    """Turn "auto" into bf16 where the device has it natively, else fp32; keep fp32 and bf16 as asked."""
    if precision == "auto":
        return "bf16" if native_bf16(device) else "fp32"
    return precision


def draw_noise(like: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
    """ε ~ N(0, I) shaped like μ, from `generator` (the run's own) or, when None, the global one."""
    return torch.randn(like.shape, generator=generator, device=like.device, dtype=like.dtype)


# ---------------------------------------------------------------- the fast step


def _is_mlp_half(half: nn.Module) -> bool:
    return (
        isinstance(half, nn.Sequential)
        and len(half) == 3
        and isinstance(half[0], nn.Linear)
        and type(half[1]) is nn.ReLU
        and isinstance(half[2], nn.Linear)
        and all(layer.bias is not None for layer in (half[0], half[2]))
    )


def fast_step_unsupported(model: nn.Module) -> str | None:
    """Why the fast step cannot train `model`, or None when it can."""
    if type(model) not in (VAE, Autoencoder):
        return f"{type(model).__name__} is not the library's VAE or Autoencoder (its forward may differ)"
    for name in ("encoder", "decoder"):
        if not _is_mlp_half(getattr(model, name)):
            return f"its {name} is not Linear → ReLU → Linear with biases"
    layers = [model.encoder[0], model.encoder[2], model.decoder[0], model.decoder[2]]
    owned = {id(p) for layer in layers for p in (layer.weight, layer.bias)}
    if any(id(p) not in owned for p in model.parameters()):
        return "it has parameters outside its four Linear layers"
    if any(layer._forward_hooks or layer._forward_pre_hooks for layer in model.modules()):
        return "it has forward hooks, which the hand-written pass would skip"
    return None


def mlp_layers(model: LatentModel) -> list[nn.Linear]:
    """The four Linear layers in the order data flows through them, taken by name from the model."""
    return [model.encoder[0], model.encoder[2], model.decoder[0], model.decoder[2]]


def flatten_parameters(layers: list[nn.Linear]) -> nn.Parameter:
    """Move the layers' weights and biases into one flat buffer; each parameter becomes a view of it."""
    params = [p for layer in layers for p in (layer.weight, layer.bias)]
    flat = nn.Parameter(torch.cat([p.detach().reshape(-1) for p in params]))
    offset = 0
    for p in params:
        p.data = flat.data[offset : offset + p.numel()].view_as(p)
        offset += p.numel()
    return flat


def layer_views(flat: torch.Tensor, layers: list[nn.Linear]) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """(weight, bias) of each layer as views of `flat`, laid out as flatten_parameters put them."""
    views, offset = [], 0
    for layer in layers:
        pair = []
        for p in (layer.weight, layer.bias):
            pair.append(flat[offset : offset + p.numel()].view(p.shape))
            offset += p.numel()
        views.append((pair[0], pair[1]))
    return views


def _into(g_weight: torch.Tensor, g_bias: torch.Tensor, d_out: torch.Tensor, inputs: torch.Tensor) -> None:
    """A layer's weight and bias gradients, d_outᵀ·inputs and Σ d_out, written straight into the flat
    gradient's views (fp32) or, from bf16 products, through a copy."""
    if d_out.dtype == g_weight.dtype:
        torch.mm(d_out.t(), inputs, out=g_weight)
        torch.sum(d_out, 0, out=g_bias)
    else:
        g_weight.copy_(d_out.t() @ inputs)
        g_bias.copy_(d_out.sum(0))


class FastStep:
    """Loss and gradients of one batch of the lecture's MLP (VAE or autoencoder), written into `flat.grad`."""

    fallback_reason: str | None = None

    def __init__(
        self, model: LatentModel, precision: str = "fp32", beta: float = 1.0, generator: torch.Generator | None = None
    ) -> None:
        reason = fast_step_unsupported(model)
        if reason is not None:
            raise ValueError(f"the fast step cannot train this model: {reason}")
        self.model, self.beta, self.precision, self.generator = model, beta, precision, generator
        self.dtype = COMPUTE_DTYPES[precision]
        layers = mlp_layers(model)
        self.flat = flatten_parameters(layers)
        self.parameters = [self.flat]
        self._grad = torch.zeros_like(self.flat)
        self.flat.grad = self._grad
        # fp32: the products read the master weights directly; bf16: a copy refreshed after each update.
        self.compute = self.flat.data if self.dtype == torch.float32 else self.flat.data.to(self.dtype)
        self.weights = layer_views(self.compute, layers)
        self.grads = layer_views(self._grad, layers)

    def refresh(self) -> None:
        if self.compute is not self.flat.data:
            self.compute.copy_(self.flat.data)

    def __call__(self, x: torch.Tensor, eps: torch.Tensor | None = None) -> LossTerms:
        """x: [N, 784] in [0, 1]. eps: the reparameterisation noise (drawn here when None)."""
        # optimizer.zero_grad() sets the grad to None: hand our buffer back, or Adam would skip the update.
        if self.flat.grad is not self._grad:
            self.flat.grad = self._grad
        (w1, b1), (w2, b2), (w3, b3), (w4, b4) = self.weights
        (g_w1, g_b1), (g_w2, g_b2), (g_w3, g_b3), (g_w4, g_b4) = self.grads
        x = x.reshape(x.shape[0], -1)
        xc = x.to(self.dtype)
        d = self.model.latent_dim
        is_vae = kind_of(self.model).has_posterior

        # Forward: the same layers as LatentModel.forward, the code in fp32.
        h1 = torch.addmm(b1, xc, w1.t()).relu_()
        code = torch.addmm(b2, h1, w2.t()).float()
        if is_vae:
            mu, logvar = code[:, :d], code[:, d:]
            if eps is None:
                eps = draw_noise(mu, self.generator)
            std = torch.exp(0.5 * logvar)
            z = sample_posterior(mu, logvar, eps=eps)
        else:
            z = code
        zc = z.to(self.dtype)
        h3 = torch.addmm(b3, zc, w3.t()).relu_()
        logits = torch.addmm(b4, h3, w4.t()).float()
        recon, d_logits = summed_bce_and_grad(logits, x)
        kl = kl_to_prior(mu, logvar) if is_vae else recon.new_zeros(())

        # Backward; ReLU passes the gradient where its output is > 0.
        d_logits = d_logits.to(self.dtype)
        _into(g_w4, g_b4, d_logits, h3)
        d_h3 = torch.ops.aten.threshold_backward(d_logits @ w4, h3, 0)
        _into(g_w3, g_b3, d_h3, zc)
        d_z = (d_h3 @ w3).float()
        if is_vae:
            # z = μ + ε·σ with σ = exp(½·log σ²): dz/dμ = 1, dz/d log σ² = ½·ε·σ.
            kl_mu, kl_logvar = kl_grads(mu, logvar)
            d_mu = d_z + self.beta * kl_mu
            d_logvar = 0.5 * d_z * eps * std + self.beta * kl_logvar
            d_code = torch.cat((d_mu, d_logvar), dim=1).to(self.dtype)
        else:
            d_code = d_z.to(self.dtype)
        _into(g_w2, g_b2, d_code, h1)
        d_h1 = torch.ops.aten.threshold_backward(d_code @ w2, h1, 0)
        _into(g_w1, g_b1, d_h1, xc)
        return LossTerms(recon=recon, kl=kl, total=recon + self.beta * kl)


# ---------------------------------------------------------------- the reference step


class AutogradStep:
    """Forward, `elbo_loss`, backward: any LatentModel, its products in bf16 under autocast if asked."""

    def __init__(
        self,
        model: LatentModel,
        precision: str = "fp32",
        beta: float = 1.0,
        generator: torch.Generator | None = None,
        fallback_reason: str | None = None,
    ) -> None:
        self.model, self.beta, self.precision, self.generator = model, beta, precision, generator
        self.parameters = list(model.parameters())
        self.fallback_reason = fallback_reason

    def refresh(self) -> None:
        """Autograd reads the parameters themselves: nothing to copy."""

    def __call__(self, x: torch.Tensor, eps: torch.Tensor | None = None) -> LossTerms:
        x = x.reshape(x.shape[0], -1)
        device_type = x.device.type if x.device.type in ("cpu", "cuda") else "cpu"
        with torch.autocast(device_type, dtype=torch.bfloat16, enabled=self.precision == "bf16"):
            mu, logvar = self.model.encode(x)
            mu = mu.float()
            logvar = None if logvar is None else logvar.float()
            if logvar is None:
                z = mu
            else:
                z = sample_posterior(mu, logvar, eps=eps if eps is not None else draw_noise(mu, self.generator))
            logits = self.model.decode_logits(z)
        terms = elbo_loss(logits, x, mu, logvar, self.beta)
        for p in self.parameters:
            p.grad = None
        terms.total.backward()
        return terms.detach()


Step = FastStep | AutogradStep


def build_train_step(
    model: LatentModel, precision: str = "fp32", beta: float = 1.0, generator: torch.Generator | None = None
) -> Step:
    """The fast step where the model's structure allows it, else the autograd step with the reason kept
    in `step.fallback_reason` (the trainer logs it)."""
    reason = fast_step_unsupported(model)
    if reason is None:
        return FastStep(model, precision, beta, generator)
    return AutogradStep(model, precision, beta, generator, fallback_reason=reason)
