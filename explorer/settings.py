"""The operator's settings: one frozen object, parsed once from the environment.

A bad value stops start-up with one line naming the variable and what it accepts: `python -m
explorer.settings` checks them (scripts/start.sh and the Dockerfile run it before the server), and the
app shows the same line instead of starting. Where the checkpoints and MNIST live is the library's
business (vae/paths.py: VAE_CHECKPOINT_DIR, VAE_DATA_DIR), so that the CLI and the app agree.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from functools import cache
from pathlib import Path

TRUE, FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off", ""}


class SettingsError(ValueError):
    """One setting that cannot be used; str() is the one line to show the operator."""


@dataclass(frozen=True)
class Settings:
    # What each field's variable is and accepts, for the one-line refusal and the docs.
    server_paths: bool = False  # VAE_EXPLORER_SERVER_PATHS: the picker also reads checkpoint paths on the server
    heavy_slots: int = 2  # VAE_EXPLORER_HEAVY_SLOTS: heavy requests at once (a 2-core machine: more adds memory only)
    heavy_wait_s: float = 10.0  # VAE_EXPLORER_HEAVY_WAIT: seconds a heavy request waits for a slot
    train_jobs: int = 1  # VAE_TRAIN_JOBS: training jobs running at once on this server
    train_queue: int = 8  # VAE_TRAIN_QUEUE: training jobs waiting or running at most, all visitors together
    train_threads: int = 0  # VAE_TRAIN_THREADS: torch threads of a training job; 0 = chosen by the load
    runs_dir: Path | None = None  # VAE_RUNS_DIR: where trained models are kept; unset = a temporary folder, swept
    visitor_key: str = "cookie"  # VAE_VISITOR_KEY: who a training job counts against: the browser or its address
    class_store: str = ""  # VAE_CLASS_STORE: a SQLAlchemy URL; unset = SQLite in the user cache (one server)
    class_hours: float = 4.0  # VAE_CLASS_HOURS: a class and all it holds are deleted this long after it opens
    class_entries: int = 500  # VAE_CLASS_ENTRIES: what one class's board holds at most
    class_send_every_s: float = 5.0  # VAE_CLASS_SEND_EVERY: seconds a student waits between two sends


VARIABLES: dict[str, tuple[str, str, Callable[[str], object]]] = {}  # field → (variable, what it accepts, parser)


def _flag(raw: str) -> bool:
    if raw.lower() in TRUE | FALSE:
        return raw.lower() in TRUE
    raise ValueError


def _whole(least: int) -> Callable[[str], int]:
    def parse(raw: str) -> int:
        value = int(raw)
        if value < least:
            raise ValueError
        return value

    return parse


def _seconds(raw: str) -> float:
    value = float(raw)
    if not 0 < value < 3600:
        raise ValueError
    return value


def _within(low: float, high: float) -> Callable[[str], float]:
    def parse(raw: str) -> float:
        value = float(raw)
        if not low < value <= high:
            raise ValueError
        return value

    return parse


def _database_url(raw: str) -> str:
    if not raw.startswith(("sqlite:///", "postgresql://", "postgresql+psycopg://")):
        raise ValueError
    return raw


def _one_of(*choices: str) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        if raw.lower() not in choices:
            raise ValueError
        return raw.lower()

    return parse


def _folder(raw: str) -> Path:
    return Path(raw).expanduser()


VARIABLES.update(
    server_paths=("VAE_EXPLORER_SERVER_PATHS", "1 or 0 (true/false, yes/no, on/off)", _flag),
    heavy_slots=("VAE_EXPLORER_HEAVY_SLOTS", "a whole number of at least 1", _whole(1)),
    heavy_wait_s=("VAE_EXPLORER_HEAVY_WAIT", "seconds, more than 0 and under 3600", _seconds),
    train_jobs=("VAE_TRAIN_JOBS", "a whole number of at least 1", _whole(1)),
    train_queue=("VAE_TRAIN_QUEUE", "a whole number of at least 1", _whole(1)),
    train_threads=("VAE_TRAIN_THREADS", "a whole number, 0 for automatic", _whole(0)),
    runs_dir=("VAE_RUNS_DIR", "a folder path", _folder),
    visitor_key=("VAE_VISITOR_KEY", "cookie or address", _one_of("cookie", "address")),
    class_store=("VAE_CLASS_STORE", "a database URL: sqlite:///file or postgresql+psycopg://…", _database_url),
    class_hours=("VAE_CLASS_HOURS", "hours, more than 0 and at most 48", _within(0, 48)),
    class_entries=("VAE_CLASS_ENTRIES", "a whole number of at least 1", _whole(1)),
    class_send_every_s=("VAE_CLASS_SEND_EVERY", "seconds, more than 0 and at most 3600", _within(0, 3600)),
)
assert set(VARIABLES) == {f.name for f in fields(Settings)}, "every setting has its variable"


def parse_settings(environ: Mapping[str, str]) -> Settings:
    """The settings an environment gives; SettingsError names the first variable that cannot be used."""
    values = {}
    for name, (variable, accepts, parse) in VARIABLES.items():
        raw = environ.get(variable, "").strip()
        if not raw:
            continue
        try:
            values[name] = parse(raw)
        except ValueError:
            shown = raw if len(raw) <= 40 else raw[:40] + "…"
            raise SettingsError(f"{variable}={shown!r} cannot be used: it takes {accepts}.") from None
    return Settings(**values)


@cache
def settings() -> Settings:
    """This process's settings, parsed on first use."""
    return parse_settings(os.environ)


def main() -> int:
    try:
        settings()
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
