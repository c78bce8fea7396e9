"""What `aiops audit` reads on AWS: the stack's outputs, a model's whole ledger, and the live
status of the executions and model packages the ledger names."""

from __future__ import annotations

from typing import Any

from aiops.adapters.aws import AwsAdapter, error_code
from aiops.adapters.aws import client as default_client
from aiops.adapters.dynamodb import Table
from aiops.audit import LiveStatus
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


class _Adapter(AwsAdapter):
    """An adapter whose lazily created client may be for a given region."""

    def __init__(self, client: Any | None = None, region: str | None = None) -> None:
        super().__init__(client)
        self.region = region

    @property
    def client(self) -> Any:
        if self._client is None:
            if self.region is None:
                self._client = default_client(self.service)
            else:
                import boto3  # deferred, as in aiops.adapters.aws

                self._client = boto3.client(self.service, region_name=self.region)
        return self._client


class StackOutputs(_Adapter):
    service = "cloudformation"

    def outputs(self, stack_name: str) -> dict[str, str]:
        """The stack's outputs, key → value; `StackNotFound` when there is no such stack."""
        try:
            stacks = self.client.describe_stacks(StackName=stack_name)["Stacks"]
        except Exception as exc:
            if error_code(exc) == "ValidationError" and "does not exist" in str(exc):
                raise StackNotFound(f"stack {stack_name} does not exist") from exc
            raise
        if not stacks:
            raise StackNotFound(f"stack {stack_name} does not exist")
        return {
            str(o["OutputKey"]): str(o.get("OutputValue", ""))
            for o in stacks[0].get("Outputs") or []
        }


class LedgerHistory(_Adapter):
    """A model's whole ledger, every page of it, oldest first."""

    service = "dynamodb"

    def __init__(self, table_name: str, client: Any | None = None, region: str | None = None):
        super().__init__(client, region)
        self.table_name = table_name

    def entries(self, model: str) -> list[LedgerEntry]:
        table = Table(self.table_name, self.client)
        try:
            items = table.query_all(
                KeyConditionExpression="#m = :m",
                ExpressionAttributeNames={"#m": "model"},
                ExpressionAttributeValues={":m": {"S": model}},
            )
        except Exception as exc:
            if error_code(exc) == "ResourceNotFoundException":
                raise LedgerTableNotFound(f"ledger table {self.table_name} not found") from exc
            raise
        return [LedgerEntry.model_validate(item) for item in items]


class ExecutionStatuses(_Adapter):
    """A Step Functions execution's status now (RUNNING, SUCCEEDED, …), via DescribeExecution."""

    service = "stepfunctions"

    def status(self, arn: str) -> LiveStatus:
        try:
            described = self.client.describe_execution(executionArn=arn)
        except Exception as exc:  # noqa: BLE001 - not found, denied, offline: shown, not fatal
            return LiveStatus.unavailable(_reason(exc))
        status = str(described.get("status") or "")
        error = described.get("error")
        return LiveStatus.of(f"{status} ({error})" if error else status)


class PackageStatuses(_Adapter):
    """A model package's current ModelApprovalStatus, via DescribeModelPackage."""

    service = "sagemaker"

    def status(self, arn: str) -> LiveStatus:
        try:
            package = self.client.describe_model_package(ModelPackageName=arn)
        except Exception as exc:  # noqa: BLE001 - not found, denied, offline: shown, not fatal
            return LiveStatus.unavailable(_reason(exc))
        status = str(package.get("ModelApprovalStatus") or "unset")
        description = package.get("ApprovalDescription")
        return LiveStatus.of(f"{status} ({description})" if description else status)
