"""The PauseStore port (aiops.pauses): MemoryPauses ↔ DynamoPauseStore."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone

import pytest

from aiops.adapters.pause_store import DynamoPauseStore
from aiops.pauses import Pause, PauseStore, active_pause
from tests.contracts.conftest import SIDES
from tests.unit.fakes import MemoryPauses

NOW = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)
MODEL = "churn"


@pytest.fixture(params=SIDES)
def pauses(request: pytest.FixtureRequest) -> Iterator[PauseStore]:
    if request.param == "fake":
        yield MemoryPauses()
        return
    tables = request.getfixturevalue("moto_tables")
    yield DynamoPauseStore(tables["ControlTable"])


def a_pause(
    model: str = MODEL,
    owner: str = "cost:anomaly:a-1",
    since: datetime = NOW,
    until: datetime | None = NOW + timedelta(hours=6),
    **cause: object,
) -> Pause:
    return Pause(
        model=model, owner=owner, reason="spend anomaly", since=since, until=until, cause=cause
    )


def test_a_model_never_paused_has_no_pause(pauses):
    assert pauses.get(MODEL) is None


def test_a_first_pause_is_set_and_read_back(pauses):
    pause = a_pause(anomaly="a-1", impact_usd=120.5, services=["Amazon SageMaker"])

    assert pauses.pause(pause) is True

    assert pauses.get(MODEL) == pause


def test_a_second_pause_is_refused_while_the_first_holds(pauses):
    first = a_pause()
    pauses.pause(first)

    second = a_pause(owner="cost:alarm:spend", since=NOW + timedelta(hours=5, minutes=59))

    assert pauses.pause(second) is False
    assert pauses.get(MODEL) == first


def test_a_pause_without_an_end_holds_against_any_later_pause(pauses):
    first = a_pause(until=None)
    pauses.pause(first)

    assert pauses.pause(a_pause(owner="operator", since=NOW + timedelta(days=300))) is False
    assert pauses.get(MODEL) == first


def test_an_expired_pause_is_replaced(pauses):
    # Given a pause whose end is exactly the new pause's start (it no longer holds then)
    pauses.pause(a_pause())
    later = a_pause(owner="cost:alarm:spend", since=NOW + timedelta(hours=6), until=None)

    # When the new pause is set
    assert pauses.pause(later) is True

    # Then it replaces the expired one
    assert pauses.get(MODEL) == later


def test_expiry_compares_instants_whatever_the_time_zones(pauses):
    # Given a pause ending at 05:00 in UTC+2 (03:00 UTC)
    plus_two = timezone(timedelta(hours=2))
    pauses.pause(a_pause(since=NOW - timedelta(hours=1), until=NOW.astimezone(plus_two)))

    # Then a pause starting one microsecond before that instant (in UTC) is refused
    assert pauses.pause(a_pause(owner="b", since=NOW - timedelta(microseconds=1))) is False
    # And one starting at that instant replaces it
    assert pauses.pause(a_pause(owner="c", since=NOW)) is True
    assert pauses.get(MODEL).owner == "c"


def test_each_model_has_its_own_pause(pauses):
    pauses.pause(a_pause())

    assert pauses.pause(a_pause(model="fraud")) is True


def test_lift_removes_the_pause_and_returns_it(pauses):
    pause = a_pause(anomaly="a-1")
    pauses.pause(pause)

    assert pauses.lift(MODEL) == pause
    assert pauses.get(MODEL) is None


def test_lifting_a_model_without_a_pause_returns_none(pauses):
    assert pauses.lift(MODEL) is None


def test_a_lifted_model_can_be_paused_again(pauses):
    pauses.pause(a_pause(until=None))
    pauses.lift(MODEL)

    assert pauses.pause(a_pause(owner="cost:alarm:spend")) is True


def test_each_models_pause_reads_back_expired_ones_included(pauses):
    # Given two models paused, one of them with a pause already expired, and a third lifted
    fraud = a_pause(model="fraud", since=NOW - timedelta(days=2), until=NOW - timedelta(days=1))
    churn = a_pause()
    pauses.pause(churn)
    pauses.pause(fraud)
    pauses.pause(a_pause(model="support"))
    pauses.lift("support")

    # When each model's pause is read
    read = [pauses.get(m) for m in (MODEL, "fraud", "support")]

    # Then both paused models' pauses are there, the lifted one is not; only one still holds
    assert read == [churn, fraud, None]
    assert [p.holds(NOW) for p in (churn, fraud)] == [True, False]
    assert active_pause(pauses, "fraud", NOW) is None


def test_the_cause_reads_back_as_json_would(pauses):
    pauses.pause(a_pause(at=NOW, chain={"event": "e-1", "count": 3, "ratio": 0.25}))

    cause = pauses.get(MODEL).cause

    assert cause == {"at": str(NOW), "chain": {"count": 3, "event": "e-1", "ratio": 0.25}}


def test_times_read_back_in_utc(pauses):
    plus_two = timezone(timedelta(hours=2))
    pauses.pause(a_pause(since=NOW.astimezone(plus_two), until=None))

    since = pauses.get(MODEL).since

    assert (since, since.utcoffset()) == (NOW, timedelta(0))


def test_a_pause_without_a_time_zone_is_refused_naming_the_field(pauses):
    naive = a_pause(since=datetime(2026, 11, 20, 3, 0))  # no zone: the point of the test

    with pytest.raises(ValueError, match=r"pause\.since: .* has no time zone"):
        pauses.pause(naive)
    assert pauses.get(MODEL) is None


def test_a_cause_with_a_non_finite_number_is_refused_naming_the_field(pauses):
    with pytest.raises(ValueError, match=r"pause\.cause: not storable as JSON"):
        pauses.pause(a_pause(impact_usd=math.inf))
    assert pauses.get(MODEL) is None


def test_an_oversized_cause_is_refused_naming_the_field(pauses):
    with pytest.raises(ValueError, match=r"pause\.cause: \d+ bytes of JSON, at most 32768"):
        pauses.pause(a_pause(blob="x" * 40_000))
    assert pauses.get(MODEL) is None
