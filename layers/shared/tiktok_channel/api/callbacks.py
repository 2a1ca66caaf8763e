"""The routes a browser follows back from Ecwid or TikTok (the OAuth callbacks): the merchant always lands on a
page, never on JSON and never anywhere but this app. Done: the store's app page. Refused: the app page with a
notice code it shows a message for (in Ecwid's `app_state`: `tiktok_notice=state_expired`), or a plain page that says
what to do when the store cannot be known or when reloading the callback is the fix."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING
from urllib.parse import quote

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import Response

from tiktok_channel.api.http import HTML, REDIRECT, answers, redirect
from tiktok_channel.api.pages import plain_answer
from tiktok_channel.errors import AppError

if TYPE_CHECKING:
    from tiktok_channel.ports import Services

logger = Logger(child=True)
metrics = Metrics()

NOTICE = "tiktok_notice"
# What a TikTok callback route answers (its OpenAPI `responses=`): a redirect, or a plain page for each refusal.
TIKTOK_CALLBACK_ANSWERS = answers({302: REDIRECT, **dict.fromkeys((400, 403, 404, 409, 500, 503), HTML)})
_FAILED = "Something went wrong on our side. Wait a minute, then try again from the TikTok page in your Ecwid admin."


def callback_answer(
    services: Services, *, store_id: int | None, finish: Callable[[], str], title: str
) -> Response[str]:
    """Run a callback's service (`finish` answers where the merchant goes) and answer as a browser route does.

    `store_id`: the store the request is known to be for (a state signed by this app), or None; `title` heads the
    plain page ("TikTok was not connected").
    """
    try:
        return redirect(finish())
    except AppError as refused:
        logger.info("Callback refused", extra={"code": refused.code, "status": refused.status, "store_id": store_id})
        if store_id is None or refused.status >= 500:
            # No store: no page to send the merchant to. 5xx: the message says to reload, and a reload resumes.
            return plain_answer(services, refused.status, title, refused.message)
        return redirect(with_notice(services.settings.app_page_url(store_id), refused.code))
    except Exception:
        logger.exception("Unexpected failure")
        metrics.add_metric(name="UnexpectedFailure", unit="Count", value=1)  # the function's errors alarm
        return plain_answer(services, 500, title, _FAILED)


def with_notice(url: str, code: str) -> str:
    """`url` (ECWID_APP_PAGE_URL filled in) carrying the notice code to the app's page as Ecwid's `app_state`.

    Ecwid opens the app's iframe with the `app_state` its admin URL was given (ecwid-api.md, "Native admin page"):
    in the admin's deep link (`#app:name=…`) it is one more fragment parameter; any other page URL gets it as a
    query parameter. The page reads `tiktok_notice=<code>` from it.
    """
    state = f"app_state={quote(f'{NOTICE}={code}', safe='')}"
    address, hash_sign, fragment = url.partition("#")
    if fragment.startswith("app:"):
        return f"{address}#{fragment}&{state}"
    separator = "&" if "?" in address else "?"
    return f"{address}{separator}{state}{hash_sign}{fragment}"
