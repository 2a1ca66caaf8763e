"""`make run`: the product on 127.0.0.1 with no AWS account and no Docker.

moto's server stands in for AWS, the sandboxes for Ecwid and TikTok; the template's routes are served
by the real handlers, and SQS messages and schedules reach them as Lambda would deliver them.
Ports are settings: LOCAL_GATEWAY_PORT, LOCAL_MOTO_PORT, LOCAL_ECWID_PORT, LOCAL_TIKTOK_PORT.
"""

from __future__ import annotations

import logging
import os
import signal
import threading

from localrun.stack import HOST, Ports, local_stack

REVIEW_DELAY_SECONDS = 60.0


def _port(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    for noisy in ("botocore", "werkzeug", "httpx"):
        logging.getLogger(noisy).setLevel(logging.WARNING)

    ports = Ports(
        gateway=_port("LOCAL_GATEWAY_PORT", 3000),
        moto=_port("LOCAL_MOTO_PORT", 5050),
        ecwid=_port("LOCAL_ECWID_PORT", 8101),
        tiktok=_port("LOCAL_TIKTOK_PORT", 8102),
    )
    with local_stack(
        moto_server=True,
        ports=ports,
        tiktok_options={"review_delay_seconds": REVIEW_DELAY_SECONDS},
        admin_stand_in=True,
        background=True,
    ) as stack:
        ecwid, tiktok, gateway, console = stack.ecwid, stack.tiktok, stack.gateway, stack.console
        demo = ecwid.add_demo_store()
        ecwid.add_store(2004, country="BR", currency="BRL", store_name="Loja Demo (not eligible)")
        # The demo store has the app installed already (through the real install callback), so the first URL
        # below opens its TikTok page at once; store 2004 is left for walking the install.
        installed = stack.install(demo.store_id)
        if installed.status_code != 302:
            raise RuntimeError(f"installing the app in store {demo.store_id} failed: {installed.text}")
        assert stack.moto is not None

        print(
            f"""
TikTok channel for Ecwid is running on {HOST}.

Open the TikTok page of demo store {demo.store_id} (the sandbox Ecwid stands in for the Ecwid admin):
  {console.open_app_url(demo.store_id)}

  Local run console   {gateway.url}/_local/
  App API             {gateway.url}   (the routes of template.yaml, served by the real handlers)
  Sandbox Ecwid       {ecwid.base_url}   (demo store {demo.store_id}, and store 2004 in Brazil, not eligible)
  Sandbox TikTok      {tiktok.base_url}
  AWS (moto)          {stack.moto.url}

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


if __name__ == "__main__":
    main()
