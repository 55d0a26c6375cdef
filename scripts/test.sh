#!/usr/bin/env bash
# The full test suite: installs what the tests need (system packages when root,
# the project's virtualenv), then runs pytest. Exits with pytest's status.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/system-deps.sh
. "$here/scripts/system-deps.sh"
# shellcheck source=scripts/venv.sh
. "$here/scripts/venv.sh"
cd "$here"
exec "$PY" -m pytest -rA "$@"
