"""The ``huawei`` storage driver: Huawei OceanStor Dorado file systems through the DeviceManager REST API.

Layout, in the vstore ``[huaweidorado] vstore`` (its NAME; empty: the system view):

* the file system named after the database is its backup area, shared over NFS
  as ``/<db>/`` and mounted on the database host at ``<backupdest>/<db>``;
* snapshots are ``<db>-YYYYmmddTHHMMSS`` file system snapshots (local time in the
  id, as with every driver; their creation time is the array's epoch seconds,
  shown in UTC).  Snapshots of other names are neither listed nor dropped;
* a clone is a clone file system of one of those snapshots (``ISCLONEFS``, its
  parent this database's file system), with an NFS share ``/<clone>/`` and one
  client, ``restorenfsclient``, allowed read-write.  Making one is three calls;
  a failure part way undoes the earlier ones.  Dropping one goes in the reverse
  order (shares, then the file system); any other file system is refused.

Calls go to ``<url>/deviceManager/rest/<deviceid>/...`` through the shared
client (``storage.http``: TLS verified, timeouts, retries, names quoted), after
a login (``POST …/xx/sessions``) that gives the device id and the
``iBaseToken`` header.  Every answer is the envelope ``{"data", "error":
{"code", "description"}}``, mostly with HTTP 200: any non-zero code is an error
(the old driver looked only at positive ones), except -401, the token having
expired, which logs in once more and repeats the call.  Every list is read in
pages with ``range=[a-b]`` (the array caps an unpaged answer), and the names
of exact filters (``NAME::x``) are checked again here.

Credentials, in the old toolset's order: ``DBBACKUPSUITE_HUAWEI_USER`` and
``_PASSWORD``, else ``[huaweicredentials]`` of ``~/.dbbackupsuite_storage.cfg``,
else ``[credentials]`` of ``huaweidoradocredentials.cfg`` (beside the scripts;
installed: beside backup.cfg; or ``credentialsfile``).  The password is never
logged nor put in a message.  The API keeps no data of ours on a snapshot, so
this driver cannot pin (the base says so).
"""
from __future__ import annotations

import atexit
import configparser
import logging
import os
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Mapping
from urllib.parse import urlsplit

from imagecopy.config import Configuration, files_dir
from imagecopy.errors import ConfigError, StorageError, UsageError
from imagecopy.keys import Key

from .base import CloneInfo, SnapHandler, SnapshotInfo
from .credentials import Credentials, from_environment, login_in, read_file
from .http import ApiClient, HttpSettings, http_keys, url_path
from .remote import new_snapshot, safe_name, snapshot_id_ok

log = logging.getLogger(__name__)

SECTION = "huaweidorado"
CRED_FILE, CRED_SECTION = "huaweidoradocredentials.cfg", "credentials"
HOME_FILE, HOME_SECTION = ".dbbackupsuite_storage.cfg", "huaweicredentials"
ENV_USER, ENV_PASSWORD = "DBBACKUPSUITE_HUAWEI_USER", "DBBACKUPSUITE_HUAWEI_PASSWORD"
REST_PATH = "/deviceManager/rest"
PAGE = 100                      # the most records the array gives for one range
MAX_PAGES = 10_000
TOKEN_EXPIRED = -401
EXISTS = 1077948993             # a file system or snapshot of that name exists already
SECTOR = 512                    # CAPACITY is in sectors
OLD_CAPACITY = 1_000_000_000    # the old driver's size of a new file system, in sectors (about 477 GiB)
CONFIG_KEYS = {
    SECTION: (Key(SECTION, "url", help="the array, https://host:8088; the API is <url>/deviceManager/rest"),
              Key(SECTION, "vstore", default="", help="vstore NAME of the file systems (empty: the system view)"),
              Key(SECTION, "mounthost", default="", help="NFS logical IP or name in mount strings "
                  "(default: the url's host)"),
              Key(SECTION, "restorenfsclient", help="NFS client (IP, host name or *) given read-write access to "
                  "clones and new file systems"),
              Key(SECTION, "credentialsfile", default=CRED_FILE, help="the login file; relative: beside the "
                  "scripts (installed: beside backup.cfg)"),
              Key(SECTION, "storagepool", default="0", help="zvolume.py create: ID of the storage pool"),
              Key(SECTION, "volumesize", default="", help="zvolume.py create: size of the new file system, "
                  "e.g. 500G (default: the old 1000000000 sectors)"),
              *http_keys(SECTION)),
}
# Dorado object names: letters, digits, _ - . (checked before they reach a query, a body or a URL).
_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,254}")
_ID = re.compile(r"[A-Za-z0-9_.@-]{1,300}")


@dataclass(frozen=True)
class DoradoSnapshot:
    """A ``listsnapshots`` record."""

    id: str
    internal_id: str
    creation: datetime
    numclones: int


class DoradoError(StorageError):
    """A non-zero ``error.code`` in the array's answer."""

    def __init__(self, message: str, code: int):
        super().__init__(message)
        self.code = code


def read_credentials(config: Configuration, env: Mapping[str, str] | None = None,
                     home: Path | None = None) -> Credentials:
    """The login, in the old order: the environment, ``~/.dbbackupsuite_storage.cfg``, the credentials file.

    :raises ConfigError: when none is there, or one is incomplete (naming where, never the values).
    """
    from_env = from_environment(os.environ if env is None else env, ENV_USER, ENV_PASSWORD, SECTION)
    if from_env is not None:
        return from_env
    home_file = (home or Path(os.path.expanduser("~"))) / HOME_FILE
    if home_file.is_file():
        parser = _parse(home_file)
        # The file may hold other storages' logins: without our section it is not ours.
        if parser.has_section(HOME_SECTION):
            return _login_of(parser, home_file, HOME_SECTION)
    name = config.get("credentialsfile", SECTION, CRED_FILE).strip() or CRED_FILE
    path = files_dir(config.path) / Path(name).expanduser()          # an absolute name stays as it is
    if path.is_file():
        return _login_of(_parse(path), path, CRED_SECTION)
    raise ConfigError(f"{SECTION}: no Dorado credentials: create {path} with [{CRED_SECTION}] user and password, "
                      f"or [{HOME_SECTION}] in {home_file}, or set {ENV_USER} and {ENV_PASSWORD}")


def _parse(path: Path) -> configparser.ConfigParser:
    return read_file(path, "the Dorado credentials")


def _login_of(parser: configparser.ConfigParser, path: Path, section: str) -> Credentials:
    return login_in(parser, path, section, "Dorado", source=f"{path} [{section}]")


def envelope_text(response: Any) -> str:
    """The words of the array's ``error`` (an HTTP error page may carry one too)."""
    err = response.json().get("error") or {}
    return f"error {err.get('code')}: {err.get('description') or 'no description'}"


def _name(name: str, what: str) -> str:
    safe_name(name, what)
    if not _NAME.fullmatch(name):
        raise UsageError(f"invalid {what} {name!r}: Dorado names are letters, digits and _ - . (at most 255)")
    return name


def _sectors(config: Configuration, raw: str) -> int:
    if not raw.strip():
        return OLD_CAPACITY
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMGTP]?)B?\s*", raw, re.I)
    if not m:
        raise ConfigError(f"{config.path}: [{SECTION}] volumesize must be a size such as 500G, not '{raw}'")
    return int(float(m.group(1)) * 1024 ** " KMGTP".index((m.group(2) or " ").upper())) // SECTOR


class HuaweiDorado(SnapHandler):
    """Snapshots and clones of the file system ``<db>`` of a Dorado vstore."""

    def __init__(self, config: Configuration, dbname: str):
        super().__init__(config, dbname)
        _name(self.dbname, "database name")
        url = config.get("url", SECTION).strip().rstrip("/")
        self.settings = HttpSettings.from_config(config, SECTION, url + REST_PATH)
        self.vstore = config.get("vstore", SECTION, "").strip()
        if self.vstore:
            _name(self.vstore, "vstore name")
        self.mounthost = config.get("mounthost", SECTION, "").strip() or (urlsplit(url).hostname or "")
        self.credentials = read_credentials(config)
        self.client = ApiClient(self.settings, secrets=[self.credentials.password], error_text=envelope_text,
                                headers={"Content-Type": "application/json"})
        self._device: str | None = None
        self._logout_registered = False
        self._vstore_id: str | None = None
        self._fs_id: str | None = None
        self._snap_re = re.compile(re.escape(self.dbname) + r"-\d{8}T\d{6}")

    # -- sessions ----------------------------------------------------------------------------
    def _login(self) -> None:
        """``POST …/xx/sessions``: the device id of later paths and the token header."""
        session = self.client.session
        session.headers.pop("iBaseToken", None)
        body = {"username": self.credentials.user, "password": self.credentials.password, "scope": "0"}
        doc = self._json(self.client.request("POST", url_path("xx", "sessions"), json=body, ok=(200,)))
        code, err = self._code(doc)
        data = doc.get("data") if isinstance(doc.get("data"), dict) else {}
        if code != 0 or not data.get("iBaseToken") or not data.get("deviceid"):
            raise StorageError(f"{SECTION}: login to {urlsplit(self.settings.base_url).netloc} refused: "
                               f"error {code}: {self._words(err)} (check the credentials in "
                               f"{self.credentials.source})")
        device = str(data["deviceid"])
        if not _ID.fullmatch(device):
            raise StorageError(f"{SECTION}: the array's device id {device[:40]!r} is not understood")
        session.headers["iBaseToken"] = str(data["iBaseToken"])
        if not self._logout_registered:
            atexit.register(self._logout)
            self._logout_registered = True
        self._device = device
        log.debug("%s: logged in as %s", SECTION, self.credentials.user)

    def _logout(self) -> None:
        """End the session at exit (best effort: the array times it out anyway)."""
        if self._device is None:
            return
        try:
            self.client.session.delete(self.settings.base_url + url_path(self._device, "sessions"),
                                       timeout=min(self.settings.timeout, 5), verify=self.settings.verify)
        except Exception:       # noqa: BLE001 - at exit, nothing is left to tell
            pass
        self._device = None

    # -- calls ---------------------------------------------------------------------------------
    @staticmethod
    def _json(response: Any) -> dict[str, Any]:
        try:
            doc = response.json()
        except ValueError:
            raise StorageError(f"{SECTION}: {response.request.method} {urlsplit(response.url).path}: "
                               "the answer is not JSON") from None
        return doc if isinstance(doc, dict) else {}

    @staticmethod
    def _code(doc: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        err = doc.get("error") if isinstance(doc.get("error"), dict) else {}
        try:
            return int(err.get("code", 0)), err
        except (TypeError, ValueError):
            return -1, err          # a code that is no number is no success either

    @staticmethod
    def _words(err: dict[str, Any]) -> str:
        text = str(err.get("description") or "no description")
        if err.get("suggestion"):
            text += f" ({err['suggestion']})"
        return " ".join(text.split())[:300]

    def _call(self, method: str, *segments: str, params: dict[str, Any] | None = None,
              body: dict[str, Any] | None = None) -> Any:
        """One call below ``<deviceid>/``; its ``data``.  -401 (token expired): log in again, once."""
        for attempt in (1, 2):
            if self._device is None:
                self._login()
            assert self._device is not None
            path = url_path(self._device, *segments)
            doc = self._json(self.client.request(method, path, params=params, json=body, ok=(200,)))
            code, err = self._code(doc)
            if code == TOKEN_EXPIRED and attempt == 1:
                log.info("%s %s: the token expired (-401), logging in again", method, "/".join(segments))
                self._device = None
                continue
            if code != 0:
                shown = f"{REST_PATH}{path}"
                raise DoradoError(self.client.scrub(f"{SECTION}: {method} {shown} failed: error {code}: "
                                                     f"{self._words(err)}"), code)
            return doc.get("data")
        raise AssertionError("unreachable")

    def _scoped(self, params: dict[str, Any] | None = None) -> dict[str, Any]:
        """Query parameters with the vstore's id (GET and DELETE carry it in the query)."""
        out = dict(params or {})
        vid = self._vstore()
        if vid is not None:
            out["vstoreId"] = vid
        return out

    def _list(self, obj: str, params: dict[str, Any] | None = None, scoped: bool = True) -> list[dict[str, Any]]:
        """Every record of ``obj``, page by page (``range=[a-b]``, end excluded)."""
        records: list[dict[str, Any]] = []
        base = self._scoped(params) if scoped else dict(params or {})
        for page in range(MAX_PAGES):
            data = self._call("GET", obj, params={**base, "range": f"[{page * PAGE}-{(page + 1) * PAGE}]"})
            batch = [r for r in data if isinstance(r, dict)] if isinstance(data, list) else []
            records.extend(batch)
            if len(batch) != PAGE:      # the last page (or an array that ignored range and gave all at once)
                return records
        raise StorageError(f"{SECTION}: GET {obj}: the pages never end")

    def _exact(self, obj: str, field: str, value: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """Records whose ``field`` is ``value``: the array's exact filter, checked again here."""
        found = self._list(obj, {**(params or {}), "filter": f"{field}::{value}"})
        return [r for r in found if str(r.get(field, "")).lower() == value.lower()]

    def _vstore(self) -> str | None:
        if not self.vstore:
            return None
        if self._vstore_id is None:
            # By name, in any case, as the old driver matched it (an exact filter would miss "VSTORE1").
            found = [v for v in self._list("vstore", scoped=False)
                     if str(v.get("NAME", "")).lower() == self.vstore.lower()]
            if not found:
                raise StorageError(f"{SECTION}: vstore {self.vstore} not found")
            self._vstore_id = str(found[0].get("ID"))
        return self._vstore_id

    # -- file systems and shares ---------------------------------------------------------------
    def _filesystem(self, name: str) -> dict[str, Any] | None:
        found = self._exact("filesystem", "NAME", name)
        return found[0] if found else None

    def _fsid(self) -> str:
        if self._fs_id is None:
            fs = self._filesystem(self.dbname)
            if fs is None:
                where = f" in vstore {self.vstore}" if self.vstore else ""
                raise StorageError(f"{SECTION}: file system {self.dbname} not found{where} "
                                   f"(zvolume.py {self.dbname} create makes it)")
            self._fs_id = str(fs.get("ID"))
        return self._fs_id

    def _shares(self, fsid: str | None = None) -> list[dict[str, Any]]:
        """NFS shares (of one file system, or all of the vstore)."""
        if fsid is None:
            return self._list("NFSHARE")
        return self._exact("NFSHARE", "FSID", fsid)

    def _is_ours(self, fs: dict[str, Any]) -> bool:
        """A clone of one of this database's snapshots."""
        return (str(fs.get("ISCLONEFS", "")).lower() == "true" and str(fs.get("PARENTFILESYSTEMID")) == self._fsid()
                and bool(self._snap_re.fullmatch(str(fs.get("PARENTSNAPSHOTNAME", "")))))

    def _clones(self) -> list[dict[str, Any]]:
        return [fs for fs in self._list("filesystem") if self._is_ours(fs)]

    # -- snapshots -------------------------------------------------------------------------------
    def listsnapshots(self, sortbycreation: bool = False, sortreverse: bool = False) -> list[DoradoSnapshot]:
        fsid = self._fsid()
        clones: dict[str, int] = {}
        for fs in self._clones():
            clones[str(fs.get("PARENTSNAPSHOTNAME"))] = clones.get(str(fs.get("PARENTSNAPSHOTNAME")), 0) + 1
        records = [DoradoSnapshot(str(s["NAME"]), str(s.get("ID")), self._creation(s), clones.get(str(s["NAME"]), 0))
                   for s in self._list("FSSNAPSHOT", {"PARENTID": fsid})
                   if self._snap_re.fullmatch(str(s.get("NAME", ""))) and str(s.get("PARENTID", fsid)) == fsid]
        key = (lambda r: (r.creation, r.id)) if sortbycreation else (lambda r: r.id)
        return sorted(records, key=key, reverse=sortreverse)

    @staticmethod
    def _creation(s: dict[str, Any]) -> datetime:
        value = s.get("utcTimeStamp") or s.get("TIMESTAMP")
        try:
            return datetime.fromtimestamp(int(str(value)), timezone.utc)
        except (TypeError, ValueError, OverflowError):
            raise StorageError(f"{SECTION}: snapshot {s.get('NAME')}: creation time {value!r} is not "
                               "epoch seconds") from None

    def getsnapcreation(self, s: DoradoSnapshot | str) -> datetime:
        return s.creation if isinstance(s, DoradoSnapshot) else self.getsnapinfo(s).creation

    def _snapshot(self, snapid: str) -> DoradoSnapshot:
        snapshot_id_ok(self.dbname, snapid)
        _name(snapid, "snapshot id")
        found = [r for r in self.listsnapshots() if r.id == snapid]
        if not found:
            raise StorageError(f"{SECTION}: snapshot {snapid} of {self.dbname} not found")
        return found[0]

    def getsnapinfo(self, s: DoradoSnapshot | str) -> SnapshotInfo:
        if not isinstance(s, DoradoSnapshot):
            s = self._snapshot(s)
        return SnapshotInfo(s.id, s.creation, s.numclones, None, None)    # the API reports no space figures

    def snap(self) -> str:
        fsid = self._fsid()

        def create(snapid: str) -> bool:
            try:
                self._call("POST", "FSSNAPSHOT", body={"NAME": snapid, "PARENTID": fsid, "PARENTTYPE": "40",
                                                       **self._scoped()})
            except DoradoError as exc:
                if exc.code == EXISTS:
                    return False
                raise
            return True
        snapid = new_snapshot(self.dbname, create)
        log.info("Snapshot %s created", snapid)
        return snapid

    def dropsnap(self, snapid: str) -> None:
        s = self._snapshot(snapid)
        if s.numclones:
            raise StorageError(f"{SECTION}: snapshot {snapid} has a clone ({s.numclones}): not dropped")
        self._call("DELETE", "FSSNAPSHOT", s.internal_id, params=self._scoped())
        log.info("Snapshot %s dropped", snapid)

    # -- clones ----------------------------------------------------------------------------------
    def clone(self, snapid: str, clonename: str) -> None:
        snapshot_id_ok(self.dbname, snapid)
        _name(clonename, "clone name")
        client = self._nfs_client()
        if self._filesystem(clonename) is not None:
            raise StorageError(f"{SECTION}: cannot clone {snapid} as {clonename}: a file system of that name "
                               "already exists")
        s = self._snapshot(snapid)
        data = self._call("POST", "filesystem", body={"NAME": clonename, "PARENTFILESYSTEMID": self._fsid(),
                                                      "PARENTSNAPSHOTID": s.internal_id, "ISCLONEFS": "true",
                                                      **self._scoped()})
        self._share_out(clonename, self._id_of(data, "clone file system"), client)
        log.info("Clone %s of snapshot %s created", clonename, snapid)

    def _nfs_client(self) -> str:
        client = self.config.get("restorenfsclient", SECTION).strip()
        if not client or not re.fullmatch(r"\*|[A-Za-z0-9_.:/*-]{1,255}", client):
            raise ConfigError(f"{self.config.path}: [{SECTION}] restorenfsclient must be an IP, a host name or *, "
                              f"not '{client}'")
        return client

    @staticmethod
    def _id_of(data: Any, what: str) -> str:
        if not isinstance(data, dict) or not _ID.fullmatch(str(data.get("ID", ""))):
            raise StorageError(f"{SECTION}: the array's answer on the new {what} has no ID")
        return str(data["ID"])

    def _share_out(self, name: str, fsid: str, client: str) -> None:
        """Share a new file system as ``/<name>/`` to ``client``; after a failure drop what was made."""
        try:
            share = self._call("POST", "NFSHARE", body={"SHAREPATH": f"/{name}/", "FSID": fsid, **self._scoped()})
            self._call("POST", "NFS_SHARE_AUTH_CLIENT",
                       body={"NAME": client, "PARENTID": self._id_of(share, "NFS share"), "ACCESSVAL": 1, "SYNC": 0,
                             "ALLSQUASH": 1, "ROOTSQUASH": 1, **self._scoped()})
        except StorageError as exc:
            try:
                self._drop_filesystem(fsid)
            except StorageError as undo:
                raise StorageError(f"{exc}; file system {name} is left: {undo}") from None
            raise StorageError(f"{exc}; nothing of {name} is left") from None

    def _drop_filesystem(self, fsid: str) -> None:
        """Its shares (their clients go with them), then the file system."""
        for share in self._shares(fsid):
            self._call("DELETE", "NFSHARE", str(share.get("ID")), params=self._scoped())
        self._call("DELETE", "filesystem", fsid, params=self._scoped())

    def dropclone(self, clonename: str) -> None:
        _name(clonename, "clone name")
        fs = self._filesystem(clonename)
        if fs is None:
            raise StorageError(f"{SECTION}: clone {clonename} not found")
        if not self._is_ours(fs):
            raise StorageError(f"{SECTION}: {clonename} is not a clone of {self.dbname}'s snapshots: not dropped")
        self._drop_filesystem(str(fs.get("ID")))
        log.info("Clone %s dropped", clonename)

    def listclones(self) -> list[CloneInfo]:
        clones = self._clones()
        paths = {str(s.get("FSID")): str(s.get("SHAREPATH", "")) for s in self._shares()} if clones else {}
        return sorted((CloneInfo(str(c.get("NAME")), str(c.get("PARENTSNAPSHOTNAME")), paths.get(str(c.get("ID")), ""))
                       for c in clones), key=lambda c: c.clonename)

    def filesystem_info(self, name: str | None = None) -> CloneInfo:
        name = self.dbname if name is None else _name(name, "filesystem name")
        fs = self._filesystem(name)
        if fs is None:
            raise StorageError(f"{SECTION}: file system {name} not found")
        shares = self._shares(str(fs.get("ID")))
        origin = str(fs.get("PARENTSNAPSHOTNAME")) if str(fs.get("ISCLONEFS", "")).lower() == "true" else None
        return CloneInfo(str(fs.get("NAME")), origin, str(shares[0].get("SHAREPATH", "")) if shares else "")

    def mountstring(self, name: str) -> str:
        info = self.filesystem_info(name)
        if not info.mountpoint:
            raise StorageError(f"{SECTION}: file system {name} has no NFS share")
        return f"{self.mounthost}:{info.mountpoint}"

    def createvolume(self) -> None:
        """The database's file system (compression and deduplication on), shared as ``/<db>/``."""
        client = self._nfs_client()
        pool = self.config.get("storagepool", SECTION, "0").strip()
        if not re.fullmatch(r"\d{1,10}", pool):
            raise ConfigError(f"{self.config.path}: [{SECTION}] storagepool must be the pool's ID, not '{pool}'")
        capacity = _sectors(self.config, self.config.get("volumesize", SECTION, ""))
        if self._filesystem(self.dbname) is not None:
            raise StorageError(f"{SECTION}: file system {self.dbname} already exists")
        data = self._call("POST", "filesystem", body={
            "NAME": self.dbname, "PARENTID": pool,
            "CAPACITY": str(capacity),
            "SECTORSIZE": "8192", "ENABLECOMPRESSION": "true", "COMPRESSION": "1", "ENABLEDEDUP": "true",
            "unixPermissions": "770", "ISSHOWSNAPDIR": "false", "AUTODELSNAPSHOTENABLE": "false", **self._scoped()})
        self._share_out(self.dbname, self._id_of(data, "file system"), client)
        self._fs_id = None
        log.info("File system %s created", self.dbname)
