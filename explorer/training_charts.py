"""Plotly figures of a training run: loss curves, the panel's reconstructions epoch by epoch, the 2-D bubbles.

They take the run's record as the checkpoints keep it (history entries {"epoch", "train": {recon, kl,
total}, "test": {...}}; panels as (epoch, uint8 [P, 28, 28])), so the Train view draws a live job and
the Training view draws a finished model's recorded history with the same code.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

TERMS: tuple[tuple[str, str], ...] = (("recon", "reconstruction"), ("kl", "KL"), ("total", "total (−ELBO)"))
SPLITS: tuple[tuple[str, str, str], ...] = (("train", "training", "solid"), ("test", "test", "dash"))
TERM_COLOURS = {"recon": "#1f77b4", "kl": "#d62728", "total": "#2ca02c"}
EPOCH_TICKS: tuple[int, ...] = (0, 1, 2, 3, 5, 10, 20, 30, 50, 100, 200, 500)


def epoch_position(epoch: float) -> float:
    """Where an epoch sits on the axis: √epoch, so epochs 0–1 (the fall from ~540) get room."""
    return math.sqrt(max(epoch, 0.0))


def epoch_axis(max_epoch: float) -> dict[str, Any]:
    """A √-scaled epoch axis labelled in epochs, spanning 0..max_epoch."""
    ticks = [e for e in EPOCH_TICKS if e <= max_epoch] or [0]
    if max_epoch > ticks[-1] * 1.3:
        ticks.append(int(max_epoch))
    return {
        "tickvals": [epoch_position(e) for e in ticks],
        "ticktext": [str(e) for e in ticks],
        "range": [-0.05, epoch_position(max_epoch) * 1.02 + 0.05],
        "title": {"text": "epoch (√ scale)"},
    }


def loss_figure(history: Sequence[dict[str, Any]], max_epoch: float | None = None, height: int = 300) -> go.Figure:
    """Reconstruction, KL and total per epoch, training solid and test dashed, one panel per term.

    `max_epoch` fixes the axis (a live run grows into its frame); by default it ends at the last epoch.
    The autoencoder's KL is 0 throughout, and its panel says so instead of drawing a flat line.
    """
    figure = make_subplots(rows=1, cols=3, subplot_titles=[title for _, title in TERMS], horizontal_spacing=0.06)
    epochs = [float(h["epoch"]) for h in history]
    last = max_epoch if max_epoch is not None else max(epochs, default=1.0)
    x = [epoch_position(e) for e in epochs]
    for column, (term, _) in enumerate(TERMS, start=1):
        for split, split_name, dash in SPLITS:
            y = [h[split][term] if h.get(split) else None for h in history]
            figure.add_trace(
                go.Scatter(
                    x=x,
                    y=y,
                    customdata=epochs,
                    mode="lines+markers",
                    name=split_name,
                    legendgroup=split,
                    showlegend=column == 1,
                    line={"color": TERM_COLOURS[term], "dash": dash},
                    marker={"size": 5},
                    hovertemplate=f"epoch %{{customdata:g}} · {split_name}: %{{y:.2f}} nats<extra></extra>",
                ),
                row=1,
                col=column,
            )
    figure.update_xaxes(**epoch_axis(last))
    figure.update_yaxes(title_text="nats per image", row=1, col=1)
    figure.update_layout(
        height=height,
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        legend={"orientation": "h", "y": -0.25},
        uirevision="losses",
    )
    return figure


def panel_grid(panels: Sequence[tuple[int, np.ndarray]], originals: np.ndarray | None = None) -> np.ndarray:
    """One uint8 image: a row per epoch (the originals on top when given), a column per panel digit,
    separated by a 2-pixel grey gutter."""
    rows = ([originals] if originals is not None else []) + [np.asarray(p, dtype=np.uint8) for _, p in panels]
    if not rows:
        return np.zeros((28, 28), dtype=np.uint8)
    count = rows[0].shape[0]
    gutter = 2
    size = 28 + gutter
    grid = np.full((len(rows) * size - gutter, count * size - gutter), 96, dtype=np.uint8)
    for r, images in enumerate(rows):
        for c in range(count):
            grid[r * size : r * size + 28, c * size : c * size + 28] = images[c].reshape(28, 28)
    return grid


def panel_figure(
    panels: Sequence[tuple[int, np.ndarray]], originals: np.ndarray | None = None, row_height: int = 34
) -> go.Figure:
    """The fixed panel's reconstructions epoch by epoch, as in the lecture: one row per epoch."""
    grid = panel_grid(panels, originals)
    labels = (["original"] if originals is not None else []) + [f"epoch {e}" for e, _ in panels]
    # One PNG, not a heatmap: 50 epochs × 16 digits would be 600,000 numbers in the page's JSON.
    figure = go.Figure(go.Image(source=png_data_uri(grid), hoverinfo="skip"))
    figure.update_yaxes(tickvals=[i * 30 + 13.5 for i in range(len(labels))], ticktext=labels, showgrid=False)
    figure.update_xaxes(showticklabels=False, showgrid=False, zeroline=False)
    figure.update_layout(
        height=max(120, row_height * len(labels) + 20), margin={"l": 10, "r": 10, "t": 10, "b": 10}, uirevision="panel"
    )
    return figure


def png_data_uri(image: np.ndarray) -> str:
    import base64
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def bubble_outlines(mu: np.ndarray, logvar: np.ndarray, points: int = 14) -> tuple[np.ndarray, np.ndarray]:
    """x and y of every μ ± σ ellipse in one float32 polyline, NaN between ellipses: Plotly sends
    numpy arrays as binary, so a live figure stays small (a list with None would be text)."""
    angle = np.linspace(0, 2 * np.pi, points, dtype=np.float32)
    sigma = np.exp(0.5 * logvar.astype(np.float32))
    xs = mu[:, :1] + sigma[:, :1] * np.cos(angle)
    ys = mu[:, 1:2] + sigma[:, 1:2] * np.sin(angle)
    gap = np.full((len(mu), 1), np.nan, dtype=np.float32)
    return np.hstack((xs, gap)).ravel(), np.hstack((ys, gap)).ravel()


def bubbles_figure(
    mu: np.ndarray, logvar: np.ndarray | None, labels: np.ndarray, extent: float | None = None, height: int = 460
) -> go.Figure:
    """A 2-D model's test means with their μ ± σ bubbles, one colour per digit. With `extent` fixed the
    frame stays put from epoch to epoch, so the bubbles are seen to spread and pack."""
    from explorer.figures import DIGIT_COLOURS

    mu = np.asarray(mu, dtype=np.float32)
    labels = np.asarray(labels)
    if extent is None:
        extent = max(3.0, math.ceil(2 * float(np.percentile(np.abs(mu), 99.5))) / 2)
    figure = go.Figure()
    for digit in range(10):
        rows = np.flatnonzero(labels == digit)
        if not len(rows):
            continue
        colour = DIGIT_COLOURS[digit]
        if logvar is not None:
            xs, ys = bubble_outlines(mu[rows], np.asarray(logvar, dtype=np.float32)[rows])
            figure.add_trace(
                go.Scattergl(
                    x=xs,
                    y=ys,
                    mode="lines",
                    line={"width": 1, "color": colour},
                    opacity=0.3,
                    legendgroup=str(digit),
                    showlegend=False,
                    hoverinfo="skip",
                )
            )
        figure.add_trace(
            go.Scattergl(
                x=mu[rows, 0],
                y=mu[rows, 1],
                mode="markers",
                name=str(digit),
                legendgroup=str(digit),
                marker={"size": 4, "color": colour},
                hoverinfo="skip",
            )
        )
    figure.update_layout(
        height=height,
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        legend={"title": {"text": "digit"}, "orientation": "h", "y": 1.0, "yanchor": "bottom"},
        xaxis={"range": [-extent, extent], "title": {"text": "z₁"}, "constrain": "domain"},
        yaxis={"range": [-extent, extent], "title": {"text": "z₂"}, "constrain": "domain", "scaleanchor": "x"},
        uirevision="bubbles",
    )
    return figure
