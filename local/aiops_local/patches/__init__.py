"""Patches of moto (and botocore) internals the offline runtime depends on.

Each module patches one thing and says why; `tests/integration/test_runtime_patches.py` checks
each patch point still exists and still does what we replace, so a moto upgrade that moves it
fails there, loudly, instead of silently changing behaviour.
"""

from aiops_local.patches.base import Patcher, PatchError

__all__ = ["PatchError", "Patcher"]
