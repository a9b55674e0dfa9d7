#!/usr/bin/python3
"""Static int8 (QDQ) quantisation of fr_feature.onnx, written with the onnx graph API only (Debian python3-onnx
and python3-numpy; ONNX Runtime's Python quantiser is not needed).

  quantize.py augment  FP32.onnx OUT.onnx
      A copy of the fp32 model (opset 13) with every activation that the int8 model quantises added as a graph
      output. The Java command `activation-ranges` runs it on calibration faces and writes the ranges file.
  quantize.py quantize FP32.onnx RANGES.json OUT.onnx
      The QDQ model: weights int8 per output channel (axis 0, symmetric, zero point 0), Conv biases int32 with
      scale = input scale x weight scale, activations uint8 per tensor (asymmetric, range widened to include 0)
      from the calibration ranges. ONNX Runtime fuses DequantizeLinear -> Conv/Add -> QuantizeLinear into
      QLinearConv / QLinearAdd (U8S8, VNNI where the CPU has it).

Both outputs are byte-for-byte deterministic for the same inputs and onnx version (fetch.sh pins the sha256).
Quantised: the inputs and outputs of every Conv and Add, except the output of the last Conv, which is the
embedding itself and stays float (quantising it to 256 levels would only add noise to the cosine). PRelu stays
float between a DequantizeLinear and a QuantizeLinear.
"""
import json
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper, version_converter

OPSET = 13  # per-channel QuantizeLinear/DequantizeLinear (axis) needs opset >= 13


def load_opset13(path):
    model = onnx.load(path)
    opset = next(o.version for o in model.opset_import if o.domain in ("", "ai.onnx"))
    if opset < OPSET:
        model = version_converter.convert_version(model, OPSET)
    # Deterministic metadata: the output must not depend on who ran the step.
    model.producer_name = "biometry models/quantize.py"
    model.producer_version = "1"
    return model


def load_rewritten(path):
    """The fp32 model at opset 13 with every PRelu split into Conv/Relu/Add (see split_prelu)."""
    model = load_opset13(path)
    split_prelu(model.graph)
    return model


def split_prelu(graph):
    """Rewrites every Conv -> PRelu(slope a) as Add(Conv_a, Relu(Conv_1-a)), exactly equal in real arithmetic.

    PRelu_a(x) = a*x + (1-a)*Relu(x), and for a <= 1 the factor (1-a) >= 0 goes inside the Relu; both factors
    are per output channel, so they scale the Conv's weights and bias. ONNX Runtime has no quantised PRelu: kept,
    it runs in float between a DequantizeLinear and a QuantizeLinear, three passes over the largest tensors of
    the network, which made the int8 model no faster than fp32. Split, everything stays uint8: two QLinearConv
    (the Relu folds into the QuantizeLinear's zero point) and one QLinearAdd.

    A channel with a > 1 uses PRelu_a(x) = -a * PRelu_1/a(-x): its Conv weights and bias are negated, its slope
    inverted, and the factor -a moves into the weights of the Conv(s) that read the PRelu's output.
    """
    inits = {i.name: i for i in graph.initializer}
    producers = {o: n for n in graph.node for o in n.output}
    consumers = {}
    for n in graph.node:
        for i in n.input:
            consumers.setdefault(i, []).append(n)

    def array(name):
        return numpy_helper.to_array(inits[name]).astype(np.float32)

    def set_array(name, value):
        inits[name].CopyFrom(numpy_helper.from_array(value.astype(np.float32), name))

    new_nodes = []
    for node in graph.node:
        if node.op_type != "PRelu":
            new_nodes.append(node)
            continue
        x, slope_name = node.input
        y = node.output[0]
        conv = producers.get(x)
        if conv is None or conv.op_type != "Conv" or len(consumers[x]) != 1 or len(conv.input) < 3:
            sys.exit(f"quantize.py: PRelu {y} does not follow a Conv with bias that only it reads")
        w, b = array(conv.input[1]), array(conv.input[2])
        a = array(slope_name).reshape(-1)
        if a.size != w.shape[0]:
            sys.exit(f"quantize.py: PRelu {y}: {a.size} slopes for {w.shape[0]} channels")
        steep = np.nonzero(a > 1)[0]
        if steep.size:
            readers = consumers[y]
            for reader in readers:
                if reader.op_type != "Conv":
                    sys.exit(f"quantize.py: PRelu {y} has a slope > 1 and feeds a {reader.op_type}")
            for c in steep:
                factor = -a[c]
                w[c] = -w[c]
                b[c] = -b[c]
                a[c] = 1 / a[c]
                for reader in readers:
                    rw = array(reader.input[1])
                    group = next((helper.get_attribute_value(at) for at in reader.attribute if at.name == "group"), 1)
                    if group == 1:
                        rw[:, c] *= factor
                    elif group == rw.shape[0] and rw.shape[1] == 1:
                        rw[c] *= factor  # depthwise: output channel c reads input channel c only
                    else:
                        sys.exit(f"quantize.py: PRelu {y} feeds a grouped Conv")
                    set_array(reader.input[1], rw)
        shape = (-1,) + (1,) * (w.ndim - 1)
        names = {}
        for part, factor in (("linear", a), ("positive", 1 - a)):
            wn, bn = f"{conv.input[1]}_{part}", f"{conv.input[2]}_{part}"
            graph.initializer.append(numpy_helper.from_array((w * factor.reshape(shape)).astype(np.float32), wn))
            graph.initializer.append(numpy_helper.from_array((b * factor).astype(np.float32), bn))
            names[part] = (wn, bn)
        # The Conv is the node just emitted before its PRelu: replace it by the two halves.
        new_nodes.remove(conv)
        attrs = list(conv.attribute)
        linear = helper.make_node("Conv", [conv.input[0], *names["linear"]], [f"{y}_linear"], name=f"{y}_linear")
        positive = helper.make_node("Conv", [conv.input[0], *names["positive"]], [f"{y}_positive_raw"],
                                    name=f"{y}_positive")
        linear.attribute.extend(attrs)
        positive.attribute.extend(attrs)
        new_nodes += [
            linear, positive,
            helper.make_node("Relu", [f"{y}_positive_raw"], [f"{y}_positive"], name=f"{y}_relu"),
            helper.make_node("Add", [f"{y}_linear", f"{y}_positive"], [y], name=f"{y}_prelu"),
        ]
    used = {i for n in new_nodes for i in n.input}
    kept = [i for i in graph.initializer if i.name in used]
    del graph.node[:]
    graph.node.extend(new_nodes)
    del graph.initializer[:]
    graph.initializer.extend(kept)


def activations(graph):
    """Names of the activation tensors to quantise, in graph order, and the name of the float output tensor.

    The inputs and outputs of every Conv and Add; a Conv read only by a Relu gets its range after the Relu (the
    zero point 0 then makes ONNX Runtime drop the Relu into the QuantizeLinear).
    """
    float_out = None
    for node in graph.node:
        if node.op_type == "Conv":
            float_out = node.output[0]  # the last Conv's output: the embedding (before Reshape)
    relu_inputs = {n.input[0] for n in graph.node if n.op_type == "Relu"}
    names = []
    for node in graph.node:
        if node.op_type in ("Conv", "Add", "Relu"):
            ins = [node.input[0]] if node.op_type in ("Conv", "Relu") else list(node.input)
            for t in ins + [node.output[0]]:
                if t != float_out and t not in relu_inputs and t not in names:
                    names.append(t)
    return names, float_out


def augment(fp32, out):
    model = load_rewritten(fp32)
    names, _ = activations(model.graph)
    # The graph input is not exposed: the tool that runs this copy measures what it feeds in.
    known = {o.name for o in model.graph.output} | {i.name for i in model.graph.input}
    inferred = {v.name: v for v in onnx.shape_inference.infer_shapes(model).graph.value_info}
    for name in names:
        if name not in known:
            model.graph.output.append(inferred[name])
    onnx.checker.check_model(model)
    onnx.save(model, out)
    print(f"quantize.py: {out}: {len(names)} activations exposed as outputs")


def activation_params(lo, hi):
    """uint8 asymmetric scale and zero point of the range [lo, hi] widened to contain 0 (so 0 is exact)."""
    lo = min(float(lo), 0.0)
    hi = max(float(hi), 0.0)
    scale = np.float32((hi - lo) / 255.0) if hi > lo else np.float32(1.0)
    zero = int(np.clip(np.round(-lo / float(scale)), 0, 255))
    return scale, np.uint8(zero)


def quantize(fp32, ranges_file, out):
    with open(ranges_file, encoding="utf-8") as f:
        ranges = json.load(f)["ranges"]
    model = load_rewritten(fp32)
    graph = model.graph
    names, float_out = activations(graph)
    missing = [n for n in names if n not in ranges]
    if missing:
        sys.exit(f"quantize.py: no calibration range for {missing} in {ranges_file}")
    inits = {i.name: i for i in graph.initializer}
    new_inits = []
    new_nodes = []
    act = {}  # tensor -> (scale, zero point) initializer names

    def add_init(name, array, dims=None):
        t = numpy_helper.from_array(array, name)
        new_inits.append(t)
        return name

    for name in names:
        scale, zero = activation_params(*ranges[name])
        s = add_init(f"{name}_scale", np.array(scale, dtype=np.float32))
        z = add_init(f"{name}_zero_point", np.array(zero, dtype=np.uint8))
        act[name] = (s, z, scale)

    # Q -> DQ right after each quantised tensor is produced; consumers read the dequantised copy.
    rename = {name: f"{name}_dequantized" for name in names}
    qdq_after = {}
    for name in names:
        s, z, _ = act[name]
        qdq_after[name] = [
            helper.make_node("QuantizeLinear", [name, s, z], [f"{name}_quantized"], name=f"{name}_QuantizeLinear"),
            helper.make_node("DequantizeLinear", [f"{name}_quantized", s, z], [rename[name]],
                             name=f"{name}_DequantizeLinear"),
        ]
    if graph.input[0].name in qdq_after:
        new_nodes.extend(qdq_after.pop(graph.input[0].name))

    weights_done = 0
    for node in graph.node:
        inputs = list(node.input)
        if node.op_type == "Conv":
            x, w = inputs[0], inputs[1]
            weight = numpy_helper.to_array(inits[w]).astype(np.float32)
            channels = weight.shape[0]
            absmax = np.abs(weight.reshape(channels, -1)).max(axis=1)
            w_scale = (absmax / np.float32(127.0)).astype(np.float32)
            # Pruned channels (all weights below 1e-10: many here, down to denormals) quantise to zeros with scale 1:
            # a scale near 0 would make the bias scale underflow and the int32 bias overflow.
            w_scale[absmax < np.float32(1e-10)] = np.float32(1.0)
            shape = (channels,) + (1,) * (weight.ndim - 1)
            w_q = np.clip(np.round(weight / w_scale.reshape(shape)), -127, 127).astype(np.int8)
            wq_name = add_init(f"{w}_quantized", w_q)
            ws_name = add_init(f"{w}_scale", w_scale)
            wz_name = add_init(f"{w}_zero_point", np.zeros(channels, dtype=np.int8))
            new_nodes.append(helper.make_node("DequantizeLinear", [wq_name, ws_name, wz_name], [f"{w}_dequantized"],
                                              name=f"{w}_DequantizeLinear", axis=0))
            inputs[1] = f"{w}_dequantized"
            if len(inputs) > 2 and inputs[2] and x in act:
                b = inputs[2]
                bias = numpy_helper.to_array(inits[b]).astype(np.float32)
                b_scale = (np.float32(act[x][2]) * w_scale).astype(np.float32)
                b_q = np.round(bias / b_scale)
                if not np.all(np.abs(b_q) < 2.0 ** 31):
                    sys.exit(f"quantize.py: bias {b} does not fit int32 at scale input x weight")
                b_q = b_q.astype(np.int32)
                bq_name = add_init(f"{b}_quantized", b_q)
                bs_name = add_init(f"{b}_scale", b_scale)
                bz_name = add_init(f"{b}_zero_point", np.zeros(channels, dtype=np.int32))
                new_nodes.append(helper.make_node("DequantizeLinear", [bq_name, bs_name, bz_name],
                                                  [f"{b}_dequantized"], name=f"{b}_DequantizeLinear", axis=0))
                inputs[2] = f"{b}_dequantized"
            weights_done += 1
        inputs = [rename.get(i, i) if i in act else i for i in inputs]
        copy = onnx.NodeProto()
        copy.CopyFrom(node)
        del copy.input[:]
        copy.input.extend(inputs)
        new_nodes.append(copy)
        for o in node.output:
            new_nodes.extend(qdq_after.pop(o, []))
    if qdq_after:
        sys.exit(f"quantize.py: tensors without a producer: {sorted(qdq_after)}")

    used = set()
    for n in new_nodes:
        used.update(n.input)
    kept = [i for i in graph.initializer if i.name in used]
    del graph.node[:]
    graph.node.extend(new_nodes)
    del graph.initializer[:]
    graph.initializer.extend(kept + [i for i in new_inits if i.name in used])
    del graph.value_info[:]
    onnx.checker.check_model(model)
    onnx.save(model, out)
    print(f"quantize.py: {out}: {weights_done} Conv weights int8 per channel, {len(names)} activations uint8, "
          f"{float_out} (embedding) float")


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "augment":
        augment(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 5 and sys.argv[1] == "quantize":
        quantize(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        sys.exit(__doc__)
