"""What the training record costs in a shipped checkpoint, and what int8 rows do to the decoded digits.

    python bench/snapshot_size.py checkpoints/vae_d20.safetensors runs/vae_d20.safetensors [...pairs]

For each (shipped, run) pair: bytes by part (weights, snapshot decoders, snapshot codes, panel), and for
every snapshot epoch the mean and largest absolute difference, in grey levels (0–255), between 256
prior samples decoded by the shipped int8 decoder and by the run file's float16 one. Printed, and appended to
bench/results/snapshot_size-<date>-<cpu>.json (bench/results.py).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this checkout's vae/, not an installed one

from bench.results import save
from vae.checkpoint import load_checkpoint, open_checkpoint
from vae.codes import prior_samples
from vae.snapshots import model_at_epoch, snapshot_epochs


def part_of(name: str) -> str:
    if name.startswith("model."):
        return "weights (float16)"
    if name.startswith("panel."):
        return "panel"
    if name.endswith((".mu", ".logvar")):
        return "snapshot codes"
    return "snapshot decoders"


def measure(shipped: Path, run: Path, samples: int = 256) -> dict:
    tensors, _ = open_checkpoint(shipped)
    parts: dict[str, int] = {}
    for name, value in tensors.items():
        parts[part_of(name)] = parts.get(part_of(name), 0) + value.numel() * value.element_size()
    model = load_checkpoint(shipped)
    run_tensors, _ = open_checkpoint(run)
    effect = {}
    for epoch in snapshot_epochs(tensors, "q8."):
        int8 = prior_samples(model_at_epoch(model, tensors, epoch), samples, 1.0, seed=0).images.astype(np.int16)
        fp16 = prior_samples(model_at_epoch(model, run_tensors, epoch), samples, 1.0, seed=0).images.astype(np.int16)
        difference = np.abs(int8 - fp16)
        effect[epoch] = {"mean_grey_levels": float(difference.mean()), "max_grey_levels": int(difference.max())}
    return {"file": shipped.name, "file_bytes": shipped.stat().st_size, "parts_bytes": parts, "int8_effect": effect}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="+", help="shipped, run, shipped, run, …")
    args = parser.parse_args()
    pairs = list(zip(args.paths[::2], args.paths[1::2], strict=True))
    result = {"pairs": [measure(Path(s), Path(r)) for s, r in pairs]}
    print(json.dumps(result, indent=1))
    save("snapshot_size", result)


if __name__ == "__main__":
    main()
