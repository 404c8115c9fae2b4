"""Prompts for a causal LM: zero-, one- and few-shot templates and the instruct chat template.

GPT-2 introduced *zero-shot* prompting and GPT-3 *few-shot* / in-context learning: the task is
described in the prompt, optionally with k solved examples, and the model continues the text;
no gradient step is taken (seed 000 §8.6.2, seed 003 §dl_12). k = 0 is zero-shot, k = 1 one-shot.

An instruct model such as SmolLM2-135M-Instruct was fine-tuned on conversations written in a
chat template (ChatML here: ``<|im_start|>user\\n...<|im_end|>``); :func:`build_prompt` with
``mode="chat"`` wraps the text in the model's own template, ``mode="plain"`` feeds it as is.

Reference: Brown et al. (2020), "Language Models are Few-Shot Learners",
https://arxiv.org/abs/2005.14165 (Figure 2.1 is the translation example below).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerBase

__all__ = ["PromptMode", "PROMPT_MODES", "ShotTemplate", "TEMPLATES", "few_shot_prompt", "build_prompt",
           "has_chat_template", "GenerateExample", "generate_examples"]

PromptMode = Literal["plain", "chat"]
PROMPT_MODES: tuple[str, ...] = ("plain", "chat")


@dataclass(frozen=True)
class ShotTemplate:
    """A task written as an instruction, solved examples and a query (in-context learning)."""

    name: str
    source: str  # where in the notes / papers the example comes from
    instruction: str
    examples: tuple[tuple[str, str], ...]
    query: str
    sep: str = " => "


TEMPLATES: dict[str, ShotTemplate] = {
    # GPT-3 paper, Figure 2.1 (the few-shot picture that seed 003 §dl_12 describes)
    "translate": ShotTemplate(
        "translate", "GPT-3 (Brown et al. 2020, Fig. 2.1); seed 003 §dl_12 GPT-3",
        "Translate English to French:",
        (("sea otter", "loutre de mer"), ("peppermint", "menthe poivrée"), ("plush giraffe", "girafe peluche")),
        "cheese"),
    # seed 003 §dl_12 GPT-2: "翻译为英文：我喜欢猫" (translate into English: I like cats)
    "translate_zh": ShotTemplate(
        "translate_zh", "seed 003 §dl_12 GPT-2 zero-shot example (翻译为英文：我喜欢猫)",
        "Translate into English:",
        (("我喜欢狗", "I like dogs"), ("我喜欢鱼", "I like fish"), ("他喜欢书", "He likes books")),
        "我喜欢猫"),
    # in-context learning that a 135M model can do: zero-shot fails, few-shot answers "Rome"
    "capitals": ShotTemplate(
        "capitals", "seed 000 §8.6.2 few-shot learning (k solved examples in the prompt)",
        "Capital cities:",
        (("France", "Paris"), ("Japan", "Tokyo"), ("Egypt", "Cairo")),
        "Italy"),
    "antonyms": ShotTemplate(
        "antonyms", "seed 000 §8.6.2 few-shot learning (k solved examples in the prompt)",
        "Opposites:",
        (("hot", "cold"), ("big", "small"), ("fast", "slow")),
        "up"),
    # sentiment: the task the notes fine-tune BERT on ([CLS] -> class), here done in context
    "sentiment": ShotTemplate(
        "sentiment", "seed 000 §8.6.1 sentiment task, done in context as in §8.6.2",
        "Decide if the movie review is positive or negative.",
        (("I loved every minute of it.", "positive"), ("A boring, awful film.", "negative"),
         ("The acting was wonderful.", "positive")),
        "The plot made no sense and I fell asleep.", sep="\nSentiment: "),
}


def few_shot_prompt(t: ShotTemplate, k: int) -> str:
    """The prompt with the first ``k`` examples (k = 0 zero-shot, 1 one-shot, >1 few-shot).

    Layout: instruction, one line per example ``input<sep>output``, then ``query<sep>``.
    """
    if not 0 <= k <= len(t.examples):
        raise ValueError(f"shots {k} must be between 0 and {len(t.examples)} for template {t.name!r}")
    blocks = [t.instruction] + [f"{x}{t.sep}{y}" for x, y in t.examples[:k]] + [f"{t.query}{t.sep}".rstrip(" ")]
    joiner = "\n\n" if "\n" in t.sep else "\n"
    return joiner.join(blocks)


def has_chat_template(tok: "PreTrainedTokenizerBase") -> bool:
    """True when the tokenizer carries a chat template."""
    return bool(getattr(tok, "chat_template", None))


def build_prompt(tok: "PreTrainedTokenizerBase", text: str, mode: PromptMode = "plain",
                 system: str | None = None) -> str:
    """The exact string fed to the model.

    Args:
        tok: the model's tokenizer (its chat template is used for ``mode="chat"``).
        text: the user's text.
        mode: "plain" (the text as is, a continuation task) or "chat" (one user turn in the
            model's chat template, ending with the assistant header). Default "plain".
        system: optional system message (chat only); None keeps the template's default.
    """
    if mode not in PROMPT_MODES:
        raise ValueError(f"prompt mode {mode!r} is not one of {', '.join(PROMPT_MODES)}")
    if mode == "plain":
        return text
    if not has_chat_template(tok):
        raise ValueError("this model has no chat template (it is not an instruct model): use prompt mode 'plain'")
    msgs = ([{"role": "system", "content": system}] if system else []) + [{"role": "user", "content": text}]
    return tok.apply_chat_template(msgs, tokenize=False, add_generation_prompt=True)


@dataclass(frozen=True)
class GenerateExample:
    """A worked generation example: a label for the learner, the prompt and the decoding settings."""

    label: str
    prompt: str
    mode: PromptMode = "plain"
    strategy: str = "greedy"
    max_new_tokens: int = 16
    temperature: float = 0.8
    top_k: int = 50
    top_p: float = 0.95
    repetition_penalty: float = 1.0
    num_beams: int = 3
    seed: int = 0

    def values(self) -> list[object]:
        """(prompt, mode, strategy, max_new_tokens, temperature, top_k, top_p, repetition_penalty, num_beams, seed)."""
        return [self.prompt, self.mode, self.strategy, self.max_new_tokens, self.temperature, self.top_k,
                self.top_p, self.repetition_penalty, self.num_beams, self.seed]


def generate_examples() -> list[GenerateExample]:
    """In-context learning (few- vs zero-shot; seed 000 §8.6.2, seed 003 §dl_12), then the chat template,
    beam search, hot and nucleus sampling. GPT-3's own translation example (Fig. 2.1) is too hard for a
    135M-parameter model: the notes' point that task generalisation needs scale."""
    shot = lambda name, k: few_shot_prompt(TEMPLATES[name], k)  # noqa: E731
    E = GenerateExample
    return [E("Few-shot (k=3): capital of Italy", shot("capitals", 3), max_new_tokens=2),
            E("Zero-shot: capital of Italy", shot("capitals", 0), max_new_tokens=8),
            E("Few-shot (k=3): 我喜欢猫 → English (seed 003 §dl_12)", shot("translate_zh", 3), max_new_tokens=4),
            E("Zero-shot: 我喜欢猫 → English", shot("translate_zh", 0), max_new_tokens=5),
            E("GPT-3 Fig. 2.1 few-shot: cheese → French (too hard for 135M)", shot("translate", 3), max_new_tokens=6),
            E("Few-shot (k=3): opposite of up", shot("antonyms", 3), max_new_tokens=2),
            E("Chat template: what is beam search?", "What is beam search? Answer in one sentence.", "chat",
              max_new_tokens=48, repetition_penalty=1.1),
            E("Beam search, k = 3", "The capital of France is", strategy="beam", max_new_tokens=12),
            E("Hot sampling: T = 1.5, no filters", "Once upon a time", strategy="sample", max_new_tokens=32,
              temperature=1.5, top_k=0, top_p=1.0),
            E("Nucleus sampling: T = 0.7, top-k 50, top-p 0.9, rep. penalty 1.2", "Once upon a time",
              strategy="sample", max_new_tokens=32, temperature=0.7, top_p=0.9, repetition_penalty=1.2)]
