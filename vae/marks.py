"""Telling the digit from the other marks on a page: ruled and squared lines, specks, page edges.

Works on the boolean ink mask of vae.preprocess. Lines are found as a Hough transform restricted to
near-horizontal and near-vertical directions (a page is never turned far in a photo of a digit);
the rest is connected components (scipy.ndimage.label) and distances between them.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy import ndimage as ndi

MAX_TILT = 12.0  # degrees either side of horizontal / vertical
TILT_STEP = 1.5
LINE_COVERAGE = 0.35  # share of a line's chord that is ink, in every quarter of the page
LINE_MIN_SIDE = 100  # smaller images (canvases, MNIST-like crops) have no ruled paper to remove
EDGE_SPAN = 0.4  # a piece touching the border and longer than this share of the side is a page edge
SPECK_SHARE = 0.03  # pieces under this share of the digit's area are specks
JOIN_GAP = 0.3  # pieces within this share of the digit's size belong to it (the bar of a 4, 5 or 7)


@lru_cache(maxsize=32)
def _page_bins(h: int, w: int, vertical: bool) -> tuple[tuple[float, float, float, float, float, int, np.ndarray], ...]:
    """Per tilt: (cos, sin, lowest bin, start along, a quarter's length, bins, pixels of the page per bin and
    quarter). It depends on the page's shape alone, and it is most of the search: computed once per shape."""
    # Rows times columns by broadcasting: the same products and sums as the ink's, pixel for pixel.
    grid_y, grid_x = np.arange(h, dtype=np.float64)[:, None], np.arange(w, dtype=np.float64)[None, :]
    tilts = []
    for degrees in np.arange(-MAX_TILT, MAX_TILT + TILT_STEP / 2, TILT_STEP):
        c, s = np.cos(np.deg2rad(degrees)), np.sin(np.deg2rad(degrees))
        if vertical:
            grid_across, grid_along = (grid_x * c + grid_y * s).ravel(), (grid_y * c - grid_x * s).ravel()
        else:
            grid_across, grid_along = (grid_y * c - grid_x * s).ravel(), (grid_x * c + grid_y * s).ravel()
        low, along_low = grid_across.min() - 2, grid_along.min()
        quarter_len = (grid_along.max() - along_low) / 4 + 1e-6
        bins = int(grid_across.max() - low) + 3
        grid_cell = np.floor(grid_across - low).astype(np.int64) * 4 + np.clip(
            (grid_along - along_low) // quarter_len, 0, 3
        ).astype(np.int64)
        area = np.bincount(grid_cell, minlength=bins * 4).reshape(bins, 4)
        area.flags.writeable = False  # shared by every later search on a page of this shape
        tilts.append((c, s, low, along_low, quarter_len, bins, area))
    return tuple(tilts)


def _line_bins(mask: np.ndarray, ys: np.ndarray, xs: np.ndarray, vertical: bool) -> np.ndarray:
    """For the best angle, the line id (or −1) of every ink pixel: bins of `across` that are lines."""
    h, w = mask.shape
    best_score, best_bins, best_index = -1.0, np.zeros(0, dtype=bool), np.zeros(0, dtype=np.int64)
    for c, s, low, along_low, quarter_len, bins, area in _page_bins(h, w, vertical):
        if vertical:
            across, along = xs * c + ys * s, ys * c - xs * s
        else:
            across, along = ys * c - xs * s, xs * c + ys * s
        cell = np.floor(across - low).astype(np.int64) * 4 + np.clip((along - along_low) // quarter_len, 0, 3).astype(
            np.int64
        )
        ink = np.bincount(cell, minlength=bins * 4).reshape(bins, 4)
        # A line covers every quarter of the page it crosses (at least three: it may leave by a side).
        present = area >= 8
        coverage = np.where(present, ink / np.maximum(area, 1), np.inf).min(axis=1)
        coverage[present.sum(axis=1) < 3] = 0
        if coverage.max() > best_score:
            best_score, best_bins, best_index = float(coverage.max()), coverage >= LINE_COVERAGE, cell // 4
    # A run of line bins thicker than a pen line is a broad mark (a table edge, a thick bar), not a ruled line.
    runs, count = ndi.label(ndi.binary_dilation(best_bins))
    if count == 0:
        return np.full(ys.shape, -1)
    lengths = np.bincount(runs.ravel(), minlength=count + 1)
    thin = lengths <= max(4, 0.01 * min(h, w))
    thin[0] = False
    line_of_bin = np.where(best_bins & thin[runs], runs, -1)  # the dilation only groups a line's bins
    return line_of_bin[best_index]


def remove_lines(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cut ruled or squared lines (near-straight thin runs of ink across the whole page) out of the mask.

    Returns (mask without lines, the line pixels). A digit's own bar never spans every quarter of the
    page, so it stays; where a line crosses a stroke the stroke loses a line's width, which the
    stroke normalisation closes again. Lines are searched on a 2×2-pooled mask (4× less work; a
    pen line stays a line) and cut at full size.
    """
    lines = np.zeros_like(mask)
    if min(mask.shape) < LINE_MIN_SIDE or not mask.any():
        return mask, lines
    pool = 2
    h, w = (mask.shape[0] // pool) * pool, (mask.shape[1] // pool) * pool
    pooled = mask[:h, :w].reshape(h // pool, pool, w // pool, pool).any(axis=(1, 3))
    ys, xs = np.nonzero(pooled)
    found = np.zeros_like(pooled)
    for vertical in (False, True):
        on_line = _line_bins(pooled, ys.astype(np.float64), xs.astype(np.float64), vertical) >= 0
        found[ys[on_line], xs[on_line]] = True
    lines[:h, :w] = np.repeat(np.repeat(found, pool, axis=0), pool, axis=1)
    return mask & ~lines, mask & lines


def keep_digit(mask: np.ndarray, contrast: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The digit's pieces and the dropped marks, as two boolean masks.

    The heaviest piece (summed ink) that is not a page edge or a shadow's rim is the digit; pieces within
    reach of it, directly or through other such pieces, join it (the bar of a 4, 5 or 7), unless they are
    specks. If every piece looks like an edge (a digit drawn to the canvas border), the heaviest piece is
    taken anyway.
    """
    labels, count = ndi.label(mask, structure=np.ones((3, 3), dtype=bool))
    if count == 0:
        from vae.image_file import InvalidImageError

        raise InvalidImageError("The image looks blank: draw or upload a digit.")
    index = np.arange(1, count + 1)
    mass = np.asarray(ndi.sum(contrast, labels, index))
    area = np.asarray(ndi.sum(mask, labels, index))
    h, w = mask.shape
    edge = np.zeros(count, dtype=bool)
    for i, box in enumerate(ndi.find_objects(labels)):
        rows, cols = box
        touches = rows.start == 0 or cols.start == 0 or rows.stop == h or cols.stop == w
        long = (rows.stop - rows.start) > EDGE_SPAN * h or (cols.stop - cols.start) > EDGE_SPAN * w
        edge[i] = touches and long
    score = np.where(edge, 0.0, mass) if not edge.all() else mass
    main = int(np.argmax(score))
    group = labels == main + 1
    main_rows, main_cols = np.flatnonzero(group.any(axis=1)), np.flatnonzero(group.any(axis=0))
    reach = JOIN_GAP * max(main_rows[-1] - main_rows[0] + 1, main_cols[-1] - main_cols[0] + 1)
    # Pieces join by chains of gaps of at most `reach` (single linkage), in one pass over all pieces: two
    # pieces are that close where their halos of reach/2 meet, so the digit is every eligible piece in the
    # main one's halo region. Its cost does not grow with the number of pieces (joined one at a time, a
    # 14 kB page of 4,500 dots took 64 s; issue 23). Halos that touch as pixel neighbours would allow about
    # a pixel more than `reach`: half a pixel less keeps the rule within a pixel either way.
    eligible = ~edge & (area >= SPECK_SHARE * area[main])
    eligible[main] = True
    candidates = np.concatenate([[False], eligible])[labels]  # label 0 is the paper
    halos, _ = ndi.label(
        ndi.distance_transform_edt(~candidates) <= max(0.0, reach / 2 - 0.5), structure=np.ones((3, 3), dtype=bool)
    )
    linked = np.unique(labels[candidates & (halos == halos[group][0])])
    group = np.isin(labels, linked)
    return group, mask & ~group
