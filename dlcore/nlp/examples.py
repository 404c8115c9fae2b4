"""Worked examples of the BERT tab, as data (torch-free: the UI builds its example lists from them).

* :data:`EXAMPLE_SETS`: labelled sentences for fine-tuning vs in-context learning;
* :data:`INSIDE_EXAMPLES`: sentence pairs for the look inside BERT (the first is the BERT paper's
  input figure, Devlin et al. 2019, Fig. 2: ``[CLS] my dog is cute [SEP] he likes playing [SEP]``);
* :data:`FILL_EXAMPLES`: sentences with one ``[MASK]``, with the model each is meant for; those that
  need a hub BERT are flagged (``needs_hub``) so the UI can label them.
"""

from __future__ import annotations

from dataclasses import dataclass

from dlcore.nlp.registry import OFFLINE_FILL

__all__ = ["EXAMPLE_SETS", "InsideExample", "INSIDE_EXAMPLES", "FillExample", "FILL_EXAMPLES"]

#: Labelled sentences to compare the two ways on: name -> (training examples, test sentences), one
#: ``label: sentence`` per line (written for this lab; the sentiment task is the notes' §8.6.1 example).
EXAMPLE_SETS: dict[str, tuple[str, str]] = {
    "sentiment": ("positive: I loved this movie, it was wonderful.\n"
                  "negative: The film was boring and far too long.\n"
                  "positive: What a great story and brilliant acting.\n"
                  "negative: I hated every minute of it.\n"
                  "positive: A delightful, funny and warm film.\n"
                  "negative: The plot made no sense and the actors were awful.\n",
                  "positive: An excellent film that I would watch again.\n"
                  "negative: A dull, terrible waste of time.\n"
                  "positive: The music was beautiful and the ending made me smile.\n"
                  "negative: Badly written and badly acted.\n"),
    "topic": ("sport: The team won the match in the last minute.\n"
              "food: She baked a chocolate cake for dessert.\n"
              "sport: He runs ten kilometres every morning before work.\n"
              "food: The soup needs more salt and pepper.\n",
              "sport: The goalkeeper saved a penalty.\n"
              "food: We had pasta with tomato sauce for dinner.\n"),
}


@dataclass(frozen=True)
class InsideExample:
    label: str
    text_a: str
    text_b: str
    layer: int
    head: int
    token: int


INSIDE_EXAMPLES: tuple[InsideExample, ...] = (
    InsideExample("BERT paper, Fig. 2: my dog is cute / he likes playing", "my dog is cute",
                  "he likes playing", 1, 0, 0),
    InsideExample("two meanings of 'bank' (layer 5, from 'bank')", "the bank raised interest rates",
                  "we sat on the river bank", 5, 0, 6),
    InsideExample("WordPiece splits rare words into ## pieces", "unbelievably, the transformers were retrained", "",
                  3, 2, 1),
)


@dataclass(frozen=True)
class FillExample:
    label: str
    text: str
    method: str       # a fill-the-blank method of dlcore.nlp.registry.FILL_CHOICES
    needs_hub: bool = False


FILL_EXAMPLES: tuple[FillExample, ...] = (
    FillExample("offline: the cat sat on the [MASK]", "The cat sat on the [MASK].", OFFLINE_FILL),
    FillExample("offline: a capital city", "Paris is the capital of [MASK].", OFFLINE_FILL),
    FillExample("offline: the words on both sides matter", "I brush my [MASK] twice a day.", OFFLINE_FILL),
    FillExample("needs the Hub: bert-base-uncased's MLM head",
                "The man went to the [MASK] to buy a gallon of milk.", "bert-base-uncased", needs_hub=True),
)
