"""Peak memory of the measuring process (Linux), shared by the benchmarks; imports nothing heavy."""

from __future__ import annotations

from pathlib import Path


def reset_peak() -> None:
    """Forget the peak RSS so far, so fork/exec and imports are not measured."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass


def peak_kib() -> int:
    """VmHWM of this process in KiB; the lifetime maximum (``ru_maxrss``) where /proc has none."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
