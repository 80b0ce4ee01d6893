"""The ten digit colours stay apart under the common colour-vision deficiencies, and every digit has its own
marker shape (explorer/ui/colours.py)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from explorer.ui.colours import DIGIT_COLOURS, DIGIT_SYMBOLS

# Machado, Oliveira & Fernandes (2009), severity 1, on linear RGB.
DEFICIENCIES = {
    "protanopia": [[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216], [-0.003882, -0.048116, 1.051998]],
    "deuteranopia": [[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413], [-0.011820, 0.042940, 0.968881]],
    "tritanopia": [[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602], [0.004733, 0.691367, 0.303900]],
    "typical": np.eye(3).tolist(),
}
LEAST_DELTA_E = 15.0  # CIE76 ΔE*ab: at 15 two dots are plainly different colours


def linear(colour: str) -> np.ndarray:
    srgb = np.array([int(colour[i : i + 2], 16) for i in (1, 3, 5)]) / 255
    return np.where(srgb <= 0.04045, srgb / 12.92, ((srgb + 0.055) / 1.055) ** 2.4)


def lab(rgb: np.ndarray) -> np.ndarray:
    xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]]) @ rgb
    t = xyz / np.array([0.95047, 1.0, 1.08883])
    f = np.where(t > 0.008856, np.cbrt(t), 7.787 * t + 16 / 116)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


@pytest.mark.parametrize("deficiency", DEFICIENCIES)
def test_every_pair_of_digit_colours_stays_apart(deficiency: str) -> None:
    seen = [lab(np.clip(np.array(DEFICIENCIES[deficiency]) @ linear(c), 0, 1)) for c in DIGIT_COLOURS]
    closest = min(
        (float(np.linalg.norm(seen[a] - seen[b])), a, b) for a, b in itertools.combinations(range(len(seen)), 2)
    )
    assert closest[0] >= LEAST_DELTA_E, f"{deficiency}: digits {closest[1]} and {closest[2]} at ΔE {closest[0]:.1f}"


def test_every_digit_has_its_own_shape() -> None:
    assert len(DIGIT_COLOURS) == len(set(DIGIT_SYMBOLS)) == 10
