"""The browser fixtures work: headless Chromium opens local pages, and the offline cloud's HTTP
API served by `served_cloud` (tests/fixtures/http_api) answers it, forms included."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

from tests.e2e.browser.conftest import ServedCloud

pytestmark = pytest.mark.e2e

SCENARIO = Path(__file__).resolve().parents[2] / "fixtures" / "http_api" / "scenario.yaml"


class _Page(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"<!doctype html><title>Served locally</title><p id='hello'>hello</p>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def local_page() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Page)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def test_headless_chromium_opens_a_local_page(browser: WebDriver, local_page: str):
    browser.get(local_page)

    assert browser.title == "Served locally"
    assert browser.find_element(By.ID, "hello").text == "hello"


def test_a_form_on_the_served_cloud_round_trips(browser: WebDriver, served_cloud: ServedCloud):
    cloud, base_url = served_cloud(SCENARIO)

    browser.get(f"{base_url}/approvals/req-42")
    assert browser.title == "Request req-42"
    browser.find_element(By.ID, "comment").send_keys("ship it ✓")
    browser.find_element(By.ID, "approve").click()
    WebDriverWait(browser, 10).until(expected_conditions.title_is("Decided req-42"))

    assert browser.find_element(By.ID, "summary").text == "approve: ship it ✓"
    assert browser.get_cookie("decided")["value"] == "req-42"  # type: ignore[index]
    module = cloud.invoker.loaded_module("PageFunction")
    assert module.DECISIONS == [
        {"request": "req-42", "comment": "ship it ✓", "decision": "approve"}
    ]
    vias = [e["via"] for e in cloud.timeline.find("invoke", function="PageFunction")]
    # (Chromium asks for /favicon.ico too: the $default route sends it to the page as well.)
    pages = [via for via in vias if "favicon" not in via]
    assert pages == ["WebApi GET /approvals/req-42", "WebApi POST /approvals/req-42"]
