"""Search-space expressions of a sweep file, written as in hydra-optuna-sweeper.

    choice(2, 4, 8)              one of the listed values (numbers, true/false/null, words or quoted strings)
    range(0, 1, step=0.25)       the values start, start+step, ... below stop (stop excluded, as in Hydra)
    interval(0.0, 0.5)           a float drawn from [lo, hi]
    int(interval(1, 8))          an integer drawn from [lo, hi]
    tag(log, interval(1e-4, 1))  drawn on a log scale (also around `int(...)`)

Anything else is a plain value: the key is fixed to it in every trial.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

Scalar = Any  # int | float | str | bool | None


class SweepSyntaxError(ValueError):
    """A malformed search-space expression; the message is one line without the file or key."""


@dataclass(frozen=True)
class Choice:
    """One of a finite list of values (grid-searchable)."""

    values: tuple[Scalar, ...]

    def suggest(self, trial: Any, name: str) -> Scalar:
        return trial.suggest_categorical(name, list(self.values))

    def examples(self) -> tuple[Scalar, ...]:
        return self.values


@dataclass(frozen=True)
class Interval:
    """A value drawn from [low, high]: float or integer, linear or log scale (not grid-searchable)."""

    low: float
    high: float
    integer: bool = False
    log: bool = False

    def suggest(self, trial: Any, name: str) -> Scalar:
        if self.integer:
            return trial.suggest_int(name, int(self.low), int(self.high), log=self.log)
        return trial.suggest_float(name, float(self.low), float(self.high), log=self.log)

    def examples(self) -> tuple[Scalar, ...]:
        cast = int if self.integer else float
        return (cast(self.low), cast(self.high))


Distribution = Choice | Interval

_TOKEN = re.compile(r"""\s*(?:(?P<str>'[^']*'|"[^"]*")|(?P<punct>[(),=])|(?P<word>[^\s(),='"]+))""")


def is_expression(text: Any) -> bool:
    """True when a sweep value is a search-space expression rather than a fixed value."""
    return isinstance(text, str) and re.match(r"\s*(choice|range|interval|int|tag)\s*\(", text) is not None


def parse(text: str) -> Distribution:
    """Parse one expression into a `Choice` or `Interval`; raises `SweepSyntaxError` when malformed."""
    tokens = _tokenize(text)
    parser = _Parser(tokens, text)
    result = parser.expression()
    if parser.pos != len(tokens):
        raise SweepSyntaxError(f"unexpected {tokens[parser.pos][1]!r} after the expression in {text!r}")
    return result


def _tokenize(text: str) -> list[tuple[str, str]]:
    tokens, pos = [], 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = _TOKEN.match(text, pos)
        if match is None:
            raise SweepSyntaxError(f"cannot read {text[pos:].strip()!r} in {text!r}")
        kind = match.lastgroup or "word"
        tokens.append((kind, match.group(kind)))
        pos = match.end()
    return tokens


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]], text: str):
        self.tokens, self.text, self.pos = tokens, text, 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self, expected: str | None = None) -> tuple[str, str]:
        token = self.peek()
        if token is None:
            want = f"{expected!r}" if expected else "more"
            raise SweepSyntaxError(f"{self.text!r} ends early (expected {want}); unbalanced parentheses?")
        if expected is not None and token[1] != expected:
            raise SweepSyntaxError(f"expected {expected!r} but found {token[1]!r} in {self.text!r}")
        self.pos += 1
        return token

    def expression(self) -> Distribution:
        kind, name = self.take()
        if kind != "word" or name not in ("choice", "range", "interval", "int", "tag"):
            raise SweepSyntaxError(f"unknown function {name!r} in {self.text!r} (choice, range, interval, int, tag)")
        self.take("(")
        result = getattr(self, f"_{name}")()
        self.take(")")
        return result

    def _choice(self) -> Choice:
        values = self._arguments()
        if not values:
            raise SweepSyntaxError(f"choice() needs at least one value in {self.text!r}")
        if len(set(map(repr, values))) != len(values):
            raise SweepSyntaxError(f"choice() lists a value twice in {self.text!r}")
        return Choice(tuple(values))

    def _range(self) -> Choice:
        positional, named = self._arguments(allow_named=True)
        if set(named) - {"step"} or not 2 <= len(positional) <= 3 or (len(positional) == 3 and named):
            raise SweepSyntaxError(f"range takes (start, stop, step=...) in {self.text!r}")
        start, stop = positional[0], positional[1]
        step = named.get("step", positional[2] if len(positional) == 3 else 1)
        for value in (start, stop, step):
            if not _is_number(value):
                raise SweepSyntaxError(f"range needs numbers, got {value!r} in {self.text!r}")
        if step == 0 or (stop - start) / step <= 0:
            raise SweepSyntaxError(f"range({start}, {stop}, step={step}) is empty in {self.text!r}")
        count = math.ceil((stop - start) / step - 1e-9)
        integral = all(isinstance(v, int) for v in (start, stop, step))
        values = tuple(start + i * step if integral else round(start + i * step, 12) for i in range(count))
        return Choice(values)

    def _interval(self) -> Interval:
        values = self._arguments()
        if len(values) != 2 or not all(_is_number(v) for v in values):
            raise SweepSyntaxError(f"interval takes two numbers (lo, hi) in {self.text!r}")
        low, high = values
        if not low < high:
            raise SweepSyntaxError(f"interval({low}, {high}) needs lo < hi in {self.text!r}")
        return Interval(low, high)

    def _int(self) -> Interval:
        inner = self.expression()
        if not isinstance(inner, Interval):
            raise SweepSyntaxError(f"int(...) wraps an interval in {self.text!r}")
        if inner.low != int(inner.low) or inner.high != int(inner.high):
            raise SweepSyntaxError(f"int(interval(...)) needs whole-number bounds in {self.text!r}")
        return Interval(int(inner.low), int(inner.high), integer=True, log=inner.log)

    def _tag(self) -> Interval:
        tags = []
        while (token := self.peek()) is not None and token[0] == "word" and self._next_is(","):
            tags.append(self.take()[1])
            self.take(",")
        unknown = [t for t in tags if t not in ("log", "int")]
        if unknown:
            raise SweepSyntaxError(f"unknown tag {unknown[0]!r} in {self.text!r} (log, int)")
        inner = self.expression()
        if not isinstance(inner, Interval):
            raise SweepSyntaxError(f"tag(...) wraps an interval in {self.text!r}")
        log = "log" in tags or inner.log
        if log and inner.low <= 0:
            raise SweepSyntaxError(f"a log-scale interval needs lo > 0 in {self.text!r}")
        return Interval(inner.low, inner.high, integer=inner.integer or "int" in tags, log=log)

    def _next_is(self, punct: str) -> bool:
        return self.pos + 1 < len(self.tokens) and self.tokens[self.pos + 1][1] == punct

    def _arguments(self, allow_named: bool = False) -> Any:
        positional: list[Scalar] = []
        named: dict[str, Scalar] = {}
        while (token := self.peek()) is not None and token[1] != ")":
            if token[0] == "punct":
                raise SweepSyntaxError(f"expected a value but found {token[1]!r} in {self.text!r}")
            self.take()
            if self._at("="):
                if not allow_named:
                    raise SweepSyntaxError(f"unexpected '{token[1]}=' in {self.text!r}")
                self.take("=")
                named[token[1]] = _scalar(*self._value())
            else:
                positional.append(_scalar(*token))
            if self._at(","):
                self.take(",")
                if self._at(")") or self.peek() is None:
                    raise SweepSyntaxError(f"expected a value after ',' in {self.text!r}")
            elif not self._at(")"):
                found = self.peek()
                what = f"found {found[1]!r}" if found else "the text ends"
                raise SweepSyntaxError(f"expected ',' or ')' but {what} in {self.text!r}")
        return (positional, named) if allow_named else positional

    def _at(self, punct: str) -> bool:
        token = self.peek()
        return token is not None and token[1] == punct

    def _value(self) -> tuple[str, str]:
        token = self.take()
        if token[0] == "punct":
            raise SweepSyntaxError(f"expected a value but found {token[1]!r} in {self.text!r}")
        return token


def _scalar(kind: str, text: str) -> Scalar:
    """A literal: quoted string, integer, float, true/false/null, or a bare word kept as a string."""
    if kind == "str":
        return text[1:-1]
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered in ("null", "none", "~"):
        return None
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return text


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
