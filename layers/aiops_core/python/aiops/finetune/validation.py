"""Validating labeled fine-tuning data, one JSONL file at a time, in bounded memory.

A labeled file is read as a stream of byte chunks (an S3 body's `iter_chunks`), cut into lines
(`split_lines`, which never holds more than one line, and never more than `max_line_bytes` of
it), and every line gets a verdict (`check_record`): no problems, or each problem with the line,
the field (a JSON path such as `messages[2].role`), a stable `kind` code and a reason a labeler
can act on. `ReportBuilder` folds the verdicts into a `ValidationReport` holding counts and a
few examples only, so memory does not grow with the file. `validate` does all three in one call
and hands every record to a callback (good ones to the training file, bad ones to quarantine).

The rules are Bedrock's, per record format (see `aiops.base_models`): a record Bedrock would
refuse fails the whole customization job an hour later, so the checks err towards refusing.
No input raises: every byte string gets a verdict.
"""

import json
import math
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, NamedTuple

from pydantic import BaseModel, ConfigDict, Field

from aiops.base_models import BaseModelSpec, RecordFormat

CONVERSATION_SCHEMA = "bedrock-conversation-2024"
ROLES = ("user", "assistant")
IMAGE_FORMATS = frozenset({"jpeg", "png", "gif", "webp"})
BOM = b"\xef\xbb\xbf"
# A too-long line keeps this many of its first bytes, for the report's example.
HEAD_BYTES = 512
EXCERPT_CHARS = 200
# Lines are read whole up to this size at least (see `default_max_line_bytes`).
MIN_LINE_BYTES = 1 << 20
# A record broken everywhere reports this many problems, not one per message.
MAX_PROBLEMS_PER_RECORD = 20
# Distinct (field pattern, kind) groups a report counts; field names come from the data
# (unexpected keys), so the rest fall into one "(other)" group.
MAX_PROBLEM_GROUPS = 100

KINDS = (
    "empty_line",
    "line_too_long",
    "not_utf8",
    "invalid_json",
    "duplicate_key",
    "not_object",
    "missing_field",
    "extra_field",
    "wrong_type",
    "empty_text",
    "schema_version",
    "invalid_role",
    "too_few_messages",
    "first_role",
    "role_order",
    "last_role",
    "reserved_string",
    "too_many_tokens",
    "images_not_allowed",
    "invalid_image",
    "system_not_allowed",
    "internal_error",
)


class Problem(BaseModel):
    """One rule a record breaks."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)
    line: int = Field(ge=0)
    # A JSON path (`messages[2].role`, `prompt`), or `(record)` for the record as a whole.
    field: str
    kind: str
    reason: str


class Line(NamedTuple):
    number: int
    # The line without its end of line; only its first HEAD_BYTES when it is too long.
    data: bytes
    # The whole line's length in bytes.
    length: int
    too_long: bool


def default_max_line_bytes(spec: BaseModelSpec) -> int:
    """The longest line read whole: room for a record of the most tokens the model takes, even
    written with JSON escapes (up to 6 bytes a character), and never under 1 MiB."""
    chars = math.ceil(spec.max_record_tokens * spec.chars_per_token)
    return max(MIN_LINE_BYTES, chars * 8)


def split_lines(chunks: Iterable[bytes], max_line_bytes: int) -> Iterator[Line]:
    """Numbered lines from a stream of byte chunks, holding at most `max_line_bytes` (plus one
    chunk) of a line: a longer line is yielded as `too_long` with its first bytes and its
    length, and the rest of it is skipped, not buffered. `\\r\\n` ends a line like `\\n`; a last
    line without an end is a line; a UTF-8 byte order mark before the first line is dropped.
    Blank lines are yielded (they are records Bedrock refuses)."""
    if max_line_bytes < 1:
        raise ValueError("max_line_bytes must be at least 1")
    number = 0
    pending = bytearray()
    skipping = False  # inside a too-long line: counting its bytes, keeping only its head
    skip_head = b""
    skip_length = 0
    # A line with its "\r" may be one byte over the limit.
    hold = max_line_bytes + 1
    for chunk in chunks:
        if not chunk:
            continue
        if b"\n" not in chunk:
            if skipping:
                skip_length += len(chunk)
            else:
                pending += chunk
                if len(pending) > hold:
                    skipping, skip_head, skip_length = (
                        True,
                        bytes(pending[:HEAD_BYTES]),
                        len(pending),
                    )
                    pending = bytearray()
            continue
        pieces = chunk.split(b"\n")
        tail = pieces.pop()
        start = 0
        if skipping:
            number += 1
            yield Line(number, skip_head, skip_length + len(pieces[0]), True)
            skipping, skip_head, start = False, b"", 1
        elif pending:
            pending += pieces[0]
            number += 1
            yield _line(number, bytes(pending), max_line_bytes)
            pending = bytearray()
            start = 1
        for index in range(start, len(pieces)):
            number += 1
            yield _line(number, pieces[index], max_line_bytes)
        if tail:
            if len(tail) > hold:
                skipping, skip_head, skip_length = True, tail[:HEAD_BYTES], len(tail)
            else:
                pending += tail
    if skipping:
        yield Line(number + 1, skip_head, skip_length, True)
    elif pending:
        yield _line(number + 1, bytes(pending), max_line_bytes)


def _line(number: int, data: bytes, max_line_bytes: int) -> Line:
    if data.endswith(b"\r"):
        data = data[:-1]
    if number == 1 and data.startswith(BOM):
        data = data[len(BOM) :]
    length = len(data)
    if length > max_line_bytes:
        return Line(number, data[:HEAD_BYTES], length, True)
    return Line(number, data, length, False)


# ---------------------------------------------------------------------------------------------
# One record


class _DuplicateKeyError(Exception):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


class _NonFiniteError(Exception):
    def __init__(self, literal: str) -> None:
        super().__init__(literal)
        self.literal = literal


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKeyError(key)
            seen.add(key)
    return obj


def _reject_constant(literal: str) -> Any:
    raise _NonFiniteError(literal)


# Python's json accepts NaN/Infinity and keeps the last of duplicate keys; JSON (and Bedrock's
# parser) does neither, so both are refused here.
_decode = json.JSONDecoder(object_pairs_hook=_unique_keys, parse_constant=_reject_constant).decode

_MISSING: Any = object()
_Path = tuple[str | int, ...]


class _Problems:
    """The problems of one record, at most MAX_PROBLEMS_PER_RECORD of them."""

    __slots__ = ("items", "line")

    def __init__(self, line: int) -> None:
        self.line = line
        self.items: list[Problem] = []

    def add(self, path: _Path | str, kind: str, reason: str) -> None:
        if len(self.items) < MAX_PROBLEMS_PER_RECORD:
            field = path if isinstance(path, str) else _format_path(path)
            self.items.append(Problem(line=self.line, field=field, kind=kind, reason=reason))


_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")


def _format_path(path: _Path) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _IDENTIFIER.fullmatch(part):
            out += f".{part}" if out else part
        else:  # a key from the data: quoted and cut, so a field name stays short and printable
            out += f"[{json.dumps(part[:40])}]"
    return out or "(record)"


def _type_name(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


class _Rules:
    """A base model's rules, prepared once: the checks run per record."""

    def __init__(self, spec: BaseModelSpec) -> None:
        self.spec = spec
        self.name = short_name(spec.model_id)
        self.reserved = spec.reserved_strings
        # One pass over a record's texts finds any reserved string (measured faster than one
        # `in` per string once there are more than a few).
        self.reserved_pattern = (
            re.compile("|".join(re.escape(s) for s in spec.reserved_strings))
            if spec.reserved_strings
            else None
        )
        checks: dict[RecordFormat, Callable[[dict[str, Any], _Problems, _Texts], None]] = {
            RecordFormat.CONVERSATION: self._conversation,
            RecordFormat.CLAUDE_MESSAGES: self._claude_messages,
            RecordFormat.PROMPT_COMPLETION: self._prompt_completion,
        }
        self.check_format = checks[spec.format]

    # --- per format ------------------------------------------------------------------------

    def _conversation(self, record: dict[str, Any], out: _Problems, texts: "_Texts") -> None:
        for key in record:
            if key not in ("schemaVersion", "system", "messages"):
                out.add(
                    (key,),
                    "extra_field",
                    f"unexpected key {key[:40]!r}; a record has schemaVersion, system and messages",
                )
        version = record.get("schemaVersion", _MISSING)
        if version is _MISSING:
            out.add(
                "schemaVersion", "missing_field", f"missing; it must be {CONVERSATION_SCHEMA!r}"
            )
        elif type(version) is not str:
            out.add(
                "schemaVersion",
                "wrong_type",
                f"expected the string {CONVERSATION_SCHEMA!r}, found {_type_name(version)}",
            )
        elif version != CONVERSATION_SCHEMA:
            out.add(
                "schemaVersion",
                "schema_version",
                f"{version[:40]!r} is not {CONVERSATION_SCHEMA!r}",
            )
        system = record.get("system", _MISSING)
        if system is not _MISSING:
            if not self.spec.system_allowed:
                out.add("system", "system_not_allowed", f"{self.name} takes no system prompt")
            elif type(system) is not list:
                out.add(
                    "system",
                    "wrong_type",
                    f'expected a list of {{"text": ...}} blocks, found {_type_name(system)}',
                )
            else:
                for index, block in enumerate(system):
                    self._system_block(block, index, out, texts)
        messages = self._messages(record, out)
        if messages is None:
            return
        for index, message in enumerate(messages):
            if type(message) is not dict:
                continue
            content = message.get("content", _MISSING)
            if content is _MISSING:
                continue
            if type(content) is not list:
                out.add(
                    ("messages", index, "content"),
                    "wrong_type",
                    f'expected a list of content blocks ({{"text": ...}}), found '
                    f"{_type_name(content)}",
                )
            elif not content:
                out.add(("messages", index, "content"), "empty_text", "no content blocks")
            else:
                for position, block in enumerate(content):
                    self._content_block(block, index, position, out, texts)

    def _system_block(self, block: object, index: int, out: _Problems, texts: "_Texts") -> None:
        if type(block) is not dict:
            out.add(
                ("system", index),
                "wrong_type",
                f'expected a {{"text": ...}} block, found {_type_name(block)}',
            )
            return
        for key in block:
            if key != "text":
                out.add(
                    ("system", index, key),
                    "extra_field",
                    f'unexpected key {key[:40]!r}; a system block is {{"text": ...}}',
                )
        self._text(block, "text", ("system", index, "text"), out, texts)

    def _content_block(
        self, block: object, index: int, position: int, out: _Problems, texts: "_Texts"
    ) -> None:
        path: _Path = ("messages", index, "content", position)
        if type(block) is not dict:
            out.add(
                path, "wrong_type", f'expected a {{"text": ...}} block, found {_type_name(block)}'
            )
            return
        if "text" in block:
            for key in block:
                if key != "text":
                    out.add(
                        (*path, key),
                        "extra_field",
                        f"unexpected key {key[:40]!r} beside text; a block holds one of text "
                        "or image",
                    )
            self._text(block, "text", (*path, "text"), out, texts)
        elif "image" in block:
            if not self.spec.images_allowed:
                out.add((*path, "image"), "images_not_allowed", f"{self.name} takes no images")
            else:
                for key in block:
                    if key != "image":
                        out.add(
                            (*path, key),
                            "extra_field",
                            f"unexpected key {key[:40]!r} beside image",
                        )
                self._image(block["image"], (*path, "image"), out)
        elif not block:
            out.add((*path, "text"), "missing_field", 'an empty block; expected {"text": ...}')
        else:
            for key in block:
                out.add(
                    (*path, key),
                    "extra_field",
                    f"unexpected key {key[:40]!r}; a block holds text"
                    + (" or image" if self.spec.images_allowed else ""),
                )

    def _image(self, image: object, path: _Path, out: _Problems) -> None:
        if type(image) is not dict:
            out.add(path, "wrong_type", f"expected an object, found {_type_name(image)}")
            return
        for key in image:
            if key not in ("format", "source"):
                out.add(
                    (*path, key),
                    "extra_field",
                    f"unexpected key {key[:40]!r}; an image has format and source",
                )
        fmt = image.get("format", _MISSING)
        if fmt is _MISSING:
            out.add((*path, "format"), "missing_field", "missing; one of jpeg, png, gif, webp")
        elif type(fmt) is not str or fmt not in IMAGE_FORMATS:
            out.add(
                (*path, "format"),
                "invalid_image",
                f"{str(fmt)[:40]!r} is not an image format (jpeg, png, gif, webp)",
            )
        source = image.get("source", _MISSING)
        where = (*path, "source")
        if source is _MISSING:
            out.add(where, "missing_field", 'missing; {"s3Location": {"uri": "s3://..."}}')
            return
        if type(source) is not dict:
            out.add(where, "wrong_type", f"expected an object, found {_type_name(source)}")
            return
        for key in source:
            if key != "s3Location":
                out.add((*where, key), "extra_field", f"unexpected key {key[:40]!r}")
        location = source.get("s3Location", _MISSING)
        where = (*where, "s3Location")
        if location is _MISSING:
            out.add(where, "missing_field", 'missing; {"uri": "s3://..."}')
            return
        if type(location) is not dict:
            out.add(where, "wrong_type", f"expected an object, found {_type_name(location)}")
            return
        for key in location:
            if key not in ("uri", "bucketOwner"):
                out.add((*where, key), "extra_field", f"unexpected key {key[:40]!r}")
        uri = location.get("uri", _MISSING)
        if uri is _MISSING:
            out.add((*where, "uri"), "missing_field", "missing; an s3:// URI")
        elif type(uri) is not str or not uri.startswith("s3://") or len(uri) <= len("s3://"):
            out.add((*where, "uri"), "invalid_image", "expected an s3:// URI of the image")
        owner = location.get("bucketOwner", _MISSING)
        if owner is not _MISSING and type(owner) is not str:
            out.add(
                (*where, "bucketOwner"),
                "wrong_type",
                f"expected an account id string, found {_type_name(owner)}",
            )

    def _claude_messages(self, record: dict[str, Any], out: _Problems, texts: "_Texts") -> None:
        for key in record:
            if key not in ("system", "messages"):
                out.add(
                    (key,),
                    "extra_field",
                    f"unexpected key {key[:40]!r}; a record has system and messages",
                )
        system = record.get("system", _MISSING)
        if system is not _MISSING:
            if not self.spec.system_allowed:
                out.add("system", "system_not_allowed", f"{self.name} takes no system prompt")
            elif type(system) is not str:
                out.add("system", "wrong_type", f"expected a string, found {_type_name(system)}")
            elif system:  # an empty system prompt is no system prompt
                texts.add(system, ("system",))
        messages = self._messages(record, out)
        if messages is None:
            return
        for index, message in enumerate(messages):
            if type(message) is dict and "content" in message:
                self._text(message, "content", ("messages", index, "content"), out, texts)

    def _prompt_completion(self, record: dict[str, Any], out: _Problems, texts: "_Texts") -> None:
        for key in record:
            if key not in ("prompt", "completion"):
                out.add(
                    (key,),
                    "extra_field",
                    f"unexpected key {key[:40]!r}; a record has exactly prompt and completion",
                )
        for key in ("prompt", "completion"):
            if key not in record:
                out.add(key, "missing_field", "missing; a record has prompt and completion")
            else:
                self._text(record, key, (key,), out, texts)

    # --- shared ----------------------------------------------------------------------------

    def _messages(self, record: dict[str, Any], out: _Problems) -> list[Any] | None:
        """Checks `messages` and its roles; returns the list when there is one."""
        messages = record.get("messages", _MISSING)
        if messages is _MISSING:
            out.add("messages", "missing_field", "missing; a record needs its messages")
            return None
        if type(messages) is not list:
            out.add(
                "messages",
                "wrong_type",
                f"expected a list of messages, found {_type_name(messages)}",
            )
            return None
        count = len(messages)
        if count < 2:
            out.add(
                "messages",
                "too_few_messages",
                f"{count} message{'' if count == 1 else 's'}; a record needs a 'user' message "
                "and the 'assistant' answer",
            )
        previous: str | None = None
        for index, message in enumerate(messages):
            if type(message) is not dict:
                out.add(
                    ("messages", index),
                    "wrong_type",
                    f"expected a message object, found {_type_name(message)}",
                )
                previous = None
                continue
            if len(message) != 2 or "role" not in message or "content" not in message:
                for key in message:
                    if key not in ("role", "content"):
                        out.add(
                            ("messages", index, key),
                            "extra_field",
                            f"unexpected key {key[:40]!r}; a message has role and content",
                        )
                for key in ("role", "content"):
                    if key not in message:
                        out.add(("messages", index, key), "missing_field", "missing")
            role = message.get("role", _MISSING)
            if role is _MISSING:
                previous = None
                continue
            if type(role) is not str:
                out.add(
                    ("messages", index, "role"),
                    "wrong_type",
                    f"expected 'user' or 'assistant', found {_type_name(role)}",
                )
                previous = None
                continue
            if role not in ROLES:
                out.add(
                    ("messages", index, "role"),
                    "invalid_role",
                    f"{role[:40]!r} is not a role; roles are 'user' and 'assistant'",
                )
                previous = None
                continue
            if index == 0 and role != "user":
                out.add(
                    ("messages", 0, "role"),
                    "first_role",
                    "the first message must be from 'user', not 'assistant'",
                )
            elif previous is not None and role == previous:
                expected = "assistant" if previous == "user" else "user"
                out.add(
                    ("messages", index, "role"),
                    "role_order",
                    f"expected {expected!r} after {previous!r}",
                )
            if index == count - 1 and count >= 2 and role != "assistant":
                out.add(
                    ("messages", index, "role"),
                    "last_role",
                    "the last message must be the 'assistant' answer, not 'user'",
                )
            previous = role
        return messages

    def _text(
        self, holder: dict[str, Any], key: str, path: _Path, out: _Problems, texts: "_Texts"
    ) -> None:
        value = holder.get(key, _MISSING)
        if value is _MISSING:
            out.add(path, "missing_field", "missing")
        elif type(value) is not str:
            out.add(path, "wrong_type", f"expected a string, found {_type_name(value)}")
        elif not value or value.isspace():
            out.add(path, "empty_text", "empty text")
        else:
            texts.add(value, path)

    def check(self, raw: bytes, line: int) -> list[Problem]:
        if not raw or raw.isspace():
            return [
                Problem(
                    line=line,
                    field="(record)",
                    kind="empty_line",
                    reason="an empty line; every line must hold one JSON record",
                )
            ]
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            return [
                Problem(
                    line=line,
                    field="(record)",
                    kind="not_utf8",
                    reason=f"not UTF-8: byte 0x{raw[exc.start]:02x} at position {exc.start + 1} "
                    "is not valid UTF-8",
                )
            ]
        record, problem = _parse(text, line)
        if problem is not None:
            return [problem]
        if type(record) is not dict:
            return [
                Problem(
                    line=line,
                    field="(record)",
                    kind="not_object",
                    reason=f"expected a JSON object, found {_type_name(record)}",
                )
            ]
        out = _Problems(line)
        texts = _Texts()
        self.check_format(record, out, texts)
        if texts.items:
            if self.reserved_pattern is not None:
                self._reserved(texts, out)
            tokens = math.ceil(texts.chars / self.spec.chars_per_token)
            if tokens > self.spec.max_record_tokens:
                out.add(
                    "(record)",
                    "too_many_tokens",
                    f"about {tokens:,} tokens; {self.name} takes at most "
                    f"{self.spec.max_record_tokens:,} a record",
                )
        return out.items

    def _reserved(self, texts: "_Texts", out: _Problems) -> None:
        pattern = self.reserved_pattern
        assert pattern is not None
        # One search over all the texts; only a hit looks for the field it is in.
        if pattern.search("\x00".join(texts.items)) is None:
            return
        for value, path in zip(texts.items, texts.paths, strict=True):
            match = pattern.search(value)
            if match is not None:
                out.add(path, "reserved_string", f"contains the reserved string {match.group()!r}")


class _Texts:
    """A record's texts with their paths: their length estimates tokens, and each is searched
    for reserved strings."""

    __slots__ = ("chars", "items", "paths")

    def __init__(self) -> None:
        self.items: list[str] = []
        self.paths: list[_Path] = []
        self.chars = 0

    def add(self, value: str, path: _Path) -> None:
        self.items.append(value)
        self.paths.append(path)
        self.chars += len(value)


def _parse(text: str, line: int) -> tuple[Any, Problem | None]:
    reason: str
    kind = "invalid_json"
    try:
        return _decode(text), None
    except _DuplicateKeyError as exc:
        kind = "duplicate_key"
        reason = f"the key {exc.key[:40]!r} appears twice in one object"
    except _NonFiniteError as exc:
        reason = f"not valid JSON: {exc.literal} is not a JSON number"
    except json.JSONDecodeError as exc:
        reason = f"not valid JSON: {exc.msg} (column {exc.colno})"
    except RecursionError:
        reason = "not valid JSON here: nested too deeply"
    except ValueError as exc:  # e.g. an integer of more digits than Python converts
        reason = f"not valid JSON here: {str(exc)[:100]}"
    return None, Problem(line=line, field="(record)", kind=kind, reason=reason)


_RULES: dict[int, _Rules] = {}


def _rules(spec: BaseModelSpec) -> _Rules:
    rules = _RULES.get(id(spec))
    if rules is None or rules.spec is not spec:
        if len(_RULES) > 64:
            _RULES.clear()
        rules = _RULES[id(spec)] = _Rules(spec)
    return rules


def short_name(model_id: str) -> str:
    """`amazon.nova-lite-v1:0` → `nova-lite`: the name a labeler reads in a reason."""
    name = model_id.split(".", 1)[-1]
    return re.sub(r"-v\d+(:\d+)?$", "", name) or model_id


def check_record(raw: bytes, spec: BaseModelSpec, line: int = 0) -> list[Problem]:
    """Every rule of `spec`'s record format that the line `raw` breaks (none: a good record).
    Never raises."""
    try:
        return _rules(spec).check(raw, line)
    except Exception as exc:  # noqa: BLE001 — every line gets a verdict; tests fail on this kind
        return [
            Problem(
                line=line,
                field="(record)",
                kind="internal_error",
                reason=f"could not be checked ({type(exc).__name__}); please report it",
            )
        ]


def _too_long_problem(line: Line, max_line_bytes: int) -> Problem:
    return Problem(
        line=line.number,
        field="(record)",
        kind="line_too_long",
        reason=f"{line.length:,} bytes; a record line may hold at most {max_line_bytes:,}",
    )


# ---------------------------------------------------------------------------------------------
# The report


class ProblemCount(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)
    # The field with its indices dropped: `messages[].role` counts every message's role.
    field: str
    kind: str
    count: int
    # The first reason seen for this field and kind.
    reason: str


class Example(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)
    line: int
    field: str
    kind: str
    reason: str
    # The record's first characters.
    excerpt: str
    # The record's other problems, not shown.
    more: int = 0


class FileProblem(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)
    kind: str
    reason: str


class ValidationReport(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)
    model_id: str
    format: RecordFormat
    records: int
    good: int
    bad: int
    bytes: int
    problems: list[ProblemCount]
    examples: list[Example]
    file_problems: list[FileProblem]

    @property
    def bad_share(self) -> float:
        return self.bad / self.records if self.records else 0.0

    @property
    def ok(self) -> bool:
        return self.bad == 0 and not self.file_problems

    def summary(self) -> str:
        """One paragraph for the labeler who sent the file."""
        if self.records == 0:
            text = "No records."
        elif self.bad == 0:
            text = f"{self.records:,} records, all good."
        else:
            text = (
                f"{self.records:,} records: {self.good:,} good, {self.bad:,} bad "
                f"({100 * self.bad_share:.1f}%)."
            )
            times = "\N{MULTIPLICATION SIGN}"
            common = "; ".join(
                f"{p.count:,} {times} {p.field} — {p.reason}" for p in self.problems[:3]
            )
            text += f" Most common: {common}."
            if self.examples:
                first = self.examples[0]
                text += f" First: line {first.line}, {first.field} — {first.reason}."
        for problem in self.file_problems:
            if problem.kind != "no_records":
                text += f" {problem.reason[0].upper()}{problem.reason[1:]}."
        return text

    def as_json(self) -> str:
        return self.model_dump_json()


_INDICES = re.compile(r"\[\d+\]")


class ReportBuilder:
    """Folds verdicts, one record at a time, into a ValidationReport: counts and at most
    `max_examples` examples, whatever the file's size."""

    def __init__(self, spec: BaseModelSpec, max_examples: int = 20) -> None:
        self.spec = spec
        self.max_examples = max(0, max_examples)
        self.records = 0
        self.good = 0
        self.bytes = 0
        self._groups: dict[tuple[str, str], list[Any]] = {}
        self._examples: list[Example] = []
        self._patterns: dict[str, str] = {}

    def add(self, line: int, raw: bytes, problems: Sequence[Problem]) -> None:
        self.records += 1
        if not problems:
            self.good += 1
            return
        for problem in problems:
            key = (self._pattern(problem.field), problem.kind)
            group = self._groups.get(key)
            if group is None:
                if len(self._groups) >= MAX_PROBLEM_GROUPS:
                    key = ("(other)", problem.kind)
                    group = self._groups.get(key)
                if group is None:
                    group = self._groups[key] = [0, problem.reason]
            group[0] += 1
        if len(self._examples) < self.max_examples:
            first = problems[0]
            self._examples.append(
                Example(
                    line=line,
                    field=first.field,
                    kind=first.kind,
                    reason=first.reason,
                    excerpt=_excerpt(raw),
                    more=len(problems) - 1,
                )
            )

    def add_bytes(self, count: int) -> None:
        self.bytes += count

    def _pattern(self, field: str) -> str:
        pattern = self._patterns.get(field)
        if pattern is None:
            pattern = _INDICES.sub("[]", field)
            if len(self._patterns) < 4 * MAX_PROBLEM_GROUPS:
                self._patterns[field] = pattern
        return pattern

    def build(self) -> ValidationReport:
        spec, name = self.spec, short_name(self.spec.model_id)
        file_problems = []
        if self.records == 0:
            file_problems.append(FileProblem(kind="no_records", reason="the file holds no records"))
        if self.bytes > spec.max_file_bytes:
            file_problems.append(
                FileProblem(
                    kind="file_too_large",
                    reason=f"the file is {self.bytes:,} bytes; {name} trains on files of at most "
                    f"{spec.max_file_bytes:,} bytes",
                )
            )
        if self.good > spec.max_training_records:
            file_problems.append(
                FileProblem(
                    kind="too_many_records",
                    reason=f"{self.good:,} good records; a {name} fine-tuning job takes at most "
                    f"{spec.max_training_records:,}",
                )
            )
        groups = sorted(self._groups.items(), key=lambda item: (-item[1][0], item[0]))
        return ValidationReport(
            model_id=spec.model_id,
            format=spec.format,
            records=self.records,
            good=self.good,
            bad=self.records - self.good,
            bytes=self.bytes,
            problems=[
                ProblemCount(field=field, kind=kind, count=count, reason=reason)
                for (field, kind), (count, reason) in groups
            ],
            examples=list(self._examples),
            file_problems=file_problems,
        )


def _excerpt(raw: bytes) -> str:
    text = raw[: EXCERPT_CHARS * 4].decode("utf-8", "replace")
    return text if len(text) <= EXCERPT_CHARS else text[: EXCERPT_CHARS - 1] + "…"


RecordCallback = Callable[[int, bytes, list[Problem]], None]


def validate(
    chunks: Iterable[bytes],
    spec: BaseModelSpec,
    max_examples: int = 20,
    on_record: RecordCallback | None = None,
    max_line_bytes: int | None = None,
) -> ValidationReport:
    """Validates a labeled JSONL stream against `spec`, in memory bounded by one line.

    `on_record(line, raw, problems)` sees every record in order (no problems: a good record).
    A line too long to read whole (`line_too_long`) arrives with its first bytes only."""
    limit = max_line_bytes or default_max_line_bytes(spec)
    rules = _rules(spec)
    builder = ReportBuilder(spec, max_examples)
    counter = _ByteCounter(chunks)
    for line in split_lines(counter, limit):
        if line.too_long:
            problems = [_too_long_problem(line, limit)]
        else:
            try:
                problems = rules.check(line.data, line.number)
            except Exception:  # noqa: BLE001 — the same safety net as check_record
                problems = check_record(line.data, spec, line.number)
        if on_record is not None:
            on_record(line.number, line.data, problems)
        builder.add(line.number, line.data, problems)
    builder.add_bytes(counter.count)
    return builder.build()


class _ByteCounter:
    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks = chunks
        self.count = 0

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._chunks:
            self.count += len(chunk)
            yield chunk
