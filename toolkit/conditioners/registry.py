"""Conditioners by name: `@register_conditioner("rhythm")` on a class; `build_conditioner("rhythm", bb)`."""

from __future__ import annotations

import inspect
from typing import Any

from toolkit.conditioners.base import HOOK_POINTS, Conditioner
from toolkit.errors import UserError
from toolkit.utils.registry import Registry

# Modules defining the built-in conditioners; imported on first lookup so `import toolkit` stays light.
_BUILTIN_MODULES = ("semantic", "rhythm", "lora", "plan_refine")


def _check(name: str, cls: type[Conditioner]) -> None:
    if not issubclass(cls, Conditioner):
        raise TypeError(f"conditioner {name!r} must subclass Conditioner")
    hooks = cls.hook if isinstance(cls.hook, tuple) else (cls.hook,)
    if not hooks or any(h not in HOOK_POINTS for h in hooks):
        raise ValueError(f"conditioner {name!r}: hook must be one of {HOOK_POINTS}, got {cls.hook!r}")


CONDITIONERS: Registry[type[Conditioner]] = Registry("conditioner", __package__, _BUILTIN_MODULES, _check)
register_conditioner = CONDITIONERS.register
available_conditioners = CONDITIONERS.names
conditioner_class = CONDITIONERS.get


def build_conditioner(name: str, backbone: Any, **kwargs: Any) -> Conditioner:
    """Build (not attach) the conditioner registered as `name`; unknown or mistyped kwargs → `UserError`."""
    cls = conditioner_class(name)
    try:
        inspect.signature(cls).bind(backbone, **kwargs)
    except TypeError as err:
        raise UserError(f"conditioners.{name}: {err}") from None
    return cls(backbone, **kwargs)
