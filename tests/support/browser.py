"""What the browser tests share: whether CI demands the browser, screenshots, page checks and the record
of a failure (the page as it was and the server's log, since a failure in a real browser is hard to replay)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from harness import browser as bs
from vae.atlas import atlas_path
from vae.checkpoint import default_checkpoint_path

IN_CI = os.environ.get("CI", "").lower() == "true"
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
DEFAULT = default_checkpoint_path()
DEFAULT_ATLAS = atlas_path(DEFAULT)


def shot(page, name: str) -> None:
    bs.screenshot(page, ARTIFACTS / f"{name}.png")


def assert_no_exception(page) -> None:
    assert not bs.exceptions(page), bs.exceptions(page)


def needs_atlas() -> None:
    if not DEFAULT_ATLAS.is_file():
        pytest.skip(f"{DEFAULT_ATLAS} is not there yet: python -m vae atlas {DEFAULT}")


def needs_chromium() -> None:
    if not bs.CHROMIUM.is_file():
        reason = f"no Chromium at {bs.CHROMIUM}: apt-get install chromium fonts-dejavu-core"
        if IN_CI:
            pytest.fail(f"{reason} (CI=true: .ci/run installs it)", pytrace=False)
        pytest.skip(reason)


def keep_failure(page, server: bs.AppServer, name: str) -> None:
    try:
        bs.screenshot(page, ARTIFACTS / f"failed_{name}.png")
        state = page.get_by_test_id("stApp").get_attribute("data-test-script-state")
    except Exception as error:  # the page itself may be what broke
        state = f"(page unreadable: {error})"
    runs = bs.script_runs(page)
    print(
        f"script runs started {runs.started}, finished {runs.finished}, the page says {state}\n"
        f"server log:\n{server.log_tail()}"
    )
