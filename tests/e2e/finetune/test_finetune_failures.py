"""How a fine-tune run ends when its Bedrock job does not complete: failed, never reporting,
its event lost. Nothing the run started outlives it, its lock is released, its labeled data is
carried into the next run, and a person hears why."""

from __future__ import annotations

import pytest

from tests.e2e.finetune.conftest import (
    MODEL,
    actions,
    entries,
    finetune_cloud,
    finetune_executions,
    notices,
    upload_labels,
)

pytestmark = pytest.mark.e2e


def test_a_failed_job_alerts_with_its_message_releases_the_lock_and_carries_its_records() -> None:
    failure = "Validation error: record 3412 exceeds the maximum token count"
    with finetune_cloud(
        bedrock_customization={"outcome": "failed", "failure_message": failure, "duration": "1h"}
    ) as cloud:
        # Given a fine-tune whose job fails an hour in
        upload_labels(cloud, "a", 210)
        cloud.advance("2h")

        # Then the run failed with Bedrock's message, alerted, and carried its window
        (failed,) = entries(cloud, "run_failed")
        assert failure in failed["reason"] and failed["cause"]["carried_windows"] == [1]
        (alert,) = [n for n in notices(cloud, "alerts") if "fine-tune run failed" in n["subject"]]
        assert failure in alert["message"]
        assert finetune_executions(cloud)[0].status == "FAILED"

        # When the job succeeds next time, on a new window
        cloud.configure_simulator("bedrock_customization", {"outcome": "completed"})
        upload_labels(cloud, "b", 210, seed=2)

        # Then that run also trains on the failed run's records (window 1 carried in)
        carried = entries(cloud, "windows_carried_in")
        assert len(carried) == 1 and carried[0]["cause"]["windows"] == [1]
        assert "run_started" in actions(cloud)[actions(cloud).index("run_failed") :]


def test_a_job_that_never_reports_is_stopped_at_the_timeout_recorded_and_alerted() -> None:
    with finetune_cloud(bedrock_customization={"outcome": "never_reports"}) as cloud:
        upload_labels(cloud, "a", 210)

        # When the run's wait budget passes (run_timeout 12h less 55m of steps, the 2h evaluation
        # and one 5m poll: 9h)
        cloud.advance("10h")

        # Then the reconciling read found it running: stopped, recorded, the run failed
        (stopped,) = entries(cloud, "finetune_stopped")
        assert "did not finish within the 9h the run" in stopped["reason"]
        assert "stop requested" in stopped["reason"]
        (failed,) = entries(cloud, "run_failed")
        assert "JobTimedOut" in failed["reason"]
        assert any("fine-tune run failed" in n["subject"] for n in notices(cloud, "alerts"))
        # The job's own Stopped event comes later: recorded, not alerted again
        late = entries(cloud, "late_finetune_outcome")
        assert len(late) == 1 and "Stopped" in late[0]["reason"]
        job = cloud.client("bedrock").get_model_customization_job(
            jobIdentifier=stopped["cause"]["customization_job"]
        )
        assert job["status"] == "Stopped"
        # The lock is free: the next labels start a run at once
        upload_labels(cloud, "b", 210, seed=2)
        assert len(finetune_executions(cloud)) == 2


def test_a_completed_job_whose_event_is_lost_is_found_by_the_reconciling_read() -> None:
    with finetune_cloud(bedrock_customization={"lose_event": True, "duration": "1h"}) as cloud:
        upload_labels(cloud, "a", 210)

        # When the wait ends without the event
        cloud.advance("10h")

        # Then the job was read, found Completed, and the run went on to evaluate it
        (reconciled,) = entries(cloud, "finetune_reconciled")
        assert "the job itself says Completed" in reconciled["reason"]
        assert "evaluation_started" in actions(cloud)
        assert "finetune_stopped" not in actions(cloud)


def test_a_failed_evaluation_deployment_is_removed_and_created_anew() -> None:
    # Given the first creation of the evaluation deployment fails
    with finetune_cloud(bedrock_deployment={"next": [{"fail": "capacity"}]}) as cloud:
        upload_labels(cloud, "a", 210)

        # When the run goes on past the job and the failed creation
        cloud.advance("4h")

        # Then the deployment was deleted and created again, and the candidate evaluated
        assert "evaluated" in actions(cloud) and "run_failed" not in actions(cloud)
        calls = [
            e["operation"]
            for e in cloud.timeline.entries()
            if e["kind"] == "api" and "CustomModelDeployment" in e.get("operation", "")
        ]
        assert calls.count("CreateCustomModelDeployment") == 2
        assert "DeleteCustomModelDeployment" in calls


def test_more_held_out_prompts_than_a_batch_are_answered_over_several_looks() -> None:
    with finetune_cloud() as cloud:
        # 600 good records: about 60 held out, more than one batch of 50
        upload_labels(cloud, "big", 600)
        cloud.advance("4h")

        (evaluated,) = entries(cloud, "evaluated")
        held_out = int(float(evaluated["reason"].split("holdout_records=")[1].split(",")[0]))
        assert held_out > 50
        s3 = cloud.client("s3")
        prefix = f"finetune/{MODEL}/{MODEL}-w000001/"
        keys = [
            o["Key"]
            for o in s3.list_objects_v2(Bucket=cloud.artifacts_bucket, Prefix=prefix)["Contents"]
        ]
        assert sorted(k for k in keys if "/answers/" in k) == [
            f"{prefix}answers/part-00000.jsonl",
            f"{prefix}answers/part-00050.jsonl",
        ]
        body = s3.get_object(Bucket=cloud.artifacts_bucket, Key=f"{prefix}responses.jsonl")
        assert len(body["Body"].read().splitlines()) == held_out


def test_data_that_fails_three_runs_is_set_aside_instead_of_carried_again() -> None:
    failing = {"outcome": "failed", "failure_message": "Validation error: bad record"}
    with finetune_cloud(bedrock_customization={**failing, "duration": "30m"}) as cloud:
        # Given every job on this data fails
        for n in range(3):
            upload_labels(cloud, f"batch-{n}", 210, seed=n)
            cloud.advance("1h")

        # Then the first window, in all three failed runs, is set aside and alerted
        failed = entries(cloud, "run_failed")
        assert len(failed) == 3
        assert failed[-1]["cause"]["set_aside_windows"] == [1]
        assert failed[-1]["cause"]["carried_windows"] == [2, 3]
        last = [n for n in notices(cloud, "alerts") if "fine-tune run failed" in n["subject"]][-1]
        assert "w000001 failed 3 runs and are set aside" in last["message"]
