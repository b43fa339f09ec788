"""Copy a zip package member by member, replacing only some members.

Members that are not replaced are copied as raw bytes (local header, compressed
data and any data descriptor), and their central-directory records are copied
too with only the offset field patched. So an unchanged part keeps its name,
timestamp, compression, extra fields and even its compressed bytes, and no time
is spent inflating and deflating it again.

Zip64 packages (over 4 GiB or 65,535 members) are refused: a master is never
that large, and refusing keeps this writer small.
"""

from __future__ import annotations

import struct
import tempfile
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

_EOCD_SIG = b"PK\x05\x06"
_CEN_SIG = b"PK\x01\x02"
_LOC_SIG = b"PK\x03\x04"
_EOCD = struct.Struct("<4sHHHHIIH")
_CEN = struct.Struct("<4sHHHHHHIIIHHHHHII")
_LOC = struct.Struct("<4sHHHHHIIIHH")



@dataclass(frozen=True)
class Deflated:
    """A member's new content already compressed (:meth:`ZipPackage.deflate`): what a write keeps
    of a 100 MB sheet between patching it and writing the package is its ~10 MB of deflated bytes,
    and those in a spooled file once they pass ``SPOOL`` (at 50,000 tasks a merge rewrote four
    sheets, ~41 MB deflated, all held in memory while the package was written)."""

    data: IO[bytes]  # a (spooled) file holding the compressed bytes from its start
    crc: int
    size: int
    method: int
    length: int  # of the compressed bytes

    def pieces(self, block: int = 1 << 20) -> Iterator[bytes]:
        self.data.seek(0)
        while piece := self.data.read(block):
            yield piece


SPOOL = 4 << 20  # deflated bytes kept in memory up to this; more go to a temporary file


Content = bytes | Iterable[bytes | memoryview] | Deflated


class ZipFormatError(ValueError):
    """The package is not a plain (non-zip64, single-disk) zip archive."""


@dataclass
class Member:
    name: str
    cen: bytes  # raw central-directory record (fixed part + name + extra + comment)
    offset: int  # local header offset in the source
    end: int  # offset just past this member's data (and data descriptor)
    method: int
    csize: int
    usize: int
    flags: int


class ZipPackage:
    """A zip archive held in memory as raw bytes, indexed by member name."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.members: list[Member] = []
        self.comment = b""
        self._read_directory()
        self.by_name = {m.name: m for m in self.members}

    @classmethod
    def open(cls, path: Path) -> ZipPackage:
        return cls(Path(path).read_bytes())

    def _read_directory(self) -> None:
        data = self.data
        pos = data.rfind(_EOCD_SIG, max(0, len(data) - 65557))
        if pos < 0:
            raise ZipFormatError("không phải tệp zip (thiếu bản ghi kết thúc)")
        _, disk, cd_disk, n_here, n_total, cd_size, cd_off, clen = _EOCD.unpack_from(data, pos)
        if disk or cd_disk or n_here != n_total or 0xFFFF in (n_total,) or cd_off == 0xFFFFFFFF:
            raise ZipFormatError("tệp zip nhiều phần hoặc zip64 không được hỗ trợ")
        self.comment = data[pos + 22 : pos + 22 + clen]
        # Some writers prepend data; central-directory offsets are then shifted.
        concat = pos - cd_size - cd_off
        self.concat = concat
        p = cd_off + concat
        for _ in range(n_total):
            f = _CEN.unpack_from(data, p)
            if f[0] != _CEN_SIG:
                raise ZipFormatError("thư mục trung tâm của tệp zip bị hỏng")
            (_, _vm, _vn, flags, method, _t, _d, _crc, csize, usize, nlen, xlen, klen,
             _disk, _ia, _ea, off) = f
            if 0xFFFFFFFF in (csize, usize, off):
                raise ZipFormatError("tệp zip64 không được hỗ trợ")
            size = _CEN.size + nlen + xlen + klen
            raw_name = data[p + _CEN.size : p + _CEN.size + nlen]
            name = raw_name.decode("utf-8" if flags & 0x800 else "cp437")
            self.members.append(
                Member(name, data[p : p + size], off + concat, 0, method, csize, usize, flags)
            )
            p += size
        # A member's raw span runs to the next member's local header (or the
        # central directory); that includes any data descriptor.
        ordered = sorted(self.members, key=lambda m: m.offset)
        for m, nxt in zip(ordered, ordered[1:] + [None], strict=True):
            m.end = nxt.offset if nxt is not None else cd_off + concat

    def read(self, name: str) -> bytes:
        m = self.by_name[name]
        sig, _v, _fl, _meth, _t, _d, _crc, _cs, _us, nlen, xlen = _LOC.unpack_from(self.data, m.offset)
        if sig != _LOC_SIG:
            raise ZipFormatError(f"tiêu đề cục bộ hỏng: {name}")
        start = m.offset + _LOC.size + nlen + xlen
        if m.method == 0:
            return self.data[start : start + m.csize]
        if m.method == 8:
            # Inflated straight into one buffer of the recorded size: zlib's default growing buffer
            # holds its blocks and their joined copy at once, twice the part (184 MB for a 92 MB
            # sheet at 50,000 tasks, the peak of a refresh). A size that lies only costs growth or
            # slack; a huge one is not trusted beyond what deflate can reach (~1,032:1).
            raw = memoryview(self.data)[start : start + m.csize]
            size = m.usize if 0 < m.usize <= 1032 * m.csize + 64 else zlib.DEF_BUF_SIZE
            return zlib.decompress(raw, -15, size)
        raise ZipFormatError(f"kiểu nén {m.method} không được hỗ trợ: {name}")

    def stream(self, name: str, size: int = 1 << 20) -> Iterator[bytes]:
        """Member ``name`` inflated a piece of at most ``size`` bytes at a time (never held whole)."""
        m = self.by_name[name]
        sig, _v, _fl, _meth, _t, _d, _crc, _cs, _us, nlen, xlen = _LOC.unpack_from(self.data, m.offset)
        if sig != _LOC_SIG:
            raise ZipFormatError(f"tiêu đề cục bộ hỏng: {name}")
        start = m.offset + _LOC.size + nlen + xlen
        raw = memoryview(self.data)[start : start + m.csize]
        if m.method == 0:
            for i in range(0, len(raw), size):
                yield bytes(raw[i : i + size])
            return
        if m.method != 8:
            raise ZipFormatError(f"kiểu nén {m.method} không được hỗ trợ: {name}")
        d = zlib.decompressobj(-15)
        step = max(size // 8, 1 << 16)  # compressed bytes fed at a time (a sheet deflates ~8:1)
        for i in range(0, len(raw), step):
            data = raw[i : i + step]
            while data:
                out = d.decompress(data, size)  # bounded: a piece that inflates far is taken in turns
                data = d.unconsumed_tail
                if out:
                    yield out
            if d.eof:
                break
        while not d.eof and (out := d.decompress(b"", size)):
            yield out
        if not d.eof:
            raise zlib.error(f"dữ liệu nén của {name} bị cắt cụt")

    def names(self) -> list[str]:
        return [m.name for m in self.members]

    def write(self, dst: Path, replace: dict[str, Content], compresslevel: int = 6) -> None:
        """Write a copy to ``dst`` with the members in ``replace`` given new content.

        New content may be a list of byte chunks: they are checksummed and
        deflated one after the other, never joined into one big copy.
        """
        unknown = set(replace) - set(self.by_name)
        if unknown:
            raise KeyError(f"members not in package: {sorted(unknown)}")
        cen: list[bytes] = []
        pos = 0
        view = memoryview(self.data)
        # Written as it goes: an unchanged member is a slice of the source (no copy), a replaced one
        # its header and its deflated bytes; the whole new file is never held (it was ~40 MB at
        # 50,000 tasks, on top of the rewritten parts: the peak of a merge's write).
        with open(dst, "wb") as fh:
            for m in sorted(self.members, key=lambda m: m.offset):  # the source's physical order
                if m.name in replace:
                    head, comp, cen_rec = self._rebuilt(m, replace[m.name], compresslevel, pos)
                    fh.write(head)
                    for piece in comp.pieces():
                        fh.write(piece)
                    cen.append(cen_rec)
                    pos += len(head) + comp.length
                else:
                    fh.write(view[m.offset : m.end])
                    cen.append(m.cen[:42] + struct.pack("<I", pos) + m.cen[46:])
                    pos += m.end - m.offset
            # Central directory in the source's directory order.
            order = {m.name: i for i, m in enumerate(sorted(self.members, key=lambda m: m.offset))}
            cen_by_dir = [cen[order[m.name]] for m in self.members]
            cd = b"".join(cen_by_dir)
            eocd = _EOCD.pack(_EOCD_SIG, 0, 0, len(cen_by_dir), len(cen_by_dir), len(cd), pos, len(self.comment))
            fh.write(cd)
            fh.write(eocd + self.comment)

    def deflate(self, name: str, content: Content, level: int = 6) -> Deflated:
        """``content`` for member ``name`` compressed now (stored when the member is stored), so the
        caller can let go of the uncompressed chunks before the next member is built."""
        if isinstance(content, Deflated):
            return content
        chunks = [content] if isinstance(content, (bytes, bytearray, memoryview)) else content
        crc = 0
        size = 0
        co = zlib.compressobj(level, zlib.DEFLATED, -15) if self.by_name[name].method != 0 else None
        out = tempfile.SpooledTemporaryFile(max_size=SPOOL)  # noqa: SIM115 - held by the Deflated it becomes
        for block in _batches(chunks):
            crc = zlib.crc32(block, crc)
            size += len(block)
            out.write(co.compress(block) if co else block)
        if co:
            out.write(co.flush())
        return Deflated(out, crc, size, 8 if co else 0, out.tell())

    def _rebuilt(self, m: Member, content: Content, level: int, pos: int) -> tuple[bytes, Deflated, bytes]:
        """A new local header (name and extra included), compressed data and central record for ``m``
        holding ``content``."""
        sig, ver, flags, _meth, t, d, _crc, _cs, _us, nlen, xlen = _LOC.unpack_from(self.data, m.offset)
        name_extra = self.data[m.offset + _LOC.size : m.offset + _LOC.size + nlen + xlen]
        new = self.deflate(m.name, content, level)
        crc, size, method, length = new.crc, new.size, new.method, new.length
        flags &= ~0x0008  # sizes are known now: no data descriptor
        if length >= 0xFFFFFFFF or size >= 0xFFFFFFFF:
            raise ZipFormatError("phần quá lớn cho zip thường")
        loc = _LOC.pack(sig, ver, flags, method, t, d, crc, length, size, nlen, xlen)
        f = list(_CEN.unpack_from(m.cen, 0))
        f[3] = f[3] & ~0x0008
        f[4] = method
        f[7], f[8], f[9] = crc, length, size
        f[16] = pos
        cen = _CEN.pack(*f) + m.cen[_CEN.size :]
        return loc + name_extra, new, cen


def _batches(chunks: Iterable[bytes | memoryview], target: int = 4 << 20) -> Iterator[bytes]:
    """Join small chunks into blocks of about ``target`` bytes: one zlib call per
    block is much cheaper than one per chunk, and memory stays bounded."""
    buf: list[bytes | memoryview] = []
    size = 0
    for chunk in chunks:
        buf.append(chunk)
        size += len(chunk)
        if size >= target:
            yield b"".join(buf)
            buf, size = [], 0
    if buf:
        yield b"".join(buf)
