"""The shared resource repository: names, filters, ordering, pages, optimistic updates, tags."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from opensage.errors import AlreadyExistsError, NotFoundError, ValidationError
from opensage.store import ListQuery, ResourceRecord, ResourceRepository, SortBy, SortOrder, open_repository

KIND = "training-job"
T0 = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture()
def repository(database_url: str) -> Iterator[ResourceRepository]:
    opened = open_repository(database_url)
    yield opened
    opened.engine.dispose()


def make(name: str, minutes: int = 0, status: str = "InProgress", kind: str = KIND) -> ResourceRecord:
    at = T0 + timedelta(minutes=minutes)
    return ResourceRecord(
        kind, name, f"arn:aws:sagemaker:us-east-1:0:{kind}/{name}", status, at, at, {"n": name}
    )


def test_migrations_are_idempotent_and_data_survives_reopening(database_url: str) -> None:
    first = open_repository(database_url)
    first.create(make("a"))
    first.engine.dispose()
    reopened = open_repository(database_url)
    found = reopened.get(KIND, "a")
    reopened.engine.dispose()
    assert found is not None and found.document == {"n": "a"} and found.creation_time == T0


def test_names_are_unique_per_kind_only(repository: ResourceRepository) -> None:
    repository.create(make("same"))
    with pytest.raises(AlreadyExistsError, match="already existing"):
        repository.create(make("same"))
    repository.create(make("same", kind="model"))
    assert repository.count(KIND) == 1 and repository.count("model") == 1


def test_filters_sorting_and_pages(repository: ResourceRepository) -> None:
    for i in range(7):
        repository.create(make(f"job-{i}", minutes=i, status="Completed" if i % 2 else "Failed"))
    assert [
        r.name
        for r in repository.list_page(KIND, ListQuery(status_equals="Completed", max_results=100)).records
    ] == [
        "job-1",
        "job-3",
        "job-5",
    ]
    newest = repository.list_page(KIND, ListQuery(sort_order=SortOrder.DESCENDING, max_results=3))
    assert [r.name for r in newest.records] == ["job-6", "job-5", "job-4"] and newest.next_token
    following = repository.list_page(
        KIND, ListQuery(sort_order=SortOrder.DESCENDING, max_results=3, next_token=newest.next_token)
    )
    assert [r.name for r in following.records] == ["job-3", "job-2", "job-1"]
    last = repository.list_page(
        KIND, ListQuery(sort_order=SortOrder.DESCENDING, max_results=3, next_token=following.next_token)
    )
    assert [r.name for r in last.records] == ["job-0"] and last.next_token is None
    window = ListQuery(
        creation_time_after=T0 + timedelta(minutes=1), creation_time_before=T0 + timedelta(minutes=4)
    )
    assert [r.name for r in repository.list_page(KIND, window).records] == ["job-2", "job-3"]
    by_name = repository.list_page(
        KIND, ListQuery(sort_by=SortBy.NAME, sort_order=SortOrder.DESCENDING, max_results=1)
    )
    assert by_name.records[0].name == "job-6"


def test_name_contains_is_case_insensitive_and_literal(repository: ResourceRepository) -> None:
    repository.create(make("Alpha-1"))
    repository.create(make("beta-1"))
    repository.create(make("gamma%x"))
    assert [r.name for r in repository.list_page(KIND, ListQuery(name_contains="ALPHA")).records] == [
        "Alpha-1"
    ]
    assert [r.name for r in repository.list_page(KIND, ListQuery(name_contains="%")).records] == ["gamma%x"]


def test_a_token_only_works_for_its_own_query(repository: ResourceRepository) -> None:
    for i in range(3):
        repository.create(make(f"j{i}", minutes=i))
    token = repository.list_page(KIND, ListQuery(max_results=1)).next_token
    with pytest.raises(ValidationError, match="NextToken"):
        repository.list_page(KIND, ListQuery(max_results=1, status_equals="Completed", next_token=token))
    with pytest.raises(ValidationError, match="NextToken"):
        repository.list_page(KIND, ListQuery(next_token="not-a-token"))


def test_concurrent_updates_are_never_lost(repository: ResourceRepository) -> None:
    repository.create(make("counter"))

    def bump(record: ResourceRecord) -> None:
        record.document["count"] = record.document.get("count", 0) + 1

    workers = [
        threading.Thread(target=lambda: [repository.update(KIND, "counter", bump) for _ in range(10)])
        for _ in range(4)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    found = repository.get(KIND, "counter")
    assert found is not None and found.document["count"] == 40 and found.version == 40


def test_a_change_that_raises_writes_nothing(repository: ResourceRepository) -> None:
    repository.create(make("steady"))

    def refuse(record: ResourceRecord) -> None:
        record.status = "Completed"
        raise ValidationError("not allowed")

    with pytest.raises(ValidationError):
        repository.update(KIND, "steady", refuse)
    found = repository.get(KIND, "steady")
    assert found is not None and found.status == "InProgress"
    with pytest.raises(NotFoundError):
        repository.update(KIND, "missing", refuse)


def test_tags_follow_their_resource(repository: ResourceRepository) -> None:
    record = repository.create(make("tagged"), {"team": "ml"})
    repository.add_tags(record.arn, {"env": "dev", "team": "research"})
    assert repository.list_tags(record.arn) == {"env": "dev", "team": "research"}
    repository.delete_tags(record.arn, ["env", "absent"])
    assert repository.list_tags(record.arn) == {"team": "research"}
    repository.delete(KIND, "tagged")
    with pytest.raises(NotFoundError):
        repository.list_tags(record.arn)


def test_with_status_lists_the_work_of_reconcilers(repository: ResourceRepository) -> None:
    repository.create(make("a", 0, "InProgress"))
    repository.create(make("b", 1, "Stopping"))
    repository.create(make("c", 2, "Completed"))
    assert [r.name for r in repository.with_status(KIND, ["InProgress", "Stopping"])] == ["a", "b"]
