"""The local run's own pages under /_local/: what is running, and the way into each store's TikTok page.

The sandbox Ecwid stands in for the Ecwid admin: its `/_sandbox/stores/{id}/open-app?app_url=…` opens the
app's page (GET /app) with the encrypted `payload` Ecwid's admin would put in the iframe URL, and it is
ECWID_APP_PAGE_URL of the local run, so the OAuth callbacks bring the merchant back there too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import escape
from typing import TYPE_CHECKING
from urllib.parse import quote, urlencode

import boto3

from localrun.aws import LocalResources
from localrun.gateway import HttpAnswer
from localrun.triggers import queue_depth

if TYPE_CHECKING:  # the sandboxes load only where a stack starts them (see localrun.stack)
    from sandboxes.ecwid import EcwidSandbox
    from sandboxes.tiktok import TikTokSandbox

INSTALL_SCOPE = "read_store_profile read_catalog add_to_cp"
_STORE_PAGE = re.compile(r"^/_local/stores/(\d+)$")


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

    def __call__(self, method: str, path: str, query: str) -> HttpAnswer | None:
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

    def index(self) -> str:
        rows = "".join(
            f"<tr><td>{store.store_id}</td><td>{escape(store.profile.store_name)}</td>"
            f"<td>{escape(store.profile.country)} / {escape(store.profile.currency)}</td>"
            f"<td>{len(store.products)}</td>"
            f'<td><a href="/_local/stores/{store.store_id}">TikTok page</a> · '
            f'<a href="{escape(self.ecwid.base_url)}/_sandbox/stores/{store.store_id}/admin">'
            "products in Ecwid</a></td></tr>"
            for store in self.ecwid.stores.values()
        )
        queues = "".join(f"<li>{escape(k)}: {escape(v)}</li>" for k, v in self.queue_depths().items())
        return f"""<h1>TikTok channel for Ecwid: local run</h1>
<p><a href="{escape(self.install_url())}">Install the app</a> in a sandbox Ecwid store
(pick the store, press Install).</p>
<table><tr><th>Store</th><th>Name</th><th>Country / currency</th><th>Products</th><th></th></tr>{rows}</table>
<h2>Queues</h2><ul>{queues}</ul>
<h2>Services</h2><ul>
<li>App API (the template's routes): {escape(self.gateway_url)}</li>
<li>Sandbox Ecwid: {escape(self.ecwid.base_url)}</li>
<li>Sandbox TikTok: {escape(self.tiktok.base_url)}
(<a href="{escape(self.tiktok.base_url)}/_sandbox/tiktok/state">its state as JSON</a>)</li>
</ul>"""

    def store_page(self, store_id: int) -> HttpAnswer:
        """The store's TikTok page when the app is installed there, else Ecwid's install page first."""
        if store_id not in self.ecwid.stores:
            return HttpAnswer.json(404, {"message": f"The sandbox Ecwid has no store {store_id}."})
        if self.ecwid.current_token(store_id) is None:
            return HttpAnswer(302, [("Location", self.install_url()), ("Cache-Control", "no-store")])
        return HttpAnswer(302, [("Location", self.open_app_url(store_id)), ("Cache-Control", "no-store")])


def _html(body: str) -> HttpAnswer:
    page = f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Local run</title>
<style>body{{font:15px system-ui,sans-serif;margin:2rem;max-width:60rem}}td,th{{padding:.3rem .6rem;text-align:left}}
pre{{background:#f4f4f4;padding:1rem;overflow:auto}}</style></head><body>{body}</body></html>"""
    return HttpAnswer(200, [("Content-Type", "text/html; charset=utf-8"), ("Cache-Control", "no-store")], page.encode())
