# Sourced by scripts/demo.sh and scripts/test.sh: create or reuse the project's
# virtualenv (.venv beside the checkout, or $OIB_VENV) and install the project
# with its test extra when setup.py changed since the last install.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv=${OIB_VENV:-$here/.venv}
if [ ! -x "$venv/bin/python" ]; then
    # The system interpreter where there is one: readable by every user (the restore tests
    # run the scripts as an unprivileged user).
    base=python3
    [ -x /usr/bin/python3 ] && base=/usr/bin/python3
    if ! "$base" -m venv "$venv" 2>/dev/null; then
        # Debian/Ubuntu ship venv separately.
        if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
            apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null
            "$base" -m venv "$venv"
        else
            echo "python3 -m venv failed: install the python3-venv package" >&2
            exit 1
        fi
    fi
fi
stamp="$venv/.installed-$(sha1sum "$here/setup.py" | cut -c1-12)"
if [ ! -f "$stamp" ]; then
    "$venv/bin/python" -m pip install -q --upgrade pip >/dev/null
    "$venv/bin/python" -m pip install -q -e "$here[test]"
    rm -f "$venv"/.installed-*
    touch "$stamp"
fi
PY="$venv/bin/python"
export PY
