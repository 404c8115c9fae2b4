"""Bayes tab figures (seed 003 §dl_6): the notes' two trainings, each beside the notes' verbatim script
timed in the same run (the peer), plus the predictive summary and the handlers with their figures.

* variational 1-20-20-1, 2000 epochs (the library on its seeded generator, one torch thread) vs the
  notes' script on the global RNG at torch's default threads and at one thread;
* MC Dropout 1-64-64-1, 2000 epochs, the same way;
* ``summarize`` (M = 100 on [-5, 5] and at the training points) and each tab handler end to end.

Target: the default runs feel live on a 2-core CPU (about 1–3 s when the machine is idle; progress
streams twice a second either way).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import emit, emit_ms, timeit  # noqa: E402


def main(n: int = 3) -> None:
    import torch

    import apps.bayes as tab
    import apps.bayes_more as more
    from dlcore.bayes.training import DropoutConfig, VIConfig, train_mc_dropout, train_variational
    from dlcore.bayes.uncertainty import summarize
    from tests.dlcore.bayes.seed_scripts import mc_dropout_script, variational_script
    from tests.streams import last

    default_threads = torch.get_num_threads()

    def seed(script, threads):
        def run() -> None:
            saved = torch.get_num_threads()
            torch.set_num_threads(threads)
            try:
                with torch.random.fork_rng(devices=[]):
                    script()
            finally:
                torch.set_num_threads(saved)
        return run

    for name, train, cfg, script in (("variational", train_variational, VIConfig(), variational_script),
                                     ("mc_dropout", train_mc_dropout, DropoutConfig(), mc_dropout_script)):
        ours = timeit(lambda: last(train(cfg)), n)
        peer1 = timeit(seed(script, 1), n)
        peer = timeit(seed(script, default_threads), 1)
        emit_ms(f"bayes_{name}_2000_epochs", ours, peer="the notes' script verbatim, 1 torch thread",
                peer_ms=round(sorted(peer1)[len(peer1) // 2], 1),
                peer_default_threads_ms=round(peer[0], 1), default_threads=default_threads,
                note="includes M = 100 predictive passes in the peer only")
        run = last(train(cfg))
        emit_ms(f"bayes_{name}_summarize", timeit(lambda r=run: summarize(r), 5),
                note="M = 100 on 301 wide-grid points and the 100 training points")
    emit_ms("bayes_vi_handler_default", timeit(lambda: last(tab.train_vi(*tab.VI_DEFAULT)), 1),
            note="2000 epochs + summary + two figures + the weight written out")
    emit_ms("bayes_mc_handler_default", timeit(lambda: last(more.train_mc(*more.MC_DEFAULT)), 1))
    emit_ms("bayes_compare_handler_default", timeit(lambda: last(more.compare(*more.CMP_DEFAULT)), 1))


if __name__ == "__main__":
    print(json.dumps({"name": "load_average_1min", "value": os.getloadavg()[0], "unit": "",
                      "cpus": os.cpu_count()}), flush=True)
    main()
