# Sourced by scripts/quickstart.sh and scripts/test.sh: choose the Python to install into.
#
# Inside a virtual environment (venv, virtualenv, conda) that environment is used, as it
# is. Otherwise ./.venv is created on first use (python3 -m venv) and used: pip never
# installs into the system's or the user's global interpreter, which PEP 668 systems
# (Debian, Ubuntu) refuse with "externally-managed-environment" anyway.
#
# Sets PY to the interpreter and puts its bin folder first on PATH (streamctl, ruff,
# mypy, lint-imports, pytest). $PYTHON picks the interpreter that creates .venv
# (default python3); $STREAMCTL_VENV its folder (default .venv).
base="${PYTHON:-python3}"
command -v "$base" >/dev/null || { echo "$0: $base not found: Python 3.10 or newer is needed" >&2; exit 1; }
if "$base" -c 'import sys; sys.exit(0 if sys.prefix != sys.base_prefix else 1)' 2>/dev/null \
    || [ -n "${CONDA_PREFIX:-}" ]; then
    PY="$(command -v "$base")"
else
    venv="${STREAMCTL_VENV:-.venv}"
    if [ ! -x "$venv/bin/python" ]; then
        echo "$0: no virtual environment is active: creating $venv" >&2
        if ! "$base" -m venv "$venv"; then
            rm -rf "$venv"
            echo "$0: '$base -m venv' failed; on Debian/Ubuntu: apt install python3-venv" >&2
            exit 1
        fi
    fi
    PY="$(cd "$venv/bin" && pwd)/python"
fi
PATH="$(dirname "$PY"):$PATH"
export PATH
