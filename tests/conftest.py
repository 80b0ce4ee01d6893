"""Shared fixtures: small structured fake MNIST splits, tiny configs and a tiny trained checkpoint.

Nothing here touches the network or the real MNIST except the `mnist_data_dir` fixture, which only
the tests marked `mnist` use.
"""

from __future__ import annotations

import functools
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
from streamlit.components.v2 import manifest_scanner

from support.fakes import fake_split, quiet
from vae.config import ModelConfig, TrainConfig
from vae.data import MnistSplit

# The models here are tiny: one thread is fastest, and a second thread only spins when the cores are
# busy (a step takes ~100× longer with two threads on a loaded 2-core machine).
torch.set_num_threads(1)

# Every AppTest run scans the metadata of every installed package for component manifests: 0.3 s of a
# 0.33 s run, a third of the fast tier's time. The installed packages do not change during a test session,
# so the scan is done once (Streamlit imports the function where it calls it, so this reaches it).
manifest_scanner.scan_component_manifests = functools.cache(manifest_scanner.scan_component_manifests)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--run-slow", action="store_true", help="also run the tests marked slow (CI does)")


# The folders of the longest tests (servers and Chromium), run first: the workers share out the rest after
# them, and the run does not end on one long test while the other worker has nothing left.
FIRST = ("tests/deploy/", "tests/browser/")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The everyday tier skips the tests marked slow (each a second or more); `--run-slow` keeps them."""
    skip = pytest.mark.skip(reason="slow: run with --run-slow (scripts/test.sh and CI do)")
    for item in items:
        if "slow" in item.keywords and not config.getoption("--run-slow"):
            item.add_marker(skip)
    rank = {folder: i for i, folder in enumerate(FIRST)}
    # Stable: each module's tests stay together, in their order.
    items.sort(key=lambda item: rank.get(item.nodeid.rpartition("/")[0] + "/", len(FIRST)))


@pytest.fixture(autouse=True)
def fresh_settings() -> Iterator[None]:
    """The app parses its settings once per process; a test that sets a variable sees it parsed anew."""
    from explorer.jobs.heavy_work import process_bound
    from explorer.settings import settings

    settings.cache_clear()
    process_bound.cache_clear()
    yield
    settings.cache_clear()
    process_bound.cache_clear()


@pytest.fixture
def training_files(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A data folder that holds MNIST's file names (empty): the Train view offers its form, which needs
    only to know that the training split is there; a job would refuse these files (MD5)."""
    from vae.data import SPLITS, raw_dir

    folder = tmp_path_factory.mktemp("data")
    for expected in SPLITS["train"] + SPLITS["test"]:
        (raw_dir(folder) / expected.name).parent.mkdir(parents=True, exist_ok=True)
        (raw_dir(folder) / expected.name).touch()
    monkeypatch.setenv("VAE_DATA_DIR", str(folder))
    return folder


@pytest.fixture(scope="session")
def fake_train() -> MnistSplit:
    return fake_split(512, seed=1)


@pytest.fixture(scope="session")
def fake_test() -> MnistSplit:
    return fake_split(256, seed=2)


@pytest.fixture
def small_model_config() -> ModelConfig:
    return ModelConfig(kind="vae", hidden_dim=32, latent_dim=4)


@pytest.fixture
def small_train_config() -> TrainConfig:
    return TrainConfig(epochs=3, batch_size=64, lr=3e-3, seed=0, snapshot_epochs=(0, 2))


@pytest.fixture(scope="session")
def trained_checkpoint(tmp_path_factory: pytest.TempPathFactory, fake_train: MnistSplit, fake_test: MnistSplit) -> Path:
    """A VAE (hidden 32, d 4) trained 3 epochs on the fake data; read-only: copy it to change it."""
    from vae.training import fit

    path = tmp_path_factory.mktemp("trained") / "vae_d4.safetensors"
    fit(
        ModelConfig(kind="vae", hidden_dim=32, latent_dim=4),
        TrainConfig(epochs=3, batch_size=64, lr=3e-3, seed=0, snapshot_epochs=(0, 2)),
        fake_train,
        fake_test,
        path,
        device="cpu",
        progress=False,
        log=quiet,
    )
    path.chmod(0o444)
    return path


@pytest.fixture
def checkpoint_copy(trained_checkpoint: Path, tmp_path: Path) -> Path:
    """A writable copy of the trained checkpoint in this test's own folder."""
    path = tmp_path / "model.safetensors"
    shutil.copyfile(trained_checkpoint, path)
    path.chmod(0o644)
    return path


@pytest.fixture(scope="session")
def mnist_data_dir() -> Path:
    """The real MNIST's data folder, fetched once per machine if it is not there yet (tests marked `mnist`)."""
    from vae.data import DEFAULT_DATA_DIR, ensure_mnist

    ensure_mnist(DEFAULT_DATA_DIR, ("train", "test"), progress=quiet)
    return DEFAULT_DATA_DIR


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator:
    """Keeps each phase's report on the test item, so a fixture can tell whether its test failed."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report
