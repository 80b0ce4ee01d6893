"""What reading one upload costs the server: wall and CPU seconds and peak memory, in a fresh process.

Peak memory is the rise of the process's high-water mark (VmHWM) over its resident size just before
the read, after the imports: Linux lets a process reset its high-water mark (`5` into
/proc/self/clear_refs), so what torch's import left behind does not hide the upload's own peak.
Shared by tests/unit/test_photo_reading.py and bench/photo_reading.py.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

CHILD = """
import sys, time
sys.path.insert(0, sys.argv[1])
from vae.preprocess import image_to_mnist

def status(field):
    for line in open("/proc/self/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024  # kB -> MB

data = open(sys.argv[2], "rb").read()
with open("/proc/self/clear_refs", "w") as refs:
    refs.write("5")  # the high-water mark starts again from here
base = status("VmRSS")
start, cpu = time.perf_counter(), time.process_time()
image_to_mnist(data)
print(time.perf_counter() - start, time.process_time() - cpu, status("VmHWM") - base)
"""


def can_measure() -> bool:
    return Path("/proc/self/clear_refs").exists()


def upload_cost(path: Path) -> tuple[float, float, float]:
    """(wall s, CPU s, peak MB above the baseline) of image_to_mnist on the file, in a new process."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(REPO), str(path)], capture_output=True, text=True, env=env, check=True
    )
    wall, cpu, peak = (float(v) for v in out.stdout.split())
    return wall, cpu, peak
