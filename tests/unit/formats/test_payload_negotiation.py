"""Content-Type and Accept negotiation: parameters, wildcards, q-values, lists, defaults."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from opensage.formats.negotiation import choose_accept, media_type

SUPPORTED = ("application/json", "application/jsonlines", "application/x-recordio-protobuf", "text/csv")


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("", None),
        ("text/csv", "text/csv"),
        ("Text/CSV; charset=utf-8", "text/csv"),
        (" application/json ;verbose", "application/json"),
    ],
)
def test_media_type_drops_parameters_and_case(header: str | None, expected: str | None) -> None:
    assert media_type(header) == expected


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, "application/json"),
        ("", "application/json"),
        ("*/*", "application/json"),
        ("text/csv", "text/csv"),
        ("TEXT/CSV; charset=utf-8", "text/csv"),
        ("text/html, application/jsonlines", "application/jsonlines"),
        ("text/csv;q=0.5, application/x-recordio-protobuf", "application/x-recordio-protobuf"),
        ("text/csv;q=0.5, application/json;q=0.9", "application/json"),
        ("text/csv, application/json", "text/csv"),
        ("text/csv;q=0, */*;q=0.1", "application/json"),
        ("text/*", "text/csv"),
        ("application/*", "application/json"),
        ("text/html;q=abc, text/csv", "text/csv"),
        ("text/html", None),
        ("text/csv;q=0", None),
        ("image/*", None),
    ],
)
def test_accept_picks_the_first_supported_by_weight(header: str | None, expected: str | None) -> None:
    assert choose_accept(header, SUPPORTED, "application/json") == expected


def test_a_wildcard_family_prefers_the_default() -> None:
    assert choose_accept("application/*", SUPPORTED, "application/x-recordio-protobuf") == (
        "application/x-recordio-protobuf"
    )


@given(st.text(max_size=60))
def test_any_header_gives_a_supported_type_or_none(header: str) -> None:
    assert choose_accept(header, SUPPORTED, "text/csv") in (*SUPPORTED, None)
    chosen = media_type(header)
    assert chosen is None or chosen == chosen.strip().lower()
