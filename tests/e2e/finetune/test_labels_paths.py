"""The labeled-data trigger through its real entry points (S3 events on the offline cloud):
every record checked, bad ones quarantined and reported once, good ones counted once, and a
fine-tune started exactly when the policy says."""

from __future__ import annotations

import copy
import json

import pytest

from tests.e2e.finetune.conftest import (
    MODEL,
    ROOT,
    actions,
    entries,
    finetune_cloud,
    finetune_executions,
    notices,
    upload_labels,
)

pytestmark = pytest.mark.e2e


def test_a_duplicate_delivery_counts_the_file_once_and_tells_the_labelers_once() -> None:
    with finetune_cloud() as cloud:
        # Given a file with bad records, counted and reported
        event = upload_labels(cloud, "batch-1", 100, bad_share=0.07)

        # When S3 delivers its event twice more
        cloud.send_event(copy.deepcopy(event))
        cloud.send_event(copy.deepcopy(event))
        cloud.run_until_quiet()

        # Then one count, one quarantine record, one notice
        assert actions(cloud).count("labels_counted") == 1
        assert actions(cloud).count("labels_quarantined") == 1
        assert len(notices(cloud, "labelers")) == 1


def test_a_file_with_no_valid_record_is_rejected_whole_and_counts_nothing() -> None:
    with finetune_cloud() as cloud:
        upload_labels(cloud, "broken", 20, bad_share=1.0)

        rejected = entries(cloud, "labels_rejected")
        assert len(rejected) == 1 and "20 bad record(s) of 20" in rejected[0]["reason"]
        assert "labels_counted" not in actions(cloud)
        (notice,) = notices(cloud, "labelers")
        assert "Nothing in it counts" in notice["message"]


def test_good_records_across_files_start_one_fine_tune_at_the_threshold() -> None:
    with finetune_cloud() as cloud:
        # Given 2 files of 90 good records: 180, below the policy's 200
        upload_labels(cloud, "a", 90, seed=1)
        upload_labels(cloud, "b", 90, seed=2)
        assert "finetune_requested" not in actions(cloud)

        # When a third file brings 30 more
        upload_labels(cloud, "c", 30, seed=3)

        # Then exactly one fine-tune run, on the window of all three files
        requested = entries(cloud, "finetune_requested")
        assert len(requested) == 1
        assert "210 good records (threshold 200)" in requested[0]["reason"]
        assert [e.name for e in finetune_executions(cloud)] == [f"{MODEL}-w000001"]


def test_records_below_the_threshold_fine_tune_once_the_oldest_reaches_max_age() -> None:
    with finetune_cloud() as cloud:
        upload_labels(cloud, "a", 50)

        # When a week passes (labels.max_age defaults to 7 days)
        cloud.advance("7d1h")

        requested = entries(cloud, "finetune_requested")
        assert len(requested) == 1 and "old (max age 1w)" in requested[0]["reason"]


def test_a_malformed_labeled_data_event_goes_to_the_dead_letter_queue_and_counts_nothing() -> None:
    with finetune_cloud() as cloud:
        event = json.loads((ROOT / "events" / "s3_object_created_labeled.json").read_text())
        event["detail"]["object"]["size"] = -1
        cloud.send_event(event)
        cloud.run_until_quiet()

        assert actions(cloud) == []
        (letter,) = cloud.dead_letters("LabeledDataDeadLetterQueue")
        reason = letter["MessageAttributes"]["ErrorMessage"]["StringValue"]
        assert "detail.object.size" in reason and '"size": -1' in letter["Body"]


def test_quarantine_file_keeps_the_whole_upload_beside_its_report(tmp_path) -> None:
    policy = tmp_path / "policy.yaml"
    text = (ROOT / "scenarios" / "policies" / "support_assistant_finetune.yaml").read_text()
    whole_file = "max_examples: 5\n      quarantine: file\n"
    policy.write_text(text.replace("max_examples: 5\n", whole_file))
    with finetune_cloud(policy) as cloud:
        upload_labels(cloud, "batch-1", 50, bad_share=0.1)

        s3 = cloud.client("s3")
        keys = [
            o["Key"]
            for o in s3.list_objects_v2(
                Bucket=cloud.bucket("LabeledDataBucket"), Prefix="quarantine/"
            )["Contents"]
        ]
        copies = [k for k in keys if k.endswith(".jsonl")]
        assert len(copies) == 1 and ".rejected" not in copies[0]
        original = s3.get_object(
            Bucket=cloud.bucket("LabeledDataBucket"), Key="labeled/support/batch-1.jsonl"
        )["Body"].read()
        copy_body = s3.get_object(Bucket=cloud.bucket("LabeledDataBucket"), Key=copies[0])
        assert copy_body["Body"].read() == original
        # The good records still count
        assert "45 good record(s) of 50" in entries(cloud, "labels_counted")[0]["reason"]


def test_a_labeling_job_event_naming_no_labeling_job_goes_to_the_dead_letter_queue() -> None:
    with finetune_cloud() as cloud:
        event = json.loads(
            (ROOT / "events" / "ground_truth_labeling_job_completed.json").read_text()
        )
        event["resources"] = ["arn:aws:s3:::aiops-dev-labeled-123456789012-us-east-1"]
        cloud.send_event(event)
        cloud.run_until_quiet()

        assert actions(cloud) == []
        (letter,) = cloud.dead_letters("GroundTruthDeadLetterQueue")
        reason = letter["MessageAttributes"]["ErrorMessage"]["StringValue"]
        assert "no SageMaker labeling job ARN" in reason


def test_a_counted_file_deleted_before_the_run_is_left_out_and_said_so() -> None:
    with finetune_cloud() as cloud:
        # Given two counted files, one of which a labeler then deletes (that version)
        first = upload_labels(cloud, "a", 90, seed=1)
        upload_labels(cloud, "b", 90, seed=2)
        cloud.client("s3").delete_object(
            Bucket=cloud.bucket("LabeledDataBucket"),
            Key="labeled/support/a.jsonl",
            VersionId=first["detail"]["object"]["version-id"],
        )

        # When a third file starts the run
        upload_labels(cloud, "c", 30, seed=3)

        # Then the run trains on what is still there and says what it left out
        (written,) = entries(cloud, "dataset_written")
        assert "1 file(s) deleted since they were counted left out" in written["reason"]
        assert written["cause"]["gone"] == [
            f"s3://{cloud.bucket('LabeledDataBucket')}/labeled/support/a.jsonl"
        ]
        assert "finetune_started" in actions(cloud)
