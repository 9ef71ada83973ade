"""Feature extractors by name: a decorator registers a class, `get_extractor` builds one from kwargs."""

from __future__ import annotations

import difflib
import importlib
import inspect
from typing import Any, ClassVar

import numpy as np

from toolkit.errors import UserError

# Modules that define the built-in extractors; imported on first lookup so `import toolkit` stays light.
_BUILTIN_MODULES = ("clip", "interframe", "rhythm", "colour", "shots")
_REGISTRY: dict[str, type[Extractor]] = {}


class Extractor:
    """Base of feature extractors: built from kwargs (the kwargs are its config), called on one clip.

    `kind` says what `__call__` takes: "video" → `Frames`; "audio" → `(audio, sample_rate)`.
    `requires` names extractors whose outputs `__call__` receives as keyword arguments (e.g. interframe
    reads clip's local features); the constructor takes each required one's kwargs under the same name.
    `config()` returns everything that changes the output: it is the cache key.
    """

    name: ClassVar[str]
    kind: ClassVar[str]
    requires: ClassVar[tuple[str, ...]] = ()
    reads_source: ClassVar[bool] = True  # False: the pipeline passes None and only the required outputs

    def config(self) -> dict:
        raise NotImplementedError

    def upstream(self) -> dict[str, Extractor]:
        """The required extractors, built, by name (empty unless `requires` is set)."""
        return {}

    def __call__(self, x: Any, **upstream_outputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        raise NotImplementedError


def register_extractor(name: str):
    """Class decorator: make the extractor available to `get_extractor(name, ...)` and set its `name`."""

    def decorate(cls: type[Extractor]) -> type[Extractor]:
        if name in _REGISTRY and _REGISTRY[name] is not cls:
            raise ValueError(f"feature extractor {name!r} is already registered by {_REGISTRY[name].__qualname__}")
        if getattr(cls, "kind", None) not in ("video", "audio"):
            raise ValueError(f"feature extractor {name!r} must set kind to 'video' or 'audio'")
        cls.name = name
        _REGISTRY[name] = cls
        return cls

    return decorate


def _load_builtins() -> None:
    for module in _BUILTIN_MODULES:
        importlib.import_module(f"{__package__}.{module}")


def available_extractors() -> list[str]:
    """Names of all registered extractors."""
    _load_builtins()
    return sorted(_REGISTRY)


def extractor_class(name: str) -> type[Extractor]:
    """The class registered under `name`; a `UserError` with a suggestion when there is none."""
    _load_builtins()
    if name not in _REGISTRY:
        close = difflib.get_close_matches(name, _REGISTRY, n=1)
        hint = f" — did you mean {close[0]!r}?" if close else f" (known: {', '.join(sorted(_REGISTRY))})"
        raise UserError(f"unknown feature extractor {name!r}{hint}")
    return _REGISTRY[name]


def get_extractor(name: str, **kwargs: Any) -> Extractor:
    """Build the extractor registered under `name` from its kwargs; bad kwargs raise `UserError`."""
    cls = extractor_class(name)
    try:
        inspect.signature(cls).bind(**kwargs)
    except TypeError as e:
        raise UserError(f"features.{name}: {e}") from None
    return cls(**kwargs)
