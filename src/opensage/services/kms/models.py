"""The documents of KMS keys and aliases."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from opensage.services.documents import Stamp

KEY_KIND = "kms-key"
ALIAS_KIND = "kms-alias"


@dataclass
class KmsKey:
    key_id: str
    arn: str
    description: str
    key_state: str
    creation_date: datetime
    last_modified: datetime
    # The 256-bit key material, sealed by the home's Sealer with the key ARN as context (base64).
    sealed_material: str
    key_manager: str = "CUSTOMER"
    deletion_date: datetime | None = None

    def metadata(self, account_id: str) -> dict[str, object]:
        """KMS's KeyMetadata."""
        return {
            "AWSAccountId": account_id,
            "KeyId": self.key_id,
            "Arn": self.arn,
            "CreationDate": self.creation_date,
            "Enabled": self.key_state == "Enabled",
            "Description": self.description,
            "KeyUsage": "ENCRYPT_DECRYPT",
            "KeyState": self.key_state,
            "DeletionDate": self.deletion_date,
            "Origin": "AWS_KMS",
            "KeyManager": self.key_manager,
            "CustomerMasterKeySpec": "SYMMETRIC_DEFAULT",
            "KeySpec": "SYMMETRIC_DEFAULT",
            "EncryptionAlgorithms": ["SYMMETRIC_DEFAULT"],
            "MultiRegion": False,
        }


def key_stamp(key: KmsKey) -> Stamp:
    return Stamp(key.key_id, key.arn, key.key_state, key.creation_date, key.last_modified)


@dataclass
class KmsAlias:
    alias_name: str
    alias_arn: str
    target_key_id: str
    creation_date: datetime


def alias_stamp(alias: KmsAlias) -> Stamp:
    return Stamp(alias.alias_name, alias.alias_arn, "Active", alias.creation_date, alias.creation_date)
