"""HTML answers: the merchant's TikTok page, or a plain page that says what to do (never a session)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import Response

from tiktok_channel.errors import AppError, Unauthorized
from tiktok_channel.services.session import verify_payload
from tiktok_channel.web import merchant_page as render_page
from tiktok_channel.web import plain_page
from tiktok_channel.web.storefront_script import STOREFRONT_CACHE_SECONDS, render_storefront_script

if TYPE_CHECKING:
    from tiktok_channel.ports import Services

logger = Logger(child=True)

_HTML = "text/html; charset=utf-8"
_OPEN_FROM_ECWID = (
    "This page opens inside your Ecwid admin. Go to your Ecwid admin and click TikTok in the menu "
    "(or Apps → My Apps → TikTok)."
)


def merchant_page(services: Services, payload: str | None) -> Response[str]:
    """GET /app?payload=…: the page when Ecwid's payload is genuine and current, a plain page otherwise.

    The payload is never logged; the page's script exchanges it for a session itself.
    """
    if not payload:
        return plain_answer(services, 400, "Open this page from your Ecwid admin", _OPEN_FROM_ECWID)
    try:
        store_id = verify_payload(services, payload)
        app_id = services.secrets().ecwid_client_id
    except Unauthorized as refused:
        logger.info("Merchant page refused", extra={"code": refused.code})
        message = f"{refused.message} If this keeps happening, reinstall the app from the Ecwid App Market."
        return plain_answer(services, 401, "We could not confirm it is you", message)
    except AppError as error:
        logger.info("Merchant page not served", extra={"code": error.code, "status": error.status})
        return plain_answer(services, error.status, "The TikTok page could not open", error.message)
    html, headers = render_page(store_id=store_id, app_id=app_id, app_page_url=services.settings.ecwid_app_page_url)
    return Response(status_code=200, content_type=_HTML, body=html, headers=headers)


def plain_answer(services: Services, status: int, title: str, message: str) -> Response[str]:
    """A plain page with `status`: what happened (`title`) and what to do (`message`); no script, no session."""
    html, headers = plain_page(title, message, app_page_url=services.settings.ecwid_app_page_url)
    return Response(status_code=status, content_type=_HTML, body=html, headers=headers)


def storefront_script_response(services: Services) -> Response[str]:
    """GET /storefront.js: the app's storefront script (Ecwid's custom JS URL for the app), the same for every
    store, with `Cache-Control: public` so browsers and CDNs keep it (design.md: max-age at least 300 s)."""
    settings = services.settings
    script = render_storefront_script(
        client_id=services.secrets().ecwid_client_id,
        pixel_script_url=str(settings.tiktok_pixel_script_url),
        purchase_event=settings.tiktok_purchase_event,
    )
    return Response(
        status_code=200,
        content_type="application/javascript; charset=utf-8",
        body=script,
        headers={
            "Cache-Control": f"public, max-age={STOREFRONT_CACHE_SECONDS}",
            "X-Content-Type-Options": "nosniff",
        },
    )
