"""The simulator's PL/SQL: lexer, parser, AST, compile-time checks, interpreter."""
