"""The grader: ``python -m bplib.grade SUBMISSIONS/ --out grades.csv``.

It runs every returned notebook in a fresh kernel, with a per-cell timeout, several
notebooks at a time, and writes one row per student (per student and chapter when each
student hands in a folder of notebooks) and one column per exercise, each holding
``Correct``, ``Not yet: <diagnosis>``, ``error: <exception type>``, ``timeout`` or
``missing: <names>``; a score column counts the correct answers. ``python -m bplib.grade
--help`` lists the options.

The verdicts come from the answer keys of :mod:`bplib.exercises`, never from the
notebook's own check cells or definitions. At each exercise's check cell (found by the
exercise's name, ``check("3.1", ...)``) the grader runs a cell of its own in the student's
kernel: it drops every ``bplib.exercises`` module the notebook may have imported or
patched, loads the keys again from their files, reads the key's signature (the names of
the notebook variables it takes), fetches those variables from the notebook's globals and
prints the key's verdict behind a marker that changes with every run. A student who
redefines ``check``, edits a check cell to pass a constant or patches the key module gets
the verdict of the answers their notebook holds.

How each case is decided:

- the notebook runs as written, its own check cells included (what they print does not
  count): the grader's cell runs right after each check cell;
- a deleted check cell: the exercise is graded where the cell was (after the nearest
  earlier cell of the chapter that is still there, found by cell id in the book's full
  edition), or at the end of the notebook if no such cell is left;
- a cell that raises does not stop the run; an exercise whose cells (those since the
  previous exercise's check, check cells and cells tagged ``raises-exception`` apart)
  raised and whose answer is not correct gets ``error: <exception type>``;
- a cell that runs longer than the per-cell timeout is interrupted and the run goes on;
  an exercise whose cells timed out and whose answer is not correct gets ``timeout``.
  If the kernel does not come back from the interrupt, or the notebook runs past its
  total time budget, every exercise not graded yet gets ``timeout``; if the kernel dies,
  ``error: kernel died``;
- an answer variable that does not exist gets ``missing: <names>``; a stub (``...``) gets
  the checks' "Not yet: write your answer in the cell above".

The grader is not a sandbox: it runs the students' code with the rights of the user who
runs it, and a student who sets out to can read files, write files, or reach into the
kernel's Python (numpy, the import system) to fool a verdict. It protects against
mistakes and against tampering with the notebook's checks, not against attacks.
"""
