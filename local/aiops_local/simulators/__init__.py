"""Stand-ins for AWS behaviour moto lacks; each emits the real EventBridge event shape.

To add one: subclass `Simulator` in a module of this package, decorate it with `@register`, list
the API calls it stands behind in `watches`, and import the module below.
"""

from aiops_local.simulators import (
    bedrock_customization,
    bedrock_deployment,
    bedrock_evaluation,
    bedrock_runtime,
    cloudwatch_alarms,
    composite_alarms,
    ground_truth,
    lambda_faults,
    metric_alarms,
    model_monitor,
    model_registry,
    sagemaker_endpoint,
    sagemaker_pipeline,
    sagemaker_shadow,
    spend_alarms,
    sqs_metrics,
)
from aiops_local.simulators.base import REGISTRY, Simulator, SimulatorHost, register

__all__ = [
    "REGISTRY",
    "Simulator",
    "SimulatorHost",
    "bedrock_customization",
    "bedrock_deployment",
    "bedrock_evaluation",
    "bedrock_runtime",
    "cloudwatch_alarms",
    "composite_alarms",
    "ground_truth",
    "lambda_faults",
    "metric_alarms",
    "model_monitor",
    "model_registry",
    "register",
    "sagemaker_endpoint",
    "sagemaker_pipeline",
    "sagemaker_shadow",
    "spend_alarms",
    "sqs_metrics",
]
