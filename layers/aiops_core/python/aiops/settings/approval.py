"""The approval capability's functions: the page, opening and closing approvals, Studio."""

from aiops.settings import SNS_ARN, Settings, required_variable


class ApprovalPageSettings(Settings):
    """The approval page: it reads approvals and decides them (no ledger, no registry)."""

    control_table: str = required_variable(min_length=3)


class ApprovalSettings(ApprovalPageSettings):
    """Closing approvals and following SageMaker Studio's decisions."""

    ledger_table: str = required_variable(min_length=3)
    alerts_topic_arn: str = required_variable(pattern=SNS_ARN)


class StudioDecisionSettings(ApprovalSettings):
    idempotency_table: str = required_variable(min_length=3)
    dead_letter_queue_url: str = required_variable(pattern=r"^https://")


class OpenApprovalSettings(ApprovalSettings):
    """Opening approvals: the snapshot (registry, manifest) and the approvers' notices."""

    approvals_topic_arn: str = required_variable(pattern=SNS_ARN)
    approval_page_url: str = required_variable(pattern=r"^https?://[^/?#\s]+/?$")
