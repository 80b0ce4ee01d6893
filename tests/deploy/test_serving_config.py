"""The shipped server settings that keep a served explorer idle when idle and fast under a class."""

from __future__ import annotations

import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def shipped_config() -> dict:
    return tomllib.loads((REPO / ".streamlit" / "config.toml").read_text())


def test_the_shipped_config_watches_no_files_and_runs_no_full_gc_per_run() -> None:
    config = shipped_config()
    assert config["server"]["fileWatcherType"] == "none"  # the watcher walked .venv: a core at ~98 %
    assert config["server"]["runOnSave"] is False
    assert config["runner"]["postScriptGC"] is False  # a full collection per run: p95 3.7 s at 20 users


def test_the_nginx_template_lets_uploads_through() -> None:
    """nginx refuses bodies over client_max_body_size: it must exceed the app's upload limit."""
    template = (REPO / "deploy" / "nginx" / "explorer.conf.template").read_text()
    limit_mb = int(template.split("client_max_body_size", 1)[1].split(";", 1)[0].strip().rstrip("m"))
    assert limit_mb > shipped_config()["server"]["maxUploadSize"]
