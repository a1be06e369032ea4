"""Page types: each function fills a box of a :class:`Canvas` with one kind
of content, recording every object's kind as it draws.

``box`` is ``(y0, x0, y1, x1)`` in pixels. Sizes are physical (points,
millimetres) and converted with the canvas's resolution.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from despeckled.testing.pages import text as T
from despeckled.testing.pages.canvas import K, Canvas
from despeckled.testing.pages.fonts import glyph, metrics

Box = tuple[int, int, int, int]


@dataclass(frozen=True)
class Style:
    """Typography of a family.

    Attributes
    ----------
    body_faces, head_faces, mono_faces : tuple of str
        Face names (:data:`~despeckled.testing.pages.fonts.FACES`).
    body_pt : (float, float)
        Body text size range, points.
    head_pt : (float, float)
        Headline size range, points.
    """

    body_faces: tuple
    head_faces: tuple
    mono_faces: tuple
    body_pt: tuple = (8.0, 12.0)
    head_pt: tuple = (18.0, 72.0)
    hand_face: str = "hershey-script"

    def faces(self) -> set[str]:
        return set(self.body_faces) | set(self.head_faces) | set(self.mono_faces) | {self.hand_face}


def _size(cv: Canvas, rng, lo_hi) -> int:
    return cv.pt(float(rng.uniform(*lo_hi)))


def _wrap(cv: Canvas, words: list[str], face: str, size: int, width: float) -> list[str]:
    space = glyph(face, size, " ").advance
    lines, cur, w = [], [], 0.0
    for wd in words:
        ww = cv.text_width(wd, face, size)
        if cur and w + space + ww > width:
            lines.append(" ".join(cur))
            cur, w = [], 0.0
        w += (space if cur else 0.0) + ww
        cur.append(wd)
    if cur:
        lines.append(" ".join(cur))
    return lines


def paragraphs(cv: Canvas, rng, face: str, size: int, box: Box, *, record: bool = True,
               max_paras: int = 99) -> int:
    """Fill ``box`` with paragraphs; returns the y below the last line."""
    y0, x0, y1, x1 = box
    lead = size * float(rng.uniform(1.15, 1.45))
    _, cap, _ = metrics(face, size)
    y = y0 + cap
    for _ in range(max_paras):
        if y + lead > y1:
            break
        indent = float(rng.choice([0.0, 2.0 * size]))
        lines = _wrap(cv, T.paragraph(rng).split(" "), face, size, x1 - x0 - indent)
        for i, line in enumerate(lines):
            if y > y1:
                return int(y)
            cv.text(line, x0 + (indent if i == 0 else 0.0), y, face, size)
            if record:
                cv.text_lines.append(line)
            y += lead
        y += lead * float(rng.uniform(0.2, 0.8))
    return int(y)


def prose(cv: Canvas, rng, st: Style, box: Box) -> None:
    """Body text under an optional heading, and a page number."""
    y0, x0, y1, x1 = box
    if rng.random() < 0.6:
        hs = _size(cv, rng, (14.0, 24.0))
        hf = T.pick(rng, st.head_faces)
        line = T.headline(rng)
        if cv.text_width(line, hf, hs) < x1 - x0:
            cv.text(line, x0, y0 + metrics(hf, hs)[1], hf, hs)
            cv.text_lines.append(line)
            y0 += int(2.0 * hs)
    face, size = T.pick(rng, st.body_faces), _size(cv, rng, st.body_pt)
    bottom = y1 - 3 * size
    paragraphs(cv, rng, face, size, (y0, x0, bottom, x1))
    page_number(cv, rng, face, size, (bottom, x0, y1, x1))


def page_number(cv: Canvas, rng, face: str, size: int, box: Box) -> None:
    y0, x0, y1, x1 = box
    num = T.pick(rng, (str(int(rng.integers(1, 400))), f"- {int(rng.integers(1, 99))} -", str(int(rng.integers(1, 10))),
                       T.pick(rng, ("iv", "xii", "vii", "ix"))))
    w = cv.text_width(num, face, size)
    x = T.pick(rng, (x0, (x0 + x1 - w) / 2, x1 - w))
    cv.text(num, x, y1 - size * 0.5, face, size)


def lone_numbers(cv: Canvas, rng, st: Style, box: Box) -> None:
    """A nearly blank page: a running header, a lone page number, maybe a
    lone figure label or footnote number."""
    y0, x0, y1, x1 = box
    face, size = T.pick(rng, st.body_faces), _size(cv, rng, st.body_pt)
    if rng.random() < 0.6:
        cv.text(T.pick(rng, ("Chapter", "Part", "Section")) + " " + str(int(rng.integers(1, 20))) + ". " + T.headline(rng)[:40],
                x0, y0 + 2 * size, face, size)
    for _ in range(int(rng.integers(1, 4))):
        yy = float(rng.uniform(y0 + 4 * size, y1 - size))
        s = _size(cv, rng, (st.body_pt[0], st.body_pt[1] * 1.5))
        lab = T.pick(rng, (str(int(rng.integers(1, 10))), str(int(rng.integers(10, 999))), "a)", "b", "I", "7.", "Fig. 3"))
        cv.text(lab, float(rng.uniform(x0, x1 - 6 * s)), yy, face, s)
    page_number(cv, rng, face, size, (y1 - 3 * size, x0, y1, x1))


def headings(cv: Canvas, rng, st: Style, box: Box) -> None:
    """Headlines at 18-72 pt (abbreviations, colons, i-dots), each over a
    few lines of body text, so a line's marks must be judged by its own size."""
    y0, x0, y1, x1 = box
    y = y0
    body, bs = T.pick(rng, st.body_faces), _size(cv, rng, st.body_pt)
    while y < y1:
        hf = T.pick(rng, st.head_faces)
        hs = _size(cv, rng, st.head_pt)
        line = T.headline(rng)
        while cv.text_width(line, hf, hs) > x1 - x0 and hs > cv.pt(18):
            hs = int(hs * 0.85)
        _, cap, _ = metrics(hf, hs)
        if y + cap + hs * 0.4 > y1:
            break
        cv.text(line, x0, y + cap, hf, hs, track=float(rng.choice([0.0, 0.0, 0.05 * hs])))
        cv.text_lines.append(line)
        y += int(cap + 0.6 * hs)
        y = paragraphs(cv, rng, body, bs, (y, x0, min(y1, y + int(rng.integers(2, 6)) * int(1.4 * bs)), x1), max_paras=1)
        y += int(bs)


def receipt(cv: Canvas, rng, st: Style, box: Box) -> None:
    """One or two till receipts: lone digits in columns, prices, totals
    with colons, dashed separators, and a code at the bottom."""
    y0, x0, y1, x1 = box
    width = min(x1 - x0, cv.mm(float(rng.uniform(58, 80))))
    n = max(1, min(2, (x1 - x0) // (width + cv.mm(10))))
    for i in range(n):
        xa = x0 + i * (width + cv.mm(10))
        _one_receipt(cv, rng, st, (y0, xa, y1, xa + width))


def _one_receipt(cv: Canvas, rng, st: Style, box: Box) -> None:
    y0, x0, y1, x1 = box
    face = T.pick(rng, st.mono_faces)
    size = _size(cv, rng, (6.5, 10.0))
    lead = int(size * float(rng.uniform(1.1, 1.35)))
    hf, hs = T.pick(rng, st.head_faces), _size(cv, rng, (11.0, 16.0))
    y = y0 + metrics(hf, hs)[1]
    name = T.pick(rng, ("CORNER MART", "KEDAI RUNCIT", "CAFE NO. 9", "A.B.C. STORES", "QUICK SHOP"))
    cv.text(name, x0 + max(0, (x1 - x0 - cv.text_width(name, hf, hs)) / 2), y, hf, hs)
    y += int(1.5 * hs)
    dash = T.pick(rng, ("-", "=", "*", "."))

    def row(left: str, right: str = "") -> None:
        nonlocal y
        if y > y1 - lead:
            return
        cv.text(left, x0, y, face, size)
        if right:
            cv.text(right, x1 - cv.text_width(right, face, size), y, face, size)
        y += lead

    def sep() -> None:
        n = int((x1 - x0) / max(1.0, glyph(face, size, dash).advance))
        row(dash * max(1, n - 1))

    row(f"Date: {T.date(rng)}", f"Time: {int(rng.integers(0, 24)):02d}:{int(rng.integers(0, 60)):02d}")
    row(f"Inv No.: {int(rng.integers(1000, 99999))}", f"Tbl: {int(rng.integers(1, 10))}")
    sep()
    total = 0.0
    for _ in range(int(rng.integers(3, 12))):
        left, amt = T.receipt_item(rng)
        total += float(amt)
        row(left, amt)
        if rng.random() < 0.3:
            row(f"  {int(rng.integers(1, 10))} @ {rng.uniform(0.1, 9):.2f}", str(int(rng.integers(0, 10))))
    sep()
    tax = total * 0.06
    for lab, v in (("SUBTOTAL:", total), ("GST 6%:", tax), ("Rounding:", -0.01 * int(rng.integers(0, 3))),
                   ("TOTAL:", total + tax), ("CASH:", total + tax + 5), ("CHANGE:", 5.0)):
        row(lab, f"{v:.2f}")
    sep()
    row(f"Qty: {int(rng.integers(1, 10))}", f"Items: {int(rng.integers(1, 10))}")
    if y < y1 - cv.mm(25):
        if rng.random() < 0.5:
            qr(cv, rng, y + lead, x0 + cv.mm(float(rng.uniform(0, 10))), y1)
        else:
            barcode(cv, rng, st, y + lead, x0, min(x1, x0 + cv.mm(50)), y1)


def qr(cv: Canvas, rng, y: int, x: int, y_max: int) -> int:
    """A QR-like code from a random module grid with three finder patterns;
    each dark module is one ``code_module`` object. Returns its bottom y."""
    y, x, y_max = int(y), int(x), int(y_max)
    n = int(rng.choice([21, 25, 29, 33]))
    # 0.33 mm is the smallest module printers use; below 2 px no scan resolves it
    mod = max(2, int(round(cv.px_per_mm * float(rng.uniform(0.33, 0.6)))))
    if y + n * mod > y_max:
        mod = max(2, (y_max - y) // n)
    grid = rng.random((n, n)) < 0.5
    finder = np.zeros((7, 7), bool)
    finder[[0, 6], :], finder[:, [0, 6]], finder[2:5, 2:5] = True, True, True
    for fy, fx in ((0, 0), (0, n - 7), (n - 7, 0)):
        grid[max(0, fy - 1):fy + 8, max(0, fx - 1):fx + 8] = False
        grid[fy:fy + 7, fx:fx + 7] = finder
    cells = np.arange(1, n * n + 1, dtype=np.int32).reshape(n, n)
    mask = np.kron(grid, np.ones((mod, mod), bool))
    cell_lab = np.kron(cells, np.ones((mod, mod), np.int32))
    cv.put_components(y, x, mask, "code_module", cell_labels=cell_lab)
    q = 2 * mod
    cv.nospeck[max(0, y - q):y + n * mod + q, max(0, x - q):x + n * mod + q] = True
    return y + n * mod


def barcode(cv: Canvas, rng, st: Style, y: int, x0: int, x1: int, y_max: int) -> int:
    """A 1-D barcode: bars of 1-4 units (each bar one ``code_module``) and
    its digits underneath. Returns its bottom y."""
    y, x0, x1, y_max = int(y), int(x0), int(x1), int(y_max)
    unit = max(1, int(round(cv.px_per_mm * float(rng.uniform(0.19, 0.4)))))
    h = min(cv.mm(float(rng.uniform(8, 18))), max(4, y_max - y - cv.mm(4)))
    widths = rng.integers(1, 5, size=int((x1 - x0) / unit / 2.5))
    pos = np.concatenate([[0], np.cumsum(widths)]) * unit
    n_units = pos[-1]
    row = np.zeros(max(1, n_units), np.int32)
    for i in range(0, len(widths), 2):  # even runs are bars
        row[pos[i]:pos[i + 1]] = i // 2 + 1
    lab = np.repeat(row[None, :], h, axis=0)
    cv.put_components(y, x0, lab > 0, "code_module", cell_labels=lab)
    cv.nospeck[max(0, y - unit * 4):y + h + unit * 4, max(0, x0 - unit * 8):x0 + n_units + unit * 8] = True
    face, size = T.pick(rng, st.mono_faces), _size(cv, rng, (6.0, 9.0))
    digits = "".join(str(int(d)) for d in rng.integers(0, 10, 13))
    yb = y + h + metrics(face, size)[1] + cv.mm(0.7)
    if yb < y_max:
        cv.text(" ".join([digits[0], digits[1:7], digits[7:]]), x0, yb, face, size)
    return int(yb)


def codes(cv: Canvas, rng, st: Style, box: Box) -> None:
    """A sheet of tickets: QR codes and barcodes with labels."""
    y0, x0, y1, x1 = box
    face, size = T.pick(rng, st.body_faces), _size(cv, rng, st.body_pt)
    y = y0
    while y < y1 - cv.mm(20):
        cv.text(f"Ticket No. {int(rng.integers(1, 999))}: {T.headline(rng)[:30]}", x0, y + size, face, size)
        y += int(1.6 * size)
        x = x0
        bottom = y
        while x < x1 - cv.mm(30):
            if rng.random() < 0.5:
                b = qr(cv, rng, y, x, y1)
                x = x + cv.mm(float(rng.uniform(18, 30)))
            else:
                xe = min(x1, x + cv.mm(float(rng.uniform(25, 50))))
                b = barcode(cv, rng, st, y, x, xe, y1)
                x = xe + cv.mm(6)
            bottom = max(bottom, b)
        y = bottom + cv.mm(6)


def form(cv: Canvas, rng, st: Style, box: Box) -> None:
    """A form: one character per box, checkboxes with ticks, dates."""
    y0, x0, y1, x1 = box
    face, size = T.pick(rng, st.body_faces), _size(cv, rng, st.body_pt)
    bw = cv.mm(float(rng.uniform(4.5, 8.0)))
    t = max(1, cv.mm(float(rng.uniform(0.1, 0.3))))
    cf = T.pick(rng, st.body_faces + st.mono_faces)
    cs = int(bw * float(rng.uniform(0.6, 0.85)))
    y = y0 + bw
    labels = ("Name:", "Surname:", "Date:", "Postcode:", "Account No.:", "Tel.:", "Initials:", "Ref.:", "Amount:")
    while y + bw < y1:
        r = rng.random()
        lab = T.pick(rng, labels)
        x = x0 + cv.text(lab, x0, y + bw * 0.7, face, size) - x0 + size
        if r < 0.25:      # checkboxes
            for opt in ("Yes", "No", "N/A", "Other"):
                if x + 2 * bw + cv.text_width(opt, face, size) > x1:
                    break
                checkbox(cv, rng, int(y), int(x), bw, t)
                x = cv.text(opt, x + bw * 1.3, y + bw * 0.7, face, size) + bw
        else:
            n = int(rng.integers(4, 16))
            chars = T.date(rng).replace("/", "").replace("-", "").replace(".", "") if lab == "Date:" else \
                "".join(T.pick(rng, "ABCDEFGHJKLMNPRSTUVWXYZ0123456789") for _ in range(n))
            for c in chars:
                if x + bw > x1:
                    break
                cv.box_outline(int(y), int(x), int(y) + bw, int(x) + bw, t)
                if rng.random() < 0.9:
                    g = glyph(cf, cs, c)
                    if g.mask.size and g.mask.shape[0] < bw - 2 * t - 2 and g.mask.shape[1] < bw - 2 * t - 2:
                        gx = x + (bw - g.mask.shape[1]) / 2 - g.dx
                        base = y + (bw + g.mask.shape[0]) / 2 - (g.mask.shape[0] + g.dy)
                        cv.text(c, gx, base, cf, cs, kind="digit" if c.isdigit() else "one_letter", spots=False)
                x += bw + (t if rng.random() < 0.5 else -t)
        y += bw * float(rng.uniform(1.6, 2.4))


def checkbox(cv: Canvas, rng, y: int, x: int, bw: int, t: int) -> None:
    cv.box_outline(y, x, y + bw, x + bw, t)
    r = rng.random()
    if r < 0.4:
        return
    m = np.zeros((bw, bw), np.uint8)
    lw = max(1, int(round(t * float(rng.uniform(1.0, 2.0)))))
    p = bw // 5
    if r < 0.7:   # a cross
        cv2.line(m, (p, p), (bw - p, bw - p), 1, lw)
        cv2.line(m, (p, bw - p), (bw - p, p), 1, lw)
    else:         # a tick
        cv2.polylines(m, [np.array([(p, bw // 2), (bw // 2 - 1, bw - p), (bw - p, p)], np.int32)], False, 1, lw)
    cv.put(y, x, m.astype(bool), "glyph")


def reverse(cv: Canvas, rng, st: Style, box: Box) -> None:
    """Bands of white text on a black or dark gray field, between body
    lines; the dark islands inside light letters are ``reverse_counter``."""
    y0, x0, y1, x1 = box
    body, bs = T.pick(rng, st.body_faces), _size(cv, rng, st.body_pt)
    y = y0
    while y < y1 - 3 * bs:
        y = paragraphs(cv, rng, body, bs, (y, x0, min(y1, y + int(rng.integers(2, 5)) * int(1.4 * bs)), x1),
                       max_paras=1, record=False) + int(bs)
        hf = T.pick(rng, st.head_faces + st.body_faces)
        hs = _size(cv, rng, (9.0, 36.0))
        _, cap, _ = metrics(hf, hs)
        fh = int(cap * float(rng.uniform(1.8, 2.6)))
        if y + fh > y1:
            break
        fx1 = int(x0 + (x1 - x0) * float(rng.uniform(0.5, 1.0)))
        tone = float(rng.choice([1.0, 1.0, rng.uniform(0.6, 0.85)]))
        field = cv.rect(y, x0, y + fh, fx1, "field", tone)
        line = T.headline(rng) if rng.random() < 0.5 else T.sentence(rng)
        pad = int(0.5 * cap)
        pen, base = float(x0 + pad), y + (fh + cap) / 2
        for c in line:
            g = glyph(hf, hs, c)
            if pen + g.advance > fx1 - pad:
                break
            if g.mask.size:
                cv.erase(int(round(base)) + g.dy, int(round(pen)) + g.dx, g.mask)
            pen += g.advance
        _split_field(cv, field, (y, x0, y + fh, fx1))
        q = max(2, int(0.3 * cap))
        cv.nospeck[max(0, y - q):y + fh + q, max(0, x0 - q):fx1 + q] = True
        y += fh + int(bs)


def _split_field(cv: Canvas, field: int, box: Box) -> None:
    """Relabel the dark islands cut out of a field by light letters as
    ``reverse_counter`` objects (the field itself is the largest piece)."""
    y0, x0, y1, x1 = box
    sub = cv.labels[y0:y1, x0:x1]
    m = (sub == field).astype(np.uint8)
    n, lab, stt, _ = cv2.connectedComponentsWithStats(m, connectivity=8)
    if n <= 2:
        return
    big = 1 + int(np.argmax(stt[1:, cv2.CC_STAT_AREA]))
    lut = np.zeros(n, np.int32)
    others = [i for i in range(1, n) if i != big]
    base = len(cv.kinds)
    lut[others] = base + np.arange(len(others), dtype=np.int32)
    lut[big] = field
    cv.kinds.extend([K["reverse_counter"]] * len(others))
    on = lab > 0
    sub[on] = lut[lab[on]]


def table(cv: Canvas, rng, st: Style, box: Box) -> None:
    """Tables of numbers: right-aligned columns, decimals, minus signs,
    lone digits, with or without rules."""
    y0, x0, y1, x1 = box
    face, size = T.pick(rng, st.body_faces + st.mono_faces), _size(cv, rng, st.body_pt)
    y = y0
    while y < y1 - 6 * size:
        cols = int(rng.integers(3, 8))
        cw = (x1 - x0) / cols
        rh = int(size * float(rng.uniform(1.4, 2.0)))
        rows = int(min(rng.integers(4, 20), (y1 - y) // rh - 1))
        if rows < 2:
            break
        t = max(1, cv.mm(float(rng.uniform(0.1, 0.3))))
        ruled = rng.random()
        for r in range(rows):
            yy = y + r * rh
            if ruled < 0.7:
                cv.rect(yy, x0, yy + t, x1, "rule")
            for c in range(cols):
                s = (T.pick(rng, ("Item", "Qty", "Rate", "Total", "No.", "%", "Year")) if r == 0 and c > 0 else
                     T.pick(rng, ("a", "b", "Row", "I", "x")) + str(r) if c == 0 else T.number(rng))
                w = cv.text_width(s, face, size)
                xx = x0 + c * cw + (cw - w - size * 0.4 if c > 0 else size * 0.3)
                cv.text(s, xx, yy + rh * 0.72, face, size)
        yb = y + rows * rh
        cv.rect(yb, x0, yb + t, x1, "rule")
        if ruled < 0.35:
            for c in range(cols + 1):
                xx = int(min(x1 - t, x0 + c * cw))
                cv.rect(y, xx, yb, xx + t, "rule")
        y = yb + 2 * rh


def music(cv: Canvas, rng, st: Style, box: Box) -> None:
    """Music-like staves: five lines, note heads with stems, augmentation
    and staccato dots, clef dots, and fingering digits."""
    y0, x0, y1, x1 = box
    sp = cv.mm(float(rng.uniform(1.4, 2.2)))           # staff space
    lt = max(1, int(round(sp * float(rng.uniform(0.08, 0.14)))))
    dface = T.pick(rng, st.body_faces)
    ds = max(cv.pt(6.0), int(sp * 1.3))
    y = y0 + 3 * sp
    while y + 8 * sp < y1:
        for i in range(5):
            cv.rect(y + i * sp, x0, y + i * sp + lt, x1, "rule")
        x = x0 + sp
        if rng.random() < 0.5:   # bass clef: a hook and two dots
            m = np.zeros((3 * sp, 3 * sp), np.uint8)
            cv2.ellipse(m, (sp, sp), (sp, sp), 0, 180, 400, 1, max(1, lt * 2))
            cv.put(y, x, m.astype(bool), "note")
            r = max(1, int(sp * 0.16))
            for dy in (int(0.5 * sp), int(1.5 * sp)):
                cv.put(y + dy - r, x + int(2.4 * sp) - r, _disk(r), "staccato")
        x += 4 * sp
        while x < x1 - 3 * sp:
            _note(cv, rng, y, x, sp, lt, dface, ds)
            x += int(sp * float(rng.uniform(2.5, 4.5)))
            if rng.random() < 0.15:
                cv.rect(y, x, y + 4 * sp + lt, x + lt, "rule")
                x += sp
        y += int(sp * float(rng.uniform(9, 12)))


def _disk(r: int) -> np.ndarray:
    yy, xx = np.mgrid[-r:r + 1, -r:r + 1]
    return yy * yy + xx * xx <= r * r + r


def _note(cv: Canvas, rng, y: int, x: int, sp: int, lt: int, dface: str, ds: int) -> None:
    step = int(rng.integers(-2, 11))                    # half-spaces below the top line
    cy = y + step * sp // 2
    hw, hh = int(sp * 0.62), int(sp * 0.45)
    m = np.zeros((6 * sp, 3 * sp), np.uint8)
    c = (int(1.5 * sp), int(4.5 * sp))
    filled = rng.random() < 0.7
    cv2.ellipse(m, c, (hw, hh), -20, 0, 360, 1, -1 if filled else max(1, lt * 2))
    up = step > 4
    sx = c[0] + hw - lt if up else c[0] - hw
    cv2.line(m, (sx, c[1]), (sx, c[1] - int(3.3 * sp) if up else c[1] + int(1.4 * sp)), 1, max(1, lt))
    top = cy - int(4.5 * sp)
    cv.put(top, x - int(1.5 * sp), m.astype(bool), "note")
    r = max(1, int(sp * float(rng.uniform(0.14, 0.22))))
    if rng.random() < 0.35:   # augmentation dot, right of the head, in a space
        dy = -sp // 2 if step % 2 == 0 else 0
        cv.put(cy + dy - r, x + hw + int(0.45 * sp) - r, _disk(r), "staccato")
    if rng.random() < 0.35:   # staccato dot, above or below the head
        dy = int(1.1 * sp) if up else -int(1.1 * sp)
        cv.put(cy + dy - r, x - r, _disk(r), "staccato")
    if rng.random() < 0.5:    # fingering digit above the staff
        d = str(int(rng.integers(1, 6)))
        g = glyph(dface, ds, d)
        cv.text(d, x - g.mask.shape[1] / 2 - g.dx, y - int(1.2 * sp), dface, ds, spots=False)


def halftone(cv: Canvas, rng, st: Style, box: Box) -> None:
    """Halftone photos (a dot screen over a smooth random image) with captions."""
    y0, x0, y1, x1 = box
    face, size = T.pick(rng, st.body_faces), _size(cv, rng, st.body_pt)
    y = y0
    while y < y1 - cv.mm(20):
        y = paragraphs(cv, rng, face, size, (y, x0, min(y1, y + 2 * int(1.4 * size)), x1), max_paras=1,
                       record=False) + int(0.5 * size)
        h = min(y1 - y - 3 * size, cv.mm(float(rng.uniform(25, 60))))
        if h < cv.mm(8):
            break
        w = int((x1 - x0) * float(rng.uniform(0.4, 1.0)))
        pitch = cv.px_per_mm * float(rng.uniform(0.3, 0.6))
        m = halftone_mask(rng, h, w, pitch)
        cv.put_components(y, x0, m, "halftone_dot")
        cv.nospeck[y:y + h, x0:x0 + w] = True
        y += h + int(1.5 * size)
        y = paragraphs(cv, rng, face, size, (y, x0, min(y1, y + 3 * int(1.4 * size)), x1), max_paras=1, record=False)
        y += int(size)


def halftone_mask(rng, h: int, w: int, pitch: float) -> np.ndarray:
    """(h, w) bool dot screen at 45 degrees, dot size following a smooth
    random image."""
    small = rng.random((max(2, h // 40), max(2, w // 40))).astype(np.float32)
    tone = cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC).clip(0.05, 0.95)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    u, v = (xx + yy) / (pitch * 1.4142), (xx - yy) / (pitch * 1.4142)
    du, dv = u - np.round(u), v - np.round(v)
    d = np.hypot(du, dv) * pitch
    return d < np.sqrt(tone / np.pi) * pitch


def signature(cv: Canvas, rng, st: Style, box: Box) -> None:
    """Signature blocks: body text, a line to sign on, a cursive scrawl and a
    handwritten date and amount (Hershey script; digits stay ``digit``)."""
    y0, x0, y1, x1 = box
    face, size = T.pick(rng, st.body_faces), _size(cv, rng, st.body_pt)
    y = y0
    while y < y1 - cv.mm(30):
        y = paragraphs(cv, rng, face, size, (y, x0, min(y1, y + 4 * int(1.4 * size)), x1), max_paras=1) + cv.mm(12)
        lw = int((x1 - x0) * float(rng.uniform(0.4, 0.7)))
        cv.text("Signed:", x0, y, face, size)
        xs = x0 + int(cv.text_width("Signed: ", face, size))
        cv.rect(y + 2, xs, y + 2 + max(1, cv.mm(0.2)), xs + lw, "rule")
        _scrawl(cv, rng, y, xs, lw)
        hs = _size(cv, rng, (12.0, 20.0))
        hand = T.date(rng) + "   " + f"{rng.uniform(1, 999):.2f}"
        cv.text(hand, xs, y + cv.mm(9), st.hand_face, hs, spots=False)
        y += cv.mm(14)


def _scrawl(cv: Canvas, rng, base: int, x: int, w: int) -> None:
    n = int(rng.integers(60, 160))
    t = np.linspace(0, 1, n)
    amp = cv.mm(float(rng.uniform(3, 8)))
    xs = x + t * w * float(rng.uniform(0.6, 1.0))
    f = rng.uniform(4, 14, size=3)
    ys = base - amp * 0.6 + amp * 0.5 * (np.sin(2 * np.pi * f[0] * t + rng.uniform(0, 6)) + 0.5 * np.sin(2 * np.pi * f[1] * t))
    xs = xs + amp * 0.25 * np.cos(2 * np.pi * f[2] * t)
    pts = np.stack([xs, ys], 1).astype(np.int32)
    h = 3 * amp
    top = base - 2 * amp
    m = np.zeros((h, w + 2 * amp), np.uint8)
    cv2.polylines(m, [pts - np.array([x - amp, top])], False, 1, max(1, cv.mm(float(rng.uniform(0.2, 0.5)))), cv2.LINE_AA)
    cv.put_components(top, x - amp, m.astype(bool), "signature")


#: Page type name -> layout function.
PAGE_TYPES = {
    "prose": prose, "receipt": receipt, "form": form, "heading": headings, "page_number": lone_numbers,
    "reverse": reverse, "table": table, "music": music, "codes": codes, "halftone": halftone,
    "signature": signature,
}
