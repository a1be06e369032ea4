"""`despeckled clean --explain` in process: exit codes and the JSON written,
one-page and multi-page files (the page workers: tests/commands/test_clean_cli.py)."""

from __future__ import annotations

import json

import cv2
import numpy as np
from PIL import Image

from despeckled.cli import main
from despeckled.errors import ExitCode


def page_with_specks(seed: int) -> tuple[np.ndarray, list[tuple[int, int]]]:
    rng = np.random.default_rng(seed)
    page = np.full((300, 260), 255, np.uint8)
    for i in range(4):
        for x in range(20, 220, 22):
            page[40 + 50 * i:64 + 50 * i, x:x + 4] = 0
    specks = [(int(rng.integers(10, 290)), int(rng.integers(232, 250))) for _ in range(3)]
    for y, x in specks:
        page[y:y + 2, x:x + 2] = 0
    return page, specks


def test_explain_json_lists_each_page_of_each_file(tmp_path):
    pages = [page_with_specks(s) for s in (1, 2, 3)]
    Image.fromarray(pages[0][0]).save(tmp_path / "one.png", dpi=(300, 300))
    frames = [Image.fromarray(p) for p, _ in pages[1:]]
    frames[0].save(tmp_path / "two.tif", save_all=True, append_images=frames[1:], dpi=(300, 300))
    why = tmp_path / "why.json"
    # (one job everywhere here: a worker forked from this test process, whose
    # OpenCV threads have run, can deadlock; the page workers are run by the
    # subprocess test)
    code = main(["clean", "-q", "-j", "1", str(tmp_path / "one.png"), str(tmp_path / "two.tif"),
                 "--output-dir", str(tmp_path / "out"), "--explain", str(why)])
    assert code == ExitCode.ok
    data = json.loads(why.read_text())
    assert data["version"] == 1 and "tiny" in data["rules"] and "glyph-shaped" in data["rules"]
    by_name = {f["source"].rsplit("/", 1)[-1]: f for f in data["files"]}
    assert sorted(by_name) == ["one.png", "two.tif"]
    assert [p["page"] for p in by_name["two.tif"]["pages"]] == [1, 2]
    for f, expected in ((by_name["one.png"]["pages"][0], pages[0][1]),
                        (by_name["two.tif"]["pages"][0], pages[1][1]),
                        (by_name["two.tif"]["pages"][1], pages[2][1])):
        assert sorted((e["box"][1], e["box"][0]) for e in f["removed"]) == sorted(expected)
        assert all(e["area"] == 4 and 0.5 <= e["confidence"] <= 1 for e in f["removed"])


def test_explain_names_the_guard_that_kept_a_lone_digit(tmp_path):
    page = np.full((200, 300), 255, np.uint8)
    for i in range(3):                                   # body text: 21 px letters
        for x in range(20, 280, 16):
            page[30 + 40 * i:51 + 40 * i, x:x + 3] = 0
            page[30 + 40 * i:33 + 40 * i, x:x + 11] = 0
            page[30 + 40 * i:51 + 40 * i, x + 8:x + 11] = 0
    page[150:174, 140:143] = page[150:174, 153:156] = 0   # a lone '0', far from the text
    page[150:153, 140:156] = page[171:174, 140:156] = 0
    Image.fromarray(page).save(tmp_path / "p.png", dpi=(300, 300))
    code = main(["clean", "-q", "-j", "1", str(tmp_path / "p.png"), "-o", str(tmp_path / "c.png"),
                 "--explain", str(tmp_path / "why.json")])
    assert code == ExitCode.ok
    assert (np.asarray(Image.open(tmp_path / "c.png"))[150:174, 140:156] == 0).any()
    [p] = json.loads((tmp_path / "why.json").read_text())["files"][0]["pages"]
    kept = [e for e in p["kept_by_guard"] if e["box"][0] == 140 and e["box"][1] == 150]
    assert kept and kept[0]["reason"] == "glyph-shaped" and kept[0]["overruled"] == "dust"


def test_explain_into_a_directory_is_a_usage_error(tmp_path, capsys):
    page, _ = page_with_specks(4)
    Image.fromarray(page).save(tmp_path / "p.png")
    code = main(["clean", "-j", "1", str(tmp_path / "p.png"), "-o", str(tmp_path / "c.png"), "--explain", str(tmp_path)])
    assert code == ExitCode.bad_args
    assert "--explain" in capsys.readouterr().err
    assert not (tmp_path / "c.png").exists()


def test_explain_records_each_pages_skew_angle_and_confidence(tmp_path):
    """Issue 13: the deskew verdict (angle, confidence, whether the page was
    turned) and the blank verdict are in --explain next to the removals."""
    from despeckled.testing.synth import make_page

    page = make_page(5, dpi=200, size="a5").noisy
    h, w = page.shape
    turn = cv2.getRotationMatrix2D((w / 2, h / 2), 2.0, 1.0)
    crooked = cv2.warpAffine(page, turn, (w, h), borderValue=235)
    cv2.imwrite(str(tmp_path / "crooked.png"), crooked)
    why = tmp_path / "why.json"
    code = main(["clean", "-q", "-j", "1", str(tmp_path / "crooked.png"),
                 "--output-dir", str(tmp_path / "out"), "--explain", str(why)])
    assert code == ExitCode.ok
    geo = json.loads(why.read_text())["files"][0]["pages"][0]["geometry"]
    assert geo["deskewed"] is True and geo["skew_confidence"] >= 1
    assert abs(abs(geo["skew_angle"]) - 2.0) < 0.2
    assert geo["blank"] is False and 0 <= geo["blank_confidence"] <= 1
