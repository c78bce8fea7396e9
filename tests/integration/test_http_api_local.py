"""The offline HTTP API (local/aiops_local/http_api.py): requests become the payload format 2.0
events API Gateway sends a Lambda integration, responses come back as API Gateway returns them.

Runs on tests/fixtures/http_api: raw AWS::ApiGatewayV2 resources (as template.yaml declares its
approval page) in front of an echo function (it returns the event it got), a Powertools page and
a function that mails a link to the page.
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any
from urllib.parse import parse_qs

import pytest

from aiops_local import CloudTemplate, LocalCloud
from aiops_local.http_api import HttpApiError, RouteNotFound, local_links, serve

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "tests" / "fixtures" / "http_api"
TEMPLATE = FIXTURE / "template.yaml"
ENDPOINT = re.compile(r"^https://([a-z0-9]+)\.execute-api\.us-east-1\.amazonaws\.com$")


@pytest.fixture
def cloud() -> Iterator[LocalCloud]:
    with LocalCloud(TEMPLATE) as running:
        yield running


def echo(cloud: LocalCloud, method: str, path: str, **request: Any) -> dict[str, Any]:
    """The event the echo function got."""
    response = cloud.http(method, path, **request)
    assert response.status == 201, response.text
    event: dict[str, Any] = response.json()
    return event


# ---------------------------------------------------------------------- the event
def test_a_form_post_reaches_the_function_as_a_payload_format_2_event(cloud: LocalCloud):
    form = "decision=approve&comment=looks+good+%E2%9C%93"
    event = echo(
        cloud,
        "POST",
        "/echo/approvals/req-1?lang=en&tag=a",
        query={"tag": "b"},
        headers=[
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("User-Agent", "Mozilla/5.0 (test)"),
            ("X-Custom-Header", "one"),
            ("x-custom-header", "two"),
            ("Cookie", "session=abc; theme=dark"),
            ("Host", "127.0.0.1:8080"),
        ],
        body=form.encode(),
        source_ip="198.51.100.7",
    )

    api_id = ENDPOINT.match(cloud.http_endpoint()).group(1)  # type: ignore[union-attr]
    domain = f"{api_id}.execute-api.us-east-1.amazonaws.com"
    assert event["version"] == "2.0"
    assert event["routeKey"] == "ANY /echo/{proxy+}"
    assert event["rawPath"] == "/echo/approvals/req-1"
    assert event["rawQueryString"] == "lang=en&tag=a&tag=b"
    assert event["queryStringParameters"] == {"lang": "en", "tag": "a,b"}
    assert event["pathParameters"] == {"proxy": "approvals/req-1"}
    assert event["cookies"] == ["session=abc", "theme=dark"]
    headers = event["headers"]
    assert all(name == name.lower() for name in headers)
    assert headers["content-type"] == "application/x-www-form-urlencoded"
    assert headers["x-custom-header"] == "one,two"
    assert headers["user-agent"] == "Mozilla/5.0 (test)"
    assert headers["host"] == domain  # API Gateway's host, not the client's
    assert headers["content-length"] == str(len(form))
    assert headers["x-forwarded-for"] == "198.51.100.7"
    assert headers["x-forwarded-proto"] == "https"
    assert "cookie" not in headers
    # API Gateway base64-encodes form bodies (anything but text/*, JSON, XML, JavaScript).
    assert event["isBase64Encoded"] is True
    decoded = base64.b64decode(event["body"]).decode()
    assert decoded == form
    assert parse_qs(decoded) == {"decision": ["approve"], "comment": ["looks good ✓"]}

    context = event["requestContext"]
    assert context["accountId"] == "123456789012"
    assert context["apiId"] == api_id
    assert context["domainName"] == domain
    assert context["domainPrefix"] == api_id
    assert context["http"] == {
        "method": "POST",
        "path": "/echo/approvals/req-1",
        "protocol": "HTTP/1.1",
        "sourceIp": "198.51.100.7",
        "userAgent": "Mozilla/5.0 (test)",
    }
    assert context["routeKey"] == "ANY /echo/{proxy+}"
    assert context["stage"] == "$default"
    assert re.fullmatch(r"[A-Za-z0-9+/]{14}==", context["requestId"])
    # Request times are virtual time.
    assert context["timeEpoch"] == int(cloud.clock.time() * 1000)
    assert context["time"] == cloud.clock.now().strftime("%d/%b/%Y:%H:%M:%S +0000")
    assert "authorizer" not in context


@pytest.mark.parametrize(
    ("content_type", "body", "as_text"),
    [
        ("application/json", b'{"a": 1}', True),
        ("application/json; charset=utf-8", b'{"a": 1}', True),
        ("text/plain; charset=utf-8", "héllo".encode(), True),
        ("text/html", b"<p>x</p>", True),
        ("application/xml", b"<a/>", True),
        ("application/javascript", b"f()", True),
        ("application/x-www-form-urlencoded", b"a=1", False),
        ("multipart/form-data; boundary=x", b"--x--", False),
        ("application/octet-stream", bytes(range(256)), False),
        ("text/plain", b"\xff\xfe not utf-8", False),
        (None, b"no content type", False),
    ],
)
def test_bodies_arrive_as_text_only_for_text_content_types(
    cloud: LocalCloud, content_type: str | None, body: bytes, as_text: bool
):
    headers = {"Content-Type": content_type} if content_type else {}

    event = echo(cloud, "PUT", "/echo/x", headers=headers, body=body)

    assert event["isBase64Encoded"] is (not as_text)
    received = event["body"].encode() if as_text else base64.b64decode(event["body"])
    assert received == body


def test_a_request_without_body_or_query_has_neither(cloud: LocalCloud):
    event = echo(cloud, "GET", "/echo/x")

    assert "body" not in event
    assert event["isBase64Encoded"] is False
    assert event["rawQueryString"] == ""
    assert "queryStringParameters" not in event
    assert "cookies" not in event


def test_claims_reach_the_function_only_when_given(cloud: LocalCloud):
    claims = {
        "sub": "0f1e",
        "email": "ana@example.com",
        "email_verified": True,
        "cognito:groups": ["approvers", "admins"],
        "exp": 1796022849,
        "scope": "openid email",
    }

    signed_in = echo(cloud, "GET", "/echo/x", claims=claims)["requestContext"]
    anonymous = echo(cloud, "GET", "/echo/x")["requestContext"]

    # The JWT authorizer passes every claim as a string.
    assert signed_in["authorizer"] == {
        "jwt": {
            "claims": {
                "sub": "0f1e",
                "email": "ana@example.com",
                "email_verified": "true",
                "cognito:groups": "[approvers admins]",
                "exp": "1796022849",
                "scope": "openid email",
            },
            "scopes": ["openid", "email"],
        }
    }
    assert "authorizer" not in anonymous


def test_routes_match_as_api_gateway_matches_them(cloud: LocalCloud):
    item = echo(cloud, "GET", "/items/42")
    page = cloud.http("POST", "/items/42")  # GET only: the $default route (the page) gets it

    assert item["routeKey"] == "GET /items/{item}"
    assert item["pathParameters"] == {"item": "42"}
    last = cloud.timeline.find("invoke")[-1]
    assert last["function"] == "PageFunction"
    assert last["http_status"] == page.status == 404  # the page has no such route


# ---------------------------------------------------------------------- the response
def test_the_response_comes_back_as_api_gateway_returns_it(cloud: LocalCloud):
    response = cloud.http("GET", "/echo/x")

    assert response.status == 201
    assert response.headers["Content-Type"] == "application/json"  # names as the function wrote
    assert response.header("x-echo") == "yes"
    assert response.cookies == ["session=abc; Path=/; HttpOnly", "theme=dark"]
    assert [v for k, v in response.header_items() if k == "set-cookie"] == response.cookies
    assert response.header("content-length") == str(len(response.body))
    assert response.header("apigw-requestid") == response.json()["requestContext"]["requestId"]
    entry = cloud.timeline.find("invoke", function="EchoFunction")[-1]
    assert entry["status"] == "ok"
    assert entry["http_status"] == 201
    assert entry["via"] == "WebApi GET /echo/x"
    assert entry["text"].endswith("→ HTTP 201")


def test_head_reaches_the_function_and_its_body_is_dropped(cloud: LocalCloud):
    response = cloud.http("HEAD", "/echo/x")

    assert response.status == 201
    assert response.body == b""
    assert int(response.header("content-length") or 0) > 0  # what the function answered
    assert response.headers["X-Echo"] == "yes"
    assert (
        cloud.timeline.find("invoke", function="EchoFunction")[-1]["via"] == "WebApi HEAD /echo/x"
    )


def test_responses_without_status_code_are_200_json(cloud: LocalCloud):
    text = cloud.http("GET", "/echo/x", query={"respond": "string"})
    mapping = cloud.http("GET", "/echo/x?respond=dict")

    assert (text.status, text.header("content-type")) == (200, "application/json")
    assert text.body == b"plain text from the function"
    assert (mapping.status, mapping.header("content-type")) == (200, "application/json")
    assert json.loads(mapping.body) == {"simple": True}


def test_a_base64_response_body_is_decoded(cloud: LocalCloud):
    response = cloud.http("GET", "/echo/x?respond=binary")

    assert response.status == 200
    assert response.body == bytes(range(256))
    assert response.header("content-type") == "application/octet-stream"


def test_multi_value_headers_are_ignored_as_in_format_2(cloud: LocalCloud):
    response = cloud.http("GET", "/echo/x?respond=multi")

    assert response.status == 200
    assert response.body == b"multi"
    assert response.header("x-multi") is None


def test_a_failing_function_or_a_malformed_response_is_a_500(cloud: LocalCloud):
    failed = cloud.http("GET", "/echo/x?respond=raise")
    malformed = cloud.http("GET", "/echo/x?respond=malformed")

    for response in (failed, malformed):
        assert response.status == 500
        assert response.json() == {"message": "Internal Server Error"}
    invokes = cloud.timeline.find("invoke", function="EchoFunction")
    assert invokes[-2]["status"] == "error"
    assert invokes[-2]["error"] == "asked to fail"
    (error,) = cloud.timeline.find("error", error="MalformedLambdaResponse")
    assert "body is a dict" in error["text"]


# ---------------------------------------------------------------------- the template's API
def test_the_api_exists_in_moto_and_its_endpoint_resolves_for_getatt(cloud: LocalCloud):
    cloud.send_event(
        {"source": "fixture.approval", "detail-type": "x", "detail": {"request": "r7"}}
    )
    cloud.run_until_quiet()

    endpoint = cloud.http_endpoint()
    api_id = ENDPOINT.match(endpoint).group(1)  # type: ignore[union-attr]
    apigw = cloud.client("apigatewayv2")
    assert apigw.get_api(ApiId=api_id)["ApiEndpoint"] == endpoint
    routes = {r["RouteKey"]: r for r in apigw.get_routes(ApiId=api_id)["Items"]}
    assert set(routes) == {"$default", "ANY /echo/{proxy+}", "GET /items/{item}"}
    assert routes["$default"]["AuthorizationType"] == "NONE"
    assert [s["StageName"] for s in apigw.get_stages(ApiId=api_id)["Items"]] == ["$default"]
    (notice,) = cloud.timeline.find("notify")
    assert f"{endpoint}/approvals/r7" in notice["message"]
    assert local_links(cloud.timeline.entries(), endpoint, "http://127.0.0.1:9", "/approvals/") == [
        ("Approve r7", "http://127.0.0.1:9/approvals/r7")
    ]


def test_the_template_resolves_api_gateway_resources_before_any_cloud_runs():
    template = CloudTemplate(TEMPLATE)

    api_id = template.ref("WebApi")
    assert re.fullmatch(r"[a-z0-9]{10}", api_id)
    assert template.get_att("WebApi", "ApiEndpoint") == (
        f"https://{api_id}.execute-api.us-east-1.amazonaws.com"
    )
    assert template.get_att("WebApi", "ApiId") == api_id
    integration = template.ref("PageIntegration")
    assert re.fullmatch(r"[a-z0-9]{7}", integration)
    assert template.properties("DefaultRoute")["Target"] == f"integrations/{integration}"
    assert "AuthorizerId" not in template.properties("DefaultRoute")  # AWS::NoValue
    assert template.ref("WebStage") == "$default"
    assert "SignInAuthorizer" not in template.resources  # its condition is false


def test_a_jwt_route_answers_401_without_claims_and_passes_them_on():
    with LocalCloud(TEMPLATE, parameters={"SignIn": "true"}) as cloud:
        anonymous = cloud.http("GET", "/approvals/req-1")
        signed_in = cloud.http("GET", "/approvals/req-1", claims={"email": "ana@example.com"})

        assert anonymous.status == 401
        assert anonymous.json() == {"message": "Unauthorized"}
        assert signed_in.status == 200
        assert [e["via"] for e in cloud.timeline.find("invoke")] == ["WebApi GET /approvals/req-1"]
        api_id = ENDPOINT.match(cloud.http_endpoint()).group(1)  # type: ignore[union-attr]
        apigw = cloud.client("apigatewayv2")
        routes = apigw.get_routes(ApiId=api_id)["Items"]
        default = next(r for r in routes if r["RouteKey"] == "$default")
        assert default["AuthorizationType"] == "JWT"
        authorizer = apigw.get_authorizer(ApiId=api_id, AuthorizerId=default["AuthorizerId"])
        assert authorizer["AuthorizerType"] == "JWT"


# ---------------------------------------------------------------------- what the template lacks
def _project(tmp_path: Path, resources: str) -> Path:
    """A template with the echo function and `resources` (YAML, indented as under Resources)."""
    shutil.copytree(FIXTURE / "functions" / "echo", tmp_path / "functions" / "echo")
    shutil.copytree(FIXTURE / "policies", tmp_path / "policies")
    template = tmp_path / "template.yaml"
    template.write_text(
        textwrap.dedent(
            """\
            AWSTemplateFormatVersion: "2010-09-09"
            Transform: AWS::Serverless-2016-10-31
            Resources:
              EchoFunction:
                Type: AWS::Serverless::Function
                Properties: {CodeUri: functions/echo/, Handler: app.handler, Runtime: python3.12}
            """
        )
        + textwrap.indent(textwrap.dedent(resources), "  ")
    )
    return template


_API = """\
Api:
  Type: AWS::ApiGatewayV2::Api
  Properties: {Name: strict, ProtocolType: HTTP}
Stage:
  Type: AWS::ApiGatewayV2::Stage
  Properties: {ApiId: !Ref Api, StageName: $default, AutoDeploy: true}
Integration:
  Type: AWS::ApiGatewayV2::Integration
  Properties:
    ApiId: !Ref Api
    IntegrationType: AWS_PROXY
    IntegrationUri: !GetAtt EchoFunction.Arn
    PayloadFormatVersion: "2.0"
"""
_PERMISSION = """\
Permission:
  Type: AWS::Lambda::Permission
  Properties:
    Action: lambda:InvokeFunction
    FunctionName: !Ref EchoFunction
    Principal: apigateway.amazonaws.com
    SourceArn: !Sub "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${Api}/*/*"
"""


def test_a_request_no_route_matches_raises_route_not_found(tmp_path: Path):
    template = _project(
        tmp_path,
        _API
        + _PERMISSION
        + """\
OnlyRoute:
  Type: AWS::ApiGatewayV2::Route
  Properties: {ApiId: !Ref Api, RouteKey: GET /only, Target: !Sub "integrations/${Integration}"}
""",
    )
    with LocalCloud(template) as cloud:
        assert cloud.http("GET", "/only").status == 201
        with pytest.raises(RouteNotFound, match=r"no route of HTTP API Api matches POST /only"):
            cloud.http("POST", "/only")
        with pytest.raises(RouteNotFound, match=r"GET /other .*routes: GET /only"):
            cloud.http("GET", "/other")


def test_a_route_to_an_integration_the_template_lacks_raises(tmp_path: Path):
    template = _project(
        tmp_path,
        _API
        + _PERMISSION
        + """\
LostRoute:
  Type: AWS::ApiGatewayV2::Route
  Properties: {ApiId: !Ref Api, RouteKey: $default, Target: integrations/gone123}
""",
    )
    with LocalCloud(template) as cloud, pytest.raises(HttpApiError) as raised:
        cloud.http("GET", "/")
    assert "route LostRoute ($default) targets integrations/gone123" in str(raised.value)
    assert "no AWS::ApiGatewayV2::Integration of HTTP API Api" in str(raised.value)


def test_a_template_without_an_http_api_raises(tmp_path: Path):
    with (
        LocalCloud(_project(tmp_path, "")) as cloud,
        pytest.raises(HttpApiError, match="no HTTP API"),
    ):
        cloud.http("GET", "/")


def test_a_function_api_gateway_may_not_invoke_answers_500(tmp_path: Path):
    template = _project(
        tmp_path,
        _API
        + """\
Route:
  Type: AWS::ApiGatewayV2::Route
  Properties: {ApiId: !Ref Api, RouteKey: $default, Target: !Sub "integrations/${Integration}"}
""",
    )
    with LocalCloud(template) as cloud:
        response = cloud.http("GET", "/")

        assert response.status == 500
        assert cloud.timeline.find("invoke") == []
        (error,) = cloud.timeline.find("error", error="MissingPermission")
        assert "no AWS::Lambda::Permission" in error["text"]


# ---------------------------------------------------------------------- a local server
def test_serve_puts_the_api_on_a_local_port(cloud: LocalCloud):
    with serve(cloud) as server:
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", server.url)
        with urllib.request.urlopen(server.url + "/approvals/req-9") as page:
            assert page.status == 200
            assert page.headers["Content-Type"] == "text/html; charset=utf-8"
            assert "<title>Request req-9</title>" in page.read().decode()
        posted = urllib.request.Request(
            server.url + "/approvals/req-9",
            data=b"decision=approve&comment=fine",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        with urllib.request.urlopen(posted) as decided:
            assert decided.headers["set-cookie"] == "decided=req-9"
            assert '<p id="summary">approve: fine</p>' in decided.read().decode()
        head = urllib.request.Request(server.url + "/echo/x", method="HEAD")
        with urllib.request.urlopen(head) as headed:
            assert headed.status == 201
            assert headed.read() == b""
        with pytest.raises(urllib.error.HTTPError) as failed:
            urllib.request.urlopen(server.url + "/echo/x?respond=raise")
        assert failed.value.code == 500
    module = cloud.invoker.loaded_module("PageFunction")
    assert module.DECISIONS == [{"request": "req-9", "decision": "approve", "comment": "fine"}]
    with pytest.raises(OSError):
        urllib.request.urlopen(server.url + "/approvals/req-9", timeout=2)


def test_to_the_function_the_served_browser_is_at_the_api_endpoint(cloud: LocalCloud):
    endpoint = cloud.http_endpoint()
    with serve(cloud) as server:
        port = server.url.rsplit(":", 1)[1]
        connection = http.client.HTTPConnection("127.0.0.1", int(port), timeout=30)
        connection.request(
            "POST",
            "/echo/x",
            body=b"{}",
            headers={
                "Content-Type": "application/json",
                "Origin": server.url,
                "Referer": f"{server.url}/approvals/req-1?x=1",
                "X-Other": server.url,
            },
        )
        event = json.loads(connection.getresponse().read())
        connection.request(
            "GET", "/echo/x?respond=redirect", headers={"Origin": "https://evil.example"}
        )
        redirect = connection.getresponse()
        redirect.read()
        connection.close()

    headers = event["headers"]
    assert headers["origin"] == endpoint
    assert headers["referer"] == f"{endpoint}/approvals/req-1?x=1"
    assert headers["x-other"] == server.url  # only Origin and Referer name the page's origin
    assert headers["host"] == event["requestContext"]["domainName"]
    assert redirect.status == 303
    assert redirect.headers["Location"] == f"{server.url}/approvals/done"


class _LineReader:
    """The process's stdout lines, read by a thread into a queue.

    select() on a text pipe misses lines already pulled into Python's buffer: two lines
    written together were read by one readline's fill, and the second never showed as ready.
    """

    def __init__(self, process: subprocess.Popen[str]) -> None:
        assert process.stdout is not None
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._ended = False
        self._thread = threading.Thread(target=self._pump, args=(process.stdout,), daemon=True)
        self._thread.start()

    def _pump(self, stdout: IO[str]) -> None:
        for line in stdout:
            self._lines.put(line.rstrip("\n"))
        self._lines.put(None)

    def read_until(self, pattern: str, seconds: float = 60) -> list[str]:
        """Lines up to the first that matches `pattern`."""
        lines: list[str] = []
        deadline = time.monotonic() + seconds
        while not self._ended and (left := deadline - time.monotonic()) > 0:
            try:
                line = self._lines.get(timeout=left)
            except queue.Empty:
                break
            if line is None:
                self._ended = True
                break
            lines.append(line)
            if re.search(pattern, line):
                return lines
        raise AssertionError(f"no line matching {pattern!r} in:\n" + "\n".join(lines))


def test_aiops_local_serve_prints_the_links_serves_and_stops_on_ctrl_c(tmp_path: Path):
    command = [sys.executable, "-m", "aiops_cli.main", "local", "serve", "--no-api"]
    stderr_file = (tmp_path / "stderr").open("w")
    process = subprocess.Popen(
        [*command, "--port", "0", str(FIXTURE / "scenario.yaml")],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=stderr_file,
        text=True,
        env=os.environ | {"PYTHONUNBUFFERED": "1"},
    )
    reader = _LineReader(process)
    try:
        lines = reader.read_until(r"link: ")
        serving = next(line for line in lines if line.startswith("serving "))
        base_url = re.search(r"on (http://127\.0\.0\.1:\d+) ", serving).group(1)  # type: ignore[union-attr]
        assert lines[-1].strip() == f"link: {base_url}/approvals/req-42  (Approve req-42)"
        with urllib.request.urlopen(f"{base_url}/approvals/req-42") as page:
            assert "<title>Request req-42</title>" in page.read().decode()
        reader.read_until(r"PageFunction ← WebApi GET /approvals/req-42: ok .*→ HTTP 200")

        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
        stderr_file.close()
    assert process.returncode == 0, (tmp_path / "stderr").read_text()
