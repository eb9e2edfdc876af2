"""The linear-chain model: decoding and marginals against brute force, the fitter's gradient, a fit."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from podcast.sequence import Chain, Example, _objective, adapt, fit_roles, marginals, viterbi


def _random_chain(rng: np.random.Generator, n: int, s: int) -> Chain:
    return Chain(rng.normal(size=(n, s)), rng.normal(size=(n - 1, s, s)), rng.normal(size=s))


def _score(chain: Chain, path: tuple[int, ...]) -> float:
    total = chain.start[path[0]] + sum(chain.emissions[i, p] for i, p in enumerate(path))
    return float(total + sum(chain.transitions[i, path[i], path[i + 1]] for i in range(len(path) - 1)))


@pytest.mark.parametrize(("n", "s", "seed"), [(1, 2, 0), (4, 2, 1), (5, 3, 2), (6, 2, 3)])
def test_viterbi_and_marginals_match_brute_force(n: int, s: int, seed: int) -> None:
    chain = _random_chain(np.random.default_rng(seed), n, s)
    paths = list(itertools.product(range(s), repeat=n))
    scores = np.asarray([_score(chain, p) for p in paths])
    assert tuple(viterbi(chain)) == paths[int(np.argmax(scores))]
    log_z, single, _ = marginals(chain)
    assert log_z == pytest.approx(float(np.log(np.exp(scores).sum())))
    probs = np.exp(scores - log_z)
    expected = np.asarray([[sum(p for path, p in zip(paths, probs, strict=True) if path[i] == k) for k in range(s)]
                           for i in range(n)])  # fmt: skip
    assert np.allclose(single, expected)


def _examples(rng: np.random.Generator) -> list[Example]:
    """Two-cue sequences where cue 0 marks the host and the sides alternate; some states unknown."""
    examples = []
    for _ in range(6):
        states = np.asarray([i % 2 for i in range(8)])
        cues = np.column_stack([np.ones(8), (states == 0) * 1.0 + rng.normal(scale=0.3, size=8)])
        switches = rng.normal(size=(8, 1))
        known = states.copy()
        known[rng.integers(0, 8)] = -1
        examples.append(Example(cues, switches, known))
    return examples


def test_objective_gradient_matches_finite_differences() -> None:
    rng = np.random.default_rng(7)
    examples = _examples(rng)
    theta = rng.normal(scale=0.5, size=2 + 1 + 6)
    _, grad = _objective(theta, examples, 2, 1, 0.1)
    step = 1e-6
    for i in range(len(theta)):
        up, down = theta.copy(), theta.copy()
        up[i] += step
        down[i] -= step
        numeric = (_objective(up, examples, 2, 1, 0.1)[0] - _objective(down, examples, 2, 1, 0.1)[0]) / (2 * step)
        assert grad[i] == pytest.approx(numeric, rel=1e-4, abs=1e-5)


def test_fit_learns_the_cue_and_the_alternation() -> None:
    weights = fit_roles(_examples(np.random.default_rng(3)), ("bias", "marker"), ("noise",), l2=0.1)
    assert weights.weights[1] > 1  # the marker cue says host
    plain = np.asarray(weights.plain)
    assert plain[0, 1] + plain[1, 0] > plain[0, 0] + plain[1, 1]  # sides alternate


def test_adapt_learns_a_style_that_the_cues_only_hint_at() -> None:
    # Ten paragraphs alternate host/guest; the cues say so clearly for the first two only, the style
    # marker (column 0) always: learning the marker per transcript must pull the rest the right way.
    n = 10
    truth = np.asarray([i % 2 for i in range(n)])
    emissions = np.zeros((n, 2))
    emissions[0, 0], emissions[1, 0] = 3.0, -3.0
    chain = Chain(emissions, np.zeros((n - 1, 2, 2)), np.zeros(2))
    style = np.column_stack([(truth == 0) * 1.0, np.ones(n)])
    before = adapt(chain, style, strength=0.0)
    after = adapt(chain, style, strength=1.0)
    assert np.allclose(before[2:], 0.5)  # strength 0: the chain's own marginals
    assert all(after[i] > 0.55 if truth[i] == 0 else after[i] < 0.45 for i in range(n))
