"""The explorer with gc.freeze() after its heavy loads: the alternative to `runner.postScriptGC = false` that
bench/load.py measures (`--gc freeze`). Not shipped: the app does not need it (see docs/serving.md).

Streamlit runs this file as the main script; it runs app.py, then moves every object alive after a run
that imported new modules (torch, scikit-learn, plotly, the cached models and maps) into the permanent
generation, which the full collection after each run then skips.
"""

import gc
import runpy
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

runpy.run_path(str(REPO / "app.py"), run_name="__main__")

if getattr(gc, "_explorer_frozen_at", 0) != len(sys.modules):  # a run that loaded something heavy
    gc.collect()
    gc.freeze()
    gc._explorer_frozen_at = len(sys.modules)  # type: ignore[attr-defined]
