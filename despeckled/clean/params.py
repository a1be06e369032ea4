"""The frozen parameter object that drives the cleaning pipeline.

One model serves ``despeckled clean --set key=value``, the ``[profiles.*]``
tables of the config file, and the daemon's per-watch overrides, so a setting
is spelled and validated the same way everywhere.
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
