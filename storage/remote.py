"""Running a storage command here or on a storage server over SSH, for the zfs and btrfs drivers.

Both drivers build argument lists (``["zfs", "snapshot", name]``) and hand them
to a runner:

* ``LocalRunner`` runs them through the project's one subprocess runner
  (``imagecopy.commands.run``): no shell, output in the session log;
* ``SSHRunner`` runs them on ``[<section>] host`` with paramiko.  One connection
  per host, user and key for the whole run, reused by every command and closed
  at exit.  The server's host key must be in ``knownhosts`` (an unknown or a
  changed key is an error naming that file; nothing is ever added to it).
  The remote side always goes through a shell, so every argument is quoted
  with ``shlex.quote``; names are checked before that anyway (``safe_name``).

Either way a command that fails raises ``StorageError`` as one line: where,
the command, its exit status and what it said on stderr; ``details`` keeps the
last lines.  Each command has a timeout (``[<section>] timeout``, seconds).

With ``[<section>] sudo: true`` commands run as ``sudo -n <command>``: no
password prompt ever (a missing sudoers rule is an error, not a hang).
"""
from __future__ import annotations

import atexit
import logging
import re
import shlex
import socket
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Sequence

from imagecopy import commands
from imagecopy.config import Configuration
from imagecopy.errors import ConfigError, StorageError, UsageError
from imagecopy.keys import Key
from imagecopy.layout import validate_name

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 120.0
# Names the drivers put into zfs/btrfs commands: letters, digits and _ . : - (no leading
# '-' or '.'), which also keeps spaces, quotes and $() away from any shell.
_SAFE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.:-]*")


def remote_keys(section: str) -> tuple[Key, ...]:
    """The keys every command driver's section takes for running its commands (see runner_for)."""
    return (Key(section, "sudo", "bool", "false", "run the storage command as sudo -n <command>"),
            Key(section, "host", default="", help="the storage server over SSH (empty: this host)"),
            Key(section, "port", "int", "22", "SSH port", minimum=1),
            Key(section, "user", default="", help="SSH user (the current user)"),
            Key(section, "keyfile", default="", help="SSH private key file"),
            Key(section, "knownhosts", default="", help="known_hosts file holding the server's key"),
            Key(section, "timeout", "number", str(int(DEFAULT_TIMEOUT)), "seconds each storage command may take",
                minimum=1),
            Key(section, "sharedpaths", "bool", "false", "the server's mountpoints are the same paths here"))


def safe_name(name: str, what: str) -> str:
    """``name`` if it is a plain storage name, else ``UsageError`` (before any command runs).

    Stricter than ``validate_name``: a dataset or subvolume name with a space, a
    quote or ``$()`` is refused even though the commands would be quoted.
    """
    validate_name(name, what)
    if not _SAFE.fullmatch(name):
        raise UsageError(f"invalid {what} {name!r}: only letters, digits and _ . : - are allowed "
                         "(no spaces, quotes or shell characters)")
    return name


@dataclass(frozen=True)
class Result:
    """What a command returned: ``stderr`` is empty for local commands (merged into ``stdout``)."""

    argv: list[str]
    returncode: int
    stdout: str
    stderr: str


def failure(where: str, argv: Sequence[str], returncode: int, said: str) -> StorageError:
    """One line naming the command, with the last lines it said in ``details``."""
    lines = [line.strip() for line in said.splitlines() if line.strip()]
    text = "; ".join(lines[-3:]) if lines else "no error output"
    cmdline = " ".join(shlex.quote(a) for a in argv)
    return StorageError(f"{where}: '{cmdline}' failed with exit code {returncode}: {text}", details=lines[-5:])


class Runner:
    """Runs storage commands; ``where`` names the place in messages."""

    where = "local"
    is_local = True

    def __init__(self, sudo: bool = False, timeout: float = DEFAULT_TIMEOUT):
        self.sudo = sudo
        self.timeout = timeout

    def argv(self, argv: Sequence[str], privileged: bool = True, utc: bool = False) -> list[str]:
        """The command as run: with ``sudo -n`` in front when configured and ``privileged``,
        and ``env TZ=UTC`` in front of that with ``utc`` (sudo keeps a plain TZ)."""
        return ((["env", "TZ=UTC"] if utc else []) + (["sudo", "-n"] if self.sudo and privileged else [])
                + [str(a) for a in argv])

    def run(self, argv: Sequence[str], check: bool = True, privileged: bool = True, utc: bool = False) -> Result:
        """Run ``argv``; with ``check`` a non-zero exit raises ``StorageError``.

        ``privileged=False`` never uses sudo (commands that need no rights); ``utc`` runs
        the command in the UTC time zone (for times it prints without a zone).
        """
        raise NotImplementedError


class LocalRunner(Runner):
    """Commands on this host, through ``imagecopy.commands.run``."""

    def run(self, argv: Sequence[str], check: bool = True, privileged: bool = True, utc: bool = False) -> Result:
        full = self.argv(argv, privileged, utc)
        lines: list[str] = []
        result = commands.run(full, check=False, on_line=lines.append, timeout=self.timeout,
                              error_class=StorageError, describe=str(argv[0]))
        if result.returncode != 0:
            log.debug("%s exited with %s: %s", full[0], result.returncode, result.output)
            if check:
                raise failure(self.where, full, result.returncode, result.output)
        return Result(full, result.returncode, result.output, "")


class SSHRunner(Runner):
    """Commands on ``user@host:port`` over one reused paramiko connection."""

    is_local = False

    def __init__(self, host: str, port: int, user: str, keyfile: Path | None, knownhosts: Path,
                 sudo: bool = False, timeout: float = DEFAULT_TIMEOUT):
        super().__init__(sudo, timeout)
        self.host, self.port, self.user = host, port, user
        self.keyfile, self.knownhosts = keyfile, knownhosts
        self.where = f"{user}@{host}:{port}"
        self._client: Any = None

    def _connect(self) -> Any:
        if self._client is not None:
            return self._client
        try:
            import paramiko
        except ImportError as exc:
            raise StorageError(f"SSH to the storage server needs the paramiko module: {exc}") from exc
        client = paramiko.SSHClient()
        try:
            client.load_host_keys(str(self.knownhosts))
        except (OSError, ValueError) as exc:
            raise StorageError(f"cannot read knownhosts file {self.knownhosts}: {exc}") from exc
        # Strict: a host not in knownhosts is refused, never added.
        client.set_missing_host_key_policy(paramiko.RejectPolicy())
        try:
            client.connect(self.host, port=self.port, username=self.user,
                           key_filename=str(self.keyfile) if self.keyfile else None,
                           look_for_keys=self.keyfile is None, allow_agent=self.keyfile is None,
                           timeout=min(self.timeout, 30), banner_timeout=min(self.timeout, 30),
                           auth_timeout=min(self.timeout, 30))
        except paramiko.BadHostKeyException as exc:
            raise StorageError(f"{self.where}: the host key changed ({exc.key.get_name()} "
                               f"{exc.key.get_fingerprint().hex()}): if the server was rebuilt, fix "
                               f"its entry in {self.knownhosts}") from None
        except paramiko.SSHException as exc:
            if "not found in known_hosts" in str(exc):
                raise StorageError(f"{self.where}: unknown host key: add the server's key to {self.knownhosts} "
                                   f"(ssh-keyscan -p {self.port} {self.host}, checked by hand)") from None
            raise StorageError(f"{self.where}: SSH connection failed: {exc}") from None
        except (OSError, socket.timeout) as exc:
            raise StorageError(f"{self.where}: cannot connect: {exc}") from None
        log.debug("Connected to %s", self.where)
        self._client = client
        return client

    def run(self, argv: Sequence[str], check: bool = True, privileged: bool = True, utc: bool = False) -> Result:
        full = self.argv(argv, privileged, utc)
        cmdline = " ".join(shlex.quote(a) for a in full)
        client = self._connect()
        log.debug("%s: %s", self.where, cmdline)
        try:
            chan = client.get_transport().open_session(timeout=min(self.timeout, 30))
            chan.exec_command(cmdline)
            out, err, status = self._collect(chan, cmdline)
        except StorageError:
            raise
        except Exception as exc:  # noqa: BLE001 - paramiko raises many kinds; one message for all
            self.close()
            raise StorageError(f"{self.where}: '{cmdline}': SSH failed: {exc}") from None
        for line in err.splitlines():
            log.debug("%s stderr: %s", full[0], line)
        if check and status != 0:
            raise failure(self.where, full, status, err or out)
        return Result(full, status, out, err)

    def _collect(self, chan: Any, cmdline: str) -> tuple[str, str, int]:
        """Read stdout and stderr together (either may fill up first) until exit or timeout."""
        out, err = bytearray(), bytearray()
        deadline = time.monotonic() + self.timeout
        chan.settimeout(1.0)
        while True:
            busy = False
            while chan.recv_ready():
                out += chan.recv(65536)
                busy = True
            while chan.recv_stderr_ready():
                err += chan.recv_stderr(65536)
                busy = True
            if chan.exit_status_ready() and not chan.recv_ready() and not chan.recv_stderr_ready():
                break
            if time.monotonic() > deadline:
                chan.close()
                raise StorageError(f"{self.where}: '{cmdline}' did not finish within {self.timeout:g} seconds")
            if not busy:
                time.sleep(0.005)
        status = chan.recv_exit_status()
        chan.close()
        return out.decode(errors="replace"), err.decode(errors="replace"), status

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None


_RUNNERS: dict[tuple[Any, ...], Runner] = {}


def runner_for(config: Configuration, section: str) -> Runner:
    """The runner ``[section]`` describes: SSH when ``host`` is set, else local.

    Keys (each also ``<section><key>`` in the database's section): ``host``,
    ``port`` (22), ``user`` (the current user), ``keyfile``, ``knownhosts``
    (required with ``host``), ``sudo`` (false), ``timeout`` (seconds).
    """
    sudo = config.getbool("sudo", section, default=False)
    timeout = config.getfloat("timeout", section, default=DEFAULT_TIMEOUT, minimum=1)
    host = config.get("host", section, default="").strip()
    if not host:
        key: tuple[Any, ...] = ("local", sudo, timeout)
        if key not in _RUNNERS:
            _RUNNERS[key] = LocalRunner(sudo, timeout)
        return _RUNNERS[key]
    port = config.getint("port", section, default=22, minimum=1, maximum=65535)
    user = config.get("user", section, default="").strip() or _current_user()
    keyfile = _path(config, section, "keyfile", required=False)
    knownhosts = _path(config, section, "knownhosts", required=True)
    key = ("ssh", host, port, user, keyfile, knownhosts, sudo, timeout)
    if key not in _RUNNERS:
        _RUNNERS[key] = SSHRunner(host, port, user, keyfile, knownhosts, sudo, timeout)
    return _RUNNERS[key]


def _path(config: Configuration, section: str, key: str, required: bool) -> Path | None:
    raw = config.get(key, section, default="").strip()
    if not raw:
        if required:
            raise ConfigError(f"{config.path}: [{section}] key '{key}' is required with 'host' "
                              "(host keys are always checked)")
        return None
    path = Path(raw).expanduser()
    if not path.is_absolute():
        raise ConfigError(f"{config.path}: [{section}] key '{key}' must be an absolute path, not '{raw}'")
    return path


def _current_user() -> str:
    import getpass
    return getpass.getuser()


@atexit.register
def close_all() -> None:
    """Close every SSH connection (at exit; tests call it to start afresh)."""
    for runner in _RUNNERS.values():
        if isinstance(runner, SSHRunner):
            runner.close()
    _RUNNERS.clear()


def snapshot_id_ok(dbname: str, snapid: str) -> str:
    """``snapid`` when it is a safe name of ``dbname``'s snapshots (``<db>-YYYYmmddTHHMMSS``).

    :raises UsageError: otherwise, before any command could see it.
    """
    safe_name(snapid, "snapshot id")
    if not re.fullmatch(re.escape(dbname) + r"-\d{8}T\d{6}", snapid):
        raise UsageError(f"invalid snapshot id {snapid!r}: {dbname}'s snapshots are named {dbname}-YYYYmmddTHHMMSS")
    return snapid


def new_snapshot(dbname: str, create: Callable[[str], bool]) -> str:
    """Take a snapshot named for this second (local time) with ``create(id)``; ids have one-second
    resolution, so when ``create`` says the id is taken (False), wait for the next second, three times at most.

    :raises StorageError: when every try found its id taken.
    """
    for _ in range(3):
        now = datetime.now(timezone.utc)
        snapid = f"{dbname}-{now.astimezone():%Y%m%dT%H%M%S}"
        if create(snapid):
            return snapid
        time.sleep(1.05 - now.microsecond / 1e6)
    raise StorageError(f"snapshot {snapid} already exists")
