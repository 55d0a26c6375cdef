#!/usr/bin/env bash
# The real storage the driver tests run against, set up and torn down as root:
#
#   test-facilities.sh up <dir>     zfs-fuse with a pool on a file, a btrfs image
#                                   loop-mounted, a private sshd on 127.0.0.1 with
#                                   generated keys; writes <dir>/facilities.env
#   test-facilities.sh down <dir>   undo whatever "up" did (safe to run twice)
#
# Sizes (sparse files): OIB_ZFS_POOL_SIZE (2G), OIB_BTRFS_SIZE (1G).
# <dir> must be new or empty, and holds every file of the run (pool and image
# files, keys, sshd's configuration and log).  facilities.env has one KEY=value
# line per fact the tests need; a facility that cannot be set up is written as
# OIB_<NAME>_ERROR=<reason> instead, so the tests report the reason (a failure
# on CI, a skip elsewhere) rather than vanish.  Nothing here stops or changes a
# zfs-fuse, pool, mount or sshd that it did not start itself.
set -uo pipefail

TEST_USER=oibtest

die() { echo "test-facilities: $*" >&2; exit 2; }

[ $# -eq 2 ] || die "usage: $0 up|down <dir>"
action=$1
dir=$2
env_file=$dir/facilities.env
# One drop-in per run (sudo ignores names with a dot), so runs side by side do not
# remove each other's.
SUDOERS=/etc/sudoers.d/oib-test-$(basename "$dir" | tr -c 'A-Za-z0-9_\n-' '-')

record() { printf '%s=%s\n' "$1" "$2" >>"$env_file"; }
fail() { record "OIB_$1_ERROR" "$2"; echo "test-facilities: $1 not available: $2" >&2; }

# One line of a failed command's output, for the reason recorded.
reason() { tr '\n' ' ' <"$dir/last.err" | cut -c1-300; }

up_zfs() {
    command -v zpool >/dev/null && command -v zfs-fuse >/dev/null \
        || { fail ZFS "zfs-fuse is not installed (apt-get install zfs-fuse)"; return; }
    if ! zpool list >/dev/null 2>&1; then
        # No daemon answering: start our own, remembered so "down" stops only that one.
        zfs-fuse --pidfile "$dir/zfs-fuse.pid" --no-kstat-mount >"$dir/last.err" 2>&1 \
            || { fail ZFS "zfs-fuse did not start: $(reason)"; return; }
        for _ in $(seq 300); do zpool list >/dev/null 2>&1 && break; sleep 0.1; done
        zpool list >/dev/null 2>&1 || { fail ZFS "zfs-fuse started but zpool does not answer"; return; }
        touch "$dir/zfs-fuse.ours"
    fi
    local pool=oibt$$
    truncate -s "${OIB_ZFS_POOL_SIZE:-2G}" "$dir/zpool.img"
    mkdir -p "$dir/zfs"
    # cachefile=none: a pool left by a killed run is not imported again at the next start.
    zpool create -o cachefile=none -m "$dir/zfs" "$pool" "$dir/zpool.img" >"$dir/last.err" 2>&1 \
        || { fail ZFS "zpool create failed: $(reason)"; return; }
    echo "$pool" >"$dir/zpool.name"
    zfs create "$pool/backup" >"$dir/last.err" 2>&1 || { fail ZFS "zfs create failed: $(reason)"; return; }
    chmod 755 "$dir/zfs" "$dir/zfs/backup"
    record OIB_ZFS_POOL "$pool"
    record OIB_ZFS_PARENT "$pool/backup"
}

up_btrfs() {
    command -v mkfs.btrfs >/dev/null || { fail BTRFS "btrfs-progs is not installed"; return; }
    truncate -s "${OIB_BTRFS_SIZE:-1G}" "$dir/btrfs.img"
    mkfs.btrfs -q "$dir/btrfs.img" >"$dir/last.err" 2>&1 || { fail BTRFS "mkfs.btrfs failed: $(reason)"; return; }
    local loop
    loop=$(losetup -f --show "$dir/btrfs.img" 2>"$dir/last.err") || { fail BTRFS "losetup failed: $(reason)"; return; }
    echo "$loop" >"$dir/btrfs.loop"
    mkdir -p "$dir/btrfs"
    mount -t btrfs "$loop" "$dir/btrfs" >"$dir/last.err" 2>&1 || { fail BTRFS "mount failed: $(reason)"; return; }
    touch "$dir/btrfs.mounted"
    chmod 755 "$dir/btrfs"
    # Quotas give the space figures; a kernel without them leaves the space unknown.
    if btrfs quota enable "$dir/btrfs" >"$dir/last.err" 2>&1; then
        record OIB_BTRFS_QUOTA 1
    else
        record OIB_BTRFS_QUOTA 0
    fi
    record OIB_BTRFS_MOUNT "$dir/btrfs"
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

up_sshd() {
    [ -x /usr/sbin/sshd ] || { fail SSH "openssh-server is not installed"; return; }
    local ssh=$dir/ssh port
    mkdir -p "$ssh" /run/sshd
    chmod 755 "$ssh"
    ssh-keygen -q -t ed25519 -N '' -C oib-test-host -f "$ssh/host_ed25519" || { fail SSH "ssh-keygen failed"; return; }
    ssh-keygen -q -t ed25519 -N '' -C oib-test-client -f "$ssh/id_ed25519" || { fail SSH "ssh-keygen failed"; return; }
    cp "$ssh/id_ed25519.pub" "$ssh/authorized_keys"
    port=$(free_port) || { fail SSH "no free port"; return; }
    echo "[127.0.0.1]:$port $(cut -d' ' -f1,2 "$ssh/host_ed25519.pub")" >"$ssh/known_hosts"
    cat >"$ssh/sshd_config" <<EOF
ListenAddress 127.0.0.1:$port
HostKey $ssh/host_ed25519
PidFile $ssh/sshd.pid
AuthorizedKeysFile $ssh/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
MaxSessions 50
MaxStartups 50
LogLevel VERBOSE
EOF
    /usr/sbin/sshd -f "$ssh/sshd_config" -E "$ssh/sshd.log" >"$dir/last.err" 2>&1 \
        || { fail SSH "sshd did not start: $(reason)"; return; }
    for _ in $(seq 50); do [ -s "$ssh/sshd.pid" ] && break; sleep 0.1; done
    [ -s "$ssh/sshd.pid" ] || { fail SSH "sshd did not write its pid file: $(cat "$ssh/sshd.log")"; return; }
    record OIB_SSH_HOST 127.0.0.1
    record OIB_SSH_PORT "$port"
    record OIB_SSH_USER root
    record OIB_SSH_KEY "$ssh/id_ed25519"
    record OIB_SSH_KNOWNHOSTS "$ssh/known_hosts"
}

up_sudo() {
    # The restore scripts refuse root; the tests run them as $TEST_USER, which may run
    # the storage commands (and only those) through "sudo -n" ([zfs]/[btrfs] sudo: true).
    command -v sudo >/dev/null || { fail SUDO "sudo is not installed"; return; }
    id "$TEST_USER" >/dev/null 2>&1 || useradd --system --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin "$TEST_USER" || { fail SUDO "cannot create user $TEST_USER"; return; }
    local cmds=()
    for c in zfs btrfs; do command -v "$c" >/dev/null && cmds+=("$(command -v "$c")"); done
    [ ${#cmds[@]} -gt 0 ] || { fail SUDO "neither zfs nor btrfs is installed"; return; }
    local list
    list=$(IFS=,; echo "${cmds[*]}" | sed 's/,/, /g')
    printf 'Defaults:%s !requiretty\n%s ALL=(root) NOPASSWD: %s\n' "$TEST_USER" "$TEST_USER" "$list" >"$SUDOERS.tmp"
    chmod 440 "$SUDOERS.tmp"
    if visudo -cqf "$SUDOERS.tmp" >/dev/null 2>&1; then
        mv "$SUDOERS.tmp" "$SUDOERS"
        record OIB_SUDO_USER "$TEST_USER"
    else
        rm -f "$SUDOERS.tmp"
        fail SUDO "the sudoers drop-in does not parse"
    fi
}

up() {
    [ "$(id -u)" = 0 ] || die "must run as root"
    mkdir -p "$dir" && chmod 755 "$dir"
    [ -e "$env_file" ] && die "$env_file exists: run '$0 down $dir' first"
    : >"$env_file"
    up_zfs
    up_btrfs
    up_sshd
    up_sudo
    rm -f "$dir/last.err"
}

down() {
    [ -d "$dir" ] || return 0
    if [ -s "$dir/ssh/sshd.pid" ]; then
        kill "$(cat "$dir/ssh/sshd.pid")" 2>/dev/null
        rm -f "$dir/ssh/sshd.pid"
    fi
    if [ -f "$dir/zpool.name" ]; then
        # zfs-fuse calls a pool busy for a moment after its last unmount: retry.
        local pool destroyed=
        pool=$(cat "$dir/zpool.name")
        for _ in $(seq 40); do
            if zpool destroy -f "$pool" 2>"$dir/last.err"; then destroyed=1; break; fi
            sleep 0.5
        done
        [ -n "$destroyed" ] || echo "test-facilities: zpool destroy $pool failed: $(reason)" >&2
        rm -f "$dir/zpool.name"
    fi
    # The daemon we started may serve another run's pool by now (runs side by side
    # reuse a running zfs-fuse): stop it only when no pool is left.
    if [ -f "$dir/zfs-fuse.ours" ] && [ -s "$dir/zfs-fuse.pid" ] && [ -n "$(zpool list -H -o name 2>/dev/null)" ]; then
        echo "test-facilities: leaving zfs-fuse running for the pools still imported" >&2
    elif [ -f "$dir/zfs-fuse.ours" ] && [ -s "$dir/zfs-fuse.pid" ]; then
        local pid
        pid=$(cat "$dir/zfs-fuse.pid")
        kill "$pid" 2>/dev/null
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        rm -f "$dir/zfs-fuse.ours" "$dir/zfs-fuse.pid"
    fi
    if [ -f "$dir/btrfs.mounted" ]; then
        umount "$dir/btrfs" 2>/dev/null || umount -l "$dir/btrfs" 2>/dev/null
        rm -f "$dir/btrfs.mounted"
    fi
    if [ -f "$dir/btrfs.loop" ]; then
        losetup -d "$(cat "$dir/btrfs.loop")" 2>/dev/null
        rm -f "$dir/btrfs.loop"
    fi
    rm -f "$SUDOERS"
    rm -rf "$dir"
}

case $action in
    up) up ;;
    down) down ;;
    *) die "usage: $0 up|down <dir>" ;;
esac
