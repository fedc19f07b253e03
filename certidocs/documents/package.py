"""Write a rendered document's package (the .docx zip), reusing what the template already had.

A rendered document changes a few parts of its template (the body, the headers and footers,
the core properties, the relationships when an image is added); the others (styles,
numbering, theme, fonts, settings…) are the template's bytes. python-docx writes every part
through ``zipfile``, compressing each one again for each document: over a batch, saving cost
as much as rendering. Here each part the template already had is compared with its bytes and,
when identical, written with the compressed data and checksum computed once per template;
only the parts that changed are compressed.

Members are dated 1 January 1980 (the zip format's first date): the same document, rendered
twice from the same data, gives the same file. Images are stored without compression (PNG
and JPEG are compressed already).
"""

from __future__ import annotations

import struct
import zipfile
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

_LOCAL = struct.Struct("<4s2B4HL2L2H")  # zipfile's structFileHeader
_CENTRAL = struct.Struct("<4s4B4HL2L5H2L")  # structCentralDir
_END = struct.Struct("<4s4H2LH")  # structEndArchive
_DOS_DATE = (0 << 9) | (1 << 5) | 1  # 1980-01-01
_DOS_TIME = 0
_VERSION = 20  # 2.0: deflate
_UTF8 = 0x800  # general purpose flag: the name is UTF-8
_STORED_EXTENSIONS = (".png", ".jpg", ".jpeg", ".gif", ".emf", ".wmf")
COPY_BYTES = 1 << 20  # bytes of a streamed member copied at a time


@dataclass(frozen=True)
class _Member:
    raw: bytes
    crc: int
    method: int
    data: bytes


def _pack(name: str, raw: bytes) -> _Member:
    crc = zlib.crc32(raw)
    if name.lower().endswith(_STORED_EXTENSIONS):
        return _Member(raw, crc, zipfile.ZIP_STORED, raw)
    compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
    return _Member(raw, crc, zipfile.ZIP_DEFLATED, compressor.compress(raw) + compressor.flush())


@dataclass(frozen=True)
class StreamedMember:
    """A member already compressed (raw deflate) into the file ``path``, with the CRC-32 and
    the sizes (bytes) of its data: written by certidocs.documents.streaming."""

    path: Path
    crc: int
    compressed_size: int
    size: int


@dataclass
class TemplateMembers:
    """A template's members, compressed once: what ``write_package`` reuses."""

    members: dict[str, _Member] = field(default_factory=dict)

    @classmethod
    def of(cls, data: bytes) -> TemplateMembers:
        import io

        found = cls()
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            for info in zf.infolist():
                if not info.is_dir():
                    found.members[info.filename] = _pack(info.filename, zf.read(info))
        return found

    def member(self, name: str, raw: bytes) -> _Member:
        """The member ``name`` holding ``raw``: the template's, compressed already, if it
        holds the same bytes."""
        known = self.members.get(name)
        if known is not None and known.raw == raw:
            return known
        return _pack(name, raw)


class _ZipWriter:
    """The few calls python-docx's PackageWriter makes of a physical writer."""

    def __init__(self, fh: IO[bytes], members: TemplateMembers,
                 streamed: Mapping[str, StreamedMember] | None = None) -> None:
        self.fh = fh
        self.members = members
        self.streamed = streamed or {}
        self.central: list[bytes] = []
        self.offset = 0
        self.names: set[str] = set()

    def write(self, pack_uri: Any, blob: bytes) -> None:
        name = pack_uri.membername
        if name in self.names:
            raise ValueError(f"two parts named {name}")
        self.names.add(name)
        streamed = self.streamed.get(name)
        if streamed is not None:  # ``blob`` is a stand-in: the part was written already
            self._entry(name, zipfile.ZIP_DEFLATED, streamed.crc, streamed.compressed_size,
                        streamed.size)
            with streamed.path.open("rb") as source:
                while block := source.read(COPY_BYTES):
                    self.fh.write(block)
            self.offset += streamed.compressed_size
            return
        member = self.members.member(name, bytes(blob))
        self._entry(name, member.method, member.crc, len(member.data), len(member.raw))
        self.fh.write(member.data)
        self.offset += len(member.data)

    def _entry(self, name: str, method: int, crc: int, compressed: int, size: int) -> None:
        """The local header of a member (its data follows) and its central directory entry."""
        if max(compressed, size, self.offset) >= 1 << 32:
            raise ValueError(f"{name}: more than 4 GiB (zip64 is not written)")
        encoded = name.encode("utf-8")
        flags = 0 if encoded.isascii() else _UTF8
        header = _LOCAL.pack(b"PK\x03\x04", _VERSION, 0, flags, method, _DOS_TIME, _DOS_DATE,
                             crc, compressed, size, len(encoded), 0)
        self.fh.write(header)
        self.fh.write(encoded)
        self.central.append(_CENTRAL.pack(
            b"PK\x01\x02", _VERSION, 0, _VERSION, 0, flags, method, _DOS_TIME, _DOS_DATE,
            crc, compressed, size, len(encoded), 0, 0, 0, 0, 0, self.offset) + encoded)
        self.offset += len(header) + len(encoded)

    def close(self) -> None:
        start = self.offset
        size = 0
        for entry in self.central:
            self.fh.write(entry)
            size += len(entry)
        count = len(self.central)
        self.fh.write(_END.pack(b"PK\x05\x06", 0, 0, count, count, size, start, 0))


def write_package(document: Any, target: Path, members: TemplateMembers,
                  streamed: Mapping[str, StreamedMember] | None = None) -> Path:
    """Save python-docx's ``document`` to ``target`` as python-docx would (same parts, same
    content types and relationships), the template's unchanged parts reused as they are.

    ``streamed`` maps a member name (``word/document.xml``) to its content already compressed
    in a file (certidocs.documents.streaming): copied in place of what python-docx holds for
    that part. ValueError for a member of 4 GiB or more."""
    from docx.opc import pkgwriter

    # python-docx's own serialization of content types, relationships and parts (untyped).
    package_writer: Any = pkgwriter.PackageWriter
    package = document.part.package
    parts = list(package.parts)
    for part in parts:
        part.before_marshal()
    with open(target, "wb") as fh:
        writer = _ZipWriter(fh, members, streamed)
        package_writer._write_content_types_stream(writer, parts)
        package_writer._write_pkg_rels(writer, package.rels)
        package_writer._write_parts(writer, parts)
        writer.close()
    return target


class MemoryReader:
    """python-docx's physical package reader, served from a template's members already
    decompressed (instead of unzipping the template again for each document)."""

    def __init__(self, members: TemplateMembers) -> None:
        self.members = members.members

    def blob_for(self, pack_uri: Any) -> bytes:
        return self.members[pack_uri.membername].raw

    @property
    def content_types_xml(self) -> bytes:
        return self.members["[Content_Types].xml"].raw

    def rels_xml_for(self, source_uri: Any) -> bytes | None:
        found = self.members.get(source_uri.rels_uri.membername)
        return found.raw if found is not None else None

    def close(self) -> None:
        pass
