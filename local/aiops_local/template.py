"""The project's template.yaml, expanded by SAM offline and resolved for one stage.

`CloudTemplate` is the single source the runtime builds from: every bucket, table, function,
rule and state machine it creates, and every pattern it routes with, comes from here.
"""

from __future__ import annotations

import copy
import hashlib
import json
import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from samtranslator.parser.parser import Parser
from samtranslator.translator.translator import Translator

from aiops_local.cfn_yaml import load_cfn_yaml
from aiops_local.intrinsics import IntrinsicError, Resolver
from aiops_local.physical import Environment, Physical, physical_for

ACCOUNT = "123456789012"
REGION = "us-east-1"

# Local paths (CodeUri, DefinitionUri, ContentUri) are rewritten to this pseudo bucket before the
# SAM expansion, the way `sam package` uploads them; the object key is the path relative to the
# template, so the expanded `Code.S3Key` leads back to the directory on disk.
SOURCE_BUCKET = "aiops-local-source"
_LOCAL_URI_PROPERTIES = ("CodeUri", "DefinitionUri", "ContentUri")

# Reading (pure-Python YAML) and expanding (the SAM translator) the template cost about a second,
# and a test run builds hundreds of clouds from the same few files. Both are pure functions of the
# file's bytes (and, for the expansion, of the parameter values), so a process keeps the last few,
# keyed by content, pickled: every CloudTemplate gets its own copy (a millisecond, a tenth of a
# deepcopy) to change at will.
_CACHE_ENTRIES = 16
_sources: dict[str, bytes] = {}
_expansions: dict[tuple[str, str], bytes] = {}


def _remember(cache: dict[Any, bytes], key: Any, value: dict[str, Any]) -> None:
    if len(cache) >= _CACHE_ENTRIES:
        cache.pop(next(iter(cache)))
    cache[key] = pickle.dumps(value, pickle.HIGHEST_PROTOCOL)


def _recall(cache: dict[Any, bytes], key: Any) -> dict[str, Any]:
    value = pickle.loads(cache[key])  # noqa: S301 - bytes this process pickled itself
    assert isinstance(value, dict)
    return value


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# Managed policies SAM may expand policy templates into. The translator only needs their ARNs,
# and offline there is no IAM to list them from.
MANAGED_POLICIES = {
    name: f"arn:aws:iam::aws:policy/{path}{name}"
    for path, name in (
        ("service-role/", "AWSLambdaBasicExecutionRole"),
        ("service-role/", "AWSLambdaSQSQueueExecutionRole"),
        ("service-role/", "AWSLambdaDynamoDBExecutionRole"),
        ("service-role/", "AWSLambdaVPCAccessExecutionRole"),
        ("service-role/", "AWSLambdaRole"),
        ("", "AWSXrayWriteOnlyAccess"),
        ("", "AWSXRayDaemonWriteAccess"),
        ("", "CloudWatchLambdaInsightsExecutionRolePolicy"),
        ("", "AWSStepFunctionsFullAccess"),
        ("", "AmazonSageMakerFullAccess"),
    )
}


class TemplateError(ValueError):
    pass


@dataclass(frozen=True)
class Resource:
    logical_id: str
    type: str
    raw: dict[str, Any]

    @property
    def raw_properties(self) -> dict[str, Any]:
        properties = self.raw.get("Properties", {})
        return properties if isinstance(properties, dict) else {}


class CloudTemplate:
    """template.yaml expanded (SAM → CloudFormation) and resolvable for one stage."""

    def __init__(
        self,
        path: Path,
        parameters: dict[str, str] | None = None,
        *,
        account: str = ACCOUNT,
        region: str = REGION,
    ) -> None:
        self.path = path.resolve()
        self.root = self.path.parent
        digest = _digest(self.path)
        self._digest: str | None = digest
        if digest in _sources:
            self.source = _recall(_sources, digest)
        else:
            self.source = load_cfn_yaml(self.path)
            if _digest(self.path) == digest:
                _remember(_sources, digest, self.source)
            else:  # changed while it was read: nothing about it is kept
                self._digest = None
        overrides = dict(parameters or {})
        self.parameters = self._parameter_values(self.source.get("Parameters", {}), overrides)
        stack_name = f"aiops-{self.parameters.get('Stage', 'dev')}"
        self.env = Environment(
            account=account, region=region, partition="aws", stack_name=stack_name
        )
        pseudo = {
            "AWS::AccountId": account,
            "AWS::Region": region,
            "AWS::Partition": "aws",
            "AWS::StackName": stack_name,
            "AWS::StackId": self.env.arn("cloudformation", f"stack/{stack_name}/local"),
            "AWS::URLSuffix": "amazonaws.com",
        }
        self.expanded = self._expand(overrides | pseudo)
        self.resolver = Resolver(
            parameters=self.parameters | pseudo,
            conditions=self.expanded.get("Conditions", {}),
            ref=self.ref,
            get_att=self.get_att,
        )
        self.resources: dict[str, Resource] = {
            logical_id: Resource(logical_id, body["Type"], body)
            for logical_id, body in self.expanded["Resources"].items()
            if "Condition" not in body or self.resolver.condition(body["Condition"])
        }
        self._physical: dict[str, Physical] = {}

    # ------------------------------------------------------------------ loading
    @staticmethod
    def _parameter_values(definitions: dict[str, Any], overrides: dict[str, str]) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for name, definition in definitions.items():
            if name in overrides:
                values[name] = overrides[name]
            elif "Default" in definition:
                values[name] = definition["Default"]
            else:
                raise TemplateError(f"parameter {name} has no default: pass a value for it")
        unknown = set(overrides) - set(definitions)
        if unknown:
            raise TemplateError(f"unknown template parameters: {', '.join(sorted(unknown))}")
        return values

    def _expand(self, parameter_values: dict[str, Any]) -> dict[str, Any]:
        if self._digest is None:
            return self._translate(parameter_values)
        key = (self._digest, json.dumps(parameter_values, sort_keys=True, default=str))
        if key not in _expansions:
            _remember(_expansions, key, self._translate(parameter_values))
        return _recall(_expansions, key)

    def _translate(self, parameter_values: dict[str, Any]) -> dict[str, Any]:
        document = copy.deepcopy(self.source)
        for body in document.get("Resources", {}).values():
            properties = body.get("Properties") or {}
            for key in _LOCAL_URI_PROPERTIES:
                value = properties.get(key)
                if isinstance(value, str) and not value.startswith("s3://"):
                    properties[key] = f"s3://{SOURCE_BUCKET}/{value}"
        if "Transform" not in document:
            return document
        # `samtranslator.translator.transform.transform` would read the region from the
        # environment; the translator takes it from a session we give it, so nothing leaks in.
        translator = Translator(
            None,
            Parser(),
            boto_session=boto3.session.Session(region_name=self.env.region),
        )
        try:
            return translator.translate(
                document,
                parameter_values=dict(parameter_values),
                get_managed_policy_map=lambda: MANAGED_POLICIES,
            )
        except Exception as error:  # the translator raises several unrelated types
            raise TemplateError(f"SAM expansion of {self.path.name} failed: {error}") from error
        finally:
            # The translator's usage metrics go nowhere (a dummy publisher); left unpublished,
            # they make it log "There are unpublished metrics" on stderr when the process exits.
            translator.metrics.publish()

    # ------------------------------------------------------------------ resolution
    def resolve(self, node: Any) -> Any:
        return self.resolver.resolve(node)

    def properties(self, logical_id: str) -> dict[str, Any]:
        resolved = self.resolve(self.resource(logical_id).raw_properties)
        assert isinstance(resolved, dict)
        return resolved

    def resource(self, logical_id: str) -> Resource:
        try:
            return self.resources[logical_id]
        except KeyError:
            raise TemplateError(f"no resource {logical_id!r} in {self.path.name}") from None

    def of_type(self, resource_type: str) -> list[Resource]:
        return [r for r in self.resources.values() if r.type == resource_type]

    def physical(self, logical_id: str) -> Physical:
        if logical_id not in self._physical:
            resource = self.resource(logical_id)

            def prop(name: str) -> Any:
                value = resource.raw_properties.get(name)
                return None if value is None else self.resolve(value)

            self._physical[logical_id] = physical_for(self.env, logical_id, resource.type, prop)
        return self._physical[logical_id]

    def set_physical(self, logical_id: str, physical: Physical) -> None:
        """Record the id a service really gave a resource (e.g. a KMS key id from moto)."""
        self._physical[logical_id] = physical

    def ref(self, logical_id: str) -> Any:
        return self.physical(logical_id).ref

    def get_att(self, logical_id: str, attribute: str) -> Any:
        attributes = self.physical(logical_id).attributes
        if attribute not in attributes:
            raise IntrinsicError(f"Fn::GetAtt {logical_id}.{attribute} is not known offline")
        return attributes[attribute]

    def local_path(self, s3_key: str) -> Path:
        """The directory or file on disk behind an expanded `Code`/`DefinitionS3Location`."""
        return (self.root / s3_key).resolve()

    def logical_id_of(self, resource_type: str, physical_ref: str) -> str | None:
        """The logical id of the resource of `resource_type` whose Ref is `physical_ref`."""
        for resource in self.of_type(resource_type):
            if self.ref(resource.logical_id) == physical_ref:
                return resource.logical_id
        return None
