"""Generative heads: how the (conditioned) frozen decoder's states become music. `tokens` samples codec tokens
one step at a time with the decoder's own LM heads; `plan_refine` plans patches and denoises their latents."""
