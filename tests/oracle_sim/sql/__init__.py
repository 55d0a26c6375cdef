"""The simulator's Oracle SQL engine: statements, queries, views, functions, DDL, privileges, the scheduler."""
