"""The simulated SQL*Plus shell: the command loop, SQL*Plus's own commands and its output layout.

``client.main`` reads a script from stdin (and ``@file``), runs SQL*Plus
commands itself (``commands``, ``commands_show``), hands SQL to the Oracle SQL
engine (``oracle_sim.sql``) and PL/SQL blocks to the interpreter
(``oracle_sim.plsql``), and lays results out the way SQL*Plus 12.1 prints them
(``format``, ``output``).
"""
