"""The VBA in macros/*.bas: every Sub calls something that exists, and the files import cleanly."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kehoach_xl.excel import buttons

MACROS = Path(__file__).resolve().parents[2] / "macros"
EXPECTED = {"KiemTra": "kiem_tra", "CapNhat": "cap_nhat", "TongHopBaoCaoDonVi": "tong_hop_bao_cao_don_vi",
            "LapBaoCaoGiaoBan": "lap_bao_cao_giao_ban"}
CAPTIONS = {"KiemTra": "Kiểm tra", "CapNhat": "Cập nhật", "TongHopBaoCaoDonVi": "Tổng hợp báo cáo đơn vị",
            "LapBaoCaoGiaoBan": "Lập báo cáo giao ban"}


def _subs(text: str) -> dict[str, str]:
    """Public Sub name -> body."""
    out = {}
    for m in re.finditer(r"^Sub (\w+)\(\)\r?\n(.*?)^End Sub", text, re.M | re.S):
        out[m.group(1)] = m.group(2)
    return out


def _vba_string(expr: str) -> str:
    """Evaluate a VBA string expression made of "literals" & ChrW(n)."""
    out = []
    for part in re.split(r"\s*&\s*", expr.strip()):
        if part.startswith('"'):
            out.append(part[1:-1].replace('""', '"'))
        else:
            out.append(chr(int(re.fullmatch(r"ChrW\((\d+)\)", part).group(1))))
    return "".join(out)


@pytest.mark.parametrize("name", ["kehoach.bas", "kehoach_remote.bas", "kehoach_unicode.bas"])
def test_bas_is_ascii_crlf_with_module_name(name: str) -> None:
    raw = (MACROS / name).read_bytes()
    raw.decode("ascii")  # the VBA editor reads .bas in the PC's ANSI code page
    assert b"\n" not in raw.replace(b"\r\n", b"")
    assert raw.startswith(b'Attribute VB_Name = "')


def test_local_subs_call_existing_button_functions() -> None:
    subs = _subs((MACROS / "kehoach.bas").read_text(encoding="ascii"))
    assert {k: v for k, v in subs.items() if k in EXPECTED}.keys() == EXPECTED.keys()
    for sub, fn in EXPECTED.items():
        lines = [ln.strip() for ln in subs[sub].splitlines() if ln.strip()]
        assert len(lines) == 1, f"{sub} must be one line"
        m = re.fullmatch(r'RunPython "import kehoach_xl\.buttons as b; b\.(\w+)\(\)"', lines[0])
        assert m, lines[0]
        assert m.group(1) == fn and callable(getattr(buttons, m.group(1)))


def test_remote_subs_post_to_server_routes() -> None:
    text = (MACROS / "kehoach_remote.bas").read_text(encoding="ascii")
    subs = _subs(text)
    url = re.search(r'Const KEHOACH_URL As String = "([^"]+)"', text).group(1)
    assert url.endswith("/kehoach") and url.startswith("http://127.0.0.1:")
    for sub, fn in EXPECTED.items():
        body = re.sub(r" _\r?\n\s*", " ", subs[sub])  # VBA line continuations
        lines = [ln.strip() for ln in body.splitlines() if ln.strip() and not ln.strip().startswith("'")]
        call = lines[-1]
        m = re.fullmatch(r'RunRemotePython KEHOACH_URL & "/(\w+)(\?xac_nhan=1)?", auth:=KehoachAuth\(\), '
                         r'exclude:=KehoachExclude\(\), timeout:=\w+', call)
        assert m, call
        assert m.group(1) == fn and m.group(1) in buttons.BUTTONS
        if fn in buttons.ALWAYS_ASK:  # asks with the Unicode box, naming the action, before it posts
            assert m.group(2) and "KeHoachHoi(" in body and "<> KEHOACH_IDYES Then Exit Sub" in body
            cap = re.search(r"cap = (.+)", body).group(1)
            assert _vba_string(cap) == CAPTIONS[sub]
        else:
            assert len(lines) == 1 and not m.group(2)
    # The log and history sheets are left out of the request.
    expr = re.search(r"KehoachExclude = (.+)", text).group(1)
    assert _vba_string(expr).split(",") == list(buttons.REMOTE_EXCLUDED)


def test_unicode_helper_module() -> None:
    text = (MACROS / "kehoach_unicode.bas").read_text(encoding="ascii")
    assert text.startswith('Attribute VB_Name = "KeHoachUnicode"')
    assert 'Lib "user32"' in text and "MessageBoxW" in text and "StrPtr(prompt)" in text
    assert "PtrSafe" in text  # 64-bit Office
    assert re.search(rf"Public Sub {buttons.MESSAGE_MACRO}\(wb As Workbook, prompt As String, title As String, "
                     r"mode As String\)", text)
    assert re.search(rf"Public Sub {buttons.APPEND_MACRO}\(wb As Workbook, sheetName As String, rows As Collection\)",
                     text)
    assert "MsgBox" not in text.replace("' VBA's MsgBox", "").replace("uses MsgBox", "")


@pytest.mark.parametrize("name", ["kehoach.bas", "kehoach_remote.bas"])
def test_button_placer_captions_are_vietnamese(name: str) -> None:
    text = (MACROS / name).read_text(encoding="ascii")
    calls = re.findall(r'ThemNut "(\w+)", (.+?), x \+ \d+, y', text)
    assert {sub: _vba_string(expr) for sub, expr in calls} == CAPTIONS
