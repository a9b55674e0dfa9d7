#!/usr/bin/env bash
# One command from a fresh checkout to the running pipeline: fetches the models and sample photos, builds the
# jars, then runs the job locally: an in-process Kafka broker on 127.0.0.1:${BIOMETRY_KAFKA_PORT:-9092}, a local
# Flink cluster with its web dashboard on http://localhost:8081, and demo folders made from the sample photos;
# results are printed as they arrive. It also starts the Oz HTTP API on http://127.0.0.1:${BIOMETRY_API_PORT:-8080}/api/
# (embedded H2 store and media under ./biometry-api-data, demo user demo@biometry.local / demo-password; log in
# biometry-api-data/api.log). Stop with Ctrl-C. Arguments are passed to `local` (e.g. --requests FILE.jsonl
# --exit-when-done --no-ui).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
bash models/fetch.sh
if [[ ! -f launcher/target/biometry-local.jar \
      || -n "$(find jobs/src/main launcher/src launcher/pom.xml testkit/src testkit/pom.xml api/src/main api/pom.xml \
               pom.xml jobs/pom.xml -newer launcher/target/biometry-local.jar -type f -print -quit)" ]]; then
  mvn -B -ntp -q -DskipTests package
fi
kafka_port="${BIOMETRY_KAFKA_PORT:-9092}"
api_port="${BIOMETRY_API_PORT:-8080}"
mkdir -p biometry-api-data/media
# The API waits for the job's topics, which `local` creates.
java -jar launcher/target/biometry-local.jar api --bootstrap-servers "127.0.0.1:$kafka_port" --port "$api_port" \
  --media-dir biometry-api-data/media --demo-user >biometry-api-data/api.log 2>&1 &
api_pid=$!
trap 'kill "$api_pid" 2>/dev/null || true; wait "$api_pid" 2>/dev/null || true' EXIT
echo "run.sh: Oz API on http://127.0.0.1:$api_port/api/ (demo@biometry.local / demo-password; log biometry-api-data/api.log)" >&2
java -jar launcher/target/biometry-local.jar local --kafka-port "$kafka_port" \
  --media-roots "$(pwd)/biometry-api-data/media" "$@"
