"""`toolkit evaluate`: objective metrics of generated music against reference music, as flat JSON."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from toolkit.errors import UserError
from toolkit.utils.atomic import check_output_file


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "evaluate",
        help="score generated music: every registered metric whose inputs are here (toolkit list metrics)",
        description=(
            "Evaluate generated clips against reference clips matched by file stem. Unmatched or unreadable "
            "files are reported on stderr and counted in the output. Each metric is named with its convention "
            "(fad[mel-stats], bhs[0.2s], tempo_acc[8%]) and carries its interval and per-clip values; a metric "
            "whose inputs are missing is listed under 'skipped' with the reason."
        ),
    )
    parser.add_argument("--generated", type=Path, help="folder of generated clips (wav/flac/mp4...)")
    parser.add_argument("--reference", type=Path, help="folder of reference clips with the same stems")
    parser.add_argument("--videos", type=Path, help="folder of videos with the same stems, for TB-IoU cuts")
    parser.add_argument("--out", type=Path, help="write the metrics JSON here (default: stdout)")
    parser.add_argument(
        "--run", dest="run_id", metavar="RUN_ID",
        help="evaluate a trained run (MLflow run id or run folder): generate its test split with its adapters, "
        "score it against the reference music and log the metrics to the run",
    )
    parser.add_argument(
        "--classifier-world",
        type=Path,
        help="world folder (manifest.jsonl with style labels) the KL/IS classifier trains on",
    )
    parser.add_argument("--embedding", default="mel-stats", help="embedding for FAD/density/coverage")
    parser.add_argument(
        "--embedding-weights", type=Path, help="local weights for vggish, panns-cnn14 or clap"
    )
    parser.add_argument("--clap-weights", type=Path, help="local CLAP checkpoint folder: the clap_score (text–audio)")
    parser.add_argument("--imagebind-weights", type=Path, help="local ImageBind checkpoint: the imagebind_score")
    parser.add_argument("--bootstrap", type=int, default=1000, help="bootstrap resamples for the 95%% CIs")
    parser.add_argument(
        "--threads", type=int, metavar="N",
        help="CPU threads (default: with --run, the run's train.threads when set; else the machine's cores)",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from toolkit.config.sections.evaluation import EvalConfig
    from toolkit.metrics.suite import evaluate_dirs, to_json
    from toolkit.utils.threads import check_threads, configured_threads, use_threads

    if args.threads is not None:
        check_threads(args.threads)
    if args.out is not None:
        check_output_file(args.out, "--out")  # fail now, not after the metrics
    if args.run_id is not None:
        from toolkit.training.evaluation import evaluate_run

        _emit(to_json(evaluate_run(args.run_id, threads=args.threads)), args.out)
        return 0
    if args.generated is None or args.reference is None:
        raise UserError("evaluate needs --generated DIR and --reference DIR (or --run RUN_ID)")
    if args.bootstrap < 1:
        raise UserError(f"--bootstrap must be at least 1, got {args.bootstrap}")
    use_threads(args.threads or configured_threads())
    config = EvalConfig(
        embedding=args.embedding,
        embedding_weights=str(args.embedding_weights) if args.embedding_weights else None,
        classifier_world=str(args.classifier_world) if args.classifier_world else None,
        clap_weights=str(args.clap_weights) if args.clap_weights else None,
        imagebind_weights=str(args.imagebind_weights) if args.imagebind_weights else None,
        bootstrap_resamples=args.bootstrap,
    )
    metrics = evaluate_dirs(args.generated, args.reference, args.videos, config)
    _emit(to_json(metrics), args.out)
    return 0


def _emit(text: str, out: Path | None) -> None:
    from toolkit.utils.atomic import write_text_atomic

    if out is None:
        sys.stdout.write(text)
    else:
        write_text_atomic(out, text)
        print(f"wrote {out}", file=sys.stderr)
