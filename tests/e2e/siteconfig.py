"""The backup.cfg the end-to-end tests, the demo and the benchmarks write: one place, overridable."""
from __future__ import annotations

from pathlib import Path

GENERIC = {
    "logretention": "20", "warningsnapage": "26", "criticalsnapage": "32", "osuser": "oracle",
    "maxlockwait": "1", "snappermodule": "localfs", "snapperclass": "LocalFS",
}
AUTORESTORE = {
    "autorestoreclonename": "autorestore", "autorestoremountmethod": "clonepath", "autorestoresnapage": "0",
    "autorestoremaxtoleranceminutes": "5", "autorestoremodulus": "0", "autorestorevalidatechance": "0",
}
DATABASE = {
    "recoverywindow": "2", "parallel": "2", "snapexpirationdays": "7", "snapexpirationmonths": "0",
    "gimanaged": "false", "customverifydate": "select max(createtime) from app.transactions",
}


def render(root: Path, oraclehome: Path, dbs: dict[str, int], generic: dict[str, object] | None = None,
           autorestore: dict[str, object] | None = None, database: dict[str, dict[str, object]] | None = None,
           storage: dict[str, dict[str, object]] | None = None) -> str:
    """A configuration with localfs storage under ``root``; ``dbs`` maps section names to DBIDs.

    ``storage`` replaces the ``[localfs]`` section with other drivers' sections (``{"zfs": {...}}``);
    ``generic`` then names the driver (``snappermodule``) and usually ``backupdest``.
    """
    sections: dict[str, dict[str, object]] = {
        "generic": {**GENERIC, "backupdest": f"{root}/backup", "tnsadmin": f"{root}/tns",
                    "oraclehome": oraclehome, **(generic or {})},
        **(storage if storage is not None else
           {"localfs": {"snapshotdir": f"{root}/snapshots", "clonedir": f"{root}/clones"}}),
        "rman": {"catalog": "/@rman"},
        "autorestore": {**AUTORESTORE, "autorestoredestination": f"{root}/autorestore/dest",
                        "autorestoremountpoint": f"{root}/autorestore/mnt",
                        "autorestorelogdir": f"{root}/autorestore/log", **(autorestore or {})},
    }
    for db, dbid in dbs.items():
        sections[db] = {"dbid": dbid, **DATABASE, **(database or {}).get(db, {})}
    return "".join(f"[{name}]\n" + "".join(f"{k}: {v}\n" for k, v in keys.items() if v is not None) + "\n"
                   for name, keys in sections.items())


def make_dirs(root: Path) -> None:
    """The directories the configuration names, and an empty tnsnames.ora."""
    for d in ("tns", "snapshots", "clones", "backup", "autorestore/dest", "autorestore/mnt", "autorestore/log"):
        (root / d).mkdir(parents=True, exist_ok=True)
    (root / "tns" / "tnsnames.ora").write_text("")
