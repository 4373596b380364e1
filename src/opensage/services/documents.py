"""Typed resources on the generic repository: a service's dataclass in, the same dataclass out.

Each service keeps one dataclass per resource kind as the row's document; this does the
(de)serialisation (pydantic's TypeAdapter on plain dataclasses) and the bookkeeping every
kind shares, so services only say what their resource is and how it changes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from pydantic import TypeAdapter

from opensage.store import ListQuery, ResourceRecord, ResourceRepository

T = TypeVar("T")


@dataclass(frozen=True)
class Stamp:
    """What the repository indexes about a resource, read from it by the service."""

    name: str
    arn: str
    status: str
    creation_time: datetime
    last_modified_time: datetime


class Documents(Generic[T]):
    def __init__(
        self, repository: ResourceRepository, kind: str, cls: type[T], stamp: Callable[[T], Stamp]
    ) -> None:
        self.repository = repository
        self.kind = kind
        self._adapter: TypeAdapter[T] = TypeAdapter(cls)
        self._stamp = stamp

    def create(self, item: T, tags: dict[str, str] | None = None) -> T:
        """Store a new resource; AlreadyExistsError (from the repository) if its name is taken."""
        self.repository.create(self._record(item), tags)
        return item

    def get(self, name: str) -> T | None:
        record = self.repository.get(self.kind, name)
        return None if record is None else self.load(record)

    def update(self, name: str, change: Callable[[T], None]) -> T:
        def on_record(record: ResourceRecord) -> None:
            item = self.load(record)
            change(item)
            fresh = self._record(item)
            record.status = fresh.status
            record.last_modified_time = fresh.last_modified_time
            record.document = fresh.document

        return self.load(self.repository.update(self.kind, name, on_record))

    def delete(self, name: str) -> bool:
        return self.repository.delete(self.kind, name)

    def page(self, query: ListQuery) -> tuple[list[T], str | None]:
        page = self.repository.list_page(self.kind, query)
        return [self.load(record) for record in page.records], page.next_token

    def with_status(self, statuses: list[str]) -> list[T]:
        return [self.load(record) for record in self.repository.with_status(self.kind, statuses)]

    def load(self, record: ResourceRecord) -> T:
        return self._adapter.validate_python(record.document)

    def _record(self, item: T) -> ResourceRecord:
        stamp = self._stamp(item)
        return ResourceRecord(
            kind=self.kind,
            name=stamp.name,
            arn=stamp.arn,
            status=stamp.status,
            creation_time=stamp.creation_time,
            last_modified_time=stamp.last_modified_time,
            document=self._adapter.dump_python(item, mode="json"),
        )
