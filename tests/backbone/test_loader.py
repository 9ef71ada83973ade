import pytest
import torch

from tests.tiny_backbone import build_tiny
from toolkit.backbone.loader import load_backbone, resolve_source
from toolkit.errors import UserError


def test_save_load_round_trip_gives_identical_logits(tmp_path):
    from transformers import AutoTokenizer, MusicgenForConditionalGeneration

    path = build_tiny(tmp_path / "m", seed=3)
    saved = MusicgenForConditionalGeneration.from_pretrained(path).eval()
    backbone = load_backbone(str(path))
    tokens = AutoTokenizer.from_pretrained(path)(["a warm piano ballad at 72 bpm"], return_tensors="pt")
    codes = torch.randint(0, backbone.codebook_size, (1 * backbone.num_codebooks, 9))
    with torch.no_grad():
        expected = saved(**tokens, decoder_input_ids=codes).logits
        got = backbone.model(**tokens, decoder_input_ids=codes).logits
    assert torch.equal(expected, got)
    # a different seed is a different model: the comparison above is not vacuous
    other = load_backbone(str(build_tiny(tmp_path / "other", seed=4)))
    with torch.no_grad():
        assert not torch.equal(other.model(**tokens, decoder_input_ids=codes).logits, got)


def test_hub_ids_and_presets_take_the_from_pretrained_path():
    assert resolve_source("musicgen-small") == "facebook/musicgen-small"
    assert resolve_source("facebook/musicgen-medium") == "facebook/musicgen-medium"


def test_unreachable_hub_id_is_a_user_error():
    # tests run offline: the hub path must fail with one clear line, not a traceback
    with pytest.raises(UserError, match="facebook/musicgen-small"):
        load_backbone("musicgen-small")


@pytest.mark.parametrize("name", ["./missing-model", "no_slash_name", "a/b/c"])
def test_bad_names_are_user_errors(name):
    with pytest.raises(UserError, match="no such directory"):
        resolve_source(name)


def test_directory_without_config_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="config.json"):
        resolve_source(str(tmp_path))
