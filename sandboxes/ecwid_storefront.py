"""The sandbox Ecwid's storefront: a tiny shop per store that a real browser can use, with the storefront
JavaScript API (`window.Ecwid`) an app's custom script relies on, as ecwid-api.md "Storefront JavaScript (the
app's own script)" describes. No network beyond the sandbox itself, no external libraries.

Routes:
    GET   /_sandbox/storefront/{store_id}             the storefront (one HTML page, a single-page app)
    POST  /_sandbox/storefront/{store_id}/checkout    {items: [{productId, combinationId?, quantity}], email,
                                                       name?, phone?, countryCode?, paid: bool, orderId?,
                                                       refererUrl?} -> {"order": <REST order>, "placed": <the
                                                       OnOrderPlaced object>}; 400 {"error"} when refused
    PATCH /_sandbox/storefront                        {"custom_js_url", "public_config_form", "cart_item_sku",
                                                       "confirmation_order_id_form", "utm_data_form"}: options

Pages (URL hash; a test can open any directly):
    #!/                       CATEGORY, categoryId 0: the store's enabled products as links
    #!/c/{categoryId}         CATEGORY: the enabled products of one category
    #!/p/{productId}          PRODUCT (`?variation={combinationId}` preselects a variation's options)
    #!/cart                   CART (the first checkout step: items, e-mail)
    #!/checkout               CHECKOUT_PAYMENT_DETAILS (the stand-in for payment)
    #!/order/{orderId}        ORDER_CONFIRMATION, page.orderId = the REST order `id`

Element ids (each also its `data-testid`):
    ec-page (data-page-type = the page type), ec-bag-link, ec-bag-count,
    consent: ec-consent-banner, ec-consent-accept, ec-consent-decline,
    category: product-link-{productId},
    product: ec-product-name, ec-product-price, ec-option-{index} (a <select> per option, also
      data-option-name), ec-quantity, ec-add-to-bag (disabled and "Out of stock" when the choice is sold out),
      ec-added (shown after adding),
    cart: cart-item-{index}, cart-inc-{index}, cart-dec-{index}, cart-remove-{index}, ec-cart-total, ec-email,
      ec-name, ec-phone, ec-checkout, ec-error,
    checkout: ec-pay-card ("Pay now by card": PAID at placement), ec-pay-later ("Pay later (bank transfer)":
      AWAITING_PAYMENT), ec-error,
    confirmation: ec-order-id (the REST order id), ec-order-total.

`window.Ecwid` (ready when OnAPILoaded fires, at DOMContentLoaded, after the app's script has run):
OnAPILoaded, OnPageSwitch, OnPageLoad, OnPageLoaded, OnCartChanged, OnOrderPlaced, OnConsentChanged, OnSetProfile
(`.add(fn)`), Cart.get, Cart.calculateTotal, Cart.addProduct({id, quantity, options}), Cart.removeProduct(index),
Cart.clear, getOwnerId, getInitializedWidgets (["ProductBrowser"]), getAppPublicConfig(client_id),
getAppPublicToken(client_id), getTrackingConsent, getStorefrontLang, formatCurrency, getVisitorLocation, openPage.

Modelled:
- The app's custom script (`EcwidSandbox.custom_js_url`, the `customJsUrl` Ecwid's support sets) is appended
  after the API script on every page of a store whose current token of the app is active and holds
  `customize_storefront` (ecwid-api.md: the script needs that scope); otherwise nothing is appended.
- `getAppPublicConfig(client_id)`: the store's `public` app-storage value, embedded in the page when it is
  served (no network call), for the sandbox app's client_id in a store where the app is installed; null
  otherwise. Its form is the option `public_config_form`: "string" (the value) or "object" ({key, value}).
- Consent: with the profile's `ask_consent`, a banner asks until answered; `userResponse` is UNDEFINED until
  then, ACCEPTED or DECLINED after (kept in sessionStorage for the browser session); OnConsentChanged gets the
  same object getTrackingConsent returns. Without `ask_consent` there is no banner: {userResponse: "UNDEFINED",
  askConsent: false}. A page may preset `window.ec.config.tracking.{ask_consent, user_response}`.
- The cart lives in localStorage. `cart.id` is the order id the cart will keep (reserved on the client and
  honoured at checkout); `cart.orderId` is null until then. `items[].product.price` is the unit price before
  taxes (the variation's or product's typed price with option modifiers); `items[].product.sku` is the
  variation's SKU, or the product's with the option `cart_item_sku = "product"` (unconfirmed in the doc).
- OnPageLoaded for a product page carries `variationId` when the preselected options match a variation; choosing
  other options on the page does not fire it again. Non-default choices of options that no variation names do
  not change the price.
- ORDER_CONFIRMATION's `page.orderId` is the REST `id` (or, with `confirmation_order_id_form = "internal"`, the
  numeric internal id as older stores had it).
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal

from sandboxes.common import Request, Response
from sandboxes.ecwid_catalog import EcwidStore, Product
from sandboxes.ecwid_orders import parse_items, unit_price
from sandboxes.ecwid_render import _CURRENCY_FORMATS, Renderer

if TYPE_CHECKING:
    from sandboxes.ecwid import EcwidSandbox

PublicConfigForm = Literal["string", "object"]
STOREFRONT_SCOPE = "customize_storefront"
_OPTIONS: dict[str, tuple[str | None, ...]] = {
    "custom_js_url": (),  # a URL or null
    "public_config_form": ("string", "object"),
    "cart_item_sku": ("variation", "product"),
    "confirmation_order_id_form": ("id", "internal"),
    "utm_data_form": ("object", "array"),
}


class Storefront:
    def __init__(self, sandbox: EcwidSandbox) -> None:
        self.sandbox = sandbox
        sandbox.route("GET", "/_sandbox/storefront/{store_id}", self._page)
        sandbox.route("POST", "/_sandbox/storefront/{store_id}/checkout", self._checkout)
        sandbox.route("PATCH", "/_sandbox/storefront", self._set_options)

    # -- what the page embeds ----------------------------------------------------------------------
    def installed(self, store_id: int) -> bool:
        return self.sandbox.current_token(store_id) is not None

    def script_url(self, store_id: int) -> str | None:
        """The app's custom script URL this store's pages load, or None."""
        token = self.sandbox.current_token(store_id)
        if self.sandbox.custom_js_url is None or token is None or STOREFRONT_SCOPE not in token.scopes:
            return None
        return self.sandbox.custom_js_url

    def config(self, store: EcwidStore, checkout_url: str) -> dict[str, Any]:
        sandbox = self.sandbox
        base = sandbox.base_url if sandbox._server is not None else "http://127.0.0.1"
        renderer = Renderer(store, base)
        profile = store.profile
        prefix, suffix, precision = _CURRENCY_FORMATS.get(profile.currency, ("", " " + profile.currency, 2))
        token = sandbox.current_token(store.store_id)
        visible = [c for c in sorted(store.categories.values(), key=lambda c: c.order_by) if not store.is_hidden(c.id)]
        return {
            "storeId": store.store_id,
            "storeName": profile.store_name,
            "lang": profile.language,
            "country": profile.country,
            "currency": {"prefix": prefix, "suffix": suffix, "precision": precision},
            "pricesIncludeTax": profile.prices_include_tax,
            "askConsent": profile.ask_consent,
            "clientId": sandbox.client_id,
            "publicConfig": store.app_storage.get("public") if token is not None else None,
            "publicConfigForm": sandbox.public_config_form,
            "publicToken": token.public_token if token is not None else None,
            "cartItemSku": sandbox.cart_item_sku,
            "confirmationOrderIdForm": sandbox.confirmation_order_id_form,
            "orderIdPrefix": store.order_id_prefix,
            "orderIdSuffix": store.order_id_suffix,
            "checkoutUrl": checkout_url,
            "categories": [{"id": c.id, "name": c.name} for c in visible],
            "products": [
                self._product(store, renderer, p)
                for p in sorted(store.products.values(), key=lambda p: p.id)
                if p.enabled
            ],
        }

    @staticmethod
    def _product(store: EcwidStore, renderer: Renderer, product: Product) -> dict[str, Any]:
        shown: dict[str, Any] = renderer.product(product)
        images = shown["media"]["images"]
        own = unit_price(store, product, None)
        combinations = []
        for combination, rendered in zip(product.combinations, shown["combinations"], strict=True):
            prices = unit_price(store, product, combination)
            image = rendered.get("thumbnailUrl")
            combinations.append(
                {
                    "id": combination.id,
                    "sku": combination.sku or product.sku,
                    "options": dict(combination.options),
                    "price": float(prices.without_tax),
                    "orderPrice": float(prices.price),
                    "tax": float(prices.tax),
                    "shownPrice": rendered["defaultDisplayedPrice"],
                    "shownPriceFormatted": rendered["defaultDisplayedPriceFormatted"],
                    "inStock": combination.in_stock,
                    "quantity": None if combination.unlimited else combination.quantity,
                    "imageUrl": image,
                }
            )
        return {
            "id": product.id,
            "name": product.name,
            "sku": product.sku,
            "url": shown["url"],
            "description": product.description,
            "imageUrl": images[0]["image400pxUrl"] if images else None,
            "categoryId": product.default_category_id,
            "categoryIds": list(product.category_ids),
            "weight": product.weight,
            "price": float(own.without_tax),
            "orderPrice": float(own.price),
            "tax": float(own.tax),
            "shownPrice": shown["defaultDisplayedPrice"],
            "shownPriceFormatted": shown["defaultDisplayedPriceFormatted"],
            "inStock": product.in_stock,
            "quantity": None if product.unlimited else product.quantity,
            "options": [
                {
                    "name": o["name"],
                    "choices": [c["text"] for c in o["choices"]],
                    "defaultChoice": o["defaultChoice"],
                }
                for o in shown["options"]
            ],
            "combinations": combinations,
        }

    def html(self, store: EcwidStore) -> str:
        config = self.config(store, f"/_sandbox/storefront/{store.store_id}/checkout")
        embedded = json.dumps(config).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
        script_url = self.script_url(store.store_id)
        app_script = f'\n<script src="{html.escape(script_url, quote=True)}"></script>' if script_url else ""
        return (
            _PAGE.replace("__API__", _API_JS)
            .replace("__APP_SCRIPT__", app_script)
            .replace("__TITLE__", html.escape(store.profile.store_name))
            .replace("__CONFIG__", embedded)
        )

    # -- routes --------------------------------------------------------------------------------------
    def _store(self, request: Request) -> EcwidStore | None:
        text = request.path_params["store_id"]
        return self.sandbox.stores.get(int(text)) if text.isdigit() else None

    def _page(self, request: Request) -> Response:
        store = self._store(request)
        if store is None:
            return Response.html("<!doctype html><title>Not found</title><h1>No such store</h1>", 404)
        response = Response.html(self.html(store))
        response.headers["Cache-Control"] = "no-store"
        return response

    def _checkout(self, request: Request) -> Response:
        store = self._store(request)
        if store is None:
            return Response.json({"error": "no such store"}, 404)
        try:
            body = request.json() or {}
            if not isinstance(body, dict):
                raise TypeError("the body must be a JSON object")
            order = self.sandbox.place_order(
                store.store_id,
                parse_items(body.get("items")),
                email=str(body.get("email") or ""),
                phone=body.get("phone") or None,
                name=str(body.get("name") or "Alex Shopper"),
                country_code=str(body.get("countryCode") or store.profile.country),
                paid=bool(body.get("paid", True)),
                ip_address="127.0.0.1",
                user_agent=request.headers.get("user-agent"),
                referer_url=body.get("refererUrl") or request.headers.get("referer"),
                order_id=body.get("orderId"),
            )
        except (KeyError, ValueError, TypeError) as error:
            return Response.json({"error": str(error)}, 400)
        urls = {p["id"]: p["url"] for p in self.config(store, "")["products"]}
        return Response.json({"order": order, "placed": placed_order(order, urls)})

    def _set_options(self, request: Request) -> Response:
        try:
            body = request.json() or {}
            if not isinstance(body, dict):
                raise TypeError("the body must be a JSON object")
            for name, value in body.items():
                allowed = _OPTIONS.get(name)
                if allowed is None:
                    raise TypeError(f"unknown storefront option {name!r}")
                ok = value is None or isinstance(value, str) if name == "custom_js_url" else value in allowed
                if not ok:
                    raise ValueError(f"{name} must be one of {allowed}")
            for name, value in body.items():
                setattr(self.sandbox, name, value)
        except (ValueError, TypeError) as error:
            return Response.json({"error": str(error)}, 400)
        return Response.json({name: getattr(self.sandbox, name) for name in _OPTIONS})


def placed_order(order: dict[str, Any], product_urls: Mapping[int, str]) -> dict[str, Any]:
    """The object `Ecwid.OnOrderPlaced` hands its callbacks for an order as REST shows it (ecwid-api.md);
    `product_urls`: the product page URLs by product id."""
    billing = order["billingPerson"]
    return {
        "vendorNumber": order["id"],
        "orderNumber": order["internalId"],
        "total": order["total"],
        "totalWithoutTax": order["totalWithoutTax"],
        "subtotal": order["subtotal"],
        "subtotalWithoutTax": order["subtotalWithoutTax"],
        "tax": order["tax"],
        "shipping": 0,
        "handlingFee": 0,
        "discount": order["discount"],
        "couponDiscount": order["couponDiscount"],
        "paymentMethod": order["paymentMethod"],
        "paymentStatus": order["paymentStatus"],
        "fulfillmentStatus": order["fulfillmentStatus"],
        "date": str(order["createTimestamp"]),
        "customer": {"name": billing["name"], "email": order["email"]},
        "billingPerson": billing,
        "shippingPerson": order["shippingPerson"],
        "items": [
            {
                "quantity": item["quantity"],
                "options": {o["name"]: o["value"] for o in item["selectedOptions"]},
                "product": {
                    "id": item["productId"],
                    "name": item["name"],
                    "price": item["price"],
                    "sku": item["sku"],
                    "url": product_urls.get(item["productId"], ""),
                },
            }
            for item in order["items"]
        ],
    }


_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>__TITLE__</title>
<style>
  body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0; color: #222;
         background: #fafafa; }
  header { background: #fff; border-bottom: 1px solid #e5e5e5; padding: 12px 24px; display: flex;
           justify-content: space-between; align-items: center; }
  header a { color: #222; text-decoration: none; font-weight: 600; }
  main { max-width: 960px; margin: 24px auto; padding: 0 24px; }
  .grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(200px, 1fr)); gap: 16px; }
  .card { background: #fff; border: 1px solid #e5e5e5; border-radius: 8px; padding: 12px; color: inherit;
          text-decoration: none; display: block; }
  .card img, .product img { width: 100%; aspect-ratio: 1; object-fit: cover; background: #eee; border-radius: 4px; }
  .price { font-weight: 700; font-size: 1.1em; }
  .product { display: grid; grid-template-columns: 1fr 1fr; gap: 32px; }
  button { background: #0a7cff; color: #fff; border: 0; border-radius: 6px; padding: 10px 18px; font-size: 15px;
           cursor: pointer; margin: 4px 4px 4px 0; }
  button[disabled] { background: #aaa; cursor: default; }
  button.secondary { background: #fff; color: #0a7cff; border: 1px solid #0a7cff; }
  label { display: block; margin: 8px 0; }
  input, select { font-size: 15px; padding: 6px 8px; margin-left: 6px; }
  table { width: 100%; border-collapse: collapse; background: #fff; }
  td, th { border-bottom: 1px solid #eee; padding: 8px; text-align: left; }
  #ec-consent-banner { position: fixed; bottom: 0; left: 0; right: 0; background: #222; color: #fff;
                       padding: 16px 24px; display: flex; gap: 16px; align-items: center; justify-content: center; }
  .error { color: #c00; }
  .muted { color: #777; }
</style>
</head>
<body>
<header><a href="#!/" id="ec-home">__TITLE__</a>
  <a href="#!/cart" id="ec-bag-link" data-testid="ec-bag-link">Bag
    (<span id="ec-bag-count" data-testid="ec-bag-count">0</span>)</a></header>
<main id="ec-page" data-testid="ec-page" data-page-type=""></main>
<script>window.__ECWID_SANDBOX__ = __CONFIG__;</script>
<script>__API__</script>__APP_SCRIPT__
</body>
</html>
"""

_API_JS = r"""
(function () {
  "use strict";
  var C = window.__ECWID_SANDBOX__;
  var CART_KEY = "ecwid-sandbox-cart-" + C.storeId;
  var CONSENT_KEY = "ecwid-sandbox-consent-" + C.storeId;
  var CUSTOMER_KEY = "ecwid-sandbox-customer-" + C.storeId;
  var ORDER_KEY = "ecwid-sandbox-last-order-" + C.storeId;
  var apiLoaded = false;
  var pagesShown = 0;
  var products = {};
  C.products.forEach(function (p) { products[p.id] = p; });

  function safe(fn, arg) {
    try { fn(arg); } catch (e) { if (window.console) { console.error(e); } }
  }
  function copy(value) { return value === undefined ? undefined : JSON.parse(JSON.stringify(value)); }
  function handlers() {
    var list = [];
    return {
      add: function (fn) { if (typeof fn === "function") { list.push(fn); } },
      fire: function (arg) { list.slice().forEach(function (fn) { safe(fn, copy(arg)); }); }
    };
  }
  function round(n) { var f = Math.pow(10, C.currency.precision); return Math.round(n * f + 1e-9) / f; }
  function formatCurrency(n) {
    var parts = Number(n).toFixed(C.currency.precision).split(".");
    parts[0] = parts[0].replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    return C.currency.prefix + parts.join(".") + C.currency.suffix;
  }
  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "id") { node.id = attrs[k]; node.setAttribute("data-testid", attrs[k]); }
      else { node.setAttribute(k, attrs[k]); }
    });
    if (text !== undefined) { node.textContent = text; }
    return node;
  }
  function randomId(length) {
    var alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", out = "";
    var bytes = new Uint8Array(length);
    window.crypto.getRandomValues(bytes);
    for (var i = 0; i < length; i++) { out += alphabet[bytes[i] % alphabet.length]; }
    return out;
  }

  // -- consent --------------------------------------------------------------------------------
  var preset = (window.ec && window.ec.config && window.ec.config.tracking) || {};
  var askConsent = preset.ask_consent !== undefined ? !!preset.ask_consent : !!C.askConsent;
  function consent() {
    var answer = null;
    try { answer = window.sessionStorage.getItem(CONSENT_KEY); } catch (e) { answer = null; }
    return { userResponse: answer || preset.user_response || "UNDEFINED", askConsent: askConsent };
  }

  // -- cart -----------------------------------------------------------------------------------
  function newCart() {
    return { id: C.orderIdPrefix + randomId(5) + C.orderIdSuffix, cartId: randomId(24), items: [] };
  }
  function loadCart() {
    try {
      var saved = JSON.parse(window.localStorage.getItem(CART_KEY) || "null");
      if (saved && saved.id && saved.items) { return saved; }
    } catch (e) { /* a fresh cart */ }
    var cart = newCart();
    saveCart(cart);
    return cart;
  }
  function saveCart(cart) { window.localStorage.setItem(CART_KEY, JSON.stringify(cart)); }
  function findCombination(product, options) {
    return product.combinations.filter(function (c) {
      return Object.keys(c.options).every(function (name) { return options[name] === c.options[name]; });
    })[0] || null;
  }
  function priced(line) {
    var product = products[line.productId];
    var combination = product && line.combinationId
      ? product.combinations.filter(function (c) { return c.id === line.combinationId; })[0] : null;
    return combination || product;
  }
  function cartView() {
    var cart = loadCart();
    var items = cart.items.filter(function (line) { return products[line.productId]; }).map(function (line) {
      var product = products[line.productId], unit = priced(line);
      var entry = {
        id: product.id,
        sku: C.cartItemSku === "product" ? product.sku : unit.sku,
        price: unit.price,
        name: product.name,
        url: product.url,
        weight: product.weight,
        shortDescription: product.description.replace(/<[^>]+>/g, " ").trim(),
        isCustomerSetPrice: false,
        selectedPrice: { value: unit.price }
      };
      if (line.combinationId) { entry.variation = line.combinationId; }
      return { quantity: line.quantity, options: copy(line.options), product: entry };
    });
    var quantity = items.reduce(function (sum, i) { return sum + i.quantity; }, 0);
    var weight = items.reduce(function (sum, i) { return sum + i.quantity * i.product.weight; }, 0);
    return {
      id: cart.id, cartId: cart.cartId, orderId: null, items: items, productsQuantity: quantity,
      weight: weight, couponName: null, shippingMethod: null, shippingPerson: null
    };
  }
  function totals() {
    var cart = loadCart(), subtotal = 0, withoutTax = 0, tax = 0;
    cart.items.forEach(function (line) {
      var unit = priced(line);
      if (!unit) { return; }
      subtotal += unit.orderPrice * line.quantity;
      withoutTax += unit.price * line.quantity;
      tax += unit.tax * line.quantity;
    });
    return { subtotal: round(subtotal), subtotalWithoutTax: round(withoutTax), tax: round(tax),
             total: round(withoutTax + tax), totalWithoutTax: round(withoutTax) };
  }
  function cartChanged() { updateBagCount(); Ecwid.OnCartChanged.fire(cartView()); }
  function addToCart(productId, combinationId, options, quantity) {
    var cart = loadCart();
    var same = cart.items.filter(function (l) {
      return l.productId === productId && l.combinationId === combinationId &&
        JSON.stringify(l.options) === JSON.stringify(options);
    })[0];
    if (same) { same.quantity += quantity; }
    else {
      cart.items.push({ productId: productId, combinationId: combinationId, options: options, quantity: quantity });
    }
    saveCart(cart);
    cartChanged();
  }
  function updateBagCount() {
    var count = loadCart().items.reduce(function (sum, l) { return sum + l.quantity; }, 0);
    document.getElementById("ec-bag-count").textContent = String(count);
  }

  // -- the API --------------------------------------------------------------------------------
  var apiQueue = [];
  var Ecwid = window.Ecwid = {
    OnAPILoaded: {
      add: function (fn) { if (apiLoaded) { safe(fn); } else if (typeof fn === "function") { apiQueue.push(fn); } }
    },
    OnPageSwitch: handlers(),
    OnPageLoad: handlers(),
    OnPageLoaded: handlers(),
    OnCartChanged: handlers(),
    OnOrderPlaced: handlers(),
    OnConsentChanged: handlers(),
    OnSetProfile: handlers(),
    Cart: {
      get: function (cb) {
        var view = cartView(), t = totals();
        view.subtotal = t.subtotal; view.total = t.total; view.tax = t.tax;
        view.isPricesIncludeTax = C.pricesIncludeTax; view.paymentMethod = null; view.billingPerson = null;
        setTimeout(function () { safe(cb, view); }, 0);
      },
      calculateTotal: function (cb) {
        var t = totals();
        var result = { total: t.total, totalWithoutTax: t.totalWithoutTax, subtotal: t.subtotal,
          subtotalWithoutTax: t.subtotalWithoutTax, tax: t.tax, discount: 0, couponDiscount: 0, shipping: 0,
          handlingFee: 0, pricesIncludeTax: C.pricesIncludeTax, cart: cartView() };
        setTimeout(function () { safe(cb, result); }, 0);
      },
      addProduct: function (spec) {
        var id = typeof spec === "object" ? spec.id : spec, product = products[id];
        if (!product) { return; }
        var options = (spec && spec.options) || {};
        var combination = findCombination(product, options);
        addToCart(product.id, combination ? combination.id : null, options, (spec && spec.quantity) || 1);
        if (spec && typeof spec.callback === "function") { safe(spec.callback, { success: true }); }
      },
      removeProduct: function (index) {
        var cart = loadCart();
        if (index >= 0 && index < cart.items.length) { cart.items.splice(index, 1); saveCart(cart); cartChanged(); }
      },
      clear: function (cb) {
        var cart = loadCart(); cart.items = []; saveCart(cart); cartChanged();
        if (typeof cb === "function") { safe(cb, true); }
      }
    },
    getOwnerId: function () { return C.storeId; },
    getInitializedWidgets: function () { return ["ProductBrowser"]; },
    getAppPublicConfig: function (clientId) {
      if (clientId !== C.clientId || C.publicConfig === null) { return null; }
      return C.publicConfigForm === "object" ? { key: "public", value: C.publicConfig } : C.publicConfig;
    },
    getAppPublicToken: function (clientId) { return clientId === C.clientId ? C.publicToken : null; },
    getTrackingConsent: function () { return consent(); },
    getStorefrontLang: function () { return C.lang; },
    formatCurrency: formatCurrency,
    getVisitorLocation: function () { return { countryCode: C.country, stateCode: "", source: "IP" }; },
    openPage: function (name, params) {
      params = params || {};
      if (name === "product") { window.location.hash = "#!/p/" + params.id; }
      else if (name === "category") { window.location.hash = params.id ? "#!/c/" + params.id : "#!/"; }
      else if (name === "cart") { window.location.hash = "#!/cart"; }
      else { window.location.hash = "#!/"; }
    }
  };

  function answerConsent(answer) {
    try { window.sessionStorage.setItem(CONSENT_KEY, answer); } catch (e) { /* private mode */ }
    var banner = document.getElementById("ec-consent-banner");
    if (banner) { banner.parentNode.removeChild(banner); }
    Ecwid.OnConsentChanged.fire(consent());
  }
  function showConsentBanner() {
    if (!askConsent || consent().userResponse !== "UNDEFINED") { return; }
    var banner = el("div", { id: "ec-consent-banner", role: "dialog", "aria-label": "Cookie consent" });
    banner.appendChild(el("span", {}, "We use cookies to improve your experience and for marketing."));
    var accept = el("button", { id: "ec-consent-accept", type: "button" }, "Accept");
    var decline = el("button", { id: "ec-consent-decline", type: "button", "class": "secondary" }, "Decline");
    accept.addEventListener("click", function () { answerConsent("ACCEPTED"); });
    decline.addEventListener("click", function () { answerConsent("DECLINED"); });
    banner.appendChild(accept);
    banner.appendChild(decline);
    document.body.appendChild(banner);
  }

  // -- pages ----------------------------------------------------------------------------------
  function parseHash() {
    var hash = window.location.hash.replace(/^#!?/, "") || "/";
    var query = {}, at = hash.indexOf("?");
    if (at >= 0) {
      hash.slice(at + 1).split("&").forEach(function (pair) {
        var kv = pair.split("="); query[decodeURIComponent(kv[0])] = decodeURIComponent(kv[1] || "");
      });
      hash = hash.slice(0, at);
    }
    var parts = hash.split("/").filter(function (p) { return p; });
    return { parts: parts, query: query };
  }
  function pageFor(route) {
    var parts = route.parts;
    if (parts[0] === "p" && products[Number(parts[1])]) {
      return { type: "PRODUCT", productId: Number(parts[1]) };
    }
    if (parts[0] === "c" && parts[1]) {
      return { type: "CATEGORY", categoryId: Number(parts[1]), offset: 0, sort: "normal", filterParams: {} };
    }
    if (parts[0] === "cart") { return { type: "CART" }; }
    if (parts[0] === "checkout") { return { type: "CHECKOUT_PAYMENT_DETAILS" }; }
    if (parts[0] === "order" && parts[1]) {
      return { type: "ORDER_CONFIRMATION", orderId: decodeURIComponent(parts[1]) };
    }
    return { type: "CATEGORY", categoryId: 0, offset: 0, sort: "normal", filterParams: {} };
  }

  function renderCategory(root, page) {
    var title = "All products";
    if (page.categoryId) {
      var category = C.categories.filter(function (c) { return c.id === page.categoryId; })[0];
      title = category ? category.name : "Category";
    }
    root.appendChild(el("h1", {}, title));
    var nav = el("p", {});
    C.categories.forEach(function (c) {
      var link = el("a", { href: "#!/c/" + c.id, id: "category-link-" + c.id }, c.name);
      nav.appendChild(link); nav.appendChild(document.createTextNode("  "));
    });
    root.appendChild(nav);
    var grid = el("div", { "class": "grid" });
    C.products.filter(function (p) {
      return !page.categoryId || p.categoryIds.indexOf(page.categoryId) >= 0;
    }).forEach(function (p) {
      var card = el("a", { href: "#!/p/" + p.id, "class": "card", id: "product-link-" + p.id });
      if (p.imageUrl) { card.appendChild(el("img", { src: p.imageUrl, alt: p.name })); }
      card.appendChild(el("div", {}, p.name));
      card.appendChild(el("div", { "class": "price" }, p.shownPriceFormatted));
      grid.appendChild(card);
    });
    root.appendChild(grid);
  }

  function renderProduct(root, page, route) {
    var product = products[page.productId];
    var chosen = {};
    var wanted = route.query.variation
      ? product.combinations.filter(function (c) { return String(c.id) === route.query.variation; })[0] : null;
    product.options.forEach(function (o) {
      var index = o.defaultChoice === null || o.defaultChoice === undefined ? 0 : o.defaultChoice;
      chosen[o.name] = wanted && wanted.options[o.name] !== undefined ? wanted.options[o.name] : o.choices[index];
    });
    var combination = product.combinations.length ? findCombination(product, chosen) : null;
    page.name = product.name;
    page.categoryId = product.categoryId;
    page.mainCategoryId = product.categoryId;
    if (combination) { page.variationId = combination.id; }

    var box = el("div", { "class": "product" });
    var left = el("div", {});
    if (product.imageUrl) { left.appendChild(el("img", { src: product.imageUrl, alt: product.name })); }
    var right = el("div", {});
    right.appendChild(el("h1", { id: "ec-product-name" }, product.name));
    var price = el("div", { id: "ec-product-price", "class": "price" });
    right.appendChild(price);
    var selects = [];
    product.options.forEach(function (o, i) {
      var label = el("label", { "for": "ec-option-" + i }, o.name + ":");
      var select = el("select", { id: "ec-option-" + i, "data-option-name": o.name });
      o.choices.forEach(function (text) {
        var option = el("option", { value: text }, text);
        if (chosen[o.name] === text) { option.selected = true; }
        select.appendChild(option);
      });
      select.addEventListener("change", function () { chosen[o.name] = select.value; refresh(); });
      label.appendChild(select);
      right.appendChild(label);
      selects.push(select);
    });
    var qtyLabel = el("label", { "for": "ec-quantity" }, "Quantity:");
    var qty = el("input", { id: "ec-quantity", type: "number", min: "1", value: "1" });
    qtyLabel.appendChild(qty);
    right.appendChild(qtyLabel);
    var add = el("button", { id: "ec-add-to-bag", type: "button" }, "Add to bag");
    right.appendChild(add);
    var added = el("p", { id: "ec-added", hidden: "hidden" }, "Added to your bag. ");
    added.appendChild(el("a", { href: "#!/cart", id: "ec-go-to-bag" }, "Go to checkout"));
    right.appendChild(added);
    var description = el("div", { "class": "muted" });
    description.textContent = product.description.replace(/<[^>]+>/g, " ").trim();
    right.appendChild(description);
    box.appendChild(left); box.appendChild(right);
    root.appendChild(box);

    function refresh() {
      combination = product.combinations.length ? findCombination(product, chosen) : null;
      var unit = combination || product;
      price.textContent = unit.shownPriceFormatted;
      var inStock = product.combinations.length ? !!(combination && combination.inStock) : product.inStock;
      add.disabled = !inStock;
      add.textContent = inStock ? "Add to bag" : "Out of stock";
    }
    refresh();
    add.addEventListener("click", function () {
      var quantity = Math.max(1, parseInt(qty.value, 10) || 1);
      addToCart(product.id, combination ? combination.id : null, copy(chosen), quantity);
      added.hidden = false;
    });
  }

  function renderCart(root) {
    root.appendChild(el("h1", {}, "Shopping bag"));
    var cart = loadCart();
    if (!cart.items.length) {
      root.appendChild(el("p", { id: "ec-cart-empty" }, "Your shopping bag is empty."));
      root.appendChild(el("a", { href: "#!/" }, "Continue shopping"));
      return;
    }
    var table = el("table", { id: "ec-cart-items" });
    cart.items.forEach(function (line, index) {
      var product = products[line.productId], unit = priced(line);
      if (!product) { return; }
      var row = el("tr", { id: "cart-item-" + index });
      var opts = Object.keys(line.options || {}).map(function (k) { return k + ": " + line.options[k]; }).join(", ");
      row.appendChild(el("td", {}, product.name + (opts ? " (" + opts + ")" : "")));
      row.appendChild(el("td", {}, formatCurrency(unit.shownPrice)));
      var cell = el("td", {});
      var dec = el("button", { id: "cart-dec-" + index, type: "button", "class": "secondary",
                               "aria-label": "One less" }, "-");
      var inc = el("button", { id: "cart-inc-" + index, type: "button", "class": "secondary",
                               "aria-label": "One more" }, "+");
      var remove = el("button", { id: "cart-remove-" + index, type: "button", "class": "secondary" }, "Remove");
      dec.addEventListener("click", function () { changeQuantity(index, -1); });
      inc.addEventListener("click", function () { changeQuantity(index, 1); });
      remove.addEventListener("click", function () { Ecwid.Cart.removeProduct(index); navigate(); });
      cell.appendChild(dec);
      cell.appendChild(el("span", { id: "cart-qty-" + index }, String(line.quantity)));
      cell.appendChild(inc);
      cell.appendChild(remove);
      row.appendChild(cell);
      table.appendChild(row);
    });
    root.appendChild(table);
    root.appendChild(el("p", { id: "ec-cart-total", "class": "price" }, "Total: " + formatCurrency(totals().total)));
    var customer = {};
    try { customer = JSON.parse(window.sessionStorage.getItem(CUSTOMER_KEY) || "{}"); } catch (e) { customer = {}; }
    var fields = [["ec-email", "E-mail", "email", "email"], ["ec-name", "Name", "text", "name"],
                  ["ec-phone", "Phone", "tel", "phone"]];
    var inputs = {};
    fields.forEach(function (f) {
      var label = el("label", { "for": f[0] }, f[1] + ":");
      var input = el("input", { id: f[0], type: f[2], name: f[3] });
      input.value = customer[f[3]] || "";
      label.appendChild(input);
      root.appendChild(label);
      inputs[f[3]] = input;
    });
    var error = el("p", { id: "ec-error", "class": "error" });
    var checkout = el("button", { id: "ec-checkout", type: "button" }, "Checkout");
    checkout.addEventListener("click", function () {
      var email = inputs.email.value.trim();
      if (!/^[^@\s]+@[^@\s]+$/.test(email)) { error.textContent = "Please enter a valid e-mail."; return; }
      window.sessionStorage.setItem(CUSTOMER_KEY, JSON.stringify({
        email: email, name: inputs.name.value.trim(), phone: inputs.phone.value.trim() }));
      window.location.hash = "#!/checkout";
    });
    root.appendChild(checkout);
    root.appendChild(error);
  }
  function changeQuantity(index, delta) {
    var cart = loadCart(), line = cart.items[index];
    if (!line) { return; }
    line.quantity += delta;
    if (line.quantity < 1) { cart.items.splice(index, 1); }
    saveCart(cart);
    cartChanged();
    navigate();
  }

  function renderCheckout(root) {
    root.appendChild(el("h1", {}, "Payment"));
    var cart = loadCart();
    var customer = {};
    try { customer = JSON.parse(window.sessionStorage.getItem(CUSTOMER_KEY) || "{}"); } catch (e) { customer = {}; }
    if (!cart.items.length || !customer.email) {
      root.appendChild(el("p", {}, "Your bag is empty or has no e-mail yet."));
      root.appendChild(el("a", { href: "#!/cart" }, "Back to the bag"));
      return;
    }
    var toPay = "To pay: " + formatCurrency(totals().total);
    root.appendChild(el("p", { id: "ec-checkout-total", "class": "price" }, toPay));
    var error = el("p", { id: "ec-error", "class": "error" });
    var card = el("button", { id: "ec-pay-card", type: "button" }, "Pay now by card");
    var later = el("button", { id: "ec-pay-later", type: "button", "class": "secondary" }, "Pay later (bank transfer)");
    function pay(paid) {
      card.disabled = later.disabled = true;
      var body = {
        items: cart.items.map(function (l) {
          return { productId: l.productId, combinationId: l.combinationId, quantity: l.quantity };
        }),
        email: customer.email, name: customer.name || undefined, phone: customer.phone || undefined,
        paid: paid, orderId: cart.id, refererUrl: window.location.href
      };
      var request = { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) };
      fetch(C.checkoutUrl, request)
        .then(function (r) { return r.json().then(function (data) { return { ok: r.ok, data: data }; }); })
        .then(function (answer) {
          if (!answer.ok) { throw new Error(answer.data.error || "The order was not placed"); }
          var order = answer.data.order;
          window.sessionStorage.setItem(ORDER_KEY, JSON.stringify(order));
          Ecwid.OnOrderPlaced.fire(answer.data.placed);
          saveCart(newCart());
          cartChanged();
          var shown = C.confirmationOrderIdForm === "internal" ? String(order.internalId) : order.id;
          window.location.hash = "#!/order/" + encodeURIComponent(shown);
        })
        .catch(function (e) { error.textContent = String(e.message || e); card.disabled = later.disabled = false; });
    }
    card.addEventListener("click", function () { pay(true); });
    later.addEventListener("click", function () { pay(false); });
    root.appendChild(card);
    root.appendChild(later);
    root.appendChild(error);
  }

  function renderConfirmation(root, page) {
    var order = null;
    try { order = JSON.parse(window.sessionStorage.getItem(ORDER_KEY) || "null"); } catch (e) { order = null; }
    root.appendChild(el("h1", {}, "Thank you for your order!"));
    var line = el("p", {}, "Order ");
    line.appendChild(el("strong", { id: "ec-order-id" }, order ? order.id : page.orderId));
    root.appendChild(line);
    if (order) {
      root.appendChild(el("p", { id: "ec-order-total", "class": "price" }, "Total: " + formatCurrency(order.total)));
      root.appendChild(el("p", { id: "ec-order-status" }, order.paymentStatus === "PAID"
        ? "Paid." : "Awaiting payment: we will e-mail you the bank details."));
    }
    root.appendChild(el("a", { href: "#!/" }, "Continue shopping"));
  }

  function navigate() {
    var route = parseHash();
    var page = pageFor(route);
    page.hasPrevious = pagesShown > 0;
    pagesShown += 1;
    var root = document.getElementById("ec-page");
    Ecwid.OnPageSwitch.fire(page);
    root.innerHTML = "";
    if (page.type === "PRODUCT") { renderProduct(root, page, route); }
    else if (page.type === "CART") { renderCart(root); }
    else if (page.type === "CHECKOUT_PAYMENT_DETAILS") { renderCheckout(root); }
    else if (page.type === "ORDER_CONFIRMATION") { renderConfirmation(root, page); }
    else { renderCategory(root, page); }
    root.setAttribute("data-page-type", page.type);
    window.scrollTo(0, 0);
    Ecwid.OnPageLoad.fire(page);
    setTimeout(function () { Ecwid.OnPageLoaded.fire(page); }, 0);
  }

  function start() {
    apiLoaded = true;
    var queued = apiQueue; apiQueue = [];
    queued.forEach(function (fn) { safe(fn); });
    updateBagCount();
    Ecwid.OnCartChanged.fire(cartView());  // the cart's init
    showConsentBanner();
    navigate();
    window.addEventListener("hashchange", navigate);
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); }
  else { setTimeout(start, 0); }
})();
"""
