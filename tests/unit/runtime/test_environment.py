"""The SM_* environment and /opt/ml-style config files a job host gets."""

from __future__ import annotations

import json
from pathlib import Path

from opensage.runtime.environment import HostEnvironment
from opensage.runtime.layout import HostLayout


def make_environment(root: Path) -> HostEnvironment:
    return HostEnvironment(
        layout=HostLayout(root),
        job_name="job-1",
        job_arn="arn:aws:sagemaker:us-east-1:000000000000:training-job/job-1",
        hyperparameters={"epochs": "10", "lr": "0.1", "name": '"resnet"', "flag": "true", "plain": "text"},
        input_data_config={
            "train": {"TrainingInputMode": "File"},
            "validation": {"TrainingInputMode": "File"},
        },
        hosts=["algo-1", "algo-2"],
        current_host="algo-2",
        instance_type="ml.m5.xlarge",
        num_cpus=4,
        master_port=4567,
        user_environment={"MY_SETTING": "x", "SM_NUM_CPUS": "999"},
    )


def test_sm_variables_follow_the_training_toolkit(tmp_path: Path) -> None:
    variables = make_environment(tmp_path).variables()
    assert variables["SM_MODEL_DIR"] == str(tmp_path / "model")
    assert variables["SM_CHANNEL_TRAIN"] == str(tmp_path / "input" / "data" / "train")
    assert json.loads(variables["SM_CHANNELS"]) == ["train", "validation"]
    assert json.loads(variables["SM_HPS"]) == {
        "epochs": 10,
        "lr": 0.1,
        "name": "resnet",
        "flag": True,
        "plain": "text",
    }
    assert variables["SM_HP_EPOCHS"] == "10" and variables["SM_HP_NAME"] == "resnet"
    assert json.loads(variables["SM_USER_ARGS"]) == [
        "--epochs",
        "10",
        "--flag",
        "true",
        "--lr",
        "0.1",
        "--name",
        "resnet",
        "--plain",
        "text",
    ]
    assert (
        json.loads(variables["SM_HOSTS"]) == ["algo-1", "algo-2"] and variables["SM_CURRENT_HOST"] == "algo-2"
    )
    assert variables["TRAINING_JOB_NAME"] == "job-1" and variables["SM_MASTER_PORT"] == "4567"
    training_env = json.loads(variables["SM_TRAINING_ENV"])
    assert training_env["is_master"] is False and training_env["master_hostname"] == "algo-1"


def test_sm_variables_win_over_the_users_environment(tmp_path: Path) -> None:
    merged = make_environment(tmp_path).process_environment()
    assert merged["MY_SETTING"] == "x" and merged["SM_NUM_CPUS"] == "4"


def test_config_files_are_written_where_sagemaker_puts_them(tmp_path: Path) -> None:
    environment = make_environment(tmp_path)
    layout = environment.layout
    layout.create()
    layout.write_config({"epochs": "10"}, environment.input_data_config, environment.resource_config)
    assert json.loads((tmp_path / "input/config/hyperparameters.json").read_text()) == {"epochs": "10"}
    resource = json.loads((tmp_path / "input/config/resourceconfig.json").read_text())
    assert resource["current_host"] == "algo-2" and resource["hosts"] == ["algo-1", "algo-2"]
    assert (tmp_path / "model").is_dir() and (tmp_path / "output/data").is_dir()


def test_toolkit_settings_are_framework_params_not_script_arguments(tmp_path: Path) -> None:
    environment = HostEnvironment(
        layout=HostLayout(tmp_path),
        job_name="job-2",
        job_arn="arn:aws:sagemaker:us-east-1:000000000000:training-job/job-2",
        hyperparameters={
            "sagemaker_program": '"train.py"',
            "sagemaker_submit_directory": '"s3://b/code.tar.gz"',
            "C": "0.5",
            "layers": "[64, 32]",
            "opts": '{"b": 2, "a": 1}',
        },
        input_data_config={},
        hosts=["algo-1"],
        current_host="algo-1",
        instance_type="ml.m5.large",
        num_cpus=2,
    )
    variables = environment.variables()
    assert json.loads(variables["SM_HPS"]) == {"C": 0.5, "layers": [64, 32], "opts": {"b": 2, "a": 1}}
    assert json.loads(variables["SM_FRAMEWORK_PARAMS"]) == {
        "sagemaker_program": "train.py",
        "sagemaker_submit_directory": "s3://b/code.tar.gz",
    }
    # One-letter names get one dash; lists stay JSON and dicts become k=v pairs, as in the toolkit.
    assert json.loads(variables["SM_USER_ARGS"]) == ["-C", "0.5", "--layers", "[64, 32]", "--opts", "a=1,b=2"]
    assert "SM_HP_SAGEMAKER_PROGRAM" not in variables and variables["SM_HP_C"] == "0.5"
    training_env = json.loads(variables["SM_TRAINING_ENV"])
    assert training_env["additional_framework_parameters"]["sagemaker_program"] == "train.py"
    assert "sagemaker_program" not in training_env["hyperparameters"]
