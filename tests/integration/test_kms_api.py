"""The KMS subset through boto3's kms client: keys, aliases, Encrypt/Decrypt and data keys."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError
from tests.support import make_client

from opensage.embedded import EmbeddedServer


@pytest.fixture(scope="module")
def kms(server: EmbeddedServer) -> Any:
    return make_client("kms", server.endpoint_url)


def _code(error: pytest.ExceptionInfo[ClientError]) -> str:
    return str(error.value.response["Error"]["Code"])


def test_create_describe_and_list_keys(kms: Any) -> None:
    made = kms.create_key(Description="models")["KeyMetadata"]
    assert made["KeyState"] == "Enabled" and made["Enabled"] is True
    assert made["KeyUsage"] == "ENCRYPT_DECRYPT" and made["KeySpec"] == "SYMMETRIC_DEFAULT"
    assert made["Arn"] == f"arn:aws:kms:us-east-1:{made['AWSAccountId']}:key/{made['KeyId']}"

    by_arn = kms.describe_key(KeyId=made["Arn"])["KeyMetadata"]
    assert by_arn["KeyId"] == made["KeyId"] and by_arn["Description"] == "models"
    listed = [key["KeyId"] for page in kms.get_paginator("list_keys").paginate() for key in page["Keys"]]
    assert made["KeyId"] in listed


def test_unknown_key_is_not_found(kms: Any) -> None:
    with pytest.raises(ClientError) as error:
        kms.describe_key(KeyId="00000000-0000-0000-0000-000000000000")
    assert _code(error) == "NotFoundException"


def test_encrypt_decrypt_round_trip_with_context(kms: Any) -> None:
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    context = {"purpose": "test", "team": "ml"}
    sealed = kms.encrypt(KeyId=key_id, Plaintext=b"secret bytes", EncryptionContext=context)
    assert b"secret bytes" not in sealed["CiphertextBlob"]

    # No KeyId: the blob says which key made it.
    opened = kms.decrypt(CiphertextBlob=sealed["CiphertextBlob"], EncryptionContext=context)
    assert opened["Plaintext"] == b"secret bytes"
    assert opened["KeyId"] == sealed["KeyId"]

    with pytest.raises(ClientError) as error:
        kms.decrypt(CiphertextBlob=sealed["CiphertextBlob"], EncryptionContext={"purpose": "other"})
    assert _code(error) == "InvalidCiphertextException"
    with pytest.raises(ClientError) as error:
        kms.decrypt(CiphertextBlob=b"not a ciphertext blob at all, just bytes")
    assert _code(error) == "InvalidCiphertextException"


def test_disabled_key_refuses_until_enabled(kms: Any) -> None:
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    blob = kms.encrypt(KeyId=key_id, Plaintext=b"x")["CiphertextBlob"]
    kms.disable_key(KeyId=key_id)
    assert kms.describe_key(KeyId=key_id)["KeyMetadata"]["KeyState"] == "Disabled"
    for call in (lambda: kms.encrypt(KeyId=key_id, Plaintext=b"x"), lambda: kms.decrypt(CiphertextBlob=blob)):
        with pytest.raises(ClientError) as error:
            call()
        assert _code(error) == "DisabledException"
    kms.enable_key(KeyId=key_id)
    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"x"

    kms.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=7)
    with pytest.raises(ClientError) as error:
        kms.decrypt(CiphertextBlob=blob)
    assert _code(error) == "KMSInvalidStateException"


def test_generate_data_key_and_aliases(kms: Any) -> None:
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    kms.create_alias(AliasName="alias/kms-api-test", TargetKeyId=key_id)
    made = kms.generate_data_key(KeyId="alias/kms-api-test", KeySpec="AES_256")
    assert len(made["Plaintext"]) == 32
    assert kms.decrypt(CiphertextBlob=made["CiphertextBlob"])["Plaintext"] == made["Plaintext"]
    without = kms.generate_data_key_without_plaintext(KeyId=key_id, NumberOfBytes=16)
    assert "Plaintext" not in without
    assert len(kms.decrypt(CiphertextBlob=without["CiphertextBlob"])["Plaintext"]) == 16

    aliases = kms.list_aliases(KeyId=key_id)["Aliases"]
    assert [alias["AliasName"] for alias in aliases] == ["alias/kms-api-test"]
    with pytest.raises(ClientError) as error:
        kms.create_alias(AliasName="alias/kms-api-test", TargetKeyId=key_id)
    assert _code(error) == "AlreadyExistsException"
