"""The `Conditioner` base: a trainable adapter that reads features of the video and text (its inputs), may be
trained against features of the music (its targets), and attaches to a frozen backbone at one declared hook
point, without editing backbone code."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import torch
from torch import nn

from toolkit.features.batch import FeatureBatch
from toolkit.utils.ranges import Range, check_ranges

# Where a conditioner attaches (see `toolkit.conditioners.hooks`): an extra gated cross-attention, a signal
# added to hidden states entering chosen layers, the text memory the decoder already reads, the backbone's own
# weights (LoRA), scale/shift modulation, and the blocks of a diffusion head (`Head.block_hooks`).
HOOK_POINTS = ("cross", "in_attention", "memory", "weights", "film", "diffusion")


class Conditioner(nn.Module):
    """Base of all conditioners. Subclasses declare

    - `inputs`: dotted feature keys derived from the video or the text (e.g. "clip.global"); they are read at
      training and at generation;
    - `targets`: dotted keys derived from the music (e.g. "rhythm.odf"), which the conditioner is trained
      against; they exist in training batches only, and reading one at generation raises;
    - `hook`: one of `HOOK_POINTS` (a tuple when a kwarg chooses among them);

    build their layers in `__init__(backbone, **kwargs)` (the kwargs are the config) and implement
    `attach`/`detach` (register and remove hooks) and `prepare` (turn one `FeatureBatch` into what the hooks
    add; called before each conditioned forward pass). Optional: `auxiliary_losses` (losses of the last
    conditioned pass, added to the objective with per-loss weights), `set_progress` (training step and total,
    for scheduled inputs), `parameter_groups` (sub-models a training stage may train alone).

    The backbone (and the model's generative head, `self.head`, set before `attach`) are held outside the
    module tree, so `parameters()` and `state_dict()` cover the adapter only. Invariant: at initialisation,
    attaching changes no logit of the frozen backbone (tested bit for bit), unless a subclass documents
    otherwise.
    """

    name: ClassVar[str]
    inputs: ClassVar[tuple[str, ...]] = ()
    targets: ClassVar[tuple[str, ...]] = ()
    hook: ClassVar[str | tuple[str, ...]] = ""
    ranges: ClassVar[dict[str, Range]] = {}  # numeric kwargs → allowed values; checked before any model is built

    @classmethod
    def check_config(cls, kwargs: Mapping[str, Any], where: str) -> None:
        """Refuse kwargs that break the class's rules (`ranges`; subclasses add others), without a backbone:
        config loading calls it so a bad value fails before anything is built; `__init__` calls it too."""
        check_ranges(kwargs, cls.ranges, where)

    def __init__(self, backbone: Any) -> None:
        super().__init__()
        object.__setattr__(self, "backbone", backbone)  # not a submodule: its weights are not ours
        object.__setattr__(self, "head", None)  # the model's generative head, set by the model before `attach`
        self._handles: list[Any] = []
        self.progress = (0, 1)  # (training step, total steps); generation sees the end of training

    # --- lifecycle ---------------------------------------------------------------------------------------
    def attach(self) -> None:
        """Register this conditioner's hooks on the backbone (or on `self.head`)."""
        raise NotImplementedError

    def detach(self) -> None:
        """Remove every hook this conditioner registered; the backbone is as before `attach`."""
        for handle in reversed(self._handles):
            handle.remove()
        self._handles.clear()

    @property
    def attached(self) -> bool:
        return bool(self._handles)

    def prepare(self, features: FeatureBatch) -> None:
        """Read one batch's features: its `inputs` always, its `targets` when `features.training`."""

    def release(self) -> None:
        """Forget the prepared batch (so a forward pass without features cannot silently reuse it)."""

    # --- training ----------------------------------------------------------------------------------------
    def auxiliary_losses(self) -> dict[str, torch.Tensor]:
        """Scalar losses of the last conditioned training pass, by short name (logged as `<entry>.<name>`)."""
        return {}

    def target_predictions(self) -> dict[str, tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
        """What the last training-mode pass predicted of each music target it reads from the video alone:
        `{target key: (predicted (B, T, d), target (B, T, d), mask (B, T))}` in the target's own space (for
        prediction-quality metrics). Conditioners that predict no target return {}."""
        return {}

    def set_progress(self, step: int, total: int) -> None:
        """Told before every training step (0-based `step` of `total`); generation keeps the last value."""
        self.progress = (int(step), int(total))

    def parameter_groups(self) -> dict[str, list[nn.Parameter]]:
        """Named parts a training stage may train alone (`<entry>.<group>` in `train.stages`)."""
        return {}

    # --- parameters --------------------------------------------------------------------------------------
    def trainable_parameters(self) -> list[nn.Parameter]:
        """The parameters an optimiser should update (the adapter's own, never the backbone's)."""
        return [p for p in self.parameters() if p.requires_grad]

    def num_trainable(self) -> int:
        return sum(p.numel() for p in self.trainable_parameters())

    def extra_repr(self) -> str:
        return (f"hook={self.hook!r}, inputs={self.inputs}, targets={self.targets}, "
                f"trainable={self.num_trainable():,}")


def decoder_layer_indices(num_layers: int, layers: Any, what: str) -> list[int]:
    """`layers` as a sorted list of layer indices: "all", an int list (negatives count from the end)."""
    from toolkit.errors import UserError

    if layers in (None, "all"):
        return list(range(num_layers))
    if isinstance(layers, int):
        layers = [layers]
    try:
        if isinstance(layers, str):
            raise TypeError
        wanted = [int(i) for i in layers]
    except (TypeError, ValueError):
        raise UserError(f"{what}: layers must be 'all' or a list of layer indices, got {layers!r}") from None
    if not wanted or any(not -num_layers <= i < num_layers for i in wanted):
        raise UserError(f"{what}: layers {wanted!r} out of range for a decoder of {num_layers} layers")
    return sorted({i % num_layers for i in wanted})


def as_tensor(
    x: Any, dtype: torch.dtype = torch.float32, device: torch.device | str | None = None
) -> torch.Tensor:
    """Numpy arrays and tensors alike → a tensor of `dtype` on `device`."""
    if isinstance(x, torch.Tensor):
        return x.to(device=device, dtype=dtype)
    return torch.as_tensor(x, dtype=dtype, device=device)
