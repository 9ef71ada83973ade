"""Features a conditioner reads, computed per clip and cached by content: CLIP global/local, inter-frame
distance, rhythm (ODF, tempogram, mel, beats), colour histograms, shots. One file per extractor."""

from toolkit.features.pipeline import ExtractedFeatures, build_extractors, extract_features, specs_from_config
from toolkit.features.registry import Extractor, available_extractors, get_extractor, register_extractor

__all__ = [
    "ExtractedFeatures",
    "Extractor",
    "available_extractors",
    "build_extractors",
    "extract_features",
    "get_extractor",
    "register_extractor",
    "specs_from_config",
]
