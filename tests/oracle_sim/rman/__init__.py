"""The simulated RMAN client (``bin/rman``).

Reads a script on stdin (or ``cmdfile``) like the real client: ``RMAN>``
prompts, numbered continuation lines, echo when ``set echo on``, output to
stdout or ``log <file> [append]``.  Statements go through a tokenizer
(:mod:`.lexer`) and a recursive-descent parser (:mod:`.parser`) into
statement objects (:mod:`.statements`) that the command modules execute
against the simulated database engine (``oracle_sim.database`` and friends).

Modules:

* ``lexer`` / ``parser`` / ``statements`` -- the grammar;
* ``context`` -- the session: connections, channels, formats, errors;
* ``output`` -- the output sink, error stacks, dates;
* ``cmd_*`` -- one module per family of commands;
* ``client`` -- ``main(argv, home, prog)``: argv, the read-eval loop.
"""
