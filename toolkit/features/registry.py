"""Feature extractors by name: a decorator registers a class, `get_extractor` builds one from kwargs."""

from __future__ import annotations

import inspect
from typing import Any, ClassVar

import numpy as np

from toolkit.errors import UserError
from toolkit.utils.registry import Registry

# Modules that define the built-in extractors; imported on first lookup so `import toolkit` stays light.
_BUILTIN_MODULES = ("clip", "interframe", "rhythm", "colour", "shots")


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


def _check(name: str, cls: type[Extractor]) -> None:
    if getattr(cls, "kind", None) not in ("video", "audio"):
        raise ValueError(f"feature extractor {name!r} must set kind to 'video' or 'audio'")


EXTRACTORS: Registry[type[Extractor]] = Registry("feature extractor", __package__, _BUILTIN_MODULES, _check)
register_extractor = EXTRACTORS.register
available_extractors = EXTRACTORS.names
extractor_class = EXTRACTORS.get


def get_extractor(name: str, **kwargs: Any) -> Extractor:
    """Build the extractor registered under `name` from its kwargs; bad kwargs raise `UserError`."""
    cls = extractor_class(name)
    try:
        inspect.signature(cls).bind(**kwargs)
    except TypeError as e:
        raise UserError(f"features.{name}: {e}") from None
    return cls(**kwargs)
