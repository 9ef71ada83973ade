"""A conditioner attaches to the diffusion head's blocks as others attach to the decoder: at the `diffusion`
hook point it receives each block's hidden state, the diffusion time as a value and the block's context; a
zero-initialised hook changes nothing; trained, it changes the samples; detached, it is gone."""

from __future__ import annotations

import pytest
import torch

from toolkit.conditioners.base import Conditioner
from toolkit.conditioners.hooks.film import timestep_embedding
from toolkit.conditioners.init import zero_linear
from toolkit.conditioners.registry import CONDITIONERS
from toolkit.errors import UserError
from toolkit.model.attach import attach

from .helpers import perturb, random_batch


class TimeShift(Conditioner):
    """Adds a learned function of the diffusion time to every block's hidden state (zero at init)."""

    hook = "diffusion"

    def __init__(self, backbone, width: int = 32) -> None:
        super().__init__(backbone)
        self.width = width
        self.shift = zero_linear(width, width)
        self.seen: list[tuple[int, torch.Tensor]] = []

    def attach(self) -> None:
        self._handles.append(self.head.add_block_hook(self._hook))

    def _hook(self, index: int, hidden: torch.Tensor, t: torch.Tensor, context) -> torch.Tensor:
        self.seen.append((index, t.detach().clone()))
        return hidden + self.shift(timestep_embedding(t * 1000.0, self.width).to(hidden.dtype))[:, None]


@pytest.fixture
def time_shift():
    with CONDITIONERS.scoped():
        CONDITIONERS.register("test_time_shift")(TimeShift)
        yield


def _sample(attached, backbone, seed: int = 0):
    _, _, memory, mask = random_batch(backbone)
    sampled = attached.head.sample(attached, memory, mask, 8, guidance=None, prompt=None, progress=False,
                                   generator=torch.Generator().manual_seed(seed))
    return sampled["latents"]


def test_a_diffusion_hook_sees_t_as_a_value_and_is_exact_at_init(backbone, time_shift):
    head = {"name": "plan_refine", "patch_size": 4, "plan_dim": 16, "dit_width": 32, "rite_heads": 2,
            "euler_steps": 5}
    torch.manual_seed(0)
    bare = attach(backbone, [], head=head)
    perturb(bare)
    reference = _sample(bare, backbone)
    state = bare.adapter_state_dict()
    bare.detach()

    torch.manual_seed(0)
    hooked = attach(backbone, [{"name": "test_time_shift"}], head=head)
    hooked.load_adapter_state_dict({**state, **{f"test_time_shift.{k}": v for k, v in
                                                hooked.conditioners["test_time_shift"].state_dict().items()}})
    assert torch.equal(_sample(hooked, backbone), reference)  # zero-initialised: bit-identical samples
    shift = hooked.conditioners["test_time_shift"]
    blocks = len(hooked.head.dit.blocks)
    assert {i for i, _ in shift.seen} == set(range(blocks))
    times = sorted({round(float(t[0]), 6) for _, t in shift.seen})
    assert times == [round(i / 5, 6) for i in range(5)]  # the Euler solver's times, not step indices

    with torch.no_grad():
        shift.shift.weight.normal_()
    assert not torch.equal(_sample(hooked, backbone), reference)
    hooked.detach()
    assert hooked.head.block_hooks == []


def test_a_diffusion_conditioner_on_the_token_head_is_a_clear_error(backbone, time_shift):
    with pytest.raises(UserError, match="no diffusion blocks"):
        attach(backbone, [{"name": "test_time_shift"}])
