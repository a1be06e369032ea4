"""The ``--show-removed`` picture: what the cleaner took away, and what it kept.

Pure array functions (no paths, no logging), used by
:func:`despeckled.process.clean_file`.
"""

from __future__ import annotations

import cv2
import numpy as np

#: Colours of the overlay, RGB.
REMOVED_RGB = (230, 0, 0)
KEPT_RGB = (0, 160, 0)
_REMOVED_HALO = np.array((255, 170, 170), np.float32)
_KEPT_HALO = np.array((170, 230, 170), np.float32)


def to_gray8(pixels: np.ndarray) -> np.ndarray:
    """A page as ``(H, W)`` uint8 gray, whatever it came as.

    Parameters
    ----------
    pixels : ndarray
        ``(H, W)`` bool (True = white), uint8 or uint16, or ``(H, W, 3|4)``
        RGB/RGBA uint8 or uint16 (alpha is composited on white).

    >>> to_gray8(np.array([[True, False]])).tolist()
    [[255, 0]]
    >>> to_gray8(np.full((1, 1, 4), [0, 0, 0, 0], np.uint8)).tolist()  # fully transparent -> paper
    [[255]]
    """
    a = pixels
    if a.dtype == bool:
        return np.where(a, 255, 0).astype(np.uint8)
    if a.dtype == np.uint16:
        a = (a >> 8).astype(np.uint8)
    if a.ndim == 3:
        if a.shape[2] == 4:
            alpha = a[..., 3:4].astype(np.float32) / 255.0
            rgb = a[..., :3].astype(np.float32) * alpha + 255.0 * (1.0 - alpha)
            a = rgb.astype(np.uint8)
        a = cv2.cvtColor(np.ascontiguousarray(a[..., :3]), cv2.COLOR_RGB2GRAY)
    return a.astype(np.uint8, copy=False)


def removed_overlay(pixels: np.ndarray, removed: np.ndarray, kept_small: np.ndarray,
                    *, halo: int = 3) -> np.ndarray:
    """Before/after picture of one page: the original page dimmed to grey,
    removed ink in red, small marks that were kept (because they belong to
    text) in green, each ringed by a light halo ``halo`` pixels wide so that a
    one-pixel speck stays visible on a zoomed-out page.

    Parameters
    ----------
    pixels : ndarray
        The page as read (see :func:`to_gray8` for the accepted kinds).
    removed, kept_small : ndarray of bool, shape (H, W)
        Masks from :class:`despeckled.clean.PageResult`.
    halo : int
        Halo width in pixels (0 for none).

    Returns
    -------
    ndarray, shape (H, W, 3), uint8
        RGB image.

    >>> page = np.full((5, 5), 255, np.uint8); page[2, 2] = 0
    >>> rem = np.zeros((5, 5), bool); rem[2, 2] = True
    >>> out = removed_overlay(page, rem, np.zeros_like(rem), halo=1)
    >>> out[2, 2].tolist(), out[2, 1].tolist(), out[0, 0].tolist()
    ([230, 0, 0], [255, 170, 170], [255, 255, 255])
    """
    gray = to_gray8(pixels)
    # dim: ink becomes mid grey, paper stays white, so colours stand out
    dim = (gray.astype(np.float32) * 0.55 + 255 * 0.45).astype(np.uint8)
    out = np.repeat(dim[..., None], 3, axis=2)
    removed = removed.astype(bool, copy=False)
    kept_small = kept_small.astype(bool, copy=False)
    if halo > 0:
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * halo + 1, 2 * halo + 1))
        for mask, tint in ((kept_small, _KEPT_HALO), (removed, _REMOVED_HALO)):
            if mask.any():
                ring = cv2.dilate(mask.view(np.uint8), kernel).astype(bool) & ~mask
                # multiply blend keeps the page visible under the tint
                out[ring] = (out[ring].astype(np.float32) * (tint / 255.0)).astype(np.uint8)
    out[kept_small] = KEPT_RGB
    out[removed] = REMOVED_RGB
    return out
