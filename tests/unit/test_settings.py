"""The operator's settings: parsed once, and a bad value is one line naming the variable and what it takes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from explorer.settings import VARIABLES, Settings, SettingsError, parse_settings

REPO = Path(__file__).resolve().parents[2]


def test_no_variables_give_the_defaults() -> None:
    assert parse_settings({}) == Settings()


def test_every_variable_reaches_its_setting() -> None:
    given = {
        "VAE_EXPLORER_SERVER_PATHS": "yes",
        "VAE_EXPLORER_HEAVY_SLOTS": "3",
        "VAE_EXPLORER_HEAVY_WAIT": "2.5",
        "VAE_TRAIN_JOBS": "2",
        "VAE_TRAIN_QUEUE": "20",
        "VAE_TRAIN_THREADS": "4",
        "VAE_RUNS_DIR": "~/runs",
        "VAE_VISITOR_KEY": "Address",
        "VAE_CLASS_STORE": "postgresql+psycopg://db/classes",
        "VAE_CLASS_HOURS": "2",
        "VAE_CLASS_ENTRIES": "100",
        "VAE_CLASS_SEND_EVERY": "1.5",
    }
    parsed = parse_settings(given)
    assert parsed.server_paths is True and (parsed.heavy_slots, parsed.heavy_wait_s) == (3, 2.5)
    assert (parsed.train_jobs, parsed.train_queue, parsed.train_threads) == (2, 20, 4)
    assert parsed.runs_dir == Path("~/runs").expanduser() and parsed.visitor_key == "address"
    assert (parsed.class_store, parsed.class_hours, parsed.class_entries) == ("postgresql+psycopg://db/classes", 2, 100)
    assert {variable for variable, _, _ in VARIABLES.values()} == set(given)


@pytest.mark.parametrize(
    ("variable", "value", "accepts"),
    [
        ("VAE_EXPLORER_SERVER_PATHS", "maybe", "1 or 0"),
        ("VAE_EXPLORER_HEAVY_SLOTS", "0", "a whole number of at least 1"),
        ("VAE_EXPLORER_HEAVY_SLOTS", "lots", "a whole number of at least 1"),
        ("VAE_EXPLORER_HEAVY_WAIT", "-1", "seconds"),
        ("VAE_EXPLORER_HEAVY_WAIT", "nan", "seconds"),
        ("VAE_TRAIN_JOBS", "two", "a whole number of at least 1"),
        ("VAE_TRAIN_QUEUE", "1.5", "a whole number of at least 1"),
        ("VAE_TRAIN_THREADS", "-2", "a whole number, 0 for automatic"),
        ("VAE_VISITOR_KEY", "ip", "cookie or address"),
        ("VAE_CLASS_STORE", "mysql://x", "a database URL"),
        ("VAE_CLASS_HOURS", "0", "hours"),
    ],
)
def test_a_bad_value_is_one_line_naming_the_variable_and_what_it_takes(variable: str, value: str, accepts: str) -> None:
    with pytest.raises(SettingsError) as refused:
        parse_settings({variable: value})
    message = str(refused.value)
    assert message.startswith(f"{variable}={value!r} cannot be used: it takes ") and accepts in message
    assert "\n" not in message


def test_a_long_bad_value_is_cut_in_the_message() -> None:
    with pytest.raises(SettingsError) as refused:
        parse_settings({"VAE_TRAIN_JOBS": "x" * 10_000})
    assert len(str(refused.value)) < 200


@pytest.mark.slow
def test_the_check_before_start_up_exits_with_the_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VAE_TRAIN_JOBS", "none")
    done = subprocess.run([sys.executable, "-m", "explorer.settings"], capture_output=True, text=True, cwd=REPO)
    assert done.returncode == 2
    assert done.stderr.strip() == "error: VAE_TRAIN_JOBS='none' cannot be used: it takes a whole number of at least 1."
    monkeypatch.setenv("VAE_TRAIN_JOBS", "2")
    assert subprocess.run([sys.executable, "-m", "explorer.settings"], cwd=REPO).returncode == 0
