"""CloudWatch Logs semantics of LogsService: tokens, ordering, limits, time ranges, filters, batch rules."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from opensage.errors import InvalidParameterError, LogResourceAlreadyExistsError, LogResourceNotFoundError
from opensage.logstore import InputLogEvent, LogEvent, merge
from opensage.logstore.local_logs import LocalLogStore
from opensage.services.logs import (
    MAX_AGE_MS,
    MAX_FUTURE_MS,
    MAX_PAGE_BYTES,
    EventPage,
    LogsService,
    StreamOrder,
)

GROUP = "/aws/sagemaker/TrainingJobs"
STREAM = "job/algo-1-1700000000"
NOW = 1_700_000_000_000


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> int:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def service(tmp_path: Path, clock: Clock) -> LogsService:
    return LogsService(LocalLogStore(tmp_path / "logs", clock=clock), region="eu-west-1", clock=clock)


def _stream(service: LogsService, messages: list[str], stream: str = STREAM, start: int = NOW) -> None:
    with service.store.open_writer(GROUP, stream) as writer:
        for index, message in enumerate(messages):
            writer.write(message, timestamp_ms=start + index)


def _messages(page: EventPage) -> list[str]:
    return [event.message for event in page.events]


LINES = [f"line {i}" for i in range(23)]


# --- GetLogEvents -----------------------------------------------------------------------------


def test_forward_paging_from_the_head_ends_when_the_token_repeats(service: LogsService) -> None:
    _stream(service, LINES)
    page = service.get_log_events(GROUP, STREAM, start_from_head=True, limit=5)
    seen, calls = _messages(page), 1
    while True:
        following = service.get_log_events(GROUP, STREAM, next_token=page.next_forward_token, limit=5)
        calls += 1
        seen += _messages(following)
        if following.next_forward_token == page.next_forward_token:
            break
        page = following
    assert seen == LINES
    assert calls == 6  # five pages of events, then one that says nothing is new
    assert following.events == []


def test_a_forward_token_picks_up_events_written_later(service: LogsService) -> None:
    _stream(service, LINES[:3])
    page = service.get_log_events(GROUP, STREAM, start_from_head=True)
    idle = service.get_log_events(GROUP, STREAM, next_token=page.next_forward_token)
    assert idle.events == [] and idle.next_forward_token == page.next_forward_token
    _stream(service, LINES[3:5])
    assert _messages(service.get_log_events(GROUP, STREAM, next_token=idle.next_forward_token)) == LINES[3:5]


def test_without_start_from_head_the_latest_events_come_first(service: LogsService) -> None:
    _stream(service, LINES)
    page = service.get_log_events(GROUP, STREAM, limit=4)
    assert _messages(page) == LINES[-4:]
    pages = [_messages(page)]
    while True:
        older = service.get_log_events(GROUP, STREAM, next_token=page.next_backward_token, limit=4)
        if older.next_backward_token == page.next_backward_token:
            assert older.events == []
            break
        pages.insert(0, _messages(older))
        page = older
    assert [line for chunk in pages for line in chunk] == LINES


def test_a_backward_page_continues_forward_after_itself(service: LogsService) -> None:
    _stream(service, LINES)
    latest = service.get_log_events(GROUP, STREAM, limit=4)
    older = service.get_log_events(GROUP, STREAM, next_token=latest.next_backward_token, limit=4)
    after_older = service.get_log_events(GROUP, STREAM, next_token=older.next_forward_token, limit=4)
    assert _messages(after_older) == _messages(latest)


def test_the_time_range_includes_start_and_excludes_end(service: LogsService) -> None:
    _stream(service, LINES)
    forward = service.get_log_events(
        GROUP, STREAM, start_time=NOW + 5, end_time=NOW + 8, start_from_head=True
    )
    assert _messages(forward) == ["line 5", "line 6", "line 7"]
    backward = service.get_log_events(GROUP, STREAM, start_time=NOW + 5, end_time=NOW + 8)
    assert _messages(backward) == ["line 5", "line 6", "line 7"]


def test_a_page_holds_at_most_one_megabyte(service: LogsService) -> None:
    big = ["x" * 100_000 + str(i) for i in range(15)]
    _stream(service, big)
    page = service.get_log_events(GROUP, STREAM, start_from_head=True)
    assert len(page.events) == 10
    assert sum(len(e.message) + 26 for e in page.events) <= MAX_PAGE_BYTES
    rest = service.get_log_events(GROUP, STREAM, next_token=page.next_forward_token)
    assert _messages(page) + _messages(rest) == big


@pytest.mark.parametrize(
    "token", ["garbage", "f/12", "f/0000000000000000000/00000000", "x/1/abcdef01", "b/" + "9" * 30]
)
def test_garbage_tokens_are_invalid_parameters(service: LogsService, token: str) -> None:
    _stream(service, LINES)
    with pytest.raises(InvalidParameterError, match="nextToken"):
        service.get_log_events(GROUP, STREAM, next_token=token)


@pytest.mark.parametrize("limit", [0, -1, 10_001])
def test_limits_outside_cloudwatchs_range_are_refused(service: LogsService, limit: int) -> None:
    _stream(service, LINES)
    with pytest.raises(InvalidParameterError, match="limit must be between 1 and 10000"):
        service.get_log_events(GROUP, STREAM, limit=limit)
    with pytest.raises(InvalidParameterError, match="limit must be between 1 and 10000"):
        service.filter_log_events(GROUP, limit=limit)
    with pytest.raises(InvalidParameterError, match="limit must be between 1 and 50"):
        service.describe_log_streams(GROUP, limit=limit if limit != 10_001 else 51)


def test_a_token_from_another_stream_is_refused(service: LogsService) -> None:
    _stream(service, LINES)
    _stream(service, LINES, stream="job/algo-2-1700000000")
    page = service.get_log_events(GROUP, STREAM, start_from_head=True, limit=3)
    with pytest.raises(InvalidParameterError):
        service.get_log_events(GROUP, "job/algo-2-1700000000", next_token=page.next_forward_token)


def test_missing_group_and_stream(service: LogsService) -> None:
    with pytest.raises(LogResourceNotFoundError, match="log group does not exist"):
        service.get_log_events("nope", STREAM)
    _stream(service, LINES)
    with pytest.raises(LogResourceNotFoundError, match="log stream does not exist"):
        service.get_log_events(GROUP, "nope", start_from_head=True)


# --- DescribeLogStreams / DescribeLogGroups ---------------------------------------------------


def test_describe_streams_by_prefix_with_paging(service: LogsService) -> None:
    names = [f"job-{j}/algo-{i}-1700000000" for j in "ab" for i in (1, 2, 3)]
    for name in names:
        _stream(service, ["hello"], stream=name)
    first = service.describe_log_streams(GROUP, prefix="job-a/", limit=2)
    assert [s.name for s in first.streams] == names[:2]
    second = service.describe_log_streams(GROUP, prefix="job-a/", limit=2, next_token=first.next_token)
    assert [s.name for s in second.streams] == names[2:3] and second.next_token is None
    backwards = service.describe_log_streams(GROUP, descending=True)
    assert [s.name for s in backwards.streams] == names[::-1]
    info = first.streams[0]
    assert (info.first_event_timestamp, info.last_event_timestamp, info.stored_bytes > 0) == (NOW, NOW, True)


def test_describe_streams_by_last_event_time(service: LogsService) -> None:
    for name, start in (("late", NOW + 50), ("early", NOW), ("middle", NOW + 20)):
        _stream(service, ["a", "b"], stream=name, start=start)
    page = service.describe_log_streams(GROUP, order_by=StreamOrder.LAST_EVENT_TIME, descending=True, limit=2)
    assert [s.name for s in page.streams] == ["late", "middle"]
    rest = service.describe_log_streams(
        GROUP, order_by=StreamOrder.LAST_EVENT_TIME, descending=True, next_token=page.next_token
    )
    assert [s.name for s in rest.streams] == ["early"]
    with pytest.raises(
        InvalidParameterError, match="Cannot order by LastEventTime with a logStreamNamePrefix"
    ):
        service.describe_log_streams(GROUP, prefix="l", order_by=StreamOrder.LAST_EVENT_TIME)
    with pytest.raises(InvalidParameterError, match="nextToken"):
        service.describe_log_streams(GROUP, next_token=page.next_token)  # a token of the other order


def test_describe_groups(service: LogsService) -> None:
    for name in ("/aws/sagemaker/TrainingJobs", "/aws/sagemaker/Endpoints/x", "mine"):
        service.create_log_group(name)
    page = service.describe_log_groups(prefix="/aws/", limit=1)
    assert [g.name for g in page.groups] == ["/aws/sagemaker/Endpoints/x"]
    rest = service.describe_log_groups(prefix="/aws/", next_token=page.next_token)
    assert [g.name for g in rest.groups] == ["/aws/sagemaker/TrainingJobs"] and rest.next_token is None
    assert [g.name for g in service.describe_log_groups(pattern="trainingjobs").groups] == [GROUP]
    assert [g.name for g in service.describe_log_groups(groups=["mine"]).groups] == ["mine"]
    with pytest.raises(InvalidParameterError):
        service.describe_log_groups(prefix="/aws", pattern="x")
    with pytest.raises(InvalidParameterError, match="nextToken"):
        service.describe_log_groups(next_token="bm90IGEgdG9rZW4=")


def test_create_twice_and_delete(service: LogsService) -> None:
    service.create_log_group(GROUP)
    with pytest.raises(LogResourceAlreadyExistsError, match="already exists"):
        service.create_log_group(GROUP)
    service.create_log_stream(GROUP, STREAM)
    with pytest.raises(LogResourceAlreadyExistsError, match="already exists"):
        service.create_log_stream(GROUP, STREAM)
    service.delete_log_stream(GROUP, STREAM)
    with pytest.raises(LogResourceNotFoundError):
        service.delete_log_stream(GROUP, STREAM)
    service.delete_log_group(GROUP)
    with pytest.raises(LogResourceNotFoundError):
        service.delete_log_group(GROUP)


@pytest.mark.parametrize(
    ("name", "identifier", "expected"),
    [
        (GROUP, None, GROUP),
        (None, GROUP, GROUP),
        (None, f"arn:aws:logs:us-east-1:000000000000:log-group:{GROUP}", GROUP),
        (None, f"arn:aws:logs:us-east-1:000000000000:log-group:{GROUP}:*", GROUP),
    ],
)
def test_groups_are_named_by_name_or_arn(name: str | None, identifier: str | None, expected: str) -> None:
    assert LogsService.resolve_group(name, identifier) == expected


@pytest.mark.parametrize(
    ("name", "identifier"),
    [(None, None), (GROUP, GROUP), (None, "arn:aws:s3:::bucket"), (None, "arn:aws:logs:r:1:log-group:g:x")],
)
def test_bad_group_identifiers(name: str | None, identifier: str | None) -> None:
    with pytest.raises(InvalidParameterError):
        LogsService.resolve_group(name, identifier)


def test_arns(service: LogsService) -> None:
    assert service.stream_arn(GROUP, STREAM) == (
        f"arn:aws:logs:eu-west-1:000000000000:log-group:{GROUP}:log-stream:{STREAM}"
    )


# --- FilterLogEvents --------------------------------------------------------------------------


def _two_streams(service: LogsService) -> None:
    # Interleaved timestamps: the merge, not the file order, decides what comes first.
    _stream(service, ["a0 ERROR", "a1 ok", "a2 WARN", "a3 ERROR retrying"], stream="s/a", start=NOW)
    _stream(service, ["b0 ok", "b1 ERROR", "b2 WARN"], stream="s/b", start=NOW + 1)
    _stream(service, ["c0 ERROR"], stream="other", start=NOW)


def test_filter_merges_streams_in_timestamp_order(service: LogsService) -> None:
    _two_streams(service)
    page = service.filter_log_events(GROUP, stream_prefix="s/", filter_pattern="?ERROR ?WARN -retrying")
    assert [(e.stream, e.event.message) for e in page.events] == [
        ("s/a", "a0 ERROR"),
        ("s/a", "a2 WARN"),  # a tie in time goes to the stream whose name sorts first
        ("s/b", "b1 ERROR"),
        ("s/b", "b2 WARN"),
    ]
    assert page.next_token is None
    assert len({e.event_id for e in page.events}) == 4


def test_filter_pages_cover_every_match_once(service: LogsService) -> None:
    _two_streams(service)
    everything = service.filter_log_events(GROUP).events
    for forward in (True, False):
        seen, token = [], None
        while True:
            page = service.filter_log_events(GROUP, limit=2, next_token=token, start_from_head=forward)
            seen += page.events
            if page.next_token is None:
                break
            token = page.next_token
        assert seen == (everything if forward else everything[::-1])
    assert [e.event.timestamp for e in everything] == sorted(e.event.timestamp for e in everything)
    assert [e.event_id for e in everything] == [e.event_id for e in service.filter_log_events(GROUP).events]


@settings(max_examples=40, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(["s1", "s2", "s3"]), st.lists(st.integers(0, 20), max_size=12), min_size=1
    ),
    st.integers(1, 5),
    st.booleans(),
)
def test_filter_paging_returns_every_event_once_in_any_layout(
    streams: dict[str, list[int]], limit: int, forward: bool
) -> None:
    with tempfile.TemporaryDirectory() as folder, pytest.MonkeyPatch.context() as patch:
        # Tiny batches, so that cursors refill (reopen their stream) in the middle of pages.
        patch.setattr(merge, "BATCH_EVENTS", 2)
        service = LogsService(LocalLogStore(Path(folder), clock=Clock()), clock=Clock())
        service.create_log_group(GROUP)
        for name, offsets in streams.items():
            service.create_log_stream(GROUP, name)
            # One batch per event, so a stream may hold its events out of time order.
            for index, offset in enumerate(offsets):
                service.put_log_events(GROUP, name, [InputLogEvent(NOW + offset, f"{name}-{index}")])
        whole = service.filter_log_events(GROUP, start_from_head=forward).events
        paged, token = [], None
        while True:
            page = service.filter_log_events(GROUP, limit=limit, next_token=token, start_from_head=forward)
            assert page.events or page.next_token is None
            paged += page.events
            if page.next_token is None:
                break
            token = page.next_token
    assert paged == whole
    assert sorted(e.event.message for e in whole) == sorted(
        f"{name}-{index}" for name, offsets in streams.items() for index in range(len(offsets))
    )


class CountingStore(LocalLogStore):
    """Counts the streams being read at the same time."""

    reading = 0
    most_at_once = 0

    def read_forward(self, group: str, stream: str, position: int = 0) -> Iterator[LogEvent]:
        events = super().read_forward(group, stream, position)

        def counted() -> Iterator[LogEvent]:
            self.reading += 1
            self.most_at_once = max(self.most_at_once, self.reading)
            try:
                yield from events
            finally:
                self.reading -= 1

        return counted()


def test_a_search_over_many_streams_reads_one_at_a_time(tmp_path: Path, clock: Clock) -> None:
    store = CountingStore(tmp_path / "logs", clock=clock)
    service = LogsService(store, clock=clock)
    for index in range(150):
        with store.open_writer(GROUP, f"job-{index:03d}/algo-1-1700000000") as writer:
            for line in range(3):
                writer.write(f"stream {index} line {line}", timestamp_ms=NOW + line)
    page = service.filter_log_events(GROUP, filter_pattern="line", limit=200)
    assert len(page.events) == 200 and page.next_token is not None
    rest = service.filter_log_events(GROUP, filter_pattern="line", next_token=page.next_token)
    assert len(rest.events) == 250 and rest.next_token is None
    assert store.most_at_once == 1


def test_filter_by_names_and_time(service: LogsService) -> None:
    _two_streams(service)
    page = service.filter_log_events(
        GROUP, stream_names=["s/b", "other"], start_time=NOW + 1, end_time=NOW + 2
    )
    assert [e.event.message for e in page.events] == ["b0 ok", "b1 ERROR"]  # endTime is inclusive here


def test_filter_refusals(service: LogsService) -> None:
    _two_streams(service)
    with pytest.raises(InvalidParameterError, match="not both"):
        service.filter_log_events(GROUP, stream_names=["s/a"], stream_prefix="s/")
    with pytest.raises(InvalidParameterError, match="JSON filter patterns"):
        service.filter_log_events(GROUP, filter_pattern='{ $.level = "error" }')
    with pytest.raises(InvalidParameterError, match="nextToken"):
        service.filter_log_events(
            GROUP, next_token="eJyrVkpRslJKU9JRKlCyqlbKyk_ST8xJz9c11DU0MlayMjYzr60FALSwCeM"
        )
    with pytest.raises(LogResourceNotFoundError, match="log stream does not exist"):
        service.filter_log_events(GROUP, stream_names=["s/a", "missing"])
    with pytest.raises(LogResourceNotFoundError, match="log group does not exist"):
        service.filter_log_events("missing")


# --- PutLogEvents -----------------------------------------------------------------------------


def _created(service: LogsService) -> None:
    service.create_log_group(GROUP)
    service.create_log_stream(GROUP, STREAM)


def test_put_then_read_back(service: LogsService, clock: Clock) -> None:
    _created(service)
    result = service.put_log_events(
        GROUP, STREAM, [InputLogEvent(NOW - 5, "one"), InputLogEvent(NOW, "two\nlines")]
    )
    assert result.too_new_start_index is None and result.too_old_end_index is None
    page = service.get_log_events(GROUP, STREAM, start_from_head=True)
    assert [(e.timestamp, e.message, e.ingestion_time) for e in page.events] == [
        (NOW - 5, "one", NOW),
        (NOW, "two\nlines", NOW),
    ]


def test_too_old_and_too_new_events_are_skipped_and_reported(service: LogsService) -> None:
    _created(service)
    events = [
        InputLogEvent(NOW - MAX_AGE_MS - 1, "too old"),
        InputLogEvent(NOW, "fine"),
        InputLogEvent(NOW + MAX_FUTURE_MS + 1, "too new"),
    ]
    result = service.put_log_events(GROUP, STREAM, events)
    assert (result.too_old_end_index, result.too_new_start_index) == (1, 2)
    assert _messages(service.get_log_events(GROUP, STREAM)) == ["fine"]


@pytest.mark.parametrize(
    ("events", "message"),
    [
        ([InputLogEvent(NOW, "b"), InputLogEvent(NOW - 1, "a")], "chronological order"),
        ([InputLogEvent(NOW - 25 * 3600 * 1000, "a"), InputLogEvent(NOW, "b")], "span more than 24 hours"),
        ([InputLogEvent(NOW, "x" * 1_048_551)], "Log event too large"),
        ([InputLogEvent(NOW, "x" * 600_000), InputLogEvent(NOW, "y" * 600_000)], "Upload too large"),
        ([], "at least one"),
    ],
)
def test_batches_that_break_the_rules_are_refused(
    service: LogsService, events: list[InputLogEvent], message: str
) -> None:
    _created(service)
    with pytest.raises(InvalidParameterError, match=message):
        service.put_log_events(GROUP, STREAM, events)
    assert service.get_log_events(GROUP, STREAM).events == []


def test_put_to_a_missing_stream(service: LogsService) -> None:
    with pytest.raises(LogResourceNotFoundError, match="log group does not exist"):
        service.put_log_events("nope", STREAM, [InputLogEvent(NOW, "x")])
    service.create_log_group(GROUP)
    with pytest.raises(LogResourceNotFoundError, match="log stream does not exist"):
        service.put_log_events(GROUP, STREAM, [InputLogEvent(NOW + MAX_FUTURE_MS + 1, "rejected anyway")])
