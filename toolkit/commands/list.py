"""`toolkit list [conditioners|extractors|heads|metrics]`: what is registered (built-ins and plugins)."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping
from typing import Any

KINDS = ("conditioners", "extractors", "heads", "metrics")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "list",
        help="list the registered conditioners, extractors, heads and metrics",
        description="Each registered entry, built-in or from an installed plugin (entry-point groups "
        "v2m_toolkit.<kind>), with one line of description; conditioners with their hook, inputs and targets, "
        "extractors with their outputs. Without KIND: all four kinds.",
    )
    parser.add_argument("kind", nargs="?", choices=KINDS, metavar="KIND", help=f"one of: {', '.join(KINDS)}")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    for i, kind in enumerate([args.kind] if args.kind else KINDS):
        registry, details = _REGISTRIES[kind]()
        entries = registry.items()
        print(("\n" if i else "") + f"{kind} ({len(entries)})")
        width = max((len(name) for name, _ in entries), default=0)
        for name, obj in entries:
            print(f"  {name:<{width}}  {registry.describe(name) or '(no description)'}".rstrip())
            line = details(obj)
            if line:
                print(f"  {'':<{width}}  {line}")
    return 0


def _names(values: Any) -> str:
    if isinstance(values, str):
        return values
    if isinstance(values, tuple | list | frozenset | set):
        return ", ".join(map(str, values)) or "none"
    return "(depends on its options)"  # e.g. a property computed from the kwargs


def _conditioner(cls: Any) -> str:
    hook = getattr(cls, "hook", ())
    inputs = getattr(cls, "inputs", getattr(cls, "features", ()))
    return f"hook: {_names(hook)}; inputs: {_names(inputs)}; targets: {_names(getattr(cls, 'targets', ()))}"


def _extractor(cls: Any) -> str:
    parts = [f"reads: {getattr(cls, 'kind', '?')}"]
    if getattr(cls, "requires", ()):
        parts.append(f"requires: {_names(cls.requires)}")
    outputs = _outputs(cls)
    if outputs:
        parts.append(f"outputs: {outputs}")
    return "; ".join(parts)


def _outputs(cls: Any) -> str:
    """The declared outputs (with kind and rate where declared) of the extractor built with its defaults."""
    declared = getattr(cls, "outputs", None)
    if callable(declared):
        try:
            declared = cls().outputs()  # cheap: extractors load models on first call, not when built
        except Exception:  # one that cannot be built without options: say nothing rather than fail the listing
            return ""
    if isinstance(declared, Mapping):
        return ", ".join(f"{name} ({_layout(spec)})" if _layout(spec) else str(name) for name, spec in declared.items())
    return _names(declared) if declared else ""


def _layout(spec: Any) -> str:
    kind = getattr(spec, "kind", None)
    if kind is None:
        return ""
    rate = getattr(spec, "rate", None)
    return f"{kind}{f' @ {rate:g} Hz' if rate else ''}{', categorical' if getattr(spec, 'categorical', False) else ''}"


def _head(cls: Any) -> str:
    music = getattr(cls, "music", None)
    return f"trains on: {_names(music)}" if music else ""


def _conditioners() -> tuple[Any, Callable[[Any], str]]:
    from toolkit.conditioners.registry import CONDITIONERS

    return CONDITIONERS, _conditioner


def _extractors() -> tuple[Any, Callable[[Any], str]]:
    from toolkit.features.registry import EXTRACTORS

    return EXTRACTORS, _extractor


def _heads() -> tuple[Any, Callable[[Any], str]]:
    from toolkit.heads.registry import HEADS

    return HEADS, _head


def _metrics() -> tuple[Any, Callable[[Any], str]]:
    from toolkit.metrics.options import SuiteOptions
    from toolkit.metrics.registry import METRICS

    def details(cls: Any) -> str:
        metric = cls()
        shown = ", ".join(metric.names(SuiteOptions()))
        return f"{shown} · per {metric.scope} · {metric.direction} · needs {', '.join(metric.needs)}"

    return METRICS, details


# Each registry is imported only when its kind is listed.
_REGISTRIES: dict[str, Callable[[], tuple[Any, Callable[[Any], str]]]] = {
    "conditioners": _conditioners,
    "extractors": _extractors,
    "heads": _heads,
    "metrics": _metrics,
}
