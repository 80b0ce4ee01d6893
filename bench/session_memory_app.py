"""The explorer with a probe beside it, for `bench/session_memory.py --probe`. Not shipped.

Streamlit runs this file as the main script; it runs app.py unchanged. Once per process it also starts a
thread that waits for $VAE_BENCH_PROBE_DIR/request; then it writes there what the server still holds
(probe.json: Streamlit's sessions and uploaded files, the latent models, tensors and big bytes objects
alive, glibc's arena statistics) and the RSS before and after glibc's malloc_trim(0), which hands back
the free pages its arenas kept. The numbers tell live objects from memory the allocator only holds.
"""

import ctypes
import gc
import json
import os
import runpy
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024 / 1e6
    return 0.0


def describe(r) -> str:
    if isinstance(r, dict):
        return "dict(" + ",".join(map(str, list(r)[:3]))[:120] + ")"
    if type(r).__name__ == "frame":
        return f"frame({r.f_code.co_filename.rsplit('/', 2)[-1]}:{r.f_code.co_name})"
    if type(r).__name__ == "cell":
        return "cell"
    if callable(r) and hasattr(r, "__qualname__"):
        return f"{type(r).__name__}({r.__qualname__})"
    return type(r).__qualname__


def path_to_root(obj, ignore: list, depth: int = 14) -> list[str]:
    """The shortest chain of referrers from `obj` up to a module's globals or a running frame: who keeps
    it alive (the probe's own frames and lists are left out)."""
    import sys as _sys

    modules = {id(vars(m)) for m in list(_sys.modules.values()) if hasattr(m, "__dict__")}
    ignored = {id(x) for x in ignore} | {id(_sys._getframe())}
    parent = {id(obj): None}
    keep = {id(obj): obj}
    frontier = [obj]
    for _ in range(depth):
        nxt = []
        for item in frontier:
            for r in gc.get_referrers(item):
                if id(r) in parent or id(r) in ignored or r is frontier or r is nxt:
                    continue
                parent[id(r)], keep[id(r)] = id(item), r
                if id(r) in modules or type(r).__name__ == "frame":
                    chain, at = [], id(r)
                    while at is not None:
                        chain.append(describe(keep[at]))
                        at = parent[at]
                    return chain[::-1]
                nxt.append(r)
        frontier = nxt[:5000]
        ignored.add(id(nxt))
    return ["(no root within reach)"]


def held() -> dict:
    import torch
    from streamlit import runtime

    out: dict = {}
    rt = runtime.get_instance()
    out["sessions"] = len(rt._session_mgr.list_sessions())
    out["active_sessions"] = len(rt._session_mgr.list_active_sessions())
    storage = getattr(rt._uploaded_file_mgr, "file_storage", {})
    out["uploaded_files"] = sum(len(files) for files in storage.values())
    out["uploaded_mb"] = round(sum(len(f.data) for files in storage.values() for f in files.values()) / 1e6, 1)
    storages, models, big, holders = {}, 0, {}, []
    for o in gc.get_objects():
        if isinstance(o, torch.Tensor):
            try:
                s = o.untyped_storage()
                storages[s.data_ptr()] = s.nbytes()
            except RuntimeError:
                pass
        elif isinstance(o, torch.nn.Module) and type(o).__name__ in ("VAE", "Autoencoder"):
            models += 1
            holders.append(o)
        for r in gc.get_referents(o):
            if type(r) in (bytes, bytearray) and len(r) > 1_000_000:
                big[id(r)] = len(r)
    out |= {"latent_models": models, "tensor_mb": round(sum(storages.values()) / 1e6, 1)}
    out |= {"big_bytes_objects": len(big), "big_bytes_mb": round(sum(big.values()) / 1e6, 1)}
    states = [o for o in gc.get_objects() if type(o).__name__ == "SessionState"]
    out["model_holders"] = [path_to_root(model, [states, holders]) for model in holders]
    out["session_states_alive"] = len(states)
    out["session_state_holders"] = [path_to_root(state, [states, holders]) for state in states[:3]]
    out["threads"] = sorted(t.name for t in threading.enumerate())
    return out


def arena_stats() -> dict:
    # glibc's mallinfo2: bytes in use vs free but kept (in the arenas, and at the heap's top).
    fields = ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks")
    layout = [(name, ctypes.c_size_t) for name in (*fields, "keepcost")]
    MallInfo2 = type("MallInfo2", (ctypes.Structure,), {"_fields_": layout})

    libc = ctypes.CDLL("libc.so.6")
    libc.mallinfo2.restype = MallInfo2
    info = libc.mallinfo2()
    return {
        "arena_mb": round(info.arena / 1e6, 1),
        "in_use_mb": round(info.uordblks / 1e6, 1),
        "free_kept_mb": round(info.fordblks / 1e6, 1),
        "mmapped_mb": round(info.hblkhd / 1e6, 1),
    }


def watch(folder: Path) -> None:
    request = folder / "request"
    while True:
        time.sleep(0.5)
        if not request.exists():
            continue
        request.unlink()
        report: dict = {"rss_before_mb": round(rss_mb(), 1)}
        try:
            report |= held()
        except Exception as exc:  # the probe reports, never breaks the server
            report["error"] = repr(exc)
        report["malloc"] = arena_stats()
        report["rss_after_probe_mb"] = round(rss_mb(), 1)
        ctypes.CDLL("libc.so.6").malloc_trim(0)
        report["rss_after_malloc_trim_mb"] = round(rss_mb(), 1)
        report["malloc_after_trim"] = arena_stats()
        (folder / "probe.json").write_text(json.dumps(report))


if os.environ.get("VAE_BENCH_PROBE_DIR") and not getattr(sys, "_session_memory_probe", False):
    sys._session_memory_probe = True  # type: ignore[attr-defined]  (once per process, not per script run)
    threading.Thread(target=watch, args=(Path(os.environ["VAE_BENCH_PROBE_DIR"]),), daemon=True).start()

runpy.run_path(str(REPO / "app.py"), run_name="__main__")
