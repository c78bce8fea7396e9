"""The offline runtime: the project's real template, handlers and state machines on moto.

Never imported by handlers; driven by `aiops local ...` and the tests.
"""

from aiops_local.cloud import LocalCloud, RuntimeStuck
from aiops_local.template import CloudTemplate
from aiops_local.timeline import Timeline

__all__ = ["CloudTemplate", "LocalCloud", "RuntimeStuck", "Timeline"]
