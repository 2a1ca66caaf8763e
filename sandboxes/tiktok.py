"""Sandbox TikTok For Business: a stateful fake of the Business API v1.3 served over real HTTP.

It follows shared/docs/tiktok-api.md, not any client code: every answer is HTTP 200 with the
`{code, message, request_id, data}` envelope, the token goes in an `Access-Token` header, limits are
per app, uploads are processed asynchronously (feed logs) and reviewed later (audit status). Tests
drive time with `clock.advance()`; faults come from common.py.

Choices where TikTok's behaviour is not documented (kept here so they are easy to revisit):
- A wrong app_id or secret answers 40001 ("no permission"), like any other refused credential.
- Cancel on the authorize page sends the merchant back to `redirect_uri?error=access_denied&
  error_description=…&state=…` with no auth_code (the OAuth 2.0 convention, RFC 6749 §4.1.2.1).
- Revoking an already revoked token succeeds, so a cleanup retried after a timeout converges.
- business_profile/disconnect of a store the token never had answers 40002; of an already
  disconnected one, success. It also disconnects the store's TikTok Shopping storefront.
- shop/connection/get_status answers connect 1 ("not connected") for every store not connected.
- A re-authorizing merchant gets their Business Center and ad account back (same TikTok account);
  the hosted setup reuses the store's pixel, and its catalog when region and currency still match.
- TikTok Shopping connects when the merchant authorizes again after `approve_shop()` (the form shows
  a "Connect TikTok Shopping" box, ticked by default).
- Uploads take effect at once (so an `applied_timeout` fault leaves them applied); their feed log
  says PROCESSING, with no counts, until `feed_log_delay_seconds` have passed.
- `catalog/product/update/` and `catalog/product/file/` are not served (404): the project uses
  upload only, as tiktok-api.md advises.
- Whole-request refusal ("One refused product can refuse the whole request"): an upload where any product
  matches one of `request_refusal_rules` answers 40002 with data {} and applies nothing. Unconfirmed: the
  exact code and message (`refusal_message_names` picks the form), and which problems refuse the whole
  request; by default only the empty values TikTok's WooCommerce plugin guards against do, everything else
  is a feed-log error of that product.
- The feed log's `download_path` is `{"en": "<base_url>/_files/feed_logs/<feed_log_id>.csv"}` when it has
  errors (`{}` otherwise), served once processed without Access-Token as a signed link would be; the CSV format and its
  columns (index,sku_id,title,field,issue,suggestion) are the sandbox's own (unconfirmed).
- Expiry ("Freshness"): a product whose last accepted upload (changed or not, unconfirmed) is older than
  `product_expiry_seconds` is gone, purged lazily before any request is answered (and by
  apply_due_reviews/catalog_for). Move time with `tiktok.clock.advance(seconds)` or POST /_sandbox/clock
  {"advance_seconds": n}.
- 1,000 uploads per hour per catalog: see tiktok_limits.CatalogUploadLimit (no app-wide pause, unconfirmed).

- Events API, pixel and catalog bindings: tiktok_events.py (checks, deduplication) and tiktok_pixel.py
  (events.js, collector) list their unconfirmed choices; the settings are attributes of TikTokSandbox.

Control endpoints for the local run (beside common.py's /_sandbox/ ones): POST
/_sandbox/tiktok/review_now, POST /_sandbox/tiktok/approve_shop {external_business_id},
GET /_sandbox/tiktok/state, GET /_sandbox/events?pixel_code=&source= (every event received, with its
source and status), GET /_sandbox/conversions?pixel_code= (what TikTok counts after deduplication).
"""

from __future__ import annotations

import copy
import heapq
import hmac
import itertools
import random
import secrets
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from sandboxes.common import Request, Response, Sandbox
from sandboxes.tiktok_catalog import (
    FIRST_ROW_INDEX,
    ProductIssue,
    RefusalMessageNames,
    RefusalRule,
    RejectionRule,
    empty_value_rule,
    feed_log_csv,
    feed_log_rows,
    feed_log_view,
    group_issues,
    page_price_issue,
    product_view,
    prohibited_words_rule,
    refusal_message,
    utc_text,
    validate_product,
)
from sandboxes.tiktok_events import (
    FUTURE_SKEW_SECONDS,
    MAX_EVENT_AGE_SECONDS,
    SOURCE_BROWSER,
    SOURCE_SERVER,
    STATUS_REFUSED,
    SUPPORTED_CURRENCIES,
    Conversion,
    EventLedger,
    EventRefused,
    ReceivedEvent,
    check_server_event,
    server_user,
)
from sandboxes.tiktok_limits import (
    API_PREFIX,
    CatalogUploadLimit,
    RateLimit,
    RateLimiter,
    bucket_for,
    default_limits,
)
from sandboxes.tiktok_models import (
    ALL_SCOPES,
    AUDIT_APPROVED,
    AUDIT_PROCESSING,
    AUDIT_REJECTED,
    AUTH_CODE_INVALID,
    NO_PERMISSION,
    OK,
    PARAM_INVALID,
    PARAM_MALFORMED,
    PROFILE_CONNECTED,
    RATE_LIMITED,
    SCOPE_AD_ACCOUNT,
    SCOPE_BUSINESS_CENTER,
    SCOPE_CATALOG,
    SCOPE_EVENTS,
    SCOPE_PIXEL,
    SCOPE_TBP,
    SHOP_CONNECTED,
    SHOP_NOT_CONNECTED,
    TOKEN_INVALID,
    Advertiser,
    ApiError,
    AuthCode,
    BusinessCenter,
    BusinessProfile,
    Catalog,
    CatalogProduct,
    FeedLog,
    MerchantAccount,
    Pixel,
    ShopConnection,
    Token,
    TrackedEvent,
)
from sandboxes.tiktok_params import Params, paginate
from sandboxes.tiktok_pixel import (
    COLLECTOR_PATH,
    SCRIPT_PATH,
    TTP_COOKIE_DAYS,
    browser_match_keys,
    browser_page,
    check_browser_event,
    collector_body,
    pixel_script,
)
from sandboxes.tiktok_portal import (
    SETUP_BUSINESS_PROFILE,
    SETUPS,
    PortalError,
    decode_external_data,
    render_error,
    render_form,
    verify_external_data,
)

__all__ = [
    "ApiError",
    "BusinessCenter",
    "BusinessProfile",
    "Catalog",
    "CatalogProduct",
    "FeedLog",
    "Pixel",
    "PortalError",
    "RateLimit",
    "ShopConnection",
    "TikTokSandbox",
    "Token",
]

TokenHandler = Callable[[Params, Token], dict[str, Any]]
PublicHandler = Callable[[Params], dict[str, Any]]

AUTH_CODE_LIFETIME = 3600.0  # seconds of sandbox clock; single use
PRODUCT_EXPIRY_SECONDS = 30 * 86_400.0  # tiktok-api.md "Freshness": products expire after 30 days
FEED_LOG_FILES = "/_files/feed_logs/"
EVENT_SOURCES = frozenset({"web"})
MAX_EVENTS_PER_REQUEST = 1000  # tiktok-api.md "Events API": more and the whole request is rejected


class TikTokSandbox(Sandbox):
    name = "tiktok"

    def __init__(
        self,
        app_id: str = "7000000000000000001",
        secret: str = "sandbox-secret",  # noqa: S107 - the sandbox app's well-known test secret
        external_data_key: str | None = None,
        *,
        latency_seconds: float = 0.0,
        seed: int = 0,
        penalty_seconds: float = 300.0,
        review_delay_seconds: float = 60.0,
        feed_log_delay_seconds: float = 0.0,
        enforce_rate_limits: bool = True,
        max_products_per_upload: int = 5000,
        max_affected_items_listed: int | None = 5,
        refusal_message_names: RefusalMessageNames = "field",
        product_expiry_seconds: float = PRODUCT_EXPIRY_SECONDS,
        catalog_uploads_per_hour: int = 1000,
        page_prices: Callable[[str], tuple[float, float | None] | None] | None = None,
        max_event_age_seconds: float = MAX_EVENT_AGE_SECONDS,
        bad_event_fails_request: bool = True,
    ) -> None:
        super().__init__(latency_seconds=latency_seconds, seed=seed)
        self.app_id = app_id
        self.secret = secret
        self.external_data_key = external_data_key
        self.review_delay_seconds = review_delay_seconds
        self.feed_log_delay_seconds = feed_log_delay_seconds
        self.enforce_rate_limits = enforce_rate_limits
        # TikTok's maximum per upload call is unconfirmed for v1.3 (tiktok-api.md): a setting.
        self.max_products_per_upload = max_products_per_upload
        # TikTok's reference says a feed log lists only the first five products per issue; None lists all.
        # `affected_product_count` counts them all and the file behind `download_path` lists them all.
        self.max_affected_items_listed = max_affected_items_listed
        # Any product matching one of these refuses the whole upload (40002, nothing applied). Which
        # problems TikTok treats so is unconfirmed; the default is the empty values TikTok's WooCommerce
        # plugin guards against. Add tiktok_catalog.refuse_skus({...}) to refuse chosen SKUs.
        self.request_refusal_rules: list[RefusalRule] = [empty_value_rule]
        # What the refusal message names besides the field (TikTok's wording is unconfirmed): the offending
        # value ("field"), the product's 0-based position in `products` ("index"), or its sku_id ("sku_id").
        self.refusal_message_names: RefusalMessageNames = refusal_message_names
        # Products not uploaded again (changed or not) for this long are gone. What TikTok's 30 days count
        # from, and whether an unchanged re-upload resets them, is unconfirmed: here, any accepted upload.
        self.product_expiry_seconds = product_expiry_seconds
        # sku_id -> (regular price, sale price or None) as the product's page shows them, None when the
        # page is unknown; None: no check. A product whose price_info differs is a feed-log error
        # ("Product price and page price are inconsistent"). The local run wires the sandbox Ecwid's.
        self.page_prices = page_prices
        self._catalog_uploads = CatalogUploadLimit(catalog_uploads_per_hour)
        self._earliest_refresh: float | None = None  # the oldest refreshed_at that may still be held

        self.tokens: dict[str, Token] = {}
        self.auth_codes: dict[str, AuthCode] = {}
        self.business_centers: dict[str, BusinessCenter] = {}
        self.advertisers: dict[str, Advertiser] = {}
        self.catalogs: dict[str, Catalog] = {}
        self.pixels: dict[str, Pixel] = {}  # by pixel_code
        self.business_profiles: dict[tuple[str, str], BusinessProfile] = {}
        self.shop_connections: dict[str, ShopConnection] = {}  # by external_business_id
        self.feed_logs: dict[str, FeedLog] = {}
        # Events API and pixel (tiktok_events.py): every event received, and the conversions counted.
        self._ledger = EventLedger()
        # How old an event_time may be is unconfirmed (tiktok-api.md "Not confirmed"): 7 days by default.
        self.max_event_age_seconds = max_event_age_seconds
        # How far ahead of the sandbox clock an event_time may be (clock skew): unconfirmed, 5 minutes.
        self.event_time_skew_seconds = FUTURE_SKEW_SECONDS
        # Whether one bad event fails the whole event/track request is unconfirmed (a third-party tool says
        # it does): True answers 40002 naming the field and counts nothing. False counts the good events and
        # answers code 0 with data {"failed_events": [{index, code: 40002, message}]} (the sandbox's own
        # shape); a request whose events are all bad is still refused with 40002.
        self.bad_event_fails_request = bad_event_fails_request
        # TikTok's supported currency list (tiktok-api.md names it without reproducing it): a setting.
        self.supported_currencies: frozenset[str] = SUPPORTED_CURRENCIES
        # The pixel (tiktok_pixel.py). Whether TikTok's pixel hashes raw ttq.identify values itself is
        # unconfirmed: the sandbox's does not, and its collector refuses an event whose identify keys are not
        # SHA-256 hex (True), as strict as the Events API. The _ttp lifetime is unconfirmed (13 months).
        self.pixel_refuses_raw_identify = True
        self.ttp_cookie_days = TTP_COOKIE_DAYS
        self.accounts: dict[tuple[str, str], MerchantAccount] = {}
        # Scope granted to new tokens; a test narrows it to exercise 40001.
        self.default_scope: list[int] = list(ALL_SCOPES)
        self.rejection_rules: list[RejectionRule] = [prohibited_words_rule()]
        # Checks TikTok makes when it ingests a feed (a failed product appears in the feed log, not in the
        # catalog), beside the field rules: e.g. a landing page outside the verified domain. Empty by default.
        self.ingestion_rules: list[Callable[[dict[str, Any]], ProductIssue | None]] = []
        # (image_url) -> TikTok image_status; None treats every image as good. See fetch_image_status.
        self.image_checker: Callable[[str], str] | None = None
        self._limiter = RateLimiter(default_limits(), penalty_seconds)

        self._rng = random.Random(seed)
        self._review_queue: list[tuple[float, int, str, str]] = []  # (due, seq, catalog_id, sku_id)
        self._sequence = itertools.count()
        self._image_status: dict[str, str] = {}
        self._register_routes()

    # -- Python API ------------------------------------------------------------------------------
    @property
    def penalty_seconds(self) -> float:
        return self._limiter.penalty_seconds

    @penalty_seconds.setter
    def penalty_seconds(self, value: float) -> None:
        self._limiter.penalty_seconds = value

    @property
    def rate_limits(self) -> dict[str, RateLimit]:
        """Limits by bucket ("upload", "delete_update", "event", "default"); change them in place."""
        return self._limiter.limits

    @rate_limits.setter
    def rate_limits(self, value: dict[str, RateLimit]) -> None:
        self._limiter.limits = value

    @property
    def catalog_uploads_per_hour(self) -> int:
        """Upload calls one catalog takes in a sliding hour before answering 40100 (TikTok's 1,000)."""
        return self._catalog_uploads.per_hour

    @catalog_uploads_per_hour.setter
    def catalog_uploads_per_hour(self, value: int) -> None:
        self._catalog_uploads.per_hour = value

    @property
    def paused_until(self) -> float | None:
        """Sandbox-clock time until which every call of the app answers 40100 (None: never paused)."""
        return self._limiter.paused_until

    @paused_until.setter
    def paused_until(self, value: float | None) -> None:
        self._limiter.paused_until = value

    def authorize(
        self,
        state: str,
        redirect_uri: str,
        external_data: str | None = None,
        setup: str = SETUP_BUSINESS_PROFILE,
        *,
        app_id: str | None = None,
        connect_shop: bool = True,
    ) -> str:
        """Submit the authorize form as a merchant would ("Connect") and return the auth code.

        Raises PortalError where the page would show an error instead.
        """
        with self.lock:
            store = self._portal_store(app_id or self.app_id, redirect_uri, external_data or "")
            return self._grant(store, setup, connect_shop).code

    def revoke(self, access_token: str) -> None:
        with self.lock:
            self.tokens[access_token].revoked = True

    def review_now(self) -> int:
        """Finish every pending review at once; returns how many products were decided."""
        with self.lock:
            return self._run_reviews(force=True)

    def approve_shop(self, external_business_id: str, business_platform: str = "") -> ShopConnection:
        """TikTok accepted the store's storefront application: its next authorization can connect it."""
        with self.lock:
            connection = self.shop_connections.setdefault(
                external_business_id, ShopConnection(external_business_id, business_platform)
            )
            connection.approved = True
            return connection

    def apply_due_reviews(self) -> int:
        """Decide the reviews that came due on the sandbox clock (every request does this first;
        call it before reading `catalogs` directly after `clock.advance()`; it also drops expired products)."""
        with self.lock:
            self._purge_expired()
            return self._run_reviews()

    def catalog_for(self, bc_id: str | None = None) -> Catalog | None:
        """The first catalog (of `bc_id` when given), with its due reviews applied."""
        with self.lock:
            self._purge_expired()
            self._run_reviews()
            return next((c for c in self.catalogs.values() if bc_id is None or c.bc_id == bc_id), None)

    @property
    def events(self) -> list[TrackedEvent]:
        """Events API events received and not refused (counted or deduplicated), oldest first."""
        with self.lock:
            return [
                TrackedEvent(e.pixel_code, e.payload, e.received_at)
                for e in self._ledger.received_events(source=SOURCE_SERVER)
                if e.status != STATUS_REFUSED
            ]

    def received_events(self, pixel_code: str | None = None, source: str | None = None) -> list[ReceivedEvent]:
        """Every event received (Events API "server", pixel "browser"), refused ones too, oldest first."""
        with self.lock:
            return self._ledger.received_events(pixel_code, source)

    def conversions(self, pixel_code: str | None = None) -> list[Conversion]:
        """The events TikTok counts after deduplication (tiktok-api.md "Events API"), oldest first."""
        with self.lock:
            return self._ledger.conversions(pixel_code)

    @property
    def pixel_script_url(self) -> str:
        """TikTok's events.js as the sandbox serves it: base code loads `{this}?sdkid=<pixel_code>&lib=ttq`."""
        return f"{self.base_url}{SCRIPT_PATH}"

    @property
    def pixel_collector_url(self) -> str:
        """Where the sandbox pixel sends browser events (tiktok_pixel.py describes the body)."""
        return f"{self.base_url}{COLLECTOR_PATH}"

    # -- request cycle -------------------------------------------------------------------------
    def dispatch(self, request: Request) -> Response:
        # Reviews finish and products expire lazily: whatever came due on the sandbox clock is applied
        # before any answer.
        self._purge_expired()
        self._run_reviews()
        return super().dispatch(request)

    def rate_limited(self, request: Request) -> Response:
        return self._envelope(
            RATE_LIMITED, "Too many requests: the app exceeded its rate limit. Please retry later.", {}
        )

    def _envelope(self, code: int, message: str, data: dict[str, Any] | None = None) -> Response:
        # request_id has TikTok's shape (UTC timestamp + hex); drawn outside the seeded generator
        # because fault answers are built without the sandbox lock.
        request_id = time.strftime("%Y%m%d%H%M%S", time.gmtime(self.clock.now())) + secrets.token_hex(9).upper()
        body = {"code": code, "message": message, "request_id": request_id, "data": {} if data is None else data}
        return Response.json(body, headers={"X-Tt-Logid": request_id})

    def _api(self, method: str, endpoint: str, handler: TokenHandler, scope: int) -> None:
        def serve(request: Request) -> Response:
            return self._serve_api(request, lambda params: handler(params, self._token(request, scope)))

        self.route(method, API_PREFIX + endpoint, serve)

    def _public_api(self, method: str, endpoint: str, handler: PublicHandler) -> None:
        self.route(method, API_PREFIX + endpoint, lambda request: self._serve_api(request, handler))

    def _serve_api(self, request: Request, handler: PublicHandler) -> Response:
        if self.enforce_rate_limits and not self._limiter.admit(bucket_for(request.path), self.clock.now()):
            return self.rate_limited(request)
        try:
            return self._envelope(OK, "OK", handler(Params.of(request)))
        except ApiError as error:
            return self._envelope(error.code, error.message, {})

    def _token(self, request: Request, scope: int) -> Token:
        value = request.headers.get("access-token", "").strip()
        token = self.tokens.get(value) if value else None
        if token is None or token.revoked:
            raise ApiError(
                TOKEN_INVALID,
                "Access token is invalid or has been revoked." if value else "Access-Token header is missing.",
            )
        if scope not in token.scope:
            raise ApiError(NO_PERMISSION, "The access token has no permission for this API (scope).")
        return token

    # -- ids -------------------------------------------------------------------------------------
    def _numeric_id(self) -> str:
        return str(self._rng.randrange(7_000_000_000_000_000_000, 7_999_999_999_999_999_999))

    def _hex(self, length: int) -> str:
        return "".join(self._rng.choice("0123456789abcdef") for _ in range(length))

    def _pixel_code(self) -> str:
        return "C" + "".join(self._rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") for _ in range(19))

    # -- routes --------------------------------------------------------------------------------
    def _register_routes(self) -> None:
        self.route("GET", "/portal/auth", self._portal_get)
        self.route("POST", "/portal/auth", self._portal_post)
        self._public_api("POST", "/oauth2/access_token/", self._access_token)
        self._public_api("POST", "/oauth2/revoke_token/", self._revoke_token)
        self._api("GET", "/oauth2/advertiser/get/", self._advertiser_get, SCOPE_AD_ACCOUNT)
        self._api("GET", "/bc/get/", self._bc_get, SCOPE_BUSINESS_CENTER)
        self._api("GET", "/tbp/business_profile/get/", self._profile_get, SCOPE_TBP)
        self._api("POST", "/tbp/business_profile/disconnect/", self._profile_disconnect, SCOPE_TBP)
        self._api("GET", "/tbp/shop/connection/get_status/", self._shop_status, SCOPE_TBP)
        self._api("POST", "/tbp/shop/connection/disconnect/", self._shop_disconnect, SCOPE_TBP)
        self._api("POST", "/catalog/create/", self._catalog_create, SCOPE_CATALOG)
        # catalog/get and pixel/list are in TikTok's API reference but not in tiktok-api.md.
        self._api("GET", "/catalog/get/", self._catalog_get, SCOPE_CATALOG)
        self._api("POST", "/pixel/create/", self._pixel_create, SCOPE_PIXEL)
        self._api("GET", "/pixel/list/", self._pixel_list, SCOPE_PIXEL)
        self._api("POST", "/catalog/product/upload/", self._product_upload, SCOPE_CATALOG)
        self._api("POST", "/catalog/product/delete/", self._product_delete, SCOPE_CATALOG)
        self._api("GET", "/catalog/product/get/", self._product_get, SCOPE_CATALOG)
        self._api("GET", "/catalog/product/log/", self._product_log, SCOPE_CATALOG)
        self._api("GET", "/catalog/overview/", self._catalog_overview, SCOPE_CATALOG)
        self._api("POST", "/event/track/", self._event_track, SCOPE_EVENTS)
        self._api("POST", "/catalog/eventsource/bind/", self._eventsource_bind, SCOPE_CATALOG)
        self._api("POST", "/catalog/eventsource/unbind/", self._eventsource_unbind, SCOPE_CATALOG)
        self._api("GET", "/catalog/eventsource_bind/get/", self._eventsource_get, SCOPE_CATALOG)
        # Control endpoints for the local run and for tests in another process.
        # The feed log's file, as behind a signed download link: no Access-Token.
        self.route("GET", FEED_LOG_FILES + "{name}", self._feed_log_file)
        self.route("POST", "/_sandbox/tiktok/review_now", self._control_review_now)
        self.route("POST", "/_sandbox/tiktok/approve_shop", self._control_approve_shop)
        self.route("GET", "/_sandbox/tiktok/state", self._control_state)
        # The pixel in the browser (tiktok_pixel.py): its script and the collector it sends to.
        self.route("GET", SCRIPT_PATH, self._pixel_script)
        self.route("POST", COLLECTOR_PATH, self._pixel_collect)
        self.route("GET", "/_sandbox/events", self._control_events)
        self.route("GET", "/_sandbox/conversions", self._control_conversions)

    # -- authorize page ------------------------------------------------------------------------
    def _portal_store(self, app_id: str, redirect_uri: str, external_data: str) -> dict[str, Any]:
        """Check the authorize parameters; the decoded external_data ({} without one)."""
        if not hmac.compare_digest(app_id.encode(), self.app_id.encode()):
            raise PortalError(f"The app {app_id or '(none)'} is not registered with TikTok For Business.")
        target = urlsplit(redirect_uri)
        if target.scheme not in ("http", "https") or not target.netloc:
            raise PortalError("redirect_uri is missing or is not an http(s) URL.")
        if not external_data:
            return {}
        store = decode_external_data(external_data)
        verify_external_data(store, self.external_data_key)
        return store

    def _portal_get(self, request: Request) -> Response:
        params = {name: request.arg(name) or "" for name in ("app_id", "state", "redirect_uri", "external_data")}
        try:
            store = self._portal_store(params["app_id"], params["redirect_uri"], params["external_data"])
        except PortalError as error:
            return Response.html(render_error(str(error)), 400)
        connection = self.shop_connections.get(str(store.get("external_business_id") or ""))
        return Response.html(render_form(params, store, connection is not None and connection.approved))

    def _portal_post(self, request: Request) -> Response:
        form = request.form()
        try:
            store = self._portal_store(
                form.get("app_id", ""), form.get("redirect_uri", ""), form.get("external_data", "")
            )
            state = {"state": form["state"]} if form.get("state") else {}
            if form.get("decision") != "connect":
                return Response.redirect(
                    _with_query(
                        form["redirect_uri"],
                        {
                            "error": "access_denied",
                            "error_description": "The merchant cancelled the authorization.",
                            **state,
                        },
                    )
                )
            code = self._grant(store, form.get("setup", SETUP_BUSINESS_PROFILE), form.get("connect_shop") == "1")
        except PortalError as error:
            return Response.html(render_error(str(error)), 400)
        return Response.redirect(_with_query(form["redirect_uri"], {"auth_code": code.code, **state}))

    def _grant(self, store: dict[str, Any], setup: str, connect_shop: bool) -> AuthCode:
        """What TikTok's hosted setup does once the merchant presses Connect."""
        if setup not in SETUPS:
            raise PortalError(f"Unknown setup {setup!r}.")
        external_id = str(store.get("external_business_id") or "")
        platform = str(store.get("business_platform") or "")
        if setup == SETUP_BUSINESS_PROFILE and not (external_id and platform):
            raise PortalError("The store setup needs external_data with external_business_id and business_platform.")
        store_name = str(store.get("store_name") or "Sandbox store")
        currency = str(store.get("currency") or "USD").upper()
        region = str(store.get("country_region") or "US").upper()
        account = self._account(platform, external_id, store_name, currency, region)
        if setup == SETUP_BUSINESS_PROFILE:
            self._set_up_profile(platform, external_id, account, store_name, currency, region)
        connection = self.shop_connections.get(external_id)
        if connect_shop and connection is not None and connection.approved:
            connection.connected = True
            connection.business_platform = connection.business_platform or platform
        code = AuthCode(
            code=self._hex(40),
            app_id=self.app_id,
            advertiser_ids=[account.advertiser_id],
            bc_ids=[account.bc_id],
            scope=list(self.default_scope),
            expires_at=self.clock.now() + AUTH_CODE_LIFETIME,
        )
        self.auth_codes[code.code] = code
        return code

    def _account(self, platform: str, external_id: str, store_name: str, currency: str, region: str) -> MerchantAccount:
        known = self.accounts.get((platform, external_id)) if external_id else None
        if known is not None and known.bc_id in self.business_centers:
            return known
        bc = BusinessCenter(self._numeric_id(), store_name, currency, region)
        self.business_centers[bc.bc_id] = bc
        advertiser = Advertiser(self._numeric_id(), f"{store_name} ad account", bc.bc_id, currency, region)
        self.advertisers[advertiser.advertiser_id] = advertiser
        account = MerchantAccount(bc.bc_id, advertiser.advertiser_id)
        if external_id:
            self.accounts[(platform, external_id)] = account
        return account

    def _set_up_profile(
        self, platform: str, external_id: str, account: MerchantAccount, store_name: str, currency: str, region: str
    ) -> BusinessProfile:
        old = self.business_profiles.get((platform, external_id))
        if old is not None and old.pixel_code in self.pixels:
            pixel_code = old.pixel_code
        else:
            pixel_code = self._create_pixel(account.advertiser_id, store_name[:40]).pixel_code
        catalog = self.catalogs.get(old.catalog_id) if old is not None else None
        if catalog is None or (catalog.currency, catalog.region_code, catalog.bc_id) != (
            currency,
            region,
            account.bc_id,
        ):
            catalog = self._create_catalog(account.bc_id, store_name[:128], region, currency)
        profile = BusinessProfile(
            account.bc_id,
            account.advertiser_id,
            pixel_code,
            catalog.catalog_id,
            store_name,
            PROFILE_CONNECTED,
            True,
            platform,
            external_id,
        )
        self.business_profiles[(platform, external_id)] = profile
        return profile

    def _create_pixel(self, advertiser_id: str, name: str) -> Pixel:
        pixel = Pixel(self._numeric_id(), self._pixel_code(), name, advertiser_id)
        self.pixels[pixel.pixel_code] = pixel
        return pixel

    def _create_catalog(self, bc_id: str, name: str, region: str, currency: str) -> Catalog:
        catalog = Catalog(self._numeric_id(), bc_id, name, region, currency, created_at=self.clock.now())
        self.catalogs[catalog.catalog_id] = catalog
        return catalog

    # -- OAuth -----------------------------------------------------------------------------------
    def _check_app(self, params: Params) -> None:
        app_id, secret = params.text("app_id"), params.text("secret")
        if not (
            hmac.compare_digest(app_id.encode(), self.app_id.encode())
            and hmac.compare_digest(secret.encode(), self.secret.encode())
        ):
            raise ApiError(NO_PERMISSION, "app_id or secret is invalid.")

    def _access_token(self, params: Params) -> dict[str, Any]:
        self._check_app(params)
        code = self.auth_codes.get(params.text("auth_code"))
        if code is None or code.used or code.app_id != self.app_id or self.clock.now() >= code.expires_at:
            raise ApiError(AUTH_CODE_INVALID, "auth_code is invalid, expired or already used.")
        code.used = True
        token = Token(
            self._hex(40), list(code.advertiser_ids), list(code.scope), list(code.bc_ids), created_at=self.clock.now()
        )
        self.tokens[token.access_token] = token
        return {
            "access_token": token.access_token,
            "advertiser_ids": list(token.advertiser_ids),
            "scope": list(token.scope),
        }

    def _revoke_token(self, params: Params) -> dict[str, Any]:
        self._check_app(params)
        token = self.tokens.get(params.text("access_token"))
        if token is None:
            raise ApiError(TOKEN_INVALID, "access_token is invalid.")
        token.revoked = True
        return {}

    def _advertiser_get(self, params: Params, token: Token) -> dict[str, Any]:
        self._check_app(params)
        return {
            "list": [
                {"advertiser_id": a, "advertiser_name": self.advertisers[a].advertiser_name}
                for a in token.advertiser_ids
                if a in self.advertisers
            ]
        }

    def _bc_get(self, params: Params, token: Token) -> dict[str, Any]:
        wanted = params.text("bc_id", required=False)
        centers = [
            self.business_centers[b] for b in token.bc_ids if b in self.business_centers and (not wanted or b == wanted)
        ]
        page, info = paginate(
            centers, params.integer("page", 1, low=1), params.integer("page_size", 10, low=1, high=50)
        )
        return {
            "list": [
                {
                    "bc_info": {
                        "bc_id": bc.bc_id,
                        "name": bc.name,
                        "company": bc.name,
                        "currency": bc.currency,
                        "registered_area": bc.registered_area,
                        "status": "ENABLE",
                        "timezone": bc.timezone,
                        "type": "NORMAL",
                    },
                    "user_role": "ADMIN",
                    "ext_user_role": {"finance_role": "MANAGER"},
                }
                for bc in page
            ],
            "page_info": info,
        }

    # -- business profile and TikTok Shopping -------------------------------------------------------
    def _profile(self, params: Params, token: Token) -> BusinessProfile | None:
        key = (params.text("business_platform"), params.text("external_business_id"))
        profile = self.business_profiles.get(key)
        return profile if profile is not None and profile.bc_id in token.bc_ids else None

    def _profile_get(self, params: Params, token: Token) -> dict[str, Any]:
        profile = self._profile(params, token)
        if profile is None or not profile.connected:
            return {}  # TikTok answers empty data when the token has no (longer a) profile for the store
        return {
            "bc_id": profile.bc_id,
            "adv_id": profile.adv_id,
            "pixel_code": profile.pixel_code,
            "catalog_id": profile.catalog_id,
            "store_name": profile.store_name,
            "status": profile.status,
            "business_platform": profile.business_platform,
            "external_business_id": profile.external_business_id,
        }

    def _profile_disconnect(self, params: Params, token: Token) -> dict[str, Any]:
        profile = self._profile(params, token)
        if profile is None:
            raise ApiError(PARAM_INVALID, "external_business_id: no business profile for this store.")
        profile.connected = False
        connection = self.shop_connections.get(profile.external_business_id)
        if connection is not None:
            connection.connected = False
        return {}

    def _shop_status(self, params: Params, token: Token) -> dict[str, Any]:
        platform, external_id = params.text("business_platform"), params.text("external_business_id")
        connection = self.shop_connections.get(external_id)
        connected = connection is not None and connection.connected and connection.business_platform in ("", platform)
        return {
            "connect_info": {
                "connect_status": {"connect": SHOP_CONNECTED if connected else SHOP_NOT_CONNECTED},
                "business_platform": platform,
                "external_business_id": external_id,
            }
        }

    def _shop_disconnect(self, params: Params, token: Token) -> dict[str, Any]:
        params.text("business_platform")
        connection = self.shop_connections.get(params.text("external_business_id"))
        if connection is not None:
            connection.connected = False
        return {}

    # -- catalogs and pixels -------------------------------------------------------------------------
    def _bc(self, token: Token, bc_id: str) -> BusinessCenter:
        if bc_id not in token.bc_ids or bc_id not in self.business_centers:
            raise ApiError(NO_PERMISSION, f"bc_id: no permission for Business Center {bc_id}.")
        return self.business_centers[bc_id]

    def _catalog(self, params: Params, token: Token) -> Catalog:
        bc_id, catalog_id = params.text("bc_id"), params.text("catalog_id")
        self._bc(token, bc_id)
        catalog = self.catalogs.get(catalog_id)
        if catalog is None or catalog.bc_id != bc_id:
            raise ApiError(
                NO_PERMISSION, f"catalog_id: no permission for catalog {catalog_id} in this Business Center."
            )
        return catalog

    def _advertiser(self, token: Token, advertiser_id: str) -> Advertiser:
        if advertiser_id not in token.advertiser_ids or advertiser_id not in self.advertisers:
            raise ApiError(NO_PERMISSION, f"advertiser_id: no permission for advertiser {advertiser_id}.")
        return self.advertisers[advertiser_id]

    def _catalog_create(self, params: Params, token: Token) -> dict[str, Any]:
        bc = self._bc(token, params.text("bc_id"))
        name = params.text("name", max_len=128)
        if params.text("catalog_type") != "ECOM":
            raise ApiError(PARAM_INVALID, "catalog_type: the sandbox supports ECOM catalogs only.")
        conf = params.sub("catalog_conf")
        region = conf.code("region_code", 2)
        currency = conf.code("currency", 3)
        return {"catalog_id": self._create_catalog(bc.bc_id, name, region, currency).catalog_id}

    def _catalog_get(self, params: Params, token: Token) -> dict[str, Any]:
        bc = self._bc(token, params.text("bc_id"))
        wanted = params.text("catalog_id", required=False)
        found = [c for c in self.catalogs.values() if c.bc_id == bc.bc_id and (not wanted or c.catalog_id == wanted)]
        page, info = paginate(
            found, params.integer("page", 1, low=1), params.integer("page_size", 10, low=1, high=1000)
        )
        return {
            "list": [
                {
                    "catalog_id": c.catalog_id,
                    "catalog_name": c.name,
                    "catalog_type": c.catalog_type,
                    "catalog_conf": {"region_code": c.region_code, "currency": c.currency},
                    "create_time": utc_text(c.created_at),
                }
                for c in page
            ],
            "page_info": info,
        }

    def _pixel_create(self, params: Params, token: Token) -> dict[str, Any]:
        advertiser = self._advertiser(token, params.text("advertiser_id"))
        pixel = self._create_pixel(advertiser.advertiser_id, params.text("pixel_name", max_len=40))
        return {"pixel_code": pixel.pixel_code, "pixel_id": pixel.pixel_id}

    def _pixel_list(self, params: Params, token: Token) -> dict[str, Any]:
        advertiser = self._advertiser(token, params.text("advertiser_id"))
        code = params.text("pixel_code", required=False)
        found = [
            p
            for p in self.pixels.values()
            if p.advertiser_id == advertiser.advertiser_id and (not code or p.pixel_code == code)
        ]
        page, info = paginate(found, params.integer("page", 1, low=1), params.integer("page_size", 20, low=1, high=20))
        return {
            "pixels": [{"pixel_id": p.pixel_id, "pixel_code": p.pixel_code, "pixel_name": p.pixel_name} for p in page],
            "page_info": info,
        }

    # -- pixel <-> catalog (tiktok-api.md "Pixel ↔ catalog") ------------------------------------------
    def bindings(self, catalog_id: str) -> list[str]:
        """Pixel codes bound to the catalog, in binding order ([] for an unknown catalog)."""
        with self.lock:
            catalog = self.catalogs.get(catalog_id)
            return list(catalog.event_sources) if catalog is not None else []

    def _binding(self, params: Params, token: Token) -> tuple[Catalog, Pixel]:
        """The catalog and pixel of a bind/unbind body: 40001 when the token cannot use the advertiser, the
        catalog is not in bc_id, or the pixel is not the advertiser's."""
        advertiser = self._advertiser(token, params.text("advertiser_id"))
        catalog = self._catalog(params, token)
        if not params.has("pixel_code") and params.has("app_id"):
            raise ApiError(
                PARAM_INVALID, "app_id: app event sources are not supported by the sandbox; send pixel_code."
            )
        code = params.text("pixel_code")
        pixel = self.pixels.get(code)
        if pixel is None or pixel.advertiser_id != advertiser.advertiser_id:
            raise ApiError(NO_PERMISSION, f"pixel_code: no permission for pixel {code} of this advertiser.")
        return catalog, pixel

    def _eventsource_bind(self, params: Params, token: Token) -> dict[str, Any]:
        catalog, pixel = self._binding(params, token)
        # Binding a pixel already bound: TikTok's answer is unconfirmed; the sandbox refuses it (40002) on
        # purpose, so that the app must read the bindings before it binds.
        if pixel.pixel_code in catalog.event_sources:
            raise ApiError(PARAM_INVALID, f"pixel_code: event source already bound to catalog {catalog.catalog_id}.")
        catalog.event_sources.append(pixel.pixel_code)
        return {}

    def _eventsource_unbind(self, params: Params, token: Token) -> dict[str, Any]:
        catalog, pixel = self._binding(params, token)
        if pixel.pixel_code not in catalog.event_sources:
            raise ApiError(PARAM_INVALID, f"pixel_code: event source not bound to catalog {catalog.catalog_id}.")
        catalog.event_sources.remove(pixel.pixel_code)
        return {}

    def _eventsource_get(self, params: Params, token: Token) -> dict[str, Any]:
        catalog = self._catalog(params, token)
        return {
            "catalog_id": catalog.catalog_id,
            "event_sources": [
                {
                    "event_source_name": self.pixels[code].pixel_name if code in self.pixels else "",
                    "pixel_code": code,
                    "app_id": "",
                }
                for code in catalog.event_sources
            ],
        }

    # -- catalog products -------------------------------------------------------------------------
    def _new_feed_log(self, catalog: Catalog) -> FeedLog:
        now = self.clock.now()
        log = FeedLog(self._numeric_id(), catalog.bc_id, catalog.catalog_id, now, now + self.feed_log_delay_seconds)
        self.feed_logs[log.feed_log_id] = log
        return log

    def _product_upload(self, params: Params, token: Token) -> dict[str, Any]:
        catalog = self._catalog(params, token)
        if self.enforce_rate_limits and not self._catalog_uploads.admit(catalog.catalog_id, self.clock.now()):
            raise ApiError(
                RATE_LIMITED,
                f"catalog_id: catalog {catalog.catalog_id} reached its limit of "
                f"{self._catalog_uploads.per_hour} upload requests per hour. Please retry later.",
            )
        products = params.array("products", high=self.max_products_per_upload)
        self._refuse_request(products)
        log = self._new_feed_log(catalog)
        now = self.clock.now()
        seen: set[str] = set()
        failed: list[tuple[dict[str, Any], int, list[ProductIssue]]] = []
        if self._earliest_refresh is None:
            self._earliest_refresh = now
        for index, product in enumerate(products, start=FIRST_ROW_INDEX):
            issues = validate_product(product, catalog.currency)
            if not issues and isinstance(product, dict):
                issues = [found for rule in self.ingestion_rules if (found := rule(product)) is not None]
                issues += self._page_price_issues(product)
            if not issues and product["sku_id"] in seen:
                issues = [
                    ProductIssue(
                        "sku_id", "Duplicate value: sku_id", "Each product of one request needs its own SKU ID."
                    )
                ]
            if issues:
                failed.append((product if isinstance(product, dict) else {}, index, issues))
                continue
            seen.add(product["sku_id"])
            fields = copy.deepcopy(product)
            existing = catalog.products.get(product["sku_id"])
            if existing is None:
                log.add_count += 1
                item = CatalogProduct(fields, uploaded_at=now, product_id=self._numeric_id(), refreshed_at=now)
                catalog.products[item.sku_id] = item
                self._schedule_review(catalog, item)
            else:
                log.update_count += 1
                existing.refreshed_at = now  # any accepted upload refreshes it, changed or not
                if existing.fields != fields:  # a changed product is reviewed again
                    existing.fields, existing.uploaded_at = fields, now
                    existing.audit_status, existing.reject_info = AUDIT_PROCESSING, []
                    existing.image_status = "PROCESSING"
                    self._schedule_review(catalog, existing)
        log.error_count = len(failed)
        log.error_affected_products = group_issues(failed, self.max_affected_items_listed)
        log.error_rows = feed_log_rows(failed)
        return {"feed_log_id": log.feed_log_id}

    def _refuse_request(self, products: list[Any]) -> None:
        """40002 naming the first product (in request order) a request refusal rule matches."""
        for index, product in enumerate(products):
            if not isinstance(product, dict):
                continue
            for rule in self.request_refusal_rules:
                issue = rule(product)
                if issue is not None:
                    raise ApiError(PARAM_INVALID, refusal_message(self.refusal_message_names, index, product, issue))

    def _page_price_issues(self, product: dict[str, Any]) -> list[ProductIssue]:
        page = self.page_prices(str(product.get("sku_id"))) if self.page_prices is not None else None
        issue = page_price_issue(product.get("price_info"), page) if page is not None else None
        return [] if issue is None else [issue]

    def _purge_expired(self) -> None:
        oldest = self.clock.now() - self.product_expiry_seconds
        # A scan only when the earliest refresh seen may have expired: most requests cost nothing.
        if self._earliest_refresh is None or self._earliest_refresh >= oldest:
            return
        earliest: float | None = None
        for catalog in self.catalogs.values():
            for sku_id, item in list(catalog.products.items()):
                if item.refreshed_at is None:
                    continue
                if item.refreshed_at < oldest:
                    del catalog.products[sku_id]
                else:
                    earliest = item.refreshed_at if earliest is None else min(earliest, item.refreshed_at)
        self._earliest_refresh = earliest

    def feed_log_file_url(self, feed_log_id: str) -> str:
        return f"{self.base_url}{FEED_LOG_FILES}{feed_log_id}.csv"

    def _feed_log_file(self, request: Request) -> Response:
        name = request.path_params["name"]
        log = self.feed_logs.get(name.removesuffix(".csv")) if name.endswith(".csv") else None
        if log is None or not log.error_count or self.clock.now() < log.ready_at:
            return self.not_found(request)
        return Response(
            200,
            feed_log_csv(log.error_rows),
            {"Content-Type": "text/csv; charset=utf-8", "Content-Disposition": f'attachment; filename="{name}"'},
        )

    def _product_delete(self, params: Params, token: Token) -> dict[str, Any]:
        catalog = self._catalog(params, token)
        sku_ids = params.array("sku_ids", high=1000)
        if not all(isinstance(s, str) for s in sku_ids):
            raise ApiError(PARAM_MALFORMED, "sku_ids: must be a list of strings.")
        log = self._new_feed_log(catalog)
        for sku_id in dict.fromkeys(sku_ids):
            if catalog.products.pop(sku_id, None) is not None:
                log.delete_count += 1
        return {"feed_log_id": log.feed_log_id}

    def _product_get(self, params: Params, token: Token) -> dict[str, Any]:
        catalog = self._catalog(params, token)
        page = params.integer("page", 1, low=1)
        page_size = params.integer("page_size", 20, low=1, high=500)
        if page * page_size > 100_000:
            raise ApiError(PARAM_INVALID, "page: page * page_size must not exceed 100000.")
        items = list(catalog.products.values())
        if params.has("sku_ids"):
            wanted = set(params.array("sku_ids", high=1000))
            items = [p for p in items if p.sku_id in wanted]
        chosen, info = paginate(items, page, page_size)
        return {"list": [product_view(p) for p in chosen], "page_info": info}

    def _product_log(self, params: Params, token: Token) -> dict[str, Any]:
        catalog = self._catalog(params, token)
        feed_log_id = params.text("feed_log_id")
        log = self.feed_logs.get(feed_log_id)
        if log is None or log.catalog_id != catalog.catalog_id:
            raise ApiError(PARAM_INVALID, f"feed_log_id: no feed log {feed_log_id} in this catalog.")
        done = self.clock.now() >= log.ready_at
        return {"product_feed_log": feed_log_view(log, done=done, file_url=self.feed_log_file_url(feed_log_id))}

    def _catalog_overview(self, params: Params, token: Token) -> dict[str, Any]:
        catalog = self._catalog(params, token)
        counts = {AUDIT_APPROVED: 0, AUDIT_PROCESSING: 0, AUDIT_REJECTED: 0}
        for product in catalog.products.values():
            counts[product.audit_status] += 1
        return {
            "approved": counts[AUDIT_APPROVED],
            "processing": counts[AUDIT_PROCESSING],
            "rejected": counts[AUDIT_REJECTED],
        }

    def _event_track(self, params: Params, token: Token) -> dict[str, Any]:
        """tiktok-api.md "Events API": the pixel must be one of the token's advertisers', at most 1,000 events
        (more refuse the whole request), each checked by tiktok_events.check_server_event."""
        if params.text("event_source") not in EVENT_SOURCES:
            raise ApiError(PARAM_INVALID, "event_source: must be web.")
        code = params.text("event_source_id")
        pixel = self.pixels.get(code)
        if pixel is None or pixel.advertiser_id not in token.advertiser_ids:
            raise ApiError(NO_PERMISSION, f"event_source_id: no permission for pixel {code}.")
        test_event_code = params.text("test_event_code", required=False)
        partner_name = params.text("partner_name", required=False)
        events = params.array("data", high=MAX_EVENTS_PER_REQUEST)
        now = self.clock.now()
        problems: dict[int, str] = {}
        for index, event in enumerate(events):
            try:
                check_server_event(
                    event,
                    f"data[{index}]",
                    now=now,
                    max_age_seconds=self.max_event_age_seconds,
                    future_skew_seconds=self.event_time_skew_seconds,
                    currencies=self.supported_currencies,
                )
            except EventRefused as refused:
                problems[index] = str(refused)

        def entry(index: int, event: Any) -> ReceivedEvent:
            item = event if isinstance(event, dict) else {}
            event_time = item.get("event_time")
            return ReceivedEvent(
                pixel.pixel_code,
                SOURCE_SERVER,
                now,
                copy.deepcopy(event),
                str(item.get("event") or ""),
                str(item.get("event_id") or ""),
                float(event_time) if isinstance(event_time, int | float) and not isinstance(event_time, bool) else 0.0,
                test_event_code=test_event_code,
                partner_name=partner_name,
            )

        first = next(iter(problems.values()), None)
        if first is not None and (self.bad_event_fails_request or len(problems) == len(events)):
            for index, event in enumerate(events):
                self._ledger.refuse(entry(index, event), problems.get(index, f"the request was refused: {first}"))
            raise ApiError(PARAM_INVALID, first)
        for index, event in enumerate(events):
            if index in problems:
                self._ledger.refuse(entry(index, event), problems[index])
                continue
            self._ledger.accept(
                entry(index, event),
                server_user(event),
                copy.deepcopy(event.get("properties") or {}),
                copy.deepcopy(event.get("page") or {}),
            )
        if not problems:
            return {}
        # bad_event_fails_request=False (unconfirmed shape): code 0, the good events counted, the bad listed.
        return {
            "failed_events": [
                {"index": index, "code": PARAM_INVALID, "message": message} for index, message in problems.items()
            ]
        }

    # -- the pixel in the browser (tiktok-api.md "Pixel in the browser") ------------------------------
    def _pixel_script(self, request: Request) -> Response:
        # Served for any sdkid, known or not, as TikTok does; what an unknown pixel sends is refused.
        script = pixel_script(request.arg("sdkid") or "", self.pixel_collector_url, self.ttp_cookie_days)
        return Response(
            200,
            script.encode(),
            {
                "Content-Type": "application/javascript; charset=utf-8",
                "Cache-Control": "no-store",
                "Access-Control-Allow-Origin": "*",
            },
        )

    def _pixel_collect(self, request: Request) -> Response:
        """Record one browser event (source "browser", event_time = received time) into the same received
        list and deduplication as the Events API; refused (recorded, not counted) for an unknown pixel."""
        now = self.clock.now()
        try:
            body: Any = collector_body(request.body)
        except EventRefused as refused:
            body = None
            reason = str(refused)
        else:
            reason = ""
        item: dict[str, Any] = body if isinstance(body, dict) else {}
        code = item.get("pixel_code") if isinstance(item.get("pixel_code"), str) else ""
        event_id = item.get("event_id")
        entry = ReceivedEvent(
            str(code),
            SOURCE_BROWSER,
            now,
            copy.deepcopy(body) if body is not None else request.body.decode("utf-8", "replace"),
            str(item.get("event") or ""),
            event_id if isinstance(event_id, str) else "",
            now,
            partner_name=str(item.get("partner") or ""),
        )
        if not reason and str(code) not in self.pixels:
            reason = f"pixel_code: unknown pixel {code or '(none)'}."
        if not reason:
            try:
                check_browser_event(item, refuse_raw_identify=self.pixel_refuses_raw_identify)
            except EventRefused as refused:
                reason = str(refused)
        if reason:
            self._ledger.refuse(entry, reason)
            answer = {"code": PARAM_INVALID, "message": reason}
        else:
            properties: dict[str, Any] = item["properties"] if isinstance(item.get("properties"), dict) else {}
            self._ledger.accept(
                entry,
                browser_match_keys(item, request.headers.get("user-agent", "")),
                copy.deepcopy(properties),
                browser_page(item),
            )
            answer = {"code": OK, "message": "OK"}
        return Response.json(answer, headers={"Access-Control-Allow-Origin": "*"})

    # -- review ------------------------------------------------------------------------------------
    def _schedule_review(self, catalog: Catalog, product: CatalogProduct) -> None:
        product.review_due_at = product.uploaded_at + self.review_delay_seconds
        heapq.heappush(
            self._review_queue, (product.review_due_at, next(self._sequence), catalog.catalog_id, product.sku_id)
        )

    def _run_reviews(self, force: bool = False) -> int:
        now, decided = self.clock.now(), 0
        while self._review_queue and (force or self._review_queue[0][0] <= now):
            due, _, catalog_id, sku_id = heapq.heappop(self._review_queue)
            catalog = self.catalogs.get(catalog_id)
            product = catalog.products.get(sku_id) if catalog is not None else None
            # Entries of deleted or since re-uploaded products are stale: skip them.
            if catalog is None or product is None or product.audit_status != AUDIT_PROCESSING:
                continue
            if product.review_due_at != due:
                continue
            self._review(catalog, product)
            decided += 1
        return decided

    def _review(self, catalog: Catalog, product: CatalogProduct) -> None:
        url = str(product.fields.get("image_url") or "")
        if self.image_checker is not None:
            if url not in self._image_status:
                self._image_status[url] = self.image_checker(url)
            product.image_status = self._image_status[url]
        else:
            product.image_status = "SUCCESS"
        if product.image_status != "SUCCESS":
            return  # TikTok leaves a product with an unusable image in "processing"
        findings = [found for rule in self.rejection_rules if (found := rule(product.fields)) is not None]
        if findings:
            product.audit_status = AUDIT_REJECTED
            product.reject_info = [
                {
                    "reason": reason,
                    "suggestion": suggestion,
                    "affected_placement": ["PLACEMENT_TIKTOK"],
                    "affected_country": [catalog.region_code],
                }
                for reason, suggestion in findings
            ]
        else:
            product.audit_status, product.reject_info = AUDIT_APPROVED, []

    # -- control endpoints -------------------------------------------------------------------------
    def _control_review_now(self, request: Request) -> Response:
        return Response.json({"decided": self._run_reviews(force=True)})

    def _control_approve_shop(self, request: Request) -> Response:
        data = request.json() or {}
        connection = self.approve_shop(
            str(data.get("external_business_id", "")), str(data.get("business_platform", ""))
        )
        return Response.json({"external_business_id": connection.external_business_id, "approved": True})

    def _control_events(self, request: Request) -> Response:
        found = self._ledger.received_events(request.arg("pixel_code") or None, request.arg("source") or None)
        return Response.json({"events": [e.view() for e in found]})

    def _control_conversions(self, request: Request) -> Response:
        found = self._ledger.conversions(request.arg("pixel_code") or None)
        return Response.json({"conversions": [c.view() for c in found]})

    def _control_state(self, request: Request) -> Response:
        return Response.json(
            {
                "paused_until": self.paused_until,
                "catalogs": {
                    c.catalog_id: {
                        "bc_id": c.bc_id,
                        "currency": c.currency,
                        "products": len(c.products),
                        "sku_ids": sorted(c.products),  # what the catalog holds, for tests in another process
                        "event_sources": list(c.event_sources),
                    }
                    for c in self.catalogs.values()
                },
                "business_profiles": [
                    {
                        "business_platform": p.business_platform,
                        "external_business_id": p.external_business_id,
                        "connected": p.connected,
                    }
                    for p in self.business_profiles.values()
                ],
                "shop_connections": {
                    k: {"approved": c.approved, "connected": c.connected} for k, c in self.shop_connections.items()
                },
            }
        )


def _with_query(url: str, params: dict[str, str]) -> str:
    parts = urlsplit(url)
    query = "&".join(q for q in (parts.query, urlencode(params)) if q)
    return urlunsplit(parts._replace(query=query))
