"""Your own digit: a photo, a drawing or the camera, read as MNIST would see it (vae/preprocess.py, every
stage shown), with a verdict (vae/verdict.py), honest numbers ranked against the test set (vae/scores.py),
its posterior as digits (vae/posterior.py), its code, place on the map and nearest test digits."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import streamlit as st

from explorer.context import Context
from explorer.jobs.heavy_work import ServerBusy, heavy_work
from explorer.service.classroom import joined, pixels_field
from explorer.service.resources import cached_test_set, model_identity, shared_map_figure
from explorer.state.session import remembered, set_code
from explorer.state.slider_values import dimension_order
from explorer.ui.classroom import send_to_class
from explorer.ui.components.map_marks import your_digit_mark
from explorer.ui.digit_sources import digit_input
from explorer.ui.pictures import preview_stages, show_pixels
from explorer.ui.posterior_panel import show_posterior
from explorer.ui.widgets import guarded_fragment
from explorer.words.app import CODE_PRIOR_HELP, reconstruction_caption
from explorer.words.digit import (
    ANIMATED,
    ANIMATED_LONG,
    NO_SCORES,
    STAGES_CAPTION,
    not_a_digit,
    score_caption,
    unusual_sentence,
    verdict_sentence,
)
from explorer.words.look_for import LookFor
from explorer.words.plain import plain
from vae.digit_analysis import DigitAnalysis, analyse_digit
from vae.image_file import MAX_COUNTED_FRAMES
from vae.images import enlarge, png_bytes
from vae.preprocess import InvalidImageError, PreprocessResult, preprocess_steps
from vae.scores import SAMPLES, Scores, novelty_cut, percentile_rank, score_images
from vae.verdict import VOTERS, read_digit

LOOK_FOR = LookFor(
    "Photograph a digit you wrote: does the model read it right? Do the digits in its bubble look like it?",
    autoencoder="Photograph a digit you wrote: does the model read it right? Does its reconstruction keep your "
    "strokes, or redraw them as a training digit?",
)

if TYPE_CHECKING:
    import plotly.graph_objects as go

SMALL = 3  # enlargement of the neighbours: 84 px
PHOTO, READING = "digit_photo", "digit_reading"  # this session's last image, and a model's reading of it


@dataclass(frozen=True)
class Photo:
    """An image read as MNIST would see it, and the pictures of its stages (PNG files, encoded once: the page
    shows them on every run)."""

    prepared: PreprocessResult
    stages: dict[str, bytes]


@dataclass(frozen=True)
class Reading:
    """What one model makes of a photo: everything the view shows of it that costs a computation."""

    analysis: DigitAnalysis
    scores: Scores
    code_figure: go.Figure


def read_photo(data: bytes) -> Photo:
    """Preprocessing is the costly part of a run. At most a few photos are decoded at once in the whole
    server (a burst of 50 MP uploads would otherwise add up); ServerBusy tells this visitor to try again."""
    with heavy_work("reading a photo"):
        prepared = preprocess_steps(data)
    return Photo(prepared, {name: png_bytes(tile) for name, tile in preview_stages(prepared.stages()).items()})


def read_with(ctx: Context, prepared: PreprocessResult) -> Reading:
    from explorer.ui.figures import code_figure

    atlas = ctx.atlas
    analysis = analyse_digit(
        ctx.model, prepared.tensor, atlas.mu if atlas else None, atlas.coords if atlas else None, k=VOTERS
    )
    order = dimension_order(atlas.dim_usage if atlas else None, len(analysis.mu))
    return Reading(analysis, score_images(ctx.model, prepared.tensor), code_figure(analysis.mu, analysis.sigma, order))


def reading_of(ctx: Context, data: bytes) -> tuple[Photo, Reading]:
    """The photo and the model's reading of it, once per image and model in this session: picking the digit
    meant or sending it reruns the view, and in a class a hundred students do."""
    digest = hashlib.blake2b(data, digest_size=16).hexdigest()
    photo = remembered(PHOTO, digest, lambda: read_photo(data))
    model = (ctx.key, model_identity(ctx.model), ctx.atlas is not None)
    return photo, remembered(READING, (digest, model), lambda: read_with(ctx, photo.prepared))


def show_verdict(ctx: Context, analysis: DigitAnalysis, scores: Scores) -> int | None:
    """The verdict line, after the model's own word on whether this is a digit at all; the digit read
    (None without a map)."""
    atlas = ctx.atlas
    if atlas is None:
        st.info(f"No verdict without the map: {plain(ctx.atlas_error)}")
        return None
    if atlas.scores is not None:  # the model's own likelihood first: is this a digit at all?
        cut = novelty_cut(atlas.scores.total)
        score = float(scores.total[0])
        if cut.flags(score):
            rank = percentile_rank(score, atlas.scores.total)
            st.warning(
                not_a_digit(score, rank, cut.nats, cut.percentile, cut.flagged, cut.total), icon=":material/help:"
            )
    verdict = read_digit(analysis.mu, atlas.mu, atlas.labels, VOTERS)
    st.markdown(f"### {verdict_sentence(verdict)}")
    return verdict.label


def show_numbers(ctx: Context, scores: Scores) -> tuple[float, float | None]:
    """Reconstruction and KL with the estimator of the test figures beside them, and a percentile; returns
    (−ELBO, percentile or None)."""
    st.metric("Reconstruction loss", f"{float(scores.recon[0]):.1f} nats")
    if scores.kl is not None:
        st.metric("KL to the prior", f"{float(scores.kl[0]):.1f} nats")
    test = ctx.atlas.scores if ctx.atlas is not None else None
    total = float(scores.total[0])
    if test is None:
        if ctx.atlas is not None:
            st.caption(NO_SCORES.format(checkpoint=ctx.summary.path))
        return total, None
    percentile = percentile_rank(total, test.total)
    st.markdown(f"**{unusual_sentence(percentile)}**")
    kl = float(test.kl.mean()) if test.kl is not None else None
    st.caption(score_caption(ctx.has_posterior, SAMPLES, float(test.recon.mean()), kl))
    return total, percentile


def show_code_and_map(ctx: Context, reading: Reading, pixels: np.ndarray) -> None:
    analysis = reading.analysis
    left, right = st.columns(2, gap="large")
    with left:
        if ctx.has_posterior:
            st.markdown("**Its code, μ ± σ per coordinate** (most used coordinates first)")
        else:
            st.markdown("**Its code, coordinate by coordinate** (most varied coordinates first)")
        st.plotly_chart(reading.code_figure, config={"displaylogo": False})
        if ctx.has_posterior:
            st.caption(CODE_PRIOR_HELP)
    with right:
        atlas = ctx.atlas
        if atlas is None or analysis.map_xy is None:
            st.info(f"No map: {plain(ctx.atlas_error)}")
        else:
            st.markdown("**Its place on the map** (★, among its nearest test codes)")
            # The map every visitor of this model shares, the digit marked over it in the page: a new figure
            # of 10,000 points per photo would cost most of a send's page, and lose the user's zoom.
            revision = f"digit:{ctx.key}"
            map_of_model = shared_map_figure(atlas.coords, atlas.labels, atlas.method == "latent", revision, False, 360)
            st.plotly_chart(map_of_model, key="digit_map", config={"displaylogo": False})
            your_digit_mark("digit_map", analysis.map_xy, pixels)
    if len(analysis.neighbours):
        test = cached_test_set()
        st.markdown(f"**Its {len(analysis.neighbours)} nearest test digits**, the ones that vote (closest first)")
        show_pixels(
            st,
            [enlarge(test.images[row], SMALL) for row in analysis.neighbours],
            caption=[f"a {int(test.labels[row])} · #{row}" for row in analysis.neighbours],
            alt=[
                f"nearest test digit {i + 1}: #{row}, a {int(test.labels[row])}"
                for i, row in enumerate(analysis.neighbours)
            ],
        )


def send_digit(
    ctx: Context,
    prepared: PreprocessResult,
    analysis: DigitAnalysis,
    read: int | None,
    neg_elbo: float,
    percentile: float | None,
) -> None:
    """In a class: the digit as the model sees it, its code, verdict and numbers, and what was meant."""
    if joined() is None:
        return
    _send_box(
        {
            "pixels": pixels_field(prepared.mnist),
            "mu": [round(float(v), 4) for v in analysis.mu],
            "map_xy": [round(float(v), 4) for v in analysis.map_xy] if analysis.map_xy is not None else None,
            "verdict": read,
            "neg_elbo": round(neg_elbo, 2) if np.isfinite(neg_elbo) else None,
            "percentile": round(percentile, 1) if percentile is not None else None,
            "model": ctx.summary.name,
        }
    )


@guarded_fragment("class")  # picking the digit meant reruns the pick and the send, not the reading
def _send_box(reading: dict[str, object]) -> None:
    meant = st.selectbox("The digit you meant", ["not saying", *range(10)], key="class_meant")
    payload = reading | {"meant": meant if isinstance(meant, int) else None}
    send_to_class("digit", payload, key="class_send_digit", label="Send to the class")


def render(ctx: Context) -> None:
    # The canvas needs its 280 px (and a little): at 1280 px with the sidebar open a third was 241 px, and the
    # right 39 px of the drawing could not be seen but counted as ink. A phone stacks the columns (358 px).
    source, results = st.columns([5, 7], gap="large")
    with source:
        data = digit_input()
    with results:
        if data is None:
            st.info(
                "Upload a photo of a handwritten digit, draw one, or take one with your camera, "
                "to see how the model reads it."
            )
            return
        try:
            photo, reading = reading_of(ctx, data)
        except InvalidImageError as exc:
            st.error(plain(exc))
            return
        except ServerBusy as busy:
            st.warning(str(busy))
            return
        prepared, analysis, stages = photo.prepared, reading.analysis, photo.stages
        if (frames := prepared.source.first_of_frames) > 1:  # counted up to a bound: past it, "at least"
            st.info((ANIMATED_LONG if frames >= MAX_COUNTED_FRAMES else ANIMATED).format(frames=f"{frames:,}"))
        read = show_verdict(ctx, analysis, reading.scores)
        st.caption(STAGES_CAPTION)
        st.image(list(stages.values()), caption=list(stages), width=84, alt=[f"your digit, {name}" for name in stages])
        c1, c2, c3 = st.columns([1, 1, 1])
        show_pixels(
            c1,
            enlarge(prepared.mnist, 6),
            caption="what the model sees",
            width=168,
            alt="your digit as the model sees it: 28 by 28 grey pixels, centred like MNIST",
        )
        show_pixels(
            c2,
            enlarge(analysis.reconstruction, 6),
            caption=reconstruction_caption(ctx.has_posterior),
            width=168,
            alt="your digit as the model reconstructs it from its code",
        )
        with c3:
            neg_elbo, percentile = show_numbers(ctx, reading.scores)
            st.button(
                "Send its code to the sliders",
                on_click=set_code,
                args=(ctx.key, analysis.mu.tolist(), "sliders"),
            )
            send_digit(ctx, prepared, analysis, read, neg_elbo, percentile)
    show_posterior(ctx.model, prepared.tensor, key="digit")
    show_code_and_map(ctx, reading, prepared.mnist)
