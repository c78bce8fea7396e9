"""The labeled-data validator: Bedrock's documented rules per record format, line splitting at
every boundary, bounded memory, and the report."""

from __future__ import annotations

import copy
import json
import tracemalloc
from collections.abc import Iterator
from typing import Any

import pytest

from aiops.base_models import BaseModelSpec, base_model
from aiops.finetune.validation import (
    MAX_PROBLEM_GROUPS,
    Line,
    Problem,
    ReportBuilder,
    check_record,
    split_lines,
    validate,
)


def spec(model_id: str, **changes: Any) -> BaseModelSpec:
    found = base_model(model_id)
    assert found is not None
    return found.model_copy(update=changes) if changes else found


NOVA = spec("amazon.nova-lite-v1:0")
MICRO = spec("amazon.nova-micro-v1:0")
HAIKU = spec("anthropic.claude-3-haiku-20240307-v1:0")
TITAN = spec("amazon.titan-text-express-v1")

CONVERSATION: dict[str, Any] = {
    "schemaVersion": "bedrock-conversation-2024",
    "system": [{"text": "You are a support agent."}],
    "messages": [
        {"role": "user", "content": [{"text": "My parcel is late."}]},
        {"role": "assistant", "content": [{"text": "I'm sorry, let me check order 12."}]},
        {"role": "user", "content": [{"text": "Thanks."}]},
        {"role": "assistant", "content": [{"text": "It arrives tomorrow."}]},
    ],
}
CLAUDE: dict[str, Any] = {
    "system": "You are a support agent.",
    "messages": [
        {"role": "user", "content": "My parcel is late."},
        {"role": "assistant", "content": "It arrives tomorrow."},
    ],
}
PROMPT: dict[str, Any] = {"prompt": "Where is my parcel?", "completion": "It arrives tomorrow."}


def raw(record: object) -> bytes:
    return json.dumps(record).encode()


def changed(record: dict[str, Any], change: Any) -> bytes:
    copied = copy.deepcopy(record)
    change(copied)
    return raw(copied)


def only(problems: list[Problem]) -> Problem:
    assert len(problems) == 1, problems
    return problems[0]


# --- good records ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("record", "model"),
    [(CONVERSATION, NOVA), (CLAUDE, HAIKU), (PROMPT, TITAN)],
    ids=["conversation", "claude-messages", "prompt-completion"],
)
def test_given_a_good_record_of_each_format_when_checked_then_no_problem(record, model):
    assert check_record(raw(record), model, line=1) == []


def test_given_a_conversation_without_system_when_checked_then_no_problem():
    assert check_record(changed(CONVERSATION, lambda r: r.pop("system")), NOVA) == []


def test_given_an_image_block_for_a_model_taking_images_when_checked_then_no_problem():
    image = {"image": {"format": "png", "source": {"s3Location": {"uri": "s3://b/i.png"}}}}
    record = changed(CONVERSATION, lambda r: r["messages"][0]["content"].append(image))
    assert check_record(record, NOVA) == []


# --- conversation (Nova, Llama 3.2) --------------------------------------------------------------

CONVERSATION_RULES = [
    # (id, change, field, kind, reason fragment)
    (
        "schema version wrong",
        lambda r: r.update(schemaVersion="bedrock-conversation-2023"),
        "schemaVersion",
        "schema_version",
        "is not 'bedrock-conversation-2024'",
    ),
    (
        "schema version missing",
        lambda r: r.pop("schemaVersion"),
        "schemaVersion",
        "missing_field",
        "missing",
    ),
    (
        "schema version not a string",
        lambda r: r.update(schemaVersion=2024),
        "schemaVersion",
        "wrong_type",
        "found a number",
    ),
    ("extra top key", lambda r: r.update(metadata={}), "metadata", "extra_field", "'metadata'"),
    ("messages missing", lambda r: r.pop("messages"), "messages", "missing_field", "missing"),
    (
        "messages not a list",
        lambda r: r.update(messages={}),
        "messages",
        "wrong_type",
        "found an object",
    ),
    (
        "one message only",
        lambda r: r.update(messages=r["messages"][:1]),
        "messages",
        "too_few_messages",
        "1 message;",
    ),
    (
        "first role assistant",
        lambda r: r.update(messages=[r["messages"][1], r["messages"][0], r["messages"][1]]),
        "messages[0].role",
        "first_role",
        "first message must be from 'user'",
    ),
    (
        "roles do not alternate",
        lambda r: r["messages"].insert(1, r["messages"][0]),
        "messages[1].role",
        "role_order",
        "expected 'assistant' after 'user'",
    ),
    (
        "last role user",
        lambda r: r["messages"].pop(),
        "messages[2].role",
        "last_role",
        "last message must be the 'assistant'",
    ),
    (
        "unknown role",
        lambda r: r["messages"][2].update(role="system"),
        "messages[2].role",
        "invalid_role",
        "'system' is not a role",
    ),
    (
        "role not a string",
        lambda r: r["messages"][2].update(role=None),
        "messages[2].role",
        "wrong_type",
        "found null",
    ),
    (
        "extra message key",
        lambda r: r["messages"][1].update(id=7),
        "messages[1].id",
        "extra_field",
        "'id'",
    ),
    (
        "content missing",
        lambda r: r["messages"][1].pop("content"),
        "messages[1].content",
        "missing_field",
        "missing",
    ),
    (
        "content a string",
        lambda r: r["messages"][1].update(content="hello"),
        "messages[1].content",
        "wrong_type",
        "found a string",
    ),
    (
        "content empty",
        lambda r: r["messages"][1].update(content=[]),
        "messages[1].content",
        "empty_text",
        "no content blocks",
    ),
    (
        "text empty",
        lambda r: r["messages"][3]["content"][0].update(text="  "),
        "messages[3].content[0].text",
        "empty_text",
        "empty",
    ),
    (
        "text not a string",
        lambda r: r["messages"][3]["content"][0].update(text=["a"]),
        "messages[3].content[0].text",
        "wrong_type",
        "found a list",
    ),
    (
        "extra block key",
        lambda r: r["messages"][3]["content"][0].update(cache=True),
        "messages[3].content[0].cache",
        "extra_field",
        "'cache'",
    ),
    (
        "unknown block",
        lambda r: r["messages"][3]["content"].append({"video": {}}),
        "messages[3].content[1].video",
        "extra_field",
        "'video'",
    ),
    (
        "reserved string in a message",
        lambda r: r["messages"][0]["content"][0].update(text="Then User: said hi"),
        "messages[0].content[0].text",
        "reserved_string",
        "contains the reserved string 'User:'",
    ),
    (
        "reserved string in the system prompt",
        lambda r: r["system"][0].update(text="End with [EOS]"),
        "system[0].text",
        "reserved_string",
        "'[EOS]'",
    ),
    (
        "system not a list",
        lambda r: r.update(system="be nice"),
        "system",
        "wrong_type",
        "found a string",
    ),
    (
        "extra system key",
        lambda r: r["system"][0].update(role="system"),
        "system[0].role",
        "extra_field",
        "'role'",
    ),
    (
        "image without a source",
        lambda r: r["messages"][0]["content"].append({"image": {"format": "png"}}),
        "messages[0].content[1].image.source",
        "missing_field",
        "s3Location",
    ),
    (
        "image of an unknown format",
        lambda r: r["messages"][0]["content"].append(
            {"image": {"format": "bmp", "source": {"s3Location": {"uri": "s3://b/i"}}}}
        ),
        "messages[0].content[1].image.format",
        "invalid_image",
        "'bmp'",
    ),
    (
        "image not in S3",
        lambda r: r["messages"][0]["content"].append(
            {"image": {"format": "png", "source": {"s3Location": {"uri": "https://x/i.png"}}}}
        ),
        "messages[0].content[1].image.source.s3Location.uri",
        "invalid_image",
        "s3://",
    ),
]


@pytest.mark.parametrize(
    ("change", "field", "kind", "reason"),
    [rule[1:] for rule in CONVERSATION_RULES],
    ids=[rule[0] for rule in CONVERSATION_RULES],
)
def test_given_a_conversation_breaking_a_rule_when_checked_then_that_rule_is_reported(
    change, field, kind, reason
):
    problem = only(check_record(changed(CONVERSATION, change), NOVA, line=7))
    assert (problem.line, problem.field, problem.kind) == (7, field, kind)
    assert reason in problem.reason


def test_given_an_image_for_a_text_only_model_when_checked_then_images_not_allowed():
    image = {"image": {"format": "png", "source": {"s3Location": {"uri": "s3://b/i.png"}}}}
    record = changed(CONVERSATION, lambda r: r["messages"][0]["content"].append(image))
    problem = only(check_record(record, MICRO, line=2))
    assert (problem.field, problem.kind) == ("messages[0].content[1].image", "images_not_allowed")
    assert "nova-micro takes no images" in problem.reason


def test_given_a_system_prompt_for_a_model_without_one_when_checked_then_system_not_allowed():
    problem = only(check_record(raw(CONVERSATION), spec(NOVA.model_id, system_allowed=False)))
    assert (problem.field, problem.kind) == ("system", "system_not_allowed")


def test_given_too_many_tokens_when_checked_then_the_estimate_and_the_limit_are_named():
    record = changed(
        CONVERSATION, lambda r: r["messages"][1]["content"][0].update(text="x" * 123_600)
    )
    problem = only(check_record(record, NOVA, line=3))
    assert (problem.field, problem.kind) == ("(record)", "too_many_tokens")
    # 123,600 + the other texts' 69 characters, at 3 a token
    assert problem.reason == "about 41,223 tokens; nova-lite takes at most 32,000 a record"


def test_given_a_record_at_the_token_limit_when_checked_then_it_passes():
    small = spec(NOVA.model_id, max_record_tokens=10, reserved_strings=())
    ten_tokens = {"prompt": "a" * 15, "completion": "b" * 15}  # 30 chars / 3
    assert check_record(raw(ten_tokens), spec(TITAN.model_id, max_record_tokens=10)) == []
    assert small.max_record_tokens == 10
    eleven = {"prompt": "a" * 16, "completion": "b" * 15}
    assert only(check_record(raw(eleven), spec(TITAN.model_id, max_record_tokens=10))).kind == (
        "too_many_tokens"
    )


# --- claude-messages (Claude 3 Haiku) ------------------------------------------------------------

CLAUDE_RULES = [
    ("extra top key", lambda r: r.update(id="x"), "id", "extra_field"),
    ("system not a string", lambda r: r.update(system=["x"]), "system", "wrong_type"),
    ("messages missing", lambda r: r.pop("messages"), "messages", "missing_field"),
    (
        "one message",
        lambda r: r.update(messages=r["messages"][:1]),
        "messages",
        "too_few_messages",
    ),
    (
        "first role assistant",
        lambda r: r.update(messages=[r["messages"][1], r["messages"][0], r["messages"][1]]),
        "messages[0].role",
        "first_role",
    ),
    (
        "roles repeat",
        lambda r: r["messages"].insert(0, r["messages"][0]),
        "messages[1].role",
        "role_order",
    ),
    (
        "last role user",
        lambda r: r["messages"].append(r["messages"][0]),
        "messages[2].role",
        "last_role",
    ),
    (
        "content a list",
        lambda r: r["messages"][0].update(content=[{"type": "text", "text": "hi"}]),
        "messages[0].content",
        "wrong_type",
    ),
    (
        "content empty",
        lambda r: r["messages"][1].update(content=""),
        "messages[1].content",
        "empty_text",
    ),
    (
        "extra message key",
        lambda r: r["messages"][1].update(name="bot"),
        "messages[1].name",
        "extra_field",
    ),
]


@pytest.mark.parametrize(
    ("change", "field", "kind"),
    [rule[1:] for rule in CLAUDE_RULES],
    ids=[rule[0] for rule in CLAUDE_RULES],
)
def test_given_a_claude_record_breaking_a_rule_when_checked_then_that_rule_is_reported(
    change, field, kind
):
    problem = only(check_record(changed(CLAUDE, change), HAIKU, line=4))
    assert (problem.line, problem.field, problem.kind) == (4, field, kind)


def test_given_a_claude_record_without_system_when_checked_then_no_problem():
    assert check_record(changed(CLAUDE, lambda r: r.pop("system")), HAIKU) == []


# --- prompt-completion (Titan, Cohere, Llama 3.1) ------------------------------------------------

PROMPT_RULES = [
    ("prompt missing", lambda r: r.pop("prompt"), "prompt", "missing_field"),
    ("completion missing", lambda r: r.pop("completion"), "completion", "missing_field"),
    ("extra key", lambda r: r.update(label="x"), "label", "extra_field"),
    ("prompt empty", lambda r: r.update(prompt=""), "prompt", "empty_text"),
    ("completion a number", lambda r: r.update(completion=3), "completion", "wrong_type"),
    (
        "completion too long",
        lambda r: r.update(completion="y" * 7000),
        "(record)",
        "too_many_tokens",
    ),
]


@pytest.mark.parametrize(
    ("change", "field", "kind"),
    [rule[1:] for rule in PROMPT_RULES],
    ids=[rule[0] for rule in PROMPT_RULES],
)
def test_given_a_prompt_record_breaking_a_rule_when_checked_then_that_rule_is_reported(
    change, field, kind
):
    problem = only(check_record(changed(PROMPT, change), TITAN, line=9))
    assert (problem.line, problem.field, problem.kind) == (9, field, kind)


def test_given_a_reserved_looking_string_for_a_model_without_reserved_strings_then_it_passes():
    assert check_record(raw({"prompt": "User: hi", "completion": "Bot: hello"}), TITAN) == []


# --- lines that are not records ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "kind", "reason"),
    [
        (b"", "empty_line", "an empty line"),
        (b"  \t", "empty_line", "an empty line"),
        (b'{"prompt": "caf\xe9"}', "not_utf8", "byte 0xe9 at position 16"),
        (
            b'{"prompt": "a" "completion": "b"}',
            "invalid_json",
            "Expecting ',' delimiter (column 16)",
        ),
        (b'{"prompt": NaN, "completion": "b"}', "invalid_json", "NaN is not a JSON number"),
        (b'{"prompt": Infinity}', "invalid_json", "Infinity"),
        (b'{"prompt": "a", "prompt": "b", "completion": "c"}', "duplicate_key", "'prompt'"),
        (b'[{"prompt": "a", "completion": "b"}]', "not_object", "found a list"),
        (b'"just text"', "not_object", "found a string"),
        (b'{"prompt": "a", "completion": "b"} {}', "invalid_json", "Extra data"),
        (b"[" * 200_000, "invalid_json", "nested too deeply"),
        (b'{"prompt": ' + b"9" * 5000 + b"}", "invalid_json", "not valid JSON"),
    ],
    ids=[
        "empty",
        "blank",
        "latin-1",
        "missing comma",
        "NaN",
        "Infinity",
        "duplicate key",
        "array",
        "string",
        "two objects",
        "deep nesting",
        "huge integer",
    ],
)
def test_given_a_line_that_is_no_record_when_checked_then_the_whole_record_is_refused(
    line, kind, reason
):
    problem = only(check_record(line, TITAN, line=5))
    assert (problem.line, problem.field, problem.kind) == (5, "(record)", kind)
    assert reason in problem.reason


def test_given_a_duplicate_key_deep_inside_when_checked_then_it_is_refused():
    line = raw(CONVERSATION).replace(b'"role": "user"', b'"role": "user", "role": "user"', 1)
    assert only(check_record(line, NOVA)).kind == "duplicate_key"


def test_given_a_record_broken_everywhere_when_checked_then_problems_are_capped():
    record = {"schemaVersion": "x", "messages": [{"role": "bot", "content": 1}] * 500}
    problems = check_record(raw(record), NOVA)
    assert len(problems) == 20


# --- split_lines ---------------------------------------------------------------------------------


def lines_of(chunks: list[bytes], limit: int = 100) -> list[Line]:
    return list(split_lines(chunks, limit))


def test_given_chunks_cut_inside_lines_when_split_then_lines_are_whole_and_numbered():
    data = b'{"a": 1}\n{"b": 2}\n{"c": 3}\n'
    for size in range(1, len(data) + 1):
        chunks = [data[i : i + size] for i in range(0, len(data), size)]
        assert [(n, d) for n, d, _, _ in lines_of(chunks)] == [
            (1, b'{"a": 1}'),
            (2, b'{"b": 2}'),
            (3, b'{"c": 3}'),
        ], size


def test_given_a_chunk_cut_inside_a_multibyte_character_when_split_then_the_line_is_utf8():
    data = '{"prompt": "café ☕", "completion": "ok"}\n'.encode()
    cut = data.index("☕".encode()) + 1
    (line,) = lines_of([data[:cut], data[cut:]])
    assert line.data.decode() == '{"prompt": "café ☕", "completion": "ok"}'
    assert check_record(line.data, TITAN) == []


def test_given_crlf_line_ends_when_split_then_the_carriage_returns_are_dropped():
    assert [line.data for line in lines_of([b"a\r\nb\r", b"\nc\r\n"])] == [b"a", b"b", b"c"]


def test_given_no_final_newline_when_split_then_the_last_line_is_kept():
    assert [line.data for line in lines_of([b"a\nb"])] == [b"a", b"b"]
    assert [line.data for line in lines_of([b"a\n"])] == [b"a"]


def test_given_blank_lines_when_split_then_they_are_lines_of_their_own():
    assert [(line.number, line.data) for line in lines_of([b"a\n\n\nb\n"])] == [
        (1, b"a"),
        (2, b""),
        (3, b""),
        (4, b"b"),
    ]


def test_given_a_byte_order_mark_when_split_then_it_is_dropped_from_the_first_line_only():
    lines = lines_of([b"\xef\xbb", b"\xbfa\n\xef\xbb\xbfb\n"])
    assert [line.data for line in lines] == [b"a", b"\xef\xbb\xbfb"]


@pytest.mark.parametrize("size", [1, 7, 64, 1000])
def test_given_an_over_long_line_when_split_then_it_is_marked_with_its_length_and_skipped(size):
    data = b"short\n" + b"x" * 250 + b"\nnext\n"
    chunks = [data[i : i + size] for i in range(0, len(data), size)]
    lines = lines_of(chunks, limit=100)
    assert [(n, too_long, length) for n, _, length, too_long in lines] == [
        (1, False, 5),
        (2, True, 250),
        (3, False, 4),
    ]
    assert lines[1].data.startswith(b"xxx")


def test_given_a_line_exactly_at_the_limit_when_split_then_it_is_whole():
    (line,) = lines_of([b"y" * 100 + b"\r\n"], limit=100)
    assert (line.too_long, line.length) == (False, 100)


def test_given_a_50mb_line_when_split_then_it_is_never_buffered():
    chunk = b"z" * (1 << 20)

    def stream() -> Iterator[bytes]:
        yield b'{"prompt": "a", "completion": "b"}\n'
        for _ in range(50):  # 50 MiB without a newline: buffering it would show in the peak
            yield chunk
        yield b'\n{"prompt": "c", "completion": "d"}\n'

    tracemalloc.start()
    try:
        lines = [(n, length, too_long) for n, _, length, too_long in split_lines(stream(), 1 << 20)]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert lines == [(1, 34, False), (2, 50 << 20, True), (3, 34, False)]
    assert peak < 8 << 20


def test_given_a_non_positive_limit_when_splitting_then_refused():
    with pytest.raises(ValueError, match="max_line_bytes"):
        list(split_lines([b"a"], 0))


# --- validate and the report ---------------------------------------------------------------------


def test_given_a_stream_when_validated_then_every_record_is_handed_over_in_order():
    good = raw(PROMPT)
    data = b"\n".join([good, b"{oops", good, b"", good]) + b"\n"
    seen: list[tuple[int, bytes, list[str]]] = []
    report = validate(
        [data[:10], data[10:]],
        TITAN,
        on_record=lambda n, line, problems: seen.append((n, line, [p.kind for p in problems])),
    )
    assert seen == [
        (1, good, []),
        (2, b"{oops", ["invalid_json"]),
        (3, good, []),
        (4, b"", ["empty_line"]),
        (5, good, []),
    ]
    assert (report.records, report.good, report.bad, report.bytes) == (5, 3, 2, len(data))
    assert [(e.line, e.kind) for e in report.examples] == [(2, "invalid_json"), (4, "empty_line")]


def test_given_an_over_long_line_when_validated_then_it_is_a_bad_record_with_its_head():
    data = raw(PROMPT) + b"\n" + b"q" * 5000 + b"\n"
    heads: list[bytes] = []
    report = validate([data], TITAN, max_line_bytes=1000, on_record=lambda n, r, p: heads.append(r))
    assert report.bad == 1
    assert report.problems[0].kind == "line_too_long"
    assert report.problems[0].reason == "5,000 bytes; a record line may hold at most 1,000"
    assert len(heads[1]) < 1000


def test_given_many_bad_records_when_reported_then_indices_are_grouped_and_examples_bounded():
    bad = changed(CONVERSATION, lambda r: r["messages"].insert(1, r["messages"][0]))
    worse = changed(CONVERSATION, lambda r: r["messages"].insert(3, r["messages"][2]))
    lines = [raw(CONVERSATION)] * 930 + [bad] * 41 + [worse] * 29
    report = validate([b"\n".join(lines)], NOVA, max_examples=5)
    assert (report.records, report.good, report.bad) == (1000, 930, 70)
    assert [(p.field, p.kind, p.count) for p in report.problems] == [
        ("messages[].role", "role_order", 70)
    ]
    assert len(report.examples) == 5
    assert report.summary() == (
        "1,000 records: 930 good, 70 bad (7.0%). Most common: "
        "70 \N{MULTIPLICATION SIGN} messages[].role — "
        "expected 'assistant' after 'user'. First: line 931, messages[1].role — "
        "expected 'assistant' after 'user'."
    )
    assert json.loads(report.as_json())["bad"] == 70


def test_given_unbounded_field_names_when_reported_then_groups_are_capped():
    builder = ReportBuilder(TITAN, max_examples=2)
    for n in range(1, 1001):
        builder.add(n, b"{}", [Problem(line=n, field=f"k{n}", kind="extra_field", reason="x")])
    report = builder.build()
    assert len(report.problems) == MAX_PROBLEM_GROUPS + 1
    assert sum(p.count for p in report.problems) == 1000
    assert len(report.examples) == 2


def test_given_file_limits_exceeded_when_reported_then_file_problems_say_so():
    small = spec(TITAN.model_id, max_file_bytes=100, max_training_records=2)
    report = validate([b"\n".join([raw(PROMPT)] * 3)], small)
    assert {p.kind for p in report.file_problems} == {"file_too_large", "too_many_records"}
    assert not report.ok
    assert "a titan-text-express fine-tuning job takes at most 2" in report.summary()


def test_given_an_empty_stream_when_validated_then_no_records_is_a_file_problem():
    report = validate([], TITAN)
    assert (report.records, report.summary()) == (0, "No records.")
    assert [p.kind for p in report.file_problems] == ["no_records"]


def test_given_a_good_file_when_validated_then_the_report_is_ok():
    report = validate([raw(CLAUDE) + b"\r\n" + raw(CLAUDE)], HAIKU)
    assert report.ok
    assert report.summary() == "2 records, all good."
