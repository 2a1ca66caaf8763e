"""TikTok's Business API (v1.3) over httpx: the envelope checked on every answer, codes turned into exceptions.

TikTok answers HTTP 200 for its own errors, so success is `code == 0`, never the status alone.
"""

from __future__ import annotations

import ipaddress
import json
import time
from collections.abc import Callable, Iterator
from typing import Any, Protocol, TypeVar
from urllib.parse import urlsplit

import httpx
from aws_lambda_powertools import Logger
from pydantic import BaseModel, ValidationError

from tiktok_channel.adapters.feed_log_file import MAX_FILE_BYTES, UnreadableFile, parse_feed_log_file
from tiktok_channel.adapters.http import RetryPolicy, call_with_retries
from tiktok_channel.adapters.rate_limit import tiktok_bucket
from tiktok_channel.errors import (
    PausedError,
    TikTokAuthCodeInvalid,
    TikTokError,
    TikTokOutcomeUnknown,
    TikTokRequestRejected,
    TikTokTokenRevoked,
    TikTokUnavailable,
)
from tiktok_channel.models.tiktok import (
    AccessTokenData,
    BusinessCenterList,
    BusinessProfile,
    CatalogItem,
    CatalogItemList,
    CatalogList,
    CatalogOverview,
    CatalogSummary,
    CreatedCatalog,
    CreatedPixel,
    Envelope,
    EventSourceBinding,
    FeedLog,
    FeedLogAnswer,
    FeedLogFileRow,
    FeedLogId,
    NoData,
    Paged,
    PixelList,
    PixelSummary,
    ShopConnectionStatus,
)

logger = Logger(child=True)

M = TypeVar("M", bound=BaseModel)
P = TypeVar("P", bound=Paged)

_API = "/open_api/v1.3"
RATE_LIMITED = 40100
# How the app names itself to TikTok in Events API bodies (TikTok's WooCommerce plugin sends "WooCommerce").
PARTNER_NAME = "Ecwid"
TOKEN_REVOKED = 40105
AUTH_CODE_INVALID = 40110
_TRANSIENT_CODES = frozenset({50000, 51001})
MAX_REDIRECTS = 3  # a feed log file link may go through a CDN


class CallGate(Protocol):
    """The fleet-wide limiter every call passes (FleetRateLimiter in production)."""

    def acquire(self, bucket: str, *, max_wait_seconds: float, catalog_id: str | None = None) -> None: ...

    def pause(self, seconds: float) -> float: ...


class TikTokClient:
    def __init__(
        self,
        http: httpx.Client,
        *,
        api_url: str,
        app_id: str,
        secret: str,
        retry_policy: RetryPolicy | None = None,
        sleep: Callable[[float], None] | None = None,
        gate: CallGate | None = None,
        pause_seconds: float = 300.0,
        max_wait_seconds: float = 30.0,
    ) -> None:
        self._http = http
        self._base = api_url.rstrip("/") + _API
        self._app_id = app_id
        self._secret = secret
        self._retry_policy = retry_policy or RetryPolicy()
        self._sleep = sleep or time.sleep
        self._gate = gate
        self._pause_seconds = pause_seconds  # TikTok's "about 5 minutes" after 40100
        self._max_wait_seconds = max_wait_seconds

    # -- OAuth ---------------------------------------------------------------------------------
    def exchange_auth_code(self, auth_code: str) -> AccessTokenData:
        # A code is single-use: an answer lost in transit cannot be asked for again.
        body = {"app_id": self._app_id, "secret": self._secret, "auth_code": auth_code}
        return self._call("POST", "/oauth2/access_token/", AccessTokenData, json_body=body, repeatable=False)

    def revoke_token(self, access_token: str) -> None:
        body = {"app_id": self._app_id, "secret": self._secret, "access_token": access_token}
        self._call("POST", "/oauth2/revoke_token/", NoData, json_body=body, repeatable=True)

    # -- Business profile and Business Centers -------------------------------------------------
    def get_business_profile(self, token: str, *, business_platform: str, external_business_id: str) -> BusinessProfile:
        params = {"business_platform": business_platform, "external_business_id": external_business_id, "full_data": 1}
        return self._call("GET", "/tbp/business_profile/get/", BusinessProfile, token=token, params=params)

    def disconnect_business_profile(self, token: str, *, business_platform: str, external_business_id: str) -> None:
        """Take the store out of the merchant's TikTok profile and Store Manager (safe to repeat)."""
        body = {"external_business_id": external_business_id, "business_platform": business_platform}
        self._call("POST", "/tbp/business_profile/disconnect/", NoData, token=token, json_body=body)

    def disconnect_shop(self, token: str, *, business_platform: str, external_business_id: str) -> None:
        """Disconnect the store's TikTok Shopping storefront (safe to repeat; the body is as for the profile)."""
        body = {"external_business_id": external_business_id, "business_platform": business_platform}
        self._call("POST", "/tbp/shop/connection/disconnect/", NoData, token=token, json_body=body)

    def shop_connection_status(
        self, token: str, *, business_platform: str, external_business_id: str
    ) -> ShopConnectionStatus:
        """TikTok Shopping (storefront) connection of the store: `connected` when connect == 2."""
        params = {"business_platform": business_platform, "external_business_id": external_business_id}
        return self._call("GET", "/tbp/shop/connection/get_status/", ShopConnectionStatus, token=token, params=params)

    def list_business_centers(self, token: str) -> BusinessCenterList:
        return self._call("GET", "/bc/get/", BusinessCenterList, token=token, params={"page": 1, "page_size": 50})

    # -- Catalogs and pixels (look before creating: a create is not safe to repeat) -------------
    def iter_catalogs(self, token: str, bc_id: str) -> Iterator[CatalogSummary]:
        """Every catalog of a Business Center (catalog/get is in TikTok's API reference, not yet in tiktok-api.md)."""
        for listing in self._pages("/catalog/get/", CatalogList, token, {"bc_id": bc_id, "page_size": 100}):
            yield from listing.items

    def create_catalog(self, token: str, *, bc_id: str, name: str, region_code: str, currency: str) -> CreatedCatalog:
        body = {
            "bc_id": bc_id,
            "name": name,
            "catalog_type": "ECOM",
            "catalog_conf": {"region_code": region_code, "currency": currency},
        }
        return self._call("POST", "/catalog/create/", CreatedCatalog, token=token, json_body=body, repeatable=False)

    def iter_pixels(self, token: str, advertiser_id: str) -> Iterator[PixelSummary]:
        """Every pixel of an ad account (pixel/list is in TikTok's API reference, not yet in tiktok-api.md)."""
        for listing in self._pages("/pixel/list/", PixelList, token, {"advertiser_id": advertiser_id, "page_size": 20}):
            yield from listing.items

    def create_pixel(self, token: str, *, advertiser_id: str, name: str) -> CreatedPixel:
        body = {"advertiser_id": advertiser_id, "pixel_name": name}
        return self._call("POST", "/pixel/create/", CreatedPixel, token=token, json_body=body, repeatable=False)

    # -- the catalog's event sources (tiktok-api.md, "Pixel ↔ catalog") and the Events API ------------
    def event_source_pixels(self, token: str, *, bc_id: str, catalog_id: str) -> list[str]:
        """The pixel codes bound to the catalog."""
        params, path = {"bc_id": bc_id, "catalog_id": catalog_id}, "/catalog/eventsource_bind/get/"
        binding = self._call("GET", path, EventSourceBinding, token=token, params=params)
        return [source.pixel_code for source in binding.event_sources if source.pixel_code]

    def bind_event_source(
        self, token: str, *, advertiser_id: str, bc_id: str, catalog_id: str, pixel_code: str
    ) -> None:
        """Bind the pixel to the catalog (not assumed safe to repeat: the caller looks first)."""
        body = {"advertiser_id": advertiser_id, "bc_id": bc_id, "catalog_id": catalog_id, "pixel_code": pixel_code}
        self._call("POST", "/catalog/eventsource/bind/", NoData, token=token, json_body=body, repeatable=False)

    def track_events(self, token: str, *, pixel_code: str, events: list[dict[str, Any]]) -> None:
        """Events API: web events for the pixel (≤ 1,000); repeatable (TikTok drops repeats of an event_id for 48 h)."""
        body = {"event_source": "web", "event_source_id": pixel_code, "partner_name": PARTNER_NAME, "data": events}
        self._call("POST", "/event/track/", NoData, token=token, json_body=body)

    # -- catalog products (upload and delete are upserts keyed on sku_id: safe to repeat) ---------
    def upload_products(self, token: str, *, bc_id: str, catalog_id: str, products: list[dict[str, Any]]) -> str:
        body = {"bc_id": bc_id, "catalog_id": catalog_id, "products": products}
        answer = self._call(
            "POST", "/catalog/product/upload/", FeedLogId, token=token, json_body=body, catalog_id=catalog_id
        )
        return answer.feed_log_id

    def delete_products(self, token: str, *, bc_id: str, catalog_id: str, sku_ids: list[str]) -> str:
        body = {"bc_id": bc_id, "catalog_id": catalog_id, "sku_ids": sku_ids}
        return self._call("POST", "/catalog/product/delete/", FeedLogId, token=token, json_body=body).feed_log_id

    def feed_log(self, token: str, *, bc_id: str, catalog_id: str, feed_log_id: str) -> FeedLog:
        params = {"bc_id": bc_id, "catalog_id": catalog_id, "feed_log_id": feed_log_id}
        return self._call("GET", "/catalog/product/log/", FeedLogAnswer, token=token, params=params).product_feed_log

    def feed_log_file(self, url: str) -> list[FeedLogFileRow]:
        """The complete list of a feed log's failed products (adapters/feed_log_file.py for the format).

        The link comes from TikTok's answer, so it is followed only where a file of TikTok's can be: https to a
        public host, or the API's own host (the sandbox's files; TikTok's examples link http), through at most
        MAX_REDIRECTS redirects each checked alike; no token is sent with it (a file link, not an API call), and at
        most MAX_FILE_BYTES are read. `TikTokError` when it cannot be read.
        """
        chunks: list[bytes] = []
        try:
            for _ in range(MAX_REDIRECTS + 1):
                self._check_file_link(url)
                with self._http.stream("GET", url, follow_redirects=False) as response:
                    if response.is_redirect and "location" in response.headers:
                        url = str(response.url.join(response.headers["location"]))
                        continue
                    if response.status_code != 200:
                        raise TikTokError(f"TikTok's feed log file answered HTTP {response.status_code}")
                    size = 0
                    for chunk in response.iter_bytes():
                        size += len(chunk)
                        if size > MAX_FILE_BYTES:
                            raise TikTokError(f"TikTok's feed log file is larger than {MAX_FILE_BYTES} bytes")
                        chunks.append(chunk)
                    break
            else:
                raise TikTokError("TikTok's feed log file link redirects too often")
        except httpx.HTTPError as error:
            raise TikTokError(f"TikTok's feed log file could not be read: {type(error).__name__}") from None
        try:
            return parse_feed_log_file(b"".join(chunks))
        except UnreadableFile as error:
            raise TikTokError(f"TikTok's feed log file is unreadable: {error}") from None

    def _check_file_link(self, url: str) -> None:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        if host and host == urlsplit(self._base).hostname:
            return
        if parts.scheme != "https" or not host or _private_address(host):
            raise TikTokError("TikTok's feed log file link is not an https link to a public host")

    def catalog_overview(self, token: str, *, bc_id: str, catalog_id: str) -> CatalogOverview:
        """TikTok's counts of the catalog's products by review state (one call)."""
        params = {"bc_id": bc_id, "catalog_id": catalog_id}
        return self._call("GET", "/catalog/overview/", CatalogOverview, token=token, params=params)

    def products_by_sku(self, token: str, *, bc_id: str, catalog_id: str, sku_ids: list[str]) -> list[CatalogItem]:
        """Review state of up to 1000 SKUs."""
        params = {"bc_id": bc_id, "catalog_id": catalog_id, "sku_ids": json.dumps(sku_ids), "page_size": 500}
        found: list[CatalogItem] = []
        for listing in self._pages("/catalog/product/get/", CatalogItemList, token, params):
            found.extend(listing.items)
        return found

    def iter_catalog_products(self, token: str, *, bc_id: str, catalog_id: str) -> Iterator[CatalogItem]:
        """Everything the catalog holds, 500 per call (TikTok stops at page × page_size = 100,000)."""
        params = {"bc_id": bc_id, "catalog_id": catalog_id, "page_size": 500}
        for listing in self._pages("/catalog/product/get/", CatalogItemList, token, params):
            yield from listing.items

    # -- plumbing ------------------------------------------------------------------------------
    def _pages(self, path: str, model: type[P], token: str, params: dict[str, Any]) -> Iterator[P]:
        page = 1
        while True:
            listing = self._call("GET", path, model, token=token, params={**params, "page": page})
            yield listing
            if page >= listing.page_info.total_page:
                return
            page += 1

    def _call(
        self,
        method: str,
        path: str,
        model: type[M],
        *,
        token: str | None = None,
        params: dict[str, Any] | None = None,
        json_body: dict[str, Any] | None = None,
        repeatable: bool = True,
        catalog_id: str | None = None,
    ) -> M:
        headers = {"Access-Token": token} if token else {}
        if json_body is not None:
            headers["Content-Type"] = "application/json"
        content = json.dumps(json_body).encode() if json_body is not None else None

        def once() -> M:
            if self._gate is not None:
                # An upload also counts against its catalog's hourly allowance (tiktok-api.md, "Rate limits").
                self._gate.acquire(tiktok_bucket(path), max_wait_seconds=self._max_wait_seconds, catalog_id=catalog_id)
            try:
                response = self._http.request(
                    method, self._base + path, params=params, content=content, headers=headers
                )
            except httpx.ConnectError as error:  # never sent: always safe to try again
                raise TikTokUnavailable(f"could not reach TikTok {path}: {type(error).__name__}") from None
            except httpx.TransportError as error:
                message = f"TikTok {path} did not answer: {type(error).__name__}"
                if repeatable:
                    raise TikTokUnavailable(message) from None
                raise TikTokOutcomeUnknown(message) from None
            try:
                return self._parse(path, response, model)
            except TikTokUnavailable as failure:
                if failure.code == RATE_LIMITED and self._gate is not None:
                    # The limit is the app's, shared by every worker: the whole fleet waits, nobody retries.
                    raise PausedError(self._gate.pause(self._pause_seconds)) from None
                raise

        return call_with_retries(once, self._retry_policy, sleep=self._sleep)

    @staticmethod
    def _parse(path: str, response: httpx.Response, model: type[M]) -> M:
        if response.status_code >= 500 or response.status_code == 429:
            raise TikTokUnavailable(f"TikTok {path} failed with HTTP {response.status_code}")
        try:
            envelope = Envelope.model_validate_json(response.content)
        except ValidationError:
            raise TikTokUnavailable(
                f"TikTok {path} answered HTTP {response.status_code} without its JSON envelope"
            ) from None
        if envelope.code != 0:
            _raise_for_code(path, envelope)
        try:
            return model.model_validate(envelope.data or {})
        except ValidationError as error:
            fields = ", ".join(".".join(str(p) for p in e["loc"]) for e in error.errors())
            raise TikTokError(
                f"TikTok {path} answered an unexpected shape ({fields})", request_id=envelope.request_id
            ) from None


def _private_address(host: str) -> bool:
    """Whether `host` is an IP address that is not public (loopback, private, link-local: e.g. a cloud metadata or
    runtime API); names are left to DNS, as for any https link."""
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return host == "localhost" or host.endswith(".localhost")
    return not address.is_global


def _raise_for_code(path: str, envelope: Envelope) -> None:
    code, request_id = envelope.code, envelope.request_id
    logger.warning("TikTok call failed", extra={"path": path, "code": code, "request_id": request_id})
    message = f"TikTok {path} answered code {code}: {envelope.message[:200]}"
    kind: type[TikTokError] = TikTokRequestRejected
    if code == RATE_LIMITED or code in _TRANSIENT_CODES:
        kind = TikTokUnavailable
    elif code == TOKEN_REVOKED:
        kind = TikTokTokenRevoked
    elif code == AUTH_CODE_INVALID:
        kind = TikTokAuthCodeInvalid
    raise kind(message, code=code, request_id=request_id, detail=envelope.message[:500])
