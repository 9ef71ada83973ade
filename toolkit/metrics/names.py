"""What a metric is called: its base name and the convention that makes its number comparable.

A reader sees `fad[mel-stats]`, `bhs[0.2s]`, `tempo_acc[8%]`, `coverage[mel-stats,k5]` (report columns,
`toolkit evaluate`'s JSON, plots). MLflow refuses `[`, `]`, `%` and `,` in metric keys, so the key it stores is
a faithful spelling of the same name: `fad.mel-stats`, `bhs.0.2s`, `tempo_acc.8pct`, `coverage.mel-stats:k5`.
This module owns both spellings and the way between them; base names never hold a `.`.
"""

from __future__ import annotations

import re

from toolkit.errors import UserError

# Old plain names of the suite, kept as aliases in sweep files: each is its metric at the default convention.
RENAMED = {"key_acc_loose": "key_score"}

_DISPLAY = re.compile(r"^(?P<base>[A-Za-z_][A-Za-z0-9_]*)(\[(?P<convention>[^\[\]]+)\])?$")
_STORED_SWAPS = ((",", ":"), ("%", "pct"))


def display(base: str, convention: str = "") -> str:
    """`fad` + `mel-stats` → `fad[mel-stats]`; no convention → the base alone."""
    return f"{base}[{convention}]" if convention else base


def parse(name: str) -> tuple[str, str]:
    """(base, convention) of a display name or a stored key; `UserError` for anything else."""
    name = name.strip()
    if "[" not in name and "." in name:
        base, _, convention = name.partition(".")
        for plain, spelled in reversed(_STORED_SWAPS):
            convention = convention.replace(spelled, plain)
        name = display(base, convention)
    match = _DISPLAY.match(name)
    if match is None:
        raise UserError(f"{name!r} is not a metric name (expected base or base[convention], e.g. fad[mel-stats])")
    return match["base"], match["convention"] or ""


def stored(name: str) -> str:
    """The MLflow key of a metric name: `fad[mel-stats]` → `fad.mel-stats` (a stored key maps to itself)."""
    base, convention = parse(name)
    for plain, spelled in _STORED_SWAPS:
        convention = convention.replace(plain, spelled)
    return f"{base}.{convention}" if convention else base


def shown(name: str) -> str:
    """The display name of a metric name or stored key: `fad.mel-stats` → `fad[mel-stats]`."""
    return display(*parse(name))


def seconds(value: float) -> str:
    """A time convention as written in names: 1.0 → `1s`, 0.2 → `0.2s`."""
    return f"{value:g}s"


def percent(fraction: float) -> str:
    """A relative tolerance as written in names: 0.08 → `8%`."""
    return f"{fraction * 100:g}%"
