"""Conditioners by name: `@register_conditioner("rhythm")` on a class; `build_conditioner("rhythm", bb)`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from toolkit.conditioners.base import HOOK_POINTS, Conditioner
from toolkit.errors import UserError
from toolkit.utils.kwargs import bind_kwargs
from toolkit.utils.registry import Registry


def _check(name: str, cls: type[Conditioner]) -> None:
    if not issubclass(cls, Conditioner):
        raise TypeError(f"conditioner {name!r} must subclass Conditioner")
    hooks = cls.hook if isinstance(cls.hook, tuple) else (cls.hook,)
    if not hooks or any(h not in HOOK_POINTS for h in hooks):
        raise ValueError(f"conditioner {name!r}: hook must be one of {HOOK_POINTS}, got {cls.hook!r}")
    if "features" in vars(cls):
        raise TypeError(f"conditioner {name!r}: `features` is now `inputs` (video/text keys, read at generation) "
                        "and `targets` (music keys, training only)")
    for what in ("inputs", "targets"):
        keys = getattr(cls, what)
        if not isinstance(keys, tuple) or any(not isinstance(k, str) or "." not in k for k in keys):
            raise TypeError(f"conditioner {name!r}: {what} must be a tuple of 'extractor.output' keys, got {keys!r}")
    overlap = set(cls.inputs) & set(cls.targets)
    if overlap:
        raise TypeError(f"conditioner {name!r}: {sorted(overlap)} cannot be both an input and a target")


# Built-ins are the decorated classes of this package's modules, imported on first lookup so `import toolkit`
# stays light.
CONDITIONERS: Registry[type[Conditioner]] = Registry("conditioner", "conditioners", __package__, _check)
register_conditioner = CONDITIONERS.register
available_conditioners = CONDITIONERS.names
conditioner_class = CONDITIONERS.get


def check_spec(spec: Mapping[str, Any], where: str) -> None:
    """Without a backbone: `spec["name"]` is registered, its class accepts the other keys as kwargs, and they
    pass the class's own rules (`Conditioner.check_config`). `where` (e.g. `conditioners[0]`) prefixes errors."""
    if not isinstance(spec, Mapping) or "name" not in spec:
        raise UserError(f"{where}: each entry needs a `name` (got {spec!r})")
    try:
        cls = conditioner_class(str(spec["name"]))
    except UserError as err:
        raise UserError(f"{where}: {err}") from None
    kwargs = {k: v for k, v in spec.items() if k != "name"}
    bind_kwargs(cls, kwargs, where)
    cls.check_config(kwargs, where)


def build_conditioner(name: str, backbone: Any, **kwargs: Any) -> Conditioner:
    """Build (not attach) the conditioner registered as `name`; unknown or mistyped kwargs → `UserError`."""
    cls = conditioner_class(name)
    bind_kwargs(cls, kwargs, f"conditioners.{name}")
    return cls(backbone, **kwargs)

