import torch

from toolkit.backbone.sampling import sample_codes


def _sample(tiny, seed, **kwargs):
    memory, mask = tiny.encode_text(["calm piano", "fast drums"])
    return sample_codes(tiny.model, memory, mask, 25, generator=torch.Generator().manual_seed(seed), **kwargs)


def test_seeded_sampling_is_reproducible(tiny):
    assert torch.equal(_sample(tiny, 7, guidance=3.0), _sample(tiny, 7, guidance=3.0))
    assert not torch.equal(_sample(tiny, 7, guidance=3.0), _sample(tiny, 8, guidance=3.0))


def test_greedy_sampling_matches_teacher_forced_argmax(tiny):
    """The cached step-by-step loop and one teacher-forced pass agree, delay pattern included."""
    memory, mask = tiny.encode_text(["calm piano"])
    codes = sample_codes(tiny.model, memory, mask, 12, guidance=1.0, temperature=0)
    logits = tiny.decoder_forward(codes, memory, mask).logits
    predicted = tiny.undelay(logits.reshape(1, tiny.num_codebooks, -1, logits.shape[-1]).argmax(-1))
    assert torch.equal(predicted, codes)


def test_guidance_mixes_conditional_and_null_logits(tiny):
    """First step, codebook 0: the guided argmax is argmax(uncond + g * (cond - uncond))."""
    memory, mask = tiny.encode_text(["calm piano"])
    start = torch.full((tiny.num_codebooks, 1), tiny.pad_id)

    def first_logits(mem, msk):
        out = tiny.model.decoder(input_ids=start, encoder_hidden_states=mem, encoder_attention_mask=msk)
        return out.logits[0, -1]

    cond, uncond = first_logits(memory, mask), first_logits(*tiny.null_text(1))
    for g in (1.0, 3.0, 20.0):
        codes = sample_codes(tiny.model, memory, mask, 1, guidance=g, temperature=0)
        assert codes[0, 0, 0] == (uncond + g * (cond - uncond)).argmax()


def test_continuation_keeps_the_prompt(tiny):
    first = _sample(tiny, 1, guidance=3.0)
    memory, mask = tiny.encode_text(["calm piano", "fast drums"])
    cont = sample_codes(
        tiny.model,
        memory,
        mask,
        40,
        prompt_codes=first[:, :, -10:],
        guidance=3.0,
        generator=torch.Generator().manual_seed(2),
    )
    assert cont.shape == (2, tiny.num_codebooks, 40)
    assert torch.equal(cont[:, :, :10], first[:, :, -10:])
