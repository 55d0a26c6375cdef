"""The ``softnas`` storage driver: a SoftNAS server's ZFS volumes and snapshots through its web API.

Layout: ``[softnas] pool`` is a ZFS pool of the server at ``serveraddress``; each
database is the volume (filesystem) named after it, NFS-exported at its
``vol_path`` (``/<pool>/<db>``) and mounted by the database host at
``<backupdest>/<db>``.  The server names the snapshots it takes; the id is read
from its answer.  Every snapshot of the volume is the database's, as with the
old toolset: its retention drops them all, so the server's own snapshot
schedule must be off for these volumes.

The API: ``POST <apipath>/login.php`` (form ``username``, ``password``) answers
302 and sets a session cookie; every operation is ``POST
<apipath>/snserver/snserv.php`` with form field ``opcode`` and its operands,
answered ``{"success", "msg", "records", "total"}``.  Without a valid session
snserv.php answers 302 to ``login.php``: the driver logs in again once and
repeats the call.  It logs in once per run (the old driver logged in and out
around every call) and out at exit (``logout.php``).  Listings are read page
by page (``start``/``limit``) until ``total`` records came.

Credentials: ``SOFTNAS_USER`` / ``SOFTNAS_PASSWORD`` when both are set, else
the old toolset's ``softnascredentials.cfg`` beside the scripts (installed:
beside backup.cfg; or ``[softnas] credentialsfile``), ``[credentials] user,
password``.  HTTP (TLS verified, timeouts, retries, no password in a message)
is ``storage.http``.

SoftNAS cannot clone a snapshot under a name of ours, so this driver has no
clones (``SnapHandlerWithoutClones``: zsnapper's clone actions and the restores
say so in one line, exit 2), and no pins (the API keeps no data of ours on a
snapshot).
"""
from __future__ import annotations

import atexit
import json
import logging
import os
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Mapping
from urllib.parse import urlsplit

from imagecopy.config import Configuration, files_dir
from imagecopy.errors import ConfigError, StorageError
from imagecopy.keys import Key

from .base import CloneInfo, SnapHandlerWithoutClones, SnapshotInfo
from .credentials import from_environment, login_in, read_file
from .http import ApiClient, HttpSettings, http_keys
from .remote import safe_name

log = logging.getLogger(__name__)

SECTION = "softnas"
CRED_SECTION = "credentials"
CRED_FILE = "softnascredentials.cfg"
ENV_USER, ENV_PASSWORD = "SOFTNAS_USER", "SOFTNAS_PASSWORD"
LOGIN, LOGOUT, SNSERV = "/login.php", "/logout.php", "/snserver/snserv.php"
PAGE = 500                  # records asked for per listing call
TEXT_CREATION = "%a %b %d %H:%M %Y"     # ZFS's creation property as text: "Sun Jan 12 19:00 2014"
CONFIG_KEYS = {
    SECTION: (Key(SECTION, "serveraddress", help="the SoftNAS server, host[:port] (the API is "
                                                 "https://<serveraddress>/<apipath>)"),
              Key(SECTION, "pool", help="the ZFS pool of the databases' volumes"),
              Key(SECTION, "apipath", default="softnas", help="the API's path on the server (newer builds: buurst)"),
              Key(SECTION, "mounthost", default="", help="host in mount strings (default: serveraddress's host)"),
              Key(SECTION, "credentialsfile", default=CRED_FILE,
                  help="the login file; relative: beside the scripts (installed: beside backup.cfg)"),
              *http_keys(SECTION)),
}
_POOL = re.compile(r"[A-Za-z][A-Za-z0-9_.:-]*")
_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*([KMGTPE]?)(?:i?B)?", re.I)


@dataclass(frozen=True)
class SoftnasSnapshot:
    """A ``listsnapshots`` record: everything the listing told."""

    id: str
    creation: datetime
    space_total: int | None


def read_login(config: Configuration, env: Mapping[str, str] | None = None) -> tuple[str, str, str]:
    """User, password and where they were read (for messages): the environment, else the file.

    :raises ConfigError: when neither is there or one is incomplete (naming where, never the values).
    """
    from_env = from_environment(os.environ if env is None else env, ENV_USER, ENV_PASSWORD, SECTION)
    if from_env is not None:
        return from_env.user, from_env.password, from_env.source
    name = config.get("credentialsfile", SECTION, CRED_FILE).strip() or CRED_FILE
    path = files_dir(config.path) / Path(name).expanduser()     # an absolute name stays as it is
    if not path.is_file():
        raise ConfigError(f"{SECTION}: no SoftNAS login: create {path} with [{CRED_SECTION}] user and password, "
                          f"or set {ENV_USER} and {ENV_PASSWORD}")
    login = login_in(read_file(path, "the SoftNAS login"), path, CRED_SECTION, "SoftNAS")
    return login.user, login.password, login.source


def parse_size(value: Any) -> int | None:
    """ZFS's human size (``136K``, ``1.21G``: base 1024) or a number, as bytes; None for ``-`` or nothing."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return int(value)
    m = _SIZE.fullmatch(str(value or "").strip())
    if not m:
        return None
    return int(float(m.group(1)) * 1024 ** " KMGTPE".index((m.group(2) or " ").upper()))


def parse_creation(record: Mapping[str, Any]) -> datetime:
    """A snapshot's creation (aware, UTC): ``datesort`` (epoch seconds), else a numeric ``creation``,
    else ``creation`` as ZFS writes it (minutes; taken as UTC, the server's zone being unknown here)."""
    for value in (record.get("datesort"), record.get("creation")):
        try:
            return datetime.fromtimestamp(float(value), timezone.utc)      # type: ignore[arg-type]
        except (TypeError, ValueError, OverflowError, OSError):
            continue
    text = " ".join(str(record.get("creation", "")).split())
    try:
        return datetime.strptime(text, TEXT_CREATION).replace(tzinfo=timezone.utc)
    except ValueError:
        raise StorageError(f"{SECTION}: snapshot {record.get('snapshot_name')}: creation time "
                           f"'{text}' is not understood") from None


def _said(response: Any) -> str:
    """The words of an error answer: its ``msg`` when it is SoftNAS's JSON, else the text."""
    try:
        doc = response.json()
    except ValueError:
        return (response.text or "").strip()
    return str(doc.get("msg") or "") if isinstance(doc, dict) else ""


class SoftNAS(SnapHandlerWithoutClones):
    """Snapshots of the volume ``<pool>/<db>`` on a SoftNAS server."""

    storage_name = "SoftNAS"

    def __init__(self, config: Configuration, dbname: str):
        super().__init__(config, dbname)
        safe_name(self.dbname, "database name")
        address = config.get("serveraddress", SECTION).strip()
        split = urlsplit(f"https://{address}")
        if not address or not split.hostname or split.path or split.query or split.fragment or "@" in address:
            raise ConfigError(f"{config.path}: [{SECTION}] key 'serveraddress' must be a host name or address "
                              f"(with :port if not 443), not '{address}'")
        self.pool = config.get("pool", SECTION).strip()
        if not _POOL.fullmatch(self.pool):
            raise ConfigError(f"{config.path}: [{SECTION}] key 'pool' must be a ZFS pool name "
                              f"(letters, digits, _ . : -), not '{self.pool}'")
        apipath = config.get("apipath", SECTION, "softnas").strip().strip("/")
        if not re.fullmatch(r"[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*", apipath) or ".." in apipath:
            raise ConfigError(f"{config.path}: [{SECTION}] key 'apipath' must be a plain path such as softnas, "
                              f"not '{apipath}'")
        self.mounthost = config.get("mounthost", SECTION, "").strip() or str(split.hostname)
        self.settings = HttpSettings.from_config(config, SECTION, f"https://{address}/{apipath}")
        self.user, self._password, self.login_source = read_login(config)
        self._client: ApiClient | None = None
        self._logged_in = False

    @property
    def client(self) -> ApiClient:
        """The HTTP client, made at the first call: building the driver needs no ``requests``
        (the restores build it only to learn that it cannot clone)."""
        if self._client is None:
            self._client = ApiClient(self.settings, secrets=[self._password], error_text=_said,
                                     headers={"Accept": "application/json, text/html"})
        return self._client

    # -- the session -----------------------------------------------------------------------
    def _login(self) -> None:
        """``login.php``: a 302 that sets the session cookie (kept by the client's session)."""
        self.client.session.cookies.clear()
        response = self.client.request("POST", LOGIN, data={"username": self.user, "password": self._password},
                                       ok=(200, 302), allow_redirects=False)
        if response.status_code != 302 or _to_login(response) or not self.client.session.cookies:
            raise self._refused()
        if not self._logged_in:
            atexit.register(self._logout)
        self._logged_in = True
        log.debug("%s: logged in to %s as %s", SECTION, urlsplit(self.settings.base_url).netloc, self.user)

    def _refused(self) -> StorageError:
        return StorageError(f"{SECTION}: login to {urlsplit(self.settings.base_url).netloc} refused: "
                            f"check the credentials in {self.login_source}")

    def _logout(self) -> None:
        """End the session (best effort, no retries: the server times it out anyway)."""
        if not self._logged_in or self._client is None:
            return
        self._logged_in = False
        try:
            self._client.session.get(self.settings.base_url + LOGOUT, timeout=min(self.settings.timeout, 5),
                                    verify=self.settings.verify, allow_redirects=False)
        except Exception:       # noqa: BLE001 - at exit, nothing is left to tell
            pass

    def _call(self, opcode: str, **operands: Any) -> dict[str, Any]:
        """One snserv.php operation; its answer when ``success`` is true.

        :raises StorageError: one line: the operation and SoftNAS's ``msg``.
        """
        fresh = not self._logged_in
        if fresh:
            self._login()
        form = {"opcode": opcode, **{k: str(v) for k, v in operands.items()}}
        while True:
            response = self.client.request("POST", SNSERV, data=form, ok=(200, 302), allow_redirects=False)
            if response.status_code != 302:
                break
            if not _to_login(response):
                raise StorageError(f"{SECTION}: {opcode}: the server answered HTTP 302 to "
                                   f"{response.headers.get('Location') or 'nowhere'}")
            if fresh:               # a session just made is refused: the login is wrong
                raise self._refused()
            log.info("%s: the session ended; logging in again", SECTION)
            self._login()
            fresh = True
        try:
            doc = response.json()
        except ValueError:
            doc = None
        if not isinstance(doc, dict):
            raise StorageError(self.client.scrub(f"{SECTION}: {opcode}: the answer is not SoftNAS's JSON: "
                                           f"{' '.join(response.text.split())[:120]}"))
        if doc.get("success") not in (True, "true"):
            said = " ".join(str(doc.get("msg") or "no message").split())[:300]
            raise StorageError(self.client.scrub(f"{SECTION}: {opcode} failed: {said}"))
        return doc

    def _records(self, opcode: str, **operands: Any) -> list[dict[str, Any]]:
        """Every record of a listing, page by page (the server may give fewer than asked)."""
        out: list[dict[str, Any]] = []
        while True:
            doc = self._call(opcode, start=len(out), limit=PAGE, **operands)
            page = doc.get("records") or []
            if not isinstance(page, list):
                raise StorageError(f"{SECTION}: {opcode}: 'records' is not a list")
            out.extend(r for r in page if isinstance(r, dict))
            try:
                total = int(doc.get("total", len(out)))
            except (TypeError, ValueError):
                total = len(out)
            if not page or len(out) >= total:
                return out

    # -- snapshots -------------------------------------------------------------------------
    def listsnapshots(self, sortbycreation: bool = False, sortreverse: bool = False) -> list[SoftnasSnapshot]:
        records = [SoftnasSnapshot(str(r["snapshot_name"]), parse_creation(r), parse_size(r.get("refer")))
                   for r in self._records("snapshotlist", pool_name=f"{self.pool}/{self.dbname}")
                   if r.get("snapshot_name") and r.get("volume_name", self.dbname) == self.dbname
                   and r.get("pool_name", self.pool) in (self.pool, f"{self.pool}/{self.dbname}")]
        # Equal times (one-second datesort) keep the server's order, which is the order of creation.
        records.sort(key=(lambda r: r.creation) if sortbycreation else (lambda r: r.id))
        if sortreverse:
            records.reverse()
        return records

    def getsnapcreation(self, s: SoftnasSnapshot | str) -> datetime:
        return s.creation if isinstance(s, SoftnasSnapshot) else self.getsnapinfo(s).creation

    def getsnapinfo(self, s: SoftnasSnapshot | str) -> SnapshotInfo:
        if not isinstance(s, SoftnasSnapshot):
            snapid = safe_name(s, "snapshot id")
            found = [r for r in self.listsnapshots() if r.id == snapid]
            if not found:
                raise StorageError(f"{SECTION}: snapshot {snapid} of {self.pool}/{self.dbname} not found")
            s = found[0]
        # No clones on SoftNAS; what dropping a snapshot frees is not in the listing: unknown.
        return SnapshotInfo(s.id, s.creation, 0, s.space_total, None)

    def snap(self) -> str:
        doc = self._call("snapcommand", command="create", pool_name=self.pool, volume_name=self.dbname)
        msg = str(doc.get("msg") or "")
        m = re.search(r"@([^'\"\s]+)'", msg)
        if not m:
            raise StorageError(f"{SECTION}: the snapshot's name is not in the server's answer "
                               f"'{' '.join(msg.split())[:120]}'")
        snapid = m.group(1)
        log.info("Snapshot %s created", snapid)
        return snapid

    def dropsnap(self, snapid: str) -> None:
        safe_name(snapid, "snapshot id")
        target = {"snapshot_name": snapid, "pool_name": self.pool, "volume_name": self.dbname}
        self._call("snapcommand", command="delete", snapshots=json.dumps([target]))
        log.info("Snapshot %s dropped", snapid)

    # -- volumes ---------------------------------------------------------------------------
    def filesystem_info(self, name: str | None = None) -> CloneInfo:
        name = self.dbname if name is None else safe_name(name, "filesystem name")
        for v in self._records("volumes", pool=self.pool):
            if v.get("pool") == self.pool and v.get("vol_name") == name:
                return CloneInfo(name, None, str(v.get("vol_path") or f"/{self.pool}/{name}"))
        raise StorageError(f"{SECTION}: volume {name} not found in pool {self.pool}")

    def mountstring(self, name: str) -> str:
        return f"{self.mounthost}:{self.filesystem_info(name).mountpoint}"

    def createvolume(self) -> None:
        self._call("createvolume", vol_name=self.dbname, pool=self.pool, vol_type="filesystem",
                   provisioning="thin", exportNFS="on", compression="on")
        log.info("Volume %s created in pool %s", self.dbname, self.pool)


def _to_login(response: Any) -> bool:
    """A redirect to the login page: SoftNAS's "log in first"."""
    return urlsplit(response.headers.get("Location", "")).path.rstrip("/").endswith("login.php")
