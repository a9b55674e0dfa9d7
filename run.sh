#!/usr/bin/env bash
# One command from a fresh checkout to a result: fetches the models and sample photos, builds the jar, and
# compares two sample photos with the face engine, printing an Oz BIOMETRY analysis.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
bash models/fetch.sh
if [[ ! -f jobs/target/biometry-job.jar || -n "$(find jobs/src pom.xml jobs/pom.xml -newer jobs/target/biometry-job.jar -print -quit)" ]]; then
  mvn -B -ntp -q -DskipTests package
fi
if [[ $# -eq 0 ]]; then
  set -- verify models/samples/sample1.jpg models/samples/sample3.jpg
fi
exec java -jar jobs/target/biometry-job.jar "$@"
