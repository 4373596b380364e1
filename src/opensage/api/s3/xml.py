"""S3 XML documents: building responses in S3's namespace and parsing request bodies safely."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from datetime import datetime

from opensage.errors import MalformedXML

S3_NAMESPACE = "http://s3.amazonaws.com/doc/2006-03-01/"
_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'
# Entity expansion ("billion laughs") and external entities both need a DTD; S3 bodies never have one.
_DTD = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)

Element = ET.Element


def document(root_tag: str, namespaced: bool = True) -> ET.Element:
    """A response root; children added with ``add`` share its default namespace."""
    root = ET.Element(root_tag)
    if namespaced:
        root.set("xmlns", S3_NAMESPACE)
    return root


def add(parent: ET.Element, tag: str, text: str | int | bool | None = None) -> ET.Element:
    child = ET.SubElement(parent, tag)
    if isinstance(text, bool):
        child.text = "true" if text else "false"
    elif text is not None:
        child.text = str(text)
    return child


def add_all(parent: ET.Element, fields: Iterable[tuple[str, str | int | bool | None]]) -> None:
    """Add a child per (tag, value), skipping values that are None."""
    for tag, value in fields:
        if value is not None:
            add(parent, tag, value)


def to_bytes(root: ET.Element) -> bytes:
    body: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=False)
    return _DECLARATION + body


def iso_timestamp(moment: datetime) -> str:
    """S3's timestamp in XML: ``2009-10-12T17:50:30.000Z``."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse(body: bytes, expected_root: str) -> ET.Element:
    """Parse a request body whose root must be ``expected_root`` (namespace optional)."""
    if _DTD.search(body):
        raise MalformedXML("The XML you provided has a document type declaration, which S3 does not accept.")
    try:
        root = ET.fromstring(body)
    except ET.ParseError as exc:
        raise MalformedXML(
            "The XML you provided was not well-formed or did not validate against our published schema."
        ) from exc
    if local_name(root.tag) != expected_root:
        raise MalformedXML(
            f"The XML you provided has root element {local_name(root.tag)!r}, not {expected_root!r}."
        )
    return root


def local_name(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def children(parent: ET.Element, name: str) -> list[ET.Element]:
    return [child for child in parent if local_name(child.tag) == name]


def child_text(parent: ET.Element, name: str) -> str | None:
    found = children(parent, name)
    return None if not found else (found[0].text or "")
