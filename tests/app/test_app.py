"""The Streamlit app driven headless with AppTest, on whatever checkpoints are in vae.checkpoint.CHECKPOINT_DIR
(the shipped checkpoints/ folder, or $VAE_CHECKPOINT_DIR). AppTest cannot click Plotly points or draw on the
canvas: those paths are plain functions tested in test_explorer.py; here their results are put in session state.
"""

from __future__ import annotations

import base64
import io
import json
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from explorer.pages import VIEWS
from explorer.pages.morph import digit_examples
from explorer.service.jobs import map_queue
from explorer.words.catalog import describe
from support.app import (
    APP,
    FIRST,
    LISTING,
    ROOT,
    assert_clean,
    component_data,
    has_atlas,
    images_with,
    open_view,
    png_of_seven,
    rounded,
    shown,
    slider_values,
    start,
    upload_checkpoint,
)
from vae.atlas import atlas_path, load_atlas
from vae.catalog import CheckpointSummary, autoencoder_for_comparison, plane_checkpoint, state_key
from vae.checkpoint import CHECKPOINT_DIR, load_checkpoint, open_checkpoint, write_checkpoint
from vae.codes import encode_means
from vae.data import load_mnist
from vae.latent import sample_prior

# ---------------------------------------------------------------- sidebar


pytestmark = pytest.mark.skipif(
    FIRST is None,
    reason=f"no checkpoints in {CHECKPOINT_DIR} yet: train them (python -m vae train / atlas) "
    "or point VAE_CHECKPOINT_DIR at a folder that has some",
)


def test_sidebar_lists_the_checkpoints_with_their_metadata():
    at = start()
    radio = at.sidebar.radio(key="model_choice")
    assert radio.options[: len(LISTING.checkpoints)] == [c.name for c in LISTING.checkpoints]
    assert radio.options[-1] == "Upload a checkpoint…"  # no server paths unless the operator allows them
    assert list(radio.proto.captions)[: len(LISTING.checkpoints)] == [describe(c) for c in LISTING.checkpoints]
    assert any(FIRST.name in shown(caption.value) for caption in at.caption)  # the page says which model it shows


@pytest.mark.slow
def test_an_uploaded_checkpoint_becomes_this_sessions_model_and_no_one_elses():
    other = [c for c in LISTING.checkpoints if c.path != FIRST.path]
    source = other[0] if other else FIRST
    at = upload_checkpoint(start(), "mine.safetensors", source.path.read_bytes())
    assert not at.exception
    assert at.session_state["active_model"] == "session:mine.safetensors"
    assert "mine.safetensors (yours)" in map(shown, at.sidebar.radio(key="model_choice").options)
    assert any("mine.safetensors" in shown(caption.value) for caption in at.main.caption)
    assert component_data(at, "vae_latent_sliders")
    link_notes = [shown(c.value) for c in at.sidebar.caption if "a link cannot bring it" in c.value]
    assert link_notes == [
        f"mine.safetensors lives in this session only, so a link cannot bring it: the link opens {FIRST.name}, "
        "with the rest of this view."
    ]
    # Its map is built off the page, as a trained model's: the map view shows the progress, then the map;
    # the uploaded bytes written for the map job are deleted once the map has joined the model.
    (building,) = at.session_state["trained_models"].values()
    assert building.uploaded and building.checkpoint.is_file()
    open_view(at, "map")
    assert not at.exception and not at.error
    assert map_queue().join(180)
    at.run()
    open_view(at, "map")
    assert not at.exception and not at.error
    entry = at.session_state["session_models"]["session:mine.safetensors"]
    assert entry.atlas is not None and entry.atlas.coords.shape == (10_000, 2)
    assert at.get("plotly_chart")
    forms = [c.value for c in at.caption if "encoded by the model at several epochs" in c.value]
    assert forms and "The Training view has every kept epoch" not in forms[0]  # it has no slider for an upload
    assert not building.checkpoint.parent.exists()
    open_view(at, "training")  # no record on disk: said in words, not a missing-file error
    assert not at.exception and not at.error
    assert [i for i in at.info if "lives in your session only" in i.value]
    hints = [m.value for m in at.markdown if m.value.startswith("**What to look for:**")]
    assert hints and "first epoch's step of the curves" in hints[0] and "Drag the epoch" not in hints[0]  # no slider
    fresh = start()  # another visitor: the upload is not theirs
    assert "mine.safetensors (yours)" not in map(shown, fresh.sidebar.radio(key="model_choice").options)
    assert fresh.session_state["active_model"] == str(FIRST.path)
    assert not [c for c in fresh.sidebar.caption if "a link cannot bring it" in c.value]


def test_a_bad_upload_shows_a_message_and_keeps_the_model():
    at = upload_checkpoint(start(), "broken.safetensors", b"definitely not safetensors")
    assert not at.exception
    messages = [shown(e.value) for e in at.sidebar.error]
    assert len(messages) == 1 and "broken.safetensors" in messages[0] and "previous model" in messages[0]
    assert at.session_state["active_model"] == str(FIRST.path)
    assert any(FIRST.name in shown(caption.value) for caption in at.main.caption)
    assert component_data(at, "vae_latent_sliders")  # the views still work


def test_server_paths_only_when_the_operator_turns_them_on(tmp_path, monkeypatch):
    from explorer.settings import settings

    assert "A path on this server…" not in start().sidebar.radio(key="model_choice").options
    monkeypatch.setenv("VAE_EXPLORER_SERVER_PATHS", "1")
    settings.cache_clear()  # parsed once per process: as a server started with it
    at = start()
    at.sidebar.radio(key="model_choice").set_value("__server_path__").run()
    at.sidebar.text_input(key="custom_path").input(str(tmp_path / "missing.safetensors")).run()
    assert not at.exception and "no such checkpoint file" in at.sidebar.error[0].value
    at.sidebar.text_input(key="custom_path").input(str(FIRST.path)).run()
    assert_clean(at)
    assert at.session_state["active_model"] == str(FIRST.path)


VIEW_NAMES = tuple(view.url_path for view in VIEWS)
# Views about models in general, not the one picked: training and comparing speak of KL and priors whatever it is.
MODEL_VIEWS = tuple(name for name in VIEW_NAMES if name not in ("train", "compare"))


@pytest.mark.parametrize("checkpoint", LISTING.checkpoints, ids=lambda c: c.name)
@pytest.mark.slow
def test_every_view_renders_for_every_checkpoint(checkpoint: CheckpointSummary):
    at = start()
    at.sidebar.radio(key="model_choice").set_value(str(checkpoint.path)).run()
    for view in VIEW_NAMES:
        open_view(at, view)
        assert not at.exception, (view, [e.value for e in at.exception])
        errors = [e.value for e in at.error]
        # The only acceptable error box is the one explaining a missing or stale atlas.
        assert all("python -m vae atlas" in message for message in errors), (view, errors)
        assert not errors or not has_atlas(checkpoint), (view, errors)


# ---------------------------------------------------------------- latent sliders


def test_the_sliders_are_sent_to_the_page_with_their_labels_range_and_the_weights_once():
    at = start()
    d = FIRST.latent_dim
    data = component_data(at, "vae_latent_sliders")
    assert data["code"] == [0.0] * d and len(data["sliders"]) == d
    assert data["weights"] is not None and data["weights"]["d"] == d  # the decoder, for the page
    if has_atlas(FIRST):
        assert data["extent"] >= np.abs(load_atlas(FIRST.path).mu).max()  # no test code beyond the sliders
        if FIRST.kind == "vae":
            assert all(re.fullmatch(r"z\d+ · \d+\.\d\d nats( \(unused\))?", label) for _, label in data["sliders"])
    {b.label: b for b in at.button}["Randomise"].click().run()
    assert_clean(at)
    data = component_data(at, "vae_latent_sliders")
    assert data["weights"] is None  # this session's page has them already
    assert data["code"] == slider_values(at, d) and any(v != 0 for v in data["code"])


def test_the_slice_pad_follows_the_sliders_and_gets_its_test_codes_once():
    at = start()
    if FIRST.latent_dim <= 2 or not has_atlas(FIRST):
        pytest.skip("the slice pad is for a model with a map and more than two coordinates")
    pad = component_data(at, "vae_latent_pad")
    assert pad["follow"] is True  # the page moves the slice with the sliders between server runs
    first = pad["points"]
    assert set(first) == {"id", "x", "y", "digits"} and len(base64.b64decode(first["digits"])) == 10_000
    {b.label: b for b in at.button}["Randomise"].click().run()
    pad = component_data(at, "vae_latent_pad")
    assert pad["points"] == {"id": first["id"]}  # the page keeps them: the id only
    assert pad["base"] == slider_values(at, FIRST.latent_dim)
    other_dim = next(i for i in range(FIRST.latent_dim) if i not in pad["dims"])
    at.session_state[f"pad_y:{state_key(FIRST.path)}"] = other_dim  # AppTest's selectbox trips on format_func
    at.run()
    assert_clean(at)
    other = component_data(at, "vae_latent_pad")["points"]
    assert other["id"] != first["id"] and "x" in other  # another pair of coordinates: other points, sent once


def test_slider_buttons_reset_randomise_and_start_from_a_test_digit():
    at = start()
    d = FIRST.latent_dim
    {b.label: b for b in at.button}["Randomise"].click().run()
    assert any(v != 0 for v in slider_values(at, d))
    {b.label: b for b in at.button}["Reset to the origin"].click().run()
    assert slider_values(at, d) == [0.0] * d
    at.number_input(key="slider_test_index").set_value(3).run()
    {b.label: b for b in at.button}["Start from its μ"].click().run()
    assert_clean(at)
    model = load_checkpoint(FIRST.path)
    mu = encode_means(model, load_mnist("test", progress=lambda _: None).images[3])
    assert slider_values(at, d) == rounded(mu)  # exactly, never clipped to the sliders' range


@pytest.mark.parametrize(
    ("view", "key", "label", "bad", "words"),
    [
        ("sliders", "slider_test_index", "Test digit #", 10_000, "test digits are numbered 0 to 9,999"),
        ("samples", "prior_seed", "Seed", -1, "seeds go from 0 to 999,999"),
        # The morph and compare views take a second or more to draw: CI's tier (marked slow).
        pytest.param(
            "morph", "morph_b", "Digit B: test #", 20_000, "test digits are numbered 0 to 9,999", marks=pytest.mark.slow
        ),
        pytest.param(
            "compare",
            "compare_from",
            "Morph from test digit",
            -3,
            "test digits are numbered 0 to 9,999",
            marks=pytest.mark.slow,
        ),
    ],
)
def test_a_number_out_of_range_or_none_is_refused_in_words_and_the_last_good_one_kept(view, key, label, bad, words):
    at = start(view)
    at.number_input(key=key).set_value(5).run()
    at.number_input(key=key).set_value(bad).run()
    assert_clean(at)  # no error box: the refusal is a toast, which leaves the row's layout alone
    assert at.session_state[key] == 5 and at.number_input(key=key).value == 5
    assert [t.value for t in at.toast] == [f"{label}: {bad:,} is out of range, {words}. It stays 5."]
    at.number_input(key=key).set_value(None).run()  # the box emptied: Streamlit would put 0 back, silently
    assert at.session_state[key] == 5
    assert [t.value for t in at.toast] == [f"{label} was left empty: it stays 5."]
    at.number_input(key=key).set_value(6).run()
    assert_clean(at)
    assert at.session_state[key] == 6 and not at.toast


def test_the_sample_number_follows_how_many_samples_there_are():
    at = start("samples")
    at.selectbox(key="prior_pick").set_value(20).run()
    at.slider(key="prior_count").set_value(8).run()
    assert_clean(at)
    assert at.selectbox(key="prior_pick").options == [str(n) for n in range(1, 9)]
    assert at.session_state["prior_pick"] == 8 and not at.toast  # the last one, without a word: no one typed it


# ---------------------------------------------------------------- prior samples


def test_the_seed_decides_the_samples():
    at = start("samples")
    first = at.image[0].value
    assert len(first) == 24
    at.number_input(key="prior_seed").set_value(123).run()
    assert_clean(at)
    assert at.image[0].value != first
    at.number_input(key="prior_seed").set_value(0).run()
    assert at.image[0].value == first  # the same seed gives the same digits
    at.slider(key="prior_count").set_value(5).run()
    assert len(at.image[0].value) == 5 and at.image[0].captions == ["#1", "#2", "#3", "#4", "#5"]
    {b.label: b for b in at.button}["Reroll"].click().run()
    assert at.session_state["prior_seed"] != 0


def test_a_sample_can_be_sent_to_the_sliders():
    at = start("samples")
    at.selectbox(key="prior_pick").set_value(2).run()
    {b.label: b for b in at.button}["Send this sample to the sliders"].click().run()
    assert_clean(at)
    assert at.session_state["view"] == "sliders"
    assert slider_values(at, FIRST.latent_dim) == rounded(sample_prior(24, FIRST.latent_dim, 1.0, 0)[1])


# ---------------------------------------------------------------- morph


def test_the_morph_shows_k_frames_between_the_two_digits():
    at = start("morph")
    at.slider(key="morph_frames").set_value(7).run()
    assert_clean(at)
    rows = images_with(at, "recon A")
    comparison = autoencoder_for_comparison(LISTING.checkpoints, FIRST)
    assert len(rows) == (3 if comparison else 2)
    for row in rows:
        assert len(row.value) == 7 + 4
        assert row.captions[:2] == ["A", "recon A"] and row.captions[-2:] == ["recon B", "B"]
        assert sum(c.startswith("t=") for c in row.captions) == 7
    assert len(at.download_button) == 2 * len(rows)
    if comparison:
        assert any("plain autoencoder" in m.value for m in at.markdown)


def test_morph_ends_come_from_the_indices_and_the_gallery():
    at = start("morph")
    at.number_input(key="morph_a").set_value(3).run()
    assert_clean(at)
    assert images_with(at, "A: a ")
    assert at.pills(key="gallery_b").options == [str(digit) for digit in range(10)]
    first_five = digit_examples(load_mnist("test", progress=lambda _: None).labels)[5]
    at.pills(key="gallery_b").set_value(first_five).run()  # the option "5" stands for the first 5's index
    assert_clean(at)
    assert at.session_state["morph_b"] == first_five
    assert at.session_state["gallery_b"] is None  # the gallery is one-shot


def test_a_click_that_unselects_a_dot_says_why_no_end_changed():
    def page() -> None:
        import streamlit as st

        from explorer.state.session import pick_pair_from_chart

        st.session_state["morph_chart"] = {"selection": {"points": [], "point_indices": []}}
        st.session_state.setdefault("morph_a", 3)
        st.session_state.setdefault("morph_b", 2)
        pick_pair_from_chart("morph_chart")

    at = AppTest.from_function(page, default_timeout=60).run()
    assert not at.exception
    assert [t.value for t in at.toast] == [
        "No digit picked (a second click on a dot unselects it): click a dot to set A."
    ]
    assert (at.session_state["morph_a"], at.session_state["morph_b"]) == (3, 2)


# ---------------------------------------------------------------- maps


@pytest.mark.skipif(not has_atlas(FIRST), reason="the default checkpoint has no atlas yet (python -m vae atlas)")
def test_the_map_view_shows_the_map_and_a_picked_digit():
    at = start("map")
    assert at.get("plotly_chart"), "the t-SNE map is drawn"
    at.session_state["map_pick"] = 5  # what a click on point #5 leaves behind (pick_on_map)
    at.run()
    assert_clean(at)
    assert images_with(at, "test #5")
    {b.label: b for b in at.button}["Make it morph end A"].click().run()
    assert [at.session_state["morph_a"], at.session_state["morph_b"]] == [5, 1]
    assert "Make it morph end B" in {b.label for b in at.button}  # the other end is next
    assert json.loads(at.get("plotly_chart")[0].proto.spec)["layout"]["uirevision"].startswith("map:")
    assert at.query_params["pick"] == "5"  # the address carries the pick
    at.session_state["map_rows"] = [1, 2, 3, 4]  # a box selection
    at.run()
    assert images_with(at, "4 selected digits")


def test_the_map_view_explains_a_missing_or_stale_atlas_instead_of_failing(tmp_path, monkeypatch):
    monkeypatch.setenv("VAE_EXPLORER_SERVER_PATHS", "1")
    copy = tmp_path / "copy.safetensors"
    shutil.copy(FIRST.path, copy)  # a real checkpoint without its atlas beside it
    at = start()
    at.sidebar.radio(key="model_choice").set_value("__server_path__").run()
    at.sidebar.text_input(key="custom_path").input(str(copy)).run()
    open_view(at, "map")
    assert not at.exception and "python -m vae atlas" in shown(at.error[0].value) and "missing" in at.error[0].value
    # an atlas made from another file is refused too, not drawn as if it were this model's map
    shutil.copy(atlas_path(FIRST.path), atlas_path(copy))
    tensors, meta = open_checkpoint(copy)
    write_checkpoint(copy, tensors, {**meta.raw, "note": "rewritten"})  # same weights, another file: another SHA-256
    at.run()
    assert not at.exception and "another version" in at.error[0].value


PLANE = plane_checkpoint(LISTING.checkpoints)


@pytest.mark.skipif(not has_atlas(PLANE), reason="no 2-D VAE with an atlas in the checkpoint folder")
def test_the_plane_view_switches_to_the_2d_model_and_decodes_a_click():
    at = start("plane")
    if FIRST.latent_dim != 2:
        assert any("2-D" in i.value for i in at.info)
        {b.label: b for b in at.button}[f"Switch to the 2-D model ({PLANE.name})"].click().run()
    assert_clean(at)
    assert at.session_state["active_model"] == str(PLANE.path)
    assert component_data(at, "vae_latent_pad")["dims"] == [0, 1] and at.get("plotly_chart")
    at.session_state["plane_z"] = [0.5, -1.0]  # what a click on the pad at (0.5, −1) leaves behind
    at.run()
    assert component_data(at, "vae_latent_pad")["pinned"] == [0.5, -1.0]
    assert any("z = (0.50, -1.00)" in m.value for m in at.markdown)
    assert at.query_params["p"] == "0.5,-1"  # the pinned point is in the link
    again = AppTest.from_file(str(APP), default_timeout=60)
    again.query_params.update({"model": PLANE.name.removesuffix(".safetensors"), "p": "0.5,-1"})
    again.run()
    assert_clean(again)
    assert again.session_state["plane_z"] == [0.5, -1.0]
    {b.label: b for b in at.button}["Send to the sliders"].click().run()
    assert_clean(at)
    assert at.session_state["view"] == "sliders" and slider_values(at, 2) == [0.5, -1.0]


def test_an_unexpected_error_in_a_view_becomes_a_message():
    at = start()
    at.session_state["prior_pick"] = "not a number"  # a state no widget could produce: the view's code fails
    open_view(at, "samples")
    assert not at.exception
    assert len(at.error) == 1 and "Something went wrong" in at.error[0].value
    assert "Traceback" not in at.error[0].value
    open_view(at, "sliders")
    assert_clean(at)  # the other views still work


# ---------------------------------------------------------------- your own digit


def test_an_upload_shows_its_reconstruction():
    at = start("digit")
    at.file_uploader(key="digit_upload").set_value(("seven.png", png_of_seven(), "image/png")).run()
    assert_clean(at)
    assert images_with(at, "its reconstruction (decoded μ)")
    assert images_with(at, "Centred in 28x28")  # the preprocessing stages
    assert [m.label for m in at.metric][:1] == ["Reconstruction loss"]
    if has_atlas(FIRST):
        (neighbours,) = [i for i in at.image if i.captions and " · #" in i.captions[0]]
        assert len(neighbours.value) == 10  # the ten that vote on the verdict


def test_a_photo_sent_while_the_server_is_busy_gets_one_line_and_is_read_once_a_slot_frees(monkeypatch):
    from explorer.jobs import heavy_work

    monkeypatch.setenv("VAE_EXPLORER_HEAVY_SLOTS", "1")
    monkeypatch.setenv("VAE_EXPLORER_HEAVY_WAIT", "0.05")
    bound = heavy_work.process_bound()
    at = start("digit")
    photo = io.BytesIO()
    Image.open(io.BytesIO(png_of_seven())).save(photo, "PNG", compress_level=1)  # new bytes: not in the cache
    with bound.slot("another visitor's photo"):
        at.file_uploader(key="digit_upload").set_value(("busy.png", photo.getvalue(), "image/png")).run()
    assert not at.exception and not at.error
    assert [w.value for w in at.warning if "server is busy" in w.value]
    at.run()  # the slot is free again: the same upload is read, nothing was lost
    assert_clean(at)
    assert images_with(at, "its reconstruction (decoded μ)")


def test_a_bad_upload_shows_an_error_and_the_app_keeps_working():
    at = start("digit")
    at.file_uploader(key="digit_upload").set_value(("digit.png", b"this is not an image", "image/png")).run()
    assert not at.exception
    assert "not an image we can read" in at.error[0].value
    at.file_uploader(key="digit_upload").set_value(("seven.png", png_of_seven(), "image/png")).run()
    assert_clean(at)
    open_view(at, "sliders")
    assert_clean(at)


# ---------------------------------------------------------------- cold start


@pytest.mark.slow
def test_the_first_page_does_not_import_figures_sklearn_or_the_canvas():
    # (Streamlit itself imports plotly; our figure module, sklearn and the canvas are the ones to defer.)
    script = (
        "import sys\n"
        "from streamlit.testing.v1 import AppTest\n"
        f"at = AppTest.from_file({str(APP)!r}, default_timeout=60).run()\n"
        "assert not at.exception\n"
        "lazy = ('explorer.ui.figures', 'sklearn', 'streamlit_drawable_canvas')\n"
        "print(sorted(m for m in lazy if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_a_failing_fragment_shows_a_message_and_the_page_goes_on():
    def page() -> None:
        import streamlit as st

        from explorer.ui.widgets import guarded_fragment

        @guarded_fragment("broken")
        def broken(value: int) -> None:
            st.write("fragment started")
            raise RuntimeError(f"boom {value}")

        broken(1)
        st.write("after the fragment")

    at = AppTest.from_function(page, default_timeout=60).run()
    assert not at.exception
    assert len(at.error) == 1 and "Something went wrong in this view (RuntimeError)" in at.error[0].value
    assert [m.value for m in at.markdown] == ["fragment started", "after the fragment"]


AUTOENCODER = next((c for c in LISTING.checkpoints if c.kind == "ae"), None)


@pytest.mark.slow
@pytest.mark.skipif(AUTOENCODER is None, reason="no plain autoencoder in the checkpoint folder")
def test_an_autoencoders_pages_speak_of_codes_not_of_a_prior():
    at = start()
    at.sidebar.radio(key="model_choice").set_value(str(AUTOENCODER.path)).run()
    for view in MODEL_VIEWS:
        open_view(at, view)
        assert_clean(at)
        words = [e.value for kind in ("markdown", "caption", "info", "warning") for e in at.main.get(kind)]
        words += [b.label for b in at.main.button] + [s.label for s in at.main.slider]
        assert words and at.session_state["view"] == view
        for text in words:
            assert not re.search(r"posterior|prior|σ|μ|\bKL\b", text), (view, text)
        if view in ("sliders", "morph"):  # its own "what to look for", not the VAE's
            assert any(t.startswith("**What to look for:**") and "autoencoder" in t for t in words), view


# ---------------------------------------------------------------- links


def test_a_link_sets_the_state_and_the_address_follows_changes():
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.query_params.update({"a": "7", "b": "42", "k": "12", "seed": "5", "T": "1.5", "n": "64"})
    at.run()
    assert_clean(at)
    assert [at.session_state[k] for k in ("morph_a", "morph_b", "morph_frames", "prior_seed")] == [7, 42, 12, 5]
    assert at.session_state["prior_temperature"] == 1.5 and at.session_state["prior_count"] == 64
    (restored,) = [i.value for i in at.info if "Restored from the page's address" in i.value]
    assert "morph pair, frames, seed, number of samples, temperature" in restored  # one line, once
    {b.label: b for b in at.button}["Randomise"].click().run()
    assert not [i for i in at.info if "Restored" in i.value]
    code = slider_values(at, FIRST.latent_dim)
    assert [float(v) for v in at.query_params["z"].split(",")] == pytest.approx(code, abs=1e-4)
    assert at.query_params["a"] == "7" and at.query_params["k"] == "12"


def test_a_link_carries_the_training_epoch_the_views_decode_with():
    """The epoch slider changes what Samples and the sliders decode: the address says so, and a link brings
    it back (a kept epoch only; another gets a note)."""
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.query_params.update({"model": "vae_d20", "epoch": "1"})
    at.run()
    assert_clean(at)
    (key,) = [k for k in at.session_state if str(k).startswith("training_epoch:")]
    assert at.session_state[key] == 1 and at.query_params["epoch"] == "1"
    assert [i for i in at.info if "Restored" in i.value and "training epoch" in i.value]
    open_view(at, "samples")
    assert any("weights of epoch 1" in box.value for box in at.info)
    {b.label: b for b in at.button}["Back to epoch 400"].click().run()
    assert "epoch" not in at.query_params  # the trained model again: a plain address
    bad = AppTest.from_file(str(APP), default_timeout=60)
    bad.query_params.update({"model": "vae_d20", "epoch": "7"})
    bad.run()
    assert not bad.exception
    (note,) = bad.warning
    assert "epoch=7 is not an epoch vae_d20.safetensors kept (0, 1, 2, 3, 5, 10" in shown(note.value)
    assert not [i for i in bad.info if "Restored" in i.value and "epoch" in i.value]


def test_a_bad_link_gets_a_note_and_the_defaults():
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.query_params.update({"model": "gone", "z": "1,2", "a": "99999", "k": "12"})
    at.run()
    assert not at.exception
    (note,) = at.warning
    assert [i for i in at.info if "(frames)" in i.value]  # only what was restored is named
    note = shown(note.value)
    assert "model='gone'" in note and "a='99999'" in note and "z has 2 numbers" in note
    assert at.session_state["morph_frames"] == 12  # the rest of the link still counts
    assert slider_values(at, FIRST.latent_dim) == [0.0] * FIRST.latent_dim


@pytest.mark.slow
@pytest.mark.skipif(len(LISTING.checkpoints) < 3, reason="needs three checkpoints to choose two of them")
def test_the_compare_choice_survives_a_visit_to_another_view() -> None:
    at = start("compare")
    picker = at.multiselect(key="compare_models")
    assert len(picker.value) == 3  # the default: the shipped models
    picker.set_value(picker.value[1:]).run()
    chosen = at.multiselect(key="compare_models").value
    assert len(chosen) == 2
    open_view(at, "samples")
    open_view(at, "compare")
    assert_clean(at)
    assert at.multiselect(key="compare_models").value == chosen


def test_a_links_values_are_shown_as_text_never_as_markdown():
    at = AppTest.from_file(str(APP), default_timeout=60)
    hostile = {
        "a": "[Claim your grade](https://evil.example)",
        "n": "![x](https://evil.example/x.png)",
        "k": ":red[**boo**]",
    }
    at.query_params.update(hostile)
    at.run()
    assert_clean(at)
    (note,) = at.warning
    for value in hostile.values():
        assert value in shown(note.value)  # the reader sees the value itself ...
    assert "](" not in note.value and "**" not in note.value and ":red[" not in note.value  # ... not a link


def test_an_uploaded_files_name_is_shown_as_text():
    name = "[grade](www.evil.example) :red[x] ![i](x.png).safetensors"  # a browser sends no folders
    at = upload_checkpoint(start(), name, FIRST.path.read_bytes())
    assert_clean(at)
    (option,) = [o for o in at.sidebar.radio(key="model_choice").options if "(yours)" in o]
    assert shown(option) == f"{name} (yours)" and "](" not in option
    assert all("](" not in caption.value for caption in at.main.caption)


@pytest.mark.slow
def test_a_session_keeps_a_bounded_number_of_its_own_models_and_says_which_went():
    from explorer.state.session_models import MAX_SESSION_MODELS

    at = start()
    payload = FIRST.path.read_bytes()
    for i in range(MAX_SESSION_MODELS + 2):
        at = upload_checkpoint(at, f"copy{i}.safetensors", payload)
        assert_clean(at)
    mine = [shown(o) for o in at.sidebar.radio(key="model_choice").options if "(yours)" in o]
    assert mine == [f"copy{i}.safetensors (yours)" for i in range(2, MAX_SESSION_MODELS + 2)]
    assert len(at.session_state["session_models"]) == MAX_SESSION_MODELS
    assert [i for i in at.sidebar.info if "let go of its oldest model: copy1.safetensors" in shown(i.value)]
    assert at.session_state["active_model"] == f"session:copy{MAX_SESSION_MODELS + 1}.safetensors"
    for job in map_queue().unfinished():  # their maps are not under test here
        map_queue().cancel(job.id, "the test is over")
    assert map_queue().join(120)
