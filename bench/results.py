"""Where every bench script's figures go: bench/results/<name>-<YYYY-MM-DD>-<cpu-slug>.txt (or .json).

    from bench.results import save
    save("fast_tier", text_or_dict)

A day's runs on one kind of CPU append to one file, each with when it ran, on what (CPU model, cores,
Python, torch) and under which load: the machine is shared, and a figure without its load says little.
The load "before" is the load average when this module was imported, i.e. when the bench script started.
"""

from __future__ import annotations

import datetime
import importlib.metadata
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"

# Taken at import, i.e. as the bench script starts, before its own work loads the machine.
STARTED = datetime.datetime.now()
LOAD_BEFORE = os.getloadavg()


def cpu_model() -> str:
    """/proc/cpuinfo's 'model name' (lscpu's 'Model name' where there is no /proc/cpuinfo line)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        return next(line.split(":", 1)[1].strip() for line in out.splitlines() if line.startswith("Model name"))
    except (OSError, subprocess.CalledProcessError, StopIteration):
        return platform.processor() or "unknown cpu"


def cpu_slug(model: str | None = None) -> str:
    return re.sub(r"[^a-z0-9]+", "-", (model or cpu_model()).lower()).strip("-")


def torch_version() -> str:
    # The imported torch if the script has one; else the installed one's metadata (importing torch costs seconds).
    torch = sys.modules.get("torch")
    if torch is not None:
        return torch.__version__
    try:
        return importlib.metadata.version("torch")
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def machine() -> dict:
    """When and on what: the fields every result file carries."""
    model = cpu_model()
    return {
        "started": STARTED.isoformat(timespec="seconds"),
        "saved": datetime.datetime.now().isoformat(timespec="seconds"),
        "cpu": model,
        "cores": os.cpu_count(),
        "load_before": [round(x, 2) for x in LOAD_BEFORE],
        "load_at_save": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
        "torch": torch_version(),
        "script": Path(sys.argv[0]).name if sys.argv and sys.argv[0] else "",
        "argv": sys.argv[1:],
    }


def log_dir() -> Path:
    """Where a bench keeps its servers' logs: out of bench/results/, which is committed and holds figures only."""
    folder = Path(tempfile.gettempdir()) / "vae-bench-logs"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def path_for(name: str, suffix: str, model: str | None = None) -> Path:
    return RESULTS / f"{name}-{STARTED.date().isoformat()}-{cpu_slug(model)}{suffix}"


def save(name: str, text: str | dict) -> Path:
    """Append one run to bench/results/<name>-<date>-<cpu>.txt (text) or .json (a dict); return the file."""
    if not re.fullmatch(r"[a-z0-9_]+", name):
        raise ValueError(f"result name {name!r}: lowercase letters, digits and _ only")
    about = machine()
    RESULTS.mkdir(parents=True, exist_ok=True)
    if isinstance(text, dict):
        out = path_for(name, ".json", about["cpu"])
        # One JSON list of runs per file, so the file stays valid JSON as runs are appended.
        runs = json.loads(out.read_text()) if out.exists() else []
        if not isinstance(runs, list):
            raise ValueError(f"{out} is not a list of runs: not appending to it")
        runs.append({**about, "result": text})
        out.write_text(json.dumps(runs, indent=1) + "\n")
    else:
        out = path_for(name, ".txt", about["cpu"])
        load = " ".join(f"{x:.2f}" for x in LOAD_BEFORE), " ".join(f"{x:.2f}" for x in os.getloadavg())
        header = (
            f"== {about['script']} {' '.join(about['argv'])}".rstrip()
            + f", {about['started']} (saved {about['saved']})\n"
            f"cpu: {about['cpu']}, {about['cores']} cores; python {about['python']}; torch {about['torch']}\n"
            f"load average (1, 5, 15 min): before {load[0]}, at save {load[1]}\n\n"
        )
        with out.open("a") as file:  # several runs a day: appended, never overwritten
            file.write(header + text.rstrip("\n") + "\n\n")
    print(f"results appended to {out}", file=sys.stderr)
    return out
