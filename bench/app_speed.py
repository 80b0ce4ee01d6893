"""How fast the explorer app answers: cold start, slider → new digit, upload → reconstruction.

Each is measured on the server (Streamlit's AppTest rerun, or the app's own vae functions) and in a real
browser (Debian's Chromium driven by Playwright against `streamlit run app.py`). Also: how long the big
imports take, and which of them the first page pays for. Run it from the repository's virtualenv:

    .venv/bin/python bench/app_speed.py                 # everything, default repetitions
    .venv/bin/python bench/app_speed.py --launches 5 --no-browser

Appends every sample to bench/results/app_speed-<date>-<cpu>.json (bench/results.py) and prints a table.
Timings are wall-clock medians; on a busy machine (e.g. while models train) they are noisy: the load
average is printed with them.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.results import save  # noqa: E402
from harness import browser as bs  # noqa: E402
from harness import components as ls  # noqa: E402

APP = REPO / "app.py"
STATES_SINCE_JS = "t0 => window.__stStates.filter(s => s[1] >= t0).map(s => [s[0], s[1] - t0])"
TARGETS = {"cold_start_s": 5.0, "slider_server_ms": 100.0, "upload_server_ms": 200.0}
# What to time: module → statement (plotly.graph_objects loads its classes lazily: build one figure).
IMPORTS = {
    "streamlit": "import streamlit",
    "torch": "import torch",
    "plotly.graph_objects": "import plotly.graph_objects as go; go.Figure(go.Scattergl(x=[0], y=[0]))",
    "sklearn": "import sklearn",
    "explorer.ui.navigation": "import explorer.ui.navigation",
    "explorer.ui.figures": "import explorer.ui.figures",
}


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


# ---------------------------------------------------------------- imports


def import_seconds(statement: str, repeats: int) -> list[float]:
    """Wall time of an import statement in fresh interpreters (the OS file cache is warm after the first)."""
    code = f"import time; t = time.perf_counter(); {statement}; print(time.perf_counter() - t)"
    samples = []
    for _ in range(repeats):
        done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
        samples.append(float(done.stdout.strip()))
    return samples


def first_page_modules() -> dict[str, bool]:
    """Which heavy modules are loaded after the app's first run of its default view (AppTest, fresh process)."""
    code = (
        "import json, sys\n"
        "from streamlit.testing.v1 import AppTest\n"
        f"at = AppTest.from_file({str(APP)!r}, default_timeout=120).run()\n"
        "assert not at.exception\n"
        f"print(json.dumps({{m: m in sys.modules for m in {[*IMPORTS, 'streamlit_drawable_canvas']!r}}}))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------- server side


def slider_reruns(runs: int) -> dict:
    """AppTest rerun time after the sliders' code changed (what the end of a drag costs the server: the
    digit itself is decoded in the page while dragging)."""
    from streamlit.testing.v1 import AppTest

    from vae.catalog import state_key

    at = AppTest.from_file(str(APP), default_timeout=60).run()
    assert not at.exception, at.exception
    key = f"code:{state_key(at.session_state['active_model'])}"
    d = default_model().latent_dim
    values = [round(-2.0 + 0.2 * (i % 20), 2) for i in range(runs + 3)]
    samples = []
    for i, value in enumerate(values):
        at.session_state[key] = [value] + [0.0] * (d - 1)
        seconds = timed(at.run)
        assert not at.exception, at.exception
        if i >= 3:  # three warm-up reruns
            samples.append(seconds)
    # The slider view's own work (decode one code, enlarge it) without Streamlit around it.
    model = default_model()
    code = [0.0] * model.latent_dim
    from vae.codes import decode_code
    from vae.images import enlarge

    compute = [timed(lambda: enlarge(decode_code(model, code), 10)) for _ in range(runs)]
    return {"slider_key": key, "rerun_s": samples, "decode_s": compute}


def quiet_streamlit() -> None:
    """AppTest in this process logs "missing ScriptRunContext" warnings that mean nothing here."""
    logger = logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context")
    logger.addFilter(lambda record: "missing ScriptRunContext" not in record.getMessage())  # survives level resets


def default_model():
    from vae.checkpoint import default_checkpoint_path, load_checkpoint

    return load_checkpoint(default_checkpoint_path())


def upload_analysis(runs: int) -> dict:
    """The app's upload path, function by function (as view_digit calls them), and AppTest's whole rerun."""
    from streamlit.testing.v1 import AppTest

    from explorer.state.slider_values import slider_labels
    from explorer.ui.figures import code_figure
    from explorer.ui.pictures import preview_stages
    from vae.atlas import AtlasError, load_atlas
    from vae.checkpoint import default_checkpoint_path
    from vae.digit_analysis import analyse_digit
    from vae.preprocess import preprocess_steps

    model = default_model()
    try:
        atlas = load_atlas(default_checkpoint_path())
    except AtlasError:
        atlas = None
    pictures = [bs.digit_png("seven"), bs.digit_png("zero")]

    def analyse(data: bytes):
        prepared = preprocess_steps(data)
        analysis = analyse_digit(model, prepared.tensor, atlas.mu if atlas else None, atlas.coords if atlas else None)
        preview_stages(prepared.stages())
        return analysis

    def figures(analysis) -> None:
        order = slider_labels(atlas.dim_usage if atlas else None, atlas.usage_label if atlas else "", model.latent_dim)
        code_figure(analysis.mu, analysis.sigma, [dim for dim, _ in order]).to_json()

    for data in pictures:  # warm-up
        figures(analyse(data))
    analysis_s, figures_s = [], []
    for i in range(runs):
        started = time.perf_counter()
        analysis = analyse(pictures[i % 2])
        analysis_s.append(time.perf_counter() - started)
        figures_s.append(timed(lambda analysis=analysis: figures(analysis)))

    at = AppTest.from_file(str(APP), default_timeout=60).run()
    at.session_state["requested_view"] = "digit"  # as the app's own buttons open a view (see tests/support/app.py)
    at.run()
    rerun_s = []
    for i in range(max(3, runs // 4) + 1):
        name = "seven.png" if i % 2 == 0 else "zero.png"
        at.file_uploader(key="digit_upload").set_value((name, pictures[i % 2], "image/png"))
        seconds = timed(at.run)
        assert not at.exception and not at.error, (at.exception, at.error)
        if i:  # one warm-up
            rerun_s.append(seconds)
    return {"analysis_s": analysis_s, "figures_s": figures_s, "rerun_s": rerun_s, "atlas": atlas is not None}


# ---------------------------------------------------------------- in the browser


# Installed before the page's own scripts: the times (ms since navigation start) at which the app's root
# first appears and its script state changes, so a cold start can be split into its parts.
PAGE_MARKS_JS = """
window.__marks = [];
new MutationObserver(() => {
    const app = document.querySelector('[data-testid="stApp"]');
    if (!app) return;
    const state = app.getAttribute('data-test-script-state');
    const last = window.__marks[window.__marks.length - 1];
    if (!last || last[0] !== state) window.__marks.push([state, performance.now()]);
}).observe(document, {subtree: true, childList: true, attributes: true, attributeFilter: ['data-test-script-state']});
"""


def cold_starts(browser, launches: int, logs: Path) -> dict:
    """From `streamlit run` to the default view's digit shown and the run over, in an already open browser.

    Split into: server up (health ok); page opened → app's first script run starts (loading Streamlit's
    frontend, connecting); the run itself (imports of torch and vae, model and map loading, the view).
    """
    health, page_ready, frontend, first_run = [], [], [], []
    command = ""
    for i in range(launches):
        context = browser.new_context(viewport=bs.VIEWPORT)
        context.add_init_script(PAGE_MARKS_JS)
        page = context.new_page()
        server = bs.AppServer(logs / f"cold_start_{i}.log")
        command = shlex.join(server.command)
        try:
            server.start()
            health.append(server.wait_healthy(120))
            bs.goto_app(page, server.url, 120)
            page_ready.append(time.perf_counter() - server.started)
            assert not bs.exceptions(page)
            marks = page.evaluate("() => window.__marks")
            start = next(t for state, t in marks if state == "running")
            over = next(t for state, t in marks if state == "notRunning" and t > start)
            frontend.append(start / 1000)
            first_run.append((over - start) / 1000)
        finally:
            context.close()
            server.stop()
    return {
        "command": command,
        "health_s": health,
        "page_s": page_ready,
        "open_to_run_start_s": frontend,
        "first_run_s": first_run,
    }


def browser_interactions(browser, slider_runs: int, upload_runs: int, logs: Path) -> dict:
    with bs.AppServer(logs / "interactions.log") as server:
        server.wait_healthy(120)
        context = browser.new_context(viewport=bs.VIEWPORT)
        page = context.new_page()
        try:
            bs.goto_app(page, server.url, 120)
            page.evaluate(bs.STATE_TIMELINE_JS)  # starts recording the script-state changes with their times
            thumb = page.locator(f"{ls.SLIDERS} .live-range").first
            slider_s, run_start_s, run_over_s = [], [], []
            for i in range(slider_runs + 1):
                frames = ls.frames(page)
                thumb.focus()
                t0 = page.evaluate("() => performance.now()")
                started = time.perf_counter()
                page.keyboard.press("End" if i % 2 == 0 else "Home")  # one end then the other: a new picture
                page.wait_for_function(
                    "([s, n]) => Number(document.querySelector('[data-testid=stBidiComponentIsolated]')"
                    ".shadowRoot.querySelector(s).dataset.frames) > n",
                    arg=[ls.SLIDERS, frames],
                )
                seconds = time.perf_counter() - started
                bs.wait_settled(page)  # the page commits the code once the keys pause
                states = page.evaluate(STATES_SINCE_JS, t0)
                if i:  # one warm-up
                    slider_s.append(seconds)
                    start = next((t for state, t in states if state == "running"), None)
                    if start is not None:  # a quick run may never show "running" in the DOM (ScriptRuns)
                        run_start_s.append(start / 1000)
                        run_over_s.append(next(t for state, t in states if state == "notRunning" and t > start) / 1000)

            bs.open_view(page, "digit")
            pictures = [("seven.png", bs.digit_png("seven")), ("zero.png", bs.digit_png("zero"))]
            image_s, done_s = [], []
            src = ""
            for i in range(upload_runs + 1):
                name, data = pictures[i % 2]
                before = bs.script_runs(page).finished
                started = time.perf_counter()
                bs.upload(page, name, data)
                src = bs.wait_src_change(page, bs.RECONSTRUCTION_IMAGE, src, timeout=60)
                shown = time.perf_counter() - started
                bs.wait_run_finished(page, before, 60)
                done = time.perf_counter() - started
                assert not bs.exceptions(page)
                if i:  # one warm-up
                    image_s.append(shown)
                    done_s.append(done)
        finally:
            context.close()
    return {
        "slider_s": slider_s,
        "slider_run_start_s": run_start_s,
        "slider_run_over_s": run_over_s,
        "upload_image_s": image_s,
        "upload_run_over_s": done_s,
    }


# ---------------------------------------------------------------- report


def row(name: str, samples: list[float], unit: str, target: float | None = None) -> str:
    if not samples:
        return f"{name:46}{'(no samples)':>12}"
    scale = 1000 if unit == "ms" else 1
    values = [s * scale for s in samples]
    mid = statistics.median(values)
    verdict = "" if target is None else ("ok" if mid <= target else "OVER")
    target_text = "" if target is None else f"≤ {target:g} {unit}"
    return (
        f"{name:46}{mid:9.{0 if unit == 'ms' else 2}f} {unit:2}{min(values):9.{0 if unit == 'ms' else 2}f}"
        f"{max(values):9.{0 if unit == 'ms' else 2}f}{len(values):4}  {target_text:11}{verdict}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--launches", type=int, default=3, help="cold starts of `streamlit run`")
    parser.add_argument("--slider-runs", type=int, default=20, help="server reruns after a slider change")
    parser.add_argument("--browser-slider-runs", type=int, default=10)
    parser.add_argument("--upload-runs", type=int, default=20, help="server analyses of an uploaded digit")
    parser.add_argument("--browser-upload-runs", type=int, default=5)
    parser.add_argument("--import-repeats", type=int, default=3)
    parser.add_argument("--no-browser", action="store_true", help="server-side numbers only")
    args = parser.parse_args()

    from vae.checkpoint import default_checkpoint_path

    if not default_checkpoint_path().is_file():
        raise SystemExit(f"{default_checkpoint_path()} is missing: the app has no default model to time")
    browser_ok = not args.no_browser and bs.CHROMIUM.is_file()
    if not args.no_browser and not browser_ok:
        print(f"no Chromium at {bs.CHROMIUM}: browser timings skipped (apt-get install chromium)")

    quiet_streamlit()
    load_before = os.getloadavg()
    print(f"$ {shlex.join([Path(sys.executable).name, *sys.argv])}")
    print(f"{platform.node()} · {os.cpu_count()} CPUs · load average {load_before[0]:.2f} at start\n")

    result: dict = {"argv": sys.argv, "cpus": os.cpu_count(), "load_average_start": load_before, "targets": TARGETS}
    print("imports (fresh interpreter each) …", flush=True)
    result["imports_s"] = {m: import_seconds(statement, args.import_repeats) for m, statement in IMPORTS.items()}
    result["first_page_modules"] = first_page_modules()
    print("server: slider reruns …", flush=True)
    result["slider_server"] = slider_reruns(args.slider_runs)
    print("server: upload analyses …", flush=True)
    result["upload_server"] = upload_analysis(args.upload_runs)
    if browser_ok:
        from playwright.sync_api import sync_playwright

        with tempfile.TemporaryDirectory() as logs, sync_playwright() as playwright:
            browser = bs.launch_chromium(playwright)
            try:
                print("browser: cold starts …", flush=True)
                result["cold_start"] = cold_starts(browser, args.launches, Path(logs))
                print("browser: slider and upload …", flush=True)
                result["browser"] = browser_interactions(
                    browser, args.browser_slider_runs, args.browser_upload_runs, Path(logs)
                )
            finally:
                browser.close()
    result["load_average_end"] = os.getloadavg()
    out = save("app_speed", result)

    header = f"{'':46}{'median':>12}{'min':>9}{'max':>9}{'n':>4}  {'target':11}"
    print()
    print(header)
    if "cold_start" in result:
        print(f"cold start: {result['cold_start']['command']}")
        cold = result["cold_start"]
        print(row("  launch → /_stcore/health ok", cold["health_s"], "s"))
        print(row("  page opened → app's first script run starts", cold["open_to_run_start_s"], "s"))
        print(row("  first script run (imports, model, map, view)", cold["first_run_s"], "s"))
        print(row("  launch → default view shown, run over", cold["page_s"], "s", TARGETS["cold_start_s"]))
    slider = result["slider_server"]
    print(f"slider change → new digit (drawn in the page; the server reruns on release: {slider['slider_key']})")
    print(row("  server: AppTest rerun with a new code", slider["rerun_s"], "ms", TARGETS["slider_server_ms"]))
    print(row("  server: decode + enlarge alone", slider["decode_s"], "ms"))
    if "browser" in result:
        print(
            row(
                "  browser: key press → script run starts (after a 0.3 s pause)",
                result["browser"]["slider_run_start_s"],
                "ms",
            )
        )
        print(row("  browser: key press → new digit drawn in the page", result["browser"]["slider_s"], "ms"))
        print(row("  browser: key press → script run over", result["browser"]["slider_run_over_s"], "ms"))
    upload = result["upload_server"]
    print(f"upload → reconstruction ({'with' if upload['atlas'] else 'without'} atlas)")
    print(
        row("  server: preprocess + analyse_digit + previews", upload["analysis_s"], "ms", TARGETS["upload_server_ms"])
    )
    print(row("  server: its two Plotly figures → JSON", upload["figures_s"], "ms"))
    print(row("  server: AppTest rerun of the digit view", upload["rerun_s"], "ms"))
    if "browser" in result:
        print(row("  browser: set_input_files → reconstruction", result["browser"]["upload_image_s"], "ms"))
        print(row("  browser: set_input_files → run over", result["browser"]["upload_run_over_s"], "ms"))
    print("imports (fresh interpreter)")
    loaded = result["first_page_modules"]
    for module, samples in result["imports_s"].items():
        note = "  first page: yes" if loaded[module] else "  first page: no (lazy)"
        print(row(f"  import {module}", samples, "s") + note)
    canvas = "yes" if loaded["streamlit_drawable_canvas"] else "no (lazy)"
    print(f"  (streamlit_drawable_canvas imports only inside a running server)       first page: {canvas}")
    load_after = result["load_average_end"]
    print(f"\nload average {load_before[0]:.2f} → {load_after[0]:.2f}; samples in {out.relative_to(REPO)}")


if __name__ == "__main__":
    main()
