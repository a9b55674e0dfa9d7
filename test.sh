#!/usr/bin/env bash
# Runs every test: fetches the models and sample photos (checked against pinned sha256 sums), builds and tests
# with Maven (`mvn verify`: surefire runs the unit and harness tests, failsafe the @Tag("integration") ones:
# MiniCluster, in-process Kafka, the models, the dev set), then smoke-tests the packaged standalone jar on
# examples/requests.jsonl. Extra arguments go to Maven: `./test.sh -DskipITs` runs the unit tests only,
# `./test.sh -Dit.test=BiometryJobTest` one integration test class (with the unit tests). The labelled dev set is read from ../shared/faces-dev or
# $BIOMETRY_FACES_DIR when present; the tests that need it are skipped with a message otherwise.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
bash models/fetch.sh
faces_opt=()
if [[ -n "${BIOMETRY_FACES_DIR:-}" ]]; then
  faces_opt=("-Dbiometry.faces.dir=$BIOMETRY_FACES_DIR")
fi
mvn -B -ntp "${faces_opt[@]}" verify "$@"

echo "smoke test: java -jar launcher/target/biometry-local.jar local --requests examples/requests.jsonl --exit-when-done --no-ui"
out="$(java -jar launcher/target/biometry-local.jar local --requests examples/requests.jsonl --exit-when-done --no-ui --timeout 300)"
finished="$(grep -c '"state":"FINISHED"' <<<"$out" || true)"
if [[ "$finished" != 2 ]]; then
  echo "smoke test failed: expected 2 FINISHED results, got:" >&2
  echo "$out" >&2
  exit 1
fi
echo "smoke test ok: both example analyses FINISHED"
