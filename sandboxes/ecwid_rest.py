"""The REST API v3 routes of the sandbox Ecwid: authentication, rate limit, and the catalog reads the app makes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sandboxes.common import Handler, Request, Response
from sandboxes.ecwid_catalog import SORT_KEYS, EcwidStore, ProductQuery
from sandboxes.ecwid_render import Renderer, ecwid_date

if TYPE_CHECKING:
    from sandboxes.ecwid import EcwidSandbox

StoreHandler = Callable[[Request, EcwidStore], Response]
MAX_LIMIT = 100
_TRUE = ("true", "yes", "on", "1")
_FALSE = ("false", "no", "off", "0")
_DATE_FORMATS = ("%Y-%m-%d %H:%M:%S %z", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d")


class ApiError(Exception):
    """An Ecwid error answer: a status and `{"errorMessage", "errorCode"?}`."""

    def __init__(
        self, status: int, message: str, code: str | None = None, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.headers = headers or {}

    def response(self) -> Response:
        body: dict[str, str] = {"errorMessage": self.message}
        if self.code is not None:
            body["errorCode"] = self.code
        return Response.json(body, self.status, self.headers)


class Params:
    """Query parameters checked the way Ecwid checks them: a bad value is a 400 naming the parameter."""

    def __init__(self, request: Request) -> None:
        self.request = request

    def text(self, name: str) -> str | None:
        value = self.request.arg(name)
        return value if value not in (None, "") else None

    def integer(
        self, name: str, default: int | None = None, minimum: int = 0, maximum: int | None = None
    ) -> int | None:
        value = self.text(name)
        if value is None:
            return default
        try:
            number = int(value)
        except ValueError:
            raise ApiError(400, f"Wrong parameter '{name}' value: expected a number") from None
        if number < minimum or (maximum is not None and number > maximum):
            bound = f"between {minimum} and {maximum}" if maximum is not None else f"at least {minimum}"
            raise ApiError(400, f"Wrong parameter '{name}' value: must be {bound}")
        return number

    def decimal(self, name: str) -> float | None:
        value = self.text(name)
        try:
            return None if value is None else float(value)
        except ValueError:
            raise ApiError(400, f"Wrong parameter '{name}' value: expected a number") from None

    def boolean(self, name: str) -> bool | None:
        value = self.text(name)
        if value is None:
            return None
        if value.lower() in _TRUE:
            return True
        if value.lower() in _FALSE:
            return False
        raise ApiError(
            400, f"Wrong parameter '{name}' value: expected one of 'true', 'false', 'yes', 'no', 'on', 'off', '1', '0'"
        )

    def moment(self, name: str) -> int | None:
        """A UNIX timestamp or one of Ecwid's date formats (UTC when no zone is given)."""
        value = self.text(name)
        if value is None:
            return None
        if value.lstrip("-").isdigit():
            return int(value)
        for fmt in _DATE_FORMATS:
            try:
                parsed = datetime.strptime(value, fmt)
            except ValueError:
                continue
            return int((parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp())
        raise ApiError(400, f"Wrong parameter '{name}' value: expected a UNIX timestamp or yyyy-MM-dd HH:mm:ss Z")

    def id_list(self, name: str) -> tuple[int, ...] | None:
        value = self.text(name)
        if value is None:
            return None
        try:
            return tuple(int(part) for part in value.split(",") if part.strip())
        except ValueError:
            raise ApiError(400, f"Wrong parameter '{name}' value: expected numbers separated by commas") from None

    def paging(self) -> tuple[int, int]:
        offset = self.integer("offset", 0) or 0
        limit = self.integer("limit", MAX_LIMIT, maximum=MAX_LIMIT)
        return offset, MAX_LIMIT if limit is None else limit


def _page(items: list[dict[str, object]], total: int, offset: int, limit: int) -> Response:
    return Response.json({"total": total, "count": len(items), "offset": offset, "limit": limit, "items": items})


class RestRoutes:
    def __init__(self, sandbox: EcwidSandbox) -> None:
        self.sandbox = sandbox
        base = "/api/v3/{store_id}"
        # Order matters: /products/deleted must win over /products/{product_id}.
        sandbox.route("GET", f"{base}/profile", self._api(self.profile, scope="read_store_profile"))
        sandbox.route("GET", f"{base}/products/deleted", self._api(self.deleted_products))
        sandbox.route("GET", f"{base}/products/{{product_id}}", self._api(self.product))
        sandbox.route("GET", f"{base}/products", self._api(self.products))
        sandbox.route("GET", f"{base}/categories/{{category_id}}", self._api(self.category))
        sandbox.route("GET", f"{base}/categories", self._api(self.categories))
        sandbox.route("DELETE", f"{base}/application", self._api(self.delete_application, scope=None))

    # -- authentication ------------------------------------------------------------------------
    def _api(self, handler: StoreHandler, scope: str | None = "read_catalog") -> Handler:
        def serve(request: Request) -> Response:
            try:
                return handler(request, self._authenticate(request, scope))
            except ApiError as error:
                return error.response()

        return serve

    api = _api  # for the routes other modules register (storage, orders)

    def _authenticate(self, request: Request, scope: str | None) -> EcwidStore:
        sandbox = self.sandbox
        authorization = request.headers.get("authorization", "")
        kind, _, bearer = authorization.partition(" ")
        # Tokens in the query string stopped working in March 2025: only the header counts.
        token = bearer.strip() if kind.lower() == "bearer" and bearer.strip() else None
        if token is not None:
            sandbox.check_rate_limit(token)
        if token is None:
            raise ApiError(403, "API token is missing: send it as 'Authorization: Bearer <token>'", "INVALID_API_TOKEN")
        grant = sandbox.tokens.get(token)
        store_id = request.path_params["store_id"]
        if grant is None or not grant.active or str(grant.store_id) != store_id:
            raise ApiError(403, "Invalid API token or the token does not match the store", "INVALID_API_TOKEN")
        store = sandbox.store(grant.store_id)
        if store.suspended:
            raise ApiError(402, "The store is suspended", "STORE_IS_SUSPENDED")
        if scope is not None and scope not in grant.scopes:
            raise ApiError(403, f"The application has no '{scope}' access scope", "INSUFFICIENT_APP_SCOPE")
        return store

    def _renderer(self, store: EcwidStore) -> Renderer:
        return Renderer(store, self.sandbox.base_url)

    # -- endpoints -----------------------------------------------------------------------------
    def profile(self, request: Request, store: EcwidStore) -> Response:
        data = self._renderer(store).profile()
        settings = data["settings"]
        assert isinstance(settings, dict)
        # The storefront's cookie banner and Ecwid's own TikTok pixel (ecwid-api.md "Storefront JavaScript").
        settings["askConsentToTrackInStorefront"] = store.profile.ask_consent
        pixel = store.profile.tiktok_pixel
        if pixel is not None:
            settings["tikTokPixel"] = {
                "code": str(pixel.get("code", "")),
                "advancedMatching": bool(pixel.get("advancedMatching", pixel.get("advanced_matching", False))),
            }
        return Response.json(data)

    def products(self, request: Request, store: EcwidStore) -> Response:
        params = Params(request)
        sort_by = params.text("sortBy") or "RELEVANCE"
        if sort_by not in SORT_KEYS:
            raise ApiError(400, f"Wrong parameter 'sortBy' value: expected one of {', '.join(SORT_KEYS)}")
        query = ProductQuery(
            product_ids=params.id_list("productId"),
            sku=params.text("sku"),
            keyword=params.text("keyword"),
            category=params.integer("category"),
            with_subcategories=bool(params.boolean("withSubcategories")),
            enabled=params.boolean("enabled"),
            in_stock=params.boolean("inStock"),
            created_from=params.moment("createdFrom"),
            created_to=params.moment("createdTo"),
            updated_from=params.moment("updatedFrom"),
            updated_to=params.moment("updatedTo"),
            price_from=params.decimal("priceFrom"),
            price_to=params.decimal("priceTo"),
            sort_by=sort_by,
        )
        params.text("responseFields")  # accepted; full objects are a valid superset of any selection
        offset, limit = params.paging()
        found = store.search_products(query)
        renderer = self._renderer(store)
        return _page([renderer.product(p) for p in found[offset : offset + limit]], len(found), offset, limit)

    def product(self, request: Request, store: EcwidStore) -> Response:
        raw_id = request.path_params["product_id"]
        product = store.products.get(int(raw_id)) if raw_id.isdigit() else None
        if product is None:
            raise ApiError(404, f"Product #{raw_id} not found", "PRODUCT_NOT_FOUND")
        return Response.json(self._renderer(store).product(product))

    def deleted_products(self, request: Request, store: EcwidStore) -> Response:
        params = Params(request)
        since, until = params.moment("from_date"), params.moment("to_date")
        offset, limit = params.paging()
        found = sorted(
            (
                d
                for d in store.deleted_products
                if (since is None or d.deleted_at >= since) and (until is None or d.deleted_at <= until)
            ),
            key=lambda d: (d.deleted_at, d.id),
        )
        items: list[dict[str, object]] = [
            {"id": d.id, "date": ecwid_date(d.deleted_at)} for d in found[offset : offset + limit]
        ]
        return _page(items, len(found), offset, limit)

    def categories(self, request: Request, store: EcwidStore) -> Response:
        params = Params(request)
        with_hidden = bool(params.boolean("hidden_categories"))
        with_product_ids = bool(params.boolean("productIds"))
        parent = params.integer("parent")
        offset, limit = params.paging()
        found = sorted(
            (
                c
                for c in store.categories.values()
                if (with_hidden or c.enabled) and (parent is None or (c.parent_id or 0) == parent)
            ),
            key=lambda c: (c.order_by, c.id),
        )
        renderer = self._renderer(store)
        return _page(
            [renderer.category(c, with_product_ids) for c in found[offset : offset + limit]], len(found), offset, limit
        )

    def category(self, request: Request, store: EcwidStore) -> Response:
        raw_id = request.path_params["category_id"]
        category = store.categories.get(int(raw_id)) if raw_id.isdigit() else None
        if category is None:
            raise ApiError(404, f"Category #{raw_id} not found", "CATEGORY_NOT_FOUND")
        with_product_ids = bool(Params(request).boolean("productIds"))
        return Response.json(self._renderer(store).category(category, with_product_ids))

    def delete_application(self, request: Request, store: EcwidStore) -> Response:
        """The app uninstalls itself: every token it holds for the store is revoked."""
        if request.arg("namespace") != self.sandbox.client_id:
            raise ApiError(400, "Wrong parameter 'namespace' value: expected the app's client_id")
        self.sandbox.uninstall(store.store_id)
        return Response.json({"success": True})
