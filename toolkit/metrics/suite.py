"""The metrics suite: every registered metric whose needs are met, over matched generated/reference clips.

`evaluate_pairs` returns one JSON-able dict (what `toolkit evaluate` prints):

    {"n_pairs": 10, "n_unreadable": 0,
     "metrics": {"fad[mel-stats]": {"value": …, "low": …, "high": …, "interval": "95% basic bootstrap …",
                                    "n": 10, "direction": "minimize", "scope": "set", "key": "fad.mel-stats"}, …},
     "per_clip": {"bhs[1s]": {"clip_000": 0.8, …}, …},
     "skipped": {"kl[micro-style-cnn]": "no …"}, "sources": {…}}

Names carry their convention (`toolkit.metrics.names`); `key` is the MLflow spelling, and `flat_metrics` gives
the numbers under those keys (what sweeps optimise and MLflow stores). A metric that cannot be computed here is
listed under `skipped` with the reason, never given a placeholder value.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from toolkit.data.manifest import find_manifest
from toolkit.errors import UserError
from toolkit.metrics import names, speed
from toolkit.metrics.annotations import Annotations, read_annotations
from toolkit.metrics.context import EvalContext, MusicScorer, Pair, Unavailable
from toolkit.metrics.options import SuiteOptions
from toolkit.metrics.registry import CLIP, METRICS, Metric, SetScore, per_clip_interval
from toolkit.metrics.windows import save_windows

AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".mp3", ".mp4", ".m4a", ".mov", ".mkv", ".webm")

Report = Callable[[str], None]
UNMATCHED_SHOWN = 5
__all__ = ["Pair", "PairSet", "match_pairs", "evaluate_pairs", "evaluate_dirs", "flat_metrics", "to_json",
           "find_manifest", "read_annotations", "Annotations"]


def _stderr(message: str) -> None:
    print(message, file=sys.stderr)


@dataclass
class PairSet:
    """Matched pairs plus the files that could not be matched (one message each)."""

    pairs: list[Pair]
    unmatched: list[str] = field(default_factory=list)


def match_pairs(generated_dir: str | Path, reference_dir: str | Path) -> PairSet:
    """Pair audio/video files of two folders by file stem; files on one side only go to `unmatched`."""
    sides = {}
    for label, folder in (("generated", generated_dir), ("reference", reference_dir)):
        folder = Path(folder)
        if not folder.is_dir():
            raise UserError(f"--{label} {folder}: not a directory")
        sides[label] = _files_by_stem(folder)
    gen, ref = sides["generated"], sides["reference"]
    pairs = [Pair(stem, ref[stem], gen[stem]) for stem in sorted(gen.keys() & ref.keys())]
    unmatched = [f"{gen[s]}: no reference file with stem {s!r}" for s in sorted(gen.keys() - ref.keys())]
    unmatched += [f"{ref[s]}: no generated file with stem {s!r}" for s in sorted(ref.keys() - gen.keys())]
    return PairSet(pairs, unmatched)


def _files_by_stem(folder: Path) -> dict[str, Path]:
    """Stem → file; when a stem has both a wav and an mp4 (as world clips do), the pure audio file wins."""
    found: dict[str, Path] = {}
    for path in sorted(folder.iterdir()):
        if path.is_file() and not path.name.startswith(".") and path.suffix.lower() in AUDIO_SUFFIXES:
            current = found.get(path.stem)
            if current is None or AUDIO_SUFFIXES.index(path.suffix.lower()) < AUDIO_SUFFIXES.index(current.suffix):
                found[path.stem] = path
    return found


def evaluate_pairs(
    pairs: list[Pair],
    options: SuiteOptions | None = None,
    annotations: Annotations | None = None,
    report: Report = _stderr,
    scorer: MusicScorer | None = None,
    only: Sequence[str] | None = None,
    windows_file: str | Path | None = None,
) -> dict[str, Any]:
    """Every registered metric (or the bases in `only`) whose needs are met, over `pairs`; unreadable files
    are reported, counted and left out. `scorer` is the model behind the music, for `needs: model` metrics.
    With `windows_file`, the embedding windows the set metrics used are saved there (`save_windows`), so a
    report can pair set metrics across runs on the same clips.

    Raises `UserError` when no pair is readable.
    """
    from threadpoolctl import threadpool_limits

    # FAD's many small eigendecompositions (bootstrap) gain nothing from BLAS threads and lose a lot when
    # cores are shared (17x slower at 128 dims on a loaded 2-core machine), so BLAS runs single-threaded.
    with threadpool_limits(limits=1, user_api="blas"):
        ctx = _context(pairs, options or SuiteOptions(), annotations or Annotations(), report, scorer)
        out: dict[str, Any] = {"n_pairs": len(ctx.pairs), "n_unreadable": len(pairs) - len(ctx.pairs),
                               "metrics": {}, "per_clip": {}, "skipped": {}}
        for base, cls in METRICS.items():
            if only is None or base in only:
                _score(cls(), ctx, out, report)
        if windows_file is not None and "windows" in vars(ctx):  # computed by a set metric: keep them
            save_windows(windows_file, ctx.ids, *ctx.windows, ctx.options.embedding)
    out["sources"] = _sources(ctx)
    timed = [ctx.notes.timings[i] for i in ctx.ids if i in ctx.notes.timings]
    if timed:
        summary = speed.summarise_timings(timed)
        out["speed"] = {"device": summary["device"], "batch_size": summary["batch_size"]}
    return out


def _context(pairs, options, notes, report, scorer) -> EvalContext:
    readable, ctx = [], EvalContext(pairs, options, notes, scorer)
    for pair in pairs:
        try:
            for path in (pair.reference, pair.generated):
                ctx.audio(path)
        except UserError as err:
            report(f"{path}: unreadable ({err})")
            continue
        readable.append(pair)
    if not readable:
        raise UserError("no readable generated/reference pairs to evaluate")
    ctx.pairs, ctx.ids = readable, [p.id for p in readable]
    return ctx


def _score(metric: Metric, ctx: EvalContext, out: dict, report: Report) -> None:
    shown = metric.names(ctx.options)
    missing = next((reason for need in metric.needs if (reason := ctx.missing(need))), None)
    for name, convention in zip(shown, metric.conventions(ctx.options), strict=True):
        try:
            if missing:
                raise Unavailable(missing)
            result = metric.compute(ctx, convention)
            entry = _entry(metric, result, ctx, out, name)
        except Unavailable as why:
            out["skipped"][name] = str(why)
            report(f"{name}: skipped ({why})")
            continue
        out["metrics"][name] = {**entry, "direction": metric.direction, "scope": metric.scope,
                                "key": names.stored(name)}


def _entry(metric: Metric, result: dict[str, float] | SetScore, ctx: EvalContext, out: dict, name: str) -> dict:
    if metric.scope != CLIP:
        assert isinstance(result, SetScore), f"metric {metric.name}: a set metric returns a SetScore"
        return {"value": float(result.value), "low": float(result.low), "high": float(result.high),
                "interval": result.interval, "n": len(ctx.pairs), **result.extra}
    scores = {i: float(v) for i, v in result.items() if np.isfinite(v)}
    if not scores:
        raise Unavailable("no clip could be scored")
    values = np.fromiter(scores.values(), np.float64)
    low, high, what = per_clip_interval(values, metric.binary, ctx.options)
    out["per_clip"][name] = scores
    return {"value": float(values.mean()), "low": low, "high": high, "interval": what, "n": int(values.size)}


def _sources(ctx: EvalContext) -> dict[str, str]:
    notes, options = ctx.notes, ctx.options
    return {"embedding": options.embedding, "classifier": options.classifier,
            "targets": notes.targets_source if notes.targets else "reference audio",
            "cuts": notes.cuts_source, "truth": notes.truth_source}


def flat_metrics(result: dict[str, Any]) -> dict[str, float]:
    """`{key: value, key_lo: low, key_hi: high}` under each metric's MLflow key (finite numbers only)."""
    flat = {}
    for entry in result.get("metrics", {}).values():
        for suffix, field_name in (("", "value"), ("_lo", "low"), ("_hi", "high")):
            value = entry.get(field_name)
            if isinstance(value, (int, float)) and np.isfinite(value):
                flat[entry["key"] + suffix] = float(value)
    return flat


def to_json(metrics: dict) -> str:
    """JSON text with NaN written as null (strict JSON has no NaN)."""

    def clean(value):
        if isinstance(value, dict):
            return {k: clean(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [clean(v) for v in value]
        if isinstance(value, float) and not np.isfinite(value):
            return None
        return value

    return json.dumps(clean(metrics), indent=2) + "\n"


def evaluate_dirs(
    generated_dir: str | Path,
    reference_dir: str | Path,
    videos_dir: str | Path | None = None,
    options: SuiteOptions | None = None,
    report: Report = _stderr,
) -> dict[str, Any]:
    """Match two folders by stem, report what does not match, and evaluate the pairs (see `evaluate_pairs`).

    Raises `UserError` when no pair matches or none is readable.
    """
    matched = match_pairs(generated_dir, reference_dir)
    for message in matched.unmatched[:UNMATCHED_SHOWN]:
        report(message)
    if len(matched.unmatched) > UNMATCHED_SHOWN:
        report(f"... and {len(matched.unmatched) - UNMATCHED_SHOWN} more files without a match")
    if not matched.pairs:
        raise UserError(f"no generated file in {generated_dir} has a reference with the same stem in {reference_dir}")
    if videos_dir is not None and not Path(videos_dir).is_dir():
        raise UserError(f"--videos {videos_dir}: not a directory")
    notes = read_annotations(reference_dir, generated_dir, videos_dir, [p.id for p in matched.pairs], report)
    metrics = evaluate_pairs(matched.pairs, options, notes, report=report)
    return {**metrics, "n_unmatched": len(matched.unmatched)}
