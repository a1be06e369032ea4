"""Clean one file end to end: read pages, clean each, write the result.

Shared by ``despeckled clean`` and the daemon's workers. Streams page by page.
(Placeholder until the full I/O lands; the signature is the contract.)
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from despeckled import images
from despeckled.clean import CleanParams, clean_page


@dataclass
class FileReport:
    source: Path
    output: Path
    pages: int = 0
    specks_removed: int = 0
    seconds: float = 0.0
    stats: dict = field(default_factory=dict)


def clean_file(
    src: Path,
    out_dir: Path,
    params: CleanParams,
    *,
    out_name: str | None = None,
    out_format: str | None = None,
    limits: images.Limits | None = None,
) -> FileReport:
    """Clean ``src`` into ``out_dir`` / ``out_name`` (default: the source's
    name), never overwriting (a clash gets ``name-N``). Raises
    :class:`~despeckled.errors.BadInputError` for a file that can't be read."""
    t0 = time.perf_counter()
    name = out_name or src.name
    report = FileReport(src, out_dir / name)
    with images.open_source(src, limits) as source, images.open_sink(out_dir, name, out_format) as sink:
        for page in source.pages():
            dpi = page.dpi[0] if page.dpi else None
            result = clean_page(page.pixels, params, dpi)
            sink.add_page(result.image, page.dpi, bilevel=params.mode == "binary")
            report.pages += 1
            report.specks_removed += int(result.stats.get("specks_removed", 0))
    report.output = sink.path
    report.seconds = time.perf_counter() - t0
    return report
