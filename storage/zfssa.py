"""The ``zfssa`` storage driver: an Oracle ZFS Storage Appliance through its REST API (v1).

Layout, in ``[zfssa] pool`` and ``project`` (a database section may override
them as ``zfssapool`` / ``zfssaproject``, as with the old toolset):

* the share (filesystem) named after the database is its backup area, mounted
  over NFS at ``<backupdest>/<db>`` on the database host;
* snapshots are ``<db>-YYYYmmddTHHMMSS`` on that share (local time in the id,
  like every driver; creation time and order are the appliance's ``creation``,
  UTC).  Snapshots with other names (made by hand, by a replication) are
  neither listed nor dropped;
* a clone is a share of the same project, recognised as this database's by its
  ``origin`` (this pool, project and share); any other share is refused.

Calls go to ``<[zfssa] url>/api/storage/v1`` through the shared client
(``storage.http``: TLS verified, timeouts, retries on 503 and connection
errors, names quoted).  Credentials: ``ZFSSA_USER`` / ``ZFSSA_PASSWORD`` when
both are set, else the old toolset's ``zfscredentials.cfg`` beside the
scripts (``[zfscredentials] zfsuser, zfspassword``; another file with
``[zfssa] credentialsfile``), else a ``[zfscredentials]`` section pasted into
the main file.  ``[zfssa] auth: basic`` (default, as before) sends them with
every call; ``session`` logs in once (``X-Auth-Session``), logs in again once
when the appliance answers 401 (the session timed out), and logs out at exit.
The password is never logged nor put in a message.

The appliance keeps no user data on snapshots through this API, so this
driver cannot pin (``pin`` says so, as the base does); retention, autoclone
and the rest are the shared code of ``storage.base``.
"""
from __future__ import annotations

import atexit
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

from .base import CloneInfo, SnapHandler, SnapshotInfo
from .credentials import Credentials, from_environment, login_in, read_file
from .http import ApiClient, HttpSettings, http_keys, url_path
from .remote import new_snapshot, safe_name, snapshot_id_ok

log = logging.getLogger(__name__)

SECTION = "zfssa"
CREDENTIALS_SECTION = "zfscredentials"
CREDENTIALS_FILE = "zfscredentials.cfg"
ENV_USER, ENV_PASSWORD = "ZFSSA_USER", "ZFSSA_PASSWORD"
API_PATH = "/api/storage/v1"
ACCESS_PATH = "/api/access/v1"
CREATION_FORMATS = ("%Y%m%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%SZ")   # v1, and v2 should a v2 URL be given
# Properties of a new backup share that may be set in [zfssa] (else the project's are inherited).
VOLUME_PROPERTIES = ("compression", "recordsize", "logbias", "quota", "sharenfs",
                     "root_user", "root_group", "root_permissions")
# [zfscredentials] (the login pasted into backup.cfg) stays undeclared: the sample does not advertise it.
CONFIG_KEYS = {
    SECTION: (Key(SECTION, "url", help="the appliance, https://host:215; the API is <url>/api/storage/v1"),
              Key(SECTION, "pool", help="pool of the databases' shares"),
              Key(SECTION, "project", help="project of the databases' shares"),
              Key(SECTION, "auth", "choice", "basic", "basic (the login with every call) or session",
                  choices=("basic", "session")),
              Key(SECTION, "credentialsfile", default=CREDENTIALS_FILE,
                  help="the login file; relative: beside the scripts (installed: beside backup.cfg)"),
              Key(SECTION, "nfshost", default="", help="host in mount strings (default: the url's host)"),
              *(Key(SECTION, name, default="", help="zvolume.py create: this property of the new share")
                for name in VOLUME_PROPERTIES),
              *http_keys(SECTION)),
}
_APPLIANCE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.:-]*")


@dataclass(frozen=True)
class ZfssaSnapshot:
    """A ``listsnapshots`` record: everything the one listing call told."""

    id: str
    creation: datetime
    numclones: int
    space_total: int | None
    space_unique: int | None


def read_credentials(config: Configuration, env: Mapping[str, str] | None = None) -> Credentials:
    """The appliance login: the environment, else the credentials file, else ``[zfscredentials]``.

    :raises ConfigError: when none is there, or one is incomplete (naming where, never the values).
    """
    from_env = from_environment(os.environ if env is None else env, ENV_USER, ENV_PASSWORD, SECTION)
    if from_env is not None:
        return from_env
    name = config.get("credentialsfile", SECTION, CREDENTIALS_FILE).strip() or CREDENTIALS_FILE
    path = Path(name).expanduser()
    if not path.is_absolute():
        path = files_dir(config.path) / path
    if path.is_file():
        return login_in(read_file(path, "the appliance credentials"), path, CREDENTIALS_SECTION, "appliance",
                        keys=("zfsuser", "zfspassword"))
    if config.has_section(CREDENTIALS_SECTION):
        return Credentials(config.get("zfsuser", CREDENTIALS_SECTION), config.get("zfspassword", CREDENTIALS_SECTION),
                           f"{config.path} [{CREDENTIALS_SECTION}]")
    raise ConfigError(f"{SECTION}: no appliance credentials: create {path} with [{CREDENTIALS_SECTION}] zfsuser "
                      f"and zfspassword, or set {ENV_USER} and {ENV_PASSWORD}")


def fault_text(response: Any) -> str:
    """The words of a ZFSSA error body ``{"fault": {"message", "details", "code"}}``."""
    fault = response.json().get("fault") or {}
    parts = [str(fault[k]) for k in ("message", "details") if fault.get(k)]
    return ": ".join(parts)


def parse_creation(value: Any) -> datetime:
    """The appliance's ``creation`` (v1 ``20150803T13:31:42``, UTC) as an aware datetime."""
    for fmt in CREATION_FORMATS:
        try:
            return datetime.strptime(str(value), fmt).replace(tzinfo=timezone.utc)
        except ValueError:
            continue
    raise StorageError(f"{SECTION}: snapshot creation time '{value}' is not understood")


def _bytes(value: Any) -> int | None:
    """A space figure (an int, or a float on some releases); None when the appliance gave none."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return int(value)


def _clones(snapshot: dict[str, Any]) -> int:
    """A snapshot's ``numclones`` (what keeps it from being dropped)."""
    try:
        return int(snapshot.get("numclones", 0))
    except (TypeError, ValueError):
        raise StorageError(f"{SECTION}: snapshot {snapshot.get('name')}: numclones "
                           f"'{snapshot.get('numclones')}' is not a number") from None


class ZFSSA(SnapHandler):
    """Snapshots and clones of the share ``<pool>/<project>/<db>`` on a ZFS Storage Appliance."""

    def __init__(self, config: Configuration, dbname: str):
        super().__init__(config, dbname)
        safe_name(self.dbname, "database name")
        url = config.get("url", SECTION).strip().rstrip("/")
        self.pool = self._appliance_name("pool")
        self.project = self._appliance_name("project")
        self.settings = HttpSettings.from_config(config, SECTION, url + API_PATH)
        self.credentials = read_credentials(config)
        self.auth_mode = config.getchoice("auth", SECTION, ("basic", "session"), "basic")
        self.nfshost = config.get("nfshost", SECTION, "").strip() or (urlsplit(url).hostname or "")
        basic = (self.credentials.user, self.credentials.password)
        self.client = ApiClient(self.settings, auth=basic if self.auth_mode == "basic" else None,
                                secrets=[self.credentials.password], error_text=self._error_text,
                                relogin=self._relogin if self.auth_mode == "session" else None)
        self._session: str | None = None
        self._logging_in = False
        self._snap_re = re.compile(re.escape(self.dbname) + r"-\d{8}T\d{6}")

    def _appliance_name(self, key: str) -> str:
        value = self.config.get(key, SECTION).strip()
        if not _APPLIANCE_NAME.fullmatch(value):
            raise ConfigError(f"{self.config.path}: [{SECTION}] key '{key}' must be an appliance name "
                              f"(letters, digits, _ . : -), not '{value}'")
        return value

    @property
    def where(self) -> str:
        return f"{self.pool}/{self.project}"

    # -- calls ---------------------------------------------------------------------------
    def _fs(self, *segments: str) -> str:
        """``/pools/<pool>/projects/<project>/filesystems[/...]``, every segment quoted."""
        return url_path("pools", self.pool, "projects", self.project, "filesystems", *segments)

    def _call(self, method: str, path: str, **kw: Any) -> Any:
        if self.auth_mode == "session" and self._session is None:
            self._login()
        return self.client.request(method, path, **kw)

    def _json(self, response: Any, key: str) -> Any:
        try:
            return response.json()[key]
        except (ValueError, KeyError, TypeError):
            raise StorageError(f"{SECTION}: {response.request.method} {urlsplit(response.url).path}: "
                               f"the answer has no '{key}'") from None

    def _error_text(self, response: Any) -> str:
        text = fault_text(response)
        if response.status_code == 401:
            text += f" (check the credentials in {self.credentials.source})"
        return text

    # -- sessions ------------------------------------------------------------------------
    def _login(self) -> None:
        """``POST /api/access/v1`` with Basic auth; later calls send the ``X-Auth-Session`` it gives."""
        self._logging_in = True
        session = self.client.session
        session.headers.pop("X-Auth-Session", None)
        session.auth = (self.credentials.user, self.credentials.password)
        try:
            response = self.client.request("POST", ACCESS_PATH, absolute=True, ok=(200, 201))
        finally:
            session.auth = None
            self._logging_in = False
        token = response.headers.get("X-Auth-Session")
        if not token:
            raise StorageError(f"{SECTION}: the appliance's login answer has no X-Auth-Session header")
        session.headers["X-Auth-Session"] = token
        if self._session is None:
            atexit.register(self._logout)
        self._session = token
        log.debug("%s: logged in to the appliance as %s", SECTION, self.credentials.user)

    def _relogin(self, client: ApiClient) -> None:
        """The client's hook on a 401: log in again (once per call; the client sees to that)."""
        if self._logging_in:        # the login itself was refused: no second try
            raise StorageError(f"{SECTION}: login to {urlsplit(self.settings.base_url).netloc} refused (HTTP 401): "
                               f"check the credentials in {self.credentials.source}")
        self._login()

    def _logout(self) -> None:
        """End the session (best effort, no retries: the appliance times it out anyway)."""
        if self._session is None:
            return
        split = urlsplit(self.settings.base_url)
        try:
            self.client.session.delete(f"{split.scheme}://{split.netloc}{ACCESS_PATH}",
                                       timeout=min(self.settings.timeout, 5), verify=self.settings.verify)
        except Exception:       # noqa: BLE001 - at exit, nothing is left to tell
            pass
        self._session = None

    # -- snapshots -----------------------------------------------------------------------
    def listsnapshots(self, sortbycreation: bool = False, sortreverse: bool = False) -> list[ZfssaSnapshot]:
        response = self._call("GET", self._fs(self.dbname, "snapshots"), ok=(200, 404))
        if response.status_code == 404:
            raise StorageError(f"{SECTION}: filesystem {self.dbname} not found in {self.where}")
        records = [self._record(s) for s in self._json(response, "snapshots")
                   if isinstance(s, dict) and self._snap_re.fullmatch(str(s.get("name", "")))]
        if sortbycreation:
            return sorted(records, key=lambda r: (r.creation, r.id), reverse=sortreverse)
        return sorted(records, key=lambda r: r.id, reverse=sortreverse)

    @staticmethod
    def _record(s: dict[str, Any]) -> ZfssaSnapshot:
        usage = s.get("usage") if isinstance(s.get("usage"), dict) else {}    # the 2013.1 releases' shape
        total = _bytes(s.get("space_data", usage.get("data")))
        unique = _bytes(s.get("space_unique", usage.get("unique")))
        return ZfssaSnapshot(str(s["name"]), parse_creation(s.get("creation")), _clones(s), total, unique)

    def getsnapcreation(self, s: ZfssaSnapshot | str) -> datetime:
        return s.creation if isinstance(s, ZfssaSnapshot) else self.getsnapinfo(s).creation

    def getsnapinfo(self, s: ZfssaSnapshot | str) -> SnapshotInfo:
        if not isinstance(s, ZfssaSnapshot):
            snapid = snapshot_id_ok(self.dbname, s)
            found = [r for r in self.listsnapshots() if r.id == snapid]
            if not found:
                raise StorageError(f"{SECTION}: snapshot {snapid} of {self.dbname} not found")
            s = found[0]
        return SnapshotInfo(s.id, s.creation, s.numclones, s.space_total, s.space_unique)

    def snap(self) -> str:
        def create(snapid: str) -> bool:
            response = self._call("POST", self._fs(self.dbname, "snapshots"), json={"name": snapid}, ok=(201, 409))
            return response.status_code == 201
        snapid = new_snapshot(self.dbname, create)
        log.info("Snapshot %s created", snapid)
        return snapid

    def _snapshot(self, snapid: str) -> dict[str, Any]:
        """The appliance's object of one of our snapshots."""
        snapshot_id_ok(self.dbname, snapid)
        response = self._call("GET", self._fs(self.dbname, "snapshots", snapid), ok=(200, 404))
        if response.status_code == 404:
            raise StorageError(f"{SECTION}: snapshot {snapid} of {self.dbname} not found in {self.where}")
        snapshot = self._json(response, "snapshot")
        return snapshot if isinstance(snapshot, dict) else {}

    def dropsnap(self, snapid: str) -> None:
        # The appliance's answer to dropping a snapshot with clones is not documented: ask first.
        numclones = _clones(self._snapshot(snapid))
        if numclones:
            raise StorageError(f"{SECTION}: snapshot {snapid} has a clone ({numclones}): not dropped")
        self._call("DELETE", self._fs(self.dbname, "snapshots", snapid), ok=(204, 200))
        log.info("Snapshot %s dropped", snapid)

    # -- clones --------------------------------------------------------------------------
    def clone(self, snapid: str, clonename: str) -> None:
        snapshot_id_ok(self.dbname, snapid)
        safe_name(clonename, "clone name")
        response = self._call("PUT", self._fs(self.dbname, "snapshots", snapid, "clone"),
                              json={"project": self.project, "share": clonename}, ok=(201, 404, 409))
        if response.status_code == 404:
            raise StorageError(f"{SECTION}: snapshot {snapid} of {self.dbname} not found in {self.where}")
        if response.status_code == 409:
            raise StorageError(f"{SECTION}: cannot clone {snapid} as {clonename}: a share of that name already "
                               f"exists in {self.where}")
        log.info("Clone %s of snapshot %s created", clonename, snapid)

    def _share(self, name: str) -> dict[str, Any]:
        safe_name(name, "filesystem name")
        response = self._call("GET", self._fs(name), ok=(200, 404))
        if response.status_code == 404:
            raise StorageError(f"{SECTION}: filesystem {name} not found in {self.where}")
        share = self._json(response, "filesystem")
        if not isinstance(share, dict):
            raise StorageError(f"{SECTION}: the appliance's answer on {name} is not a filesystem")
        return share

    def _is_ours(self, share: dict[str, Any]) -> bool:
        """A clone of one of this database's snapshots (this pool, project and share)."""
        origin = share.get("origin")
        return (isinstance(origin, dict) and origin.get("project") == self.project
                and origin.get("share") == self.dbname and origin.get("pool", self.pool) == self.pool
                and bool(self._snap_re.fullmatch(str(origin.get("snapshot", "")))))

    def dropclone(self, clonename: str) -> None:
        share = self._share(clonename)
        if not self._is_ours(share):
            raise StorageError(f"{SECTION}: {clonename} is not a clone of {self.dbname}'s snapshots: not dropped")
        self._call("DELETE", self._fs(clonename), ok=(204, 200))
        log.info("Clone %s dropped", clonename)

    @staticmethod
    def _clone_info(share: dict[str, Any]) -> CloneInfo:
        origin = share.get("origin")
        snapshot = origin.get("snapshot") if isinstance(origin, dict) else None
        return CloneInfo(str(share.get("name")), None if snapshot is None else str(snapshot),
                         str(share.get("mountpoint", "")))

    def filesystem_info(self, name: str | None = None) -> CloneInfo:
        return self._clone_info(self._share(self.dbname if name is None else name))

    def listclones(self) -> list[CloneInfo]:
        response = self._call("GET", self._fs())
        return [self._clone_info(s) for s in self._json(response, "filesystems")
                if isinstance(s, dict) and self._is_ours(s)]

    def mountstring(self, name: str) -> str:
        return f"{self.nfshost}:{self.filesystem_info(name).mountpoint}"

    def createvolume(self) -> None:
        body: dict[str, Any] = {"name": self.dbname}
        for key in VOLUME_PROPERTIES:
            value = self.config.get(key, SECTION, "").strip()
            if value:
                body[key] = int(value) if key == "quota" and value.isdigit() else value
        response = self._call("POST", self._fs(), json=body, ok=(201, 409))
        if response.status_code == 409:
            raise StorageError(f"{SECTION}: filesystem {self.dbname} already exists in {self.where}")
        log.info("Filesystem %s created in %s", self.dbname, self.where)
