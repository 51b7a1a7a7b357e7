#!/usr/bin/env bash
# Install the test dependencies, run the linters (ruff, mypy, import-linter's layer
# contracts in pyproject.toml), start what the tests need (a real Apache Kafka broker,
# KRaft single node, from Maven Central jars), run the whole suite, stop the broker.
#   scripts/test.sh                 # everything
#   scripts/test.sh -k kafka -x     # arguments go to pytest
set -euo pipefail
cd "$(dirname "$0")/.."
# into the active virtual environment, else into ./.venv (created here)
. scripts/python-env.sh
"$PY" -m pip install --quiet --disable-pip-version-check -e '.[test]'
# the cheap checks first: a broken layer, lint or type error fails before the broker starts
echo "lint: ruff, ruff format, mypy, import-linter"
"$PY" -m ruff check --quiet .
"$PY" -m ruff format --check --quiet .
"$PY" -m mypy
lint-imports --no-cache >/dev/null || lint-imports --no-cache
# the example pipelines: valid, their unit tests pass, the pipeline schema is current (#13)
echo "pipelines: streamctl validate, streamctl test, streamctl schema pipeline --check"
"$PY" -m streamctl.cli.main validate pipelines/ >/dev/null
"$PY" -m streamctl.cli.main test pipelines/ --format github
"$PY" -m streamctl.cli.main schema pipeline --check schemas/pipeline.schema.json >/dev/null
"$PY" -m streamctl.cli.main schema pipeline --tests --check schemas/pipeline-test.schema.json >/dev/null
# the web view's browser test drives Debian's chromium (never a downloaded browser)
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing chromium (apt-get) for the browser test"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null \
      || { echo "error: could not install chromium; install it (apt-get install chromium) and retry" >&2; exit 1; }
  else
    echo "error: the browser test needs chromium: run 'sudo apt-get install chromium' (Debian) and retry" >&2
    exit 1
  fi
fi
started=""
if [ -x scripts/kafka.sh ]; then
  if ! scripts/kafka.sh status >/dev/null 2>&1; then
    scripts/kafka.sh start
    started=1
  fi
fi
cleanup() { if [ -n "$started" ]; then scripts/kafka.sh stop || true; fi; }
trap cleanup EXIT
"$PY" -m pytest "$@"
