"""Fixtures for the PDF tests: synthetic scans, built fresh per session."""

from __future__ import annotations

import pytest

from despeckled.testing.pdf_synth import SynthPage, synthetic_page

#: A small page (A6-ish) keeps the tests fast; sizes are in points.
SMALL_PT = (300.0, 420.0)


@pytest.fixture(scope="session")
def page200() -> SynthPage:
    return synthetic_page(200, SMALL_PT, lines=8, specks=40, seed=1)


@pytest.fixture(scope="session")
def page300() -> SynthPage:
    return synthetic_page(300, SMALL_PT, lines=8, specks=40, seed=2)

