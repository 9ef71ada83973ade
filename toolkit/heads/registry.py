"""Generative heads by name: `@register_head("tokens")` on a `Head` subclass; `build_head(spec, backbone)`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from toolkit.errors import UserError
from toolkit.heads.base import Head
from toolkit.utils.kwargs import bind_kwargs
from toolkit.utils.registry import Registry


def _check(name: str, cls: type[Head]) -> None:
    if not (isinstance(cls, type) and issubclass(cls, Head)):
        raise TypeError(f"head {name!r} must subclass Head")


# Built-ins are the decorated classes of this package, subpackages included (plan_refine/), found on first lookup.
HEADS: Registry[type[Head]] = Registry("head", "heads", __package__, _check)
register_head = HEADS.register
available_heads = HEADS.names
head_class = HEADS.get


def _split(spec: Mapping[str, Any] | None, where: str) -> tuple[str, dict[str, Any]]:
    spec = dict(spec or {"name": "tokens"})
    if "name" not in spec:
        raise UserError(f"{where}: needs a `name` (one of the registered heads, e.g. tokens, plan_refine)")
    return str(spec.pop("name")), spec


def check_head_spec(spec: Mapping[str, Any] | None, where: str | None = None) -> None:
    """Without a backbone: the head is registered, takes these kwargs, and they pass its rules. `where`
    (default `head.<name>`) prefixes errors."""
    name, kwargs = _split(spec, where or "head")
    try:
        cls = head_class(name)
    except UserError as err:
        raise UserError(f"head.name: {err}") from None
    where = where or f"head.{name}"
    bind_kwargs(cls, kwargs, where)
    cls.check_config(kwargs, where)


def build_head(spec: Mapping[str, Any] | None, backbone: Any) -> Head:
    """The head `spec` names (`{"name": "plan_refine", "patch_size": 16, ...}`; None: tokens), on `backbone`'s
    device."""
    check_head_spec(spec)
    name, kwargs = _split(spec, "head")
    return head_class(name)(backbone, **kwargs).to(backbone.device)
