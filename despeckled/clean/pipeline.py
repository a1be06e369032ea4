"""Compose the cleaning stages. (Placeholder: Otsu + area filter until the
real engine lands; the signature is the contract.)"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from despeckled.clean.params import CleanParams


@dataclass(frozen=True)
class PageResult:
    """The outcome of cleaning one page.

    Attributes
    ----------
    image : ndarray
        ``binary`` mode: ``(H, W)`` uint8, 0 = ink, 255 = paper.
        ``gray`` mode: same shape and dtype as the grayscale-or-colour input,
        with removed specks painted with the local background.
    removed : ndarray of bool, shape (H, W)
        Ink pixels that were removed.
    kept_small : ndarray of bool, shape (H, W)
        Small marks that were kept because they belong to text.
    stats : dict
        ``specks_removed`` (int), ``dust_removed`` (int), ``small_kept`` (int), ...
    """

    image: np.ndarray
    removed: np.ndarray
    kept_small: np.ndarray
    stats: dict = field(default_factory=dict)


def clean_page(pixels: np.ndarray, params: CleanParams | None = None, dpi: float | None = None) -> PageResult:
    """Clean one page.

    Parameters
    ----------
    pixels : ndarray, shape (H, W) or (H, W, C)
        Gray, RGB, RGBA; uint8, uint16 or bool.
    params : CleanParams
    dpi : float, optional
        The file's DPI tag, a hint only.
    """
    params = params or CleanParams()
    gray = pixels
    if gray.dtype == bool:
        gray = np.where(gray, 255, 0).astype(np.uint8)
    if gray.ndim == 3:
        gray = cv2.cvtColor(gray[..., :3], cv2.COLOR_RGB2GRAY)
    if gray.dtype != np.uint8:
        gray = (gray >> 8).astype(np.uint8)
    _, ink = cv2.threshold(gray, 0, 1, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    small = stats[:, cv2.CC_STAT_AREA] < 10
    small[0] = False
    removed = small[labels]
    out = np.where(ink.astype(bool) & ~removed, 0, 255).astype(np.uint8)
    return PageResult(out, removed, np.zeros_like(removed), {"specks_removed": int(small.sum())})
