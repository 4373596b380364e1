from __future__ import annotations

from opensage.runtime.usercode.inherited import inherited_environment


def test_users_code_inherits_everything_but_credentials_and_secrets() -> None:
    platform = {
        "PATH": "/usr/bin",
        "LANG": "C.UTF-8",
        "HTTPS_PROXY": "http://proxy:3128",
        "AWS_ENDPOINT_URL": "http://127.0.0.1:8080",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "AKIAEXAMPLE",
        "AWS_SECRET_ACCESS_KEY": "secret",
        "AWS_SESSION_TOKEN": "token",
        "OPENSAGE_ADMIN_SECRET_ACCESS_KEY": "admin-secret",
        "OPENSAGE_ADMIN_ACCESS_KEY_ID": "AKIAADMIN",
        "OPENSAGE_DATABASE_URL": "postgresql://opensage:pw@db/opensage",
        "GITHUB_TOKEN": "ghp_x",
        "PGPASSWORD": "pw",
    }
    assert inherited_environment(platform) == {
        "PATH": "/usr/bin",
        "LANG": "C.UTF-8",
        "HTTPS_PROXY": "http://proxy:3128",
        "AWS_ENDPOINT_URL": "http://127.0.0.1:8080",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
