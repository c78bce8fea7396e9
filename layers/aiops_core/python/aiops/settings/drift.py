"""The drift capability's functions: Model Monitor's results and the scheduled drift check."""

from aiops.settings import SNS_ARN, STATES_ARN, Settings, required_variable


class DriftSettings(Settings):
    control_table: str = required_variable(min_length=3)
    ledger_table: str = required_variable(min_length=3)
    idempotency_table: str = required_variable(min_length=3)
    alerts_topic_arn: str = required_variable(pattern=SNS_ARN)
    artifacts_bucket: str = required_variable(min_length=3)
    retrain_state_machine_arn: str = required_variable(pattern=STATES_ARN)
    dead_letter_queue_url: str = required_variable(pattern=r"^https://")


class DriftCheckSettings(Settings):
    control_table: str = required_variable(min_length=3)
    artifacts_bucket: str = required_variable(min_length=3)
