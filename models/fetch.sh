#!/usr/bin/env bash
# Fetches the face models and the sample photos from the npm registry, checks every file against a
# pinned sha256 and puts them in this folder (models) and samples/ (photos). Then makes the int8
# embedding model fr_feature.int8.onnx from the fetched fp32 one and the committed calibration ranges
# (quantize.py; needs python3-onnx and python3-numpy) and checks it against its pinned sha256.
# Idempotent: files that are already present with the right checksum are kept and nothing is downloaded.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
samples="$here/samples"

MODELS_PKG="faceplugin-face-recognition-js@0.0.1"
MODELS_TGZ="faceplugin-face-recognition-js-0.0.1.tgz"
MODELS_TGZ_SHA="7ea06031d9a3f83753254fcff60506a07b81b46fc84d4ee024cd041f260ec1ba"
SAMPLES_PKG="@vladmandic/face-api@1.7.15"
SAMPLES_TGZ="vladmandic-face-api-1.7.15.tgz"
SAMPLES_TGZ_SHA="0d77fffeef362ef9c0939cf6c567f3a2e8e177f114fa257a3270cbd2e509b031"

# file in package | destination | sha256
MODEL_FILES=(
  "package/model/fr_detect.onnx|$here/fr_detect.onnx|6c0256ccd3164f844736a401faf936ec2930764a87ae39442180887d0c5c8854"
  "package/model/fr_landmark.onnx|$here/fr_landmark.onnx|f10b0ba1d2a8a099adefede1ebf3733e44fe370715e7303dbeb7f59c02142258"
  "package/model/fr_feature.onnx|$here/fr_feature.onnx|87aacdfe57510db2af90c0251df680e8eec88f122ee94712121d09bcaaaf3581"
  "package/model/fr_liveness.onnx|$here/fr_liveness.onnx|afa783b7e902fdfcf323a7240cac2a1c580c25314ea4161129dc1b0d100dc32d"
)
SAMPLE_FILES=(
  "package/demo/sample1.jpg|$samples/sample1.jpg|8ecae4b267b2d3169e06e00c7dee97097aa2a94635d45216f7732a5f4943cb51"
  "package/demo/sample2.jpg|$samples/sample2.jpg|7d2b60ae6f13bf30f422e04df87451081a02c83de469056f25afb44b7000c691"
  "package/demo/sample3.jpg|$samples/sample3.jpg|8eb081c9efb14370fa94d9feab9e5fbeafd19a627491853a80c2bf67f7ffa936"
  "package/demo/sample4.jpg|$samples/sample4.jpg|729efa5923061d40eb4ed5f267a18cc7b8ba6f852bb2757b16d8b7e4937476fc"
  "package/demo/sample5.jpg|$samples/sample5.jpg|6d45095ebb182d8f975c0790e0e4eefd86fbb40609cf4b271776d92e12662938"
  "package/demo/sample6.jpg|$samples/sample6.jpg|9baad80f9d5e306fb9b8c0913d44445f1e95848df317530efb03d0934c57ba87"
)

die() { echo "models/fetch.sh: $*" >&2; exit 1; }
sha_of() { sha256sum "$1" | cut -d' ' -f1; }

all_present() {
  local entry dest sha
  for entry in "$@"; do
    IFS='|' read -r _ dest sha <<<"$entry"
    [[ -f "$dest" && "$(sha_of "$dest")" == "$sha" ]] || return 1
  done
}

# fetch PACKAGE TARBALL TARBALL_SHA ENTRIES...
fetch() {
  local pkg="$1" tgz="$2" tgz_sha="$3"; shift 3
  if all_present "$@"; then
    echo "models/fetch.sh: $pkg files present and verified"
    return
  fi
  command -v npm >/dev/null 2>&1 || die "npm is required to fetch $pkg (install Node.js and npm, e.g. 'apt-get install -y npm')"
  local work
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' RETURN
  echo "models/fetch.sh: npm pack $pkg"
  (cd "$work" && npm pack --silent "$pkg" >/dev/null) || die "npm pack $pkg failed"
  [[ -f "$work/$tgz" ]] || die "npm pack $pkg did not produce $tgz"
  local got
  got="$(sha_of "$work/$tgz")"
  [[ "$got" == "$tgz_sha" ]] || die "checksum mismatch for $tgz: expected $tgz_sha, got $got"
  tar -xzf "$work/$tgz" -C "$work"
  local entry src dest sha
  for entry in "$@"; do
    IFS='|' read -r src dest sha <<<"$entry"
    [[ -f "$work/$src" ]] || die "$src missing from $tgz"
    got="$(sha_of "$work/$src")"
    [[ "$got" == "$sha" ]] || die "checksum mismatch for $src: expected $sha, got $got"
    mkdir -p "$(dirname "$dest")"
    cp "$work/$src" "$dest.tmp" && mv "$dest.tmp" "$dest"
    echo "models/fetch.sh: $(basename "$dest") ok"
  done
}

fetch "$MODELS_PKG" "$MODELS_TGZ" "$MODELS_TGZ_SHA" "${MODEL_FILES[@]}"
fetch "$SAMPLES_PKG" "$SAMPLES_TGZ" "$SAMPLES_TGZ_SHA" "${SAMPLE_FILES[@]}"

# The int8 embedding model: made here, never downloaded. quantize.py is deterministic, so the result is pinned.
# fr_feature.ranges.onnx is the activation-exposing copy that calibrate.sh and ActivationRangesTest run.
INT8_SHA="c213cc38e80f031d9a157323cdbd24bba010ca19a563b8fcc673c09043b17d1c"
RANGES_ONNX_SHA="f38fd3f4cc5f031c0b1cb7f023b7555721fa050bcc63db95cad7858510ee6f18"
PYTHON="${BIOMETRY_PYTHON:-/usr/bin/python3}"

# quantize_step OUTPUT SHA ARGS...: runs quantize.py ARGS (the last one writing OUTPUT.tmp) unless OUTPUT is present
# with its pinned sha256, and checks the result.
quantize_step() {
  local dest="$1" sha="$2"; shift 2
  if [[ -f "$dest" && "$(sha_of "$dest")" == "$sha" ]]; then
    echo "models/fetch.sh: $(basename "$dest") present and verified"
    return
  fi
  "$PYTHON" -c 'import onnx, numpy' 2>/dev/null \
    || die "$(basename "$dest") is made with $PYTHON and the onnx and numpy modules: on Debian/Ubuntu 'apt-get install -y python3-onnx python3-numpy' (or point BIOMETRY_PYTHON at a python3 that has them)"
  "$PYTHON" "$here/quantize.py" "$@" "$dest.tmp" || die "quantize.py $1 failed"
  local got
  got="$(sha_of "$dest.tmp")"
  if [[ "$got" != "$sha" ]]; then
    rm -f "$dest.tmp"
    die "checksum mismatch for $(basename "$dest"): expected $sha, got $got (onnx $("$PYTHON" -c 'import onnx; print(onnx.__version__)'), numpy $("$PYTHON" -c 'import numpy; print(numpy.__version__)'); pinned with Debian bookworm's onnx 1.12.0 and numpy 1.24.2)"
  fi
  mv "$dest.tmp" "$dest"
  echo "models/fetch.sh: $(basename "$dest") made and verified"
}

quantize_step "$here/fr_feature.int8.onnx" "$INT8_SHA" quantize "$here/fr_feature.onnx" "$here/fr_feature.int8.ranges.json"
quantize_step "$here/fr_feature.ranges.onnx" "$RANGES_ONNX_SHA" augment "$here/fr_feature.onnx"
