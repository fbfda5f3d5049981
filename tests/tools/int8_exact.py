"""Checks that the INT8 detector's integer arithmetic is exact on this CPU, so that its answer
does not depend on which x86-64 CPU runs it.

Usage: python int8_exact.py MODEL.onnx IMAGE...   (run by tests/recognition.rs; the README's
       "The same answer on every CPU" runs it on an emulated AVX2-only CPU too)

Two checks, printed as one JSON line; the exit status is 1 where either fails:
1. Static: no convolution can overflow a 16-bit pair sum. On CPUs without VNNI (AVX2, and
   AVX-512 without VNNI), ONNX Runtime multiplies uint8 activations by int8 weights with
   VPMADDUBSW, which adds each two neighbouring products into a saturating int16: 255 * 127 * 2
   = 64770 does not fit, and the sum is clipped, where VNNI's VPDPBUSD adds into int32 exactly.
   Weights quantized to 7 bits (|w| <= 64: 255 * 64 * 2 = 32640) cannot saturate.
2. Measured: every convolution's uint8 output, as ONNX Runtime computed it on each image, equals
   the exact integer result recomputed from its uint8 input: sum((x - x_zero) * w) + bias in
   integers, times the float32 scale x_scale * w_scale / y_scale, rounded half to even, plus the
   output's zero point, clamped to 0..255 (ONNX Runtime's QLinearConv requantization).
Images are scaled as the detector scales a frame (longer side at most 640, padded to multiples
of 32) by ffmpeg.
"""

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from onnx import numpy_helper

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "setup"))
from quantize_centerface import Frames  # noqa: E402  (the calibration's own preprocessing)

INT16_MAX = 32767
FIT = "scale=w='min(640,iw)':h='min(640,ih)':force_original_aspect_ratio=decrease"


class Graph:
    def __init__(self, model: onnx.ModelProto):
        self.init = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
        self.producer = {o: n for n in model.graph.node for o in n.output}
        self.consumers = {}
        for n in model.graph.node:
            for i in n.input:
                self.consumers.setdefault(i, []).append(n)

    def dequantized(self, name: str):
        """(quantized tensor, scale, zero point) behind a DequantizeLinear's output."""
        n = self.producer[name]
        assert n.op_type == "DequantizeLinear", n.op_type
        zero = self.init[n.input[2]] if len(n.input) > 2 and n.input[2] else np.zeros((), np.int32)
        return n.input[0], self.init[n.input[1]], zero

    def quantized_output(self, name: str) -> onnx.NodeProto:
        """The QuantizeLinear a convolution's output goes to, through a Relu where there is one
        (a zero point of 0 clamps as the Relu would)."""
        after = self.consumers[name]
        if len(after) == 1 and after[0].op_type == "Relu":
            after = self.consumers[after[0].output[0]]
        (q,) = [n for n in after if n.op_type == "QuantizeLinear"]
        return q


def convolve(x, w, stride, pads, dilation, group):
    """Exact integer convolution of x (1, C, H, W) by w (O, C/group, kh, kw). Every product and
    partial sum is an integer below 2^53, so float64 arithmetic (and BLAS) is exact."""
    _, channels, height, width = x.shape
    outputs, per_group, kh, kw = w.shape
    padded = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (pads[0], pads[2]), (pads[1], pads[3])))
    rows = (height + pads[0] + pads[2] - dilation[0] * (kh - 1) - 1) // stride[0] + 1
    cols = (width + pads[1] + pads[3] - dilation[1] * (kw - 1) - 1) // stride[1] + 1
    patches = np.empty((channels, kh, kw, rows, cols))
    for i in range(kh):
        for j in range(kw):
            top, left = i * dilation[0], j * dilation[1]
            patches[:, i, j] = padded[0, :, top:top + stride[0] * (rows - 1) + 1:stride[0],
                                      left:left + stride[1] * (cols - 1) + 1:stride[1]]
    out = np.empty((outputs, rows, cols))
    per_out = outputs // group
    for g in range(group):
        p = patches[g * per_group:(g + 1) * per_group].reshape(per_group * kh * kw, rows * cols)
        k = w[g * per_out:(g + 1) * per_out].reshape(per_out, per_group * kh * kw).astype(np.float64)
        out[g * per_out:(g + 1) * per_out] = (k @ p).reshape(per_out, rows, cols)
    assert np.abs(out).max() < 2 ** 53
    return out.astype(np.int64)


def main() -> int:
    if len(sys.argv) < 3:
        print(__doc__.strip().split("Usage: ")[-1].split("\n\n")[0], file=sys.stderr)
        return 2
    model = onnx.load(sys.argv[1])
    graph = Graph(model)
    convs = [n for n in model.graph.node if n.op_type == "Conv"]

    # 1. The largest pair sum any input could make: uint8 activations up to 255.
    largest_pair = max(255 * int(np.abs(graph.init[graph.dequantized(n.input[1])[0]].astype(np.int64)).max()) * 2
                       for n in convs)

    # 2. Every QuantizeLinear's output (the uint8 tensors between the integer kernels) exposed.
    exposed = {o.name for o in model.graph.output}
    for n in model.graph.node:
        if n.op_type == "QuantizeLinear" and n.output[0] not in exposed:
            model.graph.output.append(onnx.helper.make_tensor_value_info(n.output[0], onnx.TensorProto.UINT8, None))
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]

    checked = differing = 0
    with tempfile.TemporaryDirectory() as tmp:
        scaled = []
        for i, image in enumerate(sys.argv[2:]):
            ppm = Path(tmp) / f"{i}.ppm"
            subprocess.run(["ffmpeg", "-v", "error", "-i", image, "-vf", FIT, ppm], check=True)
            scaled.append(ppm)
        frames = Frames(scaled)
        for image in sys.argv[2:]:
            got = dict(zip(names, session.run(None, frames.get_next())))
            for n in convs:
                x_name, x_scale, x_zero = graph.dequantized(n.input[0])
                w_name, w_scale, w_zero = graph.dequantized(n.input[1])
                b_name, _, _ = graph.dequantized(n.input[2])
                q = graph.quantized_output(n.output[0])
                y_scale, y_zero = graph.init[q.input[1]], graph.init[q.input[2]]
                attrs = {a.name: onnx.helper.get_attribute_value(a) for a in n.attribute}
                dims = graph.init[w_name].ndim - 2
                w = graph.init[w_name].astype(np.int64) - np.asarray(w_zero, np.int64).reshape(-1, 1, 1, 1)
                acc = convolve(got[x_name].astype(np.int64) - int(x_zero), w, attrs.get("strides", [1] * dims),
                               attrs.get("pads", [0] * 2 * dims), attrs.get("dilations", [1] * dims),
                               attrs.get("group", 1))
                acc += graph.init[b_name].astype(np.int64)[:, None, None]
                scale = np.float32(x_scale) * w_scale.astype(np.float32) / np.float32(y_scale)
                exact = np.rint(acc.astype(np.float32) * scale[:, None, None]) + int(y_zero)
                exact = np.clip(exact, 0, 255).astype(np.uint8)[None]
                checked += 1
                if not np.array_equal(exact, got[q.output[0]]):
                    differing += 1
                    print(f"{image}: {n.name}: {int((exact != got[q.output[0]]).sum())} of {exact.size} values "
                          f"differ from the exact integer result", file=sys.stderr)
    print(json.dumps({"images": len(sys.argv) - 2, "convolutions_checked": checked,
                      "convolutions_differing": differing, "largest_pair_sum": largest_pair,
                      "int16_max": INT16_MAX}))
    return 0 if differing == 0 and largest_pair <= INT16_MAX else 1


if __name__ == "__main__":
    sys.exit(main())
