"""Which server ``connect()`` talks to: the URL given, the running one recorded in server.json, or the default."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from opensage.sdk import ServerUnavailableError, Session, _connect, connect


@pytest.fixture(autouse=True)
def _default_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OPENSAGE_HOST", "OPENSAGE_PORT", "OPENSAGE_REGION"):
        monkeypatch.delenv(name, raising=False)


def serving(monkeypatch: pytest.MonkeyPatch, *urls: str) -> list[str]:
    """Pretend servers answer at ``urls`` only; returns the URLs probed."""
    probed: list[str] = []

    def answers(url: str) -> bool:
        probed.append(url)
        return url in urls

    monkeypatch.setattr(_connect, "answers", answers)
    return probed


def record(home: Path, url: str) -> None:
    (home / "server.json").write_text(json.dumps({"url": url, "pid": 1, "home": str(home)}))


def test_a_given_url_is_used_as_it_is(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    serving(monkeypatch, "http://10.0.0.5:9000/")
    session = connect("http://10.0.0.5:9000/", home=tmp_path, region="eu-west-1")
    assert isinstance(session, Session)
    assert (session.endpoint_url, session.region) == ("http://10.0.0.5:9000", "eu-west-1")


def test_without_a_url_the_recorded_running_server_is_used(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    record(tmp_path, "http://127.0.0.1:45678")
    serving(monkeypatch, "http://127.0.0.1:45678")
    session = connect(home=tmp_path)
    assert session.endpoint_url == "http://127.0.0.1:45678"
    assert session.region == "us-east-1"


def test_a_recorded_server_that_is_gone_gives_way_to_the_default(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    record(tmp_path, "http://127.0.0.1:45678")
    probed = serving(monkeypatch, "http://127.0.0.1:8080")
    assert connect(home=tmp_path).endpoint_url == "http://127.0.0.1:8080"
    assert probed == ["http://127.0.0.1:45678", "http://127.0.0.1:8080"]


def test_the_default_url_follows_the_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("OPENSAGE_PORT", "9123")
    monkeypatch.setenv("OPENSAGE_REGION", "ap-south-1")
    serving(monkeypatch, "http://127.0.0.1:9123")
    session = connect(home=tmp_path)
    assert (session.endpoint_url, session.region) == ("http://127.0.0.1:9123", "ap-south-1")


def test_nothing_answering_is_reported_with_the_url(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "server.json").write_text("not json")
    serving(monkeypatch)
    with pytest.raises(
        ServerUnavailableError, match=r"No opensage server answers at http://127\.0\.0\.1:8080"
    ):
        connect(home=tmp_path)


def test_the_health_probe_sees_no_server_on_a_closed_port() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    assert not _connect.answers(f"http://127.0.0.1:{port}")
    assert not _connect.answers("not a url")


def test_a_url_and_local_together_are_refused() -> None:
    with pytest.raises(ValueError, match="not both"):
        connect("http://127.0.0.1:8080", local=True)
