"""What `aiops audit` reads on AWS: the stack's outputs, a model's whole ledger, and the live
status of the executions and model packages the ledger names."""

from __future__ import annotations

from typing import Any

from aiops.adapters.aws import RegionalAdapter, error_code, regional_client
from aiops.adapters.ledger_store import DynamoLedger
from aiops.audit.chains import LiveStatus
from aiops.ledger import LedgerEntry


class StackNotFound(LookupError):
    pass


class LedgerTableNotFound(LookupError):
    pass


def _reason(exc: Exception) -> str:
    code = error_code(exc)
    response = getattr(exc, "response", None) or {}
    message = str(response.get("Error", {}).get("Message", "")) if code else str(exc)
    text = f"{code or type(exc).__name__}: {message}" if message else code or type(exc).__name__
    return text if len(text) <= 160 else text[:159] + "…"


class StackOutputs(RegionalAdapter):
    service = "cloudformation"

    def outputs(self, stack_name: str) -> dict[str, str]:
        """The stack's outputs, key → value; `StackNotFound` when there is no such stack."""
        return self.describe(stack_name)[0]

    def describe(self, stack_name: str) -> tuple[dict[str, str], dict[str, str]]:
        """The stack's outputs and parameters (one DescribeStacks); `StackNotFound`."""
        try:
            stacks = self.client.describe_stacks(StackName=stack_name)["Stacks"]
        except Exception as exc:
            if error_code(exc) == "ValidationError" and "does not exist" in str(exc):
                raise StackNotFound(f"stack {stack_name} does not exist") from exc
            raise
        if not stacks:
            raise StackNotFound(f"stack {stack_name} does not exist")
        outputs = {
            str(o["OutputKey"]): str(o.get("OutputValue", ""))
            for o in stacks[0].get("Outputs") or []
        }
        parameters = {
            str(p["ParameterKey"]): str(p.get("ResolvedValue") or p.get("ParameterValue") or "")
            for p in stacks[0].get("Parameters") or []
        }
        return outputs, parameters

    def required(self, stack_name: str, output: str) -> str:
        """One output the command needs; `StackNotFound` naming it when the stack lacks it."""
        value = self.outputs(stack_name).get(output)
        if not value:
            raise StackNotFound(f"stack {stack_name} has no output {output}")
        return value


class LedgerHistory(DynamoLedger):
    """The ledger table read whole: a model's every entry, every page, oldest first
    (`for_model` reads the latest page only)."""

    def __init__(self, table_name: str, client: Any | None = None, region: str | None = None):
        if client is None and region is not None:
            client = regional_client("dynamodb", region)
        super().__init__(table_name, client)

    def entries(self, model: str) -> list[LedgerEntry]:
        try:
            items = self.table.query_all(
                KeyConditionExpression="#m = :m",
                ExpressionAttributeNames={"#m": "model"},
                ExpressionAttributeValues={":m": {"S": model}},
            )
        except Exception as exc:
            if error_code(exc) == "ResourceNotFoundException":
                raise LedgerTableNotFound(f"ledger table {self.table.name} not found") from exc
            raise
        return [LedgerEntry.model_validate(item) for item in items]


class _Statuses(RegionalAdapter):
    """A resource's status now, from one Describe call: `STATUS (detail)` when it has a detail,
    or unknown with the reason the call failed."""

    status_key: str
    detail_key: str
    no_status = ""

    def _describe(self, arn: str) -> dict[str, Any]:
        raise NotImplementedError

    def status(self, arn: str) -> LiveStatus:
        try:
            described = self._describe(arn)
        except Exception as exc:  # noqa: BLE001 - not found, denied, offline: shown, not fatal
            return LiveStatus.unavailable(_reason(exc))
        status = str(described.get(self.status_key) or self.no_status)
        detail = described.get(self.detail_key)
        return LiveStatus.of(f"{status} ({detail})" if detail else status)


class ExecutionStatuses(_Statuses):
    """A Step Functions execution's status now (RUNNING, SUCCEEDED, …), via DescribeExecution."""

    service = "stepfunctions"
    status_key, detail_key = "status", "error"

    def _describe(self, arn: str) -> dict[str, Any]:
        return dict(self.client.describe_execution(executionArn=arn))


class PackageStatuses(_Statuses):
    """A model package's current ModelApprovalStatus, via DescribeModelPackage."""

    service = "sagemaker"
    status_key, detail_key, no_status = "ModelApprovalStatus", "ApprovalDescription", "unset"

    def _describe(self, arn: str) -> dict[str, Any]:
        return dict(self.client.describe_model_package(ModelPackageName=arn))
