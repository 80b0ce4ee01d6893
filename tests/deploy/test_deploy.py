"""The replicated deployment: two app processes behind Debian's nginx with the shipped configuration.

deploy/nginx/explorer.conf.template is rendered for two `streamlit run app.py` replicas and nginx on
loopback (the same file the compose stack mounts). Browser sessions through nginx must stay on their
replica (sticky cookie) while they open views and upload a digit; when one replica stops, its pages must
reconnect to the other and draw again, and the other's pages must not notice.

    .venv/bin/python -m pytest -m browser tests/deploy/test_deploy.py

Skipped where nginx, Chromium or Playwright is missing, except under CI=true (scripts/test.sh installs them):
there that fails. nginx's access log and the replicas' logs go to tests/artifacts/deploy/.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import urllib.request
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from harness import browser as bs

IN_CI = os.environ.get("CI", "").lower() == "true"
if not IN_CI:  # under CI a missing Playwright is an import error, not a skip
    pytest.importorskip("playwright.sync_api", reason="pip install -r requirements-dev.txt")
from playwright.sync_api import expect, sync_playwright  # noqa: E402

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[2]
TEMPLATE = REPO / "deploy" / "nginx" / "explorer.conf.template"
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts" / "deploy"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
REPLICA_HEADER = "x-explorer-replica"
# The http context around the shipped snippet: what the nginx image's own nginx.conf provides, plus a log
# of which replica served each request for which affinity key (a websocket is logged when it closes).
MAIN_CONF = """\
worker_processes 1;
pid {root}/nginx.pid;
daemon off;
{user}
events {{ worker_connections 512; }}
http {{
    log_format replicas '$upstream_addr|$explorer_affinity|$request|$status';
    access_log {root}/access.log replicas;
    client_body_temp_path {root}/body;
    proxy_temp_path {root}/proxy;
    fastcgi_temp_path {root}/fastcgi;
    uwsgi_temp_path {root}/uwsgi;
    scgi_temp_path {root}/scgi;
    include {root}/explorer.conf;
}}
"""


def render_template(listen_port: int, replica_ports: list[int]) -> str:
    """What the nginx image's envsubst makes of the template: only its two variables are replaced."""
    servers = " ".join(f"server 127.0.0.1:{port} max_fails=1 fail_timeout=10s;" for port in replica_ports)
    text = TEMPLATE.read_text()
    assert "${LISTEN_PORT}" in text and "${UPSTREAM_SERVERS}" in text
    return text.replace("${LISTEN_PORT}", f"127.0.0.1:{listen_port}").replace("${UPSTREAM_SERVERS}", servers)


class Nginx:
    def __init__(self, root: Path, replica_ports: list[int]) -> None:
        self.root = root
        self.port = bs.free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        root.mkdir(parents=True, exist_ok=True)
        (root / "explorer.conf").write_text(render_template(self.port, replica_ports))
        user = "user root;" if os.geteuid() == 0 else ""  # workers may write the upload temp files here
        (root / "nginx.conf").write_text(MAIN_CONF.format(root=root, user=user))
        (root / "access.log").write_text("")
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> Nginx:
        command = [NGINX, "-p", str(self.root), "-c", str(self.root / "nginx.conf"), "-e", str(self.root / "error.log")]
        checked = subprocess.run([*command, "-t"], capture_output=True, text=True)
        assert checked.returncode == 0, f"nginx -t: {checked.stderr}"
        self.process = subprocess.Popen(command)
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as answer:
                    assert answer.read().strip() == b"ok"
                    return self
            except OSError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise
                time.sleep(0.1)

    def __exit__(self, *exc: object) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)

    def requests_by_key(self) -> dict[str, list[tuple[str, str, str]]]:
        """Affinity key → (replica that answered, request line, status) of every logged request."""
        logged: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
        for line in (self.root / "access.log").read_text().splitlines():
            upstream, key, request, status = line.split("|")
            if upstream not in ("", "-"):
                # After a failed try nginx lists every replica it tried: the last one answered.
                logged[key].append((upstream.split(", ")[-1], request, status))
        return logged


@pytest.fixture(scope="module")
def browser() -> Iterator:
    for needed, reason in (
        (bs.CHROMIUM, "apt-get install chromium fonts-dejavu-core"),
        (Path(NGINX), "apt-get install nginx-light"),
    ):
        if not needed.is_file():
            if IN_CI:
                pytest.fail(f"no {needed}: {reason} (CI=true: scripts/test.sh installs it)", pytrace=False)
            pytest.skip(f"no {needed}: {reason}")
    with sync_playwright() as playwright:
        chromium = bs.launch_chromium(playwright)
        yield chromium
        chromium.close()


def replica_of(page, proxy_url: str) -> str:
    """The replica nginx sends this browser's requests to (its cookie decides), as host:port."""
    answer = page.request.get(f"{proxy_url}/_stcore/health")
    assert answer.ok
    return answer.headers[REPLICA_HEADER].split(", ")[-1]


def websockets(page) -> list:
    """Every websocket the page opens from now on (Playwright WebSocket objects), in order."""
    opened: list = []
    page.on("websocket", lambda socket: opened.append(socket))
    return opened


def affinity_key(page) -> str:
    return next(c["value"] for c in page.context.cookies() if c["name"] == "explorer_affinity")


def use_the_app(page, from_digit_view: bool = False) -> None:
    """A slider moved, the digit view opened and a digit uploaded: websocket, media and upload requests."""
    if from_digit_view:
        bs.open_view(page, "sliders")
    thumb = page.locator(".live-decoder .live-range").first  # decoded in the page; the code reaches the server
    bs.rerun(page, lambda: thumb.press("ArrowRight"))  # once the keys pause: one script run
    bs.open_view(page, "digit")
    bs.rerun(page, lambda: bs.upload(page, "seven.png", bs.digit_png("seven")))
    bs.wait_image_loaded(page, bs.RECONSTRUCTION_IMAGE)
    assert not bs.exceptions(page)


def test_sessions_stick_to_their_replica_and_move_to_the_other_when_it_stops(browser) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    replicas = [bs.AppServer(ARTIFACTS / f"replica{i}.log", ["--server.fileWatcherType", "none"]) for i in (0, 1)]
    for replica in replicas:
        replica.start()
    try:
        for replica in replicas:
            replica.wait_healthy(120)
        addresses = [f"127.0.0.1:{r.port}" for r in replicas]
        with Nginx(ARTIFACTS / "nginx", [r.port for r in replicas]) as nginx:
            # New browsers (new cookies) until each replica has two sessions: the hash spreads them. The first
            # answer sets the cookie, so a browser's replica is known before the app is loaded in it.
            pages: dict[str, list] = {address: [] for address in addresses}
            for _ in range(32):
                if all(len(p) >= 2 for p in pages.values()):
                    break
                page = browser.new_context(viewport=bs.VIEWPORT).new_page()
                address = replica_of(page, nginx.url)
                if len(pages[address]) >= 2:
                    page.context.close()
                    continue
                bs.goto_app(page, nginx.url)
                assert replica_of(page, nginx.url) == address
                pages[address].append(page)
            assert all(pages.values()), f"32 browsers all landed on one replica: {pages}"
            for page in (p for group in pages.values() for p in group):
                use_the_app(page)

            # Sticky: every request of a browser (page, scripts, websocket, media, upload) hit one replica.
            logged = nginx.requests_by_key()
            for address, group in pages.items():
                for page in group:
                    served = {upstream for upstream, _, _ in logged[affinity_key(page)]}
                    assert served == {address}, f"{affinity_key(page)}: {served}"
                    requests = " ".join(request for _, request, _ in logged[affinity_key(page)])
                    assert "/_stcore/upload_file/" in requests and "/media/" in requests

            # Replica 0 stops: its pages reconnect through nginx to replica 1 and draw the app again.
            stopped, survivor = addresses
            moved, stayed = pages[stopped], pages[survivor]
            for page in moved:  # state that lives in the address: the samples' seed
                bs.open_view(page, "samples")
                seed = page.get_by_label("Seed")
                seed.fill("4242")
                bs.rerun(page, lambda seed=seed: seed.press("Enter"))
                assert "seed=4242" in page.url
            sockets = {id(page): websockets(page) for page in moved}
            replicas[0].stop()
            for page in moved:
                # Streamlit's page reconnects by itself (no rerun: it keeps what it showed until the next input).
                deadline = time.monotonic() + 90
                while not any(not ws.is_closed() for ws in sockets[id(page)]):
                    assert time.monotonic() < deadline, "the page opened no new websocket within 90 s"
                    page.wait_for_timeout(100)  # Playwright delivers its events while it waits
                assert replica_of(page, nginx.url) == survivor
                bs.open_view(page, "samples")  # the first input runs the app in a new session on the survivor
                bs.wait_image_loaded(page, "#24")
                assert not bs.exceptions(page)
                # The new session read its state from the page's address, and says so in one line.
                expect(page.get_by_label("Seed")).to_have_value("4242")
                note = page.get_by_text("Restored from the page's address", exact=False)
                expect(note).to_be_visible()
                expect(note).to_contain_text("seed")
                bs.screenshot(page, ARTIFACTS / "restored_session.png")
                use_the_app(page, from_digit_view=True)  # a new session on the survivor: media, uploads work
                bs.screenshot(page, ARTIFACTS / "moved_session.png")
            for page in stayed:  # the survivor's own sessions go on as before
                use_the_app(page, from_digit_view=True)
                expect(page.get_by_test_id("stImage").filter(has_text=bs.RECONSTRUCTION_IMAGE)).to_have_count(1)
            keys = [affinity_key(page) for page in moved]
            for page in moved + stayed:
                page.context.close()  # nginx logs a websocket when it closes
            time.sleep(1)
            logged = nginx.requests_by_key()
            for key in keys:  # each moved browser's websockets: first to the stopped replica, last to the survivor
                streams = [upstream for upstream, request, _ in logged[key] if "/_stcore/stream" in request]
                assert streams[0] == stopped and streams[-1] == survivor, streams
    finally:
        for replica in replicas:
            replica.stop()


# Every violation of the page's Content-Security-Policy, as the browser reports it to the page.
CSP_WATCH_JS = """() => { window.__cspViolations = [];
  document.addEventListener('securitypolicyviolation',
    e => window.__cspViolations.push(e.violatedDirective + ' ' + e.blockedURI)); }"""
HOSTILE_LINK = "?a=[Claim your grade](https://evil.example/grade)&n=![x](https://evil.example/x.png)&k=:red[**boo**]"


def test_the_proxy_sends_security_headers_and_every_view_works_under_them(browser) -> None:
    from explorer.pages import VIEWS

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    replica = bs.AppServer(ARTIFACTS / "headers_replica.log", ["--server.fileWatcherType", "none"])
    replica.start()
    try:
        replica.wait_healthy(120)
        with Nginx(ARTIFACTS / "nginx_headers", [replica.port]) as nginx:
            with urllib.request.urlopen(f"{nginx.url}/", timeout=10) as answer:
                headers = {k.lower(): v for k, v in answer.headers.items()}
            policy = headers["content-security-policy"]
            for directive in ("default-src 'self'", "img-src 'self' data: blob:", "frame-ancestors 'self'"):
                assert directive in policy
            assert "evil" not in policy and "*" not in policy  # no other site, no wildcard
            assert headers["x-content-type-options"] == "nosniff"
            assert headers["x-frame-options"] == "SAMEORIGIN"
            assert headers["referrer-policy"] == "same-origin"
            assert "microphone=()" in headers["permissions-policy"]

            context = browser.new_context(viewport=bs.VIEWPORT)
            context.add_init_script(f"({CSP_WATCH_JS})()")
            page = context.new_page()
            foreign: list[str] = []
            page.on("request", lambda r: foreign.append(r.url) if urlsplit(r.url).hostname == "evil.example" else None)
            bs.goto_app(page, nginx.url + "/" + HOSTILE_LINK)
            note = page.get_by_text("Part of this link did not fit", exact=False)
            said = note.inner_text().replace("\u2060", "")  # the invisible joiners that keep autolinks text
            assert "[Claim your grade](https://evil.example/" in said and ":red[**boo**]" in said  # as text
            assert page.locator("a[href*='evil.example'], img[src*='evil.example']").count() == 0
            for view in VIEWS:  # the whole app works under the policy
                bs.open_view(page, view.url_path)
                bs.wait_settled(page)
                assert not bs.exceptions(page), view.url_path
            use_the_app(page, from_digit_view=True)  # the sliders, the digit view and an upload
            bs.screenshot(page, ARTIFACTS / "under_the_policy.png")
            assert page.evaluate("window.__cspViolations") == []
            assert foreign == []  # no visitor's browser fetched what a link named
            context.close()
    finally:
        replica.stop()


def test_a_class_spans_two_replicas_through_the_shared_postgresql(browser) -> None:
    """The teacher's board on one replica shows what a student sent through the other: the class lives in
    one PostgreSQL that both replicas reach (VAE_CLASS_STORE), as in deploy/compose.yaml."""
    from harness.postgres import postgres_bin, running_postgres

    if postgres_bin() is None:
        if IN_CI:
            pytest.fail("no PostgreSQL: scripts/test.sh installs it", pytrace=False)
        pytest.skip("no PostgreSQL: apt-get install postgresql")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with running_postgres() as url:
        saved = os.environ.get("VAE_CLASS_STORE")
        os.environ["VAE_CLASS_STORE"] = url  # the replicas inherit it
        try:
            replicas = [
                bs.AppServer(ARTIFACTS / f"class_replica{i}.log", ["--server.fileWatcherType", "none"]) for i in (0, 1)
            ]
            for replica in replicas:
                replica.start()
            for replica in replicas:
                replica.wait_healthy(120)
        finally:
            if saved is None:
                os.environ.pop("VAE_CLASS_STORE", None)
            else:
                os.environ["VAE_CLASS_STORE"] = saved
        try:
            with Nginx(ARTIFACTS / "nginx_class", [r.port for r in replicas]) as nginx:
                teacher = browser.new_context(viewport=bs.VIEWPORT).new_page()
                bs.goto_app(teacher, nginx.url)
                bs.open_view(teacher, "class")
                bs.rerun(teacher, teacher.get_by_role("button", name="Open a class").click)
                code = teacher.locator("code").filter(has_text="join=").first.inner_text().strip().rsplit("=", 1)[1]
                for _ in range(16):  # new browsers until one lands on the other replica
                    student = browser.new_context(viewport=bs.VIEWPORT).new_page()
                    bs.goto_app(student, f"{nginx.url}/?join={code}")
                    if replica_of(student, nginx.url) != replica_of(teacher, nginx.url):
                        break
                    student.context.close()
                else:
                    pytest.fail("16 browsers all landed on the teacher's replica")
                bs.open_view(student, "class")
                student.get_by_label("Nickname (optional, shown on the board)").fill("Far away")
                bs.rerun(student, student.get_by_role("button", name="Join").click)
                bs.open_view(student, "digit")
                bs.rerun(student, lambda: bs.upload(student, "seven.png", bs.digit_png("seven")))
                bs.rerun(student, student.get_by_role("button", name="Send to the class").click)
                expect(student.get_by_text(f"Sent to class {code}", exact=False)).to_be_visible()
                try:
                    expect(teacher.get_by_test_id("stImage").filter(has_text="Far away")).to_be_visible(timeout=15_000)
                finally:
                    bs.screenshot(teacher, ARTIFACTS / "class_across_replicas.png")
                    bs.screenshot(student, ARTIFACTS / "class_across_replicas_student.png")
        finally:
            for replica in replicas:
                replica.stop()
