"""The keyword a transformers decoder takes its KV cache under: `cache` since transformers 5.24 (where
`past_key_values` still works until 5.40, with a deprecation warning on every step), `past_key_values` before."""

from __future__ import annotations

import inspect
from functools import cache
from typing import Any

from torch import nn


@cache
def _name(forward_owner: type) -> str:
    params = inspect.signature(forward_owner.forward).parameters
    return "cache" if "cache" in params else "past_key_values"


def cache_kwargs(module: nn.Module, cache_value: Any) -> dict[str, Any]:
    """`{name: cache_value}` under the name `module.forward` accepts."""
    return {_name(type(module)): cache_value}
