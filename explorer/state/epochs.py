"""The epoch slider: which recorded epoch the decoding views use, and the models at those epochs.

The Training view's slider writes one session value per model (`epoch_key`); the Samples and Sliders
views read it through `decoding_model` and decode with that epoch's decoder until it is set back to
the last epoch. Everything loaded here is cached and shared, and never modified.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st
import torch

from explorer.context import Context
from explorer.service.resources import cached_model
from explorer.state.session import guarded, ss
from explorer.state.session_models import session_keys
from vae import LatentModel
from vae.catalog import file_stamp
from vae.checkpoint import open_checkpoint
from vae.snapshots import TrainingRecord, model_at_epoch, read_record


@dataclass(frozen=True)
class RecordedRun:
    record: TrainingRecord
    weights: dict[str, torch.Tensor]  # the snapshot decoders (float16 or int8 rows)
    last_epoch: int


@st.cache_resource(show_spinner="Loading the training record…", max_entries=8)
def cached_record(stamp: tuple[str, int, int]) -> RecordedRun | None:
    tensors, meta = open_checkpoint(stamp[0])
    last = meta.epoch or 0
    record = read_record(tensors, last)
    if record is None:
        return None
    weights = {k: v for k, v in tensors.items() if k.startswith("snapshot.") and not k.endswith((".mu", ".logvar"))}
    return RecordedRun(record, weights, last)


@st.cache_resource(show_spinner="Loading the weights of that epoch…", max_entries=32)
def cached_model_at_epoch(stamp: tuple[str, int, int], epoch: int) -> LatentModel:
    run = cached_record(stamp)
    if run is None or epoch == run.last_epoch:
        return cached_model(stamp)
    return model_at_epoch(cached_model(stamp), run.weights, epoch)


def recorded_run(ctx: Context) -> RecordedRun | None:
    """The record of a checkpoint on disk. A session's own model (uploaded, or trained here: its files are
    gone once the session holds it) has none to read: None, and the Training view says why."""
    if ctx.key in session_keys() or not ctx.summary.path.is_file():
        return None
    return cached_record(file_stamp(ctx.summary.path))


def epoch_key(ctx: Context) -> str:
    return f"training_epoch:{ctx.key}"


def chosen_epoch(ctx: Context) -> int | None:
    """The epoch the slider set for this model, or None for the trained model (or no record)."""
    value = ss.get(epoch_key(ctx))
    run = recorded_run(ctx) if value is not None else None
    if run is None or value not in run.record.weight_epochs or value == run.last_epoch:
        return None
    return int(value)


def decoding_model(ctx: Context) -> tuple[LatentModel, int | None]:
    """The decoder the views draw with: the chosen epoch's, else the trained model's."""
    epoch = chosen_epoch(ctx)
    if epoch is None:
        return ctx.model, None
    return cached_model_at_epoch(file_stamp(ctx.summary.path), epoch), epoch


@guarded
def back_to_last_epoch(key: str) -> None:
    ss.pop(key, None)


def epoch_banner(ctx: Context, epoch: int | None, also: str = "") -> None:
    """Says that this view decodes with an earlier epoch's weights, with a way back. `also`: a sentence on
    what the view still takes from the trained model (only earlier epochs' decoders are kept)."""
    if epoch is not None:
        _banner(
            ctx,
            f"Decoding with the weights of epoch {epoch} (set in the Training view), not the trained model's."
            + (f" {also}" if also else ""),
        )


def trained_model_banner(ctx: Context) -> None:
    """For a view that encodes test digits: when the Training view's slider is at an earlier epoch, says
    that this view still shows the trained model (only the decoders of earlier epochs are kept)."""
    epoch = chosen_epoch(ctx)
    if epoch is not None:
        _banner(
            ctx,
            f"The Training view's slider is at epoch {epoch}, but this view shows the trained model: it encodes "
            "test digits, and only the decoders of earlier epochs are kept (the Training view has a morph at "
            "each kept epoch).",
        )


def _banner(ctx: Context, text: str) -> None:
    run = recorded_run(ctx)
    last = run.last_epoch if run else "the last"
    left, right = st.columns([4, 1], vertical_alignment="center")
    left.info(text)
    right.button(f"Back to epoch {last}", on_click=back_to_last_epoch, args=(epoch_key(ctx),), width="stretch")
