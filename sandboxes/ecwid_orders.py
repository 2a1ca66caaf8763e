"""The sandbox Ecwid's orders: placing them (a storefront checkout, or a test), their payment status moving on,
the REST reads and the order webhooks, as ecwid-api.md "Orders (for purchase events)" and "Webhooks" describe.

    order = ecwid.place_order(1003, [(product_id, None, 2)], email="shopper@example.com", paid=False)
    ecwid.set_payment_status(1003, order["id"], "PAID")      # order.updated AWAITING_PAYMENT -> PAID
    ecwid.delete_order(1003, order["id"])                    # order.deleted

REST (scope `read_orders`, else 403 INSUFFICIENT_APP_SCOPE):
    GET /api/v3/{storeId}/orders/{orderId}   the order; `orderId` is its `id` or its `internalId`; 404
                                             `ORDER_NOT_FOUND` for an unknown id or another store's order
    GET /api/v3/{storeId}/orders             `{total, count, offset, limit, items}`, newest first; filters `ids`
                                             (ids and internal ids, comma list), `paymentStatus`,
                                             `fulfillmentStatus` (comma lists), `email`, `createdFrom`,
                                             `createdTo`, `updatedFrom`, `updatedTo` (unix seconds or Ecwid dates),
                                             `offset`, `limit` (<= 100, 400 above)
    Both take `responseFields`, e.g. `id,total,items(sku,price)` (on the search: `total,items(id,total)`).

Control routes (tests in another process, the local run):
    GET    /_sandbox/stores/{store_id}/orders               every order of the store, as REST shows it
    POST   /_sandbox/stores/{store_id}/orders               place_order's arguments as JSON -> the order
           (`items`: [[productId, combinationId|null, quantity]] or [{productId, combinationId, quantity}])
    PATCH  /_sandbox/stores/{store_id}/orders/{order_id}    {"paymentStatus", "fulfillmentStatus"?,
                                                             "refundedAmount"?} -> the order
    DELETE /_sandbox/stores/{store_id}/orders/{order_id}    -> {"ok": true}

What the sandbox models:
- `id`: 5 random characters (uppercase letters and digits) between the store's `order_id_prefix` and
  `order_id_suffix` (e.g. "K8XTQ", "SALE-G01ZG"); `internalId`: a number; `orderNumber` and `vendorOrderNumber`
  (deprecated) mirror them.
- Item `price`: the unit price with option modifiers, before discounts, gross in gross-price stores
  (`pricesIncludeTax`), net otherwise (ecwid-api.md). In a store without taxes shown inside prices (the default)
  it is the price the product page shows. `priceWithoutTax` and `tax` are per unit; `productPrice` is the bare
  base price; `sku` and `combinationId` are the variation's when one was ordered (`combinationId` absent
  otherwise). No shipping, discounts or coupons: `total = subtotalWithoutTax + tax`.
- A checkout takes stock (refused with ValueError when a limited stock holds too few, or the product is
  disabled) and so fires `product.updated` for each product whose stock changed, after `order.created`.
- Order webhooks carry `entityId` = internalId and `data.orderId` = id. Ecwid sends webhooks only for events the
  app can read: when the store's current token lacks `read_orders` (a store installed with the older scopes),
  no `order.*` webhook is recorded (with no token at all they are recorded, like the catalog events).
- `utmData`: an object `{source, campaign, medium}` (Ecwid's Java client) or, with the sandbox option
  `utm_data_form = "array"`, a list of such objects (the current docs); absent when the order has none.
- No currency field, as Ecwid's orders have none.
"""

from __future__ import annotations

import itertools
import random
import re
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from sandboxes.common import Request, Response
from sandboxes.ecwid_catalog import Combination, EcwidStore, Product
from sandboxes.ecwid_prices import ZERO_DECIMAL_CURRENCIES
from sandboxes.ecwid_render import ecwid_date, number
from sandboxes.ecwid_rest import ApiError, Params

if TYPE_CHECKING:
    from sandboxes.ecwid import EcwidSandbox

Json = dict[str, Any]
ItemSpec = tuple[int, int | None, int]
PAYMENT_STATUSES = (
    "AWAITING_PAYMENT",
    "PAID",
    "CANCELLED",
    "REFUNDED",
    "PARTIALLY_REFUNDED",
    "INCOMPLETE",
    "CUSTOM_PAYMENT_STATUS_1",
    "CUSTOM_PAYMENT_STATUS_2",
    "CUSTOM_PAYMENT_STATUS_3",
)
FULFILLMENT_STATUSES = (
    "AWAITING_PROCESSING",
    "PROCESSING",
    "SHIPPED",
    "DELIVERED",
    "WILL_NOT_DELIVER",
    "RETURNED",
    "READY_FOR_PICKUP",
    "OUT_FOR_DELIVERY",
    "CUSTOM_FULFILLMENT_STATUS_1",
    "CUSTOM_FULFILLMENT_STATUS_2",
    "CUSTOM_FULFILLMENT_STATUS_3",
)
ID_ALPHABET = string.ascii_uppercase + string.digits
_ID_PATTERN = re.compile(r"^[A-Z0-9]{5}$")
ORDER_SCOPE = "read_orders"


# -- prices ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class UnitPrice:
    """One unit of a product or variation at checkout: `price` as the order item shows it, `without_tax`, `tax`."""

    price: Decimal
    without_tax: Decimal
    tax: Decimal


def unit_price(store: EcwidStore, product: Product, combination: Combination | None) -> UnitPrice:
    """The unit price an order item gets (see the module docstring), from the typed prices, the chosen (or
    default) options' modifiers and the store's tax shown inside prices."""
    profile = store.profile
    step = Decimal(1) if profile.currency.upper() in ZERO_DECIMAL_CURRENCIES else Decimal("0.01")

    def rounded(value: Decimal) -> Decimal:
        return value.quantize(step, ROUND_HALF_UP)

    base = Decimal(str(product.price))
    if combination is not None and combination.price is not None:
        typed = Decimal(str(combination.price))
    else:
        typed = base + _modifiers(product, base, selected_options(product, combination))
    rate = Decimal(str(profile.tax_in_prices)) / 100
    if profile.prices_include_tax:
        price = rounded(typed)
        without_tax = rounded(price / (1 + rate))
        return UnitPrice(price, without_tax, price - without_tax)
    price = rounded(typed)
    return UnitPrice(price, price, rounded(price * rate))


def selected_options(product: Product, combination: Combination | None) -> list[tuple[str, str]]:
    """(option name, chosen value): the variation's options, or the options' default choices."""
    if combination is not None:
        return list(combination.options)
    return [(o.name, o.choices[o.default_choice].text) for o in product.options if o.default_choice is not None]


def _modifiers(product: Product, base: Decimal, chosen: Sequence[tuple[str, str]]) -> Decimal:
    total = Decimal(0)
    for name, value in chosen:
        option = next((o for o in product.options if o.name == name), None)
        choice = next((c for c in option.choices if c.text == value), None) if option is not None else None
        if choice is None:
            continue
        modifier = Decimal(str(choice.price_modifier))
        total += base * modifier / 100 if choice.price_modifier_type == "PERCENT" else modifier
    return total


# -- the model ---------------------------------------------------------------------------------------
@dataclass
class OrderItem:
    id: int
    product_id: int
    combination_id: int | None
    sku: str
    name: str
    quantity: int
    price: Decimal
    price_without_tax: Decimal
    product_price: float
    tax: Decimal
    selected_options: list[tuple[str, str]]
    category_id: int
    image_url: str | None

    def json(self) -> Json:
        data: Json = {"id": self.id, "productId": self.product_id}
        if self.combination_id is not None:
            data["combinationId"] = self.combination_id
        data.update(
            {
                "sku": self.sku,
                "name": self.name,
                "quantity": self.quantity,
                "price": number(float(self.price)),
                "priceWithoutTax": number(float(self.price_without_tax)),
                "productPrice": number(self.product_price),
                "tax": number(float(self.tax)),
                "couponAmount": 0,
                "discounts": [],
                "selectedOptions": [
                    {
                        "name": name,
                        "type": "CHOICE",
                        "value": value,
                        "valuesArray": [value],
                        "selections": [
                            {"selectionTitle": value, "selectionModifier": 0, "selectionModifierType": "ABSOLUTE"}
                        ],
                    }
                    for name, value in self.selected_options
                ],
                "categoryId": self.category_id,
                "productAvailable": True,
                "isShippingRequired": True,
                "trackQuantity": True,
            }
        )
        if self.image_url is not None:
            data["imageUrl"] = self.image_url
            data["smallThumbnailUrl"] = self.image_url
        return data


@dataclass
class Person:
    name: str
    phone: str | None
    country_code: str
    postal_code: str

    def json(self) -> Json:
        first, _, last = self.name.partition(" ")
        data: Json = {
            "name": self.name,
            "firstName": first,
            "lastName": last,
            "companyName": "",
            "street": "1 Sandbox Street",
            "city": "Sandbox City",
            "countryCode": self.country_code,
            "postalCode": self.postal_code,
            "stateOrProvinceCode": "",
        }
        if self.phone is not None:
            data["phone"] = self.phone
        return data


@dataclass
class Order:
    """One order as Ecwid keeps it; `json()` is what `GET /orders/{orderId}` answers."""

    id: str
    internal_id: int
    store_id: int
    email: str
    items: list[OrderItem]
    person: Person
    payment_status: str
    payment_method: str
    fulfillment_status: str
    prices_include_tax: bool
    created: int
    updated: int
    customer_id: int
    accept_marketing: bool
    ip_address: str | None = None
    user_agent: str | None = None
    referer_url: str | None = None
    global_referer: str | None = None
    utm_data: dict[str, str] | None = None
    refunded_amount: Decimal = Decimal(0)
    utm_data_form: str = "object"
    extra: Json = field(default_factory=dict)

    @property
    def subtotal(self) -> Decimal:
        return sum((i.price * i.quantity for i in self.items), Decimal(0))

    @property
    def subtotal_without_tax(self) -> Decimal:
        return sum((i.price_without_tax * i.quantity for i in self.items), Decimal(0))

    @property
    def tax(self) -> Decimal:
        return sum((i.tax * i.quantity for i in self.items), Decimal(0))

    @property
    def total(self) -> Decimal:
        return self.subtotal_without_tax + self.tax

    def json(self) -> Json:
        data: Json = {
            "id": self.id,
            "internalId": self.internal_id,
            "orderNumber": self.internal_id,
            "vendorOrderNumber": self.id,
            "email": self.email,
            "paymentMethod": self.payment_method,
            "paymentStatus": self.payment_status,
            "fulfillmentStatus": self.fulfillment_status,
            "total": number(float(self.total)),
            "totalWithoutTax": number(float(self.subtotal_without_tax)),
            "subtotal": number(float(self.subtotal)),
            "subtotalWithoutTax": number(float(self.subtotal_without_tax)),
            "tax": number(float(self.tax)),
            "discount": 0,
            "couponDiscount": 0,
            "volumeDiscount": 0,
            "membershipBasedDiscount": 0,
            "totalAndMembershipBasedDiscount": 0,
            "refundedAmount": number(float(self.refunded_amount)),
            "pricesIncludeTax": self.prices_include_tax,
            "customerTaxExempt": False,
            "customerId": self.customer_id,
            "acceptMarketing": self.accept_marketing,
            "createDate": ecwid_date(self.created),
            "updateDate": ecwid_date(self.updated),
            "createTimestamp": self.created,
            "updateTimestamp": self.updated,
            "hidden": False,
            "items": [i.json() for i in self.items],
            "billingPerson": self.person.json(),
            "shippingPerson": self.person.json(),
            "taxesOnShipping": [],
            "shippingOption": {"shippingMethodName": "Free shipping", "shippingRate": 0, "isPickup": False},
            "handlingFee": {"value": 0},
            "refunds": [],
        }
        for key, value in (
            ("ipAddress", self.ip_address),
            ("customerUserAgent", self.user_agent),
            ("refererUrl", self.referer_url),
            ("globalReferer", self.global_referer),
        ):
            if value is not None:
                data[key] = value
        if self.utm_data:
            data["utmData"] = [self.utm_data] if self.utm_data_form == "array" else dict(self.utm_data)
            data["utmDataSets"] = [{"timestamp": self.created, **self.utm_data}]
        data.update(self.extra)
        return data


# -- the order book ----------------------------------------------------------------------------------
class OrderBook:
    """Every store's orders: placing them, moving their status, the REST reads and the control routes."""

    def __init__(self, sandbox: EcwidSandbox, seed: int = 0) -> None:
        self.sandbox = sandbox
        self._random = random.Random(seed)
        self._internal_ids = itertools.count(150_000_001)
        self._item_ids = itertools.count(210_000_001)
        self._customer_ids = itertools.count(90_000_001)
        self._customers: dict[tuple[int, str], int] = {}
        api = sandbox.rest.api
        base = "/api/v3/{store_id}/orders"
        sandbox.route("GET", base + "/{order_id}", api(self._rest_order, scope=ORDER_SCOPE))
        sandbox.route("GET", base, api(self._rest_orders, scope=ORDER_SCOPE))
        control = "/_sandbox/stores/{store_id}/orders"
        sandbox.route("GET", control, self._control_list)
        sandbox.route("POST", control, self._control_place)
        sandbox.route("PATCH", control + "/{order_id}", self._control_update)
        sandbox.route("DELETE", control + "/{order_id}", self._control_delete)

    # -- Python API ------------------------------------------------------------------------------
    def place_order(
        self,
        store_id: int,
        items: Sequence[ItemSpec],
        *,
        email: str,
        phone: str | None = None,
        name: str = "Alex Shopper",
        country_code: str = "US",
        postal_code: str = "10001",
        paid: bool = True,
        ip_address: str | None = None,
        user_agent: str | None = None,
        referer_url: str | None = None,
        global_referer: str | None = None,
        utm_data: Mapping[str, str] | None = None,
        accept_marketing: bool = False,
        payment_method: str | None = None,
        order_id: str | None = None,
    ) -> Json:
        """Place an order as a storefront checkout does and return it as REST shows it.

        `items`: (product id, combination id or None, quantity). `paid=True`: paid at placement (PAID, a card);
        False: offline payment (AWAITING_PAYMENT). `order_id`: the id the cart reserved (the storefront's
        `cart.id`), used when well-formed and free. Records `order.created`, then `product.updated` for each
        product whose stock changed.
        """
        sandbox = self.sandbox
        with sandbox.lock:
            store = sandbox.store(store_id)
            if not items:
                raise ValueError("an order needs at least one item")
            if "@" not in email:
                raise ValueError("a valid e-mail is required")
            taken: dict[tuple[int, int | None], int] = {}
            lines: list[OrderItem] = []
            for product_id, combination_id, quantity in items:
                line = self._item(store, int(product_id), combination_id, int(quantity))
                lines.append(line)
                key = (line.product_id, line.combination_id)
                taken[key] = taken.get(key, 0) + line.quantity
            now = sandbox.timestamp()
            customer = self._customers.setdefault((store_id, email.lower()), next(self._customer_ids))
            order = Order(
                id=self._new_id(store, order_id),
                internal_id=next(self._internal_ids),
                store_id=store_id,
                email=email,
                items=lines,
                person=Person(name, phone, country_code, postal_code),
                payment_status="PAID" if paid else "AWAITING_PAYMENT",
                payment_method=payment_method or ("Credit or debit card" if paid else "Bank transfer"),
                fulfillment_status="AWAITING_PROCESSING",
                prices_include_tax=store.profile.prices_include_tax,
                created=now,
                updated=now,
                customer_id=customer,
                accept_marketing=accept_marketing,
                ip_address=ip_address,
                user_agent=user_agent,
                referer_url=referer_url,
                global_referer=global_referer,
                utm_data=dict(utm_data) if utm_data else None,
                utm_data_form=sandbox.utm_data_form,
            )
            store.check_stock(taken)  # raises before anything is recorded
            store.orders[order.id] = order
            self._emit(
                store_id,
                "order.created",
                order,
                {
                    "orderId": order.id,
                    "newPaymentStatus": order.payment_status,
                    "newFulfillmentStatus": order.fulfillment_status,
                },
            )
            store.take_stock(taken)
            return order.json()

    def update_order(
        self,
        store_id: int,
        order_id: str,
        *,
        payment_status: str | None = None,
        fulfillment_status: str | None = None,
        refunded_amount: float | None = None,
    ) -> Json:
        """Move an order's statuses; records `order.updated` with the old and new statuses when one changed.
        REFUNDED sets `refundedAmount` to the total; PARTIALLY_REFUNDED to `refunded_amount` (default: half)."""
        sandbox = self.sandbox
        with sandbox.lock:
            store = sandbox.store(store_id)
            order = self.find(store, order_id)
            if order is None:
                raise KeyError(f"store {store_id} has no order {order_id}")
            if payment_status is not None and payment_status not in PAYMENT_STATUSES:
                raise ValueError(f"paymentStatus must be one of {PAYMENT_STATUSES}")
            if fulfillment_status is not None and fulfillment_status not in FULFILLMENT_STATUSES:
                raise ValueError(f"fulfillmentStatus must be one of {FULFILLMENT_STATUSES}")
            old_payment, old_fulfillment = order.payment_status, order.fulfillment_status
            new_payment = payment_status or old_payment
            new_fulfillment = fulfillment_status or old_fulfillment
            if payment_status == "REFUNDED":
                order.refunded_amount = order.total
            elif payment_status == "PARTIALLY_REFUNDED":
                half = (order.total / 2).quantize(Decimal("0.01"), ROUND_HALF_UP)
                order.refunded_amount = Decimal(str(refunded_amount)) if refunded_amount is not None else half
            if (new_payment, new_fulfillment) != (old_payment, old_fulfillment) or refunded_amount is not None:
                order.payment_status, order.fulfillment_status = new_payment, new_fulfillment
                order.updated = sandbox.timestamp()
                self._emit(
                    store_id,
                    "order.updated",
                    order,
                    {
                        "orderId": order.id,
                        "oldPaymentStatus": old_payment,
                        "newPaymentStatus": new_payment,
                        "oldFulfillmentStatus": old_fulfillment,
                        "newFulfillmentStatus": new_fulfillment,
                    },
                )
            return order.json()

    def set_payment_status(
        self, store_id: int, order_id: str, status: str, *, refunded_amount: float | None = None
    ) -> Json:
        """PAID, CANCELLED, REFUNDED, PARTIALLY_REFUNDED, AWAITING_PAYMENT, ...: see update_order."""
        return self.update_order(store_id, order_id, payment_status=status, refunded_amount=refunded_amount)

    def delete_order(self, store_id: int, order_id: str) -> None:
        """The merchant deletes the order: records `order.deleted` (no data)."""
        sandbox = self.sandbox
        with sandbox.lock:
            store = sandbox.store(store_id)
            order = self.find(store, order_id)
            if order is None:
                raise KeyError(f"store {store_id} has no order {order_id}")
            del store.orders[order.id]
            self._emit(store_id, "order.deleted", order, None)

    def find(self, store: EcwidStore, order_id: str | int) -> Order | None:
        """An order of this store by its `id` or its `internalId`."""
        text = str(order_id)
        found = store.orders.get(text)
        if found is None and text.isdigit():
            found = next((o for o in store.orders.values() if o.internal_id == int(text)), None)
        return found

    # -- building ----------------------------------------------------------------------------------
    def _item(self, store: EcwidStore, product_id: int, combination_id: int | None, quantity: int) -> OrderItem:
        product = store.products.get(product_id)
        if product is None or not product.enabled:
            raise ValueError(f"product {product_id} is not for sale in store {store.store_id}")
        if quantity < 1:
            raise ValueError("quantity must be at least 1")
        combination = None
        if combination_id is not None:
            combination = next((c for c in product.combinations if c.id == int(combination_id)), None)
            if combination is None:
                raise ValueError(f"product {product_id} has no combination {combination_id}")
        prices = unit_price(store, product, combination)
        image = combination.image if combination is not None and combination.image is not None else product.image
        renderer_base = self.sandbox.base_url if self.sandbox._server is not None else "http://127.0.0.1"
        return OrderItem(
            id=next(self._item_ids),
            product_id=product.id,
            combination_id=combination.id if combination is not None else None,
            sku=(combination.sku if combination is not None and combination.sku else product.sku),
            name=product.name,
            quantity=quantity,
            price=prices.price,
            price_without_tax=prices.without_tax,
            product_price=product.price,
            tax=prices.tax,
            selected_options=selected_options(product, combination),
            category_id=product.default_category_id,
            image_url=(renderer_base + image.path(store.store_id, image.scaled(1500))) if image is not None else None,
        )

    def _new_id(self, store: EcwidStore, wanted: str | None) -> str:
        taken = {o.id for s in self.sandbox.stores.values() for o in s.orders.values()}
        if wanted is not None:
            core = wanted.removeprefix(store.order_id_prefix).removesuffix(store.order_id_suffix)
            candidate = f"{store.order_id_prefix}{core}{store.order_id_suffix}"
            if _ID_PATTERN.match(core) and candidate not in taken:
                return candidate
        while True:
            core = "".join(self._random.choice(ID_ALPHABET) for _ in range(5))
            candidate = f"{store.order_id_prefix}{core}{store.order_id_suffix}"
            if candidate not in taken:
                return candidate

    def _emit(self, store_id: int, event_type: str, order: Order, data: Json | None) -> None:
        token = self.sandbox.current_token(store_id)
        if token is not None and ORDER_SCOPE not in token.scopes:
            return  # Ecwid sends only what the app has the scope to read
        self.sandbox.emit(store_id, event_type, order.internal_id, data)

    # -- REST ----------------------------------------------------------------------------------------
    def _rest_order(self, request: Request, store: EcwidStore) -> Response:
        raw = unquote(request.path_params["order_id"])
        order = self.find(store, raw)
        if order is None:
            raise ApiError(404, f"Order #{raw} not found", "ORDER_NOT_FOUND")
        return Response.json(select_fields(order.json(), Params(request).text("responseFields")))

    def _rest_orders(self, request: Request, store: EcwidStore) -> Response:
        params = Params(request)
        ids = _split(params.text("ids"))
        payment = _split(params.text("paymentStatus"))
        fulfillment = _split(params.text("fulfillmentStatus"))
        email = params.text("email")
        created_from, created_to = params.moment("createdFrom"), params.moment("createdTo")
        updated_from, updated_to = params.moment("updatedFrom"), params.moment("updatedTo")
        offset, limit = params.paging()
        wanted: set[str] | None = None
        if ids is not None:
            wanted = {o.id for o in (self.find(store, i) for i in ids) if o is not None}
        found = [
            o
            for o in store.orders.values()
            if (wanted is None or o.id in wanted)
            and (payment is None or o.payment_status in payment)
            and (fulfillment is None or o.fulfillment_status in fulfillment)
            and (email is None or o.email.lower() == email.lower())
            and (created_from is None or o.created >= created_from)
            and (created_to is None or o.created <= created_to)
            and (updated_from is None or o.updated >= updated_from)
            and (updated_to is None or o.updated <= updated_to)
        ]
        found.sort(key=lambda o: (o.created, o.internal_id), reverse=True)
        page = [o.json() for o in found[offset : offset + limit]]
        body = {"total": len(found), "count": len(page), "offset": offset, "limit": limit, "items": page}
        return Response.json(select_fields(body, params.text("responseFields")))

    # -- control routes ------------------------------------------------------------------------------
    def _control_store(self, request: Request) -> int:
        text = request.path_params["store_id"]
        if not text.isdigit() or int(text) not in self.sandbox.stores:
            raise KeyError(f"no store {text}")
        return int(text)

    def _control_list(self, request: Request) -> Response:
        try:
            store = self.sandbox.store(self._control_store(request))
        except KeyError as error:
            return Response.json({"error": str(error)}, 404)
        return Response.json([o.json() for o in store.orders.values()])

    def _control_place(self, request: Request) -> Response:
        try:
            store_id = self._control_store(request)
        except KeyError as error:
            return Response.json({"error": str(error)}, 404)
        try:
            body = request.json() or {}
            if not isinstance(body, dict):
                raise TypeError("the body must be a JSON object")
            return Response.json(self.place_order(store_id, parse_items(body.get("items")), **place_arguments(body)))
        except (KeyError, ValueError, TypeError) as error:
            return Response.json({"error": str(error)}, 400)

    def _control_update(self, request: Request) -> Response:
        try:
            store_id = self._control_store(request)
            order_id = unquote(request.path_params["order_id"])
            body = request.json() or {}
            if not isinstance(body, dict):
                raise TypeError("the body must be a JSON object")
            refunded = body.get("refundedAmount")
            return Response.json(
                self.update_order(
                    store_id,
                    order_id,
                    payment_status=body.get("paymentStatus"),
                    fulfillment_status=body.get("fulfillmentStatus"),
                    refunded_amount=None if refunded is None else float(refunded),
                )
            )
        except KeyError as error:
            return Response.json({"error": str(error)}, 404)
        except (ValueError, TypeError) as error:
            return Response.json({"error": str(error)}, 400)

    def _control_delete(self, request: Request) -> Response:
        try:
            self.delete_order(self._control_store(request), unquote(request.path_params["order_id"]))
        except KeyError as error:
            return Response.json({"error": str(error)}, 404)
        return Response.json({"ok": True})


_PLACE_ARGUMENTS = {
    "email": "email",
    "phone": "phone",
    "name": "name",
    "country_code": "country_code",
    "countryCode": "country_code",
    "postal_code": "postal_code",
    "paid": "paid",
    "ip_address": "ip_address",
    "ipAddress": "ip_address",
    "user_agent": "user_agent",
    "userAgent": "user_agent",
    "referer_url": "referer_url",
    "refererUrl": "referer_url",
    "global_referer": "global_referer",
    "utm_data": "utm_data",
    "utmData": "utm_data",
    "accept_marketing": "accept_marketing",
    "payment_method": "payment_method",
    "order_id": "order_id",
    "orderId": "order_id",
}


def place_arguments(body: Mapping[str, Any]) -> dict[str, Any]:
    """place_order's keyword arguments from a JSON body (snake_case or Ecwid's camelCase names)."""
    unknown = set(body) - set(_PLACE_ARGUMENTS) - {"items"}
    if unknown:
        raise TypeError(f"unknown order fields: {sorted(unknown)}")
    return {_PLACE_ARGUMENTS[k]: v for k, v in body.items() if k != "items"}


def parse_items(raw: Any) -> list[ItemSpec]:
    """[[productId, combinationId|null, quantity]] or [{productId, combinationId?, quantity?}] as ItemSpecs."""
    if not isinstance(raw, list) or not raw:
        raise ValueError("items must be a non-empty list")
    items: list[ItemSpec] = []
    for entry in raw:
        if isinstance(entry, Mapping):
            combination = entry.get("combinationId", entry.get("combination_id"))
            product = entry.get("productId", entry.get("product_id"))
            items.append(
                (int(product), None if combination in (None, 0) else int(combination), int(entry.get("quantity", 1)))
            )
        elif isinstance(entry, list) and len(entry) == 3:
            items.append((int(entry[0]), None if entry[1] in (None, 0) else int(entry[1]), int(entry[2])))
        else:
            raise ValueError("each item is [productId, combinationId|null, quantity] or an object")
    return items


def _split(text: str | None) -> set[str] | None:
    if text is None:
        return None
    return {part.strip() for part in text.split(",") if part.strip()}


# -- responseFields ----------------------------------------------------------------------------------
Selection = dict[str, "Selection | None"]


def parse_fields(text: str) -> Selection:
    """`id,total,items(sku,price)` as {"id": None, "total": None, "items": {"sku": None, "price": None}}."""
    selection, rest = _parse_fields(text.replace(" ", ""), 0)
    if rest != len(text.replace(" ", "")):
        raise ApiError(400, "Wrong parameter 'responseFields' value: unbalanced parentheses")
    return selection


def _parse_fields(text: str, at: int) -> tuple[Selection, int]:
    selection: Selection = {}
    name = ""
    while at < len(text):
        char = text[at]
        if char == "(":
            sub, at = _parse_fields(text, at + 1)
            if at >= len(text) or text[at] != ")":
                raise ApiError(400, "Wrong parameter 'responseFields' value: unbalanced parentheses")
            selection[name] = sub
            name = ""
        elif char == ")":
            break
        elif char == ",":
            if name:
                selection[name] = None
            name = ""
        else:
            name += char
        at += 1
    if name:
        selection[name] = None
    return selection, at


def select_fields(value: Any, text: str | None) -> Any:
    """`value` trimmed to a `responseFields` selection (None: untouched)."""
    return value if text is None else _select(value, parse_fields(text))


def _select(value: Any, selection: Selection | None) -> Any:
    if selection is None:
        return value
    if isinstance(value, list):
        return [_select(v, selection) for v in value]
    if isinstance(value, dict):
        return {k: _select(value[k], sub) for k, sub in selection.items() if k in value}
    return value
