"""Where a class lives: its join code, the teacher's secret, and what the students sent.

One code path (SQLAlchemy Core) for both back ends: SQLite in a file by default (one server, no set-up)
and a PostgreSQL server for replicas behind the balancer (VAE_CLASS_STORE=postgresql+psycopg://…). No
Streamlit here. The store enforces the rules that keep a class safe whatever its pages do: a student's
code only joins and sends; control (freeze, hide, clear, close) and the board's view of hidden entries
need the teacher's token, kept as a hash; a class's entries are bounded and a student is rate-limited;
a class and everything in it are deleted once it expires.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError

# Join codes: four characters that cannot be misread off a projector (no 0/O, 1/I/L, 5/S, 2/Z, 8/B).
CODE_ALPHABET = "34679ACDEFGHJKMNPQRTUVWXY"
CODE_LENGTH = 4
KINDS = ("digit", "code", "morph", "pick")  # what a student can send
MAX_NICKNAME = 24
MAX_PAYLOAD_BYTES = 16_000  # a 28×28 digit, its code and its numbers, as JSON

metadata = sa.MetaData()
classes = sa.Table(
    "vae_classes",
    metadata,
    sa.Column("code", sa.String(CODE_LENGTH), primary_key=True),
    sa.Column("token_hash", sa.String(64), nullable=False),
    sa.Column("model", sa.String(200), nullable=False),
    sa.Column("created", sa.Float, nullable=False),
    sa.Column("expires", sa.Float, nullable=False, index=True),
    sa.Column("frozen", sa.Boolean, nullable=False, default=False),
    sa.Column("closed", sa.Boolean, nullable=False, default=False),
)
entries = sa.Table(
    "vae_class_entries",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("code", sa.String(CODE_LENGTH), sa.ForeignKey("vae_classes.code", ondelete="CASCADE"), index=True),
    sa.Column("student", sa.String(64), nullable=False),
    sa.Column("nickname", sa.String(MAX_NICKNAME), nullable=False),
    sa.Column("kind", sa.String(8), nullable=False),
    sa.Column("payload", sa.Text, nullable=False),
    sa.Column("created", sa.Float, nullable=False),
    sa.Column("hidden", sa.Boolean, nullable=False, default=False),
)


class ClassError(Exception):
    """What a visitor did that the class does not allow; str() is one line to show them."""


class StoreUnavailable(Exception):
    """The store cannot be reached or answered in error: the explorer goes on without classes."""


@dataclass(frozen=True)
class ClassInfo:
    code: str
    model: str
    expires: float
    frozen: bool
    closed: bool


@dataclass(frozen=True)
class Entry:
    id: int
    student: str
    nickname: str
    kind: str
    payload: dict[str, Any]
    created: float
    hidden: bool


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def clean_nickname(nickname: str) -> str:
    """A nickname as it is kept: one line of printable characters, at most MAX_NICKNAME (shown as text)."""
    text = "".join(ch for ch in str(nickname) if ch.isprintable()).strip()
    return text[:MAX_NICKNAME] or "anonymous"


def normalise_code(code: str) -> str:
    return "".join(str(code).split()).upper()[: CODE_LENGTH + 4]


class ClassStore:
    """A class store on a SQLAlchemy URL. Every call is one short transaction; errors reaching the
    database become StoreUnavailable, rule breaches ClassError."""

    def __init__(
        self,
        url: str,
        ttl_s: float = 4 * 3600,
        max_entries: int = 500,
        send_every_s: float = 5.0,
        clock: Any = time.time,
    ) -> None:
        options: dict[str, Any] = {"future": True}
        if url.startswith("sqlite"):
            options["connect_args"] = {"timeout": 5, "check_same_thread": False}
        else:
            options |= {"pool_pre_ping": True, "pool_size": 5, "max_overflow": 5, "pool_timeout": 5}
        self.engine = sa.create_engine(url, **options)
        if url.startswith("sqlite"):
            sa.event.listen(self.engine, "connect", _sqlite_pragmas)
        self.ttl_s, self.max_entries, self.send_every_s, self.clock = ttl_s, max_entries, send_every_s, clock
        self._ready = threading.Lock()
        self._created = False

    @contextmanager
    def _begin(self) -> Iterator[sa.Connection]:
        try:
            with self._ready:
                if not self._created:
                    metadata.create_all(self.engine)
                    self._created = True
            with self.engine.begin() as connection:
                yield connection
        except SQLAlchemyError as exc:
            raise StoreUnavailable(f"the class store cannot be reached ({type(exc).__name__})") from exc

    # ------------------------------------------------------------ the teacher

    def open_class(self, model: str) -> tuple[str, str]:
        """A new class on `model`: (its join code, the teacher's secret token)."""
        token = secrets.token_urlsafe(24)
        now = self.clock()
        with self._begin() as db:
            self._expire(db, now)
            for _ in range(50):
                code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
                if db.execute(sa.select(classes.c.code).where(classes.c.code == code)).first() is None:
                    break
            else:
                raise ClassError("every join code is taken: try again in a moment")
            db.execute(
                classes.insert().values(
                    code=code, token_hash=_hash(token), model=model, created=now, expires=now + self.ttl_s
                )
            )
        return code, token

    def control(self, code: str, token: str, **changes: Any) -> None:
        """Set frozen, closed or model, as the class's teacher."""
        allowed = {k: v for k, v in changes.items() if k in ("frozen", "closed", "model")}
        with self._begin() as db:
            self._teacher(db, code, token)
            db.execute(classes.update().where(classes.c.code == code).values(**allowed))

    def hide(self, code: str, token: str, entry_id: int, hidden: bool = True) -> None:
        with self._begin() as db:
            self._teacher(db, code, token)
            db.execute(entries.update().where(entries.c.code == code, entries.c.id == entry_id).values(hidden=hidden))

    def clear(self, code: str, token: str) -> None:
        with self._begin() as db:
            self._teacher(db, code, token)
            db.execute(entries.delete().where(entries.c.code == code))

    def info(self, code: str, token: str) -> ClassInfo:
        """The class as its teacher sees it (frozen, closed, its model)."""
        with self._begin() as db:
            return self._teacher(db, code, token)

    def board(self, code: str, token: str, since_id: int = 0) -> tuple[ClassInfo, list[Entry]]:
        """The class and its entries after `since_id` (hidden ones too, marked), for its teacher."""
        with self._begin() as db:
            info = self._teacher(db, code, token)
            rows = db.execute(
                sa.select(entries).where(entries.c.code == code, entries.c.id > since_id).order_by(entries.c.id)
            ).all()
        return info, [_entry(row) for row in rows]

    # ------------------------------------------------------------ a student

    def join(self, code: str) -> ClassInfo:
        """The class a code opens, or ClassError in one line."""
        code = normalise_code(code)
        with self._begin() as db:
            self._expire(db, self.clock())
            return self._open(db, code)

    def send(self, code: str, student: str, nickname: str, kind: str, payload: dict[str, Any]) -> int:
        """Add a student's entry; its id. ClassError when the class is closed, frozen, full, or the student
        sent one less than send_every_s ago."""
        if kind not in KINDS:
            raise ClassError(f"a class takes {', '.join(KINDS)}, not {kind!r}"[:120])
        text = json.dumps(payload, allow_nan=False, separators=(",", ":"))
        if len(text) > MAX_PAYLOAD_BYTES:
            raise ClassError("that is too large to send to the class")
        now = self.clock()
        with self._begin() as db:
            info = self._open(db, normalise_code(code))
            if info.frozen:
                raise ClassError("the teacher has paused the board: try again in a moment")
            count = db.execute(sa.select(sa.func.count()).where(entries.c.code == info.code)).scalar_one()
            if count >= self.max_entries:
                raise ClassError(f"the class board is full ({self.max_entries} entries)")
            last = db.execute(
                sa.select(sa.func.max(entries.c.created)).where(
                    entries.c.code == info.code, entries.c.student == student
                )
            ).scalar_one()
            if last is not None and now - last < self.send_every_s:
                raise ClassError(f"one send every {self.send_every_s:g} s: wait a moment")
            done = db.execute(
                entries.insert().values(
                    code=info.code,
                    student=student[:64],
                    nickname=clean_nickname(nickname),
                    kind=kind,
                    payload=text,
                    created=now,
                    hidden=False,
                )
            )
            return int(done.inserted_primary_key[0])

    # ------------------------------------------------------------ internals

    def _open(self, db: sa.Connection, code: str) -> ClassInfo:
        row = db.execute(sa.select(classes).where(classes.c.code == code)).first()
        if row is None or row.expires <= self.clock():
            raise ClassError(f"there is no class {code[: CODE_LENGTH + 4]!r} (a wrong or expired code)")
        if row.closed:
            raise ClassError("this class has been closed by its teacher")
        return ClassInfo(row.code, row.model, row.expires, bool(row.frozen), bool(row.closed))

    def _teacher(self, db: sa.Connection, code: str, token: str) -> ClassInfo:
        row = db.execute(sa.select(classes).where(classes.c.code == normalise_code(code))).first()
        if row is None or row.expires <= self.clock() or not secrets.compare_digest(row.token_hash, _hash(token)):
            raise ClassError("only this class's teacher can do that")
        return ClassInfo(row.code, row.model, row.expires, bool(row.frozen), bool(row.closed))

    def _expire(self, db: sa.Connection, now: float) -> None:
        """Nothing of an expired class is kept: its entries, then the class."""
        gone = sa.select(classes.c.code).where(classes.c.expires <= now)
        db.execute(entries.delete().where(entries.c.code.in_(gone)))
        db.execute(classes.delete().where(classes.c.expires <= now))


def _entry(row: Any) -> Entry:
    return Entry(row.id, row.student, row.nickname, row.kind, json.loads(row.payload), row.created, bool(row.hidden))


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    # Several sessions (threads) write at once: a write-ahead log lets readers go on while one writes.
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
