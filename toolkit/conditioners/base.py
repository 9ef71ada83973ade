"""The `Conditioner` base: a trainable adapter that reads cached video features and attaches to a frozen
backbone at one declared hook point, without editing backbone code."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import torch
from torch import nn

from toolkit.config.ranges import Range, check_ranges

# Where a conditioner attaches (see `toolkit.conditioners.hooks`): an extra gated cross-attention, a signal
# added to hidden states entering chosen layers, the text memory the decoder already reads, the backbone's own
# weights (LoRA), scale/shift for diffusion heads, and a plan-and-refine head (which replaces the sampler).
HOOK_POINTS = ("cross", "in_attention", "memory", "weights", "film", "plan")


class Conditioner(nn.Module):
    """Base of all conditioners. Subclasses set `features` (dotted cached-feature keys such as "clip.global"
    that `prepare` reads) and `hook` (one of `HOOK_POINTS`), build their layers in `__init__(backbone,
    **kwargs)` (the kwargs are the config) and implement `attach`/`detach` (register and remove hooks) and
    `prepare` (turn one batch's features into what the hooks add; called before each conditioned forward
    pass).

    The backbone is held outside the module tree, so `parameters()` and `state_dict()` cover the adapter only.
    Invariant: at initialisation, attaching changes no logit of the frozen backbone (tested bit for bit),
    unless a subclass documents otherwise.
    """

    name: ClassVar[str]
    features: ClassVar[tuple[str, ...]] = ()
    hook: ClassVar[str] = ""
    ranges: ClassVar[dict[str, Range]] = {}  # numeric kwargs → allowed values; checked before any model is built

    @classmethod
    def check_config(cls, kwargs: Mapping[str, Any], where: str) -> None:
        """Refuse kwargs that break the class's rules (`ranges`; subclasses add others), without a backbone:
        config loading calls it so a bad value fails before anything is built; `__init__` calls it too."""
        check_ranges(kwargs, cls.ranges, where)

    def __init__(self, backbone: Any) -> None:
        super().__init__()
        object.__setattr__(self, "backbone", backbone)  # not a submodule: its weights are not ours
        self._handles: list[Any] = []

    # --- lifecycle ---------------------------------------------------------------------------------------
    def attach(self) -> None:
        """Register this conditioner's hooks on the backbone."""
        raise NotImplementedError

    def detach(self) -> None:
        """Remove every hook this conditioner registered; the backbone is as before `attach`."""
        for handle in reversed(self._handles):
            handle.remove()
        self._handles.clear()

    @property
    def attached(self) -> bool:
        return bool(self._handles)

    def prepare(self, features: Mapping[str, Any]) -> None:
        """Read one batch's features (tensors `(B, T_video, ...)` at `fps`) for the next forward passes."""

    def release(self) -> None:
        """Forget the prepared batch (so a forward pass without features cannot silently reuse it)."""

    # --- parameters --------------------------------------------------------------------------------------
    def trainable_parameters(self) -> list[nn.Parameter]:
        """The parameters an optimiser should update (the adapter's own, never the backbone's)."""
        return [p for p in self.parameters() if p.requires_grad]

    def num_trainable(self) -> int:
        return sum(p.numel() for p in self.trainable_parameters())

    def extra_repr(self) -> str:
        return f"hook={self.hook!r}, features={self.features}, trainable={self.num_trainable():,}"


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
