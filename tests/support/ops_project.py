"""A small SAM project with CloudWatch alarms on what the offline runtime meters: a function that
prints EMF metrics (Powertools), a function that always fails into its dead-letter queue, a
state machine that succeeds, fails, times out or calls a function, and alarms (with SNS actions)
on the queue's depth, the machine's failures, the EMF metric, and a composite of them."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Parameters:
  Stage: {Type: String, Default: dev}
Globals:
  Function:
    Runtime: python3.12
    Timeout: 30
Resources:
  AlertsTopic:
    Type: AWS::SNS::Topic
    Properties:
      TopicName: !Sub ops-${Stage}-alerts
  FailDeadLetterQueue:
    Type: AWS::SQS::Queue
  EmfFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/emf/
      Handler: app.handler
      Environment:
        Variables: {POWERTOOLS_SERVICE_NAME: ops, POWERTOOLS_METRICS_NAMESPACE: Ops/dev}
      Events:
        Emf:
          Type: EventBridgeRule
          Properties:
            Pattern: {source: [ops.emf]}
  FailFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/fail/
      Handler: app.handler
      DeadLetterQueue: {Type: SQS, TargetArn: !GetAtt FailDeadLetterQueue.Arn}
      EventInvokeConfig: {MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 3600}
      Events:
        Failing:
          Type: EventBridgeRule
          Properties:
            Pattern: {source: [ops.fail]}
  WorkFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/work/
      Handler: app.handler
  FlowStateMachine:
    Type: AWS::Serverless::StateMachine
    Properties:
      Name: !Sub ops-${Stage}-flow
      DefinitionUri: statemachines/flow.asl.json
      DefinitionSubstitutions:
        WorkFunctionArn: !GetAtt WorkFunction.Arn
      Policies: [{LambdaInvokePolicy: {FunctionName: !Ref WorkFunction}}]
  DeadLetterAlarm:
    Type: AWS::CloudWatch::Alarm
    Properties:
      AlarmName: !Sub ops-${Stage}-dead-letter
      AlarmDescription: The fail function's dead-letter queue holds an event.
      Namespace: AWS/SQS
      MetricName: ApproximateNumberOfMessagesVisible
      Dimensions: [{Name: QueueName, Value: !GetAtt FailDeadLetterQueue.QueueName}]
      Statistic: Maximum
      Period: 60
      EvaluationPeriods: 1
      Threshold: 0
      ComparisonOperator: GreaterThanThreshold
      TreatMissingData: notBreaching
      AlarmActions: [!Ref AlertsTopic]
      OKActions: [!Ref AlertsTopic]
  FlowFailedAlarm:
    Type: AWS::CloudWatch::Alarm
    Properties:
      AlarmName: !Sub ops-${Stage}-flow-failed
      Metrics:
        - Id: m1
          ReturnData: false
          MetricStat:
            Metric:
              Namespace: AWS/States
              MetricName: ExecutionsFailed
              Dimensions:
                - Name: StateMachineArn
                  Value: !Join
                    - ":"
                    - - !Sub "arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}"
                      - !Sub "stateMachine:ops-${Stage}-flow"
            Period: 60
            Stat: Sum
        - Id: m2
          ReturnData: false
          MetricStat:
            Metric:
              Namespace: AWS/States
              MetricName: ExecutionsTimedOut
              Dimensions:
                - Name: StateMachineArn
                  Value: !Join
                    - ":"
                    - - !Sub "arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}"
                      - !Sub "stateMachine:ops-${Stage}-flow"
            Period: 60
            Stat: Sum
        - Id: e1
          Expression: m1 + m2
          ReturnData: true
      EvaluationPeriods: 1
      Threshold: 1
      ComparisonOperator: GreaterThanOrEqualToThreshold
      TreatMissingData: notBreaching
      AlarmActions: [!Ref AlertsTopic]
  OrdersAlarm:
    Type: AWS::CloudWatch::Alarm
    Properties:
      AlarmName: !Sub ops-${Stage}-orders
      Namespace: !Sub Ops/${Stage}
      MetricName: Orders
      Dimensions: [{Name: service, Value: ops}]
      Statistic: Sum
      Period: 60
      EvaluationPeriods: 1
      Threshold: 10
      ComparisonOperator: GreaterThanThreshold
      TreatMissingData: notBreaching
      AlarmActions: [!Ref AlertsTopic]
      OKActions: [!Ref AlertsTopic]
  AnyAlarm:
    Type: AWS::CloudWatch::CompositeAlarm
    Properties:
      AlarmName: !Sub ops-${Stage}-any
      AlarmDescription: Something is wrong.
      AlarmRule: !Sub >-
        ALARM("${DeadLetterAlarm}") OR ALARM(${FlowFailedAlarm})
      AlarmActions: [!Ref AlertsTopic]
"""

FLOW = {
    "StartAt": "Mode",
    "TimeoutSeconds": 1800,
    "States": {
        "Mode": {
            "Type": "Choice",
            "Choices": [
                {"Variable": "$.mode", "StringEquals": "fail", "Next": "Boom"},
                {"Variable": "$.mode", "StringEquals": "wait", "Next": "Nap"},
                {"Variable": "$.mode", "StringEquals": "call", "Next": "Call"},
            ],
            "Default": "Done",
        },
        "Boom": {"Type": "Fail", "Error": "OpsFailure", "Cause": "asked to fail"},
        "Nap": {"Type": "Wait", "Seconds": 3600, "Next": "Done"},
        "Call": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": "${WorkFunctionArn}", "Payload.$": "$"},
            "Retry": [
                {
                    "ErrorEquals": ["Lambda.TooManyRequestsException"],
                    "IntervalSeconds": 2,
                    "MaxAttempts": 2,
                    "BackoffRate": 2,
                }
            ],
            "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "CallFailed"}],
            "End": True,
        },
        "CallFailed": {"Type": "Fail", "Error": "CallFailed", "Cause": "the call failed"},
        "Done": {"Type": "Succeed"},
    },
}

EMF = """
import json
from aws_lambda_powertools.metrics import Metrics

metrics = Metrics()

def handler(event, context):
    detail = event.get("detail", {})
    for line in detail.get("lines", []):
        print(line if isinstance(line, str) else json.dumps(line))
    for metric in detail.get("metrics", []):
        metrics.add_metric(name=metric["name"], unit="Count", value=metric["value"])
    if detail.get("metrics"):
        metrics.flush_metrics()
    return {"ok": True}
"""

FAIL = """
def handler(event, context):
    raise ValueError("detail.size must be >= 0")
"""

WORK = """
def handler(event, context):
    return {"worked": True}
"""


def write_ops_project(root: Path) -> Path:
    """Write the project under `root`; returns its template path."""
    files = {
        "template.yaml": TEMPLATE,
        "statemachines/flow.asl.json": json.dumps(FLOW, indent=1),
        "functions/emf/app.py": EMF,
        "functions/fail/app.py": FAIL,
        "functions/work/app.py": WORK,
        "policies/default.yaml": "models:\n  toy: {kind: sagemaker, pipeline: toy-train, "
        "package_group: toy}\n",
    }
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return root / "template.yaml"
