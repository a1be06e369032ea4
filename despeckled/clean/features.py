"""Per-component features for the trained keep/remove model
(:mod:`despeckled.clean.model`), in page-relative units, vectorised.

Every feature is a named function of a :class:`~despeckled.clean.marks.Marks`
(and, for the stacked ones, the rule cascade's verdict) returning one float
per label (shape (n,), index 0 the background); :func:`feature_matrix`
stacks them for the components the model decides (:func:`candidates`), in
the order of :data:`FEATURES`, which the shipped model records and checks.

Units: ``s`` is the page's stroke width, ``x`` its x-height, ``xl`` the
local x-height of the component's own text line (:func:`local_xheight`);
darkness is a fraction of the page's ink-to-paper range (0 = as dark as
the stroke cores, 1 = paper).
"""

from __future__ import annotations

import numpy as np

from despeckled.clean.context import local_density, points_in_boxes
from despeckled.clean.marks import Marks
from despeckled.clean.rules import Decision, Rule, _memo

#: Glyph-sized components are candidates only when shaped like dust (as
#: solid as, and no more elongated than, the cascade's dust clumps) ...
CANDIDATE_FILL = 0.4
CANDIDATE_ASPECT = 2.5
#: ... and at least this many x-heights from the nearest letter: a letter
#: inside a word is never judged.
CANDIDATE_GAP = 0.3
#: Features that are distances are capped at this many x-heights (nothing
#: near: the same as far).
FAR = 8.0
#: Neighbourhood for density: cells of this many x-heights, windows of
#: ``2 * DENSITY_RADIUS + 1`` cells.
DENSITY_CELL = 0.5
DENSITY_RADIUS = 2
#: A component this big (x^2 of ink) and this many x-heights wide and tall
#: frames a region: a dark field of reverse text, a picture, a table.
FRAME_MIN = (10.0, 3.0)
#: At most this many letters are read to learn the page's edge sharpness.
EDGE_SAMPLE = 400


def candidates(m: Marks) -> np.ndarray:
    """The labels the model decides: marks, and glyph-sized blobs shaped
    like dust (:data:`CANDIDATE_FILL`, :data:`CANDIDATE_ASPECT`), no bigger
    than ``dust_max_area`` x^2, at least :data:`CANDIDATE_GAP` x-heights from
    the nearest letter. Every other component is kept whatever the model
    would say.

    >>> from despeckled.clean.marks import marks_of_ink
    >>> ink = np.zeros((60, 60), np.uint8); ink[5:55, 5:55] = 1; ink[58, 58] = 1
    >>> candidates(marks_of_ink(ink, 3.0, 10.0))[1:].tolist()
    [False, True]
    """
    x = m.x
    blob = (m.glyph & (m.area <= m.params.dust_max_area * x * x) & (m.fill >= CANDIDATE_FILL)
            & (m.w <= CANDIDATE_ASPECT * m.h) & (m.h <= CANDIDATE_ASPECT * m.w))
    blob[blob] = nearest_letter(m)[blob] >= CANDIDATE_GAP
    return m.real & (m.mark | blob)


def local_xheight(m: Marks) -> np.ndarray:
    """x-height of each component's own text line (letters level with it,
    else the line just below), else the page's (px, shape (n,))."""
    P = m.near
    xl = np.full(m.n, m.x)
    same = np.where(np.isfinite(P.base_same), P.xl_same, np.where(np.isfinite(P.base_below), P.xl_below, m.x))
    xl[P.qi] = same
    return np.maximum(xl, 1.0)


def holes(m: Marks, select: np.ndarray) -> np.ndarray:
    """Number of holes (counters) of each selected component, from its
    horizontal runs: runs are the nodes of a graph whose edges join
    8-adjacent runs of consecutive rows; its cycle rank (edges - runs + 1)
    is the number of holes of an 8-connected shape. 0 where not selected.

    >>> from despeckled.clean.marks import marks_of_ink
    >>> ink = np.zeros((12, 20), np.uint8); ink[1:6, 1:6] = 1; ink[3, 3] = 0   # an 'o'
    >>> ink[8:11, 10:13] = 1                                                     # a dot
    >>> m = marks_of_ink(ink, 1.0, 5.0)
    >>> holes(m, m.real)[1:].tolist()
    [1.0, 0.0]
    """
    c = m.c
    out = np.zeros(m.n)
    if c.run_lab is None or not c.run_lab.size:
        return out
    pick = select[c.run_lab]
    lab = c.run_lab[pick].astype(np.int64)
    start = c.run_flat[pick].astype(np.int64)
    end = start + c.run_len[pick] - 1
    if not lab.size:
        return out
    W = int(c.labels.shape[1])
    span = int(c.labels.shape[0]) * W + W
    order = np.argsort(lab, kind="stable")          # runs stay in raster order per label
    lab, start, end = lab[order], start[order], end[order]
    ks, ke = lab * span + start, lab * span + end
    row, col0, col1 = start // W, start % W, end % W
    nxt = lab * span + (row + 1) * W                # first pixel of the next row, same label
    # runs of the next row 8-adjacent to this one: start <= col1 + 1 and end >= col0 - 1
    n_start = np.searchsorted(ks, nxt + np.minimum(col1 + 1, W - 1), "right")
    n_end = np.searchsorted(ke, nxt + np.maximum(col0 - 1, 0), "left")
    edges = np.maximum(n_start - n_end, 0)
    e = np.bincount(lab, weights=edges, minlength=m.n)
    v = np.bincount(lab, minlength=m.n)
    out = np.where(v > 0, e - v + 1, 0.0)
    return np.maximum(out, 0.0)


def runs_per_row(m: Marks) -> np.ndarray:
    """Mean number of runs of ink per row: 1 for a dot or a stroke, 2 across
    an 'o', 3 across an 'm' (stroke structure)."""
    c = m.c
    if c.run_lab is None:
        return np.ones(m.n)
    return np.bincount(c.run_lab, minlength=m.n) / np.maximum(m.h, 1)


def levels(m: Marks, select: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per selected label: darkest level, mean level and mean level of its
    boundary pixels, as fractions of the ink-to-paper range (1 elsewhere)."""
    c = m.c
    span = max(m.paper_level - m.ink_level, 1.0)
    pos = c.positions_of(select)
    lab = c.lab[pos]
    lev = (m.lev_px[pos].astype(np.float64) - m.ink_level) / span
    darkest = np.ones(m.n)
    np.minimum.at(darkest, lab, lev)
    cnt = np.bincount(lab, minlength=m.n)
    mean = np.where(cnt > 0, np.bincount(lab, weights=lev, minlength=m.n) / np.maximum(cnt, 1), 1.0)
    edge = ~c.interior[pos]
    ecnt = np.bincount(lab[edge], minlength=m.n)
    emean = np.where(ecnt > 0, np.bincount(lab[edge], weights=lev[edge], minlength=m.n) / np.maximum(ecnt, 1), mean)
    return darkest, mean, emean


def edge_sample(m: Marks) -> np.ndarray:
    """Up to :data:`EDGE_SAMPLE` letters, spread over the page, whose edges
    tell how sharp the page's print is."""
    li = np.flatnonzero(m.letter)
    pick = np.zeros(m.n, bool)
    pick[li[:: max(1, li.size // EDGE_SAMPLE)]] = True
    return pick


@_memo
def nearest_letter(m: Marks) -> np.ndarray:
    """Gap (x-heights, capped at :data:`FAR`) from each queried component to
    the nearest letter around it (within ``LETTER_REACH``)."""
    P = m.near
    gap = np.maximum(np.maximum(P.hgap, P.vgap), 0.0) / m.x
    gap = np.where(P.not_self, gap, FAR)
    out = np.full(m.n, FAR)
    best = np.full(P.n_q, FAR)
    np.minimum.at(best, P.pi, np.minimum(gap, FAR))
    out[P.qi] = best
    return out


def density(m: Marks, select: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per selected label: how many components (itself excluded) lie in the
    window around it, per x^2, and its area over their mean area (1 when
    alone)."""
    x = m.x
    real = np.flatnonzero(m.real)
    cell = DENSITY_CELL * x
    shape = m.c.labels.shape
    count = local_density(m.cx[real], m.cy[real], None, shape, cell, DENSITY_RADIUS) - 1
    total = local_density(m.cx[real], m.cy[real], m.area[real], shape, cell, DENSITY_RADIUS) - m.area[real]
    window = ((2 * DENSITY_RADIUS + 1) * DENSITY_CELL) ** 2
    dens = np.zeros(m.n)
    rel = np.ones(m.n)
    dens[real] = count / window
    rel[real] = np.where(count > 0, m.area[real] * count / np.maximum(total, 1), 1.0)
    return np.where(select, dens, 0.0), np.where(select, rel, 1.0)


def in_frame(m: Marks, select: np.ndarray) -> np.ndarray:
    """1 where a selected component's centre lies inside the box of a
    component that frames a region (:data:`FRAME_MIN`): a dark field, a
    picture, a table."""
    x = m.x
    big = np.flatnonzero(m.real & (m.area >= FRAME_MIN[0] * x * x) & (m.w >= FRAME_MIN[1] * x)
                         & (m.h >= FRAME_MIN[1] * x))
    si = np.flatnonzero(select)
    out = np.zeros(m.n)
    if big.size and si.size:
        pa, _ = points_in_boxes(m.cx[si], m.cy[si], m.x0[big], m.y0[big], m.x1[big], m.y1[big], 8 * x)
        out[si[pa]] = 1.0
    return out


#: Rule groups of the cascade's verdict, each a 0/1 feature (stacking: the
#: model sees what the hand rules concluded, and learns where they err).
RULE_GROUPS = {
    "rule_placed": (Rule.I_DOT, Rule.PERIOD, Rule.HYPHEN, Rule.QUOTE, Rule.UNDER_STEM, Rule.DOTTED_ZERO,
                    Rule.CROWDED),
    "rule_with_marks": (Rule.UMLAUT, Rule.DOUBLE_QUOTE, Rule.PAIR, Rule.LEADER),
    "rule_field": (Rule.HALFTONE, Rule.PICTURE),
    "rule_too_light": (Rule.TOO_LIGHT,),
    "rule_tiny": (Rule.TINY,),
    "rule_dust": (Rule.DUST,),
    # (the shipped model was trained before the scratch rule: to it a
    # scratch is the glyph-sized component it was then)
    "rule_glyph": (Rule.GLYPH, Rule.SCRATCH),
}


def rule_groups(rule: np.ndarray) -> dict[str, np.ndarray]:
    """One 0/1 array per :data:`RULE_GROUPS` entry.

    >>> rule_groups(np.array([0, Rule.PERIOD, Rule.TINY], np.uint8))["rule_placed"].tolist()
    [0.0, 1.0, 0.0]
    """
    return {k: np.isin(rule, np.array(v, np.uint8)).astype(np.float64) for k, v in RULE_GROUPS.items()}


#: The feature columns, in the model's order.
FEATURES = (
    "log_area_s2", "log_h_xl", "log_w_xl", "log_xl_x", "log_s_x", "log_x_px", "aspect", "fill", "thick_s",
    "runs_per_row", "holes", "darkest", "mean_level", "edge_vs_print", "gap_letter",
    "n_letters", "on_base", "upper", "mid", "has_line", "has_line_below", "base_dist", "lift_below",
    "density", "rel_area", "in_frame", "round_dot", "low_res",
) + tuple(RULE_GROUPS)


def feature_matrix(m: Marks, dec: Decision, select: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The feature rows of the components the model decides.

    Parameters
    ----------
    m : Marks
    dec : Decision
        The rule cascade's verdict on the same page (stacked features).
    select : ndarray of bool, shape (n,), optional
        Default :func:`candidates`.

    Returns
    -------
    labels : ndarray of intp, shape (K,)
    X : ndarray of float32, shape (K, len(FEATURES))
    """
    sel = candidates(m) if select is None else select
    ids = np.flatnonzero(sel)
    s, x = max(m.s, 0.5), max(m.x, 1.0)
    xl = local_xheight(m)
    P = m.near
    sample = edge_sample(m)
    darkest, mean, edge = levels(m, sel | sample)
    ref_edge = float(np.median(edge[sample])) if sample.any() else 0.5
    base = np.full(m.n, np.inf)
    base[P.qi] = P.base_same
    below = np.full(m.n, np.inf)
    below[P.qi] = P.base_below
    flags = np.zeros((4, m.n))
    flags[0, P.qi], flags[1, P.qi], flags[2, P.qi] = P.on_base, P.upper, P.mid
    n_let = np.zeros(m.n)
    n_let[P.qi] = np.bincount(P.pi[P.not_self], minlength=P.n_q)
    dens, rel = density(m, sel)
    cols = {
        "log_area_s2": np.log(np.maximum(m.area, 1) / (s * s)),
        "log_h_xl": np.log(m.h / xl), "log_w_xl": np.log(m.w / xl),
        "log_xl_x": np.log(xl / x), "log_s_x": np.full(m.n, np.log(s / x)), "log_x_px": np.full(m.n, np.log(x)),
        "aspect": np.log(m.w / np.maximum(m.h, 1)), "fill": m.fill, "thick_s": m.c.thickness / s,
        "runs_per_row": runs_per_row(m), "holes": holes(m, sel),
        "darkest": darkest, "mean_level": mean, "edge_vs_print": edge - ref_edge,
        "gap_letter": nearest_letter(m), "n_letters": np.minimum(n_let, 50),
        "on_base": flags[0], "upper": flags[1], "mid": flags[2],
        "has_line": np.isfinite(base).astype(np.float64), "has_line_below": np.isfinite(below).astype(np.float64),
        "base_dist": np.clip(np.where(np.isfinite(base), (base - m.y1) / xl, FAR), -FAR, FAR),
        "lift_below": np.clip(np.where(np.isfinite(below), (below - m.y1) / xl, FAR), -FAR, FAR),
        "density": dens, "rel_area": np.minimum(rel, 20.0), "in_frame": in_frame(m, sel),
        "round_dot": m.round_dot.astype(np.float64), "low_res": np.full(m.n, float(m.low_res)),
    }
    cols.update(rule_groups(dec.rule))
    X = np.empty((ids.size, len(FEATURES)), np.float32)
    for j, name in enumerate(FEATURES):
        X[:, j] = cols[name][ids]
    return ids, np.nan_to_num(X, nan=0.0, posinf=FAR, neginf=-FAR)
