"""Create a virtual environment and pip-install into it, saying what is going on.

    python3 requirements/install.py VENV "WHAT IT IS" [pip install arguments...]

The Makefile's install targets run it with the system interpreter (the standard library only), so
a newcomer's first `make demo` / `make test` / `make lint` shows progress instead of a minute of
silence: one line that updates itself on a terminal; piped (`make demo | tee log`), a line per
phase and a progress line at most every few seconds. pip's own output, warnings included, goes to
VENV/pip-install.log; when pip fails, its last lines are printed and its exit status returned.
"""

from __future__ import annotations

import itertools
import os
import queue
import re
import subprocess
import sys
import threading
import time
import venv
from pathlib import Path
from typing import TextIO

# Piped output says where it is at least this often while something is still moving (seconds).
HEARTBEAT_S = 5.0
TAIL_LINES = 30

_PINNED = re.compile(r"^\s*[A-Za-z0-9][A-Za-z0-9._-]*\s*==")
# "Collecting boto3==...", "Requirement already satisfied: boto3 ...", or a wheel found locally:
# "Processing /some/dir/boto3-1.44.5-py3-none-any.whl".
_COLLECTING = re.compile(
    r"^(?:(?:Collecting|Requirement already satisfied:)\s+([A-Za-z0-9._-]+)"
    r"|Processing\s+\S*?([A-Za-z0-9_.]+)-\d[^/\s]*\.whl)"
)
_INSTALLING = re.compile(r"^Installing collected packages:\s*(.*)$")


class Progress:
    """Writes progress to `stream`: rewriting one line on a terminal, else appending lines."""

    def __init__(self, stream: TextIO, interactive: bool) -> None:
        self.stream = stream
        self.interactive = interactive
        self._shown = ""
        self._last_line_at = time.monotonic()
        self._open = False  # a rewritable line is on screen

    def say(self, text: str) -> None:
        """A line that stays."""
        self._end_status()
        self.stream.write(text + "\n")
        self.stream.flush()
        self._last_line_at = time.monotonic()

    def status(self, text: str, force: bool = False) -> None:
        """A progress line: rewritten in place on a terminal; piped, only when it changed and
        at most every HEARTBEAT_S seconds (or `force`)."""
        if text == self._shown:
            return
        if self.interactive:
            self.stream.write("\r\033[K" + text)
            self.stream.flush()
            self._open = True
            self._shown = text
        elif force or time.monotonic() - self._last_line_at >= HEARTBEAT_S:
            self.say(text)
            self._shown = text

    def _end_status(self) -> None:
        if self._open:
            self.stream.write("\r\033[K")
            self._open = False


def pinned_count(pip_args: list[str]) -> int | None:
    """How many packages the constraints files (-c) pin: what the install will end up with."""
    total = 0
    found = False
    for flag, value in itertools.pairwise(pip_args):
        if flag in ("-c", "--constraint"):
            path = Path(value)
            if path.is_file():
                found = True
                lines = path.read_text(encoding="utf-8").splitlines()
                total += sum(1 for line in lines if _PINNED.match(line))
    return total if found else None


def site_packages(env: Path) -> Path:
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    return env / "lib" / version / "site-packages"


def installed_count(path: Path) -> int:
    try:
        return sum(1 for entry in os.scandir(path) if entry.name.endswith(".dist-info"))
    except OSError:
        return 0


def _read_lines(stream: TextIO, lines: queue.Queue[str | None]) -> None:
    for line in stream:
        lines.put(line.rstrip("\n"))
    lines.put(None)


def _normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


class _Phases:
    """What pip is doing, read from its output line by line."""

    def __init__(self, expected: int | None, site: Path) -> None:
        self.expected = expected
        self.site = site
        self.baseline = installed_count(site)
        self.collected: dict[str, None] = {}  # normalized names, in order
        self.last = ""
        self.to_install = 0
        self.text = "  starting pip"

    def read(self, line: str) -> bool:
        """Take one line of pip's; True when a new phase starts (worth a line of its own)."""
        collecting = _COLLECTING.match(line)
        installing = _INSTALLING.match(line)
        if collecting:
            self.last = collecting.group(1) or collecting.group(2)
            self.collected[_normalized(self.last)] = None
        elif installing:
            self.to_install = len([p for p in installing.group(1).split(",") if p.strip()])
            self.text = f"  installing {self.to_install} packages"
            return True
        elif line.startswith(("Obtaining ", "  Installing build dependencies")):
            self.text = "  preparing the project's own package (editable install)"
        elif line.startswith("Building editable for") or line.startswith("  Building editable"):
            self.text = "  building the project's own package"
        return False

    def now(self) -> str:
        if self.to_install:
            done = min(installed_count(self.site) - self.baseline, self.to_install)
            last = " (finishing)" if done == self.to_install else ""
            return f"  installing: {done} of {self.to_install} packages{last}"
        if self.collected and not self.text.startswith("  building"):
            count = len(self.collected)
            of = f" of ~{self.expected}" if self.expected and count <= self.expected else ""
            return f"  resolving: {count}{of} packages ({self.last})"
        return self.text


def _create(env: Path, out: Progress, started: float) -> None:
    """The virtual environment (with pip), saying so while it is being made."""
    version = ".".join(str(n) for n in sys.version_info[:3])
    failure: list[BaseException] = []

    def create() -> None:
        try:
            venv.EnvBuilder(with_pip=True).create(env)
        except BaseException as error:  # noqa: BLE001 - re-raised in the main thread
            failure.append(error)

    worker = threading.Thread(target=create, daemon=True)
    worker.start()
    while worker.is_alive():
        out.status(f"  creating {env} (Python {version}), {time.monotonic() - started:.0f} s")
        worker.join(0.5)
    if failure:
        raise failure[0]


def install(env: Path, what: str, pip_args: list[str], out: Progress) -> int:
    started = time.monotonic()
    if (env / "bin" / "pip").exists():
        out.say(f"Updating {what} in {env} (its requirements changed)")
    else:
        out.say(f"Installing {what} into {env} (first run only, a minute or two)")
        _create(env, out, started)
    log_path = env / "pip-install.log"
    phases = _Phases(pinned_count(pip_args), site_packages(env))
    command = [
        str(env / "bin" / "pip"),
        "install",
        "--disable-pip-version-check",
        "--progress-bar",
        "off",
        *pip_args,
    ]
    lines: queue.Queue[str | None] = queue.Queue()
    with log_path.open("w", encoding="utf-8") as log:
        log.write("$ " + " ".join(command) + "\n")
        process = subprocess.Popen(  # noqa: S603 - our own pip, arguments from the Makefile
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
            env={**os.environ, "PIP_NO_COLOR": "1", "PYTHONUNBUFFERED": "1"},
        )
        assert process.stdout is not None
        threading.Thread(target=_read_lines, args=(process.stdout, lines), daemon=True).start()
        while True:
            try:
                line = lines.get(timeout=0.5)
            except queue.Empty:
                line = ""
            if line is None:
                break
            new_phase = False
            if line:
                log.write(line + "\n")
                new_phase = phases.read(line)
            # The elapsed time keeps a piped log moving while pip works on a large package.
            out.status(f"{phases.now()}, {time.monotonic() - started:.0f} s", force=new_phase)
        status = process.wait()
    if status != 0:
        out.say(f"pip failed (exit status {status}); the last lines of {log_path}:")
        # pip's warnings (an unreachable extra index, ...) stay in the log: the error is the news.
        logged = log_path.read_text(encoding="utf-8").splitlines()
        for line in [line for line in logged if not line.startswith("WARNING:")][-TAIL_LINES:]:
            out.say("  " + line)
        return status
    elapsed = time.monotonic() - started
    out.say(f"{env} is ready ({elapsed:.0f} s; pip's output: {log_path})")
    return 0


def main(argv: list[str]) -> int:
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    env, what, pip_args = Path(argv[0]), argv[1], argv[2:]
    out = Progress(sys.stdout, sys.stdout.isatty())
    return install(env, what, pip_args, out)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
