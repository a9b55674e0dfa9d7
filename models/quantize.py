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


def activations(graph):
    """Names of the activation tensors to quantise, in graph order, and the name of the float output tensor."""
    float_out = None
    for node in graph.node:
        if node.op_type == "Conv":
            float_out = node.output[0]  # the last Conv's output: the embedding (before Reshape)
    names = []
    for node in graph.node:
        if node.op_type in ("Conv", "Add"):
            ins = [node.input[0]] if node.op_type == "Conv" else list(node.input)
            for t in ins + [node.output[0]]:
                if t != float_out and t not in names:
                    names.append(t)
    return names, float_out


def augment(fp32, out):
    model = load_opset13(fp32)
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
    model = load_opset13(fp32)
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
