"""Route what handlers print (Powertools JSON logs, EMF metrics) to their invocation's log.

On AWS that output goes to CloudWatch Logs; offline it would drown the timeline on the terminal.
While a cloud runs, sys.stdout and sys.stderr are this object: writes made on behalf of an
invocation land in that invocation's buffer, everything else goes to the real stream.
"""

from __future__ import annotations

import logging
import sys
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

    def uninstall(self) -> None:
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
