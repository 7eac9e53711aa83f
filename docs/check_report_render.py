"""Render a report's index.html in headless Chromium and check the screenshot.

    python docs/check_report_render.py REPORT_DIR [--out screenshot.png]

Exits non-zero when Chromium is missing, the screenshot is not written, or it is blank
(the page must show text and the embedded figures: many distinct colours).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars"]


def find_browser():
    """Path of a Chromium binary, or None."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def screenshot(index: Path, out: Path, size=(1200, 4000), timeout=120) -> Path:
    """Screenshot ``index`` (a local HTML file) to ``out`` (PNG)."""
    browser = find_browser()
    if browser is None:
        raise RuntimeError("no chromium binary found")
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run([browser, *FLAGS, f"--user-data-dir={profile}",
                        f"--window-size={size[0]},{size[1]}", f"--screenshot={out}",
                        index.resolve().as_uri()], check=True, capture_output=True,
                       timeout=timeout)
    return out


def distinct_colours(png: Path) -> int:
    """Number of distinct RGB colours in a PNG (via matplotlib's reader)."""
    import matplotlib.image as mpimg
    import numpy as np

    img = (mpimg.imread(png)[..., :3] * 255).astype("uint8").reshape(-1, 3)
    return int(np.unique(img, axis=0).shape[0])


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("report_dir")
    p.add_argument("--out", default=None)
    args = p.parse_args(argv)
    index = Path(args.report_dir) / "index.html"
    out = Path(args.out or Path(args.report_dir) / "screenshot.png")
    screenshot(index, out)
    colours = distinct_colours(out)
    print(f"screenshot {out}: {colours} distinct colours")
    if colours < 50:
        print("blank or broken page", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
