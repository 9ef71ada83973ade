"""The metrics suite over matched generated/reference clips → one flat dict (what `toolkit evaluate` writes).

Every dataset-level metric gets `<name>_ci: [lo, hi]` (bootstrap over pairs). Metrics that cannot be computed
for the inputs given (no videos or cuts for TB-IoU, no timings for RTF, too few clips for density/coverage,
no classifier world for KL/IS) are left out, and the reason is reported, never a placeholder value.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from toolkit.data.audio import read_audio
from toolkit.data.dataset import VIDEO_SUFFIXES
from toolkit.errors import UserError
from toolkit.metrics import bootstrap, fad, key, kl, prdc, rhythm, speed
from toolkit.metrics.options import SuiteOptions

AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".mp3", ".mp4", ".m4a", ".mov", ".mkv", ".webm")

Report = Callable[[str], None]


def _stderr(message: str) -> None:
    print(message, file=sys.stderr)


@dataclass
class Pair:
    """A generated clip and the reference clip with the same file stem."""

    id: str
    reference: Path
    generated: Path


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


@dataclass
class Annotations:
    """What is known about each clip id besides its audio: target attributes, video cuts, timings."""

    targets: dict[str, dict] = field(default_factory=dict)  # id -> {"tempo": bpm, "key": "D", "mode": "major"}
    targets_source: str = "reference audio"
    cuts: dict[str, np.ndarray] = field(default_factory=dict)
    cuts_source: str = ""
    timings: dict[str, speed.ClipTiming] = field(default_factory=dict)


def find_manifest(folder: str | Path) -> Path | None:
    """`manifest.jsonl` in `folder` or its parent (world clips live in `<world>/clips/`)."""
    folder = Path(folder)
    for candidate in (folder / "manifest.jsonl", folder.parent / "manifest.jsonl"):
        if candidate.is_file():
            return candidate
    return None


def read_annotations(
    reference_dir: str | Path,
    generated_dir: str | Path,
    videos_dir: str | Path | None,
    ids: list[str],
    report: Report = _stderr,
) -> Annotations:
    """Targets from a manifest or prompts.jsonl next to the reference clips, cuts from `videos_dir` (shot
    detection) or the manifest's `cuts`, and timings from `<generated>/timings.jsonl`."""
    from toolkit.data.prompts import read_prompts

    notes = Annotations()
    manifest = find_manifest(reference_dir)
    records = _read_manifest(manifest) if manifest else {}
    for folder in (Path(reference_dir), Path(reference_dir).parent):
        prompts = read_prompts(folder / "prompts.jsonl")
        if prompts:
            notes.targets = {stem: dict(p.attributes) for stem, p in prompts.items() if p.attributes}
            notes.targets_source = str(folder / "prompts.jsonl")
            break
    if not notes.targets and records:
        notes.targets = {i: r for i, r in records.items() if "tempo" in r or "key" in r}
        notes.targets_source = str(manifest)
    if videos_dir is not None:
        videos = {p.stem: p for p in Path(videos_dir).iterdir() if p.suffix.lower() in VIDEO_SUFFIXES}
        notes.cuts_source = f"shot detection on {videos_dir}"
        for clip_id in ids:
            if clip_id not in videos:
                report(f"{videos_dir}: no video with stem {clip_id!r} (tb_iou leaves this pair out)")
                continue
            try:
                notes.cuts[clip_id] = rhythm.video_transitions(videos[clip_id])
            except UserError as err:
                report(f"{videos[clip_id]}: unreadable video ({err})")
    elif records:
        notes.cuts = {i: np.asarray(r["cuts"], np.float64) for i, r in records.items() if "cuts" in r and i in ids}
        notes.cuts_source = str(manifest)
    timings_file = Path(generated_dir) / speed.TIMINGS_FILE
    if timings_file.is_file():
        notes.timings = speed.read_timings(timings_file)
    return notes


def _read_manifest(path: Path) -> dict[str, dict]:
    records = {}
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            records[str(record["id"])] = record
        except (json.JSONDecodeError, KeyError, TypeError) as err:
            raise UserError(f"{path}:{number}: expected a JSON object with an 'id' ({err})") from None
    return records


def evaluate_pairs(
    pairs: list[Pair],
    config: SuiteOptions | None = None,
    annotations: Annotations | None = None,
    classifier_world: str | Path | None = None,
    report: Report = _stderr,
) -> dict:
    """All computable metrics over `pairs`; unreadable files are reported, counted and left out.

    Raises `UserError` when no pair is readable.
    """
    from threadpoolctl import threadpool_limits

    # FAD's many small eigendecompositions (bootstrap) gain nothing from BLAS threads and lose a lot when
    # cores are shared (17x slower at 128 dims on a loaded 2-core machine), so BLAS runs single-threaded.
    with threadpool_limits(limits=1, user_api="blas"):
        return _evaluate_pairs(pairs, config or SuiteOptions(), annotations or Annotations(), classifier_world, report)


def _evaluate_pairs(pairs, config, notes, classifier_world, report) -> dict:
    cache = _AudioCache()
    readable, n_unreadable = [], 0
    for pair in pairs:
        ok = True
        for path in (pair.reference, pair.generated):
            try:
                cache.get(path, rhythm.LORIS_SAMPLE_RATE)
            except UserError as err:
                report(f"{path}: unreadable ({err})")
                n_unreadable += 1
                ok = False
        if ok:
            readable.append(pair)
    if not readable:
        raise UserError("no readable generated/reference pairs to evaluate")

    out: dict = {"n_pairs": len(readable), "n_unreadable": n_unreadable}
    models: dict[str, str] = {}
    ci = _CiMaker(config)
    ref = [cache.get(p.reference, rhythm.LORIS_SAMPLE_RATE) for p in readable]
    gen = [cache.get(p.generated, rhythm.LORIS_SAMPLE_RATE) for p in readable]

    _distribution_metrics(readable, config, cache, out, models, ci, report)
    _classifier_metrics(readable, config, cache, out, models, ci, classifier_world, report)
    _rhythm_metrics(readable, ref, gen, config, notes, out, ci, report)
    _attribute_metrics(readable, ref, gen, config, notes, out, ci)
    _speed_metrics(readable, notes, out, ci, report)
    out["embeddings"] = models
    return out


class _AudioCache:
    """Clips at the analysis rate stay in memory (every rhythm/key metric reads them); other rates, needed
    once per model, are decoded on demand so memory stays at one copy per clip."""

    def __init__(self, keep_rate: int = rhythm.LORIS_SAMPLE_RATE):
        self.keep_rate = keep_rate
        self._store: dict[Path, np.ndarray] = {}

    def get(self, path: Path, sample_rate: int) -> np.ndarray:
        if sample_rate != self.keep_rate:
            return read_audio(path, sample_rate)
        if path not in self._store:
            self._store[path] = read_audio(path, sample_rate)
        return self._store[path]


class _CiMaker:
    def __init__(self, config: SuiteOptions):
        self.config = config

    def mean(self, values: np.ndarray) -> list[float]:
        c = self.config
        return list(bootstrap.bootstrap_mean_ci(values, c.confidence, c.bootstrap_resamples, c.seed))

    def statistic(
        self, n: int, statistic: Callable[[np.ndarray], float], bounds: tuple[float, float] = (0.0, np.inf)
    ) -> list[float]:
        c = self.config
        return list(bootstrap.bootstrap_statistic_ci(n, statistic, c.confidence, c.bootstrap_resamples, c.seed, bounds))

    def paired_sets(
        self, n: int, statistic: Callable[[np.ndarray, np.ndarray], float], bounds: tuple[float, float]
    ) -> list[float]:
        c = self.config
        # Both sets are resampled; a pair (the reference and generated clip of one video) is the unit drawn.
        return list(
            bootstrap.bootstrap_sets_ci([n, n], statistic, c.confidence, c.bootstrap_resamples, c.seed, bounds, True)
        )

    def fad(self, ref_windows: list[np.ndarray], gen_windows: list[np.ndarray]) -> list[float]:
        c = self.config
        return list(fad.fad_ci(ref_windows, gen_windows, c.confidence, c.bootstrap_resamples, c.seed, paired=True))


def _distribution_metrics(pairs, config, cache, out, models, ci, report) -> None:
    from toolkit.metrics.embeddings import load_embedding_model

    model = load_embedding_model(config.embedding, config.embedding_weights)
    ref_windows = [model.embed(cache.get(p.reference, model.sample_rate)) for p in pairs]
    gen_windows = [model.embed(cache.get(p.generated, model.sample_rate)) for p in pairs]

    def fad_of(idx: np.ndarray) -> float:
        return fad.fad(np.concatenate([ref_windows[i] for i in idx]), np.concatenate([gen_windows[i] for i in idx]))

    everyone = np.arange(len(pairs))
    try:
        out["fad"] = fad_of(everyone)
        out["fad_ci"] = ci.fad(ref_windows, gen_windows)  # interval for the population FD (bias-corrected)
        models["fad"] = model.name
    except ValueError as err:
        report(f"fad: skipped ({err})")

    ref_clips = np.stack([w.mean(axis=0) for w in ref_windows])
    gen_clips = np.stack([w.mean(axis=0) for w in gen_windows])
    if len(pairs) <= config.k:
        report(f"density, coverage: skipped (need more than k={config.k} pairs, got {len(pairs)})")
        return

    resampled = prdc.DensityCoverageResampler(ref_clips, gen_clips, config.k)
    values = prdc.density_coverage(ref_clips, gen_clips, config.k)
    for name in ("density", "coverage"):
        out[name] = values[name]
        bounds = (0.0, 1.0) if name == "coverage" else (0.0, np.inf)
        out[f"{name}_ci"] = ci.paired_sets(len(pairs), lambda r, g, name=name: resampled(r, g)[name], bounds)
        models[name] = model.name


def _classifier_metrics(pairs, config, cache, out, models, ci, classifier_world, report) -> None:
    from toolkit.metrics.classifier import MICRO_STYLE_CNN, load_classifier

    world = config.classifier_world or classifier_world
    if config.classifier == MICRO_STYLE_CNN and world is None:
        report(f"kl, is: skipped ({MICRO_STYLE_CNN} needs a world with style labels: set classifier_world)")
        return
    classifier = load_classifier(config.classifier, config.classifier_weights, world)
    p_ref = classifier.predict_proba([cache.get(p.reference, classifier.sample_rate) for p in pairs])
    p_gen = classifier.predict_proba([cache.get(p.generated, classifier.sample_rate) for p in pairs])
    per_pair = kl.pairwise_kl(p_ref, p_gen)
    out["kl"], out["kl_ci"] = float(per_pair.mean()), ci.mean(per_pair)
    # One split: the suite's sets are tens of clips, and 10 splits would cap IS at n/10 (1 at n = 10).
    out["is"] = kl.inception_score(p_gen, splits=1)
    bounds = (1.0, float(p_gen.shape[1]))
    out["is_ci"] = ci.statistic(len(pairs), lambda idx: kl.inception_score(p_gen[idx], splits=1), bounds)
    models["kl"] = models["is"] = classifier.name


def _rhythm_metrics(pairs, ref, gen, config, notes, out, ci, report) -> None:
    sr = rhythm.LORIS_SAMPLE_RATE
    hits, covers = [], []
    for r, g in zip(ref, gen, strict=True):
        duration = min(r.size, g.size) / sr
        bhs, bcs = rhythm.beat_hit_scores(
            rhythm.loris_onsets(r, sr), rhythm.loris_onsets(g, sr), duration, 1.0 / config.beat_resolution_hz
        )
        hits.append(bhs)
        covers.append(bcs)
    out["bhs"], out["bhs_ci"] = float(np.mean(hits)), ci.mean(np.array(hits))
    out["bcs"], out["bcs_ci"] = float(np.mean(covers)), ci.mean(np.array(covers))

    ious = [
        rhythm.transition_beat_iou(notes.cuts[p.id], rhythm.beat_times(g, sr), config.tb_tolerance_s)
        for p, g in zip(pairs, gen, strict=True)
        if p.id in notes.cuts
    ]
    if ious:
        out["tb_iou"], out["tb_iou_ci"] = float(np.mean(ious)), ci.mean(np.array(ious))
        out["tb_iou_pairs"] = len(ious)
    else:
        report("tb_iou: skipped (no video cuts: pass --videos DIR or a manifest with 'cuts')")


def _attribute_metrics(pairs, ref, gen, config, notes, out, ci) -> None:
    sr = rhythm.LORIS_SAMPLE_RATE
    tempo_hits, octave_hits, key_hits, loose_hits = [], [], [], []
    for pair, r, g in zip(pairs, ref, gen, strict=True):
        target = notes.targets.get(pair.id, {})
        target_tempo = float(target["tempo"]) if "tempo" in target else rhythm.estimate_tempo(r, sr)
        gen_tempo = rhythm.estimate_tempo(g, sr)
        tempo_hits.append(rhythm.tempo_matches(gen_tempo, target_tempo, config.tempo_tolerance))
        octave_hits.append(rhythm.tempo_matches(gen_tempo, target_tempo, config.tempo_tolerance, octave=True))
        target_key = key.parse_key(target["key"], target.get("mode")) if "key" in target else key.estimate_key(r, sr)
        gen_key = key.estimate_key(g, sr)
        key_hits.append(key.keys_match(gen_key, target_key))
        loose_hits.append(key.key_score(gen_key, target_key))  # MIREX weighted score (fifth 0.5, relative 0.3)
    for name, hits in (
        ("tempo_acc", tempo_hits),
        ("tempo_acc_octave", octave_hits),
        ("key_acc", key_hits),
        ("key_acc_loose", loose_hits),
    ):
        values = np.asarray(hits, np.float64)
        out[name], out[f"{name}_ci"] = float(values.mean()), ci.mean(values)
    out["attribute_targets"] = notes.targets_source if notes.targets else "reference audio"


def _speed_metrics(pairs, notes, out, ci, report) -> None:
    timed = [notes.timings[p.id] for p in pairs if p.id in notes.timings]
    if not timed:
        report(f"rtf: skipped (no {speed.TIMINGS_FILE} with these clip ids beside the generated clips)")
        return
    summary = speed.summarise_timings(timed)
    out["rtf"], out["rtf_ci"] = summary["rtf"], ci.mean(np.array([t.rtf for t in timed]))
    out["seconds_per_clip"] = summary["seconds_per_clip"]
    out["speed_device"], out["speed_batch_size"] = summary["device"], summary["batch_size"]


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
    config: SuiteOptions | None = None,
    report: Report = _stderr,
) -> dict:
    """Match two folders by stem, report what does not match, and evaluate the pairs (see `evaluate_pairs`).

    Raises `UserError` when no pair matches or none is readable.
    """
    matched = match_pairs(generated_dir, reference_dir)
    for message in matched.unmatched:
        report(message)
    if not matched.pairs:
        raise UserError(f"no generated file in {generated_dir} has a reference with the same stem in {reference_dir}")
    if videos_dir is not None and not Path(videos_dir).is_dir():
        raise UserError(f"--videos {videos_dir}: not a directory")
    ids = [p.id for p in matched.pairs]
    notes = read_annotations(reference_dir, generated_dir, videos_dir, ids, report)
    manifest = find_manifest(reference_dir)
    world = manifest.parent if manifest and _has_styles(manifest) else None
    metrics = evaluate_pairs(matched.pairs, config, notes, classifier_world=world, report=report)
    return {**metrics, "n_unmatched": len(matched.unmatched)}


def _has_styles(manifest: Path) -> bool:
    records = _read_manifest(manifest)
    return bool(records) and all("style" in r and "audio" in r for r in records.values())
