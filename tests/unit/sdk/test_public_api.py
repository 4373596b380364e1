"""The SDK's public surface: exactly what ``__all__`` lists, reachable from ``opensage``, cheap to import."""

from __future__ import annotations

import subprocess
import sys

import pytest

import opensage
import opensage.sdk as sdk


def test_all_is_exactly_the_public_surface() -> None:
    public = sorted(name for name in vars(sdk) if not name.startswith("_"))
    assert sdk.__all__ == public


def test_public_names_claim_the_package_as_their_module() -> None:
    for name in sdk.__all__:
        assert getattr(sdk, name).__module__ == "opensage.sdk", name


def test_opensage_reexports_the_sdk_lazily() -> None:
    assert sorted(opensage.__all__) == sorted(["__version__", *sdk.__all__])
    for name in sdk.__all__:
        assert getattr(opensage, name) is getattr(sdk, name)
    assert set(sdk.__all__) <= set(dir(opensage))


def test_unknown_attributes_still_raise_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no_such_thing"):
        getattr(opensage, "no_such_thing")  # noqa: B009


def test_importing_opensage_and_the_sdk_loads_no_heavy_dependency() -> None:
    code = (
        "import sys, opensage, opensage.sdk\n"
        "opensage.connect, opensage.Session\n"
        "heavy = ['boto3', 'botocore', 'numpy', 'pandas', 'rich', 'uvicorn', 'pydantic', 'xgboost']\n"
        "print(','.join(name for name in heavy if name in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""
