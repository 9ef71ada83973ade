"""LoRA on the frozen backbone through peft: decoder self- and/or cross-attention projections, optionally the
text encoder (VidMusician tunes T5 with LoRA so mapped video tokens are encoded well).

peft's LoRA starts with `B = 0`, so every adapted projection returns exactly the frozen one's output at
initialisation (bit-identical logits). Injection is in place (`peft.inject_adapter_in_model`) and
`detach` puts the original linear layers back. `save`/`load` use peft's adapter format (`adapter_config.json`
+ `adapter_model.safetensors`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from torch import nn

from toolkit.backbone.frozen import LORA_ATTENTION, LORA_PROJECTIONS
from toolkit.conditioners.base import Conditioner, decoder_layer_indices
from toolkit.conditioners.registry import register_conditioner
from toolkit.errors import UserError
from toolkit.utils.ranges import Range

ATTENTION = tuple(LORA_ATTENTION)  # "self", "cross"
PROJECTIONS = LORA_PROJECTIONS
# Key prefix of peft's saved adapters (what `PeftModel.save_pretrained` writes).
PEFT_PREFIX = "base_model.model."


def exact_names(names: list[str]) -> str:
    """A regex matching exactly `names`: peft full-matches a string `target_modules` as is, whereas a list of
    20 or more names it rewrites into shortest suffixes in the config it saves."""
    return "|".join(map(re.escape, names))


def _names(value: Any) -> tuple[str, ...]:
    """A list of names, or one name (a bare string would otherwise be read letter by letter)."""
    return (value,) if isinstance(value, str) else tuple(value)


@register_conditioner("lora")
class LoraConditioner(Conditioner):
    """peft LoRA on the backbone (hook point `weights`; reads no features).

    `rank`, `alpha`, `dropout`; `attention`: any of "self", "cross"; `projections`: any of q/k/v/out_proj;
    `layers`: "all" or decoder layer indices. `text_encoder`: also adapt the text encoder's attention
    projections (or, with `text_encoder_targets`, its modules whose full name that regex matches), with its own
    `text_encoder_rank`/`text_encoder_alpha` if given. The backbone names the modules
    (`Backbone.lora_targets`, `Backbone.text_encoder_lora_targets`).
    """

    hook = "weights"
    ranges = {
        "rank": Range(1),
        "text_encoder_rank": Range(1),
        "alpha": Range(0, low_inclusive=False),  # the update is scaled by alpha / rank: 0 would train nothing
        "text_encoder_alpha": Range(0, low_inclusive=False),
        "dropout": Range(0, 1, high_inclusive=False),
    }

    @classmethod
    def check_config(cls, kwargs: Mapping[str, Any], where: str) -> None:
        """The ranges, and `attention`/`projections` non-empty subsets of the known ones."""
        super().check_config(kwargs, where)
        attention = _names(kwargs.get("attention", ("self", "cross")))
        projections = _names(kwargs.get("projections", PROJECTIONS))
        bad = [a for a in attention if a not in ATTENTION] + [p for p in projections if p not in PROJECTIONS]
        if bad or not attention or not projections:
            raise UserError(
                f"{where}: attention must be a non-empty subset of {sorted(ATTENTION)} and projections of "
                f"{list(PROJECTIONS)}; got {list(attention)}, {list(projections)}"
            )

    def __init__(
        self,
        backbone: Any,
        rank: int = 8,
        alpha: float = 16.0,
        dropout: float = 0.0,
        attention: tuple[str, ...] | list[str] = ("self", "cross"),
        projections: tuple[str, ...] | list[str] = PROJECTIONS,
        layers: Any = "all",
        text_encoder: bool = False,
        text_encoder_rank: int | None = None,
        text_encoder_alpha: float | None = None,
        text_encoder_targets: str | None = None,
    ) -> None:
        super().__init__(backbone)
        from peft import LoraConfig

        self.check_config({"rank": rank, "text_encoder_rank": text_encoder_rank, "alpha": alpha,
                           "text_encoder_alpha": text_encoder_alpha, "dropout": dropout,
                           "attention": attention, "projections": projections}, "lora")
        attention, projections = _names(attention), _names(projections)
        ids = decoder_layer_indices(len(backbone.decoder_layers), layers, "lora")
        targets = backbone.lora_targets(attention, projections, ids)
        rank_pattern, alpha_pattern = {}, {}
        if text_encoder:
            text_targets = backbone.text_encoder_lora_targets(text_encoder_targets)
            if not text_targets:
                wanted = f"matches {text_encoder_targets!r}" if text_encoder_targets else "is an attention projection"
                raise UserError(f"lora: text_encoder is set but no text-encoder module {wanted}")
            targets += text_targets
            # peft reads rank/alpha pattern keys as `(.*\.)?(key)$` over module names
            if text_encoder_rank:
                rank_pattern[exact_names(text_targets)] = int(text_encoder_rank)
            if text_encoder_alpha:
                alpha_pattern[exact_names(text_targets)] = float(text_encoder_alpha)
        self.config = LoraConfig(
            r=int(rank),
            lora_alpha=float(alpha),
            lora_dropout=float(dropout),
            target_modules=exact_names(targets),
            rank_pattern=rank_pattern,
            alpha_pattern=alpha_pattern,
            bias="none",
        )
        self.params = nn.ParameterList()  # the injected LoRA weights (shared objects), filled by attach

    def attach(self) -> None:
        if self.attached:
            return
        from peft import inject_adapter_in_model

        model = self.backbone.model
        if hasattr(model, "peft_config"):
            raise RuntimeError("the backbone already carries peft adapters; detach them first")
        try:
            inject_adapter_in_model(self.config, model, adapter_name="default")
        except ValueError as err:
            raise UserError(f"lora: {str(err).splitlines()[0]}") from None
        self.params = nn.ParameterList(p for n, p in model.named_parameters() if "lora_" in n)
        self._handles.append(_Unloader(model))
        self.train(self.training)  # new dropout modules start in training mode; follow this module's mode

    def train(self, mode: bool = True) -> LoraConditioner:
        """Also switch the injected LoRA dropout (it lives inside the backbone, which stays in eval mode)."""
        super().train(mode)
        if self.attached:
            for name, module in self.backbone.model.named_modules():
                if ".lora_dropout." in f".{name}.":
                    module.train(mode)
        return self

    def detach(self) -> None:
        super().detach()
        self.params = nn.ParameterList()

    def adapted_modules(self) -> list[str]:
        """Names of the backbone modules that carry LoRA (empty when detached)."""
        from peft.tuners.lora import LoraLayer

        return [n for n, m in self.backbone.model.named_modules() if isinstance(m, LoraLayer)]

    # --- peft's adapter format ---------------------------------------------------------------------------
    def adapter_state_dict(self) -> dict[str, Any]:
        """LoRA weights keyed as peft saves them (`base_model.model.<module>.lora_A.weight`)."""
        from peft import get_peft_model_state_dict

        self._require_attached()
        state = get_peft_model_state_dict(self.backbone.model, adapter_name="default")
        return {PEFT_PREFIX + k: v for k, v in state.items()}

    def load_adapter_state_dict(self, state: dict[str, Any]) -> None:
        from peft import set_peft_model_state_dict

        self._require_attached()
        stripped = {k.removeprefix(PEFT_PREFIX): v for k, v in state.items()}
        result = set_peft_model_state_dict(self.backbone.model, stripped, adapter_name="default")
        missing = [k for k in result.missing_keys if "lora_" in k]
        if missing:
            raise UserError(f"lora checkpoint lacks {len(missing)} adapter weights, e.g. {missing[0]}")

    def save(self, directory: str | Path) -> None:
        """Write `adapter_config.json` and `adapter_model.safetensors` (peft's format) atomically."""
        from safetensors.torch import save_file

        from toolkit.utils.atomic import atomic_dir

        with atomic_dir(Path(directory)) as tmp:
            self.config.save_pretrained(str(tmp))
            state = {k: v.detach().cpu().contiguous() for k, v in self.adapter_state_dict().items()}
            save_file(state, str(Path(tmp) / "adapter_model.safetensors"))

    def load(self, directory: str | Path) -> None:
        from safetensors.torch import load_file

        path = Path(directory) / "adapter_model.safetensors"
        if not path.is_file():
            raise UserError(f"{path}: no LoRA adapter weights here")
        self.load_adapter_state_dict(load_file(str(path)))

    def _require_attached(self) -> None:
        if not self.attached:
            raise RuntimeError("attach the LoRA conditioner before reading or loading its weights")


class _Unloader:
    """A hook-like handle whose `remove()` takes LoRA out: the original linear layers go back in place."""

    def __init__(self, model: nn.Module) -> None:
        self.model = model

    def remove(self) -> None:
        from peft.tuners.lora import LoraLayer

        for name, module in list(self.model.named_modules()):
            if isinstance(module, LoraLayer):
                parent_name, _, child = name.rpartition(".")
                setattr(self.model.get_submodule(parent_name), child, module.get_base_layer())
        if hasattr(self.model, "peft_config"):
            del self.model.peft_config
