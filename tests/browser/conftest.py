"""A real browser (Debian's Chromium, driven by Playwright) against `make run` started as a process."""

from __future__ import annotations

from collections.abc import Generator, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, Route, sync_playwright

from tests.app_stack import ROOT
from tests.local_run import LocalRun, local_run

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "tests" / "artifacts" / "browser"
# Playwright's own browser download cannot work here: Debian's Chromium it is (`make test` installs it).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    # Everything here is on 127.0.0.1; a stand-in page a test serves through Playwright has no address, and
    # Chrome's local network access checks would refuse its frames to 127.0.0.1 (Ecwid's admin is public).
    "--disable-features=LocalNetworkAccessChecks",
]
_LOOPBACK = {"127.0.0.1", "localhost"}


@pytest.fixture(scope="module")
def running() -> Iterator[LocalRun]:
    with local_run() as run:
        yield run


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail("Chromium is missing: `make test` installs it (apt-get install -y chromium).")
    launched = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
    yield launched
    launched.close()


def _loopback_only(route: Route) -> None:
    # Nothing beyond 127.0.0.1 (Ecwid's CDN included): the page must work without Ecwid's CSS and SDK.
    if urlsplit(route.request.url).hostname in _LOOPBACK or route.request.url.startswith("data:"):
        route.continue_()
    else:
        route.abort()


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    ctx = browser.new_context(viewport={"width": 1100, "height": 900}, locale="en-US", timezone_id="UTC")
    ctx.set_default_timeout(15_000)
    ctx.route("**/*", _loopback_only)
    yield ctx
    ctx.close()


_FAILED = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.when == "call":
        item.stash[_FAILED] = report.failed
    return report


@pytest.fixture
def page(context: BrowserContext, request: pytest.FixtureRequest) -> Iterator[Page]:
    opened = context.new_page()
    yield opened
    if request.node.stash.get(_FAILED, False):  # what the browser showed when the test failed
        folder = ARTIFACTS / request.node.name
        folder.mkdir(parents=True, exist_ok=True)
        for number, each in enumerate(context.pages):
            each.screenshot(path=str(folder / f"failed-{number}.png"), full_page=True)
            (folder / f"failed-{number}.html").write_text(each.content())


class Shots:
    """Numbered full-page screenshots of each step, kept as test artifacts (tests/artifacts/ is git-ignored)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.count = 0
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("*.png"):
            old.unlink()

    def __call__(self, page: Page, name: str) -> Path:
        self.count += 1
        path = self.folder / f"{self.count:02d}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path


@pytest.fixture
def shots(request: pytest.FixtureRequest) -> Shots:
    return Shots(ARTIFACTS / request.node.name)
