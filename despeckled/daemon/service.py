"""The daemon: wires config, watchers, readiness, the worker pool, signals,
sd_notify and the state file.

Everything the daemon does happens in :meth:`Service.step`, a single,
non-blocking-by-default step with an injectable clock (``now``), so tests can
drive it deterministically; :meth:`Service.run` just calls it in a loop until
a signal asks it to stop. One step:

1. drain watcher events (hints) into the per-watch :class:`SettleTracker`;
2. supervise observers, run due scans (start, periodic, after a restart);
3. poll the trackers: newly settled files join the watch's ready queue;
   every quarter ``claim_lease_seconds``, list the work folder for claims
   that need a daemon (ours without a live job, another's whose holder died
   or whose lease expired: taken over; :mod:`despeckled.daemon.claims`) and
   renew the leases of every claim we hold;
4. collect finished jobs from the workers, kill overdue ones, and carry out
   what :func:`despeckled.daemon.policy.decide` makes of each (wait, retry
   after N seconds, fail): the service keeps a file's history until it is
   claimed, the claim's manifest after that;
5. dispatch: resumed claims first, then settled files, only to idle workers
   (backpressure: a file is claimed only when a worker is free to take it);
   a new file is first reserved (its claim folder made, with our lease), so
   other daemons on the same inbox leave it alone;
6. every second: state file, ``STATUS=``, (if healthy) ``WATCHDOG=1`` and
   the metrics' gauges (the metrics textfile when due).

``READY=1`` is sent once every watch is being watched, interrupted claims
have been queued for recovery, and the files already present are tracked.
"""

from __future__ import annotations

import collections
import dataclasses
import heapq
import itertools
import os
import queue
import shutil
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from despeckled import __version__, log
from despeckled.daemon import claims, health, lifecycle, mounts, policy
from despeckled.daemon.claims import ClaimScanner, Holder
from despeckled.daemon.metrics import Exporter, Metrics
from despeckled.config import AppConfig, ResolvedWatch, load_config
from despeckled.errors import ConfigError, DespeckledError
from despeckled.io.fsutil import mkdir_below
from despeckled.daemon.lifecycle import Job, Outcome
from despeckled.daemon.pool import WorkerPool
from despeckled.daemon.readiness import Candidate, Filed, FiledTracker, SettleTracker
from despeckled.daemon.sdnotify import Notifier, watchdog_interval
from despeckled.daemon.state import StateFile, choose_path
from despeckled.daemon.watcher import Change, DefaultFilter, WatchSource
from despeckled.config import check_layout  # the one layout check, shared with check-config


#: How often each watch's folders are checked (see :mod:`despeckled.daemon.health`).
HEALTH_INTERVAL = 1.0


def _tuple(v) -> tuple | None:
    return tuple(v) if v else None


@dataclass
class Watch:
    """Runtime state of one watch folder; ``spec`` is its settings, the same
    object every job for it carries to a worker."""

    spec: ResolvedWatch
    source: WatchSource
    tracker: SettleTracker
    polling: bool
    polling_reason: str
    health: health.WatchHealth
    ready: collections.deque = field(default_factory=collections.deque)
    done: int = 0
    failed: int = 0
    blank_pages: int = 0
    in_flight: int = 0
    last_error: str | None = None
    scanner: ClaimScanner | None = None
    retired: bool = False
    #: the input folder was there and watched (its source started, claims recovered)
    started: bool = False

    @property
    def key(self) -> str:
        return str(self.spec.input)

    @property
    def down(self) -> bool:
        return self.health.down

    @property
    def input_down(self) -> bool:
        return self.health.problem is not None and self.health.problem.role == "input"


@dataclass
class InFlight:
    watch: Watch
    job: Job
    path: Path | None
    started: float


class Service:
    def __init__(
        self,
        config: AppConfig,
        config_path: Path | None = None,
        *,
        state_path: Path | None = None,
        notifier: Notifier | None = None,
        clock=time.monotonic,
        log_json: bool | None = None,
    ) -> None:
        self.config = config
        self.config_path = config_path
        self.clock = clock
        self.log = log.get_logger("service")
        self.notifier = notifier or Notifier()
        self.log_json = log_json
        self.events: queue.SimpleQueue = queue.SimpleQueue()
        self.watches: dict[str, Watch] = {}
        self.jobs: collections.deque[tuple[Watch, Job, Path | None]] = collections.deque()
        self.delayed: list[tuple[float, int, Watch, Job, Path | None]] = []
        self._seq = itertools.count()
        self.inflight: dict[str, InFlight] = {}
        self._retrack_later: list[tuple[Watch, Path]] = []
        self._state_written = False
        self.pool = WorkerPool(config.daemon.workers, log_json=log_json, log_level=config.log_level, clock=clock)
        #: this daemon run, as its claims' leases name it
        self.holder = Holder.me()
        self._next_renew = 0.0
        self.metrics = Metrics()
        self.exporter = Exporter(self.metrics, listen=config.daemon.metrics_listen, file=config.daemon.metrics_file,
                                 interval=config.daemon.metrics_file_interval_seconds)
        self.state = StateFile(choose_path(state_path, config.daemon.state_file))
        self.started_wall = time.time()
        self.stop_requested = False
        self.reload_requested = False
        self.ready_sent = False
        self.last_progress = clock()
        self._next_state = 0.0
        self._next_watchdog = 0.0
        self._watchdog_every = watchdog_interval()
        self._rr = 0
        self._next_health = 0.0
        d = config.daemon
        self.filed = FiledTracker(d.watch_archived_seconds)

    # ------------------------------------------------------------------ setup
    def _make_watch(self, rw: ResolvedWatch) -> Watch:
        polling, reason = mounts.needs_polling(rw.input, rw.polling)
        source = WatchSource(rw.input, self.events, str(rw.input), polling=polling,
                             poll_interval=rw.poll_interval_seconds,
                             rescan_interval=self.config.daemon.rescan_interval_seconds, filt=DefaultFilter(rw.input),
                             clock=self.clock)
        tracker = SettleTracker(rw.settle_seconds, rw.stuck_after_seconds)
        scanner = ClaimScanner(lifecycle.work_root(rw.input), self.holder, self.config.daemon.claim_lease_seconds)
        roots = {role: getattr(rw, role) for role in health.ROLES}
        return Watch(rw, source, tracker, polling, reason, health.WatchHealth(roots), scanner=scanner)

    def _prepare_folders(self, w: Watch) -> None:
        """Create the configured folders only if the config asks for it
        (``create_folders``); never after start. Other daemons (this host or
        others) may share the inbox: no lock, each file is reserved and
        claimed on its own (see daemon/claims.py)."""
        if w.spec.create_folders:
            for p in (w.spec.input, w.spec.output, w.spec.archive, w.spec.failed):
                p.mkdir(parents=True, exist_ok=True)

    def _recover(self, w: Watch, now: float) -> int:
        """Claims in the work folder that need a daemon: ours without a live
        job, or another's whose holder died or whose lease expired (taken
        over here). Runs at start and every quarter lease."""
        assert w.scanner is not None
        held = self._held_claims()
        n = 0
        for v in w.scanner.step(now, held):
            cid = v.claim_id
            if v.why != "mine":
                new = claims.take_over(w.scanner.work_root, cid, self.holder, self.config.daemon.claim_lease_seconds)
                if new is None:
                    continue  # another daemon won, or it finished meanwhile
                holder = v.holder or {}
                self.log.warning("claim_taken_over", watch=w.key, claim_id=new, previous_claim_id=cid, why=v.why,
                                 previous_host=holder.get("host"), previous_pid=holder.get("pid"))
                cid = new
            self.jobs.append((w, Job("resume", w.spec, cid), None))
            n += 1
        if n:
            self.log.info("recovering", watch=w.key, claims=n)
        return n

    def _held_claims(self) -> set[str]:
        """Claim ids this daemon has a job for: in flight, queued or waiting
        for a retry."""
        held = set(self.inflight)
        held.update(job.claim_id for _, job, _ in self.jobs)
        held.update(job.claim_id for _, _, _, job, _ in self.delayed)
        return held

    def _renew_leases(self, now: float) -> None:
        """Touch the lease of every claim we hold, every quarter lease. A
        lease that is not ours any more (taken over while this host was cut
        off from the share) is dropped: its new holder finishes the file."""
        lease = self.config.daemon.claim_lease_seconds
        if now < self._next_renew:
            return
        self._next_renew = now + lease * claims.RENEW_FRACTION
        lost: set[str] = set()
        waiting = {job.claim_id for _, job, _ in self.jobs if job.kind != "new" or job.reserved}
        waiting.update(job.claim_id for *_, job, _ in self.delayed)
        for cid, w in self._held_watches().items():
            d = lifecycle.work_root(w.spec.input) / cid
            if self.holder.renew(d) or not d.parent.is_dir():
                continue  # renewed, or the share is away: nothing to judge
            other = claims.read_lease(d) if d.is_dir() else None
            # a folder with another's lease, or gone under a job that has not run yet: taken over
            if other is not None or (cid in waiting and cid not in self.inflight and not d.exists()):
                lost.add(cid)
                self.log.error("claim_lost", watch=w.key, claim_id=cid, holder=other,
                               note="another daemon took it over after the lease expired; it finishes the file")
        if lost:
            self.jobs = collections.deque(j for j in self.jobs if j[1].claim_id not in lost)
            self.delayed = [d for d in self.delayed if d[3].claim_id not in lost]
            heapq.heapify(self.delayed)

    def _held_watches(self) -> dict[str, Watch]:
        """Claims with a lease to renew (a filed original cleaned again has none)."""
        out = {cid: inf.watch for cid, inf in self.inflight.items() if inf.job.kind != "again"}
        out.update((job.claim_id, w) for w, job, _ in self.jobs if job.kind != "again")
        out.update((job.claim_id, w) for _, _, w, job, _ in self.delayed if job.kind != "again")
        return out

    def _reserve(self, w: Watch, job: Job) -> Job | None:
        """Create a new file's claim folder with our lease before a worker
        decodes it; ``None`` when another daemon has it."""
        if job.kind != "new" or job.reserved:
            return job
        root = lifecycle.work_root(w.spec.input)
        if claims.reserve(root, job.claim_id, self.holder, self.config.daemon.claim_lease_seconds) is None:
            return None
        return dataclasses.replace(job, reserved=True)

    def _clean_staging(self) -> None:
        """Remove staging folders whose claim is gone. Listed *before* the
        claims: a folder another daemon creates meanwhile has a claim."""
        outs = {w.spec.output for w in self.watches.values()}
        listed = {out: lifecycle.staging_ids(out) for out in outs}
        keep: set[str] = set()
        for w in self.watches.values():
            keep.update(lifecycle.live_claim_ids(w.spec.input))
        for out, ids in listed.items():
            lifecycle.clean_staging(out, keep, ids)

    # ------------------------------------------------------------------ folders up or down
    def _check_health(self, now: float, force: bool = False) -> None:
        """Every second: is each watch's set of folders usable? (See
        :mod:`despeckled.daemon.health`.)"""
        if not force and now < self._next_health:
            return
        self._next_health = now + HEALTH_INTERVAL
        mounts_now, declared = health.read_mounts(), health.declared_mounts()
        for w in self.watches.values():
            if not w.retired:
                self._check_watch(w, now, mounts_now, declared)

    def _check_watch(self, w: Watch, now: float, mounts_now, declared) -> None:
        change = w.health.check(now, mounts_now, declared)
        if change == "down":
            p = w.health.problem
            w.last_error = p.message
            self.log.error("watch_down", watch=w.key, folder=p.folder, role=p.role, reason=p.reason, message=p.message,
                           note="its files wait (nothing is claimed or created) until the folder is back")
        elif change == "up":
            self.log.info("watch_up", watch=w.key, down_seconds=round(w.health.was_down_for, 1))
            w.last_error = None
            if w.started and w.source.polling is False:
                w.source.stop()  # the inbox may be a new folder: watch that one
                w.source.start()
            w.source.next_scan = now
            self._start_watching(w, now)
            if w.started:
                self._recover(w, now)


    def _add_watch(self, rw: ResolvedWatch, now: float) -> Watch:
        w = self._make_watch(rw)
        self._prepare_folders(w)
        self.watches[w.key] = w
        self.metrics.add_watch(w.key)
        self._bring_up(w, now)
        return w

    def _bring_up(self, w: Watch, now: float) -> None:
        """Check the watch's folders; if the inbox is there, recover its
        claims, start watching it and take in what it holds."""
        self._check_watch(w, now, health.read_mounts(), health.declared_mounts())
        self._start_watching(w, now)

    def _start_watching(self, w: Watch, now: float) -> None:
        if w.started or w.input_down:
            return
        mkdir_below(w.spec.input, lifecycle.work_root(Path()))  # in the inbox, never the inbox itself
        w.started = True
        self._recover(w, now)
        w.source.start()
        w.polling = w.source.polling  # inotify may have fallen back to polling
        self._scan(w, now)
        self.log.info("watching", watch=w.key, output=str(w.spec.output), archive=str(w.spec.archive),
                      failed=str(w.spec.failed), polling=w.polling, polling_reason=w.polling_reason,
                      settle_seconds=w.spec.settle_seconds)

    def start(self) -> None:
        """Validate, create folders, lock the state file, recover interrupted claims,
        start watching and take in the files already present; then READY=1."""
        watches = self.config.resolved_watches()
        if not watches:
            raise ConfigError("no [[watch]] folders configured: nothing to do")
        check_layout(watches)
        now = self.clock()
        self.state.lock()
        self.pool.start()
        try:
            try:
                self.exporter.start()
            except OSError as exc:
                raise DespeckledError(f"metrics_listen {self.exporter.listen}: cannot listen: {exc.strerror or exc}") from exc
            for rw in watches:
                w = self._make_watch(rw)
                self._prepare_folders(w)
                self.watches[w.key] = w
                self.metrics.add_watch(w.key)
            self._clean_staging()
            for w in self.watches.values():
                self._bring_up(w, now)
        except BaseException:
            self.close(kill=True)
            raise
        self.ready_sent = True
        self.notifier.ready(self._status_line(now))
        self._write_state(now, force=True)
        if self.exporter.address or self.exporter.file:
            addr = self.exporter.address
            host = f"[{addr[0]}]" if addr and ":" in addr[0] else (addr[0] if addr else "")
            self.log.info("metrics", listen=f"{host}:{addr[1]}" if addr else None,
                          file=str(self.exporter.file) if self.exporter.file else None)
        self.log.info("ready", watches=len(self.watches), pending=sum(len(w.tracker) for w in self.watches.values()),
                      recovering=len(self.jobs), state_file=str(self.state.path), version=__version__)

    # ------------------------------------------------------------------ the step
    def _scan(self, w: Watch, now: float, start: Path | None = None) -> None:
        res = w.source.scan(now, start)
        if res.recovered:
            w.last_error = None  # the outage is over: its error is history (the log keeps it)
        for path, st in res.files:
            w.tracker.propose(path, now, st)

    def _drain_events(self, now: float, limit: int = 100_000) -> None:
        for _ in range(limit):
            try:
                change, path, key = self.events.get_nowait()
            except queue.Empty:
                return
            w = self.watches.get(key)
            if w is None or w.retired:
                continue
            if change == Change.directory:
                if w.source.filter(change, path):
                    self._scan(w, now, start=path)
                continue
            if change == Change.deleted:
                c = w.tracker.items.get(path)
                if c is not None and not c.handed_out:
                    c.next_check = now
                continue
            if w.source.filter(change, path):
                w.tracker.propose(path, now)

    def step(self, now: float | None = None, wait: float = 0.0) -> None:
        """One iteration. ``wait`` bounds how long to block for worker results."""
        now = self.clock() if now is None else now
        if self.reload_requested:
            self.reload_requested = False
            self.reload(now)
        self._drain_events(now)
        if not self.stop_requested:
            self._check_health(now)
            for w in self.watches.values():
                if not w.started or w.input_down:
                    continue  # nothing to watch until the inbox is back
                if w.source.supervise(now):
                    w.last_error = None
                if w.source.scan_due(now):
                    self._scan(w, now)
                self._poll_tracker(w, now)
                if not w.down:
                    self._recover(w, now)  # claims no live job holds: ours, or a dead daemon's
            self._poll_filed(now)
        self._renew_leases(now)
        self._collect(wait, now)
        if not self.stop_requested:
            self._dispatch(now)
        self._write_state(now)

    def _poll_tracker(self, w: Watch, now: float) -> None:
        res = w.tracker.poll(now)
        for c in res.detected:
            self.log.info(log.DETECTED, path=str(c.path), size=c.size)
        for p in res.vanished:
            self.log.info("vanished", path=str(p), note="deleted or moved away before it settled")
        for c in res.stuck:
            self.log.warning(log.STUCK, path=str(c.path), size=c.size, waiting_seconds=round(now - c.first_seen, 1),
                             note="still changing or incomplete; it stays in the inbox")
        for c in res.ready:
            self.log.info(log.SETTLED, path=str(c.path), size=c.size, settle_seconds=round(now - c.stable_since, 2))
            w.ready.append(c)

    def _collect(self, wait: float, now: float) -> None:
        for w, path in self._retrack_later:
            if not w.retired and path not in w.tracker and os.path.lexists(path):
                w.tracker.propose(path, now)
        self._retrack_later.clear()
        finished = self.pool.collect(timeout=wait)
        finished += self.pool.kill_overdue(self.config.daemon.file_timeout_seconds)
        if finished:
            now = self.clock()
        for job, outcome, lost in finished:
            inf = self.inflight.pop(job.claim_id, None)
            if inf is None:
                continue
            inf.watch.in_flight -= 1
            self.last_progress = now
            try:
                if outcome is None:
                    self._worker_lost(inf, lost, now)
                else:
                    self._handle(inf, outcome, now)
                if job.kind == "new":  # not claimed (no manifest): give the reservation back
                    claims.release(lifecycle.work_root(inf.watch.spec.input) / job.claim_id)
            except Exception as exc:  # noqa: BLE001 - one bad outcome never stops the loop
                self.log.exception("internal_error", error=str(exc), claim_id=job.claim_id)

    def _rules(self, w: Watch) -> policy.Rules:
        return policy.Rules(max_retries=w.spec.max_retries, stuck_after=w.tracker.stuck_after,
                            recheck=w.tracker.recheck, settle=w.tracker.settle)

    def _fail_unclaimed(self, w: Watch, job: Job, path: Path | None, decision: policy.Fail, crashes: int = 0) -> None:
        """Carry out a Fail for a file still in the inbox: claim it and fail it."""
        self.jobs.append((w, Job("new", w.spec, claims.new_claim_id(), rel=job.rel, fail=decision, crashes=crashes),
                          path))

    def _wait(self, w: Watch, path: Path | None, decision: policy.Wait, now: float) -> None:
        if path is not None:
            w.tracker.wait(path, now, decision.recheck_in)

    def _worker_lost(self, inf: InFlight, lost: policy.WorkerLost, now: float) -> None:
        """The worker died (or was killed at the timeout) with ``inf`` in hand."""
        w, job, path = inf.watch, inf.job, inf.path
        self.log.error("worker_lost", path=str(path) if path else None, claim_id=job.claim_id, error=str(lost))
        w.last_error = f"{path or job.claim_id}: {lost}"
        claimed = lifecycle.is_claimed(w.spec.input, job.claim_id)  # a reservation alone is no claim
        if job.kind == "resume" or claimed:
            # the manifest keeps a claimed file's history: the worker that
            # resumes it counts the loss there and asks the policy
            self.jobs.append((w, Job("resume", w.spec, job.claim_id, rel=job.rel, crash=lost), path))
            return
        # died before claiming: drop what it may have staged
        shutil.rmtree(lifecycle.staging_root(w.spec.output) / job.claim_id, ignore_errors=True)
        c = w.tracker.items.get(path) if path else None
        if c is None:
            return
        c.crashes += 1  # no manifest yet: the tracker keeps the count, the claim records it
        h = policy.History(crashes=c.crashes, last_crash_timed_out=isinstance(lost, policy.TimedOut))
        decision = policy.decide(lost, h, self._rules(w))
        if isinstance(decision, policy.Fail):
            named = dataclasses.replace(decision, message=f"{job.rel}: {decision.message}")
            self._fail_unclaimed(w, job, path, named, crashes=c.crashes)
        elif isinstance(decision, policy.Wait):
            self._wait(w, path, decision, now)

    def _handle(self, inf: InFlight, outcome: Outcome, now: float) -> None:
        """Carry out what became of a job (the worker's report)."""
        w, job, path = inf.watch, inf.job, inf.path
        st = outcome.status
        if isinstance(outcome.event, policy.FolderMissing):
            self._check_health(now, force=True)  # the watch goes down now, not at the next check
        if job.kind == "again":
            self._filed_outcome(w, job, outcome, now)
            return
        if st in ("done", "failed", "gone") and path is not None:
            # a new file may already sit under the same name (scanners reuse
            # names): track it now rather than at the next rescan
            self._retrack_later.append((w, path))
        self._count(w, outcome)
        if st == "done":
            w.done += 1
            w.blank_pages += outcome.blank_pages
            self._watch_filed(w, job, outcome, now)
        elif st == "failed":
            w.failed += 1
            w.last_error = f"{outcome.rel}: {outcome.reason}: {outcome.message}"
        if st in ("done", "failed", "gone"):
            if path:
                w.tracker.release(path)
        elif st == "not_ready":
            self._not_ready(w, job, path, outcome, now)
        elif st == "transient":
            self._transient(w, job, path, outcome, now)

    def _not_ready(self, w: Watch, job: Job, path: Path | None, outcome: Outcome, now: float) -> None:
        """Still in the inbox (changed, truncated, a blip before the claim):
        the tracker holds its history; the policy says wait or fail."""
        if path is None:
            return
        event = outcome.event or policy.Changed()
        h = policy.History()
        if isinstance(event, policy.Truncated):
            since, checks = w.tracker.truncated(path, now)
            h = policy.History(truncated_for=since, truncated_checks=checks)
            if not event.message:
                event = policy.Truncated(f"{job.rel}: the file ends early")
        decision = policy.decide(event, h, self._rules(w))
        if isinstance(decision, policy.Fail):
            self._fail_unclaimed(w, job, path, decision)
        elif isinstance(decision, policy.Wait):
            self._wait(w, path, decision, now)

    def _transient(self, w: Watch, job: Job, path: Path | None, outcome: Outcome, now: float) -> None:
        """An error while carrying the file; the worker asked the policy,
        with the claim's history, when to try again."""
        decision = outcome.decision
        if isinstance(decision, policy.Wait):   # not claimed: it waits in the inbox
            self._wait(w, path, decision, now)
            return
        if not isinstance(decision, policy.Retry):
            return
        # only an I/O error counts against the file; a missing folder or a
        # scanner still writing is waited for
        counted = not isinstance(outcome.event, (policy.FolderMissing, policy.ChangedAfterClaim))
        if counted:
            w.last_error = f"{outcome.rel or job.claim_id}: {outcome.message}"
            self.log.warning(log.RETRYING, path=str(path) if path else None, claim_id=job.claim_id,
                             error=outcome.message, retry_in=decision.after, tries=outcome.extra.get("tries"))
        heapq.heappush(self.delayed, (now + decision.after, next(self._seq), w,
                                      Job("resume", w.spec, job.claim_id, rel=job.rel, transient=counted), path))

    # ------------------------------------------------------------------ filed originals
    def _watch_filed(self, w: Watch, job: Job, outcome: Outcome, now: float) -> None:
        """Filed: keep an eye on the archived original a while longer, in case
        the scanner is still writing into it (pages appended after a pause)."""
        decoded = outcome.extra.get("decoded")
        if outcome.archived and outcome.output and decoded and self.config.daemon.watch_archived_seconds > 0:
            self.filed.add(Filed(w.key, Path(outcome.archived), job.rel, outcome.output,
                                 _tuple(outcome.extra.get("output_sig")), tuple(decoded)), now)

    def _poll_filed(self, now: float) -> None:
        changed, due = self.filed.poll(now, settle=lambda f: self._settle_of(f.watch))
        for f in changed:
            w = self.watches.get(f.watch)
            self.log.warning("changed_after_claim", path=str(w.spec.input / f.rel) if w else f.rel,
                             archived=str(f.path), output=f.output, size_when_cleaned=f.decoded[0], size_now=f.sig[0],
                             settle_seconds=self._settle_of(f.watch),
                             note="written into after it was filed: it is cleaned again once complete; "
                                  "raise settle_seconds above the scanner's pause between pages")
        for f in due:
            w = self.watches.get(f.watch)
            decision = policy.decide(policy.ChangedAfterClaim(), policy.History(stage=policy.ARCHIVED),
                                     self._rules(w) if w else policy.Rules())
            if w is None or w.retired or not isinstance(decision, policy.CleanAgain):
                self.filed.drop(f)
                continue
            self.jobs.append((w, Job("again", w.spec, claims.new_claim_id(), rel=f.rel, archived=str(f.path),
                                     output=f.output, output_sig=f.output_sig), None))

    def _settle_of(self, key: str) -> float:
        w = self.watches.get(key)
        return w.spec.settle_seconds if w else 0.0

    def _filed_outcome(self, w: Watch, job: Job, outcome: Outcome, now: float) -> None:
        f = self.filed.get(Path(job.archived))
        if f is None:
            return
        if outcome.status == "done":
            self.filed.cleaned(f, now, outcome.output, _tuple(outcome.extra.get("output_sig")),
                               tuple(outcome.extra["decoded"]))
        elif outcome.status == "gone":
            self.filed.drop(f)
        else:  # changed again, a folder gone, an error: look again once it has settled
            self.filed.again(f, now)

    def _count(self, w: Watch, outcome: Outcome) -> None:
        """A finished file's fate into the metrics."""
        if outcome.status == "done":
            through = bool(outcome.extra.get("passed_through"))
            self.metrics.file_finished(w.key, "passed_through" if through else "done", pages=outcome.pages,
                                       specks_removed=outcome.specks_removed, blank_pages=outcome.blank_pages,
                                       seconds=outcome.seconds)
        elif outcome.status == "failed":
            self.metrics.file_finished(w.key, "failed", reason=outcome.reason)

    def _submit(self, w: Watch, job: Job, path: Path | None, now: float) -> bool:
        if not self.pool.submit(job):
            return False
        self.inflight[job.claim_id] = InFlight(w, job, path, now)
        w.in_flight += 1
        return True

    def _dispatch(self, now: float) -> None:
        while self.delayed and self.delayed[0][0] <= now:
            _, _, w, job, path = heapq.heappop(self.delayed)
            self.jobs.append((w, job, path))
        held: list[tuple[Watch, Job, Path | None]] = []
        while self.jobs and self.pool.idle:
            w, job, path = self.jobs[0]
            if w.down:  # its folders are not there: the claim waits in its work folder
                held.append(self.jobs.popleft())
                continue
            reserved = self._reserve(w, job)
            if reserved is None:  # another daemon is on this file
                self.jobs.popleft()
                if path is not None:
                    w.tracker.wait(path, now)
                continue
            if not self._submit(w, reserved, path, now):
                claims.release(lifecycle.work_root(w.spec.input) / job.claim_id)
                break
            self.jobs.popleft()
        self.jobs.extendleft(reversed(held))
        if not self.pool.idle:
            return
        watches = [w for w in self.watches.values() if w.ready and not w.retired and not w.down]
        while watches and self.pool.idle:
            self._rr = (self._rr + 1) % len(watches)
            w = watches[self._rr]
            c: Candidate = w.ready.popleft()
            if c.path in w.tracker and c.handed_out:  # else: gone or put back to wait meanwhile
                rel = os.path.relpath(c.path, w.spec.input)
                key = claims.reservation_key(rel, c.sig) if c.sig else claims.new_claim_id()
                job = self._reserve(w, Job("new", w.spec, key, rel=rel, signature=c.sig, crashes=c.crashes))
                if job is None:  # another daemon reserved it: it goes, or comes back to us
                    w.tracker.wait(c.path, now)
                elif not self._submit(w, job, c.path, now):
                    claims.release(lifecycle.work_root(w.spec.input) / job.claim_id)
                    w.ready.appendleft(c)
                    return
            watches = [w for w in self.watches.values() if w.ready and not w.retired and not w.down]

    # ------------------------------------------------------------------ status
    def counts(self, now: float) -> dict[str, Any]:
        ws = list(self.watches.values())
        waiting = [job for _, job, _ in self.jobs] + [job for *_, job, _ in self.delayed]
        claimed = sum(1 for job in waiting if job.kind == "resume")  # claimed, waiting for a retry or a folder
        return {
            "queue": sum(len(w.tracker.pending()) + len(w.ready) for w in ws) + len(waiting) - claimed,
            "in_flight": len(self.inflight) + claimed,
            "done": sum(w.done for w in ws),
            "failed": sum(w.failed for w in ws),
            "blank_pages": sum(w.blank_pages for w in ws),
            "oldest_pending_seconds": round(max((w.tracker.oldest_age(now) for w in ws), default=0.0), 1),
        }

    def _status_line(self, now: float) -> str:
        c = self.counts(now)
        line = (f"queue={c['queue']} in_flight={c['in_flight']} done={c['done']} failed={c['failed']} "
                f"oldest={c['oldest_pending_seconds']:.0f}s")
        down = [w.health.problem for w in self.watches.values() if w.down]
        if down:
            line += f" down={len(down)}: {down[0].folder} {down[0].reason}"
        return line

    def healthy(self, now: float) -> bool:
        """Everything works: the loop is alive, every folder is there and
        every share answers. (An outage is not healthy, though the daemon is
        fine and waits: systemd's watchdog only needs :meth:`alive`.)"""
        if not self.alive(now):
            return False
        return not any(w.down or w.source.scan_failures for w in self.watches.values())

    def alive(self, now: float) -> bool:
        """Watchers alive and work moving (not wedged)."""
        if not all(w.source.alive for w in self.watches.values()):
            return False
        if self.inflight:
            # the pool kills a job at file_timeout; one far past it means the
            # pool is wedged (an idle spell before it is not a reason)
            oldest = min(inf.started for inf in self.inflight.values())
            if now - oldest > self.config.daemon.file_timeout_seconds * 1.5 + 5:
                return False
        return True

    def snapshot(self, now: float) -> dict[str, Any]:
        watches = []
        for w in self.watches.values():
            stuck = w.tracker.stuck(now)
            watches.append({
                "input": str(w.spec.input), "output": str(w.spec.output), "archive": str(w.spec.archive),
                "failed_dir": str(w.spec.failed), "polling": w.polling, "polling_reason": w.polling_reason,
                "watcher_alive": w.source.alive, "watcher_restarts": w.source.restarts,
                "queue": len(w.tracker.pending()) + len(w.ready), "in_flight": w.in_flight,
                "done": w.done, "failed": w.failed, "blank_pages": w.blank_pages,
                "stuck": [str(c.path) for c in stuck[:50]], "stuck_count": len(stuck),
                "last_error": w.last_error or w.source.last_error,
                "down": None if not w.down else {
                    "folder": w.health.problem.folder, "role": w.health.problem.role,
                    "reason": w.health.problem.reason, "message": w.health.problem.message,
                    "seconds": round(now - (w.health.down_since or now), 1)},
                "scan_failing": w.source.scan_failures > 0,
            })
        return {
            "version": __version__, "config": str(self.config_path) if self.config_path else None,
            "started_at": self.started_wall, "ready": self.ready_sent, "stopping": self.stop_requested,
            "healthy": self.healthy(now), "workers": self.pool.size, "worker_pids": self.pool.pids(),
            **self.counts(now), "watches": watches,
        }

    def _write_state(self, now: float, force: bool = False) -> None:
        if not force and now < self._next_state:
            return
        self._next_state = now + 1.0
        snap = self.snapshot(now)
        try:
            self.state.write(snap)
            self._state_written = True
        except OSError as exc:
            self.log.warning("state_file_error", path=str(self.state.path), error=str(exc))
        self._export(now, snap)
        self.notifier.status(self._status_line(now))
        if self._watchdog_every is not None and now >= self._next_watchdog and self.alive(now):
            self.notifier.watchdog()
            self._next_watchdog = now + self._watchdog_every

    def _export(self, now: float, snap: dict[str, Any]) -> None:
        """Gauges from the state snapshot; the textfile when due."""
        for w, ws in zip(self.watches.values(), snap["watches"]):
            self.metrics.set_watch(w.key, queue=ws["queue"], in_flight=ws["in_flight"],
                                   oldest_pending=round(w.tracker.oldest_age(now), 1), stuck=ws["stuck_count"],
                                   up=ws["watcher_alive"] and w.spec.input.is_dir())
        try:
            self.exporter.step(now)
        except OSError as exc:
            self.log.warning("metrics_file_error", path=str(self.exporter.file), error=str(exc))

    # ------------------------------------------------------------------ reload
    def reload(self, now: float | None = None) -> bool:
        """SIGHUP: load the config again. An invalid one is logged and the
        running one stays. In-flight work is never dropped."""
        now = self.clock() if now is None else now
        try:
            new = load_config(self.config_path)
            watches = new.resolved_watches()
            if not watches:
                raise ConfigError("no [[watch]] folders configured")
            check_layout(watches)
        except Exception as exc:  # noqa: BLE001
            self.log.error("reload_failed", error=str(exc), note="keeping the running configuration")
            return False
        old_cfg, self.config = self.config, new
        wanted = {str(Path(rw.input)): rw for rw in watches}
        for key in list(self.watches):
            if key not in wanted:
                w = self.watches.pop(key)
                w.retired = True
                w.source.stop()
                self.metrics.remove_watch(key)
                self.log.info("unwatching", watch=key)
        for key, rw in wanted.items():
            old = self.watches.get(key)
            if old is not None and old.spec == rw and old_cfg.daemon == new.daemon:
                continue
            if old is not None:
                # changed: new settings for new work; trackers keep their paths
                fresh = self._make_watch(rw)
                old.source.stop()
                fresh.source.start()
                fresh.source.next_scan = now
                old.spec, old.source, old.health = rw, fresh.source, fresh.health
                self._check_watch(old, now, health.read_mounts(), health.declared_mounts())
                old.polling, old.polling_reason = fresh.polling, fresh.polling_reason
                old.tracker.settle = rw.settle_seconds
                old.tracker.stuck_after = rw.stuck_after_seconds
                self.log.info("watch_updated", watch=key, polling=old.polling)
                continue
            try:
                self._add_watch(rw, now)
            except Exception as exc:  # noqa: BLE001
                self.log.error("watch_add_failed", watch=key, error=str(exc))
        if new.daemon.workers != self.pool.size:
            self.pool.resize(new.daemon.workers)
        log.configure_logging(json=self.log_json, level=new.log_level)
        self._watchdog_every = watchdog_interval()
        self.log.info("reloaded", watches=len(self.watches), workers=new.daemon.workers)
        self._write_state(now, force=True)
        return True

    # ------------------------------------------------------------------ run / stop
    def request_stop(self, *_: object) -> None:
        self.stop_requested = True

    def request_reload(self, *_: object) -> None:
        self.reload_requested = True

    def run(self) -> int:
        """Run until SIGTERM/SIGINT; finish in-flight work within
        ``stop_timeout_seconds``; exit 0."""
        signal.signal(signal.SIGTERM, self.request_stop)
        signal.signal(signal.SIGINT, self.request_stop)
        signal.signal(signal.SIGHUP, self.request_reload)
        self.start()
        try:
            errors_in_a_row = 0
            while not self.stop_requested:
                try:
                    self.step(wait=0.1)
                    errors_in_a_row = 0
                except Exception as exc:  # noqa: BLE001 - the service never stops on a bug in one step
                    errors_in_a_row += 1
                    self.log.exception("internal_error", error=f"{type(exc).__name__}: {exc}", in_a_row=errors_in_a_row)
                    time.sleep(min(0.1 * 2 ** min(errors_in_a_row, 6), 5.0))
            self.shutdown()
        finally:
            self.close(kill=True)
        return 0

    def shutdown(self) -> None:
        now = self.clock()
        self.notifier.stopping()
        self.log.info("stopping", in_flight=len(self.inflight), stop_timeout=self.config.daemon.stop_timeout_seconds)
        for w in self.watches.values():
            w.source.stop()
        deadline = now + self.config.daemon.stop_timeout_seconds
        while self.inflight and self.clock() < deadline:
            try:
                self.step(wait=min(0.1, max(0.0, deadline - self.clock())))
            except Exception as exc:  # noqa: BLE001
                self.log.exception("internal_error", error=f"{type(exc).__name__}: {exc}")
                break
        if self.inflight:
            self.log.warning("stop_timeout", abandoned=len(self.inflight),
                             note="interrupted files are recovered on the next start")
        self.log.info("stopped", done=sum(w.done for w in self.watches.values()),
                      failed=sum(w.failed for w in self.watches.values()))

    def close(self, kill: bool = False) -> None:
        for w in self.watches.values():
            w.source.stop()
        self.pool.shutdown(kill=kill)
        try:
            self.exporter.close()
        except OSError as exc:
            self.log.warning("metrics_file_error", path=str(self.exporter.file), error=str(exc))
        if self._state_written:  # never another instance's (a refused second start)
            self.state.remove()
        self.state.unlock()
        self.notifier.close()
