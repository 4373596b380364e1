"""Endpoints: hosting a model (model, endpoint configuration, endpoint) and asking it for predictions."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Self

from opensage.sdk._errors import EndpointFailedError, WaitTimeoutError, translated
from opensage.sdk._payloads import batches, decode
from opensage.sdk._tables import feature_lines

if TYPE_CHECKING:
    import numpy as np

    from opensage.sdk._session import Session

_VARIANT = "AllTraffic"
# Statuses an endpoint passes through on its way to InService (or while being updated).
_SETTLING = ("Creating", "Updating", "SystemUpdating", "RollingBack")


@dataclass(frozen=True)
class Serverless:
    """A serverless endpoint's settings: memory per instance and how many requests it serves at once.

    Requests beyond ``max_concurrency`` are refused with ThrottlingException, as on SageMaker.
    """

    memory_size_in_mb: int = 2048
    max_concurrency: int = 5


def _variant(
    model: str, instance_count: int, instance_type: str, serverless: Serverless | bool
) -> dict[str, Any]:
    variant: dict[str, Any] = {"VariantName": _VARIANT, "ModelName": model}
    if serverless:
        config = serverless if isinstance(serverless, Serverless) else Serverless()
        variant["ServerlessConfig"] = {
            "MemorySizeInMB": config.memory_size_in_mb,
            "MaxConcurrency": config.max_concurrency,
        }
    else:
        variant.update(InitialInstanceCount=instance_count, InstanceType=instance_type)
    return variant


def deploy_model(
    session: Session,
    model: str,
    name: str,
    *,
    instance_count: int,
    instance_type: str,
    serverless: Serverless | bool,
    wait: bool,
) -> Endpoint:
    """CreateEndpointConfig and CreateEndpoint, both named ``name``, for the model ``model``."""
    sagemaker = session.sagemaker
    sagemaker.create_endpoint_config(
        EndpointConfigName=name,
        ProductionVariants=[_variant(model, instance_count, instance_type, serverless)],
    )
    sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=name)
    endpoint = Endpoint(session, name)
    return endpoint.wait() if wait else endpoint


class Endpoint:
    """A hosted model, by endpoint name.

    Example::

        endpoint = run.deploy()
        endpoint.predict(X_test)                              # -> numpy array
        endpoint.predict_raw(b"1.0,2.0\\n", "text/csv")        # -> bytes, as the model answered
        endpoint.delete()
    """

    def __init__(self, session: Session, name: str) -> None:
        self._session = session
        self.name = name

    @property
    def endpoint_url(self) -> str:
        return self._session.endpoint_url

    def __repr__(self) -> str:
        return f"<Endpoint {self.name}>"

    @translated
    def describe(self) -> dict[str, Any]:
        """DescribeEndpoint, fresh from the server (without ResponseMetadata)."""
        description: dict[str, Any] = self._session.sagemaker.describe_endpoint(EndpointName=self.name)
        description.pop("ResponseMetadata", None)
        return description

    @property
    def status(self) -> str:
        """``Creating``, ``InService``, ``Updating``, ``Deleting`` or ``Failed``."""
        return str(self.describe()["EndpointStatus"])

    @translated
    def wait(self, *, timeout: float | None = None) -> Self:
        """Wait until the endpoint is InService; raise ``EndpointFailedError`` if it failed."""
        deadline = None if timeout is None else time.monotonic() + timeout
        delay = 0.1
        while True:
            description = self.describe()
            status = description["EndpointStatus"]
            if status == "InService":
                return self
            if status not in _SETTLING:
                reason = str(description.get("FailureReason") or f"it is {status}")
                raise EndpointFailedError(self.name, reason)
            if deadline is not None and time.monotonic() > deadline:
                raise WaitTimeoutError(f"Endpoint {self.name} was not InService within {timeout} s")
            time.sleep(delay)
            delay = min(delay * 1.5, 1.0)

    @translated
    def predict(self, data: Any, *, accept: str | None = None) -> np.ndarray:
        """Predictions for rows of features: a NumPy array with one entry (or row) per row sent.

        ``data`` is a 2-D NumPy array, a pandas DataFrame, a list of rows, or one row (a 1-D
        array or a flat list); it is sent as CSV, in requests under InvokeEndpoint's size
        limit. Answers in CSV, JSON, JSON Lines or ``.npy`` are read (``accept`` asks for one).

        Example::

            probabilities = endpoint.predict(df.drop(columns=["target"]))
        """
        import numpy as np

        parts = []
        for body in batches(feature_lines(data)):
            answer = self._invoke(body, "text/csv", accept)
            parts.append(decode(answer["Body"].read(), str(answer.get("ContentType", ""))))
        if not parts:
            return np.empty(0)
        return parts[0] if len(parts) == 1 else np.concatenate(parts)

    @translated
    def predict_raw(
        self, body: bytes | str, content_type: str = "text/csv", accept: str | None = None
    ) -> bytes:
        """Send ``body`` as it is and return the model's answer as it is."""
        payload = body.encode() if isinstance(body, str) else body
        return bytes(self._invoke(payload, content_type, accept)["Body"].read())

    def _invoke(self, body: bytes, content_type: str, accept: str | None) -> dict[str, Any]:
        request: dict[str, Any] = {"EndpointName": self.name, "Body": body, "ContentType": content_type}
        if accept:
            request["Accept"] = accept
        answer: dict[str, Any] = self._session.runtime.invoke_endpoint(**request)
        return answer

    @translated
    def delete(self, *, keep_model: bool = False, wait: bool = True) -> None:
        """Delete the endpoint and its endpoint configuration, and (unless ``keep_model``) its models.

        With ``wait`` (default) this returns once the endpoint is gone, its instances stopped.
        """
        sagemaker = self._session.sagemaker
        config_name = self.describe()["EndpointConfigName"]
        config = sagemaker.describe_endpoint_config(EndpointConfigName=config_name)
        sagemaker.delete_endpoint(EndpointName=self.name)
        sagemaker.delete_endpoint_config(EndpointConfigName=config_name)
        if not keep_model:
            for variant in config["ProductionVariants"]:
                sagemaker.delete_model(ModelName=variant["ModelName"])
        if wait:
            self._wait_gone()

    def _wait_gone(self) -> None:
        from botocore.exceptions import ClientError

        delay = 0.1
        while True:
            try:
                self._session.sagemaker.describe_endpoint(EndpointName=self.name)
            except ClientError as error:
                # A deleted endpoint is "not found", which SageMaker reports as a ValidationException.
                if error.response.get("Error", {}).get("Code") == "ValidationException":
                    return
                raise
            time.sleep(delay)
            delay = min(delay * 1.5, 1.0)
