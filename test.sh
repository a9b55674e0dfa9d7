#!/usr/bin/env bash
# Runs every test: fetches the models and sample photos (checked against pinned sha256 sums), then builds
# and tests with Maven. The labelled dev set is read from ../shared/faces-dev or $BIOMETRY_FACES_DIR when
# present; the tests that need it are skipped with a message otherwise.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
bash models/fetch.sh
faces_opt=()
if [[ -n "${BIOMETRY_FACES_DIR:-}" ]]; then
  faces_opt=("-Dbiometry.faces.dir=$BIOMETRY_FACES_DIR")
fi
exec mvn -B -ntp "${faces_opt[@]}" verify "$@"
