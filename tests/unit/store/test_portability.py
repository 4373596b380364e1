"""What must behave the same on SQLite and PostgreSQL: drivers, durability, JSON, ordering, races."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from opensage.store import ListQuery, ResourceRecord, SortBy, open_engine, open_repository

KIND = "model"
T0 = datetime(2026, 3, 1, 12, 30, 15, 123456, tzinfo=UTC)


def make(name: str, at: datetime = T0, document: dict[str, object] | None = None) -> ResourceRecord:
    arn = f"arn:aws:sagemaker:us-east-1:0:{KIND}/{name}"
    return ResourceRecord(KIND, name, arn, "InService", at, at, document or {"n": name})


def test_sqlite_commits_are_durable_and_readers_never_block_the_writer(tmp_path: object) -> None:
    engine = open_engine(f"sqlite:///{tmp_path}/meta.db")
    with engine.connect() as conn:
        pragmas = {
            name: conn.execute(text(f"PRAGMA {name}")).scalar()
            for name in ("journal_mode", "synchronous", "foreign_keys")
        }
    engine.dispose()
    # synchronous=2 is FULL: the WAL is fsynced at every commit, so a commit survives power loss.
    assert pragmas == {"journal_mode": "wal", "synchronous": 2, "foreign_keys": 1}


@pytest.mark.parametrize("scheme", ["postgresql", "postgres"])
def test_a_plain_postgresql_url_uses_psycopg_3(database_url: str, scheme: str) -> None:
    if not database_url.startswith("postgresql://"):
        return  # the SQLite run of this suite has nothing to map
    engine = open_engine(database_url.replace("postgresql://", f"{scheme}://", 1))
    with engine.connect() as conn:
        version = conn.execute(text("SELECT version()")).scalar_one()
    engine.dispose()
    assert engine.dialect.driver == "psycopg" and str(version).startswith("PostgreSQL")


def test_documents_and_times_come_back_exactly(database_url: str) -> None:
    repository = open_repository(database_url)
    document: dict[str, object] = {
        "unicode": "modèle 模型 🚀",
        "nested": {"list": [1, 2.5, None, True, {"deep": "x"}], "empty": {}},
        "big": 2**53,
        "quote": 'it\'s "quoted" \\ and % _',
    }
    repository.create(make("exact", document=document))
    found = repository.get(KIND, "exact")
    repository.engine.dispose()
    assert found is not None
    assert found.document == document
    assert found.creation_time == T0 and found.creation_time.tzinfo is not None


def test_sorting_by_name_is_by_code_point_whatever_the_collation(database_url: str) -> None:
    # The test PostgreSQL databases use an ICU en-US collation, which would put "a" before "B".
    repository = open_repository(database_url)
    names = ["b-2", "B-1", "a-3", "A-4", "_x", "Z9", "z10"]
    for i, name in enumerate(names):
        repository.create(make(name, T0 + timedelta(seconds=i)))
    listed = repository.list_page(KIND, ListQuery(sort_by=SortBy.NAME, max_results=100)).records
    repository.engine.dispose()
    assert [r.name for r in listed] == sorted(names)


def test_pages_are_stable_when_creation_times_tie(database_url: str) -> None:
    repository = open_repository(database_url)
    for i in range(9):
        repository.create(make(f"same-{i}"))
    seen: list[str] = []
    token: str | None = None
    while True:
        page = repository.list_page(KIND, ListQuery(max_results=2, next_token=token))
        seen += [r.name for r in page.records]
        token = page.next_token
        if token is None:
            break
    repository.engine.dispose()
    assert seen == [f"same-{i}" for i in range(9)]


def test_a_deleted_resource_takes_its_tags_along(database_url: str) -> None:
    repository = open_repository(database_url)
    repository.create(make("reborn"), {"owner": "first"})
    repository.delete(KIND, "reborn")
    repository.create(make("reborn"))
    tags = repository.list_tags(make("reborn").arn)
    repository.engine.dispose()
    assert tags == {}


def test_concurrent_writers_of_the_same_tag_never_fail(database_url: str) -> None:
    repository = open_repository(database_url)
    arn = repository.create(make("contended")).arn
    errors: list[BaseException] = []

    def write(value: str) -> None:
        try:
            for _ in range(15):
                repository.add_tags(arn, {"shared": value, f"own-{value}": value})
        except BaseException as exc:
            errors.append(exc)

    workers = [threading.Thread(target=write, args=(str(i),)) for i in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    tags = repository.list_tags(arn)
    repository.engine.dispose()
    assert errors == []
    assert tags["shared"] in {"0", "1", "2", "3"} and {f"own-{i}" for i in range(4)} <= set(tags)
