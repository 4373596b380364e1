"""The admin key's credentials file, and which key a client of a home signs with.

Kept apart from the key store (``security.keys``) so that clients — opensage's SDK and CLI —
read their credentials without importing the metadata store.
"""

from __future__ import annotations

import configparser
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

CREDENTIALS_FILE = "credentials"
CREDENTIALS_PROFILE = "opensage"


@dataclass(frozen=True)
class Credentials:
    access_key_id: str
    secret_access_key: str


def write_credentials_file(path: Path, credentials: Credentials) -> None:
    """``path`` as an AWS credentials file with profile ``opensage``, 0600 from its first byte."""
    parser = configparser.ConfigParser()
    parser[CREDENTIALS_PROFILE] = {
        "aws_access_key_id": credentials.access_key_id,
        "aws_secret_access_key": credentials.secret_access_key,
    }
    partial = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        parser.write(out)
        out.flush()
        os.fsync(out.fileno())
    partial.replace(path)


def read_credentials_file(path: Path) -> Credentials | None:
    """The ``opensage`` profile of a credentials file, or None if there is none."""
    parser = configparser.ConfigParser()
    try:
        parser.read_string(path.read_text())
    except (FileNotFoundError, configparser.Error):
        return None
    if not parser.has_section(CREDENTIALS_PROFILE):
        return None
    section = parser[CREDENTIALS_PROFILE]
    key_id, secret = section.get("aws_access_key_id"), section.get("aws_secret_access_key")
    return Credentials(key_id, secret) if key_id and secret else None


def client_credentials(home: Path, environ: Mapping[str, str]) -> Credentials | None:
    """The key a client of this home signs with: AWS_ACCESS_KEY_ID/SECRET, else ``<home>/credentials``.

    None means neither is there; boto3's own chain (profiles, ~/.aws) is then the last resort.
    """
    key_id, secret = environ.get("AWS_ACCESS_KEY_ID"), environ.get("AWS_SECRET_ACCESS_KEY")
    if key_id and secret:
        return Credentials(key_id, secret)
    return read_credentials_file(home / CREDENTIALS_FILE)
