"""The micro backbone's spectral codec, on synthetic signals with known pitch and onsets."""

import numpy as np
import pytest
import torch

from toolkit.backbone.spectral import SpectralCodec, residual_kmeans
from toolkit.errors import UserError
from toolkit.micro.card import chroma_similarity, onset_f1

SR = 16000


def _sine(freq: float, seconds: float = 2.0, phase: float = 0.0) -> np.ndarray:
    t = np.arange(round(seconds * SR)) / SR
    return 0.3 * np.sin(2 * np.pi * freq * t + phase)


def _chirp(f0: float, f1: float, seconds: float = 2.0) -> np.ndarray:
    """A sweep from f0 to f1 Hz: every 20 ms frame differs from the others."""
    t = np.arange(round(seconds * SR)) / SR
    return 0.3 * np.sin(2 * np.pi * (f0 * t + (f1 - f0) * t**2 / (2 * seconds)))


def _clicks(every_s: float, seconds: float = 2.0, offset_s: float = 0.1) -> np.ndarray:
    wave = np.zeros(round(seconds * SR))
    rng = np.random.default_rng(0)
    for start in np.arange(offset_s, seconds - 0.05, every_s):
        i = round(start * SR)
        wave[i : i + 400] += rng.standard_normal(400) * np.exp(-np.arange(400) / 80)  # 25 ms noise burst
    return 0.5 * wave


def _training_waves() -> torch.Tensor:
    train = [_sine(f, phase=0.3 * i) for i, f in enumerate((220, 277, 330, 392, 440, 523, 660, 880))]
    train += [_clicks(e, offset_s=o) for e, o in ((0.25, 0.05), (0.3, 0.12), (0.5, 0.2), (0.2, 0.0))]
    train += [_sine(440, phase=1.0) + _clicks(0.4, offset_s=0.07)]
    # Sweeps and noise so that the fit sees over 4x as many distinct frames as its 256 codewords: with only
    # stationary tones the first stage covers every point and the later stages learn residuals of zero.
    train += [_chirp(f0, f0 * r) for f0 in (110, 180, 300, 500, 800) for r in (2.5, 0.4)]
    noise = np.random.default_rng(1).standard_normal((12, 2 * SR)) * np.linspace(0.02, 0.4, 12)[:, None]
    train += list(noise) + [c + s for c, s in zip(train[8:12], train[:4], strict=True)]
    return torch.from_numpy(np.stack(train).astype(np.float32))


def _distinct_frames(codec: SpectralCodec, waves: torch.Tensor) -> int:
    """Frames the fit sees (every 2nd) that differ by more than rounding: latents to 2 decimals."""
    latents = codec.encode_latents(waves).transpose(1, 2).reshape(-1, codec.latent_dim)[::2]
    return len(torch.unique(torch.round(latents, decimals=2), dim=0))


@pytest.fixture(scope="module")
def codec():
    return SpectralCodec(griffin_lim_iters=16).fit(_training_waves())


def _through_codes(codec, wave: np.ndarray) -> np.ndarray:
    x = torch.from_numpy(wave.astype(np.float32))[None]
    return codec.decode_codes(codec.encode_codes(x))[0, : len(wave)].numpy()


def test_a_sines_pitch_survives_the_codes(codec):
    for freq, other in ((440, 330), (330, 440)):
        wave = _sine(freq, phase=2.0)  # a new clip: another phase than in training
        out = _through_codes(codec, wave)
        spectrum = np.abs(np.fft.rfft(out))
        assert abs(np.argmax(spectrum) * SR / len(out) - freq) < 5
        assert chroma_similarity(wave, out, SR) > 0.9
        assert chroma_similarity(_sine(other), out, SR) < 0.6  # the measure tells these pitches apart


def test_a_click_trains_onsets_survive_the_codes(codec):
    wave = _clicks(0.25, offset_s=0.13)
    out = _through_codes(codec, wave)
    assert onset_f1(wave, out, SR) > 0.8
    assert onset_f1(wave, _through_codes(codec, _clicks(0.3, offset_s=0.02)), SR) < 0.5  # other onsets


def test_shapes_follow_the_hop(codec):
    for n in (16000, 16001, 3200, 100):
        codes = codec.encode_codes(torch.randn(2, n) * 0.1)
        frames = -(-n // 320)
        assert codes.shape == (2, 4, frames) and codes.dtype == torch.long
        assert 0 <= codes.min() and codes.max() < 256
        assert codec.decode_codes(codes).shape == (2, frames * 320)
        assert codec.encode_latents(torch.zeros(n)).shape == (1, 64, frames)
    assert codec.frame_rate == 50 and codec.latent_dim == 64 and codec.hop_length == 320


def test_codes_are_quantised_latents_and_decoding_is_deterministic(codec):
    wave = torch.from_numpy(np.stack([_sine(330), _clicks(0.5)]).astype(np.float32))
    latents = codec.encode_latents(wave)
    codes = codec.quantize_latents(latents)
    assert torch.equal(codes, codec.encode_codes(wave))
    assert torch.equal(codec.decode_codes(codes), codec.decode_codes(codes))
    # a clip decodes the same alone as in a batch (one shared start phase)
    assert torch.allclose(codec.decode_codes(codes[1:]), codec.decode_codes(codes)[1:], atol=1e-5)
    # more residual stages bring unseen audio's quantised latents closer
    noise = codec.encode_latents(torch.randn(2, 16000, generator=torch.Generator().manual_seed(0)) * 0.2)
    codes = codec.quantize_latents(noise)
    errors = [(noise - codec.dequantize_codes(codes[:, :k])).norm() for k in (1, 2, 4)]
    assert errors[0] > errors[2] and errors[1] >= errors[2]
    assert not torch.equal(codec.encode_codes(wave.flip(0)), codec.encode_codes(wave))


def test_save_load_round_trip_is_identical(codec, tmp_path):
    codec.save(tmp_path)
    again = SpectralCodec.load(tmp_path)
    assert again.config() == codec.config() and SpectralCodec.saved_in(tmp_path)
    wave = torch.from_numpy(_sine(523)[None].astype(np.float32))
    codes = codec.encode_codes(wave)
    assert torch.equal(again.encode_codes(wave), codes)
    assert torch.equal(again.decode_codes(codes), codec.decode_codes(codes))
    (tmp_path / "spectral_codec.json").write_text("{not json")
    with pytest.raises(UserError, match="spectral_codec.json"):
        SpectralCodec.load(tmp_path)


def test_the_fixture_has_enough_distinct_frames(codec):
    assert _distinct_frames(codec, _training_waves()) >= 4 * codec.codebook_size


def test_a_codebook_larger_than_its_data_warns():
    points = torch.randn(40, 8).repeat(10, 1)  # 40 distinct points, 400 rows, 64 codewords
    with pytest.warns(UserWarning, match="residuals of about zero"):
        books = residual_kmeans(points, num_codebooks=3, size=64, rng=np.random.default_rng(0))
    assert books.shape == (3, 64, 8)


def test_too_little_audio_to_fit_is_a_user_error():
    with pytest.raises(UserError, match="too few"):
        SpectralCodec().fit(torch.zeros(1, 16000))


def test_residual_kmeans_shrinks_the_error_stage_by_stage():
    gen = torch.Generator().manual_seed(0)
    centres = torch.randn(8, 16, generator=gen) * 3
    points = centres[torch.randint(0, 8, (600,), generator=gen)] + 0.1 * torch.randn(600, 16, generator=gen)
    books = residual_kmeans(points, 2, 32, np.random.default_rng(0))
    assert books.shape == (2, 32, 16)
    first = books[0][torch.cdist(points, books[0]).argmin(1)]
    residual = points - first
    second = books[1][torch.cdist(residual, books[1]).argmin(1)]
    errors = [residual.norm() / points.norm(), (residual - second).norm() / points.norm()]
    assert errors[1] < errors[0] < 0.1  # 8 clusters fit by 32 codewords; the second stage refines the rest


def test_backbone_with_a_spectral_codec(tiny_dir, tmp_path, codec):
    import shutil

    from toolkit.backbone import load_backbone

    folder = tmp_path / "with-codec"
    shutil.copytree(tiny_dir, folder)
    codec.save(folder)
    backbone = load_backbone(str(folder))
    assert backbone.codec is not backbone.model.audio_encoder and backbone.codec.config() == codec.config()
    assert backbone.frame_rate == 50 and backbone.sample_rate == SR and backbone.latent_dim == 64
    assert backbone.num_frames(0.5) == 25
    codes = backbone.encode_audio(torch.randn(2, 8000) * 0.1)
    assert codes.shape == (2, backbone.num_codebooks, 25)  # the tiny decoder reads 2 of the codec's 4
    assert backbone.decode_codes(codec.encode_codes(torch.randn(1, 8000))).shape == (1, 8000)
    assert load_backbone(str(tiny_dir)).frame_rate == 100  # without the files: the model's own EnCodec
