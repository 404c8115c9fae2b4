"""A tiny randomly initialised BERT and a WordPiece tokenizer built in code (no files, no network)."""

from __future__ import annotations

import torch

SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
WORDS = ("the a cat dog sat on mat ran to home big small red is was it he she they good bad "
         "movie film loved hated great awful happy sad . , ! ? ##s ##ed ##ing play walk").split()


def tiny_wordpiece():
    from transformers import BertTokenizer

    vocab = {t: i for i, t in enumerate(SPECIALS + WORDS)}
    return BertTokenizer(vocab=vocab)


def tiny_bert(seed: int = 0, *, mlm: bool = False, layers: int = 2, heads: int = 4):
    """(model, tokenizer): BertModel (or BertForMaskedLM) with hidden size 32, eager attention."""
    from transformers import BertConfig, BertForMaskedLM, BertModel

    tok = tiny_wordpiece()
    cfg = BertConfig(vocab_size=len(tok), hidden_size=32, num_hidden_layers=layers, num_attention_heads=heads,
                     intermediate_size=64, max_position_embeddings=64, type_vocab_size=2,
                     attn_implementation="eager")
    torch.manual_seed(seed)
    model = (BertForMaskedLM if mlm else BertModel)(cfg).eval()
    return model, tok
