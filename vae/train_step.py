"""One training step of the lecture's MLP, its backward pass written out by hand.

The model is four Linear layers, so the gradients have a short closed form (below). Writing them
out instead of running autograd saves its per-op bookkeeping and, under bf16, autocast's recast of
every weight on every step: on 2 CPU cores the step takes half the time (bench/train_speed.py).
tests/test_train_step.py checks every gradient against autograd on the same noise.

All parameters live in one flat fp32 buffer (the model's parameters become views of it), so Adam
updates them in one fused call and the bf16 copy used by the matrix products is refreshed in one
copy. The loss is summed in fp32 whatever the precision of the products.
"""

from __future__ import annotations

import torch
from torch import nn

from vae.losses import LossTerms, bce_with_logits, kl_to_prior
from vae.model import LatentModel, sample_posterior

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


def flatten_parameters(model: LatentModel) -> nn.Parameter:
    """Move the model's parameters into one flat buffer; each parameter becomes a view of it."""
    params = list(model.parameters())
    flat = nn.Parameter(torch.cat([p.detach().reshape(-1) for p in params]))
    offset = 0
    for p in params:
        p.data = flat.data[offset : offset + p.numel()].view_as(p)
        offset += p.numel()
    return flat


def layer_views(flat: torch.Tensor, model: LatentModel) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """(weight, bias) of each Linear layer, in order, as views of `flat` laid out like the model's parameters."""
    views, offset = [], 0
    for p in model.parameters():  # weight, bias, weight, bias, ...: LatentModel holds only Linear layers
        views.append(flat[offset : offset + p.numel()].view(p.shape))
        offset += p.numel()
    return list(zip(views[0::2], views[1::2], strict=True))


class TrainStep:
    """Loss and gradients of one batch for a VAE or a plain autoencoder, written into `flat.grad`.

    Call `refresh()` after each optimizer step so the products see the new weights.
    """

    def __init__(self, model: LatentModel, precision: str = "fp32", beta: float = 1.0) -> None:
        self.model = model
        self.beta = beta
        self.precision = precision
        self.dtype = COMPUTE_DTYPES[precision]
        self.flat = flatten_parameters(model)
        self.flat.grad = torch.zeros_like(self.flat)
        # fp32: the products read the master weights directly; bf16: a copy refreshed after each update.
        self.compute = self.flat.data if self.dtype == torch.float32 else self.flat.data.to(self.dtype)
        self.weights = layer_views(self.compute, model)
        self.grads = layer_views(self.flat.grad, model)

    def refresh(self) -> None:
        if self.compute is not self.flat.data:
            self.compute.copy_(self.flat.data)

    def __call__(self, x: torch.Tensor, eps: torch.Tensor | None = None) -> LossTerms:
        """x: [N, 784] in [0, 1]. eps: the reparameterisation noise (drawn here when None)."""
        (w1, b1), (w2, b2), (w3, b3), (w4, b4) = self.weights
        (g_w1, g_b1), (g_w2, g_b2), (g_w3, g_b3), (g_w4, g_b4) = self.grads
        x = x.reshape(x.shape[0], -1)
        xc = x.to(self.dtype)
        d = self.model.latent_dim
        is_vae = self.model.kind == "vae"

        # Forward: the same layers as LatentModel.forward, the code in fp32.
        h1 = torch.addmm(b1, xc, w1.t()).relu_()
        code = torch.addmm(b2, h1, w2.t()).float()
        if is_vae:
            mu, logvar = code[:, :d], code[:, d:]
            if eps is None:
                eps = torch.randn_like(mu)
            std = torch.exp(0.5 * logvar)
            z = sample_posterior(mu, logvar, eps=eps)
        else:
            z = code
        zc = z.to(self.dtype)
        h3 = torch.addmm(b3, zc, w3.t()).relu_()
        logits = torch.addmm(b4, h3, w4.t()).float()
        recon = bce_with_logits(logits, x).sum()
        kl = kl_to_prior(mu, logvar) if is_vae else recon.new_zeros(())

        # Backward. d recon / d logits = σ(logits) − x; ReLU passes the gradient where its output is > 0.
        d_logits = (torch.sigmoid(logits) - x).to(self.dtype)
        g_w4.copy_(d_logits.t() @ h3)
        g_b4.copy_(d_logits.sum(0))
        d_h3 = torch.ops.aten.threshold_backward(d_logits @ w4, h3, 0)
        g_w3.copy_(d_h3.t() @ zc)
        g_b3.copy_(d_h3.sum(0))
        d_z = (d_h3 @ w3).float()
        if is_vae:
            # z = μ + ε·σ, σ = exp(½·log σ²); KL = ½·Σ(σ² − log σ² − 1 + μ²).
            d_mu = d_z + self.beta * mu
            d_logvar = 0.5 * (d_z * eps * std + self.beta * (std * std - 1.0))
            d_code = torch.cat((d_mu, d_logvar), dim=1).to(self.dtype)
        else:
            d_code = d_z.to(self.dtype)
        g_w2.copy_(d_code.t() @ h1)
        g_b2.copy_(d_code.sum(0))
        d_h1 = torch.ops.aten.threshold_backward(d_code @ w2, h1, 0)
        g_w1.copy_(d_h1.t() @ xc)
        g_b1.copy_(d_h1.sum(0))
        return LossTerms(recon=recon, kl=kl, total=recon + self.beta * kl)
