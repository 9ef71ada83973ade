"""`toolkit sweep SWEEP.yaml`: run (or resume) an Optuna study, log trials to MLflow, write the report."""

from __future__ import annotations

import argparse
import sys
import time


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "sweep",
        help="run an Optuna sweep over an experiment, log it to MLflow and write reports/<name>.*",
        description="Run the study described by SWEEP.yaml until it holds its target number of trials "
        "(re-running resumes it: a killed sweep finishes, a finished one runs nothing). Each trial is a "
        "nested MLflow run under the study's run (tracking: $MLFLOW_TRACKING_URI or sqlite:///mlflow.db here, "
        "artifacts in ./mlruns). At the end reports/<name>.md, .csv, .tex and plots are written.",
    )
    parser.add_argument("sweep", metavar="SWEEP.yaml", help="the sweep file")
    parser.add_argument("--trials", type=int, metavar="N", help="target number of trials (overrides study.n_trials)")
    parser.add_argument("--workers", type=int, default=1, metavar="N",
                        help="worker processes sharing the study (default: 1)")
    parser.add_argument("--storage", metavar="URL",
                        help="Optuna storage: a database URL (postgresql://…) shared by several machines, or a "
                        "journal file path (default: ./optuna/<name>.journal)")
    parser.add_argument("--reports", default="reports", metavar="DIR", help="where reports go (default: reports)")
    parser.add_argument("--no-report", action="store_true", help="skip writing the report at the end")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from toolkit.errors import UserError
    from toolkit.sweeps.spec import load_sweep
    from toolkit.sweeps.workers import run_sweep

    if args.trials is not None and args.trials < 1:
        raise UserError(f"--trials {args.trials}: expected a positive number")
    spec = load_sweep(args.sweep, n_trials=args.trials)
    start = time.perf_counter()
    state = run_sweep(spec, workers=args.workers, storage_url=args.storage)
    print(f"sweep {spec.name}: {state} in {time.perf_counter() - start:.1f} s")
    if not args.no_report:
        from toolkit.reports.sweep_report import write_sweep_report
        from toolkit.sweeps.trial import report_notes

        written = write_sweep_report(spec, args.reports, report_notes(spec.trial))
        print("report: " + ", ".join(str(p) for p in written[:3]) + f" (+{len(written) - 3} plots)")
    if state.counted < spec.study.n_trials:
        print(f"sweep {spec.name}: only {state.counted} of {spec.study.n_trials} trials finished; run the same "
              "command again to resume", file=sys.stderr)
        return 1
    return 0
