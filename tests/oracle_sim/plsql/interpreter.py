"""A PL/SQL interpreter for anonymous blocks, stored procedures and scheduler jobs.

A block is parsed, then checked the way PL/SQL compiles it (every identifier
must resolve: PLS-00201 / PLS-00302, embedded SQL must name tables that exist),
and only then run, so a block with a typo changes nothing.  SQL inside the
block goes to the SQL engine with PL/SQL variables bound as literals.
Unhandled exceptions come out as OraError with Oracle's lines (``ORA-06512:
at line N``).  Packages: DBMS_OUTPUT, DBMS_LOCK, DBMS_SESSION, DBMS_SCHEDULER
(``scheduler``), DBMS_CREDENTIAL; RAISE_APPLICATION_ERROR.
"""
from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Any

from ..instance import OraError
from ..sql import functions as F
from ..sql import query
from ..sql import values as V
from ..sql.context import DbSession
from . import nodes as P
from .check import PACKAGES, PREDEFINED, Checker, CompileError, column_type, stored_procedure
from .parser import PlsqlSyntaxError, parse_block, parse_subprogram

NUMERIC_TYPES = ("NUMBER", "INTEGER", "INT", "PLS_INTEGER", "BINARY_INTEGER", "FLOAT", "SIMPLE_INTEGER",
                 "NATURAL", "POSITIVE", "DECIMAL", "SMALLINT", "REAL", "BINARY_DOUBLE", "BINARY_FLOAT")
STRING_TYPES = ("VARCHAR2", "VARCHAR", "CHAR", "NVARCHAR2", "NCHAR", "STRING", "CLOB", "NCLOB", "LONG")


class PlsqlException(Exception):
    """A PL/SQL exception in flight: the ORA- lines and where it passed through."""

    def __init__(self, lines: list[str], sqlcode: int, name: str | None = None):
        super().__init__(lines[0])
        self.lines, self.sqlcode, self.name = lines, sqlcode, name
        self.at: list[int] = []
        self.depths: set[int] = set()

    @classmethod
    def from_ora(cls, err: OraError) -> PlsqlException:
        m = re.match(r"ORA-(\d+)", err.code)
        code = -int(m.group(1)) if m else -6502
        return cls(list(err.lines), 100 if code == -1403 else code)

    def code(self) -> str:
        return self.lines[0].split(":")[0]


class _Exit(Exception):
    def __init__(self, is_continue: bool):
        self.is_continue = is_continue


class _Return(Exception):
    def __init__(self, value: Any):
        self.value = value


@dataclass
class Var:
    type: P.TypeSpec | None
    value: Any = None
    constant: bool = False


@dataclass
class Scope:
    parent: Scope | None = None
    vars: dict[str, Var] = field(default_factory=dict)
    subs: dict[str, tuple[P.SubprogramDecl, Scope]] = field(default_factory=dict)
    cursors: dict[str, P.CursorDecl] = field(default_factory=dict)
    exceptions: dict[str, tuple[str, int]] = field(default_factory=dict)

    def find(self, attr: str, name: str) -> Any:
        s: Scope | None = self
        while s is not None:
            table = getattr(s, attr)
            if name in table:
                return table[name]
            s = s.parent
        return None


def raise_ora(code: str, message: str, sqlcode: int | None = None) -> PlsqlException:
    n = int(code.split("-")[1])
    return PlsqlException([f"{code}: {message}"], sqlcode if sqlcode is not None else -n)


def like(value: str, pattern: str, escape: str | None) -> bool:
    rx, i = "", 0
    while i < len(pattern):
        ch = pattern[i]
        if escape and ch == escape and i + 1 < len(pattern):
            rx += re.escape(pattern[i + 1])
            i += 2
            continue
        rx += ".*" if ch == "%" else "." if ch == "_" else re.escape(ch)
        i += 1
    return re.fullmatch(rx, value, re.S) is not None


class Interpreter:
    """Runs PL/SQL for one session; ``execute_sql`` is the statement engine (``statements.execute``)."""

    def __init__(self, session: DbSession, execute_sql: Any):
        self.s = session
        self.execute_sql = execute_sql
        self.depth = 0
        self.handling: list[PlsqlException] = []
        self.rowcount = 0

    # -- entry points ----------------------------------------------------------------
    def run_source(self, src: str) -> None:
        """Compile and run an anonymous block; raises OraError with Oracle's lines."""
        try:
            block = parse_block(src)
        except PlsqlSyntaxError as exc:
            raise CompileError(exc.line, exc.col, exc.lines) from None
        Checker(self.s).check_block(block, None)
        self.run_block_checked(block)

    def run_block_checked(self, block: P.Block, scope: Scope | None = None) -> None:
        try:
            self.exec_block(block, scope or Scope())
        except PlsqlException as exc:
            raise OraError(exc.code(), exc.lines[0].split(": ", 1)[-1], *exc.lines[1:],
                           *[f"ORA-06512: at line {n}" for n in exc.at]) from None

    # -- declarations and blocks ------------------------------------------------------
    def declare(self, decls: list[Any], scope: Scope) -> None:
        for d in decls:
            if isinstance(d, P.VarDecl):
                spec = self.resolve_type(d.type)
                value = self.coerce(self.eval(d.default, scope), spec) if d.default is not None else None
                scope.vars[d.name] = Var(spec, value, d.constant)
            elif isinstance(d, P.SubprogramDecl):
                existing = scope.subs.get(d.name)
                if d.block is not None or existing is None:
                    scope.subs[d.name] = (d, scope)
            elif isinstance(d, P.CursorDecl):
                scope.cursors[d.name] = d
            elif isinstance(d, P.ExceptionDecl):
                code = f"ORA-{-d.code:05d}" if d.code else "ORA-06510"
                scope.exceptions[d.name] = (code, d.code or 1)

    def resolve_type(self, spec: P.TypeSpec) -> P.TypeSpec:
        if spec.base != "ANCHORED" or not spec.anchor:
            return spec
        decl = column_type(self.s, spec.anchor)
        if decl is None:
            return P.TypeSpec("VARCHAR2", None)
        kind, width = query.type_kind(decl)
        return P.TypeSpec({"CHAR": "VARCHAR2", "NUMBER": "NUMBER", "DATE": "DATE"}.get(kind, kind), width)

    def exec_block(self, block: P.Block, parent: Scope) -> None:
        scope = Scope(parent)
        self.declare(block.decls, scope)
        try:
            self.exec_stmts(block.body, scope)
        except PlsqlException as exc:
            handler = self.match(block.handlers, exc, scope)
            if handler is None:
                raise
            self.handling.append(exc)
            try:
                self.exec_stmts(handler.body, scope)
            finally:
                self.handling.pop()

    def match(self, handlers: list[P.Handler], exc: PlsqlException, scope: Scope) -> P.Handler | None:
        for h in handlers:
            for name in h.names:
                if name == "OTHERS":
                    return h
                if name in PREDEFINED and exc.code() == PREDEFINED[name][0]:
                    return h
                declared = scope.find("exceptions", name)
                if declared and (exc.name == name or declared[0] != "ORA-06510" and exc.code() == declared[0]):
                    return h
        return None

    # -- statements -------------------------------------------------------------------
    def exec_stmts(self, stmts: list[Any], scope: Scope) -> None:
        for st in stmts:
            try:
                self.exec_stmt(st, scope)
            except OraError as err:
                exc = PlsqlException.from_ora(err)
                exc.depths.add(self.depth)
                exc.at.append(st.line)
                raise exc from None
            except PlsqlException as exc:
                if self.depth not in exc.depths:
                    exc.depths.add(self.depth)
                    exc.at.append(st.line)
                raise

    def exec_stmt(self, st: Any, scope: Scope) -> None:
        self.s.begin_statement()  # SYSDATE moves on between the statements of a block
        if isinstance(st, P.NullStmt):
            return
        if isinstance(st, P.Assign):
            self.assign(st.target, self.eval(st.expr, scope), scope)
        elif isinstance(st, P.If):
            for cond, body in st.branches:
                if self.eval(cond, scope) is True:
                    self.exec_stmts(body, scope)
                    return
            if st.else_body:
                self.exec_stmts(st.else_body, scope)
        elif isinstance(st, P.Block):
            self.exec_block(st, scope)
        elif isinstance(st, P.ForRange):
            low, high = V.to_number(self.eval(st.low, scope)), V.to_number(self.eval(st.high, scope))
            if low is None or high is None:
                raise raise_ora("ORA-06502", "PL/SQL: numeric or value error")
            seq = range(int(low), int(high) + 1)
            self._loop(st.body, scope, st.var, reversed(seq) if st.reverse else seq, number=True)
        elif isinstance(st, P.ForQuery):
            self._loop(st.body, scope, st.var, self.cursor_rows(st, scope), number=False)
        elif isinstance(st, P.While):
            while self.eval(st.cond, scope) is True:
                if not self._iterate(st.body, scope):
                    break
        elif isinstance(st, P.Loop):
            while self._iterate(st.body, scope):
                pass
        elif isinstance(st, P.Exit):
            if st.cond is None or self.eval(st.cond, scope) is True:
                raise _Exit(st.is_continue)
        elif isinstance(st, P.Return):
            raise _Return(None if st.expr is None else self.eval(st.expr, scope))
        elif isinstance(st, P.Raise):
            self.do_raise(st.name, scope)
        elif isinstance(st, P.ExecImmediate):
            self.exec_immediate(st, scope)
        elif isinstance(st, P.SqlStmt):
            self.exec_sql(st, scope)
        elif isinstance(st, P.CallStmt):
            target = st.call
            args = target.args if isinstance(target, P.Call) else []
            self.call(target.parts, args, scope, want_value=False)

    def _iterate(self, body: list[Any], scope: Scope) -> bool:
        try:
            self.exec_stmts(body, scope)
        except _Exit as ex:
            return ex.is_continue
        return True

    def _loop(self, body: list[Any], scope: Scope, var: str, items: Any, number: bool) -> None:
        inner = Scope(scope)
        for item in items:
            inner.vars[var] = Var(P.TypeSpec("NUMBER") if number else None, item, constant=True)
            if not self._iterate(body, inner):
                break

    def do_raise(self, name: str | None, scope: Scope) -> None:
        if name is None:
            if not self.handling:
                raise raise_ora("ORA-06510", "PL/SQL: unhandled user-defined exception")
            exc = self.handling[-1]
            exc.at, exc.depths = [], set()
            raise exc
        if name in PREDEFINED:
            code, sqlcode = PREDEFINED[name]
            raise PlsqlException([f"{code}: {_message(code)}"], sqlcode, name)
        declared = scope.find("exceptions", name)
        if declared[0] == "ORA-06510":
            raise PlsqlException(["ORA-06510: PL/SQL: unhandled user-defined exception"], 1, name)
        raise PlsqlException([f"{declared[0]}: "], declared[1], name)

    def cursor_rows(self, st: P.ForQuery, scope: Scope) -> list[dict[str, Any]]:
        sql, cur_scope = st.sql, scope
        if st.cursor is not None:
            decl: P.CursorDecl = scope.find("cursors", st.cursor)
            cur_scope = Scope(scope)
            self.bind_params(decl.params, st.cursor_args, scope, cur_scope, st.cursor)
            sql = decl.sql
        rs = self.query(sql, cur_scope)
        names = [c.name.upper() for c in rs.columns]
        return [dict(zip(names, r)) for r in rs.rows]

    def query(self, sql: str, scope: Scope) -> query.ResultSet:
        # through the statement engine, so that a NEXTVAL is saved under the database lock
        result = self.execute_sql(self.s, sql, self.binder(scope)).result
        if result is None:
            raise raise_ora("ORA-00900", "invalid SQL statement")
        return result

    def binder(self, scope: Scope) -> Any:
        def bind(parts: list[str]) -> Any:
            var = scope.find("vars", parts[0])
            if var is None:
                return query.NOT_FOUND
            if len(parts) == 1:
                return var.value
            if isinstance(var.value, dict) and parts[1] in var.value:
                return var.value[parts[1]]
            return query.NOT_FOUND
        return bind

    def exec_sql(self, st: P.SqlStmt, scope: Scope) -> None:
        if st.verb in ("SELECT", "WITH"):
            rs = self.query(st.sql, scope)
            if not rs.rows:
                raise PlsqlException(["ORA-01403: no data found"], 100, "NO_DATA_FOUND")
            if len(rs.rows) > 1:
                raise raise_ora("ORA-01422", "exact fetch returns more than requested number of rows")
            if len(st.into) != len(rs.rows[0]):
                raise raise_ora("ORA-06502", "PL/SQL: numeric or value error")
            for target, value in zip(st.into, rs.rows[0]):
                self.assign(target, value, scope)
            self.rowcount = 1
        elif st.verb in ("COMMIT", "ROLLBACK", "SAVEPOINT"):
            self.rowcount = 0
        else:
            self.rowcount = self.execute_sql(self.s, st.sql, self.binder(scope)).rowcount

    def exec_immediate(self, st: P.ExecImmediate, scope: Scope) -> None:
        text = self.eval(st.expr, scope)
        if text is None:
            raise raise_ora("ORA-06535", "statement string in EXECUTE IMMEDIATE is NULL or 0 length")
        text = str(text)
        if st.using:
            values = [self.eval(e, scope) for e in st.using]
            text = _bind_placeholders(text, values)
        stripped = text.strip()
        first = stripped.split(None, 1)[0].upper() if stripped else ""
        if first in ("BEGIN", "DECLARE"):
            Interpreter(self.s, self.execute_sql).run_source(stripped)
            return
        if stripped.endswith(";"):
            raise raise_ora("ORA-00911", "invalid character")
        if st.into:
            rs = query.run_query(self.s, stripped)
            if not rs.rows:
                raise PlsqlException(["ORA-01403: no data found"], 100, "NO_DATA_FOUND")
            if len(rs.rows) > 1:
                raise raise_ora("ORA-01422", "exact fetch returns more than requested number of rows")
            for target, value in zip(st.into, rs.rows[0]):
                self.assign(target, value, scope)
            return
        self.rowcount = self.execute_sql(self.s, stripped, None).rowcount

    # -- variables ---------------------------------------------------------------------
    def assign(self, target: P.Name, value: Any, scope: Scope) -> None:
        var = scope.find("vars", target.parts[0])
        if var is None:
            raise CompileError(target.line, target.col,
                               [f"PLS-00201: identifier '{'.'.join(target.parts)}' must be declared"])
        if var.constant:
            raise CompileError(target.line, target.col, [
                f"PLS-00363: expression '{target.parts[0]}' cannot be used as an assignment target"])
        if len(target.parts) > 1 and isinstance(var.value, dict):
            var.value[target.parts[1]] = value
            return
        var.value = self.coerce(value, var.type)

    def coerce(self, value: Any, spec: P.TypeSpec | None) -> Any:
        if value is None or spec is None:
            return None if value == "" else value
        base = spec.base.split()[0]
        try:
            if base in NUMERIC_TYPES:
                if isinstance(value, bool):
                    raise raise_ora("ORA-06502", "PL/SQL: numeric or value error")
                n = V.to_number(value)
                return round(n) if base not in ("NUMBER", "FLOAT", "DECIMAL", "REAL", "BINARY_DOUBLE",
                                                "BINARY_FLOAT") and n is not None else n
            if base in STRING_TYPES:
                text = V.to_text(value, self.s.date_format, self.s.ts_format)
                if spec.size and text is not None and len(text) > spec.size:
                    raise raise_ora("ORA-06502", "PL/SQL: numeric or value error: character string buffer "
                                                 "too small")
                return text or None
            if base == "DATE" or base == "TIMESTAMP":
                return F.f_to_date(self.s, value) if base == "DATE" else F.f_to_timestamp(self.s, value)
            if base == "BOOLEAN" and not isinstance(value, bool):
                raise raise_ora("ORA-06502", "PL/SQL: numeric or value error")
        except OraError as err:
            if err.code == "ORA-01722":
                raise raise_ora("ORA-06502", "PL/SQL: numeric or value error: character to number "
                                             "conversion error") from None
            raise
        return value

    # -- expressions -------------------------------------------------------------------
    def eval(self, e: Any, scope: Scope) -> Any:
        if isinstance(e, P.Lit):
            return e.value
        if isinstance(e, P.Name):
            return self.name_value(e, scope)
        if isinstance(e, P.Call):
            return self.call(e.parts, e.args, scope, want_value=True)
        if isinstance(e, P.Attr):
            if e.parts == ["SQL"]:
                return {"ROWCOUNT": self.rowcount, "FOUND": self.rowcount > 0, "NOTFOUND": self.rowcount == 0,
                        "ISOPEN": False}.get(e.attr)
            raise raise_ora("ORA-03001", "unimplemented feature")
        if isinstance(e, P.Unary):
            v = self.eval(e.expr, scope)
            if e.op == "NOT":
                return None if v is None else not v
            return F.op_neg(self.s, v) if e.op == "-" else v
        if isinstance(e, P.Binary):
            return self.binary(e, scope)
        if isinstance(e, P.Pred):
            return self.predicate(e, scope)
        if isinstance(e, P.CaseExpr):
            op = self.eval(e.operand, scope) if e.operand is not None else None
            for cond, result in e.whens:
                c = self.eval(cond, scope)
                hit = c is True if e.operand is None else (c is not None and op is not None
                                                           and F.compare(self.s, op, c) == 0)
                if hit:
                    return self.eval(result, scope)
            return self.eval(e.default, scope) if e.default is not None else None
        raise raise_ora("ORA-06550", "unsupported expression")

    def binary(self, e: P.Binary, scope: Scope) -> Any:
        if e.op in ("AND", "OR"):
            a = self.eval(e.left, scope)
            if e.op == "AND" and a is False or e.op == "OR" and a is True:
                return a
            b = self.eval(e.right, scope)
            if e.op == "AND":
                return False if b is False else (None if a is None or b is None else True)
            return True if b is True else (None if a is None or b is None else False)
        a, b = self.eval(e.left, scope), self.eval(e.right, scope)
        if e.op in ("=", "<>", "!=", "^=", "~=", "<", ">", "<=", ">="):
            if a is None or b is None or a == "" or b == "":
                return None
            if isinstance(a, bool) or isinstance(b, bool):
                c = (a > b) - (a < b)
            else:
                c = F.compare(self.s, a, b)
            return {"=": c == 0, "<": c < 0, ">": c > 0, "<=": c <= 0, ">=": c >= 0}.get(e.op, c != 0)
        ops = {"||": F.op_concat, "+": F.op_add, "-": F.op_sub, "*": F.op_mul, "/": F.op_div,
               "MOD": F.f_mod, "**": F.f_power}
        return ops[e.op](self.s, a, b)

    def predicate(self, e: P.Pred, scope: Scope) -> Any:
        v = self.eval(e.expr, scope)
        if e.kind == "ISNULL":
            res = v is None or v == ""
            return not res if e.negate else res
        if v is None:
            return None
        args = [self.eval(a, scope) if a is not None else None for a in e.args]
        if e.kind == "LIKE":
            if args[0] is None:
                return None
            res = like(V.to_text(v, self.s.date_format) or "", str(args[0]), args[1])
        elif e.kind == "BETWEEN":
            if args[0] is None or args[1] is None:
                return None
            res = F.compare(self.s, v, args[0]) >= 0 and F.compare(self.s, v, args[1]) <= 0
        else:
            res = any(a is not None and F.compare(self.s, v, a) == 0 for a in args)
            if not res and any(a is None for a in args):
                return None
        return not res if e.negate else res

    def name_value(self, e: P.Name, scope: Scope) -> Any:
        parts = e.parts
        var = scope.find("vars", parts[0])
        if var is not None:
            if len(parts) == 1:
                return var.value
            if isinstance(var.value, dict):
                if parts[1] not in var.value:
                    raise CompileError(e.line, e.col, [f"PLS-00302: component '{parts[1]}' must be declared"])
                return var.value[parts[1]]
        return self.call(parts, [], scope, want_value=True)

    # -- calls ---------------------------------------------------------------------------
    def call(self, parts: list[str], args: list[tuple[str | None, Any]], scope: Scope, want_value: bool) -> Any:
        if parts[0] == "SYS" and len(parts) > 1:
            parts = parts[1:]
        name = parts[0]
        if len(parts) == 1:
            sub = scope.find("subs", name)
            if sub is not None:
                return self.call_sub(sub[0], sub[1], args, scope)
            if name == "RAISE_APPLICATION_ERROR":
                vals = [self.eval(a, scope) for _n, a in args]
                num = int(V.to_number(vals[0]))
                if not -20999 <= num <= -20000:
                    raise raise_ora("ORA-21000", f"error number argument to raise_application_error of {num} "
                                                 "is out of range")
                raise PlsqlException([f"ORA-{-num:05d}: {_text(self.s, vals[1] if len(vals) > 1 else None)}"],
                                     num)
            if name in ("SQLERRM", "SQLCODE") and not args:
                cur = self.handling[-1] if self.handling else None
                if name == "SQLCODE":
                    return cur.sqlcode if cur else 0
                if cur is None:
                    return "ORA-0000: normal, successful completion"
                return "User-Defined Exception" if cur.sqlcode == 1 else cur.lines[0]
            if name == "SYSDATE":
                return self.s.sysdate()
            if name == "SYSTIMESTAMP":
                return self.s.systimestamp()
            if name == "USER":
                return self.s.user
            if name in F.FUNCTIONS:
                return F.FUNCTIONS[name](self.s, *[self.eval(a, scope) for _n, a in args])
        if parts[-1] in ("NEXTVAL", "CURRVAL") and len(parts) in (2, 3) and not args:
            # a sequence used directly in PL/SQL (11g+), answered by the SQL engine
            return self.execute_sql(self.s, f"select {'.'.join(parts)} from dual").result.rows[0][0]
        values = [(n, self.eval(a, scope)) for n, a in args]
        if parts[0] in PACKAGES and len(parts) == 2:
            return self.package_call(parts[0], parts[1], [v for _n, v in values])
        if parts[0] in ("DBMS_SCHEDULER", "DBMS_CREDENTIAL") and len(parts) == 2:
            from ..sql import scheduler
            return scheduler.call(self, parts[1], values)
        proc = stored_procedure(self.s, parts)
        if proc is not None:
            return self.call_stored(proc, args, scope)
        raise CompileError(0, 0, [f"PLS-00201: identifier '{'.'.join(parts)}' must be declared"])

    def package_call(self, pkg: str, member: str, vals: list[Any]) -> Any:
        if pkg == "DBMS_OUTPUT":
            if member in ("ENABLE", "DISABLE"):
                self.s.dbms_output_enabled = member == "ENABLE"
            if not self.s.dbms_output_enabled:
                return None  # SERVEROUTPUT OFF: DBMS_OUTPUT is disabled and keeps nothing
            if member == "PUT_LINE":
                self.s.dbms_output.append(_text(self.s, vals[0] if vals else None))
            elif member == "PUT":
                self.s.dbms_output_partial += _text(self.s, vals[0] if vals else None)
            elif member == "NEW_LINE":
                self.s.dbms_output.append(self.s.dbms_output_partial)
                self.s.dbms_output_partial = ""
            return None
        if member == "SLEEP":
            seconds = V.to_number(vals[0]) if vals else None
            if seconds is None or seconds < 0:
                raise raise_ora("ORA-06502", "PL/SQL: numeric or value error")
            time.sleep(float(seconds))
        return None

    def bind_params(self, params: list[P.Param], args: list[tuple[str | None, Any]], caller: Scope,
                    callee: Scope, name: str) -> list[tuple[P.Param, Any]]:
        """Bind positional and named arguments; returns OUT parameters with their target expressions."""
        given: dict[str, Any] = {}
        for i, (aname, expr) in enumerate(args):
            if aname is None:
                if i >= len(params):
                    raise CompileError(0, 0, [f"PLS-00306: wrong number or types of arguments in call to "
                                              f"'{name}'"])
                given[params[i].name] = expr
            else:
                given[aname] = expr
        outs = []
        for p in params:
            spec = self.resolve_type(p.type)
            if p.name in given:
                value = self.eval(given[p.name], caller) if "IN" in p.mode or p.mode == "IN OUT" else None
                if "OUT" in p.mode:
                    outs.append((p, given[p.name]))
            elif p.default is not None:
                value = self.eval(p.default, callee)
            elif "OUT" in p.mode:
                value = None
            else:
                raise CompileError(0, 0, [f"PLS-00306: wrong number or types of arguments in call to '{name}'"])
            callee.vars[p.name] = Var(spec, self.coerce(value, spec), constant=p.mode == "IN")
        return outs

    def call_sub(self, decl: P.SubprogramDecl, defined_in: Scope, args: list[tuple[str | None, Any]],
                 caller: Scope) -> Any:
        if decl.block is None:
            raise raise_ora("ORA-06508", "PL/SQL: could not find program unit being called")
        callee = Scope(defined_in)
        outs = self.bind_params(decl.params, args, caller, callee, decl.name)
        self.depth += 1
        try:
            self.exec_block(decl.block, callee)
            result = None
            if decl.is_function:
                raise raise_ora("ORA-06503", "PL/SQL: Function returned without value")
        except _Return as ret:
            result = self.coerce(ret.value, decl.returns) if decl.is_function else None
        finally:
            self.depth -= 1
        for p, target in outs:
            if isinstance(target, P.Name):
                self.assign(target, callee.vars[p.name].value, caller)
        return result

    def call_stored(self, proc: dict, args: list[tuple[str | None, Any]], scope: Scope) -> Any:
        if proc.get("status") == "INVALID":
            raise raise_ora("ORA-06575", f"Package or function {proc['name']} is in an invalid state")
        decl = parse_subprogram(proc["source"])
        return self.call_sub(decl, Scope(), args, scope)


def _message(code: str) -> str:
    return {"ORA-01403": "no data found", "ORA-01422": "exact fetch returns more than requested number of rows",
            "ORA-01476": "divisor is equal to zero", "ORA-06502": "PL/SQL: numeric or value error",
            "ORA-01722": "invalid number", "ORA-00001": "unique constraint violated"}.get(code, "")


def _text(s: DbSession, v: Any) -> str:
    return V.to_text(v, s.date_format, s.ts_format) or ""


def _bind_placeholders(text: str, values: list[Any]) -> str:
    it = iter(values)

    def repl(m: re.Match) -> str:
        if m.group(1):
            return m.group(1)
        v = next(it, None)
        return query.literal(v).sql(dialect="oracle") if not V.is_date(v) else \
            f"TO_DATE('{V.to_dt(v):%Y-%m-%d %H:%M:%S}','YYYY-MM-DD HH24:MI:SS')"
    return re.sub(r"('(?:[^']|'')*')|:\w+", repl, text)
