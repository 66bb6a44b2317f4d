"""The text of a data file as people save it: encodings, separators and located CSV faults.

Chinese users' files come in three encodings (docs/formats.md, "Encodings"):

* UTF-8, with or without a byte-order mark (Excel's "CSV UTF-8" writes one);
* GB18030, the superset of GBK and GB 2312 (Excel's plain "CSV" on a Chinese Windows);
* UTF-16 (Excel's "Unicode text": little-endian with a byte-order mark, TAB-separated).

:func:`detect_encoding` tells them apart from the first bytes (a byte-order mark, the zero
bytes of UTF-16, then strict UTF-8, then GB18030); an importer's ``--encoding`` forces one.
:func:`sniff_separator` reads the separator from the header line. A CSV fault (an
unterminated quote, a stray quote) is reported with file, row and field by
:func:`locate_csv_fault`, never with the parser's own message.
"""

from __future__ import annotations

import codecs
import csv
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from kilnwatch.errors import InputError

SAMPLE_BYTES = 1 << 20
"""How much of a file's head is read to detect its encoding [B]."""

TRANSCODE_BYTES = 1 << 22
"""Block size when a file is re-encoded to UTF-8 for the columnar reader [B]."""

ENCODING_HELP = "utf-8, utf-8-sig, gb18030 (also gbk, gb2312), utf-16, utf-16-le, utf-16-be"
SEPARATORS = (",", "\t", ";")

_ALIASES = {"gbk": "gb18030", "gb2312": "gb18030", "cp936": "gb18030", "utf8": "utf-8"}
_KNOWN = ("utf-8", "utf-8-sig", "gb18030", "utf-16", "utf-16-le", "utf-16-be")


@dataclass(frozen=True)
class TextEncoding:
    """The encoding a file is read in, and whether it was detected or named by the user."""

    name: str
    detected: bool = True

    def __str__(self) -> str:
        return f"{self.name} ({'detected' if self.detected else 'as named'})"

    @property
    def is_utf8(self) -> bool:
        """Whether the bytes are UTF-8 already (a columnar reader can take them as they are)."""
        return self.name in ("utf-8", "utf-8-sig")


def named_encoding(name: str) -> TextEncoding:
    """The encoding a user named (``--encoding``); GBK and GB 2312 are read as GB18030,
    their superset (GB 18030-2022, clause 1)."""
    key = name.strip().lower().replace("_", "-")
    key = _ALIASES.get(key, key)
    if key not in _KNOWN:
        raise InputError(f"unknown encoding {name!r}; use one of {ENCODING_HELP}", field="encoding")
    return TextEncoding(key, detected=False)


def _decodes(head: bytes, encoding: str) -> bool:
    """Whether ``head`` is valid in ``encoding`` (a character cut at the end is allowed)."""
    try:
        codecs.getincrementaldecoder(encoding)(errors="strict").decode(head, final=False)
    except UnicodeDecodeError:
        return False
    return True


def detect_encoding(head: bytes, file: str) -> TextEncoding:
    """The encoding of a file from its first bytes (see the module docstring)."""
    if head.startswith(codecs.BOM_UTF8):
        return TextEncoding("utf-8-sig")
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return TextEncoding("utf-16")
    pairs = len(head) // 2
    if pairs and head[1::2].count(0) > pairs // 2:
        return TextEncoding("utf-16-le")  # ASCII-heavy text: every second byte is zero
    if pairs and head[0::2].count(0) > pairs // 2:
        return TextEncoding("utf-16-be")
    for candidate in ("utf-8", "gb18030"):
        if _decodes(head, candidate):
            return TextEncoding(candidate)
    raise InputError(
        f"not text in UTF-8, GB18030/GBK or UTF-16; name its encoding with --encoding "
        f"({ENCODING_HELP})",
        file=file,
    )


def file_encoding(path: Path, encoding: TextEncoding | None) -> TextEncoding:
    """``encoding`` when named, else the one detected from the head of ``path``."""
    if encoding is not None:
        return encoding
    with path.open("rb") as f:
        return detect_encoding(f.read(SAMPLE_BYTES), path.name)


def _decode_fault(
    data: bytes, exc: UnicodeDecodeError, encoding: str, file: str, *, lines_before: int = 0,
    bytes_before: int = 0,
) -> InputError:  # fmt: skip
    """A decoding fault located on its line (line 1 is the header; data row = line - 1)."""
    line = lines_before + data[: exc.start].decode(encoding, errors="replace").count("\n") + 1
    where = "the header" if line == 1 else f"line {line}"
    return InputError(
        f"not {encoding} text in {where} (byte {bytes_before + exc.start}: {exc.reason}); name "
        f"the file's encoding with --encoding ({ENCODING_HELP})",
        file=file,
        row=line - 1 if line > 1 else None,
    )


def decode_text(data: bytes, file: str, encoding: TextEncoding | None = None) -> tuple[str, str]:
    """The text of a file and the name of its encoding (detected unless ``encoding``)."""
    chosen = encoding or detect_encoding(data[:SAMPLE_BYTES], file)
    try:
        return data.decode(chosen.name), chosen.name
    except UnicodeDecodeError as exc:
        raise _decode_fault(data, exc, chosen.name, file) from exc


def sniff_separator(header_line: str) -> str:
    """The separator of a CSV from its header: the most frequent of ``,``, TAB and ``;``
    (Excel's "Unicode text" is TAB-separated, some European exports use ``;``)."""
    counts = [(header_line.count(s), -i, s) for i, s in enumerate(SEPARATORS)]
    best = max(counts)
    return best[2] if best[0] else ","


def _open_field(line: str, separator: str) -> int:
    """Index of the field a quote left open in one physical line (0-based)."""
    index, quoted = 0, False
    for char in line:
        if char == '"':
            quoted = not quoted
        elif char == separator and not quoted:
            index += 1
    return index


def csv_records(lines: Iterable[str], file: str, separator: str) -> Iterator[list[str]]:
    """Records of CSV text lines (strict quoting), the header first; a fault names file,
    data row (the header is row 0) and field (named by the header)."""
    columns: list[str] = []
    seen: list[str] = []  # the physical lines of the record being read

    def tracked() -> Iterator[str]:
        for line in lines:
            seen.append(line)
            yield line

    reader = csv.reader(tracked(), delimiter=separator, strict=True)
    record = 0
    while True:
        seen.clear()
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise _csv_fault(exc, file, record, columns, separator, seen) from None
        if not record:
            columns = [c.strip().lstrip("\ufeff") for c in cells]
        record += 1
        yield cells


def _csv_fault(
    exc: csv.Error, file: str, record: int, columns: list[str], separator: str, lines: list[str]
) -> InputError:
    """The fault of the record that started with ``lines[0]`` (record 0 is the header)."""
    reason = str(exc)
    if "end of data" in reason:
        reason = "a quoted field is never closed (unterminated quote)"
    elif "expected after" in reason:
        reason = f"a quote inside a quoted field must be doubled ({reason})"
    index = _open_field(lines[0], separator) if lines else 0
    field = columns[index] if index < len(columns) else f"column {index + 1}"
    return InputError(reason, file=file, row=record or None, field=field)


def header_line(path: Path, encoding: TextEncoding) -> str:
    """The first line of a text file (without its byte-order mark)."""
    with path.open(encoding=encoding.name, newline="", errors="replace") as f:
        return f.readline().lstrip("\ufeff")


def decoded_blocks(path: Path, encoding: TextEncoding, file: str) -> Iterator[str]:
    """The text of ``path`` in blocks (memory flat in file size); a byte that is not text in
    ``encoding`` is reported with its line, a file ending inside a character as such."""
    decoder = codecs.getincrementaldecoder(encoding.name)(errors="strict")
    lines, offset = 0, 0
    with path.open("rb") as src:
        while block := src.read(TRANSCODE_BYTES):
            try:
                text = decoder.decode(block)
            except UnicodeDecodeError as exc:
                raise _decode_fault(block, exc, encoding.name, file, lines_before=lines,
                                    bytes_before=offset) from exc  # fmt: skip
            yield text.lstrip("\ufeff") if offset == 0 else text
            lines += text.count("\n")
            offset += len(block)
        try:
            yield decoder.decode(b"", final=True)
        except UnicodeDecodeError as exc:
            raise InputError(
                f"the file ends inside a {encoding.name} character ({exc.reason})", file=file
            ) from exc


def transcode_to_utf8(path: Path, encoding: TextEncoding, out: Path) -> None:
    """Re-encode ``path`` to UTF-8 in blocks (memory flat in file size), without a byte-order
    mark; a byte that is not text in ``encoding`` is reported with its line."""
    with out.open("wb") as dst:
        for text in decoded_blocks(path, encoding, path.name):
            dst.write(text.encode())
