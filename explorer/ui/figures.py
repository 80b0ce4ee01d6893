"""Plotly figures for the explorer app. Imported only by the views that draw them (Plotly is slow to load).

Every point that stands for a test digit carries its row id in customdata, because with one trace
per digit colour Plotly's own point index counts within a trace (see explorer.state.selection).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from explorer.ui.colours import DIGIT_COLOURS
from explorer.ui.pictures import ellipse_outlines
from vae.latent import latent_grid

# Hover labels: a monospace font (the test index lines up), large and dark enough to read over the dots.
HOVER_LABEL = {
    "font": {"family": "DejaVu Sans Mono, Menlo, Consolas, monospace", "size": 15, "color": "black"},
    "bgcolor": "white",
}


def _digit_rows(labels: np.ndarray, rows: np.ndarray | None = None) -> list[tuple[int, np.ndarray]]:
    """(digit, row ids) for each digit present, within `rows` when given."""
    labels = np.asarray(labels)
    rows = np.arange(len(labels)) if rows is None else np.asarray(rows)
    return [(d, rows[labels[rows] == d]) for d in range(10) if (labels[rows] == d).any()]


def _square_axes(figure: go.Figure, show_ticks: bool) -> None:
    """Equal units on both axes: distances on a map mean the same in every direction."""
    figure.update_xaxes(showticklabels=show_ticks, showgrid=show_ticks, zeroline=show_ticks)
    figure.update_yaxes(showticklabels=show_ticks, showgrid=show_ticks, zeroline=show_ticks)
    figure.update_layout(yaxis={"scaleanchor": "x", "scaleratio": 1})


def map_figure(
    coords: np.ndarray,
    labels: np.ndarray,
    hover: Sequence[str] | None = None,
    marked: Sequence[tuple[str, int]] = (),
    star: tuple[float, float] | None = None,
    height: int = 560,
    show_axes: bool = False,
    revision: str = "map",
    legend_on_top: bool = False,
) -> go.Figure:
    """Every test mean on the 2-D map, one WebGL trace per digit, plus marked digits and a star.
    legend_on_top: the digits' legend in one row above the map, for a map in a narrow column (beside it,
    the legend took a fifth of the width from a map that must stay square).

    `revision` is Plotly's uirevision (zoom and pan survive a new figure while it stays the same; but
    Streamlit remounts a chart whose figure changed: explorer/ui/components/map_marks.py)."""
    # Three decimals are plenty on screen and keep the page's JSON small (float32 prints 17 digits).
    coords = np.round(np.asarray(coords, dtype=np.float64), 3)
    texts = np.asarray(hover, dtype=object) if hover is not None else None
    figure = go.Figure()
    for digit, rows in _digit_rows(labels):
        figure.add_trace(
            go.Scattergl(
                x=coords[rows, 0],
                y=coords[rows, 1],
                mode="markers",
                name=str(digit),
                marker={"size": 4, "color": DIGIT_COLOURS[digit], "opacity": 0.75},
                customdata=rows,
                text=texts[rows].tolist() if texts is not None else None,
                hovertemplate=("%{text}" if texts is not None else f"#%{{customdata}} · digit {digit}")
                + "<extra></extra>",
            )
        )
    if marked:
        rows = [row for _, row in marked]
        figure.add_trace(
            go.Scattergl(  # WebGL like the points: an SVG trace would be drawn underneath them
                x=coords[rows, 0],
                y=coords[rows, 1],
                mode="markers+text",
                name="picked",
                text=[name for name, _ in marked],
                textposition="top center",
                textfont={"size": 16, "color": "black"},
                marker={"size": 16, "symbol": "circle-open", "color": "black", "line": {"width": 3}},
                customdata=rows,
                hovertemplate="%{text}: #%{customdata}<extra></extra>",
            )
        )
    if star is not None:
        figure.add_trace(
            go.Scattergl(
                x=[star[0]],
                y=[star[1]],
                mode="markers",
                name="your digit",
                marker={"size": 22, "symbol": "star", "color": "gold", "line": {"width": 1.5, "color": "black"}},
                hovertemplate="your digit<extra></extra>",
            )
        )
    figure.update_layout(
        height=height,
        margin={"l": 10, "r": 10, "t": 30, "b": 10},  # room for the toolbar above the legend
        legend={"title": {"text": "digit"}, "itemsizing": "constant"}
        | ({"orientation": "h", "x": 0, "y": 1.0, "yanchor": "bottom"} if legend_on_top else {}),
        hoverlabel=HOVER_LABEL,
        uirevision=revision,
    )
    _square_axes(figure, show_axes)
    return figure


def snapshot_figure(
    snapshot_coords: Mapping[int, np.ndarray],
    labels: np.ndarray,
    rows: np.ndarray | None = None,
    height: int = 260,
    legend: bool = False,
) -> go.Figure:
    """Small maps of the epoch snapshots side by side: how the clusters form during training. legend: the
    digits' colours beside them (for a map shown on its own; thumbnails under the big map have its legend)."""
    epochs = sorted(snapshot_coords)
    figure = make_subplots(
        rows=1, cols=len(epochs), subplot_titles=[f"epoch {e}" for e in epochs], horizontal_spacing=0.02
    )
    groups = _digit_rows(labels, rows)
    for column, epoch in enumerate(epochs, start=1):
        coords = np.asarray(snapshot_coords[epoch], dtype=np.float32)
        for digit, digit_rows in groups:
            figure.add_trace(
                go.Scattergl(
                    x=coords[digit_rows, 0],
                    y=coords[digit_rows, 1],
                    mode="markers",
                    name=str(digit),
                    legendgroup=str(digit),
                    showlegend=legend and column == 1,
                    marker={"size": 2.5, "color": DIGIT_COLOURS[digit], "opacity": 0.7},
                    hoverinfo="skip",
                ),
                row=1,
                col=column,
            )
        # Each panel square in its own units, like the big map.
        figure.update_yaxes(scaleanchor=f"x{column if column > 1 else ''}", scaleratio=1, row=1, col=column)
    figure.update_xaxes(showticklabels=False, showgrid=False, zeroline=False)
    figure.update_yaxes(showticklabels=False, showgrid=False, zeroline=False)
    figure.update_layout(
        height=height,
        margin={"l": 5, "r": 5, "t": 30, "b": 5},
        legend={"title": {"text": "digit"}, "itemsizing": "constant"},  # legend dots larger than the map's
    )
    return figure


def plane_figure(
    mu: np.ndarray,
    logvar: np.ndarray | None,
    labels: np.ndarray,
    rows: np.ndarray,
    extent: float = 3.0,
    click_steps: int = 61,
    height: int = 560,
    bubble_scale: float = 1.0,
) -> go.Figure:
    """A 2-D model's plane: test means with their μ ± bubble_scale·σ ellipses, and an invisible grid that
    makes every spot clickable (a click's x and y are the code to decode)."""
    import torch

    mu = np.asarray(mu, dtype=np.float32)
    figure = go.Figure()
    grid = latent_grid(extent, click_steps).numpy()
    figure.add_trace(
        go.Scattergl(
            x=grid[:, 0],
            y=grid[:, 1],
            mode="markers",
            name="click anywhere",
            marker={"size": 9, "color": "rgba(0,0,0,0)"},
            hovertemplate="z = (%{x:.2f}, %{y:.2f})<extra>click to decode</extra>",
            showlegend=False,
        )
    )
    for digit, digit_rows in _digit_rows(labels, rows):
        outline = None
        if logvar is not None:
            outline = ellipse_outlines(
                torch.from_numpy(mu[digit_rows]), torch.from_numpy(logvar[digit_rows]), scale=bubble_scale
            )
        figure.add_traces(
            bubble_traces(
                digit,
                mu[digit_rows],
                outline,
                customdata=digit_rows,
                hovertemplate=f"#%{{customdata}} · digit {digit}<br>μ = (%{{x:.2f}}, %{{y:.2f}})<extra></extra>",
            )
        )
    plane_layout(figure, extent, height, "plane")
    return figure


def bubble_traces(
    digit: int, means: np.ndarray, outline: tuple | None, size: int = 5, opacity: float = 0.35, **point_options
) -> list[go.Scattergl]:
    """One digit on a 2-D plane: its μ ± σ outlines (when given) and its means, in its colour, one legend entry."""
    colour = DIGIT_COLOURS[digit]
    traces = []
    if outline is not None:
        xs, ys = outline
        line = {"width": 1, "color": colour}
        traces.append(
            go.Scattergl(
                x=xs,
                y=ys,
                mode="lines",
                line=line,
                opacity=opacity,
                legendgroup=str(digit),
                showlegend=False,
                hoverinfo="skip",
            )
        )
    traces.append(
        go.Scattergl(
            x=means[:, 0],
            y=means[:, 1],
            mode="markers",
            name=str(digit),
            legendgroup=str(digit),
            marker={"size": size, "color": colour},
            **point_options,
        )
    )
    return traces


def plane_layout(figure: go.Figure, extent: float, height: int, revision: str) -> None:
    """The square [−extent, extent]² frame of a 2-D model's plane."""
    figure.update_layout(
        height=height,
        margin={"l": 10, "r": 10, "t": 50, "b": 10},
        # A legend above the plot leaves its full width to the (square) plane; its title beside the digits
        # keeps it to one line, clear of the top tick label (on two lines it covered the plane's top).
        legend={
            "title": {"text": "digit", "side": "left"},
            "orientation": "h",
            "y": 1.04,
            "yanchor": "bottom",
            "x": 0.5,
            "xanchor": "center",
        },
        # constrain="domain": keep exactly [−extent, extent]² (like the decoded grid beside it), shrink the box.
        xaxis={"range": [-extent, extent], "title": {"text": "z0"}, "constrain": "domain"},
        yaxis={"range": [-extent, extent], "title": {"text": "z1"}, "constrain": "domain"},
        uirevision=revision,
    )
    _square_axes(figure, show_ticks=True)


def code_figure(mu: np.ndarray, sigma: np.ndarray | None, order: Sequence[int], height: int = 280) -> go.Figure:
    """μ ± σ of one code per dimension (most used first), over the prior's ±1 band (a VAE's: an autoencoder,
    given sigma None, has no prior and gets its code alone)."""
    order = list(order)
    mu = np.asarray(mu, dtype=np.float32)
    names = [f"z{i}" for i in order]
    figure = go.Figure(
        go.Scatter(
            x=names,
            y=mu[order],
            mode="markers",
            name="μ ± σ",
            marker={"size": 9, "color": DIGIT_COLOURS[0]},
            error_y=None
            if sigma is None
            else {"type": "data", "array": np.asarray(sigma)[order], "visible": True, "thickness": 1.5},
            hovertemplate="%{x}: μ = %{y:.2f}<extra></extra>",
        )
    )
    if sigma is not None:
        figure.add_hrect(y0=-1, y1=1, fillcolor="grey", opacity=0.12, line_width=0)
    figure.update_layout(
        height=height,
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        xaxis={"type": "category"},
        yaxis={"title": {"text": "code value"}, "zeroline": True},
        showlegend=False,
    )
    return figure
