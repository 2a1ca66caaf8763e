"""The sandbox Ecwid: OAuth, the REST API v3 catalog endpoints, image hosting, webhooks and the admin payload,
orders (ecwid_orders.py), app storage (ecwid_storage.py) and a storefront with the storefront JavaScript API
(ecwid_storefront.py), behaving as shared/docs/ecwid-api.md describes, over real HTTP on 127.0.0.1.

    ecwid = EcwidSandbox(client_id="tiktok-channel-local", client_secret="0123456789abcdef")
    base = ecwid.start()   # ECWID_OAUTH_URL = f"{base}/api/oauth", ECWID_API_URL = f"{base}/api/v3"
    store = ecwid.add_demo_store()
    token = ecwid.token_for(store.store_id)
"""

from __future__ import annotations

import base64
import itertools
import json
import os
import secrets
import threading
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from sandboxes.common import Request, Response, Sandbox
from sandboxes.ecwid_admin import AdminPage
from sandboxes.ecwid_catalog import EcwidStore, IdKind, StoreProfile, Variation
from sandboxes.ecwid_fixtures import build_demo_store, build_synthetic_store
from sandboxes.ecwid_images import ImageRenderer, image_response, parse_image_name
from sandboxes.ecwid_oauth import OAuthRoutes, with_query
from sandboxes.ecwid_orders import OrderBook
from sandboxes.ecwid_prices import with_shown_prices
from sandboxes.ecwid_render import Renderer
from sandboxes.ecwid_rest import ApiError, RestRoutes
from sandboxes.ecwid_storage import StorageRoutes
from sandboxes.ecwid_storefront import PublicConfigForm, Storefront
from sandboxes.ecwid_webhooks import (
    DELIVERED_STATUSES,
    MAX_ATTEMPTS,
    EcwidWebhook,
    delivery_url,
    retry_delay,
    sign_webhook,
)

__all__ = ["DEFAULT_SCOPES", "LEGACY_SCOPES", "EcwidSandbox", "EcwidStore", "EcwidWebhook", "Variation"]

DEFAULT_SCOPES = "read_store_profile read_catalog add_to_cp read_orders update_store_profile customize_storefront"
# What stores that installed the app before it asked for orders, storage and the storefront script granted.
LEGACY_SCOPES = "read_store_profile read_catalog add_to_cp"
VIEW_MODES = ("PAGE", "POPUP", "INLINE")
# Where the sandbox's ids start, so ids of different kinds never look alike in a test failure.
_ID_BASES: dict[IdKind, int] = {
    "product": 700_000_001,
    "category": 170_000_001,
    "combination": 30_000_001,
    "image": 400_000_001,
    "attribute": 8_000_001,
}


@dataclass
class AccessToken:
    token: str
    store_id: int
    scopes: tuple[str, ...]
    public_token: str
    active: bool = True


class _SlidingWindow:
    """At most `limit` hits per key in any `window` seconds of the sandbox clock."""

    def __init__(self, limit: int, window: float = 60.0) -> None:
        self.limit = limit
        self.window = window
        self._hits: dict[str, deque[float]] = {}

    def allow(self, key: str, now: float) -> bool:
        hits = self._hits.setdefault(key, deque())
        while hits and hits[0] <= now - self.window:
            hits.popleft()
        if len(hits) >= self.limit:
            return False
        hits.append(now)
        return True


class EcwidSandbox(Sandbox):
    """A fake Ecwid holding any number of stores, with one registered app (client_id/client_secret)."""

    name = "ecwid"

    def __init__(
        self,
        client_id: str = "tiktok-channel-local",
        client_secret: str = "sandbox-ecwid-secret-0001",  # noqa: S107 - a fake app's well-known secret
        *,
        latency_seconds: float = 0.0,
        seed: int = 0,
        rate_limit_per_minute: int = 600,
        retry_after_seconds: int = 10,
        webhook_url: str | None = None,
        custom_js_url: str | None = None,
        public_config_form: PublicConfigForm = "string",
    ) -> None:
        if len(client_secret) < 16:
            raise ValueError("client_secret must be at least 16 characters: its first 16 are the payload key")
        super().__init__(latency_seconds=latency_seconds, seed=seed)
        self.client_id = client_id
        self.client_secret = client_secret
        self.retry_after_seconds = retry_after_seconds
        self.webhook_url = webhook_url
        # The app's storefront script (`customJsUrl`, set by Ecwid's support at registration): appended to every
        # storefront page of the stores that installed the app (sandboxes/ecwid_storefront.py).
        self.custom_js_url = custom_js_url
        # Options for what ecwid-api.md "Not confirmed" leaves open (see ecwid_storefront.py, ecwid_orders.py):
        # getAppPublicConfig's answer ("string" or a {key, value} "object"), the cart item SKU ("variation" or
        # "product"), ORDER_CONFIRMATION's page.orderId ("id" or the numeric "internal"), utmData ("object"/"array").
        self.public_config_form: PublicConfigForm = public_config_form
        self.cart_item_sku = "variation"
        self.confirmation_order_id_form = "id"
        self.utm_data_form = "object"
        self.stores: dict[int, EcwidStore] = {}
        self.webhooks: list[EcwidWebhook] = []  # recorded and not yet delivered or taken
        self.delivered_webhooks: list[EcwidWebhook] = []
        self.tokens: dict[str, AccessToken] = {}
        self.images = ImageRenderer()
        self._limiter = _SlidingWindow(rate_limit_per_minute)
        self._ids = {kind: itertools.count(start) for kind, start in _ID_BASES.items()}
        self._delivery_stop = threading.Event()
        self._delivery_thread: threading.Thread | None = None
        self.oauth = OAuthRoutes(self)
        self.rest = RestRoutes(self)
        self.admin = AdminPage(self)
        self.storage = StorageRoutes(self)
        self.orders = OrderBook(self, seed)
        self.place_order = self.orders.place_order
        self.set_payment_status = self.orders.set_payment_status
        self.update_order = self.orders.update_order
        self.delete_order = self.orders.delete_order
        self.storefront = Storefront(self)
        self.route("GET", "/images/{store_id}/{name}", self._image)
        self.route("HEAD", "/images/{store_id}/{name}", self._image)
        self.route("GET", "/_sandbox/stores", self._list_stores)
        self.route("GET", "/_sandbox/stores/{store_id}/open-app", self._open_app)
        self.route("POST", "/_sandbox/stores/{store_id}/products", self._control_add_product)
        self.route("PATCH", "/_sandbox/stores/{store_id}/products/{product_id}", self._control_update_product)
        self.route("DELETE", "/_sandbox/stores/{store_id}/products/{product_id}", self._control_delete_product)
        self.route("PATCH", "/_sandbox/stores/{store_id}/categories/{category_id}", self._control_update_category)
        self.route("PATCH", "/_sandbox/stores/{store_id}/profile", self._control_update_profile)
        self.route("GET", "/_sandbox/webhooks", self._control_list_webhooks)
        self.route("POST", "/_sandbox/webhooks/deliver", self._control_deliver_webhooks)

    # -- host services for the stores ------------------------------------------------------------
    def timestamp(self) -> int:
        return int(self.clock.now())

    def next_id(self, kind: IdKind) -> int:
        with self.lock:
            return next(self._ids[kind])

    def emit(self, store_id: int, event_type: str, entity_id: int | str, data: dict[str, object] | None = None) -> None:
        """Record the webhook Ecwid would send for an event (delivered by deliver_webhooks)."""
        body: dict[str, object] = {
            "eventId": str(uuid.uuid4()),
            "eventCreated": self.timestamp(),
            "storeId": store_id,
            "entityId": entity_id,
            "eventType": event_type,
        }
        if data is not None:
            body["data"] = data
        with self.lock:
            self.webhooks.append(sign_webhook(self.client_secret, body))

    # -- stores ----------------------------------------------------------------------------------
    def add_store(
        self,
        store_id: int,
        country: str = "US",
        currency: str = "USD",
        store_name: str | None = None,
        store_url: str | None = None,
        email: str | None = None,
    ) -> EcwidStore:
        with self.lock:
            if store_id in self.stores:
                raise ValueError(f"store {store_id} already exists")
            profile = StoreProfile(
                store_name=store_name or f"Store {store_id}",
                store_url=store_url or f"https://store{store_id}.company.site",
                email=email or f"owner@store{store_id}.example.com",
                country=country,
                currency=currency,
            )
            store = EcwidStore(self, store_id, profile)
            self.stores[store_id] = store
            return store

    def store(self, store_id: int) -> EcwidStore:
        store = self.stores.get(store_id)
        if store is None:
            raise KeyError(f"no store {store_id} in the sandbox")
        return store

    def add_demo_store(self, store_id: int = 1003, country: str = "US", currency: str = "USD") -> EcwidStore:
        """A small realistic store: see ecwid_fixtures.build_demo_store for what it holds."""
        return build_demo_store(self, store_id, country=country, currency=currency)

    def build_synthetic_store(
        self,
        store_id: int,
        products: int = 1000,
        seed: int = 0,
        variation_share: float = 0.2,
        hidden_share: float = 0.05,
        small_image_share: float = 0.03,
        media_only_share: float = 0.05,
        country: str = "US",
        currency: str = "USD",
    ) -> EcwidStore:
        """A deterministic store of `products` products (see ecwid_fixtures.build_synthetic_store)."""
        return build_synthetic_store(
            self,
            store_id,
            products=products,
            seed=seed,
            variation_share=variation_share,
            hidden_share=hidden_share,
            small_image_share=small_image_share,
            media_only_share=media_only_share,
            country=country,
            currency=currency,
        )

    def suspend(self, store_id: int, suspended: bool = True) -> None:
        """Suspended stores answer 402 STORE_IS_SUSPENDED to every API call; `suspended=False` lifts it."""
        with self.lock:
            self.store(store_id).suspended = suspended

    def public_config(self, store_id: int) -> str | None:
        """The app's `public` storage value in this store (what getAppPublicConfig returns), None when unset."""
        with self.lock:
            return self.store(store_id).app_storage.get("public")

    # -- what a product page shows ---------------------------------------------------------------
    def page_prices(self, sku_id: str) -> tuple[float, float | None] | None:
        """(regular price, sale price or None) as the storefront page of `sku_id` shows them; None when no
        store has it. `sku_id` is an Ecwid product id, or "<productId>-<combinationId>" for a variation.

        The shown price is `defaultDisplayedPrice` (a variation's own); a struck-through compare-to price on
        the same basis (the product's `defaultDisplayedCompareToPrice`; for a variation its own compareToPrice,
        else the product's, with the taxes shown inside prices as ecwid_prices computes them) above it makes
        it (compare-to, shown); otherwise (shown, None). TikTok's page-price check reads this.
        """
        product_text, _, combination_text = sku_id.partition("-")
        if not product_text.isdigit() or not (combination_text == "" or combination_text.isdigit()):
            return None
        with self.lock:
            for store in self.stores.values():
                product = store.products.get(int(product_text))
                if product is not None:
                    renderer = Renderer(store, self.base_url if self._server is not None else "http://127.0.0.1")
                    return _page_prices(renderer, renderer.product(product), combination_text)
        return None

    # -- tokens ----------------------------------------------------------------------------------
    def issue_token(self, store_id: int, scope: str = DEFAULT_SCOPES) -> AccessToken:
        with self.lock:
            self.store(store_id)
            scopes = tuple(dict.fromkeys(["read_store_profile", *scope.split()]))  # always granted
            token = AccessToken(
                "secret_" + secrets.token_urlsafe(24), store_id, scopes, "public_" + secrets.token_urlsafe(24)
            )
            self.tokens[token.token] = token
            return token

    def current_token(self, store_id: int) -> AccessToken | None:
        with self.lock:
            active = [t for t in self.tokens.values() if t.store_id == store_id and t.active]
            return active[-1] if active else None

    def token_for(self, store_id: int) -> str:
        """The app's current access token for the store, issued (with the default scopes) if it has none."""
        with self.lock:
            token = self.current_token(store_id) or self.issue_token(store_id)
            return token.token

    def revoke_tokens(self, store_id: int) -> None:
        """Every token of the app for this store answers 403 INVALID_API_TOKEN from now on."""
        with self.lock:
            for token in self.tokens.values():
                if token.store_id == store_id:
                    token.active = False

    def uninstall(self, store_id: int) -> None:
        """The merchant removes the app: tokens die and Ecwid sends application.uninstalled."""
        with self.lock:
            self.revoke_tokens(store_id)
            self.emit(store_id, "application.uninstalled", str(store_id))

    def create_auth_code(self, store_id: int, redirect_uri: str, scope: str = DEFAULT_SCOPES) -> str:
        """The code Ecwid would append to `redirect_uri` after the merchant pressed Install."""
        return self.oauth.create_code(store_id, redirect_uri, scope)

    # -- admin page payload ----------------------------------------------------------------------
    def app_payload(self, store_id: int, lang: str = "en", view_mode: str = "PAGE") -> str:
        """The encrypted `payload` Ecwid puts in the app page URL (AES-128-CBC, see ecwid-api.md)."""
        if view_mode not in VIEW_MODES:
            raise ValueError(f"view_mode must be one of {VIEW_MODES}")
        with self.lock:
            self.token_for(store_id)
            token = self.current_token(store_id)
            assert token is not None
            plain = json.dumps(
                {
                    "store_id": store_id,
                    "lang": lang,
                    "access_token": token.token,
                    "view_mode": view_mode,
                    "public_token": token.public_token,
                },
                separators=(",", ":"),
            ).encode()
        return self.encrypt_payload(plain)

    def encrypt_payload(self, plaintext: bytes) -> str:
        """Encrypt any bytes the way Ecwid does, so tests can also craft malformed payloads."""
        padder = padding.PKCS7(128).padder()
        padded = padder.update(plaintext) + padder.finalize()
        iv = os.urandom(16)
        encryptor = Cipher(algorithms.AES(self.client_secret[:16].encode("ascii")), modes.CBC(iv)).encryptor()
        sealed = iv + encryptor.update(padded) + encryptor.finalize()
        return base64.urlsafe_b64encode(sealed).decode().rstrip("=")

    # -- webhooks --------------------------------------------------------------------------------
    def sign_webhook(self, body: dict[str, object]) -> tuple[dict[str, str], bytes]:
        """Headers and body of a webhook signed with the app's secret, for tests crafting odd shapes."""
        webhook = sign_webhook(self.client_secret, body)
        return webhook.headers, webhook.body

    def take_webhooks(self) -> list[EcwidWebhook]:
        """Return the recorded, undelivered webhooks and forget them."""
        with self.lock:
            taken = list(self.webhooks)
            self.webhooks.clear()
            return taken

    def deliver_webhooks(self) -> list[int]:
        """POST every due webhook to `webhook_url`; returns the statuses (0 = no answer).

        Failures stay queued and come due again on Ecwid's retry schedule (sandbox clock). The sandbox
        lock is not held while posting, so the receiver may call the sandbox back.
        """
        with self.lock:
            url = self.webhook_url
            now = self.clock.now()
            due = [w for w in self.webhooks if w.next_attempt_at <= now]
        if url is None or not due:
            return []
        statuses = _post_all(url, due)
        with self.lock:
            now = self.clock.now()
            for webhook, status in zip(due, statuses, strict=True):
                webhook.attempts += 1
                webhook.statuses.append(status)
                if status in DELIVERED_STATUSES or webhook.attempts >= MAX_ATTEMPTS:
                    if webhook in self.webhooks:
                        self.webhooks.remove(webhook)
                    if status in DELIVERED_STATUSES:
                        self.delivered_webhooks.append(webhook)
                else:
                    webhook.next_attempt_at = now + retry_delay(webhook.attempts)
        return statuses

    def start_webhook_delivery(self, interval_seconds: float = 0.5) -> None:
        """Deliver webhooks in the background, as Ecwid does on its own (for the local run)."""
        if self._delivery_thread is not None:
            return
        self._delivery_stop.clear()

        def loop() -> None:
            while not self._delivery_stop.wait(interval_seconds):
                self.deliver_webhooks()

        self._delivery_thread = threading.Thread(target=loop, name="ecwid-webhooks", daemon=True)
        self._delivery_thread.start()

    def stop(self) -> None:
        self._delivery_stop.set()
        if self._delivery_thread is not None:
            self._delivery_thread.join(timeout=15)
            self._delivery_thread = None
        super().stop()

    # -- HTTP: errors shaped like Ecwid's --------------------------------------------------------
    def rate_limited(self, request: Request) -> Response:
        return Response.json(
            {"errorMessage": "Too many requests. Retry later.", "errorCode": "RATE_LIMITED"},
            429,
            {"Retry-After": str(self.retry_after_seconds)},
        )

    def not_found(self, request: Request) -> Response:
        return Response.json({"errorMessage": f"Resource not found: {request.path}"}, 404)

    def check_rate_limit(self, token: str) -> None:
        with self.lock:
            if not self._limiter.allow(token, self.clock.now()):
                raise ApiError(
                    429,
                    "Too many requests. Retry later.",
                    "RATE_LIMITED",
                    {"Retry-After": str(self.retry_after_seconds)},
                )

    # -- HTTP: images ----------------------------------------------------------------------------
    def _image(self, request: Request) -> Response:
        store = self.stores.get(_int_or(request.path_params["store_id"], -1))
        parsed = parse_image_name(request.path_params["name"])
        missing = Response(404, b"Not Found", {"Content-Type": "text/plain"})
        if store is None or parsed is None:
            return missing
        key, width, height, fmt = parsed
        spec = store.images.get(key)
        if spec is None or spec.fmt != fmt or (width, height) not in spec.variant_sizes():
            return missing
        return image_response(request, self.images.render(spec, width, height), spec)

    # -- HTTP: control routes (local run, tests in another process) ------------------------------
    def _list_stores(self, request: Request) -> Response:
        return Response.json(
            [
                {
                    "id": s.store_id,
                    "name": s.profile.store_name,
                    "country": s.profile.country,
                    "currency": s.profile.currency,
                    "products": len(s.products),
                    "suspended": s.suspended,
                    "installed": self.current_token(s.store_id) is not None,
                }
                for s in self.stores.values()
            ]
        )

    def _open_app(self, request: Request) -> Response:
        store = self.stores.get(_int_or(request.path_params["store_id"], -1))
        app_url = request.arg("app_url")
        if store is None:
            return Response.json({"error": "no such store"}, 404)
        if not app_url:
            return Response.json({"error": "app_url is required"}, 400)
        if self.current_token(store.store_id) is None:
            # Ecwid shows an app's page only once it is installed; install it through OAuth first.
            return Response.json({"error": f"the app is not installed in store {store.store_id}"}, 409)
        payload = self.app_payload(
            store.store_id, request.arg("lang", "en") or "en", request.arg("view_mode", "PAGE") or "PAGE"
        )
        extra = {"payload": payload, "cache-killer": secrets.token_hex(4)}
        if request.arg("app_state"):
            extra["app_state"] = request.arg("app_state") or ""
        return Response.redirect(with_query(app_url, extra))

    def _control(self, request: Request, action: Callable[[EcwidStore, dict[str, Any]], object]) -> Response:
        store = self.stores.get(_int_or(request.path_params["store_id"], -1))
        if store is None:
            return Response.json({"error": "no such store"}, 404)
        try:
            body = request.json() if request.body else {}
            result = action(store, body if isinstance(body, dict) else {})
        except (KeyError, ValueError, TypeError) as error:
            return Response.json({"error": str(error)}, 400)
        return Response.json({"ok": True, "result": result})

    def _control_add_product(self, request: Request) -> Response:
        return self._control(request, lambda store, body: store.add_product(**body))

    def _control_update_product(self, request: Request) -> Response:
        product_id = _int_or(request.path_params["product_id"], -1)
        return self._control(request, lambda store, body: store.update_product(product_id, **body))

    def _control_delete_product(self, request: Request) -> Response:
        product_id = _int_or(request.path_params["product_id"], -1)
        return self._control(request, lambda store, body: store.delete_product(product_id))

    def _control_update_category(self, request: Request) -> Response:
        category_id = _int_or(request.path_params["category_id"], -1)
        return self._control(request, lambda store, body: store.update_category(category_id, **body))

    def _control_update_profile(self, request: Request) -> Response:
        # {"ask_consent": bool, "tiktok_pixel": {"code", "advancedMatching"} | null, other StoreProfile fields}
        return self._control(request, lambda store, body: store.set_profile(**body))

    def _control_list_webhooks(self, request: Request) -> Response:
        return Response.json({"pending": [w.json() for w in self.webhooks], "delivered": len(self.delivered_webhooks)})

    def _control_deliver_webhooks(self, request: Request) -> Response:
        # Delivered from another thread: this request holds the sandbox lock, and the receiver
        # may call the sandbox back.
        threading.Thread(target=self.deliver_webhooks, name="ecwid-webhooks-once", daemon=True).start()
        return Response.json({"pending": len(self.webhooks)}, 202)


def _page_prices(renderer: Renderer, shown: dict[str, Any], combination_id: str) -> tuple[float, float | None] | None:
    if not combination_id:
        price, compare = shown["defaultDisplayedPrice"], shown.get("defaultDisplayedCompareToPrice")
    else:
        combination = next((c for c in shown["combinations"] if str(c["id"]) == combination_id), None)
        if combination is None:
            return None
        price, typed = (
            combination["defaultDisplayedPrice"],
            combination.get("compareToPrice", shown.get("compareToPrice")),
        )
        compare = None
        if typed is not None:  # Ecwid gives a variation no displayed compare-to price: the same basis as its price
            basis = {"tax": {"taxable": shown["tax"]["taxable"]}, "compareToPrice": typed}
            compare = with_shown_prices(basis, renderer.profile())["defaultDisplayedCompareToPrice"]
    if compare is not None and compare > price:
        return float(compare), float(price)
    return float(price), None


def _post_all(url: str, webhooks: list[EcwidWebhook]) -> list[int]:
    # Ecwid's limits: 3 s to connect, 10 s to answer. A fresh connection per webhook, as Ecwid's
    # senders do not share one; one client per batch, since building its TLS context is slow.
    statuses: list[int] = []
    with httpx.Client(timeout=httpx.Timeout(10.0, connect=3.0), headers={"Connection": "close"}) as client:
        for webhook in webhooks:
            try:
                response = client.post(
                    delivery_url(url, webhook.event_type), content=webhook.body, headers=webhook.headers
                )
                statuses.append(response.status_code)
            except httpx.HTTPError:
                statuses.append(0)
    return statuses


def _int_or(text: str, default: int) -> int:
    try:
        return int(text)
    except ValueError:
        return default
