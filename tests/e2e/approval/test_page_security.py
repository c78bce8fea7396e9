"""The approval page under hostile or accidental use, through the real entry points: the
template's HTTP API, the page's handler and the approval workflow on the offline cloud.

Each test takes a snapshot of everything a request could change (approval and link items with
all their attributes, the registry, the ledger, the approval workflows, the notices) and asserts
what changed — nothing, for every refused request. Every response is checked for the security
headers and for secrets (task tokens, other links, other CSRF tokens); logs and notices too.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, urlencode

import pytest

from tests.e2e.approval.conftest import (
    ALERTS_TOPIC,
    ML_LEAD,
    RISK_OFFICER,
    SCENARIOS,
    PendingCloud,
    approval_items,
    assert_hygienic,
    assert_nothing_leaked,
    current_secrets,
    forged_id,
    ledger_actions,
    link_id,
    notices,
    pending_cloud,
    state,
)

pytestmark = pytest.mark.e2e

SCANNERS = [
    {"user-agent": "Mozilla/5.0 (compatible; BingPreview/1.0b)"},
    {"user-agent": "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)"},
    {"user-agent": "Microsoft Office/16.0 (Microsoft Outlook 16.0; Pro) SafeLinks"},
    {"user-agent": "Proofpoint URL Defense", "purpose": "prefetch"},
    {
        "user-agent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/126.0 Safari/537.36",
        "sec-purpose": "prefetch;prerender",
        "purpose": "prefetch",
        "sec-fetch-site": "none",
    },
]


@pytest.fixture(scope="class")
def shared() -> Iterator[PendingCloud]:
    """One pending cloud for the tests that must change nothing (a cloud costs ~2.5 s). Each
    checks that it changed nothing; one that wrongly decided the approval fails, and the later
    tests of the class then fail too, since the approval they expect pending is not."""
    with pending_cloud() as pending:
        yield pending


class TestRequestsThatMustChangeNothing:
    def test_scanners_and_prefetchers_opening_every_mailed_link_change_nothing(
        self, shared: PendingCloud
    ) -> None:
        # Given both approvers' links, as mailed
        paths = [shared.link(ML_LEAD), shared.link(RISK_OFFICER)]
        before = state(shared.cloud)
        page_calls = len(shared.recorder.of("ApprovalPageFunction"))

        # When link scanners, previewers and prefetchers GET and HEAD each one, repeatedly
        gets, heads = [], []
        for _ in range(3):
            for path in paths:
                for headers in SCANNERS:
                    gets.append(shared.request("GET", path, headers=headers))
                    heads.append(shared.request("HEAD", path, headers=headers))

        # Then each gets the page (HEAD without a body) and nothing at all changed
        assert {r.status for r in gets + heads} == {200}
        assert all("Approve churn version 1?" in r.text for r in gets)
        assert all("Sent to " in r.text and "Reject" in r.text for r in gets)
        assert all(r.body == b"" for r in heads)
        # The handler itself answers HEAD without a body (not only API Gateway dropping it).
        handled = shared.recorder.of("ApprovalPageFunction")[page_calls:]
        head_payloads = [
            i.result.payload
            for i in handled
            if i.event["requestContext"]["http"]["method"] == "HEAD"
        ]
        assert len(head_payloads) == len(heads)
        assert all(p["statusCode"] == 200 and not p.get("body") for p in head_payloads)
        assert state(shared.cloud) == before
        assert_nothing_leaked(shared)

    @pytest.mark.parametrize(
        "csrf",
        ["missing", "empty", "wrong", "other approver's"],
    )
    def test_a_post_without_its_own_csrf_token_is_refused_and_changes_nothing(
        self, shared: PendingCloud, csrf: str
    ) -> None:
        # Given ml-lead's link and the risk officer's form (a valid token, for another link)
        path = shared.link(ML_LEAD)
        other = shared.open_form(shared.link(RISK_OFFICER))["csrf"]
        fields = {
            "missing": {},
            "empty": {"csrf": ""},
            "wrong": {"csrf": forged_id()},
            "other approver's": {"csrf": other},
        }[csrf] | {"decision": "approve", "comment": "looks fine"}
        before = state(shared.cloud)

        # When a same-origin form posts an approval with that token
        response = shared.post(path, fields)

        # Then it is refused with the reason, and nothing changed
        assert response.status == 403
        assert "security token is missing or wrong" in response.text
        assert "Nothing was changed" in response.text
        assert state(shared.cloud) == before
        assert_nothing_leaked(shared)

    @pytest.mark.parametrize(
        "headers",
        [
            {"sec-fetch-site": "cross-site", "origin": "null"},
            {"sec-fetch-site": "same-site", "origin": "null"},
            {"origin": "https://evil.example"},
            {"sec-fetch-site": "same-origin", "origin": "https://evil.example"},
        ],
        ids=["cross-site", "same-site", "evil-origin", "same-origin-claimed-evil-origin"],
    )
    def test_a_cross_site_post_with_a_valid_token_is_refused_and_changes_nothing(
        self, shared: PendingCloud, headers: dict[str, str]
    ) -> None:
        # Given the ml lead's valid form
        path = shared.link(ML_LEAD)
        fields = shared.open_form(path) | {"decision": "approve", "comment": ""}
        before = state(shared.cloud)

        # When another site submits it (the browser says so in Sec-Fetch-Site or Origin)
        response = shared.post(
            path, fields, headers={"content-type": "application/x-www-form-urlencoded"} | headers
        )

        # Then it is refused, saying why, and nothing changed
        assert response.status == 403
        assert "a form from another site cannot decide an approval" in response.text
        assert state(shared.cloud) == before
        assert_nothing_leaked(shared)

    @pytest.mark.parametrize("decision", ["maybe", "", "APPROVE", None, "approve,reject"])
    def test_a_post_with_an_unknown_decision_decides_nothing(
        self, shared: PendingCloud, decision: str | None
    ) -> None:
        # Given the ml lead's valid form
        path = shared.link(ML_LEAD)
        fields = shared.open_form(path)
        if decision is not None:
            fields["decision"] = decision
        before = state(shared.cloud)

        # When it is posted with a decision that is neither approve nor reject
        response = shared.post(path, fields)

        # Then nothing is decided and the page asks for a real choice
        assert response.status == 403
        assert "choose Approve or Reject" in response.text
        assert state(shared.cloud) == before
        assert_nothing_leaked(shared)

    @pytest.mark.parametrize(
        "forge",
        [
            "random",
            "one character changed",
            "one character short",
            "one character long",
            "upper-cased",
            "traversal",
            "encoded traversal",
            "very long",
            "non-ascii",
            "percent-encoded non-ascii",
            "empty",
        ],
    )
    def test_a_forged_link_id_gets_a_404_that_reveals_nothing(
        self, shared: PendingCloud, forge: str
    ) -> None:
        # Given a real link, and an id forged from it (or from nothing)
        real = link_id(shared.link(ML_LEAD))
        flipped = real[:20] + ("A" if real[20] != "A" else "B") + real[21:]
        path = {
            "random": f"/approvals/{forged_id()}",
            "one character changed": f"/approvals/{flipped}",
            "one character short": f"/approvals/{real[:-1]}",
            "one character long": f"/approvals/{real}A",
            "upper-cased": f"/approvals/{real.upper()}",
            "traversal": f"/approvals/../approvals/{real}",
            "encoded traversal": f"/approvals/..%2F..%2Fapprovals%2F{real}",
            "very long": f"/approvals/{real * 250}",
            "non-ascii": f"/approvals/{'é' * 43}",
            "percent-encoded non-ascii": f"/approvals/{quote('ü' * 22)[:43]}",
            "empty": "/approvals/",
        }[forge]
        if forge == "upper-cased" and real.upper() == real:
            pytest.skip("this id has no lower-case letter")
        csrf = shared.open_form(shared.link(ML_LEAD))["csrf"]
        before = state(shared.cloud)

        # When it is opened, probed and posted (with a valid CSRF token of another link)
        responses = [
            shared.request("GET", path),
            shared.request("HEAD", path),
            shared.post(path, {"csrf": csrf, "decision": "approve"}),
        ]

        # Then every answer is the same 404 page, which names no model, and nothing changed
        assert [r.status for r in responses] == [404, 404, 404]
        for response in (responses[0], responses[2]):
            assert "This link is not valid" in response.text
            assert "churn" not in response.text.lower()
            assert ML_LEAD not in response.text
        assert state(shared.cloud) == before
        assert_nothing_leaked(shared)

    def test_someone_signed_in_as_another_person_is_refused_and_shown_nothing(
        self, shared: PendingCloud
    ) -> None:
        # Given the ml lead's link and its valid form, in the hands of someone else who is
        # signed in (the stack's optional JWT sign-in)
        path = shared.link(ML_LEAD)
        fields = shared.open_form(path) | {"decision": "approve", "comment": ""}
        intruder: dict[str, Any] = {"email": "someone-else@example.com"}
        before = state(shared.cloud)

        # When they open it and post its form
        opened = shared.request("GET", path, headers={"sec-fetch-site": "none"}, claims=intruder)
        posted = shared.post(path, fields, claims=intruder)

        # Then both are refused, the page says the link was sent to another approver, and it
        # shows nothing of the approval; nothing changed
        assert [opened.status, posted.status] == [403, 403]
        for response in (opened, posted):
            assert "this link was sent to another approver" in response.text
            assert "churn" not in response.text.lower()
            assert ML_LEAD not in response.text
            assert 'name="csrf"' not in response.text
        assert state(shared.cloud) == before
        assert_nothing_leaked(shared)

    def test_a_get_carrying_the_forms_fields_in_its_query_decides_nothing(
        self, shared: PendingCloud
    ) -> None:
        # Given the ml lead's valid form, turned into a link (as a scanner replaying a form, or
        # a crafted URL, would)
        path = shared.link(ML_LEAD)
        fields = shared.open_form(path) | {"decision": "approve", "comment": "via GET"}
        before = state(shared.cloud)

        # When that URL is opened, and probed
        opened = shared.request("GET", f"{path}?{urlencode(fields)}")
        probed = shared.request("HEAD", f"{path}?{urlencode(fields)}")

        # Then it only shows the page: only a POST decides
        assert [opened.status, probed.status] == [200, 200]
        assert "Approve churn version 1?" in opened.text
        assert state(shared.cloud) == before
        assert_nothing_leaked(shared)

    @pytest.mark.parametrize(
        ("content_type", "body"),
        [
            ("application/x-www-form-urlencoded", "many fields"),
            ("application/octet-stream", b"\xff\xfe\x00csrf=\xff&decision=approve"),
            ("application/x-www-form-urlencoded", b"csrf=\xff\xfe&decision=approve"),
        ],
        ids=["more-than-ten-fields", "binary-body", "form-not-utf8"],
    )
    def test_a_malformed_form_body_gets_a_refusal_page_not_a_crash(
        self, shared: PendingCloud, content_type: str, body: bytes | str
    ) -> None:
        # Given the ml lead's valid form, and a body no browser of ours sends: a valid form
        # padded with extra fields, or bytes that are not UTF-8 text
        path = shared.link(ML_LEAD)
        fields = shared.open_form(path) | {"decision": "approve", "comment": ""}
        if body == "many fields":
            body = urlencode(fields | {f"extra{n}": "x" for n in range(12)})
        before = state(shared.cloud)
        calls = len(shared.recorder.of("ApprovalPageFunction"))

        # When it is posted (not kept with the other responses: a crash answer would fail the
        # hygiene checks of every later test of this class)
        response = shared.cloud.http(
            "POST", path, headers={"content-type": content_type, "origin": "null"}, body=body
        )

        # Then the handler answers with a refusal page of its own (with the security headers),
        # rather than failing into API Gateway's bare 500; and nothing changed
        (handled,) = shared.recorder.of("ApprovalPageFunction")[calls:]
        assert handled.result.ok, f"the page's handler crashed: {handled.result.error}"
        assert 400 <= response.status < 500, response.text
        assert_hygienic(response, current_secrets(shared.cloud), None)
        assert "Nothing was changed" in response.text
        assert state(shared.cloud) == before

    def test_an_oversized_form_is_refused_and_changes_nothing(self, shared: PendingCloud) -> None:
        # Given the ml lead's valid form with a comment far beyond any real one
        path = shared.link(ML_LEAD)
        fields = shared.open_form(path) | {"decision": "approve", "comment": "x" * 20_000}
        before = state(shared.cloud)

        # When it is posted
        response = shared.post(path, fields)

        # Then it is refused and nothing changed
        assert response.status == 413
        assert "form too large" in response.text
        assert state(shared.cloud) == before
        assert_nothing_leaked(shared)


# ---------------------------------------------------------------------- requests after a change
def test_a_signed_in_approver_decides_on_their_own_link_and_the_ledger_names_them() -> None:
    with pending_cloud() as pending:
        # Given the ml lead, signed in, on their own link
        path = pending.link(ML_LEAD)
        claims = {"email": ML_LEAD, "email_verified": "true"}
        fields = pending.open_form(path) | {"decision": "approve", "comment": "signed in"}

        # When they post the form
        response = pending.post(path, fields, claims=claims)

        # Then it is decided, and the decision is recorded for that identity
        assert response.status == 200, response.text
        assert "You approved churn version 1" in response.text
        after = state(pending.cloud)
        (approved,) = [e for e in pending.cloud.ledger("churn") if e["action"] == "approved"]
        assert approved["cause"]["approver"] == ML_LEAD
        assert approved["cause"]["via"] == "page"
        assert after["packages"][0][1] == "Approved"
        assert_nothing_leaked(pending)


def test_a_replayed_post_gets_409_and_changes_nothing_after_the_first_decision() -> None:
    with pending_cloud() as pending:
        # Given the ml lead's form, and the risk officer's, both open
        path = pending.link(ML_LEAD)
        other_path = pending.link(RISK_OFFICER)
        fields = pending.open_form(path) | {"decision": "approve", "comment": "ship it"}
        other_fields = pending.open_form(other_path) | {"decision": "reject", "comment": "no"}
        before = state(pending.cloud)

        # When the ml lead posts it once
        first = pending.post(path, fields)
        decided = state(pending.cloud)

        # Then exactly that decision took effect, once
        assert first.status == 200, first.text
        assert decided != before
        (approval,) = [i for i in decided["approvals"] if i["pk"] == "APPROVAL#churn"]
        assert approval["status"] == "approved"
        assert approval["decision"]["by"] == ML_LEAD
        assert approval["decision"]["via"] == "page"
        used = {
            i["approver"]: i.get("used_at")
            for i in decided["approvals"]
            if str(i["pk"]).startswith("APPROVALLINK#")
        }
        assert used[ML_LEAD] is not None and used[RISK_OFFICER] is None
        ((version, status, description),) = decided["packages"]
        assert (version, status) == (1, "Approved")
        assert ML_LEAD in description and "ship it" in description
        assert ledger_actions(pending.cloud).count("approved") == 1
        assert [s for _, s in decided["executions"]] == ["SUCCEEDED"]

        # When the same POST is replayed (back button, resend), and the other approver's late
        # form arrives
        replayed = [pending.post(path, fields) for _ in range(3)]
        late = pending.post(other_path, other_fields)

        # Then each gets 409 saying who decided, and nothing changed since the first decision
        assert [r.status for r in [*replayed, late]] == [409, 409, 409, 409]
        for response in [*replayed, late]:
            assert "Already decided" in response.text
            assert f"decided by {ML_LEAD} (page)" in response.text
        assert state(pending.cloud) == decided
        assert_nothing_leaked(pending)


def test_an_unverified_email_claim_does_not_make_someone_the_approver() -> None:
    with pending_cloud() as pending:
        # Given someone signed in with the ml lead's address, which the provider never verified
        path = pending.link(ML_LEAD)
        claims = {"email": ML_LEAD, "email_verified": "false", "sub": "a1b2"}
        fields = pending.open_form(path) | {"decision": "approve", "comment": "me"}
        before = state(pending.cloud)

        # When they post the ml lead's form
        response = pending.post(path, fields, claims=claims)

        # Then it is refused as another person's link, and nothing changes
        assert response.status == 403
        assert state(pending.cloud) == before


def test_after_the_timeout_every_link_answers_410_and_nothing_changes_but_the_timeout() -> None:
    with pending_cloud() as pending:
        # Given both forms, opened before the deadline, then 73 hours without a decision
        paths = [pending.link(ML_LEAD), pending.link(RISK_OFFICER)]
        forms = [pending.open_form(p) | {"decision": "approve", "comment": ""} for p in paths]
        pending.cloud.advance("73h")
        expired = state(pending.cloud)
        (approval,) = [i for i in expired["approvals"] if i["pk"] == "APPROVAL#churn"]
        assert approval["status"] == "expired", "the timeout itself closed the approval"
        assert expired["packages"][0][1] == "Rejected"

        # When the links are opened, probed and their old forms posted
        responses = []
        for path, fields in zip(paths, forms, strict=True):
            responses += [
                pending.request("GET", path),
                pending.request("HEAD", path),
                pending.post(path, fields),
            ]

        # Then each answers 410 with the expired page, and nothing changed since the timeout
        assert {r.status for r in responses} == {410}
        for response in responses:
            if response.body:
                assert "This approval expired" in response.text
                assert "No decision was taken before" in response.text
                assert 'name="csrf"' not in response.text
        assert state(pending.cloud) == expired
        assert notices(pending.cloud, ALERTS_TOPIC), "the timeout was alerted"
        assert_nothing_leaked(pending)


def test_a_decision_on_a_superseded_version_gets_409_and_changes_nothing() -> None:
    with pending_cloud(SCENARIOS / "approval_superseded.yaml") as pending:
        # Given v1's form open, then newer data producing a better v2 that supersedes it
        path = pending.link(ML_LEAD, version=1)
        fields = pending.open_form(path) | {"decision": "approve", "comment": "v1 please"}
        pending.cloud.configure_simulator("sagemaker_pipeline", {"metrics": {"auc": 0.84}})
        for n in range(1, 6):
            pending.cloud.put_object(
                "TrainingDataBucket", f"raw/churn/next-{n}.csv", size=1024 * 1024
            )
        superseded = state(pending.cloud)
        statuses = {
            i["version"]: i["status"]
            for i in approval_items(pending.cloud)
            if i["pk"] == "APPROVAL#churn"
        }
        assert statuses == {1: "superseded", 2: "pending"}
        assert [p[1] for p in superseded["packages"]] == ["Rejected", "PendingManualApproval"]

        # When v1's old form is posted, and its link opened
        posted = pending.post(path, fields)
        opened = pending.request("GET", path)

        # Then both say it was superseded, and nothing changed
        assert [posted.status, opened.status] == [409, 409]
        for response in (posted, opened):
            assert "superseded by version 2" in response.text
            assert 'name="csrf"' not in response.text
        assert state(pending.cloud) == superseded
        assert "approved" not in ledger_actions(pending.cloud)
        assert_nothing_leaked(pending)
