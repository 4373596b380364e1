"""One repository for every resource kind: create, get, update, list with filters and pages, tags.

Services keep their resource's state in ``ResourceRecord.document`` and let this module do
what every SageMaker resource shares: unique names per kind, ARNs, ``NameContains`` /
``StatusEquals`` / time filters, ``SortBy`` / ``SortOrder``, ``MaxResults`` / ``NextToken``,
and AddTags / ListTags / DeleteTags. Updates are optimistic: a writer that raced another
retries on the fresh row, so concurrent threads and processes never lose an update.
"""

from __future__ import annotations

import base64
import binascii
import copy
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Engine, Row, Table, and_, delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from opensage.errors import AlreadyExistsError, ConflictError, NotFoundError, ValidationError
from opensage.store.schema import resources, tags

_UPDATE_ATTEMPTS = 20


class SortBy(StrEnum):
    NAME = "Name"
    CREATION_TIME = "CreationTime"
    STATUS = "Status"


class SortOrder(StrEnum):
    ASCENDING = "Ascending"
    DESCENDING = "Descending"


@dataclass
class ResourceRecord:
    kind: str
    name: str
    arn: str
    status: str
    creation_time: datetime
    last_modified_time: datetime
    document: dict[str, Any] = field(default_factory=dict)
    version: int = 0


@dataclass(frozen=True)
class ListQuery:
    """The filters every SageMaker List* operation shares."""

    name_contains: str | None = None
    status_equals: str | None = None
    creation_time_after: datetime | None = None
    creation_time_before: datetime | None = None
    last_modified_time_after: datetime | None = None
    last_modified_time_before: datetime | None = None
    sort_by: SortBy = SortBy.CREATION_TIME
    sort_order: SortOrder = SortOrder.ASCENDING
    max_results: int = 10
    next_token: str | None = None


@dataclass(frozen=True)
class Page:
    records: list[ResourceRecord]
    next_token: str | None


def _encode_token(offset: int, query: ListQuery) -> str:
    # The token pins the filters it was made for, so it cannot be replayed against another query.
    payload = {"o": offset, "q": _query_fingerprint(query)}
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode()


def _decode_token(token: str, query: ListQuery) -> int:
    try:
        payload = json.loads(base64.urlsafe_b64decode(token.encode()))
        offset = int(payload["o"])
        matches = payload["q"] == _query_fingerprint(query)
    except (binascii.Error, ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
        raise ValidationError("The NextToken is not valid; start again without it") from exc
    if offset < 0 or not matches:
        raise ValidationError("The NextToken does not belong to this request; start again without it")
    return offset


def _query_fingerprint(query: ListQuery) -> str:
    parts = [
        query.name_contains,
        query.status_equals,
        query.creation_time_after,
        query.creation_time_before,
        query.last_modified_time_after,
        query.last_modified_time_before,
        query.sort_by,
        query.sort_order,
    ]
    return "|".join("" if p is None else str(p) for p in parts)


def _insert_for(dialect: str) -> Callable[[Table], Any]:
    """The dialect's INSERT, which knows ON CONFLICT (both SQLite and PostgreSQL have it)."""
    if dialect == "postgresql":
        return postgresql.insert
    if dialect == "sqlite":
        return sqlite.insert
    raise ValidationError(
        f"The metadata store does not support {dialect} databases; use SQLite or PostgreSQL"
    )


def _record(row: Row[Any]) -> ResourceRecord:
    return ResourceRecord(
        kind=row.kind,
        name=row.name,
        arn=row.arn,
        status=row.status,
        creation_time=row.creation_time,
        last_modified_time=row.last_modified_time,
        document=row.document,
        version=row.version,
    )


class ResourceRepository:
    """Resource rows of every kind, on any SQLAlchemy engine."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # --- single resources ---

    def create(self, record: ResourceRecord, tag_map: dict[str, str] | None = None) -> ResourceRecord:
        """Insert a new resource; AlreadyExistsError if the kind already has that name."""
        values = {
            "kind": record.kind,
            "name": record.name,
            "arn": record.arn,
            "status": record.status,
            "creation_time": record.creation_time,
            "last_modified_time": record.last_modified_time,
            "document": record.document,
            "version": 0,
        }
        try:
            with self.engine.begin() as conn:
                inserted = conn.execute(insert(resources).values(**values)).inserted_primary_key
                if inserted is None:
                    raise ConflictError(f"{record.kind} {record.name} was not stored; try again")
                resource_id = inserted[0]
                if tag_map:
                    conn.execute(
                        insert(tags),
                        [{"resource_id": resource_id, "key": k, "value": v} for k, v in tag_map.items()],
                    )
        except IntegrityError as exc:
            raise AlreadyExistsError(f"Cannot create already existing {record.kind} {record.arn}") from exc
        return copy.deepcopy(record)

    def get(self, kind: str, name: str) -> ResourceRecord | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(resources).where(resources.c.kind == kind, resources.c.name == name)
            ).first()
        return None if row is None else _record(row)

    def update(self, kind: str, name: str, change: Callable[[ResourceRecord], None]) -> ResourceRecord:
        """Apply ``change`` to the current record and save it; retried if another writer got there first.

        ``change`` may raise (for example ConflictError when a transition is not allowed),
        in which case nothing is written. It must not have side effects beyond the record.
        """
        for _ in range(_UPDATE_ATTEMPTS):
            current = self.get(kind, name)
            if current is None:
                raise NotFoundError(f"{kind} {name} does not exist")
            changed = copy.deepcopy(current)
            change(changed)
            with self.engine.begin() as conn:
                result = conn.execute(
                    update(resources)
                    .where(resources.c.kind == kind, resources.c.name == name)
                    .where(resources.c.version == current.version)
                    .values(
                        status=changed.status,
                        last_modified_time=changed.last_modified_time,
                        document=changed.document,
                        version=current.version + 1,
                    )
                )
            if result.rowcount == 1:
                changed.version = current.version + 1
                return changed
        raise ConflictError(f"{kind} {name} is being changed by others; try again")

    def delete(self, kind: str, name: str) -> bool:
        with self.engine.begin() as conn:
            result = conn.execute(delete(resources).where(resources.c.kind == kind, resources.c.name == name))
        return result.rowcount == 1

    # --- many resources ---

    def list_page(self, kind: str, query: ListQuery) -> Page:
        conditions = [resources.c.kind == kind, *self._filters(query)]
        order_column: Any = {
            SortBy.NAME: resources.c.name,
            SortBy.CREATION_TIME: resources.c.creation_time,
            SortBy.STATUS: resources.c.status,
        }[query.sort_by]
        if query.sort_by != SortBy.CREATION_TIME and self.engine.dialect.name == "postgresql":
            # PostgreSQL sorts text by the database's collation ("a" < "B" under en-US); SQLite and
            # SageMaker sort by code point. Collation "C" is that order on every PostgreSQL.
            order_column = order_column.collate("C")
        descending = query.sort_order == SortOrder.DESCENDING
        ordering = (
            [order_column.desc(), resources.c.id.desc()] if descending else [order_column, resources.c.id]
        )
        offset = _decode_token(query.next_token, query) if query.next_token else 0
        statement = (
            select(resources)
            .where(and_(*conditions))
            .order_by(*ordering)
            .offset(offset)
            .limit(query.max_results + 1)
        )
        with self.engine.connect() as conn:
            rows = conn.execute(statement).all()
        records = [_record(row) for row in rows[: query.max_results]]
        more = len(rows) > query.max_results
        return Page(records, _encode_token(offset + query.max_results, query) if more else None)

    def with_status(self, kind: str, statuses: Iterable[str]) -> list[ResourceRecord]:
        """Every resource of ``kind`` in one of ``statuses`` (the reconcilers' work list)."""
        wanted = list(statuses)
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(resources)
                .where(resources.c.kind == kind, resources.c.status.in_(wanted))
                .order_by(resources.c.creation_time)
            ).all()
        return [_record(row) for row in rows]

    def count(self, kind: str) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).where(resources.c.kind == kind)).scalar_one())

    @staticmethod
    def _filters(query: ListQuery) -> list[Any]:
        found: list[Any] = []
        if query.name_contains:
            found.append(resources.c.name.icontains(query.name_contains, autoescape=True))
        if query.status_equals:
            found.append(resources.c.status == query.status_equals)
        if query.creation_time_after:
            found.append(resources.c.creation_time > query.creation_time_after)
        if query.creation_time_before:
            found.append(resources.c.creation_time < query.creation_time_before)
        if query.last_modified_time_after:
            found.append(resources.c.last_modified_time > query.last_modified_time_after)
        if query.last_modified_time_before:
            found.append(resources.c.last_modified_time < query.last_modified_time_before)
        return found

    # --- tags ---

    def _resource_id(self, arn: str) -> int:
        with self.engine.connect() as conn:
            found = conn.execute(select(resources.c.id).where(resources.c.arn == arn)).scalar_one_or_none()
        if found is None:
            raise NotFoundError(f"The resource {arn} does not exist")
        return int(found)

    def add_tags(self, arn: str, tag_map: dict[str, str]) -> None:
        """Set tags, replacing the values of keys the resource already has."""
        resource_id = self._resource_id(arn)
        if not tag_map:
            return
        # An upsert, not delete-then-insert: under PostgreSQL's READ COMMITTED two writers of the
        # same key would both delete nothing and the second insert would hit the primary key.
        upsert = _insert_for(self.engine.dialect.name)(tags)
        statement = upsert.on_conflict_do_update(
            index_elements=[tags.c.resource_id, tags.c.key], set_={"value": upsert.excluded.value}
        )
        rows = [{"resource_id": resource_id, "key": k, "value": v} for k, v in tag_map.items()]
        try:
            with self.engine.begin() as conn:
                conn.execute(statement, rows)
        except IntegrityError as exc:  # the resource was deleted meanwhile
            raise NotFoundError(f"The resource {arn} does not exist") from exc

    def list_tags(self, arn: str) -> dict[str, str]:
        resource_id = self._resource_id(arn)
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(tags.c.key, tags.c.value).where(tags.c.resource_id == resource_id).order_by(tags.c.key)
            ).all()
        return {row.key: row.value for row in rows}

    def delete_tags(self, arn: str, keys: Iterable[str]) -> None:
        resource_id = self._resource_id(arn)
        with self.engine.begin() as conn:
            conn.execute(delete(tags).where(tags.c.resource_id == resource_id, tags.c.key.in_(list(keys))))
