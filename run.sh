#!/usr/bin/env bash
# One command from a fresh checkout to the running pipeline: fetches the models and sample photos, builds the
# jars, then runs the job locally: an in-process Kafka broker, a local Flink cluster with its web dashboard on
# http://localhost:8081, and demo folders made from the sample photos; results are printed as they arrive.
# Stop with Ctrl-C. Arguments are passed to `local` (e.g. --requests FILE.jsonl --exit-when-done --no-ui).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
bash models/fetch.sh
if [[ ! -f jobs/target/biometry-local.jar || -n "$(find jobs/src launcher pom.xml jobs/pom.xml -newer jobs/target/biometry-local.jar -type f -print -quit)" ]]; then
  mvn -B -ntp -q -DskipTests package
fi
exec java -jar jobs/target/biometry-local.jar local "$@"
