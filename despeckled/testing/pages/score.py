"""Grade a cleaned page against a generated page's ground truth. Vectorised
over label maps (``np.bincount``), no loop over objects.

Rules
-----
* Only **visible** objects and specks count: at least 30% of their own
  darkness survives the page's blur (``page.visible``,
  ``page.specks.visible``); the others are counted as ``hidden_*``.
* A **content object is lost** when fewer than half of its *core* pixels
  are ink in the output. The core is the object's clean pixels whose eight
  neighbours are all clean ink too (the object's own pixels when it is too
  thin to have a core), so a stroke edge moved by a pixel of blur and
  thresholding is not a loss, while a period, an i-dot or a counter that
  was taken away is.
* A **small mark is kept** when it is not lost by the same rule.
* A **speck or dust clump is removed** when fewer than a quarter of its
  pixels (and not a single one, for the tiniest) are ink in the output.
* **Text damage** is the content ink the cleaner itself removed (its
  ``removed`` mask) over all content ink, so thresholding differences do not
  count, only decisions.
"""

from __future__ import annotations

import cv2
import numpy as np

from despeckled.testing.pages.canvas import KINDS
from despeckled.testing.pages.noise import CLASS_NAMES

__all__ = ["score_page", "lost_objects", "pool"]


def _core(ink: np.ndarray) -> np.ndarray:
    return cv2.erode(ink.view(np.uint8), np.ones((3, 3), np.uint8), borderType=cv2.BORDER_CONSTANT, borderValue=0).astype(bool)


def lost_objects(page, out_ink: np.ndarray) -> np.ndarray:
    """Per content label (index 0 unused): True where the object is lost.

    Parameters
    ----------
    page : GenPage
    out_ink : ndarray of bool, shape (H, W)
        The cleaned page's ink.
    """
    n = len(page.kinds)
    labels = page.labels
    core = _core(page.ink)
    area = np.bincount(labels[page.ink], minlength=n)
    carea = np.bincount(labels[core], minlength=n)
    use_core = carea > 0
    sel = np.where(use_core[labels], core, page.ink)
    total = np.bincount(labels[sel], minlength=n)
    kept = np.bincount(labels[sel & out_ink], minlength=n)
    lost = (kept * 2 < total) & (area > 0)
    lost[0] = False
    return lost


def score_page(page, out: np.ndarray, removed: np.ndarray | None = None) -> dict:
    """Counts for one page (pages pool by summing, see :func:`pool`).

    Parameters
    ----------
    page : GenPage
    out : ndarray of uint8, shape (H, W)
        The cleaned page, 0 = ink (binary), or bool ink mask.
    removed : ndarray of bool, shape (H, W), optional
        The cleaner's removed-ink mask (for text damage).

    Returns
    -------
    dict
        ``kind_n``, ``kind_lost`` (int arrays over :data:`KINDS`);
        ``speck_n``, ``speck_removed`` (int arrays, shape (3 classes, 2
        regimes soft/sharp)); ``spot_n``, ``spot_removed`` (small and medium
        specks by placement free/accent/period); ``content_px``,
        ``damage_px``.
    """
    out_ink = out if out.dtype == bool else out < 128
    lost = lost_objects(page, out_ink)
    k = len(KINDS)
    kinds = page.kinds
    vis = page.visible[1:]
    r = {"kind_n": np.bincount(kinds[1:][vis], minlength=k),
         "kind_lost": np.bincount(kinds[1:][lost[1:] & vis], minlength=k),
         "hidden_objects": int(np.count_nonzero(~vis))}
    sp = page.specks
    m = len(sp.area)
    left = np.bincount(sp.labels[out_ink], minlength=m)
    surv = (left >= np.maximum(1, np.ceil(0.25 * sp.area))) & (sp.area > 0)
    svis = sp.visible[1:]
    r["hidden_specks"] = int(np.count_nonzero(~svis))
    cls, sharp, place = sp.cls[1:][svis], sp.sharp[1:][svis].astype(int), sp.place[1:][svis]
    gone = ~surv[1:][svis]
    idx = cls * 2 + sharp
    r["speck_n"] = np.bincount(idx, minlength=2 * len(CLASS_NAMES)).reshape(-1, 2)
    r["speck_removed"] = np.bincount(idx[gone], minlength=2 * len(CLASS_NAMES)).reshape(-1, 2)
    specky = cls < 2
    r["spot_n"] = np.bincount(place[specky], minlength=3)
    r["spot_removed"] = np.bincount(place[specky & gone], minlength=3)
    r["content_px"] = int(np.count_nonzero(page.ink))
    r["damage_px"] = int(np.count_nonzero(removed & page.ink)) if removed is not None else 0
    r["pages"] = 1
    return r


def pool(rows: list[dict]) -> dict:
    """Sum :func:`score_page` dicts."""
    out: dict = {}
    for row in rows:
        for key, v in row.items():
            out[key] = out[key] + v if key in out else (v.copy() if isinstance(v, np.ndarray) else v)
    return out
