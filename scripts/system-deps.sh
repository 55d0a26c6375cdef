# Sourced by scripts/test.sh: install the system packages the tests use (as root on
# Debian/Ubuntu), so a fresh machine runs the whole suite: btrfs-progs, zfs-fuse,
# openssh-server and sudo for the storage driver tests. Without root the tests that
# need a missing facility skip and say why (on CI they fail, saying why).
set -euo pipefail
need=()
command -v mkfs.btrfs >/dev/null 2>&1 || need+=(btrfs-progs)
command -v zfs-fuse >/dev/null 2>&1 || need+=(zfs-fuse)
[ -x /usr/sbin/sshd ] || need+=(openssh-server)
command -v sudo >/dev/null 2>&1 || need+=(sudo)
[ -x /usr/bin/python3 ] || need+=(python3)
py=python3; [ -x /usr/bin/python3 ] && py=/usr/bin/python3
"$py" -c 'import venv, ensurepip' >/dev/null 2>&1 || need+=(python3-venv)
if [ ${#need[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq >/dev/null
        # Only what this release offers (zfs-fuse is gone from some); what is missing
        # stays missing and the tests that need it say so.
        have=()
        for pkg in "${need[@]}"; do
            if apt-cache policy "$pkg" 2>/dev/null | grep -q 'Candidate: [0-9]'; then
                have+=("$pkg")
            else
                echo "No package $pkg in this system's repositories; tests that need it will report it." >&2
            fi
        done
        if [ ${#have[@]} -gt 0 ]; then
            echo "Installing system packages: ${have[*]}"
            # Package scripts must not start services (zfs-fuse, sshd): the tests start their own.
            policy=/usr/sbin/policy-rc.d
            own_policy=
            if [ ! -e "$policy" ]; then
                printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy" && own_policy=1
            fi
            apt-get install -y -qq "${have[@]}" >/dev/null || echo "Installing ${have[*]} failed." >&2
            [ -n "$own_policy" ] && rm -f "$policy"
        fi
    else
        echo "Not installing ${need[*]} (needs root and apt-get); tests that need them will skip." >&2
    fi
fi
