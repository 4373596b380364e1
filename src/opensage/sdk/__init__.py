"""opensage's Python SDK: train, host and use models on an opensage server without knowing SageMaker.

Example::

    import opensage

    with opensage.connect(local=True) as session:       # or opensage.connect() for `opensage server`
        run = session.train("xgboost", train=df, label="target",
                            objective="binary:logistic", num_round=50)
        print(run.metrics)                              # {"train:logloss": ...}
        endpoint = run.deploy()
        print(endpoint.predict(df.drop(columns=["target"])))
        endpoint.delete()

Everything here is a thin layer over boto3 and the SageMaker API, which remain reachable
from the session (``session.sagemaker``, ``session.s3``, ``session.runtime``, ``session.logs``).
Importing this package loads neither boto3 nor NumPy; pandas is never required.
"""

from opensage.sdk._connect import connect
from opensage.sdk._errors import (
    EndpointFailedError,
    JobFailedError,
    OpenSageClientError,
    OpenSageSDKError,
    ServerUnavailableError,
    WaitTimeoutError,
)
from opensage.sdk._hosting import Endpoint, Serverless
from opensage.sdk._session import Session
from opensage.sdk._training import JobResources, TrainingRun
from opensage.sdk._transform import TransformRun

__all__ = [
    "Endpoint",
    "EndpointFailedError",
    "JobFailedError",
    "JobResources",
    "OpenSageClientError",
    "OpenSageSDKError",
    "ServerUnavailableError",
    "Serverless",
    "Session",
    "TrainingRun",
    "TransformRun",
    "WaitTimeoutError",
    "connect",
]

# Shown as opensage.sdk.X (not the private module) in reprs, tracebacks and docs.
for _name in __all__:
    globals()[_name].__module__ = __name__
del _name
