"""DataProcessing: InputFilter before the model, JoinSource and OutputFilter after it, record by record.

As SageMaker documents it: a CSV record is the array of its fields and a JSON record its
parsed value. InputFilter selects what is sent to the model. JoinSource Input joins each
original input record with the model's output for it — CSV: the input's fields followed
by the output's; JSON: the output under ``SageMakerOutput`` in the input object (an input
that is not an object goes under ``SageMakerInput`` of a new one). OutputFilter then
selects what is written. Joining needs the model's answer split per record, so a batch's
response must hold one line per record (CSV or JSON Lines), or the batch a single record.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from opensage.errors import AlgorithmClientError
from opensage.formats.negotiation import media_type
from opensage.runtime.transform.jsonpath import JsonPath

OUTPUT_KEY = "SageMakerOutput"
INPUT_KEY = "SageMakerInput"
_INTEGER = re.compile(r"-?[0-9]{1,18}")


class RecordFormat(StrEnum):
    CSV = "text/csv"
    JSON = "application/json"


_FORMATS = {
    "text/csv": RecordFormat.CSV,
    "application/json": RecordFormat.JSON,
    "application/jsonlines": RecordFormat.JSON,
    "application/json-lines": RecordFormat.JSON,
    "application/x-jsonlines": RecordFormat.JSON,
}


def record_format(content_type: str | None) -> RecordFormat | None:
    """CSV or JSON for the content types DataProcessing works on; None for any other."""
    kind = media_type(content_type)
    return None if kind is None else _FORMATS.get(kind)


@dataclass(frozen=True)
class DataProcessing:
    input_filter: JsonPath
    output_filter: JsonPath
    join_input: bool
    # The input's format; None only when every filter is $ and nothing is joined.
    input_format: RecordFormat | None

    @property
    def filters_input(self) -> bool:
        return not self.input_filter.is_root()

    @property
    def changes_output(self) -> bool:
        return self.join_input or not self.output_filter.is_root()

    def filter_input(self, data: bytes) -> bytes:
        """The part of an input record the model gets."""
        fmt = self._input_format()
        return encode(self.input_filter.select(decode(data, fmt)), fmt)

    def finish(self, inputs: Sequence[bytes], response: bytes, response_type: str | None) -> list[bytes]:
        """The records to write for a batch: each output joined and filtered, in input order."""
        output_format = record_format(response_type) or self.input_format
        if output_format is None:
            raise AlgorithmClientError(
                f"The model answered {response_type or 'without a Content-Type'}; JoinSource and "
                "OutputFilter work on text/csv, application/json and application/jsonlines outputs"
            )
        outputs = split_outputs(response, len(inputs))
        finished = []
        for data, output in zip(inputs, outputs, strict=True):
            value = decode(output, output_format)
            result_format = output_format
            if self.join_input:
                result_format = self._input_format()
                if result_format == RecordFormat.JSON and output_format == RecordFormat.CSV:
                    value = _csv_as_json(value)
                value = join(decode(data, result_format), value, result_format)
            finished.append(encode(self.output_filter.select(value), result_format))
        return finished

    def _input_format(self) -> RecordFormat:
        if self.input_format is None:
            raise AlgorithmClientError(
                "InputFilter and JoinSource need the input's ContentType to be text/csv, "
                "application/json or application/jsonlines"
            )
        return self.input_format


def split_outputs(response: bytes, count: int) -> list[bytes]:
    """The model's answer for each of ``count`` records: the whole body for one, else its lines."""
    if count == 1:
        return [response.rstrip(b"\r\n")]
    lines = [line.rstrip(b"\r") for line in response.split(b"\n")]
    lines = [line for line in lines if line.strip()]
    if len(lines) != count:
        raise AlgorithmClientError(
            f"The model answered {len(lines)} line(s) for a request of {count} records; JoinSource and "
            "OutputFilter need one output line per record: use an Accept of text/csv or "
            "application/jsonlines, or BatchStrategy SingleRecord"
        )
    return lines


def join(record: Any, output: Any, fmt: RecordFormat) -> Any:
    if fmt == RecordFormat.CSV:
        fields = output if isinstance(output, list) else [output]
        return [*record, *fields]
    if isinstance(record, dict):
        return {**record, OUTPUT_KEY: output}
    return {INPUT_KEY: record, OUTPUT_KEY: output}


def decode(data: bytes, fmt: RecordFormat) -> Any:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise AlgorithmClientError(f"the record is not UTF-8 text (byte {exc.start})") from exc
    if fmt == RecordFormat.CSV:
        return next(csv.reader([text.rstrip("\r\n")]), [])
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise AlgorithmClientError(f"the record is not valid JSON: {exc.msg} at column {exc.colno}") from exc


def encode(value: Any, fmt: RecordFormat) -> bytes:
    if fmt == RecordFormat.JSON:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
    fields = value if isinstance(value, list) else [value]
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="").writerow([_cell(field) for field in fields])
    return buffer.getvalue().encode()


def _csv_as_json(fields: list[str]) -> Any:
    """A CSV answer inside a JSON record: numbers as numbers, one field as a value, more as an array."""
    values = [_number_or_text(field) for field in fields]
    return values[0] if len(values) == 1 else values


def _number_or_text(field: str) -> Any:
    try:
        number = float(field)
    except ValueError:
        return field
    if not math.isfinite(number):
        return field
    return int(number) if _INTEGER.fullmatch(field.strip()) else number


def _cell(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
