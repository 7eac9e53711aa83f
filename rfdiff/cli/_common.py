"""What the subcommands share: the parser pieces, argument checks, grids and the output.

A subcommand module registers its parser with :func:`add_command` and ends its ``run``
with :func:`emit`, which adds the ``parameters`` block, writes ``--plot FILE`` and prints
the result. This module imports no subcommand.
"""

from __future__ import annotations

import argparse
import json
import math
import sys

import numpy as np

__all__ = ["ArgumentError", "MODEL_DEFAULTS", "Parser", "add_command", "add_tau_flags",
           "check_writable", "common_parser", "dimension", "emit", "jsonable", "load_array",
           "log_grid", "number", "problem_from_args", "progress", "seed", "sizes_from_arrays",
           "stage", "tau_grid"]

# Defaults of the shared model flags; a subcommand may override them (``generate``).
MODEL_DEFAULTS = dict(d=100, psi_p=16.0, psi_n=4.0, t=0.1, activation="tanh",
                      sigma="isotropic", seed=0)

# jax.random.PRNGKey takes a signed 64-bit seed; larger values would fail deep inside JAX.
_SEED_RANGE = (-2**63, 2**63 - 1)


def number(x: float) -> str:
    """A default value for a help text: ``0.1``, ``24``, ``1e5``, ``2.5e8``."""
    if abs(x) < 1e4:
        return f"{x:g}"
    mantissa, exponent = f"{x:e}".split("e")
    return f"{mantissa.rstrip('0').rstrip('.')}e{int(exponent)}"


class ArgumentError(Exception):
    """Bad command-line input, reported as one line with exit status 2."""


class Parser(argparse.ArgumentParser):
    """An argument parser that raises :class:`ArgumentError` instead of exiting."""

    def error(self, message):
        raise ArgumentError(message)


def _integer_type(flag: str, lo, hi, what: str):
    """A converter ``str -> int`` for ``add_argument(type=...)`` accepting [lo, hi]."""
    def convert(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = text
        if isinstance(value, str) or not lo <= value <= hi:
            raise argparse.ArgumentTypeError(f"{flag} must be {what}, got {value!r}")
        return value

    convert.__name__ = flag  # argparse names the type in some messages
    return convert


def dimension(flag: str):
    """Argument type of a dimension flag (``--d``, ``--compare-d``, ``--confirm-d``).

    Args:
        flag: the flag's name without dashes, used in the message.

    Returns:
        A converter ``str -> int``; it raises ``argparse.ArgumentTypeError`` with
        ``"<flag> must be a positive integer, got ..."``, the one message of every size.
    """
    return _integer_type(flag, 1, math.inf, "a positive integer")


def seed(flag: str):
    """Argument type of a seed flag (``--seed``, ``--sample-seed``).

    Args:
        flag: the flag's name without dashes, used in the message.

    Returns:
        A converter ``str -> int`` accepting a signed 64-bit integer; it raises
        ``argparse.ArgumentTypeError`` for anything else.
    """
    return _integer_type(flag, *_SEED_RANGE, "an integer in [-2**63, 2**63 - 1]")


class _Once(argparse.Action):
    """A flag that may be given once: a second value would silently replace the first."""

    def __call__(self, parser, namespace, values, option_string=None):
        if getattr(namespace, "_given_" + self.dest, False):
            parser.error(f"{option_string} given twice ({getattr(namespace, self.dest)!r} "
                         f"and {values!r}); give it once")
        setattr(namespace, "_given_" + self.dest, True)
        setattr(namespace, self.dest, values)


class _Unavailable(argparse.Action):
    """A flag that the subcommand does not offer: using it is an argument error."""

    def __call__(self, parser, namespace, values, option_string=None):
        parser.error(f"{option_string} is not available for '{parser.prog.split()[-1]}'")


def common_parser(with_size: bool = True, *, plot: bool = True,
                  defaults: dict | None = None) -> argparse.ArgumentParser:
    """The shared model and output flags, as a parent parser.

    Args:
        with_size: add ``--d`` (subcommands that use a finite size).
        plot: offer ``--plot FILE``; if not, using ``--plot`` is an argument error.
        defaults: overrides of :data:`MODEL_DEFAULTS`, also shown in the help.

    Returns:
        An ``argparse.ArgumentParser`` without ``-h``, for ``parents=[...]``.
    """
    defaults = {**MODEL_DEFAULTS, **(defaults or {})}
    p = argparse.ArgumentParser(add_help=False)
    g = p.add_argument_group("model")
    if with_size:
        g.add_argument("--d", type=dimension("d"), default=defaults["d"],
                       help=f"input dimension (default {defaults['d']})")
    g.add_argument("--psi-p", type=float, default=defaults["psi_p"],
                   help=f"p/d (default {number(defaults['psi_p'])})")
    g.add_argument("--psi-n", type=float, default=defaults["psi_n"],
                   help=f"n/d (default {number(defaults['psi_n'])})")
    g.add_argument("--t", type=float, default=defaults["t"],
                   help=f"diffusion time (default {number(defaults['t'])})")
    g.add_argument("--activation", default=defaults["activation"],
                   help=f"tanh, relu, erf, linear or gelu (default {defaults['activation']})")
    g.add_argument("--sigma", default=defaults["sigma"], action=_Once,
                   help="data spectrum ATOM:WEIGHT[,ATOM:WEIGHT...] "
                        f"(default {defaults['sigma']})")
    g.add_argument("--seed", type=seed("seed"), default=defaults["seed"],
                   help=f"random seed (default {defaults['seed']})")
    o = p.add_argument_group("output")
    o.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    o.add_argument("--quiet", action="store_true", help="no progress display on stderr")
    o.add_argument("--debug", action="store_true",
                   help="show the traceback of an unexpected internal error")
    if plot:
        o.add_argument("--plot", metavar="FILE", help="write a figure to FILE")
    else:
        o.add_argument("--plot", nargs="?", action=_Unavailable, help=argparse.SUPPRESS)
    return p


def add_command(subparsers, name: str, help: str, *, size: bool = True, plot: bool = True,
                defaults: dict | None = None, **kwargs) -> argparse.ArgumentParser:
    """Add a subcommand's parser with the shared model and output flags.

    Args:
        subparsers: the ``rfdiff`` subparsers.
        name: the subcommand (hyphenated).
        help: one-line description.
        size: whether the subcommand uses a finite size (adds ``--d``).
        plot: whether it draws ``--plot FILE``; if not, ``--plot`` is an argument error.
        defaults: overrides of the model defaults (e.g. ``{"d": 32}``), shown in the help.
        **kwargs: passed to ``add_parser`` (``description``).

    Returns:
        The subcommand's parser; the caller adds its own flags and ``set_defaults(func=run)``.
    """
    parent = common_parser(size, plot=plot, defaults=defaults)
    return subparsers.add_parser(name, parents=[parent], help=help, **kwargs)


def progress(args, label: str):
    """A progress callback ``(done, total) -> None`` printing on stderr, or None with
    ``--quiet``.

    Args:
        args: the parsed arguments (``quiet``).
        label: what is counted (``"score field: diffusion times"``).

    Returns:
        The callback, or None.
    """
    if getattr(args, "quiet", False):
        return None

    def report(done, total):
        print(f"\r[rfdiff] {label}: {done}/{total}", end="", file=sys.stderr, flush=True)
        if done >= total:
            print(file=sys.stderr, flush=True)
    return report


def stage(args, message: str) -> None:
    """Print one progress line ``[rfdiff] message`` on stderr unless ``--quiet``."""
    if not getattr(args, "quiet", False):
        print(f"[rfdiff] {message}", file=sys.stderr, flush=True)


def check_writable(args) -> None:
    """Refuse a ``--plot FILE`` that cannot be written, before any compute.

    The format is read from the extension (matplotlib's list); the folder must exist.

    Raises:
        ValueError: for an unknown extension or a missing folder, naming the file.
    """
    import os

    path = getattr(args, "plot", None)
    if not path:
        return
    ext = os.path.splitext(path)[1].lstrip(".").lower()
    formats = _plot_formats()
    if ext not in formats:
        raise ValueError(f"--plot {path}: unknown figure format {ext or '(none)'!r}; use "
                         f"one of {', '.join(sorted(formats))}")
    folder = os.path.dirname(path) or "."
    if not os.path.isdir(folder):
        raise ValueError(f"--plot {path}: folder {folder!r} does not exist")


def _plot_formats() -> set:
    """The figure formats matplotlib can write (its common ones if it is missing, where
    drawing then fails with the install hint)."""
    try:
        from matplotlib.figure import Figure
    except ImportError:
        return {"eps", "jpeg", "jpg", "pdf", "png", "ps", "svg", "svgz", "tif", "tiff"}
    return set(Figure().canvas.get_supported_filetypes())


def add_workers_flag(p) -> None:
    """``--workers N``: run the command's independent finite-size runs on N processes."""
    p.add_argument("--workers", type=dimension("workers"), default=1,
                   help="processes for the independent finite-size runs (default 1: serial; "
                        "the results do not depend on it)")


def process_pool(workers: int):
    """None for one worker, else a process pool of ``workers`` processes (shut it down)."""
    if workers == 1:
        return None
    import concurrent.futures
    import multiprocessing

    # spawn, not fork: JAX is multithreaded and a forked copy of it can deadlock
    return concurrent.futures.ProcessPoolExecutor(
        workers, mp_context=multiprocessing.get_context("spawn"))


def add_ridge_flag(p) -> None:
    """``--ridge``: weight decay of the commands that train (read by :func:`problem_from_args`)."""
    p.add_argument("--ridge", type=float, default=0.0,
                   help="weight decay λ >= 0 of L + λΔ_t‖M‖²/d (default 0, the paper's "
                        "model; losses are reported without the penalty)")


def noise_samples_arg(text: str):
    """``--m``: a positive integer or inf."""
    if text.strip().lower() in ("inf", "infinity"):
        return math.inf
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"must be a positive integer or inf, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer or inf, got {text!r}")
    return value


def add_samples_flag(p, note: str = "") -> None:
    """``--m``: noise samples per training point (read by :func:`problem_from_args`)."""
    p.add_argument("--m", "--noise-samples", dest="noise_samples", type=noise_samples_arg,
                   default=math.inf, metavar="M",
                   help="noise samples per training point, a positive integer or inf "
                        "(default inf: the noise-averaged model)" + note)


def problem_from_args(args):
    """Build a :class:`rfdiff.Problem` from the shared flags (and ``--ridge``, ``--m`` where
    the command has them).

    Raises:
        ValueError: for a bad parameter (from :class:`rfdiff.Problem`).
    """
    from .._model import Problem, parse_spectrum

    return Problem(args.psi_p, args.psi_n, args.t, args.activation, parse_spectrum(args.sigma),
                   ridge=getattr(args, "ridge", 0.0),
                   noise_samples=getattr(args, "noise_samples", math.inf))


def load_array(flag: str, path: str):
    """The 2-D array of a ``.npy`` file given to ``--FLAG`` (values are checked later).

    Args:
        flag: the flag's name without dashes (``"data"``), used in the messages.
        path: the file.

    Returns:
        The array as loaded (no pickled objects).

    Raises:
        ValueError: for a missing file, a file that is not an ``.npy`` array (or holds
            objects), or an array that is not 2-D, naming the flag and the file.
    """
    try:
        arr = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise ValueError(f"--{flag}: no such file {path!r}") from None
    except (OSError, ValueError) as err:  # not an .npy file, or an object array
        raise ValueError(f"--{flag}: cannot read {path!r} as a .npy array ({err})") from None
    if not hasattr(arr, "ndim") or arr.ndim != 2:
        shape = getattr(arr, "shape", None)
        raise ValueError(f"--{flag}: {path!r} must hold a 2-D array, got shape {shape}")
    return arr


def sizes_from_arrays(args, X, W, dest: str = "d", default_d=MODEL_DEFAULTS["d"]) -> None:
    """Fill the size flags that were not given (None): from the arrays, else the defaults.

    The dimension ``args.<dest>`` becomes the arrays' number of columns, ``--psi-n`` the
    rows of X over d and ``--psi-p`` the rows of W over d; explicit values are kept (and
    checked against the arrays by :func:`rfdiff._finite.given_arrays`).

    Args:
        args: the parsed arguments (``psi_n``, ``psi_p`` and ``dest``, None when not given).
        X: the training points (n, d) or None.
        W: the feature weights (p, d) or None.
        dest: the attribute of the dimension (``"d"``, ``"compare_d"``).
        default_d: the dimension without arrays (None leaves it unset).
    """
    ref = X if X is not None else W
    if getattr(args, dest) is None:
        setattr(args, dest, ref.shape[1] if ref is not None else default_d)
    d = getattr(args, dest)
    if args.psi_n is None:
        args.psi_n = X.shape[0] / d if X is not None else MODEL_DEFAULTS["psi_n"]
    if args.psi_p is None:
        args.psi_p = W.shape[0] / d if W is not None else MODEL_DEFAULTS["psi_p"]


def log_grid(name: str, lo, hi, points, *, inf_max: float | None = None) -> np.ndarray:
    """Log-spaced grid from ``--NAME-min``, ``--NAME-max`` and ``--points``, validated.

    Args:
        name: the flags' stem (``"tau"``, ``"psi-n"``), used in the messages.
        lo, hi: the ends (finite, > 0, ``hi > lo``).
        points: number of points (a positive integer).
        inf_max: where given, ``hi = inf`` is accepted: the grid then runs from ``lo`` to
            ``inf_max`` and ends with one more point, ``inf``.

    Returns:
        The increasing grid (``points`` values, or ``points + 1`` ending with ``inf``).

    Raises:
        ValueError: for a bad end or count, ``hi <= lo``, or ``hi = inf`` without
            ``inf_max``.
    """
    from .._common import positive, positive_int

    lo = positive(f"{name}-min", lo)
    infinite = inf_max is not None and hi == math.inf
    hi = positive(f"{name}-max", inf_max if infinite else hi)
    points = positive_int("points", points)
    if hi <= lo:
        if infinite:
            raise ValueError(f"{name}-max inf: the finite grid runs to {hi:g}, which must "
                             f"exceed {name}-min, got {lo!r}")
        raise ValueError(f"{name}-max must exceed {name}-min, got {hi!r} <= {lo!r}")
    grid = np.logspace(np.log10(lo), np.log10(hi), points)
    return np.append(grid, np.inf) if infinite else grid


def add_tau_flags(parser, *, tau_min: float, tau_max: float, points: int,
                  tau_max_help: str | None = None):
    """Add ``--tau-min``, ``--tau-max`` and ``--points`` (read by :func:`tau_grid`).

    Args:
        parser: the subcommand's parser.
        tau_min, tau_max, points: the defaults.
        tau_max_help: help of ``--tau-max`` (default: the meaning of ``inf`` in
            :func:`tau_grid`).

    Returns:
        The argument group, for more grid flags.
    """
    g = parser.add_argument_group("training-time grid")
    g.add_argument("--tau-min", type=float, default=tau_min,
                   help=f"smallest τ (default {number(tau_min)})")
    g.add_argument("--tau-max", type=float, default=tau_max, help=tau_max_help or (
        f"largest τ (default {number(tau_max)}); inf: the grid to {number(tau_max)} followed "
        "by τ = ∞"))
    g.add_argument("--points", type=int, default=points,
                   help=f"log-spaced τ points (default {points})")
    return g


# Peak memory of the asymptotic curves per τ point (Talbot nodes × two-point solves at the
# default 24 nodes); measured as the growth of the peak RSS from 256 to 4096 points, about
# 57 kB, rounded up so that the plan errs on the safe side.
THEORY_BYTES_PER_TAU = 64 * 2**10


def tau_grid(args, inf_max: float, bytes_per_point: float = THEORY_BYTES_PER_TAU,
             what: str = "asymptotic curves") -> np.ndarray:
    """The τ grid of :func:`add_tau_flags`; ``--tau-max inf`` means the grid to ``inf_max``
    (the subcommand's default maximum) followed by τ = ∞ (see :func:`log_grid`).

    Args:
        args: the parsed arguments.
        inf_max: the subcommand's default maximum.
        bytes_per_point: planned memory per τ point of the computation on the grid.
        what: that computation, named in the refusal.

    Raises:
        ValueError: for a bad grid, or (MemoryPlanError) when ``--points`` would not fit
            in memory, with the estimate.
    """
    from .._common import check_fits, positive_int

    points = positive_int("points", args.points)
    check_fits(f"{what} on --points {points}", points * bytes_per_point,
               remedy="reduce --points")
    return log_grid("tau", args.tau_min, args.tau_max, points, inf_max=inf_max)


def jsonable(obj):
    """``obj`` as plain JSON values; inf and nan become the strings ``"inf"``, ``"nan"``
    (the one encoding of rfdiff's JSON, :func:`rfdiff._io.jsonable`)."""
    from .._io import jsonable as encode

    return encode(obj)


def _save(fig, path: str) -> None:
    try:
        fig.savefig(path, dpi=120)
    except OSError as err:
        raise ValueError(f"cannot write --plot {path}: {err.strerror or err}") from None
    finally:
        # rfdiff.plot figures are standalone; one made through pyplot is also held there
        pyplot = sys.modules.get("matplotlib.pyplot")
        if pyplot is not None:
            pyplot.close(fig)


def _print_summary(result: dict) -> None:
    for key, value in result.items():
        if isinstance(value, list | tuple) and len(value) > 8:
            value = f"[{len(value)} values]"
        print(f"{key}: {value}")


def emit(args, result: dict, parameters: dict | None = None, figure=None) -> int:
    """Finish a subcommand: parameter block, ``--plot FILE`` and the printed result.

    Args:
        args: the parsed arguments (``json``, ``plot``).
        result: the subcommand's JSON-ready keys.
        parameters: the ``parameters`` block (usually ``problem.params()`` plus the
            finite-size settings); None adds none.
        figure: callable ``() -> matplotlib Figure``, called only with ``--plot``; the
            figure is written to FILE and closed.

    Returns:
        The exit status, 0.

    Raises:
        ValueError: if FILE cannot be written.
    """
    out = dict(result) if parameters is None else {**result, "parameters": parameters}
    if args.plot:
        _save(figure(), args.plot)
    out = jsonable(out)
    if args.json:
        json.dump(out, sys.stdout, allow_nan=False)
        sys.stdout.write("\n")
    else:
        _print_summary(out)
    return 0
