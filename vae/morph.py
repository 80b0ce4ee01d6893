"""Morphs: encode two digits, walk between their codes (linear or spherical), decode every step."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from vae.codes import encode_means
from vae.images import as_uint8, gif_bytes, png_bytes, tile
from vae.latent import decode_to_uint8, interpolate
from vae.losses import reconstruction_nats
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


def _flat(images: torch.Tensor | np.ndarray) -> np.ndarray:
    """Images as float32 [N, 784] in [0, 1] (uint8 is scaled)."""
    array = np.asarray(images)
    flat = array.reshape(-1, PIXELS).astype(np.float32)
    return flat / 255.0 if array.dtype == np.uint8 else flat


def blend_weights(frames: int) -> np.ndarray:
    """t for the two ends and `frames` steps between: 0, 1/(k+1), …, 1."""
    return np.linspace(0.0, 1.0, frames + 2, dtype=np.float32)


def pixel_blend(image_a: torch.Tensor | np.ndarray, image_b: torch.Tensor | np.ndarray, frames: int) -> np.ndarray:
    """The lecture's pixel path (1 − t)·x_A + t·x_B, float32 [k + 2, 784] in [0, 1]: the ends are the images."""
    pair = _flat(np.stack([np.asarray(image_a), np.asarray(image_b)]))
    t = blend_weights(frames)[:, None]
    return (1.0 - t) * pair[0] + t * pair[1]


@torch.no_grad()
def through_model(model: LatentModel, images: np.ndarray) -> np.ndarray:
    """Each image encoded (μ) and decoded: float32 [N, 784] in [0, 1]."""
    mu = encode_means(model, images)
    device = next(model.parameters()).device
    return model.decode(mu.to(device)).cpu().numpy().reshape(-1, PIXELS).astype(np.float32)


@torch.no_grad()
def reconstruction_errors(model: LatentModel, images: np.ndarray) -> np.ndarray:
    """How badly the model redraws each image: binary cross-entropy of decode(μ(x)) against x, summed over the
    pixels (nats), float [N]. A digit it knows comes back nearly as it was; an overlay of two does not."""
    x = torch.as_tensor(_flat(images))
    mu = encode_means(model, x)
    device = next(model.parameters()).device
    logits = model.decode_logits(mu.to(device)).cpu()
    return reconstruction_nats(logits, x, reduction="none").numpy()


@dataclass(frozen=True)
class PixelPaths:
    """Three ways from A to B, k + 2 frames each (the ends included), and how well the model redraws each frame."""

    t: np.ndarray  # [k + 2]
    pixel: np.ndarray  # uint8 [k + 2, 28, 28]: (1 − t)·x_A + t·x_B
    through: np.ndarray  # uint8: each pixel blend encoded and decoded
    latent: np.ndarray  # uint8: decode((1 − t)·μ_A + t·μ_B)
    errors: dict[str, np.ndarray]  # path name → nats per frame


def pixel_paths(
    model: LatentModel, image_a: torch.Tensor | np.ndarray, image_b: torch.Tensor | np.ndarray, frames: int
) -> PixelPaths:
    blend = pixel_blend(image_a, image_b, frames)
    through = through_model(model, blend)
    mu = encode_means(model, blend[[0, -1]])
    codes = torch.cat([mu[:1], interpolate(mu[0], mu[1], frames, "linear"), mu[1:]])
    latent = decode_to_uint8(model, codes).numpy()
    errors = {
        "pixel blend": reconstruction_errors(model, blend),
        "blend through the model": reconstruction_errors(model, through),
        "latent morph": reconstruction_errors(model, latent),
    }
    side = (-1, IMAGE_SIDE, IMAGE_SIDE)
    return PixelPaths(
        blend_weights(frames), as_uint8(blend).reshape(side), as_uint8(through).reshape(side), latent, errors
    )


def corner_codes(mu: torch.Tensor, k: int) -> torch.Tensor:
    """The bilinear blend of four codes (μ [4, d]: top left, top right, bottom left, bottom right) on a k × k
    grid, [k, k, d]: row i goes linearly from the left edge's code to the right edge's at v = i / (k − 1)."""
    mu = torch.as_tensor(mu, dtype=torch.float32)
    steps = torch.linspace(0.0, 1.0, k)
    v, u = steps[:, None, None], steps[None, :, None]
    return (1 - v) * ((1 - u) * mu[0] + u * mu[1]) + v * ((1 - u) * mu[2] + u * mu[3])


def corner_grid(model: LatentModel, images: torch.Tensor | np.ndarray, k: int) -> np.ndarray:
    """Four digits' codes at the corners, their bilinear blend decoded: uint8 [k, k, 28, 28] (k ≥ 2); the
    corners are the four reconstructions."""
    codes = corner_codes(encode_means(model, _flat(images)), k)
    return decode_to_uint8(model, codes.reshape(k * k, -1)).numpy().reshape(k, k, IMAGE_SIDE, IMAGE_SIDE)
