"""BERT-tab figures: fill-the-blank accuracy on the cloze set, peak memory, the embedding check, fine-tune vs ICL.

    PYTHONPATH=. .venv/bin/python bench/bench_bert.py            # everything (a few minutes on 2 busy cores)
    PYTHONPATH=. .venv/bin/python bench/bench_bert.py --quick    # the first 12 cloze sentences only

Prints JSON lines ``{"name", "value", "unit", ...}``:

* ``bert_peak_rss_encoder_mb`` / ``bert_peak_rss_both_mb``: peak resident memory of this process after
  loading the offline encoder (all-MiniLM-L6-v2), then also the causal LM (SmolLM2-135M-Instruct);
* ``bert_embedding_sum_max_abs_diff``: |E_token + E_position + E_segment - model's pre-LayerNorm embedding|;
* ``bert_fill_offline_top1`` / ``_top5``: the offline fill-the-blank default (causal-LM rescoring) on
  ``dlcore.nlp.cloze.CLOZE``; ``peer`` = the hub BERT's real MLM head on the same set when the hub is
  reachable (``null`` with the reason otherwise);
* ``bert_finetune_acc_*``: the tab's default fine-tune vs in-context example.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.common import peak_rss_mb  # noqa: E402


def emit(name: str, value: float | None, unit: str, **extra: object) -> None:
    v = None if value is None else round(float(value), 4)
    print(json.dumps({"name": name, "value": v, "unit": unit, **extra}), flush=True)




def hub_fail_time() -> None:
    """A hub BERT against a black-hole hub (a local socket that accepts and never answers): the fetch
    gives up at the probe deadline with the clear message, and loading without it never waits."""
    from transformers import BertConfig  # noqa: F401 - pay transformers' import before measuring

    from dlcore import hub
    from dlcore.nlp.encoder import get_masked_lm
    from tests.dlcore.nlp.fakehub import black_hole

    saved = {k: os.environ.get(k) for k in ("HF_HUB_OFFLINE", "HF_ENDPOINT")}
    target = hub.PROBE_TIMEOUT_S + 0.5
    try:
        with black_hole() as url:
            os.environ.pop("HF_HUB_OFFLINE", None)
            os.environ["HF_ENDPOINT"] = url
            hub.reset_cache()
            t, msg = time.perf_counter(), "fetched?"
            try:
                get_masked_lm("bert-base-uncased", fetch=True)
            except ValueError as exc:
                msg = str(exc)
            dt = time.perf_counter() - t
            t = time.perf_counter()
            try:
                get_masked_lm("distilbert-base-uncased")  # no fetch: the last probe said no, so no wait at all
            except ValueError:
                pass
            emit("bert_hub_black_hole_fail_s", dt, "s",
                 target=f"<= {target:g} (probe deadline {hub.PROBE_TIMEOUT_S:g} s)",
                 ok=dt <= target, second_name_s=round(time.perf_counter() - t, 4), message=msg[:90],
                 load_avg_1min=round(os.getloadavg()[0], 2))
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        hub.reset_cache()


def main(argv: list[str]) -> None:
    quick = "--quick" in argv
    hub_fail_time()
    from transformers import BertConfig  # noqa: F401 - pay transformers' import before measuring loads

    from dlcore.nlp.bert_inside import inside_bert
    from dlcore.nlp.causal import get_causal_lm
    from dlcore.nlp.cloze import CLOZE, score_cloze
    from dlcore.nlp.encoder import get_encoder, get_masked_lm
    from dlcore.nlp.fill_mask import fill_mask_causal, fill_mask_mlm

    base = peak_rss_mb()
    t0 = time.perf_counter()
    enc, etok = get_encoder("minilm")
    emit("bert_encoder_load_s", time.perf_counter() - t0, "s", model=getattr(enc, "lab_description", ""))
    emit("bert_peak_rss_encoder_mb", peak_rss_mb(), "MB", before_models_mb=round(base, 1))

    r = inside_bert(enc, etok, "my dog is cute", "he likes playing")
    emit("bert_embedding_sum_max_abs_diff", r.max_abs_diff, "abs", target="<= 1e-5", ok=r.max_abs_diff <= 1e-5,
         tokens=len(r.tokens))

    t0 = time.perf_counter()
    lm, ltok = get_causal_lm("smollm2")
    emit("bert_causal_lm_load_s", time.perf_counter() - t0, "s", note="SmolLM2 via dlcore.nlp.causal (cached copy)")
    emit("bert_peak_rss_both_mb", peak_rss_mb(), "MB", note="encoder + SmolLM2-135M-Instruct loaded")

    items = CLOZE[:12] if quick else CLOZE
    hub_score, hub_note = None, ""
    try:
        mlm, mtok = get_masked_lm("bert-base-uncased", fetch=True)  # downloads first where the hub is reachable
        hub_score = score_cloze(lambda t: [c.word for c in fill_mask_mlm(mlm, mtok, t, top_k=5).candidates], items)
    except ValueError as exc:
        hub_note = f"bert-base-uncased not measured: {str(exc)[:160]}"
    t0 = time.perf_counter()
    s = score_cloze(lambda t: [c.word for c in fill_mask_causal(lm, ltok, t, top_k=5).candidates], items)
    per = (time.perf_counter() - t0) / len(items)
    peer1 = None if hub_score is None else hub_score.top1
    peer5 = None if hub_score is None else hub_score.top5
    load = round(os.getloadavg()[0], 2)
    emit("bert_fill_offline_top1", s.top1, "fraction", n=s.n, peer=peer1, peer_name="bert-base-uncased MLM head",
         peer_note=hub_note, method="SmolLM2 causal-LM rescoring")
    emit("bert_fill_offline_top5", s.top5, "fraction", n=s.n, peer=peer5, peer_name="bert-base-uncased MLM head",
         peer_note=hub_note)
    emit("bert_fill_offline_s_per_sentence", per, "s", load_avg_1min=load, threads=torch.get_num_threads())
    misses = [(it.text, it.answer, rk) for it, rk in zip(items, s.ranks) if rk != 1]
    print(json.dumps({"name": "bert_fill_offline_misses", "value": len(misses), "unit": "count",
                      "items": misses}), flush=True)

    if not quick:
        from dlcore.nlp.finetune import EXAMPLE_SETS, ProbeConfig, compare, parse_labelled

        train, test = EXAMPLE_SETS["sentiment"]
        for pooling in ("cls", "mean"):
            c = compare(enc, etok, lm if pooling == "cls" else None, ltok, parse_labelled(train),
                        parse_labelled(test), ProbeConfig(pooling=pooling))  # type: ignore[arg-type]
            for k, v in c.accuracies.items():
                emit(f"bert_finetune_acc_{k.replace(' ', '_').replace('[', '').replace(']', '')}", v, "fraction",
                     n_train=6, n_test=4, example="tab default (sentiment)")


if __name__ == "__main__":
    main(sys.argv[1:])
