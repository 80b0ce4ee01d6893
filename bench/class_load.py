"""A class on one server (or two replicas behind nginx with a shared PostgreSQL): a teacher's board open
while N students join and send, and move through the views.

    .venv/bin/python bench/class_load.py --students 100 --seconds 120
    .venv/bin/python bench/class_load.py --students 100 --replicas 2      # nginx + PostgreSQL, as deploy/

Each student is a Streamlit session without a browser (bench/load_client.py, with the XSRF cookie a
browser gets): it opens the Class view, types the join code and a nickname, joins, then until the end
sends a digit about every `--send-every` seconds (jittered), as "Your own digit" takes one: a phone photo
of a handwritten digit (harness/photos.py) uploaded through the file uploader and read, the digit meant
picked, "Send to the class"; between sends it opens other views. The teacher's session reruns the board's
fragment every BOARD_EVERY_S, as the page does. Reported: every student interaction's time (median, p95, max;
the photo's upload-and-read run among them, and apart), the board's lag (a send's end to the end of the
first board run that started after it: what the teacher's screen is behind), failures, the server's CPU,
and the simulated students' own (this process's: on a small machine they share its cores with the server).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from load_client import RunFailed, StreamlitUser  # noqa: E402
from results import save  # noqa: E402
from streamlit.proto.WidgetStates_pb2 import WidgetState  # noqa: E402

from explorer.pages.classroom import BOARD_EVERY_S  # noqa: E402
from harness import browser as bs  # noqa: E402
from harness.photos import KINDS, Photo, make_photo  # noqa: E402
from vae.mnist_shape import IMAGE_SIDE  # noqa: E402

SLIDERS = "Latent sliders"
VIEWS = ("samples", "morph", "map", SLIDERS)  # by title or address: the default view has no address of its own
DIGIT = "digit"
UPLOADER = "A photo or picture of one digit"  # explorer/ui/digit_sources.py
MEANT = "The digit you meant"  # explorer/pages/digit.py


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))] if ordered else float("nan")


async def click(user: StreamlitUser, label: str) -> float:
    widget = user.widget(label, "button")
    state = WidgetState(id=widget.id)
    state.trigger_value = True
    return (await user.run(fragment_id=widget.fragment_id, extra=[state])).seconds


def type_text(user: StreamlitUser, label: str, text: str) -> None:
    widget = user.widget(label, "text_input")
    state = WidgetState(id=widget.id)
    state.string_value = text
    user.states[widget.id] = state


def class_code(store_url: str) -> str:
    from explorer.classroom.store import ClassStore, classes

    store = ClassStore(store_url)
    with store.engine.connect() as db:
        import sqlalchemy as sa

        return db.execute(sa.select(classes.c.code).order_by(classes.c.created.desc())).scalars().first()


async def teacher(
    url: str, store_url: str, stop_at: float, board_runs: list[tuple[float, float]], code: asyncio.Future
) -> None:
    """Opens the class (its code goes to `code`), then reruns the board every 2 s until the end."""
    async with StreamlitUser(url) as user:
        await user.run()
        await user.open_page("class")
        await click(user, "Open a class")
        code.set_result(class_code(store_url))
        (board,) = user.polled  # the board's fragment, which the page reruns on a timer
        while time.perf_counter() < stop_at + 5:
            began = time.perf_counter()
            await user.run(fragment_id=board)
            board_runs.append((began, time.perf_counter()))
            await asyncio.sleep(max(0.0, BOARD_EVERY_S - (time.perf_counter() - began)))


async def send_digit(user: StreamlitUser, photo: Photo, out: dict) -> None:
    """Your own digit: the photo uploaded (and read), the digit meant picked, then "Send to the class"."""
    if user.page_hash != user.pages.get(DIGIT):
        out["times"].append((await user.open_page(DIGIT)).seconds)
    run = await user.upload(
        user.widget(UPLOADER, "file_uploader"), f"digit{photo.index}.jpg", photo.photo, "image/jpeg"
    )
    out["times"].append(run.seconds)
    out["reads"].append(run.seconds)
    if run.errors:
        raise RunFailed(f"reading the photo: {run.errors[0][:120]}")
    out["times"].append((await user.choose(user.widget(MEANT, "selectbox"), str(photo.label))).seconds)
    out["times"].append(await click(user, "Send to the class"))
    out["sends"].append(time.perf_counter())


async def student(
    url: str, code: str, index: int, photos: list[Photo], args: argparse.Namespace, stop_at: float, out: dict
) -> None:
    rng = random.Random(index)
    await asyncio.sleep(rng.uniform(0, args.ramp))
    try:
        async with StreamlitUser(url) as user:
            out["times"].append((await user.run()).seconds)
            out["times"].append((await user.open_page("class")).seconds)
            type_text(user, "Class code", code)
            type_text(user, "Nickname", f"student {index}")
            out["times"].append(await click(user, "Join"))
            next_send = time.perf_counter() + rng.uniform(0, args.send_every)
            while time.perf_counter() < stop_at:
                if time.perf_counter() >= next_send:
                    await send_digit(user, rng.choice(photos), out)
                    next_send = time.perf_counter() + args.send_every * rng.uniform(0.8, 1.2)
                else:
                    await asyncio.sleep(rng.uniform(*args.dwell))  # reading the page, then another view
                    out["times"].append((await user.open_page(rng.choice(VIEWS))).seconds)
    except (RunFailed, KeyError, OSError) as exc:
        out["failures"].append(f"student {index}: {type(exc).__name__}: {str(exc)[:120]}")


def class_photos(count: int) -> list[Photo]:
    """Phone photos of handwritten digits (harness/photos.py: paper, light, tilt, JPEG), one kind each in turn."""
    from vae.data import load_mnist

    train = load_mnist("train", allow_download=False)
    rows = random.Random(0).sample(range(len(train.labels)), count)
    kinds = list(KINDS)
    return [
        make_photo(
            train.images[row].reshape(IMAGE_SIDE, IMAGE_SIDE).numpy(),
            int(train.labels[row]),
            row,
            kinds[i % len(kinds)],
            seed=i,
        )
        for i, row in enumerate(rows)
    ]


def board_lag(sends: list[float], board_runs: list[tuple[float, float]]) -> list[float]:
    lags = []
    for sent in sends:
        after = [end for began, end in board_runs if began >= sent]
        if after:
            lags.append(min(after) - sent)
    return lags


async def class_load(urls: list[str], store_url: str, args: argparse.Namespace, photos: list[Photo]) -> dict:
    stop_at = time.perf_counter() + args.ramp + args.seconds
    board_runs: list[tuple[float, float]] = []
    opened: asyncio.Future = asyncio.get_running_loop().create_future()
    board = asyncio.create_task(teacher(urls[0], store_url, stop_at, board_runs, opened))
    code = await opened
    out: dict = {"times": [], "reads": [], "sends": [], "failures": []}
    # Students reach the replicas in turn, as the balancer's cookie hash spreads new browsers.
    await asyncio.gather(
        *(student(urls[i % len(urls)], code, i, photos, args, stop_at, out) for i in range(args.students))
    )
    await board
    lags = board_lag(out["sends"], board_runs)
    times = out["times"]
    return {
        "students": args.students,
        "send_every_s": args.send_every,
        "dwell_s": list(args.dwell),
        "replicas": args.replicas,
        "interactions": len(times),
        "interaction_s_median": percentile(times, 50),
        "interaction_s_p95": percentile(times, 95),
        "interaction_s_max": max(times, default=float("nan")),
        "photo_reads": len(out["reads"]),
        "photo_read_s_median": percentile(out["reads"], 50),
        "photo_read_s_p95": percentile(out["reads"], 95),
        "sends": len(out["sends"]),
        "board_run_s_median": percentile([end - began for began, end in board_runs], 50),
        "board_run_s_p95": percentile([end - began for began, end in board_runs], 95),
        "board_lag_s_median": percentile(lags, 50),
        "board_lag_s_p95": percentile(lags, 95),
        "board_lag_s_max": max(lags, default=float("nan")),
        "failures": out["failures"][:10],
        "failure_count": len(out["failures"]),
    }


def cpu_seconds(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=120.0, help="steady state after the ramp")
    parser.add_argument("--ramp", type=float, default=60.0, help="students arrive over this many seconds")
    parser.add_argument("--send-every", type=float, default=20.0)
    parser.add_argument(
        "--dwell", type=float, nargs=2, default=(3.0, 8.0), help="seconds on a view before the next (uniform)"
    )
    parser.add_argument("--photos", type=int, default=40, help="distinct digit photos the students send")
    parser.add_argument("--replicas", type=int, default=1, help="2: behind nginx, with a shared PostgreSQL")
    args = parser.parse_args()

    photos = class_photos(args.photos)
    folder = Path(tempfile.mkdtemp(prefix="vae-class-load-"))
    logs = REPO / "bench" / "logs"
    logs.mkdir(exist_ok=True)
    servers: list[bs.AppServer] = []
    stack = []
    try:
        if args.replicas > 1:
            from harness.postgres import running_postgres

            postgres = running_postgres()
            store_url = postgres.__enter__()
            stack.append(postgres)
        else:
            store_url = f"sqlite:///{folder / 'classes.db'}"
        os.environ["VAE_CLASS_STORE"] = store_url
        os.environ.setdefault("MALLOC_ARENA_MAX", "2")  # as scripts/start.sh
        os.environ.setdefault("MALLOC_MMAP_THRESHOLD_", "1048576")
        for i in range(args.replicas):
            server = bs.AppServer(logs / f"class_load_{i}.log", ["--server.fileWatcherType", "none"]).start()
            servers.append(server)
        for server in servers:
            server.wait_healthy(120)
        urls = [server.url for server in servers]
        nginx = None
        if args.replicas > 1:
            nginx = start_nginx(folder, [server.port for server in servers])
            urls = [nginx[1]]
        pids = [server.process.pid for server in servers]
        cpu_before, wall_before, own_before = cpu_seconds(pids), time.perf_counter(), time.process_time()
        result = asyncio.run(class_load(urls, store_url, args, photos))
        wall = time.perf_counter() - wall_before
        result["server_cpu_share"] = (cpu_seconds(pids) - cpu_before) / wall
        # The simulated students run here too: on a machine of few cores they take CPU from the server.
        result["students_cpu_share"] = (time.process_time() - own_before) / wall
        if nginx is not None:
            nginx[0].terminate()
    finally:
        for server in servers:
            server.stop()
        for context in stack:
            context.__exit__(None, None, None)
        shutil.rmtree(folder, ignore_errors=True)
    lines = [f"{key}: {value:.3f}" if isinstance(value, float) else f"{key}: {value}" for key, value in result.items()]
    print("\n".join(lines))
    save("class_load", f"bench/class_load.py {' '.join(sys.argv[1:])}\n" + "\n".join(lines) + "\n")


def start_nginx(folder: Path, ports: list[int]) -> tuple[subprocess.Popen, str]:
    """nginx with the shipped recipe in front of the replicas (as tests/deploy renders it)."""
    port = bs.free_port()
    servers = " ".join(f"server 127.0.0.1:{p} max_fails=1 fail_timeout=10s;" for p in ports)
    template = (REPO / "deploy" / "nginx" / "explorer.conf.template").read_text()
    (folder / "explorer.conf").write_text(
        template.replace("${LISTEN_PORT}", f"127.0.0.1:{port}").replace("${UPSTREAM_SERVERS}", servers)
    )
    user = "user root;" if os.geteuid() == 0 else ""
    (folder / "nginx.conf").write_text(
        f"worker_processes 1; pid {folder}/nginx.pid; daemon off; {user}\n"
        f"events {{ worker_connections 2048; }}\n"
        f"http {{ access_log off; client_body_temp_path {folder}/body; proxy_temp_path {folder}/proxy;\n"
        f"fastcgi_temp_path {folder}/f; uwsgi_temp_path {folder}/u; scgi_temp_path {folder}/s;\n"
        f"include {folder}/explorer.conf; }}\n"
    )
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    process = subprocess.Popen(
        [nginx, "-p", str(folder), "-c", str(folder / "nginx.conf"), "-e", str(folder / "e.log")]
    )
    time.sleep(1.0)
    return process, f"http://127.0.0.1:{port}"


if __name__ == "__main__":
    main()
