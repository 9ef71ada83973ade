"""`trial: demo` — a deterministic stand-in trial for testing the sweep machinery. NOT a measurement.

Its metrics are arithmetic on the parameters (`backbone.guidance`, `seed`), named `demo_*` so they can never
be mistaken for real results, and reports made from it say so. It trains nothing and takes milliseconds.

For tests, `V2M_DEMO_TRIAL_MARKERS=DIR` makes trial k (in start order) write `DIR/started-k`, and wait while
`DIR/hold-k` exists, so a test can kill a sweep at a known point; `V2M_DEMO_TRIAL_SECONDS` adds a sleep.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from toolkit.sweeps.trial import Report, TrialResult, register_trial

DEMO_NOTE = "demo trial: metrics are arithmetic on the parameters, not measurements"


@register_trial("demo")
def run_demo_trial(cfg: Any, report: Report, workdir: Path) -> TrialResult:
    """Quality is best at guidance 3 (a bowl), the seed adds a small offset, speed grows with guidance."""
    _wait_on_markers()
    time.sleep(float(os.environ.get("V2M_DEMO_TRIAL_SECONDS", "0")))
    guidance, seed = float(cfg.backbone.guidance), int(cfg.seed)
    if guidance > 50:  # a valid config value that this trial refuses: how tests make a trial fail on purpose
        raise ValueError(f"demo trial: guidance {guidance} is above 50")
    quality = (guidance - 3.0) ** 2 + 0.1 * seed
    for step in range(3):  # a decaying validation curve ending at `quality`
        report(step, quality + 1.0 / (step + 1), name="demo_val")
    workdir.mkdir(parents=True, exist_ok=True)
    curve = workdir / "demo_curve.csv"
    curve.write_text("step,demo_val\n" + "".join(f"{s},{quality + 1 / (s + 1)}\n" for s in range(3)))
    return TrialResult(
        metrics={"demo_quality": quality, "demo_rtf": 0.05 * guidance, "demo_score": 1.0 / (1.0 + quality),
                 "demo_note": DEMO_NOTE},
        artifacts=[curve],
        step_metrics={"demo_lr": [(s, 1e-3 / (s + 1)) for s in range(3)]},
    )


run_demo_trial.report_note = f"DEMO — {DEMO_NOTE}."  # type: ignore[attr-defined]


def _wait_on_markers() -> None:
    folder = os.environ.get("V2M_DEMO_TRIAL_MARKERS")
    if not folder:
        return
    marker_dir = Path(folder)
    index = 0
    while True:  # claim the next free start number, even with several workers starting at once
        try:
            fd = os.open(marker_dir / f"started-{index}", os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            os.write(fd, str(os.getpid()).encode())
            os.close(fd)
            break
        except FileExistsError:
            index += 1
    while (marker_dir / f"hold-{index}").exists():
        time.sleep(0.05)
