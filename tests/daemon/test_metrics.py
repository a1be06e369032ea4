"""Metrics: declared once, read back with prometheus_client's own parser,
over real HTTP and from the real textfile."""

from __future__ import annotations

import threading
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families

from despeckled import __version__
from despeckled.daemon.metrics import Exporter, Metrics

W = "/srv/scans/inbox"

NAMES = {
    "despeckled_files": "counter", "despeckled_failures": "counter", "despeckled_pages": "counter",
    "despeckled_specks_removed": "counter", "despeckled_blank_pages": "counter",
    "despeckled_file_seconds": "histogram", "despeckled_queue_files": "gauge",
    "despeckled_in_flight_files": "gauge", "despeckled_oldest_pending_seconds": "gauge",
    "despeckled_stuck_files": "gauge", "despeckled_watch_up": "gauge", "despeckled_build_info": "gauge",
}


def samples(text: str) -> dict[tuple, float]:
    out = {}
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def families(text: str) -> dict[str, str]:
    return {f.name: f.type for f in text_string_to_metric_families(text)}


def _some(m: Metrics) -> None:
    m.add_watch(W)
    m.file_finished(W, "done", pages=3, specks_removed=120, seconds=0.8)
    m.file_finished(W, "passed_through", pages=2, seconds=0.1)
    m.file_finished(W, "failed", reason="truncated", seconds=30.0)
    m.file_finished(W, "failed", reason="truncated")
    m.file_finished(W, "failed", reason="not_an_image")
    m.set_watch(W, queue=4, in_flight=2, oldest_pending=12.5, stuck=1, up=False)


def test_every_metric_has_its_name_and_type():
    m = Metrics()
    m.add_watch(W)
    m.file_finished(W, "failed", reason="x")
    assert families(m.text().decode()) == NAMES


def test_counts_read_back_through_the_parser():
    m = Metrics()
    _some(m)
    s = samples(m.text().decode())
    w = ("watch", W)
    assert s[("despeckled_files_total", (("result", "done"), w))] == 1
    assert s[("despeckled_files_total", (("result", "failed"), w))] == 3
    assert s[("despeckled_files_total", (("result", "passed_through"), w))] == 1
    assert s[("despeckled_failures_total", (("reason", "truncated"), w))] == 2
    assert s[("despeckled_failures_total", (("reason", "not_an_image"), w))] == 1
    assert s[("despeckled_pages_total", (w,))] == 5
    assert s[("despeckled_specks_removed_total", (w,))] == 120
    assert s[("despeckled_file_seconds_count", (w,))] == 3
    assert s[("despeckled_file_seconds_bucket", (("le", "1.0"), w))] == 2
    assert s[("despeckled_queue_files", (w,))] == 4
    assert s[("despeckled_in_flight_files", (w,))] == 2
    assert s[("despeckled_oldest_pending_seconds", (w,))] == 12.5
    assert s[("despeckled_stuck_files", (w,))] == 1
    assert s[("despeckled_watch_up", (w,))] == 0
    assert s[("despeckled_build_info", (("version", __version__),))] == 1


def test_a_new_watch_starts_at_zero_and_a_removed_one_disappears():
    m = Metrics()
    m.add_watch(W)
    s = samples(m.text().decode())
    assert s[("despeckled_files_total", (("result", "done"), ("watch", W)))] == 0
    assert s[("despeckled_watch_up", (("watch", W),))] == 1
    _some(m)
    m.remove_watch(W)
    text = m.text().decode()
    assert W not in text and "despeckled_build_info" in text


def test_unknown_result_is_a_bug():
    with pytest.raises(ValueError):
        Metrics().file_finished(W, "maybe")


def test_http_serves_the_registry_and_stops(tmp_path):
    m = Metrics()
    _some(m)
    ex = Exporter(m, listen="127.0.0.1:0")
    ex.start()
    try:
        host, port = ex.address
        with urllib.request.urlopen(f"http://{host}:{port}/metrics", timeout=10) as r:
            body = r.read().decode()
        assert samples(body) == samples(m.text().decode())
    finally:
        ex.close()
    with pytest.raises(OSError):
        urllib.request.urlopen(f"http://{host}:{port}/metrics", timeout=2)


def test_the_textfile_is_written_when_due_and_at_close(tmp_path):
    path = tmp_path / "d.prom"
    m = Metrics()
    m.add_watch(W)
    ex = Exporter(m, file=path, interval=5.0)
    assert ex.step(100.0) and path.exists()
    m.file_finished(W, "done", pages=1)
    assert not ex.step(104.9)
    assert samples(path.read_text())[("despeckled_pages_total", (("watch", W),))] == 0
    assert ex.step(105.0)
    assert samples(path.read_text())[("despeckled_pages_total", (("watch", W),))] == 1
    m.file_finished(W, "done", pages=1)
    ex.close()
    assert samples(path.read_text())[("despeckled_pages_total", (("watch", W),))] == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.prom"]  # no temp left, nothing else


def test_a_reader_never_sees_half_a_textfile(tmp_path):
    path = tmp_path / "d.prom"
    m = Metrics()
    for i in range(20):  # a long file (~20 kB): a torn read would be likely
        m.add_watch(f"/srv/scans/watch-{i:02d}")
    ex = Exporter(m, file=path, interval=0)
    ex.write_file()
    want = families(path.read_text())
    stop = threading.Event()
    reads, torn = [], []

    def reader():
        while not stop.is_set():
            text = path.read_text()
            reads.append(len(text))
            try:
                ok = families(text) == want and text.endswith("\n")
            except ValueError:
                ok = False
            if not ok:
                torn.append(text)

    t = threading.Thread(target=reader)
    t.start()
    try:
        for n in range(100):
            m.file_finished("/srv/scans/watch-00", "done", pages=n)
            ex.write_file()
    finally:
        stop.set()
        t.join()
    assert torn == []
    assert len(reads) > 10


def test_the_example_alerts_use_only_metrics_that_exist():
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    rules = (root / "docs" / "prometheus-alerts.yml").read_text()
    assert "docs/prometheus-alerts.yml" in (root / "README.md").read_text()
    m = Metrics()
    m.add_watch(W)
    m.file_finished(W, "failed", reason="x")
    exposed = {s.name for f in text_string_to_metric_families(m.text().decode()) for s in f.samples}
    used = set(re.findall(r"\bdespeckled_[a-z_]+\b", rules))
    assert used and used <= exposed, used - exposed
    for alert in ("DespeckledWatchDown", "DespeckledFailuresRising", "DespeckledBacklog", "DespeckledStuckFile"):
        assert f"alert: {alert}" in rules
