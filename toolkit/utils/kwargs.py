"""Config kwargs checked against a class's signature before it is built, with a suggestion for a typo."""

from __future__ import annotations

import difflib
import inspect
from collections.abc import Mapping
from typing import Any

from toolkit.errors import UserError


def unknown_kwarg(cls: Any, kwargs: Mapping[str, Any], leading: int = 1) -> tuple[str, str | None, list[str]] | None:
    """The first key of `kwargs` that `cls(<leading positional args>, **kwargs)` does not take, with the closest
    accepted name (or None) and the accepted names; None when every key is taken."""
    signature = inspect.signature(cls)
    accepted = list(signature.parameters)[leading:]
    if any(p.kind is p.VAR_KEYWORD for p in signature.parameters.values()):
        return None
    for key in kwargs:
        if key not in accepted:
            close = difflib.get_close_matches(str(key), accepted, n=1)
            return str(key), close[0] if close else None, accepted
    return None


def bind_kwargs(cls: Any, kwargs: Mapping[str, Any], where: str, leading: int = 1) -> None:
    """`cls(<leading positional args>, **kwargs)` would accept `kwargs`; else a `UserError` naming `where` and,
    for an unknown key, the closest accepted one."""
    unknown = unknown_kwarg(cls, kwargs, leading)
    if unknown is not None:
        key, close, accepted = unknown
        hint = f" — did you mean {where}.{close}?" if close else f" (accepted: {', '.join(accepted)})"
        raise UserError(f"{where}: unknown key {key!r}{hint}")
    try:
        inspect.signature(cls).bind(*([None] * leading), **kwargs)
    except TypeError as err:
        raise UserError(f"{where}: {err}") from None
