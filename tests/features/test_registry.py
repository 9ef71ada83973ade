"""The extractor registry: names resolve to classes, typos and bad kwargs become one-line UserErrors."""

from __future__ import annotations

import pytest

from toolkit.errors import UserError
from toolkit.features.pipeline import build_extractors
from toolkit.features.registry import (
    EXTRACTORS,
    Extractor,
    available_extractors,
    get_extractor,
    register_extractor,
)


def test_builtins_are_registered_with_their_kind():
    assert {"clip", "interframe", "rhythm", "colour", "shots"} <= set(available_extractors())
    kinds = {name: get_extractor(name).kind for name in ["clip", "interframe", "rhythm", "colour", "shots"]}
    assert kinds == {
        "clip": "video",
        "interframe": "video",
        "rhythm": "audio",
        "colour": "video",
        "shots": "video",
    }


def test_misspelt_name_suggests_the_right_one():
    with pytest.raises(UserError, match=r"unknown feature extractor 'colur' — did you mean 'colour'\?"):
        get_extractor("colur")


def test_unknown_kwarg_names_the_extractor():
    with pytest.raises(UserError, match="features.extractors.colour.binz: the colour extractor has no option 'binz'"):
        get_extractor("colour", binz=4)
    with pytest.raises(UserError, match=r"features.extractors.colour.bins: must be in \[1, 32\], got 0"):
        get_extractor("colour", bins=0)


@pytest.fixture
def scratch_extractors():
    """What a test registers is gone afterwards, so later tests never see it."""
    with EXTRACTORS.scoped():
        yield


def test_a_new_extractor_is_one_decorated_class(scratch_extractors):
    @register_extractor("test-mean-brightness")
    class MeanBrightness(Extractor):
        kind = "video"

        def __init__(self, scale: float = 1.0):
            self.scale = scale

        def config(self) -> dict:
            return {"scale": self.scale}

        def __call__(self, frames, **_):
            return {"brightness": frames.array.mean(axis=(1, 2, 3)) * self.scale}

    ext = get_extractor("test-mean-brightness", scale=2.0)
    assert ext.name == "test-mean-brightness" and ext.config() == {"scale": 2.0}
    with pytest.raises(ValueError, match="already registered"):
        register_extractor("test-mean-brightness")(type("Other", (Extractor,), {"kind": "video"}))
    with pytest.raises(ValueError, match="kind"):
        register_extractor("test-no-kind")(type("NoKind", (Extractor,), {}))


def test_build_extractors_by_type_and_shared_requirements():
    built = build_extractors(
        {
            "clip": {"model": "tiny-random", "seed": 3},
            "interframe": {},
            "coarse_colour": {"type": "colour", "bins": 2},
        }
    )
    assert built["coarse_colour"].name == "colour" and built["coarse_colour"].config()["bins"] == 2
    # interframe reads the clip entry's model, so one cached clip computation serves both.
    assert built["interframe"].upstream()["clip"].config() == built["clip"].config()
