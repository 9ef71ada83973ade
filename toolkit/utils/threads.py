"""How many CPU threads a command computes with, and the one place that applies the number.

Torch's default is every core, whatever else the machine runs; on a shared 2-core machine two threads per
process make each op wait for the other thread to be scheduled again. So commands take `--threads N`,
defaulting to the experiment's `train.threads` when set, else the machine's cores.
"""

from __future__ import annotations

import os
from typing import Any

from toolkit.errors import UserError


def machine_cores() -> int:
    """The CPU cores this process may run on (at least 1)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def check_threads(value: int, what: str = "--threads") -> int:
    """`value` when it is a usable thread count; `UserError` (exit 2) naming `what` otherwise."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise UserError(f"{what} must be a whole number of at least 1, got {value}")
    return value


def configured_threads(cfg: Any = None) -> int:
    """An experiment config's `train.threads` when set (null or 0: unset), else the machine's cores."""
    configured = None if cfg is None else cfg.train.threads
    return check_threads(int(configured), "train.threads") if configured else machine_cores()


def use_threads(threads: int) -> int:
    """Compute with `threads` threads from now on: torch's intra-op pool and the BLAS/OpenMP pools already
    loaded (numpy's, scipy's). Returns `threads`."""
    import torch
    from threadpoolctl import threadpool_limits

    check_threads(threads)
    torch.set_num_threads(threads)
    threadpool_limits(limits=threads)  # not as a context: the limit holds for the rest of the command
    return threads
