"""Where and how our drift check writes its reports: the layout and the S3 user metadata the
check writes (aiops.drift.check) and the drift decisions (aiops.drift.decisions) and the approval
page's evidence reader (aiops.adapters.drift_evidence) verify."""

from datetime import datetime

REPORT_NAME = "constraint_violations.json"
# Our drift check writes its statistics beside each report: the evidence a drift run carries.
STATISTICS_NAME = "statistics.json"

# Our drift check's reports, s3://<artifacts>/drift/<model>/<time>/constraint_violations.json, are
# written with this S3 user metadata (S3 gives the keys back in lowercase). Only the drift check's
# role may write under `drift/` (the bucket policy), so a report there with this metadata is one
# it wrote; the `Drift Check Completed` event itself is only a pointer anyone allowed to put
# events on the bus could forge.
REPORT_WRITER_KEY = "aiops-writer"
REPORT_MODEL_KEY = "aiops-model"
REPORT_CHECKED_AT_KEY = "aiops-checked-at"
DRIFT_CHECK_WRITER = "drift-check"


def drift_report_prefix(model: str) -> str:
    """Where our drift check writes a model's reports in the artifacts bucket."""
    return f"drift/{model}/"


def drift_check_metadata(model: str, checked_at: datetime) -> dict[str, str]:
    """The S3 user metadata our drift check writes with every object of a model."""
    return {
        REPORT_WRITER_KEY: DRIFT_CHECK_WRITER,
        REPORT_MODEL_KEY: model,
        REPORT_CHECKED_AT_KEY: checked_at.isoformat(),
    }
