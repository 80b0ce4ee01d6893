"""A model trained as the app trains it: the real trainer in the queue's worker, on the fake data."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
import torch

from explorer.jobs.queue import Job, JobQueue, JobState
from explorer.jobs.training import (
    SharedData,
    TrainingProgress,
    TrainSettings,
    cancelled_message,
    run_progress,
    train_job,
)
from vae.checkpoint import load_checkpoint, open_checkpoint
from vae.data import MnistSplit
from vae.snapshots import read_record


@pytest.fixture
def shared(fake_train: MnistSplit, fake_test: MnistSplit) -> SharedData:
    return SharedData(fake_train, fake_test)


def queue_for(shared: SharedData, folder: Path) -> JobQueue:
    return JobQueue(lambda job: train_job(job, shared, folder), limit=1)


def epochs_done(queue: JobQueue, job_id: str) -> int:
    return (queue.view(job_id).progress or TrainingProgress()).epoch


def test_a_run_records_every_epoch_and_leaves_a_checkpoint(shared: SharedData, tmp_path: Path) -> None:
    queue = queue_for(shared, tmp_path)
    job = queue.submit("s1", TrainSettings(kind="vae", latent_dim=2, epochs=2, lr=3e-3, seed=3))
    assert queue.join(60)
    view = queue.view(job.id)
    assert view.state is JobState.DONE, view.message
    assert view.message == "Trained 2 epochs."
    done: TrainingProgress = view.progress
    assert [h["epoch"] for h in done.history] == [0, 1, 2]
    assert done.history[0]["test"]["total"] > done.history[-1]["test"]["total"]  # it learned
    assert [e for e, _ in done.panels] == [0, 1, 2] and done.panels[0][1].shape == (16, 28, 28)
    assert [e for e, _ in done.codes] == [0, 1, 2]
    mu, logvar = done.codes[-1][1]
    assert mu.shape == (256, 2) and logvar.shape == (256, 2)  # the fake test set has 256 digits
    model = load_checkpoint(view.result)
    assert model.latent_dim == 2 and model.meta.epoch == 2
    assert not [t for t in threading.enumerate() if t.name.startswith("job-")]


def test_the_live_panel_is_the_runs_recorded_panel_with_every_digit(shared: SharedData, tmp_path: Path) -> None:
    queue = queue_for(shared, tmp_path)
    job = queue.submit("s1", TrainSettings(latent_dim=2, epochs=1, seed=3))
    assert queue.join(60)
    view = queue.view(job.id)
    tensors, meta = open_checkpoint(view.result)
    record = read_record(tensors, meta.epoch)
    assert np.array_equal(view.progress.panel_rows, record.panel_rows)
    assert set(shared.test.labels[view.progress.panel_rows].tolist()) == set(range(10))
    assert np.array_equal(view.progress.panels[-1][1].reshape(16, -1), record.panel_recon[-1])


@pytest.mark.slow
def test_the_training_set_is_shared_not_copied(
    shared: SharedData, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import vae.training

    seen = []
    original = vae.training.train_epoch

    def recording(run, images, *args, **kwargs):  # the real epoch, noting which tensor it reads
        seen.append(images.data_ptr())
        return original(run, images, *args, **kwargs)

    monkeypatch.setattr(vae.training, "train_epoch", recording)
    queue = queue_for(shared, tmp_path)
    queue.submit("s1", TrainSettings(latent_dim=2, epochs=1))
    assert queue.join(60)
    assert seen == [shared.train.images.data_ptr()]


def test_cancel_mid_epoch_keeps_the_last_finished_epoch(shared: SharedData, tmp_path: Path) -> None:
    queue = queue_for(shared, tmp_path)
    job = queue.submit("s1", TrainSettings(latent_dim=4, epochs=50))
    while epochs_done(queue, job.id) < 1:
        threading.Event().wait(0.01)
    queue.cancel(job.id, "you cancelled it")
    assert queue.join(30)
    view = queue.view(job.id)
    assert view.state is JobState.CANCELLED and view.progress.epoch < 50
    assert load_checkpoint(view.result).meta.epoch == view.progress.epoch
    assert view.message.startswith("Cancelled ") and f"epoch {view.progress.epoch} is kept" in view.message
    assert not [t for t in threading.enumerate() if t.name.startswith("job-")]


def test_cancel_before_the_first_epoch_leaves_no_file(shared: SharedData, tmp_path: Path) -> None:
    queue = queue_for(shared, tmp_path)
    job = queue.submit("s1", TrainSettings(latent_dim=4, epochs=50))
    queue.cancel(job.id)
    assert queue.join(30)
    assert queue.view(job.id).state is JobState.CANCELLED
    assert list(tmp_path.glob("*.safetensors")) == []


def test_a_run_that_diverges_stops_with_a_message(fake_test: MnistSplit, tmp_path: Path) -> None:
    images = fake_test.images.clone()
    images[5, 0] = float("nan")  # one broken pixel poisons the first epoch
    broken = MnistSplit(images, fake_test.labels, fake_test.md5)
    queue = queue_for(SharedData(broken, fake_test), tmp_path)
    job = queue.submit("s1", TrainSettings(latent_dim=2, epochs=3))
    assert queue.join(60)
    view = queue.view(job.id)
    assert view.state is JobState.FAILED
    assert view.message == "Stopped: the loss became NaN or infinite in epoch 1. Try a lower learning rate."
    assert view.result is None and list(tmp_path.glob("*.safetensors")) == []


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("latent_dim", 1, "d must be between 2 and 64"),
        ("latent_dim", 65, "d must be between 2 and 64"),
        ("beta", -0.1, "β must be between 0 and 10"),
        ("beta", float("nan"), "β must be between 0 and 10"),
        ("epochs", 51, "epochs must be between 1 and 50"),
        ("lr", 0.5, "learning rate must be between"),
        ("kind", "gan", "kind must be VAE or autoencoder"),
        ("seed", -1, "seed must be between 0"),
        ("batch_size", 100, "batch size must be one of 32, 64, 128, 256, 512"),
    ],
)
def test_settings_out_of_range_are_refused(field: str, value: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        TrainSettings(**{field: value})


def test_the_settings_describe_themselves_in_words() -> None:
    assert TrainSettings(epochs=1, latent_dim=2).describe() == "VAE, d = 2, β = 1, 1 epoch, batch 256, lr 0.001, seed 1"
    assert TrainSettings(kind="ae", epochs=10, batch_size=128).describe().startswith("autoencoder, d = 20, 10 epochs,")


def test_a_file_name_says_how_many_of_the_asked_epochs_a_run_holds() -> None:
    settings = TrainSettings(beta=4.0, epochs=10)
    assert settings.file_stem() == settings.file_stem(epochs_held=10) == "vae_d20_beta4_e10_s1"
    assert settings.file_stem(epochs_held=3) == "vae_d20_beta4_e3of10_s1"  # not a finished 3-epoch run's name
    assert TrainSettings(kind="ae", epochs=5, batch_size=128, seed=2).file_stem(2) == "ae_d20_e2of5_b128_s2"


def test_the_progress_line_says_the_time_left_from_the_steps_pace() -> None:
    assert run_progress(0, 0.0, 10, 0.0, 0.0) == (0.0, "Epoch 1 of 10 · 0 s")
    assert run_progress(0, 0.2, 10, 2.0, 0.5) == (0.02, "Epoch 1 of 10 · 2 s")  # too early to tell
    # The pace is the steps' own: 4 s for a quarter of the run, not the 5 s since the job started.
    assert run_progress(2, 0.5, 10, 5.0, 4.0) == (0.25, "Epoch 3 of 10 · 5 s · about 12 s left")
    assert run_progress(5, 0.0, 50, 31.0, 30.0) == (0.1, "Epoch 6 of 50 · 31 s · about 4 min left")  # 270 s
    assert run_progress(10, 0.0, 10, 21.0, 20.0) == (1.0, "Epoch 10 of 10 · 21 s")  # done: nothing left to say


def test_an_autoencoder_trains_without_a_kl_term(shared: SharedData, tmp_path: Path) -> None:
    queue = queue_for(shared, tmp_path)
    job = queue.submit("s1", TrainSettings(kind="ae", latent_dim=2, epochs=1))
    assert queue.join(60)
    view = queue.view(job.id)
    assert view.state is JobState.DONE
    assert view.progress.history[-1]["test"]["kl"] == 0 and view.progress.codes[-1][1][1] is None
    assert np.isfinite(torch.as_tensor(view.progress.codes[-1][1][0]).numpy()).all()


@pytest.mark.slow
def test_a_run_whose_session_left_leaves_no_file_in_a_temporary_folder(shared: SharedData, tmp_path: Path) -> None:
    alive = {"s1": True}
    queue = JobQueue(lambda job: train_job(job, shared, tmp_path), limit=1, is_alive=alive.get, grace_s=0.0)
    job = queue.submit("s1", TrainSettings(latent_dim=4, epochs=50))
    while epochs_done(queue, job.id) < 1:
        threading.Event().wait(0.01)
    alive["s1"] = False
    assert queue.join(30)
    assert queue.view(job.id).state is JobState.CANCELLED
    assert list(tmp_path.glob("*.safetensors")) == []


@pytest.mark.slow
def test_the_job_asks_for_its_threads_before_every_epoch(shared: SharedData, tmp_path: Path) -> None:
    asked: list[int] = []  # torch's setting in the worker thread each time the job asks

    def threads() -> int:
        asked.append(torch.get_num_threads())
        return 1 if len(asked) % 2 else 2  # as if another session came and went

    queue = JobQueue(lambda job: train_job(job, shared, tmp_path, threads), limit=1)
    job = queue.submit("s1", TrainSettings(kind="vae", latent_dim=2, epochs=2, lr=3e-3, seed=3))
    assert queue.join(60) and queue.view(job.id).state is JobState.DONE
    assert len(asked) == 4  # at the start, after epochs 0, 1 and 2
    answers = [1 if n % 2 else 2 for n in range(1, len(asked) + 1)]
    assert asked[1:] == answers[:-1]  # each answer was applied to the worker's own torch setting


def test_a_lone_session_trains_on_every_core_and_gives_one_back_when_others_come(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from explorer.service import jobs as train_service
    from explorer.settings import settings

    monkeypatch.delenv("VAE_TRAIN_THREADS", raising=False)
    monkeypatch.setattr(train_service, "active_sessions", lambda: 1)
    assert train_service.train_threads() == train_service.ALL_CORES
    monkeypatch.setattr(train_service, "active_sessions", lambda: 3)
    assert train_service.train_threads() == 1
    monkeypatch.setenv("VAE_TRAIN_THREADS", "2")  # the operator's choice wins
    settings.cache_clear()
    assert train_service.train_threads() == 2


@pytest.mark.slow
def test_a_trained_models_map_is_shown_before_its_scores_are_computed(
    checkpoint_copy: Path, fake_test: MnistSplit, monkeypatch: pytest.MonkeyPatch
) -> None:
    from explorer.jobs import maps
    from vae import atlas as atlas_module
    from vae import data

    monkeypatch.setattr(data, "load_mnist", lambda split, data_dir=None, progress=None: fake_test)
    monkeypatch.setattr("vae.quick_map.EARLY_ITERATIONS", 10)  # the order of the steps is tested here, not
    monkeypatch.setattr("vae.quick_map.LATE_ITERATIONS", 10)  # the map (tests/test_quick_map.py)
    job = Job(id="m1", owner="s1", payload=checkpoint_copy)
    seen: dict[str, object] = {}
    add_scores = atlas_module.add_scores

    def scores_after_the_map(checkpoint: Path, **kwargs: object) -> Path:
        seen["result"] = job.result  # the views may already show the map
        seen["scores"] = atlas_module.load_atlas(checkpoint).scores
        return add_scores(checkpoint, **kwargs)

    monkeypatch.setattr(maps, "add_scores", scores_after_the_map)
    assert maps.build_map(job, threads=lambda: 1) == "Its map is ready."
    assert job.progress == 1.0
    assert seen["result"] == atlas_module.atlas_path(checkpoint_copy) and seen["scores"] is None
    final = atlas_module.load_atlas(checkpoint_copy)
    assert final.method == "tsne" and final.scores is not None and len(final.scores.recon) == len(fake_test)


@pytest.mark.parametrize(("busy", "maps"), [((0, 0), 1), ((1, 0), 0), ((1, 2), 0)])
def test_the_warm_up_maps_only_while_no_job_would_lose_a_core_to_it(
    monkeypatch: pytest.MonkeyPatch, busy: tuple[int, int], maps: int
) -> None:
    from explorer.service import jobs as train_service

    warmed: list[str] = []
    monkeypatch.setattr(train_service, "training_data", lambda: warmed.append("data"))
    monkeypatch.setattr(train_service, "warm_up_map", lambda: warmed.append("map"))

    class Queue:
        def counts(self) -> tuple[int, int]:
            return busy

    train_service.warm_up_trainer(Queue())
    assert warmed == ["data"] + ["map"] * maps


def test_the_cancel_message_counts_epochs_as_the_progress_line() -> None:
    job = Job(id="job-1", owner="s1", payload=TrainSettings())
    job.cancel("you cancelled it")
    before = TrainingProgress()
    assert (
        cancelled_message(job, before) == "Cancelled before its first step (you cancelled it); no epoch had finished."
    )
    first = TrainingProgress(epoch_fraction=0.1)  # "Epoch 1 of 3": the first epoch, under way
    assert cancelled_message(job, first) == "Cancelled during epoch 1 (you cancelled it); no epoch had finished."
    job.publish(TrainingProgress(epoch=1), result="model 1")
    assert (
        cancelled_message(job, TrainingProgress(epoch=1))
        == "Cancelled after epoch 1 (you cancelled it); epoch 1 is kept."
    )
    second = TrainingProgress(epoch=1, epoch_fraction=0.1)
    assert cancelled_message(job, second) == "Cancelled during epoch 2 (you cancelled it); epoch 1 is kept."


def test_the_steps_time_is_counted_from_epoch_zeros_report() -> None:
    """The time left uses the steps' own pace, not the untrained model's evaluation before epoch 0's report."""
    assert TrainingProgress().training_seconds(at=100.0) == 0.0  # nothing reported yet
    assert TrainingProgress(first_report=90.0).training_seconds(at=100.0) == 10.0
