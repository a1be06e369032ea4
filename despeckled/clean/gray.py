"""Grayscale conversion for every pixel layout the I/O layer hands over."""

from __future__ import annotations

import cv2
import numpy as np


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
    if a.dtype == bool:
        a = a.view(np.uint8) * np.uint8(255)
    elif a.dtype == np.uint16:
        # round to nearest rather than truncate: (v + 128) // 257 maps 0..65535 onto 0..255
        a = ((a.astype(np.uint32) + 128) // 257).astype(np.uint8)
    elif a.dtype != np.uint8:
        if np.issubdtype(a.dtype, np.floating):
            a = np.clip(np.rint(a * 255.0), 0, 255).astype(np.uint8)
        else:
            raise ValueError(f"unsupported pixel dtype {a.dtype}")
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
