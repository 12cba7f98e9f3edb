"""Just enough ELF for the package tests: a file's machine and the libraries it needs.

Reads the header (e_machine) and the dynamic section's DT_NEEDED entries, 32- or 64-bit,
either byte order, with nothing but ``struct``: no ``file``, ``readelf`` or ``ldd`` needed,
and it works on another architecture's files.
"""

from __future__ import annotations

import mmap
import os
import struct
from dataclasses import dataclass
from pathlib import Path

ELF_MAGIC = b"\x7fELF"
EM_X86_64 = 62
EM_AARCH64 = 183
MACHINE_OF_ARCH = {"amd64": EM_X86_64, "arm64": EM_AARCH64}

_PT_LOAD, _PT_DYNAMIC = 1, 2
_DT_NULL, _DT_NEEDED, _DT_STRTAB = 0, 1, 5


@dataclass(frozen=True)
class ElfFile:
    path: Path
    machine: int
    needed: tuple[str, ...]


def is_elf(path: Path) -> bool:
    """A regular file (not a symlink) that starts with the ELF magic."""
    if path.is_symlink() or not path.is_file():
        return False
    with open(path, "rb") as handle:
        return handle.read(4) == ELF_MAGIC


def elf_files(top: Path) -> list[Path]:
    """Every ELF file under ``top``, whatever its name (symlinks are not followed)."""
    found = []
    for folder, _dirs, names in os.walk(top):
        found.extend(p for p in (Path(folder, n) for n in names) if is_elf(p))
    return sorted(found)


def read_elf(path: Path) -> ElfFile:
    with open(path, "rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
        if data[:4] != ELF_MAGIC:
            raise ValueError(f"{path}: not an ELF file")
        wide = {1: False, 2: True}[data[4]]  # EI_CLASS: 32- or 64-bit
        order = {1: "<", 2: ">"}[data[5]]  # EI_DATA: little or big endian
        (machine,) = struct.unpack_from(order + "H", data, 18)
        return ElfFile(path, machine, tuple(_needed(data, order, wide)))


def _needed(data: mmap.mmap, order: str, wide: bool) -> list[str]:
    if wide:
        phoff, phentsize, phnum = *struct.unpack_from(order + "Q", data, 32), \
            *struct.unpack_from(order + "HH", data, 54)
    else:
        phoff, phentsize, phnum = *struct.unpack_from(order + "I", data, 28), \
            *struct.unpack_from(order + "HH", data, 42)
    loads, dynamic = [], None
    for i in range(phnum):
        kind, offset, vaddr, filesz = _program_header(data, order, wide, phoff + i * phentsize)
        if kind == _PT_LOAD:
            loads.append((vaddr, offset, filesz))
        elif kind == _PT_DYNAMIC:
            dynamic = (offset, filesz)
    if dynamic is None:  # statically linked
        return []
    entry = struct.Struct(order + ("qQ" if wide else "iI"))
    tags = []
    for at in range(dynamic[0], dynamic[0] + dynamic[1], entry.size):
        tag, value = entry.unpack_from(data, at)
        if tag == _DT_NULL:
            break
        tags.append((tag, value))
    strtab_addr = next(value for tag, value in tags if tag == _DT_STRTAB)
    strtab = next(offset + strtab_addr - vaddr for vaddr, offset, size in loads
                  if vaddr <= strtab_addr < vaddr + size)
    return [_string(data, strtab + value) for tag, value in tags if tag == _DT_NEEDED]


def _program_header(data: mmap.mmap, order: str, wide: bool, at: int) -> tuple[int, ...]:
    """(p_type, p_offset, p_vaddr, p_filesz) of the program header at ``at``."""
    if wide:
        kind, _flags, offset, vaddr, _paddr, filesz = struct.unpack_from(order + "IIQQQQ", data, at)
    else:
        kind, offset, vaddr, _paddr, filesz = struct.unpack_from(order + "IIIII", data, at)
    return kind, offset, vaddr, filesz


def _string(data: mmap.mmap, at: int) -> str:
    return data[at:data.find(b"\0", at)].decode("ascii")
