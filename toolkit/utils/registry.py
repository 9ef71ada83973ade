"""A name → class registry shared by feature extractors, conditioners and sweep trials (peft-style registration)."""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Callable
from typing import Generic, TypeVar

from toolkit.errors import UserError

T = TypeVar("T")


class Registry(Generic[T]):
    """Maps names to registered objects; built-in modules are imported on first lookup so imports stay light.

    `kind` names what is registered in error messages ("feature extractor", "conditioner"). `check` validates
    an object when it registers (raise to refuse it).
    """

    def __init__(self, kind: str, package: str, builtins: tuple[str, ...] = (),
                 check: Callable[[str, T], None] | None = None) -> None:
        self.kind, self.package, self.builtins, self.check = kind, package, builtins, check
        self._entries: dict[str, T] = {}

    def register(self, name: str) -> Callable[[T], T]:
        """Decorator: register the object under `name` (and set its `name` attribute when it has one)."""

        def decorate(obj: T) -> T:
            if name in self._entries and self._entries[name] is not obj:
                raise ValueError(f"{self.kind} {name!r} is already registered by {self._entries[name]!r}")
            if self.check is not None:
                self.check(name, obj)
            if isinstance(obj, type):
                obj.name = name  # type: ignore[attr-defined]
            self._entries[name] = obj
            return obj

        return decorate

    def _load_builtins(self) -> None:
        for module in self.builtins:
            importlib.import_module(f"{self.package}.{module}")

    def names(self) -> list[str]:
        """Every registered name, sorted."""
        self._load_builtins()
        return sorted(self._entries)

    def get(self, name: str) -> T:
        """The object registered under `name`; a `UserError` with a suggestion when there is none."""
        self._load_builtins()
        if name not in self._entries:
            close = difflib.get_close_matches(str(name), self._entries, n=1)
            hint = f" — did you mean {close[0]!r}?" if close else f" (known: {', '.join(sorted(self._entries))})"
            raise UserError(f"unknown {self.kind} {name!r}{hint}")
        return self._entries[name]
