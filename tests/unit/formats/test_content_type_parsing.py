"""Content types with parameters, as channels and requests carry them."""

from __future__ import annotations

import pytest

from opensage.formats.content_type import ContentType, parse_content_type


@pytest.mark.parametrize(
    ("raw", "media_type", "parameters"),
    [
        ("text/csv", "text/csv", {}),
        ("text/csv; label_size=1", "text/csv", {"label_size": "1"}),
        ("TEXT/CSV;charset=utf-8", "text/csv", {"charset": "utf-8"}),
        ('text/csv; Label_Size="0" ; charset=UTF-8', "text/csv", {"label_size": "0", "charset": "UTF-8"}),
        ("application/x-recordio-protobuf;", "application/x-recordio-protobuf", {}),
        ("text/csv; flag", "text/csv", {}),
    ],
)
def test_parses_media_type_and_parameters(raw: str, media_type: str, parameters: dict[str, str]) -> None:
    parsed = parse_content_type(raw)
    assert parsed == ContentType(media_type, parameters)


def test_renders_back_to_a_content_type() -> None:
    assert str(parse_content_type("text/csv; label_size=1")) == "text/csv;label_size=1"
