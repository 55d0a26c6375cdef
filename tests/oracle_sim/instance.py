"""Instances: the SID registry, parameters (pfile / spfile), startup states, connects.

An instance is named by its SID and lives in ``<state>/instances/<SID>.json``:
status ``idle`` (down), ``started`` (nomount), ``mounted`` or ``open`` with an
open mode.  Its parameters come from ``startup ... pfile=`` or from the SID's
simulated spfile (``<state>/spfiles/<SID>.json``).  A connect alias names a SID
through ``<state>/aliases.json``, or is the SID itself.
"""
from __future__ import annotations

import json
import os
import re
import socket
from pathlib import Path
from typing import Any

from . import clock


class OraError(Exception):
    """An ORA- error: ``code`` like ``ORA-01034`` and the message lines."""

    def __init__(self, code: str, message: str, *more: str):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.lines = [f"{code}: {message}", *more]


def default_parameters() -> dict[str, Any]:
    params: dict[str, Any] = {
        "compatible": "12.1.0.2.0",
        "db_files": "200",
        "log_archive_format": "%t_%s_%r.dbf",
        "processes": "300",
        "instance_number": "0",
        "thread": "0",
        "archive_lag_target": "0",
        "common_user_prefix": None,
        "db_recovery_file_dest": None,
        "db_recovery_file_dest_size": None,
        "db_create_file_dest": None,
        "diagnostic_dest": None,
        "enable_pluggable_database": "FALSE",
        "undo_tablespace": None,
        "sga_target": None,
        "pga_aggregate_target": None,
    }
    for n in range(1, 32):
        params[f"log_archive_dest_{n}"] = None
        params[f"log_archive_dest_state_{n}"] = "enable"
    return params


_PFILE_LINE = re.compile(r"^\s*(?:[\w*]+\.)?(\w+)\s*=\s*(.+?)\s*$")


def parse_pfile(text: str) -> dict[str, Any]:
    """Parse ``*.name=value`` lines of an init.ora; quotes removed, lists kept as text."""
    params: dict[str, Any] = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0]
        if not line.strip():
            continue
        m = _PFILE_LINE.match(line)
        if not m:
            raise OraError("LRM-00101", f"unknown parameter name '{line.strip()}'")
        name, value = m.group(1).lower(), m.group(2)
        params[name] = unquote(value)
    return params


def unquote(value: str) -> str:
    parts = [p.strip() for p in split_list(value)]
    out = []
    for p in parts:
        if len(p) >= 2 and p[0] == p[-1] and p[0] in "'\"":
            p = p[1:-1]
        out.append(p)
    return ", ".join(out)


def split_list(value: str) -> list[str]:
    """Split a parameter value on commas outside quotes."""
    items, cur, quote = [], "", None
    for ch in value:
        if quote:
            cur += ch
            if ch == quote:
                quote = None
        elif ch in "'\"":
            quote = ch
            cur += ch
        elif ch == ",":
            items.append(cur)
            cur = ""
        else:
            cur += ch
    items.append(cur)
    return items


class Instance:
    """One simulated instance, loaded from and saved to the state directory."""

    def __init__(self, state: Path, sid: str):
        self.state = Path(state)
        self.sid = sid
        self.path = self.state / "instances" / f"{sid}.json"
        try:
            self.doc = json.loads(self.path.read_text())
        except FileNotFoundError:
            self.doc = {"status": "idle", "open_mode": None, "params": {}}

    # -- persistence ----------------------------------------------------
    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(self.doc, indent=1, sort_keys=True))
        tmp.replace(self.path)

    @property
    def spfile_path(self) -> Path:
        return self.state / "spfiles" / f"{self.sid}.json"

    def read_spfile(self) -> dict[str, Any] | None:
        try:
            return json.loads(self.spfile_path.read_text())
        except FileNotFoundError:
            return None

    def write_spfile(self, params: dict[str, Any]) -> None:
        self.spfile_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.spfile_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(params, indent=1, sort_keys=True))
        tmp.replace(self.spfile_path)

    # -- state -------------------------------------------------------------
    @property
    def status(self) -> str:
        return self.doc["status"]

    @property
    def open_mode(self) -> str | None:
        return self.doc.get("open_mode")

    @property
    def params(self) -> dict[str, Any]:
        return self.doc["params"]

    def param(self, name: str) -> Any:
        return self.doc["params"].get(name.lower())

    def control_files(self) -> list[Path]:
        value = self.param("control_files")
        if not value:
            raise OraError("ORA-00205", "error in identifying control file, check alert log for more info")
        return [Path(v.strip()) for v in split_list(value) if v.strip()]

    def start(self, pfile_params: dict[str, Any] | None) -> None:
        """Startup nomount: read the pfile or the spfile into memory."""
        if self.status != "idle":
            raise OraError("ORA-01081", "cannot start already-running ORACLE - shut it down first")
        if pfile_params is None:
            pfile_params = self.read_spfile()
            if pfile_params is None:
                raise OraError(
                    "ORA-01078", "failure in processing system parameters",
                    f"LRM-00109: could not open parameter file '{self.state}/dbs/init{self.sid}.ora'",
                )
            self.doc["spfile"] = str(self.spfile_path)
        else:
            self.doc["spfile"] = None
        params = default_parameters()
        params.update(pfile_params)
        if not params.get("db_name"):
            raise OraError("ORA-01078", "failure in processing system parameters",
                           "LRM-00109: db_name parameter not specified")
        if params.get("enable_pluggable_database", "FALSE").upper() == "TRUE" and not params.get(
            "common_user_prefix"
        ):
            params["common_user_prefix"] = "C##"
        params.setdefault("db_unique_name", params["db_name"])
        self.doc.update(status="started", open_mode=None, params=params, started=clock.now(self.state),
                        host=socket.gethostname().split(".")[0])
        self.save()
        self.alert(f"Starting ORACLE instance (normal) (OS id: {os.getpid()})")

    def alert(self, message: str) -> None:
        """Append to the alert log in the ADR home under diagnostic_dest, as Oracle does."""
        base = self.param("diagnostic_dest")
        if not base:
            return
        trace = Path(base) / "diag" / "rdbms" / str(self.param("db_name")).lower() / self.sid / "trace"
        try:
            trace.mkdir(parents=True, exist_ok=True)
            with open(trace / f"alert_{self.sid}.log", "a") as fh:
                fh.write(f"{clock.fmt(clock.now(self.state))}\n{message}\n")
        except OSError:
            pass  # an unwritable diag dest does not stop a real instance either

    def set_status(self, status: str, open_mode: str | None = None) -> None:
        self.doc["status"] = status
        self.doc["open_mode"] = open_mode
        self.save()

    def shutdown(self) -> None:
        self.doc.update(status="idle", open_mode=None)
        self.save()

    def cluster_peers(self) -> list[Instance]:
        """The other instances of this RAC database (same db_unique_name, cluster_database TRUE)."""
        if str(self.param("cluster_database") or "").upper() != "TRUE":
            return []
        peers = []
        for path in sorted((self.state / "spfiles").glob("*.json")):
            other = Instance(self.state, path.stem)
            sp = other.read_spfile() or {}
            if other.sid != self.sid and str(sp.get("cluster_database", "")).upper() == "TRUE" and \
                    sp.get("db_unique_name") == self.param("db_unique_name"):
                peers.append(other)
        return peers

    def set_parameter(self, name: str, value: Any, scope: str = "both") -> None:
        """ALTER SYSTEM SET; in a cluster it applies to every instance (SID='*', the default)."""
        self._set_parameter(name, value, scope)
        if name.lower() not in INSTANCE_SPECIFIC:
            for peer in self.cluster_peers():
                peer._set_parameter(name, value, scope if peer.status != "idle" else "spfile")

    def _set_parameter(self, name: str, value: Any, scope: str) -> None:
        name = name.lower()
        if scope in ("both", "memory"):
            self.doc["params"][name] = value
            self.save()
        if scope in ("both", "spfile"):
            sp = self.read_spfile()
            if sp is None:
                if scope == "spfile" or self.doc.get("spfile") is None:
                    raise OraError("ORA-32001", "write to SPFILE requested but no SPFILE is in use")
            else:
                sp[name] = value
                self.write_spfile(sp)


# Parameters a cluster's instances each set for themselves.
INSTANCE_SPECIFIC = {"instance_number", "thread", "undo_tablespace", "instance_name", "local_listener"}


def aliases(state: Path) -> dict[str, str]:
    try:
        return json.loads((Path(state) / "aliases.json").read_text())
    except FileNotFoundError:
        return {}


def add_alias(state: Path, alias: str, sid: str) -> None:
    data = aliases(state)
    data[alias.lower()] = sid
    (Path(state) / "aliases.json").write_text(json.dumps(data, indent=1, sort_keys=True))


def resolve_alias(state: Path, alias: str) -> str:
    """The SID a TNS alias names, or ORA-12154."""
    state = Path(state)
    known = aliases(state)
    if alias.lower() in known:
        return known[alias.lower()]
    for sid_file in (state / "spfiles").glob("*.json") if (state / "spfiles").is_dir() else []:
        if sid_file.stem.lower() == alias.lower():
            return sid_file.stem
    raise OraError("ORA-12154", "TNS:could not resolve the connect identifier specified")
