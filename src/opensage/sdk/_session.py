"""``Session``: one opensage server, its boto3 clients, and the conveniences built on them."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

from opensage.sdk._clients import Clients
from opensage.sdk._errors import translated
from opensage.sdk._images import algorithm_image, framework_image
from opensage.sdk._names import base_of, unique_name
from opensage.sdk._scripts import Requirements, package_source
from opensage.sdk._staging import Data, stage
from opensage.sdk._storage import S3Location, download, is_s3_uri
from opensage.sdk._tables import feature_lines, is_table
from opensage.sdk._training import (
    Channel,
    HyperparameterValue,
    JobResources,
    TrainingRun,
    builtin_value,
    script_hyperparameters,
    training_request,
)
from opensage.sdk._transform import TransformRun, transform_request

if TYPE_CHECKING:
    from opensage.sdk._hosting import Endpoint
    from opensage.security.credentials import Credentials

DEFAULT_BUCKET = "opensage-default"
DEFAULT_ROLE = "arn:aws:iam::000000000000:role/opensage"


class Session:
    """A connection to one opensage server. Make one with ``opensage.connect()``.

    ``s3``, ``sagemaker``, ``runtime`` (sagemaker-runtime) and ``logs`` are boto3 clients
    for the server, for anything the conveniences do not cover; they raise botocore's
    errors, while the Session's own methods raise ``OpenSageClientError``.

    Example::

        with opensage.connect(local=True) as session:
            run = session.train("xgboost", train=df, label="target",
                                objective="binary:logistic", num_round=50)
            print(run.metrics)
    """

    def __init__(
        self,
        endpoint_url: str,
        *,
        region: str,
        bucket: str = DEFAULT_BUCKET,
        role: str = DEFAULT_ROLE,
        on_close: Callable[[], None] | None = None,
        credentials: Credentials | None = None,
    ) -> None:
        self.endpoint_url = endpoint_url.rstrip("/")
        self.region = region
        self.role = role
        self._bucket = bucket
        self._bucket_ready = False
        self._on_close = on_close
        self._clients = Clients(self.endpoint_url, region, credentials)

    def __repr__(self) -> str:
        return f"<opensage.Session {self.endpoint_url} region={self.region}>"

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the clients; a server this session started (``connect(local=True)``) stops."""
        self._clients.close()
        on_close, self._on_close = self._on_close, None
        if on_close is not None:
            on_close()

    # --- boto3 clients -------------------------------------------------------------------

    @property
    def s3(self) -> Any:
        """A boto3 S3 client for the server (path-style addressing)."""
        return self._clients.get("s3")

    @property
    def sagemaker(self) -> Any:
        """A boto3 SageMaker client for the server."""
        return self._clients.get("sagemaker")

    @property
    def runtime(self) -> Any:
        """A boto3 sagemaker-runtime client for the server (InvokeEndpoint)."""
        return self._clients.get("sagemaker-runtime")

    @property
    def logs(self) -> Any:
        """A boto3 CloudWatch Logs client for the server (job logs)."""
        return self._clients.get("logs")

    # --- data ----------------------------------------------------------------------------

    @property
    @translated
    def default_bucket(self) -> str:
        """The bucket the SDK keeps data, code and models in; created on first use."""
        if not self._bucket_ready:
            from botocore.exceptions import ClientError

            try:
                self.s3.create_bucket(Bucket=self._bucket)
            except ClientError as error:
                if error.response.get("Error", {}).get("Code") != "BucketAlreadyOwnedByYou":
                    raise
            self._bucket_ready = True
        return self._bucket

    @translated
    def upload(
        self, data: Data, key: str | None = None, *, label: Any = None, bucket: str | None = None
    ) -> str:
        """Upload a local file or folder, bytes, or a table to S3; return its ``s3://`` URI.

        A table (DataFrame, NumPy array, list of rows) is written as CSV. With ``label`` (a
        column name, or an array's column index) it is written as SageMaker's built-in
        algorithms read it: the label first, no header, numbers only; an ``(X, y)`` pair is
        written that way too. Without, a DataFrame keeps its header. ``key`` is the object's
        key (a folder's prefix); by default a fresh ``uploads/...`` one.

        Example::

            uri = session.upload(df, label="target")     # s3://opensage-default/uploads/.../data.csv
        """
        if is_s3_uri(data):
            raise ValueError(f"{data} is in S3 already; use the URI as it is")
        if label is not None and not is_table(data):
            raise ValueError(
                "label says how to lay out a table; files, folders and bytes are uploaded as they are"
            )
        target_bucket = bucket or self.default_bucket
        if key is not None:
            target = S3Location(target_bucket, key)
            return stage(self.s3, data, target, label=label, builtin_layout=label is not None, exact=True).uri
        target = S3Location(target_bucket, f"uploads/{unique_name('data')}")
        return stage(self.s3, data, target, label=label, builtin_layout=label is not None).uri

    @translated
    def download(self, uri: str, path: str | os.PathLike[str]) -> Path:
        """Download an object to ``path`` (into it, if it is a folder), or a prefix's objects into a folder."""
        return download(self.s3, uri, Path(path).expanduser())

    # --- training ------------------------------------------------------------------------

    @translated
    def train(
        self,
        algorithm: str,
        *,
        train: Data,
        validation: Data | None = None,
        label: Any = None,
        name: str | None = None,
        version: str | None = None,
        content_type: str | None = None,
        resources: JobResources | None = None,
        hyperparameters: Mapping[str, HyperparameterValue] | None = None,
        tags: Mapping[str, str] | None = None,
        wait: bool = True,
        progress: bool = True,
        **kwargs: HyperparameterValue,
    ) -> TrainingRun:
        """Train a built-in algorithm by name; hyperparameters are keyword arguments.

        ``train`` and ``validation`` are data (a DataFrame or array with ``label`` naming the
        label column, an ``(X, y)`` pair, a local path or an ``s3://`` URI); tables are
        uploaded as the algorithm reads them. ``hyperparameters`` takes names that are not
        Python identifiers. With ``wait`` (default) this returns once the job has ended,
        showing a progress bar unless ``progress=False``, and raises ``JobFailedError`` with
        the FailureReason if it failed.

        Example::

            run = session.train("xgboost", train=train_df, validation=valid_df, label="target",
                                objective="binary:logistic", num_round=50, eval_metric="auc")
        """
        image = algorithm_image(algorithm, self.region, version)
        job_name = name or unique_name(algorithm)
        inputs = {"train": train} if validation is None else {"train": train, "validation": validation}
        channels = self._channels(job_name, inputs, label=label, content_type=content_type, builtin=True)
        values = {**(hyperparameters or {}), **kwargs}
        request = training_request(
            name=job_name,
            role=self.role,
            image=image,
            hyperparameters={key: builtin_value(value) for key, value in values.items()},
            channels=channels,
            output_path=self._output_path(),
            resources=resources or JobResources(),
            tags=tags,
        )
        return self._start(request, wait=wait, progress=progress)

    @translated
    def run_script(
        self,
        entry_point: str | os.PathLike[str],
        *,
        source_dir: str | os.PathLike[str] | None = None,
        framework: str = "sklearn",
        framework_version: str | None = None,
        image: str | None = None,
        hyperparameters: Mapping[str, Any] | None = None,
        inputs: Mapping[str, Data] | None = None,
        requirements: Requirements | None = None,
        metric_definitions: Mapping[str, str] | None = None,
        environment: Mapping[str, str] | None = None,
        name: str | None = None,
        resources: JobResources | None = None,
        tags: Mapping[str, str] | None = None,
        wait: bool = True,
        progress: bool = True,
    ) -> TrainingRun:
        """Run your own training script (script mode) with a framework image.

        The script runs as on SageMaker: channels in ``SM_CHANNEL_<NAME>``, the model saved
        into ``SM_MODEL_DIR``, ``hyperparameters`` as ``--name value`` arguments.
        ``source_dir`` (optional) is packed with it; ``requirements`` (a file or a list of
        lines) is installed first. ``inputs`` maps channel names to data; DataFrames are
        written as CSV with their header. ``metric_definitions`` maps metric names to regexes
        with one group, read from the log. ``image`` overrides the framework's image.

        Example::

            run = session.run_script("train.py", source_dir="src", inputs={"train": df},
                                     hyperparameters={"C": 0.5},
                                     metric_definitions={"accuracy": r"accuracy=([0-9.]+)"})
        """
        training_image = image or framework_image(framework, self.region, framework_version)
        job_name = name or unique_name(Path(entry_point).stem)
        package = package_source(entry_point, source_dir, requirements)
        code = S3Location(self.default_bucket, f"{job_name}/source/sourcedir.tar.gz")
        self.s3.put_object(Bucket=code.bucket, Key=code.key, Body=package.archive)
        toolkit = {
            "sagemaker_program": package.program,
            "sagemaker_submit_directory": code.uri,
            "sagemaker_region": self.region,
            "sagemaker_job_name": job_name,
        }
        channels = self._channels(job_name, inputs or {}, label=None, content_type=None, builtin=False)
        request = training_request(
            name=job_name,
            role=self.role,
            image=training_image,
            hyperparameters=script_hyperparameters({**(hyperparameters or {}), **toolkit}),
            channels=channels,
            output_path=self._output_path(),
            resources=resources or JobResources(),
            metric_definitions=metric_definitions,
            environment=environment,
            tags=tags,
        )
        return self._start(request, wait=wait, progress=progress)

    def training_run(self, name: str) -> TrainingRun:
        """An existing training job, by name (created here or with any other client)."""
        return TrainingRun(self, name)

    def _channels(
        self,
        job_name: str,
        inputs: Mapping[str, Data],
        *,
        label: Any,
        content_type: str | None,
        builtin: bool,
    ) -> list[Channel]:
        channels = []
        for channel, data in inputs.items():
            target = S3Location(self.default_bucket, f"{job_name}/input/{channel}")
            staged = stage(self.s3, data, target, label=label, builtin_layout=builtin)
            channels.append(Channel(channel, staged.uri, content_type or staged.content_type))
        return channels

    def _output_path(self) -> str:
        # Jobs write <output>/<job name>/output/model.tar.gz: beside their inputs and code.
        return f"s3://{self.default_bucket}/"

    def _start(self, request: dict[str, Any], *, wait: bool, progress: bool) -> TrainingRun:
        self.sagemaker.create_training_job(**request)
        run = TrainingRun(self, request["TrainingJobName"])
        return run.wait(progress=progress) if wait else run

    # --- hosting and batch predictions ---------------------------------------------------

    def endpoint(self, name: str) -> Endpoint:
        """An existing endpoint, by name."""
        from opensage.sdk._hosting import Endpoint

        return Endpoint(self, name)

    @translated
    def batch_predict(
        self,
        model: TrainingRun | str,
        data: Data,
        *,
        content_type: str | None = None,
        accept: str | None = None,
        split_type: str = "Line",
        name: str | None = None,
        instance_count: int = 1,
        instance_type: str = "ml.m5.large",
        wait: bool = True,
        progress: bool = False,
    ) -> TransformRun:
        """Predictions for a whole data set with a batch transform job.

        ``model`` is a finished ``TrainingRun`` (a model is created from it) or a model's
        name. ``data`` holds feature rows: a table (sent as CSV), a local path or an ``s3://``
        URI. With ``wait`` (default) this returns once the job has ended; its
        ``predictions()`` reads the results as one array.

        Example::

            predictions = session.batch_predict(run, X_test).predictions()
        """
        model_name = model.create_model() if isinstance(model, TrainingRun) else model
        job_name = name or unique_name(f"{base_of(model_name)}-batch")
        detected: str | None = "text/csv"
        if is_table(data):
            # Rows of features only, as an endpoint takes them: no header, no label.
            location = S3Location(self.default_bucket, f"{job_name}/input/data.csv")
            self.s3.put_object(Bucket=location.bucket, Key=location.key, Body=b"".join(feature_lines(data)))
            input_uri = location.uri
        else:
            target = S3Location(self.default_bucket, f"{job_name}/input")
            staged = stage(self.s3, data, target, builtin_layout=False)
            input_uri, detected = staged.uri, staged.content_type
        request = transform_request(
            name=job_name,
            model=model_name,
            input_uri=input_uri,
            content_type=content_type or detected,
            split_type=split_type,
            output_path=f"s3://{self.default_bucket}/{job_name}/output",
            accept=accept,
            instance_type=instance_type,
            instance_count=instance_count,
        )
        self.sagemaker.create_transform_job(**request)
        run = TransformRun(self, job_name)
        return run.wait(progress=progress) if wait else run
