"""Two departments written one after the other with no separator (real plan: Hà Nội 310/KH-UBND, task 1)."""

from __future__ import annotations

import pytest

from kehoach_xl.importer.plan_import import separate_run_together
from kehoach_xl.model.registry import split_units


@pytest.mark.parametrize(("text", "units"), [
    ("Sở Khoa học và Công nghệ Sở Công Thương; UBND các phường, xã",
     ["Sở Khoa học và Công nghệ", "Sở Công Thương", "UBND các phường, xã"]),
    ("Sở Tư pháp Sở Y tế Sở Xây dựng", ["Sở Tư pháp", "Sở Y tế", "Sở Xây dựng"]),
    ("Bộ Tài chính Bộ Công Thương", ["Bộ Tài chính", "Bộ Công Thương"]),  # known from the registry
])
def test_run_together_bodies_are_cut(text, units):
    out, cuts = separate_run_together(text, ["Bộ Tài chính", "Bộ Công Thương"])
    assert cuts and [p.name for p in split_units(out)[0]] == units


@pytest.mark.parametrize("text", [
    "Văn phòng Sở Tài chính", "Phòng Tổng hợp Sở Nội vụ", "Trung tâm Công nghệ thông tin Sở Tài chính",
    "Sở Tài chính, Sở Nội vụ", "Sở Tài chính sở xây dựng", "Sở Văn hóa, Thể thao và Du lịch",
    "Sở Khoa học và Công nghệ tỉnh Đồng Nai", "Sở Nội vụ Sở Lao động - Thương binh và Xã hội tỉnh",
])
def test_one_body_or_separated_lists_are_left_alone(text):
    out, cuts = separate_run_together(text, [])
    if text.startswith("Sở Nội vụ Sở"):
        assert out == "Sở Nội vụ; Sở Lao động - Thương binh và Xã hội tỉnh"
    else:
        assert (out, cuts) == (text, [])


def test_import_cuts_and_says_so(tmp_path):
    import importlib.util
    from pathlib import Path

    from kehoach_xl import import_plan

    root = Path(__file__).resolve().parents[1] / "fixtures" / "real_plans"
    spec = importlib.util.spec_from_file_location("real_plans_build_docx_rt", root / "build_docx.py")
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)  # type: ignore[union-attr]
    docx = build.build(root / "hanoi_kh310_2025_hatang5g", tmp_path / "kh.docx")
    rep = import_plan(docx, tmp_path / "m.xlsx", plan_code="HT5G")
    joined = [w for w in rep.warnings if w.code == "joined_bodies"]
    assert len(joined) == 1 and "Sở Khoa học và Công nghệ Sở Công Thương" in joined[0].message
    assert joined[0].place.endswith("dòng 2")  # the first task row, under the header
    assert rep.tasks[0]["coordinating_units"][:2] == ["Sở Khoa học và Công nghệ", "Sở Công Thương"]
    # the blank number of the "(Kèm theo Kế hoạch số: /KH-UBND …)" line is reported, the head's number kept
    assert rep.meta["plan_number"] == "310/KH-UBND" and rep.meta["plan_date"] == "24/11/2025"
    assert any(w.code == "plan_meta" and "để trống" in w.message for w in rep.warnings)
