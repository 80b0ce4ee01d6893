"""Training: the lecture's figures of how the model learnt, from the record its checkpoint keeps
(vae/snapshots.py): loss curves, the panel's reconstructions epoch by epoch, and an epoch slider that
switches the map, the prior samples, a morph and the other views' decoder to that epoch's weights."""

from __future__ import annotations

import numpy as np
import streamlit as st

from explorer.context import Context
from explorer.service.resources import cached_test_set, shared_snapshot_figure
from explorer.state.epochs import RecordedRun, cached_model_at_epoch, epoch_key, recorded_run
from explorer.state.session import ss
from explorer.state.session_models import session_keys
from explorer.ui.pictures import show_pixels
from explorer.words.app import (
    NO_RECORD_IN_SESSION,
    NO_TRAINING_RECORD,
    TRAINING_CURVES_HELP,
    TRAINING_EPOCH_HELP,
    training_panel_help,
)
from explorer.words.look_for import LookFor
from explorer.words.plain import plain
from vae.catalog import file_stamp
from vae.codes import plane_extent, prior_samples
from vae.images import as_uint8, png_bytes, tile
from vae.morph import morph_between_codes

LOOK_FOR = LookFor(
    "Drag the epoch from 0 to 1 to 5: most of the learning happens in the first epoch, the rest is detail.",
    session_model="Compare the first epoch's step of the curves with the later ones: most of the learning happens "
    "in the first epoch, the rest is detail.",
)

SAMPLE_SEED = 0  # the same codes at every epoch: only the decoder changes
SAMPLES = 12
MORPH_FRAMES = 7
BUBBLE_DIGITS = 1500  # μ ± σ outlines drawn for this many test digits: enough to see, light for the browser
EARLY_EPOCHS = 10  # the panel shows every epoch up to here, then the snapshot epochs


def panel_epochs(run: RecordedRun) -> list[int]:
    """Rows of the panel figure: every recorded epoch up to 10, then the snapshot epochs."""
    epochs = run.record.panel_epochs.tolist()
    return [e for e in epochs if e <= EARLY_EPOCHS or e in run.record.weight_epochs]


def render(ctx: Context) -> None:
    from explorer.ui.figures import loss_figures, panel_figure

    history = [dict(entry) for entry in ctx.model.meta.raw.get("history") or []]
    run = recorded_run(ctx)
    if history:
        st.subheader("The loss, epoch by epoch", divider="gray")
        st.caption(TRAINING_CURVES_HELP)
        figures = loss_figures(history, has_posterior=ctx.has_posterior, beta=ctx.model.meta.beta)
        for i, (column, figure) in enumerate(zip(st.columns(len(figures)), figures, strict=True)):
            column.plotly_chart(figure, config={"displayModeBar": False}, key=f"training_losses_{i}")
    if run is None:
        mine = ctx.key in session_keys()
        st.info((NO_RECORD_IN_SESSION if mine else NO_TRAINING_RECORD).format(name=plain(ctx.name)))
        return
    record = run.record
    test = cached_test_set()
    st.subheader("The same 16 test digits after each epoch", divider="gray")
    st.caption(training_panel_help(ctx.has_posterior))
    rows = panel_epochs(run)
    index = [int(np.flatnonzero(record.panel_epochs == e)[0]) for e in rows]
    panels = [(e, as_uint8(record.panel_recon[i])) for e, i in zip(rows, index, strict=True)]
    originals = as_uint8(test.images[record.panel_rows].numpy())
    st.plotly_chart(panel_figure(panels, originals), config={"displayModeBar": False}, key="training_panel")
    epoch_section(ctx, run, originals)


def epoch_section(ctx: Context, run: RecordedRun, originals: np.ndarray) -> None:
    record = run.record
    st.subheader("The model at an epoch", divider="gray")
    st.caption(TRAINING_EPOCH_HELP)
    key = epoch_key(ctx)
    if ss.get(key) not in record.weight_epochs:
        ss[key] = run.last_epoch
    epoch = st.select_slider("Epoch", options=list(record.weight_epochs), key=key, persist_state="session")
    model = cached_model_at_epoch(file_stamp(ctx.summary.path), int(epoch))
    left, right = st.columns([3, 2], gap="large")
    with left:
        what = "the test means with their μ ± σ bubbles" if ctx.model.latent_dim == 2 else "the map of the test codes"
        st.markdown(f"**Epoch {epoch}: {what}**")
        epoch_map(ctx, run, int(epoch))
    with right:
        samples = prior_samples(model, SAMPLES, 1.0, SAMPLE_SEED)
        what = "Samples" if ctx.has_posterior else "Random codes decoded"
        st.markdown(f"**{what} at epoch {epoch}** (the same {SAMPLES} random codes at every epoch)")
        grid = tile(samples.images, columns=SAMPLES // 2)
        show_pixels(
            st,
            png_bytes(grid, scale=2),
            caption=f"samples, epoch {epoch}",
            alt=f"{SAMPLES} digits decoded at epoch {epoch} from the same {SAMPLES} random codes, in two rows",
        )
        st.markdown(f"**A morph at epoch {epoch}** between two digits of the panel")
        labels = cached_test_set().labels.numpy()[record.panel_rows]
        names = [f"#{i + 1}: a {labels[i]}" for i in range(len(labels))]
        a1, a2 = st.columns(2)
        a = a1.selectbox("From", range(len(names)), format_func=names.__getitem__, key="training_morph_a")
        b = a2.selectbox("To", range(len(names)), index=1, format_func=names.__getitem__, key="training_morph_b")
        at = record.panel_at(int(epoch))
        mu = record.panel_mu[at][[a, b]]
        row = morph_between_codes(model, mu, originals[[a, b]], MORPH_FRAMES, "linear")
        strip = tile(row.images[1:-1], columns=len(row.images) - 2)
        show_pixels(
            st,
            png_bytes(strip, scale=2),
            caption=f"morph, epoch {epoch}",
            alt=f"morph at epoch {epoch} from {names[a]} to {names[b]} of the panel, in {MORPH_FRAMES + 2} frames",
        )
        if int(epoch) != run.last_epoch:  # at the last epoch they show the trained model anyway
            st.caption(
                "The Samples and Latent sliders views decode with this epoch's weights too, until you move the "
                f"slider back to {run.last_epoch}."
            )


def epoch_map(ctx: Context, run: RecordedRun, epoch: int) -> None:
    """The map of the test means at this epoch: the plane's bubbles for a 2-D model, else the
    snapshot's t-SNE aligned to the final map."""
    from explorer.ui.figures import bubbles_figure

    labels = cached_test_set().labels.numpy()
    atlas = ctx.atlas
    if ctx.model.latent_dim == 2 and epoch in run.record.codes:
        mu, logvar = run.record.codes[epoch]
        final_mu = atlas.mu if atlas is not None else mu
        rows = np.random.default_rng(0).choice(len(mu), min(BUBBLE_DIGITS, len(mu)), replace=False)
        figure = bubbles_figure(
            mu[rows], logvar[rows] if logvar is not None else None, labels[rows], extent=plane_extent(final_mu)
        )
        st.plotly_chart(figure, config={"displayModeBar": False}, key="training_map")
    elif atlas is not None and epoch in atlas.snapshot_coords:
        figure = shared_snapshot_figure(
            {epoch: atlas.snapshot_coords[epoch]}, labels, atlas.snapshot_rows, height=460, legend=True
        )
        st.plotly_chart(figure, config={"displayModeBar": False}, key="training_map")
    elif atlas is not None and epoch == run.last_epoch:
        figure = shared_snapshot_figure({epoch: atlas.coords}, labels, atlas.snapshot_rows, height=460, legend=True)
        st.plotly_chart(figure, config={"displayModeBar": False}, key="training_map")
    else:
        reason = ctx.atlas_error or f"its atlas has no map of epoch {epoch}"
        st.info(f"No map at this epoch: {plain(reason)}")
