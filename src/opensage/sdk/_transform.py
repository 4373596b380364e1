"""Batch transform: a model's predictions for a whole data set, written to S3 by a transform job."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from opensage.sdk._errors import translated
from opensage.sdk._jobs import TRANSFORM_JOBS, Job
from opensage.sdk._payloads import decode
from opensage.sdk._storage import read_objects

if TYPE_CHECKING:
    import numpy as np


def transform_request(
    *,
    name: str,
    model: str,
    input_uri: str,
    content_type: str | None,
    split_type: str,
    output_path: str,
    accept: str | None,
    instance_type: str,
    instance_count: int,
) -> dict[str, Any]:
    """A CreateTransformJob request: S3Prefix input, outputs assembled line by line."""
    transform_input: dict[str, Any] = {
        "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": input_uri}},
        "SplitType": split_type,
    }
    if content_type:
        transform_input["ContentType"] = content_type
    output: dict[str, Any] = {"S3OutputPath": output_path}
    if split_type == "Line":
        output["AssembleWith"] = "Line"
    if accept:
        output["Accept"] = accept
    return {
        "TransformJobName": name,
        "ModelName": model,
        "TransformInput": transform_input,
        "TransformOutput": output,
        "TransformResources": {"InstanceType": instance_type, "InstanceCount": instance_count},
    }


class TransformRun(Job):
    """A batch transform job: what ``Session.batch_predict`` returns.

    Example::

        job = session.batch_predict(run, X_test)
        job.predictions()      # numpy array, one entry per input row
        job.output_path        # "s3://.../output", one "<input file>.out" per input file
    """

    _kind = TRANSFORM_JOBS

    @property
    def output_path(self) -> str:
        """Where the job writes ``<input file>.out`` for every input file."""
        return str(self._current()["TransformOutput"]["S3OutputPath"])

    @translated
    def predictions(self) -> np.ndarray:
        """Every output file read as one array, in input-file order (waits for the job first)."""
        import numpy as np

        self.wait()
        description = self._current()
        accept = description["TransformOutput"].get("Accept") or "text/csv"
        outputs = [
            body for key, body in read_objects(self._session.s3, self.output_path) if key.endswith(".out")
        ]
        parts = [decode(body, accept) for body in outputs if body.strip()]
        if not parts:
            return np.empty(0)
        return parts[0] if len(parts) == 1 else np.concatenate(parts)
