"""PL/SQL lexer and parser for the subset the toolset sends.

Blocks with declarations (variables, constants, %TYPE, local functions and
procedures, cursors, exceptions), assignments, IF/ELSIF/ELSE, the loops
(numeric FOR, cursor FOR over a query, WHILE, LOOP/EXIT), EXECUTE IMMEDIATE,
SELECT ... INTO and other embedded SQL (kept as text for the SQL engine),
procedure calls with positional and ``=>`` arguments, RETURN, RAISE, nested
blocks and exception handlers.  Anything else is a syntax error (PLS-00103),
reported with Oracle's line and column.
"""
from __future__ import annotations

from typing import Any

from .lexer import PlsqlSyntaxError, Tok, lex
from .nodes import (
    Assign,
    Attr,
    Binary,
    Block,
    Call,
    CallStmt,
    CaseExpr,
    CursorDecl,
    ExceptionDecl,
    ExecImmediate,
    Exit,
    ForQuery,
    ForRange,
    Handler,
    If,
    Lit,
    Loop,
    Name,
    NullStmt,
    Param,
    Pred,
    Raise,
    Return,
    SqlStmt,
    SubprogramDecl,
    TypeSpec,
    Unary,
    VarDecl,
    While,
)

__all__ = ["Parser", "PlsqlSyntaxError", "Tok", "parse_block", "parse_subprogram"]

_SQL_VERBS = {"SELECT", "WITH", "INSERT", "UPDATE", "DELETE", "MERGE", "COMMIT", "ROLLBACK", "SAVEPOINT", "LOCK"}
_END_WORDS = {"END", "ELSIF", "ELSE", "EXCEPTION", "WHEN"}
_CMP = {"=", "<>", "!=", "^=", "~=", "<", ">", "<=", ">="}


class Parser:
    def __init__(self, src: str):
        self.src = src
        self.toks = lex(src)
        self.i = 0

    # -- token helpers -----------------------------------------------------------
    @property
    def tok(self) -> Tok:
        return self.toks[self.i]

    def peek(self, k: int = 1) -> Tok:
        return self.toks[min(self.i + k, len(self.toks) - 1)]

    def is_(self, *words: str) -> bool:
        t = self.tok
        return (t.kind == "ID" and t.value in words) or (t.kind == "OP" and t.value in words)

    def accept(self, *words: str) -> Tok | None:
        if self.is_(*words):
            t = self.tok
            self.i += 1
            return t
        return None

    def expect(self, *words: str) -> Tok:
        t = self.accept(*words)
        if t is None:
            self.fail(" ".join(w.lower() if w.isalpha() else w for w in words))
        return t

    def ident(self) -> str:
        t = self.tok
        if t.kind == "ID" or t.kind == "QID":
            self.i += 1
            return t.value
        self.fail("an identifier")
        raise AssertionError

    def fail(self, expecting: str) -> None:
        t = self.tok
        sym = "end-of-file" if t.kind == "EOF" else str(t.value) if t.kind != "STR" else t.value
        raise PlsqlSyntaxError(t.line, t.col, [
            f'PLS-00103: Encountered the symbol "{sym}" when expecting one of the following:', "",
            f"   {expecting}"])

    # -- blocks ----------------------------------------------------------------------
    def parse_anonymous(self) -> Block:
        block = self.block()
        self.accept(";")
        if self.tok.kind != "EOF":
            self.fail("end-of-file")
        return block

    def block(self, decl_keyword: bool = True) -> Block:
        t = self.tok
        decls: list[Any] = []
        if decl_keyword and self.accept("DECLARE"):
            decls = self.declarations()
        elif not decl_keyword:
            decls = self.declarations()
        self.expect("BEGIN")
        body = self.statements()
        handlers = []
        if self.accept("EXCEPTION"):
            while self.is_("WHEN"):
                ht = self.expect("WHEN")
                names = [".".join(self.dotted())]
                while self.accept("OR"):
                    names.append(".".join(self.dotted()))
                self.expect("THEN")
                handlers.append(Handler(ht.line, ht.col, names, self.statements()))
        self.expect("END")
        if self.tok.kind == "ID" and self.tok.value not in ("IF", "LOOP"):
            self.i += 1  # END name
        return Block(t.line, t.col, decls, body, handlers)

    def declarations(self) -> list[Any]:
        decls: list[Any] = []
        while not self.is_("BEGIN") and self.tok.kind != "EOF":
            t = self.tok
            if self.accept("PRAGMA"):
                self.ident()
                self.expect("(")
                name = self.ident()
                self.expect(",")
                neg = -1 if self.accept("-") else 1
                code = self.tok.value * neg
                self.i += 1
                self.expect(")")
                self.expect(";")
                for d in decls:
                    if isinstance(d, ExceptionDecl) and d.name == name:
                        d.code = code
                continue
            if self.is_("FUNCTION", "PROCEDURE"):
                decls.append(self.subprogram())
                continue
            if self.accept("CURSOR"):
                name = self.ident()
                params = self.params() if self.is_("(") else []
                self.expect("IS")
                sql, _into, _verb = self.sql_text()
                decls.append(CursorDecl(t.line, t.col, name, params, sql))
                continue
            if self.is_("TYPE", "SUBTYPE"):
                self.fail("a declaration supported by the simulator")
            name = self.ident()
            if self.accept("EXCEPTION"):
                self.expect(";")
                decls.append(ExceptionDecl(t.line, t.col, name))
                continue
            constant = bool(self.accept("CONSTANT"))
            spec = self.type_spec()
            if self.accept("NOT"):
                self.expect("NULL")
            default = self.expr() if self.accept(":=", "DEFAULT") else None
            self.expect(";")
            decls.append(VarDecl(t.line, t.col, name, spec, default, constant))
        return decls

    def subprogram(self) -> SubprogramDecl:
        t = self.tok
        is_function = self.expect("FUNCTION", "PROCEDURE").value == "FUNCTION"
        name = self.ident()
        params = self.params() if self.is_("(") else []
        returns = None
        if is_function:
            self.expect("RETURN")
            returns = self.type_spec()
        if self.accept(";"):
            return SubprogramDecl(t.line, t.col, name, params, returns, None, is_function)
        self.expect("IS", "AS")
        block = self.block(decl_keyword=False)
        self.expect(";")
        return SubprogramDecl(t.line, t.col, name, params, returns, block, is_function)

    def params(self) -> list[Param]:
        self.expect("(")
        out = []
        while True:
            name = self.ident()
            mode = "IN"
            if self.accept("IN"):
                mode = "IN OUT" if self.accept("OUT") else "IN"
            elif self.accept("OUT"):
                mode = "OUT"
            self.accept("NOCOPY")
            spec = self.type_spec()
            default = self.expr() if self.accept(":=", "DEFAULT") else None
            out.append(Param(name, mode, spec, default))
            if not self.accept(","):
                break
        self.expect(")")
        return out

    def type_spec(self) -> TypeSpec:
        parts = self.dotted()
        if self.accept("%"):
            self.expect("TYPE", "ROWTYPE")
            return TypeSpec("ANCHORED", None, parts)
        base = " ".join(parts)
        size = None
        if self.accept("("):
            size = self.tok.value if self.tok.kind == "NUM" else None
            self.i += 1
            if self.accept(","):
                self.i += 1
            self.accept("BYTE", "CHAR")
            self.expect(")")
        while self.is_("WITH", "LOCAL", "TIME", "ZONE") and base.startswith("TIMESTAMP"):
            self.i += 1
        return TypeSpec(base, size)

    def dotted(self) -> list[str]:
        parts = [self.ident()]
        while self.is_(".") and self.peek().kind in ("ID", "QID"):
            self.i += 1
            parts.append(self.ident())
        return parts

    # -- statements ------------------------------------------------------------------
    def statements(self) -> list[Any]:
        out = []
        while not self.is_(*_END_WORDS) and self.tok.kind != "EOF":
            out.append(self.statement())
        if not out:
            self.fail("begin case declare exit for goto if loop mod null pragma raise return select update "
                      "while with <an identifier>")
        return out

    def statement(self) -> Any:
        while self.accept("<<"):
            self.ident()
            self.expect(">>")
        t = self.tok
        if t.kind == "ID":
            word = t.value
            if word == "NULL" and self.peek().value == ";":
                self.i += 2
                return NullStmt(t.line, t.col)
            if word in ("DECLARE", "BEGIN"):
                block = self.block()
                self.expect(";")
                return block
            if word == "IF":
                return self.if_stmt()
            if word == "FOR":
                return self.for_stmt()
            if word == "WHILE":
                self.i += 1
                cond = self.expr()
                return While(t.line, t.col, cond, self.loop_body())
            if word == "LOOP":
                return Loop(t.line, t.col, self.loop_body())
            if word in ("EXIT", "CONTINUE"):
                self.i += 1
                if self.tok.kind == "ID" and self.tok.value != "WHEN":
                    self.i += 1  # loop label
                cond = self.expr() if self.accept("WHEN") else None
                self.expect(";")
                return Exit(t.line, t.col, cond, word == "CONTINUE")
            if word == "RETURN":
                self.i += 1
                expr = None if self.is_(";") else self.expr()
                self.expect(";")
                return Return(t.line, t.col, expr)
            if word == "RAISE":
                self.i += 1
                name = None if self.is_(";") else ".".join(self.dotted())
                self.expect(";")
                return Raise(t.line, t.col, name)
            if word == "EXECUTE" and self.peek().value == "IMMEDIATE":
                return self.exec_immediate()
            if word in _SQL_VERBS:
                sql, into, verb = self.sql_text()
                return SqlStmt(t.line, t.col, sql, into, verb)
            if word in ("OPEN", "FETCH", "CLOSE", "GOTO", "CASE", "FORALL", "PIPE"):
                self.fail("a statement supported by the simulator")
        if t.kind not in ("ID", "QID"):
            self.fail("begin case declare exit for goto if loop mod null pragma raise return select update "
                      "while with <an identifier>")
        target = self.name_ref()
        if self.accept(":="):
            if not isinstance(target, Name):
                self.fail(":= . ( @ % ;")
            expr = self.expr()
            self.expect(";")
            return Assign(t.line, t.col, target, expr)
        self.expect(";")
        return CallStmt(t.line, t.col, target)

    def loop_body(self) -> list[Any]:
        self.expect("LOOP")
        body = self.statements()
        self.expect("END")
        self.expect("LOOP")
        if self.tok.kind == "ID":
            self.i += 1
        self.expect(";")
        return body

    def if_stmt(self) -> If:
        t = self.expect("IF")
        branches = [(self.expr(), self._then())]
        else_body = None
        while True:
            if self.accept("ELSIF"):
                branches.append((self.expr(), self._then()))
            elif self.accept("ELSE"):
                else_body = self.statements()
            else:
                break
        self.expect("END")
        self.expect("IF")
        self.expect(";")
        return If(t.line, t.col, branches, else_body)

    def _then(self) -> list[Any]:
        self.expect("THEN")
        return self.statements()

    def for_stmt(self) -> Any:
        t = self.expect("FOR")
        var = self.ident()
        self.expect("IN")
        if self.is_("(") and self.peek().kind == "ID" and self.peek().value in ("SELECT", "WITH"):
            open_tok = self.expect("(")
            depth, j = 1, self.i
            while depth:
                tk = self.toks[j]
                if tk.kind == "EOF":
                    self.fail(")")
                depth += (tk.value == "(") - (tk.value == ")") if tk.kind == "OP" else 0
                j += 1
            sql = self.src[open_tok.end:self.toks[j - 1].pos]
            self.i = j
            return ForQuery(t.line, t.col, var, sql, None, [], self.loop_body())
        reverse = bool(self.accept("REVERSE"))
        if self.tok.kind == "ID" and self.peek().value != ".." and not reverse:
            save = self.i
            ref = self.name_ref()
            if self.is_("LOOP"):
                args = ref.args if isinstance(ref, Call) else []
                return ForQuery(t.line, t.col, var, None, ".".join(ref.parts), args, self.loop_body())
            self.i = save
        low = self.expr()
        self.expect("..")
        high = self.expr()
        return ForRange(t.line, t.col, var, low, high, reverse, self.loop_body())

    def exec_immediate(self) -> ExecImmediate:
        t = self.expect("EXECUTE")
        self.expect("IMMEDIATE")
        expr = self.expr()
        into, using = [], []
        if self.accept("INTO"):
            into = [Name(self.tok.line, self.tok.col, self.dotted())]
            while self.accept(","):
                into.append(Name(self.tok.line, self.tok.col, self.dotted()))
        if self.accept("USING"):
            while True:
                self.accept("IN")
                using.append(self.expr())
                if not self.accept(","):
                    break
        self.expect(";")
        return ExecImmediate(t.line, t.col, expr, into, using)

    def sql_text(self) -> tuple[str, list[Name], str]:
        """Embedded SQL up to ';' as text, with a SELECT's INTO list taken out."""
        start = self.tok
        verb = start.value
        depth, into, cut = 0, [], None
        while True:
            t = self.tok
            if t.kind == "EOF":
                self.fail(";")
            if t.kind == "OP" and t.value in "()":
                depth += 1 if t.value == "(" else -1
            if t.kind == "OP" and t.value == ";" and depth == 0:
                break
            if t.kind == "ID" and t.value == "BULK" and depth == 0:
                self.fail("a statement supported by the simulator (no BULK COLLECT)")
            if t.kind == "ID" and t.value == "INTO" and depth == 0 and verb in ("SELECT", "WITH") and cut is None:
                self.i += 1
                into = [Name(self.tok.line, self.tok.col, self.dotted())]
                while self.accept(","):
                    into.append(Name(self.tok.line, self.tok.col, self.dotted()))
                cut = (t.pos, self.tok.pos)
                continue
            self.i += 1
        end = self.tok.pos
        self.i += 1
        sql = self.src[start.pos:end]
        if cut:
            sql = self.src[start.pos:cut[0]] + " " + self.src[cut[1]:end]
        return sql, into, verb

    # -- expressions ---------------------------------------------------------------------
    def expr(self) -> Any:
        left = self.and_expr()
        while self.is_("OR"):
            t = self.expect("OR")
            left = Binary(t.line, t.col, "OR", left, self.and_expr())
        return left

    def and_expr(self) -> Any:
        left = self.not_expr()
        while self.is_("AND"):
            t = self.expect("AND")
            left = Binary(t.line, t.col, "AND", left, self.not_expr())
        return left

    def not_expr(self) -> Any:
        if self.is_("NOT"):
            t = self.expect("NOT")
            return Unary(t.line, t.col, "NOT", self.not_expr())
        return self.comparison()

    def comparison(self) -> Any:
        left = self.additive()
        t = self.tok
        if t.kind == "OP" and t.value in _CMP:
            self.i += 1
            return Binary(t.line, t.col, t.value, left, self.additive())
        if self.accept("IS"):
            negate = bool(self.accept("NOT"))
            self.expect("NULL")
            return Pred(t.line, t.col, "ISNULL", left, [], negate)
        negate = bool(self.accept("NOT"))
        if self.accept("LIKE"):
            pattern = self.additive()
            esc = self.additive() if self.accept("ESCAPE") else None
            return Pred(t.line, t.col, "LIKE", left, [pattern, esc], negate)
        if self.accept("BETWEEN"):
            low = self.additive()
            self.expect("AND")
            return Pred(t.line, t.col, "BETWEEN", left, [low, self.additive()], negate)
        if self.accept("IN"):
            self.expect("(")
            items = [self.expr()]
            while self.accept(","):
                items.append(self.expr())
            self.expect(")")
            return Pred(t.line, t.col, "IN", left, items, negate)
        if negate:
            self.fail("like between in")
        return left

    def additive(self) -> Any:
        left = self.multiplicative()
        while self.is_("+", "-", "||"):
            t = self.tok
            self.i += 1
            left = Binary(t.line, t.col, t.value, left, self.multiplicative())
        return left

    def multiplicative(self) -> Any:
        left = self.unary()
        while self.is_("*", "/", "MOD"):
            t = self.tok
            self.i += 1
            left = Binary(t.line, t.col, t.value, left, self.unary())
        return left

    def unary(self) -> Any:
        if self.is_("-", "+"):
            t = self.tok
            self.i += 1
            return Unary(t.line, t.col, t.value, self.unary())
        base = self.primary()
        if self.is_("**"):
            t = self.expect("**")
            return Binary(t.line, t.col, "**", base, self.unary())
        return base

    def primary(self) -> Any:
        t = self.tok
        if t.kind == "NUM" or t.kind == "STR":
            self.i += 1
            return Lit(t.line, t.col, t.value if t.value != "" else None)
        if t.kind == "ID" and t.value in ("NULL", "TRUE", "FALSE"):
            self.i += 1
            return Lit(t.line, t.col, {"NULL": None, "TRUE": True, "FALSE": False}[t.value])
        if self.accept("("):
            e = self.expr()
            self.expect(")")
            return e
        if t.kind == "ID" and t.value == "CASE":
            return self.case_expr()
        if t.kind in ("ID", "QID") and (t.kind == "QID" or t.value not in _END_WORDS | {"THEN", "LOOP", "AND", "OR"}):
            return self.name_ref()
        self.fail("( - + case mod new not null <an identifier> <a double-quoted delimited-identifier> "
                  "<a bind variable> <a number> <a single-quoted SQL string>")

    def case_expr(self) -> CaseExpr:
        t = self.expect("CASE")
        operand = None if self.is_("WHEN") else self.expr()
        whens = []
        while self.accept("WHEN"):
            cond = self.expr()
            self.expect("THEN")
            whens.append((cond, self.expr()))
        default = self.expr() if self.accept("ELSE") else None
        self.expect("END")
        return CaseExpr(t.line, t.col, operand, whens, default)

    def name_ref(self) -> Any:
        t = self.tok
        parts = self.dotted()
        if self.accept("%"):
            attr = self.ident()
            return Attr(t.line, t.col, parts, attr)
        if self.is_("("):
            self.i += 1
            args: list[tuple[str | None, Any]] = []
            if not self.accept(")"):
                while True:
                    name = None
                    if self.tok.kind == "ID" and self.peek().value == "=>":
                        name = self.ident()
                        self.i += 1
                    args.append((name, self.expr()))
                    if not self.accept(","):
                        break
                self.expect(")")
            return Call(t.line, t.col, parts, args)
        return Name(t.line, t.col, parts)


def parse_block(src: str) -> Block:
    return Parser(src).parse_anonymous()


def parse_subprogram(src: str) -> SubprogramDecl:
    """``PROCEDURE name (...) IS ... END;`` as stored by CREATE PROCEDURE."""
    p = Parser(src)
    t = p.tok
    is_function = p.expect("PROCEDURE", "FUNCTION").value == "FUNCTION"
    parts = p.dotted()
    params = p.params() if p.is_("(") else []
    returns = None
    if is_function:
        p.expect("RETURN")
        returns = p.type_spec()
    p.expect("IS", "AS")
    block = p.block(decl_keyword=False)
    p.accept(";")
    if p.tok.kind != "EOF":
        p.fail("end-of-file")
    return SubprogramDecl(t.line, t.col, parts[-1], params, returns, block, is_function)
