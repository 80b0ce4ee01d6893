"""How far the latent sliders reach: far enough for every test code and for prior samples up to T = 2.

The old ±3 clipped 2.3 % of the default model's test codes and 5.2 % of the 2-D model's without a
word. Now the range is the larger of ±3·T_max (99.7 % of each coordinate of samples at T_max) and the
largest |μ| of the test set, rounded up to 0.5; a value still beyond it (a rare sample, a photo's code)
is kept exactly and shown as out of range, never clipped.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

MAX_TEMPERATURE = 2.0  # the prior view's temperature slider ends here
PRIOR_REACH = 3.0  # standard deviations of the prior covered at each temperature


def code_extent(test_mu: np.ndarray | None, max_temperature: float = MAX_TEMPERATURE) -> float:
    """Half-width of the sliders' range for a model whose test means are `test_mu` [N, d] (None: unknown)."""
    reach = PRIOR_REACH * max_temperature
    if test_mu is not None and np.size(test_mu):
        reach = max(reach, float(np.abs(np.asarray(test_mu, dtype=np.float32)).max()))
    return math.ceil(reach * 2) / 2


def out_of_range(code: Sequence[float] | np.ndarray, extent: float) -> list[int]:
    """The coordinates of `code` beyond ±extent (shown as such by the sliders, never clipped)."""
    values = np.asarray(code, dtype=np.float64).reshape(-1)
    return [int(i) for i in np.flatnonzero(np.abs(values) > extent + 1e-9)]
