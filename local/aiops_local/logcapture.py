"""Route what handlers print (Powertools JSON logs, EMF metrics) to their invocation's log.

On AWS that output goes to CloudWatch Logs; offline it would drown the timeline on the terminal.
While a cloud runs, sys.stdout and sys.stderr are this object: writes made on behalf of an
invocation land in that invocation's buffer, everything else goes to the real stream.
"""

from __future__ import annotations

import sys
from typing import Any, TextIO

from aiops_local.actors import current_actor


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
        self._saved: tuple[TextIO, TextIO] | None = None

    def install(self) -> None:
        self._saved = (sys.stdout, sys.stderr)
        sys.stdout = _Router(sys.stdout)
        sys.stderr = _Router(sys.stderr)

    def uninstall(self) -> None:
        if self._saved is not None:
            sys.stdout, sys.stderr = self._saved
            self._saved = None

    @property
    def real_stdout(self) -> TextIO:
        return self._saved[0] if self._saved else sys.stdout
