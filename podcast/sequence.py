"""A linear-chain model over paragraphs: Viterbi decoding, marginals, and fitting its few weights.

Scores are log-potentials: emissions (n, S), transitions (n-1, S, S) between paragraph i and i+1, start (S).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Chain:
    """One sequence's log-potentials."""

    emissions: Array  # (n, S)
    transitions: Array  # (n-1, S, S): from state a at i to state b at i+1
    start: Array  # (S,)


def _logsumexp(a: Array, axis: int) -> Array:
    top = np.max(a, axis=axis, keepdims=True)
    top = np.where(np.isfinite(top), top, 0.0)
    with np.errstate(divide="ignore"):
        return np.asarray(np.squeeze(top, axis=axis) + np.log(np.sum(np.exp(a - top), axis=axis)))


def marginals(chain: Chain) -> tuple[float, Array, Array]:
    """log Z, P(state at i) (n, S) and P(states at i, i+1) (n-1, S, S), by forward-backward."""
    emit, trans = chain.emissions, chain.transitions
    n, s = emit.shape
    alpha = np.empty((n, s))
    beta = np.zeros((n, s))
    alpha[0] = chain.start + emit[0]
    for i in range(1, n):
        alpha[i] = emit[i] + _logsumexp(alpha[i - 1][:, None] + trans[i - 1], axis=0)
    for i in range(n - 2, -1, -1):
        beta[i] = _logsumexp(trans[i] + (emit[i + 1] + beta[i + 1])[None, :], axis=1)
    log_z = float(_logsumexp(alpha[-1], axis=0))
    with np.errstate(invalid="ignore"):
        single = np.exp(alpha + beta - log_z)
        pairs = np.exp(alpha[:-1, :, None] + trans + (emit[1:] + beta[1:])[:, None, :] - log_z)
    return log_z, np.nan_to_num(single), np.nan_to_num(pairs)


def viterbi(chain: Chain) -> list[int]:
    """The most likely state of every paragraph."""
    emit, trans = chain.emissions, chain.transitions
    n, _ = emit.shape
    score = chain.start + emit[0]
    back = np.zeros((n, emit.shape[1]), dtype=int)
    for i in range(1, n):
        total = score[:, None] + trans[i - 1]
        back[i] = np.argmax(total, axis=0)
        score = total[back[i], np.arange(emit.shape[1])] + emit[i]
    path = [int(np.argmax(score))]
    for i in range(n - 1, 0, -1):
        path.append(int(back[i][path[-1]]))
    return path[::-1]


def adapt(chain: Chain, style: Array, *, strength: float, rounds: int = 4, prior: float = 2.0) -> Array:
    """P(host) per paragraph after learning, within one transcript, how each side talks (EM, naive Bayes)."""
    _, single, _ = marginals(chain)
    if strength == 0 or style.shape[1] == 0:
        return np.asarray(single[:, 0])
    base = style.mean(axis=0)
    for _ in range(rounds):
        host = single[:, 0]
        rate_h = (host @ style + prior * base + 0.5) / (host.sum() + 2 * prior + 1)
        rate_g = ((1 - host) @ style + prior * base + 0.5) / ((1 - host).sum() + 2 * prior + 1)
        odds = style @ np.log(rate_h / rate_g) + (1 - style) @ np.log((1 - rate_h) / (1 - rate_g))
        emissions = chain.emissions.copy()
        emissions[:, 0] += strength * odds
        _, single, _ = marginals(Chain(emissions, chain.transitions, chain.start))
    return np.asarray(single[:, 0])


@dataclass(frozen=True, slots=True)
class Example:
    """A training sequence for the two-state (host, guest) model: cues, turn-taking cues and known states."""

    cues: Array  # (n, K) who-speaks cue values
    switches: Array  # (n, J) turn-taking cues of paragraph i against i-1 (row 0 unused)
    states: NDArray[np.int_]  # (n,) 0 = host, 1 = guest, -1 = unknown (unscored in the key)


@dataclass(frozen=True, slots=True)
class RoleWeights:
    """The fitted host-vs-guest model: a weight per cue, per turn-taking cue, and base transitions."""

    cues: tuple[str, ...]  # cue names, in the order of the weights
    weights: tuple[float, ...]  # log-odds of host per unit of each cue
    switch_cues: tuple[str, ...]  # turn-taking cue names
    switch_weights: tuple[float, ...]  # log-odds of a change of side per unit of each
    plain: tuple[tuple[float, float], tuple[float, float]]  # [from][to] base transition scores
    start: tuple[float, float]  # host, guest


_SWAP = np.asarray([[0.0, 1.0], [1.0, 0.0]])


def role_chain(weights: RoleWeights, cues: Array, switches: Array) -> Chain:
    """The host/guest chain for one transcript's cue matrices."""
    n = cues.shape[0]
    emissions = np.zeros((n, 2))
    emissions[:, 0] = cues @ np.asarray(weights.weights)
    swap = switches[1:] @ np.asarray(weights.switch_weights) if n > 1 else np.zeros(0)
    transitions = np.asarray(weights.plain)[None] + swap[:, None, None] * _SWAP[None]
    return Chain(emissions, transitions.reshape(max(n - 1, 0), 2, 2), np.asarray(weights.start))


def _unpack(theta: Array, k: int, j: int) -> RoleWeights:
    return RoleWeights(
        cues=("",) * k,
        weights=tuple(theta[:k]),
        switch_cues=("",) * j,
        switch_weights=tuple(theta[k : k + j]),
        plain=_pair(theta[k + j : k + j + 4].reshape(2, 2), digits=None),
        start=(float(theta[k + j + 4]), float(theta[k + j + 5])),
    )


def _objective(theta: Array, examples: Sequence[Example], k: int, j: int, l2: float) -> tuple[float, Array]:
    """Negative log-likelihood of the known states (unknown ones summed out) plus an L2 penalty, and its gradient."""
    weights = _unpack(theta, k, j)
    loss = 0.5 * l2 * float(theta @ theta)
    grad = l2 * theta.copy()
    for ex in examples:
        if ex.cues.shape[0] == 0:
            continue
        free = role_chain(weights, ex.cues, ex.switches)
        mask = np.zeros_like(free.emissions)
        known = ex.states >= 0
        mask[known] = -np.inf
        mask[known, ex.states[known]] = 0.0
        held = Chain(free.emissions + mask, free.transitions, free.start)
        log_z, p, pp = marginals(free)
        log_zc, pc, ppc = marginals(held)
        loss += log_z - log_zc
        d_single, d_pairs = p - pc, pp - ppc
        grad[:k] += ex.cues.T @ d_single[:, 0]
        if len(d_pairs):
            grad[k : k + j] += ex.switches[1:].T @ (d_pairs[:, 0, 1] + d_pairs[:, 1, 0])
            grad[k + j : k + j + 4] += d_pairs.sum(axis=0).ravel()
        grad[k + j + 4 : k + j + 6] += d_single[0]
    return loss, grad


def fit_roles(
    examples: Sequence[Example], cues: tuple[str, ...], switch_cues: tuple[str, ...], *, l2: float = 1.0
) -> RoleWeights:
    """Fit cue weights and transitions by maximum likelihood with an L2 penalty (L-BFGS)."""
    from scipy.optimize import minimize

    k, j = len(cues), len(switch_cues)
    result = minimize(_objective, np.zeros(k + j + 6), args=(examples, k, j, l2), jac=True, method="L-BFGS-B")
    fitted = _unpack(np.asarray(result.x), k, j)
    return RoleWeights(
        cues=cues,
        weights=tuple(round(float(x), 4) for x in fitted.weights),
        switch_cues=switch_cues,
        switch_weights=tuple(round(float(x), 4) for x in fitted.switch_weights),
        plain=_pair(np.asarray(fitted.plain)),
        start=(round(fitted.start[0], 4), round(fitted.start[1], 4)),
    )


def _pair(m: Array, digits: int | None = 4) -> tuple[tuple[float, float], tuple[float, float]]:
    """A 2x2 matrix as nested tuples, rounded for the JSON file (not while fitting)."""

    def cell(x: float) -> float:
        return round(float(x), digits) if digits is not None else float(x)

    return ((cell(m[0, 0]), cell(m[0, 1])), (cell(m[1, 0]), cell(m[1, 1])))
