"""Bad input fails an XGBoost job with a client error that says what is wrong, never a traceback."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from opensage.algorithms.base import ChannelInput, TrainingEnvironment
from opensage.algorithms.xgboost import XGBoostAlgorithm
from opensage.errors import AlgorithmClientError
from opensage.formats.record_pb2 import Record
from opensage.formats.recordio import write_dense, write_recordio

EnvFactory = Callable[..., TrainingEnvironment]
ROWS = "".join(f"{i % 2},{i}.5,{i * 2}\n" for i in range(20))


def failure(env: TrainingEnvironment) -> str:
    with pytest.raises(AlgorithmClientError) as caught:
        XGBoostAlgorithm().train(env)
    return str(caught.value)


def csv_job(
    make_env: EnvFactory, files: dict[str, str], hyperparameters: dict[str, str] | None = None
) -> TrainingEnvironment:
    channels = {name.split("/")[0]: "text/csv" for name in files}
    env = make_env(hyperparameters or {"num_round": "2", "objective": "binary:logistic"}, channels)
    for name, text in files.items():
        channel, _, relative = name.partition("/")
        path = env.channels[channel].path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return env


def test_a_non_numeric_cell_names_the_file_and_line(make_env: EnvFactory) -> None:
    text = "".join(ROWS.splitlines(keepends=True)[:16]) + "0,abc,3\n" + ROWS
    env = csv_job(make_env, {"train/part-1.csv": ROWS, "train/more/part-2.csv": text})
    assert failure(env) == (
        "Non-numeric value 'abc' in more/part-2.csv line 17 column 2; CSV input must be numeric with the "
        "label in the first column and no header"
    )


def test_an_empty_channel(make_env: EnvFactory) -> None:
    env = csv_job(make_env, {"train/empty.csv": ""})
    assert failure(env) == "Channel 'train' has no data"
    assert failure(make_env({"num_round": "2"})) == "Channel 'train' has no data"


def test_an_empty_validation_channel(make_env: EnvFactory) -> None:
    env = make_env({"num_round": "2"}, {"train": "text/csv", "validation": "text/csv"})
    (env.channels["train"].path / "t.csv").write_text(ROWS)
    assert failure(env) == "Channel 'validation' has no data"


@pytest.mark.parametrize(
    ("hyperparameters", "rows", "message"),
    [
        (
            {"objective": "binary:logistic"},
            "0,1\n1,2\n2,3\n",
            "train.csv row 3 has label 2; objective binary:logistic needs labels in [0, 1]",
        ),
        (
            {"objective": "multi:softmax", "num_class": "3"},
            "0,1\n2,2\n3,3\n",
            "train.csv row 3 has label 3; objective multi:softmax needs labels that are class indices 0 to 2",
        ),
        (
            {"objective": "multi:softprob", "num_class": "3"},
            "0,1\n1.5,2\n",
            "train.csv row 2 has label 1.5; objective multi:softprob needs labels that are class indices",
        ),
        (
            {"objective": "reg:gamma"},
            "1,1\n0,2\n",
            "train.csv row 2 has label 0; objective reg:gamma needs labels > 0",
        ),
        (
            {"objective": "count:poisson"},
            "1,1\n-1,2\n",
            "row 2 has label -1; objective count:poisson needs labels >= 0",
        ),
        ({}, "1,1\n,2\n", "train.csv row 2 has no valid label (nan); every row needs a numeric label"),
    ],
)
def test_labels_outside_the_objectives_domain(
    make_env: EnvFactory, hyperparameters: dict[str, str], rows: str, message: str
) -> None:
    env = csv_job(make_env, {"train/train.csv": rows}, {"num_round": "2", **hyperparameters})
    assert message in failure(env)


def test_rows_with_differing_column_counts(make_env: EnvFactory) -> None:
    env = csv_job(make_env, {"train/train.csv": "1,2,3\n0,4\n"})
    assert failure(env) == (
        "train.csv line 2 has 2 columns where the first row has 3; every row must have the same number of "
        "columns"
    )


def test_files_with_differing_column_counts(make_env: EnvFactory) -> None:
    env = csv_job(make_env, {"train/a.csv": "1,2,3\n", "train/b.csv": "1,2\n"})
    assert failure(env) == (
        "Channel 'train': b.csv has 1 feature columns but a.csv has 2; every file must have the same columns"
    )


def test_train_and_validation_with_differing_columns(make_env: EnvFactory) -> None:
    env = csv_job(make_env, {"train/t.csv": "1,2,3\n", "validation/v.csv": "1,2\n"})
    assert (
        failure(env)
        == "Channel 'validation' has 1 feature columns but 'train' has 2; both must have the same columns"
    )


def test_a_label_without_features(make_env: EnvFactory) -> None:
    env = csv_job(make_env, {"train/t.csv": "1\n0\n"})
    assert failure(env) == "t.csv has 1 column(s); CSV input needs a label and at least one feature column"


def test_csv_weights_need_valid_weights(make_env: EnvFactory) -> None:
    env = csv_job(make_env, {"train/t.csv": "1,0.5,3\n0,-1,4\n"}, {"num_round": "2", "csv_weights": "1"})
    assert failure(env) == "t.csv row 2 has weight -1.0; weights must be numbers >= 0"


@pytest.mark.parametrize(
    ("content_type", "message"),
    [
        (
            "application/json",
            "Channel 'train': content type 'application/json' is not supported; XGBoost reads text/csv, "
            "text/libsvm",
        ),
        ("text/csv; label_size=0", "Channel 'train': label_size=0 is not supported; XGBoost needs the label"),
    ],
)
def test_unsupported_content_types(make_env: EnvFactory, content_type: str, message: str) -> None:
    env = make_env({"num_round": "2"}, {"train": content_type})
    (env.channels["train"].path / "t.csv").write_text(ROWS)
    assert failure(env).startswith(message)


def test_libsvm_in_pipe_mode(make_env: EnvFactory, tmp_path: Path) -> None:
    channel = ChannelInput("train", tmp_path / "pipe", "text/libsvm", input_mode="Pipe")
    env = make_env({"num_round": "2"}, channels={})
    env = TrainingEnvironment(**{**env.__dict__, "channels": {"train": channel}})
    assert "Pipe mode does not support libsvm" in failure(env)


def test_unknown_and_missing_channels(make_env: EnvFactory) -> None:
    env = make_env({"num_round": "2"}, {"train": "text/csv", "test": "text/csv"})
    assert failure(env) == "Unknown channel(s) 'test'; XGBoost takes 'train' (required) and 'validation'"
    env = make_env({"num_round": "2"}, {"validation": "text/csv"})
    assert failure(env) == "XGBoost needs a 'train' channel"


def test_bad_hyperparameters_fail_before_any_data_is_read(make_env: EnvFactory) -> None:
    env = make_env({"num_round": "2", "max_dept": "3"}, {"train": "text/csv"})
    assert failure(env) == "unknown hyperparameter 'max_dept'; did you mean 'max_depth'?"


def test_a_tuning_objective_on_validation_needs_that_channel(make_env: EnvFactory) -> None:
    env = csv_job(
        make_env,
        {"train/t.csv": ROWS},
        {"num_round": "2", "objective": "binary:logistic", "_tuning_objective_metric": "validation:auc"},
    )
    assert (
        failure(env)
        == "The tuning objective validation:auc needs a 'validation' channel, and this job has none"
    )


def test_libsvm_errors_name_the_line(make_env: EnvFactory) -> None:
    env = make_env({"num_round": "2"}, {"train": "text/libsvm"})
    (env.channels["train"].path / "train.libsvm").write_text("1 0:1\n0 1:2\n1 3;4\n")
    assert failure(env).startswith("Expected an index:value pair in train.libsvm line 3: '3;4'")


def test_csv_without_a_content_type_is_read_as_libsvm_and_says_so(make_env: EnvFactory) -> None:
    env = make_env({"num_round": "2"}, {"train": None})
    (env.channels["train"].path / "train.csv").write_text(ROWS)
    message = failure(env)
    assert message.startswith("Invalid label in train.csv line 1: '0,0.5,0'")
    assert message.endswith(
        "The channel has no ContentType, so it is read as libsvm (SageMaker's default); for CSV, set "
        "ContentType to text/csv"
    )


def test_recordio_without_labels(make_env: EnvFactory) -> None:
    env = make_env({"num_round": "2"}, {"train": "application/x-recordio-protobuf"})
    with (env.channels["train"].path / "train.rec").open("wb") as stream:
        write_dense(stream, np.ones((3, 2), dtype=np.float32))
    assert (
        failure(env) == 'train.rec: records have no label["values"]; XGBoost needs a label for every record'
    )


def test_recordio_that_is_not_recordio(make_env: EnvFactory) -> None:
    env = make_env({"num_round": "2"}, {"train": "application/x-recordio-protobuf"})
    (env.channels["train"].path / "train.csv").write_text(ROWS)
    assert "Invalid RecordIO in train.csv at record 0 (byte 0): bad magic word" in failure(env)


def test_recordio_with_vector_labels(make_env: EnvFactory) -> None:
    env = make_env({"num_round": "2"}, {"train": "application/x-recordio-protobuf"})
    record = Record()
    record.features["values"].float32_tensor.values.extend([1, 2])
    record.label["values"].float32_tensor.values.extend([0, 1])
    with (env.channels["train"].path / "train.rec").open("wb") as stream:
        write_recordio(stream, record.SerializeToString())
    assert failure(env) == "train.rec: records hold 2 label values; XGBoost needs one"


def test_parquet_with_a_string_column(make_env: EnvFactory) -> None:
    env = make_env({"num_round": "2"}, {"train": "application/x-parquet"})
    pq.write_table(pa.table({"y": [1.0, 0.0], "name": ["a", "b"]}), env.channels["train"].path / "t.parquet")
    assert failure(env).startswith("Column 2 ('name') of t.parquet has type string")


def test_xgboost_refusing_a_parameter_is_a_client_error(make_env: EnvFactory) -> None:
    env = csv_job(make_env, {"train/t.csv": ROWS}, {"num_round": "2", "max_bin": "1"})
    assert failure(env).startswith(
        "XGBoost rejected the hyperparameters or data: value 1 for Parameter max_bin"
    )
