"""Gray mode's output: the page's own pixels, with removed marks painted
over in the local paper colour."""

from __future__ import annotations

import numpy as np

from despeckled.clean import threshold as th
from despeckled.clean.gray import to_gray, to_uint8

#: Width of the paper-colour window for painting removed marks (mm): wider
#: than the largest removed blob, so the paint comes from paper beyond it.
PAINT_WINDOW_MM = 6.0


def paint_removed(pixels: np.ndarray, shape: tuple[int, int], ry: np.ndarray, rx: np.ndarray, ink: np.ndarray,
                  res_dpi: float) -> np.ndarray:
    """Copy of the input (as uint8) with removed pixels, grown by one pixel
    into non-ink neighbours to cover anti-aliased rims, painted with the
    local paper colour.

    Parameters
    ----------
    pixels : ndarray, shape (H, W) or (H, W, C)
        The page as given to :func:`~despeckled.clean.pipeline.clean_page`.
    shape : (H, W)
    ry, rx : ndarray of int, shape (N,)
        Rows and columns of the removed ink pixels.
    ink : ndarray of uint8, shape (H, W)
        0/255 ink mask. Scribbled on: removed pixels are marked in it (no
        page-sized mask of their own).
    res_dpi : float
        Assumed resolution; sizes the paint window (:data:`PAINT_WINDOW_MM`).

    Returns
    -------
    ndarray of uint8, same shape as ``pixels`` (16-bit and bool reduced to 8-bit)

    Examples
    --------
    >>> page = np.full((30, 30), 200, np.uint8); page[15, 15] = 0
    >>> ink = np.where(page < 100, 255, 0).astype(np.uint8)
    >>> out = paint_removed(page, page.shape, np.array([15]), np.array([15]), ink, 300.0)
    >>> int(out[15, 15])
    200
    """
    a = np.asarray(pixels)
    if a.dtype == bool or a.dtype == np.uint16 or (a.ndim == 3 and a.shape[2] == 1):
        base = to_gray(a) if a.ndim == 2 or a.shape[2] == 1 else to_uint8(a)
    else:
        base = to_uint8(a)
    out = np.array(base, copy=True)
    if ry.size == 0:
        return out
    h, w = shape
    # grow by one pixel (8-neighbourhood), never onto kept ink
    dy, dx = np.meshgrid(np.arange(-1, 2), np.arange(-1, 2), indexing="ij")
    yy = np.clip(ry[:, None] + dy.ravel()[None, :], 0, h - 1).ravel()
    xx = np.clip(rx[:, None] + dx.ravel()[None, :], 0, w - 1).ravel()
    ink[ry, rx] = 1                 # removed ink: 1, kept ink 255, paper 0
    ok = ink[yy, xx] != 255
    yy, xx = yy[ok], xx[ok]
    colour = out if out.ndim == 2 else out[..., :3]
    window = PAINT_WINDOW_MM * res_dpi / 25.4
    low, factor = th.background_lowres(np.ascontiguousarray(colour), window)
    ly = np.minimum(yy // factor, low.shape[0] - 1)
    lx = np.minimum(xx // factor, low.shape[1] - 1)
    if out.ndim == 2:
        out[yy, xx] = low[ly, lx]
    else:
        out[yy, xx, :3] = low[ly, lx].reshape(-1, 3)
    return out
