"""One file's life: claim, clean, publish, archive -- or fail -- and recover.

Crash safety comes from a maildir-style hand-off plus a small manifest that is
always written (atomically) *before* the step it describes, so that a restart
after ``kill -9`` at any instant can finish exactly what was begun:

``<input>/.despeckled/work/<claim_id>/``
    ``manifest.json`` and the claimed original under its own name. The claim
    is a single ``rename`` from the inbox (same filesystem), so the original
    is never copied or rewritten.
``<output>/.despeckled/staging/<claim_id>/``
    where :func:`despeckled.process.clean_file` writes the cleaned file. It is
    then renamed (no-replace) into ``output``; the manifest records the chosen
    final name first, so recovery can tell "published" from "not yet".

A raster scan is cleaned straight from the inbox into staging *before* it is
claimed: that decode (every page, through the reader ``verify_complete``
uses) is the "complete?" check, so each page is decoded once; only a file
that decoded whole and did not change meanwhile is claimed. A PDF is
verified first, then claimed, then cleaned -- or, when it has vector text or
an OCR layer, copied to output unchanged (logged as ``passed_through`` with
the reason) unless the watch sets ``force_pdf``.

States (``manifest["state"]``) and what recovery does in each:

============  ==========================================================
claiming      manifest written, rename maybe not: if the original is in the
              work folder it is claimed, else the claim is dropped (the
              inbox still holds the file and it is picked up again).
claimed       (re)clean from scratch: wipe the staging folder, clean again.
publishing    ``output`` target recorded: staged file gone -> published;
              both names for one inode -> published; else publish again.
archiving     ``archive`` target recorded: same rule for the original.
failing       ``failed`` target recorded: same rule, then the sidecar.
============  ==========================================================

Every placement goes through :func:`_place`, which never overwrites (a taken
name gets ``name-N``) and copes with ``EXDEV`` (archive on another
filesystem) by copying to a temp name recorded in the manifest, publishing it,
and only then removing the source.

These functions run in worker processes; they log through
:mod:`despeckled.log` and return an :class:`Outcome` to the service. They
decide nothing themselves: what becomes of a file (fail, retry, pass through)
is :func:`despeckled.daemon.policy.decide`'s answer, asked with the history
kept in the manifest; this module carries it out.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import errno
import filecmp
import json
import os
import shutil
import stat
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from despeckled import __version__, errors, log
from despeckled.daemon import policy
from despeckled.daemon.claims import LEASE
from despeckled.daemon.folders import STATE_DIR, staging_root, work_root  # noqa: F401 - re-exported
from despeckled.daemon.policy import Fail, TimedOut, TransientError, WorkerCrashed, WorkerLost
from despeckled.io import errnos, images
from despeckled.config import ResolvedWatch
from despeckled.io.fsutil import (
    TEMP_MARKER,
    fsync_dir,
    is_temp_name,
    mkdir_below,
    numbered_name,
    publish_unique,
    rename_noreplace,
    replace_atomic,
    same_file,
)

MANIFEST = "manifest.json"


def is_transient(exc: BaseException) -> bool:
    """An error that may go away by itself (the one errno list in
    :mod:`despeckled.io.errnos`, or a reader's :class:`TransientIOError`)."""
    return isinstance(exc, errors.TransientIOError) or errnos.is_transient(exc)


def _make_staging(spec: ResolvedWatch, claim_id: str) -> Path:
    """The claim's staging folder in the output folder, which must exist
    (:class:`~despeckled.errors.FolderMissingError` otherwise)."""
    return mkdir_below(spec.output, Path(STATE_DIR) / "staging" / claim_id)


@dataclass(frozen=True)
class Job:
    """A unit of work for a worker.

    ``kind == "new"``: verify ``rel`` (relative to the input folder) is still the
    settled file (``signature``) and decodes completely, then claim it as
    ``claim_id`` and carry it through. ``kind == "resume"``: carry on an
    existing claim (recovery, retry after a transient error, or after the
    worker died: ``crash`` then says how, and is counted in the manifest).
    ``fail`` (the policy's decision) claims and fails without decoding;
    ``crashes`` are the worker deaths before the claim, written into the
    manifest by the claim. ``kind == "again"``: clean an archived original
    that changed after it was filed (:func:`clean_again`).
    """

    kind: str
    watch: ResolvedWatch
    claim_id: str
    rel: str = ""
    signature: tuple[int, int, int] | None = None
    crash: WorkerLost | None = None
    fail: Fail | None = None
    transient: bool = False
    crashes: int = 0
    #: the service reserved the claim folder (with its lease) before
    #: dispatching: the claim goes into it and never creates it
    reserved: bool = False
    #: ``kind == "again"``: the archived original that changed after it was
    #: filed, the output published from it and that output's signature then
    archived: str = ""
    output: str = ""
    output_sig: tuple[int, int, int] | None = None


@dataclass
class Outcome:
    """What became of a job. ``status``:

    ``done`` (cleaned, published, archived), ``failed`` (moved to failed),
    ``not_ready`` (still changing or truncated: keep tracking), ``gone``
    (vanished before the claim), ``transient`` (claimed; retry later).
    ``event`` is what happened, as a :mod:`~despeckled.daemon.policy` event,
    for the service to decide on (``not_ready``); ``decision`` is the
    policy's answer where the worker asked it (``transient``: when to retry).
    """

    status: str
    claim_id: str
    rel: str = ""
    reason: str = ""
    message: str = ""
    output: str = ""
    archived: str = ""
    failed_to: str = ""
    pages: int = 0
    specks_removed: int = 0
    blank_pages: int = 0
    seconds: float = 0.0
    size: int = 0
    extra: dict[str, Any] = field(default_factory=dict)
    event: policy.Event | None = None
    decision: policy.Decision | None = None


def _prefixed(rel: str, exc: BaseException) -> str:
    """Error messages from images/process leave the file name to the caller."""
    msg = str(exc)
    return msg if msg.startswith(rel) or rel in msg else f"{rel}: {msg}"


def signature(st: os.stat_result) -> tuple[int, int, int]:
    return (st.st_size, st.st_mtime_ns, st.st_ino)


def size_mtime(st: os.stat_result) -> tuple[int, int]:
    """What a writer changes: size and mtime (the inode stays when a
    scanner writes on into a file that was renamed away from under it)."""
    return (st.st_size, st.st_mtime_ns)


# --------------------------------------------------------------------------
# manifest


class Claim:
    """A claimed file: its work folder and manifest."""

    def __init__(self, spec: ResolvedWatch, claim_id: str, manifest: dict[str, Any] | None = None) -> None:
        self.spec = spec
        self.id = claim_id
        self.dir = work_root(spec.input) / claim_id
        self.m: dict[str, Any] = manifest if manifest is not None else {}

    @property
    def name(self) -> str:
        return self.m["name"]

    @property
    def rel(self) -> str:
        return self.m["rel"]

    @property
    def rel_dir(self) -> Path:
        return Path(self.rel).parent

    @property
    def work_file(self) -> Path:
        return self.dir / self.name

    @property
    def staging(self) -> Path:
        # the id the file was claimed under: a claim taken over from another
        # daemon lives on in a renamed work folder, its staging stays put
        return staging_root(self.spec.output) / str(self.m.get("claim_id") or self.id)

    def save(self) -> None:
        replace_atomic(self.dir / MANIFEST, json.dumps(self.m, indent=1).encode())
        fsync_dir(self.dir)

    @classmethod
    def load(cls, spec: ResolvedWatch, claim_id: str) -> Claim | None:
        path = work_root(spec.input) / claim_id / MANIFEST
        try:
            m = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (ValueError, UnicodeDecodeError):
            m = {}
        return cls(spec, claim_id, m)

    def finish(self) -> None:
        """Remove the staging and work folders (only our own files remain)."""
        shutil.rmtree(self.staging, ignore_errors=True)
        with contextlib.suppress(FileNotFoundError):
            (self.dir / MANIFEST).unlink()
        _remove_own_dir(self.dir)


#: manifest state -> the policy's stage. ``claiming`` (the claim's rename
#: may or may not have happened) and the moves after the decision are
#: retried for as long as it takes, never failed.
_STAGES = {"claimed": policy.CLAIMED, "publishing": policy.CLEANED}


def history(claim: Claim) -> policy.History:
    """The claim's record, as the policy reads it."""
    m = claim.m
    return policy.History(
        stage=_STAGES.get(m.get("state", ""), policy.PLACING),
        attempts=int(m.get("attempts", 0)), crashes=int(m.get("crashes", 0)),
        last_crash_timed_out=bool(m.get("last_crash_timeout")), transient=int(m.get("transient", 0)),
        changed_after_claim=bool(m.get("changing")),
    )


def rules(spec: ResolvedWatch) -> policy.Rules:
    return policy.Rules(max_retries=spec.max_retries, settle=spec.settle_seconds, stuck_after=spec.stuck_after_seconds)


def _carry_out_fail(claim: Claim, decision: policy.Decision, logger) -> Outcome | None:
    """The policy said fail: do it (the message gets the file's name)."""
    if isinstance(decision, Fail):
        return fail_claim(claim, decision.reason, f"{claim.name}: {decision.message}", logger)
    return None


def _remove_own_dir(d: Path) -> None:
    """Remove a work folder holding only despeckled's temp files and its
    lease; leave anything else (never delete a file we were given)."""
    with contextlib.suppress(OSError):  # gone already, or not empty: keep it
        for p in d.iterdir():
            if is_temp_name(p.name) or p.name == LEASE:
                p.unlink()
        d.rmdir()


# --------------------------------------------------------------------------
# placing files without overwriting


def _identical(a: Path, b: Path) -> bool:
    try:
        if os.path.islink(a) or os.path.islink(b):
            return os.path.islink(a) and os.path.islink(b) and os.readlink(a) == os.readlink(b)
        return filecmp.cmp(a, b, shallow=False)
    except OSError:
        return False


def _copy_then_publish(src: Path, target: Path, tmp: Path) -> None:
    """Cross-filesystem move, step 1: copy ``src`` to ``tmp``, fsync, publish
    as ``target`` (no-replace). The caller removes ``src`` afterwards."""
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    if os.path.islink(src):
        os.symlink(os.readlink(src), tmp)  # the link itself, never its target
    else:
        with open(src, "rb") as fin, open(tmp, "wb") as fout:
            shutil.copyfileobj(fin, fout, 1 << 20)
            fout.flush()
            os.fsync(fout.fileno())
        shutil.copystat(src, tmp)
    try:
        rename_noreplace(tmp, target)
    except OSError:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


def _place(claim: Claim, src: Path, root: Path, sub: Path, name: str, key: str, *, sidecar: bool = False) -> Path:
    """Move ``src`` to ``directory/name`` or the first free ``name-N``, never
    overwriting, recording the target in the manifest (``key``) before the
    move so a restart can tell whether it happened. Idempotent."""
    directory = root / sub
    tmp = directory / f".{claim.id}.{key}{TEMP_MARKER}"
    n = 0
    recorded = claim.m.get(key)
    if recorded:
        target = Path(recorded)
        n = int(claim.m.get(key + "_n", 0))
        if not os.path.lexists(src):
            return target  # moved before the crash
        copied = bool(claim.m.get(key + "_copy"))  # a cross-filesystem copy was under way
        if os.path.lexists(target) and (same_file(src, target) or (copied and _identical(src, target))):
            # link+unlink fallback or cross-filesystem copy interrupted: two
            # names or two copies; the target is complete, drop the source
            src.unlink()
            fsync_dir(src.parent)
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
            return target
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    mkdir_below(root, sub)  # never the configured folder itself: a missing one waits
    while True:
        target = directory / numbered_name(name, n)
        if os.path.lexists(target) or (sidecar and os.path.lexists(_sidecar_path(target))):
            n += 1
            continue
        claim.m[key], claim.m[key + "_n"] = str(target), n
        claim.save()
        try:
            rename_noreplace(src, target)
        except FileExistsError:
            n += 1
            continue
        except OSError as exc:
            if exc.errno != errno.EXDEV:
                raise
            claim.m[key + "_copy"] = True
            claim.save()
            try:
                _copy_then_publish(src, target, tmp)
            except FileExistsError:
                n += 1
                continue
            src.unlink()
        fsync_dir(directory)
        fsync_dir(src.parent)
        return target


def _sidecar_path(target: Path) -> Path:
    return target.with_name(target.name + ".error.json")


def _write_sidecar(claim: Claim, target: Path) -> Path:
    """Write ``NAME.error.json`` next to the failed file (temp, fsync,
    no-replace rename). Idempotent: an existing sidecar is kept."""
    path = _sidecar_path(target)
    if os.path.lexists(path):
        return path
    err = claim.m.get("error", {})
    doc = {
        "file": target.name,
        "original_path": str(claim.spec.input / claim.rel),
        "reason": err.get("reason", "unknown"),
        "message": err.get("message", ""),
        "failed_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "claimed_at": claim.m.get("claimed_at"),
        "attempts": claim.m.get("attempts", 0),
        "crashes": claim.m.get("crashes", 0),
        "transient_errors": claim.m.get("transient", 0),
        "daemon_version": __version__,
    }
    tmp = path.with_name(f".{claim.id}.sidecar{TEMP_MARKER}")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
        f.flush()
        os.fsync(f.fileno())
    try:
        rename_noreplace(tmp, path)
    except FileExistsError:
        tmp.unlink()
    fsync_dir(path.parent)
    return path


# --------------------------------------------------------------------------
# the steps


def claim_file(spec: ResolvedWatch, claim_id: str, rel: str, *, extra: dict[str, Any] | None = None,
               reserved: bool = False) -> Claim:
    """Claim ``input/rel`` by atomic rename into its work folder. The
    manifest is written first (state ``claiming``).

    ``reserved``: the work folder was created (with a lease) by the service;
    if it is gone, another daemon took the reservation over, and the claim
    fails with ``FileNotFoundError`` instead of creating a folder without a
    lease.

    The claim is a plain ``rename``, never the link + unlink fallback of
    :func:`rename_noreplace`: two daemons on NFS/SMB could both link one inbox
    file. The target is in a folder only its holder writes to, so nothing can
    be overwritten."""
    src = spec.input / rel
    claim = Claim(spec, claim_id)
    if reserved:
        if not claim.dir.is_dir():
            raise FileNotFoundError(errno.ENOENT, "reservation taken over", str(claim.dir))
    else:
        mkdir_below(spec.input, Path(STATE_DIR) / "work")  # never the input folder itself
        claim.dir.mkdir(exist_ok=False)
    claim.m = {
        "claim_id": claim_id,
        "rel": rel,
        "name": src.name,
        "state": "claiming",
        "claimed_at": time.time(),
        "attempts": 0,
        "crashes": 0,
        "transient": 0,
        **(extra or {}),
    }
    claim.save()
    try:
        if os.path.lexists(claim.work_file):
            raise FileExistsError(errno.EEXIST, "name taken in the work folder", str(claim.work_file))
        os.rename(src, claim.work_file)
    except OSError:
        _drop_claim(claim, keep_lease=reserved)
        raise
    fsync_dir(src.parent)
    # not saved: on disk "claiming" + the original in the work folder already
    # means claimed (see advance); one fsync less per file
    claim.m["state"] = "claimed"
    return claim


def _drop_claim(claim: Claim, *, keep_lease: bool = False) -> None:
    """Undo a claim that did not happen. ``keep_lease``: leave the (reserved)
    folder and its lease for the service to release."""
    shutil.rmtree(claim.staging, ignore_errors=True)
    with contextlib.suppress(FileNotFoundError):
        (claim.dir / MANIFEST).unlink()
    if not keep_lease:
        _remove_own_dir(claim.dir)


def _outcome(claim: Claim, status: str, **kw: Any) -> Outcome:
    return Outcome(status, claim.id, claim.m.get("rel", ""), size=int(claim.m.get("size", 0)), **kw)


def fail_claim(claim: Claim, reason: str, message: str, logger=None) -> Outcome:
    """Move the claimed original to ``failed`` (keeping its relative folder)
    and write the sidecar."""
    logger = logger or log.get_logger("lifecycle")
    if claim.m.get("state") != "failing":
        claim.m["state"] = "failing"
        claim.m["error"] = {"reason": reason, "message": message}
        claim.save()
    err = claim.m.get("error", {"reason": reason, "message": message})
    target = _place(claim, claim.work_file, claim.spec.failed, claim.rel_dir, claim.name, "failed_to", sidecar=True)
    _write_sidecar(claim, target)
    shutil.rmtree(claim.staging, ignore_errors=True)
    claim.finish()
    logger.error(log.FAILED, path=str(claim.spec.input / claim.rel), failed_to=str(target),
                 reason=err["reason"], message=err["message"], size=claim.m.get("size"))
    return _outcome(claim, "failed", reason=err["reason"], message=err["message"], failed_to=str(target))


def _output_name(spec: ResolvedWatch, name: str) -> str:
    if spec.output_format:
        return Path(name).stem + "." + spec.output_format.lower().lstrip(".")
    return name


def _clean(claim: Claim, logger) -> Outcome | None:
    """State ``claimed``: clean into the staging folder; on success move to
    ``publishing``. Returns an Outcome when the file failed."""
    from despeckled.process import clean_file  # heavy import, workers only

    spec = claim.spec
    shutil.rmtree(claim.staging, ignore_errors=True)
    _make_staging(spec, claim.staging.name)  # the id it was claimed under (a taken-over claim keeps it)
    claim.m["attempts"] = int(claim.m.get("attempts", 0)) + 1  # saved with the next step
    # the staging folder is empty, so the name clean_file picks (the source's,
    # with the output format's suffix) is exactly the staged name
    out_name = _output_name(spec, claim.name) if spec.output_format else None
    t0 = time.perf_counter()
    before = size_mtime(os.stat(claim.work_file))
    try:
        report = clean_file(claim.work_file, claim.staging, spec.clean, out_name=out_name,
                            out_format=spec.output_format, limits=spec.limits, force_pdf=spec.force_pdf)
    except errors.BadInputError as exc:
        if claim.m.get("changing") or size_mtime(os.stat(claim.work_file)) != before:
            # cut short because the scanner is still writing into it: wait for it
            return _changed_after_claim(claim, logger, _prefixed(claim.rel, exc))
        return fail_claim(claim, exc.reason, _prefixed(claim.rel, exc), logger)
    except MemoryError:
        return fail_claim(claim, "too_large", f"{claim.name}: out of memory while cleaning", logger)
    claim.m.pop("changing", None)
    claim.m.update(_report_fields(report), clean_seconds=round(time.perf_counter() - t0, 4), decoded=list(before))
    if report.all_blank:
        _archive_only(claim, policy.decide(policy.AllBlank(int(report.pages)), history(claim), rules(spec)), logger,
                      str(spec.input / claim.rel))
        return None
    claim.m["state"] = "publishing"
    # not saved here: _place saves this state together with the output name it
    # picks, before the rename (a crash before that just cleans again)
    _log_cleaned(logger, claim, str(spec.input / claim.rel))
    return None


def _report_fields(report) -> dict[str, Any]:
    """What the manifest keeps of a :class:`~despeckled.process.FileReport`."""
    per_page = report.stats.get("per_page", []) if report.stats else []
    fields: dict[str, Any] = dict(pages=int(report.pages), specks_removed=int(report.specks_removed),
                                  passed_through=report.passed_through or "",
                                  blank_pages=list(report.blank_pages), dropped_pages=list(report.dropped_pages),
                                  # per page: the skew found, its confidence, whether it was straightened
                                  skew=[[p.get("skew_angle"), p.get("skew_confidence"), bool(p.get("deskewed"))]
                                        for p in per_page])
    if report.output is not None:
        staged = Path(report.output)
        fields.update(staged=str(staged), out_name=staged.name)
    return fields


def _archive_only(claim: Claim, decision: policy.Decision, logger, path: str) -> None:
    """Carry out :class:`~despeckled.daemon.policy.ArchiveOnly`: nothing is
    published, the original goes to the archive as it is (next state)."""
    assert isinstance(decision, policy.ArchiveOnly), decision
    claim.m.update(state="archiving", no_output=decision.reason)
    claim.save()
    m = claim.m
    logger.info(log.BLANK, path=path, size=m.get("size"), pages=m.get("pages"),
                blank_pages=m.get("blank_pages", []), seconds=m.get("clean_seconds"))


def _log_cleaned(logger, claim: Claim, path: str) -> None:
    """``cleaned``, or ``passed_through`` with the reason the bytes were
    copied unchanged (a text or OCR layer: see ``force_pdf``)."""
    m = claim.m
    fields = dict(path=path, size=m.get("size"), pages=m.get("pages"),
                  specks_removed=m.get("specks_removed"), seconds=m.get("clean_seconds"),
                  blank_pages=m.get("blank_pages", []), skew=m.get("skew", []))
    if m.get("dropped_pages"):
        fields["dropped_pages"] = m["dropped_pages"]
    if m.get("passed_through"):
        logger.info(log.PASSED_THROUGH, reason=str(m["passed_through"]), **fields)
    else:
        logger.info(log.CLEANED, **fields)


def advance(claim: Claim, logger=None, crash: WorkerLost | None = None) -> Outcome:
    """Carry a claim through to the end from whatever state it is in."""
    logger = logger or log.get_logger("lifecycle")
    spec = claim.spec
    state = claim.m.get("state")
    if not claim.m.get("rel") or not claim.m.get("name"):
        return _recover_orphan(claim, logger)
    if state == "claiming":
        src = spec.input / claim.rel
        if os.path.lexists(claim.work_file):
            if os.path.lexists(src) and same_file(src, claim.work_file):
                src.unlink()  # link+unlink fallback interrupted
            claim.m["state"] = state = "claimed"
            claim.save()
        else:
            _drop_claim(claim)
            return _outcome(claim, "not_ready", reason="claim_interrupted")
    if crash is not None and state in ("claimed", "publishing"):
        claim.m["crashes"] = int(claim.m.get("crashes", 0)) + 1
        claim.m["last_crash"] = str(crash)
        claim.m["last_crash_timeout"] = isinstance(crash, TimedOut)
        claim.save()
    if state == "failing":
        err = claim.m.get("error", {})
        return fail_claim(claim, err.get("reason", "unknown"), err.get("message", ""), logger)
    if state == "claimed":
        h = history(claim)
        if crash is None and h.crashes >= policy.MAX_CRASHES:
            crash = WorkerCrashed(claim.m.get("last_crash", "worker crashed"))  # died again before failing it
        if crash is not None:
            failed = _carry_out_fail(claim, policy.decide(crash, h, rules(spec)), logger)
            if failed is not None:
                return failed
        if not os.path.lexists(claim.work_file):
            claim.finish()  # nothing left to do (should not happen)
            return _outcome(claim, "gone", reason="work_file_missing")
        if claim.m.get("changing") and not _settled_again(claim):
            return _still_changing(claim)
        failed = _clean(claim, logger)
        if failed is not None:
            return failed
        state = claim.m["state"]        # publishing, or archiving when there is no output
    if state == "publishing":
        staged = Path(claim.m["staged"])
        if not claim.m.get("output") and not os.path.lexists(staged):
            # staged output lost before publishing was recorded: clean again
            claim.m["state"] = "claimed"
            claim.save()
            return advance(claim, logger)
        if not claim.m.get("output") and (why := _changed_since_decoded(claim)):
            return _changed_after_claim(claim, logger, why)  # never publish a scan still being written
        out = _place(claim, staged, spec.output, claim.rel_dir, claim.m["out_name"], "output")
        with contextlib.suppress(OSError):
            claim.m["output_sig"] = list(signature(os.stat(out)))  # saved with the archive name
        claim.m["state"] = state = "archiving"  # saved by _place with the archive name
    if state == "archiving":
        day = _dt.date.fromtimestamp(float(claim.m.get("claimed_at", time.time()))).isoformat()
        archived = _place(claim, claim.work_file, spec.archive, Path(day) / claim.rel_dir, claim.name, "archived")
        output = claim.m.get("output", "")
        claim.finish()
        seconds = round(time.time() - float(claim.m.get("claimed_at", time.time())), 4)
        logger.info(log.ARCHIVED, path=str(spec.input / claim.rel), output=output, archived=str(archived),
                    size=claim.m.get("size"), pages=claim.m.get("pages"),
                    specks_removed=claim.m.get("specks_removed"), seconds=seconds)
        return _outcome(claim, "done", output=output, archived=str(archived), pages=int(claim.m.get("pages", 0)),
                        specks_removed=int(claim.m.get("specks_removed", 0)),
                        blank_pages=len(claim.m.get("blank_pages", [])), seconds=seconds,
                        extra={"passed_through": str(claim.m.get("passed_through") or ""),
                               "decoded": claim.m.get("decoded"), "output_sig": claim.m.get("output_sig")})
    return _recover_orphan(claim, logger)


def _changed_since_decoded(claim: Claim) -> str | None:
    """Why the claimed original is not what was decoded (size or mtime,
    from the claimed file itself), or None."""
    decoded = claim.m.get("decoded")
    if not decoded:
        return None
    now = size_mtime(os.stat(claim.work_file))
    if now == tuple(decoded):
        return None
    return f"{claim.name}: {decoded[0]} bytes when decoded, {now[0]} bytes now"


def _changed_after_claim(claim: Claim, logger, why: str) -> Outcome:
    """Still being written: drop what was cleaned, let it settle again in
    the work folder, then clean the complete file (the policy says when)."""
    shutil.rmtree(claim.staging, ignore_errors=True)
    for key in ("staged", "out_name", "decoded"):
        claim.m.pop(key, None)
    claim.m.update(state="claimed", changing=True, seen=list(size_mtime(os.stat(claim.work_file))))
    claim.save()
    logger.warning("changed_after_claim", path=str(claim.spec.input / claim.rel), claim_id=claim.id, message=why,
                   settle_seconds=claim.spec.settle_seconds,
                   note="still being written after it settled: its output is thrown away and it is cleaned "
                        "again once complete; raise settle_seconds above the scanner's pause between pages")
    return _still_changing(claim, why)


def _settled_again(claim: Claim) -> bool:
    """A claim seen changing: unchanged since it was last looked at?"""
    now = list(size_mtime(os.stat(claim.work_file)))
    if now == claim.m.get("seen"):
        return True
    claim.m["seen"] = now
    claim.save()
    return False


def _still_changing(claim: Claim, why: str = "") -> Outcome:
    event = policy.ChangedAfterClaim(why or f"{claim.name}: still changing")
    decision = policy.decide(event, history(claim), rules(claim.spec))
    if isinstance(decision, Fail):
        return fail_claim(claim, decision.reason, f"{claim.name}: {decision.message}")
    return _outcome(claim, "transient", reason="changed_after_claim", message=event.message, event=event,
                    decision=decision)


def _folder_missing(job: Job, exc: errors.FolderMissingError) -> Outcome:
    """A configured folder is gone for now: the file waits (inbox or work
    folder), nothing is counted against it, the watch goes down."""
    h = policy.History()
    with contextlib.suppress(Exception):
        claim = Claim.load(job.watch, job.claim_id)
        if claim is not None:
            h = history(claim)
    if job.kind == "again":
        h = policy.History(stage=policy.ARCHIVED)
    event = policy.FolderMissing(exc.folder, exc.reason, str(exc))
    return Outcome("not_ready" if h.stage == policy.UNCLAIMED else "transient", job.claim_id, job.rel,
                   reason="folder_missing", message=str(exc), event=event, decision=policy.decide(event, h, rules(job.watch)))


def clean_again(job: Job, logger=None) -> Outcome:
    """The archived original changed after it was filed (the scanner was
    still writing into it) and has settled again: clean the complete file
    and publish it in place of the output cleaned from the incomplete one,
    if that output is still exactly as published (else next to it, under
    a new name: never overwrite what someone else touched)."""
    from despeckled.process import clean_file  # heavy import, workers only

    logger = logger or log.get_logger("lifecycle")
    spec, src, old = job.watch, Path(job.archived), Path(job.output) if job.output else None
    try:
        before = size_mtime(os.stat(src))
    except FileNotFoundError:
        return Outcome("gone", job.claim_id, job.rel, reason="archive_moved")
    staging = _make_staging(spec, job.claim_id)
    try:
        try:
            report = clean_file(src, staging, spec.clean, out_name=old.name if old else None,
                                out_format=spec.output_format, limits=spec.limits, force_pdf=spec.force_pdf)
        except errors.BadInputError as exc:  # cut short: still being written
            return Outcome("not_ready", job.claim_id, job.rel, reason="changed_after_claim", message=str(exc),
                           event=policy.ChangedAfterClaim(_prefixed(job.rel, exc)))
        if size_mtime(os.stat(src)) != before:
            return Outcome("not_ready", job.claim_id, job.rel, reason="changed_after_claim",
                           event=policy.ChangedAfterClaim(f"{src.name}: changed while it was cleaned"))
        if report.output is None:  # every page blank and dropped: nothing to publish
            return Outcome("done", job.claim_id, job.rel, output=job.output, archived=str(src), size=before[0],
                           extra={"decoded": list(before), "output_sig": list(job.output_sig or ())})
        staged = Path(report.output)
        directory = mkdir_below(spec.output, Path(job.rel).parent)
        replaced = False
        if old is not None and job.output_sig is not None and old.parent == directory:
            with contextlib.suppress(OSError):
                replaced = signature(os.stat(old)) == tuple(job.output_sig)
        if replaced:
            os.replace(staged, old)  # our own incomplete output, untouched since: replaced in one step
            fsync_dir(directory)
            target = old
        else:
            target = publish_unique(staged, directory, staged.name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    logger.info("cleaned_again", path=str(spec.input / job.rel), archived=str(src), output=str(target),
                replaced=str(old) if replaced else None, size=before[0], pages=int(report.pages),
                specks_removed=int(report.specks_removed))
    return Outcome("done", job.claim_id, job.rel, output=str(target), archived=str(src), pages=int(report.pages),
                   size=before[0], extra={"decoded": list(before), "output_sig": list(signature(os.stat(target)))})


def _recover_orphan(claim: Claim, logger) -> Outcome:
    """A work folder without a usable manifest: keep every non-temp file by
    failing it (never delete what we were given), then drop the folder."""
    outcome = _outcome(claim, "gone", reason="orphan")
    try:
        entries = [p for p in claim.dir.iterdir() if p.name not in (MANIFEST, LEASE) and not is_temp_name(p.name)]
    except FileNotFoundError:
        return outcome
    for p in entries:
        c = Claim(claim.spec, claim.id, {"rel": p.name, "name": p.name, "claim_id": claim.id,
                                         "state": "failing", "claimed_at": time.time(),
                                         "error": {"reason": "recovered", "message":
                                                   f"{p.name}: found in an interrupted work folder without a manifest"}})
        c.save()
        outcome = fail_claim(c, "recovered", c.m["error"]["message"], logger)
    _drop_claim(claim)
    return outcome


#: Raster formats: cleaning decodes every page through the same reader that
#: :func:`despeckled.io.images.verify_complete` uses (same truncation checks), so
#: the clean itself is the completeness check and each page is decoded once.
#: Other formats (PDF, which may be passed through without decoding its
#: images) are verified first.
DECODE_ONCE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp"})


def _decode_event(rel: str, exc: BaseException) -> policy.Event:
    """What an exception from decoding a not-yet-claimed file means."""
    if isinstance(exc, errors.TruncatedInputError):
        return policy.Truncated(_prefixed(rel, exc))
    if isinstance(exc, errors.BadInputError):
        return policy.PermanentError(exc.reason, _prefixed(rel, exc))
    if isinstance(exc, FileNotFoundError):
        return policy.Vanished()
    if isinstance(exc, PermissionError):
        return policy.PermanentError("unreadable", f"{rel}: cannot be read: {exc.strerror}")
    if isinstance(exc, OSError):
        if is_transient(exc):
            return TransientError(str(exc))
        return policy.PermanentError("unreadable", f"{rel}: cannot be read: {exc}")
    if isinstance(exc, errors.DespeckledError):  # OutputError: our side, not the file's fault
        return TransientError(str(exc))
    if isinstance(exc, MemoryError):
        return policy.PermanentError("too_large", f"{rel}: out of memory while decoding")
    return policy.PermanentError("decode_error", f"{rel}: could not be decoded: {type(exc).__name__}: {exc}")


def _unclaimed_outcome(job: Job, event: policy.Event) -> Outcome:
    """Report a not-yet-claimed file's event; the service (which keeps its
    history until the claim) decides."""
    if isinstance(event, policy.Vanished):
        return Outcome("gone", job.claim_id, job.rel, event=event)
    if isinstance(event, policy.Truncated):
        return Outcome("not_ready", job.claim_id, job.rel, reason="truncated", message=event.message, event=event)
    assert isinstance(event, TransientError), event
    return Outcome("not_ready", job.claim_id, job.rel, reason="transient", message=event.message, event=event)


def process_new(job: Job, logger=None) -> Outcome:
    """Check that a settled file decodes completely, every page, then claim
    it and carry it through.

    Raster files are cleaned straight from the inbox into the (hidden)
    staging folder *before* the claim: that decode is the completeness check,
    and the file is claimed only if it succeeded and the file did not change
    meanwhile. A truncated or changed file is left alone (``not_ready``) and
    its staged output dropped; nothing is claimed until a file decodes whole.
    """
    logger = logger or log.get_logger("lifecycle")
    spec = job.watch
    src = spec.input / job.rel
    try:
        st = os.lstat(src)
    except FileNotFoundError:
        return Outcome("gone", job.claim_id, job.rel)
    extra: dict[str, Any] = {"size": st.st_size}
    if job.crashes:
        extra["crashes"] = job.crashes  # worker deaths before the claim: the manifest keeps the count now
    pre_cleaned = None
    staging = staging_root(spec.output) / job.claim_id
    if job.fail is not None:
        reason, message = job.fail.reason, job.fail.message
    elif stat.S_ISLNK(st.st_mode):
        reason, message = "symlink", f"{job.rel}: is a symbolic link; links are never followed (the link itself was moved)"
    elif not stat.S_ISREG(st.st_mode):
        reason, message = "not_a_file", f"{job.rel}: not a regular file"
    else:
        if job.signature is not None and signature(st) != tuple(job.signature):
            return Outcome("not_ready", job.claim_id, job.rel, reason="changed")
        reason = message = ""
        t0 = time.perf_counter()
        decode_once = src.suffix.lower() in DECODE_ONCE_SUFFIXES
        if decode_once:
            try:
                shutil.rmtree(staging, ignore_errors=True)
                _make_staging(spec, job.claim_id)
            except OSError as exc:  # the output folder's problem, not the file's: it waits in the inbox
                logger.warning(log.RETRYING, path=str(src), error=f"output folder not writable: {exc}")
                return Outcome("not_ready", job.claim_id, job.rel, reason="transient", message=str(exc))
        try:
            if decode_once:
                from despeckled.process import clean_file  # heavy import, workers only

                pre_cleaned = clean_file(src, staging, spec.clean, out_format=spec.output_format,
                                         out_name=_output_name(spec, src.name) if spec.output_format else None,
                                         limits=spec.limits, force_pdf=spec.force_pdf)
                extra["pages"] = int(pre_cleaned.pages)
            else:
                extra["pages"] = int(images.verify_complete(src, spec.limits))
        except BaseException as exc:
            if not isinstance(exc, Exception) and not isinstance(exc, MemoryError):
                raise
            shutil.rmtree(staging, ignore_errors=True)
            pre_cleaned = None
            if isinstance(exc, OSError) and exc.filename and str(exc.filename).startswith(str(staging)):
                exc = errors.OutputError(str(exc))  # writing the staged output failed: not the file's fault
            event = _decode_event(job.rel, exc)
            if not isinstance(event, policy.PermanentError):
                if isinstance(event, TransientError):
                    logger.warning(log.RETRYING, path=str(src), error=event.message)
                return _unclaimed_outcome(job, event)
            decision = policy.decide(event, policy.History(), rules(spec))
            assert isinstance(decision, Fail)
            reason, message = decision.reason, decision.message
        if not reason:
            try:
                st2 = os.lstat(src)
            except FileNotFoundError:
                st2 = None
            if st2 is None or signature(st2) != signature(st):
                shutil.rmtree(staging, ignore_errors=True)
                return Outcome("gone" if st2 is None else "not_ready", job.claim_id, job.rel, reason="changed")
        if pre_cleaned is not None:
            extra.update(_report_fields(pre_cleaned), clean_seconds=round(time.perf_counter() - t0, 4), attempts=1,
                         decoded=list(size_mtime(st)))
    try:
        claim = claim_file(spec, job.claim_id, job.rel, extra=extra, reserved=job.reserved)
    except FileNotFoundError:
        shutil.rmtree(staging, ignore_errors=True)
        return Outcome("gone", job.claim_id, job.rel)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        logger.warning("claim_failed", path=str(src), claim_id=job.claim_id, error=str(exc),
                       note="left in the inbox; a claim that did happen is picked up from the work folder")
        return Outcome("not_ready", job.claim_id, job.rel, reason="claim_failed", message=str(exc))
    logger.info(log.CLAIMED, path=str(src), size=st.st_size, claim_id=job.claim_id)
    if reason:
        return fail_claim(claim, reason, message, logger)
    if pre_cleaned is not None and signature(os.lstat(claim.work_file)) != signature(st):
        # replaced between the last check and the rename: clean what we hold
        shutil.rmtree(claim.staging, ignore_errors=True)
        pre_cleaned = None
    if pre_cleaned is not None and pre_cleaned.all_blank:
        _archive_only(claim, policy.decide(policy.AllBlank(int(pre_cleaned.pages)), history(claim), rules(spec)),
                      logger, str(src))
    elif pre_cleaned is not None:
        # cleaned before the claim: straight to publishing (saved by _place)
        claim.m["state"] = "publishing"
        _log_cleaned(logger, claim, str(src))
    return advance(claim, logger)


def run_job(job: Job, logger=None) -> Outcome:
    """Entry point in a worker: never raises (an unexpected error leaves the
    claim for a retry, reported as ``transient`` with the policy's
    :class:`~despeckled.daemon.policy.Retry` saying when)."""
    logger = logger or log.get_logger("worker")
    try:
        if job.kind == "new":
            return process_new(job, logger)
        if job.kind == "again":
            return clean_again(job, logger)
        claim = Claim.load(job.watch, job.claim_id)
        if claim is None:
            if job.kind == "resume" and (work_root(job.watch.input) / job.claim_id).exists():
                claim = Claim(job.watch, job.claim_id, {})
                return _recover_orphan(claim, logger)
            return Outcome("gone", job.claim_id, job.rel, reason="no_claim")
        if job.transient:
            # a retry after a transient error: counted in the manifest, which
            # the policy reads (past max_retries the file is failed)
            claim.m["transient"] = int(claim.m.get("transient", 0)) + 1
            claim.save()
            event = TransientError(claim.m.get("last_transient", "I/O error"))
            failed = _carry_out_fail(claim, policy.decide(event, history(claim), rules(job.watch)), logger)
            if failed is not None:
                return failed
        return advance(claim, logger, crash=job.crash)
    except errors.FolderMissingError as exc:
        return _folder_missing(job, exc)
    except Exception as exc:
        return _after_error(job, exc, logger)


def _after_error(job: Job, exc: Exception, logger) -> Outcome:
    """An unexpected error while carrying a file: record it in the claim's
    manifest and ask the policy when to try again."""
    msg = f"{type(exc).__name__}: {exc}"
    h = policy.History()
    with contextlib.suppress(Exception):
        claim = Claim.load(job.watch, job.claim_id)
        if claim is not None:
            claim.m["last_transient"] = msg
            claim.save()
            h = history(claim)
        elif (work_root(job.watch.input) / job.claim_id).exists():
            h = policy.History(stage=policy.PLACING)  # a work folder without a manifest: recovered on retry
    decision = policy.decide(TransientError(msg), h, rules(job.watch))
    logger.warning(log.RETRYING, path=str(job.watch.input / job.rel) if job.rel else None,
                   claim_id=job.claim_id, error=msg)
    return Outcome("transient", job.claim_id, job.rel, reason="transient" if is_transient(exc) else "error",
                   message=msg, event=TransientError(msg), decision=decision, extra={"tries": h.transient + 1})


def pending_claims(input_dir: Path) -> list[str]:
    """Claim ids with a work folder (to resume at startup)."""
    try:
        return sorted(p.name for p in work_root(input_dir).iterdir() if p.is_dir() and not p.is_symlink())
    except FileNotFoundError:
        return []


def is_claimed(input_dir: Path, claim_id: str) -> bool:
    """True once the file was claimed (a manifest exists), not merely
    reserved."""
    return (work_root(input_dir) / claim_id / MANIFEST).exists()


def live_claim_ids(input_dir: Path) -> set[str]:
    """Every id a staging folder of a live claim may carry: the work
    folders' names and the ids their manifests were claimed under (a claim
    taken over from another daemon keeps its staging folder)."""
    ids = set(pending_claims(input_dir))
    for cid in list(ids):
        with contextlib.suppress(OSError, ValueError, UnicodeDecodeError, AttributeError):
            m = json.loads((work_root(input_dir) / cid / MANIFEST).read_text(encoding="utf-8"))
            if m.get("claim_id"):
                ids.add(str(m["claim_id"]))
    return ids


def staging_ids(output_dir: Path) -> list[str]:
    try:
        return [p.name for p in staging_root(output_dir).iterdir()]
    except FileNotFoundError:
        return []


def clean_staging(output_dir: Path, keep: set[str], ids: list[str] | None = None) -> None:
    """Remove staging folders (``ids``, default: all there are) of claims that
    no longer exist (crash after the claim was finished but before its staging
    folder went)."""
    for name in staging_ids(output_dir) if ids is None else ids:
        if name not in keep:
            shutil.rmtree(staging_root(output_dir) / name, ignore_errors=True)
