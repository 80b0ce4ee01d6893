"""What each hostile upload (harness/hostile_corpus.py) costs the server: CPU seconds and peak memory.

    .venv/bin/python bench/upload_cost.py

Each file is read in a fresh process under limits (harness/upload_cost.py): an image as the Digit view reads
it (image_to_mnist), a checkpoint as the model picker loads it (load, encode, decode). The table gives the
CPU and wall seconds, the peak resident memory above the process's baseline and the visitor's message,
then the worst CPU and memory; issue 23's budget is 2 s and 500 MB per upload. The table is also written
to bench/results/upload_cost-<date>-<cpu>.txt.
"""

from __future__ import annotations

import datetime
import platform
import re
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from harness.hostile_corpus import hostile_files  # noqa: E402
from harness.upload_cost import measure  # noqa: E402


def cpu_model() -> str:
    """lscpu's 'Model name' (the kind of CPU the figures come from)."""
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        return next(line.split(":", 1)[1].strip() for line in out.splitlines() if line.startswith("Model name"))
    except (OSError, subprocess.CalledProcessError, StopIteration):
        return platform.processor() or "unknown-cpu"


def main() -> None:
    lines = [f"Upload cost of the hostile corpus, {datetime.date.today()}, {cpu_model()}", ""]
    lines.append(f"{'file':<28} {'MB':>6} {'CPU s':>6} {'wall s':>6} {'peak MB':>7}  outcome")
    worst_cpu = worst_peak = (0.0, "")
    with tempfile.TemporaryDirectory() as folder:
        for name, (kind, what, path) in hostile_files(Path(folder)).items():
            cost = measure(path, kind)
            outcome = cost.refusal or "read"
            lines.append(
                f"{name:<28} {path.stat().st_size / 2**20:>6.2f} {cost.cpu_s:>6.2f} {cost.wall_s:>6.2f} "
                f"{cost.peak_mb:>7.0f}  {what}: {outcome[:90]}"
            )
            print(lines[-1], flush=True)
            worst_cpu = max(worst_cpu, (cost.cpu_s, name))
            worst_peak = max(worst_peak, (cost.peak_mb, name))
    lines += [
        "",
        f"worst CPU: {worst_cpu[0]:.2f} s ({worst_cpu[1]}); worst peak: {worst_peak[0]:.0f} MB ({worst_peak[1]})",
    ]
    lines.append("budget (issue 23): 2 s of CPU and 500 MB per upload")
    print("\n".join(lines[-2:]))
    slug = re.sub(r"[^A-Za-z0-9]+", "-", cpu_model()).strip("-")
    out = REPO / "bench" / "results" / f"upload_cost-{datetime.date.today()}-{slug}.txt"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n")
    print(f"written to {out.relative_to(REPO)}")


if __name__ == "__main__":
    main()
