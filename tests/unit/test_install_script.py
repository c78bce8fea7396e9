"""requirements/install.py: what the Makefile's install targets print while pip works."""

from __future__ import annotations

import importlib.util
import io
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "install_script", ROOT / "requirements/install.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


install = _load()


@pytest.mark.parametrize(
    ("line", "package"),
    [
        ("Collecting boto3==1.44.5 (from aiops-control-plane==0.1.0)", "boto3"),
        ("Requirement already satisfied: six in ./.venv/lib/python3.11/site-packages", "six"),
        ("Processing /opt/wheels/PyYAML-6.0.3-cp311-cp311-manylinux2014_x86_64.whl", "PyYAML"),
        ("Processing /opt/pypi/files/jmespath-1.1.0-py3-none-any.whl (from boto3)", "jmespath"),
    ],
)
def test_given_pip_resolving_lines_then_each_names_the_package_it_counts(
    line: str, package: str
) -> None:
    match = install._COLLECTING.match(line)
    assert match is not None and (match.group(1) or match.group(2)) == package


def test_given_the_project_itself_being_processed_then_it_is_not_counted_as_a_package() -> None:
    assert install._COLLECTING.match("Processing /tmp/newcomer") is None


def test_given_pips_output_then_the_phase_shown_follows_it(tmp_path: Path) -> None:
    site = tmp_path / "site-packages"
    (site / "pip-24.0.dist-info").mkdir(parents=True)
    phases = install._Phases(expected=2, site=site)
    assert phases.now() == "  starting pip"
    assert not phases.read("Obtaining file:///tmp/newcomer")
    assert phases.now() == "  preparing the project's own package (editable install)"
    phases.read("Collecting boto3==1.44.5 (from aiops-control-plane==0.1.0)")
    phases.read("Processing /opt/wheels/PyYAML-6.0.3-cp311-cp311-manylinux2014_x86_64.whl")
    phases.read("Collecting pyyaml==6.0.3")  # the same package again: counted once
    assert phases.now() == "  resolving: 2 of ~2 packages (pyyaml)"
    phases.read("Collecting six==1.17.0")  # more than the pins said: no total shown
    assert phases.now() == "  resolving: 3 packages (six)"
    assert phases.read("Installing collected packages: six, PyYAML, boto3")
    (site / "six-1.17.0.dist-info").mkdir()
    assert phases.now() == "  installing: 1 of 3 packages"


def test_given_constraints_files_then_the_expected_count_is_their_pins(tmp_path: Path) -> None:
    pins = tmp_path / "c.txt"
    pins.write_text("# pinned\nboto3==1.44.5\n\nsix==1.17.0\n-e ./x\n")
    assert install.pinned_count(["-c", str(pins), "-e", ".[dev]"]) == 2
    assert install.pinned_count(["-r", str(pins)]) is None


def test_given_a_terminal_then_progress_rewrites_one_line_and_lines_that_stay_clear_it() -> None:
    stream = io.StringIO()
    out = install.Progress(stream, interactive=True)
    out.status("  resolving: 1 of 84 packages (boto3)")
    out.status("  resolving: 2 of 84 packages (six)")
    out.say("done")
    assert stream.getvalue() == (
        "\r\033[K  resolving: 1 of 84 packages (boto3)"
        "\r\033[K  resolving: 2 of 84 packages (six)"
        "\r\033[Kdone\n"
    )


def test_given_a_pipe_then_progress_is_whole_lines_without_control_characters() -> None:
    stream = io.StringIO()
    out = install.Progress(stream, interactive=False)
    out.say("Installing x")
    out.status("  installing 87 packages", force=True)
    out.status("  installing 87 packages", force=True)  # unchanged: not repeated
    out.say("ready")
    assert stream.getvalue() == "Installing x\n  installing 87 packages\nready\n"


def test_given_pip_fails_then_its_error_is_shown_with_the_end_of_its_log(tmp_path: Path) -> None:
    stream = io.StringIO()
    env = tmp_path / "venv"
    status = install.install(
        env,
        "a test environment",
        ["--no-index", "--find-links", str(tmp_path), "no-such-package-aiops-test"],
        install.Progress(stream, interactive=False),
    )
    text = stream.getvalue()
    assert status != 0
    assert text.startswith(f"Installing a test environment into {env} (first run only")
    assert "ERROR: " in text and "no-such-package-aiops-test" in text
    assert (
        f"pip failed (exit status {status}); the last lines of {env / 'pip-install.log'}:" in text
    )
    assert "ERROR: " in (env / "pip-install.log").read_text()
