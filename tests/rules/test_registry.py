"""Splitting party and leader cells; matching names against the registry."""

from __future__ import annotations

import unicodedata

from kehoach_xl.model.registry import Party, Registry, parse_leaders, split_parties
from kehoach_xl.model.sample import sample_registry


def test_split_parties_role_markers():
    got = split_parties("Các phòng, đơn vị có giải quyết TTHC (chủ trì); Văn phòng Sở (phối hợp và tổng hợp chung)")
    assert got == [Party("Các phòng, đơn vị có giải quyết TTHC", "lead", "chủ trì"),
                   Party("Văn phòng Sở", "coord", "phối hợp và tổng hợp chung")]


def test_split_parties_inline_notes_of_seed_004():
    assert split_parties("Văn phòng Sở chủ trì xây dựng báo cáo") == [
        Party("Văn phòng Sở", "lead", "chủ trì xây dựng báo cáo")]
    assert split_parties("Văn phòng Sở đôn đốc, tổng hợp") == [Party("Văn phòng Sở", None, "đôn đốc, tổng hợp")]
    assert split_parties("Văn phòng Sở hướng dẫn") == [Party("Văn phòng Sở", None, "hướng dẫn")]
    assert split_parties("Đoàn kiểm tra CCHC của Sở") == [Party("Đoàn kiểm tra CCHC của Sở", None, "")]
    assert [p.name for p in split_parties("Chi cục QLĐĐ; Văn phòng Đăng ký đất đai Khánh Hòa và Thanh tra Sở")] == [
        "Chi cục QLĐĐ", "Văn phòng Đăng ký đất đai Khánh Hòa", "Thanh tra Sở"]
    assert [p.name for p in split_parties("Trung tâm Công nghệ TT và TNMT")] == ["Trung tâm Công nghệ TT và TNMT"]
    assert [p.name for p in split_parties("Các phòng, đơn vị, Bộ phận một cửa")] == [
        "Các phòng, đơn vị", "Bộ phận một cửa"]


def test_parse_leaders_with_titles_and_roles():
    got = parse_leaders("- Ông Nguyễn Ngọc Thiều, Giám đốc Sở phụ trách chỉ đạo; - Ông Triệu Đức Minh, "
                        "Phó Giám đốc Sở phối hợp.")
    assert [(x.name, x.title, x.role) for x in got] == [
        ("Nguyễn Ngọc Thiều", "Giám đốc Sở", "phụ trách chỉ đạo"), ("Triệu Đức Minh", "Phó Giám đốc Sở", "phối hợp")]


def test_match_names_nfd_alias_and_typo():
    reg = sample_registry("langson_ddci_2024")
    r = Registry(units=reg["units"], leaders=reg["leaders"])
    assert r.match_unit(unicodedata.normalize("NFD", "VP  Sở")).canonical == "Văn phòng Sở"
    m = r.match_leader("Ông Nguyễn Ngọc Thiệu")
    assert m.canonical is None and m.suggestions == ("Nguyễn Ngọc Thiều",)
