"""The approval page (HTTP API): GET and HEAD show the approval behind a link and change
nothing; POST decides it with the form's CSRF token. Routing with Powertools Event Handler;
pages rendered server-side (aiops.approval.render). The link id is a secret: never logged."""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import parse_qs

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response

from aiops.adapters.stack import Stack
from aiops.approval.model import PageView
from aiops.approval.page import DecisionForm, PageResponse, Visitor, post_decision, view_link
from aiops.approval.render import render_page
from aiops.clock import now
from aiops.observability import lambda_entry
from aiops.settings.approval import ApprovalPageSettings

STACK = Stack(ApprovalPageSettings())
app = APIGatewayHttpResolver()

# A decision form is a few hundred bytes; anything far larger is not ours.
MAX_FORM_BYTES = 8192
_CLAIMS = ("email", "cognito:username", "preferred_username", "sub")


def _headers(nonce: str) -> dict[str, str]:
    return {
        "Content-Type": "text/html; charset=utf-8",
        "Content-Security-Policy": (
            f"default-src 'none'; style-src 'nonce-{nonce}'; img-src data:; "
            "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
        ),
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-store, max-age=0",
        "Pragma": "no-cache",
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Strict-Transport-Security": "max-age=31536000; includeSubDomains",
        "X-Robots-Tag": "noindex, nofollow",
    }


def _page(page: PageResponse, with_body: bool = True) -> Response[str]:
    nonce = secrets.token_urlsafe(16)
    return Response(
        status_code=page.status_code,
        headers=_headers(nonce),
        body=render_page(page.view, nonce) if with_body else "",
    )


def _visitor() -> Visitor:
    event = app.current_event
    claims: dict[str, Any] = {}
    authorizer = event.request_context.authorizer
    if authorizer is not None:
        claims = authorizer.jwt_claim or {}
    # An e-mail counts only when the identity provider verified it (else anyone could sign up
    # with an approver's address); then the user name, or the subject.
    verified = str(claims.get("email_verified", "")).lower() == "true"
    names = _CLAIMS if verified else _CLAIMS[1:]
    identity = next((str(claims[c]) for c in names if claims.get(c)), None)
    if claims and identity is None:
        # Signed in, but as no one we can name: never the link's approver.
        identity = "an unnamed signed-in user"
    headers = {k.lower(): v for k, v in (event.headers or {}).items()}
    origin = headers.get("origin")
    own = f"https://{event.request_context.domain_name}"
    # Our own form posts with `Origin: null` (the page's no-referrer policy) or our origin;
    # browsers that send Sec-Fetch-Site say where the form came from.
    same_origin = headers.get("sec-fetch-site") in (None, "same-origin", "none") and origin in (
        None,
        "null",
        own,
    )
    return Visitor(identity=identity, same_origin=same_origin)


def _form() -> DecisionForm | PageResponse:
    """The decision form, or the refusal of a body that is not one (too large, not UTF-8, too
    many fields): a page, never a crash."""
    try:
        body = app.current_event.decoded_body or ""
        if len(body.encode()) > MAX_FORM_BYTES:
            return PageResponse(413, PageView(state="forbidden", message="form too large"))
        fields = parse_qs(body, keep_blank_values=True, max_num_fields=10)
    except ValueError:  # UnicodeDecodeError, binascii.Error, too many fields
        return PageResponse(
            400,
            PageView(
                state="forbidden",
                message="this is not the page's form; open the link from your mail again",
            ),
        )

    def first(name: str) -> str | None:
        values = fields.get(name)
        return values[0] if values else None

    return DecisionForm(
        csrf=first("csrf"), decision=first("decision"), comment=first("comment") or ""
    )


@app.get("/approvals/<link_id>")
def show(link_id: str) -> Response[str]:
    return _page(view_link(link_id, _visitor(), STACK.approval_decisions, now()))


@app.route("/approvals/<link_id>", method="HEAD")
def head(link_id: str) -> Response[str]:
    # Link scanners and prefetchers: the same answer as GET, nothing changes, no body.
    return _page(view_link(link_id, _visitor(), STACK.approval_decisions, now()), False)


@app.post("/approvals/<link_id>")
def decide(link_id: str) -> Response[str]:
    form = _form()
    if isinstance(form, PageResponse):
        return _page(form)
    return _page(post_decision(link_id, form, _visitor(), STACK.approval_decisions, now()))


@app.not_found
def not_found(_: Exception) -> Response[str]:
    return _page(PageResponse(404, PageView(state="not_found")))


@lambda_entry()
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return app.resolve(event, context)
