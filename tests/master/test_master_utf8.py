"""A new master's big sheets hold Vietnamese as UTF-8, not as character references.

openpyxl's sheet writer goes through lxml's ``xmlfile`` with its default ASCII encoding, which
turns each Vietnamese letter into ``&#7879;``-style references: the task sheet of a 10,000-task
master was 22 MB of XML instead of 19 MB, and calamine read it about a quarter slower. The rows
of the task and parts sheets are streamed by ``io/master_new``, which writes them as UTF-8.
"""

from __future__ import annotations

import zipfile

from python_calamine import CalamineWorkbook

from kehoach_xl.commands.init import create_master
from kehoach_xl.io.xlsx_package import zip_sheet_map
from kehoach_xl.model import schema

NAME = "Nâng cao chất lượng giải quyết thủ tục hành chính — “đúng hạn” & <trực tuyến>"
UNIT = "Sở Kế hoạch và Đầu tư"


def test_task_rows_are_utf8_and_read_back_the_same(tmp_path):
    tasks = [{"id": f"NV{i:03d}", "task": f"{NAME} {i}", "lead_units": UNIT} for i in range(1, 31)]
    path = create_master(tmp_path / "so.xlsx", tasks=tasks, units=[{"name": UNIT}])
    with zipfile.ZipFile(path) as zf:
        _, parts = zip_sheet_map(zf)
        xml = zf.read(parts[schema.TASKS.name])
    assert not xml.startswith(b"<?xml") or b'encoding="utf-8"' in xml.lower().split(b"?>")[0]
    assert NAME.split()[0].encode("utf-8") in xml  # "Nâng" as UTF-8 bytes
    assert b"&#" not in xml.split(b"<sheetData>", 1)[1].split(b"</sheetData>", 1)[0]
    assert b"&amp;" in xml and b"&lt;" in xml  # markup characters are still escaped

    wb = CalamineWorkbook.from_path(str(path))
    rows = wb.get_sheet_by_name(schema.TASKS.name).to_python()
    header = rows[0]
    headers = {c.key: c.header for c in schema.TASKS.columns}
    name_col, unit_col = header.index(headers["task"]), header.index(headers["lead_units"])
    got = [(r[name_col], r[unit_col]) for r in rows[1:] if r[name_col]]
    assert got == [(f"{NAME} {i}", UNIT) for i in range(1, 31)]


# openpyxl's WorksheetWriter.get_stream as of openpyxl 3.1.5, whitespace collapsed. io/master_new copies it
# (openpyxl has no parameter for the encoding) to write UTF-8; if openpyxl changes it, the copy must follow.
_OPENPYXL_GET_STREAM = (
    "def get_stream(self): with xmlfile(self.out) as xf: with xf.element(\"worksheet\", xmlns=SHEET_MAIN_NS): "
    "try: while True: el = (yield) if el is True: yield xf elif el is None: # et_xmlfile chokes continue "
    "else: xf.write(el) except GeneratorExit: pass"
)


def test_the_copied_sheet_writer_still_matches_openpyxls():
    import inspect

    from openpyxl.worksheet._writer import WorksheetWriter

    from kehoach_xl.io.master_new import _StreamingSheetWriter

    theirs = " ".join(inspect.getsource(WorksheetWriter.get_stream).split())
    assert theirs == _OPENPYXL_GET_STREAM, (
        "openpyxl changed WorksheetWriter.get_stream: bring io/master_new._StreamingSheetWriter.get_stream "
        "(its copy with encoding='utf-8') in line, then update this text")
    assert _StreamingSheetWriter.get_stream is not WorksheetWriter.get_stream
    assert 'encoding="utf-8"' in inspect.getsource(_StreamingSheetWriter.get_stream)
