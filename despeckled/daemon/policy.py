"""A file's fate, decided in one place.

Readers, workers and the pool only report *what happened* (an event) and keep
the file's *history* (attempts, crashes, retries after transient errors: in
the claim's manifest, so it survives restarts; before the claim, in the
settle tracker's candidate, carried into the manifest by the claim). This
module turns the two into exactly one :class:`Decision`:

==============  ==========================================================
:class:`Wait`   leave it in the inbox; settle again (``recheck_in=None``) or
                decode again after ``recheck_in`` seconds.
:class:`Retry`  a claimed file: carry on with it after ``after`` seconds.
:class:`Fail`   move the original to ``failed`` with a reason slug.
:class:`PassThrough`  copy the bytes unchanged (a PDF with a text layer...).
:class:`ArchiveOnly`  no output: archive the original as it is (every page
                blank, with ``blank_pages = "drop"``).
:class:`Done`   nothing is left to do (filed, or gone before the claim).
:class:`CleanAgain`  filed, but the archived original changed since: clean
                the complete file again and publish that.
==============  ==========================================================

A missing configured folder (:class:`FolderMissing`) never fails a file: it
waits. A file that changes after its claim (:class:`ChangedAfterClaim`: a
scanner pausing between pages longer than ``settle_seconds``) is never
published as it was decoded: it settles again and is cleaned whole.

The service (main process) and the lifecycle (worker) only carry decisions
out. Everything here is pure: plain values in, a plain value out, no clock
and no I/O, so it is tested table by table (``tests/daemon/test_policy.py``).

>>> decide(WorkerCrashed("worker died (exit code -11)"), History(stage=CLAIMED, crashes=3), Rules())
Fail(reason='crashed', message='gave up after 3 tries: worker died (exit code -11)')
>>> decide(TransientError("EIO"), History(stage=CLAIMED, transient=2), Rules())
Retry(after=4.0)
>>> decide(AllBlank(pages=2), History(stage=CLAIMED), Rules())
ArchiveOnly(reason='blank')
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union

#: A file whose worker crashed (segfault, OOM kill) this many times is failed,
#: never retried in a loop. A file over the per-file timeout is failed at once.
MAX_CRASHES = 3
#: Longest pause between two retries of a claimed file after transient errors.
MAX_BACKOFF = 60.0
#: Longest pause between two decodes of a settled-but-truncated file.
MAX_RECHECK = 60.0

# -- where a file is in its life (``History.stage``)
#: still in the inbox: nothing claimed, no manifest yet
UNCLAIMED = "unclaimed"
#: claimed (the original sits in its work folder); not cleaned yet
CLAIMED = "claimed"
#: cleaned; the output is not published yet
CLEANED = "cleaned"
#: its fate is sealed (output published, or failing): only moves remain
PLACING = "placing"
#: filed (output published, original archived); the archived original is
#: still watched for a while in case the scanner was still writing into it
ARCHIVED = "archived"


# --------------------------------------------------------------------------
# what just happened


@dataclass(frozen=True)
class Cleaned:
    """The file was cleaned (or passed through), published and archived."""


@dataclass(frozen=True)
class AllBlank:
    """The file was cleaned and every one of its ``pages`` was blank and
    left out (``blank_pages = "drop"``): there is no output."""

    pages: int


@dataclass(frozen=True)
class Vanished:
    """The file went away before it was claimed (deleted, moved)."""


@dataclass(frozen=True)
class Changed:
    """The file changed since it settled, or the claim did not happen."""


@dataclass(frozen=True)
class Truncated:
    """The file decodes as cut short (maybe still being written)."""

    message: str = ""


@dataclass(frozen=True)
class PermanentError:
    """The file can never be processed (not an image, too large...)."""

    reason: str
    message: str


@dataclass(frozen=True)
class TransientError:
    """An error that may go away by itself (a share that blipped); also any
    unexpected error after the claim, which is retried the same way."""

    message: str


@dataclass(frozen=True)
class TimedOut:
    """The pool killed the worker: over ``daemon.file_timeout_seconds``."""

    seconds: float

    def __str__(self) -> str:
        return f"timeout after {self.seconds:g} s"


@dataclass(frozen=True)
class WorkerCrashed:
    """The worker process died with the file in hand."""

    detail: str

    def __str__(self) -> str:
        return self.detail


@dataclass(frozen=True)
class FolderMissing:
    """A configured folder (input, output, archive, failed) is not there,
    or not the filesystem it was: a share unmounted or remounted, a folder
    renamed away. Never the file's fault; it is never failed for it, and no
    stand-in folder is created."""

    folder: str
    reason: str
    message: str = ""


@dataclass(frozen=True)
class ChangedAfterClaim:
    """The file changed after it was decoded: a scanner still writing into
    it (pausing between pages longer than ``settle_seconds``). Seen in the
    work folder before publishing, or in the archive after filing."""

    message: str = ""


#: What the pool reports instead of an outcome when the worker is gone.
WorkerLost = Union[TimedOut, WorkerCrashed]
Event = Union[Cleaned, AllBlank, Vanished, Changed, Truncated, PermanentError, TransientError, TimedOut,
              WorkerCrashed, FolderMissing, ChangedAfterClaim]


@dataclass(frozen=True)
class History:
    """A file's record, *including* the event being decided on.

    ``crashes`` and ``transient`` live in the claim's manifest (before the
    claim, ``crashes`` lives in the settle tracker and is written into the
    manifest by the claim). ``transient`` counts retries started after a
    transient error. ``truncated_for`` is how long the file has stayed
    settled and truncated (``None``: not truncated), ``truncated_checks``
    how often it was found so.
    """

    stage: str = UNCLAIMED
    attempts: int = 0
    crashes: int = 0
    last_crash_timed_out: bool = False
    transient: int = 0
    truncated_for: float | None = None
    truncated_checks: int = 0
    #: the file was seen changing after it was claimed (``changed_after_claim``)
    changed_after_claim: bool = False


@dataclass(frozen=True)
class Rules:
    """The limits the decisions use (from the config)."""

    max_crashes: int = MAX_CRASHES
    max_retries: int = 5
    stuck_after: float = 900.0
    recheck: float = 5.0
    settle: float = 5.0


# --------------------------------------------------------------------------
# decisions


@dataclass(frozen=True)
class Wait:
    """Leave it in the inbox: settle again from scratch (``recheck_in`` is
    None), or, unchanged, look at it again after ``recheck_in`` seconds."""

    recheck_in: float | None = None


@dataclass(frozen=True)
class Retry:
    """A claimed file: carry on with it after ``after`` seconds."""

    after: float = 0.0


@dataclass(frozen=True)
class Fail:
    """Move the original to ``failed``; ``reason`` is a slug for the sidecar
    (the caller puts the file's name in front of ``message``)."""

    reason: str
    message: str


@dataclass(frozen=True)
class PassThrough:
    """Copy the file to output unchanged, for ``reason``."""

    reason: str


@dataclass(frozen=True)
class ArchiveOnly:
    """Publish nothing; archive the original as it is (every byte, every
    page) and log ``reason`` (``blank``)."""

    reason: str


@dataclass(frozen=True)
class Done:
    """Nothing is left to do for this file."""


@dataclass(frozen=True)
class CleanAgain:
    """The archived original changed after it was filed: once it has been
    unchanged for ``settle_seconds``, clean the complete file again and
    publish that output in place of the incomplete one."""


Decision = Union[Wait, Retry, Fail, PassThrough, ArchiveOnly, Done, CleanAgain]


def backoff(retries: int) -> float:
    """Seconds before the next retry of a claimed file after ``retries``
    retries: 1, 2, 4, ... at most :data:`MAX_BACKOFF`.

    >>> [backoff(n) for n in (0, 1, 2, 6, 7)]
    [1.0, 2.0, 4.0, 60.0, 60.0]
    """
    return min(2.0 ** retries, MAX_BACKOFF)


def decide(event: Event, history: History, rules: Rules) -> Decision:
    """The one decision for ``event`` given the file's ``history``."""
    if isinstance(event, (Cleaned, Vanished)):
        return Done()
    if isinstance(event, AllBlank):
        # nothing to publish, nothing lost: the original is archived whole
        return ArchiveOnly("blank")
    if isinstance(event, PermanentError):
        return Fail(event.reason, event.message)
    if isinstance(event, Changed):
        return Wait()
    if isinstance(event, Truncated):
        return _truncated(event, history, rules)
    if isinstance(event, (TimedOut, WorkerCrashed)):
        return _worker_lost(event, history, rules)
    if isinstance(event, TransientError):
        return _transient(event, history, rules)
    if isinstance(event, FolderMissing):
        return _folder_missing(history, rules)
    if isinstance(event, ChangedAfterClaim):
        return _changed_after_claim(history, rules)
    raise TypeError(f"not an event: {event!r}")


def _folder_missing(h: History, rules: Rules) -> Decision:
    """A folder of the watch is gone for now: the file waits where it is
    (inbox or work folder), never failed, nothing counted. The watch is down
    meanwhile; the retry runs once it is back.

    >>> decide(FolderMissing("/srv/scans/clean", "missing"), History(stage=CLEANED, transient=99), Rules())
    Retry(after=5.0)
    >>> decide(FolderMissing("/srv/scans/clean", "missing"), History(), Rules())
    Wait(recheck_in=None)
    """
    if h.stage == UNCLAIMED:
        return Wait()
    return Retry(after=rules.recheck)


def _changed_after_claim(h: History, rules: Rules) -> Decision:
    """Still being written after the claim: throw the output away, let it
    settle again, clean the complete file. Filed already: clean it again.

    >>> decide(ChangedAfterClaim(), History(stage=CLEANED), Rules(settle=2.0))
    Retry(after=2.0)
    >>> decide(ChangedAfterClaim(), History(stage=ARCHIVED), Rules())
    CleanAgain()
    """
    if h.stage == ARCHIVED:
        return CleanAgain()
    if h.stage == UNCLAIMED:
        return Wait()
    return Retry(after=rules.settle)


def _truncated(event: Truncated, h: History, rules: Rules) -> Decision:
    """Settled but cut short: decode again with backoff (a stalled upload is
    not decoded every few seconds); still so after ``stuck_after``: broken
    for good."""
    if h.truncated_for is not None and h.truncated_for >= rules.stuck_after:
        return Fail("truncated", event.message)
    checks = max(h.truncated_checks, 1)
    if h.stage != UNCLAIMED:
        # cut short after the claim: only a file still being written (it was
        # whole when claimed); wait for the writer like any change
        return Retry(after=rules.settle)
    return Wait(recheck_in=min(rules.recheck * 2 ** (checks - 1), MAX_RECHECK))


def _worker_lost(event: TimedOut | WorkerCrashed, h: History, rules: Rules) -> Decision:
    """The worker died or was killed with the file in hand. Once the file
    is cleaned, only moves remain: they are always finished."""
    if h.stage in (CLEANED, PLACING):
        return Retry()
    if isinstance(event, TimedOut):
        if h.stage == UNCLAIMED:
            return Fail("timeout", f"gave up after {h.crashes} tries: {event}")
        return Fail("timeout", str(event))
    if h.crashes >= rules.max_crashes:
        reason = "timeout" if h.last_crash_timed_out else "crashed"
        return Fail(reason, f"gave up after {h.crashes} tries: {event}")
    return Wait() if h.stage == UNCLAIMED else Retry()


def _transient(event: TransientError, h: History, rules: Rules) -> Decision:
    """Before the claim the file just waits in the inbox (nothing counted).
    A claimed file is retried with backoff; past ``max_retries`` retries
    it is failed, unless its fate is already sealed (then only the moves
    remain, and they are retried for as long as it takes)."""
    if h.stage == UNCLAIMED:
        return Wait()
    if h.stage in (CLAIMED, CLEANED) and h.transient > rules.max_retries:
        return Fail("io_error", f"I/O kept failing after {h.transient} tries: {event.message}")
    return Retry(after=backoff(h.transient))


# --------------------------------------------------------------------------
# PDFs: what the reader found, and whether to clean


def pass_through(facts, force_pdf: bool = False) -> PassThrough | None:
    """Whether a PDF is copied unchanged instead of cleaned, from the facts
    its reader reports (:class:`despeckled.io.pdf.PdfFacts`; ``None`` for a
    raster file). ``force_pdf`` cleans it anyway.

    >>> from types import SimpleNamespace as F
    >>> pass_through(F(visible_text=(2, 3), ocr_text=(), annotated=(), form_fields=False, encrypted=False))
    PassThrough(reason='has vector text (page 2, 3); not flattening it into an image')
    >>> pass_through(F(visible_text=(2,), ocr_text=(), annotated=(), form_fields=False, encrypted=False), True)
    """
    if facts is None or force_pdf:
        return None
    if facts.visible_text:
        return PassThrough(f"has vector text (page {page_list(facts.visible_text)}); not flattening it into an image")
    if facts.ocr_text:
        return PassThrough(f"has an OCR text layer (page {page_list(facts.ocr_text)}); not discarding it")
    if facts.annotated:
        return PassThrough(f"has annotations or form fields (page {page_list(facts.annotated)}); not dropping them")
    if facts.form_fields:
        return PassThrough("has form fields; not dropping them")
    if facts.encrypted:
        return PassThrough("is encrypted (owner password); cleaning would drop its protection")
    return None


def page_list(pages) -> str:
    """Page numbers for a message: the first five, then how many more.

    >>> page_list([1, 2, 3, 4, 5, 6, 9])
    '1, 2, 3, 4, 5 and 2 more'
    """
    pages = list(pages)
    shown = ", ".join(str(p) for p in pages[:5])
    return shown + (f" and {len(pages) - 5} more" if len(pages) > 5 else "")
