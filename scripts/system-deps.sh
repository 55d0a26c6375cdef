# Sourced by scripts/test.sh: install the system packages the tests use (as root on
# Debian/Ubuntu), so a fresh machine runs the whole suite. Without root the tests
# that need a missing facility skip and say why.
set -euo pipefail
need=()
command -v mkfs.btrfs >/dev/null 2>&1 || need+=(btrfs-progs)
[ -x /usr/bin/python3 ] || need+=(python3)
py=python3; [ -x /usr/bin/python3 ] && py=/usr/bin/python3
"$py" -c 'import venv, ensurepip' >/dev/null 2>&1 || need+=(python3-venv)
if [ ${#need[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "Installing system packages: ${need[*]}"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq >/dev/null
        apt-get install -y -qq "${need[@]}" >/dev/null
    else
        echo "Not installing ${need[*]} (needs root and apt-get); tests that need them will skip." >&2
    fi
fi
