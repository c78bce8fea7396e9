"""Physical names and attributes CloudFormation would give each resource.

Offline there is no CloudFormation to pick names, so we pick stable ones the way it does
(`<stack>-<LogicalId>` when the template names nothing) and derive ARNs, URLs and the values
`Ref` and `Fn::GetAtt` return for each resource type.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Physical:
    ref: Any
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Environment:
    account: str
    region: str
    partition: str
    stack_name: str

    def arn(self, service: str, resource: str, *, region: bool = True, account: bool = True) -> str:
        return (
            f"arn:{self.partition}:{service}:{self.region if region else ''}:"
            f"{self.account if account else ''}:{resource}"
        )


def _default_name(env: Environment, logical_id: str, limit: int, lower: bool = False) -> str:
    name = f"{env.stack_name}-{logical_id}"[:limit]
    return name.lower() if lower else name


def physical_for(
    env: Environment,
    logical_id: str,
    resource_type: str,
    prop: Callable[[str], Any],
) -> Physical:
    """`prop(name)` returns the resolved property `name` of the resource, or None."""
    maker = _MAKERS.get(resource_type)
    if maker is not None:
        return maker(env, logical_id, prop)
    return Physical(ref=_default_name(env, logical_id, 128))


def _bucket(env: Environment, logical_id: str, prop: Callable[[str], Any]) -> Physical:
    name = prop("BucketName") or _default_name(env, logical_id, 63, lower=True)
    return Physical(
        name,
        {
            "Arn": f"arn:{env.partition}:s3:::{name}",
            "DomainName": f"{name}.s3.amazonaws.com",
            "RegionalDomainName": f"{name}.s3.{env.region}.amazonaws.com",
        },
    )


def _table(env: Environment, logical_id: str, prop: Callable[[str], Any]) -> Physical:
    name = prop("TableName") or _default_name(env, logical_id, 255)
    arn = env.arn("dynamodb", f"table/{name}")
    return Physical(name, {"Arn": arn, "StreamArn": f"{arn}/stream/1970-01-01T00:00:00.000"})


def _topic(env: Environment, logical_id: str, prop: Callable[[str], Any]) -> Physical:
    name = prop("TopicName") or _default_name(env, logical_id, 256)
    arn = env.arn("sns", name)
    return Physical(arn, {"TopicArn": arn, "TopicName": name})


def _queue(env: Environment, logical_id: str, prop: Callable[[str], Any]) -> Physical:
    name = prop("QueueName") or _default_name(env, logical_id, 80)
    url = f"https://sqs.{env.region}.amazonaws.com/{env.account}/{name}"
    return Physical(url, {"Arn": env.arn("sqs", name), "QueueName": name, "QueueUrl": url})


def _function(env: Environment, logical_id: str, prop: Callable[[str], Any]) -> Physical:
    name = prop("FunctionName") or _default_name(env, logical_id, 64)
    return Physical(name, {"Arn": env.arn("lambda", f"function:{name}")})


def _role(env: Environment, logical_id: str, prop: Callable[[str], Any]) -> Physical:
    name = prop("RoleName") or _default_name(env, logical_id, 64)
    arn = env.arn("iam", f"role/{name}", region=False)
    return Physical(
        name, {"Arn": arn, "RoleId": f"AROA{uuid.uuid5(uuid.NAMESPACE_URL, arn).hex[:17]}"}
    )


def _state_machine(env: Environment, logical_id: str, prop: Callable[[str], Any]) -> Physical:
    name = prop("StateMachineName") or _default_name(env, logical_id, 80)
    arn = env.arn("states", f"stateMachine:{name}")
    return Physical(arn, {"Arn": arn, "Name": name})


def _rule(env: Environment, logical_id: str, prop: Callable[[str], Any]) -> Physical:
    name = prop("Name") or _default_name(env, logical_id, 64)
    return Physical(name, {"Arn": env.arn("events", f"rule/{name}")})


def _schedule(env: Environment, logical_id: str, prop: Callable[[str], Any]) -> Physical:
    name = prop("Name") or _default_name(env, logical_id, 64)
    group = prop("GroupName") or "default"
    return Physical(name, {"Arn": env.arn("scheduler", f"schedule/{group}/{name}")})


def _log_group(env: Environment, logical_id: str, prop: Callable[[str], Any]) -> Physical:
    name = prop("LogGroupName") or f"/aws/{env.stack_name}/{logical_id}"
    return Physical(name, {"Arn": env.arn("logs", f"log-group:{name}:*")})


def _key(env: Environment, logical_id: str, prop: Callable[[str], Any]) -> Physical:
    # Replaced by the id moto gives the key when it is created (see provision.py).
    key_id = str(uuid.uuid5(uuid.NAMESPACE_DNS, f"{env.stack_name}.{logical_id}"))
    return Physical(key_id, {"Arn": env.arn("kms", f"key/{key_id}"), "KeyId": key_id})


def _alias(env: Environment, logical_id: str, prop: Callable[[str], Any]) -> Physical:
    return Physical(prop("AliasName"))


def _layer(env: Environment, logical_id: str, prop: Callable[[str], Any]) -> Physical:
    name = prop("LayerName") or _default_name(env, logical_id, 64)
    return Physical(env.arn("lambda", f"layer:{name}:1"))


def _parameter(env: Environment, logical_id: str, prop: Callable[[str], Any]) -> Physical:
    name = prop("Name") or f"CFN-{logical_id}"
    return Physical(name, {"Type": prop("Type"), "Value": prop("Value")})


def _managed_policy(env: Environment, logical_id: str, prop: Callable[[str], Any]) -> Physical:
    # Offline nothing enforces IAM: a managed policy only needs the ARN its roles refer to.
    name = prop("ManagedPolicyName") or _default_name(env, logical_id, 128)
    return Physical(env.arn("iam", f"policy/{name}", region=False))


def _alarm(env: Environment, logical_id: str, prop: Callable[[str], Any]) -> Physical:
    name = prop("AlarmName") or _default_name(env, logical_id, 255)
    return Physical(name, {"Arn": env.arn("cloudwatch", f"alarm:{name}")})


def _appconfig(attribute: str) -> Callable[[Environment, str, Callable[[str], Any]], Physical]:
    """An AppConfig application, environment, profile or strategy: Ref and `Fn::GetAtt
    <attribute>` are its id. A stand-in until the runtime creates it and records the id AppConfig
    (moto) gave it (see provision.py)."""

    def make(env: Environment, logical_id: str, prop: Callable[[str], Any]) -> Physical:
        stand_in = _stand_in_id(env, logical_id, 7)
        return Physical(stand_in, {attribute: stand_in})

    return make


def _package_group(env: Environment, logical_id: str, prop: Callable[[str], Any]) -> Physical:
    name = prop("ModelPackageGroupName")
    arn = env.arn("sagemaker", f"model-package-group/{name}")
    return Physical(arn, {"ModelPackageGroupArn": arn})


# API Gateway ids: lower-case letters and digits (10 for an API, 7 for its parts). These are
# stand-ins, stable per stack and logical id; the runtime replaces them with the ids moto gives
# when it creates the API there (see http_api.py).
_ID_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"


def _stand_in_id(env: Environment, logical_id: str, length: int) -> str:
    number = uuid.uuid5(uuid.NAMESPACE_DNS, f"{env.stack_name}.{logical_id}").int
    chars = []
    for _ in range(length):
        number, digit = divmod(number, len(_ID_ALPHABET))
        chars.append(_ID_ALPHABET[digit])
    return "".join(chars)


def execute_api_endpoint(env: Environment, api_id: str) -> str:
    """The default endpoint AWS gives an API: `https://<api-id>.execute-api.<region>.amazonaws.com`."""
    return f"https://{api_id}.execute-api.{env.region}.amazonaws.com"


def _http_api(env: Environment, logical_id: str, prop: Callable[[str], Any]) -> Physical:
    api_id = _stand_in_id(env, logical_id, 10)
    return Physical(api_id, {"ApiId": api_id, "ApiEndpoint": execute_api_endpoint(env, api_id)})


def _api_part(attribute: str) -> Callable[[Environment, str, Callable[[str], Any]], Physical]:
    """An integration, route or authorizer: Ref and `Fn::GetAtt <attribute>` are its id."""

    def make(env: Environment, logical_id: str, prop: Callable[[str], Any]) -> Physical:
        part_id = _stand_in_id(env, logical_id, 7)
        return Physical(part_id, {attribute: part_id})

    return make


def _api_stage(env: Environment, logical_id: str, prop: Callable[[str], Any]) -> Physical:
    return Physical(prop("StageName"))


_MAKERS: dict[str, Callable[[Environment, str, Callable[[str], Any]], Physical]] = {
    "AWS::S3::Bucket": _bucket,
    "AWS::DynamoDB::Table": _table,
    "AWS::SNS::Topic": _topic,
    "AWS::SQS::Queue": _queue,
    "AWS::Lambda::Function": _function,
    "AWS::IAM::Role": _role,
    "AWS::IAM::ManagedPolicy": _managed_policy,
    "AWS::StepFunctions::StateMachine": _state_machine,
    "AWS::Events::Rule": _rule,
    "AWS::Scheduler::Schedule": _schedule,
    "AWS::Logs::LogGroup": _log_group,
    "AWS::KMS::Key": _key,
    "AWS::KMS::Alias": _alias,
    "AWS::Lambda::LayerVersion": _layer,
    "AWS::SSM::Parameter": _parameter,
    "AWS::CloudWatch::Alarm": _alarm,
    "AWS::CloudWatch::CompositeAlarm": _alarm,
    "AWS::AppConfig::Application": _appconfig("ApplicationId"),
    "AWS::AppConfig::Environment": _appconfig("EnvironmentId"),
    "AWS::AppConfig::ConfigurationProfile": _appconfig("ConfigurationProfileId"),
    "AWS::AppConfig::DeploymentStrategy": _appconfig("Id"),
    "AWS::SageMaker::ModelPackageGroup": _package_group,
    "AWS::ApiGatewayV2::Api": _http_api,
    "AWS::ApiGatewayV2::Integration": _api_part("IntegrationId"),
    "AWS::ApiGatewayV2::Route": _api_part("RouteId"),
    "AWS::ApiGatewayV2::Authorizer": _api_part("AuthorizerId"),
    "AWS::ApiGatewayV2::Stage": _api_stage,
    # AWS::Lambda::Permission needs nothing: like every type without a maker it gets a name as its
    # Ref and nothing is created offline; the HTTP API reads the template's permissions itself to
    # refuse (500, as API Gateway does) invoking a function it was not allowed to.
}
