"""The local log store: groups, streams, writers and readers sharing files across processes."""

from __future__ import annotations

import multiprocessing
import os
from pathlib import Path

import pytest

from opensage.errors import LogResourceNotFoundError, ValidationError
from opensage.logstore import InputLogEvent, LogStore, open_log_store
from opensage.logstore.local_logs import MAX_MESSAGE_BYTES, LocalLogStore
from opensage.logstore.names import encode_name

GROUP = "/aws/sagemaker/TrainingJobs"
STREAM = "my-job/algo-1-1700000000"


class Clock:
    """A clock that the test moves, one millisecond per reading."""

    def __init__(self, start: int = 1_700_000_000_000) -> None:
        self.now = start

    def __call__(self) -> int:
        self.now += 1
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(tmp_path: Path, clock: Clock) -> LocalLogStore:
    return LocalLogStore(tmp_path / "logs", clock=clock)


def _messages(store: LogStore, group: str = GROUP, stream: str = STREAM) -> list[str]:
    return [event.message for event in store.read_forward(group, stream)]


def _write_lines(root: str, stream: str, count: int, width: int) -> None:
    """Runs in a child process: the job runner's side."""
    with open_log_store(Path(root)).open_writer(GROUP, stream) as writer:
        for index in range(count):
            writer.write(f"{stream} {index:06d} " + "x" * width + "\n")


def test_open_log_store_gives_a_store_under_the_root(tmp_path: Path) -> None:
    store = open_log_store(tmp_path / "logs")
    assert isinstance(store, LogStore)
    with store.open_writer(GROUP, STREAM) as writer:
        writer.write("hello")
    assert (tmp_path / "logs").is_dir()
    assert _messages(store) == ["hello"]


def test_one_write_is_one_event(store: LocalLogStore) -> None:
    with store.open_writer(GROUP, STREAM) as writer:
        writer.write("epoch 1 loss 0.5\n", timestamp_ms=1000)
        writer.write("Traceback:\n  line 1\n  line 2\n", timestamp_ms=1001)
        writer.write("windows line\r\n", timestamp_ms=1002)
        writer.write("\n")  # a blank line: CloudWatch has no empty events
        writer.write("no newline", timestamp_ms=1003)
    events = list(store.read_forward(GROUP, STREAM))
    assert [e.message for e in events] == [
        "epoch 1 loss 0.5",
        "Traceback:\n  line 1\n  line 2",
        "windows line",
        "no newline",
    ]
    assert [e.timestamp for e in events] == [1000, 1001, 1002, 1003]


def test_a_write_without_timestamp_is_stamped_now(store: LocalLogStore, clock: Clock) -> None:
    with store.open_writer(GROUP, STREAM) as writer:
        writer.write("now")
    (event,) = store.read_forward(GROUP, STREAM)
    assert event.timestamp == event.ingestion_time == clock.now


def test_overlong_messages_are_cut_to_the_largest_event(store: LocalLogStore) -> None:
    with store.open_writer(GROUP, STREAM) as writer:
        writer.write("é" * MAX_MESSAGE_BYTES)
    (event,) = store.read_forward(GROUP, STREAM)
    assert len(event.message.encode()) <= MAX_MESSAGE_BYTES
    assert set(event.message) == {"é"}


def test_a_negative_timestamp_is_refused(store: LocalLogStore) -> None:
    with store.open_writer(GROUP, STREAM) as writer, pytest.raises(ValueError, match="milliseconds"):
        writer.write("when?", timestamp_ms=-1)


def test_damaged_metadata_reads_as_missing(store: LocalLogStore) -> None:
    with store.open_writer(GROUP, STREAM) as writer:
        writer.write("x")
    next(store.root.rglob("group.json")).write_bytes(b"{not json")
    with pytest.raises(LogResourceNotFoundError):
        store.group_info(GROUP)


def test_a_closed_writer_refuses_writes_and_closes_once(store: LocalLogStore) -> None:
    writer = store.open_writer(GROUP, STREAM)
    writer.write("one")
    writer.flush()
    writer.close()
    writer.close()
    with pytest.raises(ValueError, match="closed"):
        writer.write("two")
    assert _messages(store) == ["one"]


def test_the_writer_creates_group_and_stream_once(store: LocalLogStore) -> None:
    with store.open_writer(GROUP, STREAM) as writer:
        writer.write("first")
    with store.open_writer(GROUP, STREAM) as writer:
        writer.write("second")
    assert store.list_groups() == [GROUP]
    assert store.list_streams(GROUP) == [STREAM]
    assert _messages(store) == ["first", "second"]


def test_a_trailing_partial_record_is_invisible_and_does_not_swallow_the_next(store: LocalLogStore) -> None:
    with store.open_writer(GROUP, STREAM) as writer:
        writer.write("whole", timestamp_ms=5)
    events_file = next((store.root).rglob("*.log"))
    with open(events_file, "ab") as file:
        file.write(b'1700000000000 1700000000000 "a crashed writer was here')
    assert _messages(store) == ["whole"]
    assert store.stream_info(GROUP, STREAM).last_event_timestamp == 5
    # A writer started after the crash must not glue its record to the leftovers.
    with store.open_writer(GROUP, STREAM) as writer:
        writer.write("after the crash")
    store.put_events(GROUP, STREAM, [InputLogEvent(9, "put after the crash")])
    assert _messages(store) == ["whole", "after the crash", "put after the crash"]


def test_put_events_after_leftovers_starts_a_new_record(store: LocalLogStore) -> None:
    store.create_group(GROUP)
    store.create_stream(GROUP, STREAM)
    store.put_events(GROUP, STREAM, [InputLogEvent(1, "a")])
    events_file = next((store.root).rglob("*.log"))
    with open(events_file, "ab") as file:
        file.write(b"17000")
    store.put_events(GROUP, STREAM, [InputLogEvent(2, "b"), InputLogEvent(3, "c")])
    assert _messages(store) == ["a", "b", "c"]


def test_a_reader_sees_whole_events_while_other_processes_write(tmp_path: Path) -> None:
    root = tmp_path / "logs"
    store = open_log_store(root)
    context = multiprocessing.get_context("spawn")
    # Records larger than PIPE_BUF, from two writers at once, on the same stream and another.
    writers = [
        context.Process(target=_write_lines, args=(str(root), name, 400, 6000))
        for name in (STREAM, STREAM, "my-job/algo-2-1700000000")
    ]
    for process in writers:
        process.start()
    seen_while_running: list[str] = []
    while any(process.is_alive() for process in writers):
        if store.stream_exists(GROUP, STREAM):
            seen_while_running = _messages(store)
            assert all(m.startswith(STREAM) and m.endswith(" " + "x" * 6000) for m in seen_while_running)
    for process in writers:
        process.join()
        assert process.exitcode == 0
    final = _messages(store)
    assert len(final) == 800 and final[: len(seen_while_running)] == seen_while_running
    assert sorted(final) == sorted(f"{STREAM} {i:06d} " + "x" * 6000 for i in range(400) for _ in (1, 2))
    assert len(_messages(store, GROUP, "my-job/algo-2-1700000000")) == 400


def test_groups_and_streams_are_created_listed_and_deleted(store: LocalLogStore) -> None:
    assert store.create_group("b/group") is True
    assert store.create_group("b/group") is False
    store.create_group("a/group")
    store.create_group("other")
    assert store.list_groups() == ["a/group", "b/group", "other"]
    assert store.list_groups("b/") == ["b/group"]
    assert store.create_stream("a/group", "s1") is True
    assert store.create_stream("a/group", "s1") is False
    store.create_stream("a/group", "s2")
    store.create_stream("a/group", "t1")
    assert store.list_streams("a/group", "s") == ["s1", "s2"]
    store.delete_stream("a/group", "s1")
    assert store.list_streams("a/group") == ["s2", "t1"]
    (store.root / ".trash" / "left-by-a-crash").mkdir(parents=True)
    store.delete_group("a/group")
    assert store.list_groups() == ["b/group", "other"]
    assert not store.group_exists("a/group")
    assert list((store.root / ".trash").iterdir()) == []


def test_a_recreated_stream_starts_empty(store: LocalLogStore) -> None:
    with store.open_writer(GROUP, STREAM) as writer:
        writer.write("old")
    store.delete_stream(GROUP, STREAM)
    store.create_stream(GROUP, STREAM)
    assert _messages(store) == []


def test_a_stream_recreated_after_a_raced_write_does_not_inherit_it(store: LocalLogStore) -> None:
    writer = store.open_writer(GROUP, STREAM)
    store.delete_stream(GROUP, STREAM)
    # The job runner's writer may recreate the events file after the stream was deleted.
    events_file = next(store.root.rglob("*.lock")).parent / (encode_name(STREAM) + ".log")
    writer.close()
    events_file.write_bytes(b'1 1 "orphan"\n')
    store.create_stream(GROUP, STREAM)
    assert _messages(store) == []


@pytest.mark.parametrize(
    "name", ["../../escape", "..", ".", "a/../../b", "x:y[0]$z", "CamelCase", "camelcase", "名前", "n" * 600]
)
def test_any_name_stays_inside_the_root_and_lists_back(tmp_path: Path, name: str) -> None:
    root = tmp_path / "logs"
    store = open_log_store(root)
    with store.open_writer(name, name) as writer:
        writer.write("inside")
    assert store.list_groups() == [name]
    assert store.list_streams(name) == [name]
    assert _messages(store, name, name) == ["inside"]
    assert all(path.resolve().is_relative_to(root.resolve()) for path in tmp_path.rglob("*"))
    assert {path.name for path in tmp_path.iterdir()} == {"logs"}


def test_names_that_differ_by_case_are_different_streams(store: LocalLogStore) -> None:
    for stream in ("Job", "job"):
        with store.open_writer(GROUP, stream) as writer:
            writer.write(stream)
    assert store.list_streams(GROUP) == ["Job", "job"]
    assert _messages(store, GROUP, "Job") == ["Job"]


def test_empty_names_are_refused(store: LocalLogStore) -> None:
    with pytest.raises(ValidationError, match="must not be empty"):
        store.create_group("")


def test_stream_info_is_read_from_the_events(store: LocalLogStore, clock: Clock) -> None:
    store.create_group(GROUP)
    store.create_stream(GROUP, STREAM)
    created = clock.now
    empty = store.stream_info(GROUP, STREAM)
    assert (empty.creation_time, empty.first_event_timestamp, empty.stored_bytes) == (created, None, 0)
    store.put_events(GROUP, STREAM, [InputLogEvent(100, "a"), InputLogEvent(200, "b")])
    ingested = clock.now
    store.put_events(GROUP, STREAM, [InputLogEvent(300, "c")])
    info = store.stream_info(GROUP, STREAM)
    assert (info.first_event_timestamp, info.last_event_timestamp) == (100, 300)
    assert info.last_ingestion_time == ingested + 1
    events_file = next(store.root.rglob("*.log"))
    assert info.stored_bytes == events_file.stat().st_size > 0
    assert store.group_info(GROUP).stored_bytes == info.stored_bytes


def test_reads_resume_from_event_positions(store: LocalLogStore) -> None:
    store.create_group(GROUP)
    store.create_stream(GROUP, STREAM)
    store.put_events(GROUP, STREAM, [InputLogEvent(i, f"m{i}") for i in range(5)])
    events = list(store.read_forward(GROUP, STREAM))
    assert [e.message for e in store.read_forward(GROUP, STREAM, events[2].position)] == ["m2", "m3", "m4"]
    assert [e.message for e in store.read_backward(GROUP, STREAM)] == ["m4", "m3", "m2", "m1", "m0"]
    assert [e.message for e in store.read_backward(GROUP, STREAM, events[1].next_position)] == ["m1", "m0"]
    assert store.end_position(GROUP, STREAM) == events[-1].next_position


def test_missing_groups_and_streams_are_reported_as_cloudwatch_does(store: LocalLogStore) -> None:
    with pytest.raises(LogResourceNotFoundError, match=r"^The specified log group does not exist\.$"):
        store.read_forward("nope", STREAM)
    with pytest.raises(LogResourceNotFoundError, match="log group does not exist"):
        store.create_stream("nope", STREAM)
    with pytest.raises(LogResourceNotFoundError, match="log group does not exist"):
        store.delete_group("nope")
    store.create_group(GROUP)
    with pytest.raises(LogResourceNotFoundError, match=r"^The specified log stream does not exist\.$"):
        store.put_events(GROUP, "nope", [InputLogEvent(1, "x")])
    with pytest.raises(LogResourceNotFoundError, match="log stream does not exist"):
        store.stream_info(GROUP, "nope")
    with pytest.raises(LogResourceNotFoundError, match="log stream does not exist"):
        store.delete_stream(GROUP, "nope")
    assert store.list_groups("nope") == []


def test_a_store_whose_root_does_not_exist_yet_is_empty(tmp_path: Path) -> None:
    store = open_log_store(tmp_path / "not-yet")
    assert store.list_groups() == []
    assert not os.path.exists(tmp_path / "not-yet")
