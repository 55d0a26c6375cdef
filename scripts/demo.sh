#!/usr/bin/env bash
# The demo: runs the toolset end to end on the simulated Oracle home and the
# localfs storage driver in a temporary directory, printing each step.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/venv.sh
. "$here/scripts/venv.sh"
exec "$PY" "$here/demo.py" "$@"
