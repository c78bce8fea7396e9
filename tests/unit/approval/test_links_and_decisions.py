"""Approval links and the wording of decisions: pure domain, no AWS."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from aiops.approval.links import is_link_id, link_hash, new_csrf_token, new_link_id, same_secret
from aiops.approval.model import ApprovalStatus, Decision
from aiops.approval.stage import describe
from aiops.gate.step import approval_execution_name
from aiops.registry import Candidate

NOW = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)


def test_a_new_link_id_has_at_least_128_random_bits_and_is_never_repeated():
    ids = {new_link_id() for _ in range(1000)}

    assert len(ids) == 1000
    # 43 URL-safe base64 characters carry 258 bits, of which 256 random
    assert all(is_link_id(i) and len(i) * 6 >= 128 for i in ids)


def test_only_the_hash_of_a_link_is_what_a_table_would_keep():
    link = new_link_id()

    assert link_hash(link) != link and link not in link_hash(link)
    assert link_hash(link) == link_hash(link)  # the same link finds its row again
    assert len(link_hash(link)) == 64


@pytest.mark.parametrize(
    "text",
    ["", "short", "a" * 42, "a" * 44, "../" + "a" * 40, "a" * 42 + "=", "é" * 43, "a" * 42 + " "],
)
def test_a_malformed_link_id_is_refused_before_any_lookup(text):
    assert not is_link_id(text)


def test_csrf_tokens_compare_in_constant_time_and_refuse_none_and_a_different_token():
    token = new_csrf_token()

    assert same_secret(token, token)
    assert not same_secret(None, token)
    assert not same_secret(new_csrf_token(), token)
    assert not same_secret("", token)


@pytest.mark.parametrize(
    ("decision", "text"),
    [
        (
            Decision(
                status=ApprovalStatus.APPROVED, by="ml@x.io", via="page", comment="ok", at=NOW
            ),
            "approved by ml@x.io on the approval page: ok",
        ),
        (
            Decision(status=ApprovalStatus.REJECTED, by="jane", via="studio", at=NOW),
            "rejected by jane in SageMaker Studio",
        ),
        (
            Decision(
                status=ApprovalStatus.EXPIRED,
                by="aiops",
                via="timeout",
                comment="no decision within 72h",
                at=NOW,
            ),
            "rejected: no decision within 72h",
        ),
        (
            Decision(
                status=ApprovalStatus.SUPERSEDED,
                by="aiops",
                via="supersede",
                comment="superseded by version 4",
                at=NOW,
            ),
            "rejected: superseded by version 4",
        ),
    ],
)
def test_each_decision_is_described_with_who_how_and_why(decision, text):
    assert describe(decision) == text


def test_one_approval_execution_name_per_candidate_within_step_functions_limits():
    def candidate(arn: str, version: int) -> Candidate:
        return Candidate(
            package_arn=arn,
            package_group="g",
            version=version,
            approval_status="PendingManualApproval",
            metrics={},
        )

    a = approval_execution_name("churn", candidate("arn:aws:sagemaker:r:1:model-package/g/1", 1))
    b = approval_execution_name("churn", candidate("arn:aws:sagemaker:r:1:model-package/g/2", 2))
    long = approval_execution_name("m" * 200 + ".x", candidate("arn:p/1", 1))

    assert a == approval_execution_name(
        "churn", candidate("arn:aws:sagemaker:r:1:model-package/g/1", 1)
    )
    assert a != b and a.startswith("churn-v1-")
    assert len(long) <= 80 and all(c.isalnum() or c in "-_" for c in long)
