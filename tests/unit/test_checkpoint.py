"""Checkpoints: round trip, every kind of bad file rejected by name, atomic writes, export."""

from __future__ import annotations

import json
import os
import pickle
import struct
from pathlib import Path

import pytest
import torch
from safetensors.torch import save, save_file

from vae.checkpoint import (
    FORMAT,
    CheckpointError,
    export_checkpoint,
    file_sha256,
    load_checkpoint,
    model_tensors,
    open_checkpoint,
    read_meta,
    tensors_digest,
    write_checkpoint,
)
from vae.config import ModelConfig
from vae.meta import CheckpointMeta
from vae.model import build_model

X = torch.rand(6, 784, generator=torch.Generator().manual_seed(3))


def small_model(kind: str = "vae", hidden: int = 16, d: int = 3, seed: int = 0) -> torch.nn.Module:
    torch.manual_seed(seed)
    return build_model(ModelConfig(kind=kind, hidden_dim=hidden, latent_dim=d)).eval()


def save_model(path: Path, model: torch.nn.Module, **extra: object) -> None:
    write_checkpoint(path, model_tensors(model), {"model": model.config.to_dict(), **extra})


def header_of(path: Path) -> tuple[int, dict]:
    """(header length, header JSON) of a safetensors file: 8 bytes little-endian length, then JSON."""
    raw = path.read_bytes()
    (length,) = struct.unpack("<Q", raw[:8])
    return length, json.loads(raw[8 : 8 + length])


def assert_rejected(path: Path, *fragments: str) -> CheckpointError:
    with pytest.raises(CheckpointError) as info:
        load_checkpoint(path)
    message = str(info.value)
    # One line naming the file by its own name: an upload's temporary folder is never shown.
    assert message.startswith(f"{path.name}: ") and str(path.parent) not in message
    assert "\n" not in message and len(message) <= 200
    for fragment in fragments:
        assert fragment in message
    return info.value


# ---------------------------------------------------------------- round trip


@pytest.mark.parametrize("kind", ["vae", "ae"])
def test_round_trip_gives_the_same_outputs(tmp_path: Path, kind: str) -> None:
    model = small_model(kind)
    path = tmp_path / "m.safetensors"
    save_model(path, model, epoch=7)
    loaded = load_checkpoint(path)
    assert type(loaded) is type(model)
    assert loaded.config == model.config
    assert not loaded.training
    assert loaded.checkpoint_path == path
    assert loaded.meta.epoch == 7
    with torch.no_grad():
        for before, after in zip(model(X), loaded(X), strict=True):
            assert (before is None and after is None) or torch.equal(before, after)
    for key, value in model.state_dict().items():
        assert torch.equal(value, loaded.state_dict()[key])


def test_written_metadata(tmp_path: Path) -> None:
    model = small_model()
    path = tmp_path / "m.safetensors"
    save_model(path, model, epoch=1)
    tensors, checked = open_checkpoint(path)
    meta = checked.raw
    assert {"model", "weights_sha256", "versions", "epoch"} <= set(meta)
    assert meta["weights_sha256"] == tensors_digest(model_tensors(model))
    assert {"python", "torch", "numpy", "safetensors"} <= set(meta["versions"])
    assert set(tensors) == {"model." + k for k in model.state_dict()}


def test_trainer_checkpoint_metadata_keys(trained_checkpoint: Path) -> None:
    model = load_checkpoint(trained_checkpoint)
    expected = {"model", "kind", "train", "epoch", "history", "metrics", "data_md5", "device", "optimizer"}
    meta = model.meta.raw
    assert expected | {"weights_sha256", "versions"} <= set(meta)
    assert meta["epoch"] == 3
    assert meta["kind"] == "vae"
    assert meta["metrics"] == meta["history"][-1]


def test_digest_sees_every_weight(tmp_path: Path) -> None:
    tensors = model_tensors(small_model())
    digest = tensors_digest(tensors)
    for name in tensors:
        changed = dict(tensors)
        changed[name] = tensors[name].clone()
        changed[name].view(-1)[0] += 1.0
        assert tensors_digest(changed) != digest, name
    # optimizer state and snapshots are not weights: they do not enter the weights' digest
    assert tensors_digest({**tensors, "snapshot.0.mu": torch.zeros(2, 3)}) == digest


# ---------------------------------------------------------------- bad files


def test_missing_file(tmp_path: Path) -> None:
    assert_rejected(tmp_path / "nothing.safetensors", "no such checkpoint file")


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.safetensors"
    path.write_bytes(b"")
    assert_rejected(path, "not a readable safetensors checkpoint")


def test_truncated_file(tmp_path: Path) -> None:
    path = tmp_path / "cut.safetensors"
    save_model(path, small_model())
    raw = path.read_bytes()
    path.write_bytes(raw[: len(raw) // 2])
    assert_rejected(path, "not a readable safetensors checkpoint")


def test_torch_save_pickle(tmp_path: Path) -> None:
    path = tmp_path / "model.pt.safetensors"
    torch.save(small_model().state_dict(), path)
    assert_rejected(path, "not a readable safetensors checkpoint")


def test_plain_pickle(tmp_path: Path) -> None:
    path = tmp_path / "pickled.safetensors"
    path.write_bytes(pickle.dumps({k: v.numpy() for k, v in small_model().state_dict().items()}))
    assert_rejected(path, "not a readable safetensors checkpoint")


def test_text_file(tmp_path: Path) -> None:
    path = tmp_path / "notes.safetensors"
    path.write_text("this is not a checkpoint\n" * 20)
    assert_rejected(path, "not a readable safetensors checkpoint")


def test_safetensors_without_our_format(tmp_path: Path) -> None:
    path = tmp_path / "foreign.safetensors"
    save_file(model_tensors(small_model()), str(path))
    assert_rejected(path, "not a VAE explorer checkpoint")
    save_file(model_tensors(small_model()), str(path), metadata={"format": "pt"})
    assert_rejected(path, "not a VAE explorer checkpoint")


@pytest.mark.parametrize(
    ("kind", "hidden", "d"),
    [("vae", 400, 3), ("vae", 16, 5), ("ae", 16, 3)],
)
def test_weights_of_another_architecture(tmp_path: Path, kind: str, hidden: int, d: int) -> None:
    path = tmp_path / "other.safetensors"
    # real weights of a VAE with hidden 16, d 3; metadata claims another architecture
    write_checkpoint(
        path, model_tensors(small_model("vae", 16, 3)), {"model": ModelConfig(kind, 784, hidden, d).to_dict()}
    )
    # Refused from the header alone, before a weight is read or a model built.
    with pytest.raises(CheckpointError, match="do not fit the architecture"):
        read_meta(path)
    assert_rejected(path, "do not fit the architecture")


def test_flipped_byte_in_the_weights(tmp_path: Path) -> None:
    path = tmp_path / "flipped.safetensors"
    save_model(path, small_model())
    length, header = header_of(path)
    start, end = header["model.encoder.0.weight"]["data_offsets"]
    raw = bytearray(path.read_bytes())
    raw[8 + length + (start + end) // 2] ^= 0x01  # one bit of one weight
    path.write_bytes(bytes(raw))
    assert_rejected(path, "SHA-256")


def test_flipped_byte_in_a_snapshot(tmp_path: Path) -> None:
    path = tmp_path / "flipped-state.safetensors"
    model = small_model()
    write_checkpoint(
        path, {**model_tensors(model), "snapshot.0.mu": torch.ones(50, 3)}, {"model": model.config.to_dict()}
    )
    length, header = header_of(path)
    start, end = header["snapshot.0.mu"]["data_offsets"]
    raw = bytearray(path.read_bytes())
    raw[8 + length + (start + end) // 2] ^= 0x01
    path.write_bytes(bytes(raw))
    assert_rejected(path, "snapshot", "SHA-256")


@pytest.mark.parametrize(
    "meta",
    [
        "{not json",
        json.dumps({"weights_sha256": "0"}),  # no model config
        json.dumps({"model": {"kind": "vae", "hiden_dim": 3}}),  # unknown field
        json.dumps({"model": {"kind": "diffusion"}}),
        json.dumps(["model"]),
    ],
)
def test_damaged_metadata(tmp_path: Path, meta: str) -> None:
    path = tmp_path / "meta.safetensors"
    path.write_bytes(save(model_tensors(small_model()), metadata={"format": FORMAT, "meta": meta}))
    assert_rejected(path, "metadata is damaged")


def test_metadata_without_meta_entry(tmp_path: Path) -> None:
    path = tmp_path / "meta.safetensors"
    path.write_bytes(save(model_tensors(small_model()), metadata={"format": FORMAT}))
    assert_rejected(path, "metadata is damaged")


def test_errors_are_checkpoint_errors_from_open_checkpoint_too(tmp_path: Path) -> None:
    path = tmp_path / "junk.safetensors"
    path.write_bytes(os.urandom(256))
    with pytest.raises(CheckpointError, match=r"^junk\.safetensors: "):
        open_checkpoint(path)


# ---------------------------------------------------------------- atomic write


@pytest.mark.parametrize("crash", [OSError("simulated crash before the rename"), KeyboardInterrupt()])
def test_a_crash_during_save_keeps_the_old_checkpoint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, crash: BaseException
) -> None:
    path = tmp_path / "m.safetensors"
    old = small_model(seed=0)
    save_model(path, old, epoch=1)
    before = path.read_bytes()

    def crashing_replace(src: str, dst: str) -> None:
        assert Path(src).is_file()  # the new file was fully written; the crash comes before the rename
        raise crash

    monkeypatch.setattr(os, "replace", crashing_replace)
    with pytest.raises(type(crash)):
        save_model(path, small_model(seed=1), epoch=2)
    monkeypatch.undo()

    assert path.read_bytes() == before
    loaded = load_checkpoint(path)
    assert loaded.meta.epoch == 1
    with torch.no_grad():
        assert torch.equal(loaded(X)[0], old(X)[0])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.safetensors"]  # no temporary left behind


def test_save_replaces_the_old_file(tmp_path: Path) -> None:
    path = tmp_path / "m.safetensors"
    save_model(path, small_model(seed=0), epoch=1)
    save_model(path, small_model(seed=1), epoch=2)
    assert load_checkpoint(path).meta.epoch == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.safetensors"]


# ---------------------------------------------------------------- export


def test_export_is_float16_without_optimizer_or_rng(trained_checkpoint: Path, tmp_path: Path) -> None:
    dst = tmp_path / "small.safetensors"
    source_sha = file_sha256(trained_checkpoint)
    meta = export_checkpoint(trained_checkpoint, dst)
    (src_tensors, src_checked), (tensors, saved_checked) = open_checkpoint(trained_checkpoint), open_checkpoint(dst)
    src_meta, saved_meta = src_checked.raw, saved_checked.raw

    assert any(k.startswith("optim.") for k in src_tensors)
    assert any(k.startswith("rng.") for k in src_tensors)
    assert not any(k.startswith(("optim.", "rng.")) for k in tensors)
    assert "optimizer" not in saved_meta
    assert meta["weights_dtype"] == saved_meta["weights_dtype"] == "float16"
    model_keys = [k for k in tensors if k.startswith("model.")]
    assert sorted(model_keys) == sorted(k for k in src_tensors if k.startswith("model."))
    assert all(tensors[k].dtype == torch.float16 for k in model_keys)

    # the training record is cut to the shipped form (tests/test_snapshots.py): decoders, no test codes at d = 4
    assert any(k.startswith("snapshot.0.q8.decoder.") for k in tensors)
    assert not any(k.startswith("snapshot.") and k.endswith((".mu", ".logvar")) for k in tensors)
    assert torch.equal(tensors["panel.recon"], src_tensors["panel.recon"])  # 4 epochs: all kept
    for key in ("history", "train", "model", "epoch", "data_md5"):
        assert saved_meta[key] == src_meta[key]

    original, small = load_checkpoint(trained_checkpoint), load_checkpoint(dst)
    assert dst.stat().st_size < trained_checkpoint.stat().st_size
    with torch.no_grad():
        assert torch.allclose(small.decode(original.encode(X)[0]), original.decode(original.encode(X)[0]), atol=2e-3)
        assert torch.allclose(small.encode(X)[0], original.encode(X)[0], atol=2e-2)
    assert file_sha256(trained_checkpoint) == source_sha  # the source is untouched


# ---------------------------------------------------------------- typed metadata


def test_typed_metadata_of_a_trained_checkpoint(trained_checkpoint: Path) -> None:
    meta = read_meta(trained_checkpoint)
    assert isinstance(meta, CheckpointMeta)
    assert meta.model == ModelConfig(kind="vae", hidden_dim=32, latent_dim=4)
    assert meta.train is not None and meta.train.epochs == 3 and meta.beta == 1.0
    assert meta.epoch == 3 and [r.epoch for r in meta.history] == [0, 1, 2, 3]
    assert meta.last_epoch.test.total == pytest.approx(meta.last_epoch.test.recon + meta.last_epoch.test.kl)
    assert meta.resumable and meta.evaluation is None and meta.kind == "vae"
    model = load_checkpoint(trained_checkpoint)
    assert model.meta == meta and model.meta.raw == meta.to_dict()


def old_style_meta() -> dict:
    """Metadata with no training config and no history: a model written by hand (write_checkpoint)."""
    return {"model": {"kind": "vae", "input_dim": 784, "hidden_dim": 8, "latent_dim": 2}, "kind": "vae", "epoch": 7}


def test_a_checkpoint_without_a_training_record_loads_with_defaults(tmp_path: Path) -> None:
    model = build_model(ModelConfig(kind="vae", hidden_dim=8, latent_dim=2))
    path = tmp_path / "old.safetensors"
    write_checkpoint(path, model_tensors(model), old_style_meta())
    loaded = load_checkpoint(path)
    meta = loaded.meta
    assert meta.train is None and meta.beta == 1.0  # where `metadata["train"]["beta"]` raised a KeyError
    assert meta.epoch == 7 and meta.last_epoch is None
    assert meta.evaluation is None and not meta.resumable and meta.weights_dtype == "float32"


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"train": {"beta": "much"}}, "'train' part"),
        ({"train": {"epochs": 3, "colour": "red"}}, "colour"),
        ({"history": [{"epoch": 1}]}, "'history' part"),
        ({"evaluation": {"recon": 1.0}}, "'evaluation' part"),
        ({"model": {"kind": "gan"}}, "'model' part"),
    ],
)
def test_malformed_metadata_is_a_checkpoint_error(tmp_path: Path, change: dict, problem: str) -> None:
    model = build_model(ModelConfig(kind="vae", hidden_dim=8, latent_dim=2))
    path = tmp_path / "bad.safetensors"
    write_checkpoint(path, model_tensors(model), {**old_style_meta(), **change})
    with pytest.raises(CheckpointError, match="metadata is damaged") as info:
        read_meta(path)
    assert problem in str(info.value)
