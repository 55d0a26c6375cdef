"""Compiling PL/SQL before it runs: every name must resolve, embedded SQL must name real tables.

Oracle compiles a whole block before executing any of it, so a block with an
undeclared identifier (PLS-00201), an unknown package member (PLS-00302) or
a missing table (PL/SQL: ORA-00942) changes nothing; the simulator does the
same.  Also here: what %TYPE anchors resolve to and the stored procedures.
"""
from __future__ import annotations

from typing import Any

from ..instance import OraError
from ..sql import functions as F
from ..sql import query
from ..sql.context import DbSession
from . import nodes as P

PREDEFINED = {
    "NO_DATA_FOUND": ("ORA-01403", 100), "TOO_MANY_ROWS": ("ORA-01422", -1422),
    "ZERO_DIVIDE": ("ORA-01476", -1476), "VALUE_ERROR": ("ORA-06502", -6502),
    "INVALID_NUMBER": ("ORA-01722", -1722), "DUP_VAL_ON_INDEX": ("ORA-00001", -1),
    "CASE_NOT_FOUND": ("ORA-06592", -6592), "PROGRAM_ERROR": ("ORA-06501", -6501),
    "LOGIN_DENIED": ("ORA-01017", -1017), "NOT_LOGGED_ON": ("ORA-01012", -1012),
    "TIMEOUT_ON_RESOURCE": ("ORA-00051", -51), "INVALID_CURSOR": ("ORA-01001", -1001),
}
PACKAGES: dict[str, set[str]] = {
    "DBMS_OUTPUT": {"PUT_LINE", "PUT", "NEW_LINE", "ENABLE", "DISABLE"},
    "DBMS_LOCK": {"SLEEP"},
    "DBMS_SESSION": {"SLEEP"},
}
NO_ARG_BUILTINS = {"SYSDATE", "SYSTIMESTAMP", "USER", "SQLERRM", "SQLCODE", "SYS_GUID"}
class CompileError(OraError):
    """ORA-06550 with PLS- lines, and where SQL*Plus puts its '*'."""

    def __init__(self, line: int, col: int, lines: list[str]):
        super().__init__("ORA-06550", f"line {line}, column {col}:", *lines)
        self.line, self.col = line, col


def column_type(s: DbSession, anchor: list[str]) -> str | None:
    """The declared type behind ``table.column%TYPE``."""
    from ..sql import views
    if len(anchor) < 2:
        return None
    table, column = anchor[:-1], anchor[-1]
    try:
        src = s.source()
        key, view = views.lookup(table[0] if len(table) == 2 else None, table[-1], src)
        cols = view.columns if view else views.table_columns(key, src)
    except (OraError, KeyError):
        return None
    return next((t for c, t in cols if c.upper() == column), None)


def stored_procedure(s: DbSession, parts: list[str]) -> dict | None:
    owner, name = (parts[0], parts[1]) if len(parts) == 2 else (s.user, parts[0])
    try:
        procs = s.database().sidecar().get("procedures", [])
    except OraError:
        return None
    if len(parts) > 2:
        return None
    return next((p for p in procs if p["owner"] == owner and p["name"] == name), None)


class Checker:
    """Compile-time resolution: every name must be declared (PLS-00201 / PLS-00302)."""

    def __init__(self, session: DbSession):
        self.s = session

    def fail(self, node: Any, msg: str) -> None:
        raise CompileError(node.line, node.col, [msg, f"ORA-06550: line {node.line}, column {node.col}:",
                                                 "PL/SQL: Statement ignored"])

    def check_block(self, block: P.Block, outer: dict[str, str] | None) -> None:
        names = dict(outer or {})
        for d in block.decls:
            if isinstance(d, P.VarDecl):
                if d.default is not None:
                    self.expr(d.default, names)
                if d.type.base == "ANCHORED" and column_type(self.s, d.type.anchor or []) is None:
                    self.fail(d, f"PLS-00201: identifier '{'.'.join(d.type.anchor or [])}' must be declared")
                names[d.name] = "var"
            elif isinstance(d, P.SubprogramDecl):
                names[d.name] = "sub"
                if d.block is not None:
                    inner = dict(names)
                    for p in d.params:
                        inner[p.name] = "var"
                    self.check_block(d.block, inner)
            elif isinstance(d, P.CursorDecl):
                names[d.name] = "cursor"
            elif isinstance(d, P.ExceptionDecl):
                names[d.name] = "exception"
        self.stmts(block.body, names)
        for h in block.handlers:
            for n in h.names:
                if n != "OTHERS" and n not in PREDEFINED and names.get(n) != "exception":
                    self.fail(h, f"PLS-00201: identifier '{n}' must be declared")
            self.stmts(h.body, names)

    def stmts(self, stmts: list[Any], names: dict[str, str]) -> None:
        for st in stmts:
            self.stmt(st, names)

    def stmt(self, st: Any, names: dict[str, str]) -> None:
        if isinstance(st, P.Assign):
            if names.get(st.target.parts[0]) not in ("var", "record"):
                self.fail(st, f"PLS-00201: identifier '{'.'.join(st.target.parts)}' must be declared")
            self.expr(st.expr, names)
        elif isinstance(st, P.If):
            for cond, body in st.branches:
                self.expr(cond, names)
                self.stmts(body, names)
            if st.else_body:
                self.stmts(st.else_body, names)
        elif isinstance(st, P.Block):
            self.check_block(st, names)
        elif isinstance(st, (P.ForRange, P.ForQuery)):
            if isinstance(st, P.ForRange):
                self.expr(st.low, names)
                self.expr(st.high, names)
            elif st.cursor is not None and names.get(st.cursor) != "cursor":
                self.fail(st, f"PLS-00201: identifier '{st.cursor}' must be declared")
            elif st.sql is not None:
                self.sql_tables(st.sql, st)
            self.stmts(st.body, {**names, st.var: "var" if isinstance(st, P.ForRange) else "record"})
        elif isinstance(st, (P.While, P.Loop)):
            if isinstance(st, P.While):
                self.expr(st.cond, names)
            self.stmts(st.body, names)
        elif isinstance(st, (P.Exit, P.Return)):
            expr = st.cond if isinstance(st, P.Exit) else st.expr
            if expr is not None:
                self.expr(expr, names)
        elif isinstance(st, P.Raise):
            if st.name and st.name not in PREDEFINED and names.get(st.name) != "exception":
                self.fail(st, f"PLS-00201: identifier '{st.name}' must be declared")
        elif isinstance(st, P.ExecImmediate):
            self.expr(st.expr, names)
            for e in st.using:
                self.expr(e, names)
        elif isinstance(st, P.SqlStmt):
            if st.verb in ("SELECT", "WITH") and not st.into:
                self.fail(st, "PLS-00428: an INTO clause is expected in this SELECT statement")
            self.sql_tables(st.sql, st)
        elif isinstance(st, P.CallStmt):
            self.expr(st.call, names)

    def sql_tables(self, sql: str, node: Any) -> None:
        """Embedded SQL must name tables that exist (PL/SQL: ORA-00942 at compile time)."""
        from sqlglot import exp

        from ..sql import views
        try:
            tree = query.parse(sql)
            src = self.s.source()
            if src.inst.status != "open":
                return
        except (OraError, Exception):  # parse errors surface when the statement runs
            return
        ctes = {c.alias_or_name.upper() for c in tree.find_all(exp.CTE)}
        for t in tree.find_all(exp.Table):
            if not t.name or t.name.upper() in ctes:
                continue
            key, view = views.lookup(t.db or None, t.name, src)
            if view is None and not views.table_exists(key, src):
                offset = query.find_pos(sql, t.name)
                line = node.line + sql[:offset].count("\n")
                raise CompileError(line, node.col, ["PL/SQL: ORA-00942: table or view does not exist",
                                                    f"ORA-06550: line {node.line}, column {node.col}:",
                                                    "PL/SQL: SQL Statement ignored"])

    def expr(self, e: Any, names: dict[str, str]) -> None:
        if isinstance(e, (P.Name, P.Call)):
            self.ref(e, names, call=isinstance(e, P.Call))
            for _n, a in getattr(e, "args", []):
                self.expr(a, names)
        elif isinstance(e, P.Unary):
            self.expr(e.expr, names)
        elif isinstance(e, P.Binary):
            self.expr(e.left, names)
            self.expr(e.right, names)
        elif isinstance(e, P.Pred):
            self.expr(e.expr, names)
            for a in e.args:
                if a is not None:
                    self.expr(a, names)
        elif isinstance(e, P.CaseExpr):
            for x in [e.operand, e.default, *[w for pair in e.whens for w in pair]]:
                if x is not None:
                    self.expr(x, names)

    def ref(self, e: Any, names: dict[str, str], call: bool) -> None:
        parts = e.parts[1:] if e.parts[0] == "SYS" and len(e.parts) > 1 else e.parts
        head = parts[0]
        kind = names.get(head)
        if kind in ("var", "record", "sub"):
            return
        if len(parts) == 1 and (head in F.FUNCTIONS or head in NO_ARG_BUILTINS or head == "RAISE_APPLICATION_ERROR"):
            return
        if head in PACKAGES or head in ("DBMS_SCHEDULER", "DBMS_CREDENTIAL"):
            from ..sql import scheduler
            members = PACKAGES.get(head) or scheduler.MEMBERS
            if len(parts) != 2 or parts[1] not in members:
                comp = parts[1] if len(parts) > 1 else head
                self.fail(e, f"PLS-00302: component '{comp}' must be declared")
            return
        if stored_procedure(self.s, parts) is not None or parts[-1] in ("NEXTVAL", "CURRVAL") and len(parts) > 1:
            return
        self.fail(e, f"PLS-00201: identifier '{'.'.join(parts)}' must be declared")
