"""One name → object registry mechanism for conditioners, feature extractors, heads, metrics and sweep trials.

Entries register with a decorator (`@register_conditioner("rhythm")`). On the first lookup a registry imports
every module of its packages (recursively; names starting with `_` are skipped), so a built-in is found by
being decorated, with no list of modules to keep. Then it loads each entry point of the group
`v2m_toolkit.<group>`, so a separately installed package adds its own: an entry point naming a module
(`myplugin = myplugin.conditioners`) registers through that module's decorators; one naming an object
(`mytrial = myplugin.trials:run`) registers that object under the entry point's name.
"""

from __future__ import annotations

import difflib
import importlib
import inspect
import pkgutil
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from importlib import metadata
from types import ModuleType
from typing import Generic, TypeVar

from toolkit.errors import UserError

T = TypeVar("T")

ENTRY_POINT_PREFIX = "v2m_toolkit."


def import_all(name: str) -> None:
    """Import module `name` and, when it is a package, every module below it; names starting with `_` are
    skipped (private helpers, `__main__`). Import errors propagate: a built-in that cannot import is a bug."""
    module = importlib.import_module(name)
    for info in pkgutil.iter_modules(getattr(module, "__path__", None) or [], prefix=f"{name}."):
        if not info.name.rpartition(".")[2].startswith("_"):
            import_all(info.name)


class Registry(Generic[T]):
    """Maps names to registered objects, found by walking `packages` and loading entry points on first lookup.

    `kind` names what is registered in error messages ("feature extractor", "conditioner"); `group` is the
    entry-point group's suffix (`conditioners` → `v2m_toolkit.conditioners`). `packages` are walked (a plain
    module is just imported). `check` validates an object when it registers (raise to refuse it).
    """

    def __init__(self, kind: str, group: str, packages: str | Sequence[str],
                 check: Callable[[str, T], None] | None = None) -> None:
        self.kind, self.group, self.check = kind, group, check
        self.packages = (packages,) if isinstance(packages, str) else tuple(packages)
        self._entries: dict[str, T] = {}
        self._descriptions: dict[str, str] = {}
        self._walked = False
        self._plugins_loaded = False

    @property
    def entry_point_group(self) -> str:
        """The entry-point group plugins add entries through, e.g. `v2m_toolkit.conditioners`."""
        return f"{ENTRY_POINT_PREFIX}{self.group}"

    def register(self, name: str, description: str | None = None) -> Callable[[T], T]:
        """Decorator: register the object under `name` (and set a class's `name` attribute). `description`
        (one line) defaults to the first line of the object's own docstring. A name taken by another object
        raises `ValueError`."""

        def decorate(obj: T) -> T:
            current = self._entries.get(name)
            if current is not None and current is not obj and not _same_definition(current, obj):
                raise ValueError(f"{self.kind} {name!r} is already registered by {_where(current)}")
            if self.check is not None:
                self.check(name, obj)
            if isinstance(obj, type):
                obj.name = name  # type: ignore[attr-defined]
            self._entries[name] = obj
            if description is not None:
                self._descriptions[name] = description
            return obj

        return decorate

    def unregister(self, name: str) -> T:
        """Remove and return the entry `name` (`KeyError` if there is none); meant for tests."""
        self._descriptions.pop(name, None)
        return self._entries.pop(name)

    @contextmanager
    def scoped(self) -> Iterator[Registry[T]]:
        """For tests: what is registered inside the block is gone after it, and the entry points are read
        again on the next lookup inside it (so a test can first put a distribution on `sys.path`)."""
        self._walk()  # built-ins stay: their modules are imported once, their decorators never run again
        saved = dict(self._entries), dict(self._descriptions), self._plugins_loaded
        self._plugins_loaded = False
        try:
            yield self
        finally:
            self._entries, self._descriptions, self._plugins_loaded = dict(saved[0]), dict(saved[1]), saved[2]

    def names(self) -> list[str]:
        """Every registered name, sorted."""
        self.load()
        return sorted(self._entries)

    def items(self) -> list[tuple[str, T]]:
        """`(name, object)` for every entry, sorted by name."""
        self.load()
        return sorted(self._entries.items())

    def __contains__(self, name: object) -> bool:
        self.load()
        return name in self._entries

    def get(self, name: str) -> T:
        """The object registered under `name`; a `UserError` with a suggestion when there is none."""
        self.load()
        if name not in self._entries:
            close = difflib.get_close_matches(str(name), self._entries, n=1)
            hint = f" — did you mean {close[0]!r}?" if close else f" (known: {', '.join(sorted(self._entries))})"
            raise UserError(f"unknown {self.kind} {name!r}{hint}")
        return self._entries[name]

    def describe(self, name: str) -> str:
        """One line about the entry: the description it registered with, else its docstring's first line."""
        obj = self.get(name)
        if name in self._descriptions:
            return self._descriptions[name]
        # A class's own docstring only: an undocumented subclass must not show its base class's text.
        doc = vars(obj).get("__doc__") if isinstance(obj, type) else getattr(obj, "__doc__", None)
        lines = inspect.cleandoc(doc).splitlines() if isinstance(doc, str) else []
        return lines[0].strip() if lines else ""

    def load(self) -> None:
        """Import the built-in modules and load the plugins' entry points, once (lookups call this)."""
        self._walk()
        if not self._plugins_loaded:
            self._plugins_loaded = True  # set first: a plugin that looks names up while importing must not recurse
            try:
                self._load_entry_points()
            except BaseException:
                self._plugins_loaded = False  # the next lookup fails the same way instead of missing entries
                raise

    def _walk(self) -> None:
        if self._walked:
            return
        self._walked = True  # set first: a module that looks names up while it is imported must not recurse
        try:
            for package in self.packages:
                import_all(package)
        except BaseException:
            self._walked = False
            raise

    def _load_entry_points(self) -> None:
        seen: set[tuple[str, str]] = set()
        for entry in metadata.entry_points(group=self.entry_point_group):
            if (entry.name, entry.value) in seen:  # one distribution visible twice on sys.path
                continue
            seen.add((entry.name, entry.value))
            try:
                loaded = entry.load()
                if not isinstance(loaded, ModuleType) and not any(v is loaded for v in self._entries.values()):
                    self.register(entry.name)(loaded)
            except Exception as err:
                dist = getattr(getattr(entry, "dist", None), "name", None)
                source = f" (distribution {dist})" if dist else ""
                raise UserError(f"plugin {entry.name} = {entry.value}{source} in entry-point group "
                                f"{self.entry_point_group} failed to load: {type(err).__name__}: {err}") from err


def _same_definition(a: object, b: object) -> bool:
    """The same class or function defined again (its module imported a second time), not a rival."""
    key = ("__module__", "__qualname__")
    return all(getattr(a, k, None) is not None and getattr(a, k, None) == getattr(b, k, None) for k in key)


def _where(obj: object) -> str:
    module, qualname = getattr(obj, "__module__", None), getattr(obj, "__qualname__", None)
    return f"{module}.{qualname}" if module and qualname else repr(obj)
