"""Checks the browser tests share: the page's script errors, controls without a name, and bounded waiting."""

from __future__ import annotations

import time
from collections.abc import Callable

from playwright.sync_api import ConsoleMessage, Page


def watch_for_errors(page: Page) -> list[str]:
    """The page's script errors from now on (the list fills as they happen)."""
    problems: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        # Ecwid's CDN is blocked on purpose: what counts is a script error or a request the CSP refused.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            problems.append(message.text)

    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.append(str(error)))
    return problems


def unlabelled_controls(page: Page) -> list[str]:
    """Visible form controls without an accessible name (label, aria-label or aria-labelledby)."""
    return list(
        page.evaluate(
            """() => Array.from(document.querySelectorAll('input, select, textarea, button'))
                .filter((el) => el.offsetParent !== null && el.type !== 'hidden')
                .filter((el) => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                    && !el.getAttribute('aria-labelledby') && !(el.tagName === 'BUTTON' && el.innerText.trim()))
                .map((el) => el.outerHTML.slice(0, 120))"""
        )
    )


def wait_until(check: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll `check` every half second until it holds; fail naming `what` after `timeout` seconds."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if check():
            return
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")
