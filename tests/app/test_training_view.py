"""The Training view with AppTest, on a small 2-D VAE trained here (its record: panel, snapshot decoders, codes),
and on a file from before the record. The app's other models come from the checkpoint folder, as in test_app."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from support.fakes import quiet
from vae.checkpoint import export_checkpoint, open_checkpoint, read_meta, write_checkpoint
from vae.config import ModelConfig, TrainConfig
from vae.data import MnistSplit
from vae.training import fit

APP = Path(__file__).resolve().parents[2] / "app.py"
EPOCHS = 3


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory, fake_train: MnistSplit, fake_test: MnistSplit) -> Path:
    folder = tmp_path_factory.mktemp("recorded")
    run = folder / "run.safetensors"
    config = TrainConfig(epochs=EPOCHS, batch_size=64, lr=3e-3, seed=0, snapshot_epochs=(0, 1))
    model = ModelConfig(kind="vae", hidden_dim=32, latent_dim=2)
    fit(model, config, fake_train, fake_test, run, device="cpu", progress=False, log=quiet)
    shipped = folder / "vae_d2_small.safetensors"
    export_checkpoint(run, shipped)
    return shipped


@pytest.fixture(autouse=True)
def server_paths(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests open a checkpoint they wrote by its path: the operator's switch for that."""
    monkeypatch.setenv("VAE_EXPLORER_SERVER_PATHS", "1")


def open_training(path: Path) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=90).run()
    at.sidebar.radio(key="model_choice").set_value("__server_path__").run()
    at.sidebar.text_input(key="custom_path").input(str(path)).run()
    at.session_state["requested_view"] = "training"
    at.run()
    assert_clean(at)
    return at


def assert_clean(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def image_with(at: AppTest, caption: str):
    (found,) = [image for image in at.image if any(caption in c for c in image.captions)]
    return found


def test_the_epoch_slider_switches_samples_morph_and_the_other_views_decoder(recorded: Path) -> None:
    at = open_training(recorded)
    (slider,) = at.select_slider
    assert [int(o) for o in slider.options] == [0, 1, EPOCHS] and int(slider.value) == EPOCHS
    trained = image_with(at, f"samples, epoch {EPOCHS}").value
    morph = image_with(at, f"morph, epoch {EPOCHS}").value
    other_views = "decode with this epoch's weights too"
    assert not [c for c in at.caption if other_views in c.value]  # at the last epoch they show the trained model
    slider.set_value(0).run()
    assert_clean(at)
    assert [c for c in at.caption if other_views in c.value]
    assert image_with(at, "samples, epoch 0").value != trained  # same codes, the epoch-0 decoder
    assert image_with(at, "morph, epoch 0").value != morph
    # the sliders decode with epoch 0's weights; their order and labels are still the trained model's
    at.session_state["requested_view"] = "sliders"
    at.run()
    assert_clean(at)
    assert any("weights of epoch 0" in box.value and "still the trained model's" in box.value for box in at.info)
    # the Samples view now decodes with epoch 0's weights, says so, and goes back on request
    at.session_state["requested_view"] = "samples"
    at.run()
    assert_clean(at)
    assert any("weights of epoch 0" in box.value for box in at.info)
    at0 = at.image[0].value
    {b.label: b for b in at.button}[f"Back to epoch {EPOCHS}"].click().run()
    assert not any("weights of epoch 0" in box.value for box in at.info)
    assert at.image[0].value != at0


def test_the_morph_view_says_it_shows_the_trained_model_while_the_slider_is_at_an_earlier_epoch(
    recorded: Path,
) -> None:
    at = open_training(recorded)
    at.select_slider[0].set_value(1).run()
    at.session_state["requested_view"] = "morph"
    at.run()
    assert_clean(at)
    assert any("slider is at epoch 1, but this view shows the trained model" in box.value for box in at.info)
    {b.label: b for b in at.button}[f"Back to epoch {EPOCHS}"].click().run()
    assert_clean(at)
    assert not any("slider is at epoch" in box.value for box in at.info)


def test_the_curves_start_at_epoch_zero_and_the_panel_has_a_row_per_epoch(recorded: Path) -> None:
    at = open_training(recorded)
    charts = {chart.proto.id: chart for chart in at.get("plotly_chart")}
    assert len(charts) == 5  # the three loss terms (one figure each), the panel, the epoch's map (the 2-D bubbles)
    history = read_meta(recorded).raw["history"]
    assert [h["epoch"] for h in history] == list(range(EPOCHS + 1))


def test_a_file_without_a_record_says_how_to_get_one(recorded: Path, tmp_path: Path) -> None:
    tensors, meta = open_checkpoint(recorded)
    old = tmp_path / "old.safetensors"
    write_checkpoint(old, {k: v for k, v in tensors.items() if k.startswith("model.")}, meta.raw)
    at = open_training(old)
    assert any("before checkpoints kept a record" in box.value for box in at.info)
    assert not at.select_slider
