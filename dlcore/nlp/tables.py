"""Column names of the tables the :mod:`dlcore.nlp` views return (torch-free: the UI builds empty tables).

Each list names the columns of one ``rows()`` method or view, in order.
"""

from __future__ import annotations

__all__ = ["TABLE_HEADERS", "BEAM_HEADERS", "SCORE_HEADERS", "TOKEN_HEADERS", "FILL_HEADERS", "MASK_HEADERS"]

#: :meth:`dlcore.nlp.decoding.NextTokenTable.rows` and :attr:`dlcore.nlp.decoding.StepView.rows`.
TABLE_HEADERS = ["rank", "token", "logit z", "p = softmax(z)", "p used (after T, top-k, top-p)", "chosen"]
#: :meth:`dlcore.nlp.decoding.BeamResult.rows`.
BEAM_HEADERS = ["rank", "beam (generated text)", "score", "status"]
#: :meth:`dlcore.nlp.scoring.TextScore.rows`.
SCORE_HEADERS = ["#", "token", "log P(token | before)", "surprise (bits)", "model's top guess here"]
#: :attr:`dlcore.nlp.bert_inside.InsideView.rows`.
TOKEN_HEADERS = ["#", "token", "id", "segment", "position", "‖E_token‖", "‖E_position‖", "‖E_segment‖", "‖E‖"]
#: :meth:`dlcore.nlp.fill_mask.FillResult.rows`.
FILL_HEADERS = ["rank", "word", "probability", "score"]
#: :meth:`dlcore.nlp.fill_mask.MaskingResult.rows`.
MASK_HEADERS = ["#", "token", "chosen (15 %)?", "what BERT sees", "action", "label to predict"]
