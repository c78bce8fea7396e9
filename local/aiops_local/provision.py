"""Create the template's resources in moto with plain boto3 calls.

Not through moto's CloudFormation: state machines it creates land in a backend the Step Functions
executor does not see, and it would run nothing of ours. Each resource type has one small
function; types the runtime has no use for offline (policies, permissions) are skipped.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiops.policy import published_form
from aiops_local.functions import FunctionBinding
from aiops_local.physical import Physical
from aiops_local.policy_info import PolicyInfo
from aiops_local.schedules import scheduler_payload
from aiops_local.template import CloudTemplate

ClientFactory = Callable[[str], Any]

_PLACEHOLDER_ZIP: bytes
with io.BytesIO() as _buffer:
    with zipfile.ZipFile(_buffer, "w") as _zip:
        _zip.writestr("README.txt", "Code runs in-process from the CodeUri directory.\n")
    _PLACEHOLDER_ZIP = _buffer.getvalue()

_TRUST_LAMBDA = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}

PIPELINE_ROLE = "aiops-local-sagemaker-pipeline"


@dataclass
class ScheduleSpec:
    logical_id: str
    expression: str
    target_arn: str
    payload: Any


@dataclass
class Provisioned:
    bindings: list[FunctionBinding] = field(default_factory=list)
    schedules: list[ScheduleSpec] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


class Provisioner:
    def __init__(
        self,
        template: CloudTemplate,
        client: ClientFactory,
        policy: PolicyInfo,
        policy_parameter: str,
    ) -> None:
        self.t = template
        self.client = client
        self.policy = policy
        self.policy_parameter = policy_parameter
        self.result = Provisioned()

    def run(self) -> Provisioned:
        # Keys first: their real ids replace the placeholder ids other resources refer to.
        order = [
            ("AWS::KMS::Key", self._key),
            ("AWS::KMS::Alias", self._alias),
            ("AWS::IAM::Role", self._role),
            ("AWS::Logs::LogGroup", self._log_group),
            ("AWS::S3::Bucket", self._bucket),
            ("AWS::DynamoDB::Table", self._table),
            ("AWS::SNS::Topic", self._topic),
            ("AWS::SQS::Queue", self._queue),
            ("AWS::SNS::Subscription", self._subscription),
            ("AWS::SSM::Parameter", self._parameter),
            ("AWS::CloudWatch::Alarm", self._alarm),
            # After the alarms its rule names (CloudWatch refuses a rule naming no alarm).
            ("AWS::CloudWatch::CompositeAlarm", self._composite_alarm),
            ("AWS::CloudWatch::Dashboard", self._dashboard),
            # Before the functions: their environment names the ids AppConfig gives these.
            ("AWS::AppConfig::Application", self._appconfig_application),
            ("AWS::AppConfig::Environment", self._appconfig_environment),
            ("AWS::AppConfig::ConfigurationProfile", self._appconfig_profile),
            ("AWS::AppConfig::DeploymentStrategy", self._appconfig_strategy),
            ("AWS::SageMaker::ModelPackageGroup", self._template_package_group),
            ("AWS::Lambda::Function", self._function),
            ("AWS::Events::Rule", self._rule),
            ("AWS::Scheduler::Schedule", self._schedule),
            ("AWS::StepFunctions::StateMachine", self._state_machine),
        ]
        for resource_type, create in order:
            for resource in self.t.of_type(resource_type):
                create(resource.logical_id, self.t.properties(resource.logical_id))
        if not self.policy_in_appconfig:
            self._policy_parameter()
        self._sagemaker_from_policy()
        return self.result

    @property
    def policy_in_appconfig(self) -> bool:
        """The template's PolicyStore is appconfig: the functions read the policy there."""
        return bool(self.t.of_type("AWS::AppConfig::ConfigurationProfile")) and (
            self.t.parameters.get("PolicyStore") == "appconfig"
        )

    def publish_policy(self) -> list[str]:
        """With PolicyStore appconfig, the policy published as `aiops policy publish` does: a
        hosted configuration version, deployed to the environment (validators first). Called once
        the functions are bound, since AppConfig runs the validator function. It deploys with a
        strategy of no duration and no bake: the stack starts with its policy in place, as
        with the SSM store. Returns warnings (a policy the validator refuses is not deployed, and
        the functions then say they cannot read one)."""
        if not self.policy_in_appconfig:
            return []
        from botocore.exceptions import ClientError

        appconfig = self.client("appconfig")
        (profile,) = self.t.of_type("AWS::AppConfig::ConfigurationProfile")
        (environment,) = self.t.of_type("AWS::AppConfig::Environment")
        application = str(self.t.properties(profile.logical_id)["ApplicationId"])
        version = appconfig.create_hosted_configuration_version(
            ApplicationId=application,
            ConfigurationProfileId=str(self.t.ref(profile.logical_id)),
            Content=published_form(self.policy.text, "policy"),
            ContentType="application/x-yaml",
            Description="The scenario's policy, provisioned offline",
        )
        strategy = appconfig.create_deployment_strategy(
            Name=f"{self.t.env.stack_name}-provisioning",
            Description="Offline provisioning: the policy is in place when the stack starts",
            DeploymentDurationInMinutes=0,
            GrowthFactor=100,
            FinalBakeTimeInMinutes=0,
            ReplicateTo="NONE",
        )
        try:
            appconfig.start_deployment(
                ApplicationId=application,
                EnvironmentId=str(self.t.ref(environment.logical_id)),
                DeploymentStrategyId=strategy["Id"],
                ConfigurationProfileId=str(self.t.ref(profile.logical_id)),
                ConfigurationVersion=str(version["VersionNumber"]),
            )
        except ClientError as error:
            return [f"the policy was not deployed to AppConfig: {error}"]
        return []

    # ------------------------------------------------------------------ security and logs
    def _key(self, logical_id: str, props: dict[str, Any]) -> None:
        meta = self.client("kms").create_key(Description=props.get("Description", logical_id))
        meta = meta["KeyMetadata"]
        self.t.set_physical(
            logical_id, Physical(meta["KeyId"], {"Arn": meta["Arn"], "KeyId": meta["KeyId"]})
        )

    def _alias(self, logical_id: str, props: dict[str, Any]) -> None:
        self.client("kms").create_alias(
            AliasName=props["AliasName"], TargetKeyId=props["TargetKeyId"]
        )

    def _role(self, logical_id: str, props: dict[str, Any]) -> None:
        document = props.get("AssumeRolePolicyDocument") or _TRUST_LAMBDA
        self.client("iam").create_role(
            RoleName=self.t.ref(logical_id), AssumeRolePolicyDocument=json.dumps(document)
        )

    def _log_group(self, logical_id: str, props: dict[str, Any]) -> None:
        logs = self.client("logs")
        name = self.t.ref(logical_id)
        logs.create_log_group(logGroupName=name)
        if props.get("RetentionInDays"):
            logs.put_retention_policy(
                logGroupName=name, retentionInDays=int(props["RetentionInDays"])
            )

    # ------------------------------------------------------------------ storage
    def _bucket(self, logical_id: str, props: dict[str, Any]) -> None:
        s3 = self.client("s3")
        name = self.t.ref(logical_id)
        s3.create_bucket(Bucket=name)
        if (props.get("VersioningConfiguration") or {}).get("Status") == "Enabled":
            s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
        notification = props.get("NotificationConfiguration") or {}
        if (notification.get("EventBridgeConfiguration") or {}).get("EventBridgeEnabled"):
            s3.put_bucket_notification_configuration(
                Bucket=name, NotificationConfiguration={"EventBridgeConfiguration": {}}
            )

    def _table(self, logical_id: str, props: dict[str, Any]) -> None:
        ddb = self.client("dynamodb")
        name = self.t.ref(logical_id)
        args: dict[str, Any] = {
            "TableName": name,
            "KeySchema": props["KeySchema"],
            "AttributeDefinitions": props["AttributeDefinitions"],
            "BillingMode": props.get("BillingMode", "PROVISIONED"),
        }
        if args["BillingMode"] == "PROVISIONED":
            args["ProvisionedThroughput"] = props.get(
                "ProvisionedThroughput", {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}
            )
        for key in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes", "StreamSpecification"):
            if props.get(key):
                args[key] = props[key]
        ddb.create_table(**args)
        ttl = props.get("TimeToLiveSpecification")
        if ttl and ttl.get("Enabled"):
            ddb.update_time_to_live(
                TableName=name,
                TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl["AttributeName"]},
            )

    # ------------------------------------------------------------------ messaging
    def _topic(self, logical_id: str, props: dict[str, Any]) -> None:
        attributes = {}
        if props.get("KmsMasterKeyId"):
            attributes["KmsMasterKeyId"] = str(props["KmsMasterKeyId"])
        self.client("sns").create_topic(
            Name=self.t.get_att(logical_id, "TopicName"), Attributes=attributes
        )

    def _queue(self, logical_id: str, props: dict[str, Any]) -> None:
        attributes: dict[str, str] = {
            key: str(props[key]).lower() if isinstance(props[key], bool) else str(props[key])
            for key in (
                "MessageRetentionPeriod",
                "VisibilityTimeout",
                "DelaySeconds",
                "FifoQueue",
                "SqsManagedSseEnabled",
            )
            if key in props
        }
        if props.get("RedrivePolicy"):
            attributes["RedrivePolicy"] = json.dumps(props["RedrivePolicy"])
        self.client("sqs").create_queue(
            QueueName=self.t.get_att(logical_id, "QueueName"), Attributes=attributes
        )

    def _subscription(self, logical_id: str, props: dict[str, Any]) -> None:
        # E-mail subscriptions need a human to confirm; queues and functions work offline.
        if props.get("Protocol") in ("sqs", "lambda"):
            self.client("sns").subscribe(
                TopicArn=props["TopicArn"], Protocol=props["Protocol"], Endpoint=props["Endpoint"]
            )

    def _parameter(self, logical_id: str, props: dict[str, Any]) -> None:
        self.client("ssm").put_parameter(
            Name=props["Name"],
            Value=str(props["Value"]),
            Type=props.get("Type", "String"),
            Overwrite=True,
        )

    def _policy_parameter(self) -> None:
        self.client("ssm").put_parameter(
            Name=self.policy_parameter,
            Value=published_form(self.policy.text, "policy").decode("utf-8"),
            Type="String",
            Overwrite=True,
        )

    # ------------------------------------------------------------------ AppConfig
    def _appconfig_application(self, logical_id: str, props: dict[str, Any]) -> None:
        app = self.client("appconfig").create_application(
            Name=props["Name"], Description=props.get("Description", "")
        )
        self.t.set_physical(logical_id, Physical(app["Id"], {"ApplicationId": app["Id"]}))

    def _appconfig_environment(self, logical_id: str, props: dict[str, Any]) -> None:
        environment = self.client("appconfig").create_environment(
            ApplicationId=props["ApplicationId"],
            Name=props["Name"],
            Description=props.get("Description", ""),
            Monitors=props.get("Monitors") or [],
        )
        self.t.set_physical(
            logical_id, Physical(environment["Id"], {"EnvironmentId": environment["Id"]})
        )

    def _appconfig_profile(self, logical_id: str, props: dict[str, Any]) -> None:
        args = {
            key: props[key]
            for key in ("Description", "Type", "Validators", "KmsKeyIdentifier")
            if key in props
        }
        profile = self.client("appconfig").create_configuration_profile(
            ApplicationId=props["ApplicationId"],
            Name=props["Name"],
            LocationUri=props["LocationUri"],
            **args,
        )
        self.t.set_physical(
            logical_id, Physical(profile["Id"], {"ConfigurationProfileId": profile["Id"]})
        )

    def _appconfig_strategy(self, logical_id: str, props: dict[str, Any]) -> None:
        strategy = self.client("appconfig").create_deployment_strategy(
            Name=props["Name"],
            Description=props.get("Description", ""),
            DeploymentDurationInMinutes=int(props["DeploymentDurationInMinutes"]),
            GrowthFactor=float(props["GrowthFactor"]),
            GrowthType=props.get("GrowthType", "LINEAR"),
            FinalBakeTimeInMinutes=int(props.get("FinalBakeTimeInMinutes", 0)),
            ReplicateTo=props.get("ReplicateTo", "NONE"),
        )
        self.t.set_physical(logical_id, Physical(strategy["Id"], {"Id": strategy["Id"]}))

    def _alarm(self, logical_id: str, props: dict[str, Any]) -> None:
        allowed = (
            "AlarmDescription",
            "ActionsEnabled",
            "OKActions",
            "AlarmActions",
            "InsufficientDataActions",
            "MetricName",
            "Namespace",
            "Statistic",
            "Dimensions",
            "Period",
            "Unit",
            "EvaluationPeriods",
            "DatapointsToAlarm",
            "Threshold",
            "ComparisonOperator",
            "TreatMissingData",
            "Metrics",
        )
        args = {key: props[key] for key in allowed if key in props}
        self.client("cloudwatch").put_metric_alarm(AlarmName=self.t.ref(logical_id), **args)

    def _composite_alarm(self, logical_id: str, props: dict[str, Any]) -> None:
        # moto lacks PutCompositeAlarm: the runtime's patch (patches/cloudwatch_composite.py)
        # adds it, and the composite_alarms simulator evaluates the rule.
        allowed = (
            "AlarmDescription",
            "ActionsEnabled",
            "OKActions",
            "AlarmActions",
            "InsufficientDataActions",
            "AlarmRule",
        )
        args = {key: props[key] for key in allowed if key in props}
        self.client("cloudwatch").put_composite_alarm(AlarmName=self.t.ref(logical_id), **args)

    def _dashboard(self, logical_id: str, props: dict[str, Any]) -> None:
        body = props["DashboardBody"]
        self.client("cloudwatch").put_dashboard(
            DashboardName=props.get("DashboardName") or self.t.ref(logical_id),
            DashboardBody=body if isinstance(body, str) else json.dumps(body),
        )

    # ------------------------------------------------------------------ SageMaker
    def _template_package_group(self, logical_id: str, props: dict[str, Any]) -> None:
        self.client("sagemaker").create_model_package_group(
            ModelPackageGroupName=props["ModelPackageGroupName"]
        )

    def _sagemaker_from_policy(self) -> None:
        sagemaker = self.client("sagemaker")
        existing = {
            g["ModelPackageGroupName"]
            for g in sagemaker.list_model_package_groups()["ModelPackageGroupSummaryList"]
        }
        role_arn = self.t.env.arn("iam", f"role/{PIPELINE_ROLE}", region=False)
        for model in self.policy.models:
            if model.package_group not in existing:
                sagemaker.create_model_package_group(
                    ModelPackageGroupName=model.package_group,
                    ModelPackageGroupDescription=f"Candidates of {model.name}",
                )
                existing.add(model.package_group)
            if model.kind == "sagemaker" and model.pipeline:
                # A placeholder: the steps are the data scientists' and run in the simulator.
                definition = {"Version": "2020-12-01", "Parameters": [], "Steps": []}
                sagemaker.create_pipeline(
                    PipelineName=model.pipeline,
                    PipelineDefinition=json.dumps(definition),
                    RoleArn=role_arn,
                    PipelineDescription=f"Training pipeline of {model.name} (simulated offline)",
                )

    # ------------------------------------------------------------------ compute
    def _function(self, logical_id: str, props: dict[str, Any]) -> None:
        name = self.t.ref(logical_id)
        code = props.get("Code") or {}
        code_dir = self.t.local_path(str(code.get("S3Key", "")))
        environment = {
            k: str(v) for k, v in ((props.get("Environment") or {}).get("Variables") or {}).items()
        }
        args: dict[str, Any] = {
            "FunctionName": name,
            "Runtime": props.get("Runtime", "python3.12"),
            "Role": props["Role"],
            "Handler": props["Handler"],
            "Code": {"ZipFile": _PLACEHOLDER_ZIP},
            "Timeout": int(props.get("Timeout", 3)),
            "MemorySize": int(props.get("MemorySize", 128)),
            "Environment": {"Variables": environment},
        }
        dead_letter = (props.get("DeadLetterConfig") or {}).get("TargetArn")
        if dead_letter:
            args["DeadLetterConfig"] = {"TargetArn": dead_letter}
        self.client("lambda").create_function(**args)
        if not code_dir.is_dir():
            self.result.warnings.append(f"{logical_id}: code directory {code_dir} does not exist")
        invoke_config = self._event_invoke_config(name)
        self.result.bindings.append(
            FunctionBinding(
                logical_id=logical_id,
                name=name,
                arn=self.t.get_att(logical_id, "Arn"),
                code_dir=code_dir,
                handler=props["Handler"],
                environment=environment,
                memory_mb=args["MemorySize"],
                timeout_s=args["Timeout"],
                dead_letter_arn=dead_letter,
                max_retry_attempts=int(invoke_config.get("MaximumRetryAttempts", 2)),
                max_event_age_s=int(invoke_config.get("MaximumEventAgeInSeconds", 21600)),
                layer_paths=self._layer_paths(props.get("Layers") or []),
            )
        )

    def _event_invoke_config(self, function_name: str) -> dict[str, Any]:
        for resource in self.t.of_type("AWS::Lambda::EventInvokeConfig"):
            props = self.t.properties(resource.logical_id)
            if props.get("FunctionName") == function_name:
                return props
        return {}

    def _layer_paths(self, layer_arns: list[str]) -> list[Any]:
        paths = []
        for resource in self.t.of_type("AWS::Lambda::LayerVersion"):
            if self.t.ref(resource.logical_id) in layer_arns:
                content = self.t.properties(resource.logical_id).get("Content") or {}
                # Lambda extracts a Python layer's python/ directory onto the import path.
                paths.append(self.t.local_path(str(content.get("S3Key", ""))) / "python")
        return paths

    def _rule(self, logical_id: str, props: dict[str, Any]) -> None:
        events = self.client("events")
        name = self.t.ref(logical_id)
        bus = str(props.get("EventBusName") or "default").split("/")[-1]
        args: dict[str, Any] = {
            "Name": name,
            "State": props.get("State", "ENABLED"),
            "EventBusName": bus,
        }
        if props.get("EventPattern") is not None:
            pattern = props["EventPattern"]
            args["EventPattern"] = pattern if isinstance(pattern, str) else json.dumps(pattern)
        if props.get("ScheduleExpression"):
            args["ScheduleExpression"] = props["ScheduleExpression"]
        events.put_rule(**args)
        targets = props.get("Targets") or []
        if targets:
            events.put_targets(Rule=name, EventBusName=bus, Targets=targets)
        if props.get("ScheduleExpression"):
            for target in targets:
                payload = {
                    "version": "0",
                    "detail-type": "Scheduled Event",
                    "source": "aws.events",
                    "resources": [self.t.get_att(logical_id, "Arn")],
                    "detail": {},
                }
                self.result.schedules.append(
                    ScheduleSpec(logical_id, props["ScheduleExpression"], target["Arn"], payload)
                )

    def _schedule(self, logical_id: str, props: dict[str, Any]) -> None:
        target = props["Target"]
        self.client("scheduler").create_schedule(
            Name=props.get("Name") or self.t.ref(logical_id),
            ScheduleExpression=props["ScheduleExpression"],
            FlexibleTimeWindow=props.get("FlexibleTimeWindow", {"Mode": "OFF"}),
            Target={"Arn": target["Arn"], "RoleArn": target["RoleArn"]},
            State=props.get("State", "ENABLED"),
        )
        if props.get("State", "ENABLED") == "ENABLED":
            self.result.schedules.append(
                ScheduleSpec(
                    logical_id,
                    props["ScheduleExpression"],
                    target["Arn"],
                    scheduler_payload(target),
                )
            )

    def _state_machine(self, logical_id: str, props: dict[str, Any]) -> None:
        definition = self._definition(logical_id, props)
        if definition is None:
            return
        for key, value in (props.get("DefinitionSubstitutions") or {}).items():
            definition = definition.replace("${" + key + "}", str(value))
        self.client("stepfunctions").create_state_machine(
            name=self.t.get_att(logical_id, "Name"),
            definition=definition,
            roleArn=props["RoleArn"],
            type=props.get("StateMachineType", "STANDARD"),
        )

    def _definition(self, logical_id: str, props: dict[str, Any]) -> str | None:
        if props.get("DefinitionString"):
            return str(props["DefinitionString"])
        if props.get("Definition"):
            return json.dumps(props["Definition"])
        location = props.get("DefinitionS3Location") or {}
        path = self.t.local_path(str(location.get("Key", "")))
        if not path.is_file():
            self.result.warnings.append(
                f"{logical_id}: definition {path} does not exist; state machine not created"
            )
            return None
        return path.read_text(encoding="utf-8")
