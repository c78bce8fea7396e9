"""A held-out training record as a prompt for Bedrock's evaluation job: what the user said
(with the conversation before it) and the answer the labelers gave, as the reference."""

from __future__ import annotations

import json
from typing import Any

from aiops.base_models import RecordFormat


def _texts(content: Any) -> str:
    """A message's text: a string (Claude), or a list of {"text"} blocks (Converse)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(b["text"] for b in content if isinstance(b, dict) and "text" in b)
    return ""


def _system(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "\n".join(b.get("text", "") for b in value if isinstance(b, dict))
    return ""


def evaluation_prompt(raw: bytes, fmt: RecordFormat) -> bytes | None:
    """One line of the evaluation job's prompt dataset (`prompt`, `referenceResponse`,
    `category`) from a valid training record; None when it has no answer to compare with."""
    record = json.loads(raw)
    if fmt is RecordFormat.PROMPT_COMPLETION:
        prompt, reference = record["prompt"], record["completion"]
    else:
        messages = record["messages"]
        reference = _texts(messages[-1]["content"])
        turns = [
            f"{m['role']}: {_texts(m['content'])}"
            if i < len(messages) - 2
            else _texts(m["content"])
            for i, m in enumerate(messages[:-1])
        ]
        system = _system(record.get("system"))
        prompt = "\n\n".join([system, *turns] if system else turns)
    if not reference.strip() or not prompt.strip():
        return None
    line = {"prompt": prompt, "referenceResponse": reference, "category": fmt.value}
    return json.dumps(line, ensure_ascii=False).encode()
