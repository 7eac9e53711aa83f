"""Sphinx configuration: MyST Markdown pages and an API reference from the docstrings.

Build (offline):  python -m sphinx -W -b html docs docs/_build/html
"""

project = "rfdiff"
author = "rfdiff contributors"
extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
]
source_suffix = {".md": "markdown"}
exclude_patterns = ["_build"]
myst_enable_extensions = ["dollarmath"]
myst_heading_anchors = 3
napoleon_google_docstring = True
napoleon_numpy_docstring = False
napoleon_use_ivar = True
autodoc_member_order = "bysource"
autodoc_typehints = "none"
html_theme = "alabaster"
# no intersphinx: the build must not need the network
suppress_warnings = ["myst.header"]
