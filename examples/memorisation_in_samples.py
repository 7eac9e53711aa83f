"""Memorisation in generated samples against training time, for several training-set sizes.

For each n (fixed d and p) the random-features score is trained in closed form at every
time of a diffusion-time grid; at each training time τ samples are generated with the
reverse-time SDE and measured: f_mem (nearest/second-nearest distance ratio < 1/3, with a
bootstrap error), Gaussian KL and sliced W₂ to N(0, Σ), nearest-neighbour distances to the
training and test points. Writes a figure, a JSON file and a text table.

Run:
    python examples/memorisation_in_samples.py            # the documented default size
    python examples/memorisation_in_samples.py --small    # a seconds-long check
    python examples/memorisation_in_samples.py --from-json OUT/memorisation_in_samples.json
                                                          # redraw a saved study
"""

from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np

import rfdiff
from rfdiff.plot import new_figure, plot_memorisation, plot_quality
from rfdiff.tools import GENERATION_TAU, describe_study, diffusion_times, study_from_dict

# The documented default (docs/generation.md): d = 32, p = 1024, n = 8, 16, 64, 128, 256
# (both sides of n = d, above which the memorisation bulk of the spectrum exists).
DEFAULT = dict(d=32, psi_p=32.0, psi_n=(0.25, 0.5, 2.0, 4.0, 8.0), tau=GENERATION_TAU,
               times=dict(t_min=1e-3, t_max=5.0, count=24), n_samples=1000, steps=200)
# Small: d = 8, p = 64, n = 4 and 8; a handful of times and samples.
SMALL = dict(d=8, psi_p=8.0, psi_n=(0.5, 1.0), tau=np.array([10.0, 1e3, 1e5, np.inf]),
             times=dict(t_min=1e-3, t_max=3.0, count=6), n_samples=200, steps=60)


def run(cfg, seed, sample_seed, out):
    start = time.perf_counter()
    study = rfdiff.memorisation_study(
        rfdiff.Problem(cfg["psi_p"], 1.0, 1.0, "tanh"), cfg["d"], cfg["psi_n"], cfg["tau"],
        times=diffusion_times(**cfg["times"]), seed=seed, sample_seed=sample_seed,
        n_samples=cfg["n_samples"], steps=cfg["steps"])
    wall = time.perf_counter() - start
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "memorisation_in_samples.json"), "w") as fh:
        json.dump({**study.as_dict(), "wall_s": wall}, fh, default=str)
    return write_outputs(study, wall, out)


def write_outputs(study, wall, out):
    """The text table and the figure of a study."""
    text = (describe_study(study)
            + f"\nwall time {wall:.1f} s (score fields {study.build_s:.1f} s)")
    with open(os.path.join(out, "memorisation_in_samples.txt"), "w") as fh:
        fh.write(text + "\n")
    fig, axes = new_figure(1, 3)
    plot_memorisation(axes[0, 0], study.curves, level=study.level)
    plot_quality(axes[0, 1], study.curves, "gaussian_kl")
    plot_quality(axes[0, 2], study.curves, "second_moment", references=("data",))
    c = study.curves[0]
    axes[0, 0].set_title(f"d={c.d}, p={c.p}, seed {c.seed}, sampler seed {c.settings['seed']}")
    axes[0, 1].set_title(f"{c.settings['sampler']} sampler, {c.settings['steps']} steps, "
                         f"{c.settings['n_samples']} samples")
    fig.savefig(os.path.join(out, "memorisation_in_samples.png"), dpi=110)
    return text


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="tiny sizes (seconds)")
    parser.add_argument("--seed", type=int, default=0, help="draw of W and X (default 0)")
    parser.add_argument("--sample-seed", type=int, default=1,
                        help="sampler noise, bootstrap, slices (default 1)")
    parser.add_argument("--out", default="memorisation-in-samples",
                        help="output folder (default memorisation-in-samples)")
    parser.add_argument("--from-json", metavar="FILE",
                        help="redraw the table and figure of a saved study into --out")
    args = parser.parse_args(argv)
    if args.from_json:
        with open(args.from_json) as fh:
            saved = json.load(fh)
        os.makedirs(args.out, exist_ok=True)
        print(write_outputs(study_from_dict(saved), saved.get("wall_s", float("nan")),
                            args.out))
        return
    print(run(SMALL if args.small else DEFAULT, args.seed, args.sample_seed, args.out))


if __name__ == "__main__":
    main()
