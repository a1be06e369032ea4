"""despeckled: a scanner hot-folder cleaner that removes specks without damaging text."""

__version__ = "0.1.0"
