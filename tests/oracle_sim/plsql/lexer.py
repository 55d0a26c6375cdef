"""The PL/SQL lexer: identifiers (upper-cased), quoted identifiers, strings (including
q'[...]' quoting), numbers, operators; comments are skipped.  Tokens keep their
offset, line and column so errors and embedded SQL can point back at the source.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any


@dataclass
class Tok:
    kind: str  # ID QID STR NUM OP EOF
    value: Any
    pos: int
    line: int
    col: int
    end: int


class PlsqlSyntaxError(Exception):
    def __init__(self, line: int, col: int, lines: list[str]):
        super().__init__(lines[0])
        self.line, self.col, self.lines = line, col, lines


_OPS = [":=", "=>", "||", "..", "<>", "!=", "^=", "~=", "<=", ">=", "**", "<<", ">>"]
_CLOSE = {"[": "]", "(": ")", "{": "}", "<": ">"}
_NUM = re.compile(r"(\d+(\.(?!\.)\d*)?|\.\d+)([eE][+-]?\d+)?")
_ID = re.compile(r"[A-Za-z][A-Za-z0-9_$#]*")


def lex(src: str) -> list[Tok]:
    toks: list[Tok] = []
    i, line, line_start = 0, 1, 0
    n = len(src)

    def tok(kind: str, value: Any, start: int, end: int) -> None:
        toks.append(Tok(kind, value, start, line, start - line_start + 1, end))

    while i < n:
        ch = src[i]
        if ch == "\n":
            line, line_start, i = line + 1, i + 1, i + 1
            continue
        if ch.isspace():
            i += 1
            continue
        if src.startswith("--", i):
            j = src.find("\n", i)
            i = n if j < 0 else j
            continue
        if src.startswith("/*", i):
            j = src.find("*/", i + 2)
            j = n if j < 0 else j + 2
            for k in range(i, j):
                if src[k] == "\n":
                    line, line_start = line + 1, k + 1
            i = j
            continue
        start, sline, scol = i, line, i - line_start + 1
        if ch in "qQ" and src.startswith("'", i + 1) and i + 2 < n:
            delim = src[i + 2]
            close = _CLOSE.get(delim, delim) + "'"
            j = src.find(close, i + 3)
            if j < 0:
                raise PlsqlSyntaxError(sline, scol, ["ORA-01756: quoted string not properly terminated"])
            text = src[i + 3:j]
            toks.append(Tok("STR", text, start, sline, scol, j + 2))
            line += text.count("\n")
            if "\n" in text:
                line_start = start + 3 + text.rfind("\n") + 1
            i = j + 2
            continue
        if ch in "nN" and src.startswith("'", i + 1):
            i += 1
            ch = "'"
        if ch == "'":
            j, buf = i + 1, []
            while True:
                if j >= n:
                    raise PlsqlSyntaxError(sline, scol, ["ORA-01756: quoted string not properly terminated"])
                if src[j] == "'":
                    if src.startswith("''", j):
                        buf.append("'")
                        j += 2
                        continue
                    break
                if src[j] == "\n":
                    line, line_start = line + 1, j + 1
                buf.append(src[j])
                j += 1
            toks.append(Tok("STR", "".join(buf), start, sline, scol, j + 1))
            i = j + 1
            continue
        m = _NUM.match(src, i)
        if m and (ch.isdigit() or ch == "." and i + 1 < n and src[i + 1].isdigit()):
            text = m.group(0)
            value: Any = float(text) if any(c in text for c in ".eE") else int(text)
            if isinstance(value, float) and value.is_integer() and "e" not in text.lower():
                value = int(value)
            tok("NUM", value, start, m.end())
            i = m.end()
            continue
        m = _ID.match(src, i)
        if m:
            tok("ID", m.group(0).upper(), start, m.end())
            i = m.end()
            continue
        if ch == '"':
            j = src.find('"', i + 1)
            if j < 0:
                raise PlsqlSyntaxError(sline, scol, ['ORA-01740: missing double quote in identifier'])
            tok("QID", src[i + 1:j], start, j + 1)
            i = j + 1
            continue
        for op in _OPS:
            if src.startswith(op, i):
                tok("OP", op, start, i + len(op))
                i += len(op)
                break
        else:
            tok("OP", ch, start, i + 1)
            i += 1
    toks.append(Tok("EOF", None, n, line, n - line_start + 1, n))
    return toks


