"""Party cells of plans issued above a department: lists of bodies, collectives, role notes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kehoach_xl.importer import parse_plan
from kehoach_xl.model.registry import GROUP_KIND, PartyVocab, split_parties, split_units
from kehoach_xl.model.sample import sample_dir
from kehoach_xl.model.unit_vocab import USUAL_BODIES

REAL_PLANS = Path(__file__).resolve().parents[1] / "fixtures" / "real_plans"


def names(text: str, **kw) -> list[str]:
    return [p.name for p in split_parties(text, **kw)]


@pytest.mark.parametrize(("cell", "want"), [
    ("Bộ Công an, Bộ Nội vụ, Bộ Tài chính", ["Bộ Công an", "Bộ Nội vụ", "Bộ Tài chính"]),
    ("Sở Tài chính, Sở Nội vụ và UBND các huyện", ["Sở Tài chính", "Sở Nội vụ", "UBND các huyện"]),
    ("VTV, VOV, TTXVN", ["VTV", "VOV", "TTXVN"]),
    ("Sở Tài chính và các cơ quan liên quan", ["Sở Tài chính", "Các cơ quan liên quan"]),
    ("Thanh tra tỉnh, Công an tỉnh và Viện Kiểm sát nhân dân tỉnh",
     ["Thanh tra tỉnh", "Công an tỉnh", "Viện Kiểm sát nhân dân tỉnh"]),
    ("Sở Văn hóa, Thể thao và Du lịch, Sở Y tế", ["Sở Văn hóa, Thể thao và Du lịch", "Sở Y tế"]),
    ("Đài Phát thanh và Truyền hình tỉnh, Báo Lạng Sơn", ["Đài Phát thanh và Truyền hình tỉnh", "Báo Lạng Sơn"]),
    ("Sở Tài chính\nSở Nội vụ", ["Sở Tài chính", "Sở Nội vụ"]),
    ("Bộ Tài chính\nCơ quan, tổ chức, doanh nghiệp liên quan",
     ["Bộ Tài chính", "Cơ quan, tổ chức, doanh nghiệp liên quan"]),
    ("Bộ Khoa học và Công nghệ\nVà các cơ quan liên quan", ["Bộ Khoa học và Công nghệ", "Các cơ quan liên quan"]),
    ("- Sở Y tế;\n- Sở Tư pháp", ["Sở Y tế", "Sở Tư pháp"]),
    ("Văn phòng Đăng\nký đất đai", ["Văn phòng Đăng ký đất đai"]),  # a wrapped name is one body
    # collective phrases stay one unit
    ("các bộ, ngành, địa phương", ["Các bộ, ngành, địa phương"]),
    ("UBND các huyện, thành phố", ["UBND các huyện, thành phố"]),
    ("Các sở, ban, ngành, UBND các huyện, thị xã, thành phố",
     ["Các sở, ban, ngành", "UBND các huyện, thị xã, thành phố"]),
    # names with a separator inside stay whole
    ("Văn phòng Đoàn ĐBQH và HĐND tỉnh", ["Văn phòng Đoàn ĐBQH và HĐND tỉnh"]),
    ("Trung tâm Công nghệ TT và TNMT", ["Trung tâm Công nghệ TT và TNMT"]),
    ("Tổ công tác phối hợp liên ngành", ["Tổ công tác phối hợp liên ngành"]),
])
def test_lists_of_bodies(cell, want):
    assert names(cell) == want


def test_collectives_have_a_kind_and_roles_go_to_the_right_piece():
    got = split_parties("Sở Tài chính (chủ trì), Sở Nội vụ (phối hợp) và các bộ, ngành, địa phương")
    assert [(p.name, p.role, p.note, p.kind) for p in got] == [
        ("Sở Tài chính", "lead", "chủ trì", ""), ("Sở Nội vụ", "coord", "phối hợp", ""),
        ("Các bộ, ngành, địa phương", None, "", GROUP_KIND)]
    got = split_parties("Chủ trì: Sở Nội vụ; Phối hợp: Sở Tư pháp, Công an tỉnh")
    assert [(p.name, p.role) for p in got] == [("Sở Nội vụ", "lead"), ("Sở Tư pháp", "coord"),
                                               ("Công an tỉnh", "coord")]
    got = split_parties("Sở Kế hoạch và Đầu tư chủ trì, phối hợp với Sở Tài chính")
    assert [(p.name, p.role) for p in got] == [("Sở Kế hoạch và Đầu tư", "lead"), ("Sở Tài chính", "coord")]
    assert got[0].note == "chủ trì, phối hợp với Sở Tài chính"  # the text is kept
    got = split_parties("Bộ Tư pháp (đối với các nội dung liên quan đến thủ tục hành chính)")
    assert [(p.name, p.note) for p in got] == [
        ("Bộ Tư pháp", "đối với các nội dung liên quan đến thủ tục hành chính")]
    assert names("Sở Tài nguyên và Môi trường (TNMT)") == ["Sở Tài nguyên và Môi trường (TNMT)"]
    # the role is what a bracket says first, not a word of a body's name inside it
    got = split_parties("Sở Tư pháp (Thường trực Hội đồng phối hợp PBGDPL)")
    assert [(p.name, p.role, p.note) for p in got] == [
        ("Sở Tư pháp", None, "Thường trực Hội đồng phối hợp PBGDPL")]
    got = split_parties("Bộ Quốc phòng, Bộ Công an theo chức năng, nhiệm vụ")
    assert [(p.name, p.note) for p in got] == [("Bộ Quốc phòng", ""), ("Bộ Công an", "theo chức năng, nhiệm vụ")]


def test_role_notes_only_where_they_stand_as_notes():
    # the old parser cut "Sở Xây dựng" into "Sở" + note "Xây dựng"
    for name in ("Sở Xây dựng", "Phòng Tổng hợp", "Phòng Theo dõi thi hành pháp luật", "Sở xây dựng",
                 "Phòng Quản lý xây dựng", "Đoàn kiểm tra CCHC của Sở"):
        assert [(p.name, p.note) for p in split_parties(name)] == [(name[:1].upper() + name[1:], "")], name
    assert [(p.name, p.note) for p in split_parties("Sở Xây dựng, Sở Tài chính")] == [
        ("Sở Xây dựng", ""), ("Sở Tài chính", "")]
    assert [(p.name, p.note) for p in split_parties("Văn phòng Sở đôn đốc, tổng hợp")] == [
        ("Văn phòng Sở", "đôn đốc, tổng hợp")]
    assert [(p.name, p.note) for p in split_parties("Sở Xây dựng - tổng hợp")] == [("Sở Xây dựng", "tổng hợp")]
    assert [(p.name, p.note) for p in split_parties("Sở Nội vụ (cơ quan thường trực)")] == [
        ("Sở Nội vụ", "cơ quan thường trực")]


def test_a_known_name_is_never_shortened():
    # "X và các địa phương" used to become "X" when X was in the Đơn vị sheet
    known = ["Sở Thông tin và Truyền thông"]
    assert names("Sở Thông tin và Truyền thông và các địa phương", known=known) == [
        "Sở Thông tin và Truyền thông", "Các địa phương"]
    assert names("Ban Chỉ đạo, tổ giúp việc", known=["Ban Chỉ đạo, tổ giúp việc"]) == ["Ban Chỉ đạo, tổ giúp việc"]


def test_doubtful_lists_are_kept_whole_and_reported():
    parties, doubts = split_units("Công chức phụ trách, Văn phòng Sở")
    assert [p.name for p in parties] == ["Công chức phụ trách, Văn phòng Sở"]
    assert doubts == ["Công chức phụ trách, Văn phòng Sở"]
    # one head word for several bodies: which "và" separates is not certain
    parties, doubts = split_units("Các Sở: Tài chính, Kế hoạch và Đầu tư, Nội vụ; Công an tỉnh")
    assert [(p.name, p.kind) for p in parties] == [("Các Sở: Tài chính, Kế hoạch và Đầu tư, Nội vụ", ""),
                                                   ("Công an tỉnh", "")]
    assert doubts == ["Các Sở: Tài chính, Kế hoạch và Đầu tư, Nội vụ"]


def test_vocabulary_extends_from_the_units_sheet():
    # an abbreviation the data module does not know, taught by an alias in the "Đơn vị" sheet
    assert names("Sở XD và TTPVHCC") == ["Sở XD và TTPVHCC"]
    voc = PartyVocab.build(["TTPVHCC", "Trung tâm Phục vụ hành chính công"])
    assert names("Sở XD và TTPVHCC", vocab=voc) == ["Sở XD", "TTPVHCC"]
    voc = PartyVocab.build(["Nhóm công tác đặc biệt"], group_names=["Nhóm công tác đặc biệt"])
    assert voc.is_collective("Nhóm công tác đặc biệt")


def _seed_and_fixture_names() -> list[str]:
    out: list[str] = []
    for f in (sample_dir("langson_ddci_2024") / "phu_luc_2.txt", sample_dir("khanhhoa_parindex_2022") / "phu_luc.tsv"):
        plan = parse_plan(f)
        for t in plan.tasks:
            out += [p.name for raw in (t.raw_lead, t.raw_coord) for p in split_parties(raw)]
    reg = json.loads((sample_dir("langson_ddci_2024") / "registry.json").read_text(encoding="utf-8"))
    out += [u["name"] for u in reg["units"]]
    for exp in sorted(REAL_PLANS.glob("*/expected.json")):
        for t in json.loads(exp.read_text(encoding="utf-8"))["tasks"]:
            out += list(t.get("lead_units", [])) + list(t.get("coordinating_units", []))
    return list(dict.fromkeys(out))


def test_no_unit_name_is_cut():
    """Every unit name of the seeds, the real-plan fixtures and the usual provincial bodies reads as itself."""
    all_names = [*_seed_and_fixture_names(), *USUAL_BODIES]
    assert len(all_names) > 80
    cut = []
    for name in all_names:
        got = split_parties(name)
        if [(p.name.casefold(), p.note) for p in got] != [(name.casefold(), "")]:
            cut.append((name, [(p.name, p.note) for p in got]))
    assert not cut, cut


def test_likely_duplicates_are_compared_without_case_accents_short_forms_or_word_order():
    from kehoach_xl.importer.plan_import import _dup_key

    same = ["Trung tâm Công nghệ thông tin Tài nguyên và Môi trường", "TT. CNTT TNMT",
            "Trung tam cong nghe thong tin tai nguyen moi truong", "Trung tâm Công nghệ TT và TNMT",
            "Trung tâm Tài nguyên và Môi trường Công nghệ thông tin"]
    assert len({_dup_key(n) for n in same}) == 1
    assert _dup_key("Sở Tài chính") != _dup_key("Sở Tư pháp")
    assert _dup_key("Thanh tra Sở") != _dup_key("Thanh tra tỉnh")


def test_import_reports_doubts_and_duplicates_with_places(tmp_path):
    from kehoach_xl.commands.import_plan import import_plan

    tsv = tmp_path / "kh.tsv"
    tsv.write_text("STT\tNhiệm vụ\tCơ quan chủ trì\tCơ quan phối hợp\tThời hạn\n"
                   "1\tLập kế hoạch\tVăn phòng Sở\tCông chức phụ trách, Văn phòng Sở\t30/6/2025\n"
                   "2\tBáo cáo\tTT. CNTT\tTrung tâm Công nghệ thông tin\t30/9/2025\n", encoding="utf-8")
    rep = import_plan(tsv, tmp_path / "so.xlsx", plan_code="KH")
    doubt = [w for w in rep.warnings if w.code == "unit_split_doubt"]
    assert [(w.row, "Công chức phụ trách, Văn phòng Sở" in w.message) for w in doubt] == [(2, True)]
    dup = [w.message for w in rep.warnings if w.code == "duplicate_unit"]
    assert len(dup) == 1 and "'TT. CNTT'" in dup[0] and "'Trung tâm Công nghệ thông tin'" in dup[0]
    assert rep.tasks[1]["lead_units"] == ["TT. CNTT"]  # flagged, never merged


def test_units_sheet_teaches_the_splitter(tmp_path):
    from kehoach_xl.commands.import_plan import import_plan
    from kehoach_xl.commands.init import create_master

    units = [{"name": "Trung tâm Phục vụ hành chính công", "aliases": ["TTPVHCC"], "kind": "Trung tâm"},
             {"name": "Sở Xây dựng", "aliases": ["SXD"], "kind": "Sở"},
             {"name": "Tổ công tác liên ngành, liên cấp", "kind": GROUP_KIND}]
    master = create_master(tmp_path / "so.xlsx", units=units, leaders=[], meta={"plan_code": "KH"})
    tsv = tmp_path / "kh.tsv"
    tsv.write_text("STT\tNhiệm vụ\tCơ quan chủ trì\tCơ quan phối hợp\tThời hạn\n"
                   "1\tRà soát quy trình\tSXD và TTPVHCC\tTổ công tác liên ngành, liên cấp\t30/6/2025\n",
                   encoding="utf-8")
    rep = import_plan(tsv, master)
    assert rep.tasks[0]["lead_units"] == ["Sở Xây dựng", "Trung tâm Phục vụ hành chính công"]  # aliases honoured
    assert rep.tasks[0]["coordinating_units"] == ["Tổ công tác liên ngành, liên cấp"]  # a known name stays whole
    assert not rep.unknown_units
