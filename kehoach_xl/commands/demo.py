"""The demo: one month of the cycle on the real Lạng Sơn DDCI 2024 plan.

It builds the plan's Word document from the bundled appendix, imports it into
a new master, issues unit workbooks, lets simulated units fill them in (with a
few realistic mistakes), merges them, validates, refreshes and produces the
summary, briefing and report, then moves the log it wrote into the archive
workbook beside the master, printing where each output is.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kehoach_xl import vn
from kehoach_xl.errors import SetupError
from kehoach_xl.model import schema

DEMO_AS_OF = dt.date(2024, 6, 5)  # a day in the plan's life, so states are mixed
DEMO_PERIOD = "2024-05"
MASTER_NAME = "so_theo_doi_DDCI_2024.xlsx"
# Written into every folder the demo creates: --force deletes only folders that carry it,
# never a real master folder someone pointed the demo at by mistake.
DEMO_MARKER = ".kehoach_demo"


@dataclass
class DemoStep:
    name: str
    ok: bool
    detail: str
    outputs: list[Path] = field(default_factory=list)


@dataclass
class DemoResult:
    folder: Path
    master: Path
    steps: list[DemoStep] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(s.ok for s in self.steps)


def demo(
    folder: Path | str,
    *,
    force: bool = False,
    as_of: dt.date | None = None,
    period: str = DEMO_PERIOD,
    echo: Callable[[str], Any] | None = None,
) -> DemoResult:
    """Build a complete master in ``folder`` and run the monthly cycle on it."""
    from kehoach_xl.commands.init import create_master
    from kehoach_xl.model.config import CONFIG_NAME, default_toml
    from kehoach_xl.model.sample import sample_registry

    folder = Path(folder)
    as_of = as_of or DEMO_AS_OF
    say = echo or (lambda s: None)
    if folder.exists() and any(folder.iterdir()):
        if not force:
            raise SetupError(f"Thư mục {folder} đã có dữ liệu; dùng --force để tạo lại bản trình diễn.")
        if not (folder / DEMO_MARKER).is_file():
            raise SetupError(
                f"Thư mục {folder} có dữ liệu không phải do bản trình diễn tạo ra; không xóa. "
                f"Hãy chọn một thư mục trống khác."
            )
        shutil.rmtree(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / DEMO_MARKER).write_text("Thư mục do 'kehoach-xl demo' tạo; --force được phép xóa.\n", encoding="utf-8")
    master = folder / MASTER_NAME
    result = DemoResult(folder=folder, master=master)
    (folder / CONFIG_NAME).write_text(
        default_toml(MASTER_NAME), encoding="utf-8"
    )

    def step(name: str, fn: Callable[[], tuple[str, list[Path]]]) -> None:
        try:
            detail, outputs = fn()
            result.steps.append(DemoStep(name, True, detail, outputs))
            say(f"✔ {name}: {detail}")
            for p in outputs:
                say(f"    → {p}")
        except Exception as exc:  # noqa: BLE001 - the demo reports each step and goes on
            result.steps.append(DemoStep(name, False, f"{type(exc).__name__}: {exc}"))
            say(f"✘ {name}: {type(exc).__name__}: {exc}")

    reg = sample_registry("langson_ddci_2024")

    def s_init() -> tuple[str, list[Path]]:
        create_master(master, units=reg["units"], leaders=reg["leaders"], scores=reg["scores"], meta=reg["meta"])
        return f"{len(reg['units'])} đơn vị, {len(reg['leaders'])} lãnh đạo, {len(reg['scores'])} điểm chỉ số", [master]

    step("Tạo sổ theo dõi", s_init)

    plan_docx = folder / "ke_hoach_62_KH-STNMT_phu_luc_2.docx"

    def s_import() -> tuple[str, list[Path]]:
        from kehoach_xl.commands.import_plan import import_plan
        from kehoach_xl.importer import build_sample_plan_docx

        build_sample_plan_docx(plan_docx, name="langson_ddci_2024")
        rep = import_plan(plan_docx, master, plan_code="DDCI2024")
        d = rep.to_dict() if hasattr(rep, "to_dict") else dict(rep)
        return (f"{d.get('tasks_added', 0)} nhiệm vụ mới, {len(d.get('warnings', []))} cảnh báo",
                [plan_docx])

    step("Nhập phụ lục kế hoạch từ Word", s_import)

    def s_refresh() -> tuple[str, list[Path]]:
        from kehoach_xl.commands.refresh import refresh

        r = refresh(master, as_of=as_of)
        states = ", ".join(f"{schema.DEADLINE_STATES[k].lower()}: {v}" for k, v in sorted(r.states.items()) if v)
        return f"số liệu tính đến {vn.date(as_of)}, {r.cells_changed} ô thay đổi ({states})", []

    step("Cập nhật cột tính toán", s_refresh)

    outbox = folder / "gui_don_vi"
    inbox = folder / "hop_thu_den"
    issued: list[Path] = []

    def s_issue() -> tuple[str, list[Path]]:
        from kehoach_xl.commands.issue import issue

        issued.extend(issue(master, period=period, out=outbox))
        return f"{len(issued)} tệp giao cho đơn vị, tháng {period[5:]}/{period[:4]}", [outbox]

    step("Giao tệp báo cáo cho đơn vị", s_issue)

    def s_simulate() -> tuple[str, list[Path]]:
        from kehoach_xl.commands.simulate import simulate_unit_submissions

        files = simulate_unit_submissions(inbox, issued, seed=2024, mistakes=True)
        # A unit that saved its report as a CSV and renamed it: the merge must refuse it, not guess.
        stray = inbox / "bao_cao_thang_5_Phong_QLDD.xlsx"
        stray.write_text("Mã nhiệm vụ,Trạng thái,Tiến độ (%)\nDDCI2024-001,Hoàn thành,100\n", encoding="utf-8")
        return f"{len(files) + 1} tệp đơn vị gửi về (có vài lỗi thường gặp)", [inbox]

    step("Đơn vị điền báo cáo (mô phỏng)", s_simulate)

    def s_merge() -> tuple[str, list[Path]]:
        from kehoach_xl.commands.merge import merge
        from kehoach_xl.model.config import load_config

        # The demo wrote these files itself a moment ago and knows they are complete: no settle time.
        cfg = load_config(master)
        cfg.limits.inbox_settle_seconds = 0
        d = merge(master, inbox, as_of=as_of, config=cfg).to_dict()
        rejected = [f for f in d.get("files", []) if f.get("status") != "processed"]
        return (f"{d.get('applied', 0)} ô được cập nhật, {len(rejected)} tệp bị trả lại hoặc có vấn đề, "
                f"{len(d.get('conflicts', []))} xung đột", [inbox / "processed", inbox / "rejected"])

    step("Tổng hợp báo cáo đơn vị", s_merge)
    step("Cập nhật lại sau khi tổng hợp", s_refresh)

    def s_validate() -> tuple[str, list[Path]]:
        from kehoach_xl.commands.validate import validate

        rep = validate(master, write=True)
        d = rep.to_dict()
        return f"{len(d['errors'])} lỗi, {len(d['warnings'])} cảnh báo (xem sheet Kiểm tra)", []

    step("Kiểm tra dữ liệu", s_validate)

    reports = folder / "bao_cao"

    def s_summary() -> tuple[str, list[Path]]:
        from kehoach_xl.commands.summary import summary

        export = reports / f"tong_hop_{period.replace('-', '_')}.xlsx"
        summary(master, as_of=as_of, export=export, period=period)
        return "sheet Tổng hợp và tệp tổng hợp riêng", [export]

    step("Lập bảng tổng hợp", s_summary)

    def s_briefing() -> tuple[str, list[Path]]:
        from kehoach_xl.commands.briefing import briefing

        res = briefing(master, period=period, out=reports, as_of=as_of)
        files = [p for p in (res.text_path, res.html_path, res.eml_path) if p]
        return f"nội dung giao ban (văn bản, HTML, .eml) và {len(res.reminders)} thư nhắc việc", files

    step("Soạn nội dung giao ban", s_briefing)

    def s_report() -> tuple[str, list[Path]]:
        from kehoach_xl.commands.report import report

        path = report(master, period=period, out=reports, as_of=as_of)
        return "báo cáo theo thể thức Nghị định 30/2020/NĐ-CP", [Path(path)]

    step("Lập báo cáo bằng văn bản", s_report)

    def s_archive() -> tuple[str, list[Path]]:
        from kehoach_xl.commands.archive import archive
        from kehoach_xl.model.config import load_config

        # Log rows carry the clock time of the writes just made (not the plan's 2024 dates), so none
        # is old today. Archive as on the 1st of a month far enough ahead that all of them have left
        # the window the master keeps ([archive] log_keep_months): what the nightly will do then.
        cfg = load_config(master)
        keep = cfg.archive.log_keep_months
        today = dt.date.today()
        k = today.year * 12 + today.month - 1 + keep + 1  # months since year 0
        later = dt.date(k // 12, k % 12 + 1, 1)
        res = archive(master, as_of=later, config=cfg)
        return (f"tính như vào ngày {vn.date(later)}, khi nhật ký hôm nay đã quá {keep} tháng giữ trong sổ. "
                f"{res.message()}", list(res.files))

    step("Lưu trữ nhật ký cũ", s_archive)
    return result
