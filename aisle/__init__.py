"""The top of Aisle: the ``aisle`` command and the app-level benchmarks.

It sits above every other package (ui, eval, the app, the libraries) and nothing imports it, so the
command may dispatch to any of them without an upward import.
"""
