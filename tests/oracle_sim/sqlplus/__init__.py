"""The simulated SQL*Plus: a command loop over a small Oracle SQL and PL/SQL engine.

``client.main`` reads a script from stdin (and ``@file``), runs SQL*Plus
commands itself, answers SELECTs from an in-memory SQLite database built from
the simulated instance's state (``views``, ``query``), runs the DDL the
toolset needs against the engine (``statements``) and interprets a subset of
PL/SQL (``plsql_parse``, ``plsql``, ``scheduler``).  Output is laid out the way
SQL*Plus 12.1 prints it (``format``).
"""
