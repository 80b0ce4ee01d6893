"""Where the user's digit comes from: an upload, one of two drawing canvases, or the camera.

An upload is kept in session state, so switching to Draw or Camera and back does not lose it (a widget
that is not drawn in a run loses its value); it is dropped only when the user removes it.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from explorer.state.session import ss
from explorer.words.digit import CAMERA_HELP, UPLOAD_KEPT
from explorer.words.plain import plain

SOURCES = ["Upload", "Draw", "Camera"]
# Extensions offered by the file picker: what phones, editors and scanners save and Pillow reads.
UPLOAD_TYPES = [
    *("png", "jpg", "jpeg", "jfif", "heic", "heif", "gif", "bmp", "webp"),
    *("tif", "tiff", "ico", "ppm", "pgm", "pbm", "tga"),
]
UPLOAD_KEY = "digit_upload"
KEPT_UPLOAD = "digit_upload_kept"  # (file name, bytes) of the last upload


def canvas_has_ink(json_data: dict[str, Any] | None) -> bool:
    """Whether anything was drawn on the canvas (an untouched canvas is not an error, just empty)."""
    return bool(json_data and json_data.get("objects"))


def keep_upload() -> None:
    """on_change of the uploader: remember a new file, forget a removed one."""
    upload = ss.get(UPLOAD_KEY)
    if upload is None:
        ss.pop(KEPT_UPLOAD, None)
    else:
        ss[KEPT_UPLOAD] = (upload.name, upload.getvalue())


def from_upload() -> bytes | None:
    upload = st.file_uploader(
        "A photo or picture of one digit (up to 20 MB)", type=UPLOAD_TYPES, key=UPLOAD_KEY, on_change=keep_upload
    )
    if upload is not None:
        return upload.getvalue()
    kept = ss.get(KEPT_UPLOAD)
    if kept is None:
        return None
    st.caption(UPLOAD_KEPT.format(name=plain(kept[0])))
    return kept[1]


def from_canvas() -> bytes | None:
    from streamlit_drawable_canvas import st_canvas

    dark = st.toggle("White ink on black", key="canvas_dark", persist_state="session")
    canvas = st_canvas(
        stroke_width=20,
        stroke_color="#ffffff" if dark else "#000000",
        background_color="#000000" if dark else "#ffffff",
        width=280,
        height=280,
        return_image_data=True,
        # One canvas per ink colour, with keys of their own (the toggle has "canvas_dark").
        key=f"digit_canvas_{'dark' if dark else 'light'}",
    )
    return canvas.image_bytes if canvas_has_ink(canvas.json_data) else None


def from_camera() -> bytes | None:
    shot = st.camera_input("Take a photo of your digit", key="digit_camera", help=CAMERA_HELP)
    return shot.getvalue() if shot is not None else None


def digit_input() -> bytes | None:
    """The user's digit as image bytes from the chosen source (None until there is one)."""
    ss.setdefault("digit_source", SOURCES[0])
    source = st.segmented_control("Your digit from", SOURCES, key="digit_source", required=True)
    if source == "Draw":
        return from_canvas()
    if source == "Camera":
        return from_camera()
    return from_upload()
