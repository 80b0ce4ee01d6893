"""VAE Latent Explorer: see what a variational autoencoder learns on MNIST (NYU Deep Learning, week 8).

Run with `streamlit run app.py`. This file only lays out widgets; every computation is a tested
function in vae/ (mostly vae.explorer and vae.figures). Plotly and the drawing canvas are imported
inside the views that use them, so the first page shows up fast.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial, wraps
from pathlib import Path
from typing import ParamSpec

import streamlit as st
import torch

from vae import CheckpointError, LatentModel, load_checkpoint
from vae import checkpoint as checkpoints
from vae import explorer as ex
from vae.atlas import Atlas, AtlasError, atlas_path, load_atlas
from vae.data import MnistSplit, load_mnist
from vae.images import enlarge, png_bytes
from vae.selection import clicked_point, selected_rows, update_pair

LOG = logging.getLogger("vae.app")
OTHER_FILE = "__other__"
UPLOAD_TYPES = ["png", "jpg", "jpeg", "gif", "bmp", "webp"]
BIG = 10  # enlargement of a single digit: 280 px
SMALL = 3  # enlargement in grids and morph rows: 84 px
LAST_TEST_INDEX = 9999  # MNIST has 10,000 test digits
ss = st.session_state
P = ParamSpec("P")

st.set_page_config(page_title="VAE Latent Explorer", page_icon="🔢", layout="wide")


# ---------------------------------------------------------------- shared, cached resources
# st.cache_resource objects are shared by every session: models stay in eval mode and nothing
# cached is ever modified. Keys include the file's mtime and size, so a retrained file reloads.


@st.cache_resource(show_spinner="Loading the model…", max_entries=8)
def cached_model(stamp: tuple[str, int, int]) -> LatentModel:
    return load_checkpoint(stamp[0])


@st.cache_resource(show_spinner="Loading the map…", max_entries=8)
def cached_atlas(stamp: tuple[str, int, int], atlas_stamp: tuple[str, int, int]) -> Atlas:
    # atlas_stamp is only part of the cache key: a rebuilt atlas file is loaded again.
    return load_atlas(stamp[0])


@st.cache_resource(show_spinner="Loading the MNIST test set…")
def cached_test_set() -> MnistSplit:
    return load_mnist("test", progress=LOG.info)


@st.cache_resource(show_spinner="Drawing 10,000 hover pictures…")
def cached_hover_texts() -> list[str]:
    test = cached_test_set()
    return ex.map_hover_texts(test.images, test.labels)


def model_at(path: str | Path) -> LatentModel:
    return cached_model(ex.file_stamp(path))


@dataclass(frozen=True)
class Context:
    """What every view gets: the current model, its map (or why there is none) and the listing."""

    model: LatentModel
    summary: ex.CheckpointSummary
    listing: ex.CheckpointListing
    atlas: Atlas | None
    atlas_error: str | None
    key: str  # namespaces this model's widgets (other models have other slider ranges)
    extent: float  # slider range ±extent

    def slider_key(self, dim: int) -> str:
        return slider_key(self.key, dim)


def slider_key(ctx_key: str, dim: int) -> str:
    """Slider state is per model: the same dimension of another model is another slider."""
    return f"z:{ctx_key}:{dim}"


# ---------------------------------------------------------------- callbacks (run before the widgets exist)


def guarded(callback: Callable[P, None]) -> Callable[P, None]:
    """Callbacks run before the script, outside every view's error boundary: catch here, report on the page."""

    @wraps(callback)
    def run(*args: P.args, **kwargs: P.kwargs) -> None:
        try:
            callback(*args, **kwargs)
        except Exception as exc:
            LOG.exception("callback %s failed", callback.__name__)
            ss["callback_error"] = ex.friendly_error(exc)

    return run


@guarded
def set_code(ctx_key: str, extent: float, z: list[float], view: str | None = None) -> None:
    """Write a code into the sliders of one model, optionally opening the sliders view."""
    for dim, value in enumerate(ex.to_slider_values(z, extent)):
        ss[slider_key(ctx_key, dim)] = value
    if view:
        ss["view"] = view


@guarded
def randomise_code(ctx_key: str, extent: float, latent_dim: int) -> None:
    set_code(ctx_key, extent, ex.random_code(latent_dim, ex.fresh_seed()))


@guarded
def start_from_test_digit(ctx_key: str, extent: float, model: LatentModel) -> None:
    image = cached_test_set().images[int(ss["slider_test_index"])]
    set_code(ctx_key, extent, ex.encode_means(model, image)[0].tolist())


@guarded
def reroll() -> None:
    ss["prior_seed"] = ex.fresh_seed()


@guarded
def switch_model(path: str) -> None:
    ss["model_choice"] = path


def morph_pair() -> list[int]:
    """The two digits to morph (test indices); (0, 1) until someone picks others."""
    return [int(ss.get("morph_a", 0)), int(ss.get("morph_b", 1))]


@guarded
def add_to_pair(rows: list[int]) -> None:
    ss["morph_a"], ss["morph_b"] = update_pair(morph_pair(), rows)


@guarded
def pick_pair_from_chart(chart_key: str) -> None:
    rows = selected_rows(ss.get(chart_key))
    if rows:
        add_to_pair(rows)


@guarded
def pick_pair_from_gallery(end: str) -> None:
    chosen = ss.get(f"gallery_{end}")
    if chosen is not None:
        ss[f"morph_{end}"] = int(chosen)
        ss[f"gallery_{end}"] = None  # the gallery is a one-shot picker, not a second source of truth


@guarded
def pick_on_map(chart_key: str) -> None:
    rows = selected_rows(ss.get(chart_key))
    ss["map_rows"] = rows
    if len(rows) == 1:
        ss["map_pick"] = rows[0]


@guarded
def pick_on_plane(chart_key: str) -> None:
    ss["plane_z"] = clicked_point(ss.get(chart_key))


# ---------------------------------------------------------------- sidebar


def pickable_chart(
    figure: object, key: str, on_pick: Callable[[str], None], modes: tuple[str, ...] = ("points", "box", "lasso")
) -> None:
    """A Plotly chart whose click, box or lasso calls on_pick(key); plotly_chart passes its callback no args."""
    st.plotly_chart(
        figure, key=key, on_select=partial(on_pick, key), selection_mode=modes, config={"displaylogo": False}
    )


def sidebar() -> Context | None:
    bar = st.sidebar
    bar.title("VAE Latent Explorer")
    bar.caption("What a variational autoencoder learns on MNIST: NYU Deep Learning, week 8.")
    listing = ex.list_checkpoints(checkpoints.CHECKPOINT_DIR)
    by_path = {str(c.path): c for c in listing.checkpoints}
    options = [*by_path, OTHER_FILE]
    if ss.get("model_choice") not in options:  # first visit, or the chosen file was removed
        ss["model_choice"] = options[0]
    choice = bar.radio(
        "Model",
        options,
        key="model_choice",
        format_func=lambda o: by_path[o].name if o in by_path else "Another file…",
        captions=[*(c.describe() for c in listing.checkpoints), "a checkpoint path on this machine"],
    )
    candidate = choice
    if choice == OTHER_FILE:
        typed = bar.text_input("Checkpoint path", key="custom_path", placeholder="/path/to/model.safetensors")
        candidate = str(Path(typed.strip()).expanduser()) if typed and typed.strip() else None
    for message in listing.skipped:
        bar.caption(f"Skipped: {message}")
    if candidate:
        try:
            model_at(candidate)
            ss["active_model"] = candidate
        except CheckpointError as exc:
            keeping = " Still showing the previous model." if ss.get("active_model") else ""
            bar.error(f"{exc}.{keeping}")
    active = ss.get("active_model")
    if not active:
        return None
    try:
        model = model_at(active)
    except CheckpointError as exc:  # the file vanished or changed into something unreadable
        bar.error(str(exc))
        ss.pop("active_model", None)
        return None
    summary = ex.summarize_model(model)
    with bar.expander(f"About {summary.name}", expanded=False):
        st.markdown("\n".join(f"- **{name}**: {value}" for name, value in ex.model_facts(model.metadata)))
    try:
        atlas, atlas_error = cached_atlas(ex.file_stamp(active), ex.file_stamp(atlas_path(active))), None
    except AtlasError as exc:
        atlas, atlas_error = None, str(exc)
    mu = atlas.mu if atlas is not None else None
    return Context(
        model=model,
        summary=summary,
        listing=listing,
        atlas=atlas,
        atlas_error=atlas_error,
        key=ex.state_key(active),
        extent=ex.slider_extent(summary.kind, mu),
    )


# ---------------------------------------------------------------- views


@st.fragment  # a slider move reruns this view alone, not the sidebar and the page around it
def view_sliders(ctx: Context) -> None:
    d = ctx.model.latent_dim
    atlas = ctx.atlas
    specs = ex.slider_labels(atlas.dim_usage if atlas else None, atlas.usage_label if atlas else "", d)
    for dim in range(d):
        ss.setdefault(ctx.slider_key(dim), 0.0)
    left, right = st.columns([2, 3], gap="large")
    with left:
        picture = st.empty()  # filled after the sliders, with the code they hold now
        b1, b2 = st.columns(2)
        b1.button("Reset to the origin", on_click=set_code, args=(ctx.key, ctx.extent, [0.0] * d), width="stretch")
        b2.button("Randomise", on_click=randomise_code, args=(ctx.key, ctx.extent, d), width="stretch")
        n1, n2 = st.columns([1, 1], vertical_alignment="bottom")
        n1.number_input("Test digit #", 0, LAST_TEST_INDEX, key="slider_test_index", persist_state="session")
        n2.button(
            "Start from its μ", on_click=start_from_test_digit, args=(ctx.key, ctx.extent, ctx.model), width="stretch"
        )
    with right:
        if atlas is None:
            st.warning(f"Sliders are in index order: {ctx.atlas_error}")
        elif ctx.summary.kind == "vae":
            unused = ex.unused_dimensions(atlas.dim_usage, atlas.usage_label)
            st.caption(
                f"Each slider is one of the {d} coordinates of the code z, over ±3 prior standard deviations. "
                "They are sorted by how much the model uses them: the number is the average KL (in nats) that a "
                "test digit's posterior spends on that coordinate. Near 0 nats means the encoder always answers "
                "“N(0, 1)” there, so the decoder learned to ignore it: move it and nothing changes."
                + (f" This model leaves **{unused} of {d}** coordinates unused." if unused else "")
            )
        else:
            st.caption(
                "An autoencoder has no prior, so the sliders span its test codes' range; the number is how much "
                "a coordinate varies across test digits (its standard deviation)."
            )
        columns = st.columns(2)
        per_column = -(-len(specs) // 2)
        for n, (dim, label) in enumerate(specs):
            columns[n // per_column].slider(
                label,
                -ctx.extent,
                ctx.extent,
                step=ex.SLIDER_STEP,
                format="%.2f",
                key=ctx.slider_key(dim),
                persist_state="session",
            )
    code = [ss[ctx.slider_key(dim)] for dim in range(d)]
    picture.image(enlarge(ex.decode_code(ctx.model, code), BIG), caption="decoded from the sliders' code")


def view_prior(ctx: Context) -> None:
    ss.setdefault("prior_seed", 0)
    c1, c2, c3, c4 = st.columns([3, 3, 2, 1], vertical_alignment="bottom")
    count = c1.slider("How many digits", 1, 64, 24, key="prior_count", persist_state="session")
    temperature = c2.slider("Temperature T", 0.1, 2.0, 1.0, 0.05, key="prior_temperature", persist_state="session")
    seed = c3.number_input("Seed", 0, 999_999, key="prior_seed", persist_state="session")
    c4.button("Reroll", on_click=reroll, icon=":material/casino:", width="stretch")
    samples = ex.prior_samples(ctx.model, count, temperature, int(seed))
    if ctx.summary.kind == "ae":
        st.warning(
            "A plain autoencoder has no prior: its codes were never pushed towards N(0, I), so most of these "
            "random codes land where no training digit was, and decode to blobs. That is what the VAE's KL fixes."
        )
    st.caption(
        f"Each digit is decoded from a fresh z ~ N(0, T²·I) in {ctx.model.latent_dim} dimensions. "
        "At T = 1 you sample the prior the VAE was trained towards; lower T stays near the centre (cleaner, "
        "more average digits), higher T wanders to the rim (stranger ones). The same seed always gives the same digits."
    )
    st.image([enlarge(image, SMALL) for image in samples.images], caption=[f"#{i + 1}" for i in range(count)])
    if ss.get("prior_pick", 1) > count:  # a number input refuses a stored value above its maximum
        ss["prior_pick"] = count
    p1, p2, _ = st.columns([1, 2, 3], vertical_alignment="bottom")
    pick = p1.number_input("Sample #", 1, count, key="prior_pick")
    p2.button(
        "Send this sample to the sliders",
        on_click=set_code,
        args=(ctx.key, ctx.extent, samples.codes[int(pick) - 1].tolist(), "sliders"),
    )


def morph_row_block(row: ex.MorphRow, title: str, explanation: str, key: str) -> None:
    st.markdown(f"**{title}**")
    st.caption(explanation)
    st.image([enlarge(image, 2) for image in row.images], caption=row.captions)
    with st.container(horizontal=True):
        for label, data, ext in (("GIF", row.gif(), "gif"), ("PNG strip", row.png(), "png")):
            st.download_button(
                label, data, f"morph_{key}.{ext}", f"image/{ext}", icon=":material/download:", key=f"{ext}_{key}"
            )


def view_morph(ctx: Context) -> None:
    test = cached_test_set()
    labels = test.labels.numpy()
    for key, row in zip(("morph_a", "morph_b"), morph_pair(), strict=True):
        ss.setdefault(key, row)  # the number inputs take their value from the state, never from `value=`
    pickers, chart = st.columns([1, 1], gap="large")
    with pickers:
        a1, a2 = st.columns(2)
        a = a1.number_input("Digit A: test #", 0, len(test) - 1, key="morph_a", persist_state="session")
        b = a2.number_input("Digit B: test #", 0, len(test) - 1, key="morph_b", persist_state="session")
        a1.image(enlarge(test.images[a], 4), caption=f"A: a {labels[a]}")
        a2.image(enlarge(test.images[b], 4), caption=f"B: a {labels[b]}")
        examples = ex.digit_examples(labels)
        st.caption("…or take one from this gallery:")
        for end in ("a", "b"):
            st.pills(
                f"Gallery → {end.upper()}",
                examples,
                format_func=lambda row: str(labels[row]),
                key=f"gallery_{end}",
                on_change=pick_pair_from_gallery,
                args=(end,),
                wrap=True,
            )
    with chart:
        if ctx.atlas is None:
            st.info(f"No map to click on: {ctx.atlas_error}")
        else:
            from vae.figures import map_figure

            st.caption("Click a digit on the map: it replaces the older of A and B.")
            # No braille hover here: it would make every rerun of this view send megabytes (the t-SNE view has it).
            figure = map_figure(ctx.atlas.coords, ctx.atlas.labels, marked=[("A", a), ("B", b)], height=430)
            pickable_chart(figure, "morph_map", pick_pair_from_chart)
    morph_rows(ctx, test.images[a], test.images[b])


@st.fragment  # moving k reruns only the morphs, not the map above them
def morph_rows(ctx: Context, image_a: torch.Tensor, image_b: torch.Tensor) -> None:
    with error_boundary("morph"):  # a fragment rerun happens outside the view's boundary
        slider, _ = st.columns([1, 2])
        frames = slider.slider("In-between frames k", 1, 30, 10, key="morph_frames", persist_state="session")
        morph_comparisons(ctx, image_a, image_b, frames)


def morph_comparisons(ctx: Context, image_a: torch.Tensor, image_b: torch.Tensor, frames: int) -> None:
    morph_row_block(
        ex.morph_row(ctx.model, image_a, image_b, frames, "linear"),
        "Linear: z = (1 − t)·z_A + t·z_B",
        "A straight line between the two codes μ_A and μ_B, decoded every step of the way.",
        "linear",
    )
    morph_row_block(
        ex.morph_row(ctx.model, image_a, image_b, frames, "spherical"),
        "Spherical (slerp): along the arc between the two codes",
        "In many dimensions almost all of the prior's mass sits on a shell of radius ≈ √d; the straight line cuts "
        "through the emptier middle, the arc stays on the shell.",
        "spherical",
    )
    autoencoder = ex.autoencoder_for_comparison(ctx.listing.checkpoints, ctx.summary)
    if autoencoder is not None:
        try:
            row = ex.morph_row(model_at(autoencoder.path), image_a, image_b, frames, "linear")
        except CheckpointError as exc:
            st.warning(f"The autoencoder comparison is unavailable: {exc}")
        else:
            morph_row_block(
                row,
                f"The same morph with a plain autoencoder ({autoencoder.name})",
                "The autoencoder was only asked to reconstruct: its codes are isolated points with empty space "
                "between them, which the decoder never learned to draw. So its in-between frames are ghostly "
                "overlays of A and B, not digits. The VAE's noise and KL term pack the posterior bubbles tightly "
                "together, so every point on the way decodes to something digit-like.",
                "autoencoder",
            )


def view_map(ctx: Context) -> None:
    if ctx.atlas is None:
        st.error(ctx.atlas_error)
        return
    from vae.figures import map_figure, snapshot_figure

    atlas = ctx.atlas
    test = cached_test_set()
    if atlas.method == "latent":
        st.caption(
            "This model's latent space is 2-D, so this map *is* the latent plane: every dot sits at a test "
            "digit's μ = (z₁, z₂), no t-SNE needed. Colours are the true labels, which the VAE never saw."
        )
    else:
        st.caption(
            f"Each dot is one of the 10,000 test digits' means μ ({ctx.model.latent_dim}-D), squeezed onto the page "
            "by t-SNE, which keeps neighbours together. Colours are the true labels, which the model never saw: "
            "it grouped the digits by itself. Closeness is meaningful, distances between clusters much less. "
            "Hover to see a digit, click one to pick it, or draw a box or lasso to see a group."
        )
    pick = ss.get("map_pick")
    left, right = st.columns([3, 2], gap="large")
    with left:
        figure = map_figure(
            atlas.coords,
            atlas.labels,
            cached_hover_texts(),
            marked=[("", pick)] if pick is not None else (),
            show_axes=atlas.method == "latent",
        )
        pickable_chart(figure, "tsne_map", pick_on_map)
    with right:
        rows = ss.get("map_rows") or []
        if pick is None and len(rows) < 2:
            st.info("Click a dot on the map to pick that digit.")
        if pick is not None:
            label = int(test.labels[pick])
            mu = atlas.mu[pick]
            c1, c2 = st.columns(2)
            c1.image(enlarge(test.images[pick], 6), caption=f"test #{pick}: a {label}")
            c2.image(enlarge(ex.decode_code(ctx.model, mu), 6), caption="its reconstruction (decoded μ)")
            b1, b2 = st.columns(2)
            b1.button(
                "Send to the sliders",
                on_click=set_code,
                args=(ctx.key, ctx.extent, mu.tolist(), "sliders"),
                width="stretch",
            )
            b2.button("Add to the morph pair", on_click=add_to_pair, args=([pick],), width="stretch")
        if len(rows) > 1:
            grid = ex.selection_grid(test.images, rows, limit=100, columns=10)
            shown = min(len(rows), 100)
            st.image(grid, caption=f"{len(rows)} selected digits" + (f" (first {shown})" if shown < len(rows) else ""))
    if atlas.snapshot_coords:
        st.subheader("How the map forms", divider="gray")
        st.caption(
            "The same test digits encoded by the model at several epochs of its training (each map rotated to "
            "match the final one). At epoch 0 the untrained encoder mixes everything; clusters appear within the "
            "first epochs and then sharpen."
        )
        sample = ex.subset_rows(len(atlas.labels), 3000)
        st.plotly_chart(snapshot_figure(atlas.snapshot_coords, atlas.labels, sample), config={"displayModeBar": False})


def view_plane(ctx: Context) -> None:
    if ctx.model.latent_dim != 2:
        st.info(
            f"This view draws the latent space itself, which needs a model with a 2-D code; "
            f"{ctx.summary.name} has d = {ctx.model.latent_dim}. (The t-SNE map is the many-dimensional version.)"
        )
        plane_model = ex.plane_checkpoint(ctx.listing.checkpoints)
        if plane_model is not None:
            st.button(
                f"Switch to the 2-D model ({plane_model.name})",
                on_click=switch_model,
                args=(str(plane_model.path),),
                type="primary",
            )
        else:
            st.caption("Train one with: `python -m vae train --latent-dim 2 --out checkpoints/vae_d2.safetensors`")
        return
    if ctx.atlas is None:
        st.error(ctx.atlas_error)
        return
    from vae.figures import plane_figure

    atlas = ctx.atlas
    extent = ex.plane_extent(atlas.mu)
    controls, grid, plane = st.columns([1, 2, 2], gap="medium")
    with controls:
        steps = st.slider("Digits per side", 8, 25, 15, key="plane_steps", persist_state="session")
        count = st.slider("Test digits drawn", 300, 1000, 500, 100, key="plane_count", persist_state="session")
        bubbles = st.slider(
            "Bubbles drawn at × σ",
            1,
            10,
            1,
            key="plane_bubble_scale",
            persist_state="session",
            help="1 is true size. This model is very sure of each code, so its bubbles are smaller than the dots: "
            "magnify them to see their shapes and how they pack.",
        )
        z = ss.get("plane_z")
        if z is None:
            st.info("Click anywhere on the plane to decode that point.")
        else:
            st.image(enlarge(ex.decode_code(ctx.model, z), 5), caption=f"z = ({z[0]:.2f}, {z[1]:.2f})")
            st.button("Send to the sliders", on_click=set_code, args=(ctx.key, ctx.extent, list(z), "sliders"))
    with grid:
        st.image(
            png_bytes(ex.manifold_image(ctx.model, extent, steps), scale=2),  # crisp when scaled down
            caption=f"the decoder's view: a digit decoded at every point of a grid over [−{extent:g}, {extent:g}]²",
            width="stretch",
        )
    with plane:
        rows = ex.subset_rows(len(atlas.labels), count)
        pickable_chart(
            plane_figure(atlas.mu, atlas.logvar, atlas.labels, rows, extent, height=450, bubble_scale=bubbles),
            "plane_chart",
            pick_on_plane,
            modes=("points",),
        )
    if ctx.summary.kind == "ae":
        st.caption(
            "A plain autoencoder has no bubbles: each test digit is a single point, nothing pulls the points "
            "together, and the decoder draws nonsense in the empty space between them."
        )
        return
    st.caption(
        "Each test digit's encoder output is a bubble: centre μ, radius σ along each axis "
        "(drawn as μ ± σ, or magnified with the slider on the left). "
        "Reconstruction pushes the bubbles of different digits apart, since overlapping bubbles would blur them. "
        "The KL term is a spring that pulls every bubble towards the origin and keeps it from shrinking. "
        "Together they pack the bubbles densely around 0 without gaps, so every point of the plane, including "
        "the ones you click, decodes to a plausible digit. Compare the two pictures: same axes, same place."
    )


def digit_input() -> bytes | None:
    """The user's digit as image bytes, from an upload or the drawing canvas (None until there is one)."""
    ss.setdefault("digit_source", "Upload")
    source = st.segmented_control("Your digit from", ["Upload", "Draw"], key="digit_source", required=True)
    if source == "Upload":
        upload = st.file_uploader("An image of one digit (up to 5 MB)", type=UPLOAD_TYPES, key="digit_upload")
        return upload.getvalue() if upload is not None else None
    from streamlit_drawable_canvas import st_canvas

    dark = st.toggle("White ink on black", key="canvas_dark", persist_state="session")
    canvas = st_canvas(
        stroke_width=20,
        stroke_color="#ffffff" if dark else "#000000",
        background_color="#000000" if dark else "#ffffff",
        width=280,
        height=280,
        return_image_data=True,
        key=f"canvas_{'dark' if dark else 'light'}",
    )
    return canvas.image_bytes if ex.canvas_has_ink(canvas.json_data) else None


def view_digit(ctx: Context) -> None:
    from vae.preprocess import InvalidImageError, preprocess_steps

    source, results = st.columns([1, 2], gap="large")  # the canvas needs its 280 px
    with source:
        data = digit_input()
    with results:
        if data is None:
            st.info("Upload a picture of a handwritten digit, or draw one, to see how the model encodes it.")
            return
        try:
            prepared = preprocess_steps(data)
        except InvalidImageError as exc:
            st.error(str(exc))
            return
        atlas = ctx.atlas
        analysis = ex.analyse_digit(
            ctx.model, prepared.tensor, atlas.mu if atlas else None, atlas.coords if atlas else None
        )
        stages = ex.preview_stages(prepared.stages())
        st.caption("How your image becomes an MNIST-style 28×28 digit:")
        st.image(list(stages.values()), caption=list(stages), width=112)
        c1, c2, c3 = st.columns([1, 1, 1])
        c1.image(enlarge(prepared.mnist, 6), caption="what the model sees", width=168)
        c2.image(enlarge(analysis.reconstruction, 6), caption="its reconstruction (decoded μ)", width=168)
        with c3:
            st.metric("Reconstruction loss", f"{analysis.recon_nats:.1f} nats")
            if analysis.kl_nats is not None:
                st.metric("KL to the prior", f"{analysis.kl_nats:.1f} nats")
            typical = ex.typical_terms(ctx.model.metadata)
            if typical is not None:
                recon, kl = typical
                st.caption(
                    f"An average test digit: {recon:.0f} nats of reconstruction"
                    + (f" and {kl:.0f} of KL." if kl is not None else ".")
                    + " Much higher means the model finds your digit unusual."
                )
            st.button(
                "Send its code to the sliders",
                on_click=set_code,
                args=(ctx.key, ctx.extent, analysis.mu.tolist(), "sliders"),
            )
    from vae.figures import code_figure, map_figure

    order = ex.dimension_order(atlas.dim_usage if atlas else None, len(analysis.mu))
    left, right = st.columns(2, gap="large")
    with left:
        st.markdown("**Its code, μ ± σ per coordinate** (most used coordinates first)")
        st.plotly_chart(code_figure(analysis.mu, analysis.sigma, order), config={"displaylogo": False})
        st.caption(
            "The grey band is the prior's ±1. Coordinates the model uses get a precise value (small σ); ignored "
            "ones stay at μ ≈ 0, σ ≈ 1: exactly the prior, costing no KL."
        )
    with right:
        if atlas is None or analysis.map_xy is None:
            st.info(f"No map: {ctx.atlas_error}")
        else:
            st.markdown("**Its place on the map** (★, among its nearest test codes)")
            st.plotly_chart(
                map_figure(
                    atlas.coords, atlas.labels, star=analysis.map_xy, height=360, show_axes=atlas.method == "latent"
                ),
                config={"displaylogo": False},
            )
    if len(analysis.neighbours):
        test = cached_test_set()
        st.markdown("**Nearest test digits** (closest code μ first)")
        st.image(
            [enlarge(test.images[row], SMALL) for row in analysis.neighbours],
            caption=[f"a {int(test.labels[row])} · #{row}" for row in analysis.neighbours],
        )


@dataclass(frozen=True)
class View:
    label: str
    render: Callable[[Context], None]


VIEWS: dict[str, View] = {
    "sliders": View(":material/tune: Latent sliders", view_sliders),
    "prior": View(":material/casino: Sample the prior", view_prior),
    "morph": View(":material/swap_horiz: Morph two digits", view_morph),
    "map": View(":material/scatter_plot: t-SNE map", view_map),
    "plane": View(":material/grid_on: 2-D plane", view_plane),
    "digit": View(":material/draw: Your own digit", view_digit),
}


@contextmanager
def error_boundary(name: str) -> Iterator[None]:
    """Whatever goes wrong inside becomes a message on the page, never a traceback (written once, used by
    every view and by fragments, which rerun on their own)."""
    try:
        yield
    except Exception as exc:
        LOG.exception("view %s failed", name)
        st.error(ex.friendly_error(exc))


def show_view(name: str, ctx: Context) -> None:
    with error_boundary(name):
        VIEWS[name].render(ctx)


def main() -> None:
    try:
        ctx = sidebar()
    except Exception as exc:  # e.g. an unreadable checkpoint folder: a message, not a traceback
        LOG.exception("sidebar failed")
        st.error(ex.friendly_error(exc))
        return
    if ctx is None:
        st.title("VAE Latent Explorer")
        st.info(
            f"No model to explore yet: {checkpoints.CHECKPOINT_DIR} holds no checkpoint. Train one with "
            "`python -m vae train`, then map it with `python -m vae atlas <checkpoint>`, "
            "or pick “Another file…” in the sidebar."
        )
        return
    view = st.segmented_control(
        "View",
        list(VIEWS),
        key="view",
        default="sliders",
        required=True,
        format_func=lambda name: VIEWS[name].label,
        label_visibility="collapsed",
    )
    st.caption(f"Model: **{ctx.summary.name}** · {ctx.summary.describe()}")
    if message := ss.pop("callback_error", None):
        st.error(message)
    show_view(view or "sliders", ctx)


main()
