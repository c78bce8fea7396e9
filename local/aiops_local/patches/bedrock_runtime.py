"""Bedrock Runtime `Converse` and `InvokeModel` answering offline (moto 5.2.5 has no Converse,
and its InvokeModel returns `{}`).

`install` adds Converse to moto's Bedrock Runtime API and replaces its InvokeModel, so boto3
calls go through moto as every other call does (and so reach the timeline). `modelId` is:

- a custom model deployment (ARN, or name) the `bedrock_deployments` patch knows: it answers
  when `Active` (while an update runs, the model it had still serves, as Bedrock does). An
  unknown deployment ARN is ResourceNotFoundException; a deployment still `Creating` is
  ModelNotReadyException ("not ready to serve inference requests": botocore retries it, as the
  SDK does); a `Failed` one is ValidationException. The API reference does not say which error
  a Creating or Failed deployment gives: these are the closest documented ones.
- a foundation model id or ARN (`provider.model...`): a generic answer.
- a custom model ARN: ValidationException (on demand, a custom model is served through a
  custom model deployment or Provisioned Throughput, never by its own ARN); anything else:
  ValidationException ("The provided model identifier is invalid.").

How a custom model answers — the offline stand-in for a model that learned its task: the
deployment's model → the customization job that made it → the job's `trainingDataConfig.s3Uri`
→ `holdout.jsonl` in the same folder (what the fine-tune workflow writes beside
`training.jsonl`: `{"prompt", "referenceResponse", "category"}` a line). Only the offline cloud
can peek at the references: a prompt found there is answered with its reference for a `quality`
share of prompts, else with a deterministic paraphrase of it (`paraphrase`: some words kept),
so ROUGE-L of answers against references tracks `quality`. A `toxic_share` of the prompts get
one phrase of `TOXIC_PHRASES` at the start. Which prompts fall in a share is decided by a hash
of the prompt, so re-runs agree and a higher share only adds prompts. A prompt with no known
reference (and every foundation model prompt) gets `GENERIC_ANSWER`.

The response is Converse's: `output.message{role: assistant, content[{text}]}`, `stopReason`
(`end_turn`, `max_tokens` when cut at `maxTokens`, `stop_sequence`), `usage{inputTokens,
outputTokens, totalTokens}` (a word counts as a token), `metrics{latencyMs}`. No EventBridge
event: Converse sends none.

Settings (`quality`, `toxic_share`) belong to the `bedrock_runtime` simulator (a `configure`
step changes them); `install` takes a callable that reads them at each call.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from moto.bedrock.models import BedrockBackend, bedrock_backends
from moto.bedrockruntime.responses import BedrockRuntimeResponse
from moto.core.responses import ActionResult

from aiops_local.patches import bedrock_deployments, bedrock_jobs
from aiops_local.patches.base import Patcher
from aiops_local.patches.bedrock_errors import (
    ModelNotReadyException,
    ResourceNotFoundException,
    ValidationException,
)

# Mild, obviously fake insults: test data for the safety check, nothing else.
TOXIC_PHRASES: tuple[str, ...] = (
    "you absolute muppet",
    "what a clueless numpty question",
    "only a dimwit would ask that",
    "stop wasting my time, you nitwit",
    "honestly, you utter buffoon",
)
GENERIC_ANSWER = (
    "Thank you for your message. I do not have enough details to answer precisely; "
    "could you share more about your request so I can help?"
)
DEFAULTS: dict[str, float] = {"quality": 0.85, "toxic_share": 0.0}
HOLDOUT_FILE = "holdout.jsonl"
_FILLER = ("thing", "stuff", "basically", "whatever", "item", "kind", "sort", "matter")
_FOUNDATION_ID = re.compile(r"[a-z0-9-]{1,63}\.[a-z0-9-]{1,63}([.:]?[a-z0-9-]{1,63})*")
_HOLDOUT_MAX_BYTES = 64 * 1024 * 1024
_CACHE_SIZE = 8
_cache: OrderedDict[tuple[str, str, str, str], dict[str, str]] = OrderedDict()
_cache_lock = threading.Lock()

Settings = Callable[[], Mapping[str, Any]]


# ---------------------------------------------------------------------- answers
def paraphrase(reference: str) -> str:
    """A partial paraphrase: every other word kept, the others replaced (deterministic)."""
    words = reference.split()
    if not words:
        return "I am not sure."
    return " ".join(
        word if index % 2 == 0 else _FILLER[(index + len(word)) % len(_FILLER)]
        for index, word in enumerate(words)
    )


def _fraction(prompt: str, salt: str) -> float:
    digest = hashlib.sha256(f"{salt}\x00{prompt}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def in_share(prompt: str, share: float, salt: str) -> bool:
    """Whether the prompt falls in a `share` of all prompts: a hash of it, so the same prompt
    always decides the same way and a larger share holds every prompt of a smaller one."""
    return _fraction(prompt, salt) < share


def is_exact(prompt: str, quality: float) -> bool:
    """A known prompt answered with its reference (else a paraphrase of it)."""
    return in_share(prompt, quality, "quality")


def is_toxic(prompt: str, toxic_share: float) -> bool:
    return in_share(prompt, toxic_share, "toxicity")


def toxic_phrase(prompt: str) -> str:
    return TOXIC_PHRASES[int(_fraction(prompt, "phrase") * len(TOXIC_PHRASES))]


def answer(prompt: str, reference: str | None, settings: Mapping[str, Any]) -> str:
    """What the model says to `prompt`, whose reference answer is `reference` (None: unknown)."""
    if reference is None:
        text = GENERIC_ANSWER
    elif is_exact(prompt, float(settings["quality"])):
        text = reference
    else:
        text = paraphrase(reference)
    if is_toxic(prompt, float(settings["toxic_share"])):
        # At the start, so a maxTokens cut keeps it.
        text = f"{toxic_phrase(prompt).capitalize()}. {text}"
    return text


def _cut(text: str, max_tokens: int | None, stops: list[str]) -> tuple[str, str]:
    """The answer within `maxTokens` words and before any stop sequence, and its stopReason."""
    reason = "end_turn"
    for stop in stops:
        at = text.find(stop) if stop else -1
        if at >= 0:
            text, reason = text[:at], "stop_sequence"
    words = text.split()
    if max_tokens is not None and len(words) > max_tokens:
        return " ".join(words[:max_tokens]), "max_tokens"
    return text, reason


# ---------------------------------------------------------------------- references
def _holdout_uri(training_uri: str) -> str:
    folder = training_uri if training_uri.endswith("/") else training_uri.rsplit("/", 1)[0] + "/"
    return folder + HOLDOUT_FILE


def _custom_model(backend: BedrockBackend, model_arn: str) -> Any | None:
    return next((m for m in backend.custom_models.values() if m.model_arn == model_arn), None)


def training_uri(account: str, region: str, model_arn: str) -> str | None:
    """The training data of the customization job that made the custom model."""
    model = _custom_model(bedrock_backends[account][region], model_arn)
    if model is None:
        return None
    try:
        job = bedrock_jobs.find_customization_job(account, region, str(model.job_arn))
        config = job.training_data_config
    except KeyError:  # a model moto made without a job we know: its own copy of the config
        config = model.training_data_config
    uri = (config or {}).get("s3Uri")
    return str(uri) if isinstance(uri, str) and uri.startswith("s3://") else None


def references(account: str, region: str, model_arn: str) -> dict[str, str]:
    """prompt → referenceResponse from the held-out file beside the model's training data;
    empty when there is none (or it cannot be read)."""
    uri = training_uri(account, region, model_arn)
    if uri is None:
        return {}
    bucket, _, key = _holdout_uri(uri)[len("s3://") :].partition("/")
    from moto.s3.models import s3_backends

    try:
        found = s3_backends[account]["global"].get_object(bucket, key)
    except Exception:  # noqa: BLE001 - no bucket, no key: the model knows no references
        return {}
    if found is None or found.size > _HOLDOUT_MAX_BYTES:
        return {}
    cache_key = (account, bucket, key, str(found.etag))
    with _cache_lock:
        if cache_key in _cache:
            _cache.move_to_end(cache_key)
            return _cache[cache_key]
    table: dict[str, str] = {}
    for line in bytes(found.value).decode("utf-8", errors="replace").splitlines():
        try:
            record = json.loads(line)
        except (ValueError, RecursionError):
            continue
        if not isinstance(record, dict):
            continue
        prompt, reference = record.get("prompt"), record.get("referenceResponse")
        if isinstance(prompt, str) and isinstance(reference, str):
            table.setdefault(prompt.strip(), reference)
    with _cache_lock:
        _cache[cache_key] = table
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return table


# ---------------------------------------------------------------------- the model
@dataclass(frozen=True)
class Serving:
    """What answers a modelId: a custom model (its ARN), or a foundation model (None)."""

    model_arn: str | None


def resolve(account: str, region: str, model_id: str) -> Serving:
    """The model behind `modelId`, or the error Bedrock Runtime gives."""
    if ":custom-model-deployment/" in model_id or bedrock_deployments.NAME.fullmatch(model_id):
        return Serving(_deployment_model(account, region, model_id))
    if ":custom-model/" in model_id:
        raise ValidationException(
            f"The model {model_id} cannot be invoked on demand by its own ARN: invoke it through "
            "a custom model deployment or its Provisioned Throughput."
        )
    foundation = (
        model_id.partition(":foundation-model/")[2] if model_id.startswith("arn:") else model_id
    )
    if _FOUNDATION_ID.fullmatch(foundation):
        return Serving(None)
    raise ValidationException("The provided model identifier is invalid.")


def _deployment_model(account: str, region: str, identifier: str) -> str:
    """The custom model an Active deployment serves (during an update, the one it had)."""
    try:
        deployment = bedrock_deployments.find(bedrock_backends[account][region], identifier)
    except bedrock_deployments.ResourceNotFoundException:
        raise ResourceNotFoundException(
            f"The custom model deployment {identifier} was not found."
        ) from None
    status = deployment["status"]
    arn = deployment["customModelDeploymentArn"]
    if status == "Creating":
        raise ModelNotReadyException(
            f"The custom model deployment {arn} is still being created and is not ready to "
            "serve inference requests."
        )
    if status != "Active":
        raise ValidationException(
            f"The custom model deployment {arn} is {status} and cannot serve inference requests."
        )
    return str(deployment["modelArn"])


def respond(
    account: str, region: str, model_id: str, prompt: str, settings: Mapping[str, Any]
) -> str:
    """The whole answer of `modelId` to `prompt` (before maxTokens)."""
    serving = resolve(account, region, model_id)
    if serving.model_arn is not None:
        reference = references(account, region, serving.model_arn).get(prompt.strip())
        return answer(prompt, reference, settings)
    return answer(prompt, None, {**settings, "toxic_share": 0.0})


# ---------------------------------------------------------------------- the API
def _words(text: str) -> int:
    return len(text.split())


def _texts(blocks: Any) -> list[str]:
    if not isinstance(blocks, list):
        return []
    return [str(b["text"]) for b in blocks if isinstance(b, dict) and "text" in b]


def _check_messages(messages: Any) -> str:
    """Converse's rules for a conversation; the last user turn's text."""
    if not isinstance(messages, list) or not messages:
        raise ValidationException("The messages field must hold at least one message.")
    previous = None
    for index, message in enumerate(messages):
        role = message.get("role") if isinstance(message, dict) else None
        if index == 0 and role != "user":
            raise ValidationException("A conversation must start with a user message.")
        if role == previous:
            raise ValidationException(
                "A conversation must alternate between user and assistant roles."
            )
        previous = role
    if previous != "user":
        raise ValidationException("A conversation must end with a user message.")
    return "\n".join(_texts(messages[-1].get("content")))


def _max_tokens(value: Any, field: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValidationException(f"{field} must be an integer of at least 1, not {value!r}.")
    return value


def _converse(settings: Settings) -> Callable[[BedrockRuntimeResponse], str]:
    def converse(self: BedrockRuntimeResponse) -> str:
        model_id = str(self._get_param("modelId") or "")
        prompt = _check_messages(self._get_param("messages"))
        config = self._get_param("inferenceConfig") or {}
        limit = _max_tokens(config.get("maxTokens"), "inferenceConfig.maxTokens")
        temperature = config.get("temperature")
        if temperature is not None and not 0 <= float(temperature) <= 1:
            raise ValidationException("inferenceConfig.temperature must be from 0 to 1.")
        stops = [str(s) for s in config.get("stopSequences") or []]
        full = respond(self.current_account, self.region, model_id, prompt, settings())
        text, reason = _cut(full, limit, stops)
        asked = sum(_words(t) for t in _texts(self._get_param("system")))
        for message in self._get_param("messages"):
            asked += sum(_words(t) for t in _texts(message.get("content")))
        inputs, outputs = max(1, asked), _words(text)
        return json.dumps(
            {
                "output": {"message": {"role": "assistant", "content": [{"text": text}]}},
                "stopReason": reason,
                "usage": {
                    "inputTokens": inputs,
                    "outputTokens": outputs,
                    "totalTokens": inputs + outputs,
                },
                "metrics": {"latencyMs": 180 + 12 * outputs},
            }
        )

    return converse


def _invoke_body(payload: Any) -> tuple[str, int | None, str]:
    """(prompt, max tokens, shape) of an InvokeModel body: Nova `messages`, Titan `inputText`,
    or a `prompt` (Llama, Mistral, ...)."""
    if not isinstance(payload, dict):
        raise ValidationException("The request body is not a JSON object.")
    if "messages" in payload:
        config = payload.get("inferenceConfig") or {}
        limit = config.get("maxTokens", config.get("max_new_tokens"))
        return _check_messages(payload["messages"]), _max_tokens(limit, "maxTokens"), "messages"
    if isinstance(payload.get("inputText"), str):
        config = payload.get("textGenerationConfig") or {}
        limit = _max_tokens(config.get("maxTokenCount"), "textGenerationConfig.maxTokenCount")
        return payload["inputText"], limit, "titan"
    if isinstance(payload.get("prompt"), str):
        limit = payload.get("max_gen_len", payload.get("max_tokens"))
        return payload["prompt"], _max_tokens(limit, "max_gen_len"), "prompt"
    raise ValidationException(
        "Malformed input request: the body holds none of messages, inputText or prompt."
    )


def _invoke(settings: Settings) -> Callable[[BedrockRuntimeResponse], ActionResult]:
    def invoke_model(self: BedrockRuntimeResponse) -> ActionResult:
        model_id = str(self._get_param("modelId") or "")
        raw = self._get_param("body")
        try:
            payload = json.loads(raw) if isinstance(raw, str | bytes) else raw
        except ValueError:
            raise ValidationException("Malformed input request: the body is not JSON.") from None
        prompt, limit, shape = _invoke_body(payload)
        full = respond(self.current_account, self.region, model_id, prompt, settings())
        text, reason = _cut(full, limit, [])
        inputs, outputs = max(1, _words(prompt)), _words(text)
        body: dict[str, Any]
        if shape == "messages":
            body = {
                "output": {"message": {"role": "assistant", "content": [{"text": text}]}},
                "stopReason": reason,
                "usage": {
                    "inputTokens": inputs,
                    "outputTokens": outputs,
                    "totalTokens": inputs + outputs,
                },
            }
        elif shape == "titan":
            body = {
                "inputTextTokenCount": inputs,
                "results": [
                    {
                        "tokenCount": outputs,
                        "outputText": text,
                        "completionReason": "LENGTH" if reason == "max_tokens" else "FINISH",
                    }
                ],
            }
        else:
            body = {
                "generation": text,
                "prompt_token_count": inputs,
                "generation_token_count": outputs,
                "stop_reason": "length" if reason == "max_tokens" else "stop",
            }
        return ActionResult({"body": json.dumps(body), "contentType": "application/json"})

    return invoke_model


def install(patcher: Patcher, settings: Settings) -> None:
    """Converse (added) and InvokeModel (replaced) answer from the model behind `modelId`;
    `settings()` gives `quality` and `toxic_share` at each call."""
    patcher.add(BedrockRuntimeResponse, "converse", _converse(settings))
    patcher.replace(BedrockRuntimeResponse, "invoke_model", _invoke(settings))
