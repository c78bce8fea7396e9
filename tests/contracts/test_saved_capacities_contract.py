"""The SavedCapacities port (aiops.cost.ports): MemorySavedCapacities ↔ DynamoSavedCapacities."""

from __future__ import annotations

import math
from collections.abc import Iterator

import pytest

from aiops.adapters.cost import DynamoSavedCapacities
from aiops.cost.model import VariantCapacity
from aiops.cost.ports import SavedCapacities
from tests.contracts.conftest import SIDES
from tests.unit.fakes import MemorySavedCapacities

MODEL = "churn"
CAUSE = {"signal": "anomaly:a-1", "impact_usd": 120.5}


@pytest.fixture(params=SIDES)
def capacities(request: pytest.FixtureRequest) -> Iterator[SavedCapacities]:
    if request.param == "fake":
        yield MemorySavedCapacities()
        return
    tables = request.getfixturevalue("moto_tables")
    yield DynamoSavedCapacities(tables["ControlTable"])


def variant(
    instances: int,
    endpoint: str = "churn-prod",
    name: str = "AllTraffic",
    bounds: tuple[int, int] | None = None,
) -> VariantCapacity:
    return VariantCapacity(
        endpoint=endpoint,
        variant=name,
        instances=instances,
        scaling_min=bounds[0] if bounds else None,
        scaling_max=bounds[1] if bounds else None,
    )


def test_a_model_with_nothing_saved_has_no_capacity_to_restore(capacities):
    assert capacities.saved(MODEL) == []


def test_saved_capacities_read_back_with_their_scaling_bounds(capacities):
    saved = [variant(4, bounds=(2, 8)), variant(1, name="Shadow")]

    capacities.save(MODEL, saved, CAUSE)

    assert capacities.saved(MODEL) == saved


def test_the_first_saved_capacity_of_a_variant_is_kept(capacities):
    # Given the capacity saved before a first scale-down
    capacities.save(MODEL, [variant(4, bounds=(2, 8))], CAUSE)

    # When a second anomaly saves the (now minimum) capacity again, with another variant
    capacities.save(MODEL, [variant(1, bounds=(1, 1)), variant(2, name="Shadow")], CAUSE)

    # Then the first capacity is the one to restore; the new variant is saved too
    assert capacities.saved(MODEL) == [variant(4, bounds=(2, 8)), variant(2, name="Shadow")]


def test_saved_capacities_are_listed_by_endpoint_then_variant(capacities):
    capacities.save(
        MODEL,
        [variant(1, endpoint="churn-prod-b"), variant(2, name="B"), variant(3, name="A")],
        CAUSE,
    )

    listed = [(v.endpoint, v.variant) for v in capacities.saved(MODEL)]

    assert listed == [("churn-prod", "A"), ("churn-prod", "B"), ("churn-prod-b", "AllTraffic")]


def test_each_model_has_its_own_saved_capacities(capacities):
    capacities.save(MODEL, [variant(4)], CAUSE)

    assert capacities.saved("fraud") == []


def test_forget_drops_only_the_variants_restored(capacities):
    capacities.save(MODEL, [variant(4), variant(2, name="Shadow")], CAUSE)

    capacities.forget(MODEL, [variant(4)])

    assert capacities.saved(MODEL) == [variant(2, name="Shadow")]


def test_a_forgotten_variant_saves_its_capacity_anew(capacities):
    capacities.save(MODEL, [variant(4)], CAUSE)
    capacities.forget(MODEL, [variant(4)])

    capacities.save(MODEL, [variant(6)], CAUSE)

    assert capacities.saved(MODEL) == [variant(6)]


def test_forgetting_what_was_never_saved_does_nothing(capacities):
    capacities.save(MODEL, [variant(4)], CAUSE)

    capacities.forget(MODEL, [variant(4, name="Shadow")])
    capacities.forget("fraud", [variant(4)])

    assert capacities.saved(MODEL) == [variant(4)]


def test_a_cause_with_a_non_finite_number_is_refused_and_nothing_saved(capacities):
    with pytest.raises(ValueError, match=r"cause: not storable as JSON"):
        capacities.save(MODEL, [variant(4)], {"impact_usd": math.nan})

    assert capacities.saved(MODEL) == []
