"""`make run`: the product on 127.0.0.1 with no AWS account and no Docker.

moto's server stands in for AWS, the sandboxes for Ecwid and TikTok; the template's routes are served
by the real handlers, and SQS messages and schedules reach them as Lambda would deliver them.
Settings (environment variables):
- LOCAL_GATEWAY_PORT, LOCAL_MOTO_PORT, LOCAL_ECWID_PORT, LOCAL_TIKTOK_PORT: the ports;
- LOCAL_FUNCTION_LOGS=1: the functions' log lines (at the template's LogLevel, each naming its function) and a
  line per request and per SQS batch; without it only warnings and errors are shown;
- LOCAL_PARAMETERS: template parameters over the run's own, as `Name=value,Name=value` (e.g.
  `StallMinutes=1,TikTokPauseSeconds=30`), as `sam deploy --parameter-overrides` would set them.

The first line printed is the URL of the demo store's TikTok page. SIGINT and SIGTERM, any number of them,
stop it within a few seconds (see localrun.stop_signals).
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import warnings

from localrun.stack import HOST, LocalStack, Ports, local_stack
from localrun.stop_signals import StopSignals

REVIEW_DELAY_SECONDS = 60.0
# Teardown waits this long at most for a function still running (a sync, a scheduled job) before it leaves it.
STOP_GRACE_SECONDS = 3.0
# And the whole stop takes no longer than this: past it the process exits at once.
STOP_DEADLINE_SECONDS = 8.0


def _port(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def function_logs_on() -> bool:
    """LOCAL_FUNCTION_LOGS: set to anything but "" or "0" to see the functions' logs."""
    return os.environ.get("LOCAL_FUNCTION_LOGS", "").strip() not in ("", "0")


def _configure_logging(verbose: bool) -> None:
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(asctime)s %(name)s %(message)s")
    for noisy in ("botocore", "werkzeug", "httpx"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    if not verbose:
        # What Powertools writes into a function's log besides its lines: warnings ("No application metrics to
        # publish") and the metrics themselves (EMF JSON, which CloudWatch would read from the log).
        warnings.filterwarnings("ignore", category=UserWarning, module=r"aws_lambda_powertools\.")
        os.environ["POWERTOOLS_METRICS_DISABLED"] = "true"


def _exit_if_stuck(seconds: float) -> None:
    """A last resort: exit at once when the teardown has not finished in `seconds`."""

    def give_up() -> None:
        sys.stderr.write(f"The local run did not stop within {seconds:g} s; exiting without waiting further.\n")
        sys.stderr.flush()
        os._exit(1)

    timer = threading.Timer(seconds, give_up)
    timer.daemon = True
    timer.start()


def template_parameters(verbose: bool) -> dict[str, str]:
    """The template parameters `make run` sets: quiet logs unless asked, then LOCAL_PARAMETERS."""
    parameters = {} if verbose else {"LogLevel": "WARNING"}
    for pair in filter(None, (p.strip() for p in os.environ.get("LOCAL_PARAMETERS", "").split(","))):
        name, equals, value = pair.partition("=")
        if not equals or not name.strip():
            raise SystemExit(f"LOCAL_PARAMETERS: {pair!r} is not Name=value")
        parameters[name.strip()] = value.strip()
    return parameters


def main() -> None:
    # First of all: a signal during startup is kept and acted on once the stack is up (it starts in seconds).
    stop = StopSignals().install()
    verbose = function_logs_on()
    _configure_logging(verbose)

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
        parameters=template_parameters(verbose) or None,
        admin_stand_in=True,
        background=True,
        stop_timeout=STOP_GRACE_SECONDS,
    ) as stack:
        ecwid = stack.ecwid
        demo = ecwid.add_demo_store()
        ecwid.add_store(2004, country="BR", currency="BRL", store_name="Loja Demo (not eligible)")
        # The first line printed, before any function's log line: the URL to open.
        print(stack.console.open_app_url(demo.store_id), flush=True)
        # The demo store has the app installed already (through the real install callback), so that URL opens
        # its TikTok page at once; store 2004 is left for walking the install.
        installed = stack.install(demo.store_id)
        if installed.status_code != 302:
            raise RuntimeError(f"installing the app in store {demo.store_id} failed: {installed.text}")

        if not stop.requested():
            print(banner(stack, demo.store_id, verbose), flush=True)
            stop.wait()
        stop.ignore_from_now_on()  # the stop has begun: nothing more to ask, and the deadline bounds it
        _exit_if_stuck(STOP_DEADLINE_SECONDS)
        print("Stopping…", flush=True)
    print("Stopped.", flush=True)


def banner(stack: LocalStack, store_id: int, verbose: bool) -> str:
    """What `make run` prints once it is up, under the URL it printed first."""
    assert stack.moto is not None
    ecwid, tiktok, gateway, console = stack.ecwid, stack.tiktok, stack.gateway, stack.console
    logs = (
        "Function logs are on (LOCAL_FUNCTION_LOGS=1): each line names its function."
        if verbose
        else "Function logs are off (warnings and errors still show): LOCAL_FUNCTION_LOGS=1 make run shows them."
    )
    return f"""  ^ open this URL: demo store {store_id}'s TikTok page. TikTok channel for Ecwid is running on {HOST}.

Open the TikTok page of demo store {store_id} (the sandbox Ecwid stands in for the Ecwid admin):
  {console.open_app_url(store_id)}

  Local run console   {gateway.url}/_local/   (TikTok's reviews and decisions, stores, queues)
  App API             {gateway.url}   (the routes of template.yaml, served by the real handlers)
  Sandbox Ecwid       {ecwid.base_url}   (demo store {store_id}, and store 2004 in Brazil, not eligible)
  Sandbox TikTok      {tiktok.base_url}
  AWS (moto)          {stack.moto.url}

On that page:
  1. Enter a mobile number such as +14155550123 and click "+ Connect TikTok Account".
  2. On the sandbox TikTok page click Connect: you come back to the TikTok page, connected, and the first
     sync runs (a progress bar while it does).
  3. TikTok reviews uploads after {REVIEW_DELAY_SECONDS:g} s here, or at once with "Finish TikTok's reviews now" on
     the local run console; Sync Products reads the outcome into Listed / Rejected.
  4. Fix products in the sandbox Ecwid ({ecwid.base_url}/_sandbox/stores/{store_id}/admin), for example give
     "Enamel Camping Mug" a 1000x1000 image: the edit reaches TikTok at once (a title with "replica" in it
     is one TikTok's review rejects).
  5. Apply for TikTok Storefront; on the local run console "Record TikTok's decision" approves (or rejects) the
     application, as the operator does with TikTok's e-mail; then "Connect TikTok Storefront" on the page.
  6. Disconnect.
Install the app in another store: {console.install_url()}
(pick store 2004 and click Install: its TikTok page explains why it cannot connect).
{logs}

Ctrl+C stops it."""


if __name__ == "__main__":
    main()
