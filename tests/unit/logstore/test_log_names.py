"""Group and stream names become safe, reversible, case-insensitively distinct file names."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from opensage.logstore.names import MAX_FILE_NAME, decode_name, encode_name, is_hashed

# Any code point, lone surrogates included: a job's output can carry anything.
any_char = st.one_of(st.characters(), st.characters(categories=["Cs"]))
names = st.text(alphabet=any_char, min_size=1, max_size=600)
SAFE_FILE_NAME = re.compile(r"[a-z0-9_%~-]+")


@given(names)
def test_encoded_names_are_single_safe_path_components(name: str) -> None:
    encoded = encode_name(name)
    assert SAFE_FILE_NAME.fullmatch(encoded)
    assert len(encoded) <= MAX_FILE_NAME
    assert encoded not in (".", "..") and not encoded.startswith(".")


@given(names)
def test_short_names_round_trip(name: str) -> None:
    encoded = encode_name(name)
    assert decode_name(encoded) == (None if is_hashed(encoded) else name)


@given(names, names)
def test_distinct_names_get_distinct_file_names_even_ignoring_case(first: str, second: str) -> None:
    if first != second:
        assert encode_name(first).lower() != encode_name(second).lower()


@pytest.mark.parametrize(
    ("name", "encoded"),
    [
        ("/aws/sagemaker/TrainingJobs", "%2faws%2fsagemaker%2f%54raining%4aobs"),
        ("job-1/algo-1-1700000000", "job-1%2falgo-1-1700000000"),
        ("a:b[c]$d", "a%3ab%5bc%5d%24d"),
        ("..", "%2e%2e"),
        ("é", "%c3%a9"),
    ],
)
def test_examples(name: str, encoded: str) -> None:
    assert encode_name(name) == encoded
    assert decode_name(encoded) == name


def test_names_differing_only_in_case_stay_apart() -> None:
    assert encode_name("Job").lower() != encode_name("job").lower()


def test_long_names_are_shortened_with_a_digest() -> None:
    long_name = "x" * 300
    encoded = encode_name(long_name)
    assert is_hashed(encoded) and len(encoded) <= MAX_FILE_NAME
    assert encode_name(long_name + "y") != encoded
    assert decode_name(encoded) is None


@pytest.mark.parametrize("foreign", ["", "ABC", "%zz", "%2F", ".lock", "a~b"])
def test_file_names_we_did_not_make_decode_to_nothing(foreign: str) -> None:
    assert decode_name(foreign) is None


def test_empty_names_are_refused() -> None:
    with pytest.raises(ValueError, match="must not be empty"):
        encode_name("")
