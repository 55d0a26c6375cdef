"""Evaluate the date expressions RMAN hands to the database.

``UNTIL TIME 'sysdate-2'``, ``SET UNTIL TIME "to_date('2016-11-08 22:39:45',
'yyyy-mm-dd hh24:mi:ss')"``: RMAN asks the database to evaluate these SQL
date expressions.  This module accepts the same small language: SYSDATE,
TO_DATE(string, mask), TRUNC(date), a date literal in NLS_DATE_FORMAT,
numbers (days), + - * / and parentheses.  Anything else is ORA-00904 /
ORA-00936, as the database would say.
"""
from __future__ import annotations

from datetime import datetime

from ..instance import OraError
from ..session import nls_date_format, oracle_to_strftime
from .lexer import EOF, NUMBER, STRING, WORD, LexError, Token, tokenize

DAY = 86400.0


class _Value:
    """A date (epoch seconds) or a number (days)."""

    def __init__(self, value: float, is_date: bool):
        self.value, self.is_date = value, is_date


def evaluate(expr: str, now: float, env: dict[str, str] | None = None) -> float:
    """Epoch seconds of a date expression evaluated at ``now``."""
    try:
        tokens = tokenize(expr)
    except LexError as exc:
        raise OraError("ORA-01756", "quoted string not properly terminated") from exc
    ev = _Evaluator(tokens, now, env)
    result = ev.expr()
    if ev.peek().kind != EOF:
        raise OraError("ORA-00933", "SQL command not properly ended")
    if not result.is_date:
        raise OraError("ORA-00932", "inconsistent datatypes: expected DATE got NUMBER")
    return result.value


class _Evaluator:
    def __init__(self, tokens: list[Token], now: float, env: dict[str, str] | None):
        self.tokens, self.pos, self.now, self.env = tokens, 0, now, env

    def peek(self) -> Token:
        return self.tokens[self.pos]

    def take(self) -> Token:
        tok = self.tokens[self.pos]
        if tok.kind != EOF:
            self.pos += 1
        return tok

    def expect(self, sym: str) -> None:
        if not self.peek().is_symbol(sym):
            raise OraError("ORA-00907", "missing right parenthesis")
        self.take()

    def expr(self) -> _Value:
        left = self.term()
        while self.peek().is_symbol("+") or self.peek().is_symbol("-"):
            op = self.take().value
            right = self.term()
            if op == "+":
                if left.is_date and right.is_date:
                    raise OraError("ORA-00975", "date + date not allowed")
                if left.is_date or right.is_date:
                    date, days = (left, right) if left.is_date else (right, left)
                    left = _Value(date.value + days.value * DAY, True)
                else:
                    left = _Value(left.value + right.value, False)
            else:
                if left.is_date and right.is_date:
                    left = _Value((left.value - right.value) / DAY, False)
                elif left.is_date:
                    left = _Value(left.value - right.value * DAY, True)
                elif right.is_date:
                    raise OraError("ORA-00932", "inconsistent datatypes: expected DATE got NUMBER")
                else:
                    left = _Value(left.value - right.value, False)
        return left

    def term(self) -> _Value:
        left = self.factor()
        while self.peek().is_symbol("*") or self.peek().is_symbol("/"):
            op = self.take().value
            right = self.factor()
            if left.is_date or right.is_date:
                raise OraError("ORA-00932", "inconsistent datatypes: expected NUMBER got DATE")
            if op == "/" and right.value == 0:
                raise OraError("ORA-01476", "divisor is equal to zero")
            left = _Value(left.value * right.value if op == "*" else left.value / right.value, False)
        return left

    def factor(self) -> _Value:
        tok = self.take()
        if tok.is_symbol("-"):
            inner = self.factor()
            return _Value(-inner.value, inner.is_date)
        if tok.is_symbol("("):
            value = self.expr()
            self.expect(")")
            return value
        if tok.kind == NUMBER:
            return _Value(float(tok.value), False)
        if tok.kind == STRING:
            return _Value(_parse_date(tok.value, nls_date_format(self.env)), True)
        if tok.kind == WORD and tok.value == "SYSDATE":
            return _Value(self.now, True)
        if tok.kind == WORD and tok.value == "TO_DATE":
            self.expect("(")
            text = self.take()
            if text.kind != STRING:
                raise OraError("ORA-00936", "missing expression")
            mask = nls_date_format(self.env)
            if self.peek().is_symbol(","):
                self.take()
                fmt = self.take()
                if fmt.kind != STRING:
                    raise OraError("ORA-00936", "missing expression")
                mask = oracle_to_strftime(fmt.value)
            self.expect(")")
            return _Value(_parse_date(text.value, mask), True)
        if tok.kind == WORD and tok.value == "TRUNC":
            self.expect("(")
            value = self.expr()
            self.expect(")")
            if not value.is_date:
                return _Value(float(int(value.value)), False)
            d = datetime.fromtimestamp(value.value)
            return _Value(datetime(d.year, d.month, d.day).timestamp(), True)
        if tok.kind == WORD:
            raise OraError("ORA-00904", f'"{tok.value}": invalid identifier')
        raise OraError("ORA-00936", "missing expression")


def _parse_date(text: str, strftime_mask: str) -> float:
    try:
        return datetime.strptime(text.strip(), strftime_mask).timestamp()
    except ValueError as exc:
        raise OraError("ORA-01861", "literal does not match format string") from exc
