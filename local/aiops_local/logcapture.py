"""Route what handlers print (Powertools JSON logs, EMF metrics) to their invocation's log, and
what the runtime's own libraries say (moto, botocore, the SAM translator) to a file.

On AWS handler output goes to CloudWatch Logs; offline it would drown the timeline on the
terminal. While a cloud runs, sys.stdout and sys.stderr are this object: writes made on behalf of
an invocation land in that invocation's buffer, everything else goes to the real stream.

`RuntimeLog` keeps the libraries' log records and Python warnings off the terminal: moto logs an
ERROR line when a Step Functions execution fails (a run a scenario fails on purpose reads like a
crash), botocore and the translator log warnings. The timeline already tells what happened.
"""

from __future__ import annotations

import logging
import sys
import threading
import warnings
from pathlib import Path
from types import TracebackType
from typing import Any, TextIO

from aiops_local.actors import current_actor
from aiops_local.patches.base import Patcher


class _Router:
    def __init__(self, real: TextIO) -> None:
        self.real = real

    def write(self, text: str) -> int:
        actor = current_actor()
        if actor is not None and actor.kind == "function":
            return actor.logs.write(text)
        return self.real.write(text)

    def flush(self) -> None:
        self.real.flush()

    def isatty(self) -> bool:
        return False

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


_installed = 0  # clouds whose capture is installed in this process


def ensure_routed() -> None:
    """Put the router back in front of sys.stdout and sys.stderr if someone replaced them while
    a cloud runs — pytest does between a test's set-up and its call — so what a handler prints
    (Powertools Metrics prints its EMF documents) still reaches its invocation's log."""
    if not _installed:
        return
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if not isinstance(stream, _Router):
            setattr(sys, name, _Router(stream))


class LogCapture:
    def __init__(self) -> None:
        self._patcher = Patcher()

    def install(self) -> None:
        routers = {id(sys.stdout): _Router(sys.stdout), id(sys.stderr): _Router(sys.stderr)}
        # Loggers made before the cloud started (Powertools' Logger is made at import) hold
        # the real stream in their handlers: those go through the router too.
        for handler in _stream_handlers():
            router = routers.get(id(handler.stream))
            if router is not None:
                self._patcher.replace(handler, "stream", router)
        self._patcher.replace(sys, "stdout", routers[id(sys.stdout)])
        self._patcher.replace(sys, "stderr", routers[id(sys.stderr)])
        global _installed
        _installed += 1

    def uninstall(self) -> None:
        global _installed
        _installed = max(0, _installed - 1)
        self._patcher.restore()


def _stream_handlers() -> list[logging.StreamHandler[Any]]:
    loggers = [logging.getLogger()] + [
        logger
        for logger in logging.Logger.manager.loggerDict.values()
        if isinstance(logger, logging.Logger)
    ]
    return [
        handler
        for logger in loggers
        for handler in logger.handlers
        if isinstance(handler, logging.StreamHandler)
    ]


# ---------------------------------------------------------------------- the runtime's own log
RUNTIME_LOG = Path(".aiops-local") / "runtime.log"


class RuntimeLog:
    """While open, log records no logger of their own handles (they would reach Python's
    last-resort handler: stderr), warnings and uncaught exceptions in threads go to `path`.

    Loggers with handlers of their own (Powertools' in the handlers) are left alone: those records
    already went where their handlers send them (the invocation's log, see `LogCapture`).
    """

    def __init__(self, path: Path = RUNTIME_LOG) -> None:
        self.path = path
        self.records = 0
        self._handler: logging.FileHandler | None = None
        self._saved_showwarning: Any = None
        self._saved_excepthook: Any = None

    def __enter__(self) -> RuntimeLog:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(self.path, mode="w", encoding="utf-8")
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(threadName)s] %(message)s")
        )
        handler.addFilter(self._count_unhandled)
        logging.getLogger().addHandler(handler)
        self._handler = handler
        self._saved_showwarning = warnings.showwarning
        warnings.showwarning = self._show_warning
        self._saved_excepthook = threading.excepthook
        threading.excepthook = self._thread_died
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self._handler is not None:
            logging.getLogger().removeHandler(self._handler)
            self._handler.close()
            self._handler = None
        warnings.showwarning = self._saved_showwarning
        threading.excepthook = self._saved_excepthook

    def _count_unhandled(self, record: logging.LogRecord) -> bool:
        if _handled_by_its_logger(record.name):
            return False
        self.records += 1
        return True

    def _show_warning(
        self,
        message: Warning | str,
        category: type[Warning],
        filename: str,
        lineno: int,
        file: TextIO | None = None,
        line: str | None = None,
    ) -> None:
        text = warnings.formatwarning(message, category, filename, lineno, line).rstrip()
        logging.getLogger("py.warnings").warning("%s", text)

    def _thread_died(self, args: threading.ExceptHookArgs) -> None:
        name = args.thread.name if args.thread is not None else "?"
        logging.getLogger("aiops_local.threads").error(
            "thread %s died",
            name,
            exc_info=(args.exc_type, args.exc_value, args.exc_traceback),  # type: ignore[arg-type]
        )

    def note(self) -> str:
        """One line for the end of the story."""
        what = f"{self.records} line{'s' if self.records != 1 else ''}" if self.records else "empty"
        return f"runtime log: {self.path} ({what}: moto, botocore and other libraries' own output)"


def _handled_by_its_logger(name: str) -> bool:
    """The record's logger, or one of its ancestors below the root, has handlers of its own
    (a NullHandler, as botocore's, only keeps records off stderr: those come to the file)."""
    logger: logging.Logger | None = logging.getLogger(name)
    root = logging.getLogger()
    while logger is not None and logger is not root:
        if any(not isinstance(h, logging.NullHandler) for h in logger.handlers):
            return True
        if not logger.propagate:
            return False
        logger = logger.parent
    return False
