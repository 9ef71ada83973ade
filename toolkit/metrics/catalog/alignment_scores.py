"""Cross-modal scores from joint embedding models with local weights: CLAP (text–audio), ImageBind (video–audio)."""

from __future__ import annotations

import numpy as np

from toolkit.metrics.alignment import cosine, load_alignment_model
from toolkit.metrics.context import EvalContext, Unavailable
from toolkit.metrics.embeddings import load_embedding_model
from toolkit.metrics.registry import Metric, register_metric


@register_metric("clap_score", "cosine of the prompt's and the generated music's CLAP embeddings")
class ClapScore(Metric):
    """Per clip: cosine between the CLAP text embedding of its prompt and the mean CLAP embedding of the
    generated music's windows. Clips without a prompt are left out."""

    needs = ("generated", "text", "clap")

    def conventions(self, options) -> tuple[str, ...]:
        return ("clap",)

    def compute(self, ctx: EvalContext, convention: str) -> dict[str, float]:
        model = load_embedding_model("clap", ctx.options.clap_weights)
        prompted = [(n, p) for n, p in enumerate(ctx.pairs) if ctx.notes.prompts.get(p.id)]
        if not prompted:
            raise Unavailable("no clip has a non-empty prompt")
        texts = model.embed_text([ctx.notes.prompts[p.id] for _, p in prompted])
        return {p.id: cosine(text, model.embed(ctx.audio(p.generated, model.sample_rate)).mean(axis=0))
                for (_, p), text in zip(prompted, texts, strict=True)}


@register_metric("imagebind_score", "cosine of the video's and the generated music's ImageBind embeddings")
class ImageBindScore(Metric):
    """Per clip: cosine between ImageBind's embedding of the video and of the generated music."""

    needs = ("generated", "video", "imagebind")

    def conventions(self, options) -> tuple[str, ...]:
        return ("imagebind",)

    def compute(self, ctx: EvalContext, convention: str) -> dict[str, float]:
        model = load_alignment_model("imagebind", ctx.options.imagebind_weights)
        rate = 16000
        return {p.id: cosine(model.embed_video(ctx.notes.videos[p.id]),
                             np.asarray(model.embed_audio(ctx.audio(p.generated, rate), rate)))
                for p in ctx.pairs if p.id in ctx.notes.videos}
