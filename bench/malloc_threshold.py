"""What glibc's fixed mmap threshold costs the server's heavy work, beside what it saves in memory.

    .venv/bin/python bench/malloc_threshold.py --repeats 3

`MALLOC_MMAP_THRESHOLD_` (bytes) makes glibc map every allocation at least that large on its own and
unmap it when freed, instead of keeping it in an arena where freed pieces are kept and fragment (the
memory side is bench/session_memory.py). The price is a fresh mapping, and its page faults, for each
such buffer. Timed here, in a fresh process per setting and repeat (settings interleaved), each with
MALLOC_ARENA_MAX=2 as scripts/start.sh runs the app:

- load: a 19 MB checkpoint (784-2950-20, float32, as bench/session_memory.py uploads) read, checked and
  built, five times;
- map: the map job of that checkpoint, vae.atlas.build_atlas (encode the test set, t-SNE, scores).

Saved to bench/results/malloc_threshold-<date>-<cpu>.txt.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.results import save  # noqa: E402

SETTINGS = {"glibc's default (dynamic)": None, "1 MiB": 1 << 20, "4 MiB": 4 << 20}

CHILD = r"""
import json, shutil, sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from vae.atlas import build_atlas
from vae.checkpoint import load_checkpoint
source = Path(sys.argv[2])
started = time.perf_counter()
for _ in range(5):
    load_checkpoint(source)
load_s = time.perf_counter() - started
work = Path(sys.argv[3]) / source.name
shutil.copy(source, work)
started = time.perf_counter()
build_atlas(work, seed=0, log=lambda *a: None)
map_s = time.perf_counter() - started
rss = [l for l in Path("/proc/self/status").read_text().splitlines() if l.startswith("VmHWM")][0].split()[1]
print(json.dumps({"load_s": load_s, "map_s": map_s, "hwm_mb": int(rss) * 1024 / 1e6}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    from bench.session_memory import make_checkpoint

    results: dict[str, list[dict]] = {name: [] for name in SETTINGS}
    with tempfile.TemporaryDirectory() as folder:
        checkpoint = make_checkpoint(Path(folder), 2950)
        for repeat in range(args.repeats):
            for name, threshold in SETTINGS.items():
                env = {k: v for k, v in os.environ.items() if k != "MALLOC_MMAP_THRESHOLD_"}
                env["MALLOC_ARENA_MAX"] = "2"
                if threshold is not None:
                    env["MALLOC_MMAP_THRESHOLD_"] = str(threshold)
                work = Path(folder) / f"run{repeat}-{len(results[name])}-{threshold}"
                work.mkdir()
                done = subprocess.run(
                    [sys.executable, "-c", CHILD, str(REPO), str(checkpoint), str(work)],
                    env=env,
                    capture_output=True,
                    text=True,
                    check=True,
                )
                results[name].append(json.loads(done.stdout.strip().splitlines()[-1]) | {"load1": os.getloadavg()[0]})
                print(name, results[name][-1], flush=True)
    base = results[next(iter(SETTINGS))]
    lines = [
        f"{'MALLOC_MMAP_THRESHOLD_':<26} {'5 loads s':>9} {'map s':>7} {'peak MB':>8}  median of {args.repeats}; "
        "ratio to glibc's default",
    ]
    for name, runs in results.items():
        load = statistics.median(r["load_s"] for r in runs)
        built = statistics.median(r["map_s"] for r in runs)
        peak = statistics.median(r["hwm_mb"] for r in runs)
        load_ratio = load / statistics.median(r["load_s"] for r in base)
        map_ratio = built / statistics.median(r["map_s"] for r in base)
        lines.append(
            f"{name:<26} {load:>9.2f} {built:>7.2f} {peak:>8.0f}  loads ×{load_ratio:.2f}, map ×{map_ratio:.2f}"
        )
    loads = [round(r["load1"], 2) for runs in results.values() for r in runs]
    lines.append(f"1-minute load during the runs: {min(loads)}–{max(loads)}")
    text = "\n".join(lines)
    print("\n" + text)
    save("malloc_threshold", text)


if __name__ == "__main__":
    main()
