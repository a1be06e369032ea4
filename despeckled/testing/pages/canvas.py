"""The clean page being drawn, with its ground truth: every content object
gets a label, a kind and a print tone before any degradation.

Kinds (:data:`KINDS`) are what the benchmark scores:

* must never be lost -- ``glyph``, ``digit``, ``one_letter`` (the letter of
  a one-letter word or a lone letter in a form box), ``code_module`` (one
  dark QR cell or one barcode bar), ``reverse_counter`` (the dark island
  inside a light letter on a dark field);
* small marks, to be kept -- ``period``, ``comma``, ``idot``, ``accent``,
  ``colon``, ``staccato`` (music dots: staccato, augmentation and clef dots);
* the rest, scored for information -- ``other_mark`` (hyphens, minus signs,
  dashes, quotes), ``note`` (note heads and stems), ``halftone_dot``,
  ``rule`` (box and table rules, staff lines), ``signature``, ``field``
  (the dark field of reverse text).
"""

from __future__ import annotations

import cv2
import numpy as np

from despeckled.testing.pages.fonts import glyph, metrics

KINDS = ("none", "glyph", "digit", "one_letter", "code_module", "reverse_counter",
         "period", "comma", "idot", "accent", "colon", "staccato",
         "other_mark", "note", "halftone_dot", "rule", "signature", "field")
K = {name: i for i, name in enumerate(KINDS)}
#: Kinds of which none may be lost.
MUST_KEEP = ("glyph", "digit", "one_letter", "code_module", "reverse_counter")
#: Small marks (the "small marks kept" figure).
SMALL_MARKS = ("period", "comma", "idot", "accent", "colon", "staccato")

_OTHER_MARKS = set("-\u2010\u2011\u2012\u2013\u2014\u2212_'\"\u2018\u2019\u201c\u201d`=~*\u00b7\u00b0^")
_PUNCT_KIND = {".": "period", ",": "comma", ":": "colon", ";": "colon", "!": "period", "?": "period"}
_X_LETTERS = set("acemnorsuvwxz")


class Canvas:
    """A page of ``shape`` pixels at ``dpi`` with ground truth.

    Attributes
    ----------
    cov : ndarray of float32, shape (H, W)
        Ink coverage times tone (1 = full print ink, 0.7 = a dark-gray field).
    labels : ndarray of int32, shape (H, W)
        Content-object label of each ink pixel (0 = paper).
    kinds : list of int
        Kind code per label (index 0 unused).
    nospeck : ndarray of bool, shape (H, W)
        Areas where no speck is placed (reverse fields, codes, halftones).
    accent_spots, period_spots : list of (x, y, x_height)
        Where an accent above a letter, or a period after a word, would sit.
    text_lines : list of str
        Prose lines in reading order (the OCR reference).
    """

    def __init__(self, shape: tuple[int, int], dpi: float):
        self.shape = shape
        self.dpi = float(dpi)
        self.px_per_pt = self.dpi / 72.0
        self.px_per_mm = self.dpi / 25.4
        self.cov = np.zeros(shape, np.float32)
        self.labels = np.zeros(shape, np.int32)
        self.kinds: list[int] = [0]
        self.nospeck = np.zeros(shape, bool)
        self.accent_spots: list[tuple[float, float, float]] = []
        self.period_spots: list[tuple[float, float, float]] = []
        self.text_lines: list[str] = []

    # -- primitives -------------------------------------------------------

    def put(self, y: int, x: int, mask: np.ndarray, kind: str, tone: float = 1.0) -> int:
        """Draw ``mask`` with its top-left at (y, x) as one object; clipped
        to the page. Returns the label (0 if nothing landed on the page)."""
        y, x = int(y), int(x)
        h, w = mask.shape
        H, W = self.shape
        y0, x0, y1, x1 = max(0, y), max(0, x), min(H, y + h), min(W, x + w)
        if y1 <= y0 or x1 <= x0:
            return 0
        m = mask[y0 - y:y1 - y, x0 - x:x1 - x]
        if not m.any():
            return 0
        lab = len(self.kinds)
        self.kinds.append(K[kind])
        self.labels[y0:y1, x0:x1][m] = lab
        c = self.cov[y0:y1, x0:x1]
        np.maximum(c, np.where(m, np.float32(tone), np.float32(0)), out=c)
        return lab

    def put_components(self, y: int, x: int, mask: np.ndarray, kind: str, tone: float = 1.0,
                       cell_labels: np.ndarray | None = None) -> None:
        """Draw ``mask`` at (y, x), each 8-connected piece (or each distinct
        value of ``cell_labels``) one object of ``kind``. Vectorised."""
        y, x = int(y), int(x)
        if cell_labels is None:
            n, lab = cv2.connectedComponents(mask.astype(np.uint8), connectivity=8)
        else:
            lab = np.where(mask, cell_labels, 0)
            u, inv = np.unique(lab, return_inverse=True)
            lab = inv.reshape(lab.shape)
            if u[0] != 0:
                lab += 1
            n = int(lab.max()) + 1
        h, w = mask.shape
        H, W = self.shape
        y0, x0, y1, x1 = max(0, y), max(0, x), min(H, y + h), min(W, x + w)
        if y1 <= y0 or x1 <= x0 or n <= 1:
            return
        sub = lab[y0 - y:y1 - y, x0 - x:x1 - x]
        present = np.unique(sub[sub > 0])
        if len(present) == 0:
            return
        lut = np.zeros(n, np.int32)
        base = len(self.kinds)
        lut[present] = base + np.arange(len(present), dtype=np.int32)
        self.kinds.extend([K[kind]] * len(present))
        on = sub > 0
        self.labels[y0:y1, x0:x1][on] = lut[sub[on]]
        c = self.cov[y0:y1, x0:x1]
        np.maximum(c, np.where(on, np.float32(tone), np.float32(0)), out=c)

    def erase(self, y: int, x: int, mask: np.ndarray) -> None:
        """Paint paper over ``mask`` at (y, x) (light text on a dark field)."""
        y, x = int(y), int(x)
        h, w = mask.shape
        H, W = self.shape
        y0, x0, y1, x1 = max(0, y), max(0, x), min(H, y + h), min(W, x + w)
        if y1 <= y0 or x1 <= x0:
            return
        m = mask[y0 - y:y1 - y, x0 - x:x1 - x]
        self.labels[y0:y1, x0:x1][m] = 0
        self.cov[y0:y1, x0:x1][m] = 0

    def rect(self, y0: int, x0: int, y1: int, x1: int, kind: str, tone: float = 1.0) -> int:
        m = np.ones((max(1, y1 - y0), max(1, x1 - x0)), bool)
        return self.put(y0, x0, m, kind, tone)

    def box_outline(self, y0: int, x0: int, y1: int, x1: int, t: int, kind: str = "rule") -> None:
        m = np.zeros((y1 - y0, x1 - x0), bool)
        m[:t], m[-t:], m[:, :t], m[:, -t:] = True, True, True, True
        self.put(y0, x0, m, kind)

    def mm(self, v: float) -> int:
        return int(round(v * self.px_per_mm))

    def pt(self, v: float) -> int:
        return max(3, int(round(v * self.px_per_pt)))

    # -- text ---------------------------------------------------------------

    def text_width(self, text: str, face: str, size_px: int) -> float:
        return float(sum(glyph(face, size_px, c).advance for c in text))

    def text(self, text: str, x: float, baseline: float, face: str, size_px: int, *,
             tone: float = 1.0, kind: str | None = None, track: float = 0.0, spots: bool = True) -> float:
        """Typeset one line of ``text`` with its pen starting at ``x`` on
        ``baseline``; each connected piece of each character becomes an
        object of the kind its character and piece imply (or ``kind`` for
        every body). Returns the pen's end x."""
        xh = metrics(face, size_px)[0]
        words = text.split(" ")
        pen = float(x)
        for wi, word in enumerate(words):
            letters = [c for c in word if c.isalpha()]
            lone = len(letters) == 1 and len(word.strip(".,;:!?()'\"")) == 1
            for c in word:
                pen = self._char(c, pen, baseline, face, size_px, tone, kind, lone, xh, spots) + track
            if spots and word and word[-1].isalnum():
                self.period_spots.append((pen + 0.1 * xh, baseline, xh))
            if wi < len(words) - 1:
                pen += glyph(face, size_px, " ").advance + track
        return pen

    def _char(self, c: str, pen: float, baseline: float, face: str, size_px: int, tone: float,
              kind: str | None, lone: bool, xh: float, spots: bool) -> float:
        g = glyph(face, size_px, c)
        if g.n_pieces == 0:
            return pen + g.advance
        y, x = int(round(baseline)) + g.dy, int(round(pen)) + g.dx
        body, second = _char_kinds(c, lone)
        if kind is not None:
            body, second = kind, (kind if second in ("glyph", "digit", "one_letter") else second)
        if g.n_pieces == 1 or body == second:
            self.put(y, x, g.mask, body, tone)   # a broken stroke is still one character
        else:
            for p in range(1, g.n_pieces + 1):
                self.put(y, x, g.pieces == p, body if p == 1 else second, tone)
        if spots and c in _X_LETTERS:
            self.accent_spots.append((x + g.mask.shape[1] / 2.0, baseline - xh, xh))
        return pen + g.advance


def _char_kinds(c: str, lone: bool) -> tuple[str, str]:
    """(kind of the largest piece, kind of the other pieces) of character ``c``.

    >>> _char_kinds("i", False), _char_kinds("7", False), _char_kinds("a", True), _char_kinds(":", False)
    (('glyph', 'idot'), ('digit', 'digit'), ('one_letter', 'one_letter'), ('colon', 'colon'))
    """
    if c in _PUNCT_KIND:
        k = _PUNCT_KIND[c]
        if c in "!?":
            return "other_mark" if c == "!" else "glyph", "period"
        return k, k
    if c.isdigit():
        return "digit", "digit"
    if c in _OTHER_MARKS:
        return "other_mark", "other_mark"
    if c.isalpha():
        body = "one_letter" if lone else "glyph"
        if c in "ij":
            return body, "idot"
        return body, (body if c.isascii() else "accent")
    return "glyph", "glyph"
