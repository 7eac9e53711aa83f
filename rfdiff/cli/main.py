"""Command-line interface: ``rfdiff SUBCOMMAND [flags]`` (also ``python -m rfdiff``).

Layout of :mod:`rfdiff.cli`:

- ``main.py`` (this module) builds the ``rfdiff`` parser from the subcommand modules and
  turns argument errors into one line ``rfdiff: error: ...`` with exit status 2, never a
  traceback;
- one module per subcommand (``coefficients.py``, ``simulate.py``, ``spectrum.py``,
  ``curves.py``, ``timescales.py``, ``phase_diagram.py``, ``generate.py``, ``report.py``),
  each exposing ``register(subparsers)``, which adds its parser and sets ``func``;
  ``func(args)`` computes, then hands its JSON-ready result to :func:`._common.emit`;
- ``_common.py``: what the subcommands share (the model and output flags, the argument
  types of dimensions and seeds, the grids, the JSON encoding and :func:`._common.emit`,
  which adds the ``parameters`` block, writes ``--plot FILE`` and prints the result,
  as JSON with ``--json``).

Imports go one way: this module imports the subcommands, the subcommands import
``_common``, and ``_common`` imports neither.
"""

from __future__ import annotations

import os
import sys

from . import (coefficients, curves, generate, phase_diagram, report, simulate, spectrum,
               timescales)
from ._common import ArgumentError, Parser, common_parser

__all__ = ["main", "console_main", "build_parser", "common_parser"]

SUBCOMMANDS = (coefficients, simulate, spectrum, curves, timescales, phase_diagram, generate,
               report)


def build_parser() -> Parser:
    """The ``rfdiff`` parser with every subcommand registered."""
    parser = Parser(prog="rfdiff", description=__doc__.splitlines()[0])
    subparsers = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    for module in SUBCOMMANDS:
        module.register(subparsers)
    return parser


def main(argv=None) -> int:
    """Run one command line.

    Args:
        argv: the arguments after ``rfdiff`` (default ``sys.argv[1:]``).

    Returns:
        The exit status: 0, or 2 after a one-line ``rfdiff: error: ...`` on stderr for bad
        arguments.
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        return args.func(args)
    except (ArgumentError, ValueError) as err:
        print(f"rfdiff: error: {err}", file=sys.stderr)
        return 2


def _one_cpu_device_per_core() -> None:
    # One JAX CPU device runs a batch on one thread; the batched theory (phase maps) splits
    # its batches over all devices. A command-line process is ours, so it asks for one CPU
    # device per core; importing rfdiff or calling main() never changes JAX's settings.
    if os.environ.get("JAX_NUM_CPU_DEVICES") or \
            "xla_force_host_platform_device_count" in os.environ.get("XLA_FLAGS", ""):
        return  # the user chose
    import jax

    try:
        jax.config.update("jax_num_cpu_devices", max(1, os.cpu_count() or 1))
    except RuntimeError:
        pass  # JAX is already running in this process: keep its devices


def console_main() -> int:
    """Process entry point (``rfdiff``, ``python -m rfdiff``): :func:`main` with one JAX
    CPU device per core."""
    _one_cpu_device_per_core()
    return main()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(console_main())
