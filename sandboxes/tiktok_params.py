"""Reading request parameters the way TikTok's gateway does, with its error codes.

GET endpoints take query parameters, where lists and objects are JSON-encoded strings
(`sku_ids=["a","b"]`); POST endpoints take a JSON body. A value of the wrong type is malformed
(40000); a missing or out-of-range value is invalid (40002). Messages name the field.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any, TypeVar

from sandboxes.common import Request
from sandboxes.tiktok_models import PARAM_INVALID, PARAM_MALFORMED, ApiError

T = TypeVar("T")


class Params:
    def __init__(self, values: dict[str, Any], from_query: bool, prefix: str = "") -> None:
        self.values = values
        self.from_query = from_query
        self.prefix = prefix

    @classmethod
    def of(cls, request: Request) -> Params:
        if request.method == "GET":
            return cls({name: values[0] for name, values in request.query.items() if values}, from_query=True)
        try:
            body = request.json() if request.body.strip() else {}
        except (ValueError, UnicodeDecodeError):
            raise ApiError(PARAM_MALFORMED, "The request body is not valid JSON.") from None
        if not isinstance(body, dict):
            raise ApiError(PARAM_MALFORMED, "The request body must be a JSON object.")
        return cls(body, from_query=False)

    def _name(self, name: str) -> str:
        return self.prefix + name

    def has(self, name: str) -> bool:
        return self.values.get(name) not in (None, "")

    def _structured(self, name: str) -> Any:
        """A list or object: decoded from JSON when it came in a query string."""
        value = self.values.get(name)
        if self.from_query and isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError:
                raise ApiError(PARAM_MALFORMED, f"{self._name(name)}: must be JSON.") from None
        return value

    def text(self, name: str, *, required: bool = True, max_len: int | None = None) -> str:
        value = self.values.get(name)
        if value is None or value == "":
            if required:
                raise ApiError(PARAM_INVALID, f"{self._name(name)}: required.")
            return ""
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)  # ids may come as JSON numbers
        if not isinstance(value, str):
            raise ApiError(PARAM_MALFORMED, f"{self._name(name)}: must be a string.")
        if max_len is not None and len(value) > max_len:
            raise ApiError(PARAM_INVALID, f"{self._name(name)}: length must be between 1 and {max_len}.")
        return value

    def code(self, name: str, length: int) -> str:
        """An upper-case ISO code (region: 2 letters, currency: 3)."""
        value = self.text(name)
        if not re.fullmatch(f"[A-Z]{{{length}}}", value):
            raise ApiError(PARAM_INVALID, f"{self._name(name)}: must be a {length}-letter upper-case code.")
        return value

    def integer(self, name: str, default: int, *, low: int, high: int | None = None) -> int:
        value = self.values.get(name)
        if value is None or value == "":
            return default
        if isinstance(value, bool):
            raise ApiError(PARAM_MALFORMED, f"{self._name(name)}: must be an integer.")
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise ApiError(PARAM_MALFORMED, f"{self._name(name)}: must be an integer.") from None
        if number < low or (high is not None and number > high):
            bounds = f"between {low} and {high}" if high is not None else f"at least {low}"
            raise ApiError(PARAM_INVALID, f"{self._name(name)}: must be {bounds}.")
        return number

    def array(self, name: str, *, high: int) -> list[Any]:
        value = self._structured(name)
        if value is None:
            raise ApiError(PARAM_INVALID, f"{self._name(name)}: required.")
        if not isinstance(value, list):
            raise ApiError(PARAM_MALFORMED, f"{self._name(name)}: must be a list.")
        if not 1 <= len(value) <= high:
            raise ApiError(PARAM_INVALID, f"{self._name(name)}: length must be between 1 and {high}.")
        return value

    def sub(self, name: str) -> Params:
        value = self._structured(name)
        if value is None:
            raise ApiError(PARAM_INVALID, f"{self._name(name)}: required.")
        if not isinstance(value, dict):
            raise ApiError(PARAM_MALFORMED, f"{self._name(name)}: must be an object.")
        return Params(value, from_query=False, prefix=f"{self._name(name)}.")


def paginate(items: list[T], page: int, page_size: int) -> tuple[list[T], dict[str, int]]:
    """One page of `items` and TikTok's page_info."""
    start = (page - 1) * page_size
    info = {
        "page": page,
        "page_size": page_size,
        "total_number": len(items),
        "total_page": math.ceil(len(items) / page_size),
    }
    return items[start : start + page_size], info
