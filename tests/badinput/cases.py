"""The rows of the bad-input corpus: what goes in, what must come out.

Each :class:`Case` names a script, its arguments, how the configuration file,
the environment or the file system is broken, the exit status expected, and a
pattern the one message line must match.  ``{root}`` and ``{cfg}`` in arguments
and values stand for the world's directory and configuration file.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

# Scripts run as root directly; these two refuse root and run as the sandbox's user.
AS_USER = {"autorestore.py", "restore.py"}


@dataclass
class Case:
    id: str
    script: str
    argv: tuple[str, ...]
    exit: int
    pattern: str
    config: Callable[[str], str] | None = None     # the configuration text, broken
    env: dict[str, str] = field(default_factory=dict)
    setup: Callable[[Path], None] | None = None     # the world's file system, broken
    stream: str = "stderr"                          # where the message line is
    usage: bool = False                             # the message is a usage text (several lines)
    may_change: tuple[str, ...] = ()                # paths (prefixes) a failed run may still touch
    needs_root: bool = False                        # mounts a small tmpfs


def set_key(section: str, key: str, value: str) -> Callable[[str], str]:
    """The configuration with ``[section] key`` set to ``value`` (added when missing)."""
    def change(text: str) -> str:
        pattern = re.compile(rf"(\[{re.escape(section)}\]\n(?:(?!\[).*\n)*?){re.escape(key)}: [^\n]*\n")
        if pattern.search(text):
            return pattern.sub(lambda m: f"{m.group(1)}{key}: {value}\n", text, count=1)
        return text.replace(f"[{section}]\n", f"[{section}]\n{key}: {value}\n", 1)
    return change


def drop_key(section: str, key: str) -> Callable[[str], str]:
    def change(text: str) -> str:
        return re.sub(rf"(\[{re.escape(section)}\]\n(?:(?!\[).*\n)*?){re.escape(key)}: [^\n]*\n", r"\1", text,
                      count=1)
    return change


def replace(old: str, new: str) -> Callable[[str], str]:
    return lambda text: text.replace(old, new)


def constant(new: str) -> Callable[[str], str]:
    return lambda text: new


def remove(rel: str) -> Callable[[Path], None]:
    def act(root: Path) -> None:
        target = root / rel
        if target.is_dir():
            os.rename(target, root / f"{rel.replace('/', '_')}.moved")
        else:
            target.unlink()
    return act


def make_file(rel: str, data: bytes = b"") -> Callable[[Path], None]:
    def act(root: Path) -> None:
        target = root / rel
        if target.is_dir():
            os.rename(target, root / f"{rel.replace('/', '_')}.moved")
        target.write_bytes(data)
    return act


def small_fs(rel: str, read_only: bool = False) -> Callable[[Path], Callable[[], None]]:
    """Move ``rel`` onto a 256 KiB tmpfs, then fill it up (or remount it read only); returns the clean-up."""
    def act(root: Path) -> Callable[[], None]:
        import shutil
        import subprocess
        target = root / rel
        saved = root / f".{rel.replace('/', '_')}.saved"
        os.rename(target, saved)
        target.mkdir()
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k,mode=0755", "tmpfs", str(target)], check=True)
        shutil.copytree(saved, target, dirs_exist_ok=True)
        shutil.rmtree(saved)
        if read_only:
            subprocess.run(["mount", "-o", "remount,ro", str(target)], check=True)
        else:
            fd = os.open(target / "filler", os.O_WRONLY | os.O_CREAT)
            try:
                while os.write(fd, b"x" * 4096):
                    pass
            except OSError:
                pass
            finally:
                os.close(fd)
        return lambda: subprocess.run(["umount", "-l", str(target)], check=False)
    return act


NUMBERS_BAD = {"nan": "finite number", "inf": "finite number", "-5": "at least", "1e308": "at most",
               "abc": "must be a number", "1e13": "at most"}
INTS_BAD = {"nan": "must be an integer", "-5": "at least", "1.5": "must be an integer",
            "99999999999999999999": "at most", "abc": "must be an integer"}
BOOLS_BAD = ("maybe", "2", "enabled")


def backup_cases() -> list[Case]:
    usage = r"^Usage: backup\.py"
    cases = [
        Case("backup-no-args", "backup.py", (), 2, usage, usage=True),
        Case("backup-db-only", "backup.py", ("orcl",), 2, usage, usage=True),
        Case("backup-unknown-action", "backup.py", ("orcl", "nosuch"), 2, usage, usage=True),
        Case("backup-extra-arg", "backup.py", ("orcl", "config", "extra"), 2, usage, usage=True),
        Case("backup-option-as-db", "backup.py", ("-x", "config"), 2, usage, usage=True),
        Case("backup-empty-config-option", "backup.py", ("orcl", "report", "--config="), 2, "--config= needs a file"),
        Case("backup-blank-config-option", "backup.py", ("orcl", "report", "--config= "), 2, "--config= needs a file"),
        Case("backup-config-missing", "backup.py", ("orcl", "report", "--config={root}/none.cfg"), 2, "not found"),
        Case("backup-config-is-directory", "backup.py", ("orcl", "report", "--config={root}"), 2, "is not a file"),
        Case("backup-env-config-missing", "backup.py", ("orcl", "report"), 2, "none.cfg not found",
             env={"BACKUPCONFIG": "{root}/none.cfg"}),
        Case("backup-setschedule-no-password", "backup.py", ("orcl", "setschedule"), 2, "OSPASSWORD must be set"),
        Case("backup-verifysnapshots-dry-run", "backup.py", ("orcl", "verifysnapshots", "--dry-run"), 2,
             "--dry-run does not apply to verifysnapshots"),
        Case("backup-json-not-verifysnapshots", "backup.py", ("orcl", "report", "--json"), 2,
             "--json applies to verifysnapshots only"),
        Case("backup-unknown-db", "backup.py", ("nodb", "report"), 2, r"section \[nodb\] not found"),
        Case("backup-db-dotdot", "backup.py", ("..", "report"), 2, r"section \[\.\.\] not found"),
        Case("backup-empty-file", "backup.py", ("orcl", "report"), 2, r"section \[orcl\] not found",
             config=constant("")),
        Case("backup-no-section-header", "backup.py", ("orcl", "report"), 2, "cannot parse", config=constant("x: 1\n")),
        Case("backup-duplicate-section", "backup.py", ("orcl", "report"), 2, "cannot parse",
             config=lambda t: t + "[orcl]\ndbid: 2\n"),
        Case("backup-duplicate-key", "backup.py", ("orcl", "report"), 2, "cannot parse",
             config=lambda t: t.replace("[orcl]\n", "[orcl]\nparallel: 1\nparallel: 2\n")),
        Case("backup-not-utf8", "backup.py", ("orcl", "report"), 2, "cannot parse",
             setup=lambda root: (root / "backup.cfg").write_bytes((root / "backup.cfg").read_bytes() + b"#\xff\xfe\n")),
        Case("backup-missing-dbid", "backup.py", ("orcl", "imagecopywithsnap"), 2, r"\[orcl\] key 'dbid' is missing",
             config=drop_key("orcl", "dbid")),
        Case("backup-relative-backupdest", "backup.py", ("orcl", "report"), 2, "must be an absolute path",
             config=set_key("generic", "backupdest", "backup")),
        Case("backup-backupdest-quote", "backup.py", ("orcl", "report"), 2, "must not contain a quote",
             config=set_key("generic", "backupdest", "/nfs/it's")),
        Case("backup-bad-sectionsize", "backup.py", ("orcl", "report"), 2, "sectionsize' must be a size",
             config=lambda t: t.replace("[rman]\n", "[rman]\nsectionsize: 32X\n")),
        Case("backup-unknown-driver", "backup.py", ("orcl", "imagecopywithsnap"), 2, "snappermodule",
             config=set_key("generic", "snappermodule", "nosuchdriver")),
        Case("backup-mount-method-nfs", "backup.py", ("orcl", "report"), 2, "one of fstab, clonepath, not 'nfs'",
             config=set_key("autorestore", "autorestoremountmethod", "nfs")),
    ]
    for action in ("imagecopywithsnap", "missingarchlog", "config", "report", "validatebackup"):
        cases.append(Case(f"backup-{action}-backupdest-missing", "backup.py", ("orcl", action), 2,
                          "Backup destination .* does not exist: is the backup storage mounted",
                          setup=remove("backup")))
        cases.append(Case(f"backup-{action}-area-missing", "backup.py", ("orcl", action), 2,
                          "Backup area .*/backup/orcl does not exist" if action != "config" else
                          "Backup destination .* does not exist", setup=remove("backup/orcl") if action != "config"
                          else remove("backup")))
    for action in ("imagecopywithsnap", "missingarchlog", "config"):
        cases.append(Case(f"backup-{action}-area-read-only", "backup.py", ("orcl", action), 1,
                          "ERROR: .*Read-only file system", setup=small_fs("backup/orcl", read_only=True),
                          needs_root=True))
        cases.append(Case(f"backup-{action}-area-full", "backup.py", ("orcl", action), 2,
                          "ERROR: Cannot create lock .*No space left on device", setup=small_fs("backup/orcl"),
                          may_change=("backup/orcl/backup_logs",), needs_root=True))
    cases.append(Case("zsnapper-create-area-missing", "zsnapper.py", ("orcl", "create"), 1,
                      "^ERROR: backup area .* does not exist", setup=remove("backup/orcl")))
    cases.append(Case("backup-area-is-a-file", "backup.py", ("orcl", "imagecopywithsnap"), 2,
                      "Backup area .* is not a directory", setup=make_file("backup/orcl")))
    cases.append(Case("backup-nonshared-dest-is-a-file", "backup.py", ("orcl", "missingarchlog"), 2,
                      "Backup destination .* is not a directory", config=set_key("generic", "backupdestshared", "no"),
                      setup=make_file("backup")))
    numeric = [("generic", "maxlockwait", NUMBERS_BAD), ("generic", "logretention", INTS_BAD),
               ("orcl", "dbid", INTS_BAD), ("orcl", "recoverywindow", INTS_BAD), ("orcl", "parallel", INTS_BAD),
               ("orcl", "snapexpirationdays", INTS_BAD), ("orcl", "snapexpirationmonths", INTS_BAD)]
    for i, (section, key, table) in enumerate(numeric):
        for j, (value, message) in enumerate(table.items()):
            argv = ("orcl", "imagecopywithsnap", "--dry-run") if (i + j) % 2 else ("orcl", "missingarchlog")
            cases.append(Case(f"backup-{key}-{value}", "backup.py", argv, 2, f"key '{key}' .*{message}",
                              config=set_key(section, key, value)))
    for key in ("dosnapshot", "registercatalog", "hasdataguard", "gimanaged", "backupjobenabled"):
        for value in BOOLS_BAD[:2]:
            cases.append(Case(f"backup-{key}-{value}", "backup.py", ("orcl", "report", "--dry-run"), 2,
                              f"key '{key}' must be true or false", config=set_key("orcl", key, value)))
    return cases


def zsnapper_cases() -> list[Case]:
    usage = "^ERROR: "
    cases = [
        Case("zsnapper-no-args", "zsnapper.py", (), 2, usage, usage=True),
        Case("zsnapper-db-only", "zsnapper.py", ("orcl",), 2, "a database and an action are needed", usage=True),
        Case("zsnapper-unknown-action", "zsnapper.py", ("orcl", "nosuch"), 2, "unknown action", usage=True),
        Case("zsnapper-clone-without-name", "zsnapper.py", ("orcl", "clone"), 2, "clone takes a name", usage=True),
        Case("zsnapper-list-with-name", "zsnapper.py", ("orcl", "list", "x"), 2, "list takes no name", usage=True),
        Case("zsnapper-json-on-create", "zsnapper.py", ("orcl", "create", "--json"), 2, "--json does not apply",
             usage=True),
        Case("zsnapper-dry-run-on-list", "zsnapper.py", ("orcl", "list", "--dry-run"), 2, "--dry-run applies to clean",
             usage=True),
        Case("zsnapper-unknown-option", "zsnapper.py", ("orcl", "list", "--bogus"), 2, "unknown option --bogus",
             usage=True),
        Case("zsnapper-clone-dotdot", "zsnapper.py", ("orcl", "clone", ".."), 2, "invalid snapshot id", usage=True),
        Case("zsnapper-clone-slash", "zsnapper.py", ("orcl", "clone", "a/b"), 2, "contains a slash", usage=True),
        Case("zsnapper-dropclone-dot", "zsnapper.py", ("orcl", "dropclone", ".hidden"), 2, "starts with '.'",
             usage=True),
        Case("zsnapper-db-control-char", "zsnapper.py", ("or\x01cl", "list"), 2, "control character", usage=True),
        Case("zsnapper-unknown-db", "zsnapper.py", ("nodb", "list"), 2, r"section \[nodb\] not found"),
        Case("zsnapper-config-missing", "zsnapper.py", ("orcl", "list"), 2, "not found",
             env={"BACKUPCONFIG": "{root}/none.cfg"}),
        Case("zsnapper-config-directory", "zsnapper.py", ("orcl", "list"), 2, "is not a file",
             env={"BACKUPCONFIG": "{root}"}),
        Case("zsnapper-autoclone-snapage-nan", "zsnapper.py", ("orcl", "autoclone"), 2,
             "autorestoresnapage' must be a finite number", config=set_key("autorestore", "autorestoresnapage", "nan")),
        Case("zsnapper-clean-negative-days", "zsnapper.py", ("orcl", "clean", "--dry-run"), 2,
             "snapexpirationdays' must be at least 0", config=set_key("orcl", "snapexpirationdays", "-1")),
    ]
    for key, value in (("warningsnapage", "nan"), ("criticalsnapage", "-1"), ("warningsnapage", "inf"),
                       ("criticalsnapage", "1e308")):
        cases.append(Case(f"zsnapper-checkage-{key}-{value}", "zsnapper.py", ("orcl", "checkage"), 3,
                          f"^UNKNOWN: .*key '{key}'", config=set_key("generic", key, value), stream="stdout"))
    # The appliance driver: its configuration is checked before any call (no appliance is reached).
    zfssa = "[zfssa]\nurl: https://127.0.0.1:9\npool: p1\nproject: backup\n"
    driver = lambda t: set_key("generic", "snapperclass", "ZFSSA")(set_key("generic", "snappermodule", "zfssa")(t))  # noqa: E731
    zfssa_cfg = lambda extra="": lambda t: driver(t) + zfssa + extra  # noqa: E731
    cases += [
        Case("zsnapper-zfssa-no-section", "zsnapper.py", ("orcl", "list"), 2,
             r"section \[zfssa\] not found \(needed for key 'url'\)", config=driver),
        Case("zsnapper-zfssa-no-credentials", "zsnapper.py", ("orcl", "list"), 2,
             "no appliance credentials: create .*zfscredentials.cfg .*ZFSSA_USER", config=zfssa_cfg(),
             env={"ZFSSA_USER": "", "ZFSSA_PASSWORD": ""}),
        Case("zsnapper-zfssa-half-credentials", "zsnapper.py", ("orcl", "list"), 2,
             "set both ZFSSA_USER and ZFSSA_PASSWORD", config=zfssa_cfg(), env={"ZFSSA_USER": "u"}),
        Case("zsnapper-zfssa-bad-verifytls", "zsnapper.py", ("orcl", "list"), 2,
             r"\[zfssa\] key 'verifytls' must be true or false", config=zfssa_cfg("verifytls: perhaps\n")),
        Case("zsnapper-zfssa-url-without-scheme", "zsnapper.py", ("orcl", "list"), 2,
             "appliance URL must look like https://host", config=lambda t: zfssa_cfg()(t).replace(
                 "url: https://127.0.0.1:9", "url: zfssa.example.com:215")),
        Case("zsnapper-zfssa-project-slash", "zsnapper.py", ("orcl", "list"), 2,
             "key 'project' must be an appliance name", config=lambda t: zfssa_cfg()(t).replace(
                 "project: backup", "project: a/b")),
    ]
    # The netapp driver, likewise: nothing reaches the filer (127.0.0.1:9 listens to nothing).
    netapp = "[netapp]\nfiler: 127.0.0.1:9\nvolumeprefix: oib_\n"
    to_netapp = lambda t: set_key("generic", "snapperclass", "Netapp")(set_key("generic", "snappermodule", "netapp")(t))  # noqa: E731
    netapp_cfg = lambda extra="": lambda t: to_netapp(t) + netapp + extra  # noqa: E731
    login = {"NETAPP_USER": "u", "NETAPP_PASSWORD": "p"}
    cases += [
        Case("zsnapper-netapp-no-section", "zsnapper.py", ("orcl", "list"), 2,
             r"section \[netapp\] not found \(needed for key 'filer'\)", config=to_netapp),
        Case("zsnapper-netapp-no-login", "zsnapper.py", ("orcl", "list"), 2,
             r"no NetApp login: set \[netappcredentials\] user and password in .*netappcredentials.cfg",
             config=netapp_cfg(), env={"NETAPP_USER": "", "NETAPP_PASSWORD": ""}),
        Case("zsnapper-netapp-prefix-dash", "zsnapper.py", ("orcl", "list"), 2,
             "volumeprefix / additionalvolumesuffixes: invalid volume name 'oib-orcl'", env=login,
             config=lambda t: netapp_cfg()(t).replace("volumeprefix: oib_", "volumeprefix: oib-")),
        Case("zsnapper-netapp-jobtimeout-zero", "zsnapper.py", ("orcl", "list"), 2,
             "jobtimeout' must be at least 1", config=netapp_cfg("jobtimeout: 0\n"), env=login),
        Case("zsnapper-netapp-clone-name-dash", "zsnapper.py", ("orcl", "dropclone", "a-b"), 2,
             "invalid clone name 'a-b': ONTAP volume names", config=netapp_cfg(), env=login),
    ]
    # The huawei (Dorado) driver, likewise: its configuration and names are refused before any call.
    dorado = "[huaweidorado]\nurl: https://127.0.0.1:9\nvstore: vs1\nrestorenfsclient: *\n"
    to_dorado = lambda t: set_key("generic", "snapperclass", "HuaweiDorado")(  # noqa: E731
        set_key("generic", "snappermodule", "huawei")(t))
    dorado_cfg = lambda extra="": lambda t: to_dorado(t) + dorado + extra  # noqa: E731
    hw_login = {"DBBACKUPSUITE_HUAWEI_USER": "u", "DBBACKUPSUITE_HUAWEI_PASSWORD": "p", "HOME": "{root}"}
    cases += [
        Case("zsnapper-huawei-no-section", "zsnapper.py", ("orcl", "list"), 2,
             r"section \[huaweidorado\] not found \(needed for key 'url'\)", config=to_dorado),
        Case("zsnapper-huawei-no-login", "zsnapper.py", ("orcl", "list"), 2,
             r"no Dorado credentials: create .*huaweidoradocredentials.cfg with \[credentials\] user and password",
             config=dorado_cfg(), env={"DBBACKUPSUITE_HUAWEI_USER": "", "DBBACKUPSUITE_HUAWEI_PASSWORD": "",
                                       "HOME": "{root}"}),
        Case("zsnapper-huawei-half-login", "zsnapper.py", ("orcl", "list"), 2,
             "set both DBBACKUPSUITE_HUAWEI_USER and DBBACKUPSUITE_HUAWEI_PASSWORD", config=dorado_cfg(),
             env={"DBBACKUPSUITE_HUAWEI_USER": "u", "HOME": "{root}"}),
        Case("zsnapper-huawei-url-without-scheme", "zsnapper.py", ("orcl", "list"), 2,
             "appliance URL must look like https://host", env=hw_login, config=lambda t: dorado_cfg()(t).replace(
                 "url: https://127.0.0.1:9", "url: dorado.example.com:8088")),
        Case("zsnapper-huawei-vstore-slash", "zsnapper.py", ("orcl", "list"), 2,
             "invalid vstore name 'a/b'", env=hw_login,
             config=lambda t: dorado_cfg()(t).replace("vstore: vs1", "vstore: a/b")),
        Case("zsnapper-huawei-clone-name-colon", "zsnapper.py", ("orcl", "dropclone", "a:b"), 2,
             "invalid clone name 'a:b': Dorado names", config=dorado_cfg(), env=hw_login),
        Case("zsnapper-huawei-bad-nfs-client", "zsnapper.py", ("orcl", "clone", "orcl-20260101T000000"), 2,
             "restorenfsclient must be an IP, a host name or", env=hw_login,
             config=lambda t: dorado_cfg()(t).replace("restorenfsclient: *", "restorenfsclient: a;b")),
        Case("zvolume-huawei-bad-storagepool", "zvolume.py", ("orcl", "create"), 2,
             "storagepool must be the pool's ID", config=dorado_cfg("storagepool: pool1\n"), env=hw_login),
    ]
    # The softnas driver: its configuration and names are refused before any call, and so is every
    # clone request (SoftNAS cannot clone): the restores too, in one line, exit 2.
    softnas = "[softnas]\nserveraddress: 127.0.0.1:9\npool: pool1\n"
    to_softnas = lambda t: set_key("generic", "snapperclass", "SoftNAS")(  # noqa: E731
        set_key("generic", "snappermodule", "softnas")(t))
    softnas_cfg = lambda extra="": lambda t: to_softnas(t) + softnas + extra  # noqa: E731
    sn_login = {"SOFTNAS_USER": "u", "SOFTNAS_PASSWORD": "p"}
    no_clones = "^ERROR: SoftNAS does not support clones: "
    cases += [
        Case("zsnapper-softnas-no-section", "zsnapper.py", ("orcl", "list"), 2,
             r"section \[softnas\] not found \(needed for key 'serveraddress'\)", config=to_softnas),
        Case("zsnapper-softnas-no-login", "zsnapper.py", ("orcl", "list"), 2,
             r"no SoftNAS login: create .*softnascredentials.cfg with \[credentials\] user and password",
             config=softnas_cfg(), env={"SOFTNAS_USER": "", "SOFTNAS_PASSWORD": ""}),
        Case("zsnapper-softnas-half-login", "zsnapper.py", ("orcl", "list"), 2,
             "set both SOFTNAS_USER and SOFTNAS_PASSWORD", config=softnas_cfg(), env={"SOFTNAS_PASSWORD": "p"}),
        Case("zsnapper-softnas-address-is-a-url", "zsnapper.py", ("orcl", "list"), 2,
             "key 'serveraddress' must be a host name", env=sn_login, config=lambda t: softnas_cfg()(t).replace(
                 "serveraddress: 127.0.0.1:9", "serveraddress: https://softnas.example.com/softnas")),
        Case("zsnapper-softnas-pool-slash", "zsnapper.py", ("orcl", "list"), 2,
             "key 'pool' must be a ZFS pool name", env=sn_login,
             config=lambda t: softnas_cfg()(t).replace("pool: pool1", "pool: pool1/x")),
        Case("zsnapper-softnas-clone", "zsnapper.py", ("orcl", "clone", "orcl-20260101T000000"), 2, no_clones,
             config=softnas_cfg(), env=sn_login),
        Case("zsnapper-softnas-autoclone", "zsnapper.py", ("orcl", "autoclone"), 2, no_clones,
             config=softnas_cfg(), env=sn_login),
        Case("autorestore-softnas", "autorestore.py", ("{cfg}",), 2, no_clones, config=softnas_cfg(), env=sn_login),
        Case("restore-softnas", "restore.py", ("{cfg}", "orcl"), 2, no_clones, config=softnas_cfg(), env=sn_login),
    ]
    cases.append(Case("zsnapper-checkage-config-missing", "zsnapper.py", ("orcl", "checkage"), 3,
                      "^UNKNOWN: .*not found", env={"BACKUPCONFIG": "{root}/none.cfg"}, stream="stdout"))
    cases.append(Case("zsnapper-checkage-bad-usage", "zsnapper.py", ("orcl", "checkage", "x"), 3,
                      "^UNKNOWN: bad usage", stream="stdout"))
    return cases


def small_script_cases() -> list[Case]:
    missing = {"BACKUPCONFIG": "{root}/none.cfg"}
    return [
        Case("zvolume-no-args", "zvolume.py", (), 2, "^Usage: zvolume.py", usage=True),
        Case("zvolume-db-only", "zvolume.py", ("orcl",), 2, "^Usage: zvolume.py", usage=True),
        Case("zvolume-other-action", "zvolume.py", ("orcl", "delete"), 2, "^Usage: zvolume.py", usage=True),
        Case("zvolume-option-as-db", "zvolume.py", ("-x", "create"), 2, "^Usage: zvolume.py", usage=True),
        Case("zvolume-config-missing", "zvolume.py", ("orcl", "create"), 2, "not found", env=missing),
        Case("zvolume-unknown-db", "zvolume.py", ("nodb", "create"), 2, r"section \[nodb\] not found"),
        Case("exec_all-no-args", "exec_all.py", (), 2, "^Usage: exec_all.py", usage=True),
        Case("exec_all-unknown-action", "exec_all.py", ("nosuch",), 2, "^Usage: exec_all.py", usage=True),
        Case("exec_all-three-args", "exec_all.py", ("report", "a", "b"), 2, "^Usage: exec_all.py", usage=True),
        Case("exec_all-config-missing", "exec_all.py", ("report",), 2, "not found", env=missing),
        Case("exec_all-config-garbage", "exec_all.py", ("report",), 2, "cannot parse", config=constant("garbage\n")),
        Case("report-two-lists", "report.py", ("a", "b"), 2, "^Usage: report.py", usage=True),
        Case("report-option", "report.py", ("--bogus",), 2, "^Usage: report.py", usage=True),
        Case("report-config-missing", "report.py", (), 2, "not found", env=missing),
        Case("report-config-garbage", "report.py", (), 2, "cannot parse", config=constant("[generic\n")),
        Case("dbinfo-no-args", "dbinfo.py", (), 2, "^Usage: dbinfo.py", usage=True),
        Case("dbinfo-option", "dbinfo.py", ("-x",), 2, "^Usage: dbinfo.py", usage=True),
        Case("dbinfo-config-missing", "dbinfo.py", ("orcl",), 2, "not found", env=missing),
        Case("dbinfo-unknown-db", "dbinfo.py", ("nodb",), 2, r"section \[nodb\] not found"),
        Case("dbinfo-gimanaged-word", "dbinfo.py", ("orcl",), 2, "gimanaged' must be true or false",
             config=set_key("orcl", "gimanaged", "maybe")),
    ]


def restore_cases() -> list[Case]:
    usage = r"^Usage: autorestore.py"
    cases = [
        Case("autorestore-no-args", "autorestore.py", (), 2, usage, usage=True),
        Case("autorestore-three-args", "autorestore.py", ("{cfg}", "orcl", "x"), 2, usage, usage=True),
        Case("autorestore-option-first", "autorestore.py", ("--createcatalog",), 2, usage, usage=True),
        Case("autorestore-unknown-option", "autorestore.py", ("{cfg}", "--bogus"), 2, "unknown option --bogus"),
        Case("autorestore-slot-abc", "autorestore.py", ("{cfg}", "orcl", "--slot=abc"), 2, "--slot must be a number"),
        Case("autorestore-slot-zero", "autorestore.py", ("{cfg}", "orcl", "--slot=0"), 2, "--slot must be a number"),
        Case("autorestore-slot-empty", "autorestore.py", ("{cfg}", "orcl", "--slot="), 2, "--slot must be a number"),
        Case("autorestore-slot-without-db", "autorestore.py", ("{cfg}", "--slot=1"), 2, "--slot needs one database"),
        Case("autorestore-slot-not-enabled", "autorestore.py", ("{cfg}", "orcl", "--slot=1"), 2,
             "not enabled for autorestore", config=set_key("orcl", "autorestoreenabled", "off")),
        Case("autorestore-empty-config-name", "autorestore.py", ("",), 2, usage, usage=True),
        Case("autorestore-config-missing", "autorestore.py", ("{root}/none.cfg",), 2, "not found"),
        Case("autorestore-config-directory", "autorestore.py", ("{root}",), 2, "is not a file"),
        Case("autorestore-config-unreadable", "autorestore.py", ("{cfg}",), 2, "cannot be read: Permission denied",
             setup=lambda root: (root / "backup.cfg").chmod(0)),
        Case("autorestore-unknown-db", "autorestore.py", ("{cfg}", "nodb"), 2, r"No section \[nodb\]"),
        Case("autorestore-not-a-sandbox", "autorestore.py", ("{cfg}",), 3, "^THE RESTORE TEST CAN BE DANGEROUS",
             env={"AUTORESTORE_SAFE_SANDBOX": "true"}, stream="stdout", usage=True),
    ]
    bad = [("autorestore", "autorestoremountmethod", "nfs", "one of fstab, clonepath"),
           ("generic", "maxlockwait", "nan", "finite number"),
           ("autorestore", "autorestoremaxtoleranceminutes", "-5", "at least"),
           ("autorestore", "autorestoresnapage", "inf", "finite number"),
           ("autorestore", "autorestoreparallel", "0", "at least 1"),
           ("autorestore", "autorestoremodulus", "-1", "at least"),
           ("autorestore", "autorestorevalidatechance", "abc", "must be an integer"),
           ("autorestore", "autorestorelogdir", "relative/log", "absolute path"),
           ("autorestore", "autorestorelogdir", "/tmp/x;purge -age 0", "must not contain a quote, ';'"),
           ("autorestore", "autorestoredestination", "/tmp/it's", "must not contain a quote"),
           ("autorestore", "autorestoremountpoint", "mnt", "absolute path"),
           ("orcl", "autorestoreenabled", "maybe", "must be true or false"),
           ("orcl", "autorestoreinstancenumber", "0", "at least 1"),
           ("orcl", "autorestorethread", "nan", "must be an integer"),
           ("generic", "logretention", "-1", "at least")]
    for section, key, value, message in bad:
        cases.append(Case(f"autorestore-{key}-{value}", "autorestore.py", ("{cfg}",), 2, f"key '{key}'.*{message}",
                          config=set_key(section, key, value)))
    rusage = r"^usage: restore.py"
    cases += [
        Case("restore-no-args", "restore.py", (), 2, rusage, usage=True),
        Case("restore-config-only", "restore.py", ("{cfg}",), 2, rusage, usage=True),
        Case("restore-bad-target", "restore.py", ("{cfg}", "orcl", "--target", "yesterday", "--yes"), 2,
             "The time must look like"),
        Case("restore-impossible-target", "restore.py", ("{cfg}", "orcl", "--target", "2026-02-30 00:00:00", "--yes"),
             2, "The time must look like"),
        Case("restore-bad-sid", "restore.py", ("{cfg}", "orcl", "--sid", "1abc", "--yes"), 2, "At most 8 letters"),
        Case("restore-long-sid", "restore.py", ("{cfg}", "orcl", "--sid", "ABCDEFGHI", "--yes"), 2,
             "At most 8 letters"),
        Case("restore-missing-mountdir", "restore.py", ("{cfg}", "orcl", "--mountdir", "{root}/none", "--yes"), 2,
             "does not exist or is not a directory"),
        Case("restore-config-missing", "restore.py", ("{root}/none.cfg", "orcl"), 2, "not found"),
        Case("restore-unknown-db", "restore.py", ("{cfg}", "nodb"), 2, r"section \[nodb\] not found"),
        Case("restore-mount-method-nfs", "restore.py", ("{cfg}", "orcl", "--yes"), 2, "one of fstab, clonepath",
             config=set_key("autorestore", "autorestoremountmethod", "nfs")),
        Case("restore-tolerance-nan", "restore.py", ("{cfg}", "orcl", "--yes"), 2, "finite number",
             config=set_key("autorestore", "autorestoremaxtoleranceminutes", "nan")),
        Case("restore-plan-without-target", "restore.py", ("{cfg}", "orcl", "--plan"), 2,
             "^ERROR: --plan needs --target TIME or --scn N$"),
        Case("restore-plan-bad-target", "restore.py", ("{cfg}", "orcl", "--plan", "--target", "yesterday"), 2,
             "The time must look like"),
        Case("restore-scn-negative", "restore.py", ("{cfg}", "orcl", "--scn", "-1", "--yes"), 2,
             "--scn must be a positive whole number, not '-1'"),
        Case("restore-scn-zero", "restore.py", ("{cfg}", "orcl", "--plan", "--scn", "0"), 2,
             "--scn must be a positive whole number, not '0'"),
        Case("restore-scn-not-a-number", "restore.py", ("{cfg}", "orcl", "--plan", "--scn", "12ab"), 2,
             "--scn must be a positive whole number, not '12ab'"),
        Case("restore-scn-huge", "restore.py", ("{cfg}", "orcl", "--plan", "--scn", "9" * 30), 2,
             "--scn must be a positive whole number"),
        Case("restore-scn-and-target", "restore.py",
             ("{cfg}", "orcl", "--plan", "--scn", "5", "--target", "2026-11-25 03:00:00"), 2,
             "--scn and --target exclude each other"),
        Case("restore-scn-and-utc", "restore.py", ("{cfg}", "orcl", "--scn", "5", "--utc", "--yes"), 2,
             "--utc applies to --target only"),
        Case("restore-json-without-plan", "restore.py", ("{cfg}", "orcl", "--json", "--yes"), 2,
             "--json applies to --plan only"),
    ]
    return cases


CASES = backup_cases() + zsnapper_cases() + small_script_cases() + restore_cases()
