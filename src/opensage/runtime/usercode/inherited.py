"""What users' code inherits from the platform's environment: everything but its secrets.

A training script, a processing command or a model server running inference code starts
from the environment of the process that launched it, as a container starts from its
image's: PATH, locale, proxy settings and the like carry over. Credentials do not. The
server may hold the admin key (``eval "$(opensage env)"``), AWS credentials or a database
URL with a password, and users' code prints its environment freely (the SageMaker SDK's
training driver logs every variable), so those would end up in job logs readable by
anyone allowed to read logs. On SageMaker a job gets only its role's credentials; here it
gets none.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

# Exact names; and any variable whose name contains one of the markers below.
_SECRET_NAMES = frozenset(
    {
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_SECURITY_TOKEN",
        "AWS_PROFILE",
        "AWS_SHARED_CREDENTIALS_FILE",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_AUTHORIZATION_TOKEN",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "OPENSAGE_DATABASE_URL",
    }
)
_SECRET_MARKERS = ("SECRET", "PASSWORD", "TOKEN", "ACCESS_KEY")


def is_secret(name: str) -> bool:
    upper = name.upper()
    return upper in _SECRET_NAMES or any(marker in upper for marker in _SECRET_MARKERS)


def inherited_environment(source: Mapping[str, str] | None = None) -> dict[str, str]:
    """``source`` (default: this process's environment) without credentials and secrets."""
    values = os.environ if source is None else source
    return {name: value for name, value in values.items() if not is_secret(name)}
