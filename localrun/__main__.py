"""`make run`: the product on 127.0.0.1 with no AWS account and no Docker.

moto's server stands in for AWS, the sandboxes for Ecwid and TikTok; the template's routes are served
by the real handlers, and SQS messages and schedules reach them as Lambda would deliver them.
Ports are settings: LOCAL_GATEWAY_PORT, LOCAL_MOTO_PORT, LOCAL_ECWID_PORT, LOCAL_TIKTOK_PORT.
"""

from __future__ import annotations

import logging
import os
import secrets
import signal
import threading
from pathlib import Path

from moto.server import ThreadedMotoServer

from localrun.aws import provision
from localrun.console import Console, app_page_url
from localrun.gateway import LocalGateway
from localrun.lambda_runtime import lambdas_for
from localrun.template import load_template
from localrun.triggers import Scheduler, SqsPollers
from sandboxes.ecwid import EcwidSandbox
from sandboxes.tiktok import TikTokSandbox

ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"
REVIEW_DELAY_SECONDS = 60.0


def _port(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    for noisy in ("botocore", "werkzeug", "httpx"):
        logging.getLogger(noisy).setLevel(logging.WARNING)

    moto = ThreadedMotoServer(ip_address=HOST, port=_port("LOCAL_MOTO_PORT", 5050), verbose=False)
    moto.start()
    os.environ.update(
        {
            "AWS_ENDPOINT_URL": f"http://{HOST}:{_port('LOCAL_MOTO_PORT', 5050)}",
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_DEFAULT_REGION": "us-east-1",
            "POWERTOOLS_TRACE_DISABLED": "true",
        }
    )
    ecwid = EcwidSandbox(client_id="tiktok-channel-local", client_secret="local-ecwid-secret-" + secrets.token_hex(8))
    ecwid.start(_port("LOCAL_ECWID_PORT", 8101))
    demo = ecwid.add_demo_store()
    ecwid.add_store(2004, country="BR", currency="BRL", store_name="Loja Demo (not eligible)")
    tiktok = TikTokSandbox(
        app_id="7000000000000000001",
        secret="local-tiktok-secret-" + secrets.token_hex(8),
        review_delay_seconds=REVIEW_DELAY_SECONDS,
    )
    tiktok.start(_port("LOCAL_TIKTOK_PORT", 8102))

    template = load_template(ROOT / "template.yaml")
    gateway = LocalGateway(template, {}, host=HOST, port=_port("LOCAL_GATEWAY_PORT", 3000))
    resources = provision(
        template,
        secret_value={
            "ecwid_client_id": ecwid.client_id,
            "ecwid_client_secret": ecwid.client_secret,
            "tiktok_app_id": tiktok.app_id,
            "tiktok_secret": tiktok.secret,
        },
        parameter_overrides={
            "PublicBaseUrl": gateway.url,
            "EcwidAppPageUrl": app_page_url(ecwid.base_url, gateway.url),
            "EcwidApiUrl": f"{ecwid.base_url}/api/v3",
            "EcwidOAuthUrl": f"{ecwid.base_url}/api/oauth",
            "TikTokApiUrl": tiktok.base_url,
            "TikTokAuthUrl": f"{tiktok.base_url}/portal/auth",
        },
        stack_name="local",
    )
    lambdas = lambdas_for(resources)
    scheduler = Scheduler(resources, lambdas)
    gateway.lambdas.update(lambdas)  # type: ignore[attr-defined]
    gateway.scheduler = scheduler
    console = Console(gateway.url, ecwid, tiktok, resources)
    gateway.console = console
    # The sandbox Ecwid sends its webhooks for every edit to the receiver, as Ecwid would.
    ecwid.webhook_url = f"{gateway.url}/webhooks/ecwid"
    ecwid.start_webhook_delivery()
    pollers = SqsPollers(resources, lambdas).start()
    scheduler.start()
    gateway.start()
    # The demo store has the app installed already (through the real install callback), so the first URL
    # below opens its TikTok page at once; store 2004 is left for walking the install.
    console.install(demo.store_id)

    print(
        f"""
TikTok channel for Ecwid is running on {HOST}.

Open the TikTok page of demo store {demo.store_id} (the sandbox Ecwid stands in for the Ecwid admin):
  {console.open_app_url(demo.store_id)}

  Local run console   {gateway.url}/_local/
  App API             {gateway.url}   (the routes of template.yaml, served by the real handlers)
  Sandbox Ecwid       {ecwid.base_url}   (demo store {demo.store_id}, and store 2004 in Brazil, not eligible)
  Sandbox TikTok      {tiktok.base_url}
  AWS (moto)          {os.environ["AWS_ENDPOINT_URL"]}

On that page:
  1. Enter a mobile number such as +14155550123 and click "+ Connect TikTok Account".
  2. On the sandbox TikTok page click Connect: you come back to the TikTok page, connected, and the first
     sync runs (a progress bar while it does).
  3. TikTok reviews uploads after {REVIEW_DELAY_SECONDS:g} s here (at once after
     POST {tiktok.base_url}/_sandbox/tiktok/review_now); Sync Products reads the outcome into Listed / Rejected.
  4. Fix products in the sandbox Ecwid ({ecwid.base_url}/_sandbox/stores/{demo.store_id}/admin), for example give
     "Enamel Camping Mug" a 1000x1000 image: the edit reaches TikTok at once (a title with "replica" in it
     is one TikTok's review rejects).
  5. Apply for TikTok Storefront, then Disconnect.
Install the app in another store: {console.install_url()}
(pick store 2004 and click Install: its TikTok page explains why it cannot connect).

Ctrl+C stops it.
""",
        flush=True,
    )

    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    stop.wait()
    gateway.stop()
    scheduler.stop()
    pollers.stop()
    ecwid.stop()
    tiktok.stop()
    moto.stop()


if __name__ == "__main__":
    main()
