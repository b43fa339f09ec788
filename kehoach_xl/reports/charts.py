"""The chart image (PNG) of the briefing: done / overdue / in progress by lead unit."""

from __future__ import annotations

import textwrap
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display on the server that runs the nightly job
import matplotlib.pyplot as plt  # noqa: E402

from kehoach_xl.reports.figures import Tally  # noqa: E402

COLOURS = ("#70AD47", "#E06666", "#F4B183")  # same as the native chart of the summary sheet
LABELS = ("Đã hoàn thành", "Quá hạn", "Đang thực hiện")


def unit_chart(by_unit: list[tuple[str, Tally]], path: Path, *, title: str) -> Path:
    """Horizontal stacked bars, first unit on top; DejaVu Sans carries every Vietnamese glyph."""
    names = [textwrap.fill(n, 34) for n, _ in by_unit] or ["(không có nhiệm vụ)"]
    series = [[t.done for _, t in by_unit], [t.overdue for _, t in by_unit], [t.in_progress for _, t in by_unit]]
    height = 1.2 + 0.55 * max(len(names), 3)
    fig, ax = plt.subplots(figsize=(8.5, height), dpi=110)
    try:
        plt.rcParams["font.family"] = "DejaVu Sans"
        left = [0] * len(by_unit)
        for values, colour, label in zip(series, COLOURS, LABELS, strict=True):
            if not by_unit:
                break
            bars = ax.barh(range(len(by_unit)), values, left=left, color=colour, label=label)
            for bar, v in zip(bars, values, strict=True):
                if v:
                    ax.text(bar.get_x() + bar.get_width() / 2, bar.get_y() + bar.get_height() / 2, str(v),
                            ha="center", va="center", fontsize=8)
            left = [a + b for a, b in zip(left, values, strict=True)]
        ax.set_yticks(range(len(names)), names, fontsize=8)
        ax.invert_yaxis()
        ax.set_xlabel("Số nhiệm vụ")
        ax.set_title(title, fontsize=11)
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.legend(loc="lower right", fontsize=8)
        ax.spines[["top", "right"]].set_visible(False)
        fig.tight_layout()
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, format="png")
    finally:
        plt.close(fig)
    return path
