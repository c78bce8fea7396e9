"""A small SAM project (functions, rules, a schedule, three state machines) the runtime's
integration tests run on."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Parameters:
  Stage: {Type: String, Default: dev}
  Owner: {Type: String, Default: ""}
Conditions:
  HasOwner: !Not [!Equals [!Ref Owner, ""]]
Globals:
  Function:
    Runtime: python3.12
    Timeout: 30
    Layers: [!Ref ToyLayer]
    Environment:
      Variables:
        STAGE: !Ref Stage
        LEDGER_TABLE: !Ref LedgerTable
        TOPIC_ARN: !Ref AlertsTopic
Resources:
  ToyLayer:
    Type: AWS::Serverless::LayerVersion
    Properties: {ContentUri: layers/toy/}
  DataBucket:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: !Sub toy-${Stage}-data-${AWS::AccountId}
      VersioningConfiguration: {Status: Enabled}
      NotificationConfiguration: {EventBridgeConfiguration: {EventBridgeEnabled: true}}
  QuietBucket:
    Type: AWS::S3::Bucket
  OwnerTopic:
    Type: AWS::SNS::Topic
    Condition: HasOwner
  LedgerTable:
    Type: AWS::DynamoDB::Table
    Properties:
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions:
        - {AttributeName: model, AttributeType: S}
        - {AttributeName: seq, AttributeType: S}
      KeySchema:
        - {AttributeName: model, KeyType: HASH}
        - {AttributeName: seq, KeyType: RANGE}
      TimeToLiveSpecification: {AttributeName: ttl, Enabled: true}
  AlertsTopic:
    Type: AWS::SNS::Topic
    Properties:
      TopicName: !Sub toy-${Stage}-alerts
  FailDeadLetterQueue:
    Type: AWS::SQS::Queue
  HelloFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/hello/
      Handler: app.handler
      Environment:
        Variables: {GREETING: hello, FLOW_ARN: !Ref FlowStateMachine}
      Events:
        Created:
          Type: EventBridgeRule
          Properties:
            Pattern:
              source: [aws.s3]
              detail-type: [Object Created]
              detail:
                bucket: {name: [!Ref DataBucket]}
                object: {key: [{prefix: in/}]}
  FailFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/fail/
      Handler: app.handler
      DeadLetterQueue: {Type: SQS, TargetArn: !GetAtt FailDeadLetterQueue.Arn}
      EventInvokeConfig: {MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 3600}
      Events:
        Failing:
          Type: EventBridgeRule
          Properties:
            Pattern: {source: [toy.fail]}
  TaskFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/task/
      Handler: app.handler
      Environment: {Variables: {GREETING: from-task}}
  TickFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/task/
      Handler: app.handler
      Events:
        Tick:
          Type: ScheduleV2
          Properties: {ScheduleExpression: rate(10 minutes)}
  FlowStateMachine:
    Type: AWS::Serverless::StateMachine
    Properties:
      Name: !Sub toy-${Stage}-flow
      DefinitionUri: statemachines/flow.asl.json
      DefinitionSubstitutions:
        TaskFunctionArn: !GetAtt TaskFunction.Arn
      Policies: [{LambdaInvokePolicy: {FunctionName: !Ref TaskFunction}}]
      Events:
        Go:
          Type: EventBridgeRule
          Properties:
            Pattern: {source: [toy.flow]}
  FanOutStateMachine:
    Type: AWS::Serverless::StateMachine
    Properties:
      Name: !Sub toy-${Stage}-fanout
      DefinitionUri: statemachines/fanout.asl.json
  TokenStateMachine:
    Type: AWS::Serverless::StateMachine
    Properties:
      Name: !Sub toy-${Stage}-token
      DefinitionUri: statemachines/token.asl.json
      DefinitionSubstitutions:
        TaskFunctionArn: !GetAtt TaskFunction.Arn
      Policies: [{LambdaInvokePolicy: {FunctionName: !Ref TaskFunction}}]
"""

FLOW = {
    "StartAt": "Nap",
    "States": {
        "Nap": {"Type": "Wait", "Seconds": 21600, "Next": "Work"},
        "Work": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": "${TaskFunctionArn}", "Payload.$": "$"},
            "OutputPath": "$.Payload",
            "Retry": [
                {
                    "ErrorEquals": ["ToyError"],
                    "IntervalSeconds": 3600,
                    "MaxAttempts": 2,
                    "BackoffRate": 2.0,
                }
            ],
            "End": True,
        },
    },
}

FANOUT = {
    "StartAt": "Both",
    "States": {
        "Both": {
            "Type": "Parallel",
            "Branches": [
                {
                    "StartAt": "Short",
                    "States": {"Short": {"Type": "Wait", "Seconds": 60, "End": True}},
                },
                {
                    "StartAt": "Long",
                    "States": {"Long": {"Type": "Wait", "Seconds": 120, "End": True}},
                },
            ],
            "ResultPath": None,
            "Next": "Each",
        },
        "Each": {
            "Type": "Map",
            "ItemsPath": "$.items",
            "ItemProcessor": {
                "ProcessorConfig": {"Mode": "INLINE"},
                "StartAt": "Pause",
                "States": {"Pause": {"Type": "Wait", "Seconds": 10, "End": True}},
            },
            "End": True,
        },
    },
}

TOKEN = {
    "StartAt": "AwaitHuman",
    "States": {
        "AwaitHuman": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
            "Parameters": {
                "FunctionName": "${TaskFunctionArn}",
                "Payload": {"token.$": "$$.Task.Token"},
            },
            "TimeoutSeconds": 7200,
            "End": True,
        }
    },
}

HELLO = """
import json, os
import boto3
import toylib

def handler(event, context):
    key = event["detail"]["object"]["key"]
    boto3.client("dynamodb").put_item(
        TableName=os.environ["LEDGER_TABLE"],
        Item={"model": {"S": "toy"}, "seq": {"S": key}, "action": {"S": "noticed"},
              "reason": {"S": f"{os.environ['GREETING']} {key}"}},
    )
    boto3.client("sns").publish(TopicArn=os.environ["TOPIC_ARN"], Subject="noticed " + key,
                                Message=toylib.SHOUT)
    boto3.client("stepfunctions").start_execution(
        stateMachineArn=os.environ["FLOW_ARN"], name="flow-" + event["id"][:8],
        input=json.dumps({"key": key}))
    return {"ok": True}
"""

FAIL = """
def handler(event, context):
    raise ValueError("detail.size must be >= 0")
"""

TASK = """
import os
import boto3

STORE = {"calls": 0}

def handler(event, context):
    STORE["calls"] += 1
    if isinstance(event, dict) and "token" in event:
        STORE["token"] = event["token"]
        return {"parked": True}
    if isinstance(event, dict) and event.get("fail"):
        raise type("ToyError", (Exception,), {})("asked to fail")
    return {
        "greeting": os.environ.get("GREETING"),
        "stage": os.environ.get("STAGE"),
        "function": context.function_name,
        "memory": context.memory_limit_in_mb,
        "remaining_ms": context.get_remaining_time_in_millis(),
        "request_id": context.aws_request_id,
        "arn": context.invoked_function_arn,
        "calls": STORE["calls"],
    }
"""

POLICY = """\
models:
  toy:
    kind: sagemaker
    pipeline: toy-train
    package_group: toy
"""


def write_toy_project(root: Path) -> Path:
    """Write the toy project under `root`; returns its template path."""
    files = {
        "template.yaml": TEMPLATE,
        "statemachines/flow.asl.json": json.dumps(FLOW, indent=1),
        "statemachines/token.asl.json": json.dumps(TOKEN, indent=1),
        "statemachines/fanout.asl.json": json.dumps(FANOUT, indent=1),
        "functions/hello/app.py": HELLO,
        "functions/fail/app.py": FAIL,
        "functions/task/app.py": TASK,
        "layers/toy/python/toylib/__init__.py": 'SHOUT = "hey from the layer"\n',
        "policies/default.yaml": POLICY,
    }
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return root / "template.yaml"
