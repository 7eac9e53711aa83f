"""Symbolic checks of the formulas rfdiff relies on (see README.md in this folder).

Each module exposes ``check()``, which raises AssertionError if its derivation fails.
"""

MODULES = ("loss_quadratic", "score_identity", "ge_constants", "leading_order", "two_point")
