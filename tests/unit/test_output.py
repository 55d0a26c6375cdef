"""The one output layer (imagecopy/output.py): text, JSON and the Nagios UNKNOWN, the same for every command."""
from __future__ import annotations

import json

import pytest

from imagecopy.errors import StorageError
from imagecopy.output import Listing, emit, unknown


@pytest.mark.parametrize("reason, line", [
    ("bad usage: unknown option --x", "UNKNOWN: bad usage: unknown option --x"),
    (StorageError("zfs: 'zfs get' failed\n  with exit code 1"), "UNKNOWN: zfs: 'zfs get' failed with exit code 1"),
    (FileNotFoundError(2, "No such file or directory", "/nfs/backup"),
     "UNKNOWN: /nfs/backup: No such file or directory"),
    (ZeroDivisionError("division by zero"), "UNKNOWN: ZeroDivisionError: division by zero"),
])
def test_unknown_is_one_line_exit_3(capsys, reason, line):
    assert unknown(reason, as_json=False) == 3
    assert capsys.readouterr().out == line + "\n"


def test_unknown_as_json_names_the_database(capsys):
    assert unknown("storage away", as_json=True, database="orcl") == 3
    assert json.loads(capsys.readouterr().out) == {"database": "orcl", "status": "UNKNOWN", "exit_code": 3,
                                                   "message": "UNKNOWN: storage away"}


def test_a_listing_is_its_lines_or_its_records(capsys):
    listing = Listing([{"id": "a"}, {"id": "b"}], ("a [x]", "b [y]"))
    emit(listing, as_json=False)
    assert capsys.readouterr().out == "a [x]\nb [y]\n"
    emit(listing, as_json=True)
    assert json.loads(capsys.readouterr().out) == [{"id": "a"}, {"id": "b"}]
    emit(Listing([], ()), as_json=False)
    assert capsys.readouterr().out == ""           # nothing listed: no empty line
