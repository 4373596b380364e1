"""The SageMaker Python SDK (v3), configured only through the environment, against a real server.

The setup is the README's: AWS_ENDPOINT_URL, a region, dummy credentials, a default bucket,
and telemetry turned off in the SDK's config file. Role validation is left on, so the SDK's
IAM calls get opensage's AccessDenied and carry on, as they would for a user.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import pytest
from tests.scripts import sagemaker_sdk_session, write_tree
from tests.support import breast_cancer_split, csv_bytes, features_csv

from opensage.embedded import EmbeddedServer

ROLE = "arn:aws:iam::000000000000:role/opensage-sdk"
BUCKET = "sdk-tests"

TRAIN_SCRIPT = """
    import argparse, glob, os
    import joblib, numpy as np
    from sklearn.linear_model import LogisticRegression

    parser = argparse.ArgumentParser()
    parser.add_argument("--C", type=float, default=1.0)
    args = parser.parse_args()
    rows = np.vstack([np.loadtxt(f, delimiter=",") for f in glob.glob(os.environ["SM_CHANNEL_TRAIN"] + "/*.csv")])
    model = LogisticRegression(C=args.C, max_iter=5000).fit(rows[:, 1:], rows[:, 0])
    print(f"sdk-script train accuracy={model.score(rows[:, 1:], rows[:, 0]):.4f} C={args.C}")
    joblib.dump(model, os.path.join(os.environ["SM_MODEL_DIR"], "model.joblib"))
    """


@pytest.fixture
def session(server: EmbeddedServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Any:
    return sagemaker_sdk_session(server.endpoint_url, monkeypatch, tmp_path, BUCKET)


@pytest.fixture
def train_uri(session: Any, tmp_path: Path) -> str:
    train, _ = breast_cancer_split()
    path = tmp_path / "train.csv"
    path.write_bytes(csv_bytes(train))
    uri: str = session.upload_data(str(path), key_prefix="breast-cancer/train")
    return uri


INFERENCE_SCRIPT = """
    import io, json, os
    import joblib, numpy as np

    def model_fn(model_dir):
        return joblib.load(os.path.join(model_dir, "model.joblib"))

    def input_fn(body, content_type):
        text = body.decode() if isinstance(body, bytes) else body
        return np.loadtxt(io.StringIO(text), delimiter=",", ndmin=2)

    def predict_fn(rows, model):
        return model.predict_proba(rows)[:, 1]

    def output_fn(scores, accept):
        return "\\n".join(f"{score:.6f}" for score in scores), "text/csv"
    """


def test_model_trainer_runs_a_scikit_learn_script_and_streams_its_logs(
    session: Any, train_uri: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from sagemaker.core import image_uris
    from sagemaker.train import ModelTrainer
    from sagemaker.train.configs import Compute, InputData, SourceCode

    image = image_uris.retrieve("sklearn", region="us-east-1", version="1.2-1", image_scope="training")
    source = write_tree(tmp_path / "src", {"train.py": TRAIN_SCRIPT, "inference.py": INFERENCE_SCRIPT})
    trainer = ModelTrainer(
        training_image=image,
        role=ROLE,
        sagemaker_session=session,
        source_code=SourceCode(source_dir=str(source), entry_script="train.py"),
        compute=Compute(instance_type="ml.m5.large", instance_count=1),
        hyperparameters={"C": 0.5},
        base_job_name="sdk-sklearn",
    )
    caplog.set_level(logging.INFO, logger="sagemaker.core.resources")
    trainer.train(
        input_data_config=[InputData(channel_name="train", data_source=train_uri)], wait=True, logs=True
    )
    job = trainer._latest_training_job
    assert job.training_job_status == "Completed"
    assert job.model_artifacts.s3_model_artifacts.startswith(f"s3://{BUCKET}/sdk-sklearn/")
    # logs=True reads the job's CloudWatch streams as it runs and logs each line.
    assert "sdk-script train accuracy=0.9" in caplog.text and "C=0.5" in caplog.text

    # The trained model, deployed with its inference.py as ModelBuilder deploys a script model.
    from sagemaker.serve import ModelBuilder

    builder = ModelBuilder(
        s3_model_data_url=job.model_artifacts.s3_model_artifacts,
        image_uri=image_uris.retrieve(
            "sklearn", region="us-east-1", version="1.2-1", image_scope="inference"
        ),
        source_code=SourceCode(source_dir=str(source), entry_script="inference.py"),
        role_arn=ROLE,
        sagemaker_session=session,
        instance_type="ml.m5.large",
    )
    model = builder.build()
    # The SDK repacks the artifact with the code under code/ and names the entry point.
    assert model.primary_container.environment["SAGEMAKER_PROGRAM"] == "inference.py"
    endpoint = builder.deploy(endpoint_name="sdk-sklearn", initial_instance_count=1)
    try:
        _, validation = breast_cancer_split()
        answer = endpoint.invoke(body=features_csv(validation[:20, 1:]), content_type="text/csv")
        assert answer.content_type == "text/csv"
        assert_good_probabilities(answer.body.read())
    finally:
        endpoint.delete()


def xgboost_trainer(session: Any, train_uri: str) -> Any:
    from sagemaker.core import image_uris
    from sagemaker.train import ModelTrainer
    from sagemaker.train.configs import Compute, InputData

    image = image_uris.retrieve("xgboost", region="us-east-1", version="1.7-1")
    trainer = ModelTrainer(
        training_image=image,
        role=ROLE,
        sagemaker_session=session,
        compute=Compute(instance_type="ml.m5.large", instance_count=1),
        hyperparameters={"objective": "binary:logistic", "num_round": 20, "max_depth": 3},
        base_job_name="sdk-xgboost",
    )
    trainer.train(
        input_data_config=[InputData(channel_name="train", data_source=train_uri, content_type="text/csv")],
        wait=True,
        logs=False,
    )
    return trainer


def assert_good_probabilities(raw: bytes) -> None:
    _, validation = breast_cancer_split()
    scores = [float(line) for line in raw.decode().split()]
    assert len(scores) == 20
    correct = sum(
        (score > 0.5) == bool(label) for score, label in zip(scores, validation[:20, 0], strict=True)
    )
    assert correct >= 18


def test_built_in_xgboost_trains_deploys_with_model_builder_and_answers(session: Any, train_uri: str) -> None:
    from sagemaker.serve import ModelBuilder

    trainer = xgboost_trainer(session, train_uri)
    assert trainer._latest_training_job.training_job_status == "Completed"
    builder = ModelBuilder(
        model=trainer,
        image_uri=trainer.training_image,
        role_arn=ROLE,
        sagemaker_session=session,
        instance_type="ml.m5.large",
    )
    model = builder.build()
    assert (
        model.primary_container.model_data_url
        == trainer._latest_training_job.model_artifacts.s3_model_artifacts
    )
    endpoint = builder.deploy(endpoint_name="sdk-xgboost", initial_instance_count=1)
    try:
        assert endpoint.endpoint_status == "InService"
        _, validation = breast_cancer_split()
        answer = endpoint.invoke(body=features_csv(validation[:20, 1:]), content_type="text/csv")
        assert answer.content_type.startswith("text/csv")
        assert_good_probabilities(answer.body.read())
    finally:
        endpoint.delete()


def test_sagemaker_core_resources_deploy_and_invoke(session: Any, train_uri: str) -> None:
    from sagemaker.core.resources import Endpoint, EndpointConfig, Model
    from sagemaker.core.shapes import ContainerDefinition, ProductionVariant

    trainer = xgboost_trainer(session, train_uri)
    artifacts = trainer._latest_training_job.model_artifacts.s3_model_artifacts
    model = Model.create(
        model_name="sdk-core-model",
        primary_container=ContainerDefinition(image=trainer.training_image, model_data_url=artifacts),
        execution_role_arn=ROLE,
    )
    config = EndpointConfig.create(
        endpoint_config_name="sdk-core-config",
        production_variants=[
            ProductionVariant(
                variant_name="AllTraffic",
                model_name=model.model_name,
                initial_instance_count=1,
                instance_type="ml.m5.large",
            )
        ],
    )
    endpoint = Endpoint.create(endpoint_name="sdk-core", endpoint_config_name=config.endpoint_config_name)
    started = time.monotonic()
    endpoint.wait_for_status("InService", poll=1, timeout=120)
    assert time.monotonic() - started < 120
    _, validation = breast_cancer_split()
    answer = endpoint.invoke(
        body=features_csv(validation[:20, 1:]), content_type="text/csv", accept="text/csv"
    )
    assert_good_probabilities(answer.body.read())
    endpoint.delete()
    endpoint.wait_for_delete(poll=1, timeout=60)
    config.delete()
    model.delete()
    assert [e.endpoint_name for e in Endpoint.get_all() if e.endpoint_name == "sdk-core"] == []


def test_a_built_in_aialgs_algorithm_trains_with_model_trainer_and_answers_json(
    session: Any, train_uri: str
) -> None:
    """Linear Learner from image_uris, as SageMaker users switch to it; served through sagemaker-core."""
    import json

    from sagemaker.core import image_uris
    from sagemaker.core.resources import Endpoint, EndpointConfig, Model
    from sagemaker.core.shapes import ContainerDefinition, ProductionVariant
    from sagemaker.train import ModelTrainer
    from sagemaker.train.configs import Compute, InputData

    image = image_uris.retrieve("linear-learner", region="us-east-1")
    trainer = ModelTrainer(
        training_image=image,
        role=ROLE,
        sagemaker_session=session,
        compute=Compute(instance_type="ml.m5.large", instance_count=1),
        hyperparameters={"predictor_type": "binary_classifier", "feature_dim": 30, "epochs": 5},
        base_job_name="sdk-linear-learner",
    )
    trainer.train(
        input_data_config=[InputData(channel_name="train", data_source=train_uri, content_type="text/csv")],
        wait=True,
        logs=False,
    )
    job = trainer._latest_training_job
    assert job.training_job_status == "Completed"
    model = Model.create(
        model_name="sdk-ll-model",
        primary_container=ContainerDefinition(
            image=image, model_data_url=job.model_artifacts.s3_model_artifacts
        ),
        execution_role_arn=ROLE,
    )
    config = EndpointConfig.create(
        endpoint_config_name="sdk-ll-config",
        production_variants=[
            ProductionVariant(
                variant_name="AllTraffic",
                model_name="sdk-ll-model",
                initial_instance_count=1,
                instance_type="ml.m5.large",
            )
        ],
    )
    endpoint = Endpoint.create(endpoint_name="sdk-ll", endpoint_config_name=config.endpoint_config_name)
    try:
        endpoint.wait_for_status("InService", poll=1, timeout=120)
        _, validation = breast_cancer_split()
        body = json.dumps({"instances": [{"features": row.tolist()} for row in validation[:20, 1:]]})
        answer = endpoint.invoke(body=body, content_type="application/json", accept="application/json")
        predictions = json.loads(answer.body.read())["predictions"]
        labels = [p["predicted_label"] for p in predictions]
        assert len(labels) == 20 and all(0.0 <= p["score"] <= 1.0 for p in predictions)
        assert sum(label == truth for label, truth in zip(labels, validation[:20, 0], strict=True)) >= 17
    finally:
        endpoint.delete()
        endpoint.wait_for_delete(poll=1, timeout=60)
        config.delete()
        model.delete()
