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
3. **First convolution + pool as four GEMMs.** The images are unfolded once (im2col); for each of
   the four positions in a 2×2 pool window the convolution at those pixels is one matrix product
   ``(N·S²/4, 9·C_in) @ (9·C_in, c₁)``, and the pool is the running maximum of the four. The
   full-resolution map is never written.
4. **Second pool as four strided maxima** of the channels-last convolution output.

Images go through in chunks of :data:`CHUNK` so that the intermediates stay in cache. The result
equals ``net.eval()(x)`` up to float32 rounding (tests: ≤ 1e-4 on the logits); see
``tests/dlcore/optim_viz/test_landscape.py``.

``dtype=torch.bfloat16`` runs the second convolution, its pool and the first linear layer in
bfloat16 (8-bit mantissa; oneDNN accumulates in float32); the first block (its GEMMs have K = 9,
memory-bound, faster in float32 here) and the last layer stay float32. On a CPU with bfloat16
matrix units (Intel AMX / AVX-512 BF16, as here) that is about 2× faster; the loss moves by about
0.1-0.4 % of its value (tests: ≤ 1 %). :func:`bf16_speedup` measures, once per process, whether
this CPU gains from it; where bfloat16 is emulated it is several times slower.
"""

from __future__ import annotations

import functools
import time

import torch
from torch import nn
from torch.nn import functional as F

__all__ = ["CNNForward", "CHUNK", "DTYPES", "bf16_speedup"]

#: Images per chunk: a chunk's intermediates fit in cache (measured best of 64…500 here, float32 and bfloat16).
CHUNK = 128
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


def _fold(theta: dict[str, torch.Tensor], bn: nn.BatchNorm2d, conv: str, norm: str
          ) -> tuple[torch.Tensor, torch.Tensor]:
    """(W', b') of conv ``conv`` followed by eval-mode BatchNorm ``norm`` (parameters from θ,
    running statistics from the module ``bn``). Shapes: ``(c_out, c_in, k, k)``, ``(c_out,)``."""
    s = theta[f"{norm}.weight"] / torch.sqrt(bn.running_var + bn.eps)       # (c_out,)
    w = theta[f"{conv}.weight"] * s.reshape(-1, 1, 1, 1)
    b = (theta[f"{conv}.bias"] - bn.running_mean) * s + theta[f"{norm}.bias"]
    return w, b


def _pool(h: torch.Tensor) -> torch.Tensor:
    """2×2 max-pool, stride 2, of ``(N, C, H, W)`` (any memory format) as four strided maxima."""
    return torch.maximum(torch.maximum(h[:, :, 0::2, 0::2], h[:, :, 0::2, 1::2]),
                         torch.maximum(h[:, :, 1::2, 0::2], h[:, :, 1::2, 1::2]))


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
        if dtype not in DTYPES.values():
            raise ValueError(f"dtype {dtype} is not one of {', '.join(DTYPES)}")
        if not self.supports(net):
            raise TypeError(f"{type(net).__name__} is not a SmallCNN: use the module itself")
        if x.dim() != 4 or x.shape[-1] != x.shape[-2] or x.shape[-1] % 4:
            raise ValueError(f"images of shape {tuple(x.shape)}: need (N, C, S, S) with S a multiple of 4")
        self.net, self.chunk, self.dtype = net, max(1, int(chunk)), dtype
        n, c, s, _ = x.shape
        self.n, self.half = n, s // 2
        with torch.no_grad():
            cols = F.unfold(net.scale(x), 3, padding=1)                       # (N, 9·C, S²)
            k = cols.shape[1]
            cols = cols.transpose(1, 2).reshape(n, self.half, 2, self.half, 2, k)
            # (4, N, (S/2)², 9·C): the unfolded patches of each of the four pixels of every pool window
            self.cols = cols.permute(2, 4, 0, 1, 3, 5).reshape(4, n, self.half * self.half, k).contiguous()

    @staticmethod
    def supports(net: nn.Module) -> bool:
        """True for the zoo's SmallCNN (conv-BN-ReLU-pool ×2, then the classifier)."""
        from dlcore.models.cnn import SmallCNN

        return type(net) is SmallCNN

    def __call__(self, theta: dict[str, torch.Tensor]) -> torch.Tensor:
        net, dt = self.net, self.dtype
        with torch.no_grad():
            w1, b1 = _fold(theta, net.block1[1], "block1.0", "block1.1")
            w2, b2 = _fold(theta, net.block2[1], "block2.0", "block2.1")
            w1m = w1.reshape(w1.shape[0], -1).t().contiguous()                # (9·C, c₁), float32 always
            w2, b2 = w2.to(dt).contiguous(memory_format=torch.channels_last), b2.to(dt)
            fc1w, fc1b = theta["classifier.2.weight"].to(dt), theta["classifier.2.bias"].to(dt)
            fc2w, fc2b = theta["classifier.5.weight"], theta["classifier.5.bias"]  # the logits in float32
            out = []
            for i in range(0, self.n, self.chunk):
                q = self.cols[:, i:i + self.chunk]                            # (4, c, (S/2)², 9·C)
                m = q.shape[1]
                h = torch.mm(q[0].reshape(-1, q.shape[-1]), w1m)              # (c·(S/2)², c₁)
                for k in range(1, 4):                                         # rewrite 3: pool = max of 4 GEMMs
                    torch.maximum(h, torch.mm(q[k].reshape(-1, q.shape[-1]), w1m), out=h)
                h = h.add_(b1).relu_().to(dt).view(m, self.half, self.half, -1).permute(0, 3, 1, 2)  # channels-last NCHW
                h = F.conv2d(h, w2, b2, padding=1)                            # (c, c₂, S/2, S/2)
                h = _pool(h).relu_().contiguous().flatten(1)                  # (c, c₂·(S/4)²)
                h = F.linear(h, fc1w, fc1b).relu_()                           # dropout is off in eval
                out.append(F.linear(h.float(), fc2w, fc2b))                   # (c, classes)
            return torch.cat(out)
