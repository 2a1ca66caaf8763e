"""Encryption of store secrets (tokens, phone) with KMS, bound to the store and field they belong to."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal, Protocol

if TYPE_CHECKING:
    from mypy_boto3_kms import KMSClient

SecretField = Literal["ecwid_token", "tiktok_token", "phone", "storefront_phone"]


class SecretCipher(Protocol):
    def encrypt(self, plaintext: str, *, store_id: int, field: SecretField) -> bytes: ...

    def decrypt(self, ciphertext: bytes, *, store_id: int, field: SecretField) -> str: ...


class KmsSecretCipher:
    """KMS Encrypt/Decrypt with an encryption context, so a ciphertext copied to another store or field fails."""

    def __init__(self, kms: KMSClient, key_id: str) -> None:
        self._kms = kms
        self._key_id = key_id

    def encrypt(self, plaintext: str, *, store_id: int, field: SecretField) -> bytes:
        answer = self._kms.encrypt(
            KeyId=self._key_id, Plaintext=plaintext.encode(), EncryptionContext=_context(store_id, field)
        )
        return answer["CiphertextBlob"]

    def decrypt(self, ciphertext: bytes, *, store_id: int, field: SecretField) -> str:
        answer = self._kms.decrypt(
            KeyId=self._key_id, CiphertextBlob=ciphertext, EncryptionContext=_context(store_id, field)
        )
        return answer["Plaintext"].decode()


def _context(store_id: int, field: SecretField) -> dict[str, str]:
    return {"store_id": str(store_id), "field": field}
