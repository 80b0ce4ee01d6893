"""The class store, on both back ends with one suite: SQLite in a file, and a real PostgreSQL server."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from explorer.classroom.store import CODE_ALPHABET, ClassError, ClassStore, StoreUnavailable, clean_nickname
from harness.postgres import postgres_bin, running_postgres

IN_CI = os.environ.get("CI", "").lower() == "true"


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    if postgres_bin() is None:
        if IN_CI:
            pytest.fail("no PostgreSQL: scripts/test.sh installs Debian's postgresql", pytrace=False)
        pytest.skip("no PostgreSQL: apt-get install postgresql")
    with running_postgres() as url:
        yield url


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> ClassStore:
    url = (
        f"sqlite:///{tmp_path / 'classes.db'}" if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    )
    made = ClassStore(url, ttl_s=3600, max_entries=5, send_every_s=5, clock=Clock())
    yield made
    if request.param == "postgresql":  # one server for the module: leave it empty for the next test
        from explorer.classroom.store import metadata

        metadata.drop_all(made.engine)
    made.engine.dispose()


DIGIT = {"pixels": "AAAA", "mu": [0.5, -1.0], "verdict": 7, "neg_elbo": 101.5, "percentile": 40.0, "meant": 7}


def test_a_class_opens_with_a_readable_code_and_a_student_joins_and_sends(store: ClassStore) -> None:
    code, token = store.open_class("vae_d20")
    assert len(code) == 4 and set(code) <= set(CODE_ALPHABET) and len(token) >= 24
    info = store.join(code.lower())  # as typed off a projector
    assert info.code == code and info.model == "vae_d20"
    entry_id = store.send(code, "student-1", "Ada", "digit", DIGIT)
    _, board = store.board(code, token)
    assert [(e.id, e.nickname, e.kind, e.payload) for e in board] == [(entry_id, "Ada", "digit", DIGIT)]
    assert store.board(code, token, since_id=entry_id)[1] == []  # the board asks only for what is new


def test_a_wrong_code_and_a_students_link_cannot_control_or_read_a_class(store: ClassStore) -> None:
    code, token = store.open_class("vae_d20")
    other, other_token = store.open_class("vae_d2")
    with pytest.raises(ClassError, match=r"^there is no class 'ZZZZ' \(a wrong or expired code\)$"):
        store.join("zzzz")
    for attempt in (
        lambda: store.board(code, ""),
        lambda: store.board(code, other_token),  # another class's teacher
        lambda: store.control(code, "guess", closed=True),
        lambda: store.clear(code, other_token),
        lambda: store.hide(code, "x", 1),
    ):
        with pytest.raises(ClassError, match=r"^only this class's teacher can do that$"):
            attempt()
    store.send(other, "s", "Bo", "pick", {"row": 3})
    assert store.board(code, token)[1] == []  # one class never sees another's entries


def test_the_teacher_freezes_hides_clears_and_closes(store: ClassStore) -> None:
    code, token = store.open_class("vae_d20")
    first = store.send(code, "s1", "Ada", "code", {"z": [0.1, 0.2]})
    store.control(code, token, frozen=True)
    with pytest.raises(ClassError, match="paused"):
        store.send(code, "s2", "Bo", "code", {"z": [0.0]})
    assert store.info(code, token).frozen
    store.control(code, token, frozen=False, model="vae_d2")
    assert store.info(code, token).model == "vae_d2" and not store.info(code, token).frozen
    store.hide(code, token, first)
    info, board = store.board(code, token)
    assert [e.hidden for e in board] == [True] and not info.frozen
    store.clear(code, token)
    assert store.board(code, token)[1] == []
    store.control(code, token, closed=True)
    with pytest.raises(ClassError, match="closed by its teacher"):
        store.join(code)


def test_limits_one_send_per_student_every_few_seconds_and_a_bounded_board(store: ClassStore) -> None:
    code, _ = store.open_class("vae_d20")
    store.send(code, "s1", "Ada", "pick", {"row": 1})
    with pytest.raises(ClassError, match=r"^one send every 5 s: wait a moment$"):
        store.send(code, "s1", "Ada", "pick", {"row": 2})
    store.clock.now += 5
    store.send(code, "s1", "Ada", "pick", {"row": 2})
    for i in range(3):
        store.send(code, f"other{i}", "x", "pick", {"row": i})
    with pytest.raises(ClassError, match=r"^the class board is full \(5 entries\)$"):
        store.send(code, "late", "x", "pick", {"row": 9})
    with pytest.raises(ClassError, match="too large"):
        store.send(code, "big", "x", "digit", {"pixels": "A" * 20_000})
    with pytest.raises(ClassError, match="a class takes digit, code, morph, pick"):
        store.send(code, "odd", "x", "<script>", {})
    with pytest.raises(ValueError):
        store.send(code, "nan", "x", "code", {"z": [float("nan")]})


def test_a_class_and_all_it_holds_go_when_it_expires(store: ClassStore) -> None:
    code, token = store.open_class("vae_d20")
    store.send(code, "s1", "Ada", "pick", {"row": 1})
    store.clock.now += 3600
    with pytest.raises(ClassError, match="wrong or expired"):
        store.join(code)
    with pytest.raises(ClassError, match="only this class's teacher"):
        store.board(code, token)
    store.open_class("vae_d20")  # sweeps what expired
    with store.engine.connect() as db:
        from sqlalchemy import func, select

        from explorer.classroom.store import classes, entries

        assert db.execute(select(func.count()).select_from(entries)).scalar_one() == 0
        assert db.execute(select(func.count()).select_from(classes)).scalar_one() == 1


def test_nicknames_are_one_short_line_of_text() -> None:
    assert clean_nickname("  Ada\n<b>Lovelace</b>\x00 and a very long tail ") == "Ada<b>Lovelace</b> and a"
    assert clean_nickname("") == "anonymous"


def test_a_store_that_cannot_be_reached_says_so_in_one_line(tmp_path: Path) -> None:
    down = ClassStore("postgresql+psycopg://nobody@127.0.0.1:9/none")
    with pytest.raises(StoreUnavailable, match=r"^the class store cannot be reached \(OperationalError\)$"):
        down.join("ABCD")
