"""API Gateway HTTP APIs offline: the template's `AWS::ApiGatewayV2::*` resources in moto, requests
turned into payload format 2.0 events for the function a route's integration names, and a local
HTTP server in front of them.

    response = cloud.http("GET", "/approvals/abc")        # LocalCloud.http → HttpApis.request
    with serve(cloud, "127.0.0.1", 0) as server:          # a real HTTP server, on its own thread
        urllib.request.urlopen(server.url + "/approvals/abc")

What API Gateway does and this does too (HTTP API, `AWS_PROXY` integration, payload format 2.0):

* routes: `METHOD /path`, `ANY /path`, `{name}` and a final `{name+}` path variables, then
  `$default`; the `$default` stage serves at the root, a named stage under `/<stage>`;
* the event: header names lower-cased, repeated headers and query parameters joined with commas,
  the `cookie` header moved to `cookies`, `host` and `x-forwarded-*` as API Gateway sets them, the
  body as text only for `text/*`, `application/json`, `application/xml` and
  `application/javascript` (anything else, forms and a missing content type included, arrives
  base64-encoded with `isBase64Encoded: true`), `requestContext.authorizer.jwt` with the claims
  (as strings, as the JWT authorizer passes them) only when claims are given;
* a route whose `AuthorizationType` is `JWT` answers 401 without invoking anything when no claims
  are given (offline nothing checks a token: claims stand for a valid one);
* the response: `statusCode`, `headers`, `cookies` (one `set-cookie` each), `body`,
  `isBase64Encoded`; a response without `statusCode` (a string, any other JSON) is a 200
  `application/json` whose body is the string, or the JSON; `multiValueHeaders` is ignored, as
  API Gateway ignores it in format 2.0; a function error or a malformed response is a 500
  `{"message":"Internal Server Error"}`; HEAD reaches the function and its body is dropped;
* a function no `AWS::Lambda::Permission` lets `apigateway.amazonaws.com` invoke (for that API,
  if the permission names a `SourceArn`) is a 500 as well, with an `error` entry saying why.

What the template lacks (no HTTP API, no route for the request, a route whose integration is not
in the template or not a function of it) raises `HttpApiError`, which says what is missing.
"""

from __future__ import annotations

import base64
import fnmatch
import json
import re
import secrets
import sys
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode

from aiops_local.functions import FunctionBinding, Invoker, InvokeResult
from aiops_local.physical import Physical, execute_api_endpoint
from aiops_local.template import CloudTemplate
from aiops_local.timeline import Entry, Timeline

if TYPE_CHECKING:
    from aiops_local.cloud import LocalCloud

ClientFactory = Callable[[str], Any]

# Bodies API Gateway passes as text; every other content type (or none) arrives base64-encoded.
_TEXT_TYPES = frozenset({"application/json", "application/xml", "application/javascript"})
_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


# The parts of an HTTP API, in creation order: (moto operation, id in its answer, properties).
_PARTS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "Authorizer": (
        "create_authorizer",
        "AuthorizerId",
        (
            "ApiId",
            "AuthorizerType",
            "Name",
            "IdentitySource",
            "JwtConfiguration",
            "AuthorizerUri",
            "AuthorizerPayloadFormatVersion",
            "AuthorizerResultTtlInSeconds",
            "EnableSimpleResponses",
        ),
    ),
    "Integration": (
        "create_integration",
        "IntegrationId",
        (
            "ApiId",
            "IntegrationType",
            "IntegrationUri",
            "IntegrationMethod",
            "PayloadFormatVersion",
            "TimeoutInMillis",
            "Description",
        ),
    ),
    "Route": (
        "create_route",
        "RouteId",
        (
            "ApiId",
            "RouteKey",
            "Target",
            "AuthorizationType",
            "AuthorizerId",
            "AuthorizationScopes",
            "OperationName",
        ),
    ),
    "Stage": (
        "create_stage",
        "StageName",
        ("ApiId", "StageName", "AutoDeploy", "Description", "StageVariables"),
    ),
}


class HttpApiError(LookupError):
    """The template cannot serve the request: says what is missing."""


class RouteNotFound(HttpApiError):
    """No route of the API matches the request (API Gateway answers 404 Not Found)."""


@dataclass
class HttpResponse:
    """What API Gateway sends back: `headers` as the function gave them (plus `content-length`
    and `apigw-requestid`), each of `cookies` a `set-cookie` header."""

    status: int
    headers: dict[str, str]
    body: bytes
    cookies: list[str] = field(default_factory=list)

    def header(self, name: str) -> str | None:
        """A header's value, whatever the case of its name."""
        wanted = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == wanted), None)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")

    def json(self) -> Any:
        return json.loads(self.body)

    def header_items(self) -> list[tuple[str, str]]:
        """Every header line of the response, a `set-cookie` for each cookie included."""
        return list(self.headers.items()) + [("set-cookie", c) for c in self.cookies]


@dataclass(frozen=True)
class _Route:
    logical_id: str
    key: str
    target: str
    authorization: str

    def match(self, method: str, path: str) -> dict[str, str] | None:
        """The path parameters when the route matches `method path`, else None."""
        if self.key == "$default":
            return {}
        route_method, _, route_path = self.key.partition(" ")
        if route_method not in ("ANY", method):
            return None
        wanted = route_path.split("/")
        given = path.split("/")
        parameters: dict[str, str] = {}
        for index, part in enumerate(wanted):
            if part.startswith("{") and part.endswith("+}"):
                rest = "/".join(given[index:])
                if not rest:
                    return None
                parameters[part[1:-2]] = rest
                return parameters
            if index >= len(given):
                return None
            if part.startswith("{") and part.endswith("}"):
                if not given[index]:
                    return None
                parameters[part[1:-1]] = given[index]
            elif part != given[index]:
                return None
        return parameters if len(given) == len(wanted) else None

    @property
    def rank(self) -> tuple[int, int, int, int]:
        """Sort key: exact paths first, then path variables, greedy ones, `$default` last; a
        route for the method before one for ANY."""
        if self.key == "$default":
            return (1, 0, 0, 0)
        method, _, path = self.key.partition(" ")
        parts = path.split("/")
        greedy = int(any(p.endswith("+}") for p in parts))
        variables = sum(1 for p in parts if p.startswith("{"))
        return (0, greedy, variables, int(method == "ANY"))


@dataclass
class _Api:
    logical_id: str
    api_id: str
    endpoint: str
    stages: dict[str, dict[str, str]]  # stage name → its stage variables
    routes: list[_Route]
    from_body: bool

    @property
    def domain(self) -> str:
        return self.endpoint.removeprefix("https://")


class HttpApis:
    """The template's HTTP APIs: created in moto at start, and serving requests afterwards."""

    def __init__(
        self,
        template: CloudTemplate,
        invoker: Invoker,
        timeline: Timeline,
        now: Callable[[], datetime],
        client: ClientFactory,
    ) -> None:
        self._t = template
        self._invoker = invoker
        self._timeline = timeline
        self._now = now
        self._client = client
        self._apis: dict[str, _Api] | None = None

    # ------------------------------------------------------------------ provisioning
    def provision(self) -> list[str]:
        """Create the APIs, authorizers, integrations, routes and stages in moto, and record the
        ids moto gives them, before anything resolves them (functions read `ApiEndpoint`).
        A part moto refuses keeps its stand-in id and is still served; a warning says so."""
        warnings: list[str] = []
        apigw = self._client("apigatewayv2")
        steps: list[tuple[str, Callable[[Any, dict[str, Any]], Physical]]] = [
            ("AWS::ApiGatewayV2::Api", self._create_api),
            *((f"AWS::ApiGatewayV2::{kind}", partial(self._create_part, kind)) for kind in _PARTS),
        ]
        for resource_type, create in steps:
            for resource in self._t.of_type(resource_type):
                logical_id = resource.logical_id
                try:
                    physical = create(apigw, self._t.properties(logical_id))
                except Exception as error:  # noqa: BLE001 - moto refusing a part is only a warning
                    warnings.append(
                        f"{logical_id}: not created in moto's API Gateway ({error}); "
                        "served offline with a stand-in id"
                    )
                else:
                    self._t.set_physical(logical_id, physical)
        return warnings

    def _create_api(self, apigw: Any, props: dict[str, Any]) -> Physical:
        args = {
            "Name": props.get("Name") or "api",
            "ProtocolType": props.get("ProtocolType", "HTTP"),
        }
        for key in ("Description", "RouteSelectionExpression", "Tags", "Version"):
            if props.get(key) is not None:
                args[key] = props[key]
        if props.get("CorsConfiguration"):
            args["CorsConfiguration"] = props["CorsConfiguration"]
        created = apigw.create_api(**args)
        api_id = created["ApiId"]
        return Physical(api_id, {"ApiId": api_id, "ApiEndpoint": created["ApiEndpoint"]})

    @staticmethod
    def _create_part(kind: str, apigw: Any, props: dict[str, Any]) -> Physical:
        """An authorizer, integration, route or stage, with the properties moto takes."""
        operation, id_key, keys = _PARTS[kind]
        created = getattr(apigw, operation)(**{k: props[k] for k in keys if k in props})
        part_id = created[id_key]
        # A stage is referred to by its name alone; the others by an id attribute too.
        return Physical(part_id) if kind == "Stage" else Physical(part_id, {id_key: part_id})

    # ------------------------------------------------------------------ the template's APIs
    def _load(self) -> dict[str, _Api]:
        if self._apis is not None:
            return self._apis
        apis: dict[str, _Api] = {}
        for resource in self._t.of_type("AWS::ApiGatewayV2::Api"):
            props = self._t.properties(resource.logical_id)
            if props.get("ProtocolType", "HTTP") != "HTTP":
                continue
            api_id = str(self._t.ref(resource.logical_id))
            try:
                endpoint = str(self._t.get_att(resource.logical_id, "ApiEndpoint"))
            except ValueError:
                endpoint = execute_api_endpoint(self._t.env, api_id)
            apis[resource.logical_id] = _Api(
                logical_id=resource.logical_id,
                api_id=api_id,
                endpoint=endpoint,
                stages={},
                routes=[],
                from_body=bool(props.get("Body") or props.get("BodyS3Location")),
            )
        by_id = {api.api_id: api for api in apis.values()}
        for resource in self._t.of_type("AWS::ApiGatewayV2::Stage"):
            props = self._t.properties(resource.logical_id)
            stage_api = by_id.get(str(props.get("ApiId")))
            if stage_api is not None:
                variables = props.get("StageVariables") or {}
                stage_api.stages[str(props["StageName"])] = {
                    str(k): str(v) for k, v in variables.items()
                }
        for resource in self._t.of_type("AWS::ApiGatewayV2::Route"):
            props = self._t.properties(resource.logical_id)
            route_api = by_id.get(str(props.get("ApiId")))
            if route_api is not None:
                route_api.routes.append(
                    _Route(
                        logical_id=resource.logical_id,
                        key=str(props["RouteKey"]),
                        target=str(props.get("Target") or ""),
                        authorization=str(props.get("AuthorizationType") or "NONE"),
                    )
                )
        for api in apis.values():
            api.routes.sort(key=lambda r: r.rank)
        self._apis = apis
        return apis

    def _api(self, name: str | None) -> _Api:
        apis = self._load()
        if not apis:
            raise HttpApiError(
                f"{self._t.path.name} defines no HTTP API "
                "(an AWS::ApiGatewayV2::Api with ProtocolType HTTP)"
            )
        if name is None:
            if len(apis) > 1:
                raise HttpApiError(f"several HTTP APIs ({', '.join(sorted(apis))}): name one")
            return next(iter(apis.values()))
        for api in apis.values():
            if name in (api.logical_id, api.api_id):
                return api
        raise HttpApiError(f"no HTTP API {name!r}; the template has {', '.join(sorted(apis))}")

    def endpoint(self, api: str | None = None) -> str:
        """The API's default endpoint, `https://<api-id>.execute-api.<region>.amazonaws.com`."""
        return self._api(api).endpoint

    # ------------------------------------------------------------------ serving a request
    def request(
        self,
        method: str,
        path: str,
        headers: Mapping[str, str] | Iterable[tuple[str, str]] | None = None,
        body: bytes | str = b"",
        query: Mapping[str, str | Sequence[str]] | str | None = None,
        claims: Mapping[str, Any] | None = None,
        *,
        scopes: Sequence[str] | None = None,
        api: str | None = None,
        source_ip: str = "127.0.0.1",
    ) -> HttpResponse:
        method = method.upper()
        target = self._api(api)
        raw_path, _, path_query = path.partition("?")
        raw_path = raw_path or "/"
        raw_query = "&".join(q for q in (path_query, _query_string(query)) if q)
        stage, route_path = self._stage(target, raw_path)
        route, path_parameters = self._route(target, method, route_path)
        binding = self._function(target, route)
        request_id = _request_id()
        if route.authorization == "JWT" and claims is None:
            return _message(401, "Unauthorized", request_id)
        if route.authorization not in ("NONE", "JWT"):
            raise HttpApiError(
                f"route {route.logical_id} uses AuthorizationType {route.authorization}, "
                "which is not served offline (NONE and JWT are)"
            )
        if not self._permitted(binding, target, stage, route):
            self._timeline.add(
                "error",
                f"{target.logical_id} {method} {raw_path}: API Gateway may not invoke "
                f"{binding.logical_id}: no AWS::Lambda::Permission lets apigateway.amazonaws.com "
                "invoke it from this API → HTTP 500",
                error="MissingPermission",
                function=binding.logical_id,
            )
            return _message(500, "Internal Server Error", request_id)
        event = self._event(
            target,
            stage,
            route,
            method,
            raw_path,
            raw_query,
            headers,
            body.encode("utf-8") if isinstance(body, str) else bytes(body),
            claims,
            scopes,
            path_parameters,
            source_ip,
            request_id,
        )
        result = self._invoker.invoke(
            binding, event, via=f"{target.logical_id} {method} {shown_path(raw_path)}"
        )
        response, problem = _response(result, request_id)
        if problem is not None:
            self._timeline.add(
                "error",
                f"{binding.logical_id}: malformed response for API Gateway ({problem}) → HTTP 500",
                error="MalformedLambdaResponse",
                function=binding.logical_id,
            )
        self._note_status(result.request_id, response.status)
        if method == "HEAD":
            response.body = b""
        return response

    def _stage(self, api: _Api, raw_path: str) -> tuple[str, str]:
        """The stage serving `raw_path`, and the path its routes see."""
        for name in api.stages:
            if name != "$default" and (raw_path == f"/{name}" or raw_path.startswith(f"/{name}/")):
                return name, raw_path[len(name) + 1 :] or "/"
        if "$default" in api.stages:
            return "$default", raw_path
        if not api.stages:
            raise HttpApiError(
                f"HTTP API {api.logical_id} has no stage: API Gateway serves nothing until one "
                "is deployed (an AWS::ApiGatewayV2::Stage, e.g. StageName: $default, "
                "AutoDeploy: true)"
            )
        raise RouteNotFound(
            f"{raw_path} is under no stage of HTTP API {api.logical_id} "
            f"(stages: {', '.join(sorted(api.stages))}); there is no $default stage"
        )

    def _route(self, api: _Api, method: str, path: str) -> tuple[_Route, dict[str, str]]:
        if api.from_body and not api.routes:
            raise HttpApiError(
                f"HTTP API {api.logical_id} defines its routes in an OpenAPI Body, which is not "
                "served offline: declare AWS::ApiGatewayV2::Route and ::Integration resources"
            )
        for route in api.routes:
            parameters = route.match(method, path)
            if parameters is not None:
                return route, parameters
        known = ", ".join(r.key for r in api.routes) or "none"
        raise RouteNotFound(
            f"no route of HTTP API {api.logical_id} matches {method} {path} (routes: {known}); "
            "API Gateway answers 404 Not Found"
        )

    def _function(self, api: _Api, route: _Route) -> FunctionBinding:
        kind, _, integration_id = route.target.partition("/")
        if kind != "integrations" or not integration_id:
            raise HttpApiError(
                f"route {route.logical_id} ({route.key}) of HTTP API {api.logical_id} has no "
                f"integration: its Target is {route.target!r}, not 'integrations/<id>'"
            )
        for resource in self._t.of_type("AWS::ApiGatewayV2::Integration"):
            if str(self._t.ref(resource.logical_id)) != integration_id:
                continue
            props = self._t.properties(resource.logical_id)
            if str(props.get("ApiId")) != api.api_id:
                continue
            where = f"integration {resource.logical_id} of route {route.logical_id}"
            if props.get("IntegrationType") != "AWS_PROXY":
                raise HttpApiError(
                    f"{where} is of type {props.get('IntegrationType')}: only AWS_PROXY (Lambda) "
                    "integrations are served offline"
                )
            if str(props.get("PayloadFormatVersion", "")) != "2.0":
                raise HttpApiError(
                    f"{where} uses payload format {props.get('PayloadFormatVersion')!r}: only "
                    "2.0 is served offline"
                )
            uri = str(props.get("IntegrationUri") or "")
            if "/functions/" in uri:  # arn:aws:apigateway:<region>:lambda:path/.../invocations
                uri = uri.split("/functions/", 1)[1].removesuffix("/invocations")
            binding = self._invoker.binding_for(uri)
            if binding is None:
                raise HttpApiError(f"{where} invokes {uri!r}, which is no function of the template")
            return binding
        raise HttpApiError(
            f"route {route.logical_id} ({route.key}) targets {route.target}, which is no "
            f"AWS::ApiGatewayV2::Integration of HTTP API {api.logical_id} in the template"
        )

    def _permitted(self, binding: FunctionBinding, api: _Api, stage: str, route: _Route) -> bool:
        env = self._t.env
        method, _, route_path = route.key.partition(" ")
        resource = "$default" if route.key == "$default" else f"{method}{route_path}"
        source = f"arn:{env.partition}:execute-api:{env.region}:{env.account}:{api.api_id}"
        candidates = (f"{source}/{stage}/{resource}", f"{source}/*/{resource}")
        for permission in self._t.of_type("AWS::Lambda::Permission"):
            props = self._t.properties(permission.logical_id)
            if props.get("Action") not in ("lambda:InvokeFunction", "lambda:*"):
                continue
            if props.get("Principal") != "apigateway.amazonaws.com":
                continue
            function = str(props.get("FunctionName") or "")
            if function not in (binding.name, binding.arn, binding.logical_id):
                continue
            pattern = props.get("SourceArn")
            if pattern is None or any(fnmatch.fnmatchcase(c, str(pattern)) for c in candidates):
                return True
        return False

    def _event(
        self,
        api: _Api,
        stage: str,
        route: _Route,
        method: str,
        raw_path: str,
        raw_query: str,
        headers: Mapping[str, str] | Iterable[tuple[str, str]] | None,
        body: bytes,
        claims: Mapping[str, Any] | None,
        scopes: Sequence[str] | None,
        path_parameters: dict[str, str],
        source_ip: str,
        request_id: str,
    ) -> dict[str, Any]:
        """The payload format 2.0 event API Gateway sends the integration's function."""
        now = self._now()
        lowered: dict[str, str] = {}
        cookies: list[str] = []
        pairs = headers.items() if isinstance(headers, Mapping) else (headers or [])
        for name, value in pairs:
            key = str(name).lower()
            if key == "cookie":
                cookies += [c.strip() for c in str(value).split(";") if c.strip()]
            elif key not in ("host", "content-length", "connection"):
                lowered[key] = f"{lowered[key]},{value}" if key in lowered else str(value)
        forwarded = lowered.get("x-forwarded-for")
        lowered.update(
            {
                "host": api.domain,
                "x-forwarded-for": f"{forwarded}, {source_ip}" if forwarded else source_ip,
                "x-forwarded-port": "443",
                "x-forwarded-proto": "https",
            }
        )
        lowered.setdefault(
            "x-amzn-trace-id", f"Root=1-{int(now.timestamp()):08x}-{secrets.token_hex(12)}"
        )
        if body:
            lowered["content-length"] = str(len(body))
        context: dict[str, Any] = {
            "accountId": self._t.env.account,
            "apiId": api.api_id,
            "domainName": api.domain,
            "domainPrefix": api.api_id,
            "http": {
                "method": method,
                "path": raw_path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": lowered.get("user-agent", ""),
            },
            "requestId": request_id,
            "routeKey": route.key,
            "stage": stage,
            "time": (
                f"{now.day:02d}/{_MONTHS[now.month - 1]}/{now.year}:"
                f"{now.strftime('%H:%M:%S')} +0000"
            ),
            "timeEpoch": int(now.timestamp() * 1000),
        }
        if claims is not None:
            if scopes is None and isinstance(claims.get("scope"), str):
                scopes = str(claims["scope"]).split()
            context["authorizer"] = {
                "jwt": {
                    "claims": {str(k): _claim(v) for k, v in claims.items()},
                    "scopes": list(scopes) if scopes is not None else None,
                }
            }
        event: dict[str, Any] = {
            "version": "2.0",
            "routeKey": route.key,
            "rawPath": raw_path,
            "rawQueryString": raw_query,
        }
        if cookies:
            event["cookies"] = cookies
        event["headers"] = lowered
        parameters = _query_parameters(raw_query)
        if parameters:
            event["queryStringParameters"] = parameters
        event["requestContext"] = context
        if path_parameters:
            event["pathParameters"] = path_parameters
        if api.stages.get(stage):
            event["stageVariables"] = api.stages[stage]
        encoded = False
        if body:
            text = _as_text(body, lowered.get("content-type"))
            encoded = text is None
            event["body"] = base64.b64encode(body).decode("ascii") if text is None else text
        event["isBase64Encoded"] = encoded
        return event

    def _note_status(self, request_id: str, status: int) -> None:
        """The HTTP status on the invocation's timeline entry."""
        for entry in reversed(self._timeline.entries()):
            if entry["kind"] == "invoke" and entry.get("request_id") == request_id:
                entry.update(http_status=status, text=f"{entry['text']} → HTTP {status}")
                return


# ---------------------------------------------------------------------- event and response
def _request_id() -> str:
    # The shape of API Gateway's ids for HTTP APIs: 16 characters, base64 of 10 bytes.
    return base64.b64encode(secrets.token_bytes(10)).decode("ascii")


def _query_string(query: Mapping[str, str | Sequence[str]] | str | None) -> str:
    if query is None or isinstance(query, str):
        return query or ""
    pairs: list[tuple[str, str]] = []
    for key, value in query.items():
        values = [value] if isinstance(value, str) else list(value)
        pairs += [(key, str(v)) for v in values]
    return urlencode(pairs)


def _query_parameters(raw_query: str) -> dict[str, str]:
    parameters: dict[str, str] = {}
    for key, value in parse_qsl(raw_query, keep_blank_values=True):
        parameters[key] = f"{parameters[key]},{value}" if key in parameters else value
    return parameters


def _as_text(body: bytes, content_type: str | None) -> str | None:
    """The body as API Gateway passes it as text, or None when it base64-encodes it."""
    media_type = (content_type or "").split(";")[0].strip().lower()
    if not (media_type.startswith("text/") or media_type in _TEXT_TYPES):
        return None
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _claim(value: Any) -> str:
    """A JWT claim as API Gateway's JWT authorizer passes it: always a string."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return "[" + " ".join(_claim(v) for v in value) + "]"
    if isinstance(value, dict):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def _message(status: int, message: str, request_id: str) -> HttpResponse:
    body = json.dumps({"message": message}, separators=(",", ":")).encode()
    return HttpResponse(
        status, _gateway_headers({"content-type": "application/json"}, body, request_id), body
    )


def _gateway_headers(headers: dict[str, str], body: bytes, request_id: str) -> dict[str, str]:
    kept = {
        k: v for k, v in headers.items() if k.lower() not in ("content-length", "apigw-requestid")
    }
    return kept | {"content-length": str(len(body)), "apigw-requestid": request_id}


def _response(result: InvokeResult, request_id: str) -> tuple[HttpResponse, str | None]:
    """API Gateway's response to the function's result, and what was malformed in it (if so)."""
    if not result.ok:
        return _message(500, "Internal Server Error", request_id), None
    payload = result.payload
    if not (isinstance(payload, dict) and "statusCode" in payload):
        body = (payload if isinstance(payload, str) else json.dumps(payload)).encode("utf-8")
        headers = _gateway_headers({"content-type": "application/json"}, body, request_id)
        return HttpResponse(200, headers, body), None
    problem = _malformed(payload)
    if problem is not None:
        return _message(500, "Internal Server Error", request_id), problem
    text = payload.get("body") or ""
    data = base64.b64decode(text) if payload.get("isBase64Encoded") else text.encode("utf-8")
    headers = {str(k): _header_value(v) for k, v in (payload.get("headers") or {}).items()}
    cookies = [str(c) for c in payload.get("cookies") or []]
    response = HttpResponse(
        int(payload["statusCode"]), _gateway_headers(headers, data, request_id), data, cookies
    )
    return response, None


def _malformed(payload: dict[str, Any]) -> str | None:
    status = payload["statusCode"]
    if isinstance(status, bool) or not isinstance(status, (int, str)):
        return f"statusCode {status!r} is not a number"
    if not str(status).isdigit() or not 100 <= int(status) <= 599:
        return f"statusCode {status!r} is not an HTTP status"
    if payload.get("body") is not None and not isinstance(payload["body"], str):
        return f"body is a {type(payload['body']).__name__}, not a string"
    if not isinstance(payload.get("headers") or {}, dict):
        return "headers is not an object"
    if not isinstance(payload.get("cookies") or [], list):
        return "cookies is not a list"
    if payload.get("isBase64Encoded") and payload.get("body"):
        try:
            base64.b64decode(payload["body"], validate=True)
        except ValueError:
            return "isBase64Encoded is true but body is not base64"
    return None


def _header_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# ---------------------------------------------------------------------- links in notifications
_SECRET_SEGMENT = re.compile(r"[A-Za-z0-9_-]{20,}")


def shown_path(path: str) -> str:
    """A request path for the timeline: a long opaque segment (an approval link's id is a
    secret, like a password) is cut to its first characters, as a log must show it."""
    return "/".join(
        f"{part[:4]}…" if _SECRET_SEGMENT.fullmatch(part) else part for part in path.split("/")
    )


def local_links(
    entries: Iterable[Entry], endpoint: str, base_url: str, contains: str = ""
) -> list[tuple[str, str]]:
    """`(subject, local URL)` for every link to `endpoint` in the timeline's `notify` entries
    (SNS messages) whose path contains `contains`, rewritten to `base_url`; each link once."""
    pattern = re.compile(re.escape(endpoint.rstrip("/")) + r"(/[^\s\"'<>\\]*)?")
    links: list[tuple[str, str]] = []
    seen: set[str] = set()
    for entry in entries:
        if entry.get("kind") != "notify":
            continue
        for match in pattern.finditer(str(entry.get("message") or "")):
            path = (match.group(1) or "/").rstrip(".,;:!?)]}")
            url = base_url.rstrip("/") + path
            if contains in path and url not in seen:
                seen.add(url)
                links.append((str(entry.get("subject") or entry.get("topic") or ""), url))
    return links


# ---------------------------------------------------------------------- a local HTTP server
class LocalHttpServer:
    """The cloud's HTTP API on a local port, served from a background thread.

    Requests reach the cloud one at a time (`lock`; hold it too when driving the cloud from another
    thread meanwhile), each followed by running the cloud until quiet (`settle`), so what a
    request set off has happened when its response arrives.

    To the function the browser is at the API's endpoint, as on AWS: `Origin` and `Referer`
    naming this server name the endpoint instead (and `host` is the endpoint's, as for every
    request), and a `Location` to the endpoint comes back naming this server. A request no route
    matches is API Gateway's 404; a template that cannot serve it a 500 (stderr says why)."""

    def __init__(
        self,
        cloud: LocalCloud,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        api: str | None = None,
        claims: Mapping[str, Any] | None = None,
        settle: bool = True,
        on_request: Callable[[HttpResponse], None] | None = None,
        lock: threading.Lock | None = None,
    ) -> None:
        self.cloud = cloud
        self.api = api
        self.claims = claims
        self.settle = settle
        self.on_request = on_request
        self.lock = lock or threading.Lock()
        self.endpoint = cloud.http_endpoint(api)
        self._server = ThreadingHTTPServer((host, port), _handler_class(self))
        self._server.daemon_threads = True
        self.host = host
        self.port = int(self._server.server_address[1])
        shown_host = f"[{host}]" if ":" in host else host
        self.url = f"http://{shown_host}:{self.port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="aiops-local-http", daemon=True
        )
        self._thread.start()

    def __enter__(self) -> LocalHttpServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()

    def shutdown(self) -> None:
        """Stop serving; a request in progress is finished first."""
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join()
        self._server.server_close()
        # Whatever a request was doing in the cloud ends before the caller stops the cloud.
        with self.lock:
            pass

    def handle(
        self, method: str, path: str, headers: list[tuple[str, str]], body: bytes, source_ip: str
    ) -> HttpResponse:
        host = next((v for k, v in headers if k.lower() == "host"), "")
        here = f"http://{host}" if host else self.url
        with self.lock:
            try:
                response = self.cloud.http(
                    method,
                    path,
                    headers=[(k, _rebase(k, v, here, self.endpoint)) for k, v in headers],
                    body=body,
                    claims=self.claims,
                    api=self.api,
                    source_ip=source_ip,
                )
            except RouteNotFound as error:
                print(f"aiops local serve: {error}", file=sys.stderr)
                response = _message(404, "Not Found", _request_id())
            except HttpApiError as error:
                print(f"aiops local serve: {error}", file=sys.stderr)
                response = _message(500, "Internal Server Error", _request_id())
            response.headers = {
                k: (_rebase("location", v, self.endpoint, here) if k.lower() == "location" else v)
                for k, v in response.headers.items()
            }
            if self.settle:
                self.cloud.run_until_quiet()
            if self.on_request is not None:
                self.on_request(response)
            return response


def _rebase(name: str, value: str, origin: str, to: str) -> str:
    """An `Origin`, `Referer` or `Location` value under `origin`, moved under `to`."""
    if name.lower() not in ("origin", "referer", "location"):
        return value
    if value == origin or value.startswith(origin + "/"):
        return to + value[len(origin) :]
    return value


def _handler_class(server: LocalHttpServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "aiops-local-http-api"

        def _serve(self) -> None:
            if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
                self.send_error(
                    411, "chunked request bodies are not supported: send Content-Length"
                )
                return
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            try:
                response = server.handle(
                    self.command,
                    self.path,
                    list(self.headers.items()),
                    body,
                    self.client_address[0],
                )
            except Exception as error:  # noqa: BLE001 - the runtime failing is a 502 and a line
                print(f"aiops local serve: the offline runtime failed: {error!r}", file=sys.stderr)
                response = _message(502, "Bad Gateway", _request_id())
            self.send_response(response.status)
            for name, value in response.header_items():
                self.send_header(name, value)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(response.body)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # the timeline says what each request did

    for method in _METHODS:
        setattr(Handler, f"do_{method}", Handler._serve)
    return Handler


# `serve(cloud, host, port, api=..., claims=...)`: the server is its own context manager.
serve = LocalHttpServer
