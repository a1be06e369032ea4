"""Pure array-in, array-out cleaning functions: no paths, logging or clock.

The pipeline (:func:`clean_page`), stage by stage:

1. :func:`~despeckled.clean.gray.to_gray` -- any pixel layout to 8-bit gray;
   then the page geometry (:func:`~despeckled.clean.geometry.prepare_page`,
   on a reduced copy): scanner borders that touch the edge painted with the
   paper colour (:mod:`~despeckled.clean.borders`), a blank/non-blank
   verdict (:mod:`~despeckled.clean.blank`), and the skew of the text lines
   estimated and, when confident, straightened by rotating the gray page
   (:mod:`~despeckled.clean.deskew`).
2. Optional median (3 px, 5 px at >= 450 dpi).
3. Threshold (:func:`~despeckled.clean.threshold.binarize`): ``adaptive``
   divides the page by a low-resolution paper estimate (max filter over
   1.5 mm) and applies Otsu, plus raw dark cores; or ``otsu``; or ``fixed``.
4. Components (:func:`~despeckled.clean.components.label_components`):
   statistics over ink pixels only. At >= 450 dpi this and the next steps run
   on a 2x max-pooled mask; the output stays full resolution.
5. Scale (:func:`~despeckled.clean.scale.estimate_scale`): stroke width and
   x-height measured from the page's letters, DPI only as a fallback.
6. Decisions (:func:`~despeckled.clean.rules.classify` over the shared
   context :func:`~despeckled.clean.marks.marks_of`): glyphs are kept;
   small marks are kept only in text positions (i-dots and accents above a
   letter at dot height, periods and commas on the baseline after a letter,
   hyphens, quotes, colons, umlauts, ellipses, leaders, halftone lattices)
   and when as dark as the page's other marks; compact isolated blobs off
   the text lines are dust; faint components (hysteresis) are show-through.
   All relations come from one vectorised grid join of marks against letter
   boxes (:func:`~despeckled.clean.context.points_in_boxes`) -- no Python
   loop over components or pixels. Each rule is a named function in
   :mod:`~despeckled.clean.rules`, and ``PageResult.components`` records
   which rule kept or removed every component (:class:`~despeckled.clean.rules.Rule`).
7. Output: ``binary`` (0 = ink) or ``gray`` (original pixels, removed marks
   painted with the local paper colour, :mod:`~despeckled.clean.paint`), with ``removed`` / ``kept_small``
   masks for the overlay and ``stats``.
"""

from despeckled.clean.params import CleanParams

__all__ = ["CleanParams", "PageResult", "clean_page"]


def __getattr__(name: str):
    # The pipeline (OpenCV, ~30 MB resident) loads on first use, so processes
    # that only need the settings model -- the daemon's main process, config
    # checks, `status` -- never pay for it.
    if name in ("PageResult", "clean_page"):
        from despeckled.clean import pipeline

        return getattr(pipeline, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
