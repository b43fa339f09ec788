"""Shared fixtures: LibreOffice conversion, sample masters."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

# There is no built-in signing key any more; tests that issue or merge unit workbooks use this one
# (tests of the missing key remove it with monkeypatch).
os.environ.setdefault("KEHOACH_SIGNING_KEY", "khoa-ky-cho-bo-kiem-thu-0123456789")
# Files written by a test are merged at once (the inbox otherwise leaves files younger than 60 s for
# the next run); tests of that wait set ``[limits] inbox_settle_seconds`` themselves.
os.environ.setdefault("KEHOACH_INBOX_SETTLE_SECONDS", "0")

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "tests" / "artifacts"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def _soffice_path() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


@pytest.fixture(scope="session")
def soffice() -> str:
    """Path of LibreOffice; skips when absent unless KEHOACH_REQUIRE_SOFFICE=1 (CI), then fails."""
    path = _soffice_path()
    if path is None:
        if os.environ.get("KEHOACH_REQUIRE_SOFFICE") == "1":
            pytest.fail("LibreOffice (soffice) is required in CI but is not installed")
        pytest.skip("LibreOffice (soffice) not installed")
    return path


@pytest.fixture(scope="session")
def soffice_convert(soffice: str, tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Path]:
    """convert(src, "csv" | "pdf" | "xlsx" | filter string, outdir=None) -> output path.

    Each call uses its own LibreOffice profile so tests may run side by side.
    """

    def convert(src: Path, fmt: str, outdir: Path | None = None, *, timeout: int = 180) -> Path:
        outdir = outdir or tmp_path_factory.mktemp("lo_out")
        profile = tmp_path_factory.mktemp("lo_profile")
        cmd = [soffice, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore",
               "--convert-to", fmt, "--outdir", str(outdir), str(src)]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        ext = fmt.split(":")[0]
        out = outdir / (Path(src).stem + "." + ext)
        if proc.returncode != 0 or not out.exists():
            raise AssertionError(f"LibreOffice failed on {src}: rc={proc.returncode} {proc.stdout} {proc.stderr}")
        return out

    return convert


@pytest.fixture()
def artifacts_dir() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


CSV_ALL_SHEETS = "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,true,false,false,-1"


@pytest.fixture(scope="session")
def soffice_sheets(soffice: str, tmp_path_factory: pytest.TempPathFactory) -> Callable[[Path], dict[str, list[list[str]]]]:
    """Open a workbook in LibreOffice and return every sheet as the text LibreOffice shows (formatted values)."""
    import csv

    def read(src: Path) -> dict[str, list[list[str]]]:
        outdir = tmp_path_factory.mktemp("lo_csv")
        profile = tmp_path_factory.mktemp("lo_profile")
        cmd = [soffice, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore",
               "--convert-to", CSV_ALL_SHEETS, "--outdir", str(outdir), str(src)]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
        stem = Path(src).stem + "-"
        sheets: dict[str, list[list[str]]] = {}
        for f in sorted(outdir.glob("*.csv")):
            with f.open(encoding="utf-8", newline="") as fh:
                sheets[f.stem[len(stem):]] = list(csv.reader(fh))
        if not sheets:
            raise AssertionError(f"LibreOffice produced no CSV for {src}: {proc.stdout} {proc.stderr}")
        return sheets

    return read
