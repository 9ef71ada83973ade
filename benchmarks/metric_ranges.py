"""Each metric's range on the micro world: reference vs itself, vs a shuffled pairing, vs noise.

Builds two small worlds (one to evaluate, one with another seed to train the KL/IS style classifier on, so
its predictions on the evaluated clips are out of sample), runs the metrics suite three times, and writes a
markdown table. Run from the repository root:

    python benchmarks/metric_ranges.py [--clips 48] [--out benchmarks/metric_ranges.md]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

ROWS = [
    ("fad", "FAD (mel-stats)", "lower is closer"),
    ("kl", "KL (micro-style-cnn)", "lower is closer"),
    ("is", "IS (micro-style-cnn)", "higher is more diverse/confident"),
    ("density", "density (mel-stats, k=5)", "~1 matches the reference"),
    ("coverage", "coverage (mel-stats, k=5)", "higher covers more"),
    ("bhs", "BHS (LORIS, 1 s bins)", "higher hits more ref. onsets"),
    ("bcs", "BCS (LORIS, 1 s bins)", "higher: fewer stray onsets"),
    ("tb_iou", "TB-IoU (±0.1 s, manifest cuts)", "higher is better aligned"),
    ("tempo_acc", "tempo acc. (±8%, vs prompt)", "higher"),
    ("tempo_acc_octave", "tempo acc. octave-tolerant", "higher"),
    ("key_acc", "key acc. exact (vs prompt)", "higher"),
    ("key_acc_loose", "key score (MIREX weighted)", "higher"),
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=48, help="clips in the evaluated world")
    parser.add_argument("--classifier-clips", type=int, default=60, help="clips in the classifier's world")
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--bootstrap", type=int, default=1000)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/metric_ranges.md"))
    parser.add_argument("--work", type=Path, help="working folder (default: a temporary one, removed after)")
    args = parser.parse_args()

    import torch

    from toolkit.config.sections.evaluation import EvalConfig
    from toolkit.data.world import build_world
    from toolkit.metrics.classifier import micro_style_classifier
    from toolkit.metrics.suite import evaluate_dirs
    from toolkit.utils.atomic import write_text_atomic

    torch.set_num_threads(1)  # a shared 2-core machine; timings below are noisy regardless
    work = args.work or Path(tempfile.mkdtemp(prefix="metric-ranges-"))
    try:
        started = time.perf_counter()
        world = build_world(work / "world", clips=args.clips, seed=args.seed, seconds=args.seconds, progress=False)
        classifier_world = build_world(
            work / "classifier-world",
            clips=args.classifier_clips,
            seed=args.seed + 1000,
            seconds=args.seconds,
            progress=False,
        )
        classifier = micro_style_classifier(classifier_world)
        config = EvalConfig(classifier_world=str(classifier_world), bootstrap_resamples=args.bootstrap)
        reference = world / "clips"
        conditions = {
            "reference vs itself": reference,
            "vs shuffled pairing": _shuffled(reference, work / "shuffled", np.random.default_rng(args.seed)),
            "vs noise": _noise(reference, work / "noise", np.random.default_rng(args.seed)),
        }
        results, seconds = {}, {}
        for name, generated in conditions.items():
            tick = time.perf_counter()
            results[name] = evaluate_dirs(generated, reference, config=config, report=lambda m: None)
            seconds[name] = time.perf_counter() - tick
        total = time.perf_counter() - started
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)

    flags = [
        f"--clips {args.clips}",
        f"--classifier-clips {args.classifier_clips}",
        f"--seconds {args.seconds:g}",
        f"--seed {args.seed}",
        f"--bootstrap {args.bootstrap}",
    ]
    command = "python benchmarks/metric_ranges.py " + " ".join(flags)
    text = _table(results, seconds, total, args, classifier.val_accuracy, command)
    write_text_atomic(args.out, text)
    print(text)
    return 0


def _shuffled(reference: Path, out: Path, rng: np.random.Generator) -> Path:
    """The reference clips under each other's names (a derangement: no clip keeps its own partner)."""
    stems = sorted(p.stem for p in reference.glob("*.wav"))
    cycle = rng.permutation(len(stems))
    perm = np.empty_like(cycle)
    perm[cycle] = np.roll(cycle, -1)  # one cycle through a random order: never a fixed point
    out.mkdir(parents=True)
    for stem, source in zip(stems, perm, strict=True):
        shutil.copy(reference / f"{stems[source]}.wav", out / f"{stem}.wav")
    return out


def _noise(reference: Path, out: Path, rng: np.random.Generator) -> Path:
    """White noise with each reference clip's length and RMS."""
    out.mkdir(parents=True)
    for path in sorted(reference.glob("*.wav")):
        audio, rate = sf.read(path, dtype="float32")
        rms = float(np.sqrt(np.mean(audio**2)))
        sf.write(out / path.name, np.clip(rng.normal(0, rms, audio.shape), -1, 1).astype(np.float32), rate)
    return out


def _cell(metrics: dict, key: str) -> str:
    if key not in metrics or metrics[key] is None:
        return "—"
    lo, hi = metrics.get(f"{key}_ci", (None, None))
    interval = f" [{_num(lo)}, {_num(hi)}]" if lo is not None and np.isfinite(lo) else ""
    return f"{_num(metrics[key])}{interval}"


def _num(value: float) -> str:
    return "0" if abs(value) < 1e-6 else f"{value:.3g}"  # FAD of identical sets is 0 up to round-off


def _table(results, seconds, total, args, val_accuracy, command) -> str:
    names = list(results)
    lines = [
        "# Metric ranges on the micro world",
        "",
        f"Reference: a micro world of {args.clips} clips × {args.seconds:g} s (seed {args.seed}). "
        "Each column evaluates a different 'generated' set against it, paired by file stem: the reference "
        "itself, the reference clips under shuffled names (right distribution, wrong partner), and white "
        "noise with each clip's length and loudness. Values are dataset means with 95% bootstrap intervals "
        f"({args.bootstrap} resamples; set-level metrics resample both sets: percentile intervals, except "
        "FAD's, a basic bootstrap interval for the population FD, which accounts for FAD's upward bias).",
        "",
        "| metric | " + " | ".join(names) + " | reading |",
        "|---|" + "---|" * len(names) + "---|",
    ]
    for key, label, reading in ROWS:
        lines.append(f"| {label} | " + " | ".join(_cell(results[n], key) for n in names) + f" | {reading} |")
    lines += [
        "",
        "Notes:",
        "",
        f"- KL/IS use `micro-style-cnn`, trained on a separate world ({args.classifier_clips} clips, seed "
        f"{args.seed + 1000}); its held-out style accuracy is {val_accuracy:.2f}. IS is bounded by the number "
        "of styles (6).",
        "- FAD and density/coverage use `mel-stats` (log-mel band means and deviations over 1 s windows), "
        "not VGGish/CLAP: values are not comparable with published numbers.",
        "- Tempo and key accuracy compare each generated clip's estimate (librosa tempo; Krumhansl–Schmuckler "
        "on CQT chroma) with the prompt's attributes, so the 'itself' column is the estimators' ceiling on "
        "4 s clips, not 1.",
        "- TB-IoU matches the manifest's video cuts against beats tracked in the generated music; with fewer "
        "cuts than beats it cannot reach 1, so read it against the 'itself' column.",
        "- BHS/BCS use LORIS's onset parameters and 1 s bins, which are coarse for 4 s clips: any music with "
        "onsets in most seconds scores high.",
        "- The shuffled pairing is the reference set itself under other names, so the set-level metrics "
        "(FAD, IS, density, coverage) cannot tell it from the reference; only the paired metrics (KL, BHS/BCS, "
        "TB-IoU, tempo/key accuracy) see the wrong partners. FAD's interval there shows its sampling spread "
        "at this set size.",
        "- RTF needs generation timings and is not part of this table.",
        "",
        "Wall time per column (2 shared CPU cores, noisy): "
        + ", ".join(f"{n}: {s:.0f} s" for n, s in seconds.items())
        + f"; whole script incl. building both worlds and the classifier (unless cached): {total:.0f} s.",
        "",
        "Regenerate with:",
        "",
        f"    {command}",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
