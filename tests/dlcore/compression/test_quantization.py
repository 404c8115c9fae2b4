"""Quantization paths: outputs close to float, smaller files, honest unavailability, no global side
effects from torchao; bit packing and the int4 codes."""

from __future__ import annotations

import warnings

import pytest
import torch

from dlcore.compression import (QUANT_PATHS, PackedLayer, QuantUnavailable, model_size, pack_bits, path_available,
                                quantize, unpack_bits)
from dlcore.compression.quantization import int4_codes
from tests.dlcore.compression.fixtures import digits, make_cnn, make_mlp

#: bits -> (max relative error ‖q(x) − f(x)‖ / ‖f(x)‖, min top-1 agreement) on untrained tiny nets
TOL = {8: (0.03, 0.95), 4: (0.2, 0.85)}


def _inductor_flags() -> tuple:
    import torch._inductor.config as ic

    return (ic.coordinate_descent_tuning, ic.coordinate_descent_check_all_directions, ic.force_fuse_int_mm_with_mul,
            ic.fx_graph_cache, ic.triton.unique_kernel_names, torch.get_float32_matmul_precision())


@pytest.mark.parametrize("path", list(QUANT_PATHS))
@pytest.mark.parametrize("factory", [make_mlp, make_cnn], ids=["mlp", "cnn"])
def test_quantized_outputs_are_close_to_float_and_files_smaller(path, factory) -> None:
    d = digits()
    model = factory()
    x = d.x_test[:128] if factory is make_cnn else d.x_test[:128].flatten(1)
    calib = d.x_train[:512] if factory is make_cnn else d.x_train[:512].flatten(1)
    flags = _inductor_flags()
    try:
        q = quantize(model, path, calibration=calib)
    except QuantUnavailable as exc:
        ok, why = path_available(path)
        assert not ok and path == "torchao_int4_weight_only", f"{path} unexpectedly unavailable: {exc}"
        pytest.skip(f"{path} has no kernel here: {why}")
    assert _inductor_flags() == flags  # torchao's quantize_ kept its hands off inductor's globals
    with torch.no_grad():
        ref, out = model(x), q(x)
    rel, agree = TOL[QUANT_PATHS[path].bits]
    assert float((out - ref).norm() / ref.norm()) <= rel
    assert float((out.argmax(1) == ref.argmax(1)).float().mean()) >= agree
    with torch.no_grad():
        torch.testing.assert_close(model(x), ref)  # the float model is untouched
    if path in ("ao_dynamic_int8", "ao_static_int8", "fake_int4") and factory is make_mlp:
        assert model_size(q).disk_bytes < model_size(model).disk_bytes


def test_torch_ao_warnings_are_silenced_locally_only() -> None:
    model = make_mlp()
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        quantize(model, "ao_dynamic_int8")
    assert not [w for w in seen if "deprecated" in str(w.message)]
    assert QUANT_PATHS["ao_dynamic_int8"].deprecated and QUANT_PATHS["ao_static_int8"].deprecated
    assert not QUANT_PATHS["torchao_int8_weight_only"].deprecated


def test_unknown_path_and_missing_calibration_raise() -> None:
    with pytest.raises(ValueError, match="path 'int3' is not one of"):
        quantize(make_mlp(), "int3")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="needs calibration"):
        quantize(make_mlp(), "ao_static_int8")


@pytest.mark.parametrize("bits", [1, 2, 3, 4, 5, 7, 8])
def test_pack_bits_round_trips_and_is_dense(bits) -> None:
    g = torch.Generator().manual_seed(bits)
    codes = torch.randint(0, 2 ** bits, (1001,), generator=g)
    packed = pack_bits(codes, bits)
    assert packed.dtype == torch.uint8 and packed.numel() == -(-1001 * bits // 8)
    torch.testing.assert_close(unpack_bits(packed, bits, 1001), codes)
    with pytest.raises(ValueError, match="codes must be in"):
        pack_bits(torch.tensor([2 ** bits]), bits)
    with pytest.raises(ValueError, match="bits 9"):
        pack_bits(codes, 9)


def test_int4_codes_are_the_rounded_per_channel_grid() -> None:
    w = torch.tensor([[0.7, -0.35, 0.1], [-1.4, 0.2, 0.0]])
    codes, scales = int4_codes(w)
    torch.testing.assert_close(scales, torch.tensor([0.1, 0.2]))
    torch.testing.assert_close(codes - 8, torch.tensor([[7, -4, 1], [-7, 1, 0]]))  # round half to even
    layer = torch.nn.Linear(3, 2)
    with torch.no_grad():
        layer.weight.copy_(w)
    packed = PackedLayer(layer, codes, 4, "scale", scales)
    torch.testing.assert_close(packed.weight, (codes - 8).float() * scales[:, None])
    assert packed.codes.numel() == 3  # 6 weights × 4 bits = 3 bytes


def test_a_packed_layer_first_used_under_inference_mode_still_backpropagates() -> None:
    layer = torch.nn.Linear(6, 3)
    codes, scales = int4_codes(layer.weight)
    packed = PackedLayer(layer, codes, 4, "scale", scales)
    with torch.inference_mode():
        packed(torch.rand(2, 6))  # latency measurement decodes the weight here
    x = torch.rand(2, 6, requires_grad=True)
    packed(x).sum().backward()
    torch.testing.assert_close(x.grad, packed.weight.sum(0).expand(2, 6))
