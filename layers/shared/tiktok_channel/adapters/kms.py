"""Encryption of store secrets (tokens, phone) with KMS, bound to the store and field they belong to."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING, Literal, Protocol

if TYPE_CHECKING:
    from mypy_boto3_kms import KMSClient

SecretField = Literal["ecwid_token", "tiktok_token", "phone", "storefront_phone"]

# A warm worker applies a burst of one store's events (a bulk edit, an order's webhooks) one after another, each
# needing the same tokens: a plaintext KMS gave back is reused for this long, for the same ciphertext, store and
# field only (anything else asks KMS, which checks the encryption context), then asked for again.
DECRYPT_REUSE_SECONDS = 60.0
DECRYPT_REUSE_ENTRIES = 64


class SecretCipher(Protocol):
    def encrypt(self, plaintext: str, *, store_id: int, field: SecretField) -> bytes: ...

    def decrypt(self, ciphertext: bytes, *, store_id: int, field: SecretField) -> str: ...


class KmsSecretCipher:
    """KMS Encrypt/Decrypt with an encryption context, so a ciphertext copied to another store or field fails."""

    def __init__(
        self,
        kms: KMSClient,
        key_id: str,
        *,
        clock: Callable[[], float] = time.monotonic,
        reuse_seconds: float = DECRYPT_REUSE_SECONDS,
        reuse_entries: int = DECRYPT_REUSE_ENTRIES,
    ) -> None:
        self._kms = kms
        self._key_id = key_id
        self._clock = clock
        self._reuse_seconds = reuse_seconds
        self._reuse_entries = reuse_entries
        # (ciphertext, store id, field) → (when KMS answered, plaintext); the oldest first.
        self._recent: OrderedDict[tuple[bytes, int, str], tuple[float, str]] = OrderedDict()

    def encrypt(self, plaintext: str, *, store_id: int, field: SecretField) -> bytes:
        answer = self._kms.encrypt(
            KeyId=self._key_id, Plaintext=plaintext.encode(), EncryptionContext=_context(store_id, field)
        )
        return answer["CiphertextBlob"]

    def decrypt(self, ciphertext: bytes, *, store_id: int, field: SecretField) -> str:
        key, now = (bytes(ciphertext), store_id, field), self._clock()
        recent = self._recent.get(key)
        if recent is not None and now - recent[0] < self._reuse_seconds:
            return recent[1]
        answer = self._kms.decrypt(
            KeyId=self._key_id, CiphertextBlob=ciphertext, EncryptionContext=_context(store_id, field)
        )
        plaintext = answer["Plaintext"].decode()
        if self._reuse_seconds > 0:
            self._recent.pop(key, None)
            self._recent[key] = (now, plaintext)
            while len(self._recent) > self._reuse_entries:
                self._recent.popitem(last=False)
        return plaintext


def _context(store_id: int, field: SecretField) -> dict[str, str]:
    return {"store_id": str(store_id), "field": field}
