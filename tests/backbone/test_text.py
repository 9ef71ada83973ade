import torch


def test_empty_prompt_is_the_null(tiny):
    memory, mask = tiny.encode_text(["", "bright electronic drums"])
    assert mask[0].sum() == 0 and torch.count_nonzero(memory[0]) == 0
    assert mask[1].sum() > 0 and torch.count_nonzero(memory[1]) > 0
    null_memory, null_mask = tiny.null_text(2)
    assert null_memory.shape == (2, 1, tiny.memory_size) and null_mask.sum() == 0


def test_padding_does_not_change_a_prompt(tiny):
    alone, mask_alone = tiny.encode_text(["calm piano"])
    batch, mask = tiny.encode_text(["calm piano", "a much longer prompt about strings in d minor at 90 bpm"])
    n = mask_alone.shape[1]
    assert torch.equal(mask[0, :n], mask_alone[0]) and mask[0, n:].sum() == 0
    assert torch.allclose(batch[0, :n], alone[0], atol=1e-5)
    assert torch.count_nonzero(batch[0, n:]) == 0


def test_text_changes_the_logits(tiny):
    codes = torch.randint(0, tiny.codebook_size, (1, tiny.num_codebooks, 8))
    a = tiny.decoder_forward(codes, *tiny.encode_text(["calm piano"])).logits
    b = tiny.decoder_forward(codes, *tiny.encode_text(["loud drums"])).logits
    assert not torch.allclose(a, b)
