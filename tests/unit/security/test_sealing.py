from __future__ import annotations

import stat
from pathlib import Path

import pytest

from opensage.errors import SealingError
from opensage.security.sealing import Sealer


def test_sealed_secrets_open_with_the_same_home_and_context(tmp_path: Path) -> None:
    sealer = Sealer(tmp_path / "secrets")
    sealed = sealer.seal(b"wJalrXUtnFEMI", "AKIAEXAMPLE")
    assert b"wJalrXUtnFEMI" not in sealed
    assert Sealer(tmp_path / "secrets").open(sealed, "AKIAEXAMPLE") == b"wJalrXUtnFEMI"
    assert sealer.seal(b"same", "c") != sealer.seal(b"same", "c")  # a fresh nonce each time


def test_the_master_key_is_private(tmp_path: Path) -> None:
    sealer = Sealer(tmp_path / "secrets")
    sealer.seal(b"x", "c")
    assert stat.S_IMODE(sealer.key_path.stat().st_mode) == 0o600
    assert stat.S_IMODE(sealer.key_path.parent.stat().st_mode) == 0o700


def test_another_context_another_home_or_damage_do_not_open(tmp_path: Path) -> None:
    sealed = Sealer(tmp_path / "a").seal(b"secret", "key-1")
    with pytest.raises(SealingError, match="does not open"):
        Sealer(tmp_path / "a").open(sealed, "key-2")
    with pytest.raises(SealingError, match="does not open"):
        Sealer(tmp_path / "b").open(sealed, "key-1")
    with pytest.raises(SealingError, match="damaged"):
        Sealer(tmp_path / "a").open(sealed[:10], "key-1")
