"""Where SQL*Plus output goes: the terminal (stdout) and the spool file.

Query rows and DBMS_OUTPUT lines are "data" lines: on stdout trailing blanks
are trimmed (TRIMOUT ON), in the spool they are padded to LINESIZE unless
TRIMSPOOL is ON, which is what the 12.1 spool captures show.  Prompts go to
stdout only.
"""
from __future__ import annotations

from pathlib import Path
from typing import IO

from .format import Settings


class Output:
    def __init__(self, stream: IO[str], settings: Settings):
        self.stream = stream
        self.settings = settings
        self.spool: IO[str] | None = None
        self.spool_path: Path | None = None
        self.mid_line = False  # a prompt without newline is on stdout

    def _stdout(self, text: str) -> None:
        self.stream.write(text + "\n")
        self.mid_line = False

    def line(self, text: str = "", data: bool = False) -> None:
        s = self.settings
        if data:
            self._stdout(text.rstrip() if s.trimout else text.ljust(s.linesize))
            if self.spool:
                self.spool.write((text.rstrip() if s.trimspool else text.ljust(s.linesize)) + "\n")
        else:
            self._stdout(text)
            if self.spool:
                self.spool.write(text + "\n")

    def lines(self, texts: list[str], data: bool = False) -> None:
        for t in texts:
            self.line(t, data)

    def prompt(self, text: str) -> None:
        """A prompt on the terminal, left open for what follows (echo off, or a question)."""
        self.stream.write(text)
        self.stream.flush()
        self.mid_line = True

    def echo(self, prompt: str, text: str) -> None:
        """An echoed command: prompt and text on stdout and in the spool."""
        self.stream.write(prompt + text + "\n")
        self.mid_line = False
        if self.spool:
            self.spool.write(prompt + text + "\n")

    def start_spool(self, path: Path, append: bool) -> None:
        self.stop_spool()
        self.spool = open(path, "a" if append else "w")  # noqa: SIM115 - kept open until SPOOL OFF
        self.spool_path = path

    def stop_spool(self) -> None:
        if self.spool:
            self.spool.close()
        self.spool, self.spool_path = None, None

    def flush(self) -> None:
        self.stream.flush()
        if self.spool:
            self.spool.flush()
