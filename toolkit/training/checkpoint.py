"""Checkpoints hold what training changed and nothing of the frozen backbone: adapter weights (safetensors;
LoRA in peft's adapter format, one folder per LoRA conditioner), the resolved config, the optimiser and
scheduler state, and the step. A checkpoint folder is written whole or not at all, with the usual file modes
(`atomic_dir`; safetensors alone would write 0600).

Layout of `<run>/checkpoint/`:

    adapters.safetensors      every non-LoRA conditioner's weights, keyed `<conditioner>.<key>`
    <lora name>/              adapter_config.json + adapter_model.safetensors (peft's format)
    config.yaml               the resolved experiment config
    trainer.pt                optimiser and scheduler state
    state.json                step, stage, run id and the latest metrics
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from toolkit.errors import UserError

CHECKPOINT = "checkpoint"  # the folder in a run directory (and the MLflow artifact path) holding its checkpoint
ADAPTERS = "adapters.safetensors"
CONFIG = "config.yaml"
TRAINER = "trainer.pt"
STATE = "state.json"


def _lora_names(attached: Any) -> list[str]:
    from toolkit.conditioners.lora import LoraConditioner

    return [n for n, c in attached.conditioners.items() if isinstance(c, LoraConditioner)]


def save_checkpoint(
    path: str | Path,
    attached: Any,
    cfg: Any,
    step: int,
    optimizer: torch.optim.Optimizer | None = None,
    scheduler: Any = None,
    extra: dict[str, Any] | None = None,
) -> Path:
    """Write the checkpoint folder `path` atomically (replacing an older one there as a whole)."""
    from omegaconf import OmegaConf
    from safetensors.torch import save_file

    from toolkit.utils.atomic import atomic_dir

    path = Path(path)
    lora = _lora_names(attached)
    state = {
        k: v.detach().cpu().clone().contiguous()
        for k, v in attached.adapter_state_dict().items()
        if k.split(".", 1)[0] not in lora
    }
    with atomic_dir(path) as tmp:
        save_file(state, str(tmp / ADAPTERS))
        for name in lora:
            attached.conditioners[name].save(tmp / name)
        config = cfg if OmegaConf.is_config(cfg) else OmegaConf.create(cfg)
        (tmp / CONFIG).write_text(OmegaConf.to_yaml(config, resolve=True))
        if optimizer is not None:
            trainer = {"optimizer": optimizer.state_dict()}
            if scheduler is not None:
                trainer["scheduler"] = scheduler.state_dict()
            torch.save(trainer, tmp / TRAINER)
        (tmp / STATE).write_text(json.dumps({"step": int(step), **(extra or {})}, indent=2) + "\n")
    return path


@dataclass
class Checkpoint:
    """A checkpoint folder read back: its config, state (step, …) and where it lies."""

    path: Path
    config: Any
    state: dict[str, Any]

    @property
    def step(self) -> int:
        return int(self.state["step"])

    def adapter_weights(self) -> dict[str, torch.Tensor]:
        """Every conditioner's weights, keyed as `AttachedModel.adapter_state_dict` returns them."""
        from safetensors.torch import load_file

        weights = dict(load_file(str(self.path / ADAPTERS)))
        for folder in sorted(p for p in self.path.iterdir() if p.is_dir()):
            lora_file = folder / "adapter_model.safetensors"
            if lora_file.is_file():
                weights.update({f"{folder.name}.{k}": v for k, v in load_file(str(lora_file)).items()})
        return weights

    def load_into(self, attached: Any) -> None:
        """Load the adapter weights into an `AttachedModel` built from this checkpoint's config."""
        attached.load_adapter_state_dict(self.adapter_weights())

    def trainer_state(self) -> dict[str, Any]:
        """Optimiser and scheduler state (`UserError` when the checkpoint holds none)."""
        file = self.path / TRAINER
        if not file.is_file():
            raise UserError(f"{self.path}: checkpoint has no optimiser state ({TRAINER}); it cannot be resumed")
        return torch.load(file, map_location="cpu", weights_only=True)


def is_checkpoint(path: str | Path) -> bool:
    path = Path(path)
    return (path / STATE).is_file() and (path / ADAPTERS).is_file() and (path / CONFIG).is_file()


def load_checkpoint(path: str | Path) -> Checkpoint:
    """Read a checkpoint folder's config and state (weights are read by `load_into`)."""
    from omegaconf import OmegaConf

    path = Path(path)
    if not is_checkpoint(path):
        raise UserError(f"{path}: not a checkpoint folder (needs {STATE}, {ADAPTERS} and {CONFIG})")
    try:
        state = json.loads((path / STATE).read_text())
        config = OmegaConf.load(path / CONFIG)
    except (ValueError, OSError) as err:
        raise UserError(f"{path}: unreadable checkpoint ({err})") from None
    return Checkpoint(path=path, config=config, state=state)
