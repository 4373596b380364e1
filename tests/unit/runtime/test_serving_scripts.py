"""Loading an inference script: the handler chain, the framework defaults, contexts and load errors."""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

import pytest

from opensage.errors import InferenceError
from opensage.runtime.serving.scripts import ScriptLoadError, ScriptPredictor, load_script
from opensage.runtime.serving.spec import ScriptSpec

# A "model" the scripts build without any framework: it predicts the sum of each row.
SUM_MODEL = """
class SumModel:
    def predict(self, rows):
        return rows.sum(axis=1)


def model_fn(model_dir):
    return SumModel()
"""


def load(
    tmp_path: Path,
    script: str | None,
    *,
    framework: str = "sklearn",
    program: str = "inference.py",
    named: bool = False,
    environment: dict[str, str] | None = None,
    files: dict[str, str] | None = None,
) -> ScriptPredictor:
    code = tmp_path / "model" / "code"
    code.mkdir(parents=True, exist_ok=True)
    if script is not None:
        (code / program).write_text(textwrap.dedent(script))
    for name, text in (files or {}).items():
        (code / name).write_text(textwrap.dedent(text))
    spec = ScriptSpec(framework, program, str(code), named)
    return load_script(spec, tmp_path / "model", code, environment or {})


def test_model_fn_alone_gets_the_frameworks_defaults(tmp_path: Path) -> None:
    predictor = load(tmp_path, SUM_MODEL)
    answer = predictor.predict(b"[[1, 2], [3, 4]]", "application/json", None)
    assert answer.content_type == "application/json"
    assert json.loads(answer.body) == [3.0, 7.0]
    as_csv = predictor.predict(b"1,2\n3,4\n", "text/csv", "text/csv")
    assert (as_csv.body, as_csv.content_type) == (b"3.0\n7.0\n", "text/csv")


def test_the_default_accept_comes_from_the_environment(tmp_path: Path) -> None:
    predictor = load(tmp_path, SUM_MODEL, environment={"SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT": "text/csv"})
    for accept in (None, "*/*"):
        assert predictor.predict(b"[[1, 2]]", "application/json", accept).content_type == "text/csv"


def test_the_chain_sees_text_bodies_as_str_and_others_as_bytes(tmp_path: Path) -> None:
    script = (
        SUM_MODEL
        + """
def input_fn(request_body, request_content_type):
    return type(request_body).__name__, request_content_type


def predict_fn(input_data, model):
    return input_data


def output_fn(prediction, accept):
    return "|".join([*prediction, accept])
"""
    )
    predictor = load(tmp_path, script)
    assert (
        predictor.predict(b"[1]", "application/json", None).body == b"str|application/json|application/json"
    )
    csv = predictor.predict(b"1\n", "text/csv; charset=utf-8", "text/csv")
    assert csv.body == b"str|text/csv; charset=utf-8|text/csv"
    assert (
        predictor.predict(b"\x00", "application/x-npy", "image/png").body
        == b"bytes|application/x-npy|image/png"
    )


def test_functions_taking_one_more_argument_get_the_context(tmp_path: Path) -> None:
    script = """
SEEN = {}


def model_fn(model_dir, context):
    SEEN["model_fn"] = context.system_properties["model_dir"] == model_dir
    return "model"


def transform_fn(model, request_body, content_type, accept, context):
    return f"{model}:{request_body}:{context.model_dir.endswith('model')}:{SEEN['model_fn']}", "text/plain"
"""
    answer = load(tmp_path, script).predict(b"abc", "text/csv", "text/plain")
    assert (answer.body, answer.content_type) == (b"model:abc:True:True", "text/plain")


def test_transform_fn_beside_the_three_others_is_refused(tmp_path: Path) -> None:
    script = (
        SUM_MODEL
        + """
def transform_fn(model, body, content_type, accept):
    return body


def predict_fn(data, model):
    return data
"""
    )
    with pytest.raises(ScriptLoadError, match="defines transform_fn and predict_fn"):
        load(tmp_path, script)


def test_a_function_with_the_wrong_arguments_is_refused_at_load(tmp_path: Path) -> None:
    script = SUM_MODEL + "\ndef input_fn(body):\n    return body\n"
    with pytest.raises(ScriptLoadError, match=r"input_fn in inference.py takes 1 argument\(s\)"):
        load(tmp_path, script)


def test_scikit_learn_needs_a_model_fn(tmp_path: Path) -> None:
    with pytest.raises(ScriptLoadError, match="defines no model_fn, and the scikit-learn container"):
        load(tmp_path, "def predict_fn(data, model):\n    return data\n")
    with pytest.raises(ScriptLoadError, match=r"there is no inference script inference\.py"):
        load(tmp_path / "none", None)


def test_a_named_program_must_exist(tmp_path: Path) -> None:
    with pytest.raises(ScriptLoadError, match=r"entry point serve\.py"):
        load(tmp_path, None, program="serve.py", named=True)


def test_import_and_model_fn_errors_name_the_problem(tmp_path: Path) -> None:
    with pytest.raises(ScriptLoadError, match=r"Could not import inference\.py: ModuleNotFoundError"):
        load(tmp_path / "a", "import no_such_module_here\n")
    with pytest.raises(ScriptLoadError, match="model_fn failed: OSError: no weights"):
        load(tmp_path / "b", "def model_fn(model_dir):\n    raise OSError('no weights')\n")


def test_the_code_folder_is_importable_and_each_script_is_its_own_module(tmp_path: Path) -> None:
    helper = {"helpers.py": "FACTOR = 10\n"}
    script = (
        SUM_MODEL
        + """
from helpers import FACTOR


def predict_fn(data, model):
    return model.predict(data) * FACTOR
"""
    )
    first = load(tmp_path / "one", script, files=helper)
    second = load(tmp_path / "two", SUM_MODEL)
    assert json.loads(first.predict(b"[[1, 2]]", "application/json", None).body) == [30.0]
    assert json.loads(second.predict(b"[[1, 2]]", "application/json", None).body) == [3.0]
    assert str(tmp_path / "one" / "model" / "code") in sys.path


def test_what_output_fn_returns_must_be_a_body(tmp_path: Path) -> None:
    script = SUM_MODEL + "\ndef output_fn(prediction, accept):\n    return {'a': 1}\n"
    with pytest.raises(InferenceError, match="output_fn returned a dict") as raised:
        load(tmp_path, script).predict(b"[[1]]", "application/json", None)
    assert raised.value.status_code == 500


def test_a_default_decoder_refusal_keeps_its_status(tmp_path: Path) -> None:
    predictor = load(tmp_path, SUM_MODEL)
    with pytest.raises(InferenceError) as unsupported:
        predictor.predict(b"<a/>", "application/xml", None)
    assert unsupported.value.status_code == 415
    with pytest.raises(InferenceError) as unacceptable:
        predictor.predict(b"[[1]]", "application/json", "image/png")
    assert unacceptable.value.status_code == 406


def test_the_response_type_is_one_header_value(tmp_path: Path) -> None:
    script = SUM_MODEL + "\ndef output_fn(prediction, accept):\n    return b'ok'\n"
    predictor = load(tmp_path / "a", script)
    assert (
        predictor.predict(b"[[1]]", "application/json", "text/x-a;q=0.5, text/x-b").content_type == "text/x-a"
    )
    assert predictor.predict(b"[[1]]", "application/json", "text/x-a; charset=utf-8").content_type == (
        "text/x-a; charset=utf-8"
    )
    injected = (
        SUM_MODEL + "\ndef output_fn(prediction, accept):\n    return b'ok', 'text/plain\\r\\nx-evil: 1'\n"
    )
    with pytest.raises(InferenceError, match="not a header value") as raised:
        load(tmp_path / "b", injected).predict(b"[[1]]", "application/json", None)
    assert raised.value.status_code == 500
