#!/usr/bin/env bash
# The full test suite: installs what the tests need (system packages when root,
# the project's virtualenv), sets up the real storage the driver tests use (as
# root: zfs-fuse and a pool on a file, a loop-mounted btrfs image, a private
# sshd; see scripts/test-facilities.sh), runs pytest and tears that storage
# down again, also after a failure or an interrupt. Exits with pytest's status.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/system-deps.sh
. "$here/scripts/system-deps.sh"
# shellcheck source=scripts/venv.sh
. "$here/scripts/venv.sh"
cd "$here"
if [ "$(id -u)" = 0 ] && [ -z "${OIB_FACILITIES:-}" ]; then
    facilities=$(mktemp -d /tmp/oib-facilities.XXXXXX)
    trap '"$here/scripts/test-facilities.sh" down "$facilities"' EXIT
    trap 'exit 130' INT TERM
    # A facility that fails is recorded with its reason; the tests that need it report it.
    "$here/scripts/test-facilities.sh" up "$facilities" || echo "Storage facilities: setup failed" >&2
    export OIB_FACILITIES="$facilities/facilities.env"
fi
status=0
# Test files run in parallel, each file whole in one worker (its module fixtures, its sandbox):
# most of the suite waits on storage, sshd and simulated Oracle processes rather than on a core.
"$PY" -m pytest -rA -n "${OIB_TEST_WORKERS:-3}" --dist loadfile "$@" || status=$?
exit "$status"
