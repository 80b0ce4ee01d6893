"""What each hostile upload (harness/hostile_corpus.py) costs the server: CPU seconds and peak memory.

    .venv/bin/python bench/upload_cost.py

Each file is read in a fresh process under limits (harness/upload_cost.py): an image as the Digit view reads
it (image_to_mnist), a checkpoint as the model picker loads it (load, encode, decode). The table gives the
CPU and wall seconds, the peak resident memory above the process's baseline and the visitor's message,
then the worst CPU and memory; issue 23's budget is 2 s and 500 MB per upload. The table is also appended
to bench/results/upload_cost-<date>-<cpu>.txt (bench/results.py).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.results import save  # noqa: E402
from harness.hostile_corpus import hostile_files  # noqa: E402
from harness.upload_cost import measure  # noqa: E402


def main() -> None:
    lines = ["Upload cost of the hostile corpus", ""]
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
    save("upload_cost", "\n".join(lines))


if __name__ == "__main__":
    main()
