import torch

from toolkit.backbone.sampling import sample_codes


def _snapshot(model):
    return {name: tensor.clone() for name, tensor in model.state_dict().items()}


def test_backbone_is_frozen_and_in_eval_mode(tiny):
    assert not tiny.model.training
    assert all(not p.requires_grad for p in tiny.model.parameters())


def test_no_gradient_reaches_the_backbone(tiny):
    """A trainable signal added at a hook point trains; the backbone's parameters stay gradient-free."""
    shift = torch.nn.Parameter(torch.zeros(tiny.hidden_size))
    handle = tiny.decoder_layers[0].register_forward_pre_hook(lambda mod, args: (args[0] + shift, *args[1:]))
    try:
        codes = torch.randint(0, tiny.codebook_size, (2, tiny.num_codebooks, 10))
        loss = tiny.decoder_forward(codes, *tiny.encode_text(["piano", "drums"])).loss
        loss.backward()
    finally:
        handle.remove()
    assert shift.grad is not None and shift.grad.abs().sum() > 0
    assert all(p.grad is None for p in tiny.model.parameters())


def test_generation_leaves_weights_unchanged(tiny):
    before = _snapshot(tiny.model)
    memory, mask = tiny.encode_text(["strings"])
    sample_codes(tiny.model, memory, mask, 20, guidance=3.0, generator=torch.Generator().manual_seed(0))
    after = tiny.model.state_dict()
    assert all(torch.equal(before[name], after[name]) for name in before)
