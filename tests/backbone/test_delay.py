import torch

from toolkit.backbone.delay import delay_codes, delayed_labels, undelay_codes


def test_delay_then_undelay_is_exact():
    codes = torch.randint(0, 50, (3, 4, 17))
    delayed = delay_codes(codes, pad_id=50)
    assert delayed.shape == (3, 4, 20)
    assert torch.equal(undelay_codes(delayed), codes)


def test_known_answer_two_codebooks():
    codes = torch.tensor([[[1, 2, 3], [4, 5, 6]]])
    assert delay_codes(codes, pad_id=9).tolist() == [[[1, 2, 3, 9], [9, 4, 5, 6]]]
    assert delayed_labels(codes, pad_id=9).shape == (1, 4, 2)


def test_matches_transformers_delay_pattern(tiny):
    """transformers' pattern is [start column] + our delayed codes, padded to its max length."""
    decoder = tiny.model.decoder
    k, pad = tiny.num_codebooks, tiny.pad_id
    codes = torch.randint(0, tiny.codebook_size, (2, k, 6))
    with_start = torch.cat([torch.full((2, k, 1), pad), codes], dim=-1)
    _, pattern = decoder.build_delay_pattern_mask(with_start.reshape(2 * k, -1), pad, max_length=7 + k - 1)
    ours = torch.cat([torch.full((2, k, 1), pad), delay_codes(codes, pad)], dim=-1)
    assert torch.equal(pattern.reshape(2, k, -1), ours)
