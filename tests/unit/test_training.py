"""The trainer on small fake data: learning, determinism, exact resume, per-epoch checkpoints, NaN guard."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import pytest
import torch

from support.fakes import FAKE_MD5, quiet
from vae.checkpoint import (
    CheckpointError,
    export_checkpoint,
    file_sha256,
    load_checkpoint,
    open_checkpoint,
    read_meta,
    write_checkpoint,
)
from vae.config import ModelConfig, TrainConfig
from vae.data import MnistSplit
from vae.evaluate import split_loss
from vae.latent import encode_all
from vae.model import build_model
from vae.training import TrainingDiverged, fit, learning_rate, resolve_device


def train(
    model_config: ModelConfig, config: TrainConfig, train_data: MnistSplit, test_data: MnistSplit, out: Path, **kw
) -> torch.nn.Module:
    kw.setdefault("log", quiet)
    return fit(model_config, config, train_data, test_data, out, device="cpu", progress=False, **kw)


def initial_model(model_config: ModelConfig, config: TrainConfig, train_data: MnistSplit) -> torch.nn.Module:
    """The model a run starts from, built here independently of the trainer."""
    torch.manual_seed(config.seed)
    model = build_model(model_config)  # PyTorch's init, as the seed gives it
    if config.output_bias_init == "data-mean":
        model.start_at_mean_image(train_data.images)
    return model


def numbers(meta: dict) -> list[dict]:
    """The history without its wall-clock seconds."""
    return [{k: v for k, v in entry.items() if k != "seconds"} for entry in meta["history"]]


def assert_same_run(path_a: Path, path_b: Path, ends_of_parts: tuple[int, ...] = ()) -> None:
    """Same tensors and numbers; `path_b` may also hold snapshots at `ends_of_parts`, the last epochs
    of the shorter runs it was resumed from (each kept its last epoch, as every run does)."""
    (tensors_a, meta_a), (tensors_b, meta_b) = open_checkpoint(path_a), open_checkpoint(path_b)
    extra = tuple(f"snapshot.{e}." for e in ends_of_parts)
    assert all(any(k.startswith(f"snapshot.{e}.") for k in tensors_b) for e in ends_of_parts)
    tensors_b = {k: v for k, v in tensors_b.items() if not k.startswith(extra) or k in tensors_a}
    assert sorted(tensors_a) == sorted(tensors_b)
    for name in tensors_a:
        assert torch.equal(tensors_a[name], tensors_b[name]), name
    assert numbers(meta_a.raw) == numbers(meta_b.raw)
    assert meta_a.epoch == meta_b.epoch
    assert meta_a.raw["optimizer"] == meta_b.raw["optimizer"]


# ---------------------------------------------------------------- learning and determinism


def test_loss_decreases(trained_checkpoint: Path, fake_test: MnistSplit, small_model_config: ModelConfig) -> None:
    meta = read_meta(trained_checkpoint).raw
    train_totals = [h["train"]["total"] for h in meta["history"]]
    test_totals = [h["test"]["total"] for h in meta["history"]]
    assert [h["epoch"] for h in meta["history"]] == [0, 1, 2, 3]  # epoch 0: before the first step
    assert train_totals == sorted(train_totals, reverse=True)
    assert test_totals == sorted(test_totals, reverse=True)
    torch.manual_seed(0)
    untrained = build_model(small_model_config).eval()
    before = split_loss(untrained, fake_test.images)["total"]
    assert test_totals[-1] < before - 30  # tens of nats better than the untrained model


def test_fit_returns_the_saved_model_in_eval_mode(
    tmp_path: Path, small_model_config: ModelConfig, fake_train: MnistSplit, fake_test: MnistSplit
) -> None:
    out = tmp_path / "m.safetensors"
    model = train(small_model_config, TrainConfig(epochs=1, batch_size=64, seed=0), fake_train, fake_test, out)
    assert not model.training
    loaded = load_checkpoint(out)
    with torch.no_grad():
        assert torch.equal(model(fake_test.images)[0], loaded(fake_test.images)[0])
    meta = loaded.meta.raw
    assert meta["data_md5"] == {"train": FAKE_MD5, "test": FAKE_MD5}
    assert meta["device"] == "cpu"
    assert TrainConfig.from_dict(meta["train"]) == TrainConfig(epochs=1, batch_size=64, seed=0)
    assert ModelConfig.from_dict(meta["model"]) == small_model_config


def test_same_seed_same_numbers(
    tmp_path: Path,
    small_model_config: ModelConfig,
    small_train_config: TrainConfig,
    fake_train: MnistSplit,
    fake_test: MnistSplit,
) -> None:
    config = dataclasses.replace(small_train_config, epochs=2)
    for name in ("a", "b"):
        train(small_model_config, config, fake_train, fake_test, tmp_path / f"{name}.safetensors")
    assert_same_run(tmp_path / "a.safetensors", tmp_path / "b.safetensors")

    other = tmp_path / "other_seed.safetensors"
    train(small_model_config, dataclasses.replace(config, seed=1), fake_train, fake_test, other)
    a, c = open_checkpoint(tmp_path / "a.safetensors"), open_checkpoint(other)
    assert not torch.equal(a[0]["model.encoder.0.weight"], c[0]["model.encoder.0.weight"])
    assert numbers(a[1].raw) != numbers(c[1].raw)


def test_bf16_matmuls_learn_as_well_and_stay_deterministic(
    tmp_path: Path,
    small_model_config: ModelConfig,
    small_train_config: TrainConfig,
    fake_train: MnistSplit,
    fake_test: MnistSplit,
) -> None:
    config = dataclasses.replace(small_train_config, epochs=3)
    fp32 = tmp_path / "fp32.safetensors"
    train(small_model_config, config, fake_train, fake_test, fp32)
    bf16 = [tmp_path / f"bf16_{i}.safetensors" for i in range(2)]
    for path in bf16:
        model = train(small_model_config, dataclasses.replace(config, precision="bf16"), fake_train, fake_test, path)
    assert_same_run(*bf16)
    assert next(model.parameters()).dtype == torch.float32  # only the products are bf16, not the weights
    meta32, meta16 = read_meta(fp32).raw, read_meta(bf16[0]).raw
    assert meta16["train"]["precision"] == "bf16"
    assert meta16["history"][-1]["test"]["total"] == pytest.approx(meta32["history"][-1]["test"]["total"], abs=1.0)


def test_unknown_precision_is_refused() -> None:
    with pytest.raises(ValueError, match="precision"):
        TrainConfig(precision="fp8")


def test_resume_equals_an_uninterrupted_run(
    tmp_path: Path,
    small_model_config: ModelConfig,
    small_train_config: TrainConfig,
    fake_train: MnistSplit,
    fake_test: MnistSplit,
) -> None:
    whole, pieces = tmp_path / "whole.safetensors", tmp_path / "pieces.safetensors"
    model_whole = train(small_model_config, small_train_config, fake_train, fake_test, whole)
    train(small_model_config, dataclasses.replace(small_train_config, epochs=1), fake_train, fake_test, pieces)
    assert read_meta(pieces).raw["epoch"] == 1
    torch.manual_seed(12345)  # the run draws from its own generators: the global RNG plays no part
    model_pieces = train(small_model_config, small_train_config, fake_train, fake_test, pieces, resume=True)
    for key, value in model_whole.state_dict().items():
        assert torch.equal(value, model_pieces.state_dict()[key]), key
    assert_same_run(whole, pieces, ends_of_parts=(1,))


def test_training_leaves_the_global_rng_alone_and_saves_its_noise_generator(
    tmp_path: Path,
    small_model_config: ModelConfig,
    small_train_config: TrainConfig,
    fake_train: MnistSplit,
    fake_test: MnistSplit,
) -> None:
    torch.manual_seed(777)
    before = torch.get_rng_state()
    train(small_model_config, small_train_config, fake_train, fake_test, tmp_path / "run.safetensors")
    assert torch.equal(torch.get_rng_state(), before)
    tensors, _ = open_checkpoint(tmp_path / "run.safetensors")
    assert {"rng.shuffle", "rng.noise"} <= set(tensors) and "rng.torch" not in tensors


def test_resume_after_an_interruption_with_the_cosine_schedule(
    tmp_path: Path,
    small_model_config: ModelConfig,
    small_train_config: TrainConfig,
    fake_train: MnistSplit,
    fake_test: MnistSplit,
) -> None:
    config = dataclasses.replace(small_train_config, lr_schedule="cosine")
    whole, interrupted = tmp_path / "whole.safetensors", tmp_path / "interrupted.safetensors"
    train(small_model_config, config, fake_train, fake_test, whole)

    def stop_after_first_epoch(message: str) -> None:
        if message.startswith("epoch   1"):
            raise KeyboardInterrupt  # Ctrl-C right after epoch 1 was saved

    with pytest.raises(KeyboardInterrupt):
        train(small_model_config, config, fake_train, fake_test, interrupted, log=stop_after_first_epoch)
    assert read_meta(interrupted).raw["epoch"] == 1
    train(small_model_config, config, fake_train, fake_test, interrupted, resume=True)
    assert_same_run(whole, interrupted)


def test_a_checkpoint_is_written_after_every_epoch(
    tmp_path: Path,
    small_model_config: ModelConfig,
    small_train_config: TrainConfig,
    fake_train: MnistSplit,
    fake_test: MnistSplit,
) -> None:
    out = tmp_path / "m.safetensors"
    on_disk = []

    def look_at_the_file(message: str) -> None:  # called once per epoch, after its save
        if not message.startswith("epoch"):
            return
        meta = read_meta(out).raw
        on_disk.append((int(message.split()[1]), meta["epoch"], len(meta["history"])))

    train(small_model_config, small_train_config, fake_train, fake_test, out, log=look_at_the_file)
    assert on_disk == [(1, 1, 2), (2, 2, 3), (3, 3, 4)]  # the history starts with epoch 0


@pytest.mark.parametrize("bias_init", ["data-mean", "torch-default"])
def test_zero_epochs_writes_the_initial_model(
    tmp_path: Path, small_model_config: ModelConfig, fake_train: MnistSplit, fake_test: MnistSplit, bias_init: str
) -> None:
    out = tmp_path / "m.safetensors"
    train(small_model_config, TrainConfig(epochs=0, seed=3, output_bias_init=bias_init), fake_train, fake_test, out)
    tensors, checked = open_checkpoint(out)
    meta = checked.raw
    assert meta["epoch"] == 0 and [h["epoch"] for h in meta["history"]] == [0]
    assert meta["metrics"] == meta["history"][0]  # the losses before any step
    assert meta["history"][0]["test"]["total"] > 200
    assert meta["train"]["output_bias_init"] == bias_init
    initial = initial_model(small_model_config, TrainConfig(seed=3, output_bias_init=bias_init), fake_train)
    for key, value in initial.state_dict().items():
        assert torch.equal(tensors[f"model.{key}"], value), key
    torch_bias = initial_model(small_model_config, TrainConfig(seed=3, output_bias_init="torch-default"), fake_train)
    moved = not torch.equal(tensors["model.decoder.2.bias"], torch_bias.decoder[2].bias)
    assert moved == (bias_init == "data-mean")


def test_epoch_0_training_loss_is_measured_on_the_first_images(
    tmp_path: Path,
    small_model_config: ModelConfig,
    fake_train: MnistSplit,
    fake_test: MnistSplit,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import vae.training

    monkeypatch.setattr(vae.training, "STARTING_TRAIN_IMAGES", 100)  # of the fake set's 512
    out = tmp_path / "m.safetensors"
    train(small_model_config, TrainConfig(epochs=0, seed=3), fake_train, fake_test, out)
    start = read_meta(out).raw["history"][0]
    model = initial_model(small_model_config, TrainConfig(seed=3), fake_train).eval()
    with torch.no_grad():
        assert start["train"] == split_loss(model, fake_train.images[:100], seed=0)
        assert start["test"] == split_loss(model, fake_test.images, seed=0)  # the test set stays whole
        assert start["train"] != split_loss(model, fake_train.images, seed=0)


def test_a_checkpoint_from_before_the_bias_choice_reads_as_torch_default() -> None:
    saved = {k: v for k, v in TrainConfig().to_dict().items() if k != "output_bias_init"}
    assert TrainConfig.from_dict(saved).output_bias_init == "torch-default"
    with pytest.raises(ValueError, match="output bias init"):
        TrainConfig(output_bias_init="zeros")


def test_resume_of_a_finished_run_does_nothing(
    checkpoint_copy: Path, fake_train: MnistSplit, fake_test: MnistSplit
) -> None:
    meta = read_meta(checkpoint_copy).raw
    before = file_sha256(checkpoint_copy)
    messages: list[str] = []
    train(
        ModelConfig.from_dict(meta["model"]),
        TrainConfig.from_dict(meta["train"]),
        fake_train,
        fake_test,
        checkpoint_copy,
        resume=True,
        log=messages.append,
    )
    assert messages == [f"{checkpoint_copy} is already at epoch 3 of 3; nothing to do"]
    assert file_sha256(checkpoint_copy) == before


def test_more_epochs_on_resume(checkpoint_copy: Path, fake_train: MnistSplit, fake_test: MnistSplit) -> None:
    meta = read_meta(checkpoint_copy).raw
    config = dataclasses.replace(TrainConfig.from_dict(meta["train"]), epochs=4)
    train(ModelConfig.from_dict(meta["model"]), config, fake_train, fake_test, checkpoint_copy, resume=True)
    new_meta = read_meta(checkpoint_copy).raw
    assert new_meta["epoch"] == 4
    assert numbers(new_meta)[:4] == numbers(meta)  # epochs 0–3 kept as they were
    assert new_meta["train"]["epochs"] == 4


# ---------------------------------------------------------------- divergence


def test_a_huge_learning_rate_stops_with_the_last_good_epoch_on_disk(
    tmp_path: Path, small_model_config: ModelConfig, fake_train: MnistSplit, fake_test: MnistSplit
) -> None:
    out = tmp_path / "m.safetensors"
    config = TrainConfig(epochs=3, batch_size=64, lr=1e6, seed=0, snapshot_epochs=())
    with pytest.raises(TrainingDiverged) as info:
        train(small_model_config, config, fake_train, fake_test, out)
    message = str(info.value)
    assert "epoch 1" in message
    assert f"{out} still holds epoch 0" in message
    assert "--lr" in message
    loaded = load_checkpoint(out)
    assert loaded.meta.raw["epoch"] == 0
    initial = initial_model(small_model_config, config, fake_train)
    for key, value in initial.state_dict().items():
        assert torch.equal(loaded.state_dict()[key], value)


def test_nan_data_stops_and_leaves_the_file_untouched(
    tmp_path: Path,
    small_model_config: ModelConfig,
    small_train_config: TrainConfig,
    fake_train: MnistSplit,
    fake_test: MnistSplit,
) -> None:
    out = tmp_path / "m.safetensors"
    train(small_model_config, dataclasses.replace(small_train_config, epochs=1), fake_train, fake_test, out)
    before = file_sha256(out)
    images = fake_train.images.clone()
    images[100, 300] = float("nan")
    poisoned = MnistSplit(images, fake_train.labels, fake_train.md5)
    with pytest.raises(TrainingDiverged, match=r"the training loss became nan in epoch 2.*still holds epoch 1"):
        train(small_model_config, small_train_config, poisoned, fake_test, out, resume=True)
    assert file_sha256(out) == before
    assert load_checkpoint(out).meta.raw["epoch"] == 1


def test_a_nan_test_loss_is_divergence_too(
    tmp_path: Path, small_model_config: ModelConfig, fake_train: MnistSplit, fake_test: MnistSplit
) -> None:
    # one batch per epoch: the training loss of an epoch is that of the weights before its only update
    one_batch = MnistSplit(fake_train.images[:64], fake_train.labels[:64], fake_train.md5)
    out = tmp_path / "m.safetensors"
    config = TrainConfig(epochs=3, batch_size=64, lr=1e6, seed=0, snapshot_epochs=())
    with pytest.raises(TrainingDiverged):
        train(small_model_config, config, one_batch, fake_test, out)
    history = read_meta(out).raw["history"]
    assert all(math.isfinite(h["test"]["total"]) for h in history), history


# ---------------------------------------------------------------- snapshots


def test_snapshots_at_the_configured_epochs(
    trained_checkpoint: Path, fake_test: MnistSplit, small_model_config: ModelConfig
) -> None:
    tensors, _ = open_checkpoint(trained_checkpoint)
    codes = sorted(k for k in tensors if k.startswith("snapshot.") and ".weight." not in k)
    # the configured epochs 0 and 2, and the last one (3)
    assert codes == [f"snapshot.{e}.{part}" for e in (0, 2, 3) for part in ("logvar", "mu")]
    for key in ("snapshot.0.mu", "snapshot.0.logvar", "snapshot.2.mu", "snapshot.2.logvar"):
        assert tensors[key].dtype == torch.float16
        assert tensors[key].shape == (len(fake_test), 4)
    torch.manual_seed(0)
    initial = build_model(small_model_config)
    mu, logvar = encode_all(initial, fake_test.images)
    assert torch.equal(tensors["snapshot.0.mu"], mu.half())
    assert torch.equal(tensors["snapshot.0.logvar"], logvar.half())
    assert not torch.equal(tensors["snapshot.2.mu"], tensors["snapshot.0.mu"])


def test_autoencoder_snapshots_have_no_logvar(tmp_path: Path, fake_train: MnistSplit, fake_test: MnistSplit) -> None:
    out = tmp_path / "ae.safetensors"
    config = TrainConfig(epochs=1, batch_size=64, seed=0, snapshot_epochs=(0, 1))
    model = train(ModelConfig(kind="ae", hidden_dim=32, latent_dim=3), config, fake_train, fake_test, out)
    tensors, checked = open_checkpoint(out)
    meta = checked.raw
    codes = sorted(k for k in tensors if k.startswith("snapshot.") and ".weight." not in k)
    assert codes == ["snapshot.0.mu", "snapshot.1.mu"]
    assert torch.equal(tensors["snapshot.1.mu"], encode_all(model, fake_test.images)[0].half())
    assert meta["kind"] == "ae"
    assert all(h["train"]["kl"] == 0.0 and h["test"]["kl"] == 0.0 for h in meta["history"])


# ---------------------------------------------------------------- what resume refuses


def test_resume_refuses_another_architecture(
    checkpoint_copy: Path, fake_train: MnistSplit, fake_test: MnistSplit
) -> None:
    meta = read_meta(checkpoint_copy).raw
    config = TrainConfig.from_dict(meta["train"])
    with pytest.raises(CheckpointError, match="was trained with") as info:
        train(ModelConfig(hidden_dim=16, latent_dim=4), config, fake_train, fake_test, checkpoint_copy, resume=True)
    assert str(checkpoint_copy) in str(info.value)


@pytest.mark.parametrize(
    "change", [{"lr": 1e-2}, {"batch_size": 32}, {"beta": 2.0}, {"seed": 5}, {"output_bias_init": "torch-default"}]
)
def test_resume_refuses_another_training_config(
    checkpoint_copy: Path, fake_train: MnistSplit, fake_test: MnistSplit, change: dict
) -> None:
    meta = read_meta(checkpoint_copy).raw
    config = dataclasses.replace(TrainConfig.from_dict(meta["train"]), epochs=5, **change)
    before = file_sha256(checkpoint_copy)
    with pytest.raises(CheckpointError, match="only --epochs may change") as info:
        train(ModelConfig.from_dict(meta["model"]), config, fake_train, fake_test, checkpoint_copy, resume=True)
    assert str(checkpoint_copy) in str(info.value)
    assert file_sha256(checkpoint_copy) == before


def test_resume_refuses_an_exported_checkpoint(
    trained_checkpoint: Path, tmp_path: Path, fake_train: MnistSplit, fake_test: MnistSplit
) -> None:
    exported = tmp_path / "exported.safetensors"
    export_checkpoint(trained_checkpoint, exported)
    meta = read_meta(exported).raw
    config = dataclasses.replace(TrainConfig.from_dict(meta["train"]), epochs=4)
    with pytest.raises(CheckpointError, match="exported") as info:
        train(ModelConfig.from_dict(meta["model"]), config, fake_train, fake_test, exported, resume=True)
    assert str(exported) in str(info.value)


def test_resume_refuses_optimizer_state_of_another_layout(
    checkpoint_copy: Path, fake_train: MnistSplit, fake_test: MnistSplit
) -> None:
    # An optimizer state kept for one flat parameter, as the trainer with a hand-written backward wrote it.
    tensors, checked = open_checkpoint(checkpoint_copy)
    meta = checked.raw
    meta["optimizer"]["param_groups"][0]["params"] = [0]
    write_checkpoint(checkpoint_copy, tensors, meta)
    before = file_sha256(checkpoint_copy)
    config = dataclasses.replace(TrainConfig.from_dict(meta["train"]), epochs=5)
    with pytest.raises(CheckpointError, match="optimizer state does not fit") as info:
        train(ModelConfig.from_dict(meta["model"]), config, fake_train, fake_test, checkpoint_copy, resume=True)
    assert str(checkpoint_copy) in str(info.value)
    assert file_sha256(checkpoint_copy) == before


def test_resume_of_a_missing_file(tmp_path: Path, small_model_config: ModelConfig, fake_train, fake_test) -> None:
    with pytest.raises(CheckpointError, match="no such checkpoint file"):
        train(small_model_config, TrainConfig(), fake_train, fake_test, tmp_path / "none.safetensors", resume=True)


# ---------------------------------------------------------------- devices and schedules


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_asking_for_absent_cuda_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="'cuda' is not available on this machine"):
        resolve_device("cuda")


def test_resolve_device() -> None:
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device("auto").type in ("cuda", "mps", "cpu")
    with pytest.raises(ValueError, match="unknown device 'tpu'"):
        resolve_device("tpu")


def test_cosine_schedule_values() -> None:
    config = TrainConfig(lr=0.01, lr_schedule="cosine")
    assert learning_rate(config, 0, 100) == 0.01
    assert learning_rate(config, 50, 100) == pytest.approx(0.005, abs=1e-15)
    assert learning_rate(config, 25, 100) == pytest.approx(0.01 * 0.5 * (1 + math.sqrt(0.5)))
    assert learning_rate(config, 100, 100) == pytest.approx(0.0, abs=1e-15)
    assert learning_rate(config, 150, 100) == pytest.approx(0.0, abs=1e-15)
    steps = [learning_rate(config, s, 100) for s in range(101)]
    assert steps == sorted(steps, reverse=True)
    constant = TrainConfig(lr=0.01)
    assert {learning_rate(constant, s, 100) for s in (0, 50, 100)} == {0.01}


def test_training_follows_the_cosine_schedule(
    tmp_path: Path, small_model_config: ModelConfig, fake_train: MnistSplit, fake_test: MnistSplit
) -> None:
    out = tmp_path / "m.safetensors"
    config = TrainConfig(epochs=2, batch_size=64, lr=0.01, lr_schedule="cosine", seed=0, snapshot_epochs=())
    train(small_model_config, config, fake_train, fake_test, out)
    total_steps = 2 * math.ceil(len(fake_train) / 64)
    last_lr = read_meta(out).raw["optimizer"]["param_groups"][0]["lr"]
    assert last_lr == pytest.approx(learning_rate(config, total_steps - 1, total_steps))
    assert last_lr < 0.001


# ---------------------------------------------------------------- TrainConfig


@pytest.mark.parametrize(
    "kwargs",
    [{"epochs": -1}, {"batch_size": 0}, {"lr": 0.0}, {"lr": -1e-3}, {"beta": -0.5}, {"lr_schedule": "linear"}],
)
def test_train_config_rejects_bad_values(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        TrainConfig(**kwargs)


def test_train_config_round_trip() -> None:
    config = TrainConfig(epochs=4, snapshot_epochs=(4, 0, 2, 2), lr_schedule="cosine", beta=0.5)
    assert config.snapshot_epochs == (0, 2, 4)
    assert config.to_dict()["snapshot_epochs"] == [0, 2, 4]
    assert TrainConfig.from_dict(config.to_dict()) == config
    with pytest.raises(ValueError, match="epoch"):
        TrainConfig.from_dict({**config.to_dict(), "epoch": 3})


def test_the_hooks_see_every_batch_and_every_epoch_and_can_stop_the_run(
    tmp_path: Path, fake_train: MnistSplit, fake_test: MnistSplit, small_model_config: ModelConfig
) -> None:
    from vae.checkpoint import read_meta

    config = TrainConfig(epochs=5, batch_size=128, seed=0, snapshot_epochs=())
    batches: list[tuple[int, int]] = []
    epochs: list[int] = []

    class Stop(Exception):
        pass

    def on_batch(seen: int, total: int) -> None:
        batches.append((seen, total))
        if len(epochs) == 3 and seen >= 256:  # stop in the middle of the third epoch
            raise Stop

    out = tmp_path / "hooked.safetensors"
    with pytest.raises(Stop):
        fit(
            small_model_config,
            config,
            fake_train,
            fake_test,
            out,
            device="cpu",
            progress=False,
            log=quiet,
            on_batch=on_batch,
            on_epoch=lambda run: epochs.append(run.epoch),
        )
    assert epochs == [0, 1, 2]
    assert batches[:4] == [(128, 512), (256, 512), (384, 512), (512, 512)]
    assert read_meta(out).epoch == 2  # the file holds the last finished epoch
