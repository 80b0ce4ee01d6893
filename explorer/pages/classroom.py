"""A class session: a teacher opens a class and puts its code and QR code up; students join from a phone or
a laptop and send their digits, codes, morphs and picks; the teacher's board shows them live.

The store and its rules are in explorer/classroom/store.py; this session's side in explorer/service/
classroom.py. Everything a student typed (a nickname) is shown as text.
"""

from __future__ import annotations

import csv
import io
import time

import numpy as np
import streamlit as st
import torch

from explorer.classroom.store import ClassError, Entry, StoreUnavailable
from explorer.context import Context
from explorer.service.classroom import (
    class_store,
    join_class,
    joined,
    leave_class,
    open_class,
    pixels_of,
    stop_teaching,
    teaching,
)
from explorer.state.session import MODEL_CHOICE, guarded, ss
from explorer.ui.pictures import show_pixels
from explorer.words.look_for import LookFor
from explorer.words.plain import plain
from vae.codes import decode_code
from vae.images import png_bytes, tile
from vae.latent import encode_all

LOOK_FOR = LookFor(
    "Ask the class to draw a 4: where do their 4s land on the map, and which ones does the model find unusual?"
)

MESSAGE = "class_message"  # one line after an action (joined, opened, or why not)
BOARD_EVERY_S = 2.0  # the board asks the store for what is new this often (at most 2 s behind)
BOARD = "class_board"  # (code, entries by id): what the board has fetched so far
GRID_MOST = 60  # digits drawn in the grid and on the map, the most unusual first
PICTURES = "class_board_pictures"  # (model key, entry id) → the grid's picture of that entry


@guarded
def do_open(model: str) -> None:
    ss[MESSAGE] = open_class(model)


@guarded
def do_join() -> None:
    message = join_class(ss.get("class_join_code", ""), ss.get("class_nickname", ""))
    place = joined()
    if place is None:  # why not, in one line; once in, the page says so itself
        ss[MESSAGE] = message
    else:  # the class's model, where this server has it
        try:
            model = class_store().join(place[0]).model
        except (ClassError, StoreUnavailable):
            return
        if model.startswith("/"):
            ss[MODEL_CHOICE] = model


@guarded
def do_leave() -> None:
    leave_class()
    ss[MESSAGE] = "You left the class."


@guarded
def do_control(code: str, token: str, **changes: object) -> None:
    try:
        class_store().control(code, token, **changes)
    except (ClassError, StoreUnavailable) as exc:
        ss[MESSAGE] = f"{exc}."
    if changes.get("closed"):
        stop_teaching()
        ss[MESSAGE] = f"Class {code} is closed; what its students sent is deleted when it expires."


@guarded
def do_clear(code: str, token: str) -> None:
    try:
        class_store().clear(code, token)
        ss.pop(BOARD, None)
    except (ClassError, StoreUnavailable) as exc:
        ss[MESSAGE] = f"{exc}."


@guarded
def do_hide(code: str, token: str, entry_id: int, hidden: bool) -> None:
    try:
        class_store().hide(code, token, entry_id, hidden)
        board = ss.get(BOARD)
        if board is not None and entry_id in board[1]:
            old = board[1][entry_id]
            board[1][entry_id] = Entry(old.id, old.student, old.nickname, old.kind, old.payload, old.created, hidden)
    except (ClassError, StoreUnavailable) as exc:
        ss[MESSAGE] = f"{exc}."


def join_link(code: str) -> str:
    base = (st.context.url or "").split("?")[0].rstrip("/")
    base = base.removesuffix("/class")
    return f"{base}/class?join={code}"


def qr_png(text: str) -> bytes:
    import segno

    buffer = io.BytesIO()
    segno.make(text, error="m").save(buffer, kind="png", scale=8, border=2)
    return buffer.getvalue()


def fetch(code: str, token: str) -> dict[int, Entry]:
    """Every entry of the class, asking the store only for those after the last one this session has."""
    known = ss.get(BOARD)
    if known is None or known[0] != code:
        known = (code, {})
    since = max(known[1], default=0)
    _, new = class_store().board(code, token, since_id=since)
    known[1].update({entry.id: entry for entry in new})
    ss[BOARD] = known
    return known[1]


def unusualness(entry: Entry) -> float:
    value = entry.payload.get("percentile")
    return float(value) if isinstance(value, int | float) and np.isfinite(value) else -1.0


def digits_sent(entries: dict[int, Entry]) -> list[tuple[Entry, np.ndarray]]:
    """The visible digits whose pixels read back, the most unusual first."""
    found = []
    for entry in entries.values():
        if (
            entry.kind == "digit"
            and not entry.hidden
            and (pixels := pixels_of(entry.payload.get("pixels", ""))) is not None
        ):
            found.append((entry, pixels))
    return sorted(found, key=lambda pair: -unusualness(pair[0]))[:GRID_MOST]


def board_csv(entries: dict[int, Entry]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["id", "time", "nickname", "kind", "meant", "read as", "-ELBO", "percentile", "hidden", "what"])
    for entry in sorted(entries.values(), key=lambda e: e.id):
        p = entry.payload
        what = {"code": "z", "morph": "pair", "pick": "row"}.get(entry.kind, "")
        writer.writerow(
            [
                entry.id,
                time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(entry.created)),
                # A spreadsheet runs a cell that starts with =, +, - or @: a nickname is text.
                "'" + entry.nickname if entry.nickname[:1] in "=+-@" else entry.nickname,
                entry.kind,
                p.get("meant", ""),
                p.get("verdict", ""),
                p.get("neg_elbo", ""),
                p.get("percentile", ""),
                entry.hidden,
                p.get(what, "") if what else "",
            ]
        )
    return out.getvalue().encode()


def board_png(digits: list[tuple[Entry, np.ndarray]]) -> bytes:
    if not digits:
        return png_bytes(np.zeros((28, 28), dtype=np.uint8), 4)
    return png_bytes(tile(np.stack([pixels for _, pixels in digits]), columns=10), 4)


def teacher_board(ctx: Context, code: str, token: str) -> None:
    st.subheader(f"Class {code}", divider="gray")
    link = join_link(code)
    left, right = st.columns([1, 2], vertical_alignment="center")
    show_pixels(
        left, qr_png(link), width=220, caption=f"Scan to join class {code}", alt=f"QR code of the join link {link}"
    )
    with right:
        st.markdown(f"### Join code: **{code}**")
        st.code(link, language=None)
        st.caption("Students open the link (or the Class view and type the code), pick a nickname and send.")
    model = str(ctx.summary.path)
    try:
        info = class_store().info(code, token)
        if info.model != model:  # the board follows the model the teacher picked
            class_store().control(code, token, model=model)
    except (ClassError, StoreUnavailable) as exc:
        st.warning(f"{plain(exc)}.")
        return
    c1, c2, c3 = st.columns(3)
    c1.button(
        "Unfreeze the board" if info.frozen else "Freeze the board",
        on_click=do_control,
        args=(code, token),
        kwargs={"frozen": not info.frozen},
        key="class_freeze",
    )
    c2.button("Clear the board", on_click=do_clear, args=(code, token), key="class_clear")
    c3.button("Close the class", on_click=do_control, args=(code, token), kwargs={"closed": True}, key="class_close")
    live_board(ctx, code, token)


@st.fragment(run_every=BOARD_EVERY_S)
def live_board(ctx: Context, code: str, token: str) -> None:
    try:
        entries = fetch(code, token)
    except (ClassError, StoreUnavailable) as exc:
        st.warning(f"The board cannot be read now: {plain(exc)}.")
        return
    digits = digits_sent(entries)
    shown = sum(not e.hidden for e in entries.values())
    st.caption(f"{shown} sent ({len(entries) - shown} hidden) · updated {time.strftime('%H:%M:%S')}")
    # Built with each refresh (milliseconds, for the one teacher): a download built when clicked goes through
    # a request over the websocket that, with the board refreshing, often went unanswered or unsent; a file
    # built here is fetched by its address, which outlives the next refresh.
    d1, d2 = st.columns(2)
    for place, label, data, name, mime, key in (
        (d1, "Export the entries (CSV)", board_csv(entries), f"class_{code}.csv", "text/csv", "class_csv"),
        (d2, "Export the board (PNG)", board_png(digits), f"class_{code}.png", "image/png", "class_png"),
    ):
        place.download_button(label, data, name, mime, key=key, on_click="ignore")
    if not entries:
        st.info("Nothing sent yet. Ask the class to draw a digit in Your own digit and send it.")
        return
    on_map = [(e, p) for e, p in digits if isinstance(e.payload.get("map_xy"), list)]
    if ctx.atlas is not None and on_map:
        from explorer.ui.figures import class_map_figure

        st.markdown("**The class's digits on the map**, at their codes' places")
        st.plotly_chart(
            class_map_figure(
                ctx.atlas.coords, ctx.atlas.labels, [(e.nickname, e.payload["map_xy"], p) for e, p in on_map]
            ),
            config={"displayModeBar": False},
            key="class_map",
        )
    if digits:
        st.markdown("**The digits sent, the most unusual first** (sent · as the model reconstructs it)")
        columns = st.columns(6)
        for i, (entry, pixels) in enumerate(digits):
            with columns[i % 6]:
                name = plain(entry.nickname, 24)
                show_pixels(
                    st,
                    sent_and_redrawn(ctx, entry, pixels),
                    caption=name,
                    alt=f"the digit {entry.nickname[:24]} sent, and the model's reconstruction of it",
                )
                meant, read = (said(entry.payload.get(k)) for k in ("meant", "verdict"))
                st.caption(f"meant {meant} · read {read} · {max(unusualness(entry), 0):.0f} %")
                st.button("Hide", on_click=do_hide, args=(code, token, entry.id, True), key=f"class_hide_{entry.id}")
        rows = [
            {
                "nickname": entry.nickname,
                "meant": entry.payload.get("meant"),
                "read as": entry.payload.get("verdict"),
                "−ELBO": entry.payload.get("neg_elbo"),
                "more unusual than (%)": entry.payload.get("percentile"),
            }
            for entry, _ in digits
        ]
        st.markdown("**What the students meant, and what the model read**")
        st.dataframe(rows, hide_index=True)
    others = [e for e in entries.values() if e.kind != "digit" and not e.hidden]
    if others:
        st.markdown("**Codes, morphs and picks sent**")
        for entry in sorted(others, key=lambda e: -e.id)[:30]:
            st.caption(f"{plain(entry.nickname, 24)}: {plain(describe_entry(entry), 120)}")
    hidden = [e for e in entries.values() if e.hidden]
    if hidden:
        with st.expander(f"Hidden ({len(hidden)})"):
            for entry in hidden:
                st.button(
                    f"Show {entry.nickname[:24]}'s {entry.kind} again",
                    on_click=do_hide,
                    args=(code, token, entry.id, False),
                    key=f"class_show_{entry.id}",
                )


def sent_and_redrawn(ctx: Context, entry: Entry, pixels: np.ndarray) -> bytes:
    """The grid's picture of one entry (the digit sent, its reconstruction), made once per entry and board
    model: the board refreshes every BOARD_EVERY_S and its entries do not change."""
    pictures = ss.setdefault(PICTURES, {})
    key = (ctx.key, entry.id)
    if key not in pictures:
        if len(pictures) >= 2 * GRID_MOST:  # a bound: the grid shows GRID_MOST, a model switch makes as many more
            pictures.clear()
        pictures[key] = png_bytes(tile(np.stack([pixels, reconstruction(ctx, entry, pixels)]), columns=2), 3)
    return pictures[key]


def said(value: object) -> str:
    return "?" if value is None else plain(value, 4)


def reconstruction(ctx: Context, entry: Entry, pixels: np.ndarray) -> np.ndarray:
    """The sent digit as the board's model reconstructs it: from the code the student sent where it is this
    model's, else (another model, a damaged entry) the board's model encodes the digit itself."""
    mu = entry.payload.get("mu")
    if (
        isinstance(mu, list) and len(mu) == ctx.model.latent_dim and entry.payload.get("model") == ctx.summary.name
        and all(isinstance(v, int | float) and np.isfinite(v) for v in mu)
    ):  # fmt: skip
        return decode_code(ctx.model, np.asarray(mu, dtype=np.float32))
    code, _ = encode_all(ctx.model, torch.from_numpy(pixels.reshape(1, -1).astype(np.float32) / 255.0))
    return decode_code(ctx.model, code[0].numpy())


def describe_entry(entry: Entry) -> str:
    p = entry.payload
    if entry.kind == "morph":
        return f"a morph from test #{p.get('a')} to #{p.get('b')}"
    if entry.kind == "pick":
        return f"test digit #{p.get('row')}, a {p.get('label', '?')}"
    if entry.kind == "code":
        return f"a code of {len(p.get('z', []))} numbers"
    return entry.kind


def student_side(ctx: Context) -> None:
    place = joined()
    if place is not None:
        code, nickname = place
        st.success(f"You are in class {code} as {plain(nickname, 24)}.")
        st.markdown(
            "Send what you find: **Your own digit**, the **Latent sliders**, **Morph two digits** and the "
            "**t-SNE map** each have a *Send to the class* button. Your teacher's board shows it within seconds."
        )
        st.button("Leave the class", on_click=do_leave, key="class_leave")
        return
    with st.form("class_join"):
        st.markdown("**Join a class**: the code on your teacher's screen, and a nickname if you like.")
        st.text_input("Class code", max_chars=8, key="class_join_code")  # a join link fills it in
        st.text_input("Nickname (optional, shown on the board)", max_chars=24, key="class_nickname")
        st.form_submit_button("Join", on_click=do_join)


def render(ctx: Context) -> None:
    if message := ss.pop(MESSAGE, None):
        st.info(plain(message))
    place = teaching()
    if place is not None:
        teacher_board(ctx, *place)
        return
    left, right = st.columns([3, 2], gap="large")
    with left:
        student_side(ctx)
    with right:
        st.markdown("**Teaching?** Open a class for this model: your students join with its code.")
        st.button("Open a class", on_click=do_open, args=(str(ctx.summary.path),), key="class_open", type="primary")
