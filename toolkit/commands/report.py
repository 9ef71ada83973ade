"""`toolkit report SWEEP.yaml`: rebuild a sweep's ablation tables and plots from its MLflow runs."""

from __future__ import annotations

import argparse


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "report",
        help="write reports/<name>.md, .csv, .tex and plots from a sweep's MLflow runs",
        description="One row per configuration (the sweep's report.group_by), mean ± 95% t-interval over "
        "its trials (seeds), best per column marked, trials per row, and the command that regenerates the "
        "files. Reads $MLFLOW_TRACKING_URI or sqlite:///mlflow.db in the working directory.",
    )
    parser.add_argument("sweep", metavar="SWEEP.yaml", help="the sweep file")
    parser.add_argument("--reports", default="reports", metavar="DIR", help="where reports go (default: reports)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from toolkit.reports.sweep_report import write_sweep_report
    from toolkit.sweeps.spec import load_sweep
    from toolkit.sweeps.trial import report_notes

    spec = load_sweep(args.sweep)
    written = write_sweep_report(spec, args.reports, report_notes(spec.trial))
    for path in written:
        print(path)
    return 0
