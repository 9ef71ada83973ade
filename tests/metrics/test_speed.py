"""Speed bookkeeping: real-time factor, stopwatch, and the timings.jsonl format."""

from __future__ import annotations

import json
import time

import pytest

from toolkit.errors import UserError
from toolkit.metrics.speed import ClipTiming, read_timings, real_time_factor, stopwatch, summarise_timings


def test_real_time_factor():
    assert real_time_factor(2.0, 10.0) == 0.2
    with pytest.raises(ValueError, match="positive"):
        real_time_factor(1.0, 0.0)


def test_stopwatch_measures_elapsed_time():
    with stopwatch() as t:
        time.sleep(0.05)
    assert 0.04 < t["seconds"] < 2.0


def test_summary_names_batch_size_and_device():
    timings = [ClipTiming("a", 1.0, 4.0, 0.5), ClipTiming("b", 3.0, 4.0, 0.5, batch_size=2)]
    summary = summarise_timings(timings)
    assert summary["seconds_per_clip"] == 2.0 and summary["rtf"] == 0.5
    assert summary["feature_seconds_per_clip"] == 0.5
    assert summary["batch_size"] == "1,2" and summary["device"] == "cpu"


def test_read_timings_and_bad_records(tmp_path):
    good = tmp_path / "timings.jsonl"
    good.write_text(json.dumps({"id": "x", "generation_seconds": 1.5, "audio_seconds": 3.0}) + "\n\n")
    assert read_timings(good)["x"].rtf == 0.5
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"id": "x", "generation_seconds": 1.0, "audio_seconds": 0}) + "\n")
    with pytest.raises(UserError, match="bad.jsonl:1"):
        read_timings(bad)
