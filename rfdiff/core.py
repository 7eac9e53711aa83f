"""The theory core: the functional API, and the solvers and building blocks behind the
entry points.

The functional API (differentiable; docs/derivatives.md): :func:`params` builds a
:class:`Params` pytree (ψ_p, ψ_n, t, atoms and weights of ρ_Σ as leaves, the activation
static), and

- :func:`coefficients` gives the Gaussian-equivalence constants,
- :func:`density` the eigenvalue density ρ(λ) of U,
- :func:`curves` the learning curves on a τ grid (τ = ∞ allowed),
- :func:`edges` the edges of each spectral part (order :data:`EDGE_ROLES`) and the
  spectral τ_gen, τ_mem,

all pure JAX functions under ``jax.jit``, ``jax.vmap`` and ``jax.grad``/``jacfwd``/``jacrev``
(derivatives through the solvers by the implicit-function theorem). They need 64-bit
types enabled by the caller and say so otherwise.

The toolkit below is a pure function of a :class:`SpectralParams` pytree or of a
:class:`rfdiff.Problem`:

- parameters: :class:`SpectralParams` (one pytree for every solver), :func:`spectral_params`,
  :func:`as_params`, :func:`spectral_bound`;
- the one-point equations: one residual (:func:`residual`, :func:`relative_residual`) and two
  continuation strategies over it, :func:`adaptive` (real axis, step control) and
  :func:`fixed` (complex points, fixed schedule); the entry points :func:`solve_on_grid`,
  :func:`solve_resolvent` and :func:`one_point`;
- the two-point traces: :func:`two_point`, :func:`diagonal_two_point`, :func:`pair_table`;
- the contour quadrature of the learning curves (:func:`talbot_contour`,
  :func:`contour_points`, :func:`combine_traces`) and :func:`batched_curves` over many
  (ψ_p, ψ_n);
- the spectrum's toolkit: measures, distribution functions, leading-order formulas, roles and
  predicted counts, spectral timescales.

The ``*_core`` functions are jit-able and return JAX arrays (enable 64-bit types around
them); the others check their inputs and return NumPy float64 arrays.
"""

from ._theory import (SpectralParams, ResolventParams, spectral_params, as_params,
                      spectral_bound, one_point, two_point, diagonal_two_point, OnePoint,
                      TwoPoint, one_point_core, two_point_core, two_point_from, pair_table,
                      population_trace, solve_on_grid, solve_resolvent, resolvent_core,
                      ResolventResult, spectral_scale, resolvent_params, adaptive, fixed,
                      residual, relative_residual, RESIDUAL_TOL, SYMMETRY_TOL, talbot_contour,
                      contour_points, combine_traces, ContourPoints, batched_curves,
                      DEFAULT_NODES)
from ._spectrum import (SpectralPart, MeasureQuadrature, measure_quadrature, spectral_cdf,
                        wasserstein1, ROLES, predicted_counts, predicted_masses,
                        memorisation_edges, memorisation_density, generalisation_edges,
                        generalisation_density, population_params)
from ._timescales import (spectral_timescales, SpectralTimescales)
from ._theory.functional import (Params, params, coefficients, density, curves, spectral,
                                 require_x64)
from ._spectrum import EDGE_ROLES, Edges, edges

__all__ = [
    "Params",
    "params",
    "coefficients",
    "density",
    "curves",
    "edges",
    "Edges",
    "EDGE_ROLES",
    "spectral",
    "require_x64",
    "adaptive",
    "as_params",
    "batched_curves",
    "combine_traces",
    "contour_points",
    "ContourPoints",
    "DEFAULT_NODES",
    "diagonal_two_point",
    "fixed",
    "generalisation_density",
    "generalisation_edges",
    "measure_quadrature",
    "MeasureQuadrature",
    "memorisation_density",
    "memorisation_edges",
    "one_point",
    "one_point_core",
    "OnePoint",
    "pair_table",
    "population_params",
    "population_trace",
    "predicted_counts",
    "predicted_masses",
    "relative_residual",
    "residual",
    "RESIDUAL_TOL",
    "resolvent_core",
    "resolvent_params",
    "ResolventParams",
    "ResolventResult",
    "ROLES",
    "solve_on_grid",
    "solve_resolvent",
    "spectral_bound",
    "spectral_cdf",
    "spectral_params",
    "spectral_scale",
    "spectral_timescales",
    "SpectralParams",
    "SpectralPart",
    "SpectralTimescales",
    "SYMMETRY_TOL",
    "talbot_contour",
    "two_point",
    "two_point_core",
    "two_point_from",
    "TwoPoint",
    "wasserstein1",
]
