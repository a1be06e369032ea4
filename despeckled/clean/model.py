"""The trained keep/remove model: gradient-boosted trees shipped as a small
``.npz`` (``model/trees.npz``, written by ``training/train_classifier.py``)
and evaluated in numpy, all components and all trees at once, one tree
level per step (no per-component loop, no training library at run time).

:func:`decide_by_model` turns the rule cascade's :class:`Decision` into the
model's: among the :func:`~despeckled.clean.features.candidates`, a
component is removed only when the model's speck probability reaches
``model_threshold`` (when in doubt, keep); everything else is kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from despeckled.clean.features import FEATURES, feature_matrix
from despeckled.clean.marks import Marks
from despeckled.clean.rules import Decision, Rule, classify, credit, is_removal

#: The shipped model.
MODEL_PATH = Path(__file__).with_name("model") / "trees.npz"
#: A mark the rule cascade keeps (an i-dot, a period, a dot of a halftone)
#: is removed only at this speck probability or more, whatever
#: ``model_threshold`` says: overruling a rule that found content needs
#: overwhelming evidence. A glyph-sized component the cascade keeps is
#: never removed, nor is anything the cascade keeps in gentle mode (pages
#: of 100 dpi or less, or with too little text to measure): pages unlike
#: any the model was trained on.
OVERRULE_KEEP = 0.98
#: Inference works on blocks of this many (row, tree) nodes at a time.
BLOCK = 1 << 15


@dataclass(frozen=True)
class Trees:
    """A binary gradient-boosted tree ensemble, flattened: every tree's
    nodes in one set of arrays (shape (M,)); ``roots`` (shape (T,)) indexes
    each tree's root. A leaf points to itself with an infinite threshold,
    so ``depth`` steps from the roots land every row on a leaf.

    Attributes
    ----------
    feature : ndarray of int32, shape (M,)
        Column tested at each node.
    threshold : ndarray of float64, shape (M,)
        Go left when the value is ``<=`` it (the features are never NaN).
    children : ndarray of int32, shape (2 M,)
        Left child of node ``i`` at ``2 i``, right child at ``2 i + 1``.
    value : ndarray of float64, shape (M,)
        Raw score added by a leaf.
    roots : ndarray of int32, shape (T,)
    depth : int
    baseline : float
        Raw score before any tree (log-odds).
    features : tuple of str
        Column names the model was trained on.
    """

    feature: np.ndarray
    threshold: np.ndarray
    children: np.ndarray
    value: np.ndarray
    roots: np.ndarray
    depth: int
    baseline: float
    features: tuple

    def raw(self, X: np.ndarray) -> np.ndarray:
        """Log-odds of each row of ``X`` (shape (K, F)) being a speck: all
        trees of a block of rows step down one level at a time, (rows, T)
        at once; blocks of :data:`BLOCK` nodes stay in the CPU's cache."""
        X = np.asarray(X, np.float64)
        k, nf = X.shape
        out = np.empty(k)
        step = max(1, BLOCK // max(1, self.roots.size))
        for a in range(0, k, step):
            b = min(k, a + step)
            node = np.empty((b - a, self.roots.size), np.int32)
            node[:] = self.roots
            row = (np.arange(b - a, dtype=np.int32) * nf)[:, None]
            flat = X[a:b].ravel()
            for _ in range(self.depth):
                v = flat[row + self.feature[node]]
                node *= 2
                node += v > self.threshold[node >> 1]
                node = self.children[node]
            out[a:b] = self.value[node].sum(axis=1)
        return self.baseline + out

    def proba(self, X: np.ndarray) -> np.ndarray:
        """Probability (0..1) that each row is a speck."""
        return 1.0 / (1.0 + np.exp(-self.raw(X)))


def trees_from_arrays(d) -> Trees:
    """A :class:`Trees` from the arrays of the ``.npz`` (or a dict)."""
    leaf = np.asarray(d["is_leaf"], bool)
    idx = np.arange(leaf.size, dtype=np.intp)
    left = np.where(leaf, idx, d["left"]).astype(np.intp)
    right = np.where(leaf, idx, d["right"]).astype(np.intp)
    return Trees(np.where(leaf, 0, d["feature"]).astype(np.int32),
                 np.where(leaf, np.inf, d["threshold"]).astype(np.float64),
                 np.stack([left, right], axis=1).ravel().astype(np.int32), np.asarray(d["value"], np.float64),
                 np.asarray(d["roots"], np.int32), int(d["depth"]), float(d["baseline"]),
                 tuple(str(f) for f in d["features"]))


@lru_cache(maxsize=2)
def load_trees(path: str | None = None) -> Trees:
    """Load (once) the shipped model, checking it reads the features this
    package computes, in the same order."""
    with np.load(path or MODEL_PATH, allow_pickle=False) as d:
        trees = trees_from_arrays(d)
    if trees.features != FEATURES:
        raise ValueError(f"model {path or MODEL_PATH} was trained on other features: {trees.features}")
    return trees


def decide(m: Marks) -> Decision:
    """The page's verdict by ``m.params.decider``: the rule cascade
    (:func:`~despeckled.clean.rules.classify`), or the trained model
    stacked on it (:func:`decide_by_model`)."""
    dec = classify(m)
    if m.params.decider == "rules":
        return dec
    return decide_by_model(m, dec, m.params.model_threshold)


def decide_by_model(m: Marks, dec: Decision, threshold: float, trees: Trees | None = None) -> Decision:
    """The model's verdict, in the cascade's terms.

    Parameters
    ----------
    m : Marks
    dec : Decision
        The rule cascade's (its verdicts are features; its keeping rules
        name why a component the model keeps is kept).
    threshold : float
        Speck probability at or above which a candidate the cascade removes
        is removed; one it keeps needs :data:`OVERRULE_KEEP` and must be a
        mark on a page not in gentle mode.
    trees : Trees, optional
        Default: the shipped model.

    Returns
    -------
    Decision
        Removals keep the cascade's removing rule when both agree (its
        reason is the more telling), else :attr:`Rule.MODEL`; a component
        the cascade removed and the model keeps is :attr:`Rule.MODEL_KEPT`.
        ``confidence`` is each candidate's speck probability, 0 elsewhere.
    """
    trees = trees or load_trees()
    ids, X = feature_matrix(m, dec)
    p = np.zeros(m.n)
    p[ids] = trees.proba(X)
    was_removed = is_removal(dec.rule)
    mark = m.mark
    may_overrule = mark if not m.low_res else np.zeros_like(mark)
    gone = (p >= threshold) & (was_removed | (may_overrule & (p >= OVERRULE_KEEP)))
    gone[0] = False
    speck = gone & mark
    dust = gone & ~mark
    rule = dec.rule.copy()
    rule[gone & ~was_removed] = Rule.NONE
    credit(rule, gone, Rule.MODEL)
    rule[~gone & was_removed] = Rule.NONE
    credit(rule, ~gone & was_removed, Rule.MODEL_KEPT)
    # kept small marks: the cascade's, and the marks the cascade would remove
    # that the model keeps (the faint rule spares only kept marks, as it
    # spares the marks a guard keeps from the cascade)
    kept_small = (dec.kept_small | (mark & was_removed)) & ~gone
    return Decision(speck=speck, dust=dust, kept_small=kept_small, rule=rule, confidence=p)
