#!/usr/bin/env bash
# Install streamctl and run the quickstart pipeline on the embedded broker (no servers):
# send the sample orders, process them until idle, show the output topic.
set -euo pipefail
cd "$(dirname "$0")/.."
# into the active virtual environment, else into ./.venv (created here)
. scripts/python-env.sh
"$PY" -m pip install --quiet --disable-pip-version-check -e .
export STREAMCTL_DATADIR="${STREAMCTL_DATADIR:-.streamctl}"
streamctl validate pipelines/quickstart.yaml
streamctl send orders -p pipelines/quickstart.yaml --file pipelines/data/orders.jsonl --key-field customer_id
streamctl run pipelines/quickstart.yaml --until-idle
streamctl topic tail large-orders -p pipelines/quickstart.yaml -n 5
