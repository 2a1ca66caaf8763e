"""The local run's own pages under /_local/: what is running, and a stand-in for the Ecwid admin around
the app (it obtains Ecwid's encrypted payload from the sandbox, as the admin's iframe URL would carry it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import escape
from urllib.parse import urlencode

import boto3

from localrun.aws import LocalResources
from localrun.gateway import HttpAnswer
from sandboxes.ecwid import EcwidSandbox
from sandboxes.tiktok import TikTokSandbox

INSTALL_SCOPE = "read_store_profile read_catalog add_to_cp"
_STORE_PAGE = re.compile(r"^/_local/stores/(\d+)$")
_PAYLOAD = re.compile(r"^/_local/stores/(\d+)/payload$")


def store_page_url(gateway_url: str) -> str:
    """ECWID_APP_PAGE_URL of the local run: where the callbacks send the merchant back."""
    return f"{gateway_url}/_local/stores/{{store_id}}"


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
            return _html(self.store_page(int(match.group(1))))
        if match := _PAYLOAD.match(path):
            return self.payload(int(match.group(1)))
        return None

    def install_url(self) -> str:
        query = urlencode(
            {
                "client_id": self.ecwid.client_id,
                "redirect_uri": f"{self.gateway_url}/oauth/ecwid/callback",
                "response_type": "code",
                "scope": INSTALL_SCOPE,
            }
        )
        return f"{self.ecwid.base_url}/api/oauth/authorize?{query}"

    def queue_depths(self) -> dict[str, str]:
        sqs = boto3.client("sqs")
        depths = {}
        for logical_id, url in self.resources.queues.items():
            attributes = sqs.get_queue_attributes(
                QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
            )["Attributes"]
            depths[logical_id] = (
                f"{attributes['ApproximateNumberOfMessages']} waiting, "
                f"{attributes['ApproximateNumberOfMessagesNotVisible']} in flight"
            )
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

    def payload(self, store_id: int) -> HttpAnswer:
        if store_id not in self.ecwid.stores or self.ecwid.current_token(store_id) is None:
            return HttpAnswer.json(409, {"message": "Install the app in this store first."})
        return HttpAnswer.json(200, {"payload": self.ecwid.app_payload(store_id)})

    def store_page(self, store_id: int) -> str:
        return _STORE_PAGE_HTML.replace("__STORE_ID__", str(store_id)).replace(
            "__INSTALL_URL__", escape(self.install_url())
        )


def _html(body: str) -> HttpAnswer:
    page = f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Local run</title>
<style>body{{font:15px system-ui,sans-serif;margin:2rem;max-width:60rem}}td,th{{padding:.3rem .6rem;text-align:left}}
pre{{background:#f4f4f4;padding:1rem;overflow:auto}}</style></head><body>{body}</body></html>"""
    return HttpAnswer(200, [("Content-Type", "text/html; charset=utf-8"), ("Cache-Control", "no-store")], page.encode())


# The merchant page proper is GET /app (a later issue); until then this stand-in drives the same API.
_STORE_PAGE_HTML = """<p><a href="/_local/">← local run</a></p>
<h1>TikTok page of store __STORE_ID__ (local stand-in for the Ecwid admin)</h1>
<div id="problem" role="alert"></div>
<p id="install" hidden><a href="__INSTALL_URL__">Install the app in this store</a></p>
<h2>Store status</h2><pre id="status">Opening a session…</pre>
<form id="connect"><label for="phone">Phone number for TikTok Business Tools</label>
<input id="phone" name="phone" type="tel" autocomplete="tel" placeholder="+14155550123" required>
<button type="submit">+ Connect TikTok Account</button></form>
<script>
const storeId = "__STORE_ID__";
let session = null;
const say = (text) => { document.getElementById("problem").textContent = text; };
async function api(path, options = {}) {
  const answer = await fetch(path, {...options, headers: {"Content-Type": "application/json",
    ...(session ? {"Authorization": "Bearer " + session} : {})}});
  const body = await answer.json();
  if (!answer.ok) throw new Error(body.error ? body.error.message : body.message);
  return body;
}
async function open() {
  try {
    const {payload} = await api(`/_local/stores/${storeId}/payload`);
    session = (await api("/api/session", {method: "POST", body: JSON.stringify({payload})})).session;
    document.getElementById("status").textContent =
      JSON.stringify(await api(`/api/stores/${storeId}`), null, 2);
  } catch (error) {
    document.getElementById("status").textContent = "";
    say(error.message);
    document.getElementById("install").hidden = false;
  }
}
document.getElementById("connect").addEventListener("submit", async (event) => {
  event.preventDefault();
  try {
    const {authorize_url} = await api(`/api/stores/${storeId}/connect`, {method: "POST",
      body: JSON.stringify({phone: document.getElementById("phone").value})});
    window.top.location.href = authorize_url;
  } catch (error) { say(error.message); }
});
open();
</script>"""
