"""GPT-tab figures: SmolLM2 conversion and load times, first-token latency, greedy tokens/s, peak RSS, and how
fast a hub model name fails against a black-hole hub (a local socket that accepts and never answers).

    PYTHONPATH=. .venv/bin/python bench/bench_gpt.py            # all phases (about a minute)
    PYTHONPATH=. .venv/bin/python bench/bench_gpt.py --no-convert   # skip the first-ever conversion
    PYTHONPATH=. .venv/bin/python bench/bench_gpt.py --hub-only     # only the black-hole hub figures

Phases run in fresh processes so import and load times are honest:

1. ``convert``: an empty cache directory, so the GGUF file is de-quantised and the plain
   checkpoint written (the first run on a new machine);
2. ``cached``: the same cache, a new process: load from the converted copy, then decode.

Prints JSON lines ``{"name", "value", "unit", ...}``; ``peer`` figures are transformers'
own ``model.generate`` measured in the same process.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.common import peak_rss_mb  # noqa: E402

PROMPT = "The capital of France is"
N_TOKENS = 64


def emit(name: str, value: float, unit: str, **extra: object) -> None:
    policy = os.environ.get("OMP_WAIT_POLICY")
    if policy and os.environ.get("BENCH_GPT_VARIANT"):  # the second run: same figures, passive OpenMP threads
        name, extra = f"{name}_omp_{policy.lower()}", {**extra, "omp_wait_policy": policy}
    print(json.dumps({"name": name, "value": round(float(value), 3), "unit": unit, **extra}), flush=True)




def phase(kind: str) -> None:
    t0 = time.perf_counter()
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM  # noqa: F401 - import cost apart

    LlamaConfig()  # transformers imports lazily: pay the module imports here, not in the load figure

    from dlcore.nlp.causal import get_causal_lm
    from dlcore.nlp.decoding import DecodeConfig, stream_generate

    t_import = time.perf_counter() - t0
    rss_import = peak_rss_mb()
    t1, c1 = time.perf_counter(), time.process_time()
    model, tok = get_causal_lm("smollm2")
    t_load, c_load = time.perf_counter() - t1, time.process_time() - c1
    load = {"load_avg_1min": round(os.getloadavg()[0], 2), "cpu_s": round(c_load, 2)}
    if kind == "convert":
        emit("gpt_first_conversion_s", t_load, "s", note="GGUF de-quantised + checkpoint written (first run only)",
             import_s=round(t_import, 2), **load)
        return
    emit("gpt_load_cached_s", t_load, "s", target="<= 3", ok=t_load <= 3, import_transformers_s=round(t_import, 2),
         **load)
    ids = tok(PROMPT, return_tensors="pt").input_ids
    default_threads = torch.get_num_threads()
    # first token after the model is loaded (the first request: prefill + one step, cold caches)
    t2 = time.perf_counter()
    first = next(iter(stream_generate(model, tok, ids, DecodeConfig(max_new_tokens=1))))
    t_first = time.perf_counter() - t2
    emit("gpt_first_token_s", t_first, "s", target="<= 1", ok=t_first <= 1, token=first.token,
         threads=default_threads, load_avg_1min=round(os.getloadavg()[0], 2))
    # greedy tokens/s with 1 thread and with all threads: on a shared, loaded machine 1 thread wins
    for threads in sorted({1, default_threads}):
        torch.set_num_threads(threads)
        t3 = time.perf_counter()
        warm = next(iter(stream_generate(model, tok, ids, DecodeConfig(max_new_tokens=1))))
        t_warm = time.perf_counter() - t3
        t3, c3 = time.perf_counter(), time.process_time()
        steps = list(stream_generate(model, tok, ids, DecodeConfig(max_new_tokens=N_TOKENS)))
        dt, cpu = time.perf_counter() - t3, time.process_time() - c3
        rate = len(steps) / dt
        with torch.no_grad():
            t4 = time.perf_counter()
            out = model.generate(ids, attention_mask=torch.ones_like(ids), do_sample=False, max_new_tokens=N_TOKENS)
            dt_ref = time.perf_counter() - t4
        n_ref = out.shape[1] - ids.shape[1]
        emit(f"gpt_greedy_tokens_per_s_{threads}thread", rate, "tokens/s", target=">= 15", ok=rate >= 15,
             tokens=len(steps), first_token_warm_s=round(t_warm, 3), peer="transformers generate(do_sample=False)",
             peer_value=round(n_ref / dt_ref, 2), ratio=round(rate / (n_ref / dt_ref), 3), threads=threads,
             load_avg_1min=round(os.getloadavg()[0], 2), text=warm.token,
             tokens_per_cpu_s=round(len(steps) / max(cpu, 1e-9), 2))
    torch.set_num_threads(1)
    t5 = time.perf_counter()
    from dlcore.nlp.decoding import beam_search

    res = beam_search(model, tok, ids, DecodeConfig(strategy="beam", num_beams=3, max_new_tokens=16))
    emit("gpt_beam3_16tok_s", time.perf_counter() - t5, "s", threads=1, best=res.texts[0][:40])
    torch.set_num_threads(default_threads)
    emit("gpt_peak_rss_mb", peak_rss_mb(), "MiB", rss_after_imports_mb=round(rss_import),
         note="this process with SmolLM2 loaded and decoding "
         "(the encoder's figure comes from bench_bert; the lead combines)")


def hub_fail_time() -> None:
    """A hub name against a black-hole hub (a local socket that accepts and never answers), in two ways:
    ``dlcore.hub.fetch`` in this process, and the app's ``/gpt_fetch`` (3 callers) while an offline
    ``/gpt_generate`` runs on the same server (it must finish: the hub waits hold no heavy slot)."""
    from concurrent.futures import ThreadPoolExecutor

    from bench.common import free_port, wait_http
    from dlcore import hub
    from tests.dlcore.nlp.fakehub import black_hole

    target = hub.PROBE_TIMEOUT_S + 0.5
    with black_hole() as url:
        env = {k: v for k, v in os.environ.items() if k not in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")}
        os.environ.pop("HF_HUB_OFFLINE", None)
        os.environ["HF_ENDPOINT"] = url
        hub.reset_cache()
        t = time.perf_counter()
        try:
            hub.fetch("gpt2")
            msg = "fetched?"
        except ValueError as exc:
            msg = str(exc)
        dt = time.perf_counter() - t
        emit("gpt_hub_black_hole_fail_s", dt, "s", target=f"<= {target:g} (probe deadline {hub.PROBE_TIMEOUT_S:g} s)",
             ok=dt <= target, message=msg[:90], load_avg_1min=round(os.getloadavg()[0], 2))
        port = free_port()
        proc = subprocess.Popen([sys.executable, "launch.py", "--port", str(port), "--tabs", "gpt"],
                                cwd=Path(__file__).resolve().parents[1], stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, env={**env, "HF_ENDPOINT": url, "PYTHONPATH": "."})
        try:
            app = f"http://127.0.0.1:{port}/"
            wait_http(app, proc)
            from gradio_client import Client

            clients = [Client(app, verbose=False) for _ in range(4)]  # made before timing (each asks for the API)
            clients[0].predict("smollm2", "Hi", "plain", "greedy", 1, 0.8, 50, 0.95, 1.0, 3, 0, api_name="/gpt_generate")
            noop = time.perf_counter()
            clients[0].predict("smollm2", api_name="/gpt_fetch")  # an offline name: the round trip alone
            noop = time.perf_counter() - noop

            def fail(c: Client, name: str) -> float:
                t0 = time.perf_counter()
                try:
                    c.predict(name, api_name="/gpt_fetch")
                except Exception:  # noqa: BLE001 - the expected AppError
                    pass
                return time.perf_counter() - t0

            def gen(c: Client) -> float:
                t0 = time.perf_counter()
                c.predict("smollm2", PROMPT, "plain", "greedy", 8, 0.8, 50, 0.95, 1.0, 3, 0, api_name="/gpt_generate")
                return time.perf_counter() - t0

            with ThreadPoolExecutor(4) as ex:
                fails = [ex.submit(fail, c, n) for c, n in zip(clients, ("gpt2", "distilgpt2", "gpt2"))]
                g = ex.submit(gen, clients[3])
                f_times, g_time = [f.result() for f in fails], g.result()
            emit("gpt_app_hub_black_hole_fail_s", max(f_times), "s", deadline_s=hub.PROBE_TIMEOUT_S,
                 round_trip_s=round(noop, 3), callers=len(f_times), per_caller_s=[round(t, 2) for t in f_times],
                 offline_generate_meanwhile_s=round(g_time, 2),
                 note="3 /gpt_fetch calls (gpt2 twice: one download joined) + 1 offline /gpt_generate (8 tokens) at "
                      "once on one server", load_avg_1min=round(os.getloadavg()[0], 2))
        finally:
            proc.terminate()
            proc.wait(10)


def main(argv: list[str]) -> int:
    if argv[:1] == ["--phase"]:
        phase(argv[1])
        return 0
    hub_fail_time()
    if "--hub-only" in argv:
        return 0
    env = dict(os.environ)
    tmp = tempfile.mkdtemp(prefix="bench_gpt_cache_")
    try:
        if "--no-convert" not in argv:
            env["DL_LAB_CACHE"] = tmp
            r = subprocess.run([sys.executable, __file__, "--phase", "convert"], env=env, capture_output=True, text=True)
            sys.stdout.write("".join(line + "\n" for line in r.stdout.splitlines() if line.startswith("{")))
            if r.returncode:
                sys.stderr.write(r.stderr[-2000:])
                return r.returncode
        # as the app runs, then with OMP_WAIT_POLICY=PASSIVE: on a shared, busy machine OpenMP threads that
        # spin while waiting steal the CPU from each other (2 threads can be 5x slower than 1)
        variants = [env] + ([{**env, "OMP_WAIT_POLICY": "PASSIVE", "BENCH_GPT_VARIANT": "1"}]
                            if "OMP_WAIT_POLICY" not in env else [])
        for e in variants:
            r = subprocess.run([sys.executable, __file__, "--phase", "cached"], env=e, capture_output=True, text=True)
            sys.stdout.write("".join(line + "\n" for line in r.stdout.splitlines() if line.startswith("{")))
            if r.returncode:
                sys.stderr.write(r.stderr[-2000:])
                return r.returncode
        return 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
