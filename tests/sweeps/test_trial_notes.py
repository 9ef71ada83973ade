"""Built-in trials live in `toolkit.sweeps` (a trial imports training, never the reverse) and carry their own
report notes, which reports receive from the command instead of importing the sweep machinery."""

from __future__ import annotations

from toolkit.sweeps.trial import get_trial, report_notes


def test_train_evaluate_is_a_sweeps_module():
    assert get_trial("train-evaluate").__module__ == "toolkit.sweeps.train_evaluate"


def test_only_the_demo_trial_has_a_report_note():
    (note,) = report_notes("demo")
    assert note.startswith("DEMO") and "not measurements" in note
    assert report_notes("train-evaluate") == [] and report_notes("not-installed") == []
