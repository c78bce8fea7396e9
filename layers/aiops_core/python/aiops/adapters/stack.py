"""The deployed stack's adapters, built from the validated settings (the composition root)."""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property
from typing import TYPE_CHECKING, Any

from aiops.settings import Settings

# Every adapter is imported where the stack builds it: a function imports only the adapters (and
# the modules behind them) it uses, and at its first invocation, not at cold start.
if TYPE_CHECKING:
    from aiops.adapters.approval_store import DynamoApprovalStore
    from aiops.adapters.bedrock import S3LabeledFiles
    from aiops.adapters.dead_letters import SqsDeadLetters
    from aiops.adapters.drift_cooldown_store import DynamoDriftCooldowns
    from aiops.adapters.idempotency_store import DynamoIdempotencyStore
    from aiops.adapters.ledger_store import DynamoLedger
    from aiops.adapters.lock_store import DynamoLockStore
    from aiops.adapters.pause_store import DynamoPauseStore
    from aiops.adapters.policy_source import PolicySource
    from aiops.adapters.rendezvous_store import DynamoRendezvousStore
    from aiops.adapters.s3 import S3ManifestWriter, S3Objects
    from aiops.adapters.sagemaker import SageMakerPipelines, SageMakerRegistry
    from aiops.adapters.sns import SnsAlerts
    from aiops.adapters.stepfunctions import StepFunctionsResumer, StepFunctionsRunStarter
    from aiops.adapters.verdict_store import DynamoGateVerdicts
    from aiops.adapters.window_store import DynamoWindowStore
    from aiops.approval.stage import ApprovalDependencies, DecisionDependencies
    from aiops.cost.attribution import Scope
    from aiops.cost.remediation import CostDependencies, ResumeDependencies
    from aiops.deploy.dependencies import BedrockServing, DeployDependencies
    from aiops.drift.check import DriftCheckDependencies
    from aiops.drift.decisions import DriftDependencies, DriftReports
    from aiops.finetune.ground_truth import GroundTruthDependencies
    from aiops.finetune.labels import LabelsDependencies
    from aiops.finetune.workflow import FineTuneWorkflow
    from aiops.gate.step import GateDependencies
    from aiops.health.watch import HealthDependencies
    from aiops.ledger import LedgerEntry
    from aiops.retrain.new_data import NewDataDependencies
    from aiops.retrain.workflow import RetrainWorkflow


class Stack:
    """`clients` (service → client) serves callers outside Lambda — the CLI, on a region or the
    offline cloud; without it each adapter creates its client lazily on first use."""

    def __init__(self, settings: Settings, clients: Callable[[str], Any] | None = None) -> None:
        self.settings = settings
        self._clients = clients

    def _client(self, service: str) -> Any:
        return self._clients(service) if self._clients is not None else None

    @cached_property
    def policy(self) -> PolicySource:
        """The policy, from the store the template's PolicyStore chose (AppConfig when the
        function is given its POLICY_APPCONFIG_ variables, else the SSM parameter)."""
        from aiops.adapters.policy_source import AppConfigPolicySource, SsmPolicySource

        settings = self.settings
        if settings.policy_in_appconfig:
            return AppConfigPolicySource(
                settings.required("policy_appconfig_application"),
                settings.required("policy_appconfig_environment"),
                settings.required("policy_appconfig_profile"),
                settings.policy_cache_seconds,
                self._client("appconfigdata"),
            )
        return SsmPolicySource(
            settings.policy_parameter, settings.policy_cache_seconds, self._client("ssm")
        )

    @cached_property
    def windows(self) -> DynamoWindowStore:
        from aiops.adapters.window_store import DynamoWindowStore

        return DynamoWindowStore(self.settings.required("control_table"))

    @cached_property
    def locks(self) -> DynamoLockStore:
        from aiops.adapters.lock_store import DynamoLockStore

        return DynamoLockStore(self.settings.required("control_table"))

    @cached_property
    def rendezvous(self) -> DynamoRendezvousStore:
        from aiops.adapters.rendezvous_store import DynamoRendezvousStore

        return DynamoRendezvousStore(
            self.settings.required("control_table"), self._client("dynamodb")
        )

    def _decision_metrics(self) -> Callable[[LedgerEntry], None] | None:
        """In a function, each decision recorded is counted (the `Decisions` metric); callers
        given clients (the CLI) have no log group to carry EMF, and their stdout is the user's."""
        if self._clients is not None:
            return None
        from aiops.observability import count_decision

        return lambda entry: count_decision(entry.model, str(entry.action))

    @cached_property
    def ledger(self) -> DynamoLedger:
        from aiops.adapters.ledger_store import DynamoLedger

        return DynamoLedger(
            self.settings.required("ledger_table"),
            self._client("dynamodb"),
            on_recorded=self._decision_metrics(),
        )

    @cached_property
    def idempotency(self) -> DynamoIdempotencyStore:
        from aiops.adapters.idempotency_store import DynamoIdempotencyStore

        return DynamoIdempotencyStore(
            self.settings.required("idempotency_table"), self._client("dynamodb")
        )

    @cached_property
    def drift_cooldowns(self) -> DynamoDriftCooldowns:
        # Imported here: only the drift handler pays for the drift modules at cold start.
        from aiops.adapters.drift_cooldown_store import DynamoDriftCooldowns

        return DynamoDriftCooldowns(self.settings.required("control_table"))

    @cached_property
    def objects(self) -> S3Objects:
        from aiops.adapters.s3 import S3Objects

        return S3Objects()

    @cached_property
    def drift_reports(self) -> DriftReports:
        # Our drift check's reports, trusted only in the artifacts bucket (aiops.drift).
        from aiops.drift.decisions import DriftReports

        return DriftReports(bucket=self.settings.required("artifacts_bucket"), objects=self.objects)

    @cached_property
    def drift_check(self) -> DriftCheckDependencies:
        # Imported here: only the drift check pays for its statistics modules at cold start.
        from aiops.adapters.eventbridge import DriftCheckEvents
        from aiops.drift.check import DriftCheckDependencies

        return DriftCheckDependencies(
            registry=self.registry,
            training=self.pipelines,
            objects=self.objects,
            windows=self.windows,
            events=DriftCheckEvents(),
            artifacts_bucket=self.settings.required("artifacts_bucket"),
        )

    @cached_property
    def drift(self) -> DriftDependencies:
        from aiops.drift.decisions import DriftDependencies

        return DriftDependencies(
            reports=self.objects,
            drift_reports=self.drift_reports,
            cooldowns=self.drift_cooldowns,
            signals=self.idempotency,
            windows=self.windows,
            runs=self.runs,
            alerts=self.alerts,
            ledger=self.ledger,
            pauses=self.pauses,
        )

    @cached_property
    def new_data(self) -> NewDataDependencies:
        from aiops.retrain.new_data import NewDataDependencies

        return NewDataDependencies(
            windows=self.windows, runs=self.runs, ledger=self.ledger, pauses=self.pauses
        )

    @cached_property
    def pauses(self) -> DynamoPauseStore:
        from aiops.adapters.pause_store import DynamoPauseStore

        return DynamoPauseStore(self.settings.required("control_table"), self._client("dynamodb"))

    @cached_property
    def cost_scope(self) -> Scope:
        from aiops.cost.attribution import Scope

        return Scope(
            region=self.settings.required("stack_region"),
            account=self.settings.required("account_id"),
        )

    @cached_property
    def resume(self) -> ResumeDependencies:
        from aiops.adapters.cost import (
            DynamoSavedCapacities,
            EventBridgeResumeNotices,
            SageMakerEndpointCapacity,
        )
        from aiops.adapters.sns import SnsAlerts
        from aiops.cost.remediation import ResumeDependencies

        return ResumeDependencies(
            pauses=self.pauses,
            endpoints=SageMakerEndpointCapacity(
                self._client("sagemaker"), self._client("application-autoscaling")
            ),
            saved=DynamoSavedCapacities(
                self.settings.required("control_table"), self._client("dynamodb")
            ),
            notices=EventBridgeResumeNotices(self._client("events")),
            alerts=SnsAlerts(self.settings.required("alerts_topic_arn"), self._client("sns")),
            ledger=self.ledger,
        )

    @cached_property
    def cost(self) -> CostDependencies:
        # Imported here: only the cost function pays for the cost modules at cold start.
        from aiops.adapters.cost import CostRunningJobs
        from aiops.adapters.cost_rollbacks import DeployRollbacks
        from aiops.clock import now
        from aiops.cost.remediation import CostDependencies

        undo = self.resume
        return CostDependencies(
            signals=self.idempotency,
            pauses=undo.pauses,
            endpoints=undo.endpoints,
            saved=undo.saved,
            jobs=CostRunningJobs(self._client("sagemaker"), self._client("bedrock")),
            rollbacks=DeployRollbacks(lambda: self.deploy, self.policy.load, now),
            notices=undo.notices,
            alerts=undo.alerts,
            ledger=self.ledger,
            scope=self.cost_scope,
        )

    @cached_property
    def gate(self) -> GateDependencies:
        from aiops.gate.step import GateDependencies

        return GateDependencies(
            registry=self.registry, alerts=self.alerts, ledger=self.ledger, verdicts=self.verdicts
        )

    @cached_property
    def approval_store(self) -> DynamoApprovalStore:
        from aiops.adapters.approval_store import DynamoApprovalStore

        return DynamoApprovalStore(
            self.settings.required("control_table"), self._client("dynamodb")
        )

    @cached_property
    def approval_decisions(self) -> DecisionDependencies:
        from aiops.approval.stage import DecisionDependencies

        return DecisionDependencies(store=self.approval_store, resumer=self.resumer)

    @cached_property
    def approval(self) -> ApprovalDependencies:
        # Imported here: only the approval functions pay for the approval modules.
        from aiops.adapters.drift_evidence import DriftStatistics
        from aiops.adapters.sns import SnsApprovalNotices
        from aiops.adapters.training_data import ManifestSizes
        from aiops.approval.stage import ApprovalDependencies

        settings = self.settings
        return ApprovalDependencies(
            store=self.approval_store,
            resumer=self.resumer,
            # Only opening notifies; closing and Studio never send a notice.
            notices=SnsApprovalNotices(settings.approvals_topic_arn or ""),
            registry=self.registry,
            alerts=self.alerts,
            ledger=self.ledger,
            training=ManifestSizes(self.pipelines, self.objects),
            verdicts=self.verdicts,
            claims=self.idempotency if settings.idempotency_table else None,
            page_url=settings.approval_page_url or "",
            drift=DriftStatistics(self.objects),
        )

    @cached_property
    def deploy(self) -> DeployDependencies:
        # Imported here: only the deploy functions pay for the deploy modules.
        from aiops.adapters.deploy_store import DynamoDeployStore
        from aiops.adapters.ledger_store import DynamoLedger
        from aiops.adapters.sagemaker_endpoints import (
            CloudWatchAlarmStates,
            SageMakerEndpoints,
            SageMakerPackages,
            SageMakerShadowTests,
        )
        from aiops.adapters.sns import SnsAlerts
        from aiops.adapters.stepfunctions import StepFunctionsDeployStarter
        from aiops.deploy.dependencies import DeployDependencies

        settings = self.settings
        role = settings.model_execution_role_arn or ""
        sagemaker, cloudwatch = self._client("sagemaker"), self._client("cloudwatch")
        store = DynamoDeployStore(settings.required("control_table"), self._client("dynamodb"))
        return DeployDependencies(
            endpoints=SageMakerEndpoints(role, sagemaker),
            packages=SageMakerPackages(sagemaker),
            alarms=CloudWatchAlarmStates(cloudwatch),
            locks=store,
            history=store,
            rendezvous=self.rendezvous,
            resumer=self.resumer,
            starter=StepFunctionsDeployStarter(
                settings.deploy_state_machine_arn or "", self._client("stepfunctions")
            ),
            verdicts=self.verdicts,
            # Optional here: the wait step parks a token and needs neither (adapters are lazy).
            ledger=DynamoLedger(
                settings.ledger_table or "",
                self._client("dynamodb"),
                on_recorded=self._decision_metrics(),
            ),
            alerts=SnsAlerts(settings.alerts_topic_arn or "", self._client("sns")),
            shadows=SageMakerShadowTests(role, sagemaker, cloudwatch),
            approvals=self.approval_store,
            claims=self.idempotency if settings.idempotency_table else None,
            bedrock=self._bedrock_serving,
        )

    @cached_property
    def _bedrock_serving(self) -> BedrockServing:
        from aiops.adapters.bedrock_serving import (
            BedrockCustomModelDeployments,
            DynamoServingStore,
            SsmServingParameters,
        )
        from aiops.deploy.dependencies import BedrockServing

        settings = self.settings
        store = DynamoServingStore(settings.required("control_table"), self._client("dynamodb"))
        return BedrockServing(
            deployments=BedrockCustomModelDeployments(self._client("bedrock")),
            parameters=SsmServingParameters(self._client("ssm")),
            history=store,
            locks=store.locks,
            parameter_prefix=settings.serving_parameter_prefix or "/aiops/",
            # The policy is an SSM parameter too: never a serving switch.
            reserved_parameters=(settings.policy_parameter,),
        )

    @cached_property
    def verdicts(self) -> DynamoGateVerdicts:
        from aiops.adapters.verdict_store import DynamoGateVerdicts

        return DynamoGateVerdicts(self.settings.required("control_table"), self._client("dynamodb"))

    @cached_property
    def runs(self) -> StepFunctionsRunStarter:
        from aiops.adapters.stepfunctions import StepFunctionsRunStarter

        return StepFunctionsRunStarter(self.settings.required("retrain_state_machine_arn"))

    @cached_property
    def resumer(self) -> StepFunctionsResumer:
        from aiops.adapters.stepfunctions import StepFunctionsResumer

        return StepFunctionsResumer(self._client("stepfunctions"))

    @cached_property
    def pipelines(self) -> SageMakerPipelines:
        from aiops.adapters.sagemaker import SageMakerPipelines

        return SageMakerPipelines()

    @cached_property
    def registry(self) -> SageMakerRegistry:
        from aiops.adapters.sagemaker import SageMakerRegistry

        return SageMakerRegistry(objects=self.objects)

    @cached_property
    def manifests(self) -> S3ManifestWriter:
        from aiops.adapters.s3 import S3ManifestWriter

        return S3ManifestWriter(self.settings.required("artifacts_bucket"))

    @cached_property
    def retrain_workflow(self) -> RetrainWorkflow:
        from aiops.retrain.workflow import RetrainWorkflow

        return RetrainWorkflow(
            windows=self.windows,
            locks=self.locks,
            manifests=self.manifests,
            pipelines=self.pipelines,
            registry=self.registry,
            rendezvous=self.rendezvous,
            resumer=self.resumer,
            runs=self.runs,
            alerts=self.alerts,
            ledger=self.ledger,
            pauses=self.pauses,
        )

    @cached_property
    def finetune_runs(self) -> StepFunctionsRunStarter:
        from aiops.adapters.stepfunctions import StepFunctionsRunStarter

        return StepFunctionsRunStarter(
            self.settings.required("finetune_state_machine_arn"), self._client("stepfunctions")
        )

    @cached_property
    def labeled_files(self) -> S3LabeledFiles:
        from aiops.adapters.bedrock import S3LabeledFiles

        return S3LabeledFiles(self._client("s3"))

    @cached_property
    def labels(self) -> LabelsDependencies:
        # Imported here: only the labeled-data functions pay for the validator at cold start.
        from aiops.adapters.sns import SnsAlerts
        from aiops.finetune.labels import LabelsDependencies

        return LabelsDependencies(
            files=self.labeled_files,
            windows=self.windows,
            runs=self.finetune_runs,
            labelers=SnsAlerts(self.settings.required("labelers_topic_arn"), self._client("sns")),
            claims=self.idempotency,
            ledger=self.ledger,
            pauses=self.pauses,
        )

    @cached_property
    def ground_truth(self) -> GroundTruthDependencies:
        from aiops.adapters.bedrock import GroundTruthLabelingJobs
        from aiops.finetune.ground_truth import GroundTruthDependencies

        return GroundTruthDependencies(
            jobs=GroundTruthLabelingJobs(self._client("sagemaker")),
            files=self.labeled_files,
            claims=self.idempotency,
            ledger=self.ledger,
            labeled_bucket=self.settings.required("labeled_bucket"),
        )

    @cached_property
    def finetune_workflow(self) -> FineTuneWorkflow:
        from aiops.adapters.bedrock import (
            BedrockAnswers,
            BedrockCandidateStaging,
            BedrockCustomizationJobs,
            BedrockEvaluationJobs,
            FineTunedPackages,
        )
        from aiops.finetune.workflow import FineTuneWorkflow

        settings = self.settings
        return FineTuneWorkflow(
            windows=self.windows,
            locks=self.locks,
            files=self.labeled_files,
            jobs=BedrockCustomizationJobs(self._client("bedrock")),
            evaluations=BedrockEvaluationJobs(self._client("bedrock"), self._client("s3")),
            candidates=FineTunedPackages(self._client("sagemaker"), self.objects),
            staging=BedrockCandidateStaging(self._client("bedrock")),
            answers=BedrockAnswers(self._client("bedrock-runtime")),
            rendezvous=self.rendezvous,
            resumer=self.resumer,
            runs=self.finetune_runs,
            alerts=self.alerts,
            ledger=self.ledger,
            pauses=self.pauses,
            artifacts_bucket=settings.required("artifacts_bucket"),
            job_role_arn=settings.required("bedrock_job_role_arn"),
        )

    @cached_property
    def health(self) -> HealthDependencies:
        # Imported here: only the control-plane watch pays for its modules at cold start.
        from aiops.adapters.control_plane_state import DynamoHeldLocks, DynamoOpenApprovals
        from aiops.health.watch import HealthDependencies

        table, client = self.settings.required("control_table"), self._client("dynamodb")
        return HealthDependencies(
            locks=DynamoHeldLocks(table, client), approvals=DynamoOpenApprovals(table, client)
        )

    @cached_property
    def dead_letters(self) -> SqsDeadLetters:
        """The function's dead-letter queue: handlers name it at import, so a function without
        DEAD_LETTER_QUEUE_URL fails at cold start, not at its first invalid event."""
        from aiops.adapters.dead_letters import SqsDeadLetters

        return SqsDeadLetters(self.settings.required("dead_letter_queue_url"))

    @cached_property
    def alerts(self) -> SnsAlerts:
        from aiops.adapters.sns import SnsAlerts

        return SnsAlerts(self.settings.required("alerts_topic_arn"))
