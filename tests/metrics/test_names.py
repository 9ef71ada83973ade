"""Metric names: the convention in brackets for readers, a faithful MLflow spelling, one mapping for both."""

from __future__ import annotations

import pytest

from toolkit.errors import UserError
from toolkit.metrics import names
from toolkit.metrics.options import SuiteOptions
from toolkit.metrics.registry import canonical

SPELLINGS = [
    ("fad[mel-stats]", "fad.mel-stats"),
    ("fad[vggish]", "fad.vggish"),
    ("bhs[0.2s]", "bhs.0.2s"),
    ("tempo_acc[8%]", "tempo_acc.8pct"),
    ("coverage[mel-stats,k5]", "coverage.mel-stats:k5"),
    ("key_acc", "key_acc"),
]


@pytest.mark.parametrize("shown, stored", SPELLINGS)
def test_display_and_stored_names_map_both_ways(shown: str, stored: str) -> None:
    assert names.stored(shown) == stored and names.stored(stored) == stored
    assert names.shown(stored) == shown and names.shown(shown) == shown
    assert names.display(*names.parse(stored)) == shown


@pytest.mark.parametrize("shown, stored", SPELLINGS)
def test_mlflow_accepts_the_stored_key_and_refuses_the_display_name(shown: str, stored: str) -> None:
    from mlflow.exceptions import MlflowException
    from mlflow.utils.validation import _validate_metric_name

    _validate_metric_name(stored)
    if any(c in shown for c in "[]%,"):
        with pytest.raises(MlflowException):
            _validate_metric_name(shown)


@pytest.mark.parametrize("bad", ["fad[", "fad]x", "[x]", "fa d", "fad[a[b]]"])
def test_malformed_names_are_refused(bad: str) -> None:
    with pytest.raises(UserError, match="is not a metric name"):
        names.parse(bad)


def test_plain_and_old_names_resolve_to_the_default_convention_of_the_options() -> None:
    default = SuiteOptions()
    assert canonical("fad", default) == "fad[mel-stats]"
    assert canonical("fad", SuiteOptions(embedding="vggish")) == "fad[vggish]"
    assert canonical("bhs", default) == "bhs[1s]" and canonical("bhs.0.2s", default) == "bhs[0.2s]"
    assert canonical("key_acc_loose", default) == "key_score[mirex]"
    assert canonical("tempo_acc", SuiteOptions(tempo_tolerance=0.04)) == "tempo_acc[4%]"
    assert canonical("val_loss", default) == "val_loss" and canonical("test/fad", default) == "test/fad"
    with pytest.raises(UserError, match="takes no convention"):
        canonical("key_acc[mirex]", default)
