"""The one pixel convention: 8-bit levels, gray luminance, paper or ink.

* :func:`to_uint8` - any sample type to 8-bit samples, layout kept (uint16
  rounds to nearest: ``(v + 128) // 257``; bool is 0/255; float is 0..1).
* :func:`to_gray` - any page layout to 8-bit luminance (RGBA on white paper).
* :func:`is_paper` - the output binarisation: paper where the 8-bit gray is
  128 or more, ink below. Every writer of a bilevel page uses it.
"""

from __future__ import annotations

import cv2
import numpy as np


def to_uint8(pixels: np.ndarray) -> np.ndarray:
    """The same samples as 8-bit levels, shape and channel order kept.

    Parameters
    ----------
    pixels : ndarray, any shape
        uint8 (returned as is), uint16 (rounded to nearest: ``(v + 128) //
        257`` maps 0..65535 onto 0..255), bool (True = 255, paper) or float
        (0.0 = black .. 1.0 = white, rounded, clipped).

    Returns
    -------
    ndarray of uint8, same shape

    Raises
    ------
    ValueError
        For any other dtype.

    Examples
    --------
    >>> to_uint8(np.array([0, 128, 511, 65535], dtype=np.uint16)).tolist()  # 511 >> 8 would be 1
    [0, 0, 2, 255]
    >>> to_uint8(np.array([True, False])).tolist(), to_uint8(np.array([0.5, 2.0])).tolist()
    ([255, 0], [128, 255])
    """
    a = np.asarray(pixels)
    if a.dtype == np.uint8:
        return a
    if a.dtype == np.uint16:
        return ((a.astype(np.uint32) + 128) // 257).astype(np.uint8)
    if a.dtype == bool:
        return a.view(np.uint8) * np.uint8(255)
    if np.issubdtype(a.dtype, np.floating):
        return np.clip(np.rint(a * 255.0), 0, 255).astype(np.uint8)
    raise ValueError(f"unsupported pixel dtype {a.dtype}")


def is_paper(pixels: np.ndarray) -> np.ndarray:
    """The output binarisation: True (paper) where the page's 8-bit gray
    (:func:`to_gray`) is 128 or more, False (ink) below.

    Parameters
    ----------
    pixels : ndarray
        Any layout :func:`to_gray` takes; a bool array (True = paper) is
        returned as is.

    Returns
    -------
    ndarray of bool, shape (H, W)

    Examples
    --------
    >>> is_paper(np.array([[0, 127, 128, 255]], dtype=np.uint8)).tolist()
    [[False, False, True, True]]
    >>> is_paper(np.array([[32767, 32768]], dtype=np.uint16)).tolist()
    [[False, True]]
    """
    a = np.asarray(pixels)
    if a.dtype == bool and a.ndim == 2:
        return a
    return to_gray(a) >= 128


def to_gray(pixels: np.ndarray) -> np.ndarray:
    """Convert any supported page array to 8-bit luminance.

    Parameters
    ----------
    pixels : ndarray, shape (H, W), (H, W, 1), (H, W, 3) or (H, W, 4)
        Gray, RGB or RGBA in **RGB order** (not OpenCV's BGR); dtype bool
        (True = paper, as a 1-bit image decodes), uint8 or uint16. A palette
        image must already be expanded to RGB or gray by the I/O layer; a 2-D
        uint8 array is always read as gray levels. RGBA is composited on white
        paper, so a transparent background becomes paper rather than ink.

    Returns
    -------
    gray : ndarray of uint8, shape (H, W)
        0 = black, 255 = white. A fresh array unless ``pixels`` already is
        contiguous 2-D uint8, which is returned as is.

    Examples
    --------
    >>> import numpy as np
    >>> to_gray(np.array([[True, False]]))
    array([[255,   0]], dtype=uint8)
    >>> to_gray(np.array([[[255, 0, 0, 0]]], dtype=np.uint8))  # transparent red
    array([[255]], dtype=uint8)
    >>> to_gray(np.array([[65535, 0]], dtype=np.uint16))
    array([[255,   0]], dtype=uint8)
    """
    a = np.asarray(pixels)
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[..., 0]
    if a.ndim not in (2, 3) or (a.ndim == 3 and a.shape[2] not in (3, 4)):
        raise ValueError(f"unsupported pixel array shape {a.shape}")
    a = to_uint8(a)
    if a.ndim == 2:
        return np.ascontiguousarray(a)
    if a.shape[2] == 4:
        rgb = a[..., :3]
        alpha = a[..., 3]
        gray = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2GRAY)
        if alpha.min() == 255:
            return gray
        # composite on white: g*a + 255*(1-a)
        inv = cv2.subtract(np.full_like(alpha, 255), np.ascontiguousarray(alpha))
        return cv2.add(cv2.multiply(gray, np.ascontiguousarray(alpha), scale=1 / 255.0), inv)
    return cv2.cvtColor(np.ascontiguousarray(a), cv2.COLOR_RGB2GRAY)
