"""The sandbox's stand-in for TikTok's hosted authorize pages (login, then Business Center, Ad Account,
Pixel and Catalog setup): one HTML form, plus the `external_data` decoding and HMAC check it needs.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from html import escape
from typing import Any

SETUP_BUSINESS_PROFILE = "business_profile"
SETUP_ADVERTISER_ONLY = "advertiser_only"
SETUPS = (SETUP_BUSINESS_PROFILE, SETUP_ADVERTISER_ONLY)

# The fields, in this order, that TikTok's commerce plugins sign (tiktok-api.md, "OAuth").
HMAC_FIELDS = ("version", "timestamp", "locale", "business_platform", "external_business_id")


class PortalError(ValueError):
    """Why the authorize page refuses to go on; shown to the merchant as an error page."""


def decode_external_data(value: str) -> dict[str, Any]:
    """The JSON object inside `external_data` (standard or URL-safe base64, padding optional)."""
    padded = value.strip() + "=" * (-len(value.strip()) % 4)
    for decoder in (base64.b64decode, base64.urlsafe_b64decode):
        try:
            data = json.loads(decoder(padded.encode()))
        except (binascii.Error, ValueError):
            continue
        if isinstance(data, dict):
            return data
    raise PortalError("external_data is not base64-encoded JSON object.")


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def external_data_hmac(data: dict[str, Any], key: str) -> str:
    """Hex HMAC-SHA256 of "version=…&timestamp=…&locale=…&business_platform=…&external_business_id=…"."""
    message = "&".join(f"{name}={_text(data.get(name))}" for name in HMAC_FIELDS)
    return hmac.new(key.encode(), message.encode(), hashlib.sha256).hexdigest()


def verify_external_data(data: dict[str, Any], key: str | None) -> None:
    """Refuse external_data whose hmac does not match; no key configured means nothing to check."""
    if key is None:
        return
    given = _text(data.get("hmac")).lower()
    if not given or not hmac.compare_digest(given, external_data_hmac(data, key)):
        raise PortalError(
            "The request to connect this store could not be verified (external_data hmac "
            "mismatch). Go back to your store and start again."
        )


_STYLE = """
body { font-family: system-ui, sans-serif; background: #f1f1f2; margin: 0; }
main { max-width: 34rem; margin: 3rem auto; background: #fff; border-radius: 8px; padding: 2rem; }
h1 { font-size: 1.3rem; } .note { color: #555; font-size: .9rem; } dt { font-weight: 600; }
label { display: block; margin: .5rem 0; } .error { color: #b00020; }
button { padding: .6rem 1.2rem; margin-right: .6rem; border-radius: 4px; border: 1px solid #aaa; }
button.primary { background: #fe2c55; color: #fff; border-color: #fe2c55; }
"""


def _page(title: str, body: str) -> str:
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>'
        f"<style>{_STYLE}</style></head><body><main>{body}</main></body></html>"
    )


def render_error(message: str) -> str:
    return _page("TikTok For Business: error", f'<h1>Something went wrong</h1><p class="error">{escape(message)}</p>')


def render_form(params: dict[str, str], store: dict[str, Any], shop_approved: bool) -> str:
    """The authorize form; `params` are carried through hidden inputs to the POST."""
    store_name = _text(store.get("store_name")) or "your store"
    hidden = "".join(f'<input type="hidden" name="{escape(k)}" value="{escape(v)}">' for k, v in params.items())
    details = "".join(
        f"<dt>{escape(label)}</dt><dd>{escape(_text(store.get(key)))}</dd>"
        for label, key in (
            ("Store", "store_name"),
            ("Website", "website_url"),
            ("Country or region", "country_region"),
            ("Currency", "currency"),
            ("Platform", "business_platform"),
        )
        if store.get(key) not in (None, "")
    )
    shop = (
        (
            '<label><input type="checkbox" name="connect_shop" value="1" checked> '
            "Connect TikTok Shopping (your storefront on TikTok)</label>"
        )
        if shop_approved
        else ""
    )
    body = f"""
<h1>Connect {escape(store_name)} to TikTok For Business</h1>
<p class="note">Sandbox TikTok: you are signed in as a test merchant. No real TikTok account is used.</p>
<dl>{details}</dl>
<form method="post" action="/portal/auth">
  {hidden}
  <fieldset><legend>Set up</legend>
    <label><input type="radio" name="setup" value="{SETUP_BUSINESS_PROFILE}" checked>
      Business Center, ad account, pixel and catalog for this store (TikTok's hosted setup)</label>
    <label><input type="radio" name="setup" value="{SETUP_ADVERTISER_ONLY}">
      Business Center and ad account only (no business profile: the app creates pixel and catalog)</label>
  </fieldset>
  {shop}
  <p><button class="primary" type="submit" name="decision" value="connect">Connect</button>
     <button type="submit" name="decision" value="cancel">Cancel</button></p>
</form>"""
    return _page(f"Connect {store_name} to TikTok For Business", body)
