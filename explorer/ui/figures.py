"""Plotly figures for the explorer app. Imported only by the views that draw them (Plotly is slow to load).

Every point that stands for a test digit carries its row id in customdata, because with one trace
per digit colour Plotly's own point index counts within a trace (see explorer.state.selection).

A training run's figures (loss curves, the panel epoch by epoch, the 2-D bubbles) take the run's record
as the checkpoints keep it (history entries {"epoch", "train": {recon, kl, total}, "test": {...}}; panels
as (epoch, uint8 [P, 28, 28])), so the Train view draws a live job and the Training view a finished
model's recorded history with the same code.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from explorer.ui.colours import DIGIT_COLOURS, DIGIT_SYMBOLS
from explorer.ui.pictures import png_data_uri
from vae.codes import plane_extent
from vae.images import tile
from vae.latent import latent_grid
from vae.mnist_shape import IMAGE_SIDE

# Hover labels: a monospace font (the test index lines up), large and dark enough to read over the dots.
HOVER_LABEL = {
    "font": {"family": "DejaVu Sans Mono, Menlo, Consolas, monospace", "size": 15, "color": "black"},
    "bgcolor": "white",
}


class ReadOnlyFigure(go.Figure):
    """A figure that hands out the same dict each time it is asked: st.plotly_chart asks on every run, and
    Plotly deep-copies a figure for each (10,000 points: a fifth of a map view's run). Only for figures
    nothing changes after, as the ones cached for every visitor."""

    def to_dict(self) -> dict[str, Any]:
        if "_as_dict" not in self.__dict__:
            self.__dict__["_as_dict"] = super().to_dict()
        return self.__dict__["_as_dict"]


def _digit_rows(labels: np.ndarray, rows: np.ndarray | None = None) -> list[tuple[int, np.ndarray]]:
    """(digit, row ids) for each digit present, within `rows` when given."""
    labels = np.asarray(labels)
    rows = np.arange(len(labels)) if rows is None else np.asarray(rows)
    return [(d, rows[labels[rows] == d]) for d in range(10) if (labels[rows] == d).any()]


def describe(figure: go.Figure, text: str) -> go.Figure:
    """What the figure shows, in words: the page gives it to screen readers as the figure's label
    (explorer/ui/components/figure_touch.js reads layout.meta.alt)."""
    figure.update_layout(meta={"alt": text})
    return figure


def _square_axes(figure: go.Figure, show_ticks: bool) -> None:
    """Equal units on both axes: distances on a map mean the same in every direction."""
    figure.update_xaxes(showticklabels=show_ticks, showgrid=show_ticks, zeroline=show_ticks)
    figure.update_yaxes(showticklabels=show_ticks, showgrid=show_ticks, zeroline=show_ticks)
    figure.update_layout(yaxis={"scaleanchor": "x", "scaleratio": 1})


def map_figure(
    coords: np.ndarray,
    labels: np.ndarray,
    hover: Sequence[str] | None = None,
    height: int = 560,
    show_axes: bool = False,
    revision: str = "map",
    legend_on_top: bool = False,
) -> go.Figure:
    """Every test mean on the 2-D map, one WebGL trace per digit (picks are marked over it in the page:
    explorer/ui/components/map_marks.py).
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
                marker={"size": 5, "color": DIGIT_COLOURS[digit], "symbol": DIGIT_SYMBOLS[digit], "opacity": 0.75},
                customdata=rows,
                text=texts[rows].tolist() if texts is not None else None,
                hovertemplate=("%{text}" if texts is not None else f"#%{{customdata}} · digit {digit}")
                + "<extra></extra>",
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
    what = "map of the codes" if show_axes else "t-SNE map of the codes"
    return describe(
        figure,
        f"{what} of the {len(labels):,} test digits, one dot per digit, coloured by digit",
    )


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
                    marker={
                        "size": 3,
                        "color": DIGIT_COLOURS[digit],
                        "symbol": DIGIT_SYMBOLS[digit],
                        "opacity": 0.7,
                    },
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
    return describe(figure, f"the map of the test codes at epochs {', '.join(map(str, epochs))}: how the clusters form")


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
            outline = bubble_outlines(mu[digit_rows], logvar[digit_rows], points=24, scale=bubble_scale)
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
    return describe(
        figure,
        "the 2-D plane of codes: each test digit's mean with its μ ± σ bubble, coloured by digit; "
        "a click or tap anywhere decodes that point",
    )


def errors_figure(t: np.ndarray, errors: Mapping[str, np.ndarray], height: int = 240) -> go.Figure:
    """How badly the model redraws each frame along each path from A to B (nats)."""
    figure = go.Figure(
        [
            go.Scatter(x=np.round(t, 3), y=np.round(values, 1), mode="lines", name=name)
            for name, values in errors.items()
        ]
    )
    figure.update_layout(
        height=height, margin={"l": 10, "r": 10, "t": 10, "b": 10}, legend={"orientation": "h", "y": -0.3},
        xaxis_title="t (from A to B)", yaxis_title="reconstruction error (nats)", dragmode=False,
    )  # fmt: skip
    return describe(
        figure,
        "reconstruction error along the pixel blend, the blend through the model and the latent morph, from A to B",
    )


def class_map_figure(
    coords: np.ndarray, labels: np.ndarray, sent: Sequence[tuple[str, Sequence[float], np.ndarray]], height: int = 620
) -> go.Figure:
    """The class's digits as pictures on the map of the test means (grey), each at its code's place and
    named by its sender (as text: Plotly does not render markup in a trace's text when told not to)."""
    coords = np.round(np.asarray(coords, dtype=np.float64), 3)
    figure = go.Figure(
        go.Scattergl(
            x=coords[:, 0], y=coords[:, 1], mode="markers", marker={"size": 3, "color": "#c8c8c8"},
            hoverinfo="skip", showlegend=False,
        )
    )  # fmt: skip
    span = float(np.nanmax(coords) - np.nanmin(coords)) or 1.0
    size = span / 14
    # One layout update for all the pictures: add_layout_image copies the layout each time (a board of 60
    # digits took a quarter of a second to build that way, every time the board refreshed).
    images = [
        {
            "source": png_data_uri(255 - pixels, scale=2), "x": x, "y": y, "xref": "x", "yref": "y",
            "sizex": size, "sizey": size, "xanchor": "center", "yanchor": "middle", "layer": "above",
        }
        for _, (x, y), pixels in sent
    ]  # fmt: skip
    figure.add_trace(
        go.Scatter(
            x=[float(xy[0]) for _, xy, _ in sent], y=[float(xy[1]) - size / 1.6 for _, xy, _ in sent],
            mode="text", text=[html_text(name) for name, _, _ in sent], textfont={"size": 12}, hoverinfo="skip",
            showlegend=False,
        )
    )  # fmt: skip
    figure.update_layout(
        height=height, margin={"l": 0, "r": 0, "t": 0, "b": 0}, dragmode=False, plot_bgcolor="white", images=images
    )
    figure.update_xaxes(visible=False)
    figure.update_yaxes(visible=False, scaleanchor="x")
    return figure


def html_text(text: str) -> str:
    """Plotly draws a trace's text with a little HTML (<b>, <br>, links): a visitor's text is escaped."""
    import html

    return html.escape(text[:24])


def bubble_outlines(
    mu: np.ndarray, logvar: np.ndarray, points: int = 14, scale: float = 1.0
) -> tuple[np.ndarray, np.ndarray]:
    """x and y of every μ ± scale·σ ellipse of 2-D codes in one float32 polyline, NaN between ellipses:
    Plotly sends numpy arrays as binary, so a figure stays small (a list with None would be text)."""
    mu = np.asarray(mu, dtype=np.float32)
    angle = np.linspace(0, 2 * np.pi, points, dtype=np.float32)
    sigma = scale * np.exp(0.5 * np.asarray(logvar, dtype=np.float32))
    xs = mu[:, :1] + sigma[:, :1] * np.cos(angle)
    ys = mu[:, 1:2] + sigma[:, 1:2] * np.sin(angle)
    gap = np.full((len(mu), 1), np.nan, dtype=np.float32)
    return np.hstack((xs, gap)).ravel(), np.hstack((ys, gap)).ravel()


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
            marker={"size": size, "color": colour, "symbol": DIGIT_SYMBOLS[digit]},
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
    return describe(figure, "the code's mean ± σ for each coordinate, most used first, over the prior's ±1 band")


# ---------------------------------------------------------------- a training run

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


def loss_terms(has_posterior: bool, beta: float) -> tuple[tuple[str, str], ...]:
    """(term, panel title) of each loss panel: the autoencoder has no KL and no ELBO."""
    return (*TERMS[:2], ("total", total_title(beta))) if has_posterior else AE_TERMS


def loss_figure(
    history: Sequence[dict[str, Any]],
    max_epoch: float | None = None,
    height: int = 300,
    has_posterior: bool = True,
    beta: float = 1.0,
) -> go.Figure:
    """Reconstruction, KL and total per epoch, training solid and test dashed, one panel per term.

    `max_epoch` fixes the axis (a live run grows into its frame); by default it ends at the last epoch.
    The total is what the run minimised, recon + β·KL. The autoencoder has no KL and no ELBO: it gets the
    reconstruction panel alone, not two flat lines.
    """
    terms = loss_terms(has_posterior, beta)
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
    return describe(
        figure,
        f"loss per epoch up to epoch {last:g}, training solid and test dashed: " + ", ".join(t for _, t in terms),
    )


def loss_figures(
    history: Sequence[dict[str, Any]],
    max_epoch: float | None = None,
    height: int = 280,
    has_posterior: bool = True,
    beta: float = 1.0,
) -> list[go.Figure]:
    """The loss figure's panels as figures of their own, for st.columns: side by side on a wide screen,
    stacked on a phone (three panels in one figure were ~110 px wide there, their labels on top of each other)."""
    one = loss_figure(history, max_epoch, height, has_posterior, beta)  # its panels, split below
    figures = []
    for column, (term, title) in enumerate(loss_terms(has_posterior, beta)):
        figure = go.Figure([trace for trace in one.data if trace.xaxis == ("x" if column == 0 else f"x{column + 1}")])
        figure.update_traces(xaxis="x", yaxis="y", showlegend=True)
        axis = one.layout[f"xaxis{column + 1 if column else ''}"]
        figure.update_layout(
            height=height,
            title={"text": title, "x": 0.5, "xanchor": "center", "font": {"size": 14}},
            margin={"l": 10, "r": 10, "t": 40, "b": 10},
            xaxis={"tickvals": axis.tickvals, "ticktext": axis.ticktext, "range": axis.range, "title": axis.title},
            yaxis={"title": {"text": "nats per image"}, "rangemode": one.layout.yaxis.rangemode},
            legend={"orientation": "h", "y": -0.3},
            uirevision=f"losses:{term}",
        )
        figures.append(describe(figure, f"{title} per epoch, training solid and test dashed"))
    return figures


def panel_grid(panels: Sequence[tuple[int, np.ndarray]], originals: np.ndarray | None = None) -> np.ndarray:
    """One uint8 image: a row per epoch (the originals on top when given), a column per panel digit."""
    rows = ([originals] if originals is not None else []) + [np.asarray(p, dtype=np.uint8) for _, p in panels]
    if not rows:
        return np.zeros((IMAGE_SIDE, IMAGE_SIDE), dtype=np.uint8)
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
    count = len(panels[0][1]) if panels else 0
    return describe(
        figure, f"the same {count} test digits reconstructed epoch by epoch, one row per epoch: {', '.join(labels)}"
    )


def bubbles_figure(
    mu: np.ndarray, logvar: np.ndarray | None, labels: np.ndarray, extent: float | None = None, height: int = 460
) -> go.Figure:
    """A 2-D model's test means with their μ ± σ bubbles, one colour per digit. With `extent` fixed the
    frame stays put from epoch to epoch, so the bubbles are seen to spread and pack."""
    mu = np.asarray(mu, dtype=np.float32)
    labels = np.asarray(labels)
    if extent is None:
        extent = max(3.0, plane_extent(mu))
    figure = go.Figure()
    for digit in range(10):
        rows = np.flatnonzero(labels == digit)
        if len(rows):
            outline = None if logvar is None else bubble_outlines(mu[rows], np.asarray(logvar)[rows])
            figure.add_traces(bubble_traces(digit, mu[rows], outline, size=4, opacity=0.3, hoverinfo="skip"))
    plane_layout(figure, extent, height, "bubbles")
    return describe(figure, "the test digits' means on the 2-D plane with their μ ± σ bubbles, coloured by digit")
