"""Telling the digit from the other marks on a page: ruled and squared lines, specks, page edges.

Works on the boolean ink mask of vae.preprocess. Lines are found as a Hough transform restricted to
near-horizontal and near-vertical directions (a page is never turned far in a photo of a digit);
the rest is connected components (scipy.ndimage.label) and distances between them.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from scipy import ndimage as ndi

MAX_TILT = 12.0  # degrees either side of horizontal / vertical
TILT_STEP = 1.5
LINE_COVERAGE = 0.35  # share of a line's chord that is ink, in every quarter of the page
LINE_MIN_SIDE = 100  # smaller images (canvases, MNIST-like crops) have no ruled paper to remove
EDGE_SPAN = 0.4  # a piece touching the border and longer than this share of the side is a page edge
SPECK_SHARE = 0.03  # pieces under this share of the digit's area are specks
JOIN_GAP = 0.3  # pieces within this share of the digit's size belong to it (the bar of a 4, 5 or 7)


class Tilt(NamedTuple):
    """One direction of the search: a bin is a strip one pixel wide across the page, cut in four quarters
    along it; `area` is the page's pixels per bin and quarter (bins × 4)."""

    c: float
    s: float
    low: float  # `across` of bin 0's lower edge
    along_low: float
    quarter_len: float
    bins: int
    area: np.ndarray


def _tilts(h: int, w: int, vertical: bool) -> list[Tilt]:
    """Every tilt searched, the page's area per cell measured on the geometry: a one-pixel strip holds about
    as many pixels as its centre line is long (counting them for every tilt would be a third of a photo's
    reading). The tilt chosen is counted exactly (`_counted`)."""
    tilts = []
    for degrees in np.arange(-MAX_TILT, MAX_TILT + TILT_STEP / 2, TILT_STEP):
        c, s = float(np.cos(np.deg2rad(degrees))), float(np.sin(np.deg2rad(degrees)))
        # Both coordinates are linear in x and y: their extremes over the pixels are at the page's corners.
        across, along = _coordinates(
            np.array([0.0, 0.0, h - 1.0, h - 1.0]), np.array([0.0, w - 1.0] * 2), vertical, c, s
        )
        low, along_low = across.min() - 2, along.min()
        quarter_len = (along.max() - along_low) / 4 + 1e-6
        bins = int(across.max() - low) + 3
        # Bin k's centre line, across = u, is the points (x, y) = start + t·step for `along` = t.
        u = low + np.arange(bins) + 0.5
        starts, steps = ((u * c, u * s), (-s, c)) if vertical else ((-u * s, u * c), (c, s))
        t_from, t_to = np.full(bins, -np.inf), np.full(bins, np.inf)
        for start, step, side in zip(starts, steps, (w, h), strict=True):  # within the pixels' outer edges
            if abs(step) < 1e-12:  # parallel to these sides: inside them or not at all
                outside = (start < -0.5) | (start > side - 0.5)
                t_from[outside], t_to[outside] = np.inf, -np.inf
                continue
            ends = ((-0.5 - start) / step, (side - 0.5 - start) / step)
            t_from, t_to = np.maximum(t_from, np.minimum(*ends)), np.minimum(t_to, np.maximum(*ends))
        edges = along_low + quarter_len * np.arange(5.0)
        edges[0], edges[-1] = -np.inf, np.inf  # the first and last quarters take what lies beyond (as _cells)
        area = np.minimum(t_to[:, None], edges[1:]) - np.maximum(t_from[:, None], edges[:-1])
        tilts.append(Tilt(c, s, low, along_low, quarter_len, bins, np.clip(area, 0, None)))
    return tilts


def _coordinates(ys: np.ndarray, xs: np.ndarray, vertical: bool, c: float, s: float) -> tuple[np.ndarray, np.ndarray]:
    """(across, along) of pixels: across the lines searched for, and along them."""
    if vertical:
        return xs * c + ys * s, ys * c - xs * s
    return ys * c - xs * s, xs * c + ys * s


def _cells(ys: np.ndarray, xs: np.ndarray, vertical: bool, tilt: Tilt) -> np.ndarray:
    """bin × 4 + quarter of each pixel."""
    across, along = _coordinates(ys, xs, vertical, tilt.c, tilt.s)
    quarter = np.clip((along - tilt.along_low) // tilt.quarter_len, 0, 3).astype(np.int64)
    return np.floor(across - tilt.low).astype(np.int64) * 4 + quarter


def _counted(h: int, w: int, vertical: bool, tilt: Tilt) -> Tilt:
    """The tilt with its page's pixels counted, by the same arithmetic as the ink's."""
    grid_y, grid_x = np.indices((h, w), dtype=np.float64).reshape(2, -1)
    area = np.bincount(_cells(grid_y, grid_x, vertical, tilt), minlength=tilt.bins * 4).reshape(tilt.bins, 4)
    return tilt._replace(area=area)


def _coverage(ink: np.ndarray, area: np.ndarray) -> np.ndarray:
    """Per bin, the least share of ink over the page's quarters it crosses: a line covers every one (at
    least three: it may leave by a side)."""
    present = area >= 8
    coverage = np.where(present, ink / np.maximum(area, 1), np.inf).min(axis=1)
    coverage[present.sum(axis=1) < 3] = 0
    return coverage


def _line_bins(mask: np.ndarray, ys: np.ndarray, xs: np.ndarray, vertical: bool) -> np.ndarray:
    """For the best angle, the line id (or −1) of every ink pixel: bins of `across` that are lines."""
    h, w = mask.shape
    best_score, best = -1.0, None
    for tilt in _tilts(h, w, vertical):
        cell = _cells(ys, xs, vertical, tilt)
        ink = np.bincount(cell, minlength=tilt.bins * 4).reshape(tilt.bins, 4)
        if (score := float(_coverage(ink, tilt.area).max())) > best_score:
            best_score, best = score, (tilt, cell, ink)
    tilt, cell, ink = best
    best_bins = _coverage(ink, _counted(h, w, vertical, tilt).area) >= LINE_COVERAGE
    # A run of line bins thicker than a pen line is a broad mark (a table edge, a thick bar), not a ruled line.
    runs, count = ndi.label(ndi.binary_dilation(best_bins))
    if count == 0:
        return np.full(ys.shape, -1)
    lengths = np.bincount(runs.ravel(), minlength=count + 1)
    thin = lengths <= max(4, 0.01 * min(h, w))
    thin[0] = False
    line_of_bin = np.where(best_bins & thin[runs], runs, -1)  # the dilation only groups a line's bins
    return line_of_bin[cell // 4]


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
    flat = labels.ravel()
    mass = np.bincount(flat, weights=contrast.ravel(), minlength=count + 1)[1:]
    area = np.bincount(flat, minlength=count + 1)[1:]
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
