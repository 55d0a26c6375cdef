"""Tokenizer for RMAN scripts.

RMAN's lexical rules, as far as the simulator needs them: words are
case-insensitive keywords or identifiers, strings are single- or
double-quoted (a doubled quote inside stands for one), integers and
decimals, a few punctuation symbols, and ``#`` comments to the end of the
line.  Every token keeps its line, column and offset in the source so the
parser can report ``RMAN-01007: at line N column M`` and so connect strings
can be cut from the raw text.
"""
from __future__ import annotations

from dataclasses import dataclass

WORD, NUMBER, STRING, SYMBOL, EOF = "word", "number", "string", "symbol", "eof"
SYMBOLS = set(";{}(),=+-*/@:.<>%")


class LexError(Exception):
    """The text ends inside a string: the statement is not complete yet."""

    def __init__(self, line: int, col: int):
        super().__init__(f"unterminated string at line {line} column {col}")
        self.line, self.col = line, col


@dataclass(frozen=True)
class Token:
    kind: str
    value: str          # words upper-cased; strings without quotes
    text: str           # as typed
    line: int           # 1-based, relative to the text given to tokenize()
    col: int            # 1-based
    start: int          # offset of the first character
    end: int            # offset after the last character
    quote: str = ""     # "'" or '"' for strings

    def is_word(self, *words: str) -> bool:
        return self.kind == WORD and (not words or self.value in words)

    def is_symbol(self, sym: str) -> bool:
        return self.kind == SYMBOL and self.value == sym

    def describe(self) -> str:
        """How RMAN-01009 names a found token."""
        if self.kind == EOF:
            return "end-of-file"
        if self.kind == STRING:
            return "single-quoted-string" if self.quote == "'" else "double-quoted-string"
        if self.kind == NUMBER:
            return "integer" if self.value.isdigit() else "number"
        if self.kind == SYMBOL:
            return self.value
        from .parser import KEYWORDS  # the keyword list lives with the grammar
        return self.value.lower() if self.value in KEYWORDS else "identifier"


def _is_word_start(ch: str) -> bool:
    return ch.isalpha() or ch == "_"


def _is_word_char(ch: str) -> bool:
    return ch.isalnum() or ch in "_$#"


def tokenize(text: str) -> list[Token]:
    """Split ``text`` into tokens (ending with an EOF token); raises LexError on an open string."""
    tokens: list[Token] = []
    i, line, line_start, n = 0, 1, 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "\n":
            i += 1
            line += 1
            line_start = i
            continue
        if ch.isspace():
            i += 1
            continue
        if ch == "#":
            while i < n and text[i] != "\n":
                i += 1
            continue
        col = i - line_start + 1
        start = i
        if ch in "'\"":
            quote, i, value = ch, i + 1, []
            start_line = line
            while True:
                if i >= n:
                    raise LexError(start_line, col)
                c = text[i]
                if c == quote:
                    if i + 1 < n and text[i + 1] == quote:
                        value.append(quote)
                        i += 2
                        continue
                    i += 1
                    break
                if c == "\n":
                    line += 1
                    line_start = i + 1
                value.append(c)
                i += 1
            tokens.append(Token(STRING, "".join(value), text[start:i], start_line, col, start, i, quote))
            continue
        if ch.isdigit():
            while i < n and text[i].isdigit():
                i += 1
            if i + 1 < n and text[i] == "." and text[i + 1].isdigit():
                i += 1
                while i < n and text[i].isdigit():
                    i += 1
            tokens.append(Token(NUMBER, text[start:i], text[start:i], line, col, start, i))
            continue
        if _is_word_start(ch):
            while i < n and _is_word_char(text[i]):
                i += 1
            word = text[start:i]
            tokens.append(Token(WORD, word.upper(), word, line, col, start, i))
            continue
        if ch in SYMBOLS:
            i += 1
            tokens.append(Token(SYMBOL, ch, ch, line, col, start, i))
            continue
        # Anything else is still a token, so the parser can report it as found.
        i += 1
        tokens.append(Token(SYMBOL, ch, ch, line, col, start, i))
    tokens.append(Token(EOF, "", "", line, i - line_start + 1, n, n))
    return tokens


LINE_COMMANDS = ("CONNECT", "EXIT", "QUIT", "HOST", "SPOOL")


def statement_end(tokens: list[Token], text: str, start: int) -> int | None:
    """Index just past the statement beginning at ``tokens[start]``, or None if incomplete.

    A statement ends at ``;`` outside braces, a ``RUN { ... }`` at its
    closing brace, and the client-side commands (CONNECT, EXIT, QUIT,
    SET ECHO) also at the end of their line, as the real client accepts
    them without a semicolon.  ``text`` must end with a newline for the
    last line to count as finished.
    """
    first = tokens[start]
    if first.kind == EOF:
        return None
    line_mode = first.is_word(*LINE_COMMANDS) or (
        first.is_word("SET") and tokens[start + 1].is_word("ECHO"))
    is_run = first.is_word("RUN")
    depth = 0
    i = start
    while tokens[i].kind != EOF:
        tok = tokens[i]
        if line_mode and i > start and tok.line != first.line:
            return i
        if tok.is_symbol("{"):
            depth += 1
        elif tok.is_symbol("}"):
            depth -= 1
            if depth <= 0 and is_run:
                return i + 1
        elif tok.is_symbol(";") and depth <= 0:
            return i + 1
        i += 1
    if line_mode and text.endswith("\n"):
        return i
    return None
