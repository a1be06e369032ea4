"""Pure array-in, array-out cleaning functions: no paths, logging or clock."""

from despeckled.clean.params import CleanParams
from despeckled.clean.pipeline import PageResult, clean_page

__all__ = ["CleanParams", "PageResult", "clean_page"]
