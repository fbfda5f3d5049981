"""Convert dlib's face-recognition network to an equivalent ONNX model.

Usage: python convert_dlib.py IN.dat OUT.onnx

IN.dat is dlib's float32 ResNet (dlib_face_recognition_resnet_model_v1.dat,
the network of dlib/examples/dnn_face_recognition_ex.cpp). OUT.onnx takes
`image`, float32 [N,3,150,150], RGB, raw pixel values 0..255, and returns
`descriptor`, float32 [N,128], the raw (not normalised) dlib descriptor.
The channel means and the 1/256 scale stored in the file are applied inside
the model, and the affine (frozen batch norm) layers are folded into the
convolutions before them. Needs only numpy and onnx.

Format notes (dlib's serialize()):
- integer: control byte (low nibble = byte count, 0x80 = negative), then the
  magnitude little-endian. float: integers mantissa, exponent. string:
  integer length, bytes. bool: ASCII '0'/'1'. tensor: integer 2, four
  dimensions (n, k, nr, nc), raw little-endian float32. alias tensor:
  integer 1, four dimensions.
- The loss layer (version 1, "loss_metric_2", margin, threshold) comes
  first, then the version of every wrapped layer from the output inwards:
  2 = computational layer, 1 = tag or skip (nothing else stored), 3 = the
  layer sitting on the input. Then the input layer (name, 3 channel means,
  rows, cols) and each layer's details from the input outwards, each
  computational layer followed by 3 bools and 3 tensors (and, for the first
  one, the sample expansion factor).
- Tags and skips are told apart only by position: a lone mark is a tag, a
  mark right after another is a skip back to the tag below the newest one,
  and add_prev adds the newest open tag. Shapes that differ are added as if
  the smaller one were zero-padded at the end, as dlib's tt::add does.
"""

import math
import os
import sys
from dataclasses import dataclass, field

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 17
IR_VERSION = 8  # the IR that goes with opset 17; newer IRs lock out older runtimes
INPUT_SIZE = 150
DESCRIPTOR_SIZE = 128

# dlib's float_details marks non-finite values with these exponents.
SPECIAL_EXPONENTS = {32000: math.inf, 32001: -math.inf, 32002: math.nan}


class FormatError(Exception):
    """A malformed or unexpected network file; offset is None for whole-network problems."""

    def __init__(self, message, offset=None):
        super().__init__(message)
        self.offset = offset

    def where(self):
        return "" if self.offset is None else f" at byte {self.offset}"


# ---------------------------------------------------------------- reading


class Reader:
    """Primitive readers for dlib's serialization, tracking the byte offset."""

    def __init__(self, data):
        self.data = data
        self.pos = 0

    def take(self, count):
        if self.pos + count > len(self.data):
            raise FormatError("unexpected end of file", self.pos)
        chunk = self.data[self.pos : self.pos + count]
        self.pos += count
        return chunk

    def int(self):
        start = self.pos
        control = self.take(1)[0]
        size = control & 0x0F
        if size > 8 or control & 0x70:
            raise FormatError(f"bad integer control byte 0x{control:02x}", start)
        value = int.from_bytes(self.take(size), "little")
        return -value if control & 0x80 else value

    def float(self):
        start = self.pos
        mantissa = self.int()
        exponent = self.int()
        if exponent in SPECIAL_EXPONENTS:
            return SPECIAL_EXPONENTS[exponent]
        try:
            return math.ldexp(mantissa, exponent)
        except OverflowError:
            raise FormatError(f"float {mantissa}*2^{exponent} out of range", start) from None

    def string(self):
        start = self.pos
        length = self.int()
        if length < 0:
            raise FormatError(f"negative string length {length}", start)
        return self.take(length).decode("latin-1")

    def bool(self):
        start = self.pos
        byte = self.take(1)
        if byte not in (b"0", b"1"):
            raise FormatError(f"bad bool byte 0x{byte[0]:02x}", start)
        return byte == b"1"

    def version(self, allowed, what):
        start = self.pos
        version = self.int()
        if version not in allowed:
            raise FormatError(f"unexpected {what} version {version}", start)
        return version

    def dims(self, what):
        start = self.pos
        dims = tuple(self.int() for _ in range(4))
        if any(d < 0 for d in dims):
            raise FormatError(f"negative {what} dimension in {dims}", start)
        return dims

    def tensor(self):
        self.version((2,), "tensor")
        dims = self.dims("tensor")
        count = math.prod(dims)
        raw = self.take(4 * count)
        return np.frombuffer(raw, dtype="<f4").reshape(dims).astype(np.float32)

    def alias(self):
        self.version((1,), "alias tensor")
        return self.dims("alias tensor")


# ---------------------------------------------------------------- layers


@dataclass
class Layer:
    kind: str  # con, affine, relu, add_prev, max_pool, avg_pool, fc, mark
    offset: int
    attrs: dict = field(default_factory=dict)


def split_params(params, shapes, start):
    """Cut a layer's flat parameter tensor into the alias shapes stored after it."""
    flat = params.reshape(-1)
    needed = sum(math.prod(s) for s in shapes)
    if needed != flat.size:
        raise FormatError(
            f"parameter tensor holds {flat.size} values, aliases need {needed}", start
        )
    parts, at = [], 0
    for shape in shapes:
        size = math.prod(shape)
        parts.append(flat[at : at + size].reshape(shape))
        at += size
    return parts


def parse_con(r, start):
    params = r.tensor()
    num_filters, nr, nc = r.int(), r.int(), r.int()
    stride = (r.int(), r.int())
    padding = (r.int(), r.int())
    filter_shape, bias_shape = r.alias(), r.alias()
    for _ in range(4):  # learning-rate and weight-decay multipliers
        r.float()
    if filter_shape[0] != num_filters or filter_shape[2:] != (nr, nc):
        raise FormatError(f"filter shape {filter_shape} disagrees with settings", start)
    if math.prod(bias_shape) != num_filters:
        raise FormatError(f"bias shape {bias_shape} for {num_filters} filters", start)
    weight, bias = split_params(params, [filter_shape, (num_filters,)], start)
    return {
        "weight": weight,
        "bias": bias,
        "kernel": (nr, nc),
        "stride": stride,
        "padding": padding,
    }


def parse_affine(r, start):
    params = r.tensor()
    gamma_shape, beta_shape = r.alias(), r.alias()
    mode = r.int()
    if mode != 0:  # FC_MODE scales every element separately; this network never uses it
        raise FormatError(f"unsupported affine mode {mode}", start)
    if gamma_shape != beta_shape or gamma_shape[0] != 1 or gamma_shape[2:] != (1, 1):
        raise FormatError(f"unexpected affine shapes {gamma_shape}, {beta_shape}", start)
    channels = gamma_shape[1]
    gamma, beta = split_params(params, [(channels,), (channels,)], start)
    return {"gamma": gamma, "beta": beta}


def parse_pool(r, start):
    window = (r.int(), r.int())
    stride = (r.int(), r.int())
    padding = (r.int(), r.int())
    return {"window": window, "stride": stride, "padding": padding}


def parse_fc(r, start):
    num_outputs, num_inputs = r.int(), r.int()
    params = r.tensor()
    weight_shape = r.alias()
    r.alias()  # bias shape; whether there is a bias at all is the bias mode
    bias_mode = r.int()
    for _ in range(4):
        r.float()
    if bias_mode not in (0, 1):
        raise FormatError(f"unexpected fc bias mode {bias_mode}", start)
    if math.prod(weight_shape) != num_inputs * num_outputs:
        raise FormatError(
            f"fc weight shape {weight_shape} is not {num_inputs}x{num_outputs}", start
        )
    shapes = [(num_inputs, num_outputs)] + ([(num_outputs,)] if bias_mode == 0 else [])
    parts = split_params(params, shapes, start)
    return {"weight": parts[0], "bias": parts[1] if bias_mode == 0 else None}


LAYER_PARSERS = {
    "con_4": ("con", parse_con),
    "affine_": ("affine", parse_affine),
    "relu_": ("relu", lambda r, start: {}),
    "add_prev_": ("add_prev", lambda r, start: {}),
    "max_pool_2": ("max_pool", parse_pool),
    "avg_pool_2": ("avg_pool", parse_pool),
    "fc_2": ("fc", parse_fc),
}


def parse_layer(r):
    start = r.pos
    name = r.string()
    if name not in LAYER_PARSERS:
        raise FormatError(f"unexpected layer tag {name!r}", start)
    kind, parse = LAYER_PARSERS[name]
    return Layer(kind, start, parse(r, start))


def skip_layer_state(r, first):
    """Skip the training state dlib stores after each layer's details.

    Three flags (setup done, gradient stale, outputs disabled) and three
    scratch tensors, all empty in a saved model; inference needs none of it.
    """
    for _ in range(3):
        r.bool()
    for _ in range(3):
        r.tensor()
    if first:
        r.int()  # sample expansion factor


def parse_input(r):
    start = r.pos
    name = r.string()
    if name != "input_rgb_image_sized":
        raise FormatError(f"unexpected input layer tag {name!r}", start)
    means = [r.float() for _ in range(3)]
    rows, cols = r.int(), r.int()
    return np.array(means, dtype=np.float32), (rows, cols)


def parse_network(data):
    """Return (channel means, input size, layers from the input outwards)."""
    r = Reader(data)
    r.version((1,), "loss layer")
    start = r.pos
    name = r.string()
    if name != "loss_metric_2":
        raise FormatError(f"unexpected loss layer tag {name!r}", start)
    r.float(), r.float()  # margin and distance threshold matter only in training

    # Versions run from the output inwards; details come back in the other order.
    versions = []
    while (version := r.version((1, 2, 3), "layer")) != 3:
        versions.append(version)
    means, size = parse_input(r)
    layers = [parse_layer(r)]
    skip_layer_state(r, first=True)
    for version in reversed(versions):
        if version == 1:
            layers.append(Layer("mark", r.pos))
        else:
            layers.append(parse_layer(r))
            skip_layer_state(r, first=False)
    if r.pos != len(data):
        raise FormatError(f"{len(data) - r.pos} unexpected bytes after the network", r.pos)
    return means, size, layers


# ---------------------------------------------------------------- topology


def geometry(window, stride, padding):
    return f"{window[0]}x{window[1]}/{stride[0]},{stride[1]} pad {padding[0]},{padding[1]}"


def describe(layer):
    """One-line summary used to compare a parsed layer with the expected topology."""
    a = layer.attrs
    if layer.kind == "con":
        return f"con {a['weight'].shape[0]} {geometry(a['kernel'], a['stride'], a['padding'])}"
    if layer.kind in ("max_pool", "avg_pool"):
        return f"{layer.kind} {geometry(a['window'], a['stride'], a['padding'])}"
    if layer.kind == "fc":
        return f"fc {a['weight'].shape[1]} {'with' if a['bias'] is not None else 'no'} bias"
    return layer.kind


def expected_topology():
    """Layer descriptions of dnn_face_recognition_ex.cpp's anet_type, input outwards."""

    def con(n, k, s):
        pad = 0 if s != 1 else k // 2  # dlib's default padding for con_
        return f"con {n} {geometry((k, k), (s, s), (pad, pad))}"

    def block(n, s):
        return [con(n, 3, s), "affine", "relu", con(n, 3, 1), "affine"]

    layers = [con(32, 7, 2), "affine", "relu", "max_pool 3x3/2,2 pad 0,0"]
    for n, count, down in [
        (32, 3, False),
        (64, 4, True),
        (128, 3, True),
        (256, 3, True),
        (256, 1, True),
    ]:
        for i in range(count):
            if down and i == 0:
                layers += ["mark", *block(n, 2), "mark", "mark", "avg_pool 2x2/2,2 pad 0,0"]
            else:
                layers += ["mark", *block(n, 1)]
            layers += ["add_prev", "relu"]
    return layers + ["avg_pool 0x0/1,1 pad 0,0", f"fc {DESCRIPTOR_SIZE} no bias"]


def check_topology(size, layers):
    if size != (INPUT_SIZE, INPUT_SIZE):
        raise FormatError(f"input size {size}, expected {INPUT_SIZE}x{INPUT_SIZE}")
    expected = expected_topology()
    for index, (layer, want) in enumerate(zip(layers, expected)):
        got = describe(layer)
        if got != want:
            raise FormatError(f"layer {index} is '{got}', expected '{want}'", layer.offset)
    if len(layers) != len(expected):
        raise FormatError(f"{len(layers)} layers, expected {len(expected)}")


# ---------------------------------------------------------------- graph


def pooled(size, window, stride, padding):
    return 1 + (size + 2 * padding - window) // stride  # dlib and ONNX both floor


class Graph:
    """Collects ONNX nodes and initializers while tracking each value's (C, H, W)."""

    def __init__(self):
        self.nodes, self.initializers, self.shapes = [], [], {}
        self.count = 0

    def name(self, prefix):
        self.count += 1
        return f"{prefix}_{self.count}"

    def const(self, prefix, array):
        name = self.name(prefix)
        self.initializers.append(numpy_helper.from_array(array, name))
        return name

    def op(self, op_type, inputs, shape, output=None, **attrs):
        output = output or self.name(op_type.lower())
        self.nodes.append(helper.make_node(op_type, inputs, [output], **attrs))
        self.shapes[output] = shape
        return output


def fold(con, affine):
    """Fold affine (y = gamma * x + beta) into the convolution before it."""
    weight, bias = con.attrs["weight"].astype(np.float64), con.attrs["bias"].astype(np.float64)
    if affine is None:
        return weight.astype(np.float32), bias.astype(np.float32)
    gamma = affine.attrs["gamma"].astype(np.float64)
    beta = affine.attrs["beta"].astype(np.float64)
    folded_weight = weight * gamma[:, None, None, None]
    folded_bias = bias * gamma + beta
    return folded_weight.astype(np.float32), folded_bias.astype(np.float32)


def emit_con(g, x, con, affine):
    channels, height, width = g.shapes[x]
    out, inp, kh, kw = con.attrs["weight"].shape
    if inp != channels:
        raise FormatError(f"convolution expects {inp} channels, gets {channels}", con.offset)
    (sy, sx), (py, px) = con.attrs["stride"], con.attrs["padding"]
    weight, bias = fold(con, affine)
    shape = (out, pooled(height, kh, sy, py), pooled(width, kw, sx, px))
    inputs = [x, g.const("conv_w", weight), g.const("conv_b", bias)]
    return g.op(
        "Conv", inputs, shape, kernel_shape=[kh, kw], strides=[sy, sx], pads=[py, px, py, px]
    )


def emit_affine(g, x, affine):
    gamma = affine.attrs["gamma"].reshape(1, -1, 1, 1)
    beta = affine.attrs["beta"].reshape(1, -1, 1, 1)
    if gamma.shape[1] != g.shapes[x][0]:
        raise FormatError(
            f"affine has {gamma.shape[1]} channels, input {g.shapes[x][0]}", affine.offset
        )
    scaled = g.op("Mul", [x, g.const("gamma", gamma)], g.shapes[x])
    return g.op("Add", [scaled, g.const("beta", beta)], g.shapes[x])


def emit_pool(g, x, layer):
    channels, height, width = g.shapes[x]
    (wy, wx), (sy, sx), (py, px) = (
        layer.attrs["window"],
        layer.attrs["stride"],
        layer.attrs["padding"],
    )
    if wy == 0 and wx == 0:  # dlib's "pool everything"
        op_type = "GlobalAveragePool" if layer.kind == "avg_pool" else "GlobalMaxPool"
        return g.op(op_type, [x], (channels, 1, 1))
    if layer.kind == "avg_pool" and (py or px):
        # dlib's CPU and cuDNN averages treat padding differently; nothing here needs it.
        raise FormatError("padded average pooling is not supported", layer.offset)
    shape = (channels, pooled(height, wy, sy, py), pooled(width, wx, sx, px))
    op_type = "AveragePool" if layer.kind == "avg_pool" else "MaxPool"
    return g.op(op_type, [x], shape, kernel_shape=[wy, wx], strides=[sy, sx], pads=[py, px, py, px])


def pad_to(g, x, shape):
    """Zero-pad x at the end of each axis, the way dlib adds unequal tensors."""
    if g.shapes[x] == shape:
        return x
    extra = [want - have for want, have in zip(shape, g.shapes[x])]
    pads = np.array([0, 0, 0, 0, 0, *extra], dtype=np.int64)
    return g.op("Pad", [x, g.const("pads", pads)], shape, mode="constant")


def emit_add(g, a, b):
    shape = tuple(max(p, q) for p, q in zip(g.shapes[a], g.shapes[b]))
    return g.op("Add", [pad_to(g, a, shape), pad_to(g, b, shape)], shape)


def emit_fc(g, x, layer):
    weight, bias = layer.attrs["weight"], layer.attrs["bias"]
    features = math.prod(g.shapes[x])
    if weight.shape[0] != features:
        raise FormatError(f"fc expects {weight.shape[0]} inputs, gets {features}", layer.offset)
    flat = g.op("Flatten", [x], (features,), axis=1)
    if bias is None:
        return g.op(
            "MatMul", [flat, g.const("fc_w", weight)], (weight.shape[1],), output="descriptor"
        )
    product = g.op("MatMul", [flat, g.const("fc_w", weight)], (weight.shape[1],))
    return g.op("Add", [product, g.const("fc_b", bias)], (weight.shape[1],), output="descriptor")


def build_graph(means, size, layers):
    g = Graph()
    g.shapes["image"] = (3, *size)
    # dlib feeds (pixel - mean) / 256; 1/256 is exact, so Mul matches the division.
    centred = g.op("Sub", ["image", g.const("mean", means.reshape(1, 3, 1, 1))], g.shapes["image"])
    x = g.op(
        "Mul", [centred, g.const("scale", np.array(1 / 256, dtype=np.float32))], g.shapes["image"]
    )

    tags = []
    i = 0
    while i < len(layers):
        layer = layers[i]
        if layer.kind == "mark":
            run = 1
            while i + run < len(layers) and layers[i + run].kind == "mark":
                run += 1
            if run > 2:
                raise FormatError(f"{run} tag/skip layers in a row", layer.offset)
            tags.append(x)
            if run == 2:
                if len(tags) < 2:
                    raise FormatError("skip layer with no earlier tag", layers[i + 1].offset)
                x = tags.pop(-2)
            i += run
            continue
        if layer.kind == "con":
            following = layers[i + 1] if i + 1 < len(layers) else None
            affine = following if following is not None and following.kind == "affine" else None
            x = emit_con(g, x, layer, affine)
            i += 2 if affine else 1
            continue
        if layer.kind == "affine":
            x = emit_affine(g, x, layer)
        elif layer.kind == "relu":
            x = g.op("Relu", [x], g.shapes[x])
        elif layer.kind in ("max_pool", "avg_pool"):
            x = emit_pool(g, x, layer)
        elif layer.kind == "add_prev":
            if not tags:
                raise FormatError("add_prev with no open tag", layer.offset)
            x = emit_add(g, x, tags.pop())
        elif layer.kind == "fc":
            x = emit_fc(g, x, layer)
        i += 1
    if tags:
        raise FormatError(f"{len(tags)} tag(s) never used by an add_prev")
    if x != "descriptor" or g.shapes[x] != (DESCRIPTOR_SIZE,):
        raise FormatError(f"network ends in {g.shapes[x]}, expected a {DESCRIPTOR_SIZE}-D fc")
    return g


def make_model(g):
    image = helper.make_tensor_value_info(
        "image", TensorProto.FLOAT, ["N", 3, INPUT_SIZE, INPUT_SIZE]
    )
    descriptor = helper.make_tensor_value_info(
        "descriptor", TensorProto.FLOAT, ["N", DESCRIPTOR_SIZE]
    )
    graph = helper.make_graph(
        g.nodes, "dlib_face_recognition_resnet_v1", [image], [descriptor], g.initializers
    )
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", OPSET)],
        producer_name="screentime convert_dlib.py",
        ir_version=IR_VERSION,
    )
    onnx.checker.check_model(model, full_check=True)
    return model


def write_atomically(path, payload):
    # Same folder so os.replace stays a rename; open() rather than mkstemp so
    # the result gets the usual umask permissions instead of 0600.
    folder, name = os.path.split(os.path.abspath(path))
    temp = os.path.join(folder, f".{name}.{os.getpid()}.tmp")
    try:
        with open(temp, "xb") as f:
            f.write(payload)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temp, path)
    except BaseException:
        if os.path.exists(temp):
            os.unlink(temp)
        raise


def main(argv):
    if len(argv) != 3:
        print(f"usage: {os.path.basename(argv[0])} IN.dat OUT.onnx", file=sys.stderr)
        return 2
    source, target = argv[1], argv[2]
    try:
        with open(source, "rb") as f:
            data = f.read()
        means, size, layers = parse_network(data)
        check_topology(size, layers)
        model = make_model(build_graph(means, size, layers))
    except FormatError as e:
        print(f"error: {source}: {e}{e.where()}", file=sys.stderr)
        return 1
    except OSError as e:
        print(f"error: {source}: {e.strerror}", file=sys.stderr)
        return 1
    try:
        write_atomically(target, model.SerializeToString())
    except OSError as e:
        print(f"error: {target}: {e.strerror}", file=sys.stderr)
        return 1
    convs = sum(layer.kind == "con" for layer in layers)
    print(f"wrote {target}: {convs} convolutions, {len(model.graph.node)} nodes")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
