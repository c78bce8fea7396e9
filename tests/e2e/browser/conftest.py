"""Browser tests: headless Chromium (Debian's `chromium` and `chromium-driver`, installed by
`make browser`) driven through Selenium, against the offline cloud's HTTP API served locally.

    def test_page(browser, served_cloud):
        cloud, base_url = served_cloud(Path("scenarios/approval.yaml"))
        browser.get(f"{base_url}/approvals/...")

Without Chromium or its driver the tests skip, saying so; nothing else makes them skip.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.remote.webdriver import WebDriver

from aiops_local import LocalCloud
from aiops_local.http_api import serve
from aiops_local.scenario import ScenarioRunner, cloud_for, load_scenario

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
CHROMIUM_ARGUMENTS = ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage")

ServedCloud = Callable[..., tuple[LocalCloud, str]]


@pytest.fixture(scope="session")
def _chromium() -> Iterator[WebDriver]:
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    if missing:
        pytest.skip(
            f"headless Chromium is not installed ({', '.join(missing)} missing): "
            "`make browser` installs Debian's chromium and chromium-driver"
        )
    options = Options()
    options.binary_location = str(CHROMIUM)
    for argument in CHROMIUM_ARGUMENTS:
        options.add_argument(argument)
    # The driver is given: Selenium Manager never looks for (or downloads) one.
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def browser(_chromium: WebDriver) -> Iterator[WebDriver]:
    """Headless Chromium (one per session), each test starting on a blank page, no cookies."""
    _chromium.get("about:blank")
    _chromium.delete_all_cookies()
    yield _chromium
    _chromium.get("about:blank")
    _chromium.delete_all_cookies()


@pytest.fixture
def served_cloud() -> Iterator[ServedCloud]:
    """Starts the offline cloud of a scenario, runs its steps (every expectation must hold), and
    serves its HTTP API on a free local port from a background thread; returns `(cloud,
    base_url)`. One cloud at a time (moto is global); both stop when the test ends.

    `claims` (keyword) stand for a signed-in user's JWT on every request; `api` names the HTTP
    API when the template has several."""
    with ExitStack() as stack:

        def start(
            scenario: Path, *, claims: Mapping[str, Any] | None = None, api: str | None = None
        ) -> tuple[LocalCloud, str]:
            story = load_scenario(Path(scenario))
            cloud = stack.enter_context(cloud_for(story))
            failures = [
                f"step {r.step.index} ({r.step.describe()}): {failure}"
                for r in ScenarioRunner(story, cloud).run()
                for failure in r.failures
            ]
            assert not failures, "\n".join(failures)
            server = stack.enter_context(serve(cloud, "127.0.0.1", 0, api=api, claims=claims))
            return cloud, server.url

        yield start
