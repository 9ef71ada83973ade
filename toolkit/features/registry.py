"""Feature extractors by name: a decorator registers a class, `get_extractor` builds one from kwargs, and
`check_extractor` checks an entry's kwargs without building it."""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

from toolkit.errors import UserError
from toolkit.features.kinds import Feature
from toolkit.utils.kwargs import unknown_kwarg
from toolkit.utils.ranges import Range, check_ranges
from toolkit.utils.registry import Registry


class Extractor:
    """Base of feature extractors: built from kwargs (the kwargs are its config), called on one clip.

    `kind` says what `__call__` takes: "video" → `Frames`; "audio" → `(audio, sample_rate)`.
    `requires` names extractors whose outputs `__call__` receives as keyword arguments (e.g. interframe
    reads clip's local features); the constructor takes each required one's kwargs under the same name.
    `outputs()` declares each output's kind and rate (`toolkit.features.kinds.Feature`); an audio extractor's
    outputs are derived from the music, so conditioners may only train against them (targets), never read
    them at generation. `config()` returns everything that changes the output: it is the cache key.
    `ranges` bounds numeric kwargs; `check_config` applies them (and a required extractor's) before any build.
    """

    name: ClassVar[str]
    kind: ClassVar[str]
    requires: ClassVar[tuple[str, ...]] = ()
    reads_source: ClassVar[bool] = True  # False: the pipeline passes None and only the required outputs
    ranges: ClassVar[dict[str, Range]] = {}  # numeric kwargs → allowed values; checked before any model is built

    @classmethod
    def check_config(cls, kwargs: Mapping[str, Any], where: str) -> None:
        """Refuse kwargs that break the class's rules (`ranges`; subclasses may add others) without building
        it; a required extractor's kwargs (under its name) are checked as that extractor's, at `where.name`."""
        check_ranges(kwargs, cls.ranges, where)
        for required in cls.requires:
            if isinstance(kwargs.get(required), Mapping):
                check_extractor(required, kwargs[required], f"{where}.{required}")

    def outputs(self) -> dict[str, Feature]:
        """Each output's layout in time (`toolkit.features.kinds`). An output a video extractor leaves out is
        one row per video frame; an audio extractor must declare all of its outputs (they have their own rate)."""
        return {}

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
    unknown = set(getattr(cls, "ranges", {})) - set(inspect.signature(cls).parameters)
    if unknown:  # a misspelt rule would silently check nothing
        raise ValueError(f"feature extractor {name!r}: ranges name no constructor argument: {sorted(unknown)}")


# Built-ins are the decorated classes of this package's modules, imported on first lookup.
EXTRACTORS: Registry[type[Extractor]] = Registry("feature extractor", "extractors", __package__, _check)
register_extractor = EXTRACTORS.register
available_extractors = EXTRACTORS.names
extractor_class = EXTRACTORS.get


def get_extractor(name: str, **kwargs: Any) -> Extractor:
    """Build the extractor registered under `name` from its kwargs; bad kwargs raise `UserError`."""
    return check_extractor(name, kwargs, f"features.extractors.{name}")(**kwargs)


def check_extractor(name: str, kwargs: Mapping[str, Any], where: str) -> type[Extractor]:
    """The class registered as `name`, after checking without building it that it takes each of `kwargs` and
    that they pass its rules (`Extractor.check_config`). Errors name the key: `where.key` (`where` is e.g.
    `features.extractors.clip`)."""
    cls = extractor_class(name)
    unknown = unknown_kwarg(cls, kwargs, leading=0)
    if unknown is not None:
        key, close, accepted = unknown
        hint = f" — did you mean {close}?" if close else f" (options: {', '.join(accepted) or 'none'})"
        raise UserError(f"{where}.{key}: the {name} extractor has no option {key!r}{hint}")
    try:
        inspect.signature(cls).bind(**kwargs)
    except TypeError as e:  # e.g. a required argument left out
        raise UserError(f"{where}: {e}") from None
    cls.check_config(kwargs, where)
    return cls
