"""Sequence tab figures (issue 16, sequence half).

* one LSTM epoch on the seed's sine data (seed 003 §dl_3_2: 780 windows of 20, batch 32, Adam),
  through the lab's race (the one Trainer), next to the seed's own loop (DataLoader + nn.LSTM) in
  the same run;
* char-model sampling: characters per second of the hand-written one-character Stepper, next to
  calling the model's ``nn.LSTM`` once per character (the obvious way) on the same weights;
* the hand-derived ‖∂h_T/∂h_t‖ of the three cells at T = 50 (with the autograd check).

Targets (issue 16): one LSTM epoch on the seed's sine data <= 0.5 s; char sampling >= 200 chars/s.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import emit, load_avg  # noqa: E402


def bench_lstm_epoch() -> None:
    import torch

    from dlcore.sequence.names import SineConfig
    from dlcore.sequence.predictors import race_sines
    from tests.dlcore.sequence import seedcode

    torch.set_num_threads(1)
    t0 = time.perf_counter()
    for race in race_sines(SineConfig(epochs=10), ["lstm"]):
        pass
    ours = [e.seconds for e in race.runs["lstm"].history.epochs]
    t1 = time.perf_counter()
    seedcode.dl_3_2(num_epochs=10)
    peer = (time.perf_counter() - t1) / 10
    emit("lstm_epoch_seed_sine", round(statistics.median(ours), 4), "s", runs=len(ours),
         wall_per_epoch=round((t1 - t0) / 10, 4), peer="seed 003 §dl_3_2 loop (DataLoader, nn.LSTM), per epoch with test",
         peer_value=round(peer, 4), target="<= 0.5 s", load_avg=load_avg())


def bench_char_sampling() -> None:
    import torch

    from dlcore.sequence.charlm import char_data, sample_text
    from dlcore.sequence.models import CharModel

    data = char_data("hamlet", 20_000)
    torch.manual_seed(0)
    model = CharModel(len(data.vocab), "lstm", 128).eval()
    sample_text(model, data.vocab, "HAMLET.", 50)
    n = 2000
    t = time.perf_counter()
    sample_text(model, data.vocab, "HAMLET.", n, 0.8)
    ours = n / (time.perf_counter() - t)
    torch.set_num_threads(1)
    with torch.inference_mode():
        state, nxt = None, torch.tensor([[0]])
        t = time.perf_counter()
        for _ in range(500):
            out, state = model.step(nxt, state)
            nxt = torch.multinomial(torch.softmax(out[0, -1] / 0.8, -1), 1).view(1, 1)
        peer = 500 / (time.perf_counter() - t)
    emit("char_sampling", round(ours), "chars/s", chars=n, peer="nn.LSTM called once per character",
         peer_value=round(peer), target=">= 200 chars/s", load_avg=load_avg())


def bench_jacobians() -> None:
    import torch

    from dlcore.sequence.views import jacobian_view

    jacobian_view("trained", 50)
    t = time.perf_counter()
    v = jacobian_view("trained", 50)
    emit("jacobians_three_cells_T50", round((time.perf_counter() - t) * 1000), "ms",
         max_diff=max(j.max_abs_diff for j in v.results.values()), torch_threads=torch.get_num_threads())


if __name__ == "__main__":
    bench_lstm_epoch()
    bench_char_sampling()
    bench_jacobians()
