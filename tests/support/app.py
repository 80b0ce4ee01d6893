"""Driving the app with AppTest: start it, open a view, check it is clean, and read what it holds."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw
from streamlit.testing.v1 import AppTest

from vae.atlas import AtlasError, load_atlas
from vae.catalog import CheckpointSummary, list_checkpoints, state_key
from vae.checkpoint import CHECKPOINT_DIR

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "app.py"
LISTING = list_checkpoints(CHECKPOINT_DIR)
FIRST = LISTING.checkpoints[0] if LISTING.checkpoints else None


def has_atlas(summary: CheckpointSummary | None) -> bool:
    if summary is None:
        return False
    try:
        load_atlas(summary.path)
    except AtlasError:
        return False
    return True


def start(view: str | None = None) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    if view is not None:
        open_view(at, view)
    assert_clean(at)
    return at


def open_view(at: AppTest, view: str) -> AppTest:
    """Opens a view the way the app's own buttons do ("Send to the sliders"): AppTest cannot click the
    navigation, and its switch_page only knows file pages, not the app's callable ones."""
    at.session_state["requested_view"] = view
    at.run()
    assert at.session_state["view"] == view
    return at


def assert_clean(at: AppTest) -> None:
    """No exception element and no error box: the app never shows a traceback."""
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def images_with(at: AppTest, caption: str) -> list:
    return [image for image in at.image if any(caption in c for c in image.captions)]


def png_of_seven() -> bytes:
    image = Image.new("L", (200, 200), 255)
    ImageDraw.Draw(image).line([(50, 40), (150, 40), (90, 170)], fill=0, width=18)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def slider_values(at: AppTest, latent_dim: int) -> list[float]:
    """The sliders' code as the server holds it (the origin until something sets it)."""
    key = state_key(at.session_state["active_model"])
    try:
        return list(at.session_state[f"code:{key}"])
    except KeyError:
        return [0.0] * latent_dim


def component_data(at: AppTest, name: str) -> dict:
    """What the server sent to an in-page component (its JSON data): AppTest cannot run its JavaScript."""
    (element,) = [e for e in at.main if getattr(e, "type", "") == "bidi_component" and e.proto.component_name == name]
    return json.loads(element.proto.json)


def rounded(code) -> list[float]:
    return [round(float(v), 4) for v in np.asarray(code).reshape(-1)]


def upload_checkpoint(at: AppTest, name: str, payload: bytes) -> AppTest:
    at.sidebar.radio(key="model_choice").set_value("__upload__").run()
    at.sidebar.file_uploader(key="checkpoint_upload").upload(name, payload).run()
    return at


def shown(markdown: str) -> str:
    """What a reader sees of Markdown that escapes its punctuation (explorer.words.plain): the text itself."""
    return re.sub(r"\\(.)", r"\1", markdown).replace("\u2060", "")
