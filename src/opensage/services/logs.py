"""CloudWatch Logs semantics on top of a log store: paging, tokens, time ranges, filters, batch rules.

Tokens are opaque to clients but cheap for us: GetLogEvents tokens carry a stream position
(``f/<position>/<check>`` forward, ``b/...`` backward) so a page never rescans what came
before it, and a forward token asked again with nothing new comes back unchanged, which is
how the SDKs know to stop polling. FilterLogEvents tokens carry the position reached in
every searched stream. Any token that does not decode is an InvalidParameterException.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeVar

from opensage.errors import InvalidParameterError, LogResourceAlreadyExistsError, LogResourceNotFoundError
from opensage.logstore.base import (
    InputLogEvent,
    LogEvent,
    LogGroupInfo,
    LogStore,
    LogStreamInfo,
    group_not_found,
    now_ms,
    stream_not_found,
)
from opensage.logstore.merge import Reader, StreamCursor, StreamMerge
from opensage.logstore.patterns import FilterPattern, FilterPatternError, parse_filter_pattern
from opensage.settings import DEFAULT_ACCOUNT_ID

DEFAULT_DESCRIBE_LIMIT = 50
DEFAULT_EVENTS_LIMIT = 10_000
# A page of events holds at most 1 MB, counting each event as its UTF-8 message plus 26 bytes.
MAX_PAGE_BYTES = 1_048_576
EVENT_OVERHEAD_BYTES = 26
MAX_BATCH_BYTES = 1_048_576
MAX_EVENT_BYTES = 1_048_576 - EVENT_OVERHEAD_BYTES
MAX_BATCH_SPAN_MS = 24 * 3600 * 1000
MAX_FUTURE_MS = 2 * 3600 * 1000
MAX_AGE_MS = 14 * 24 * 3600 * 1000

_EVENT_TOKEN = re.compile(r"([fb])/(\d{1,19})/([0-9a-f]{8})")
_INVALID_TOKEN = "The specified nextToken is not valid; pass a token from a previous response, unchanged"

T = TypeVar("T")


class StreamOrder(StrEnum):
    LOG_STREAM_NAME = "LogStreamName"
    LAST_EVENT_TIME = "LastEventTime"


@dataclass(frozen=True)
class LogGroupPage:
    groups: list[LogGroupInfo]
    next_token: str | None


@dataclass(frozen=True)
class LogStreamPage:
    streams: list[LogStreamInfo]
    next_token: str | None


@dataclass(frozen=True)
class EventPage:
    """Events in ascending order, and the tokens that continue after and before them."""

    events: list[LogEvent]
    next_forward_token: str
    next_backward_token: str


@dataclass(frozen=True)
class FilteredEvent:
    stream: str
    event: LogEvent
    event_id: str


@dataclass(frozen=True)
class FilteredEventPage:
    events: list[FilteredEvent]
    # None once every matching event has been returned.
    next_token: str | None


@dataclass(frozen=True)
class PutEventsResult:
    next_sequence_token: str
    # CloudWatch's rejectedLogEventsInfo: events from this index on were too far in the future,
    # events before that one were too old. None when there were none.
    too_new_start_index: int | None = None
    too_old_end_index: int | None = None


@dataclass(frozen=True)
class TimeRange:
    start: int | None = None
    end: int | None = None
    # GetLogEvents excludes an event at endTime; FilterLogEvents includes it.
    end_inclusive: bool = False

    def contains(self, timestamp: int) -> bool:
        if self.start is not None and timestamp < self.start:
            return False
        if self.end is None:
            return True
        return timestamp <= self.end if self.end_inclusive else timestamp < self.end


# --- tokens -----------------------------------------------------------------------------------


def _pack(payload: Any) -> str:
    raw = zlib.compress(json.dumps(payload, separators=(",", ":")).encode("utf-8", "surrogatepass"))
    return base64.urlsafe_b64encode(raw).decode("ascii")


def _unpack(token: str) -> Any:
    try:
        raw = zlib.decompress(base64.urlsafe_b64decode(token.encode("ascii")))
        return json.loads(raw.decode("utf-8", "surrogatepass"))
    except (binascii.Error, zlib.error, UnicodeError, ValueError) as exc:
        raise InvalidParameterError(_INVALID_TOKEN) from exc


def _token_check(group: str, stream: str, direction: str, position: int) -> str:
    # Ties a GetLogEvents token to its stream, so one passed to another stream is refused
    # instead of starting mid-way through an unrelated file.
    text = f"{group}\0{stream}\0{direction}\0{position}".encode("utf-8", "surrogatepass")
    return hashlib.blake2b(text, digest_size=4).hexdigest()


def event_token(group: str, stream: str, direction: str, position: int) -> str:
    return f"{direction}/{position:019d}/{_token_check(group, stream, direction, position)}"


def parse_event_token(group: str, stream: str, token: str) -> tuple[str, int]:
    """(``f`` or ``b``, position) of a GetLogEvents token."""
    found = _EVENT_TOKEN.fullmatch(token)
    if found is None:
        raise InvalidParameterError(_INVALID_TOKEN)
    direction, position = found.group(1), int(found.group(2))
    if found.group(3) != _token_check(group, stream, direction, position):
        raise InvalidParameterError(_INVALID_TOKEN)
    return direction, position


def _positions_of(payload: Any) -> tuple[bool, dict[str, int]]:
    """(forward?, stream -> position) of a FilterLogEvents token's payload."""
    if not isinstance(payload, dict) or payload.get("d") not in ("f", "b"):
        raise InvalidParameterError(_INVALID_TOKEN)
    positions = payload.get("p")
    if not isinstance(positions, dict) or not all(
        isinstance(k, str) and type(v) is int and v >= 0 for k, v in positions.items()
    ):
        raise InvalidParameterError(_INVALID_TOKEN)
    return payload["d"] == "f", positions


def _after_key(token: str | None, kind: str, shape: tuple[type, ...]) -> list[Any] | None:
    """The sort key of the last item a Describe page returned, from its token."""
    if token is None:
        return None
    payload = _unpack(token)
    key = payload.get("k") if isinstance(payload, dict) and payload.get("t") == kind else None
    if not isinstance(key, list) or len(key) != len(shape):
        raise InvalidParameterError(_INVALID_TOKEN)
    if not all(type(part) is expected for part, expected in zip(key, shape, strict=True)):
        raise InvalidParameterError(_INVALID_TOKEN)
    return key


def _page(
    items: list[T],
    key: Callable[[T], list[Any]],
    *,
    kind: str,
    after: list[Any] | None,
    limit: int,
    descending: bool,
) -> tuple[list[T], str | None]:
    ordered = sorted(items, key=key, reverse=descending)
    if after is not None:
        ordered = [item for item in ordered if (key(item) < after if descending else key(item) > after)]
    page = ordered[:limit]
    more = len(ordered) > limit
    return page, (_pack({"t": kind, "k": key(page[-1])}) if more else None)


def _limit(requested: int | None, default: int) -> int:
    """A page size: CloudWatch's default is also its maximum."""
    if requested is None:
        return default
    if not 1 <= requested <= default:
        raise InvalidParameterError(f"limit must be between 1 and {default}")
    return requested


# --- events -----------------------------------------------------------------------------------


def event_size(event: LogEvent) -> int:
    return len(event.message.encode("utf-8", "replace")) + EVENT_OVERHEAD_BYTES


def event_id(stream: str, event: LogEvent) -> str:
    """A number unique within the group and the same on every read, as CloudWatch's are."""
    digest = hashlib.blake2b(stream.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return f"{int.from_bytes(digest):020d}{event.position:020d}"


def _take(
    events: Iterator[LogEvent], keep: Callable[[LogEvent], bool], limit: int, forward: bool
) -> tuple[list[LogEvent], int | None]:
    """Up to ``limit`` kept events (and 1 MB), and the position after the last event looked at."""
    taken: list[LogEvent] = []
    size = 0
    reached: int | None = None
    for event in events:
        if keep(event):
            cost = event_size(event)
            if taken and size + cost > MAX_PAGE_BYTES:
                break
            taken.append(event)
            size += cost
        reached = event.next_position if forward else event.position
        if len(taken) == limit:
            break
    return taken, reached


# --- the service ------------------------------------------------------------------------------


class LogsService:
    """The CloudWatch Logs operations opensage serves, on typed values."""

    def __init__(
        self,
        store: LogStore,
        *,
        region: str = "us-east-1",
        account_id: str = DEFAULT_ACCOUNT_ID,
        clock: Callable[[], int] = now_ms,
    ) -> None:
        self.store = store
        self.region = region
        self.account_id = account_id
        self._clock = clock

    # --- names --------------------------------------------------------------------------------

    def group_arn(self, group: str) -> str:
        return f"arn:aws:logs:{self.region}:{self.account_id}:log-group:{group}"

    def stream_arn(self, group: str, stream: str) -> str:
        return f"{self.group_arn(group)}:log-stream:{stream}"

    @staticmethod
    def resolve_group(name: str | None, identifier: str | None) -> str:
        """The group a request names with ``logGroupName`` or ``logGroupIdentifier`` (a name or an ARN)."""
        if name is not None and identifier is not None:
            raise InvalidParameterError("Specify either logGroupName or logGroupIdentifier, not both")
        if name is not None:
            return name
        if identifier is None:
            raise InvalidParameterError("Specify the log group with logGroupName or logGroupIdentifier")
        if not identifier.startswith("arn:"):
            return identifier
        parts = identifier.split(":")
        is_group_arn = len(parts) in (7, 8) and parts[2] == "logs" and parts[5] == "log-group" and parts[6]
        if is_group_arn and parts[7:] in ([], ["*"]):
            return parts[6]
        raise InvalidParameterError(
            "logGroupIdentifier must be a log group name or an ARN like "
            "arn:aws:logs:<region>:<account>:log-group:<name>"
        )

    # --- groups and streams -------------------------------------------------------------------

    def create_log_group(self, group: str) -> None:
        if not self.store.create_group(group):
            raise LogResourceAlreadyExistsError("The specified log group already exists")

    def delete_log_group(self, group: str) -> None:
        self.store.delete_group(group)

    def create_log_stream(self, group: str, stream: str) -> None:
        if not self.store.create_stream(group, stream):
            raise LogResourceAlreadyExistsError("The specified log stream already exists")

    def delete_log_stream(self, group: str, stream: str) -> None:
        self.store.delete_stream(group, stream)

    def describe_log_groups(
        self,
        *,
        prefix: str | None = None,
        pattern: str | None = None,
        groups: Sequence[str] | None = None,
        limit: int | None = None,
        next_token: str | None = None,
    ) -> LogGroupPage:
        if prefix is not None and pattern is not None:
            raise InvalidParameterError("Specify either logGroupNamePrefix or logGroupNamePattern, not both")
        names = self.store.list_groups(prefix or "")
        if pattern:
            names = [name for name in names if pattern.lower() in name.lower()]
        if groups is not None:
            wanted = set(groups)
            names = [name for name in names if name in wanted]
        after = _after_key(next_token, "groups", (str,))
        page, token = _page(
            names,
            lambda name: [name],
            kind="groups",
            after=after,
            limit=_limit(limit, DEFAULT_DESCRIBE_LIMIT),
            descending=False,
        )
        return LogGroupPage(self._existing(self.store.group_info, page), token)

    def describe_log_streams(
        self,
        group: str,
        *,
        prefix: str | None = None,
        order_by: StreamOrder = StreamOrder.LOG_STREAM_NAME,
        descending: bool = False,
        limit: int | None = None,
        next_token: str | None = None,
    ) -> LogStreamPage:
        limit = _limit(limit, DEFAULT_DESCRIBE_LIMIT)
        if order_by is StreamOrder.LOG_STREAM_NAME:
            names = self.store.list_streams(group, prefix or "")
            after = _after_key(next_token, "streams-by-name", (str,))
            page, token = _page(
                names,
                lambda name: [name],
                kind="streams-by-name",
                after=after,
                limit=limit,
                descending=descending,
            )
            return LogStreamPage(
                self._existing(lambda name: self.store.stream_info(group, name), page), token
            )
        if prefix:
            raise InvalidParameterError("Cannot order by LastEventTime with a logStreamNamePrefix.")
        # Every stream's last event decides the order, so all of them are looked at; that is one
        # small read at the end of each stream's file.
        infos = self._existing(
            lambda name: self.store.stream_info(group, name), self.store.list_streams(group)
        )
        after = _after_key(next_token, "streams-by-time", (int, str))
        streams, token = _page(
            infos,
            lambda info: [info.last_event_timestamp or 0, info.name],
            kind="streams-by-time",
            after=after,
            limit=limit,
            descending=descending,
        )
        return LogStreamPage(streams, token)

    @staticmethod
    def _existing(load: Callable[[str], T], names: list[str]) -> list[T]:
        # A group or stream deleted between listing and loading is left out, not an error.
        loaded = []
        for name in names:
            try:
                loaded.append(load(name))
            except LogResourceNotFoundError:
                continue
        return loaded

    # --- reading events -----------------------------------------------------------------------

    def get_log_events(
        self,
        group: str,
        stream: str,
        *,
        start_time: int | None = None,
        end_time: int | None = None,
        next_token: str | None = None,
        limit: int | None = None,
        start_from_head: bool = False,
    ) -> EventPage:
        self._require_stream(group, stream)
        window = TimeRange(start_time, end_time, end_inclusive=False)
        if next_token is not None:
            direction, position = parse_event_token(group, stream, next_token)
        elif start_from_head:
            direction, position = "f", 0
        else:
            direction, position = "b", self.store.end_position(group, stream)

        def keep(event: LogEvent) -> bool:
            return window.contains(event.timestamp)

        count = _limit(limit, DEFAULT_EVENTS_LIMIT)
        if direction == "f":
            events, reached = _take(self.store.read_forward(group, stream, position), keep, count, True)
            after = position if reached is None else reached
            before = events[0].position if events else position
        else:
            newest_first, reached = _take(
                self.store.read_backward(group, stream, position), keep, count, False
            )
            events = newest_first[::-1]
            before = position if reached is None else reached
            after = events[-1].next_position if events else position
        return EventPage(
            events, event_token(group, stream, "f", after), event_token(group, stream, "b", before)
        )

    def filter_log_events(
        self,
        group: str,
        *,
        stream_names: Sequence[str] | None = None,
        stream_prefix: str | None = None,
        start_time: int | None = None,
        end_time: int | None = None,
        filter_pattern: str | None = None,
        next_token: str | None = None,
        limit: int | None = None,
        start_from_head: bool = True,
    ) -> FilteredEventPage:
        if stream_names is not None and stream_prefix is not None:
            raise InvalidParameterError("Specify either logStreamNames or logStreamNamePrefix, not both")
        pattern = self._pattern(filter_pattern)
        streams = self._streams_to_search(group, stream_names, stream_prefix)
        if next_token is not None:
            forward, positions = _positions_of(_unpack(next_token))
        else:
            forward, positions = start_from_head, {}
        window = TimeRange(start_time, end_time, end_inclusive=True)

        def keep(event: LogEvent) -> bool:
            return window.contains(event.timestamp) and pattern.matches(event.message)

        merge = StreamMerge(self._cursors(group, streams, positions, keep, forward), forward=forward)
        return self._page_of(merge, forward, _limit(limit, DEFAULT_EVENTS_LIMIT))

    @staticmethod
    def _pattern(text: str | None) -> FilterPattern:
        try:
            return parse_filter_pattern(text)
        except FilterPatternError as exc:
            raise InvalidParameterError(str(exc)) from exc

    def _streams_to_search(self, group: str, names: Sequence[str] | None, prefix: str | None) -> list[str]:
        if names is None:
            return self.store.list_streams(group, prefix or "")
        streams = sorted(set(names))
        for stream in streams:
            self._require_stream(group, stream)
        return streams

    def _require_stream(self, group: str, stream: str) -> None:
        if not self.store.stream_exists(group, stream):
            raise stream_not_found() if self.store.group_exists(group) else group_not_found()

    def _cursors(
        self,
        group: str,
        streams: list[str],
        positions: dict[str, int],
        keep: Callable[[LogEvent], bool],
        forward: bool,
    ) -> list[StreamCursor]:
        cursors = []
        for stream in streams:
            known = positions.get(stream)
            if forward:
                position = 0 if known is None else known
            elif known is not None:
                position = known
            else:
                try:
                    position = self.store.end_position(group, stream)
                except LogResourceNotFoundError:
                    continue  # deleted since it was listed
            cursors.append(
                StreamCursor(
                    stream, self._reader(group, stream, forward), keep, forward=forward, position=position
                )
            )
        return cursors

    def _reader(self, group: str, stream: str, forward: bool) -> Reader:
        def read(position: int) -> Iterator[LogEvent]:
            if forward:
                return self.store.read_forward(group, stream, position)
            return self.store.read_backward(group, stream, position)

        return read

    @staticmethod
    def _page_of(merge: StreamMerge, forward: bool, limit: int) -> FilteredEventPage:
        found: list[FilteredEvent] = []
        size = 0
        while len(found) < limit and (head := merge.peek()) is not None:
            stream, event = head
            if found and size + event_size(event) > MAX_PAGE_BYTES:
                break
            found.append(FilteredEvent(stream, event, event_id(stream, event)))
            size += event_size(event)
            merge.pop()
        if merge.exhausted:
            return FilteredEventPage(found, None)
        return FilteredEventPage(found, _pack({"d": "f" if forward else "b", "p": merge.positions()}))

    # --- writing events -----------------------------------------------------------------------

    def put_log_events(self, group: str, stream: str, events: Sequence[InputLogEvent]) -> PutEventsResult:
        """Append a batch under CloudWatch's rules; events too new or too old are skipped and reported."""
        self._check_batch(events)
        now = self._clock()
        too_old_end = sum(1 for event in events if event.timestamp < now - MAX_AGE_MS)
        too_new_start = next(
            (index for index, event in enumerate(events) if event.timestamp > now + MAX_FUTURE_MS),
            len(events),
        )
        accepted = events[too_old_end:too_new_start]
        if accepted and accepted[-1].timestamp - accepted[0].timestamp > MAX_BATCH_SPAN_MS:
            raise InvalidParameterError(
                "The batch of log events in a single PutLogEvents request cannot span more than 24 hours."
            )
        if accepted:
            self.store.put_events(group, stream, accepted)
        else:
            self._require_stream(group, stream)
        return PutEventsResult(
            next_sequence_token=f"{now:056d}",
            too_new_start_index=too_new_start if too_new_start < len(events) else None,
            too_old_end_index=too_old_end or None,
        )

    @staticmethod
    def _check_batch(events: Sequence[InputLogEvent]) -> None:
        if not events:
            raise InvalidParameterError("A PutLogEvents request needs at least one log event")
        total = 0
        for index, event in enumerate(events):
            size = len(event.message.encode("utf-8", "replace"))
            if not event.message:
                raise InvalidParameterError(f"Log event {index} has an empty message")
            if size > MAX_EVENT_BYTES:
                raise InvalidParameterError(
                    f"Log event too large: {size} bytes exceeds limit of {MAX_EVENT_BYTES}"
                )
            if event.timestamp < 0:
                raise InvalidParameterError(f"Log event {index} has a negative timestamp")
            if index and event.timestamp < events[index - 1].timestamp:
                raise InvalidParameterError(
                    "Log events in a single PutLogEvents request must be in chronological order."
                )
            total += size + EVENT_OVERHEAD_BYTES
        if total > MAX_BATCH_BYTES:
            raise InvalidParameterError(f"Upload too large: {total} bytes exceeds limit of {MAX_BATCH_BYTES}")
