"""The optimisation loop over in-memory clips: AdamW on adapter parameters only, warmup + cosine per stage,
gradient clipping, text/video dropout, validation loss, and a stop with a clear message on NaN/inf.

Every step draws its batch (clips, crops, paraphrases, dropout) from a generator seeded by `(seed, step)` and
reseeds torch's global RNG (LoRA dropout) the same way, so a run resumed at step N continues exactly as the
uninterrupted run would have: the data order does not depend on what ran before.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from toolkit.config.stages import Stage, stage_at
from toolkit.errors import UserError
from toolkit.heads.base import MusicCrop
from toolkit.model.attach import weighted_total
from toolkit.training.data import Batch, ClipSet
from toolkit.training.dropout import drop_conditions
from toolkit.training.schedule import warmup_cosine


class TrainingDiverged(UserError):
    """The loss (or the gradient norm) stopped being finite."""


def step_seed(seed: int, step: int) -> int:
    """A per-step seed, distinct for every (seed, step) pair."""
    return (int(seed) * 1_000_003 + int(step)) % (2**63 - 1)


class Loop:
    """Trains an `AttachedModel` over `stages` on a `ClipSet`; `train_cfg` is the `train` config section."""

    def __init__(
        self,
        attached: Any,
        train_set: ClipSet,
        val_set: ClipSet | None,
        train_cfg: Any,
        stages: list[Stage],
        seed: int,
    ) -> None:
        self.attached, self.train_set, self.val_set = attached, train_set, val_set
        self.cfg, self.stages, self.seed = train_cfg, stages, int(seed)
        self.backbone = attached.backbone
        # all adapter parameters, collected before any stage freezes some (optimiser state is indexed by them)
        self.params = attached.trainable_parameters()
        self.stage_params = {s.name: {id(p) for p in attached.trainable_parameters(s.conditioners)} for s in stages}
        self.optimizer = torch.optim.AdamW(
            self.params, lr=float(train_cfg.lr), betas=tuple(train_cfg.betas),
            weight_decay=float(train_cfg.weight_decay),
        )
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(self.optimizer, lambda step: self.lr_factor(step))
        self.stage: Stage | None = None
        self.total_steps = stages[-1].end if stages else 1
        self.loss_weights = {str(k): float(v) for k, v in dict(train_cfg.loss_weights or {}).items()}

    # --- schedule and stages -----------------------------------------------------------------------------
    def lr_factor(self, step: int) -> float:
        stage = stage_at(self.stages, step)
        return warmup_cosine(step - stage.start, stage.steps, self.cfg.warmup_steps, self.cfg.min_lr_ratio)

    def enter_stage(self, step: int) -> Stage:
        """Make exactly the parameters of the stage holding `step` trainable."""
        stage = stage_at(self.stages, step)
        if stage != self.stage:
            wanted = self.stage_params[stage.name]
            for p in self.params:
                p.requires_grad_(id(p) in wanted)
            self.stage = stage
        return stage

    def trainable_now(self) -> list[torch.nn.Parameter]:
        return [p for p in self.params if p.requires_grad]

    # --- one step ----------------------------------------------------------------------------------------
    def batch_for(self, step: int) -> Batch:
        gen = torch.Generator().manual_seed(step_seed(self.seed, step))
        batch = self.train_set.sample(self.cfg.batch_size, gen, self.cfg.paraphrase_prob)
        batch.prompts, batch.features = drop_conditions(
            batch.prompts, batch.features, self.cfg.text_dropout, self.cfg.video_dropout, gen
        )
        return batch

    def losses(self, batch: Batch) -> dict[str, torch.Tensor]:
        """The head's loss (`"head"`) and every auxiliary loss of the batch, unweighted."""
        device = self.backbone.device
        memory, mask = self.backbone.encode_text(batch.prompts)
        latents = None if batch.latents is None else batch.latents.to(device)
        crop = MusicCrop(batch.codes.to(device), memory, mask, latents)
        return self.attached.losses(crop, batch.features)

    def train_step(self, step: int) -> dict[str, float]:
        """One optimiser step at `step` (0-based); returns its loss, gradient norm and learning rate."""
        stage = self.enter_stage(step)
        torch.manual_seed(step_seed(self.seed, step))
        self.attached.train()
        self.attached.set_progress(step, self.total_steps)
        lr = self.optimizer.param_groups[0]["lr"]
        parts = self.losses(self.batch_for(step))
        loss = weighted_total(parts, self.loss_weights)
        self._check_finite("loss", loss, step, stage, lr)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        clip = float(self.cfg.grad_clip) if self.cfg.grad_clip else float("inf")
        norm = torch.nn.utils.clip_grad_norm_(self.trainable_now(), clip)
        self._check_finite("gradient norm", norm, step, stage, lr)
        self.optimizer.step()
        self.scheduler.step()
        aux = {f"aux.{name}": float(v.detach()) for name, v in parts.items() if name != "head"}
        return {"loss": float(loss.detach()), **aux, "grad_norm": float(norm), "lr": float(lr)}

    def _check_finite(self, what: str, value: torch.Tensor, step: int, stage: Stage, lr: float) -> None:
        if not torch.isfinite(value):
            raise TrainingDiverged(
                f"train: {what} is {float(value.detach())} at step {step + 1} (stage {stage.name!r}, lr {lr:.3g}); "
                "the adapters were not updated by this step — lower train.lr or set train.grad_clip"
            )

    @torch.no_grad()
    def validate(self) -> dict[str, float]:
        """Mean objective (`val_loss`) and auxiliary losses (`val_aux.<name>`) over the fixed validation batches
        (no dropout, clip starts, prompts); empty without a validation set."""
        if self.val_set is None:
            return {}
        self.attached.eval()
        batches = self.val_set.validation_batches(self.cfg.batch_size, self.cfg.val_batches)
        sums: dict[str, float] = {}
        for batch in batches:
            parts = self.losses(batch)
            values = {"val_loss": float(weighted_total(parts, self.loss_weights))}
            values.update({f"val_aux.{name}": float(v) for name, v in parts.items() if name != "head"})
            for name, value in values.items():
                sums[name] = sums.get(name, 0.0) + value
        self.attached.train()
        return {name: total / len(batches) for name, total in sums.items()}

    # --- the loop ----------------------------------------------------------------------------------------
    def run(
        self,
        start: int,
        total: int,
        on_metrics: Callable[[int, dict[str, float]], None] | None = None,
        on_checkpoint: Callable[[int, dict[str, float]], None] | None = None,
        progress: bool = False,
    ) -> dict[str, float]:
        """Steps `start … total-1`; `on_metrics(step, metrics)` after each step (step counts completed steps),
        `on_checkpoint(step, metrics)` every `checkpoint_every` steps and at the end. Returns the last
        metrics."""
        import sys

        from tqdm import tqdm

        last: dict[str, float] = {}
        bar = tqdm(total=total, initial=start, desc="train", unit="step", disable=not progress, file=sys.stderr)
        try:
            for step in range(start, total):
                metrics = self.train_step(step)
                done = step + 1
                if (self.cfg.val_every and done % self.cfg.val_every == 0) or done == total:
                    metrics.update(self.validate())
                last = {**last, **metrics}
                if on_metrics is not None:
                    on_metrics(done, metrics)
                bar.update()
                bar.set_postfix(loss=f"{metrics['loss']:.3f}", stage=self.stage.name)
                if (self.cfg.checkpoint_every and done % self.cfg.checkpoint_every == 0) or done == total:
                    if on_checkpoint is not None:
                        on_checkpoint(done, last)
        finally:
            bar.close()
            self.attached.eval()
        return last

    # --- resumable state ---------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        return {"optimizer": self.optimizer.state_dict(), "scheduler": self.scheduler.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.optimizer.load_state_dict(state["optimizer"])
        if "scheduler" in state:
            self.scheduler.load_state_dict(state["scheduler"])
