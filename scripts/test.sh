#!/usr/bin/env bash
# Install the test dependencies, start what the tests need (a real Apache Kafka broker,
# KRaft single node, from Maven Central jars), run the whole suite, stop the broker.
#   scripts/test.sh                 # everything
#   scripts/test.sh -k kafka -x     # arguments go to pytest
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m pip install --quiet --disable-pip-version-check -e '.[test]'
started=""
if [ -x scripts/kafka.sh ]; then
  if ! scripts/kafka.sh status >/dev/null 2>&1; then
    scripts/kafka.sh start
    started=1
  fi
fi
cleanup() { if [ -n "$started" ]; then scripts/kafka.sh stop || true; fi; }
trap cleanup EXIT
python3 -m pytest "$@"
