"""The ObjectReader port (aiops.storage): MemoryReports ↔ S3Objects."""

from __future__ import annotations

import pytest

from aiops.storage import ObjectUnreadable
from tests.contracts.conftest import BUCKET

REPORT = f"s3://{BUCKET}/model-monitor/reports/churn-prod/constraint_violations.json"


def test_a_stored_object_reads_back_as_its_text(reports, put_object):
    put_object(REPORT, '{"violations": []} — ünïcode')

    assert reports.read(REPORT) == '{"violations": []} — ünïcode'


def test_an_empty_object_reads_as_empty_text(reports, put_object):
    put_object(REPORT, "")

    assert reports.read(REPORT) == ""


def test_a_missing_object_reads_as_none(reports, put_object):
    put_object(f"s3://{BUCKET}/model-monitor/reports/other.json", "{}")

    assert reports.read(REPORT) is None


def test_an_object_in_a_missing_bucket_is_unreadable(reports):
    uri = "s3://no-such-bucket/report.json"

    with pytest.raises(ObjectUnreadable) as caught:
        reports.read(uri)

    assert caught.value.uri == uri


def test_an_object_larger_than_a_document_is_unreadable(reports, put_object):
    put_object(REPORT, b"x" * (10 * 1024 * 1024 + 1))

    with pytest.raises(ObjectUnreadable) as caught:
        reports.read(REPORT)

    assert caught.value.uri == REPORT


def test_invalid_utf8_reads_with_replacement_characters(reports, put_object):
    put_object(REPORT, b"ok \xff\xfe end")

    assert reports.read(REPORT) == "ok \ufffd\ufffd end"


@pytest.mark.parametrize("uri", ["https://bucket/key", "s3:///key", "bucket/key"])
def test_a_uri_that_is_not_s3_is_rejected(reports, uri):
    with pytest.raises(ValueError, match="not an s3:// URI"):
        reports.read(uri)
