"""The command line keeps glibc's mmap threshold fixed, so big freed buffers go back to the system."""

from __future__ import annotations

import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's allocator")

# In a fresh process: a 4 MiB block freed (which, left alone, raises glibc's threshold to 4 MiB), then
# a 512 KiB block asked for; prints whether glibc served it by mmap (bit 0x2 of the chunk's size word).
_PROBE = """
import ctypes, sys
libc = ctypes.CDLL(None)
if not hasattr(libc, "gnu_get_libc_version"):
    print("not-glibc"); sys.exit(0)
libc.malloc.restype = ctypes.c_void_p
libc.free.argtypes = [ctypes.c_void_p]
if sys.argv[1] == "cli":
    import kehoach_xl.cli.main as m
    m.main(["validate", "/nonexistent/so.xlsx"])  # a command that runs (and stops: no such master)
elif sys.argv[1] == "help":
    import kehoach_xl.cli.main as m
    m.main(["--help"])  # no command runs: start-up stays as it was
elif sys.argv[1] == "import":
    import kehoach_xl, kehoach_xl.commands.refresh  # a program using the library
big = libc.malloc(4 << 20); libc.free(big)
p = libc.malloc(512 << 10)
print("mmap" if ctypes.c_size_t.from_address(p - ctypes.sizeof(ctypes.c_size_t)).value & 2 else "heap")
"""


def _probe(mode: str) -> str:
    out = subprocess.run([sys.executable, "-c", _PROBE, mode], capture_output=True, text=True, check=True)
    return out.stdout.strip().splitlines()[-1]


def test_the_command_line_keeps_big_buffers_out_of_the_heap() -> None:
    if _probe("none") == "not-glibc":
        pytest.skip("not glibc")
    assert _probe("none") == "heap"  # glibc alone raised its threshold after the 4 MiB free
    assert _probe("cli") == "mmap"
    assert _probe("help") == "heap"


def test_importing_the_library_leaves_the_allocator_alone() -> None:
    if _probe("none") == "not-glibc":
        pytest.skip("not glibc")
    assert _probe("import") == "heap"
