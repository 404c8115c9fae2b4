"""A small cloze ("fill the blank") test set and its top-1/top-5 scorer.

60 simple English sentences written for this lab, one ``[MASK]`` each, with the single word
a careful reader would put there. The answers are common words (nouns, verbs, adjectives,
function words) so the set measures whether a fill-mask method uses context, not rare
vocabulary. The set is used by ``bench/bench_bert.py`` to measure the offline fill-the-blank
default and, where the hub is reachable, ``bert-base-uncased``'s real MLM head.

Scoring follows the usual cloze protocol: a prediction is correct when the candidate word
equals the answer, case-insensitively, ignoring surrounding spaces and punctuation;

    top-k accuracy = (1/n) * sum_i [answer_i in first k candidates_i]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

__all__ = ["ClozeItem", "CLOZE", "ClozeScore", "normalise_word", "score_cloze"]


@dataclass(frozen=True)
class ClozeItem:
    text: str     # one sentence with exactly one [MASK]
    answer: str   # the expected word


_RAW: list[tuple[str, str]] = [
    ("The cat sat on the [MASK].", "mat"),
    ("Paris is the capital of [MASK].", "france"),
    ("I drink a cup of [MASK] every morning.", "coffee"),
    ("The sun rises in the [MASK].", "east"),
    ("She opened the door with a [MASK].", "key"),
    ("Water freezes at zero degrees [MASK].", "celsius"),
    ("A week has seven [MASK].", "days"),
    ("The dog wagged its [MASK] happily.", "tail"),
    ("He wrote the letter with a [MASK].", "pen"),
    ("Birds can [MASK] high in the sky.", "fly"),
    ("We use an umbrella when it [MASK].", "rains"),
    ("The opposite of hot is [MASK].", "cold"),
    ("Two plus two equals [MASK].", "four"),
    ("The children played in the [MASK] after school.", "park"),
    ("My brother is a doctor at the local [MASK].", "hospital"),
    ("Please turn off the [MASK] when you leave the room.", "lights"),
    ("Cows give us [MASK].", "milk"),
    ("The teacher wrote the answer on the [MASK].", "board"),
    ("I brush my [MASK] twice a day.", "teeth"),
    ("In winter the ground is covered with [MASK].", "snow"),
    ("The baby is sleeping in her [MASK].", "bed"),
    ("He was so tired that he fell [MASK] on the sofa.", "asleep"),
    ("The moon shines at [MASK].", "night"),
    ("Fish live in the [MASK].", "water"),
    ("She bought fresh bread from the [MASK].", "bakery"),
    ("The train arrived at the [MASK] on time.", "station"),
    ("The Earth goes around the [MASK].", "sun"),
    ("Bees make [MASK].", "honey"),
    ("The sky is [MASK] on a clear day.", "blue"),
    ("He plays the [MASK] in a rock band.", "guitar"),
    ("You need a passport to travel to another [MASK].", "country"),
    ("The library has thousands of [MASK].", "books"),
    ("Grass is [MASK].", "green"),
    ("She called me on my [MASK] last night.", "phone"),
    ("We celebrate her [MASK] with a cake and candles.", "birthday"),
    ("The pilot flew the [MASK] to London.", "plane"),
    ("It is dark, so please switch on the [MASK].", "light"),
    ("A year has twelve [MASK].", "months"),
    ("Lions and tigers are wild [MASK].", "animals"),
    ("He washed his hands with soap and [MASK].", "water"),
    ("I put the milk back in the [MASK].", "fridge"),
    ("The farmer grows corn and wheat on his [MASK].", "farm"),
    ("My favourite fruit is the red [MASK].", "apple"),
    ("The students are taking an [MASK] today.", "exam"),
    ("She looked at herself in the [MASK].", "mirror"),
    ("The car stopped at the red [MASK].", "light"),
    ("People wear [MASK] on their feet.", "shoes"),
    ("The river flows into the [MASK].", "sea"),
    ("He cut the paper with a pair of [MASK].", "scissors"),
    ("Doctors work hard to help sick [MASK].", "people"),
    ("We eat soup with a [MASK].", "spoon"),
    ("The cake was baked in the [MASK].", "oven"),
    ("She is reading a [MASK] about dragons.", "book"),
    ("I [MASK] you very much.", "love"),
    ("The boy kicked the [MASK] into the goal.", "ball"),
    ("There are sixty minutes in an [MASK].", "hour"),
    ("Thank you very [MASK] for your help.", "much"),
    ("The shop is closed on [MASK] and open on Monday.", "sunday"),
    ("A triangle has three [MASK].", "sides"),
    ("The [MASK] barked at the postman.", "dog"),
]

#: The cloze set (60 items).
CLOZE: list[ClozeItem] = [ClozeItem(t, a) for t, a in _RAW]


def normalise_word(word: str) -> str:
    """Lower-case, strip spaces, WordPiece ``##`` and punctuation at both ends."""
    return word.strip().removeprefix("##").strip(" .,;:!?\"'()").lower()


@dataclass
class ClozeScore:
    top1: float                      # fraction of items whose first candidate is the answer
    top5: float                      # fraction with the answer among the first 5
    n: int
    ranks: list[int | None]          # 1-based rank of the answer, None when not in the list


def score_cloze(fill: Callable[[str], Sequence[str]], items: Sequence[ClozeItem] = CLOZE) -> ClozeScore:
    """Run ``fill(text) -> ranked candidate words`` on every item and report top-1/top-5.

    Raises:
        ValueError: an empty item list.
    """
    if not items:
        raise ValueError("the cloze set is empty")
    ranks: list[int | None] = []
    for item in items:
        words = [normalise_word(w) for w in fill(item.text)]
        ans = normalise_word(item.answer)
        ranks.append(words.index(ans) + 1 if ans in words else None)
    n = len(items)
    return ClozeScore(top1=sum(r == 1 for r in ranks) / n,
                      top5=sum(r is not None and r <= 5 for r in ranks) / n, n=n, ranks=ranks)
