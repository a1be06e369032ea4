"""Prometheus metrics: declared once here, exposed over HTTP and/or a textfile.

Every metric is declared once, with its labels, in :class:`Metrics` (its own
:class:`~prometheus_client.CollectorRegistry`, never the library's global
one, so two services in one process or one test never share counters).
prometheus_client writes the exposition format; nothing here formats text.

Where they go (:class:`Exporter`), both off by default:

``[daemon] metrics_listen = "127.0.0.1:9464"``
    ``GET /metrics`` from prometheus_client's own HTTP server, in a daemon
    thread. Loopback unless a proxy guards it (the README says why).
``[daemon] metrics_file = ".../despeckled.prom"``
    for node_exporter's textfile collector: rewritten every
    :data:`FILE_INTERVAL` seconds and at stop through
    :func:`despeckled.io.fsutil.replace_atomic` (hidden temp name in the same
    folder, fsync, rename), so node_exporter never reads half a file.
    (``prometheus_client.write_to_textfile`` renames without fsync, and its
    temp name is visible in the folder.)

The service feeds it plain facts (:meth:`Metrics.file_finished`,
:meth:`Metrics.set_watch`); :meth:`Exporter.step` takes the daemon's clock.

>>> m = Metrics()
>>> m.add_watch("/srv/in")
>>> m.file_finished("/srv/in", "done", pages=2, specks_removed=40, seconds=1.5)
>>> m.value("despeckled_files_total", watch="/srv/in", result="done")
1.0
>>> m.value("despeckled_pages_total", watch="/srv/in")
2.0
"""

from __future__ import annotations

import contextlib
import ipaddress
import threading
from pathlib import Path

import prometheus_client
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from despeckled import __version__
from despeckled.config import parse_listen
from despeckled.io.fsutil import replace_atomic

#: How often the textfile is rewritten (seconds of the daemon's clock).
FILE_INTERVAL = 5.0
#: ``despeckled_files_total{result}`` values, created at 0 for every watch so
#: ``increase()`` sees the first file.
RESULTS = ("done", "failed", "passed_through")
#: claim -> archived: a small page takes well under a second, a big PDF minutes.
FILE_SECONDS_BUCKETS = (0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, float("inf"))

# A counter's ``_created`` twin series doubles the output for no use on a
# dashboard (Prometheus knows when a counter reset from the value itself).
prometheus_client.disable_created_metrics()


class Metrics:
    """Every metric despeckled exposes, in its own registry."""

    def __init__(self, version: str = __version__) -> None:
        r = self.registry = CollectorRegistry(auto_describe=True)
        self.files = Counter("despeckled_files", "Files finished, by result (done, failed, passed_through)",
                             ["watch", "result"], registry=r)
        self.failures = Counter("despeckled_failures", "Files moved to failed, by the reason slug of their .error.json",
                                ["watch", "reason"], registry=r)
        self.pages = Counter("despeckled_pages", "Pages cleaned or passed through", ["watch"], registry=r)
        self.specks_removed = Counter("despeckled_specks_removed", "Specks removed from cleaned pages",
                                      ["watch"], registry=r)
        self.blank_pages = Counter("despeckled_blank_pages", "Pages found blank", ["watch"], registry=r)
        self.file_seconds = Histogram("despeckled_file_seconds", "Seconds from the claim to the archived original",
                                      ["watch"], buckets=FILE_SECONDS_BUCKETS, registry=r)
        self.queue = Gauge("despeckled_queue_files", "Files seen and not yet handed to a worker", ["watch"], registry=r)
        self.in_flight = Gauge("despeckled_in_flight_files", "Files a worker is on now", ["watch"], registry=r)
        self.oldest_pending = Gauge("despeckled_oldest_pending_seconds",
                                    "Age of the oldest file waiting in the inbox (0: none)", ["watch"], registry=r)
        self.stuck = Gauge("despeckled_stuck_files", "Files still changing after stuck_after_seconds",
                           ["watch"], registry=r)
        self.watch_up = Gauge("despeckled_watch_up", "1 while the watch folder is there and watched, 0 while it is "
                              "down (missing or unmounted)", ["watch"], registry=r)
        self.build_info = Gauge("despeckled_build_info", "Always 1; the running version as a label",
                                ["version"], registry=r)
        self.build_info.labels(version).set(1)
        #: metrics labelled by the watch alone
        self._per_watch = (self.pages, self.specks_removed, self.blank_pages, self.file_seconds, self.queue,
                           self.in_flight, self.oldest_pending, self.stuck, self.watch_up)
        #: failure reasons seen per watch (to remove them with the watch)
        self._reasons: dict[str, set[str]] = {}

    # -- what the service tells it
    def add_watch(self, watch: str) -> None:
        """Create a watch's series at 0 (a counter that first appears at 1
        is invisible to ``increase()``)."""
        for result in RESULTS:
            self.files.labels(watch, result)
        for metric in (self.pages, self.specks_removed, self.blank_pages, self.file_seconds, self.queue,
                       self.in_flight, self.oldest_pending, self.stuck):
            metric.labels(watch)
        self.watch_up.labels(watch).set(1)

    def remove_watch(self, watch: str) -> None:
        """Drop every series of a watch that is no longer configured."""
        labelsets = [(metric, (watch,)) for metric in self._per_watch]
        labelsets += [(self.files, (watch, result)) for result in RESULTS]
        labelsets += [(self.failures, (watch, reason)) for reason in self._reasons.pop(watch, ())]
        for metric, labels in labelsets:
            with contextlib.suppress(KeyError):
                metric.remove(*labels)

    def file_finished(self, watch: str, result: str, *, reason: str = "", pages: int = 0, specks_removed: int = 0,
                      blank_pages: int = 0, seconds: float | None = None) -> None:
        """One file's fate. ``result`` is one of :data:`RESULTS`; ``reason``
        the failure slug; ``seconds`` claim -> archived (``None``: unknown)."""
        if result not in RESULTS:
            raise ValueError(f"unknown result {result!r}")
        self.files.labels(watch, result).inc()
        if result == "failed":
            reason = reason or "unknown"
            self._reasons.setdefault(watch, set()).add(reason)
            self.failures.labels(watch, reason).inc()
        if pages:
            self.pages.labels(watch).inc(pages)
        if specks_removed:
            self.specks_removed.labels(watch).inc(specks_removed)
        if blank_pages:
            self.blank_pages.labels(watch).inc(blank_pages)
        if seconds is not None:
            self.file_seconds.labels(watch).observe(max(0.0, seconds))

    def set_watch(self, watch: str, *, queue: int, in_flight: int, oldest_pending: float, stuck: int,
                  up: bool) -> None:
        """The gauges of one watch, as of now."""
        self.queue.labels(watch).set(queue)
        self.in_flight.labels(watch).set(in_flight)
        self.oldest_pending.labels(watch).set(oldest_pending)
        self.stuck.labels(watch).set(stuck)
        self.watch_up.labels(watch).set(1 if up else 0)

    # -- reading back
    def text(self) -> bytes:
        """The exposition text (what ``GET /metrics`` and the textfile hold)."""
        return generate_latest(self.registry)

    def value(self, name: str, **labels: str) -> float | None:
        """One sample's value (tests, ``despeckled status``)."""
        return self.registry.get_sample_value(name, labels)


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback addresses.

    >>> is_loopback("127.0.0.1"), is_loopback("::1"), is_loopback("localhost"), is_loopback("0.0.0.0")
    (True, True, True, False)
    """
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Exporter:
    """Publishes a :class:`Metrics`: an HTTP server thread and/or a textfile.

    ``step(now)`` rewrites the textfile when :data:`FILE_INTERVAL` has passed
    on the caller's clock; ``close()`` writes it a last time and stops the
    server.
    """

    def __init__(self, metrics: Metrics, *, listen: str | None = None, file: Path | None = None,
                 interval: float = FILE_INTERVAL) -> None:
        self.metrics = metrics
        self.listen = listen
        self.file = Path(file) if file is not None else None
        self.interval = interval
        self._next_write: float | None = None
        self._server = None
        self._thread: threading.Thread | None = None

    @property
    def address(self) -> tuple[str, int] | None:
        """Where the HTTP server really listens (port 0 picks a free one)."""
        if self._server is None:
            return None
        host, port = self._server.server_address[:2]
        return host, port

    def start(self) -> None:
        """Bind the HTTP server (raises ``OSError`` if the port is taken)."""
        if self.listen and self._server is None:
            host, port = parse_listen(self.listen)
            self._server, self._thread = prometheus_client.start_http_server(port, addr=host,
                                                                             registry=self.metrics.registry)

    def step(self, now: float) -> bool:
        """Rewrite the textfile if due; True when it was written."""
        if self.file is None or (self._next_write is not None and now < self._next_write):
            return False
        self._next_write = now + self.interval
        self.write_file()
        return True

    def write_file(self) -> None:
        if self.file is not None:
            replace_atomic(self.file, self.metrics.text())

    def close(self) -> None:
        """Last textfile write, then stop the HTTP server."""
        try:
            self.write_file()
        finally:
            if self._server is not None:
                self._server.shutdown()
                self._server.server_close()
                self._server = None
            if self._thread is not None:
                self._thread.join(5)
                self._thread = None
