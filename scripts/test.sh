#!/usr/bin/env bash
# The full test suite: sets up what the tests need, then runs pytest.
# Exits with pytest's status.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/venv.sh
. "$here/scripts/venv.sh"
cd "$here"
exec "$PY" -m pytest -rA "$@"
