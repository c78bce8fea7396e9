"""The AWS events the control plane consumes, parsed at the edge.

One module per source (`aiops.events.s3`, `.sagemaker`, `.cloudwatch`, `.bedrock`, `.cost`,
`.control_plane`), so a handler creates the models of the events it reads and no others; this
package holds what they share: the bounds, the field types, the envelope and `parse_event`.

Our own small pydantic models rather than Powertools' parser models: those build every AWS event
model at import time (about 290 ms), which would dominate cold start.

Every field is bounded by what AWS itself allows (S3 keys of at most 1,024 bytes, objects of at
most 5 TiB, job names of at most 63 characters ...): a value no AWS service can send is rejected
here, naming the field and the bound, instead of acting (a 2**64-byte object closing a window) or
failing further on (a number DynamoDB cannot store, a key too long for a DynamoDB key). Integers
are strict: `1e3` or `true` is not a size.
"""

from datetime import datetime
from typing import Annotated, Any, TypeVar

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictInt,
    ValidationError,
)

# --- what AWS allows -------------------------------------------------------------------------
MAX_S3_OBJECT_BYTES = 5 * 2**40  # 5 TiB, S3's largest object
MAX_S3_KEY_BYTES = 1024  # UTF-8 bytes
MIN_BUCKET_NAME, MAX_BUCKET_NAME = 3, 63
MAX_S3_URI_BYTES = len("s3://") + MAX_BUCKET_NAME + len("/") + MAX_S3_KEY_BYTES
MAX_S3_TOKEN = 1024  # version id, ETag, sequencer: far shorter in practice
MAX_EVENT_ID = 256
MAX_ARN = 2048
MAX_JOB_NAME = 63  # SageMaker processing job / endpoint names
MAX_ALARM_NAME = 255
MAX_TEXT = 1024  # free text AWS bounds at about 1 KB: exit messages, failure and state reasons
MAX_NAME = 256  # other names and short values
MAX_TIMESTAMP_TEXT = 64
MAX_ITEMS = 100  # lists and maps in an event (AWS's own limits are lower)
MAX_VIOLATIONS = 100_000  # a drift check reports one per feature and check
EARLIEST_YEAR, LATEST_YEAR = 2000, 2099


def _utf8_at_most(limit: int) -> AfterValidator:
    def check(value: str) -> str:
        # pydantic has already refused text that is not valid Unicode (a lone surrogate).
        size = len(value.encode("utf-8"))
        if size > limit:
            raise ValueError(f"is {size} bytes of UTF-8, more than the {limit} AWS allows")
        return value

    return AfterValidator(check)


def _text_before_parsing(value: Any) -> Any:
    # A time is ISO 8601 text in every event we consume: not a number of seconds, not unbounded.
    if not isinstance(value, str):
        raise ValueError("must be an ISO 8601 time as text")
    if len(value) > MAX_TIMESTAMP_TEXT:
        raise ValueError(f"is longer than {MAX_TIMESTAMP_TEXT} characters")
    return value


def _sane_year(value: datetime) -> datetime:
    # The year as written: converting 9999-12-31T23:59-01:00 to UTC would overflow.
    if not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
        raise ValueError(f"must be in the years {EARLIEST_YEAR} to {LATEST_YEAR}")
    return value


S3Key = Annotated[str, Field(min_length=1), _utf8_at_most(MAX_S3_KEY_BYTES)]
S3Uri = Annotated[
    str, Field(min_length=1, pattern=r"^s3://[^/]+/.+"), _utf8_at_most(MAX_S3_URI_BYTES)
]
S3Size = Annotated[StrictInt, Field(ge=0, le=MAX_S3_OBJECT_BYTES)]
S3Token = Annotated[str, Field(max_length=MAX_S3_TOKEN)]
Arn = Annotated[str, Field(min_length=1, max_length=MAX_ARN)]
Name = Annotated[str, Field(max_length=MAX_NAME)]
Text = Annotated[str, Field(max_length=MAX_TEXT)]
EventTime = Annotated[
    AwareDatetime, BeforeValidator(_text_before_parsing), AfterValidator(_sane_year)
]
NameMap = Annotated[dict[Name, Text], Field(max_length=MAX_ITEMS)]


class InvalidEvent(ValueError):
    """An event that cannot be acted on, naming each bad field and why."""

    def __init__(self, kind: str, problems: list[str]) -> None:
        self.kind = kind
        self.problems = problems
        super().__init__(f"invalid {kind} event: " + "; ".join(problems))


class AwsShape(BaseModel):
    # AWS adds fields over time: tolerate them, require only what we use.
    # Built on first use: a handler builds the schema of the one event it reads.
    model_config = ConfigDict(extra="ignore", populate_by_name=True, frozen=True, defer_build=True)


class Envelope(AwsShape):
    id: str = Field(min_length=1, max_length=MAX_EVENT_ID)
    source: Name
    detail_type: Name = Field(alias="detail-type")
    time: EventTime
    account: str = Field(default="", max_length=12)
    region: str = Field(default="", max_length=32)
    resources: list[Arn] = Field(default_factory=list, max_length=MAX_ITEMS)


E = TypeVar("E", bound=BaseModel)


def parse_event(model: type[E], raw: Any) -> E:
    """Validate `raw` as `model`, or raise `InvalidEvent` naming each bad field."""
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        problems = [
            f"{'.'.join(str(p) for p in err['loc']) or '(event)'}: {err['msg']}"
            for err in exc.errors()
        ]
        raise InvalidEvent(model.__name__, problems) from exc
