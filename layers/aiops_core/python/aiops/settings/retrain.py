"""The retrain capability's functions: new data, the window sweep, the workflow, the gate."""

from aiops.settings import SNS_ARN, STATES_ARN, Settings, required_variable


class NewDataSettings(Settings):
    """The retrain triggers: new data and the window sweep."""

    control_table: str = required_variable(min_length=3)
    ledger_table: str = required_variable(min_length=3)
    retrain_state_machine_arn: str = required_variable(pattern=STATES_ARN)


class RetrainSettings(NewDataSettings):
    """The retrain workflow's steps and the pipeline-status callback (one dependencies object)."""

    alerts_topic_arn: str = required_variable(pattern=SNS_ARN)
    artifacts_bucket: str = required_variable(min_length=3)


class GateSettings(Settings):
    control_table: str = required_variable(min_length=3)
    ledger_table: str = required_variable(min_length=3)
    alerts_topic_arn: str = required_variable(pattern=SNS_ARN)
