"""The frozen parameter object that drives the cleaning pipeline.

One model serves ``despeckled clean --set key=value``, the ``[profiles.*]``
tables of the config file, and the daemon's per-watch overrides, so a setting
is spelled and validated the same way everywhere.

Sizes are page-relative: ``s`` is the page's measured stroke width and ``x``
its measured x-height (see :mod:`despeckled.clean.scale`), so the same
defaults work at 200, 300 and 600 dpi.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class CleanParams(BaseModel):
    """Cleaning settings. Sizes are page-relative (stroke width, x-height) or
    physical (points, millimetres at the page's resolution), never bare pixels."""

    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True)

    mode: Literal["binary", "gray"] = Field(
        "binary", description="binary: bilevel output; gray: keep original pixels, paint removed specks with background"
    )
    threshold: Literal["otsu", "adaptive", "fixed"] = Field(
        "adaptive", description="otsu: global; adaptive: background-normalised, copes with uneven or tinted paper; fixed: use threshold_value"
    )
    threshold_value: int = Field(128, ge=1, le=254, description="gray level for threshold = 'fixed' (ink is darker)")
    median: bool = Field(False, description="apply a small median filter (sized from the page's DPI) before thresholding")
    remove_dust: bool = Field(True, description="also remove large isolated non-text blobs (dust clumps)")
    opening: bool = Field(False, description="morphological opening that never erases strokes thinner than the page's stroke width")
    fallback_dpi: float = Field(300.0, gt=0, description="resolution assumed when the file's DPI tag is missing or implausible")
    deskew: bool = Field(
        True, description="straighten a page whose text lines are skewed by 0.05-10 degrees, only when the estimate is confident (the page is rotated before thresholding, new corners get the paper colour, size and DPI stay)"
    )
    remove_borders: bool = Field(
        True, description="paint dark scanner borders that touch the page edge (black background, feed wedges, punch-hole shadows, a lid frame) with the paper colour; content near or touching the edge (rules, photos, tables) is kept"
    )
    blank_pages: Literal["keep", "drop"] = Field(
        "keep", description="drop: leave pages judged blank (paper, specks, show-through, punch holes) out of multi-page outputs; a file with only blank pages gets no output; the original is always archived whole"
    )

    # Page-relative sizes (s = stroke width, x = x-height, both measured per page).
    tiny_area: float = Field(
        0.6, ge=0, description="marks smaller than this many s^2 are noise wherever they are (a period is ~1.5 s^2 or more)"
    )
    glyph_size: float = Field(
        0.5, gt=0, le=2, description="components at least this many x tall or wide are glyphs; smaller ones are 'marks' that need text context"
    )
    mark_gap: float = Field(
        0.55, ge=0, le=2, description="how far (in x) a punctuation mark may sit from its glyph"
    )
    dot_gap: float = Field(
        0.35, ge=0, le=2, description="how far (in the line's x-height) an i-dot or accent may float above its letter"
    )
    mark_contrast: float = Field(
        0.1, ge=0, le=1, description="a small mark is text only if its darkest pixel is within this fraction of the ink-to-paper range of the text's darkness"
    )
    faint_contrast: float = Field(
        0.3, ge=0, le=1, description="hysteresis: components whose darkest pixel is lighter than this fraction of the ink-to-paper range are show-through or stains (binary mode; gray mode drops only faint marks)"
    )
    dust_gap: float = Field(0.3, ge=0, description="a dust clump has no glyph within this many x (lone letters are protected by sitting on a text line)")
    dust_max_area: float = Field(
        0.75, ge=0, description="largest dust clump, in x^2 (a 300-dpi x-height is ~21 px, so ~330 px); bigger blobs are never removed"
    )
    halftone_density: int = Field(
        25, ge=3, description="a small mark with at least this many small marks of similar size within ~1.25 x is in the core of a dot field (halftone); the field around such cores is kept"
    )
    # The keep/remove decider (issue 10): the hand-written rule cascade, or
    # the trained model stacked on it (despeckled/clean/model.py).
    decider: Literal["rules", "model"] = Field(
        "rules", description="rules: the rule cascade decides; model: a trained per-component classifier decides among marks and dust-sized blobs (bigger components are always kept)"
    )
    model_threshold: float = Field(
        0.9, ge=0.5, le=1, description="for the model decider: a component is removed only when its speck probability is at least this (when in doubt, keep)"
    )
