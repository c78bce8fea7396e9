"""The LabeledFiles port (aiops.finetune.ports): MemoryLabeledFiles ↔ S3LabeledFiles."""

from __future__ import annotations

import json
from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

from aiops.adapters.bedrock import S3LabeledFiles
from aiops.runs.window import ObjectRef
from aiops.storage import ObjectGone
from tests.unit.fakes import MemoryLabeledFiles

BUCKET = "aiops-dev-labeled-123456789012-us-east-1"


@pytest.fixture(params=["fake", "moto"])
def files(request: pytest.FixtureRequest) -> Iterator[tuple[object, object]]:
    """(the port, a way to upload an object and get its version id)."""
    if request.param == "fake":
        fake = MemoryLabeledFiles()
        counter = iter(range(1, 1000))

        def upload_fake(key: str, body: bytes) -> str:
            version = f"v{next(counter)}"
            fake.put(BUCKET, key, body, version)
            return version

        yield fake, upload_fake
        return
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket=BUCKET)
        s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})

        def upload_s3(key: str, body: bytes) -> str:
            return str(s3.put_object(Bucket=BUCKET, Key=key, Body=body)["VersionId"])

        yield S3LabeledFiles(s3), upload_s3


def test_an_object_version_reads_back_whole_in_chunks(files):
    port, upload = files
    first = upload("labeled/a.jsonl", b'{"prompt": "\xc3\xa9t\xc3\xa9"}\n' * 50)
    upload("labeled/a.jsonl", b"newer\n")

    body = b"".join(
        port.chunks(ObjectRef(bucket=BUCKET, key="labeled/a.jsonl", version_id=first, size=0))
    )

    assert body == b'{"prompt": "\xc3\xa9t\xc3\xa9"}\n' * 50


def test_lines_written_are_stored_one_a_line_when_the_block_ends(files):
    port, _ = files
    with port.writer(BUCKET, "quarantine/x.jsonl") as sink:
        sink.write(b'{"a": 1}')
        sink.write(b'{"b": 2}')
        assert not port.exists(BUCKET, "quarantine/x.jsonl")

    assert sink.uri == f"s3://{BUCKET}/quarantine/x.jsonl"
    assert port.exists(BUCKET, "quarantine/x.jsonl")
    stored = b"".join(port.chunks(ObjectRef(bucket=BUCKET, key="quarantine/x.jsonl", size=0)))
    assert stored == b'{"a": 1}\n{"b": 2}\n'


def test_a_block_that_fails_stores_nothing(files):
    port, _ = files
    with pytest.raises(RuntimeError), port.writer(BUCKET, "quarantine/y.jsonl") as sink:
        sink.write(b"half")
        raise RuntimeError("the validator died")

    assert not port.exists(BUCKET, "quarantine/y.jsonl")


def test_json_documents_and_copies_keep_their_content(files):
    port, upload = files
    version = upload("labeled/b.jsonl", b"line\n")

    uri = port.put_json(BUCKET, "quarantine/r.json", {"bad": 7})
    copied = port.copy(
        ObjectRef(bucket=BUCKET, key="labeled/b.jsonl", version_id=version, size=5),
        "quarantine/b.jsonl",
    )

    assert uri == f"s3://{BUCKET}/quarantine/r.json"
    assert json.loads(
        b"".join(port.chunks(ObjectRef(bucket=BUCKET, key="quarantine/r.json", size=0)))
    ) == {"bad": 7}
    assert copied == f"s3://{BUCKET}/quarantine/b.jsonl"
    assert (
        b"".join(port.chunks(ObjectRef(bucket=BUCKET, key="quarantine/b.jsonl", size=0)))
        == b"line\n"
    )


def test_a_version_deleted_after_its_event_reads_as_gone(files):
    port, upload = files
    upload("labeled/c.jsonl", b"line\n")

    with pytest.raises(ObjectGone):
        list(
            port.chunks(ObjectRef(bucket=BUCKET, key="labeled/c.jsonl", version_id="v999", size=5))
        )
    with pytest.raises(ObjectGone):
        list(port.chunks(ObjectRef(bucket=BUCKET, key="labeled/never.jsonl", size=5)))
