"""Search-space expressions as in hydra-optuna-sweeper."""

from __future__ import annotations

import pytest

from toolkit.sweeps.syntax import Choice, Interval, SweepSyntaxError, is_expression, parse


@pytest.mark.parametrize("text, expected", [
    ("choice(2, 4, 8, 16)", Choice((2, 4, 8, 16))),
    ("choice(a, 'b c', true, null, 1e-3)", Choice(("a", "b c", True, None, 0.001))),
    ("range(1, 5)", Choice((1, 2, 3, 4))),  # stop excluded, as in Hydra
    ("range(1, 10, 3)", Choice((1, 4, 7))),
    ("range(0, 1, step=0.25)", Choice((0.0, 0.25, 0.5, 0.75))),
    ("interval(0.0, 0.5)", Interval(0.0, 0.5)),
    ("int(interval(1, 8))", Interval(1, 8, integer=True)),
    ("tag(log, interval(1e-4, 1))", Interval(1e-4, 1, log=True)),
    ("tag(log, int(interval(1, 64)))", Interval(1, 64, integer=True, log=True)),
    ("int(tag(log, interval(1, 64)))", Interval(1, 64, integer=True, log=True)),
])
def test_parses_hydra_optuna_expressions(text: str, expected) -> None:
    assert parse(text) == expected


@pytest.mark.parametrize("text, fragment", [
    ("choice(1,", "expected a value after ','"),
    ("choice(1 2)", "expected ',' or ')'"),
    ("choice(1, 1)", "lists a value twice"),
    ("choice()", "at least one value"),
    ("interval(1)", "two numbers"),
    ("interval(2, 1)", "lo < hi"),
    ("int(interval(0.5, 2))", "whole-number"),
    ("tag(log, interval(0, 1))", "lo > 0"),
    ("tag(lin, interval(1, 2))", "unknown tag 'lin'"),
    ("range(0, 1, step=0)", "is empty"),
    ("choices(1, 2)", "unknown function 'choices'"),
    ("choice(1, 2))", "unexpected ')'"),
])
def test_malformed_expressions_name_the_problem(text: str, fragment: str) -> None:
    with pytest.raises(SweepSyntaxError) as err:
        parse(text)
    assert fragment in str(err.value) and "\n" not in str(err.value)


def test_values_suggest_through_optuna() -> None:
    import optuna

    trial = optuna.trial.FixedTrial({"a": 4, "b": 0.25, "c": 3})
    assert Choice((2, 4)).suggest(trial, "a") == 4
    assert Interval(0.0, 0.5).suggest(trial, "b") == 0.25
    assert Interval(1, 8, integer=True).suggest(trial, "c") == 3


def test_plain_values_are_not_expressions() -> None:
    assert is_expression("choice(1)") and is_expression(" tag(log, interval(1, 2))")
    assert not is_expression("micro") and not is_expression(3) and not is_expression("choice")
