"""The dashboard in a real headless Chromium (Debian's package, driven by Playwright) against the
local stack the session starts with its demo data.

Run with `make browser-test` (installs Chromium when it is missing; `make test` runs it too). Each
test leaves a screenshot named after it in BROWSER_REPORT (default build/browser), next to the
run's JUnit report, and fails on any console error, uncaught exception or failed request the test
did not expect."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from tests.conftest import ROOT
from tests.stack import Stack

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
REPORT = Path(os.environ.get("BROWSER_REPORT", ROOT / "build" / "browser"))
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
KEY = "inf_local_dev"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if Path(str(item.fspath)).is_relative_to(here):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not (Path(CHROMIUM).is_file() and os.access(CHROMIUM, os.X_OK)) and not shutil.which(
        CHROMIUM
    ):
        pytest.fail(
            f"no Chromium at {CHROMIUM}: run `make browser-deps` (apt-get install chromium)"
        )
    from playwright.sync_api import sync_playwright

    profile = tempfile.mkdtemp(prefix="dashboard-chromium-")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[*CHROMIUM_FLAGS, f"--disk-cache-dir={profile}/cache"],
        )
        try:
            yield launched
        finally:
            launched.close()
    shutil.rmtree(profile, ignore_errors=True)


@dataclass
class Dashboard:
    """One browser tab on the dashboard, with everything it logged."""

    page: Any
    stack: Stack
    problems: list[str] = field(default_factory=list)
    expected_failures: list[tuple[str, int]] = field(default_factory=list)
    expected_aborts: list[str] = field(default_factory=list)
    held: list[Any] = field(default_factory=list)
    # Every request the tab sent, as (method, path): what the page never asked is checked here.
    sent: list[tuple[str, str]] = field(default_factory=list)

    # ---- watching the tab

    def watch(self) -> None:
        self.page.on("request", lambda r: self.sent.append((r.method, urlsplit(r.url).path)))
        self.page.on("pageerror", lambda error: self.problems.append(f"uncaught: {error}"))
        self.page.on("console", self._console)
        self.page.on("response", self._response)
        self.page.on("requestfailed", self._failed)

    def _failed(self, request: Any) -> None:
        # A request the page gave up on (its timeout) on purpose is not a problem.
        if urlsplit(request.url).path in self.expected_aborts:
            return
        self.problems.append(f"request failed: {request.url} {request.failure}")

    def _console(self, message: Any) -> None:
        # Chromium reports every HTTP error response as a console error too; those are judged
        # by _response, which knows the URL and status.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            self.problems.append(f"console error: {message.text}")

    def _response(self, response: Any) -> None:
        if response.status < 400:
            return
        path = urlsplit(response.url).path
        if any(
            status == response.status
            and (path == expected or (expected.endswith("*") and path.startswith(expected[:-1])))
            for expected, status in self.expected_failures
        ):
            return
        self.problems.append(f"HTTP {response.status} for {response.url}")

    def expect_failure(self, path: str, status: int) -> None:
        """An error answer the test provokes on purpose (the page must show it, not crash); a
        path ending in * stands for every path it starts."""
        self.expected_failures.append((path, status))

    # ---- faults, injected in the browser's own network stack (Playwright routes): the page
    # sees exactly what a slow or failing API would send it.

    def hold(self, path: str) -> None:
        """Requests to path hang (unanswered) until release(): a slow API, or with the page's
        timeout shortened (timeout_ms), one that never answers."""
        self.expected_aborts.append(path)

        def handler(route: Any) -> None:
            if urlsplit(route.request.url).path == path:
                self.held.append(route)
            else:
                route.continue_()

        self.page.route(f"**{path}*", handler)

    def release(self, path: str) -> None:
        """Ends hold(): the held requests go on to the API (those the page gave up on are
        dropped), and later ones pass."""
        self.page.unroute(f"**{path}*")
        held, self.held = self.held, []
        for route in held:
            with contextlib.suppress(Exception):  # the page aborted it already (its timeout)
                route.continue_()

    def fail(
        self, path: str, status: int, *, times: int = 1, retry_after: int | None = None,
        html: bool = False, method: str = "GET",
    ) -> list[int]:  # fmt: skip
        """The next `times` requests to path are answered with `status`: a problem+json (with
        Retry-After when given), or an HTML error page as a proxy in front of the API would
        send. Later requests pass. Returns a list that counts every request to path seen."""
        self.expect_failure(path, status)
        seen: list[int] = []

        def handler(route: Any) -> None:
            request = route.request
            if urlsplit(request.url).path != path or request.method != method:
                route.continue_()
                return
            seen.append(1)
            if len(seen) > times:
                route.continue_()
                return
            headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
            if html:
                body = "<html><body><h1>500 Internal Server Error</h1><p>upstream</p></body></html>"
                route.fulfill(status=status, headers=headers, content_type="text/html", body=body)
            else:
                problem = {"type": "about:blank", "title": "Service Unavailable", "status": status,
                           "detail": "storage unavailable: ThrottlingException"}  # fmt: skip
                route.fulfill(
                    status=status, headers=headers, content_type="application/problem+json",
                    body=json.dumps(problem),
                )  # fmt: skip

        self.page.route(f"**{path}*", handler)
        return seen

    def overflow(self) -> int:
        """How many CSS pixels the page is wider than the window (0: it fits). Measured against
        the viewport's own width, not innerWidth: on a phone (is_mobile) Chromium widens the
        layout viewport to fit a page that is too wide, and innerWidth grows with it, so a page
        2,600 px wide measured against innerWidth looked as if it fit."""
        return int(
            self.page.evaluate(
                "(width) => Math.max(document.documentElement.scrollWidth, document.body.scrollWidth, window.innerWidth) - width",
                self.page.viewport_size["width"],
            )
        )

    def assert_clean(self) -> None:
        assert self.problems == [], "\n".join(self.problems)

    # ---- driving it

    def open(self, tab: str = "spend") -> None:
        self.page.goto(f"{self.stack.url}/dashboard#{tab}")
        self.page.wait_for_function(
            "() => window.dashboard !== undefined && window.Chart !== undefined"
        )

    def use_key(self, key: str = KEY) -> None:
        self.page.fill("#api-key", key)
        self.page.click("#key-use")

    def wait_ready(self, panel: str) -> dict[str, str]:
        """Waits until a panel is drawn from an answer; returns that answer's query."""
        self.page.wait_for_selector(f"#panel-{panel}[data-state]:not([aria-busy])")
        query = self.page.get_attribute(f"#panel-{panel}", "data-query") or ""
        return dict(parse_qsl(query, keep_blank_values=True))

    def query_of(self, panel: str) -> str:
        return self.page.get_attribute(f"#panel-{panel}", "data-query") or ""

    def api(self, path: str) -> Any:
        response = self.stack.request("GET", path)
        assert response.status_code == 200, response.text
        return response.json()

    def api_text(self, path: str) -> str:
        response = self.stack.request("GET", path)
        assert response.status_code == 200, response.text
        return response.text


# The two sizes the page is checked at: a desktop and a phone.
VIEWPORTS = {"desktop": {"width": 1440, "height": 900}, "phone": {"width": 390, "height": 844}}


@pytest.fixture
def viewport(request: pytest.FixtureRequest) -> str:
    """desktop unless a test is parametrized with viewport (indirect=True)."""
    return str(getattr(request, "param", "desktop"))


@pytest.fixture
def timeout_ms(request: pytest.FixtureRequest) -> int | None:
    """The page's request timeout, shortened by a test that parametrizes it (indirect)."""
    return getattr(request, "param", None)


@pytest.fixture
def dashboard(
    browser: Any,
    stack: Stack,
    request: pytest.FixtureRequest,
    viewport: str,
    timeout_ms: int | None,
) -> Iterator[Dashboard]:
    context = browser.new_context(
        accept_downloads=True, viewport=VIEWPORTS[viewport], is_mobile=viewport == "phone"
    )
    if timeout_ms is not None:
        context.add_init_script(f"window.DASHBOARD_TIMEOUT_MS = {int(timeout_ms)};")
    page = context.new_page()
    page.set_default_timeout(20_000)
    board = Dashboard(page, stack)
    board.watch()
    try:
        yield board
    finally:
        REPORT.mkdir(parents=True, exist_ok=True)
        name = re.sub(r"[^\w.-]+", "_", request.node.name)
        try:
            page.screenshot(path=str(REPORT / f"{name}.png"), full_page=True)
        finally:
            context.close()
    board.assert_clean()
