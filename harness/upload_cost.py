"""What reading one upload costs the server: wall and CPU seconds and peak memory, in a fresh process.

Peak memory is the rise of the process's high-water mark (VmHWM) over its resident size just before
the read, after the imports: Linux lets a process reset its high-water mark (`5` into
/proc/self/clear_refs), so what torch's import left behind does not hide the upload's own peak.
The child also runs under limits, so a bomb fails the measurement instead of the machine: its address
space may grow by MEMORY_LIMIT_MB at most and it may spend CPU_LIMIT_S seconds.
Shared by tests/unit/test_photo_reading.py, tests/unit/test_hostile_uploads.py, bench/photo_reading.py and
bench/upload_cost.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
MEMORY_LIMIT_MB = 1024
CPU_LIMIT_S = 20

CHILD = """
import json, resource, sys, time
sys.path.insert(0, sys.argv[1])
kind, path, memory_mb, cpu_s = sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
if kind == "image":
    from vae.preprocess import InvalidImageError as Refused, image_to_mnist

    def read():
        return image_to_mnist(open(path, "rb").read())
else:
    import torch
    from vae.checkpoint import CheckpointError as Refused, load_checkpoint

    def read():  # as the views use it: encode a digit, decode a code
        model = load_checkpoint(path)
        with torch.no_grad():
            model.decode(model.encode(torch.rand(1, 784))[0])

def status(field):
    for line in open("/proc/self/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024  # kB -> MB

size = int(status("VmSize") * 2**20)
resource.setrlimit(resource.RLIMIT_AS, (size + memory_mb * 2**20,) * 2)
used = resource.getrusage(resource.RUSAGE_SELF)
resource.setrlimit(resource.RLIMIT_CPU, (int(used.ru_utime + used.ru_stime) + cpu_s,) * 2)
with open("/proc/self/clear_refs", "w") as refs:
    refs.write("5")  # the high-water mark starts again from here
base = status("VmRSS")
start, cpu = time.perf_counter(), time.process_time()
try:
    read()
    outcome = None
except Refused as exc:
    outcome = str(exc)
print(json.dumps([time.perf_counter() - start, time.process_time() - cpu, status("VmHWM") - base, outcome]))
"""


@dataclass(frozen=True)
class Cost:
    wall_s: float
    cpu_s: float
    peak_mb: float  # above the resident size after the imports
    refusal: str | None  # the one-line message the visitor would see; None when the file was read


def can_measure() -> bool:
    return Path("/proc/self/clear_refs").exists()


def measure(path: Path, kind: str = "image") -> Cost:
    """Read an image ("image": image_to_mnist) or a checkpoint ("checkpoint": load, encode, decode) in a new
    process under the limits; CalledProcessError when the child fails (a limit hit, an unexpected error)."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    args = [str(REPO), kind, str(path), str(MEMORY_LIMIT_MB), str(CPU_LIMIT_S)]
    out = subprocess.run(
        [sys.executable, "-c", CHILD, *args], capture_output=True, text=True, env=env, check=True, timeout=120
    )
    return Cost(*json.loads(out.stdout))


def upload_cost(path: Path) -> tuple[float, float, float]:
    """(wall s, CPU s, peak MB above the baseline) of image_to_mnist on the file, in a new process."""
    cost = measure(path)
    return cost.wall_s, cost.cpu_s, cost.peak_mb
