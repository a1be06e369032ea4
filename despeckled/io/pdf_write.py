"""Cleaned PDFs out: :class:`PdfSink`, the PDF
:class:`~despeckled.io.pages.PageSink`.

``add_page`` appends a page of exactly the source page's geometry (MediaBox,
CropBox, /Rotate and the image's placement, from the page's ``info`` as
:class:`~despeckled.io.pdf.PdfSource` reported it); bilevel pages are stored
as CCITT G4, others as Flate (PNG-Up predictor, lossless) or as JPEG at the
scan's own estimated quality. Document info, XMP, bookmarks and page labels
are copied from the source. Each page is compressed and written to the file
as soon as it is added, so memory holds one page whatever the page count.

The file is written by a small sequential writer here (image pages need
nothing more, and it streams); pikepdf only serialises names, strings and
the copied metadata.
"""

from __future__ import annotations

import contextlib
import io
import secrets
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pikepdf
from PIL import Image

from despeckled import errors
from despeckled.clean.gray import is_paper, to_uint8
from despeckled.io.pdf import _DEFAULT_RENDER_DPI, PdfSource


def encode_g4(ink_free: np.ndarray) -> bytes:
    """CCITT Group 4 data (``/K -1``, ``/BlackIs1 false``) for a bilevel page.

    Parameters
    ----------
    ink_free : ndarray of bool, shape (H, W)
        True where the page is paper (white), False where it is ink.

    Returns
    -------
    bytes
        One G4 strip, as ``/CCITTFaxDecode`` expects it.
    """
    h, w = ink_free.shape
    # CCITT codes "white" runs for 0 bits; Pillow packs mode "1" as-is, so feed
    # it the ink mask (1 = ink): ink becomes black runs, paper white runs.
    im = Image.frombytes("1", (w, h), np.packbits(~np.asarray(ink_free, bool), axis=1).tobytes())
    buf = io.BytesIO()
    # one strip: G4 strips cannot be concatenated (each restarts from a white line)
    im.save(buf, format="TIFF", compression="group4", tiffinfo={278: h})
    with Image.open(buf) as tif:
        offsets = tif.tag_v2[273]
        counts = tif.tag_v2[279]
    if len(offsets) != 1:
        raise errors.OutputError("G4 encoder produced more than one strip")
    data = buf.getbuffer()[offsets[0]:offsets[0] + counts[0]].tobytes()
    return data


def _png_up(pixels: np.ndarray) -> bytes:
    """Rows prefixed with PNG filter type 2 (Up): lossless, Flate-friendly."""
    h = pixels.shape[0]
    rows = pixels.reshape(h, -1)
    diff = np.empty((h, rows.shape[1] + 1), dtype=np.uint8)
    diff[:, 0] = 2
    diff[0, 1:] = rows[0]
    np.subtract(rows[1:], rows[:-1], out=diff[1:, 1:], dtype=np.uint8)
    return diff.tobytes()


def _is_two_level(image: np.ndarray) -> bool:
    if image.dtype == bool:
        return True
    if image.ndim != 2 or image.dtype != np.uint8:
        return False
    counts = np.bincount(image.ravel(), minlength=256)
    return int(counts[1:255].sum()) == 0


@dataclass
class _OutlineNode:
    title: str
    page: int | None
    location: list = field(default_factory=list)   # e.g. ["/XYZ", 0, 792, None]
    children: list[_OutlineNode] = field(default_factory=list)


class _PdfWriter:
    """A minimal sequential PDF writer: each object goes to the file as soon
    as it is made, so memory never holds more than the page being written.

    Object numbers come from :meth:`reserve` (so objects can refer forward);
    :meth:`close` writes the cross-reference table and the trailer.
    """

    def __init__(self, fh) -> None:
        self.fh = fh
        self.offsets: dict[int, int] = {}
        self._next = 1
        fh.write(b"%PDF-1.5\n%\xe2\xe3\xcf\xd3\n")

    def reserve(self) -> int:
        num = self._next
        self._next += 1
        return num

    def obj(self, num: int, body: bytes) -> None:
        self.offsets[num] = self.fh.tell()
        self.fh.write(b"%d 0 obj\n%s\nendobj\n" % (num, body))

    def stream(self, num: int, entries: bytes, data: bytes) -> None:
        self.offsets[num] = self.fh.tell()
        self.fh.write(b"%d 0 obj\n<< %s /Length %d >>\nstream\n" % (num, entries, len(data)))
        self.fh.write(data)
        self.fh.write(b"\nendstream\nendobj\n")

    def close(self, root: int, info: int | None) -> None:
        xref = self.fh.tell()
        size = self._next
        lines = [b"xref\n0 %d\n0000000000 65535 f \n" % size]
        for num in range(1, size):
            off = self.offsets.get(num)
            lines.append(b"%010d 00000 n \n" % off if off is not None else b"0000000000 00001 f \n")
        self.fh.write(b"".join(lines))
        file_id = secrets.token_hex(16).encode()
        trailer = b"/Size %d /Root %d 0 R /ID [<%s> <%s>]" % (size, root, file_id, file_id)
        if info is not None:
            trailer += b" /Info %d 0 R" % info
        self.fh.write(b"trailer\n<< %s >>\nstartxref\n%d\n%%%%EOF\n" % (trailer, xref))


def _ref(num: int) -> bytes:
    return b"%d 0 R" % num


def _nums(values) -> bytes:
    return b"[" + b" ".join(_num(v).encode() for v in values) + b"]"


class PdfSink:
    """Write a cleaned PDF to ``tmp_path``, page by page.

    Each page is compressed and written to the file as it is added (memory
    holds one page, whatever the page count). ``images.open_sink`` gives the
    temp path and publishes the file after :meth:`finish`; :meth:`close`
    without :meth:`finish` removes the partial file. ``source`` (a
    :class:`PdfSource`) supplies document info, XMP metadata, bookmarks and
    page labels; page geometry comes with each page's ``info``.
    """

    def __init__(self, tmp_path: str | Path, source: PdfSource | None = None) -> None:
        self.tmp_path = Path(tmp_path)
        self.path: Path | None = None
        self.pages = 0
        self._docinfo: dict[str, Any] = {}
        self._xmp: bytes | None = None
        self._outline: list[_OutlineNode] = []
        self._page_labels: Any = None
        self._finished = False
        self._page_nums: list[int] = []
        self._sources: list[int] = []       # each written page's index in the source
        if isinstance(source, PdfSource):
            self._take_metadata(source)
        try:
            self._fh = open(self.tmp_path, "wb")  # noqa: SIM115 - closed in finish()/close()
        except OSError as exc:
            raise errors.OutputError(f"cannot write PDF: {exc.strerror or exc}") from exc
        self._w = _PdfWriter(self._fh)
        self._root = self._w.reserve()
        self._pages_root = self._w.reserve()

    def __enter__(self) -> PdfSink:
        return self

    def __exit__(self, exc_type, *rest: object) -> None:
        if exc_type is None:
            self.finish()
        else:
            self.close()

    # -- metadata
    def _take_metadata(self, source: PdfSource) -> None:
        """Copy what describes the document. Best effort: damaged metadata in
        a readable scan must not cost the user the cleaned pages."""
        pdf = source.pdf
        try:
            for key, value in pdf.docinfo.items():
                if isinstance(value, pikepdf.String):
                    self._docinfo[str(key)] = pikepdf.String(bytes(value))
                elif isinstance(value, pikepdf.Name):
                    self._docinfo[str(key)] = pikepdf.Name(str(value))
        except Exception:  # noqa: BLE001 - any damage here only loses metadata
            self._docinfo = {}
        try:
            meta = pdf.Root.get("/Metadata")
            if isinstance(meta, pikepdf.Stream):
                self._xmp = meta.read_bytes()
        except Exception:  # noqa: BLE001
            self._xmp = None
        try:
            labels = pdf.Root.get("/PageLabels")     # "i, ii, 1, 2...": a number tree of plain values
            if labels is not None:
                self._page_labels = _plain_copy(labels)
        except Exception:  # noqa: BLE001
            self._page_labels = None
        try:
            self._outline = _read_outline(pdf)
        except Exception:  # noqa: BLE001
            self._outline = []

    # -- pages
    def add_page(self, image: np.ndarray, dpi: float | tuple[float, float] | None, *, bilevel: bool,
                 info: dict | None = None) -> None:
        """Append ``image`` as the next page.

        Parameters
        ----------
        image : ndarray, shape (H, W) or (H, W, 3)
            uint8 (0 = black) / bool (True = white) / uint16 pixels.
        dpi : float or (float, float), optional
            Used for the page size only when ``info`` has no geometry.
        bilevel : bool
            Store as CCITT G4 (ink where the image is darker than mid-gray).
        info : dict, optional
            The source page's ``info`` (geometry, rotation, JPEG quality),
            and ``source_index``, its index in the source when pages were
            left out (bookmarks then follow their pages).
        """
        if self._finished:
            raise ValueError("PdfSink is finished")
        info = info or {}
        image = np.asarray(image)
        if image.ndim not in (2, 3) or image.shape[0] == 0 or image.shape[1] == 0:
            raise errors.OutputError(f"cannot write a page image of shape {image.shape}")
        h, w = image.shape[:2]
        entries, data = _encode_image(image, bilevel=bilevel, quality=info.get("jpeg_quality"))
        if isinstance(dpi, (int, float)):
            dpi = (float(dpi), float(dpi))
        media = info.get("media_box")
        placement = info.get("placement")
        if media is None:
            dx, dy = dpi if dpi else (_DEFAULT_RENDER_DPI, _DEFAULT_RENDER_DPI)
            media = (0.0, 0.0, w * 72.0 / dx, h * 72.0 / dy)
        if placement is None:
            crop = info.get("crop_box") or media
            placement = (crop[2] - crop[0], 0.0, 0.0, crop[3] - crop[1], crop[0], crop[1])
        content = b"q " + b" ".join(_num(v).encode() for v in placement) + b" cm /Im0 Do Q"
        w_ = self._w
        img_num, content_num, page_num = w_.reserve(), w_.reserve(), w_.reserve()
        page = [b"/Type /Page /Parent", _ref(self._pages_root), b"/MediaBox", _nums(media),
                b"/Resources << /XObject << /Im0", _ref(img_num), b">> >> /Contents", _ref(content_num)]
        if info.get("crop_box"):
            page += [b"/CropBox", _nums(info["crop_box"])]
        if info.get("rotate"):
            page += [b"/Rotate %d" % int(info["rotate"])]
        if info.get("user_unit", 1.0) != 1.0:
            page += [b"/UserUnit", _num(info["user_unit"]).encode()]
        try:
            w_.stream(img_num, entries, data)
            w_.stream(content_num, b"", content)
            w_.obj(page_num, b"<< " + b" ".join(page) + b" >>")
        except OSError as exc:
            raise errors.OutputError(f"cannot write PDF: {exc.strerror or exc}") from exc
        self._page_nums.append(page_num)
        self._sources.append(int(info.get("source_index", len(self._sources))))
        self.pages += 1

    # -- finish
    def finish(self) -> None:
        """Write the document's tail (page tree, metadata, bookmarks, xref).
        Not fsynced: the caller publishes."""
        if self._finished:
            return
        if self.pages == 0:
            self.close()
            raise errors.OutputError("no pages to write")
        w_ = self._w
        try:
            kids = b" ".join(_ref(n) for n in self._page_nums)
            w_.obj(self._pages_root, b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, self.pages))
            catalog = [b"/Type /Catalog /Pages", _ref(self._pages_root)]
            if self._xmp:
                num = w_.reserve()
                w_.stream(num, b"/Type /Metadata /Subtype /XML", self._xmp)
                catalog += [b"/Metadata", _ref(num)]
            kept_all = self._sources == list(range(self.pages))
            if self._page_labels is not None and kept_all:
                # (labels number pages by position: with pages left out they would mislabel)
                catalog += [b"/PageLabels", self._page_labels.unparse()]
            if self._outline:
                num = _write_outline(w_, self._outline, self._page_nums if kept_all else _follow(self._sources, self._page_nums))
                catalog += [b"/Outlines", _ref(num)]
            w_.obj(self._root, b"<< " + b" ".join(catalog) + b" >>")
            info = None
            if self._docinfo:
                info = w_.reserve()
                w_.obj(info, b"<< " + b" ".join(pikepdf.Name(k).unparse() + b" " + v.unparse()
                                                for k, v in self._docinfo.items()) + b" >>")
            w_.close(self._root, info)
            self._fh.close()
        except OSError as exc:
            self.close()
            raise errors.OutputError(f"cannot write PDF: {exc.strerror or exc}") from exc
        self._finished = True

    def close(self) -> None:
        """Finish nothing: close the file and, unless :meth:`finish` ran,
        remove the partial PDF."""
        if self._finished:
            return
        self._finished = True
        with contextlib.suppress(OSError):
            self._fh.close()
        with contextlib.suppress(FileNotFoundError):
            self.tmp_path.unlink()


def _encode_image(image: np.ndarray, *, bilevel: bool, quality: int | None) -> tuple[bytes, bytes]:
    """(image XObject dictionary entries, stream data) for one page image:
    CCITT G4 when bilevel (or only black and white), JPEG at ``quality`` when
    given, else lossless Flate with the PNG Up predictor."""
    h, w = image.shape[:2]
    head = b"/Type /XObject /Subtype /Image /Width %d /Height %d" % (w, h)
    if bilevel or _is_two_level(image):
        data = encode_g4(is_paper(image))
        return (head + b" /ColorSpace /DeviceGray /BitsPerComponent 1 /Filter /CCITTFaxDecode"
                b" /DecodeParms << /K -1 /Columns %d /Rows %d /BlackIs1 false >>" % (w, h)), data
    if image.ndim == 3:
        image = image[..., :3]
        if image.shape[2] == 1:
            image = image[..., 0]
    image = np.ascontiguousarray(image)
    colours = 1 if image.ndim == 2 else 3
    space = b"/DeviceGray" if colours == 1 else b"/DeviceRGB"
    if image.dtype != np.uint8 and image.dtype != np.uint16:
        image = to_uint8(image)
    if quality and image.dtype == np.uint8:
        buf = io.BytesIO()
        Image.fromarray(image).save(buf, format="JPEG", quality=int(quality), optimize=True)
        return head + b" /ColorSpace %s /BitsPerComponent 8 /Filter /DCTDecode" % space, buf.getvalue()
    bpc = 8
    if image.dtype == np.uint16:
        image = image.astype(">u2")
        bpc = 16
    data = zlib.compress(_png_up(image.view(np.uint8).reshape(h, -1)), 6)
    return (head + b" /ColorSpace %s /BitsPerComponent %d /Filter /FlateDecode"
            b" /DecodeParms << /Predictor 12 /Colors %d /BitsPerComponent %d /Columns %d >>"
            % (space, bpc, colours, bpc, w)), data


def _follow(sources: list[int], page_nums: list[int]) -> list[int]:
    """Object numbers by *source* page index when pages were left out: a
    left-out page's bookmarks go to the next written page (else the last).

    >>> _follow([0, 2, 3], [10, 11, 12])
    [10, 11, 11, 12]
    """
    out = []
    j = 0
    for i in range(max(sources) + 1):
        while j < len(sources) - 1 and sources[j] < i:
            j += 1
        out.append(page_nums[j])
    return out


def _write_outline(w_: _PdfWriter, nodes: list[_OutlineNode], page_nums: list[int]) -> int:
    """Write the bookmark tree; returns the /Outlines dictionary's number."""
    root = w_.reserve()

    def number(items: list[_OutlineNode]) -> list[tuple[int, _OutlineNode, list]]:
        return [(w_.reserve(), node, number(node.children)) for node in items]

    def count(tree) -> int:
        return sum(1 + count(kids) for _, _, kids in tree)

    def write(tree, parent: int) -> None:
        for i, (num, node, kids) in enumerate(tree):
            parts = [b"/Title", pikepdf.String(node.title).unparse(), b"/Parent", _ref(parent)]
            if i > 0:
                parts += [b"/Prev", _ref(tree[i - 1][0])]
            if i + 1 < len(tree):
                parts += [b"/Next", _ref(tree[i + 1][0])]
            if kids:
                parts += [b"/First", _ref(kids[0][0]), b"/Last", _ref(kids[-1][0]), b"/Count %d" % count(kids)]
            if node.page is not None and 0 <= node.page < len(page_nums):
                loc = node.location or ["/Fit"]
                dest = [_ref(page_nums[node.page])] + [
                    pikepdf.Name(v).unparse() if isinstance(v, str) else b"null" if v is None else _num(v).encode()
                    for v in loc]
                parts += [b"/Dest [" + b" ".join(dest) + b"]"]
            w_.obj(num, b"<< " + b" ".join(parts) + b" >>")
            write(kids, num)

    tree = number(nodes)
    write(tree, root)
    w_.obj(root, b"<< /Type /Outlines /First %s /Last %s /Count %d >>"
           % (_ref(tree[0][0]), _ref(tree[-1][0]), count(tree)))
    return root


def _plain_copy(obj: Any, depth: int = 0) -> Any:
    """A deep copy of a tree of dictionaries, arrays and scalars (no streams)
    that belongs to no document, so it can be put into another PDF.

    >>> _plain_copy(pikepdf.Dictionary(Nums=[0, pikepdf.Dictionary(S=pikepdf.Name.r)]))
    pikepdf.Dictionary({
      "/Nums": [ 0, {
        "/S": "/r"
      } ]
    })
    """
    if depth > 32:
        raise ValueError("structure nested too deeply")
    if isinstance(obj, pikepdf.Stream):
        raise TypeError("streams are not copied")
    if isinstance(obj, pikepdf.Dictionary):
        return pikepdf.Dictionary({str(k): _plain_copy(v, depth + 1) for k, v in obj.items()})
    if isinstance(obj, pikepdf.Array):
        return pikepdf.Array([_plain_copy(v, depth + 1) for v in obj])
    if isinstance(obj, pikepdf.String):
        return pikepdf.String(bytes(obj))
    if isinstance(obj, pikepdf.Name):
        return pikepdf.Name(str(obj))
    return obj


def _num(v: float) -> str:
    """PDF number literal.

    >>> _num(595.0), _num(841.89), _num(-0.0)
    ('595', '841.89', '0')
    """
    s = f"{float(v):.4f}".rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


def _read_outline(pdf: pikepdf.Pdf) -> list[_OutlineNode]:
    page_index = {p.obj.objgen: i for i, p in enumerate(pdf.pages)}
    names = None

    def resolve(dest) -> tuple[int | None, list]:
        nonlocal names
        if isinstance(dest, (pikepdf.String, pikepdf.Name)):
            key = str(dest).lstrip("/") if isinstance(dest, pikepdf.Name) else str(dest)
            found = None
            if "/Names" in pdf.Root and "/Dests" in pdf.Root.Names:
                if names is None:
                    names = pikepdf.NameTree(pdf.Root.Names.Dests)
                found = names.get(key)
            if found is None and "/Dests" in pdf.Root:
                found = pdf.Root.Dests.get("/" + key)
            if found is None:
                return None, []
            dest = found
        if isinstance(dest, pikepdf.Dictionary):
            dest = dest.get("/D")
        if not isinstance(dest, pikepdf.Array) or len(dest) == 0:
            return None, []
        target = dest[0]
        if isinstance(target, int) or (isinstance(target, pikepdf.Object) and target._type_code == pikepdf.ObjectType.integer):
            idx = int(target)
        else:
            idx = page_index.get(target.objgen)
        loc = []
        for v in list(dest)[1:]:
            if isinstance(v, pikepdf.Name):
                loc.append(str(v))
            elif v is None or (isinstance(v, pikepdf.Object) and v._type_code == pikepdf.ObjectType.null):
                loc.append(None)
            else:
                loc.append(float(v))
        return idx, loc

    def walk(items, depth=0) -> list[_OutlineNode]:
        nodes = []
        for item in items:
            dest = item.destination
            if dest is None and item.action is not None and item.action.get("/S") == "/GoTo":
                dest = item.action.get("/D")
            idx, loc = resolve(dest) if dest is not None else (None, [])
            node = _OutlineNode(str(item.title), idx, loc)
            if depth < 32:
                node.children = walk(item.children, depth + 1)
            nodes.append(node)
        return nodes

    with pdf.open_outline() as outline:
        return walk(outline.root)
