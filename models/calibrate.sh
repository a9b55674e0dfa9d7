#!/usr/bin/env bash
# Re-makes the calibration ranges of the int8 embedding model, fr_feature.int8.ranges.json (committed), from the
# fetched fp32 model and the sample photos: a maintainer step, needed only when the model, the face chain or the
# quantisation scheme changes. Runs the activation-exposing copy fr_feature.ranges.onnx (made by fetch.sh) with
# ONNX Runtime Java on every face of samples/*.jpg and its mirror image, then makes fr_feature.int8.onnx from the
# new ranges and prints its sha256 for INT8_SHA in fetch.sh. Check the new model with
#   java -jar jobs/target/biometry-job.jar evaluate --faces ../shared/faces-dev --embedding-precision int8
# and re-fit EmbeddingPrecision.INT8's calibration from it. Needs the built standalone jar (activation-ranges is a
# single-machine tool: mvn -DskipTests package builds launcher/target/biometry-local.jar).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
jar="$here/../launcher/target/biometry-local.jar"
PYTHON="${BIOMETRY_PYTHON:-/usr/bin/python3}"
[[ -f "$jar" ]] || { echo "models/calibrate.sh: build $jar first (mvn -B -ntp -DskipTests package)" >&2; exit 1; }
"$PYTHON" "$here/quantize.py" augment "$here/fr_feature.onnx" "$here/fr_feature.ranges.onnx"
java -jar "$jar" activation-ranges --models "$here" --augmented "$here/fr_feature.ranges.onnx" \
  --images "$here/samples" --out "$here/fr_feature.int8.ranges.json"
"$PYTHON" "$here/quantize.py" quantize "$here/fr_feature.onnx" "$here/fr_feature.int8.ranges.json" \
  "$here/fr_feature.int8.onnx"
echo "models/calibrate.sh: pin in fetch.sh: INT8_SHA=\"$(sha256sum "$here/fr_feature.int8.onnx" | cut -d' ' -f1)\"" \
  "RANGES_ONNX_SHA=\"$(sha256sum "$here/fr_feature.ranges.onnx" | cut -d' ' -f1)\""
