"""A bare store admin page for the local run, standing in for Ecwid's control panel: a person hides a
category or fixes a product (a bigger image, a price) and the app gets the webhooks Ecwid would send."""

from __future__ import annotations

import re
from html import escape
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from sandboxes.common import Request, Response
from sandboxes.ecwid_catalog import EcwidStore, Product, ProductChanges
from sandboxes.ecwid_images import ImageFormat

if TYPE_CHECKING:
    from sandboxes.ecwid import EcwidSandbox

_IMAGE = re.compile(r"^\s*(\d+)\s*[x×]\s*(\d+)\s*(jpg|png)?\s*$", re.IGNORECASE)


class AdminPage:
    def __init__(self, sandbox: EcwidSandbox) -> None:
        self.sandbox = sandbox
        base = "/_sandbox/stores/{store_id}/admin"
        sandbox.route("GET", base, self.page)
        sandbox.route("POST", base + "/products", self.add_product)
        sandbox.route("POST", base + "/products/{product_id}", self.save_product)
        sandbox.route("POST", base + "/products/{product_id}/delete", self.delete_product)
        sandbox.route("POST", base + "/categories/{category_id}", self.save_category)

    def _store(self, request: Request) -> EcwidStore | None:
        raw = request.path_params["store_id"]
        return self.sandbox.stores.get(int(raw)) if raw.isdigit() else None

    def _back(self, store: EcwidStore, error: str | None = None) -> Response:
        suffix = "" if error is None else "?" + urlencode({"error": error[:200]})
        return Response.redirect(f"/_sandbox/stores/{store.store_id}/admin{suffix}")

    # -- actions -------------------------------------------------------------------------------
    def save_product(self, request: Request) -> Response:
        store = self._store(request)
        product = store.products.get(_int(request.path_params["product_id"])) if store else None
        if store is None or product is None:
            return Response.html("<p>No such product.</p>", 404)
        try:
            changes = _changes(product, request.form())
            if changes:
                store.update_product(product.id, **changes)
        except ValueError as error:
            return self._back(store, str(error))
        return self._back(store)

    def add_product(self, request: Request) -> Response:
        store = self._store(request)
        if store is None:
            return Response.html("<p>No such store.</p>", 404)
        form = request.form()
        try:
            store.add_product(
                form.get("name") or "New product",
                float(form.get("price") or 0),
                image=_image(form.get("image") or "1000x1000"),
            )
        except ValueError as error:
            return self._back(store, str(error))
        return self._back(store)

    def delete_product(self, request: Request) -> Response:
        store = self._store(request)
        product_id = _int(request.path_params["product_id"])
        if store is None or product_id not in store.products:
            return Response.html("<p>No such product.</p>", 404)
        store.delete_product(product_id)
        return self._back(store)

    def save_category(self, request: Request) -> Response:
        store = self._store(request)
        category_id = _int(request.path_params["category_id"])
        if store is None or category_id not in store.categories:
            return Response.html("<p>No such category.</p>", 404)
        enabled = request.form().get("enabled") == "on"
        if store.categories[category_id].enabled != enabled:
            store.update_category(category_id, enabled=enabled)
        return self._back(store)

    # -- the page ------------------------------------------------------------------------------
    def page(self, request: Request) -> Response:
        store = self._store(request)
        if store is None:
            return Response.html("<p>No such store.</p>", 404)
        base = f"/_sandbox/stores/{store.store_id}/admin"
        profile = store.profile
        error = request.arg("error")
        categories = "".join(
            f'<form method="post" action="{base}/categories/{c.id}" class="row">'
            f'<label><input type="checkbox" name="enabled" {"checked" if c.enabled else ""}> '
            f"{escape(c.name)} <small>#{c.id}</small></label> <button>Save</button></form>"
            for c in store.categories.values()
        )
        rows = "".join(self._product_row(store, base, p) for p in list(store.products.values())[:200])
        more = len(store.products) - 200
        body = f"""
<h1>{escape(profile.store_name)} <small>#{store.store_id} · {escape(profile.country)} ·
{escape(profile.currency)}</small></h1>
{f'<p class="error">{escape(error)}</p>' if error else ""}
<h2>Categories <small>(unchecked = hidden)</small></h2>{categories or "<p>None.</p>"}
<h2>Products</h2>
<table><tr><th></th><th>Name</th><th>Price</th><th>Compare to</th><th>Qty (blank = unlimited)</th>
<th>Image WxH</th><th>Enabled</th><th></th></tr>{rows}</table>
{f"<p>… and {more} more (only the first 200 are shown).</p>" if more > 0 else ""}
<h2>Add a product</h2>
<form method="post" action="{base}/products" class="row"><input name="name" placeholder="Name">
<input name="price" placeholder="Price" size="6"><input name="image" value="1000x1000" size="10">
<button>Add</button></form>"""
        return Response.html(_document(f"{profile.store_name} · admin", body))

    def _product_row(self, store: EcwidStore, base: str, product: Product) -> str:
        image = product.image
        thumb = (
            f'<img src="{image.path(store.store_id, image.scaled(160))}" alt="" height="40">'
            if image is not None
            else ""
        )
        size = f"{image.width}x{image.height} {image.fmt}" if image is not None else ""
        form_id = f"p{product.id}"
        compare = "" if product.compare_to_price is None else f"{product.compare_to_price:g}"
        quantity = "" if product.unlimited else str(product.quantity)
        return f"""<tr><td>{thumb}</td>
<td><input form="{form_id}" name="name" value="{escape(product.name)}" size="28"></td>
<td><input form="{form_id}" name="price" value="{product.price:g}" size="6"></td>
<td><input form="{form_id}" name="compare_to_price" value="{compare}" size="6"></td>
<td><input form="{form_id}" name="quantity" value="{quantity}" size="4"></td>
<td><input form="{form_id}" name="image" value="{size}" size="12"></td>
<td><input form="{form_id}" type="checkbox" name="enabled" {"checked" if product.enabled else ""}></td>
<td><form id="{form_id}" method="post" action="{base}/products/{product.id}"><button>Save</button></form>
<form method="post" action="{base}/products/{product.id}/delete"><button>Delete</button></form></td></tr>"""


def _changes(product: Product, form: dict[str, str]) -> ProductChanges:
    """Only what the person actually changed, so an untouched Save sends no webhook."""
    changes: ProductChanges = {}
    name = form.get("name", product.name).strip()
    if name != product.name:
        changes["name"] = name
    price = _float(form.get("price"), "price")
    if price is not None and price != product.price:
        changes["price"] = price
    compare = _float(form.get("compare_to_price"), "compare to price")
    if compare != product.compare_to_price:
        changes["compare_to_price"] = compare
    raw_quantity = form.get("quantity", "").strip()
    quantity = int(raw_quantity) if raw_quantity.isdigit() else None
    if raw_quantity and quantity is None:
        raise ValueError("Quantity must be a whole number, or blank for unlimited.")
    if quantity != (None if product.unlimited else product.quantity):
        changes["quantity"] = quantity
    enabled = form.get("enabled") == "on"
    if enabled != product.enabled:
        changes["enabled"] = enabled
    raw_image = form.get("image", "").strip()
    current = product.image
    described = f"{current.width}x{current.height} {current.fmt}" if current is not None else ""
    if raw_image != described:
        changes["image"] = _image(raw_image) if raw_image else None
    return changes


def _image(text: str) -> tuple[int, int, ImageFormat]:
    match = _IMAGE.match(text)
    if match is None:
        raise ValueError("Image must look like 1000x1000 or 800x600 png.")
    fmt: ImageFormat = "png" if (match[3] or "").lower() == "png" else "jpg"
    return int(match[1]), int(match[2]), fmt


def _float(text: str | None, label: str) -> float | None:
    if text is None or not text.strip():
        return None
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"The {label} must be a number.") from None


def _int(text: str) -> int:
    return int(text) if text.isdigit() else -1


def _document(title: str, body: str) -> str:
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{escape(title)} · Ecwid (sandbox)</title>
<style>body{{font-family:sans-serif;margin:2em}} td,th{{padding:.2em .4em;text-align:left}}
.error{{color:#b00}} .row{{margin:.3em 0}} td form{{display:inline}}</style></head>
<body>{body}</body></html>"""
