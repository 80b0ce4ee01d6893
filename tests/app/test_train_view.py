"""The Train and Compare views driven with AppTest: the form, its refusals, the queue as sessions see it,
cancel, and a trained model arriving in the session's picker. Training needs the real MNIST (`mnist`)."""

from __future__ import annotations

import threading
import time

import pytest
from streamlit.testing.v1 import AppTest

from explorer.jobs.queue import JobState
from explorer.pages.train import epochs_done
from explorer.service.jobs import TRAIN_JOB, TRAINED, map_queue, training_queue
from support.app import APP, assert_clean, open_view, shown


def train_page() -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=120).run()
    open_view(at, "train")
    assert_clean(at)
    return at


def fill(at: AppTest, **values: object) -> None:
    widgets = {"kind": at.radio, "d": at.number_input, "seed": at.number_input, "epochs": at.slider}
    widgets |= {"beta": at.select_slider, "lr": at.select_slider, "batch": at.select_slider}
    for name, value in values.items():
        widgets[name](key=f"train_{name}").set_value(value)


def submit(at: AppTest) -> AppTest:
    at.button[0].click()  # the form's submit button is the page's first button
    return at.run()


def wait_finished(job_id: str, timeout: float = 300.0) -> None:
    deadline = time.monotonic() + timeout
    while not training_queue().view(job_id).finished:
        assert time.monotonic() < deadline, "the job did not finish"
        time.sleep(0.2)


def test_without_the_training_split_the_view_says_so_and_names_the_command(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("VAE_DATA_DIR", str(tmp_path))  # an operator skipped the set-up's data step
    at = train_page()
    (warning,) = at.warning
    assert "not on this server yet" in warning.value and "python -m vae data" in warning.value
    assert not [b for b in at.button if "training" in b.label.lower()]  # no form: nothing can start and fail
    assert TRAIN_JOB not in at.session_state


@pytest.mark.usefixtures("training_files")
def test_the_form_offers_every_setting_within_its_limits() -> None:
    at = train_page()
    assert at.number_input(key="train_d").value == 20 and "2–64" in at.number_input(key="train_d").label
    betas = at.select_slider(key="train_beta").options
    assert betas[0] == "0" and "0.1" in betas and "4" in betas and betas[-1] == "10"  # log steps, 0 included
    assert (at.slider(key="train_epochs").min, at.slider(key="train_epochs").max) == (1, 50)
    batch = at.select_slider(key="train_batch")
    assert batch.options == ["32", "64", "128", "256", "512"] and batch.value == 256  # the lecture's
    assert TRAIN_JOB not in at.session_state


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"d": 100}, "d must be between 2 and 64, not 100"),
        ({"d": 1}, "d must be between 2 and 64, not 1"),
        ({"seed": 99_999_999_999}, "the seed must be between 0 and 2147483647"),
        ({"seed": -1}, "the seed must be between 0 and 2147483647"),
    ],
)
@pytest.mark.usefixtures("training_files")
def test_settings_out_of_range_are_refused_in_the_form_in_words(values: dict, message: str) -> None:
    """Typed into the number boxes, a value out of range reaches the submit and is refused there with a
    message (with min/max on the widget the browser would only redden it and keep the old value)."""
    at = train_page()
    fill(at, **values)
    submit(at)
    assert not at.exception
    assert any(message in e.value for e in at.error), [e.value for e in at.error]
    assert TRAIN_JOB not in at.session_state  # nothing was queued
    assert at.number_input(key=f"train_{next(iter(values))}").value == next(iter(values.values()))  # kept


@pytest.mark.mnist
def test_a_second_session_waits_in_the_queue_and_cancel_frees_it() -> None:
    first, second = train_page(), train_page()
    fill(first, d=20, epochs=50)
    submit(first)
    fill(second, d=2, epochs=1)
    submit(second)
    assert_clean(second)
    assert any("number 1 in the queue" in i.value for i in second.info)
    assert training_queue().counts() == (1, 1)  # the limit: one runs, one waits
    first.button(key="train_cancel").click().run()
    wait_finished(first.session_state[TRAIN_JOB])
    assert training_queue().view(first.session_state[TRAIN_JOB]).state is JobState.CANCELLED
    wait_finished(second.session_state[TRAIN_JOB])
    second.run()
    assert_clean(second)
    assert any("Trained 1 epoch." in s.value for s in second.success)
    assert map_queue().join(120)  # its map (a 2-D model's plane, then its scores) is built off the page
    second.run()
    assert_clean(second)
    assert not [t for t in threading.enumerate() if t.name.startswith("job-")]


@pytest.mark.mnist
def test_a_trained_model_joins_the_picker_and_the_compare_view() -> None:
    at = train_page()
    fill(at, kind="ae", d=2, epochs=1, batch=128)
    submit(at)
    wait_finished(at.session_state[TRAIN_JOB])
    at.run()
    assert_clean(at)
    mine = [shown(o) for o in at.sidebar.radio[0].options if "(yours)" in o]
    assert len(mine) == 1 and mine[0].startswith("ae_d2_e1_b128_s1")
    (trained,) = at.session_state["session_models"].values()
    assert trained.model.meta.train.batch_size == 128  # the form's batch reached the run
    assert at.get("download_button")
    # Its map (a 2-D model's own plane) is built off the page and joins the model on the next run.
    assert map_queue().join(120)
    at.run()
    (entry,) = at.session_state["session_models"].values()
    assert entry.atlas is not None and entry.atlas.method == "latent" and entry.atlas.scores is not None
    at.button(key="train_open").click().run()  # "Explore it in the sliders"
    assert_clean(at)
    assert at.session_state["view"] == "sliders"
    assert at.sidebar.radio[0].value == f"session:{mine[0].removesuffix(' (yours)')}"  # picked in the sidebar
    open_view(at, "map")  # its map, without "How the map forms": a run trained here keeps its last epoch only
    assert_clean(at)
    assert sorted(entry.atlas.snapshot_coords) == [1]
    assert at.get("plotly_chart") and not [h for h in at.subheader if "How the map forms" in h.value]
    open_view(at, "train")
    open_view(at, "compare")
    # The model trained a moment ago is already in the comparison, beside the shipped default.
    assert any(
        "(yours)" in at.multiselect(key="compare_models").format_func(k)
        for k in at.multiselect(key="compare_models").value
    )
    at.multiselect(key="compare_models").set_value(
        [
            *at.multiselect(key="compare_models").value[:1],
            *[k for k in at.multiselect(key="compare_models").options if "(yours)" in k],
        ]
    ).run()
    assert_clean(at)


@pytest.mark.mnist
def test_a_run_cancelled_after_an_epoch_is_named_by_the_epochs_it_holds() -> None:
    at = train_page()
    fill(at, d=2, epochs=50)
    submit(at)
    job = at.session_state[TRAIN_JOB]
    deadline = time.monotonic() + 300
    while epochs_done(training_queue().view(job)) < 1:
        assert time.monotonic() < deadline, "no epoch finished"
        time.sleep(0.2)
    at.button(key="train_cancel").click().run()
    wait_finished(job)
    kept = epochs_done(training_queue().view(job))
    assert 1 <= kept < 50
    at.run()
    assert_clean(at)
    mine = [shown(o) for o in at.sidebar.radio[0].options if "(yours)" in o]
    # Not e50, nor e{kept} as a finished run of {kept} epochs would be: {kept} of the 50 asked for.
    assert len(mine) == 1 and mine[0].startswith(f"vae_d2_beta1_e{kept}of50_s1 ")
    (trained,) = at.session_state[TRAINED].values()
    assert trained.download_name == f"vae_d2_beta1_e{kept}of50_s1.safetensors"
    assert map_queue().join(120)


def test_the_live_plane_fits_every_epochs_means_and_never_shrinks() -> None:
    import numpy as np

    from explorer.pages.train import LIVE_PLANE_EXTENT, live_plane_extent

    rng = np.random.default_rng(0)
    tight, wide = rng.normal(size=(1000, 2)) * 0.5, rng.normal(size=(1000, 2)) * 3.0
    assert live_plane_extent([(1, (tight, None))]) == LIVE_PLANE_EXTENT
    spread = live_plane_extent([(1, (tight, None)), (2, (wide, None))])
    assert spread > 6 and np.percentile(np.abs(wide), 99.5) <= spread
    assert live_plane_extent([(1, (tight, None)), (2, (wide, None)), (3, (tight, None))]) == spread


def test_an_upload_whose_map_never_ran_leaves_no_files(tmp_path) -> None:
    from explorer.jobs.files import UPLOAD_PREFIX
    from explorer.jobs.maps import drop_unused_upload
    from explorer.jobs.queue import Job

    folder = tmp_path / f"{UPLOAD_PREFIX}x"
    folder.mkdir()
    (folder / "mine.safetensors").write_bytes(b"x")
    job = Job(id="job-1", owner="s1", payload=folder / "mine.safetensors")
    job._finish(JobState.DONE, "done")
    drop_unused_upload(job)  # done: its session adopts the map, then forget_files deletes the folder
    assert folder.exists()
    job._finish(JobState.CANCELLED, "Cancelled before it started (the session was closed).")
    drop_unused_upload(job)
    assert not folder.exists()
