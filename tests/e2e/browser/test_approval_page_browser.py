"""The approval page in a real browser (headless Chromium): a person opens the link mailed to
them, reads the candidate against the champion, approves with a comment and sees the
confirmation; the package is then Approved with who and why."""

from __future__ import annotations

from pathlib import Path

import pytest
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from aiops_local.approver import Approver
from tests.e2e.browser.conftest import ServedCloud

pytestmark = pytest.mark.e2e

SCENARIO = Path(__file__).with_name("pending_approval.yaml")


def test_given_a_mailed_link_when_opened_in_a_browser_and_approved_then_the_package_is_approved(
    browser: WebDriver, served_cloud: ServedCloud
) -> None:
    # Given churn v1 waiting for a person, and the link mailed to the ML lead
    cloud, base_url = served_cloud(SCENARIO)
    path = Approver(cloud).link("ml-lead@example.com", "churn")

    # When they open it: the page shows the candidate, who it was sent to, and the choice
    browser.get(base_url + path)
    page = browser.find_element(By.TAG_NAME, "body").text
    assert "churn" in browser.title
    assert "ml-lead@example.com" in page
    assert "auc" in page and "0.81" in page
    assert browser.find_elements(By.CSS_SELECTOR, "svg")  # the metrics drawn, server-side
    # ...and opening it changed nothing
    assert [p["ModelApprovalStatus"] for p in cloud.packages("churn")] == ["PendingManualApproval"]

    # When they write a comment and click Approve
    browser.find_element(By.NAME, "comment").send_keys("Checked the slices, ship the canary")
    button = browser.find_element(By.CSS_SELECTOR, "button[value=approve]")
    button.click()
    # The response comes once the cloud has settled: the approval now also starts a deployment,
    # so the old page may be half-gone for a while (a node lookup then fails): keep asking.
    WebDriverWait(browser, 60, ignored_exceptions=(WebDriverException,)).until(
        lambda b: (
            not b.find_elements(By.TAG_NAME, "form")
            and "approved" in b.find_element(By.TAG_NAME, "body").text.lower()
        )
    )

    # Then the browser shows the confirmation, and the registry and ledger say who and why
    confirmation = browser.find_element(By.TAG_NAME, "body").text
    assert "approved" in confirmation.lower()
    assert "Checked the slices, ship the canary" in confirmation
    assert not browser.find_elements(By.TAG_NAME, "form")
    (package,) = cloud.packages("churn")
    assert package["ModelApprovalStatus"] == "Approved"
    (approved,) = [e for e in cloud.ledger("churn") if e["action"] == "approved"]
    assert approved["cause"]["approver"] == "ml-lead@example.com"
    assert approved["cause"]["via"] == "page"
    assert approved["cause"]["comment"] == "Checked the slices, ship the canary"

    # When they press back and submit the old form again, the page says it is decided already
    browser.back()
    browser.refresh()
    assert "already" in browser.find_element(By.TAG_NAME, "body").text.lower()
    assert [p["ModelApprovalStatus"] for p in cloud.packages("churn")] == ["Approved"]
