"""CloudWatch's basic text filter patterns, and a clear refusal of the kinds opensage does not evaluate."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from opensage.logstore.patterns import (
    FilterPattern,
    FilterPatternError,
    UnsupportedFilterPattern,
    parse_filter_pattern,
)


@pytest.mark.parametrize(
    ("pattern", "message", "expected"),
    [
        ("", "anything", True),
        ('""', "anything", True),
        ("ERROR", "[ERROR] disk full", True),
        ("ERROR", "[error] disk full", False),  # case-sensitive, as CloudWatch is
        ("ERROR Exception", "ERROR: Exception raised", True),
        ("ERROR Exception", "ERROR only", False),
        ('"Failed to connect"', "Failed to connect to host", True),
        ('"Failed to connect"', "Failed to quickly connect", False),
        ("?ERROR ?WARN", "WARN low memory", True),
        ("?ERROR ?WARN", "INFO all good", False),
        ("ERROR -Retrying", "ERROR timeout", True),
        ("ERROR -Retrying", "ERROR timeout. Retrying", False),
        ("-DEBUG", "INFO started", True),
        ("-DEBUG", "DEBUG noise", False),
        ('-"health check"', "GET /ping health check", False),
        ('?"out of memory" ?OOM', "CUDA out of memory", True),
        (r'"say \"hi\""', 'they say "hi" here', True),
        ("loss ?epoch ?step -nan", "epoch 3 loss 0.25", True),
        ("loss ?epoch ?step -nan", "epoch 3 loss nan", False),
        ("loss ?epoch ?step -nan", "loss 0.25", False),
        ("train_loss=", "#011train_loss=0.5", True),
    ],
)
def test_basic_patterns_match_as_cloudwatch_documents(pattern: str, message: str, expected: bool) -> None:
    assert parse_filter_pattern(pattern).matches(message) is expected


def test_parsed_terms() -> None:
    expected = FilterPattern(required=("a", "b c"), any_of=("d",), excluded=("e", "f g"))
    assert parse_filter_pattern('  a "b c"  ?d -e -"f g" ') == expected
    assert parse_filter_pattern(None).matches_everything
    assert parse_filter_pattern("").matches_everything


@pytest.mark.parametrize(
    ("pattern", "kind"),
    [
        ('{ $.level = "error" }', "JSON"),
        ("  {$.latency > 100}", "JSON"),
        ("[ip, user, status_code=4*]", "Space-delimited"),
        ("%ERROR|WARN%", "Regular-expression"),
        ("ERROR %[0-9]+%", "Regular-expression"),
    ],
)
def test_other_pattern_kinds_are_refused_by_name(pattern: str, kind: str) -> None:
    with pytest.raises(UnsupportedFilterPattern, match=kind):
        parse_filter_pattern(pattern)


@pytest.mark.parametrize("pattern", ['"unterminated', 'ERROR "also', "? ERROR", "ERROR - x"])
def test_malformed_patterns_are_refused(pattern: str) -> None:
    with pytest.raises(FilterPatternError):
        parse_filter_pattern(pattern)


@given(st.text(max_size=60), st.text(max_size=60))
def test_any_text_parses_or_is_refused_cleanly(pattern: str, message: str) -> None:
    try:
        parsed = parse_filter_pattern(pattern)
    except FilterPatternError:
        return
    assert isinstance(parsed.matches(message), bool)


unquoted_terms = st.text(alphabet=st.characters(exclude_characters='"\\'), min_size=1)


@given(st.lists(unquoted_terms, min_size=1, max_size=4))
def test_a_message_made_of_the_quoted_terms_matches_them(terms: list[str]) -> None:
    pattern = " ".join(f'"{term}"' for term in terms)
    assert parse_filter_pattern(pattern).matches(" ".join(terms))
