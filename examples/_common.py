"""Shared command-line handling of the example scripts."""

import argparse
import json
import os


def parse(description):
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--small", action="store_true", help="tiny sizes (used by the tests)")
    p.add_argument("--out", default="examples_output", help="output folder")
    args = p.parse_args()
    os.makedirs(args.out, exist_ok=True)
    return args


def save(args, name, fig=None, data=None):
    if fig is not None:
        fig.savefig(os.path.join(args.out, name + ".png"), dpi=120)
    if data is not None:
        with open(os.path.join(args.out, name + ".json"), "w") as fh:
            json.dump(data, fh, indent=1, default=float)
    print(f"wrote {os.path.join(args.out, name)}.*")
