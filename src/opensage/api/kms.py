"""The KMS adapter: the TrentService JSON operations opensage implements, on the KMS service."""

from __future__ import annotations

from typing import Any

from opensage.api.json_protocol import JsonHandler
from opensage.services.kms.models import KmsKey
from opensage.services.kms.service import KmsService

_DEFAULT_LIMIT = 100
_ALGORITHM = "SYMMETRIC_DEFAULT"


class _KmsHandlers:
    def __init__(self, service: KmsService) -> None:
        self.service = service

    def _metadata(self, key: KmsKey) -> dict[str, Any]:
        return {"KeyMetadata": key.metadata(self.service.account_id)}

    def create_key(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._metadata(self.service.create_key(params.get("Description", "")))

    def describe_key(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._metadata(self.service.describe_key(params["KeyId"]))

    def list_keys(self, params: dict[str, Any]) -> dict[str, Any]:
        keys, marker = self.service.list_keys(params.get("Limit", _DEFAULT_LIMIT), params.get("Marker"))
        result: dict[str, Any] = {
            "Keys": [{"KeyId": key.key_id, "KeyArn": key.arn} for key in keys],
            "Truncated": marker is not None,
        }
        if marker is not None:
            result["NextMarker"] = marker
        return result

    def enable_key(self, params: dict[str, Any]) -> dict[str, Any]:
        self.service.set_state(params["KeyId"], enabled=True)
        return {}

    def disable_key(self, params: dict[str, Any]) -> dict[str, Any]:
        self.service.set_state(params["KeyId"], enabled=False)
        return {}

    def schedule_key_deletion(self, params: dict[str, Any]) -> dict[str, Any]:
        key = self.service.schedule_deletion(params["KeyId"], params.get("PendingWindowInDays", 30))
        return {"KeyId": key.arn, "DeletionDate": key.deletion_date, "KeyState": key.key_state}

    def cancel_key_deletion(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"KeyId": self.service.cancel_deletion(params["KeyId"]).arn}

    def create_alias(self, params: dict[str, Any]) -> dict[str, Any]:
        self.service.create_alias(params["AliasName"], params["TargetKeyId"])
        return {}

    def delete_alias(self, params: dict[str, Any]) -> dict[str, Any]:
        self.service.delete_alias(params["AliasName"])
        return {}

    def list_aliases(self, params: dict[str, Any]) -> dict[str, Any]:
        aliases = self.service.list_aliases(params.get("KeyId"))
        return {
            "Aliases": [
                {
                    "AliasName": alias.alias_name,
                    "AliasArn": alias.alias_arn,
                    "TargetKeyId": alias.target_key_id,
                    "CreationDate": alias.creation_date,
                }
                for alias in aliases
            ],
            "Truncated": False,
        }

    def encrypt(self, params: dict[str, Any]) -> dict[str, Any]:
        arn, blob = self.service.encrypt(
            params["KeyId"], params["Plaintext"], params.get("EncryptionContext")
        )
        return {"CiphertextBlob": blob, "KeyId": arn, "EncryptionAlgorithm": _ALGORITHM}

    def decrypt(self, params: dict[str, Any]) -> dict[str, Any]:
        arn, plaintext = self.service.decrypt(
            params["CiphertextBlob"], params.get("EncryptionContext"), params.get("KeyId")
        )
        return {"Plaintext": plaintext, "KeyId": arn, "EncryptionAlgorithm": _ALGORITHM}

    def generate_data_key(self, params: dict[str, Any]) -> dict[str, Any]:
        made = self.service.generate_data_key(
            params["KeyId"],
            params.get("KeySpec"),
            params.get("NumberOfBytes"),
            params.get("EncryptionContext"),
        )
        return {"CiphertextBlob": made.ciphertext, "Plaintext": made.plaintext, "KeyId": made.key_arn}

    def generate_data_key_without_plaintext(self, params: dict[str, Any]) -> dict[str, Any]:
        result = self.generate_data_key(params)
        del result["Plaintext"]
        return result


def build_handlers(service: KmsService) -> dict[str, JsonHandler]:
    """The KMS operations served; any other is answered as not implemented."""
    handlers = _KmsHandlers(service)
    return {
        "CreateKey": handlers.create_key,
        "DescribeKey": handlers.describe_key,
        "ListKeys": handlers.list_keys,
        "EnableKey": handlers.enable_key,
        "DisableKey": handlers.disable_key,
        "ScheduleKeyDeletion": handlers.schedule_key_deletion,
        "CancelKeyDeletion": handlers.cancel_key_deletion,
        "CreateAlias": handlers.create_alias,
        "DeleteAlias": handlers.delete_alias,
        "ListAliases": handlers.list_aliases,
        "Encrypt": handlers.encrypt,
        "Decrypt": handlers.decrypt,
        "GenerateDataKey": handlers.generate_data_key,
        "GenerateDataKeyWithoutPlaintext": handlers.generate_data_key_without_plaintext,
    }
