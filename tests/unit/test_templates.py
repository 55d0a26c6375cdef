"""Templates: substitution, and errors that name what is missing."""
from __future__ import annotations

import pytest

from imagecopy.errors import ConfigError
from imagecopy.templates import TEMPLATE_DIR, Templates, substitute


def test_substitution_and_dollar_escape():
    assert substitute("select * from v$$database where x='${a}'", {"a": 1}) == "select * from v$database where x='1'"


def test_unknown_name_is_an_error_naming_it(tmp_path):
    (tmp_path / "t.rman").write_text("backup ${nosuch};")
    with pytest.raises(ConfigError, match=r"t.rman: unknown name \$\{nosuch\}"):
        Templates(tmp_path).render("t.rman")


def test_missing_template_file(tmp_path):
    with pytest.raises(ConfigError, match="Template file .*none.sql not found"):
        Templates(tmp_path).render("none.sql")


def test_shipped_templates_render_with_the_backup_values():
    values = {"configname": "orcl", "targettns": "orcl", "tns": "orcl", "primarytns": "orcl", "backupdest": "/b/orcl",
              "archdir": "/b/orcl/archivelog", "recoverywindow": 2, "parallel": 4, "dbid": 1, "sectionsize": "",
              "catalogconnect": "/@rman", "catalogclause": "", "logfile": "/l", "tnspath": "/t"}
    extra = {"scheduleuser": "BACKUPEXEC", "userpassword": "p", "osuser": "oracle", "ospassword": "s",
             "backupscript": "/x/backup.py", "numberofarguments": 2, "imagecopyconfigargument": "",
             "archlogconfigargument": "", "schedulebackup": "FREQ=DAILY", "schedulearchlog": "FREQ=HOURLY",
             "backupjobenabled": "true",
             # the restore side's
             "renamebct": "", "restorenew": "", "lasttime": "2026-11-25 03:00:00", "until": "scn 1234",
             "customverifydate": "select 1",
             "cfgdestination": "/m", "mountdestination": "/m", "scratch": "/s", "compatible": "12.1.0.2.0",
             "db_block_size": 8192, "db_files": 200, "db_name": "orcl", "pga_size": "1G", "sga_size": "2G",
             "undo_tablespace": "UNDOTBS1", "logdir": "/l", "instancenumber": 1, "thread": 1,
             "extraparameters": "", "report_owner": "BACKUPEXEC"}
    t = Templates(values=values)
    for path in sorted(TEMPLATE_DIR.glob("*.*")):
        if path.suffix in (".rman", ".sql", ".ora"):
            text = t.render(path.name, **extra)
            assert "${" not in text, path.name
