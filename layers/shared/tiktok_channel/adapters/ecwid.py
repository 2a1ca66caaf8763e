"""Ecwid's OAuth and REST API (v3) over httpx, with Ecwid's errors turned into typed exceptions."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel, ValidationError

from tiktok_channel.adapters.http import RetryPolicy, call_with_retries
from tiktok_channel.errors import EcwidAccessLost, EcwidError, EcwidNotFound, EcwidOAuthRejected, EcwidUnavailable
from tiktok_channel.models.ecwid import EcwidToken, StoreProfile
from tiktok_channel.models.ecwid_catalog import CategoryPage, EcwidCategory, EcwidProduct, ProductPage
from tiktok_channel.models.orders import EcwidOrder

PAGE_SIZE = 100  # Ecwid's maximum page
REQUESTS_PER_MINUTE = 600  # Ecwid's limit per token
M = TypeVar("M", bound=BaseModel)

# Ecwid's own Java client waits 10 s when a 429 has no Retry-After, and never more than 60 s: it sleeps in its
# caller's thread. Here a wait longer than the retry budget is the queue's (the message comes back later), so what
# Ecwid asks is honoured up to the catalog worker's longest wait (services/worker.py RETRY_MAX_SECONDS), and a
# longer answer is taken as that.
_DEFAULT_RETRY_AFTER = 10.0
_MAX_RETRY_AFTER = 900.0


class EcwidClient:
    def __init__(
        self,
        http: httpx.Client,
        *,
        api_url: str,
        oauth_url: str,
        retry_policy: RetryPolicy | None = None,
        sleep: Callable[[float], None] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._http = http
        self._api_url = api_url.rstrip("/")
        self._oauth_url = oauth_url.rstrip("/")
        self._retry_policy = retry_policy or RetryPolicy()
        self._sleep = sleep or time.sleep
        self._monotonic = monotonic
        self._pace = _TokenPace(REQUESTS_PER_MINUTE, sleep=self._sleep, clock=monotonic)

    def exchange_code(
        self, *, store_id: int, code: str, client_id: str, client_secret: str, redirect_uri: str
    ) -> EcwidToken:
        """POST the install code as a form (the GET form was switched off in March 2025)."""
        form = {
            "client_id": client_id,
            "client_secret": client_secret,
            "code": code,
            "redirect_uri": redirect_uri,
            "grant_type": "authorization_code",
        }

        def exchange() -> httpx.Response:
            # Not retried on timeouts: a code is single-use and a second exchange disables the first token.
            try:
                return self._http.post(f"{self._oauth_url}/token/{store_id}", data=form)
            except httpx.ConnectError as error:
                raise EcwidUnavailable(f"could not reach Ecwid's token endpoint: {type(error).__name__}") from None
            except httpx.TransportError as error:
                raise EcwidError(f"Ecwid's token endpoint did not answer: {type(error).__name__}") from None

        response = call_with_retries(exchange, self._retry_policy, sleep=self._sleep, monotonic=self._monotonic)
        if response.status_code in (400, 401, 403):
            raise EcwidOAuthRejected(
                f"Ecwid refused the install code ({_describe(response)})", status=response.status_code
            )
        self._raise_for_status(response)
        try:
            return EcwidToken.model_validate(response.json())
        except (ValidationError, ValueError):
            raise EcwidError("Ecwid's token answer had an unexpected shape", status=response.status_code) from None

    def get_profile(self, store_id: int, token: str) -> StoreProfile:
        return self._model(StoreProfile, store_id, "/profile", token, {})

    def product_page(self, store_id: int, token: str, *, offset: int, limit: int = PAGE_SIZE) -> ProductPage:
        """One page of every product in a stable order (oldest first), so offsets move only on deletes."""
        params = {"offset": offset, "limit": limit, "sortBy": "ADDED_TIME_ASC"}
        return self._model(ProductPage, store_id, "/products", token, params)

    def products_by_id(self, store_id: int, token: str, product_ids: list[int]) -> list[EcwidProduct]:
        """The products that still exist among `product_ids` (at most 100)."""
        if not product_ids:
            return []
        params = {"productId": ",".join(str(i) for i in product_ids), "limit": PAGE_SIZE}
        return self._model(ProductPage, store_id, "/products", token, params).items

    def get_product(self, store_id: int, token: str, product_id: int) -> EcwidProduct | None:
        """The product as it is now, or None once it is deleted."""
        try:
            return self._model(EcwidProduct, store_id, f"/products/{product_id}", token, {})
        except EcwidNotFound:
            return None

    def products_in_category(self, store_id: int, token: str, category_id: int) -> Iterator[EcwidProduct]:
        """Every product of a category and of its sub-categories."""
        offset = 0
        while True:
            params = {
                "category": category_id,
                "withSubcategories": "true",
                "offset": offset,
                "limit": PAGE_SIZE,
                "sortBy": "ADDED_TIME_ASC",
            }
            page = self._model(ProductPage, store_id, "/products", token, params)
            yield from page.items
            offset += page.count
            if page.count == 0 or offset >= page.total:
                return

    def count_products_in_category(self, store_id: int, token: str, category_id: int) -> int:
        """How many products Ecwid counts in the category and its subcategories: one call, `total` of a page of 1."""
        params = {"category": category_id, "withSubcategories": "true", "limit": 1}
        return self._model(ProductPage, store_id, "/products", token, params).total

    def all_categories(self, store_id: int, token: str) -> list[EcwidCategory]:
        """Every category, hidden ones included (hidden ones hide their products)."""
        categories: list[EcwidCategory] = []
        offset = 0
        while True:
            params = {"offset": offset, "limit": PAGE_SIZE, "hidden_categories": "true"}
            page = self._model(CategoryPage, store_id, "/categories", token, params)
            categories.extend(page.items)
            offset += page.count
            if page.count == 0 or offset >= page.total:
                return categories

    def get_order(self, store_id: int, token: str, order_id: str) -> EcwidOrder | None:
        """The order as it is now (scope `read_orders`), or None when the store has no such order."""
        try:
            return self._model(EcwidOrder, store_id, f"/orders/{quote(order_id, safe='')}", token, {})
        except EcwidNotFound:
            return None

    def put_app_storage(self, store_id: int, token: str, key: str, value: str) -> None:
        """Create or replace `key` (scope `update_store_profile`); the raw value is the body, as Ecwid's own Java
        client sends it (the current docs' `{"value"}` form is unconfirmed: ecwid-api.md)."""
        self._write(store_id, "PUT", f"/storage/{quote(key, safe='')}", token, value.encode())

    def delete_app_storage(self, store_id: int, token: str, key: str) -> None:
        """Remove `key`; a key already gone is not an error."""
        try:
            self._write(store_id, "DELETE", f"/storage/{quote(key, safe='')}", token, None)
        except EcwidNotFound:
            return

    def _write(self, store_id: int, method: str, path: str, token: str, content: bytes | None) -> None:
        url = f"{self._api_url}/{store_id}{path}"
        headers = {"Authorization": f"Bearer {token}"}
        if content is not None:
            headers["Content-Type"] = "text/plain; charset=utf-8"

        def send() -> None:
            self._pace.wait_turn(token)
            try:
                response = self._http.request(method, url, content=content, headers=headers)
            except httpx.TransportError as error:  # a PUT or DELETE of one key is safe to repeat
                raise EcwidUnavailable(f"Ecwid did not answer {method} {path}: {type(error).__name__}") from None
            if response.status_code == 429:
                self._pace.hold(token, _retry_after(response))
            self._raise_for_status(response)

        call_with_retries(send, self._retry_policy, sleep=self._sleep, monotonic=self._monotonic)

    def _model(self, model: type[M], store_id: int, path: str, token: str, params: dict[str, Any]) -> M:
        data = self._get_json(store_id, path, token, params)
        try:
            return model.model_validate(data)
        except ValidationError:
            raise EcwidError(f"Ecwid's answer to {path} had an unexpected shape") from None

    def _get_json(self, store_id: int, path: str, token: str, params: dict[str, Any] | None = None) -> Any:
        url = f"{self._api_url}/{store_id}{path}"

        def get() -> Any:
            self._pace.wait_turn(token)
            try:
                response = self._http.get(url, params=params, headers={"Authorization": f"Bearer {token}"})
            except httpx.TransportError as error:  # a GET is safe to repeat
                raise EcwidUnavailable(f"Ecwid did not answer {path}: {type(error).__name__}") from None
            if response.status_code == 429:
                self._pace.hold(token, _retry_after(response))
            self._raise_for_status(response)
            try:
                return response.json()
            except ValueError:
                raise EcwidUnavailable(f"Ecwid answered {path} with something that is not JSON") from None

        return call_with_retries(get, self._retry_policy, sleep=self._sleep, monotonic=self._monotonic)

    @staticmethod
    def _raise_for_status(response: httpx.Response) -> None:
        status = response.status_code
        if status < 400:
            return
        error_code = _error_code(response)
        if status == 429:
            raise EcwidUnavailable("Ecwid rate limit reached", status=status, retry_after=_retry_after(response))
        if status >= 500:
            raise EcwidUnavailable(f"Ecwid failed with HTTP {status}", status=status)
        if status in (402, 403):
            raise EcwidAccessLost(f"Ecwid refused access ({_describe(response)})", status=status, error_code=error_code)
        if status == 404:
            raise EcwidNotFound(
                f"Ecwid has no such entity ({_describe(response)})", status=status, error_code=error_code
            )
        raise EcwidError(f"Ecwid rejected the request ({_describe(response)})", status=status, error_code=error_code)


def _error_code(response: httpx.Response) -> str | None:
    try:
        body = response.json()
    except ValueError:
        return None
    if isinstance(body, dict):
        code = body.get("errorCode") or body.get("error")
        return str(code) if code else None
    return None


def _describe(response: httpx.Response) -> str:
    code = _error_code(response)
    return f"HTTP {response.status_code}" + (f" {code}" if code else "")


def _retry_after(response: httpx.Response) -> float:
    try:
        seconds = float(response.headers.get("Retry-After", _DEFAULT_RETRY_AFTER))
    except ValueError:
        seconds = _DEFAULT_RETRY_AFTER
    return min(max(seconds, 0.0), _MAX_RETRY_AFTER)


class _TokenPace:
    """Keeps one process within Ecwid's per-token limit, so a large store's sync slows down instead of
    collecting 429s (one store's work runs in one worker at a time: its queue group is ordered).

    After a 429 it also holds the token until Ecwid's Retry-After has passed: a call before then raises
    `EcwidUnavailable` with the time left as its `retry_after` and never reaches Ecwid, so the retry loop waits
    when that fits its budget and gives the message back for at least that long otherwise. The hold is per
    process (a cold start forgets it): the store's queue group stays blocked behind its waiting message, so no
    other worker takes the store's work meanwhile.
    """

    def __init__(
        self, per_minute: int, *, sleep: Callable[[float], None], clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._per_minute = per_minute
        self._sleep = sleep
        self._clock = clock
        self._sent: dict[int, deque[float]] = {}
        self._not_before: dict[int, float] = {}
        self._lock = threading.Lock()

    def hold(self, token: str, seconds: float) -> None:
        """No call with `token` for `seconds` (a later hold never shortens an earlier one)."""
        key = hash(token)
        with self._lock:
            until = self._clock() + seconds
            self._not_before[key] = max(until, self._not_before.get(key, until))

    def wait_turn(self, token: str) -> None:
        key = hash(token)  # never keep the token itself
        while True:
            with self._lock:
                now = self._clock()
                not_before = self._not_before.get(key)
                if not_before is not None:
                    if now < not_before:
                        raise EcwidUnavailable(
                            "Ecwid asked to wait before the next call with this token", retry_after=not_before - now
                        )
                    del self._not_before[key]
                sent = self._sent.setdefault(key, deque())
                while sent and sent[0] <= now - 60.0:
                    sent.popleft()
                if len(sent) < self._per_minute:
                    sent.append(now)
                    return
                wait = sent[0] + 60.0 - now
            self._sleep(wait)
