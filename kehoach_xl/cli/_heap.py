"""The C allocator's settings for a kehoach-xl process (glibc only; elsewhere nothing is done).

A command reads a sheet with calamine (Rust, through the C allocator), frees it, computes, writes and
reads the written sheets back to check them. glibc serves a request of 128 KiB or more from its own
``mmap`` and gives it back to the system when freed, but each such free raises that threshold up
to the freed size (up to 32 MiB): after the first big sheet, the next ones' buffers land in the
main heap instead, among small blocks that live on, and stay part of the process when freed. At
50,000 tasks that was the 3 % by which ``refresh`` went over its 400 MiB goal: the check's read-back
of the parts sheet landed on top of the read's left-overs (414 → 388 MiB with the threshold fixed,
``bench/results_round7.md``). Fixing the threshold (any ``mallopt`` of it turns the raising off) is
what glibc documents for programs that allocate and free large buffers in turn.

Set once, when the command line runs a command (``cli/main``'s guard around every command; not for
``--help`` or a usage error, whose start-up stays without ctypes), never on ``import kehoach_xl``:
a program that imports the library keeps its own allocator settings.
"""

from __future__ import annotations

import ctypes
import sys

M_MMAP_THRESHOLD = -3  # <malloc.h>
MMAP_THRESHOLD = 128 * 1024  # glibc's own starting value, kept instead of raised

_done = False


def fix_mmap_threshold() -> bool:
    """Keep glibc's mmap threshold at 128 KiB for the rest of the process; True when it was set.

    A no-op (False) off Linux, on a C library other than glibc, or when the call fails.
    """
    global _done
    if _done:
        return True
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None)
        if not hasattr(libc, "gnu_get_libc_version"):  # musl and others: their own allocator
            return False
        _done = bool(libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD))
    except (OSError, AttributeError):
        return False
    return _done
