"""A tiny random MusicGen (2 codebooks, 4 layers, 100 Hz codes), fresh per test."""

from __future__ import annotations

import copy

import pytest


@pytest.fixture(scope="session")
def tiny_model():
    from transformers import AutoTokenizer, BertConfig

    from toolkit.backbone.micro import assemble, codec_config, decoder_config, minilm_dir

    tokenizer = AutoTokenizer.from_pretrained(minilm_dir())
    text = BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=24, num_hidden_layers=1, num_attention_heads=2,
                      intermediate_size=48, max_position_embeddings=128)
    model = assemble(
        text,
        codec_config(8000, (4, 4, 5), filters=4, latent=16, codebook_size=32, num_codebooks=2),
        decoder_config(32, 2, width=32, layers=4, heads=2, ffn=64, max_positions=128),
        seed=0,
    )
    return model, tokenizer


@pytest.fixture
def backbone(tiny_model):
    """A fresh frozen backbone per test (adapters from one test never leak into the next)."""
    from toolkit.backbone.frozen import Backbone

    return Backbone(copy.deepcopy(tiny_model[0]), tiny_model[1], source="tiny")


@pytest.fixture(autouse=True)
def one_thread():
    """One torch thread: the machine is shared, and oversubscribed threads make tiny models crawl."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
