"""The fine-tune capability's functions: labeled data, the workflow's steps, Ground Truth."""

from aiops.settings import SNS_ARN, STATES_ARN, Settings, required_variable


class LabelsSettings(Settings):
    """The labeled-data trigger and its age sweep: validate, quarantine, tell the labelers once
    (an idempotency claim), count, start fine-tune runs."""

    control_table: str = required_variable(min_length=3)
    ledger_table: str = required_variable(min_length=3)
    idempotency_table: str = required_variable(min_length=3)
    labelers_topic_arn: str = required_variable(pattern=SNS_ARN)
    finetune_state_machine_arn: str = required_variable(pattern=STATES_ARN)
    dead_letter_queue_url: str = required_variable(pattern=r"^https://")


class FineTuneSettings(Settings):
    """The fine-tune workflow's steps (one dependencies object)."""

    control_table: str = required_variable(min_length=3)
    ledger_table: str = required_variable(min_length=3)
    alerts_topic_arn: str = required_variable(pattern=SNS_ARN)
    artifacts_bucket: str = required_variable(min_length=3)
    finetune_state_machine_arn: str = required_variable(pattern=STATES_ARN)
    bedrock_job_role_arn: str = required_variable(pattern=r"^arn:aws[a-z-]*:iam::\d{12}:role/.+$")


class FineTuneEventSettings(FineTuneSettings):
    """The customization jobs' state-change events."""

    dead_letter_queue_url: str = required_variable(pattern=r"^https://")


class GroundTruthSettings(Settings):
    """Ground Truth labeling jobs: their output imported once into the labeled bucket."""

    ledger_table: str = required_variable(min_length=3)
    idempotency_table: str = required_variable(min_length=3)
    labeled_bucket: str = required_variable(min_length=3)
    dead_letter_queue_url: str = required_variable(pattern=r"^https://")
