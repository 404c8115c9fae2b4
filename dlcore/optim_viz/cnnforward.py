"""An exact, faster eval-mode forward of the zoo's :class:`~dlcore.models.cnn.SmallCNN` at many weights.

A loss landscape (:mod:`dlcore.optim_viz.landscape`) evaluates one network on the same images at
hundreds of weight settings θ. Run as written, the zoo CNN spends most of a forward pass on
memory traffic rather than arithmetic: on this 2-core CPU, ``max_pool2d`` over the first block's
``(N, 32, 28, 28)`` map took longer than the second convolution. :class:`CNNForward` computes the
same function from a parameter dict θ (nothing is written into the module, so several threads can
evaluate different θ at once) with four rewrites, each exact in real arithmetic:

1. **BatchNorm folded into the convolution.** In eval mode BatchNorm is a per-channel affine map,
   so ``BN(W∗x + b) = W'∗x + b'`` with ``s = γ/√(σ²+ε)``, ``W' = s·W``, ``b' = s·(b − μ) + β``.
2. **ReLU after the pool.** ReLU is monotone, so ``relu(maxpool(z)) = maxpool(relu(z))``, on a
   quarter of the elements.
3. **First convolution + pool as four GEMMs.** The images are unfolded once (im2col, with a
   column of ones so that the bias is one more row of the weight matrix); for each of the four
   positions in a 2×2 pool window the convolution at those pixels is one matrix product
   ``(n·S²/4, 9·C_in + 1) @ (9·C_in + 1, c₁)``, and the pool is the running maximum of the four,
   :data:`SUB` images at a time so that the running maximum stays in L2 (2-3× faster here than a
   whole chunk at once). The full-resolution map is never written.
4. **Second pool as two pairwise maxima** over contiguous halves of the channels-last
   convolution output (rows, then columns), and the first linear layer's columns permuted once per
   θ to that (y, x, c) order instead of copying the map back to (c, y, x): half the time of four
   strided maxima and a copy.

Images go through in chunks of :data:`CHUNK` so that the intermediates stay in cache. The result
equals ``net.eval()(x)`` up to float32 rounding (tests: ≤ 1e-4 on the logits); see
``tests/dlcore/optim_viz/test_landscape.py``.

``dtype=torch.bfloat16`` runs the second convolution, its pool and the first linear layer in
bfloat16 (8-bit mantissa; oneDNN accumulates in float32); the first block (its GEMMs have K = 10,
memory-bound, faster in float32 here) and the last layer stay float32. On a CPU with bfloat16
matrix units (Intel AMX / AVX-512 BF16, as here) that is about 2× faster; the loss moves by about
0.1-0.4 % of its value (tests: ≤ 1 %). :func:`bf16_speedup` measures, once per process, whether
this CPU gains from it; where bfloat16 is emulated it is several times slower.
"""

from __future__ import annotations

import copy
import functools
import time

import torch
from torch import nn
from torch.nn import functional as F

__all__ = ["CNNForward", "CHUNK", "DTYPES", "bf16_speedup"]

#: Images per chunk: a chunk's intermediates fit in cache (measured best of 64…500 here, float32 and bfloat16).
CHUNK = 128
#: Images per GEMM of the first block: its (SUB·(S/2)², c₁) running maximum and one product stay in L2.
SUB = 16
#: The arithmetic a CNNForward can run in, by name.
DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16}


@functools.cache
def bf16_speedup() -> float:
    """How many times faster this CPU runs the zoo CNN's second convolution (a chunk of 128 images,
    ``(128, 32, 14, 14) → 64`` channels, 3×3, channels-last) in bfloat16 than in float32, on the
    current torch threads: the best of 3 runs each, measured once per process (≈ 50 ms). Below 1
    where bfloat16 has no hardware support and is emulated."""
    def best(dt: torch.dtype) -> float:
        x = torch.randn(128, 32, 14, 14).to(dt).contiguous(memory_format=torch.channels_last)
        w = torch.randn(64, 32, 3, 3).to(dt).contiguous(memory_format=torch.channels_last)
        times = []
        with torch.no_grad():
            for _ in range(4):
                t = time.perf_counter()
                F.conv2d(x, w, padding=1)
                times.append(time.perf_counter() - t)
        return min(times[1:])                                               # the first run sets up oneDNN
    return best(torch.float32) / best(torch.bfloat16)


def _check_dtype(dtype: torch.dtype) -> None:
    if dtype not in DTYPES.values():
        raise ValueError(f"dtype {dtype} is not one of {', '.join(DTYPES)}")


def _fold(theta: dict[str, torch.Tensor], bn: nn.BatchNorm2d, conv: str, norm: str
          ) -> tuple[torch.Tensor, torch.Tensor]:
    """(W', b') of conv ``conv`` followed by eval-mode BatchNorm ``norm`` (parameters from θ,
    running statistics from the module ``bn``). Shapes: ``(c_out, c_in, k, k)``, ``(c_out,)``."""
    s = theta[f"{norm}.weight"] / torch.sqrt(bn.running_var + bn.eps)       # (c_out,)
    w = theta[f"{conv}.weight"] * s.reshape(-1, 1, 1, 1)
    b = (theta[f"{conv}.bias"] - bn.running_mean) * s + theta[f"{norm}.bias"]
    return w, b


def _pool_nhwc(h: torch.Tensor) -> torch.Tensor:
    """2×2 max-pool, stride 2, of a contiguous ``(N, H, W, C)`` map as two pairwise maxima over
    contiguous halves (rows, then columns): ``(N·(H/2)·(W/2), C)``."""
    n, hh, w, c = h.shape
    rows = h.reshape(n * (hh // 2), 2, w * c)
    r = torch.maximum(rows[:, 0], rows[:, 1]).view(-1, 2, c)                  # (N·H/2·W/2, 2, C)
    return torch.maximum(r[:, 0], r[:, 1])


class CNNForward:
    """``logits = CNNForward(net, x)(θ)``: the eval-mode output of ``net`` with its parameters
    replaced by θ, on the fixed images ``x``, without touching ``net``.

    Args:
        net: a :class:`~dlcore.models.cnn.SmallCNN` (see :meth:`supports`); its buffers (the input
            standardisation and BatchNorm running statistics) are read, its parameters are not.
        x: ``(N, C_in, S, S)`` images.
        dtype: ``torch.float32`` (default: the module's function to float32 rounding) or
            ``torch.bfloat16`` (see the module docstring); the logits are float32 either way.

    Call with θ = a name → tensor dict holding every one of ``net``'s parameters; returns ``(N, classes)``.
    Thread-safe: each call allocates its own intermediates.
    """

    def __init__(self, net: nn.Module, x: torch.Tensor, chunk: int = CHUNK, dtype: torch.dtype = torch.float32
                 ) -> None:
        _check_dtype(dtype)
        if not self.supports(net):
            raise TypeError(f"{type(net).__name__} is not a SmallCNN: use the module itself")
        if x.dim() != 4 or x.shape[-1] != x.shape[-2] or x.shape[-1] % 4:
            raise ValueError(f"images of shape {tuple(x.shape)}: need (N, C, S, S) with S a multiple of 4")
        self.net, self.chunk, self.dtype = net, max(1, int(chunk)), dtype
        self.sub = max(1, min(self.chunk, SUB))
        n, c, s, _ = x.shape
        self.n, self.half = n, s // 2
        with torch.no_grad():
            cols = F.unfold(net.scale(x), 3, padding=1)                       # (N, 9·C, S²)
            cols = torch.cat([cols, torch.ones(n, 1, s * s)], 1)              # (N, 9·C + 1, S²): a 1 for the bias
            k = cols.shape[1]
            cols = cols.transpose(1, 2).reshape(n, self.half, 2, self.half, 2, k)
            # (4, N, (S/2)², 9·C + 1): the unfolded patches of each of the four pixels of every pool window
            self.cols = cols.permute(2, 4, 0, 1, 3, 5).reshape(4, n, self.half * self.half, k).contiguous()

    def with_dtype(self, dtype: torch.dtype) -> "CNNForward":
        """The same forward in ``dtype``, sharing these unfolded images (float32 in both; no copy)."""
        _check_dtype(dtype)
        twin = copy.copy(self)
        twin.dtype = dtype
        return twin

    @staticmethod
    def supports(net: nn.Module) -> bool:
        """True for the zoo's SmallCNN (conv-BN-ReLU-pool ×2, then the classifier)."""
        from dlcore.models.cnn import SmallCNN

        return type(net) is SmallCNN

    def __call__(self, theta: dict[str, torch.Tensor]) -> torch.Tensor:
        net, dt, half, sub = self.net, self.dtype, self.half, self.sub
        with torch.no_grad():
            w1, b1 = _fold(theta, net.block1[1], "block1.0", "block1.1")
            w2, b2 = _fold(theta, net.block2[1], "block2.0", "block2.1")
            # (9·C + 1, c₁): the bias is the last row, multiplied by the patches' column of ones
            w1m = torch.cat([w1.reshape(w1.shape[0], -1).t(), b1[None]]).contiguous()  # float32 always
            c1, k = w1m.shape[1], w1m.shape[0]
            w2, b2 = w2.to(dt).contiguous(memory_format=torch.channels_last), b2.to(dt)
            c2, side = w2.shape[0], half // 2
            fc1w = theta["classifier.2.weight"]                               # (h, c₂·(S/4)²), in (c, y, x) order
            fc1w = fc1w.reshape(-1, c2, side, side).permute(0, 2, 3, 1).reshape(fc1w.shape[0], -1).to(dt)  # (y, x, c)
            fc1b = theta["classifier.2.bias"].to(dt)
            fc2w, fc2b = theta["classifier.5.weight"], theta["classifier.5.bias"]  # the logits in float32
            h = torch.empty(sub * half * half, c1)                            # the running max and one GEMM,
            g = torch.empty_like(h)                                           # kept in cache (sub images)
            out = []
            for i in range(0, self.n, self.chunk):
                m = min(self.chunk, self.n - i)
                a1 = torch.empty(m * half * half, c1, dtype=dt)               # block 1's output, (c·(S/2)², c₁)
                for s in range(i, i + m, sub):                                # rewrite 3: pool = max of 4 GEMMs
                    q = self.cols[:, s:min(s + sub, i + m)].reshape(4, -1, k)  # (4, sub·(S/2)², 9·C + 1)
                    r, o = q.shape[1], (s - i) * half * half
                    torch.mm(q[0], w1m, out=h[:r])
                    for p in range(1, 4):
                        torch.maximum(h[:r], torch.mm(q[p], w1m, out=g[:r]), out=h[:r])
                    a1[o:o + r].copy_(h[:r].relu_())
                x2 = a1.view(m, half, half, c1).permute(0, 3, 1, 2)           # channels-last NCHW
                y2 = F.conv2d(x2, w2, b2, padding=1).permute(0, 2, 3, 1)      # (c, S/2, S/2, c₂), contiguous
                h2 = _pool_nhwc(y2).relu_().view(m, -1)                       # rewrite 4: (c, (S/4)²·c₂)
                h2 = F.linear(h2, fc1w, fc1b).relu_()                         # dropout is off in eval
                out.append(F.linear(h2.float(), fc2w, fc2b))                  # (c, classes)
            return torch.cat(out)
