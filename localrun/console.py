"""The local run's own pages under /_local/: what is running, the way into each store's TikTok page, and what
TikTok and the operator do in the real world, as buttons.

The sandbox Ecwid stands in for the Ecwid admin: its `/_sandbox/stores/{id}/open-app?app_url=…` opens the
app's page (GET /app) with the encrypted `payload` Ecwid's admin would put in the iframe URL, and it is
ECWID_APP_PAGE_URL of the local run, so the OAuth callbacks bring the merchant back there too.

- "Finish TikTok's reviews now" (POST /_local/tiktok/review-now) asks the sandbox TikTok to decide every pending
  review at once (its POST /_sandbox/tiktok/review_now), instead of after its review delay.
- "Record TikTok's decision" (POST /_local/stores/{id}/storefront-decision, form fields `decision`
  approved|rejected and `note`), offered for a store whose storefront application is submitted, invokes the
  real operator function (OperatorFunction, through the local Lambda runtime) with the event of
  events/operator_record_decision.json, as the operator does with TikTok's e-mail; an approval is also made
  on the sandbox TikTok (its POST /_sandbox/tiktok/approve_shop), so that "Connect TikTok Storefront" then
  connects the shop.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from html import escape
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, quote, urlencode

import boto3
import httpx

from localrun.aws import LocalResources
from localrun.gateway import HttpAnswer
from localrun.lambda_runtime import LocalLambda
from localrun.triggers import queue_depth

if TYPE_CHECKING:  # the sandboxes load only where a stack starts them (see localrun.stack)
    from sandboxes.ecwid import EcwidSandbox
    from sandboxes.tiktok import TikTokSandbox

# Every scope the app asks for at registration (README, "Registering the app with Ecwid").
INSTALL_SCOPE = "read_store_profile read_catalog add_to_cp read_orders update_store_profile customize_storefront"
OPERATOR_FUNCTION = "OperatorFunction"
STORES_TABLE = "StoresTable"
REVIEW_NOW_PATH = "/_local/tiktok/review-now"
_STORE_PAGE = re.compile(r"^/_local/stores/(\d+)$")
_DECISION = re.compile(r"^/_local/stores/(\d+)/storefront-decision$")
_SUBMITTED = "submitted"


def app_page_url(ecwid_url: str, gateway_url: str) -> str:
    """ECWID_APP_PAGE_URL of the local run: the sandbox Ecwid's admin stand-in, opening GET /app for the store."""
    return f"{ecwid_url}/_sandbox/stores/{{store_id}}/open-app?app_url={quote(gateway_url + '/app', safe='')}"


def install_url(ecwid: EcwidSandbox, gateway_url: str) -> str:
    """The sandbox Ecwid's authorize page for this app: the merchant picks a store and presses Install."""
    query = urlencode(
        {
            "client_id": ecwid.client_id,
            "redirect_uri": f"{gateway_url}/oauth/ecwid/callback",
            "response_type": "code",
            "scope": INSTALL_SCOPE,
        }
    )
    return f"{ecwid.base_url}/api/oauth/authorize?{query}"


@dataclass
class Console:
    gateway_url: str
    ecwid: EcwidSandbox
    tiktok: TikTokSandbox
    resources: LocalResources
    lambdas: Mapping[str, LocalLambda]  # the functions the local run runs, by logical id

    def __call__(self, method: str, path: str, query: str, body: bytes | None = None) -> HttpAnswer | None:
        if method == "POST":
            if path == REVIEW_NOW_PATH:
                return _html(self.finish_reviews())
            if match := _DECISION.match(path):
                return _html(self.record_decision(int(match.group(1)), _form(body)))
            return None
        if method != "GET":
            return None
        if path in ("/_local/", "/_local"):
            return _html(self.index())
        if match := _STORE_PAGE.match(path):
            return self.store_page(int(match.group(1)))
        return None

    def open_app_url(self, store_id: int) -> str:
        """The store's TikTok page, opened as the Ecwid admin opens it (the app must be installed there)."""
        return app_page_url(self.ecwid.base_url, self.gateway_url).replace("{store_id}", str(store_id))

    def install_url(self) -> str:
        return install_url(self.ecwid, self.gateway_url)

    def queue_depths(self) -> dict[str, str]:
        sqs = boto3.client("sqs")
        depths = {}
        for logical_id, url in self.resources.queues.items():
            depth = queue_depth(sqs, url)
            depths[logical_id] = f"{depth.waiting} waiting, {depth.in_flight} in flight"
        return depths

    def storefront_state(self, store_id: int) -> str | None:
        """The store's storefront state as the app holds it (the store item's `storefront_state`); None when the
        app is not installed there."""
        table = self.resources.tables.get(STORES_TABLE)
        if table is None:
            return None
        item = boto3.client("dynamodb").get_item(
            TableName=table,
            Key={"pk": {"S": f"STORE#{store_id}"}, "sk": {"S": "STORE"}},
            ProjectionExpression="storefront_state",
            ConsistentRead=True,
        )
        if "Item" not in item:
            return None
        return str(item["Item"].get("storefront_state", {}).get("S", "not_applied"))

    def _storefront_cell(self, store_id: int) -> str:
        state = self.storefront_state(store_id)
        if state is None:
            return "app not installed"
        if state != _SUBMITTED:
            return escape(state.replace("_", " "))
        return f"""submitted: TikTok's decision?
<form method="post" action="/_local/stores/{store_id}/storefront-decision" class="decision">
<label><input type="radio" name="decision" value="approved" checked> Approve</label>
<label><input type="radio" name="decision" value="rejected"> Reject</label>
<label>Note (optional, shown to the merchant) <input type="text" name="note" maxlength="500"></label>
<button type="submit">Record TikTok's decision</button></form>"""

    def index(self) -> str:
        rows = "".join(
            f"<tr><td>{store.store_id}</td><td>{escape(store.profile.store_name)}</td>"
            f"<td>{escape(store.profile.country)} / {escape(store.profile.currency)}</td>"
            f"<td>{len(store.products)}</td>"
            f'<td><a href="/_local/stores/{store.store_id}">TikTok page</a> · '
            f'<a href="{escape(self.ecwid.base_url)}/_sandbox/stores/{store.store_id}/admin">'
            f"products in Ecwid</a></td><td>{self._storefront_cell(store.store_id)}</td></tr>"
            for store in self.ecwid.stores.values()
        )
        queues = "".join(f"<li>{escape(k)}: {escape(v)}</li>" for k, v in self.queue_depths().items())
        return f"""<h1>TikTok channel for Ecwid: local run</h1>
<p><a href="{escape(self.install_url())}">Install the app</a> in a sandbox Ecwid store
(pick the store, press Install).</p>
<table><tr><th>Store</th><th>Name</th><th>Country / currency</th><th>Products</th><th></th>
<th>TikTok Storefront</th></tr>{rows}</table>
<h2>TikTok's reviews</h2>
<p>The sandbox TikTok reviews each upload after a delay ({self.tiktok.review_delay_seconds:g} s here), as TikTok
does after hours. Sync Products on the TikTok page reads the outcome.</p>
<form method="post" action="{REVIEW_NOW_PATH}"><button type="submit">Finish TikTok's reviews now</button></form>
<h2>Storefront applications</h2>
<p>TikTok answers an application by e-mail, and the operator records its decision (README, "Operator actions").
Here "Record TikTok's decision" in the store's row does both: it invokes the operator function with
<code>record_storefront_decision</code> and, for an approval, approves the shop on the sandbox TikTok.</p>
<h2>Queues</h2><ul>{queues}</ul>
<h2>Services</h2><ul>
<li>App API (the template's routes): {escape(self.gateway_url)}</li>
<li>Sandbox Ecwid: {escape(self.ecwid.base_url)}</li>
<li>Sandbox TikTok: {escape(self.tiktok.base_url)}
(<a href="{escape(self.tiktok.base_url)}/_sandbox/tiktok/state">its state as JSON</a>)</li>
</ul>"""

    def finish_reviews(self) -> str:
        """Ask the sandbox TikTok to finish every pending review now (its review_now control route)."""
        try:
            answer = httpx.post(f"{self.tiktok.base_url}/_sandbox/tiktok/review_now", timeout=30)
            answer.raise_for_status()
            decided = int(answer.json()["decided"])
        except (httpx.HTTPError, KeyError, TypeError, ValueError) as error:
            return _outcome("TikTok's reviews", f"The sandbox TikTok did not answer: {error}.", ok=False)
        done = f"TikTok finished its reviews: {decided} product(s) decided."
        return _outcome("TikTok's reviews", f"{done} Press Sync Products on the TikTok page to read the outcome.")

    def record_decision(self, store_id: int, form: Mapping[str, str]) -> str:
        """Invoke the operator function's record_storefront_decision for the store, as the operator would; on an
        approval the sandbox TikTok approves the shop too."""
        title = f"TikTok's decision for store {store_id}"
        operator = self.lambdas.get(OPERATOR_FUNCTION)
        if operator is None:
            return _outcome(title, f"{OPERATOR_FUNCTION} is not running in this local run.", ok=False)
        event: dict[str, Any] = {
            "action": "record_storefront_decision",
            "store_id": store_id,
            "decision": form.get("decision", ""),
        }
        if form.get("note", "").strip():
            event["note"] = form["note"].strip()
        try:
            result = operator.invoke(event)
        except Exception as error:  # the page says so; the function's own log has the trace
            return _outcome(title, f"{OPERATOR_FUNCTION} raised {type(error).__name__}: {error}", ok=False)
        ok = isinstance(result, dict) and result.get("ok") is True
        if ok and event["decision"] == "approved":
            platform = operator.runtime_environment().get("TIKTOK_BUSINESS_PLATFORM", "")
            try:
                httpx.post(
                    f"{self.tiktok.base_url}/_sandbox/tiktok/approve_shop",
                    json={"external_business_id": str(store_id), "business_platform": platform},
                    timeout=30,
                ).raise_for_status()
            except httpx.HTTPError as error:
                return _outcome(title, f"Recorded, but the sandbox TikTok did not approve the shop: {error}.", ok=False)
        if ok:
            text = f"Recorded: {event['decision']}. The store's TikTok page shows it"
            text += " and offers Connect TikTok Storefront." if event["decision"] == "approved" else "."
        else:
            refusal = result.get("error", {}) if isinstance(result, dict) else {}
            text = f"The operator function refused: {refusal.get('message', result)}"
        return _outcome(title, text, ok=ok, details=result, store_id=store_id)

    def store_page(self, store_id: int) -> HttpAnswer:
        """The store's TikTok page when the app is installed there, else Ecwid's install page first."""
        if store_id not in self.ecwid.stores:
            return HttpAnswer.json(404, {"message": f"The sandbox Ecwid has no store {store_id}."})
        if self.ecwid.current_token(store_id) is None:
            return HttpAnswer(302, [("Location", self.install_url()), ("Cache-Control", "no-store")])
        return HttpAnswer(302, [("Location", self.open_app_url(store_id)), ("Cache-Control", "no-store")])


def _form(body: bytes | None) -> dict[str, str]:
    """A posted form's fields (the first value of each)."""
    fields = parse_qs((body or b"").decode("utf-8", errors="replace"), keep_blank_values=True)
    return {name: values[0] for name, values in fields.items()}


def _outcome(title: str, text: str, *, ok: bool = True, details: Any = None, store_id: int | None = None) -> str:
    """The page a console button answers with: what happened, and the ways back."""
    shown = f"<pre>{escape(json.dumps(details, indent=2, default=str))}</pre>" if details is not None else ""
    store = f' · <a href="/_local/stores/{store_id}">the store\'s TikTok page</a>' if store_id is not None else ""
    return f"""<h1>{escape(title)}</h1>
<p class="{"done" if ok else "failed"}" role="status">{escape(text)}</p>{shown}
<p><a href="/_local/">Back to the local run console</a>{store}</p>"""


def _html(body: str) -> HttpAnswer:
    page = f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Local run</title>
<link rel="icon" href="/favicon.ico">
<style>body{{font:15px system-ui,sans-serif;margin:2rem;max-width:60rem}}td,th{{padding:.3rem .6rem;text-align:left}}
pre{{background:#f4f4f4;padding:1rem;overflow:auto}}</style></head><body>{body}</body></html>"""
    return HttpAnswer(200, [("Content-Type", "text/html; charset=utf-8"), ("Cache-Control", "no-store")], page.encode())
