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

from explorer.ui.figures import bubble_traces, plane_layout
from vae.images import tile

TERMS: tuple[tuple[str, str], ...] = (("recon", "reconstruction"), ("kl", "KL"), ("total", "total (−ELBO)"))
AE_TERMS: tuple[tuple[str, str], ...] = (("recon", "reconstruction (the autoencoder's whole loss)"),)
SPLITS: tuple[tuple[str, str, str], ...] = (("train", "training", "solid"), ("test", "test", "dash"))
TERM_COLOURS = {"recon": "#1f77b4", "kl": "#d62728", "total": "#2ca02c"}
GUTTER = 2  # grey pixels between the panel's digits
# Epoch ticks in the order they are wanted: decades first, then halves, then the rest; a tick is dropped
# where its label would touch a neighbour's (on a √ axis the early epochs crowd together).
EPOCH_TICKS: tuple[int, ...] = (0, 1, 10, 100, 1000, 5, 50, 500, 2, 20, 200, 3, 30, 300)
LABEL_CHAR = 0.028  # a label character's width, as a share of a panel's axis (about 240 px wide)
LABEL_GAP = 0.02  # and the least space between two labels


def epoch_position(epoch: float) -> float:
    """Where an epoch sits on the axis: √epoch, so epochs 0–1 (the fall from ~540) get room."""
    return math.sqrt(max(epoch, 0.0))


def epoch_ticks(max_epoch: float) -> list[int]:
    """The epochs to label on an axis up to max_epoch: the last epoch, then EPOCH_TICKS in their order,
    each only where its label keeps clear of those already placed."""
    length = max(epoch_position(max_epoch), 1e-9)
    chosen: list[int] = [int(max_epoch)] if max_epoch > 0 else []
    for epoch in (e for e in EPOCH_TICKS if e <= max_epoch):
        clear = all(
            abs(epoch_position(epoch) - epoch_position(other)) / length
            >= LABEL_CHAR * (len(str(epoch)) + len(str(other))) / 2 + LABEL_GAP
            for other in chosen
        )
        if clear and epoch not in chosen:
            chosen.append(epoch)
    return sorted(chosen) or [0]


def epoch_axis(max_epoch: float) -> dict[str, Any]:
    """A √-scaled epoch axis labelled in epochs, spanning 0..max_epoch."""
    ticks = epoch_ticks(max_epoch)
    return {
        "tickvals": [epoch_position(e) for e in ticks],
        "ticktext": [str(e) for e in ticks],
        "range": [-0.05, epoch_position(max_epoch) * 1.02 + 0.05],
        "title": {"text": "epoch (√ scale)"},
    }


def total_title(beta: float) -> str:
    """The third panel's title: the loss is recon + β·KL, the −ELBO only at β = 1."""
    return "total (−ELBO)" if beta == 1 else f"loss: recon + {beta:g}·KL"  # short: a panel is ~240 px wide


def loss_figure(
    history: Sequence[dict[str, Any]],
    max_epoch: float | None = None,
    height: int = 300,
    is_vae: bool = True,
    beta: float = 1.0,
) -> go.Figure:
    """Reconstruction, KL and total per epoch, training solid and test dashed, one panel per term.

    `max_epoch` fixes the axis (a live run grows into its frame); by default it ends at the last epoch.
    The total is what the run minimised, recon + β·KL. The autoencoder has no KL and no ELBO: it gets the
    reconstruction panel alone, not two flat lines.
    """
    terms = (*TERMS[:2], ("total", total_title(beta))) if is_vae else AE_TERMS
    figure = make_subplots(
        rows=1, cols=len(terms), subplot_titles=[title for _, title in terms], horizontal_spacing=0.06
    )
    epochs = [float(h["epoch"]) for h in history]
    last = max_epoch if max_epoch is not None else max(epochs, default=1.0)
    x = [epoch_position(e) for e in epochs]
    for column, (term, _) in enumerate(terms, start=1):
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
    if len(history) == 1:  # epoch 0 alone (a run under way or cancelled in its first epoch): from 0, not a
        figure.update_yaxes(rangemode="tozero")  # range of a fraction of a nat around one point, like noise
    figure.update_layout(
        height=height,
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        legend={"orientation": "h", "y": -0.25},
        uirevision="losses",
    )
    return figure


def panel_grid(panels: Sequence[tuple[int, np.ndarray]], originals: np.ndarray | None = None) -> np.ndarray:
    """One uint8 image: a row per epoch (the originals on top when given), a column per panel digit."""
    rows = ([originals] if originals is not None else []) + [np.asarray(p, dtype=np.uint8) for _, p in panels]
    if not rows:
        return np.zeros((28, 28), dtype=np.uint8)
    return tile(np.concatenate(rows), columns=len(rows[0]), pad=GUTTER, background=96)


def panel_figure(
    panels: Sequence[tuple[int, np.ndarray]], originals: np.ndarray | None = None, row_height: int = 34
) -> go.Figure:
    """The fixed panel's reconstructions epoch by epoch, as in the lecture: one row per epoch."""
    grid = panel_grid(panels, originals)
    labels = (["original"] if originals is not None else []) + [f"epoch {e}" for e, _ in panels]
    # One PNG, not a heatmap: 50 epochs × 16 digits would be 600,000 numbers in the page's JSON.
    figure = go.Figure(go.Image(source=png_data_uri(grid), hoverinfo="skip"))
    cell = 28 + GUTTER
    figure.update_yaxes(
        tickvals=[GUTTER + i * cell + 13.5 for i in range(len(labels))], ticktext=labels, showgrid=False
    )
    figure.update_xaxes(visible=False)  # no digit numbers to label; hidden ticks would still draw marks
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
    mu = np.asarray(mu, dtype=np.float32)
    labels = np.asarray(labels)
    if extent is None:
        extent = max(3.0, math.ceil(2 * float(np.percentile(np.abs(mu), 99.5))) / 2)
    figure = go.Figure()
    for digit in range(10):
        rows = np.flatnonzero(labels == digit)
        if len(rows):
            outline = None if logvar is None else bubble_outlines(mu[rows], np.asarray(logvar, np.float32)[rows])
            figure.add_traces(bubble_traces(digit, mu[rows], outline, size=4, opacity=0.3, hoverinfo="skip"))
    plane_layout(figure, extent, height, "bubbles")
    return figure
