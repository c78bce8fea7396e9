"""The EndpointCapacity port (aiops.cost.ports): MemoryEndpointCapacity ↔
SageMakerEndpointCapacity (SageMaker endpoints and Application Auto Scaling in moto)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import boto3
import pytest
from moto import mock_aws

from aiops.adapters.cost import SageMakerEndpointCapacity
from aiops.cost.model import EndpointState, VariantCapacity
from aiops.cost.ports import EndpointCapacity
from tests.contracts.conftest import REGION, SIDES
from tests.unit.fakes import MemoryEndpointCapacity

ENDPOINT = "churn-prod"
ROLE = "arn:aws:iam::123456789012:role/model"
IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/churn:1"

# endpoint, {variant: instances, or None for a serverless one}, aiops:model tag, scaling bounds
CreateEndpoint = Callable[..., None]


@pytest.fixture(params=SIDES)
def capacity(request: pytest.FixtureRequest) -> Iterator[EndpointCapacity]:
    if request.param == "fake":
        yield MemoryEndpointCapacity()
        return
    with mock_aws():
        yield SageMakerEndpointCapacity(
            boto3.client("sagemaker", region_name=REGION),
            boto3.client("application-autoscaling", region_name=REGION),
        )


@pytest.fixture
def create_endpoint(capacity: EndpointCapacity) -> CreateEndpoint:
    """An InService endpoint where `capacity` reads it."""

    def create(
        endpoint: str,
        variants: dict[str, int | None],
        tag: str | None = None,
        bounds: dict[str, tuple[int, int]] | None = None,
    ) -> None:
        bounds = bounds or {}
        if isinstance(capacity, MemoryEndpointCapacity):
            capacity.endpoints[endpoint] = EndpointState(
                endpoint=endpoint,
                status="InService",
                model_tag=tag or "",
                variants=[
                    VariantCapacity(
                        endpoint=endpoint,
                        variant=name,
                        instances=count,
                        scaling_min=bounds[name][0] if name in bounds else None,
                        scaling_max=bounds[name][1] if name in bounds else None,
                    )
                    for name, count in variants.items()
                    if count is not None
                ],
            )
            return
        assert isinstance(capacity, SageMakerEndpointCapacity)
        sagemaker = capacity.sagemaker
        sagemaker.create_model(
            ModelName=f"{endpoint}-model",
            PrimaryContainer={"Image": IMAGE},
            ExecutionRoleArn=ROLE,
        )
        sagemaker.create_endpoint_config(
            EndpointConfigName=f"{endpoint}-config",
            ProductionVariants=[
                {"VariantName": name, "ModelName": f"{endpoint}-model"}
                | (
                    {"ServerlessConfig": {"MemorySizeInMB": 2048, "MaxConcurrency": 5}}
                    if count is None
                    else {"InstanceType": "ml.m5.large", "InitialInstanceCount": count}
                )
                for name, count in variants.items()
            ],
        )
        sagemaker.create_endpoint(
            EndpointName=endpoint,
            EndpointConfigName=f"{endpoint}-config",
            Tags=[{"Key": "aiops:model", "Value": tag}] if tag else [],
        )
        for name, (low, high) in bounds.items():
            capacity.autoscaling.register_scalable_target(
                ServiceNamespace="sagemaker",
                ResourceId=f"endpoint/{endpoint}/variant/{name}",
                ScalableDimension="sagemaker:variant:DesiredInstanceCount",
                MinCapacity=low,
                MaxCapacity=high,
            )

    return create


def variant(
    instances: int, name: str = "AllTraffic", bounds: tuple[int, int] | None = None
) -> VariantCapacity:
    return VariantCapacity(
        endpoint=ENDPOINT,
        variant=name,
        instances=instances,
        scaling_min=bounds[0] if bounds else None,
        scaling_max=bounds[1] if bounds else None,
    )


def test_an_endpoint_that_does_not_exist_has_no_state(capacity):
    assert capacity.state("nowhere") is None


def test_the_state_gives_the_status_the_model_tag_and_each_variants_instances(
    capacity, create_endpoint
):
    create_endpoint(ENDPOINT, {"AllTraffic": 3, "Canary": 1}, tag="churn")

    state = capacity.state(ENDPOINT)

    assert state == EndpointState(
        endpoint=ENDPOINT,
        status="InService",
        model_tag="churn",
        variants=[variant(3), variant(1, name="Canary")],
    )


def test_an_untagged_endpoint_has_an_empty_model_tag(capacity, create_endpoint):
    create_endpoint(ENDPOINT, {"AllTraffic": 2})

    assert capacity.state(ENDPOINT).model_tag == ""


def test_a_serverless_variant_has_no_instances_to_list(capacity, create_endpoint):
    create_endpoint(ENDPOINT, {"AllTraffic": 2, "Serverless": None}, tag="churn")

    assert capacity.state(ENDPOINT).variants == [variant(2)]


def test_a_variant_with_a_scalable_target_has_its_bounds(capacity, create_endpoint):
    create_endpoint(ENDPOINT, {"AllTraffic": 3, "Canary": 1}, bounds={"AllTraffic": (2, 6)})

    variants = capacity.state(ENDPOINT).variants

    assert variants == [variant(3, bounds=(2, 6)), variant(1, name="Canary")]
    assert [v.scaled for v in variants] == [True, False]


def test_setting_the_capacity_of_a_variant_without_scalable_target(capacity, create_endpoint):
    create_endpoint(ENDPOINT, {"AllTraffic": 3, "Canary": 2}, tag="churn")

    capacity.set_capacity([variant(1)])

    assert capacity.state(ENDPOINT).variants == [variant(1), variant(2, name="Canary")]


def test_setting_the_capacity_with_bounds_moves_the_scalable_target_too(capacity, create_endpoint):
    # Given a variant on 4 instances, auto scaled between 2 and 8
    create_endpoint(ENDPOINT, {"AllTraffic": 4}, tag="churn", bounds={"AllTraffic": (2, 8)})

    # When it is scaled to its minimum, its bounds pinned there
    capacity.set_capacity([variant(2, bounds=(2, 2))])

    # Then the instances and the scalable target's bounds both changed
    assert capacity.state(ENDPOINT).variants == [variant(2, bounds=(2, 2))]


def test_setting_the_capacity_without_bounds_keeps_the_scalable_targets(capacity, create_endpoint):
    create_endpoint(ENDPOINT, {"AllTraffic": 4}, bounds={"AllTraffic": (2, 8)})

    capacity.set_capacity([variant(3)])

    assert capacity.state(ENDPOINT).variants == [variant(3, bounds=(2, 8))]


def test_a_capacity_outside_its_own_bounds_is_refused_and_nothing_changes(
    capacity, create_endpoint
):
    create_endpoint(ENDPOINT, {"AllTraffic": 4}, bounds={"AllTraffic": (2, 8)})

    with pytest.raises(ValueError, match=r"instances 1 is outside the scaling bounds 2-3"):
        capacity.set_capacity([variant(1, bounds=(2, 3))])
    with pytest.raises(ValueError, match=r"scaling_min 3 is above scaling_max 2"):
        capacity.set_capacity([variant(2, bounds=(3, 2))])

    assert capacity.state(ENDPOINT).variants == [variant(4, bounds=(2, 8))]


def test_setting_the_capacity_of_an_endpoint_that_does_not_exist_is_a_lookup_error(capacity):
    with pytest.raises(LookupError, match=f"endpoint {ENDPOINT} does not exist"):
        capacity.set_capacity([variant(1)])


def test_setting_the_capacity_of_a_variant_the_endpoint_lacks_is_a_lookup_error(
    capacity, create_endpoint
):
    create_endpoint(ENDPOINT, {"AllTraffic": 2})

    with pytest.raises(LookupError, match=f"endpoint {ENDPOINT} has no variant Shadow"):
        capacity.set_capacity([variant(1, name="Shadow")])

    assert capacity.state(ENDPOINT).variants == [variant(2)]
