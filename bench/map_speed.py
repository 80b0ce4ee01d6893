"""How long the t-SNE map takes the server: opening it, and a click on a digit to its side panel.

Measured with Streamlit's AppTest (the app's own script runs, no browser): the session has run once on
the default view (model, atlas and test set cached, as after the first page), then

- map open: the run that opens the map view (figure built and serialised);
- click: a pick on the map, as its callback leaves it (map_pick), to the panel drawn; the whole page is
  rerun here, while in the browser a click reruns only the map's fragment, so this is an upper bound;
- payload: the bytes of the map figure's JSON (was 7.5 MB with a braille picture per digit).

    .venv/bin/python bench/map_speed.py --repeats 5

Appends every sample to bench/results/map_speed-<date>-<cpu>.json (bench/results.py) and prints medians
with the load average (2 shared cores: noisy).
"""

from __future__ import annotations

import argparse
import os
import random
import shlex
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.results import save  # noqa: E402

TARGETS = {"open_s": 1.0, "click_s": 0.3}


def measure(repeats: int) -> dict:
    from streamlit.testing.v1 import AppTest

    opens, clicks, payloads = [], [], []
    rng = random.Random(0)
    for _ in range(repeats):
        at = AppTest.from_file(str(REPO / "app.py"), default_timeout=120).run()  # a new session, first page
        assert not at.exception, at.exception
        at.session_state["requested_view"] = "map"
        started = time.perf_counter()
        at.run()
        opens.append(time.perf_counter() - started)
        assert not at.exception and at.session_state["view"] == "map", at.exception
        payloads.append(len(at.get("plotly_chart")[0].proto.spec))
        for _ in range(3):
            at.session_state["map_pick"] = rng.randrange(10_000)
            started = time.perf_counter()
            at.run()
            clicks.append(time.perf_counter() - started)
            assert not at.exception, at.exception
    return {"open_s": opens, "click_s": clicks, "payload_bytes": payloads}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    load = os.getloadavg()[0]
    result = measure(args.repeats)
    result |= {"command": shlex.join(["python", *sys.argv]), "load_average": [load, os.getloadavg()[0]]}
    out = save("map_speed", result)
    print(f"$ {result['command']}\nload average {load:.2f} → {os.getloadavg()[0]:.2f}\n")
    print(f"{'':44}{'median':>9}{'max':>9}  target")
    for name, label in (("open_s", "map open (server script run)"), ("click_s", "click → panel (whole-page rerun)")):
        values = result[name]
        print(f"{label:44}{statistics.median(values):8.2f}s{max(values):8.2f}s  ≤ {TARGETS[name]:g} s")
    print(f"{'map figure JSON':44}{statistics.median(result['payload_bytes']) / 1e3:8.0f}kB")
    print(f"\nevery sample: {out.relative_to(REPO)}")


if __name__ == "__main__":
    main()
