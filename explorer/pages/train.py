"""Train a model while you watch: the form, then the job drawn live (progress, loss curves, the panel's
reconstructions, for d = 2 the bubbles), a cancel button, and the result in this session's picker.

The training runs in the server's queue (explorer/service/jobs.py), never in this script run: a
fragment polls the job twice a second and the rest of the page stays responsive.
"""

from __future__ import annotations

import streamlit as st

from explorer.context import Context
from explorer.jobs.queue import JobState, JobView, QueueRefused
from explorer.jobs.training import (
    BATCH_SIZES,
    BETAS,
    EPOCHS,
    LATENT_DIMS,
    LEARNING_RATES,
    LECTURE_BATCH,
    MAX_SEED,
    TrainingProgress,
    TrainSettings,
    run_progress,
)
from explorer.service.jobs import TRAIN_JOB, adopt_finished, session_id, trained_models, training_queue, visitor_id
from explorer.service.resources import cached_test_set
from explorer.state.session import MODEL_CHOICE, guarded, request_view, ss
from explorer.ui.map_progress import waiting_for_map
from explorer.ui.widgets import still_progress
from explorer.words.app import NO_TRAINING_DATA
from explorer.words.look_for import LookFor
from vae.codes import plane_extent
from vae.data import split_on_disk
from vae.images import as_uint8
from vae.kinds import KINDS, kind_of

LOOK_FOR = LookFor(
    "Most of the fall happens in the first epoch. Train a VAE with a larger β and watch KL shrink "
    "while the digits blur; train an autoencoder and compare its samples."
)

FORM_ERROR = "train_form_error"
POLL_S = 0.5
LIVE_PLANE_EXTENT = 4.0  # the live bubbles' least half-width
LIVE_KEY = "train_live"


@guarded
def start(values: dict) -> None:
    """The form's submit: validate, queue, remember the job; a refusal is one line above the form."""
    try:
        settings = TrainSettings(**values)
        job = training_queue().submit(session_id(), settings, visitor=visitor_id())
    except (ValueError, QueueRefused) as exc:
        ss[FORM_ERROR] = str(exc)
        return
    ss[TRAIN_JOB] = job.id


@guarded
def cancel(job_id: str) -> None:
    training_queue().cancel(job_id, "you cancelled it")


@guarded
def open_model(key: str) -> None:
    """Pick the trained model in the sidebar and open the sliders on it."""
    ss[MODEL_CHOICE] = key
    request_view("sliders")


def settings_form() -> None:
    with st.form("train_form", border=True):
        left, middle, right = st.columns(3)
        kind = left.radio(
            "Kind",
            list(KINDS),
            format_func=lambda name: KINDS[name].label,
            horizontal=True,
            key="train_kind",
            persist_state="session",
        )
        # No min/max on the number boxes: with them the browser only reddens a value out of range and
        # keeps the old one, silently; without, the submit refuses it in words (start → TrainSettings).
        latent_dim = left.number_input(
            f"Latent size d ({LATENT_DIMS[0]}–{LATENT_DIMS[1]})",
            value=20,
            step=1,
            key="train_d",
            persist_state="session",
        )
        beta = middle.select_slider(
            "β (VAE only: weight of the KL term)",
            BETAS,
            value=1.0,
            format_func=lambda b: f"{b:g}",
            key="train_beta",
            persist_state="session",
        )
        epochs = middle.slider("Epochs", EPOCHS[0], EPOCHS[1], value=10, key="train_epochs", persist_state="session")
        lr = right.select_slider(
            "Learning rate",
            LEARNING_RATES,
            value=1e-3,
            format_func=lambda r: f"{r:g}",
            key="train_lr",
            persist_state="session",
        )
        batch_size = right.select_slider(
            "Batch size",
            BATCH_SIZES,
            value=LECTURE_BATCH,
            help=f"{LECTURE_BATCH} is the lecture's; smaller batches take more steps per epoch, and longer.",
            key="train_batch",
            persist_state="session",
        )
        seed = right.number_input(
            "Seed", value=1, step=1, help=f"0 to {MAX_SEED:,}", key="train_seed", persist_state="session"
        )
        submitted = st.form_submit_button("Start training", type="primary")
    if submitted:
        start(
            {
                "kind": kind,
                "latent_dim": int(latent_dim),
                "beta": float(beta),
                "epochs": int(epochs),
                "lr": float(lr),
                "seed": int(seed),
                "batch_size": int(batch_size),
            }
        )
        st.rerun()


def live_plane_extent(codes: list) -> float:
    """Half-width of the live plane: wide enough for every epoch's means so far, so the frame stays put
    while the bubbles move and grows (never shrinks) when they spread past it. codes: [(epoch, (μ, log σ²))]."""
    return max(LIVE_PLANE_EXTENT, *(plane_extent(mu) for _, (mu, _) in codes))


def draw_job(view: JobView) -> None:
    """The three live figures: the Training view's figures on a run still going."""
    from explorer.ui.figures import bubbles_figure, loss_figures, panel_figure

    wanted: TrainSettings = view.payload
    done: TrainingProgress | None = view.progress
    st.markdown(f"**{wanted.describe()}**")
    if done is None or not done.history:
        return
    test = cached_test_set()
    still = {"displayModeBar": False}  # redrawn twice a second: a toolbar would only cover the titles
    # One figure per loss term, side by side on a wide screen and stacked on a phone (in one figure, in 3/5 of
    # the width, their axis labels overlapped).
    figures = loss_figures(list(done.history), wanted.epochs, 280, kind_of(wanted).has_posterior, wanted.beta)
    for i, (column, figure) in enumerate(zip(st.columns(len(figures)), figures, strict=True)):
        column.plotly_chart(figure, config=still, key=f"train_losses_{i}")
    panel, _ = st.columns([3, 2])
    originals = as_uint8(test.images[done.panel_rows].numpy())  # the run's recorded panel, every digit
    panel.plotly_chart(panel_figure(list(done.panels), originals, row_height=22), config=still, key="train_panel")
    if done.codes:
        epoch, (mu, logvar) = done.codes[-1]
        st.caption(f"The plane at epoch {epoch}: each test digit's μ with its ±σ bubble.")
        figure = bubbles_figure(mu, logvar, test.labels[: len(mu)].numpy(), extent=live_plane_extent(done.codes))
        st.plotly_chart(figure, key="train_bubbles")


def epochs_done(view: JobView) -> int:
    return view.progress.epoch if view.progress is not None else 0


@st.fragment(run_every=POLL_S)
def live(job_id: str, shown: tuple[JobState, int]) -> None:
    """Progress and cancel, twice a second. The figures are drawn by the page run, once per epoch: when the
    job has a new epoch (or starts, or ends) this asks for a page run, so no chart is resent in between."""
    view = training_queue().view(job_id)
    if view is None or view.finished or (view.state, epochs_done(view)) != shown:
        st.rerun()
    done: TrainingProgress = view.progress or TrainingProgress()
    left, right = st.container(key=LIVE_KEY).columns([5, 1], vertical_alignment="center")
    if view.state is JobState.QUEUED:
        left.info(f"Waiting for a free slot: number {view.position} in the queue.")
    else:
        share, line = run_progress(
            done.epoch, done.epoch_fraction, view.payload.epochs, view.seconds, done.training_seconds(view.at)
        )
        left.progress(share, text=line)
    right.button("Cancel", on_click=cancel, args=(job_id,), key="train_cancel", icon=":material/stop:")


def result(view: JobView) -> None:
    state_box = {JobState.DONE: st.success, JobState.CANCELLED: st.warning}.get(view.state, st.error)
    state_box(view.message)
    new = view.id not in trained_models()
    trained = adopt_finished(view.id)
    if trained is not None and new:
        st.rerun()  # the picker, drawn before this view, lists the new model on the next run
    if trained is not None:
        left, right = st.columns(2)
        left.button("Explore it in the sliders", on_click=open_model, args=(trained.key,), key="train_open")
        right.download_button(
            "Download the checkpoint",
            trained.download,
            file_name=trained.download_name,
            mime="application/octet-stream",
            key="train_download",
        )
        waiting_for_map(trained.key)
    draw_job(view)


def render(ctx: Context) -> None:
    del ctx  # training does not depend on the model being explored
    if message := ss.pop(FORM_ERROR, None):
        st.error(message)
    job_id = ss.get(TRAIN_JOB)
    view = training_queue().view(job_id) if job_id else None
    if view is not None and not view.finished:
        st.html(still_progress(LIVE_KEY))
        live(view.id, (view.state, epochs_done(view)))
        draw_job(view)
        return
    if not split_on_disk("train"):
        st.warning(NO_TRAINING_DATA)
        return
    running, waiting = training_queue().counts()
    models = f"{running} model{'s' if running != 1 else ''}"
    busy = f" The server is training {models} now, {waiting} waiting." if running or waiting else ""
    if view is not None:  # what was just trained first, then the form for the next one (below, it was missed)
        result(view)
        st.subheader("Train another model", divider="gray")
    st.caption(f"One model trains at a time on this server; yours waits its turn.{busy}")
    settings_form()
