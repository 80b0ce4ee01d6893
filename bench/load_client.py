"""A user of the explorer without a browser: speaks Streamlit's websocket protocol (BackMsg / ForwardMsg).

A browser opens `/_stcore/stream`, asks for a script run with a BackMsg `rerun_script` (its widget values,
page and fragment) and draws the ForwardMsgs that come back until `script_finished`. This client does the
same and keeps what a load test needs: the widgets each run showed (id, label, fragment), the pages of
st.navigation, the errors and exceptions shown, and the time from its request to `script_finished`, which
on loopback is the server's time for the run. Used by bench/load.py; loopback only.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import requests
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState
from websockets.asyncio.client import ClientConnection, connect

EARLY = ForwardMsg.ScriptFinishedStatus.Value("FINISHED_EARLY_FOR_RERUN")
WIDGET_KINDS = frozenset(
    {"slider", "button_group", "radio", "button", "selectbox", "number_input", "checkbox", "text_input"}
    | {"file_uploader", "download_button"}
)
ERROR_ALERT = 1  # Alert.Format.ERROR
LIVE_SLIDERS = "vae_latent_sliders"  # the in-page sliders (explorer/ui/components/latent_sliders)


@dataclass(frozen=True)
class Widget:
    kind: str  # the Element field: slider, button_group, radio, ...
    id: str
    label: str
    fragment_id: str  # "" outside a fragment: a change reruns the whole script
    proto: Any


@dataclass
class Run:
    seconds: float  # request sent → script_finished received
    messages: int
    received_bytes: int
    errors: list[str] = field(default_factory=list)  # st.error texts and exception messages shown


class RunFailed(RuntimeError):
    pass


class StreamlitUser:
    """One session on a Streamlit server. Use `async with StreamlitUser(url) as user:`."""

    def __init__(self, base_url: str, query_string: str = "") -> None:
        self.ws_url = base_url.replace("http", "ws", 1).rstrip("/") + "/_stcore/stream"
        self.query_string = query_string
        self.ws: ClientConnection | None = None
        self.widgets: dict[str, Widget] = {}  # by label: the widgets on the page now
        self.pages: dict[str, str] = {}  # st.navigation page name (and url path) → page_script_hash
        self.page_hash = ""
        self.states: dict[str, WidgetState] = {}  # the values this user set, sent with every run
        self.http_url = base_url.rstrip("/")
        self.session_id = ""  # the runtime's id of this session (new_session), which uploads go to
        self.xsrf = ""  # the XSRF cookie the server gave this "browser": uploads must echo it
        self.cookies: dict[str, str] = {}
        self.polled: set[str] = set()  # fragments the page reruns on a timer (st.fragment(run_every=)), by id

    async def __aenter__(self) -> StreamlitUser:
        # As a browser does: the health check hands out the XSRF cookie, which the websocket then carries
        # (the app tells visitors apart by it) and every upload echoes in a header.
        # Behind the nginx recipe the first answer also sets the replica's affinity cookie: all go with every request.
        response = await asyncio.to_thread(requests.get, self.http_url + "/_stcore/health", timeout=60)
        self.cookies = dict(response.cookies)
        self.xsrf = self.cookies.get("_streamlit_xsrf", "")
        cookie_header = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        headers = {"Cookie": cookie_header} if cookie_header else {}
        self.ws = await connect(
            self.ws_url,
            subprotocols=["streamlit"],
            max_size=None,
            compression="deflate",
            open_timeout=60,
            additional_headers=headers,
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.ws is not None:
            await self.ws.close()

    async def run(self, fragment_id: str = "", timeout: float = 60.0, extra: list[WidgetState] = ()) -> Run:
        """Asks for a script run with every value set so far; waits for its end (a run that ends early for
        a rerun the app asked for is followed by that rerun, which is waited for too)."""
        assert self.ws is not None, "use `async with`"
        message = BackMsg()
        state = message.rerun_script
        state.query_string = self.query_string
        state.page_script_hash = self.page_hash
        state.fragment_id = fragment_id
        state.widget_states.widgets.extend([*self.states.values(), *extra])  # extra: one-shot triggers
        if not fragment_id:  # a whole run draws the page anew: only the widgets it shows can be used after it
            self.widgets.clear()
        started = time.perf_counter()
        await self.ws.send(message.SerializeToString())
        run = Run(seconds=0.0, messages=0, received_bytes=0)
        deadline = started + timeout
        while True:
            try:
                data = await asyncio.wait_for(self.ws.recv(), max(0.0, deadline - time.perf_counter()))
            except TimeoutError:
                raise RunFailed(f"no script_finished within {timeout:g} s") from None
            run.messages += 1
            run.received_bytes += len(data)
            forward = ForwardMsg()
            forward.ParseFromString(data)
            kind = forward.WhichOneof("type")
            if kind == "delta":
                self._read_delta(forward.delta, run)
            elif kind == "new_session":
                self.session_id = forward.new_session.initialize.session_id or self.session_id
                self._read_pages(forward.new_session.app_pages)
                self.page_hash = forward.new_session.page_script_hash or self.page_hash
            elif kind == "auto_rerun":
                self.polled.add(forward.auto_rerun.fragment_id)
            elif kind == "navigation":
                self._read_pages(forward.navigation.app_pages)
                self.page_hash = forward.navigation.page_script_hash or self.page_hash
            elif kind == "script_finished" and forward.script_finished != EARLY:
                run.seconds = time.perf_counter() - started
                return run

    def _read_pages(self, pages: Any) -> None:
        for page in pages:
            self.pages[page.page_name] = page.page_script_hash
            if page.url_pathname:
                self.pages[page.url_pathname] = page.page_script_hash

    def _read_delta(self, delta: Any, run: Run) -> None:
        if not delta.HasField("new_element"):
            return
        element = delta.new_element
        kind = element.WhichOneof("type")
        if kind in WIDGET_KINDS:
            proto = getattr(element, kind)
            self.widgets[proto.label] = Widget(kind, proto.id, proto.label, delta.fragment_id, proto)
        elif kind == "bidi_component" and element.bidi_component.component_name == LIVE_SLIDERS:
            proto = element.bidi_component  # labelled by its name: the in-page sliders have no label
            self.widgets[LIVE_SLIDERS] = Widget(kind, proto.id, LIVE_SLIDERS, delta.fragment_id, proto)
        elif kind == "alert" and element.alert.format == ERROR_ALERT:
            run.errors.append(element.alert.body)
        elif kind == "exception":
            run.errors.append(f"{element.exception.type}: {element.exception.message}")

    # ------------------------------------------------------------ what a user does

    def widget(self, label_start: str, kind: str | None = None) -> Widget:
        for label, widget in self.widgets.items():
            if label.startswith(label_start) and (kind is None or widget.kind == kind):
                return widget
        raise KeyError(f"no {kind or 'widget'} labelled {label_start!r}: {sorted(self.widgets)}")

    def sliders(self) -> list[Widget]:
        return [w for w in self.widgets.values() if w.kind == "slider"]

    def live_sliders(self) -> Widget | None:
        return self.widgets.get(LIVE_SLIDERS)

    async def release_live_sliders(self, sliders: Widget, code: list[float]) -> Run:
        """What the page sends when a drag of the in-page sliders ends: one "commit" trigger with the code."""
        from streamlit.components.v2.bidi_component.main import _make_trigger_id

        data = json.loads(sliders.proto.json)
        self.commits = getattr(self, "commits", data["seq"]) + 1
        trigger = _make_trigger_id(sliders.id, "events")
        state = WidgetState(id=trigger)
        state.json_trigger_value = json.dumps([{"event": "commit", "value": {"code": code, "seq": self.commits}}])
        self.states.pop(trigger, None)  # a trigger is sent once, not with every later run
        return await self.run(fragment_id=sliders.fragment_id, extra=[state])

    async def move_slider(self, slider: Widget, value: float) -> Run:
        state = WidgetState(id=slider.id)
        state.double_array_value.data.append(value)
        self.states[slider.id] = state
        return await self.run(fragment_id=slider.fragment_id)

    async def choose(self, widget: Widget, option: str) -> Run:
        """Picks an option of a segmented control / pills (by its label) or a radio / selectbox (by its label)."""
        state = WidgetState(id=widget.id)
        if widget.kind == "button_group":
            state.string_array_value.data.append(option)
        else:
            state.string_value = option
        self.states[widget.id] = state
        return await self.run(fragment_id=widget.fragment_id)

    async def upload(self, uploader: Widget, name: str, data: bytes, mime: str = "image/png") -> Run:
        """What the page does when a file is dropped on an uploader: asks the server for an upload address
        (file_urls_request), PUTs the file there, then reruns with the uploader's new value."""
        assert self.ws is not None, "use `async with`"
        message = BackMsg()
        request = message.file_urls_request
        request.request_id = uuid.uuid4().hex
        request.session_id = self.session_id
        request.file_names.append(name)
        await self.ws.send(message.SerializeToString())
        while True:
            forward = ForwardMsg()
            forward.ParseFromString(await asyncio.wait_for(self.ws.recv(), 60))
            answer = forward.file_urls_response
            if forward.WhichOneof("type") == "file_urls_response" and answer.response_id == request.request_id:
                urls = answer.file_urls[0]
                break
        response = await asyncio.to_thread(
            requests.put,
            self.http_url + urls.upload_url,
            files={"file": (name, data, mime)},
            headers={"X-Xsrftoken": self.xsrf},
            cookies=self.cookies,
            timeout=60,
        )
        if response.status_code != 204 and not response.ok:
            raise RunFailed(f"upload refused: HTTP {response.status_code} {response.text[:120]}")
        state = WidgetState(id=uploader.id)
        info = state.file_uploader_state_value.uploaded_file_info.add()
        info.file_id, info.name, info.size = urls.file_id, name, len(data)
        info.file_urls.CopyFrom(urls)
        self.states[uploader.id] = state
        return await self.run(fragment_id=uploader.fragment_id)

    async def open_page(self, name: str) -> Run:
        """Opens an st.navigation page by its title or url path."""
        self.page_hash = self.pages[name]
        return await self.run()


def option_labels(widget: Widget) -> list[str]:
    """The labels a segmented control, radio or selectbox shows (what its widget state carries)."""
    if widget.kind == "button_group":  # the wire value is the whole formatted label, its leading icon included
        return [f"{o.content_icon} {o.content}" if o.content_icon else o.content for o in widget.proto.options]
    return list(widget.proto.options)
