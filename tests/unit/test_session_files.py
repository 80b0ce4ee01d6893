"""What a session leaves on the server: its files go once it is gone, a stopped server's once it is found
dead, and caches shared by every session do not keep a session's models alive."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import torch
from streamlit.runtime.fragment import MemoryFragmentStorage
from streamlit.runtime.state.common import WidgetMetadata
from streamlit.runtime.state.session_state import SessionState

from explorer.jobs import files
from explorer.service import jobs as service
from explorer.ui.components.weak_cache import while_alive


@pytest.fixture
def own_temporary_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.setattr(service, "_runtime_sessions", {})  # only this test's sessions
    monkeypatch.setattr(service, "_gone_since", {})
    monkeypatch.setattr(service, "_states", {})
    files.server_folder.cache_clear()
    yield tmp_path
    files.server_folder.cache_clear()


def test_a_gone_sessions_files_are_deleted_after_the_grace_and_a_live_ones_kept(
    own_temporary_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gone, here = "a" * 32, "b" * 32
    for owner in (gone, here):
        (files.new_upload_folder(owner) / "mine.safetensors").write_bytes(b"x")
        folder, kept = files.runs_folder(owner)
        folder.mkdir(parents=True)
        (folder / "run.safetensors").write_bytes(b"x")
        assert not kept
    assert files.sessions_with_files() == sorted([gone, here])
    states = {owner: SessionState() for owner in (gone, here)}
    fragments = {owner: MemoryFragmentStorage() for owner in (gone, here)}
    for owner, state in states.items():
        fragments[owner].register(f"fragment-{owner[0]}", lambda: None)
        state["model"] = torch.zeros(3)  # what a session holds: its models among it, in values and callbacks
        state._new_widget_state.widget_metadata["picker"] = WidgetMetadata(
            "picker", lambda raw: raw, lambda value: value, "string_value", callback_args=(torch.zeros(3),)
        )
        service._states[owner] = (state, fragments[owner])
        service._runtime_sessions[owner] = f"runtime-{owner[0]}"
    monkeypatch.setattr(service, "session_alive", lambda owner: owner == here)

    class Idle:
        def unfinished(self) -> list:
            return []

    queues = (Idle(), Idle())
    assert service.sweep_gone_sessions(queues, now=1000.0) == 0  # just gone: it may come back (a phone waking)
    assert service.sweep_gone_sessions(queues, now=1000.0 + service.GONE_AFTER_S - 1) == 0
    assert service.sweep_gone_sessions(queues, now=1000.0 + service.GONE_AFTER_S) == 1
    assert files.sessions_with_files() == [here]
    assert list((files.session_folder(here)).rglob("*.safetensors"))
    # Streamlit's runtime loop may still reference the gone session: its state is emptied, the live one's kept.
    assert "model" not in states[gone] and "model" in states[here]
    assert not states[gone]._new_widget_state.widget_metadata and states[here]._new_widget_state.widget_metadata
    assert not fragments[gone].contains("fragment-a") and fragments[here].contains("fragment-b")
    assert set(service._states) == {here}


def test_a_gone_session_with_a_job_still_running_keeps_its_files(
    own_temporary_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    owner = "c" * 32
    files.new_upload_folder(owner)
    monkeypatch.setattr(service, "session_alive", lambda _: False)

    class Busy:
        def unfinished(self) -> list:
            return [type("Job", (), {"owner": owner})()]

    queues = (Busy(), Busy())
    assert service.sweep_gone_sessions(queues, now=0.0) == service.sweep_gone_sessions(queues, now=1e6) == 0
    assert files.sessions_with_files() == [owner]


def test_the_folders_of_stopped_servers_are_swept_and_living_ones_kept(own_temporary_root: Path) -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_folder = own_temporary_root / f"{files.SERVER_PREFIX}{dead.stdout.strip()}"
    living_folder = own_temporary_root / f"{files.SERVER_PREFIX}{os.getppid()}"  # another replica, still running
    other = own_temporary_root / f"{files.SERVER_PREFIX}runs"  # not a server's: left alone
    for folder in (dead_folder, living_folder, other):
        (folder / "sessions").mkdir(parents=True)
    mine = files.server_folder()  # the first use sweeps
    assert mine.name == f"{files.SERVER_PREFIX}{os.getpid()}" and mine.is_dir()
    assert not dead_folder.exists() and living_folder.exists() and other.exists()
    assert oct(mine.stat().st_mode & 0o777) == oct(0o700)


def test_an_operators_runs_folder_is_kept(own_temporary_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from explorer.settings import settings

    monkeypatch.setenv("VAE_RUNS_DIR", str(own_temporary_root / "kept"))
    settings.cache_clear()
    assert files.runs_folder("d" * 32) == (own_temporary_root / "kept", True)


def test_a_session_id_that_is_not_one_names_no_folder(own_temporary_root: Path) -> None:
    with pytest.raises(ValueError):
        files.session_folder("../../etc")


def test_the_shared_cache_lets_a_models_entries_go_with_the_model() -> None:
    @while_alive
    def size(model: torch.nn.Module, scale: int) -> int:
        return scale * sum(p.numel() for p in model.parameters())

    model = torch.nn.Linear(3, 2)
    assert size(model, 2) == size(model, 2) == 16
    assert size.cache_size() == 1
    del model
    gc.collect()
    assert size.cache_size() == 0
