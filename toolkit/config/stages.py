"""Training stages: which attached conditioners train, and over which steps (VidMusician: semantics first,
then rhythm). Stage spans are fractions of `train.steps`, so overriding the step count keeps the recipe.

Planning is pure config logic: a config's stages are checked when it loads, and the training loop follows the
plan, so it lives in the config layer, below training."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from toolkit.errors import UserError


@dataclass(frozen=True)
class Stage:
    """Steps `[start, end)` train the conditioners in `conditioners` (None: every attached one)."""

    name: str
    start: int
    end: int
    conditioners: tuple[str, ...] | None

    @property
    def steps(self) -> int:
        return self.end - self.start


def plan_stages(stages: Sequence[Any], total: int, attached: Sequence[str]) -> list[Stage]:
    """Stage configs (`name`, `conditioners`, `fraction`) → contiguous spans covering `[0, total)`.

    Fractions must be positive and sum to 1; boundaries are rounded and the last stage ends at `total`. Names
    must be attached conditioners. An empty list is one stage over everything."""
    if total < 1:
        raise UserError(f"train.steps must be ≥ 1, got {total}")
    if not stages:
        return [Stage("all", 0, total, None)]
    fractions = [float(s.fraction) for s in stages]
    if any(f <= 0 for f in fractions) or abs(sum(fractions) - 1.0) > 1e-6:
        raise UserError(f"train.stages: fractions must be positive and sum to 1, got {fractions}")
    if len(stages) > total:
        raise UserError(f"train.stages: {len(stages)} stages need at least as many steps (train.steps={total})")
    planned, start, cumulative = [], 0, 0.0
    for i, stage in enumerate(stages):
        cumulative += fractions[i]
        end = total if i == len(stages) - 1 else max(start + 1, round(cumulative * total))
        names = None if stage.conditioners is None else tuple(stage.conditioners)
        unknown = sorted(set(names or ()) - set(attached))
        if unknown or names == ():
            raise UserError(
                f"train.stages[{i}] ({stage.name}): conditioners {list(names or [])} must be a non-empty subset "
                f"of the attached ones {list(attached)}"
            )
        planned.append(Stage(str(stage.name), start, end, names))
        start = end
    if planned[-1].steps < 1:
        raise UserError(f"train.stages: the last stage has no steps left (train.steps={total})")
    return planned


def stage_at(stages: Sequence[Stage], step: int) -> Stage:
    """The stage step `step` belongs to (steps past the end belong to the last stage)."""
    for stage in stages:
        if step < stage.end:
            return stage
    return stages[-1]
