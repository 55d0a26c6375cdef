"""Oracle queries answered by SQLite: parse with sqlglot, rewrite, run on built views.

The Oracle dialect is narrowed so that every scalar function parses as a plain
call; the rewrite then sends functions and the ``|| + - * /`` operators to
Python implementations of Oracle's rules (``functions``), turns SYSDATE and
USER into calls, binds PL/SQL variables as literals, maps ROWNUM limits to
LIMIT and refuses what it does not model (ORA-03001) instead of answering
wrongly.  Only the tables a query names are built, from the live state.
"""
from __future__ import annotations

import logging
import re
import sqlite3
from dataclasses import dataclass, field
from typing import Any, Callable, Protocol

import sqlglot
from sqlglot import exp
from sqlglot.dialects.oracle import Oracle
from sqlglot.errors import ErrorLevel, ParseError, SqlglotError

from ..instance import OraError
from . import functions as F
from . import values as V
from . import views

logging.getLogger("sqlglot").setLevel(logging.CRITICAL)

_KEEP_FUNCTIONS = {"COUNT", "SUM", "AVG", "MIN", "MAX", "ROW_NUMBER", "RANK", "DENSE_RANK", "LAG", "LEAD",
                   "FIRST_VALUE", "LAST_VALUE", "STDDEV", "VARIANCE", "NTILE"}
_KEEP_PARSERS = {"CAST", "EXTRACT", "LISTAGG"}


class SimOracle(Oracle):
    """Oracle's grammar with every scalar function left as an anonymous call."""

    class Parser(Oracle.Parser):
        FUNCTIONS = {k: v for k, v in Oracle.Parser.FUNCTIONS.items() if k in _KEEP_FUNCTIONS}
        FUNCTION_PARSERS = {k: v for k, v in Oracle.Parser.FUNCTION_PARSERS.items() if k in _KEEP_PARSERS}


class PositionedError(OraError):
    """An ORA- error with the character offset SQL*Plus marks with ``*``."""

    def __init__(self, code: str, message: str, *more: str, pos: int = 0):
        super().__init__(code, message, *more)
        self.pos = pos


class Env(Protocol):
    """The session a query runs in (implemented by ``context.DbSession``)."""

    def source(self) -> views.Source: ...

    @property
    def fn(self) -> F.FnContext: ...

    def sequence(self, key: str, op: str, src: views.Source) -> int: ...


NOT_FOUND = object()
Binder = Callable[[list[str]], Any]


@dataclass
class Column:
    name: str
    kind: str  # CHAR | NUMBER | DATE | TIMESTAMP
    width: int | None = None  # declared width of a VARCHAR2


@dataclass
class ResultSet:
    columns: list[Column]
    rows: list[tuple]
    changed: int = 0


@dataclass
class _Plan:
    tables: dict[str, views.View | None] = field(default_factory=dict)
    schemas: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    aliases: dict[str, str] = field(default_factory=dict)  # alias/name (upper) -> key


def parse(sql: str) -> exp.Expression:
    try:
        trees = sqlglot.parse(sql, read=SimOracle)
    except ParseError as exc:
        err = exc.errors[0] if exc.errors else {}
        raise PositionedError("ORA-00900", "invalid SQL statement",
                              pos=_offset(sql, err.get("line", 1), err.get("col", 1))) from None
    except SqlglotError:
        raise PositionedError("ORA-00900", "invalid SQL statement") from None
    trees = [t for t in trees if t is not None]
    if len(trees) != 1:
        raise PositionedError("ORA-00911", "invalid character", pos=max(0, sql.find(";")))
    return trees[0]


def _offset(sql: str, line: int, col: int) -> int:
    lines = sql.split("\n")
    return sum(len(x) + 1 for x in lines[:max(0, line - 1)]) + max(0, col - 1)


def find_pos(sql: str, word: str) -> int:
    m = re.search(r"(?<![\w$#])" + re.escape(word) + r"(?![\w$#])", sql, re.I)
    return m.start() if m else 0


def type_kind(decl: str) -> tuple[str, int | None]:
    d = decl.upper()
    if d.startswith("NUMBER") or d.startswith(("INTEGER", "FLOAT", "INT")):
        return "NUMBER", None
    if d.startswith("DATE"):
        return "DATE", None
    if d.startswith("TIMESTAMP"):
        return "TIMESTAMP", None
    m = re.search(r"\((\d+)", d)
    return "CHAR", int(m.group(1)) if m else None


def is_query(tree: exp.Expression) -> bool:
    return isinstance(tree, (exp.Select, exp.Union, exp.Except, exp.Intersect)) or (
        isinstance(tree, exp.Subquery) and is_query(tree.this))


# -- planning: which tables, checks ------------------------------------------------

def _cte_names(tree: exp.Expression) -> set[str]:
    return {c.alias_or_name.upper() for c in tree.find_all(exp.CTE)}


def plan(tree: exp.Expression, src: views.Source, sql: str) -> _Plan:
    p = _Plan()
    ctes = _cte_names(tree)
    for t in tree.find_all(exp.Table):
        name = t.name
        if not name or name.upper() in ctes:
            continue
        key, view = views.lookup(t.db or None, name, src)
        if view is not None:
            views.require(src.inst, view.needs)
            _check_dictionary_access(src, key, sql, name)
            p.schemas[key] = view.columns
        else:
            views.require(src.inst, "open")
            if not views.table_exists(key, src) or not _may_read(src, key):
                raise PositionedError("ORA-00942", "table or view does not exist", pos=find_pos(sql, name))
            p.schemas[key] = views.table_columns(key, src)
        p.tables[key] = view
        p.aliases[(t.alias or name).upper()] = key
        p.aliases[name.upper()] = key
    return p


def _privileges(src: views.Source) -> set[str]:
    return {g["privilege"].upper() for g in src.sidecar.get("grants", [])
            if g.get("grantee", "").upper() == src.user and not g.get("object")}


def _check_dictionary_access(src: views.Source, key: str, sql: str, name: str) -> None:
    if src.sysdba or src.user == "SYS" or key in ("DUAL", "ALL_USERS", "RC_DATABASE"):
        return
    if src.inst.status != "open" or not _privileges(src) & {"SELECT ANY DICTIONARY", "SELECT_CATALOG_ROLE", "DBA"}:
        raise PositionedError("ORA-00942", "table or view does not exist", pos=find_pos(sql, name))


def _may_read(src: views.Source, key: str) -> bool:
    if src.sysdba or src.user == "SYS" or key.startswith(src.user + "."):
        return True
    return bool(_privileges(src) & {"SELECT ANY TABLE", "DBA"})


# -- headings and declared types (from the statement as written) ---------------------

def _first_select(tree: exp.Expression) -> exp.Select | None:
    while isinstance(tree, (exp.Union, exp.Except, exp.Intersect, exp.Subquery)):
        tree = tree.this
    return tree if isinstance(tree, exp.Select) else None


def heading_of(item: exp.Expression) -> str:
    if isinstance(item, exp.Alias):
        ident = item.args["alias"]
        return ident.name if ident.quoted else ident.name.upper()
    if isinstance(item, exp.Column) and not isinstance(item.this, exp.Star):
        return item.this.name if item.this.quoted else item.name.upper()
    text = item.sql(dialect=SimOracle, comments=False)
    return re.sub(r"\s+", "", text).upper()


def _decl(p: _Plan, col: exp.Column) -> tuple[str, str] | None:
    name = col.name.upper()
    keys = [p.aliases[col.table.upper()]] if col.table and col.table.upper() in p.aliases else list(p.schemas)
    for key in keys:
        for cname, ctype in p.schemas.get(key, []):
            if cname.upper() == name:
                return cname, ctype
    return None


def describe(tree: exp.Expression, p: _Plan) -> list[tuple[str, str | None]] | None:
    """(heading, declared type or None) per select item; None when the list has a star."""
    sel = _first_select(tree)
    if sel is None or any(isinstance(i, exp.Star) or isinstance(i, exp.Column) and isinstance(i.this, exp.Star)
                          for i in sel.expressions):
        return None
    out = []
    for item in sel.expressions:
        inner = item.this if isinstance(item, exp.Alias) else item
        decl = _decl(p, inner) if isinstance(inner, exp.Column) else None
        out.append((heading_of(item), decl[1] if decl else None))
    return out


# -- the rewrite ---------------------------------------------------------------------

_COMPARE = (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE)
_OPS = {exp.DPipe: "ORA_CONCAT2", exp.Add: "ORA_ADD", exp.Sub: "ORA_SUB", exp.Mul: "ORA_MUL", exp.Div: "ORA_DIV"}
_ROWNUM = "ROWNUM"


def _call(name: str, *args: exp.Expression) -> exp.Anonymous:
    return exp.Anonymous(this=name, expressions=list(args))


def literal(value: Any) -> exp.Expression:
    if value is None or value == "":
        return exp.Null()
    if isinstance(value, bool):
        raise OraError("ORA-06550", "PLS-00382: expression is of wrong type")
    if isinstance(value, (int, float)):
        return exp.Literal.number(V.number_text(value) if isinstance(value, float) else value)
    if V.is_date(value):
        return _call("ORA_TAGGED", exp.Literal.string(value[0] == V.TS_TAG and "T" or "D"),
                     exp.Literal.string(value[1:]))
    return exp.Literal.string(str(value))


def _column_names(p: _Plan) -> set[str]:
    return {c.upper() for cols in p.schemas.values() for c, _t in cols}


def _select_aliases(tree: exp.Expression) -> set[str]:
    return {a.alias.upper() for a in tree.find_all(exp.Alias) if a.alias}


def _rownum_limits(tree: exp.Expression) -> None:
    """``WHERE ROWNUM <= n`` (as a top-level conjunct) becomes LIMIT n."""
    for sel in list(tree.find_all(exp.Select)):
        where = sel.args.get("where")
        if where is None:
            continue
        conjuncts = list(where.this.flatten()) if isinstance(where.this, exp.And) else [where.this]
        keep, limit = [], None
        for c in conjuncts:
            n = None
            if isinstance(c, (exp.LTE, exp.LT, exp.EQ)) and isinstance(c.this, exp.Column) \
                    and c.this.name.upper() == _ROWNUM and isinstance(c.expression, exp.Literal):
                n = int(float(c.expression.this)) - (1 if isinstance(c, exp.LT) else 0)
                if isinstance(c, exp.EQ):
                    n = 1 if n == 1 else 0
            if n is None:
                keep.append(c)
            else:
                limit = n if limit is None else min(limit, n)
        if limit is not None:
            sel.set("where", exp.Where(this=exp.and_(*keep)) if keep else None)
            sel.limit(max(limit, 0), copy=False)


class Rewriter:
    """Rewrites a parsed statement into SQLite over the built tables."""

    def __init__(self, p: _Plan, src: views.Source, sql: str, binder: Binder | None):
        self.p, self.src, self.sql, self.binder = p, src, sql, binder
        self.columns = _column_names(p)

    def run(self, tree: exp.Expression) -> exp.Expression:
        self.ctes, self.select_aliases = _cte_names(tree), _select_aliases(tree)
        _rownum_limits(tree)
        if tree.find(exp.Connect):
            raise OraError("ORA-03001", "unimplemented feature")
        for node in [*tree.find_all(exp.Lock), *tree.find_all(exp.Hint)]:
            node.pop()  # FOR UPDATE and optimizer hints change no result
        return _post_order(tree, self.fix)

    def fix(self, node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Table) and node.name and node.name.upper() not in self.ctes:
            key, _ = views.lookup(node.db or None, node.name, self.src)
            alias = node.alias or node.name
            return exp.Table(this=exp.to_identifier(key, quoted=True),
                             alias=exp.TableAlias(this=exp.to_identifier(alias.upper(), quoted=True)))
        if isinstance(node, exp.Column) and not isinstance(node.this, exp.Star):
            return self.column(node)
        if isinstance(node, exp.RawString):
            return exp.Literal.string(node.this)
        if isinstance(node, exp.Literal) and node.is_string and node.this == "":
            return exp.Null()
        if isinstance(node, (exp.CurrentTimestamp, exp.CurrentDate)):
            return _call("ORA_SYSDATE")
        if isinstance(node, (exp.Systimestamp, exp.CurrentDatetime)):
            return _call("ORA_SYSTIMESTAMP")
        if type(node) in _OPS:
            return _call(_OPS[type(node)], node.this, node.expression)
        if isinstance(node, exp.Anonymous):
            name = str(node.this).upper()
            if name.startswith("ORA_"):
                return node
            if name not in F.FUNCTIONS:
                raise PositionedError("ORA-00904", f'"{name}": invalid identifier', pos=find_pos(self.sql, name))
            return _call("ORA_" + name, *node.expressions)
        if isinstance(node, exp.Cast):
            return _call("ORA_CAST", node.this, exp.Literal.string(node.args["to"].sql(dialect=SimOracle)))
        if isinstance(node, exp.Extract):
            return _call("ORA_EXTRACT", exp.Literal.string(node.this.name), node.expression)
        if isinstance(node, exp.GroupConcat) and isinstance(node.this, exp.Order):
            node.set("this", node.this.this)  # SQLite 3.40 cannot order inside an aggregate
            return node
        if isinstance(node, _COMPARE):
            left, right = node.this, node.expression
            if _is_str_lit(right) and not isinstance(left, exp.Literal):
                node.set("expression", _call("ORA_COERCE", left.copy(), right))
            elif _is_str_lit(left) and not isinstance(right, exp.Literal):
                node.set("this", _call("ORA_COERCE", right.copy(), left))
        return node

    def column(self, node: exp.Column) -> exp.Expression:
        name, table = node.name.upper(), node.table.upper() if node.table else None
        if node.args.get("join_mark"):
            raise OraError("ORA-03001", "unimplemented feature")
        if table and name in ("NEXTVAL", "CURRVAL"):
            key = f"{node.db.upper() if node.db else self.src.user}.{table}"
            return _call("ORA_SEQ", exp.Literal.string(key), exp.Literal.string(name))
        if table:
            if table in self.p.aliases:
                return exp.Column(this=exp.to_identifier(name, quoted=True),
                                  table=exp.to_identifier(table, quoted=True))
            value = self.binder([table, name]) if self.binder else NOT_FOUND
            if value is not NOT_FOUND:
                return literal(value)
            raise PositionedError("ORA-00904", f'"{table}"."{name}": invalid identifier',
                                  pos=find_pos(self.sql, node.table))
        if name in self.columns or name in self.select_aliases:
            return exp.Column(this=exp.to_identifier(name, quoted=True))
        value = self.binder([name]) if self.binder else NOT_FOUND
        if value is not NOT_FOUND:
            return literal(value)
        if name == "USER":
            return _call("ORA_USER")
        if name == "UID":
            return exp.Literal.number(0)
        if name == _ROWNUM:
            return exp.Window(this=exp.RowNumber())
        raise PositionedError("ORA-00904", f'"{name}": invalid identifier', pos=find_pos(self.sql, node.name))


def _post_order(node: exp.Expression, fn: Callable[[exp.Expression], exp.Expression]) -> exp.Expression:
    """Rewrite children first, then the node (sqlglot's transform does not revisit new nodes)."""
    for key, value in list(node.args.items()):
        if isinstance(value, exp.Expression):
            new = _post_order(value, fn)
            if new is not value:
                node.set(key, new)
        elif isinstance(value, list):
            node.set(key, [_post_order(v, fn) if isinstance(v, exp.Expression) else v for v in value])
    return fn(node)


def _is_str_lit(node: exp.Expression) -> bool:
    return isinstance(node, exp.Literal) and node.is_string and node.this != ""


def _owner(node: exp.Expression) -> exp.Expression | None:
    parent = node.parent
    while parent is not None and not isinstance(parent, exp.Select):
        parent = parent.parent
    return parent


def _in_aggregate(node: exp.Expression, stop: exp.Expression) -> bool:
    parent = node.parent
    while parent is not None and parent is not stop:
        if isinstance(parent, exp.AggFunc) and not isinstance(parent.parent, exp.Window):
            return True
        parent = parent.parent
    return False


def check_grouping(tree: exp.Expression, p: _Plan, sql: str) -> None:
    """Oracle refuses what SQLite allows: bare columns beside aggregates (ORA-00937/00979)."""
    columns = _column_names(p)
    for sel in tree.find_all(exp.Select):
        has_agg = any(_owner(a) is sel and not isinstance(a.parent, exp.Window)
                      for item in sel.expressions for a in item.find_all(exp.AggFunc))
        group = sel.args.get("group")
        if not has_agg and group is None:
            continue
        grouped = {g.sql().upper() for g in group.expressions} if group else set()
        for item in sel.expressions:
            target = item.this if isinstance(item, exp.Alias) else item
            if target.sql().upper() in grouped:
                continue
            for col in target.find_all(exp.Column):
                if _owner(col) is not sel or _in_aggregate(col, sel) or col.name.upper() not in columns:
                    continue
                if col.sql().upper() in grouped or col.name.upper() in {g.split(".")[-1] for g in grouped}:
                    continue
                code = ("ORA-00979", "not a GROUP BY expression") if group else (
                    "ORA-00937", "not a single-group group function")
                raise PositionedError(*code, pos=find_pos(sql, col.name))


# -- running -----------------------------------------------------------------------

class _Engine:
    """One SQLite connection with Oracle's functions registered."""

    def __init__(self, env: Env, src: views.Source):
        self.env, self.src = env, src
        self.error: BaseException | None = None
        self.conn = sqlite3.connect(":memory:")
        self.conn.execute("PRAGMA case_sensitive_like = ON")
        fn = env.fn
        for name, impl in {**F.FUNCTIONS, **F.OPERATORS}.items():
            self.conn.create_function("ORA_" + name, -1, self._wrap(impl, fn))
        self.conn.create_function("ORA_USER", 0, lambda: fn.user)
        self.conn.create_function("ORA_TAGGED", 2, lambda k, v: (V.TS_TAG if k == "T" else V.DATE_TAG) + v)
        self.conn.create_function("ORA_SEQ", 2, self._wrap(lambda _fn, key, op: env.sequence(key, op, src), fn))

    def _wrap(self, impl: Callable[..., Any], fn: F.FnContext) -> Callable[..., Any]:
        def call(*args: Any) -> Any:
            try:
                return impl(fn, *args)
            except TypeError:
                self.error = OraError("ORA-00909", "invalid number of arguments")
                raise
            except Exception as exc:  # kept and re-raised after SQLite gives up
                self.error = exc
                raise
        return call

    def load(self, p: _Plan) -> None:
        for key, view in p.tables.items():
            cols = p.schemas[key]
            names = ", ".join(f'"{c}"' for c, _t in cols)
            self.conn.execute(f'CREATE TABLE "{key}" ({names})')
            rows = view.build(self.src) if view is not None else views.table_rows(key, self.src)
            rows = [tuple(_storable(v, t) for v, (_c, t) in zip(r, cols)) for r in rows]
            if rows:
                marks = ", ".join("?" * len(cols))
                self.conn.executemany(f'INSERT INTO "{key}" VALUES ({marks})', rows)

    def execute(self, sql_text: str, original: str) -> sqlite3.Cursor:
        try:
            return self.conn.execute(sql_text)
        except sqlite3.Error as exc:
            raise self._translate(exc, original) from None

    def _translate(self, exc: sqlite3.Error, sql: str) -> BaseException:
        if self.error is not None:
            return self.error
        msg = str(exc)
        m = re.match(r"no such column: (.+)", msg)
        if m:
            parts = [x.strip('"').upper() for x in m.group(1).split(".")]
            return PositionedError("ORA-00904", ".".join(f'"{x}"' for x in parts) + ": invalid identifier",
                                   pos=find_pos(sql, parts[-1]))
        if "ambiguous column name" in msg:
            return PositionedError("ORA-00918", "column ambiguously defined", pos=find_pos(sql, msg.split(":")[-1]
                                                                                            .strip()))
        if "do not have the same number of result columns" in msg:
            return PositionedError("ORA-01789", "query block has incorrect number of result columns")
        if "sub-select returns" in msg or "row value misused" in msg:
            return PositionedError("ORA-00913", "too many values")
        if "misuse of aggregate" in msg:
            return PositionedError("ORA-00934", "group function is not allowed here")
        return PositionedError("ORA-03001", "unimplemented feature")


def _storable(v: Any, decl: str) -> Any:
    if v == "":
        return None
    if isinstance(v, str) and decl.upper().startswith("NUMBER") and not V.is_date(v):
        try:
            return V.to_number(v)
        except OraError:
            return v
    return v


def _to_sqlite(tree: exp.Expression) -> str:
    try:
        return tree.sql(dialect="sqlite", identify=True, unsupported_level=ErrorLevel.RAISE)
    except SqlglotError:
        raise OraError("ORA-03001", "unimplemented feature") from None


def run_query(env: Env, sql: str, binder: Binder | None = None, src: views.Source | None = None) -> ResultSet:
    """Run a SELECT; column types come from the views' declarations or the values."""
    tree = parse(sql)
    if not is_query(tree):
        raise PositionedError("ORA-00900", "invalid SQL statement")
    for sel in tree.find_all(exp.Select):
        if sel.args.get("from_") is None and sel.args.get("from") is None:
            raise PositionedError("ORA-00923", "FROM keyword not found where expected", pos=len(sql))
    src = src or env.source()
    p = plan(tree, src, sql)
    described = describe(tree, p)
    check_grouping(tree, p, sql)
    engine = _Engine(env, src)
    engine.load(p)
    tree = Rewriter(p, src, sql, binder).run(tree)
    cur = engine.execute(_to_sqlite(tree), sql)
    try:
        rows = [tuple(V.normalize_number(v) if isinstance(v, float) else v for v in r) for r in cur.fetchall()]
    except sqlite3.Error as exc:
        raise engine._translate(exc, sql) from None
    names = [d[0] for d in cur.description]
    columns = []
    for i, name in enumerate(names):
        heading, decl = described[i] if described and i < len(described) else (name.upper(), None)
        if decl is None and not described:
            decl = next((t for cols in p.schemas.values() for c, t in cols if c.upper() == name.upper()), None)
        columns.append(_column(heading, decl, [r[i] for r in rows]))
    return ResultSet(columns, rows)


def _column(heading: str, decl: str | None, vals: list[Any]) -> Column:
    if decl:
        kind, width = type_kind(decl)
        return Column(heading, kind, width)
    sample = next((v for v in vals if v is not None), None)
    if V.is_timestamp(sample):
        return Column(heading, "TIMESTAMP")
    if V.is_date(sample):
        return Column(heading, "DATE")
    if isinstance(sample, (int, float)) and not isinstance(sample, bool):
        return Column(heading, "NUMBER")
    return Column(heading, "CHAR")


# -- DML on tables created through SQL (kept in the sidecar) --------------------------

def run_dml(env: Env, sql: str, src: views.Source, binder: Binder | None = None) -> int:
    """INSERT / UPDATE / DELETE on a sidecar table; the caller holds ``changing()`` and saves."""
    tree = parse(sql)
    if not isinstance(tree, (exp.Insert, exp.Update, exp.Delete)):
        raise PositionedError("ORA-00900", "invalid SQL statement")
    target = tree.this.this if isinstance(tree, exp.Insert) and isinstance(tree.this, exp.Schema) else tree.this
    key, view = views.lookup(target.db or None, target.name, src)
    p = plan(tree, src, sql)
    if view is not None or key not in src.sidecar.get("tables", {}):
        if view is None and views.table_exists(key, src):
            raise OraError("ORA-01031", "insufficient privileges")
        raise PositionedError("ORA-00942", "table or view does not exist", pos=find_pos(sql, target.name))
    engine = _Engine(env, src)
    engine.load(p)
    tree = Rewriter(p, src, sql, binder).run(tree)
    cur = engine.execute(_to_sqlite(tree), sql)
    changed = cur.rowcount
    cols = p.schemas[key]
    rows = engine.conn.execute(f'SELECT * FROM "{key}"').fetchall()
    src.sidecar["tables"][key]["rows"] = [[V.to_db_text(_check_width(v, t, c)) for v, (c, t) in zip(r, cols)]
                                          for r in rows]
    return changed


def _check_width(v: Any, decl: str, col: str) -> Any:
    kind, width = type_kind(decl)
    if kind == "CHAR" and width and isinstance(v, str) and len(v) > width:
        raise OraError("ORA-12899", f'value too large for column "{col}" (actual: {len(v)}, maximum: {width})')
    if kind == "NUMBER" and v is not None and not isinstance(v, (int, float)):
        return V.to_number(v)
    return v
