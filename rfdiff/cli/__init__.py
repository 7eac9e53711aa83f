"""The ``rfdiff`` command line: one module per subcommand, registered by :mod:`.main`."""

from .main import console_main, main

__all__ = ["console_main", "main"]
