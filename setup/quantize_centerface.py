"""Make the INT8 CenterFace that screentime detects with by default, from the fp32 one.

In:  models/centerface.onnx (setup/convert_centerface.py's output) and the calibration ranges
     committed in setup/centerface_int8_calibration.json.
Out: the same network with static INT8 quantization (QDQ: weights int8 per output channel in
     7 bits, activations uint8 with the committed ranges), which ONNX Runtime runs with its
     integer kernels: a full 640x384 frame in about half the fp32 time on this project's 2-core
     machine.

Why 7-bit weights (ONNX Runtime's reduce_range): the same answer on every x86-64 CPU. Without
VNNI (AVX2, and AVX-512 without VNNI) ONNX Runtime multiplies uint8 activations by int8 weights
with VPMADDUBSW, which adds each two neighbouring products into a saturating 16-bit sum: with
8-bit weights that sum reaches 255 * 127 * 2 = 64770 and is clipped, so an AVX2 machine computed
other faces than a VNNI one (fotb's worst cast recall 93.4% against 95.6%). With weights in
-64..64 it is at most 255 * 64 * 2 = 32640: no CPU clips, and every convolution is the exact
integer result everywhere (tests/tools/int8_exact.py checks it on the machine it runs on).

Why committed ranges: static quantization needs each activation's range, measured by running
the fp32 network on real frames. Those frames are development footage (bench/quantize.py
measures them there and rewrites the JSON); a user's machine has none, so it gets the ranges
and makes the same model from them, byte for byte.

The network is first raised from opset 9 to 13 (per-channel QuantizeLinear needs 13) and
prepared as ONNX Runtime's quantization tools ask (shape inference, graph optimization).

Usage: python quantize_centerface.py FP32.onnx RANGES.json OUT.onnx   (OUT is written atomically)
       python quantize_centerface.py --calibrate FP32.onnx RANGES.json IMAGE.ppm...
         (development, run by bench/quantize.py: measures the ranges on the images, each
         already scaled as the detector scales a frame, and writes RANGES.json)
"""

import sys
import tempfile
from pathlib import Path

import numpy as np
import onnx
from onnx import version_converter
from onnxruntime.quantization import (CalibrationDataReader, CalibrationMethod, QuantFormat, QuantType,
                                      quantize_static)
from onnxruntime.quantization.shape_inference import quant_pre_process

from convert_dlib import write_atomically

OPSET = 13


def prepared(fp32: Path, work: Path) -> Path:
    """The fp32 network at opset 13, prepared for quantization; the same file whether it is
    calibrated or quantized, so the ranges' tensor names match."""
    raised = work / "opset13.onnx"
    onnx.save(version_converter.convert_version(onnx.load(fp32), OPSET), raised)
    ready = work / "prepared.onnx"
    quant_pre_process(str(raised), str(ready), skip_symbolic_shape=True)
    return ready


def quantize(fp32: Path, ranges: Path, out: Path, images: list[Path] | None = None) -> None:
    """Quantizes with the ranges in `ranges`; with `images`, measures them there first and
    writes them to `ranges`."""
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        cache = work / "ranges.json"
        if images is None:
            cache.write_bytes(ranges.read_bytes())
        quantize_static(str(prepared(fp32, work)), str(work / "int8.onnx"),
                        Frames(images) if images is not None else None,
                        quant_format=QuantFormat.QDQ, per_channel=True, reduce_range=True,
                        activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                        calibrate_method=CalibrationMethod.MinMax, calibration_cache_path=str(cache))
        if images is not None:
            write_atomically(ranges, cache.read_bytes())
        write_atomically(out, (work / "int8.onnx").read_bytes())


class Frames(CalibrationDataReader):
    """Each image (binary PPM, already scaled as the detector scales a frame: bench/quantize.py)
    as the network sees it: float RGB 0..255 NCHW, zero-padded right and bottom to multiples of
    32."""

    def __init__(self, images: list[Path]):
        self.images = iter(images)

    def get_next(self):
        path = next(self.images, None)
        if path is None:
            return None
        pixels = read_ppm(path).astype(np.float32).transpose(2, 0, 1)
        rows, cols = -(-pixels.shape[1] // 32) * 32, -(-pixels.shape[2] // 32) * 32
        tensor = np.zeros((1, 3, rows, cols), np.float32)
        tensor[0, :, :pixels.shape[1], :pixels.shape[2]] = pixels
        return {"input.1": tensor}


def read_ppm(path: Path) -> np.ndarray:
    """A binary 8-bit PPM (as ffmpeg writes it) as rows x columns x RGB."""
    data = path.read_bytes()
    fields, at = [], 0
    while len(fields) < 4:  # magic, width, height, maximum; whitespace-separated
        while data[at:at + 1].isspace():
            at += 1
        start = at
        while not data[at:at + 1].isspace():
            at += 1
        fields.append(data[start:at])
    if fields[0] != b"P6" or fields[3] != b"255":
        raise ValueError(f"{path}: not an 8-bit binary PPM")
    width, height = int(fields[1]), int(fields[2])
    return np.frombuffer(data, np.uint8, width * height * 3, at + 1).reshape(height, width, 3)


def main() -> int:
    args = sys.argv[1:]
    try:
        if args[:1] == ["--calibrate"] and len(args) >= 4:
            fp32, ranges, images = Path(args[1]), Path(args[2]), [Path(a) for a in args[3:]]
            with tempfile.TemporaryDirectory() as tmp:
                quantize(fp32, ranges, Path(tmp) / "int8.onnx", images)
        elif len(args) == 3 and not args[0].startswith("-"):
            quantize(Path(args[0]), Path(args[1]), Path(args[2]))
        else:
            print(__doc__.strip().split("Usage: ")[-1], file=sys.stderr)
            return 2
    except (OSError, ValueError) as err:
        print(f"error: quantize_centerface.py: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
