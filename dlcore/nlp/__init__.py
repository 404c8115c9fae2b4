"""Language models for the BERT and GPT tabs: loaders, decoding, scoring, encoder views.

Submodules are imported on demand (``from dlcore.nlp.causal import get_causal_lm``) so that
importing this package loads neither transformers nor any weights.
"""
