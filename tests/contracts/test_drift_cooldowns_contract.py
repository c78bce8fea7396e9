"""The DriftCooldowns port (aiops.drift): MemoryCooldowns ↔ DynamoDriftCooldowns."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import boto3

from aiops.adapters.drift_cooldown_store import DynamoDriftCooldowns
from aiops.drift.decisions import CooldownClaim

NOW = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)
COOLDOWN = timedelta(hours=24)
MODEL = "churn"


def test_the_first_drift_signal_claims_the_slot(cooldowns):
    claim = cooldowns.claim(MODEL, "signal-a", "run-a", NOW, COOLDOWN)

    assert claim == CooldownClaim(granted=True)


def test_another_signal_within_the_cooldown_is_refused_with_the_last_run_time(cooldowns):
    cooldowns.claim(MODEL, "signal-a", "run-a", NOW, COOLDOWN)

    claim = cooldowns.claim(MODEL, "signal-b", "run-b", NOW + timedelta(hours=23), COOLDOWN)

    assert claim == CooldownClaim(granted=False, last_run_at=NOW)


def test_the_same_signal_retried_within_the_cooldown_gets_the_slot_again(cooldowns):
    cooldowns.claim(MODEL, "signal-a", "run-a", NOW, COOLDOWN)

    retry = cooldowns.claim(MODEL, "signal-a", "run-a", NOW + timedelta(minutes=5), COOLDOWN)

    assert retry.granted is True


def test_a_retried_signal_restarts_the_cooldown(cooldowns):
    cooldowns.claim(MODEL, "signal-a", "run-a", NOW, COOLDOWN)
    retried_at = NOW + timedelta(hours=1)
    cooldowns.claim(MODEL, "signal-a", "run-a", retried_at, COOLDOWN)

    claim = cooldowns.claim(MODEL, "signal-b", "run-b", NOW + COOLDOWN, COOLDOWN)

    assert claim == CooldownClaim(granted=False, last_run_at=retried_at)


def test_another_signal_once_the_cooldown_has_passed_claims_the_slot(cooldowns):
    cooldowns.claim(MODEL, "signal-a", "run-a", NOW, COOLDOWN)

    claim = cooldowns.claim(MODEL, "signal-b", "run-b", NOW + COOLDOWN, COOLDOWN)

    assert claim.granted is True


def test_each_model_has_its_own_slot(cooldowns):
    cooldowns.claim(MODEL, "signal-a", "run-a", NOW, COOLDOWN)

    assert cooldowns.claim("fraud", "signal-b", "run-b", NOW, COOLDOWN).granted is True


def test_a_released_cooldown_can_be_claimed_again_by_another_signal(cooldowns):
    # Given a slot claimed for a run that then did not start (no new data, failed start)
    cooldowns.claim(MODEL, "signal-a", "run-a", NOW, COOLDOWN)
    cooldowns.release(MODEL, "run-a")

    # When a different drift signal arrives within what would have been the cooldown
    claim = cooldowns.claim(MODEL, "signal-b", "run-b", NOW + timedelta(minutes=1), COOLDOWN)

    # Then it gets the slot
    assert claim == CooldownClaim(granted=True)


def test_a_released_cooldown_can_be_claimed_again_by_the_same_signal(cooldowns):
    cooldowns.claim(MODEL, "signal-a", "run-a", NOW, COOLDOWN)
    cooldowns.release(MODEL, "run-a")

    claim = cooldowns.claim(MODEL, "signal-a", "run-a", NOW + timedelta(minutes=1), COOLDOWN)

    assert claim.granted is True


def test_a_slot_claimed_again_after_a_release_holds_its_cooldown(cooldowns):
    cooldowns.claim(MODEL, "signal-a", "run-a", NOW, COOLDOWN)
    cooldowns.release(MODEL, "run-a")
    claimed_at = NOW + timedelta(minutes=1)
    cooldowns.claim(MODEL, "signal-b", "run-b", claimed_at, COOLDOWN)

    claim = cooldowns.claim(MODEL, "signal-c", "run-c", NOW + timedelta(hours=1), COOLDOWN)

    assert claim == CooldownClaim(granted=False, last_run_at=claimed_at)


def test_releasing_another_runs_slot_does_not_free_it(cooldowns):
    # Given the slot held by run-b (run-a's cooldown passed and run-b claimed it)
    cooldowns.claim(MODEL, "signal-a", "run-a", NOW, COOLDOWN)
    cooldowns.claim(MODEL, "signal-b", "run-b", NOW + COOLDOWN, COOLDOWN)

    # When a late release of run-a comes in
    cooldowns.release(MODEL, "run-a")

    # Then run-b's slot still holds
    claim = cooldowns.claim(MODEL, "signal-c", "run-c", NOW + COOLDOWN, COOLDOWN)
    assert claim == CooldownClaim(granted=False, last_run_at=NOW + COOLDOWN)


def test_releasing_an_unclaimed_slot_does_nothing(cooldowns):
    cooldowns.release(MODEL, "run-a")

    assert cooldowns.claim(MODEL, "signal-a", "run-a", NOW, COOLDOWN).granted is True


def test_releasing_twice_does_nothing_more(cooldowns):
    cooldowns.claim(MODEL, "signal-a", "run-a", NOW, COOLDOWN)
    cooldowns.release(MODEL, "run-a")
    cooldowns.release(MODEL, "run-a")

    assert cooldowns.claim(MODEL, "signal-b", "run-b", NOW, COOLDOWN).granted is True


# ------------------------------------------------------------------ the adapter alone


def test_a_slot_left_without_timestamps_by_an_earlier_release_is_free(moto_tables):
    # Given the item an earlier release left behind (it removed the timestamps, kept the item)
    table = moto_tables["ControlTable"]
    boto3.client("dynamodb", region_name="us-east-1").put_item(
        TableName=table, Item={"pk": {"S": f"MODEL#{MODEL}"}, "sk": {"S": "DRIFT"}}
    )

    # When a drift signal claims the slot
    claim = DynamoDriftCooldowns(table).claim(MODEL, "signal-b", "run-b", NOW, COOLDOWN)

    # Then it gets it
    assert claim == CooldownClaim(granted=True)
