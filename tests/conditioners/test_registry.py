"""Conditioners by name: unknown names and bad kwargs are user errors; a new one is one class."""

from __future__ import annotations

import pytest
import torch

from toolkit.conditioners import (
    Conditioner,
    available_conditioners,
    build_conditioner,
    register_conditioner,
)
from toolkit.conditioners.hooks import add_in_attention
from toolkit.conditioners.registry import CONDITIONERS
from toolkit.errors import UserError
from toolkit.model.attach import attach

from .conftest import FPS, logits


@pytest.fixture
def scratch_conditioners():
    """What a test registers is gone after it, so later tests never see it."""
    with CONDITIONERS.scoped():
        yield


def test_builtins_are_registered():
    assert {"semantic", "rhythm", "lora"} <= set(available_conditioners())


def test_unknown_name_suggests_the_closest(backbone):
    with pytest.raises(UserError, match="did you mean 'rhythm'"):
        build_conditioner("rythm", backbone)


def test_bad_kwargs_and_bad_values_name_the_conditioner(backbone):
    with pytest.raises(UserError, match=r"conditioners\.rhythm: .*blocksize"):
        build_conditioner("rhythm", backbone, blocksize=4)
    with pytest.raises(UserError, match="coverage"):
        build_conditioner("rhythm", backbone, coverage=1.5)
    with pytest.raises(UserError, match="route"):
        build_conditioner("semantic", backbone, route="concat")
    with pytest.raises(UserError, match="out of range"):
        build_conditioner("lora", backbone, layers=[0, 9])
    with pytest.raises(UserError, match="attention"):
        build_conditioner("lora", backbone, attention=["encoder"])
    with pytest.raises(UserError, match=r"conditioners\[0\].*name"):
        attach(backbone, [{"block_size": 2}])


def test_failed_attach_leaves_nothing_attached(backbone, batch):
    reference = logits(backbone, batch)
    with pytest.raises(UserError):
        attach(backbone, [{"name": "rhythm"}, {"name": "lora"}, {"name": "nope"}], fps=FPS)
    assert not any(type(m).__module__.startswith("peft") for m in backbone.model.modules())
    assert all(not layer._forward_pre_hooks for layer in backbone.decoder_layers)
    assert torch.equal(logits(backbone, batch), reference)


def test_a_new_conditioner_is_one_registered_class(backbone, batch, scratch_conditioners):
    @register_conditioner("test_constant_bias")
    class ConstantBias(Conditioner):
        """Adds a learned constant to the hidden state entering layer 0 (zero at init)."""

        inputs = ("interframe.distance",)
        hook = "in_attention"

        def __init__(self, backbone, fps: float = 8.0):
            super().__init__(backbone)
            self.bias = torch.nn.Parameter(torch.zeros(backbone.hidden_size))
            self.rows = None

        def attach(self):
            layer = self.backbone.decoder_layers[0]
            self._handles.append(
                add_in_attention(layer, lambda offset, n: self.bias.expand(self.rows, n, -1))
            )

        def prepare(self, features):
            self.rows = features["interframe.distance"].shape[0]

    reference = logits(backbone, batch)
    attached = attach(backbone, [{"name": "test_constant_bias"}], fps=FPS)
    assert attached.conditioners["test_constant_bias"].hook == "in_attention"
    assert attached.feature_keys == ["interframe.distance"]
    with torch.no_grad():
        assert torch.equal(logits(backbone, batch, attached), reference)
        attached.conditioners["test_constant_bias"].bias.fill_(0.5)
        assert not torch.allclose(logits(backbone, batch, attached), reference)
    with pytest.raises(ValueError, match="already registered"):
        register_conditioner("rhythm")(ConstantBias)
    with pytest.raises(ValueError, match="hook"):

        @register_conditioner("test_no_hook")
        class NoHook(Conditioner):
            pass
