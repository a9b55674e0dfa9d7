#!/usr/bin/env bash
# The cluster scenario, one command (build aside: bash models/fetch.sh && mvn -B -ntp -DskipTests package):
# a Kafka 4.2 broker and a Flink 2.2.1 standalone cluster (one JobManager, two TaskManagers, one slot each) as
# separate JVMs on loopback ports, the cluster jar submitted through Flink's REST API, analyses produced at a steady
# rate while TaskManagers and the broker are killed with kill -9 and the job is stopped with a savepoint and
# resubmitted with another parallelism; then every committed result is checked. Prints a summary, exits 1 when
# anything is lost, duplicated or wrong. Options: --analyses 1000 --rate 8 --work DIR --job-args "--option value" (default
# cluster/target/scenario-<millis>). Every process it starts is stopped on exit, also on failure or Ctrl-C.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
for f in jobs/target/biometry-job.jar launcher/target/biometry-local.jar cluster/flink/target/lib cluster/target/classes \
         cluster/target/kafka-libs models/fr_feature.onnx; do
  if [[ ! -e "$f" ]]; then
    echo "cluster/run.sh: $f is missing; build first: bash models/fetch.sh && mvn -B -ntp -DskipTests package" >&2
    exit 2
  fi
done
work="cluster/target/scenario-$(date +%s)"
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  [[ "${args[i]}" == --work ]] && work="${args[i+1]}"
done
mkdir -p "$work"
# The driver also writes every pid it starts here; the trap stops whatever is left (e.g. the driver was killed).
cleanup() {
  if [[ -f "$work/pids" ]]; then
    while read -r pid; do kill -9 "$pid" 2>/dev/null || true; done < "$work/pids"
  fi
}
trap cleanup EXIT
java -Xmx1g -Djava.io.tmpdir="$work" -cp "cluster/target/classes:cluster/target/kafka-libs/*" \
  dev.biometry.cluster.ClusterScenario --repo . --work "$work" "$@"
