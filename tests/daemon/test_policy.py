"""A file's fate, table by table, on plain values (no files, no clock)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from despeckled.daemon.policy import (
    CLAIMED, CLEANED, MAX_CRASHES, PLACING, UNCLAIMED, AllBlank, ArchiveOnly, Changed, Cleaned, Done, Fail, History,
    PassThrough,
    PermanentError, Retry, Rules, TimedOut, TransientError, Truncated, Vanished, Wait, WorkerCrashed, decide,
    pass_through,
)

RULES = Rules(max_crashes=3, max_retries=2, stuck_after=10.0, recheck=1.0)
CRASH = WorkerCrashed("worker died (exit code -11)")

CASES = [
    # (what happened, the file's history including it, the one decision)
    (Cleaned(), History(stage=PLACING), Done()),
    # every page blank and dropped: no output, the original archived whole
    (AllBlank(pages=3), History(stage=CLAIMED), ArchiveOnly("blank")),
    (AllBlank(pages=1), History(stage=UNCLAIMED), ArchiveOnly("blank")),
    (Vanished(), History(), Done()),
    (Changed(), History(), Wait()),
    (PermanentError("not_an_image", "a.png: not an image"), History(), Fail("not_an_image", "a.png: not an image")),
    # truncated: decode again with backoff, then broken for good
    (Truncated("a.png: ends early"), History(truncated_for=0.0, truncated_checks=1), Wait(recheck_in=1.0)),
    (Truncated("a.png: ends early"), History(truncated_for=1.0, truncated_checks=2), Wait(recheck_in=2.0)),
    (Truncated("a.png: ends early"), History(truncated_for=5.0, truncated_checks=9), Wait(recheck_in=60.0)),
    (Truncated("a.png: ends early"), History(truncated_for=10.0, truncated_checks=4), Fail("truncated", "a.png: ends early")),
    # a worker crash: wait (before the claim) or resume, until the limit
    (CRASH, History(stage=UNCLAIMED, crashes=1), Wait()),
    (CRASH, History(stage=CLAIMED, crashes=2), Retry()),
    (CRASH, History(stage=UNCLAIMED, crashes=3), Fail("crashed", "gave up after 3 tries: worker died (exit code -11)")),
    (CRASH, History(stage=CLAIMED, crashes=3), Fail("crashed", "gave up after 3 tries: worker died (exit code -11)")),
    (CRASH, History(stage=CLAIMED, crashes=3, last_crash_timed_out=True),
     Fail("timeout", "gave up after 3 tries: worker died (exit code -11)")),
    (CRASH, History(stage=CLEANED, crashes=7), Retry()),          # cleaned: only the moves remain
    (CRASH, History(stage=PLACING, crashes=7), Retry()),
    # over the per-file timeout: failed at once, unless only the moves remain
    (TimedOut(300), History(stage=UNCLAIMED, crashes=1), Fail("timeout", "gave up after 1 tries: timeout after 300 s")),
    (TimedOut(0.5), History(stage=CLAIMED, crashes=1), Fail("timeout", "timeout after 0.5 s")),
    (TimedOut(300), History(stage=CLEANED, crashes=1), Retry()),
    # transient errors: wait in the inbox, or retry with backoff, then fail
    (TransientError("EIO"), History(stage=UNCLAIMED), Wait()),
    (TransientError("EIO"), History(stage=CLAIMED, transient=0), Retry(after=1.0)),
    (TransientError("EIO"), History(stage=CLAIMED, transient=2), Retry(after=4.0)),
    (TransientError("EIO"), History(stage=CLEANED, transient=3), Fail("io_error", "I/O kept failing after 3 tries: EIO")),
    (TransientError("EIO"), History(stage=CLAIMED, transient=3), Fail("io_error", "I/O kept failing after 3 tries: EIO")),
    (TransientError("EIO"), History(stage=PLACING, transient=9), Retry(after=60.0)),  # its fate is sealed
]


@pytest.mark.parametrize(("event", "history", "decision"), CASES, ids=[f"{type(c[0]).__name__}-{i}" for i, c in enumerate(CASES)])
def test_one_decision_per_event_and_history(event, history, decision):
    assert decide(event, history, RULES) == decision


def test_the_crash_limit_is_the_documented_one():
    assert decide(CRASH, History(stage=CLAIMED, crashes=MAX_CRASHES - 1), Rules()) == Retry()
    assert isinstance(decide(CRASH, History(stage=CLAIMED, crashes=MAX_CRASHES), Rules()), Fail)


def test_an_unknown_event_is_refused():
    with pytest.raises(TypeError):
        decide("timeout after 3 s", History(), RULES)  # a string is not an event


def _facts(**kw):
    base = dict(visible_text=(), ocr_text=(), annotated=(), form_fields=False, encrypted=False)
    return SimpleNamespace(**{**base, **kw})


PDF_CASES = [
    (None, False, None),                                   # a raster file: no PDF facts
    (_facts(), False, None),                               # a plain scan
    (_facts(visible_text=(2,)), False, "has vector text (page 2); not flattening it into an image"),
    (_facts(ocr_text=(1, 2, 3, 4, 5, 6, 7)), False, "has an OCR text layer (page 1, 2, 3, 4, 5 and 2 more); not discarding it"),
    (_facts(visible_text=(1,), ocr_text=(2,)), False, "has vector text (page 1); not flattening it into an image"),
    (_facts(annotated=(3,)), False, "has annotations or form fields (page 3); not dropping them"),
    (_facts(form_fields=True), False, "has form fields; not dropping them"),
    (_facts(encrypted=True), False, "is encrypted (owner password); cleaning would drop its protection"),
    (_facts(visible_text=(1,), encrypted=True), True, None),   # --force-pdf / force_pdf = true
]


@pytest.mark.parametrize(("facts", "force", "reason"), PDF_CASES)
def test_pdf_pass_through_from_the_readers_facts(facts, force, reason):
    assert pass_through(facts, force) == (PassThrough(reason) if reason else None)
