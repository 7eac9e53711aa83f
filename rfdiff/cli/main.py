"""Command-line interface: ``rfdiff SUBCOMMAND [flags]`` (also ``python -m rfdiff``).

Layout of :mod:`rfdiff.cli`:

- ``main.py`` (this module) builds the ``rfdiff`` parser from the subcommand modules and
  turns argument errors into one line ``rfdiff: error: ...`` with exit status 2, never a
  traceback;
- one module per subcommand (``coefficients.py``, ``simulate.py``, ``spectrum.py``,
  ``curves.py``, ``timescales.py``, ``phase_diagram.py``, ``generate.py``, ``report.py``,
  ``validate.py``),
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
import traceback
import warnings

from . import (coefficients, curves, generate, phase_diagram, report, simulate, spectrum,
               timescales, validate)
from ._common import ArgumentError, Parser, common_parser

__all__ = ["main", "console_main", "build_parser", "common_parser"]

SUBCOMMANDS = (coefficients, simulate, spectrum, curves, timescales, phase_diagram, generate,
               report, validate)


def build_parser() -> Parser:
    """The ``rfdiff`` parser with every subcommand registered."""
    parser = Parser(prog="rfdiff", description=__doc__.splitlines()[0])
    # also accepted after the subcommand (its own --quiet, --debug); a distinct dest, since
    # a subcommand's defaults would overwrite the value given before it
    parser.add_argument("--quiet", dest="global_quiet", action="store_true",
                        help="no progress display on stderr")
    parser.add_argument("--debug", dest="global_debug", action="store_true",
                        help="show the traceback of an unexpected internal error")
    parser.add_argument("--no-cache", action="store_true",
                        help="do not use the persistent compilation cache (also: "
                             f"{NO_CACHE_ENV}=1); the cache lives in {cache_dir()}")
    subparsers = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    for module in SUBCOMMANDS:
        module.register(subparsers)
    return parser


def _user_error(err: BaseException) -> bool:
    # ValueError (MemoryPlanError included) is how every check of rfdiff reports bad input
    return isinstance(err, ArgumentError | ValueError)


def main(argv=None) -> int:
    """Run one command line.

    Args:
        argv: the arguments after ``rfdiff`` (default ``sys.argv[1:]``).

    Returns:
        The exit status: 0; 2 after a one-line ``rfdiff: error: ...`` on stderr for bad
        arguments; 1 after a one-line ``rfdiff: internal error: ...`` for an unexpected
        failure (its traceback with ``--debug``); 130 on an interrupt.
    """
    parser = build_parser()
    debug = "--debug" in (sys.argv[1:] if argv is None else argv)
    try:
        args = parser.parse_args(argv)
        args.quiet = args.quiet or args.global_quiet
        debug = args.debug or args.global_debug
        with warnings.catch_warnings():
            warnings.showwarning = _show_warning
            return args.func(args)
    except KeyboardInterrupt:
        print("rfdiff: interrupted", file=sys.stderr)
        return 130
    except Exception as err:  # every failure ends in one line; the trace only on request
        if _user_error(err) and not debug:
            print(f"rfdiff: error: {_one_line(err)}", file=sys.stderr)
            return 2
        if debug:
            traceback.print_exc()
        kind = "error" if _user_error(err) else "internal error"
        print(f"rfdiff: {kind}: {type(err).__name__}: {_one_line(err)}"
              + ("" if debug else " (run with --debug for the traceback)"), file=sys.stderr)
        return 2 if _user_error(err) else 1


def _show_warning(message, category, filename, lineno, file=None, line=None):
    # a warning of the library is one line on stderr, like an error
    print(f"rfdiff: warning: {_one_line(message)}", file=sys.stderr)


def _one_line(err: BaseException) -> str:
    # some messages (JAX's) span lines: keep the first non-empty one
    lines = [line.strip() for line in str(err).splitlines() if line.strip()]
    return lines[0] if lines else type(err).__name__


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


NO_CACHE_ENV = "RFDIFF_NO_CACHE"


def cache_dir() -> str:
    """The per-user folder of the persistent compilation cache: ``$RFDIFF_CACHE_DIR``, else
    ``$XDG_CACHE_HOME/rfdiff/jax``, else ``~/.cache/rfdiff/jax``."""
    if os.environ.get("RFDIFF_CACHE_DIR"):
        return os.environ["RFDIFF_CACHE_DIR"]
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "rfdiff", "jax")


def _persistent_compilation_cache(argv) -> None:
    # Most of a short command's time is compiling the same programs again; a command-line
    # process is ours, so it keeps them on disk. Every compiled program is kept (threshold
    # 0 s): the small ones add up. Importing rfdiff or calling main() never does this.
    if os.environ.get(NO_CACHE_ENV, "") not in ("", "0") or "--no-cache" in argv:
        return
    import jax

    try:
        jax.config.update("jax_compilation_cache_dir", cache_dir())
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
        jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    except (AttributeError, ValueError):
        pass  # a JAX without these options: run uncached


def console_main() -> int:
    """Process entry point (``rfdiff``, ``python -m rfdiff``): :func:`main` with one JAX
    CPU device per core and the persistent compilation cache (unless ``--no-cache`` or
    ``RFDIFF_NO_CACHE=1``)."""
    _one_cpu_device_per_core()
    _persistent_compilation_cache(sys.argv[1:])
    return main()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(console_main())
