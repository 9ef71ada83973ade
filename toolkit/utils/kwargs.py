"""Config kwargs checked against a class's signature before it is built, with a suggestion for a typo."""

from __future__ import annotations

import difflib
import inspect
from collections.abc import Mapping
from typing import Any

from toolkit.errors import UserError


def bind_kwargs(cls: Any, kwargs: Mapping[str, Any], where: str, leading: int = 1) -> None:
    """`cls(<leading positional args>, **kwargs)` would accept `kwargs`; else a `UserError` naming `where` and,
    for an unknown key, the closest accepted one."""
    signature = inspect.signature(cls)
    accepted = list(signature.parameters)[leading:]
    takes_any = any(p.kind is p.VAR_KEYWORD for p in signature.parameters.values())
    for key in kwargs:
        if key not in accepted and not takes_any:
            close = difflib.get_close_matches(str(key), accepted, n=1)
            hint = f" — did you mean {where}.{close[0]}?" if close else f" (accepted: {', '.join(accepted)})"
            raise UserError(f"{where}: unknown key {key!r}{hint}")
    try:
        signature.bind(*([None] * leading), **kwargs)
    except TypeError as err:
        raise UserError(f"{where}: {err}") from None
