"""CloudTemplate keeps each file's reading and expansion per process (hundreds of test clouds
are built from the same template): what it keeps must never leak between templates."""

from __future__ import annotations

from pathlib import Path

from aiops_local.template import CloudTemplate
from tests.support.toy_project import write_toy_project


def test_given_a_template_built_twice_when_one_is_changed_then_the_other_is_not(
    tmp_path: Path,
) -> None:
    template = write_toy_project(tmp_path / "toy")
    first = CloudTemplate(template)
    first.source["Parameters"]["Stage"]["Default"] = "changed"
    first.expanded["Resources"]["DataBucket"]["Properties"]["BucketName"] = "changed"

    second = CloudTemplate(template)

    assert second.source["Parameters"]["Stage"]["Default"] == "dev"
    assert second.properties("DataBucket")["BucketName"] == "toy-dev-data-123456789012"


def test_given_a_template_file_rewritten_when_built_again_then_the_new_content_is_read(
    tmp_path: Path,
) -> None:
    template = write_toy_project(tmp_path / "toy")
    CloudTemplate(template)
    template.write_text(
        template.read_text().replace("toy-${Stage}-data-", "toy-${Stage}-fresh-"),
        encoding="utf-8",
    )

    rebuilt = CloudTemplate(template)

    assert rebuilt.properties("DataBucket")["BucketName"] == "toy-dev-fresh-123456789012"


def test_given_two_stages_when_built_from_one_file_then_each_has_its_own_expansion(
    tmp_path: Path,
) -> None:
    template = write_toy_project(tmp_path / "toy")

    dev = CloudTemplate(template)
    prod = CloudTemplate(template, {"Stage": "prod", "Owner": "ana"})

    assert dev.properties("DataBucket")["BucketName"] == "toy-dev-data-123456789012"
    assert prod.properties("DataBucket")["BucketName"] == "toy-prod-data-123456789012"
    assert "OwnerTopic" in prod.resources
    assert "OwnerTopic" not in dev.resources
