"""A session's side of a class: the server's store, whether this session teaches or joined a class, and
sending to it. Every store problem becomes one line for the page (explorer.classroom.store says which)."""

from __future__ import annotations

import base64
import re
import uuid
from typing import Any

import numpy as np
import streamlit as st

from explorer.classroom.store import (
    ClassError,
    ClassInfo,
    ClassStore,
    StoreUnavailable,
    clean_nickname,
    normalise_code,
)
from explorer.service.resources import LOG
from explorer.settings import settings
from explorer.state.session import ss
from vae.images import as_uint8
from vae.paths import user_cache_dir

TEACHING = "class_teaching"  # (code, token) of the class this session opened
JOINED = "class_joined"  # (code, nickname) of the class this session joined
STUDENT = "class_student"  # this session's anonymous id in a class
SETTLED = "class_settled"  # this session opened, joined, left or took back a class: the browser's copy follows it
SENT = "class_sent"  # the last send's one-line outcome, shown by the page that sent


@st.cache_resource
def class_store() -> ClassStore:
    """The server's store: the operator's database, else SQLite in the user cache (one server's classes)."""
    url = settings().class_store
    if not url:
        folder = user_cache_dir()
        folder.mkdir(parents=True, exist_ok=True)
        url = f"sqlite:///{folder / 'classes.db'}"
    return ClassStore(
        url,
        ttl_s=settings().class_hours * 3600,
        max_entries=settings().class_entries,
        send_every_s=settings().class_send_every_s,
    )


def teaching() -> tuple[str, str] | None:
    return ss.get(TEACHING)


def joined() -> tuple[str, str] | None:
    return ss.get(JOINED)


def open_class(model: str) -> str:
    """Open a class on `model` with this session as its teacher; the outcome in one line."""
    try:
        code, token = class_store().open_class(model)
    except (ClassError, StoreUnavailable) as exc:
        return f"No class opened: {exc}."
    ss[TEACHING] = (code, token)
    ss[SETTLED] = True
    return f"Class {code} is open."


def join_class(code: str, nickname: str) -> str:
    try:
        info = class_store().join(code)
    except (ClassError, StoreUnavailable) as exc:
        return f"Not joined: {exc}."
    ss[JOINED] = (info.code, clean_nickname(nickname))
    ss.setdefault(STUDENT, uuid.uuid4().hex)
    ss[SETTLED] = True
    return f"You joined class {info.code} as {ss[JOINED][1]}."


def leave_class() -> None:
    ss.pop(JOINED, None)
    ss[SETTLED] = True


def stop_teaching() -> None:
    ss.pop(TEACHING, None)
    ss[SETTLED] = True


def settled() -> bool:
    return bool(ss.get(SETTLED))


def kept_in_browser() -> dict[str, list[str]] | None:
    """What the browser keeps of this session's classes (explorer/ui/components/class_memory.py)."""
    kept = {}
    if (teacher := teaching()) is not None:
        kept["teach"] = list(teacher)
    if (student := joined()) is not None:
        kept["join"] = [*student, ss.get(STUDENT, "")]
    return kept or None


def _texts(value: object, count: int, longest: int = 64) -> list[str] | None:
    if isinstance(value, list) and len(value) == count and all(isinstance(v, str) and len(v) <= longest for v in value):
        return value
    return None


def restore(kept: object) -> None:
    """A new session takes back what its browser kept, once, where the store agrees: the teacher's token must
    still control the class, a student's class must still be open. Anything else is ignored."""
    if settled():
        return
    ss[SETTLED] = True
    if not isinstance(kept, dict):
        return
    try:
        if (teacher := _texts(kept.get("teach"), 2)) is not None:
            code, token = normalise_code(teacher[0]), teacher[1]
            class_store().info(code, token)
            ss[TEACHING] = (code, token)
    except (ClassError, StoreUnavailable):
        pass
    try:
        if (student := _texts(kept.get("join"), 3)) is not None:
            info = class_store().join(student[0])
            ss[JOINED] = (info.code, clean_nickname(student[1]))
            anonymous = student[2]
            ss[STUDENT] = anonymous if re.fullmatch(r"[0-9a-f]{32}", anonymous) else uuid.uuid4().hex
    except (ClassError, StoreUnavailable):
        pass


def send(kind: str, payload: dict[str, Any]) -> str:
    """Send to the joined class; the outcome in one line (kept for the page to show)."""
    place = joined()
    if place is None:
        message = "Join a class first (the Class view)."
    else:
        code, nickname = place
        try:
            class_store().send(code, ss.setdefault(STUDENT, uuid.uuid4().hex), nickname, kind, payload)
            message = f"Sent to class {code}."
        except (ClassError, StoreUnavailable, ValueError) as exc:
            message = f"Not sent: {exc}."
    ss[SENT] = message
    return message


def class_info() -> ClassInfo | None:
    """The joined class as the store has it now, None (and the session leaves it) once it is gone."""
    place = joined()
    if place is None:
        return None
    try:
        return class_store().join(place[0])
    except ClassError:
        leave_class()
    except StoreUnavailable as exc:
        LOG.warning("class store: %s", exc)
    return None


def pixels_field(image: np.ndarray) -> str:
    """A 28×28 digit as the store keeps it: 784 uint8 bytes, base64."""
    return base64.b64encode(as_uint8(image)[0].tobytes()).decode("ascii")


def pixels_of(field: str) -> np.ndarray | None:
    """The digit back from the store, None if the field is not 784 bytes (a hostile or damaged entry)."""
    try:
        raw = base64.b64decode(field, validate=True)
    except (ValueError, TypeError):
        return None
    if len(raw) != 784:
        return None
    return np.frombuffer(raw, dtype=np.uint8).reshape(28, 28)
