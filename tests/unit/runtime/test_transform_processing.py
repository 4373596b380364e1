"""DataProcessing (InputFilter, JoinSource, OutputFilter) and AssembleWith on CSV and JSON Lines records."""

from __future__ import annotations

import json

import pytest

from opensage.errors import AlgorithmClientError
from opensage.runtime.transform.assembly import assemble_records, assemble_response
from opensage.runtime.transform.jsonpath import ROOT, parse_json_path
from opensage.runtime.transform.processing import DataProcessing, RecordFormat, record_format


def processing(
    fmt: RecordFormat | None, input_filter: str = "$", output_filter: str = "$", join: bool = False
) -> DataProcessing:
    return DataProcessing(parse_json_path(input_filter), parse_json_path(output_filter), join, fmt)


def test_content_types_map_to_record_formats() -> None:
    assert record_format("text/csv; charset=utf-8") == RecordFormat.CSV
    assert record_format("application/jsonlines") == RecordFormat.JSON
    assert record_format("application/JSON") == RecordFormat.JSON
    assert record_format("application/x-recordio-protobuf") is None
    assert record_format(None) is None


def test_an_input_filter_drops_the_id_column_of_a_csv_row() -> None:
    assert processing(RecordFormat.CSV, "$[1:]").filter_input(b"id-1,0.5,3") == b"0.5,3"
    assert processing(RecordFormat.CSV, "$[0,2]").filter_input(b'"a,b",1,2') == b'"a,b",2'


def test_an_input_filter_selects_a_json_field() -> None:
    dp = processing(RecordFormat.JSON, "$.features")
    assert dp.filter_input(b'{"id":1,"features":[1.5,2]}') == b"[1.5,2]"


def test_csv_join_appends_output_columns_to_input_columns() -> None:
    dp = processing(RecordFormat.CSV, "$[1:]", join=True)
    finished = dp.finish([b"id-1,0.5,3", b"id-2,0.7,4"], b"0.25\n0.75\n", "text/csv")
    assert finished == [b"id-1,0.5,3,0.25", b"id-2,0.7,4,0.75"]


def test_csv_join_then_output_filter_keeps_id_and_prediction() -> None:
    dp = processing(RecordFormat.CSV, "$[1:]", "$[0,-1]", join=True)
    assert dp.finish([b"id-1,0.5,3"], b"0.25\n", "text/csv") == [b"id-1,0.25"]


def test_json_lines_join_puts_the_output_under_sagemaker_output() -> None:
    dp = processing(RecordFormat.JSON, "$.features", join=True)
    response = b'{"score":0.25}\n{"score":0.75}\n'
    finished = dp.finish(
        [b'{"id":1,"features":[1]}', b'{"id":2,"features":[2]}'], response, "application/jsonlines"
    )
    assert [json.loads(r) for r in finished] == [
        {"id": 1, "features": [1], "SageMakerOutput": {"score": 0.25}},
        {"id": 2, "features": [2], "SageMakerOutput": {"score": 0.75}},
    ]


def test_a_json_input_that_is_not_an_object_goes_under_sagemaker_input() -> None:
    dp = processing(RecordFormat.JSON, join=True)
    assert json.loads(dp.finish([b"[1,2]"], b"0.5", "text/csv")[0]) == {
        "SageMakerInput": [1, 2],
        "SageMakerOutput": 0.5,
    }


def test_output_filter_on_joined_json_keeps_named_keys() -> None:
    dp = processing(RecordFormat.JSON, output_filter="$['id','SageMakerOutput']", join=True)
    assert json.loads(dp.finish([b'{"id":3,"x":[1]}'], b'{"score":1}', "application/json")[0]) == {
        "id": 3,
        "SageMakerOutput": {"score": 1},
    }


def test_output_filter_without_join_filters_the_models_output() -> None:
    dp = processing(RecordFormat.CSV, output_filter="$[0]")
    assert dp.finish([b"1", b"2"], b"0.1,0.9\n0.8,0.2\n", "text/csv") == [b"0.1", b"0.8"]


def test_one_output_line_per_record_is_required_to_join() -> None:
    dp = processing(RecordFormat.CSV, join=True)
    with pytest.raises(AlgorithmClientError, match="answered 1 line\\(s\\) for a request of 2 records"):
        dp.finish([b"1", b"2"], b'{"predictions":[1,2]}', "application/json")


def test_output_formats_dataprocessing_cannot_read_fail_clearly() -> None:
    dp = DataProcessing(ROOT, parse_json_path("$[0]"), False, None)
    with pytest.raises(AlgorithmClientError, match="application/x-recordio-protobuf"):
        dp.finish([b"x"], b"\x00\x01", "application/x-recordio-protobuf")


def test_records_that_are_not_json_fail_clearly() -> None:
    with pytest.raises(AlgorithmClientError, match="not valid JSON"):
        processing(RecordFormat.JSON, "$.a").filter_input(b"{oops")


def test_assemble_with_line_ends_each_response_or_record_with_one_newline() -> None:
    assert assemble_response(b"0.1\n0.2\n", by_line=True) == b"0.1\n0.2\n"
    assert assemble_response(b'{"predictions":[]}', by_line=True) == b'{"predictions":[]}\n'
    assert assemble_records([b"a,1", b"b,2"], by_line=True) == b"a,1\nb,2\n"


def test_assemble_with_none_concatenates_as_is() -> None:
    assert assemble_response(b'{"predictions":[]}', by_line=False) == b'{"predictions":[]}'
    assert assemble_records([b"{}", b"[]"], by_line=False) == b"{}[]"
