"""What cost remediation acts through: endpoint capacity (SageMaker and Application Auto
Scaling), the capacity saved before a scale-down (control table), running pipeline executions and
customization jobs, and the event that resumes a model's triggers."""

from __future__ import annotations

import json
from typing import Any

from aiops.adapters.aws import AwsAdapter, error_code
from aiops.adapters.aws import client as default_client
from aiops.adapters.bedrock import BedrockCustomizationJobs
from aiops.adapters.dynamodb import Table, to_item, to_values
from aiops.adapters.eventbridge import EventPublishFailed
from aiops.adapters.pause_store import jsonable_map
from aiops.adapters.sagemaker import SageMakerPipelines
from aiops.cost.model import EndpointState, VariantCapacity

RESUME_SOURCE = "aiops.cost"
RESUME_DETAIL_TYPE = "Model Triggers Resumed"

MODEL_TAG = "aiops:model"
SCALABLE_DIMENSION = "sagemaker:variant:DesiredInstanceCount"
# Newest executions read (100 a page): executions time out after 28 days and an account runs
# 20 at once by default, so a running one is never this far down the list of a retrain pipeline.
MAX_EXECUTION_PAGES = 10
# Customization jobs in progress (the listing is filtered by status and name already).
MAX_JOB_PAGES = 10


def _resource_id(endpoint: str, variant: str) -> str:
    return f"endpoint/{endpoint}/variant/{variant}"


def _check_bounds(variant: VariantCapacity) -> None:
    low, high = variant.scaling_min, variant.scaling_max
    if low is None or high is None:
        return
    name = f"{variant.endpoint}/{variant.variant}"
    if low > high:
        raise ValueError(f"{name}: scaling_min {low} is above scaling_max {high}")
    if not low <= variant.instances <= high:
        raise ValueError(
            f"{name}: instances {variant.instances} is outside the scaling bounds {low}-{high}"
        )


class SageMakerEndpointCapacity:
    def __init__(
        self, sagemaker_client: Any | None = None, autoscaling_client: Any | None = None
    ) -> None:
        self._sagemaker = sagemaker_client
        self._autoscaling = autoscaling_client

    @property
    def sagemaker(self) -> Any:
        if self._sagemaker is None:
            self._sagemaker = default_client("sagemaker")
        return self._sagemaker

    @property
    def autoscaling(self) -> Any:
        if self._autoscaling is None:
            self._autoscaling = default_client("application-autoscaling")
        return self._autoscaling

    def _describe(self, endpoint: str) -> dict[str, Any] | None:
        try:
            response: dict[str, Any] = self.sagemaker.describe_endpoint(EndpointName=endpoint)
        except Exception as exc:
            if error_code(exc) == "ValidationException" and "could not find" in str(exc).lower():
                return None
            raise
        return response

    def state(self, endpoint: str) -> EndpointState | None:
        described = self._describe(endpoint)
        if described is None:
            return None
        counts: dict[str, int] = {}
        for production in described.get("ProductionVariants") or []:
            count = production.get("DesiredInstanceCount", production.get("CurrentInstanceCount"))
            # Serverless variants have no instances to scale.
            if count is not None:
                counts[str(production["VariantName"])] = int(count)
        model_tag = self._model_tag(str(described["EndpointArn"]))
        bounds = self._bounds(endpoint, list(counts))
        return EndpointState(
            endpoint=endpoint,
            status=str(described.get("EndpointStatus", "")),
            model_tag=model_tag,
            variants=[
                VariantCapacity(
                    endpoint=endpoint,
                    variant=name,
                    instances=count,
                    scaling_min=bounds.get(name, (None, None))[0],
                    scaling_max=bounds.get(name, (None, None))[1],
                )
                for name, count in counts.items()
            ],
        )

    def _model_tag(self, arn: str) -> str:
        for page in self.sagemaker.get_paginator("list_tags").paginate(ResourceArn=arn):
            for tag in page.get("Tags", []):
                if tag.get("Key") == MODEL_TAG:
                    return str(tag.get("Value", ""))
        return ""

    def _bounds(self, endpoint: str, variants: list[str]) -> dict[str, tuple[int, int]]:
        if not variants:
            return {}
        ids = {_resource_id(endpoint, v): v for v in variants}
        # One call: DescribeScalableTargets takes up to 50 resource ids, an endpoint has at
        # most 10 production variants.
        targets = self.autoscaling.describe_scalable_targets(
            ServiceNamespace="sagemaker",
            ResourceIds=list(ids),
            ScalableDimension=SCALABLE_DIMENSION,
        ).get("ScalableTargets", [])
        return {
            ids[t["ResourceId"]]: (int(t["MinCapacity"]), int(t["MaxCapacity"]))
            for t in targets
            if t.get("ResourceId") in ids
        }

    def set_capacity(self, variants: list[VariantCapacity]) -> None:
        if not variants:
            return
        endpoint = variants[0].endpoint
        if any(v.endpoint != endpoint for v in variants):
            raise ValueError("set_capacity: the variants of one endpoint at a time")
        for variant in variants:
            _check_bounds(variant)
        for variant in variants:
            if not variant.scaled:
                continue
            # Bounds first: with the old ones, auto scaling would undo the new capacity.
            try:
                self.autoscaling.register_scalable_target(
                    ServiceNamespace="sagemaker",
                    ResourceId=_resource_id(variant.endpoint, variant.variant),
                    ScalableDimension=SCALABLE_DIMENSION,
                    MinCapacity=variant.scaling_min,
                    MaxCapacity=variant.scaling_max,
                )
            except Exception as exc:
                if error_code(exc) == "ValidationException":
                    self._desired(variant)  # LookupError when the variant is gone
                raise
        try:
            # One call for every variant: the call puts the endpoint in `Updating`, which
            # refuses a second call until it is done.
            self.sagemaker.update_endpoint_weights_and_capacities(
                EndpointName=endpoint,
                DesiredWeightsAndCapacities=[
                    {"VariantName": v.variant, "DesiredInstanceCount": v.instances}
                    for v in variants
                ],
            )
        except Exception as exc:
            if error_code(exc) != "ValidationException":
                raise
            # New bounds make auto scaling move the capacity into them itself, and the endpoint
            # is then updating (our call refused): done when that is the capacity asked for.
            # Every variant read (a list, not a short-cut): one that is gone is a LookupError.
            desired = [self._desired(v) for v in variants]
            if desired == [v.instances for v in variants]:
                return
            raise

    def _desired(self, variant: VariantCapacity) -> int | None:
        described = self._describe(variant.endpoint)
        if described is None:
            raise LookupError(f"endpoint {variant.endpoint} does not exist")
        for production in described.get("ProductionVariants") or []:
            if production.get("VariantName") == variant.variant:
                count = production.get("DesiredInstanceCount")
                return int(count) if count is not None else None
        raise LookupError(f"endpoint {variant.endpoint} has no variant {variant.variant}")


class DynamoSavedCapacities:
    """`MODEL#m / CAPACITY#<endpoint>#<variant>`: a variant's capacity before a scale-down."""

    def __init__(self, table_name: str, client: Any | None = None) -> None:
        self.table = Table(table_name, client)

    @staticmethod
    def _key(model: str, variant: VariantCapacity) -> dict[str, str]:
        # Endpoint and variant names are letters, digits and hyphens: `#` separates them.
        return {"pk": f"MODEL#{model}", "sk": f"CAPACITY#{variant.endpoint}#{variant.variant}"}

    def save(self, model: str, variants: list[VariantCapacity], cause: dict[str, Any]) -> None:
        stored_cause = jsonable_map(cause, "cause")
        for variant in variants:
            try:
                self.table.client.put_item(
                    TableName=self.table.name,
                    Item=to_item(
                        {
                            **self._key(model, variant),
                            "endpoint": variant.endpoint,
                            "variant": variant.variant,
                            "instances": variant.instances,
                            "scaling_min": variant.scaling_min,
                            "scaling_max": variant.scaling_max,
                            "saved_by": variant.saved_by,
                            "cause": stored_cause,
                        }
                    ),
                    # The first saved capacity is the one to restore: a second scale-down
                    # would otherwise save the minimum.
                    ConditionExpression="attribute_not_exists(pk)",
                )
            except Exception as exc:
                if error_code(exc) != "ConditionalCheckFailedException":
                    raise

    def saved(self, model: str) -> list[VariantCapacity]:
        items = self.table.query_all(
            KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
            ExpressionAttributeValues=to_values({":pk": f"MODEL#{model}", ":prefix": "CAPACITY#"}),
        )
        return [
            VariantCapacity(
                endpoint=item["endpoint"],
                variant=item["variant"],
                instances=item["instances"],
                scaling_min=item.get("scaling_min"),
                scaling_max=item.get("scaling_max"),
                saved_by=item.get("saved_by"),
            )
            for item in items
        ]

    def forget(self, model: str, variants: list[VariantCapacity]) -> None:
        for variant in variants:
            self.table.client.delete_item(
                TableName=self.table.name, Key=to_item(self._key(model, variant))
            )


class CostRunningJobs:
    """A model's running work: its pipeline's executions, its customization jobs."""

    def __init__(
        self, sagemaker_client: Any | None = None, bedrock_client: Any | None = None
    ) -> None:
        # The stops are the retrain and fine-tune adapters' own (same tokens, same errors).
        self._pipelines = SageMakerPipelines(sagemaker_client)
        self._jobs = BedrockCustomizationJobs(bedrock_client)

    def pipeline_executions(self, pipeline: str) -> list[str]:
        """Newest first; `Stopping` ones are already on their way out and left alone."""
        pages = self._pipelines.client.get_paginator("list_pipeline_executions").paginate(
            PipelineName=pipeline,
            SortBy="CreationTime",
            SortOrder="Descending",
            PaginationConfig={"PageSize": 100, "MaxItems": 100 * MAX_EXECUTION_PAGES},
        )
        running: list[str] = []
        try:
            for page in pages:
                for summary in page.get("PipelineExecutionSummaries", []):
                    if summary.get("PipelineExecutionStatus") == "Executing":
                        running.append(str(summary["PipelineExecutionArn"]))
        except Exception as exc:
            # A pipeline that does not exist runs nothing.
            if error_code(exc) == "ResourceNotFound" or (
                error_code(exc) == "ValidationException" and "could not find" in str(exc).lower()
            ):
                return []
            raise
        return running

    def stop_pipeline_execution(self, arn: str) -> bool:
        return self._pipelines.stop(arn)

    def customization_jobs(self, model: str) -> list[str]:
        bedrock = self._jobs.client
        pages = bedrock.get_paginator("list_model_customization_jobs").paginate(
            statusEquals="InProgress",
            # Our job names start `aiops-<model>-`; the name is only a pre-filter (another
            # model's name may contain it), the tag decides.
            nameContains=f"aiops-{model}",
            PaginationConfig={"PageSize": 100, "MaxItems": 100 * MAX_JOB_PAGES},
        )
        found: list[str] = []
        for page in pages:
            for job in page.get("modelCustomizationJobSummaries", []):
                arn = str(job["jobArn"])
                tags = bedrock.list_tags_for_resource(resourceARN=arn).get("tags", [])
                if any(t.get("key") == MODEL_TAG and t.get("value") == model for t in tags):
                    found.append(arn)
        return found

    def stop_customization_job(self, arn: str) -> bool:
        return self._jobs.stop(arn)


class EventBridgeResumeNotices(AwsAdapter):
    service = "events"

    def resumed(self, model: str, by: str) -> None:
        response = self.client.put_events(
            Entries=[
                {
                    "Source": RESUME_SOURCE,
                    "DetailType": RESUME_DETAIL_TYPE,
                    "Detail": json.dumps({"model": model, "by": by}),
                    "EventBusName": "default",
                }
            ]
        )
        if response.get("FailedEntryCount"):
            entry = response["Entries"][0]
            raise EventPublishFailed(
                f"PutEvents refused the resume event for {model}: {entry.get('ErrorCode')} "
                f"{entry.get('ErrorMessage')}"
            )
