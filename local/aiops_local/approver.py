"""A person acting on an approval mail, offline: find the link mailed to them (the approvals
topic's notices on the timeline), open it, read the form and post a decision — as a browser
does, through the template's HTTP API."""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import TYPE_CHECKING
from urllib.parse import urlencode

if TYPE_CHECKING:
    from aiops_local.cloud import LocalCloud
    from aiops_local.http_api import HttpResponse

_LINK = re.compile(r"https://[^\s/]+(/approvals/[A-Za-z0-9_-]+)")


class NoSuchLink(LookupError):
    pass


@dataclass(frozen=True)
class PageForm:
    action: str
    fields: dict[str, str]


class _FormReader(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.action: str | None = None
        self.fields: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "form" and self.action is None:
            self.action = values.get("action") or ""
        elif tag == "input" and values.get("type") == "hidden" and values.get("name"):
            self.fields[str(values["name"])] = values.get("value") or ""


def read_form(html: str) -> PageForm | None:
    reader = _FormReader()
    reader.feed(html)
    return None if reader.action is None else PageForm(reader.action, reader.fields)


class Approver:
    def __init__(self, cloud: LocalCloud) -> None:
        self.cloud = cloud
        # The forms seen per link: a page without a form (already decided) is answered by
        # resubmitting the old one, as a browser's back button and "resend" do.
        self._forms: dict[str, PageForm] = {}

    def link(self, to: str, model: str | None = None, version: int | None = None) -> str:
        """The path of the newest approval link mailed to `to` (for `model` / `version`)."""
        found: list[str] = []
        for entry in self.cloud.timeline.entries():
            if entry.get("kind") != "notify":
                continue
            if (entry.get("attributes") or {}).get("approver") != to:
                continue
            message = str(entry.get("message") or "")
            if model is not None and not message.startswith(f"Model {model}:"):
                continue
            if version is not None and f"candidate version {version} " not in message:
                continue
            found += _LINK.findall(message)
        if not found:
            raise NoSuchLink(
                f"no approval link was mailed to {to}"
                + (f" for {model}" if model else "")
                + (f" v{version}" if version is not None else "")
            )
        return found[-1]

    def open(self, path: str) -> HttpResponse:
        page = self.cloud.http("GET", path, headers={"sec-fetch-site": "none"})
        form = read_form(page.text)
        if form is not None:
            self._forms[path] = form
        return page

    def decide(self, path: str, decision: str, comment: str = "") -> HttpResponse:
        """Open the page, then submit its form with the button for `decision`, as a browser
        does (same-origin form post under the page's no-referrer policy)."""
        page = self.open(path)
        form = read_form(page.text) or self._forms.get(path)
        if form is None:
            return page  # nothing to click: the page says why
        fields = dict(form.fields)
        fields.update(decision=decision, comment=comment)
        return self.cloud.http(
            "POST",
            form.action,
            headers={
                "content-type": "application/x-www-form-urlencoded",
                "origin": "null",
                "sec-fetch-site": "same-origin",
            },
            body=urlencode(fields).encode(),
        )
