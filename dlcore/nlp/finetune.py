"""Fine-tuning vs in-context learning on the same few labelled sentences.

**(a) Fine-tuning a head on a frozen BERT** (notes A §8.6.1, notes B §dl_11_1_4). The encoder
is frozen; only a linear layer is trained on the sentence vector h:

    h = H_[CLS]   ("cls")    or   h = (1/L) sum_i H_i   ("mean", over real tokens)
    y_hat = softmax(W h + b),   loss = cross-entropy, full-batch Adam

(Devlin et al. 2019 §4.1, https://aclanthology.org/N19-1423.pdf fine-tune the whole network;
training only the head is the "feature-based"/linear-probe variant the notes describe.)

**(b) In-context learning with a causal LM** (notes A §8.6.2, notes B §dl_12_3; Brown et al.
2020, https://arxiv.org/abs/2005.14165): no gradient step. The labelled examples are written
into the prompt, k per class (k = 0: zero-shot, k = 1: one-shot, all: few-shot), and the
predicted label is the label word with the highest log-probability after "Label:":

    y_hat = argmax_y  log p(" y" | prompt + "Sentence: x\\nLabel:")
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Literal, Sequence

import torch

from dlcore.nlp.examples import EXAMPLE_SETS  # noqa: F401 - re-exported
from dlcore.nlp.fill_mask import sentence_logprobs

__all__ = ["Example", "ProbeConfig", "SHOTS", "parse_labelled", "sentence_vectors", "train_linear_head",
           "iter_linear_head", "check_labels", "icl_prompt", "icl_classify", "accuracy", "compare", "Comparison", "CompareProgress",
           "iter_compare", "head_name", "MAX_EXAMPLES", "MAX_SENTENCE_CHARS", "EXAMPLE_SETS"]

MAX_EXAMPLES = 40
MAX_SENTENCE_CHARS = 300
_LABEL_RE = re.compile(r"^[A-Za-z][A-Za-z_-]{0,29}$")
#: In-context settings compared: examples per class in the prompt (None = all of them).
SHOTS: dict[str, int | None] = {"zero-shot": 0, "one-shot": 1, "few-shot": None}


@dataclass(frozen=True)
class Example:
    text: str
    label: str


def parse_labelled(text: str, name: str = "examples", *, max_lines: int = MAX_EXAMPLES) -> list[Example]:
    """Parse lines ``label: sentence`` (blank lines and ``#`` comments are skipped).

    Raises:
        ValueError: nothing given, a line without ``label:``, a label that is not one word,
            an empty or over-long sentence, more than ``max_lines`` lines.
    """
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"{name} are empty: type one per line as 'label: sentence', e.g. 'positive: I loved it'")
    out: list[Example] = []
    for no, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        label, sep, sentence = line.partition(":")
        label, sentence = label.strip(), sentence.strip()
        if not sep:
            raise ValueError(f"{name} line {no} {line[:40]!r} has no 'label:' prefix; write e.g. 'positive: I loved it'")
        if not _LABEL_RE.match(label):
            raise ValueError(f"{name} line {no}: label {label[:40]!r} must be one word of letters (it is also the "
                             "word the language model is asked to say)")
        if not sentence:
            raise ValueError(f"{name} line {no}: the sentence after '{label}:' is empty")
        if len(sentence) > MAX_SENTENCE_CHARS:
            raise ValueError(f"{name} line {no} has {len(sentence)} characters; the limit is {MAX_SENTENCE_CHARS}")
        out.append(Example(sentence, label.lower()))
        if len(out) > max_lines:
            raise ValueError(f"{name} have more than {max_lines} lines; the limit is {max_lines}")
    if not out:
        raise ValueError(f"{name} contain no 'label: sentence' lines")
    return out


@dataclass
class ProbeConfig:
    """Linear head on frozen sentence vectors (defaults: a small, fast, stable setting)."""

    pooling: Literal["cls", "mean"] = "cls"   # the notes' h_[CLS]; "mean" suits sentence embedders
    epochs: int = 150
    lr: float = 0.003                         # Adam, full batch (small enough to watch the loss fall)
    weight_decay: float = 1e-3
    seed: int = 0


@torch.no_grad()
def sentence_vectors(model: torch.nn.Module, tokenizer: Any, texts: Sequence[str],
                     pooling: Literal["cls", "mean"] = "cls") -> torch.Tensor:
    """Frozen encoder sentence vectors, shape (N, H): ``H_[CLS]`` or the masked mean of ``H``."""
    if pooling not in ("cls", "mean"):
        raise ValueError(f"pooling {pooling!r} must be 'cls' or 'mean'")
    enc = tokenizer(list(texts), padding=True, truncation=True, max_length=128, return_tensors="pt")
    dev = next(model.parameters()).device
    h = model(**{k: v.to(dev) for k, v in enc.items()}).last_hidden_state.float().cpu()  # (N, L, H)
    if pooling == "cls":
        return h[:, 0]                                                          # (N, H)
    m = enc["attention_mask"].unsqueeze(-1).float()                             # (N, L, 1)
    return (h * m).sum(1) / m.sum(1)                                            # (N, H)


def iter_linear_head(x: torch.Tensor, y: torch.Tensor, n_classes: int, config: ProbeConfig = ProbeConfig(),
                     ) -> Iterator[tuple[int, float, torch.nn.Linear]]:
    """Train ``softmax(W x + b)`` with full-batch Adam, yielding ``(epoch, loss, head)`` after each step.

    Shape: x (N, H) fixed features, y (N,) class indices in 0..n_classes-1.
    """
    if not 1 <= config.epochs <= 5000:
        raise ValueError(f"epochs {config.epochs} must be between 1 and 5000")
    if not 0 < config.lr <= 10:
        raise ValueError(f"learning rate {config.lr} must be in (0, 10]")
    g = torch.Generator().manual_seed(int(config.seed))
    head = torch.nn.Linear(x.shape[1], n_classes)
    with torch.no_grad():  # seeded init, independent of the global RNG
        head.weight.copy_(torch.randn(head.weight.shape, generator=g) * 0.01)
        head.bias.zero_()
    opt = torch.optim.Adam(head.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    for epoch in range(1, config.epochs + 1):
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(head(x), y)    # (N, C) logits vs (N,)
        loss.backward()
        opt.step()
        yield epoch, float(loss.detach()), head


def train_linear_head(x: torch.Tensor, y: torch.Tensor, n_classes: int, config: ProbeConfig = ProbeConfig(),
                      callback: Callable[[int, float], None] | None = None) -> tuple[torch.nn.Linear, list[float]]:
    """Run :func:`iter_linear_head` to the end; return the head and the loss per epoch."""
    losses: list[float] = []
    head = None
    for epoch, loss, head in iter_linear_head(x, y, n_classes, config):
        losses.append(loss)
        if callback is not None:
            callback(epoch, loss)
    assert head is not None  # epochs >= 1 is checked above
    return head, losses


def check_labels(train: Sequence[Example], test: Sequence[Example]) -> list[str]:
    """The sorted label set of ``train``.

    Raises:
        ValueError: fewer than 2 labels in ``train``, or a test label never seen in training.
    """
    labels = sorted({e.label for e in train})
    if len(labels) < 2:
        raise ValueError(f"the training examples have only the label {labels}; give at least two labels")
    unseen = sorted({e.label for e in test} - set(labels))
    if unseen:
        raise ValueError(f"test label(s) {unseen} do not occur in the training examples {labels}")
    return labels


def _k_per_class(train: Sequence[Example], k: int | None, labels: Sequence[str]) -> list[Example]:
    """Up to k examples per class (all when k is None), interleaved class by class."""
    per = {lab: [e for e in train if e.label == lab] for lab in labels}
    n = max(len(v) for v in per.values()) if k is None else k
    out: list[Example] = []
    for i in range(n):
        out += [per[lab][i] for lab in labels if i < len(per[lab])]
    return out


def icl_prompt(shots: Sequence[Example], labels: Sequence[str], query: str) -> str:
    """The GPT-3 style prompt: task description, demonstrations, then the query."""
    lines = [f"Classify each sentence as one of: {', '.join(labels)}.", ""]
    for e in shots:
        lines += [f"Sentence: {e.text}", f"Label: {e.label}", ""]
    lines += [f"Sentence: {query}", "Label:"]
    return "\n".join(lines)


@dataclass
class IclResult:
    predictions: list[str]
    logprobs: torch.Tensor            # (N_test, n_labels) log p(" label" | prompt)
    prompts: list[str] = field(default_factory=list)


@torch.no_grad()
def icl_classify(model: torch.nn.Module, tokenizer: Any, train: Sequence[Example], test: Sequence[str],
                 labels: Sequence[str], k: int | None) -> IclResult:
    """Classify ``test`` sentences by prompting a causal LM with k examples per class."""
    shots = _k_per_class(train, k, labels)
    rows, prompts = [], []
    for q in test:
        prompt = icl_prompt(shots, labels, q)
        prompts.append(prompt)
        rows.append(sentence_logprobs(model, tokenizer, [f"{prompt} {lab}" for lab in labels],
                                      given_common_prefix=True))              # (n_labels,)
    lp = torch.stack(rows)                                                     # (N_test, n_labels)
    return IclResult([labels[int(i)] for i in lp.argmax(1)], lp, prompts)


def head_name(pooling: str) -> str:
    """The name of the fine-tuned method in tables: "head on [CLS]" or "head on mean"."""
    return "head on [CLS]" if pooling == "cls" else "head on mean"


@dataclass
class CompareProgress:
    """One snapshot of fine-tuning vs in-context learning, as :func:`iter_compare` streams it.

    Attributes:
        stage: "training" (the head's loss so far), "prompting" (in-context settings so far) or "done".
        labels: the label set; test: the test examples (their labels are the answer key).
        epoch, epochs: training progress. losses: the head's full-batch loss per epoch so far.
        predictions: method -> predicted label per test sentence (the head first, then zero/one/few-shot).
        accuracies: method -> accuracy on ``test``.
        prompt, prompt_name: the latest in-context prompt (first test sentence) and its setting.
        constant: in-context settings that gave one label for every test sentence -> that label
            (a small LM's prior for one label word; the examples in the prompt are what move it).
        n_params: parameters trained in (a) (W and b of the head); (b) trains none.
    """

    stage: Literal["training", "prompting", "done"]
    labels: list[str]
    test: list[Example]
    epoch: int
    epochs: int
    losses: list[float]
    predictions: dict[str, list[str]]
    accuracies: dict[str, float]
    prompt: str = ""
    prompt_name: str = ""
    constant: dict[str, str] = field(default_factory=dict)
    n_params: int = 0

    def table(self) -> tuple[list[str], list[list[str]]]:
        """``(headers, rows)``: test sentence, true label, then one column per method so far."""
        headers = ["test sentence", "true label", *self.predictions]
        rows = [[e.text, e.label, *[p[i] for p in self.predictions.values()]] for i, e in enumerate(self.test)]
        return headers, rows


LmArg = tuple[torch.nn.Module, Any] | Callable[[], tuple[torch.nn.Module, Any]] | None


def iter_compare(encoder: torch.nn.Module, enc_tokenizer: Any, train: Sequence[Example], test: Sequence[Example],
                 config: ProbeConfig = ProbeConfig(), *, lm: LmArg = None, every: int | None = None,
                 ) -> Iterator[CompareProgress]:
    """(a) Train the head on frozen ``encoder`` vectors, then (b) prompt ``lm`` 0/1/few-shot; stream snapshots.

    Args:
        encoder, enc_tokenizer: a BERT-style encoder (frozen) and its tokenizer.
        train, test: labelled examples (:func:`parse_labelled`).
        config: the head's settings. Default :class:`ProbeConfig`.
        lm: the causal LM for (b) as ``(model, tokenizer)``, or a function returning it (called only
            when (b) starts, after a "prompting" snapshot), or None to skip (b).
        every: yield a training snapshot every this many epochs. Default epochs // 12.

    Raises:
        ValueError: fewer than 2 labels in ``train``, a test label never seen in training, bad config.
    """
    labels = check_labels(train, test)
    test = list(test)
    gold = [e.label for e in test]
    x_tr = sentence_vectors(encoder, enc_tokenizer, [e.text for e in train], config.pooling)   # (N, H)
    y_tr = torch.tensor([labels.index(e.label) for e in train])                                # (N,)
    x_te = sentence_vectors(encoder, enc_tokenizer, [e.text for e in test], config.pooling)    # (M, H)
    every = every or max(1, config.epochs // 12)
    losses: list[float] = []
    preds: dict[str, list[str]] = {}
    accs: dict[str, float] = {}
    constant: dict[str, str] = {}
    n_params = x_tr.shape[1] * len(labels) + len(labels)

    def snap(stage: Any, epoch: int, prompt: str = "", pname: str = "") -> CompareProgress:
        return CompareProgress(stage, labels, test, epoch, config.epochs, list(losses), dict(preds), dict(accs),
                               prompt, pname, dict(constant), n_params)

    # 1. (a) full-batch training of softmax(W h + b)
    head = None
    for epoch, loss, head in iter_linear_head(x_tr, y_tr, len(labels), config):
        losses.append(loss)
        if epoch % every == 0 or epoch == config.epochs:
            yield snap("training", epoch)
    assert head is not None  # epochs >= 1 is checked by iter_linear_head
    with torch.no_grad():
        preds[head_name(config.pooling)] = [labels[int(i)] for i in head(x_te).argmax(1)]   # (M,) labels
    accs[head_name(config.pooling)] = accuracy(preds[head_name(config.pooling)], gold)
    if lm is None:
        yield snap("done", config.epochs)
        return
    # 2. (b) in-context: k examples per class in the prompt, no parameter changes
    yield snap("prompting", config.epochs)
    model, tok = lm() if callable(lm) else lm
    prompt, pname = "", ""
    for shot_name, k in SHOTS.items():
        r = icl_classify(model, tok, train, [e.text for e in test], labels, k)
        preds[shot_name], accs[shot_name] = r.predictions, accuracy(r.predictions, gold)
        if len(test) > 1 and len(set(r.predictions)) == 1:
            constant[shot_name] = r.predictions[0]
        prompt, pname = r.prompts[0], shot_name
        yield snap("prompting", config.epochs, prompt, pname)
    yield snap("done", config.epochs, prompt, pname)


@dataclass
class Comparison:
    """Fine-tuned head vs in-context learning on the same test sentences."""

    labels: list[str]
    test: list[Example]
    predictions: dict[str, list[str]]        # method name -> predicted label per test sentence
    accuracies: dict[str, float]             # method name -> accuracy on ``test``
    losses: list[float]                      # the head's training loss per epoch
    icl_prompts: dict[str, str]              # method name -> the prompt of the first test sentence


def compare(encoder: torch.nn.Module, enc_tokenizer: Any, lm: torch.nn.Module | None, lm_tokenizer: Any,
            train: Sequence[Example], test: Sequence[Example], config: ProbeConfig = ProbeConfig(),
            callback: Callable[[int, float], None] | None = None) -> Comparison:
    """Run :func:`iter_compare` to the end (``lm=None`` skips the in-context half).

    ``callback(epoch, loss)`` is called after every training epoch.
    """
    prompts: dict[str, str] = {}
    last = None
    for last in iter_compare(encoder, enc_tokenizer, train, test, config,
                             lm=None if lm is None else (lm, lm_tokenizer), every=1):
        if last.stage == "training" and callback is not None:
            callback(last.epoch, last.losses[-1])
        if last.prompt_name:
            prompts[last.prompt_name] = last.prompt
    assert last is not None
    return Comparison(last.labels, last.test, last.predictions, last.accuracies, last.losses, prompts)


def accuracy(pred: Sequence[str], gold: Sequence[str]) -> float:
    """Fraction of equal labels."""
    if len(pred) != len(gold) or not gold:
        raise ValueError(f"accuracy needs equal, non-empty lists, got {len(pred)} and {len(gold)}")
    return sum(p == g for p, g in zip(pred, gold)) / len(gold)
