"""A simulated Oracle home for the tests and the demo.

No Oracle database can run on the machines this project is tested on, so this
package stands in for one, honestly: datafiles are files of fixed-size blocks
with checksums, every change is a redo record, log switches write archivelogs
to every enabled destination, and RMAN recovery replays those records.  The
executables in ``<home>/bin`` (``rman``, ``sqlplus``, ...) read their scripts
from stdin like the real ones and print output shaped like Oracle 12.1's.

The product code never imports this package; it only runs the executables.
See README.md beside this file for what is modelled and what is not.
"""
