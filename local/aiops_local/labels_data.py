"""Realistic labeled fine-tuning data for scenarios, tests and benches: customer-support
conversations in each Bedrock record format, with chosen records broken in exactly one way each
(the validator's `kind` codes), and a lazy stream of good records for size benches.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from aiops.base_models import RecordFormat

# The ways any record can break, then the ways a record of messages can.
_RECORD_KINDS = (
    "invalid_json",
    "not_utf8",
    "not_object",
    "duplicate_key",
    "empty_line",
    "missing_field",
    "extra_field",
    "wrong_type",
    "empty_text",
)
_MESSAGE_KINDS = ("invalid_role", "too_few_messages", "first_role", "role_order", "last_role")
BAD_KINDS: dict[RecordFormat, tuple[str, ...]] = {
    # reserved_string assumes a base model with reserved strings (the Nova models).
    RecordFormat.CONVERSATION: (
        *_RECORD_KINDS,
        "schema_version",
        *_MESSAGE_KINDS,
        "reserved_string",
        "too_many_tokens",
    ),
    RecordFormat.CLAUDE_MESSAGES: (*_RECORD_KINDS, *_MESSAGE_KINDS, "too_many_tokens"),
    RecordFormat.PROMPT_COMPLETION: (*_RECORD_KINDS, "too_many_tokens"),
}
# Kinds that depend on the base model rather than the format; planted only when asked for.
EXTRA_KINDS = ("system_not_allowed", "images_not_allowed", "line_too_long")
# Enough characters to exceed every base model's tokens a record (32,000 at most, 3 a token).
TOO_MANY_CHARS = 160_000
# Longer than any default line limit (see validation.default_max_line_bytes).
TOO_LONG_BYTES = 2_200_000

_NAMES = ("Maya", "Tom", "Priya", "Luis", "Chen", "Amara", "Jonas", "Sofia", "Omar", "Grace")
_PRODUCTS = (
    ("the Aero 3 headphones", "headphones"),
    ("a Trailblazer backpack", "backpack"),
    ("the Breeze air purifier", "air purifier"),
    ("a Nimbus smart thermostat", "thermostat"),
    ("the Orbit coffee grinder", "coffee grinder"),
    ("a pair of Strider running shoes", "shoes"),
    ("the Lumen desk lamp", "lamp"),
    ("a Pocket 2 e-reader", "e-reader"),
)
ISSUES = (
    (
        "it arrived with a cracked casing",
        "I'm sorry it arrived damaged. I've started a free replacement for order {order}; "
        "it ships within two business days, and a prepaid return label is on its way to your "
        "email so you can send the damaged one back whenever it suits you.",
    ),
    (
        "it still hasn't arrived and the tracking page hasn't changed in a week",
        "Thanks for your patience. The carrier marked order {order} as delayed at the regional "
        "hub. I've asked them to trace it; if it doesn't move within 48 hours I'll send a "
        "replacement at no cost, and I've added a note so you won't need to call again.",
    ),
    (
        "I was charged twice for it",
        "You're right, I can see two charges for order {order}. The duplicate was a "
        "pre-authorisation that I've now released; your bank should show the refund within "
        "three to five business days.",
    ),
    (
        "it stopped turning on after a few days",
        "That shouldn't happen. Please hold the power button for fifteen seconds to reset it. "
        "If it still won't start, it's covered by the warranty and I can arrange an exchange "
        "for order {order} today.",
    ),
    (
        "I'd like to return it because it doesn't fit my needs",
        "No problem. Order {order} is within the 30-day return window. I've emailed you a "
        "return label; once the item reaches our warehouse the refund goes back to your "
        "original payment method within a week.",
    ),
    (
        "the size is wrong and I need to exchange it",
        "Happy to help with an exchange. I've reserved the size you need and linked it to "
        "order {order}; use the label in your inbox and the new one ships as soon as the "
        "carrier scans your parcel.",
    ),
)
_FOLLOW_UPS = (
    (
        "Do I need the original packaging?",
        "No, any sturdy box works. Just include a note with your order number.",
    ),
    (
        "Can I get it delivered to my office instead?",
        "Of course. I've updated the delivery address; you'll get a new tracking link by email.",
    ),
    (
        "How will I know the refund went through?",
        "You'll receive a confirmation email the moment we process it, with the amount.",
    ),
    (
        "Is there anything else I should do?",
        "Nothing else is needed from you. I'll keep the case open until it's resolved.",
    ),
)
_OPENERS = ("Hi,", "Hello,", "Good morning,", "Hey there,", "Hi team,")
_SYSTEM_PROMPTS = (
    "You are a friendly support agent for an online store. Be concise and specific.",
    "You answer customer-support questions for an electronics retailer. Offer one clear next "
    "step and never promise what policy does not allow.",
    "You are a helpful, polite assistant for order, delivery and refund questions.",
)


def conversation(rng: random.Random) -> tuple[str | None, list[tuple[str, str]]]:
    """A system prompt (or none) and the (user, assistant) exchanges of one support chat."""
    name = rng.choice(_NAMES)
    product, short = rng.choice(_PRODUCTS)
    issue, answer = rng.choice(ISSUES)
    order = f"#{rng.randrange(100000, 999999)}"
    first = (
        f"{rng.choice(_OPENERS)} this is {name}. I ordered {product} last week (order {order}) "
        f"and {issue}. What can you do?"
    )
    turns = [(first, answer.format(order=order))]
    for question, reply in rng.sample(_FOLLOW_UPS, rng.randrange(0, 3)):
        turns.append((f"{question} It's about the {short}.", reply))
    system = rng.choice(_SYSTEM_PROMPTS) if rng.random() < 0.6 else None
    return system, turns


def _good_record(fmt: RecordFormat, rng: random.Random) -> dict[str, object]:
    system, turns = conversation(rng)
    if fmt is RecordFormat.PROMPT_COMPLETION:
        return {"prompt": turns[0][0], "completion": turns[0][1]}
    if fmt is RecordFormat.CLAUDE_MESSAGES:
        record: dict[str, object] = {}
        if system:
            record["system"] = system
        record["messages"] = [
            m
            for u, a in turns
            for m in ({"role": "user", "content": u}, {"role": "assistant", "content": a})
        ]
        return record
    record = {"schemaVersion": "bedrock-conversation-2024"}
    if system:
        record["system"] = [{"text": system}]
    record["messages"] = [
        m
        for u, a in turns
        for m in (
            {"role": "user", "content": [{"text": u}]},
            {"role": "assistant", "content": [{"text": a}]},
        )
    ]
    return record


def _dumps(record: object) -> bytes:
    return json.dumps(record, ensure_ascii=False).encode("utf-8")


def _texts_key(fmt: RecordFormat) -> str:
    return "prompt" if fmt is RecordFormat.PROMPT_COMPLETION else "messages"


def _break(fmt: RecordFormat, record: dict[str, object], kind: str, rng: random.Random) -> bytes:
    """`record` broken in exactly the one way `kind` names, as one JSONL line (no newline)."""
    conversation = fmt is RecordFormat.CONVERSATION
    messages = record.get("messages")

    def set_text(index: int, value: str) -> None:
        assert isinstance(messages, list)
        if conversation:
            messages[index]["content"][0]["text"] = value
        else:
            messages[index]["content"] = value

    if kind == "invalid_json":
        line = _dumps(record)
        return line[: -rng.randrange(2, 12)]
    if kind == "not_utf8":
        line = _dumps(record)
        cut = line.index(b"order") + 2  # inside a text, so the JSON is otherwise whole
        return line[:cut] + b"\xff\xfe" + line[cut:]
    if kind == "not_object":
        return _dumps([record])
    if kind == "duplicate_key":
        first = next(iter(record))
        entry = f'"{first}": {json.dumps(record[first], ensure_ascii=False)}, '.encode()
        return b"{" + entry + _dumps(record)[1:]
    if kind == "empty_line":
        return b""
    if kind == "missing_field":
        record.pop("completion" if fmt is RecordFormat.PROMPT_COMPLETION else "messages")
    elif kind == "extra_field":
        record["metadata"] = {"labeler": rng.choice(_NAMES), "batch": rng.randrange(1, 99)}
    elif kind == "wrong_type":
        if fmt is RecordFormat.PROMPT_COMPLETION:
            record["completion"] = rng.randrange(1, 5)
        elif conversation:
            assert isinstance(messages, list)
            messages[0]["content"] = messages[0]["content"][0]["text"]
        else:
            assert isinstance(messages, list)
            messages[0]["content"] = [{"type": "text", "text": messages[0]["content"]}]
    elif kind == "empty_text":
        if fmt is RecordFormat.PROMPT_COMPLETION:
            record["completion"] = "   "
        else:
            set_text(1, "")
    elif kind == "schema_version":
        record["schemaVersion"] = "bedrock-conversation-2023"
    elif kind == "invalid_role":
        assert isinstance(messages, list)
        messages[0]["role"] = "customer"
    elif kind == "too_few_messages":
        assert isinstance(messages, list)
        del messages[1:]  # the question alone, without its answer
    elif kind == "first_role":
        assert isinstance(messages, list)
        # assistant, user, assistant: only the first role is wrong.
        record["messages"] = [{**messages[1]}, {**messages[0]}, {**messages[1]}]
    elif kind == "role_order":
        assert isinstance(messages, list)
        # user, user, assistant: the second message repeats the first's role.
        messages.insert(1, {**messages[0]})
    elif kind == "last_role":
        assert isinstance(messages, list)
        messages.append({**messages[0]})
    elif kind == "reserved_string":
        assert isinstance(messages, list)
        text = messages[0]["content"][0]["text"] if conversation else messages[0]["content"]
        set_text(0, f"{text} The agent said: User: please wait.")
    elif kind == "too_many_tokens":
        filler = " ".join(rng.choice(("order", "refund", "parcel", "delivery")) for _ in range(5))
        long = (filler + " ") * (TOO_MANY_CHARS // (len(filler) + 1) + 1)
        if fmt is RecordFormat.PROMPT_COMPLETION:
            record["prompt"] = long
        else:
            set_text(0, long)
    elif kind == "system_not_allowed":
        record["system"] = [{"text": _SYSTEM_PROMPTS[0]}] if conversation else _SYSTEM_PROMPTS[0]
    elif kind == "images_not_allowed":
        assert isinstance(messages, list) and conversation
        messages[0]["content"].append(
            {"image": {"format": "png", "source": {"s3Location": {"uri": "s3://labels/a.png"}}}}
        )
    elif kind == "line_too_long":
        pad = "x" * TOO_LONG_BYTES
        if fmt is RecordFormat.PROMPT_COMPLETION:
            record["prompt"] = pad
        else:
            set_text(0, pad)
    else:
        raise ValueError(f"unknown kind {kind!r}")
    return _dumps(record)


@dataclass(frozen=True)
class LabeledData:
    data: bytes
    # Line number (1-based) → the kind planted there.
    planted: dict[int, str]


def labeled_dataset(
    fmt: RecordFormat,
    count: int,
    bad_share: float = 0.0,
    kinds: Sequence[str] | None = None,
    seed: int = 0,
) -> LabeledData:
    """`count` JSONL records of `fmt`, round(count * bad_share) of them broken, each in exactly
    one way, the kinds taken in turn from `kinds` (default: BAD_KINDS[fmt])."""
    if count < 0 or not 0.0 <= bad_share <= 1.0:
        raise ValueError("count must be >= 0 and bad_share within [0, 1]")
    chosen = tuple(kinds) if kinds is not None else BAD_KINDS[fmt]
    rng = random.Random(seed)  # noqa: S311 — reproducible test data, not secrets
    bad = round(count * bad_share)
    if bad and not chosen:
        raise ValueError("bad records need at least one kind")
    positions = sorted(rng.sample(range(count), bad))
    planted = {pos + 1: chosen[i % len(chosen)] for i, pos in enumerate(positions)}
    lines = []
    for number in range(1, count + 1):
        record = _good_record(fmt, rng)
        kind = planted.get(number)
        lines.append(_dumps(record) if kind is None else _break(fmt, record, kind, rng))
    return LabeledData(data=b"".join(line + b"\n" for line in lines), planted=planted)


def labeled_records(
    fmt: RecordFormat,
    count: int,
    bad_share: float = 0.0,
    kinds: Sequence[str] | None = None,
    seed: int = 0,
) -> bytes:
    """The JSONL bytes of `labeled_dataset`."""
    return labeled_dataset(fmt, count, bad_share, kinds, seed).data


def labeled_stream(
    fmt: RecordFormat, total_bytes: int, seed: int = 0, chunk_bytes: int = 1 << 20
) -> Iterator[bytes]:
    """About `total_bytes` of good records, in chunks of about `chunk_bytes`, made lazily: a
    pool of distinct records is cycled, so a gigabyte costs no gigabyte of memory and little
    time to make."""
    rng = random.Random(seed)  # noqa: S311 — reproducible test data, not secrets
    pool = [_dumps(_good_record(fmt, rng)) + b"\n" for _ in range(2000)]
    sent = 0
    index = 0
    while sent < total_bytes:
        parts: list[bytes] = []
        size = 0
        while size < chunk_bytes and sent + size < total_bytes:
            line = pool[index % len(pool)]
            index += 1
            parts.append(line)
            size += len(line)
        sent += size
        yield b"".join(parts)
