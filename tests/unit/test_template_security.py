"""The template's security decisions (issue 14), held so they cannot silently regress.

checkov (`make lint`) reports what its checks see; these tests hold what we decided: a capped
fan-out, logs only to the functions' log group, TLS-only topics, retained audit data and its key,
expiring old object versions, access logs, and a reason beside every skipped check.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.support.template import resources, template

FUNCTIONS = resources("AWS::Serverless::Function")
BUCKETS = resources("AWS::S3::Bucket")
TOPICS = resources("AWS::SNS::Topic")
TOPIC_POLICIES = resources("AWS::SNS::TopicPolicy")
GLOBALS = template()["Globals"]["Function"]
PARAMETERS = template()["Parameters"]
CONDITIONS = template()["Conditions"]

# Deleting the stack must leave the audit trail, the data, the key that decrypts them and the
# bucket policies that keep guarding the data (TLS only, no other reader).
RETAINED = {"LedgerTable", "DataKey", *BUCKETS, *(f"{b}Policy" for b in BUCKETS)}

# Lambda's default account quota, and what AWS keeps unreserved of it.
DEFAULT_ACCOUNT_CONCURRENCY = 1000
UNRESERVED_MINIMUM = 100


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _statements(resource: dict[str, Any]) -> list[dict[str, Any]]:
    return list(resource["Properties"]["PolicyDocument"]["Statement"])


def _skips(resource: dict[str, Any]) -> dict[str, str]:
    skips = (resource.get("Metadata") or {}).get("checkov", {}).get("skip", [])
    return {skip["id"]: skip.get("comment", "") for skip in skips}


def _function_resources() -> dict[str, dict[str, Any]]:
    # SAM functions, and any plain Lambda function someone adds beside them.
    return {**FUNCTIONS, **resources("AWS::Lambda::Function")}


# ---------------------------------------------------------------- a runaway fan-out is capped
def test_every_function_reserves_the_stacks_concurrency_unless_the_parameter_lifts_it():
    parameter = PARAMETERS["FunctionConcurrency"]

    # Given the stack's setting, applied to every function through Globals
    assert GLOBALS["ReservedConcurrentExecutions"] == {
        "Fn::If": [
            "ReservesConcurrency",
            {"Ref": "FunctionConcurrency"},
            {"Ref": "AWS::NoValue"},
        ]
    }
    # Then 0 - and only 0 - lifts the reservation (an account whose quota is too small)
    assert CONDITIONS["ReservesConcurrency"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "FunctionConcurrency"}, "0"]}]
    }
    assert parameter["MinValue"] == 0 and parameter["Default"] > 0
    # And no function opts out (a plain Lambda function would have to set its own)
    overriding = {
        name: r["Properties"]["ReservedConcurrentExecutions"]
        for name, r in FUNCTIONS.items()
        if "ReservedConcurrentExecutions" in r["Properties"]
    }
    assert all(isinstance(v, int) and v > 0 for v in overriding.values()), overriding
    plain = resources("AWS::Lambda::Function")
    assert all(r["Properties"].get("ReservedConcurrentExecutions") for r in plain.values())


def test_the_default_reservation_fits_an_account_with_the_default_quota():
    reserved = PARAMETERS["FunctionConcurrency"]["Default"] * len(_function_resources())

    assert reserved <= DEFAULT_ACCOUNT_CONCURRENCY - UNRESERVED_MINIMUM


# ---------------------------------------------------------------- logs only where they belong
def test_every_function_role_is_bounded_to_writing_the_functions_log_group():
    boundary = resources("AWS::IAM::ManagedPolicy")["FunctionPermissionsBoundary"]
    statements = _statements(boundary)

    # Given the boundary on every SAM-generated role (a function with its own Role escapes it)
    assert GLOBALS["PermissionsBoundary"] == {"Ref": "FunctionPermissionsBoundary"}
    assert not [
        n for n, r in FUNCTIONS.items() if {"Role", "PermissionsBoundary"} & set(r["Properties"])
    ]
    # Then nothing of logs passes it but writing the functions' log group
    assert {"Effect": "Allow", "NotAction": "logs:*", "Resource": "*"} in [
        {k: v for k, v in s.items() if k != "Sid"} for s in statements
    ]
    logs = [s for s in statements if "Action" in s]
    assert logs and all(
        set(_as_list(s["Action"])) <= {"logs:CreateLogStream", "logs:PutLogEvents"}
        and s["Resource"] == {"Fn::GetAtt": ["FunctionsLogGroup", "Arn"]}
        for s in logs
    )
    # And that is where every function logs
    assert GLOBALS["LoggingConfig"]["LogGroup"] == {"Ref": "FunctionsLogGroup"}
    assert not [n for n, r in FUNCTIONS.items() if "LoggingConfig" in r["Properties"]]


# ---------------------------------------------------------------- TLS-only topics
@pytest.mark.parametrize("topic", sorted(TOPICS))
def test_every_topic_refuses_publishing_without_tls(topic):
    ref = {"Ref": topic}

    denials = [
        s
        for policy in TOPIC_POLICIES.values()
        if ref in policy["Properties"]["Topics"]
        for s in _statements(policy)
        if s["Effect"] == "Deny"
        and s["Principal"] == "*"
        and "sns:Publish" in _as_list(s["Action"])
        and ref in _as_list(s["Resource"])
        and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    ]

    assert denials, f"{topic} has no TLS-only topic policy"


def test_the_accounts_alarms_still_publish_alerts_and_nothing_else_is_granted():
    # A topic policy replaces the default one: AWS services publishing for the account need a
    # grant of their own on the topic, and the topic's key must let them encrypt.
    grants = [
        s
        for policy in TOPIC_POLICIES.values()
        for s in _statements(policy)
        if s["Effect"] == "Allow" and {"Ref": "AlertsTopic"} in _as_list(s["Resource"])
    ]
    key = resources("AWS::KMS::Key")["DataKey"]["Properties"]["KeyPolicy"]["Statement"]

    # Only CloudWatch alarm actions publish to the topic: no rule targets a topic
    assert {p for s in grants for p in _as_list(s["Principal"]["Service"])} == {
        "cloudwatch.amazonaws.com"
    }
    for service in ("cloudwatch.amazonaws.com",):
        assert any(
            service in _as_list(s["Principal"].get("Service", []))
            and "kms:GenerateDataKey*" in _as_list(s["Action"])
            for s in key
        ), service
    assert all(s["Condition"]["StringEquals"]["aws:SourceAccount"] for s in grants)


# ---------------------------------------------------------------- retained audit data and key
@pytest.mark.parametrize("name", sorted(RETAINED))
def test_audit_data_and_its_key_outlive_the_stack(name):
    resource = template()["Resources"][name]

    assert resource.get("DeletionPolicy") == "Retain"
    assert resource.get("UpdateReplacePolicy") == "Retain"


def test_every_retained_resource_encrypted_with_a_stack_key_keeps_that_key():
    # A retained bucket whose key went with the stack would be unreadable.
    keys_of_retained = {
        rule["ServerSideEncryptionByDefault"]["KMSMasterKeyID"]["Fn::GetAtt"][0]
        for name in BUCKETS
        for rule in BUCKETS[name]["Properties"]["BucketEncryption"][
            "ServerSideEncryptionConfiguration"
        ]
        if "KMSMasterKeyID" in rule["ServerSideEncryptionByDefault"]
    }

    assert keys_of_retained and keys_of_retained <= RETAINED


# ---------------------------------------------------------------- old object versions expire
@pytest.mark.parametrize("bucket", sorted(BUCKETS))
def test_every_versioned_bucket_expires_noncurrent_versions(bucket):
    properties = BUCKETS[bucket]["Properties"]
    if (properties.get("VersioningConfiguration") or {}).get("Status") != "Enabled":
        pytest.skip(f"{bucket} is not versioned")

    rules = (properties.get("LifecycleConfiguration") or {}).get("Rules", [])

    assert any(
        rule["Status"] == "Enabled"
        and "Prefix" not in rule
        and "Filter" not in rule
        and rule.get("NoncurrentVersionExpiration", {}).get("NoncurrentDays")
        for rule in rules
    ), f"{bucket} keeps noncurrent versions forever"


# ---------------------------------------------------------------- S3 access logs
def test_every_data_bucket_logs_its_access_to_the_access_log_bucket():
    data_buckets = sorted(set(BUCKETS) - {"AccessLogsBucket"})
    policy = resources("AWS::S3::BucketPolicy")["AccessLogsBucketPolicy"]
    (delivery,) = [s for s in _statements(policy) if s["Effect"] == "Allow"]

    for bucket in data_buckets:
        logging = BUCKETS[bucket]["Properties"]["LoggingConfiguration"]
        assert logging["DestinationBucketName"] == {"Ref": "AccessLogsBucket"}, bucket
    # S3 delivers the logs of these buckets only, and only to an SSE-S3 bucket (its requirement)
    assert delivery["Principal"] == {"Service": "logging.s3.amazonaws.com"}
    assert (
        sorted(arn["Fn::GetAtt"][0] for arn in delivery["Condition"]["ArnLike"]["aws:SourceArn"])
        == data_buckets
    )
    log_encryption = BUCKETS["AccessLogsBucket"]["Properties"]["BucketEncryption"]
    assert log_encryption["ServerSideEncryptionConfiguration"][0][
        "ServerSideEncryptionByDefault"
    ] == {"SSEAlgorithm": "AES256"}


# ---------------------------------------------------------------- every skip says why
SKIPPED = {
    name: _skips(resource) for name, resource in template()["Resources"].items() if _skips(resource)
}


@pytest.mark.parametrize("name", sorted(SKIPPED))
def test_every_skipped_check_names_the_check_and_says_why(name):
    for check, reason in SKIPPED[name].items():
        assert re.fullmatch(r"CKV2?_AWS_\d+", check), check
        assert len(reason.split()) >= 6, f"{name} skips {check} without a reason"


def test_only_functions_never_invoked_asynchronously_go_without_a_dead_letter_queue():
    without = {name for name, r in FUNCTIONS.items() if "DeadLetterQueue" not in r["Properties"]}

    # An event source or an async invoke config means asynchronous invocations: they need one
    asynchronous = {
        name
        for name in without
        if {"Events", "EventInvokeConfig"} & set(FUNCTIONS[name]["Properties"])
    }
    assert asynchronous == set()
    # And the skip of checkov's dead-letter check is written exactly where there is none
    assert {name for name in FUNCTIONS if "CKV_AWS_116" in _skips(FUNCTIONS[name])} == without


def test_the_data_key_lets_only_the_services_that_publish_to_the_topics_encrypt_for_them():
    # Given the services the topic policies let publish (the topics are encrypted with DataKey)
    publishers = {
        service
        for policy in TOPIC_POLICIES.values()
        for statement in _statements(policy)
        if statement["Effect"] == "Allow"
        and "sns:Publish" in _as_list(statement["Action"])
        and isinstance(statement["Principal"], dict)
        for service in _as_list(statement["Principal"].get("Service", []))
    }
    # When the key policy's grants to AWS services for data keys are read (Logs has its own,
    # bound by its encryption context to the stack's log groups)
    key_statements = template()["Resources"]["DataKey"]["Properties"]["KeyPolicy"]["Statement"]
    services = [
        service
        for statement in key_statements
        if statement["Effect"] == "Allow"
        and isinstance(statement["Principal"], dict)
        and "Service" in statement["Principal"]
        and any(
            action == "kms:*" or action.startswith("kms:GenerateDataKey")
            for action in _as_list(statement["Action"])
        )
        and "kms:EncryptionContext:aws:logs:arn"
        not in statement.get("Condition", {}).get("ArnLike", {})
        for service in _as_list(statement["Principal"]["Service"])
    ]
    assert all(isinstance(service, str) for service in services)
    grantees = set(services)

    # Then they are exactly the topics' publishers: no rule targets a topic, so no EventBridge
    assert publishers == {"cloudwatch.amazonaws.com"}
    assert grantees == publishers
