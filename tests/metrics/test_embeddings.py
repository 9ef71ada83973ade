"""Embedding models: the offline default works; weighted ones load local weights or fail clearly."""

from __future__ import annotations

import numpy as np
import pytest

from toolkit.errors import UserError
from toolkit.metrics.embeddings import EMBEDDING_NAMES, load_embedding_model


def test_mel_stats_is_the_offline_default_and_is_named_honestly():
    model = load_embedding_model("mel-stats")
    assert model.name == "mel-stats" and model.sample_rate == 16000
    x = np.random.default_rng(0).normal(0, 0.1, 16000 * 2).astype(np.float32)
    assert np.array_equal(model.embed(x), model.embed(x.copy()))  # deterministic
    assert model.embed(x[:4000]).shape == (1, 128)  # a clip shorter than a window still embeds


@pytest.mark.parametrize("name", ["vggish", "panns-cnn14", "clap"])
def test_weighted_models_need_local_weights(name, tmp_path):
    assert name in EMBEDDING_NAMES
    with pytest.raises(UserError, match="needs local weights"):
        load_embedding_model(name)
    with pytest.raises(UserError, match="not found"):
        load_embedding_model(name, tmp_path / "missing.pt")


def test_unknown_embedding_is_a_user_error():
    with pytest.raises(UserError, match="unknown embedding model 'openl3'"):
        load_embedding_model("openl3")


def _tiny_clap(folder, tokenizer: bool = False):
    """A tiny randomly initialised CLAP saved with save_pretrained (stands in for real weights), optionally with
    a word-level tokenizer for its text side."""
    from transformers import ClapAudioConfig, ClapConfig, ClapFeatureExtractor, ClapModel, ClapTextConfig

    audio_cfg = ClapAudioConfig(
        depths=[1, 1],
        num_attention_heads=[1, 1],
        patch_embeds_hidden_size=16,
        hidden_size=32,
        projection_dim=8,
        spec_size=64,
        num_mel_bins=16,
        window_size=4,
        enable_fusion=False,
    )
    text_cfg = ClapTextConfig(
        vocab_size=50,
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=1,
        intermediate_size=16,
        projection_dim=8,
    )
    ClapModel(
        ClapConfig(text_config=text_cfg.to_dict(), audio_config=audio_cfg.to_dict(), projection_dim=8)
    ).save_pretrained(folder)
    # "rand_trunc" is what unfused checkpoints ship; our chunks never exceed max_length_s, so it never crops.
    extractor = ClapFeatureExtractor(feature_size=16, sampling_rate=48000, max_length_s=1, truncation="rand_trunc")
    extractor.save_pretrained(folder)
    if tokenizer:
        from tokenizers import Tokenizer, models, pre_tokenizers
        from transformers import PreTrainedTokenizerFast

        words = ["[PAD]", "[UNK]", "calm", "piano", "fast", "drums", "loud", "synth"]
        tok = Tokenizer(models.WordLevel({w: i for i, w in enumerate(words)}, unk_token="[UNK]"))
        tok.pre_tokenizer = pre_tokenizers.Whitespace()
        PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="[PAD]", unk_token="[UNK]").save_pretrained(folder)
    return folder


def test_clap_loads_a_local_transformers_checkpoint(tmp_path):
    model = load_embedding_model("clap", _tiny_clap(tmp_path))
    x = np.random.default_rng(0).normal(0, 0.1, int(48000 * 2.5)).astype(np.float32)
    emb = model.embed(x)
    assert emb.shape == (3, 8) and np.isfinite(emb).all()  # one row per 1 s chunk
    assert np.linalg.norm(emb, axis=1) == pytest.approx(np.ones(3), rel=1e-4)  # CLAP embeddings are unit length
    assert np.array_equal(emb, model.embed(x.copy()))  # no random cropping


def test_the_clap_score_is_the_cosine_of_prompt_and_music_embeddings(tmp_path):
    """The suite's `clap_score[clap]` from a local checkpoint: one cosine per prompted clip, equal to the one
    computed by hand from the model's text and audio embeddings."""
    import soundfile as sf

    from toolkit.metrics.alignment import cosine
    from toolkit.metrics.annotations import Annotations
    from toolkit.metrics.options import SuiteOptions
    from toolkit.metrics.suite import Pair, evaluate_pairs

    weights = _tiny_clap(tmp_path / "clap", tokenizer=True)
    rng = np.random.default_rng(0)
    pairs, prompts = [], {"a": "calm piano", "b": "fast loud drums", "c": ""}
    for clip in prompts:
        sf.write(tmp_path / f"{clip}.wav", rng.normal(0, 0.1, 22050).astype(np.float32), 22050)
        pairs.append(Pair(clip, tmp_path / f"{clip}.wav", tmp_path / f"{clip}.wav"))
    options = SuiteOptions(clap_weights=str(weights), bootstrap_resamples=20)
    result = evaluate_pairs(pairs, options, Annotations(prompts=prompts), report=lambda m: None, only=["clap_score"])
    scores = result["per_clip"]["clap_score[clap]"]
    assert set(scores) == {"a", "b"}  # the clip without a prompt is left out
    model = load_embedding_model("clap", weights)
    from toolkit.data.audio import read_audio

    text = model.embed_text(["calm piano"])[0]
    audio = model.embed(read_audio(tmp_path / "a.wav", model.sample_rate)).mean(axis=0)
    assert scores["a"] == pytest.approx(cosine(text, audio), abs=1e-6) and -1 <= scores["b"] <= 1
    skipped = evaluate_pairs(pairs, SuiteOptions(), Annotations(prompts=prompts), report=lambda m: None,
                             only=["clap_score"])
    assert skipped["skipped"] == {"clap_score[clap]": "needs local CLAP weights (evaluation.clap_weights, "
                                                      "--clap-weights)"}


def test_clap_rejects_a_folder_without_a_checkpoint(tmp_path):
    with pytest.raises(UserError, match="not a CLAP checkpoint"):
        load_embedding_model("clap", tmp_path)


@pytest.mark.parametrize("name,package", [("vggish", "torchvggish"), ("panns-cnn14", "panns_inference")])
def test_weighted_models_without_their_package_say_so(name, package, tmp_path):
    import importlib.util

    if importlib.util.find_spec(package) is not None:
        pytest.skip(f"{package} is installed here")
    weights = tmp_path / "weights.pth"
    weights.write_bytes(b"not used")
    with pytest.raises(UserError, match=f"optional package '{package}'"):
        load_embedding_model(name, weights)
