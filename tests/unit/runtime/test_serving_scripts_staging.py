"""Preparing a model server for inference code: where the code comes from, /opt/ml, the process environment."""

from __future__ import annotations

import io
import os
import tarfile
from pathlib import Path

import pytest

from opensage.errors import ValidationError
from opensage.objects.local_objects import LocalObjectStore
from opensage.runtime.serving import staging
from opensage.runtime.serving.spec import ContainerSpec, ServeSpec
from opensage.runtime.serving.staging import Staging, code_source, mounted_paths, process_environment
from opensage.runtime.usercode import optml


def test_the_code_comes_from_the_model_unless_an_s3_archive_is_named() -> None:
    assert code_source({}) == staging.CodeSource(None, None, "code")
    sdk_v2 = code_source({"SAGEMAKER_PROGRAM": "serve", "SAGEMAKER_SUBMIT_DIRECTORY": "s3://b/code.tar.gz"})
    assert sdk_v2 == staging.CodeSource("serve.py", "s3://b/code.tar.gz", "code")
    repacked = code_source({"SAGEMAKER_SUBMIT_DIRECTORY": "/opt/ml/model/code", "SAGEMAKER_PROGRAM": "a.py"})
    assert repacked == staging.CodeSource("a.py", None, "code")
    assert code_source({"SAGEMAKER_SUBMIT_DIRECTORY": "/opt/ml/model/src/"}).model_folder == "src"


@pytest.mark.parametrize(
    "environment",
    [
        {"SAGEMAKER_SUBMIT_DIRECTORY": "file:///home/me/code"},
        {"SAGEMAKER_SUBMIT_DIRECTORY": "/opt/ml/code"},
        {"SAGEMAKER_SUBMIT_DIRECTORY": "s3://"},
        {"SAGEMAKER_PROGRAM": "../escape.py"},
        {"SAGEMAKER_PROGRAM": "/abs/inference.py"},
    ],
)
def test_code_opensage_cannot_reach_is_refused(environment: dict[str, str]) -> None:
    with pytest.raises(ValidationError):
        code_source(environment)


def make_model(folder: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    return folder


def context(tmp_path: Path) -> tuple[Staging, list[str]]:
    said: list[str] = []
    store = LocalObjectStore(tmp_path / "objects")
    return Staging(store, tmp_path / "cache", None, said.append), said


def test_the_xgboost_image_runs_a_script_only_when_one_is_given(tmp_path: Path) -> None:
    plain = make_model(tmp_path / "plain", {"xgboost-model": ""})
    scripted = make_model(tmp_path / "scripted", {"xgboost-model": "", "code/inference.py": ""})
    stage, _ = context(tmp_path)
    spec = ServeSpec(
        "x",
        [
            ContainerSpec("xgboost", str(plain), framework="xgboost"),
            ContainerSpec("xgboost", str(scripted), framework="xgboost"),
            ContainerSpec("xgboost", str(plain), {"SAGEMAKER_PROGRAM": "serve.py"}, framework="xgboost"),
        ],
    )
    staged = staging.stage_scripts(spec, tmp_path / "run", stage)
    scripts = [container.script for container in staged.containers]
    assert scripts[0] is None
    assert scripts[1] is not None and scripts[1].program == "inference.py" and not scripts[1].named
    assert scripts[2] is not None and scripts[2].program == "serve.py" and scripts[2].named
    # Two scripts in one process: no /opt/ml, each sees its real folders.
    assert staged.optml_root is None


def test_an_s3_code_archive_is_unpacked_and_shown_at_opt_ml_model_code(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(optml, "available", lambda: True)
    stage, _ = context(tmp_path)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        data = b"def model_fn(model_dir):\n    return None\n"
        info = tarfile.TarInfo("serve.py")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    stage.store.create_bucket("code", "us-east-1")
    stage.store.put_bytes("code", "src/sourcedir.tar.gz", buffer.getvalue())
    model = make_model(tmp_path / "model", {"model.joblib": "m", "code/stale.py": ""})
    environment = {
        "SAGEMAKER_PROGRAM": "serve.py",
        "SAGEMAKER_SUBMIT_DIRECTORY": "s3://code/src/sourcedir.tar.gz",
    }
    spec = ServeSpec("x", [ContainerSpec("", str(model), environment, framework="sklearn")])

    staged = staging.stage_scripts(spec, tmp_path / "run", stage)
    script = staged.containers[0].script
    assert script is not None and (Path(script.code_dir) / "serve.py").is_file()
    assert staged.optml_root == str(tmp_path / "run" / "opt-ml")
    view = Path(staged.optml_root) / "model"
    assert sorted(p.name for p in view.iterdir()) == ["code", "model.joblib"]
    assert (view / "code" / "serve.py").is_file() and (view / "model.joblib").read_text() == "m"
    assert mounted_paths(model, Path(script.code_dir)) == (Path("/opt/ml/model"), Path("/opt/ml/model/code"))
    assert mounted_paths(model, model / "code") == (Path("/opt/ml/model"), Path("/opt/ml/model/code"))


def test_a_missing_code_archive_names_the_variable(tmp_path: Path) -> None:
    stage, _ = context(tmp_path)
    stage.store.create_bucket("code", "us-east-1")
    model = make_model(tmp_path / "model", {"model.joblib": ""})
    environment = {"SAGEMAKER_SUBMIT_DIRECTORY": "s3://code/missing.tar.gz"}
    spec = ServeSpec("x", [ContainerSpec("", str(model), environment, framework="sklearn")])
    with pytest.raises(ValidationError, match=r"SAGEMAKER_SUBMIT_DIRECTORY s3://code/missing\.tar\.gz"):
        staging.stage_scripts(spec, tmp_path / "run", stage)


def test_requirements_without_an_environments_cache_are_reported_not_installed(tmp_path: Path) -> None:
    stage, said = context(tmp_path)
    model = make_model(tmp_path / "model", {"code/inference.py": "", "code/requirements.txt": "tomli\n"})
    spec = ServeSpec("x", [ContainerSpec("", str(model), framework="sklearn")])
    staged = staging.stage_scripts(spec, tmp_path / "run", stage)
    assert staged.site_dirs == [] and "requirements.txt is not installed" in said[0]


def test_only_a_server_running_users_code_gets_its_own_environment(tmp_path: Path) -> None:
    builtin = ServeSpec("x", [ContainerSpec("xgboost", str(tmp_path))])
    assert process_environment(builtin, tmp_path) is None
    stage, _ = context(tmp_path)
    model = make_model(tmp_path / "model", {"code/inference.py": ""})
    spec = ServeSpec("x", [ContainerSpec("", str(model), {"MY_SETTING": "on"}, framework="sklearn")])
    staged = staging.stage_scripts(spec, tmp_path / "run", stage)
    staged = ServeSpec(staged.name, staged.containers, site_dirs=[str(tmp_path / "site")])
    environment = process_environment(staged, tmp_path / "run")
    assert environment is not None and environment["MY_SETTING"] == "on"
    assert environment["PYTHONPATH"].split(os.pathsep)[0] == str(tmp_path / "site")
    assert environment["PIP_PREFIX"] == str(tmp_path / "run" / "pip")
