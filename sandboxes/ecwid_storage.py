"""The sandbox Ecwid's app storage: per store, per app key-value strings (ecwid-api.md "App storage").

    GET    /api/v3/{storeId}/storage         -> [{"key": ..., "value": ...}]          (scope read_store_profile)
    GET    /api/v3/{storeId}/storage/{key}   -> {"key": ..., "value": ...}            (scope read_store_profile)
    POST   /api/v3/{storeId}/storage/{key}   -> {"updateCount": 1}                    (scope update_store_profile)
    PUT    /api/v3/{storeId}/storage/{key}   -> {"updateCount": 1}                    (scope update_store_profile)
    DELETE /api/v3/{storeId}/storage/{key}   -> {"deleteCount": 1}                    (scope update_store_profile)

The sandbox registers one app, so a store's storage is the one map `EcwidStore.app_storage`; the key `public`
is what `Ecwid.getAppPublicConfig(client_id)` returns on the storefront (sandboxes/ecwid_storefront.py).

Modelled where ecwid-api.md "Not confirmed" leaves it open:
- The request body is the value itself (Ecwid's Java client, tested against the live API) OR a JSON object
  `{"value": "<string>"}` (the current docs): a body that is a JSON object whose only key is `value` holding a
  string is unwrapped, every other body is stored as it is (UTF-8 text).
- Writing answers `{"updateCount": 1}` and deleting `{"deleteCount": 1}` (the Java client's reading).
- A missing key answers 404 `{"errorMessage": "...", "errorCode": "NOT_FOUND"}` (also on DELETE).
- A value over the limit (256 KB = 262,144 bytes of UTF-8 for `public`, 1 MB = 1,048,576 bytes for other keys)
  answers 413 with errorCode `VALUE_TOO_LARGE`; a key longer than 1,024 characters 400 `KEY_TOO_LONG`.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING
from urllib.parse import unquote

from sandboxes.common import Request, Response
from sandboxes.ecwid_catalog import EcwidStore
from sandboxes.ecwid_rest import ApiError

if TYPE_CHECKING:
    from sandboxes.ecwid import EcwidSandbox

PUBLIC_KEY = "public"
PUBLIC_VALUE_LIMIT = 256 * 1024
VALUE_LIMIT = 1024 * 1024
KEY_LIMIT = 1024
READ_SCOPE = "read_store_profile"
WRITE_SCOPE = "update_store_profile"


def value_from_body(body: bytes) -> str:
    """The stored value a write request carries: the raw body, or `value` of a `{"value": "..."}` body."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise ApiError(400, "The value must be UTF-8 text", "BAD_REQUEST") from None
    try:
        parsed = json.loads(text)
    except ValueError:
        return text
    if isinstance(parsed, dict) and set(parsed) == {"value"} and isinstance(parsed["value"], str):
        return parsed["value"]
    return text


def check_entry(key: str, value: str) -> None:
    if not key:
        raise ApiError(400, "The storage key must not be empty", "BAD_REQUEST")
    if len(key) > KEY_LIMIT:
        raise ApiError(400, f"The storage key is longer than {KEY_LIMIT} characters", "KEY_TOO_LONG")
    limit = PUBLIC_VALUE_LIMIT if key == PUBLIC_KEY else VALUE_LIMIT
    size = len(value.encode("utf-8"))
    if size > limit:
        raise ApiError(
            413,
            f"The value of '{key}' is {size} bytes: the limit is {limit} bytes ({limit // 1024} KB)",
            "VALUE_TOO_LARGE",
        )


class StorageRoutes:
    """Registers the storage endpoints on the sandbox, authenticated like every REST call (ecwid_rest.py)."""

    def __init__(self, sandbox: EcwidSandbox) -> None:
        self.sandbox = sandbox
        api = sandbox.rest.api
        base = "/api/v3/{store_id}/storage"
        sandbox.route("GET", base, api(self.list_entries, scope=READ_SCOPE))
        sandbox.route("GET", base + "/{key}", api(self.get_entry, scope=READ_SCOPE))
        sandbox.route("POST", base + "/{key}", api(self.put_entry, scope=WRITE_SCOPE))
        sandbox.route("PUT", base + "/{key}", api(self.put_entry, scope=WRITE_SCOPE))
        sandbox.route("DELETE", base + "/{key}", api(self.delete_entry, scope=WRITE_SCOPE))

    @staticmethod
    def _key(request: Request) -> str:
        return unquote(request.path_params["key"])

    def list_entries(self, request: Request, store: EcwidStore) -> Response:
        return Response.json([{"key": k, "value": v} for k, v in store.app_storage.items()])

    def get_entry(self, request: Request, store: EcwidStore) -> Response:
        key = self._key(request)
        if key not in store.app_storage:
            raise ApiError(404, f"Storage key '{key}' not found", "NOT_FOUND")
        return Response.json({"key": key, "value": store.app_storage[key]})

    def put_entry(self, request: Request, store: EcwidStore) -> Response:
        key = self._key(request)
        value = value_from_body(request.body)
        check_entry(key, value)
        store.app_storage[key] = value
        return Response.json({"updateCount": 1})

    def delete_entry(self, request: Request, store: EcwidStore) -> Response:
        key = self._key(request)
        if store.app_storage.pop(key, None) is None:
            raise ApiError(404, f"Storage key '{key}' not found", "NOT_FOUND")
        return Response.json({"deleteCount": 1})
