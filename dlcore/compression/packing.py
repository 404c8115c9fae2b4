"""Low-bit weights stored as what they are: packed ``b``-bit codes plus a codebook or scales.

A layer whose weights take only ``k = 2^b`` values needs ``b`` bits per weight plus the ``k``
values themselves (Han et al. 2016, Deep Compression, https://arxiv.org/abs/1510.00149)::

    bits = n · b + k · 32        (codebook)       e.g. LeNet fc1, k = 16: 235,200·4 + 16·32

:func:`pack_bits` packs integer codes ``0 ≤ c < 2^b`` into bytes (little-endian within a
byte, any ``b`` from 1 to 8); :class:`PackedLayer` keeps a Linear/Conv2d layer in that form
(codes as a ``uint8`` buffer, so ``torch.save`` of the state dict *is* the compressed file) and
decodes the float weight once, on first use, for an ordinary dense forward pass. So packing
saves storage, not compute: without a low-bit kernel the CPU multiplies fp32 as before.

Two decoders: ``"codebook"`` (``W = codebook[c]``: k-means sharing, binary ``±α``) and
``"scale"`` (``W_ij = (c_ij − 2^{b−1}) · scale_i``: symmetric per-output-channel integers, e.g.
int4 in ``[−8, 7]``).
"""

from __future__ import annotations

from typing import Callable, Literal

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["pack_bits", "unpack_bits", "PackedLayer", "replace_layers", "Decoder"]

Decoder = Literal["codebook", "scale"]


def pack_bits(codes: torch.Tensor, bits: int) -> torch.Tensor:
    """Pack integer codes in ``[0, 2^bits)`` into a ``uint8`` tensor of ``ceil(n·bits/8)`` bytes.

    Shape: ``(any)`` → ``(ceil(numel · bits / 8),)``.
    """
    if not 1 <= int(bits) <= 8:
        raise ValueError(f"bits {bits} must be in [1, 8]")
    c = codes.flatten().to(torch.int64)
    if c.numel() and (int(c.min()) < 0 or int(c.max()) >= 2 ** bits):
        raise ValueError(f"codes must be in [0, {2 ** bits}) for {bits} bits")
    shifts = torch.arange(bits, dtype=torch.int64)
    stream = ((c[:, None] >> shifts) & 1).flatten()  # (n·bits,) bit stream, LSB first
    pad = (-stream.numel()) % 8
    stream = torch.cat([stream, stream.new_zeros(pad)]).reshape(-1, 8)  # (bytes, 8)
    return (stream << torch.arange(8, dtype=torch.int64)).sum(1).to(torch.uint8)


def unpack_bits(packed: torch.Tensor, bits: int, n: int) -> torch.Tensor:
    """Inverse of :func:`pack_bits`: the first ``n`` codes as ``int64``. Shape ``(n,)``."""
    if not 1 <= int(bits) <= 8:
        raise ValueError(f"bits {bits} must be in [1, 8]")
    b = packed.to(torch.int64)
    stream = ((b[:, None] >> torch.arange(8, dtype=torch.int64)) & 1).flatten()[: n * bits]
    return (stream.reshape(n, bits) << torch.arange(bits, dtype=torch.int64)).sum(1)


class PackedLayer(nn.Module):
    """A Linear or Conv2d whose weight is stored as packed ``bits``-bit codes.

    Args:
        layer: the float layer (its kind, shape, bias, stride/padding are copied).
        codes: integer codes, same shape as ``layer.weight``, in ``[0, 2^bits)``.
        bits: bits per code (1..8).
        decoder: ``"codebook"`` with ``table`` the ``(2^bits,)`` values, or ``"scale"`` with
            ``table`` the ``(C_out,)`` per-channel scales.
    """

    def __init__(self, layer: nn.Module, codes: torch.Tensor, bits: int, decoder: Decoder,
                 table: torch.Tensor) -> None:
        super().__init__()
        if not isinstance(layer, (nn.Linear, nn.Conv2d)):
            raise ValueError(f"PackedLayer wraps Linear or Conv2d, not {type(layer).__name__}")
        if decoder not in ("codebook", "scale"):
            raise ValueError(f"decoder {decoder!r} is not 'codebook' or 'scale'")
        self.kind = "linear" if isinstance(layer, nn.Linear) else "conv2d"
        self.shape = tuple(layer.weight.shape)
        self.bits, self.decoder = int(bits), decoder
        self.conv_args = {} if self.kind == "linear" else dict(
            stride=layer.stride, padding=layer.padding, dilation=layer.dilation, groups=layer.groups)
        self.register_buffer("codes", pack_bits(codes, bits))  # (ceil(n·b/8),) uint8
        self.register_buffer("table", table.detach().float().clone())
        self.bias = None if layer.bias is None else nn.Parameter(layer.bias.detach().clone())
        self._decoded: torch.Tensor | None = None

    def decode(self) -> torch.Tensor:
        """The float weight these codes stand for. Shape ``layer.weight.shape``."""
        n = 1
        for s in self.shape:
            n *= s
        c = unpack_bits(self.codes, self.bits, n).reshape(self.shape)
        if self.decoder == "codebook":
            return self.table[c]
        offset = 2 ** (self.bits - 1)
        view = (-1,) + (1,) * (len(self.shape) - 1)
        return (c - offset).float() * self.table.reshape(view)

    @property
    def weight(self) -> torch.Tensor:
        if self._decoded is None:  # decode once; dense fp32 compute afterwards
            with torch.inference_mode(False), torch.no_grad():  # a normal tensor, even if first used
                self._decoded = self.decode()                  # under inference_mode (then autograd works)
        return self._decoded

    def _load_from_state_dict(self, *args, **kwargs):  # new codes → decode again
        self._decoded = None
        return super()._load_from_state_dict(*args, **kwargs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.kind == "linear":
            return F.linear(x, self.weight, self.bias)
        return F.conv2d(x, self.weight, self.bias, **self.conv_args)

    def extra_repr(self) -> str:
        return f"{self.kind} {self.shape}, {self.bits}-bit {self.decoder}"


def replace_layers(model: nn.Module, fn: Callable[[str, nn.Module], nn.Module | None]) -> nn.Module:
    """Replace, in place, every Linear/Conv2d ``m`` named ``name`` by ``fn(name, m)`` (None keeps it)."""
    for name, mod in list(model.named_modules()):
        for child_name, child in list(mod.named_children()):
            if isinstance(child, (nn.Linear, nn.Conv2d)):
                full = f"{name}.{child_name}" if name else child_name
                new = fn(full, child)
                if new is not None:
                    setattr(mod, child_name, new)
    return model
