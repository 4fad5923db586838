"""The bad-input probe's cases, by area of the library.

``common.py`` holds the machinery (the ``Case`` type, the probe inputs, the generated
battery); each other module holds one area's rows (``ROWS``) and known-good calls
(``SPECS``); ``table.py`` gathers them into the one ``TABLE`` that ``tests/test_probe.py``
runs. A new public callable's rows go into the module of its area; a new area is a new
module here, added to ``table.AREAS``.
"""
