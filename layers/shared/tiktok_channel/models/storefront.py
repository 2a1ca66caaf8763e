"""TikTok Shopping (the storefront): the merchant's application form and what the app keeps about it.

The storefront's state lives on the store item (`Store.storefront_state`, which the store status shows);
the application, TikTok's decision and the history of moves live in one storefront item beside it.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

from tiktok_channel.eligibility import SHOPPING_COUNTRIES
from tiktok_channel.inputs import is_email, unsafe_character

StorefrontState = Literal["not_applied", "submitted", "approved", "rejected", "connecting", "connected"]
Decision = Literal["approved", "rejected"]
Actor = Literal["merchant", "operator", "tiktok"]

_FORM = ConfigDict(extra="ignore", hide_input_in_errors=True, str_strip_whitespace=True)
_MODEL = ConfigDict(extra="ignore", hide_input_in_errors=True)

# ASCII digits and spaces only (re.ASCII): `\d` alone would take any script's digits.
_US_ZIP = re.compile(r"^\d{5}(-\d{4})?$", re.ASCII)
_GB_POSTCODE = re.compile(r"^([A-Z]{1,2}\d[A-Z\d]?) ?(\d[A-Z]{2})$", re.ASCII)
_RANGE = re.compile(r"^(\d{1,7}) *[-–] *(\d{1,7})$", re.ASCII)
_AT_LEAST = re.compile(r"^(\d{1,7}) *\+$", re.ASCII)
_MAX_MONTHLY_ORDERS = 10_000_000


def _plain_text(value: str) -> str:
    """Free text goes into an e-mail to TikTok's partner contact: no control or text-direction characters."""
    unsafe = unsafe_character(value)
    if unsafe is not None:
        raise ValueError(f"Remove the {unsafe} from this field: type it on one line, as plain text.")
    return value


PlainText = AfterValidator(_plain_text)
Text = Annotated[str, StringConstraints(min_length=1, max_length=200), PlainText]
ShortText = Annotated[str, StringConstraints(min_length=1, max_length=100), PlainText]
Category = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100), PlainText]

# What each field of the form expects, as the merchant reads it next to the field.
FIELD_HELP: dict[str, str] = {
    "legal_business_name": "Enter your business's legal name, as it is registered (up to 200 characters).",
    "contact_name": "Enter the name of the person TikTok should contact about this application.",
    "contact_email": "Enter the e-mail address TikTok should write to, for example owner@example.com.",
    "business_phone": (
        "Enter your business phone number in international format: + and the country code, then the number, "
        "for example +14155550123."
    ),
    "business_address": "Enter your business address: street, city, region, postal code and country.",
    "business_address.street": "Enter the street and number of your business address.",
    "business_address.city": "Enter the city of your business address.",
    "business_address.region": "Enter the state, county or region of your business address.",
    "business_address.postal_code": "Enter the postal code of your business address.",
    "business_address.country": "Choose the country of your business address: United States or United Kingdom.",
    "store_url": "Enter your store's web address, starting with https://.",
    "product_categories": "Choose at least one category of products you sell (up to 20).",
    "monthly_orders": "Enter about how many orders you get a month: a number, a range such as 50-200, or 1000+.",
    "agrees_to_commerce_policies": "To apply, you must agree to TikTok's commerce policies.",
}


class BusinessAddress(BaseModel):
    model_config = _FORM

    street: Text
    city: ShortText
    country: str  # before region and postal code: their checks depend on it
    region: Annotated[str, StringConstraints(max_length=100), PlainText] = ""
    postal_code: Annotated[str, StringConstraints(min_length=1, max_length=20), PlainText]

    @field_validator("country")
    @classmethod
    def _shopping_country(cls, value: str) -> str:
        code = value.strip().upper()
        code = {"UK": "GB", "USA": "US"}.get(code, code)
        if code not in SHOPPING_COUNTRIES:
            raise ValueError(
                "TikTok Shopping is available only for businesses located in the US or the UK: "
                "enter US or GB as the country."
            )
        return code

    @field_validator("region")
    @classmethod
    def _state_for_us(cls, value: str, info: ValidationInfo) -> str:
        if info.data.get("country") == "US" and not value:
            raise ValueError("Enter the state of your business address, for example CA.")
        return value

    @field_validator("postal_code")
    @classmethod
    def _postal_code(cls, value: str, info: ValidationInfo) -> str:
        country = info.data.get("country")
        if country == "US" and not _US_ZIP.match(value):
            raise ValueError("Enter a US ZIP code: five digits, for example 94105 or 94105-1234.")
        if country == "GB":
            found = _GB_POSTCODE.match(value.upper())
            if not found:
                raise ValueError("Enter a UK postcode, for example SW1A 1AA.")
            return f"{found.group(1)} {found.group(2)}"
        return value


class StorefrontApplication(BaseModel):
    """The form of "Apply for TikTok Storefront": the information TikTok asks for."""

    model_config = _FORM

    legal_business_name: Text
    contact_name: ShortText
    contact_email: Annotated[str, StringConstraints(min_length=3, max_length=254)]
    # Checked and put in E.164 by the service, with the connect form's phone rule.
    business_phone: Annotated[str, StringConstraints(min_length=1, max_length=40)]
    business_address: BusinessAddress
    store_url: Annotated[str, StringConstraints(min_length=1, max_length=2048), PlainText]
    product_categories: list[Category] = Field(min_length=1, max_length=20)
    monthly_orders: int | str
    agrees_to_commerce_policies: StrictBool

    @field_validator("contact_email")
    @classmethod
    def _email(cls, value: str) -> str:
        if not is_email(value):
            raise ValueError(FIELD_HELP["contact_email"])
        return value

    @field_validator("store_url")
    @classmethod
    def _url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or "." not in (parts.hostname or ""):
            raise ValueError(FIELD_HELP["store_url"])
        return value

    @field_validator("product_categories")
    @classmethod
    def _distinct(cls, value: list[str]) -> list[str]:
        return list(dict.fromkeys(value))

    @field_validator("monthly_orders", mode="before")
    @classmethod
    def _orders(cls, value: Any) -> int | str:
        if isinstance(value, bool):
            raise ValueError(FIELD_HELP["monthly_orders"])
        if isinstance(value, int):
            if 0 <= value <= _MAX_MONTHLY_ORDERS:
                return value
            raise ValueError(FIELD_HELP["monthly_orders"])
        text = str(value).strip() if isinstance(value, str) else ""
        if text.isascii() and text.isdigit() and int(text) <= _MAX_MONTHLY_ORDERS:
            return int(text)
        if (span := _RANGE.match(text)) and int(span.group(1)) <= int(span.group(2)):
            return f"{int(span.group(1))}-{int(span.group(2))}"
        if at_least := _AT_LEAST.match(text):
            return f"{int(at_least.group(1))}+"
        raise ValueError(FIELD_HELP["monthly_orders"])

    @field_validator("agrees_to_commerce_policies")
    @classmethod
    def _agreed(cls, value: bool) -> bool:
        if not value:
            raise ValueError(FIELD_HELP["agrees_to_commerce_policies"])
        return value

    def without_phone(self) -> dict[str, Any]:
        """The application as stored and shown in clear; the phone is kept encrypted beside it."""
        return self.model_dump(mode="json", exclude={"business_phone"})


class StorefrontMove(BaseModel):
    """One move of the storefront's state, with its time and who made it."""

    model_config = _MODEL

    state: str
    at: str
    by: Actor
    note: str | None = None


class StorefrontDecision(BaseModel):
    model_config = _MODEL

    decision: Decision
    note: str | None = None
    decided_at: str


class StorefrontRecord(BaseModel):
    """The storefront item (STORE#<id> / STOREFRONT)."""

    model_config = _MODEL

    store_id: int
    application_id: str | None = None
    application: dict[str, Any] | None = None  # StorefrontApplication without the phone
    business_phone: bytes | None = None  # KMS ciphertext; personal data
    submitted_at: str | None = None
    decision: StorefrontDecision | None = None
    connected_at: str | None = None
    history: list[StorefrontMove] = []
    updated_at: str | None = None
