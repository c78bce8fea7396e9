"""Scenario expectations that say something did not happen: an empty list means none, and
`count: 0` means no record matches; neither ever checks nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from aiops_local import LocalCloud
from aiops_local.expect import check

FAILING = {"source": "toy.fail", "detail-type": "Bad", "detail": {}}


@pytest.fixture
def cloud(toy_project: Path) -> Any:
    with LocalCloud(toy_project) as running:
        yield running


def register_candidate(cloud: LocalCloud) -> None:
    """One model package in the toy group, as a pipeline run registers it."""
    cloud.client("sagemaker").start_pipeline_execution(PipelineName="toy-train")
    cloud.run_until_quiet()


def test_given_a_package_in_the_group_when_the_expectation_is_an_empty_list_then_it_fails(cloud):
    register_candidate(cloud)

    failures = check(cloud, {"registry": {"toy": []}})

    (failure,) = failures
    assert failure.startswith("registry toy: expected none: 1 present")
    assert "PendingManualApproval" in failure


def test_given_no_package_in_the_group_when_the_expectation_is_an_empty_list_then_it_holds(cloud):
    assert check(cloud, {"registry": {"toy": []}}) == []


def test_given_a_dead_letter_when_the_queue_is_expected_empty_then_it_fails(cloud):
    cloud.send_event(FAILING)
    cloud.advance(3600)

    failures = check(cloud, {"dead_letters": {"FailDeadLetterQueue": []}})

    (failure,) = failures
    assert failure.startswith("dead letters FailDeadLetterQueue: expected none: 1 present")


def test_given_an_empty_queue_when_it_is_expected_empty_then_it_holds(cloud):
    assert check(cloud, {"dead_letters": {"FailDeadLetterQueue": []}}) == []


@pytest.mark.parametrize("kind", ["ledger", "executions", "timeline"])
def test_given_records_when_a_top_level_expectation_is_an_empty_list_then_it_fails(cloud, kind):
    cloud.put_object("DataBucket", "in/part-1.csv", size=5)  # a decision, a ledger item, a run
    cloud.run_until_quiet()

    failures = check(cloud, {kind: []})

    (failure,) = failures
    assert failure.startswith(f"{kind}: expected none:")


def test_given_a_matching_record_when_count_0_is_expected_then_it_fails_and_otherwise_holds(
    cloud,
):
    register_candidate(cloud)

    matching = check(
        cloud, {"registry": {"toy": [{"status": "PendingManualApproval", "count": 0}]}}
    )
    other = check(cloud, {"registry": {"toy": [{"status": "Approved", "count": 0}]}})

    assert len(matching) == 1 and "1 matched, expected exactly 0" in matching[0]
    assert other == []


@pytest.mark.parametrize(
    "spec",
    [{"registry": {"toy": None}}, {"ledger": None}, {"executions": "none"}, {"registry": []}],
    ids=["group-without-items", "ledger-null", "executions-text", "registry-list"],
)
def test_given_an_expectation_that_is_not_a_list_of_items_then_it_fails_saying_so(cloud, spec):
    failures = check(cloud, spec)

    assert len(failures) == 1 and "expects a" in failures[0]


def test_given_a_deeply_nested_scenario_file_when_loaded_then_a_scenario_error_names_it(tmp_path):
    # Given a scenario file nested far deeper than any story
    from aiops_local.scenario import ScenarioError, load_scenario

    path = tmp_path / "deep.yaml"
    path.write_text("steps: " + "[" * 100_000 + "]" * 100_000)

    # Then it is refused as a scenario error (exit 2 from the CLI), not a crash
    with pytest.raises(ScenarioError, match=r"deep\.yaml"):
        load_scenario(path)
