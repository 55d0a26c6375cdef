"""The PL/SQL syntax tree the parser builds and the interpreter walks.

Every node keeps the line and column it starts at: compile errors and
``ORA-06512: at line N`` report them.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Node:
    line: int = 0
    col: int = 0


@dataclass
class Lit(Node):
    value: Any = None


@dataclass
class Name(Node):
    parts: list[str] = field(default_factory=list)


@dataclass
class Call(Node):
    parts: list[str] = field(default_factory=list)
    args: list[tuple[str | None, Any]] = field(default_factory=list)


@dataclass
class Attr(Node):
    parts: list[str] = field(default_factory=list)
    attr: str = ""


@dataclass
class Unary(Node):
    op: str = ""
    expr: Any = None


@dataclass
class Binary(Node):
    op: str = ""
    left: Any = None
    right: Any = None


@dataclass
class Pred(Node):
    """IS NULL / LIKE / BETWEEN / IN; ``args`` holds the other operands."""

    kind: str = ""
    expr: Any = None
    args: list[Any] = field(default_factory=list)
    negate: bool = False


@dataclass
class CaseExpr(Node):
    operand: Any = None
    whens: list[tuple[Any, Any]] = field(default_factory=list)
    default: Any = None


@dataclass
class TypeSpec:
    base: str = "VARCHAR2"
    size: int | None = None
    anchor: list[str] | None = None  # x.y%TYPE


@dataclass
class VarDecl(Node):
    name: str = ""
    type: TypeSpec = field(default_factory=TypeSpec)
    default: Any = None
    constant: bool = False


@dataclass
class Param:
    name: str
    mode: str
    type: TypeSpec
    default: Any = None


@dataclass
class SubprogramDecl(Node):
    name: str = ""
    params: list[Param] = field(default_factory=list)
    returns: TypeSpec | None = None
    block: Block | None = None
    is_function: bool = False


@dataclass
class CursorDecl(Node):
    name: str = ""
    params: list[Param] = field(default_factory=list)
    sql: str = ""


@dataclass
class ExceptionDecl(Node):
    name: str = ""
    code: int | None = None


@dataclass
class Handler(Node):
    names: list[str] = field(default_factory=list)
    body: list[Any] = field(default_factory=list)


@dataclass
class Block(Node):
    decls: list[Any] = field(default_factory=list)
    body: list[Any] = field(default_factory=list)
    handlers: list[Handler] = field(default_factory=list)


@dataclass
class Assign(Node):
    target: Name | None = None
    expr: Any = None


@dataclass
class If(Node):
    branches: list[tuple[Any, list[Any]]] = field(default_factory=list)
    else_body: list[Any] | None = None


@dataclass
class ForRange(Node):
    var: str = ""
    low: Any = None
    high: Any = None
    reverse: bool = False
    body: list[Any] = field(default_factory=list)


@dataclass
class ForQuery(Node):
    var: str = ""
    sql: str | None = None
    cursor: str | None = None
    cursor_args: list[tuple[str | None, Any]] = field(default_factory=list)
    body: list[Any] = field(default_factory=list)


@dataclass
class While(Node):
    cond: Any = None
    body: list[Any] = field(default_factory=list)


@dataclass
class Loop(Node):
    body: list[Any] = field(default_factory=list)


@dataclass
class Exit(Node):
    cond: Any = None
    is_continue: bool = False


@dataclass
class NullStmt(Node):
    pass


@dataclass
class Return(Node):
    expr: Any = None


@dataclass
class Raise(Node):
    name: str | None = None


@dataclass
class ExecImmediate(Node):
    expr: Any = None
    into: list[Name] = field(default_factory=list)
    using: list[Any] = field(default_factory=list)


@dataclass
class SqlStmt(Node):
    sql: str = ""
    into: list[Name] = field(default_factory=list)
    verb: str = ""


@dataclass
class CallStmt(Node):
    call: Call | Name | None = None


