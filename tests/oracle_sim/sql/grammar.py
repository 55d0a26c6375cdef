"""Oracle's SQL grammar for queries, checked before a query runs: what Oracle rejects, with its error code.

sqlglot (which builds the tree the engine runs) is lenient: it takes
``select name, from v$database``, ``limit 1``, ``a == b`` and ``select true``.
This recursive-descent recogniser follows Oracle's grammar for the query
forms the toolset and its tests use and fails as the Oracle parser does:

* ORA-00936 missing expression (an expression expected: ``select from``,
  ``a == b``, a trailing comma);
* ORA-00923 FROM keyword not found where expected (``select a b c from``,
  ``select *, x``, no FROM at all);
* ORA-00933 SQL command not properly ended (``limit 1``, clauses out of order);
* ORA-00903 invalid table name, ORA-00905 missing keyword, ORA-00906 missing
  left parenthesis, ORA-00907 missing right parenthesis, ORA-00924 missing
  BY keyword, ORA-00928 missing SELECT keyword, ORA-00911 invalid character,
  ORA-01756 quoted string not properly terminated;
* ORA-00904 for TRUE / FALSE, which are not SQL literals before Oracle 23.

It checks syntax only; names, types and semantics stay with the engine.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from .query import PositionedError

# Oracle's reserved words (V$RESERVED_WORDS.RESERVED = 'Y') that matter in queries
RESERVED = set("""ACCESS ADD ALL ALTER AND ANY AS ASC AUDIT BETWEEN BY CHECK CLUSTER COLUMN COMMENT COMPRESS
CONNECT CREATE CURRENT DEFAULT DELETE DESC DISTINCT DROP ELSE EXCLUSIVE EXISTS FOR FROM GRANT GROUP
HAVING IDENTIFIED IMMEDIATE IN INCREMENT INDEX INITIAL INSERT INTERSECT INTO IS LIKE LOCK MINUS MODE
MODIFY NOAUDIT NOCOMPRESS NOT NOWAIT NULL OF ON OPTION OR ORDER PRIOR PUBLIC RENAME REVOKE SELECT
SET SHARE START SYNONYM TABLE THEN TO TRIGGER UNION UNIQUE UPDATE VALUES VIEW WHENEVER WHERE WITH""".split())
# reserved words that are nonetheless expressions (pseudo-columns, literals' types)
EXPRESSION_WORDS = {"NULL", "SYSDATE", "ROWNUM", "LEVEL", "USER", "UID", "ROWID", "DATE"}
# functions whose parentheses hold more than an argument list (CAST(x AS t), EXTRACT(y FROM d), ...)
FREE_FORM = {"CAST", "EXTRACT", "TRIM", "TREAT", "XMLAGG", "XMLELEMENT", "LISTAGG"}
COMPARISON = {"=", "<>", "!=", "^=", "<", ">", "<=", ">="}
TOKEN = re.compile(r"""
    (?P<ws>\s+) | (?P<line>--[^\n]*) | (?P<block>/\*.*?\*/)
  | (?P<qstr>[nN]?[qQ]'(?P<qd>.)) | (?P<str>[nN]?'(?:[^']|'')*') | (?P<open>')
  | (?P<num>(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?[fFdD]?)
  | (?P<ident>[A-Za-z][A-Za-z0-9_$#]*) | (?P<quoted>"[^"]+")
  | (?P<bind>:[A-Za-z0-9_]+)
  | (?P<op>\|\||<=|>=|<>|!=|\^=|=>|[=<>+\-*/(),.@%])
""", re.X | re.S)
_CLOSE = {"[": "]", "(": ")", "{": "}", "<": ">"}


@dataclass
class Tok:
    kind: str      # ident | quoted | str | num | bind | op | eof
    text: str
    pos: int

    @property
    def up(self) -> str:
        return self.text.upper() if self.kind == "ident" else self.text


def tokenize(sql: str) -> list[Tok]:
    out, i = [], 0
    while i < len(sql):
        m = TOKEN.match(sql, i)
        if m is None:
            raise PositionedError("ORA-00911", "invalid character", pos=i)
        kind = m.lastgroup
        if kind == "qd" or kind == "qstr":
            close = _CLOSE.get(m.group("qd"), m.group("qd")) + "'"
            end = sql.find(close, m.end())
            if end < 0:
                raise PositionedError("ORA-01756", "quoted string not properly terminated", pos=i)
            out.append(Tok("str", sql[i:end + 2], i))
            i = end + 2
            continue
        if kind == "open":
            raise PositionedError("ORA-01756", "quoted string not properly terminated", pos=i)
        if kind not in ("ws", "line", "block"):
            out.append(Tok(kind, m.group(), i))
        i = m.end()
    out.append(Tok("eof", "", len(sql)))
    return out


def blank_comments(sql: str) -> str:
    """The statement with its comments blanked out (newlines kept, so error positions stay right),
    as Oracle's parser skips them wherever they are."""
    out, i = [], 0
    while i < len(sql):
        m = TOKEN.match(sql, i)
        if m is None or m.lastgroup in ("open", "qstr", "qd"):
            out.append(sql[i:])            # the error, if any, is the parser's to report
            break
        text = m.group()
        out.append(re.sub(r"[^\n]", " ", text) if m.lastgroup in ("line", "block") else text)
        i = m.end()
    return "".join(out)


def check_query(sql: str) -> None:
    """Raise Oracle's error (a PositionedError) for a query Oracle's parser rejects."""
    QueryChecker(tokenize(sql)).statement()


def check_dml(sql: str) -> None:
    """Raise Oracle's error for an INSERT, UPDATE or DELETE Oracle's parser rejects."""
    QueryChecker(tokenize(sql)).dml()


class QueryChecker:
    """Recursive descent over the tokens of one query; each method consumes one construct."""

    def __init__(self, tokens: list[Tok]):
        self.toks, self.i = tokens, 0

    # -- helpers -------------------------------------------------------------------------------
    @property
    def tok(self) -> Tok:
        return self.toks[self.i]

    def peek(self, n: int = 1) -> Tok:
        return self.toks[min(self.i + n, len(self.toks) - 1)]

    def at(self, *words: str) -> bool:
        return self.tok.up in words and self.tok.kind in ("ident", "op")

    def take(self, *words: str) -> bool:
        if self.at(*words):
            self.i += 1
            return True
        return False

    def fail(self, code: str, message: str) -> PositionedError:
        return PositionedError(code, message, pos=self.tok.pos)

    def expect(self, word: str, code: str, message: str) -> None:
        if not self.take(word):
            raise self.fail(code, message)

    def close(self) -> None:
        self.expect(")", "ORA-00907", "missing right parenthesis")

    def name_token(self) -> bool:
        """A name that is not a reserved word (a table, alias or column)."""
        return self.tok.kind == "quoted" or (self.tok.kind == "ident" and self.tok.up not in RESERVED)

    # -- statement -----------------------------------------------------------------------------
    def statement(self) -> None:
        self.subquery()
        self.order_by()
        self.row_limiting()
        if self.at("FOR") and self.peek().up == "UPDATE":
            self.i += 2
        if self.tok.kind != "eof":
            raise self.fail("ORA-00933", "SQL command not properly ended")

    def dml(self) -> None:
        """INSERT INTO t [(cols)] VALUES (…) | query; UPDATE t SET c = e, … [WHERE]; DELETE [FROM] t [WHERE]."""
        if self.take("INSERT"):
            self.expect("INTO", "ORA-00925", "missing INTO keyword")
            self.dml_target()
            if self.take("("):
                self.expression_list()
                self.close()
            if self.take("VALUES"):
                self.expect("(", "ORA-00906", "missing left parenthesis")
                self.expression_list()
                self.close()
            elif self.at("SELECT", "WITH", "("):
                self.subquery()
            else:
                raise self.fail("ORA-00926", "missing VALUES keyword")
        elif self.take("UPDATE"):
            self.dml_target()
            self.expect("SET", "ORA-00971", "missing SET keyword")
            while True:
                self.primary()
                self.expect("=", "ORA-00927", "missing equal sign")
                self.expression()
                if not self.take(","):
                    break
            if self.take("WHERE"):
                self.condition()
        else:
            self.expect("DELETE", "ORA-00900", "invalid SQL statement")
            self.take("FROM")
            self.dml_target()
            if self.take("WHERE"):
                self.condition()
        if self.take("RETURNING", "RETURN"):
            self.expression_list()
            self.expect("INTO", "ORA-00925", "missing INTO keyword")
            self.expression_list()
        if self.tok.kind != "eof":
            raise self.fail("ORA-00933", "SQL command not properly ended")

    def dml_target(self) -> None:
        if not self.name_token():
            raise self.fail("ORA-00903", "invalid table name")
        self.dotted_name()
        if self.name_token() and not self.at("SET", "VALUES"):
            self.i += 1

    def subquery(self) -> None:
        if self.take("WITH"):
            while True:
                if not self.name_token():
                    raise self.fail("ORA-00903", "invalid table name")
                self.i += 1
                self.expect("AS", "ORA-00905", "missing keyword")
                self.expect("(", "ORA-00906", "missing left parenthesis")
                self.subquery()
                self.order_by()
                self.close()
                if not self.take(","):
                    break
        self.query_block()
        while self.at("UNION", "INTERSECT", "MINUS"):
            if self.take("UNION"):
                self.take("ALL")
            else:
                self.i += 1
            if not self.at("SELECT", "("):
                raise self.fail("ORA-00928", "missing SELECT keyword")
            self.query_block()

    def query_block(self) -> None:
        if self.take("("):
            self.subquery()
            self.order_by()
            self.close()
            return
        self.expect("SELECT", "ORA-00928", "missing SELECT keyword")
        self.take("DISTINCT", "UNIQUE", "ALL")
        self.select_list()
        if self.take("INTO"):                     # PL/SQL's SELECT ... INTO
            self.expression_list()
        self.expect("FROM", "ORA-00923", "FROM keyword not found where expected")
        self.from_list()
        if self.take("WHERE"):
            self.condition()
        self.hierarchy()
        if self.take("GROUP"):
            self.expect("BY", "ORA-00924", "missing BY keyword")
            self.expression_list()
        if self.take("HAVING"):
            self.condition()

    def hierarchy(self) -> None:
        for _ in range(2):
            if self.take("START"):
                self.expect("WITH", "ORA-00905", "missing keyword")
                self.condition()
            elif self.take("CONNECT"):
                self.expect("BY", "ORA-00924", "missing BY keyword")
                self.take("NOCYCLE")
                self.condition()

    def select_list(self) -> None:
        if self.take("*"):
            if not self.at("FROM", "INTO"):
                raise self.fail("ORA-00923", "FROM keyword not found where expected")
            return
        while True:
            if self.tok.kind in ("ident", "quoted") and self.peek().text == "." and self.peek(2).text == "*":
                self.i += 3
            else:
                self.expression()
                self.alias()
            if not self.take(","):
                break
        if not self.at("FROM", "INTO"):
            raise self.fail("ORA-00923", "FROM keyword not found where expected")

    def alias(self) -> None:
        if self.take("AS"):
            if not self.name_token():
                raise self.fail("ORA-00923", "FROM keyword not found where expected")
            self.i += 1
        elif self.name_token():
            self.i += 1

    def from_list(self) -> None:
        while True:
            self.table_ref()
            while self.join():
                pass
            if not self.take(","):
                return

    def table_ref(self) -> None:
        if self.take("("):
            self.subquery()
            self.order_by()
            self.close()
        elif self.name_token() or self.at("TABLE"):
            self.dotted_name()
            if self.take("@"):
                self.dotted_name()
        else:
            raise self.fail("ORA-00903", "invalid table name")
        if self.name_token() and not self.at(*JOIN_WORDS, "FETCH", "OFFSET"):
            self.i += 1

    def dotted_name(self) -> None:
        self.i += 1
        while self.take("."):
            if self.tok.kind not in ("ident", "quoted"):
                raise self.fail("ORA-00903", "invalid table name")
            self.i += 1

    def join(self) -> bool:
        if not self.at(*JOIN_WORDS):
            return False
        cross = self.take("CROSS")
        if self.take("LEFT", "RIGHT", "FULL"):
            self.take("OUTER")
        else:
            self.take("INNER")
        self.expect("JOIN", "ORA-00905", "missing keyword")
        self.table_ref()
        if cross:
            return True
        if self.take("USING"):
            self.expect("(", "ORA-00906", "missing left parenthesis")
            self.expression_list()
            self.close()
        else:
            self.expect("ON", "ORA-00905", "missing keyword")
            self.condition()
        return True

    def order_by(self) -> None:
        if not self.take("ORDER"):
            return
        self.take("SIBLINGS")
        self.expect("BY", "ORA-00924", "missing BY keyword")
        while True:
            self.expression()
            self.take("ASC", "DESC")
            if self.take("NULLS"):
                if not self.take("FIRST", "LAST"):
                    raise self.fail("ORA-00905", "missing keyword")
            if not self.take(","):
                return

    def row_limiting(self) -> None:
        """12c's OFFSET n ROWS / FETCH FIRST|NEXT n [PERCENT] ROWS ONLY|WITH TIES."""
        if self.take("OFFSET"):
            self.expression()
            if not self.take("ROW", "ROWS"):
                raise self.fail("ORA-00905", "missing keyword")
        if self.take("FETCH"):
            if not self.take("FIRST", "NEXT"):
                raise self.fail("ORA-00905", "missing keyword")
            if not self.at("ROW", "ROWS"):
                self.expression()
                self.take("PERCENT")
            if not self.take("ROW", "ROWS"):
                raise self.fail("ORA-00905", "missing keyword")
            if not (self.take("ONLY") or (self.take("WITH") and self.take("TIES"))):
                raise self.fail("ORA-00905", "missing keyword")

    # -- conditions and expressions ----------------------------------------------------------------
    def expression_list(self) -> None:
        self.expression()
        while self.take(","):
            self.expression()

    def condition(self) -> None:
        self.and_condition()
        while self.take("OR"):
            self.and_condition()

    def and_condition(self) -> None:
        self.not_condition()
        while self.take("AND"):
            self.not_condition()

    def not_condition(self) -> None:
        if self.take("NOT"):
            self.not_condition()
            return
        if self.take("EXISTS"):
            self.expect("(", "ORA-00906", "missing left parenthesis")
            self.subquery()
            self.close()
            return
        self.predicate()

    def expression(self) -> None:
        """An expression where a value is expected (conditions nest inside parentheses and CASE)."""
        self.condition()

    def predicate(self) -> None:
        """An operand and at most one comparison (Oracle does not chain ``a = b = c``)."""
        self.concat()
        negated = self.take("NOT")
        if self.tok.kind == "op" and self.tok.text in COMPARISON and not negated:
            self.i += 1
            if self.take("ANY", "SOME", "ALL"):
                self.expect("(", "ORA-00906", "missing left parenthesis")
                self.in_list()
            else:
                self.concat()
        elif self.take("LIKE"):
            self.concat()
            if self.take("ESCAPE"):
                self.concat()
        elif self.take("IN"):
            self.expect("(", "ORA-00906", "missing left parenthesis")
            self.in_list()
        elif self.take("BETWEEN"):
            self.concat()
            self.expect("AND", "ORA-00905", "missing keyword")
            self.concat()
        elif not negated and self.take("IS"):
            self.take("NOT")
            self.expect("NULL", "ORA-00908", "missing NULL keyword")
        elif negated:
            raise self.fail("ORA-00920", "invalid relational operator")

    def in_list(self) -> None:
        if self.at("SELECT", "WITH"):
            self.subquery()
        else:
            self.expression_list()
        self.close()

    def concat(self) -> None:
        self.additive()
        while self.take("||"):
            self.additive()

    def additive(self) -> None:
        self.term()
        while self.take("+", "-"):
            self.term()

    def term(self) -> None:
        self.unary()
        while self.take("*", "/"):
            self.unary()

    def unary(self) -> None:
        if self.take("+", "-", "PRIOR"):
            self.unary()
            return
        self.primary()

    def primary(self) -> None:
        tok = self.tok
        if tok.kind in ("num", "str", "bind"):
            self.i += 1
        elif self.take("("):
            if self.at("SELECT", "WITH"):
                self.subquery()
                self.order_by()
            else:
                self.expression_list()
            self.close()
        elif tok.kind == "ident" and tok.up == "CASE":
            self.case()
        elif tok.kind == "ident" and tok.up in ("DATE", "TIMESTAMP", "INTERVAL") and self.peek().kind == "str":
            self.i += 2
            if tok.up == "INTERVAL":
                self.interval_units()
        elif tok.kind == "ident" and tok.up in ("TRUE", "FALSE") and self.peek().text not in ("(", "."):
            raise PositionedError("ORA-00904", f'"{tok.up}": invalid identifier', pos=tok.pos)
        elif tok.kind == "quoted" or (tok.kind == "ident" and (tok.up not in RESERVED or tok.up in EXPRESSION_WORDS)):
            self.name_or_call()
        else:
            raise self.fail("ORA-00936", "missing expression")

    def name_or_call(self) -> None:
        name = self.tok.up
        self.i += 1
        while self.take("."):
            if self.tok.kind not in ("ident", "quoted"):
                raise self.fail("ORA-01747", "invalid user.table.column, table.column, or column specification")
            name = self.tok.up
            self.i += 1
        if self.at("(") and self.peek().text == "+" and self.peek(2).text == ")":
            self.i += 3                            # the old outer-join marker
            return
        if not self.take("("):
            return
        if name in FREE_FORM:
            self.skip_balanced()
        elif not self.take(")"):
            if not self.take("*"):
                self.take("DISTINCT", "ALL", "UNIQUE")
                self.expression_list()
            self.close()
        for word in ("WITHIN", "KEEP", "OVER"):
            if self.take(word):
                self.take("GROUP")
                self.expect("(", "ORA-00906", "missing left parenthesis")
                self.skip_balanced()

    def skip_balanced(self) -> None:
        """Past the ``)`` closing a parenthesis already opened (contents not checked)."""
        depth = 1
        while depth:
            if self.tok.kind == "eof":
                raise self.fail("ORA-00907", "missing right parenthesis")
            depth += {"(": 1, ")": -1}.get(self.tok.text, 0) if self.tok.kind == "op" else 0
            self.i += 1

    def case(self) -> None:
        self.i += 1
        if not self.at("WHEN"):
            self.expression()
        if not self.at("WHEN"):
            raise self.fail("ORA-00905", "missing keyword")
        while self.take("WHEN"):
            self.condition()
            self.expect("THEN", "ORA-00905", "missing keyword")
            self.expression()
        if self.take("ELSE"):
            self.expression()
        self.expect("END", "ORA-00905", "missing keyword")

    def interval_units(self) -> None:
        units = ("YEAR", "MONTH", "DAY", "HOUR", "MINUTE", "SECOND")
        if not self.take(*units):
            raise self.fail("ORA-00905", "missing keyword")
        if self.take("("):
            self.expression_list()
            self.close()
        if self.take("TO") and not self.take(*units):
            raise self.fail("ORA-00905", "missing keyword")


JOIN_WORDS = ("JOIN", "INNER", "LEFT", "RIGHT", "FULL", "CROSS")
