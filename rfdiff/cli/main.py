"""Command-line interface: ``rfdiff SUBCOMMAND [flags]`` (also ``python -m rfdiff``).

Each subcommand lives in its own module ``rfdiff/_cli_<name>.py`` exposing
``register(subparsers, common)`` which adds its parser and sets ``func``; ``func(args)``
returns a JSON-ready dict (printed with ``--json``) and may draw ``--plot FILE``.
Argument errors exit with status 2 and a one-line message, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
import os
import sys

import numpy as np

__all__ = ["main", "console_main", "common_parser"]

_SUBCOMMANDS = ("coefficients", "simulate", "spectrum", "curves", "timescales",
                "phase_diagram", "generate", "report")


class ArgumentError(Exception):
    """Bad command-line input, reported as one line with exit status 2."""


def common_parser(with_size: bool = True) -> argparse.ArgumentParser:
    """Flags shared by the subcommands (``--d`` only where a finite size is used)."""
    p = argparse.ArgumentParser(add_help=False)
    g = p.add_argument_group("model")
    if with_size:
        g.add_argument("--d", type=int, default=100, help="input dimension (default 100)")
    g.add_argument("--psi-p", type=float, default=16.0, help="p/d (default 16)")
    g.add_argument("--psi-n", type=float, default=4.0, help="n/d (default 4)")
    g.add_argument("--t", type=float, default=0.1, help="diffusion time (default 0.1)")
    g.add_argument("--activation", default="tanh",
                   help="tanh, relu, erf, linear or gelu (default tanh)")
    g.add_argument("--sigma", default="isotropic",
                   help="data spectrum ATOM:WEIGHT[,ATOM:WEIGHT...] (default isotropic)")
    g.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    o = p.add_argument_group("output")
    o.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    o.add_argument("--plot", metavar="FILE", help="write a figure to FILE")
    return p


def problem_from_args(args):
    """Build a :class:`rfdiff.Problem` from the shared flags."""
    from .._model.problem import Problem
    from .._model.data_spectrum import parse_spectrum

    return Problem(args.psi_p, args.psi_n, args.t, args.activation, parse_spectrum(args.sigma))


def _jsonable(obj):
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_jsonable(v) for v in obj]
    if hasattr(obj, "tolist") and hasattr(obj, "dtype"):
        return _jsonable(np.asarray(obj).tolist())
    if isinstance(obj, float | np.floating):
        f = float(obj)
        # JSON has no inf/nan: spell them as strings so the output stays valid JSON
        return f if math.isfinite(f) else str(f)
    if isinstance(obj, np.integer | np.bool_):
        return obj.item()
    return obj


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise ArgumentError(message)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="rfdiff", description=__doc__.splitlines()[0])
    subparsers = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for name in _SUBCOMMANDS:
        try:
            module = importlib.import_module(f"rfdiff.cli.{name}")
        except ModuleNotFoundError:
            continue
        module.register(subparsers)
    # subcommand names use hyphens; module names use underscores
    return parser


def _print_summary(result: dict) -> None:
    for key, value in result.items():
        if isinstance(value, list | tuple) and len(value) > 8:
            value = f"[{len(value)} values]"
        print(f"{key}: {value}")


def main(argv=None) -> int:
    """Entry point; returns the exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        result = args.func(args)
    except (ArgumentError, ValueError) as err:
        print(f"rfdiff: error: {err}", file=sys.stderr)
        return 2
    if args.json:
        json.dump(_jsonable(result), sys.stdout)
        sys.stdout.write("\n")
    else:
        _print_summary(_jsonable(result))
    return 0


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
