"""A fixed test master for the report tests: realistic tasks chosen so every state occurs.

As of 15/07/2024 (period 2024-07): done on time, done late, overdue (started and not
started), due soon, on track, continuous, recurring, no specific deadline; history
rows for 2024-06 so the comparison with the previous period has something to say.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from kehoach_xl.commands.init import create_master
from kehoach_xl.model.sample import sample_registry
from kehoach_xl.rules.derive import derive

AS_OF = dt.date(2024, 7, 15)
PERIOD = "2024-07"
THIEU = "Ông Nguyễn Ngọc Thiều, Giám đốc Sở phụ trách"
HAI = "Ông Ngô Viết Hải, Phó Giám đốc Sở phụ trách"
THACH = "Ông Chu Văn Thạch, Phó Giám đốc Sở phụ trách"
G1 = ("I", "Chỉ số 2: Chi phí thời gian")
G2 = ("II", "Chỉ số 3: Chi phí không chính thức")
G3 = ("III", "Chỉ số 1: Tính minh bạch và tiếp cận thông tin")
G4 = ("IV", "Chỉ số 8: Tính năng động và hiệu lực của hệ thống")


def _t(i: int, group: tuple[str, str], task: str, lead: str, deadline: str, leader: str, status: str = "",
       **extra: Any) -> dict[str, Any]:
    return {"id": f"DDCI-{i:02d}", "group": group[0], "group_title": group[1], "stt": i, "task": task,
            "lead_units": lead, "deadline_text": deadline, "leaders": leader, "status": status or None,
            "plan_code": "DDCI2024", **extra}


def sample_tasks() -> list[dict[str, Any]]:
    return [
        _t(1, G1, "Đánh giá hiện trạng (mức độ dễ hiểu, dễ thực hiện) của các quy trình và thủ tục hành chính của Sở",
           "Các phòng, đơn vị có giải quyết thủ tục hành chính", "20/6/2024", THIEU, "Hoàn thành",
           progress=100, completed_on=dt.date(2024, 6, 18), coordinating_units="Văn phòng Sở",
           result="Đã ban hành Báo cáo số 215/BC-STNMT đánh giá hiện trạng quy trình"),
        _t(2, G1, "Đơn giản hóa các bước giải quyết thủ tục hành chính của Sở và ban hành văn bản",
           "Văn phòng Sở", "30/5/2024", THIEU, "Hoàn thành", progress=100, completed_on=dt.date(2024, 7, 5),
           result="Đã ban hành Quyết định sửa đổi quy trình nội bộ, giảm 2 bước"),
        _t(3, G1, "Cập nhật các quy trình và thủ tục lên trang thông tin điện tử của Sở",
           "Văn phòng Đăng ký đất đai", "10/6/2024", THIEU, "Đang thực hiện", progress=60,
           difficulties="Phần mềm trang thông tin điện tử chưa hỗ trợ hiển thị quy trình dạng sơ đồ",
           proposals="Đề nghị Trung tâm Công nghệ thông tin hỗ trợ nâng cấp chức năng hiển thị",
           updated_at=dt.datetime(2024, 7, 10, 9, 30)),
        _t(4, G1, "Đánh giá thực tế các doanh nghiệp thực hiện theo quy trình mới", "Phòng Quản lý đất đai",
           "30/6/2024", THIEU, "Chưa thực hiện"),
        _t(5, G2, "Rà soát, lập danh sách doanh nghiệp phải chi trả chi phí không chính thức khi tiếp xúc với Sở",
           "Thanh tra Sở", "20/7/2024", THIEU, "Đang thực hiện", progress=50,
           difficulties="Doanh nghiệp ngại cung cấp thông tin", updated_at=dt.datetime(2024, 5, 20, 8, 0)),
        _t(6, G2, "Tổ chức hội nghị đối thoại với doanh nghiệp về thủ tục hành chính lĩnh vực tài nguyên",
           "Văn phòng Sở", "Quý III/2024", THIEU, "Đang thực hiện", progress=20),
        _t(7, G3, "Đăng tải đầy đủ thông tin quy hoạch, kế hoạch sử dụng đất trên trang thông tin điện tử của Sở",
           "Văn phòng Đăng ký đất đai", "Thường xuyên", HAI, "Đang thực hiện"),
        _t(8, G3, "Báo cáo kết quả thực hiện tại cuộc họp giao ban", "Văn phòng Sở", "Định kỳ hằng tháng", HAI,
           "Đang thực hiện"),
        _t(9, G3, "Cập nhật văn bản quy phạm pháp luật mới ban hành lên cổng thông tin điện tử của Sở",
           "Trung tâm Công nghệ thông tin Tài nguyên và Môi trường", "10/8/2024", HAI, "Chưa thực hiện"),
        _t(10, G4, "Xây dựng kế hoạch tập huấn kỹ năng giao tiếp, ứng xử cho công chức tiếp xúc doanh nghiệp",
           "Văn phòng Sở", "Theo Kế hoạch của Sở Nội vụ", THACH, "Đang thực hiện", progress=30),
        _t(11, G4, "Kiểm tra công vụ, chấn chỉnh kỷ luật, kỷ cương hành chính tại bộ phận một cửa",
           "Thanh tra Sở", "12/7/2024", THACH, "Đang thực hiện", progress=80,
           proposals="Đề nghị Lãnh đạo Sở cho phép kéo dài thời hạn kiểm tra đến 31/7/2024",
           updated_at=dt.datetime(2024, 7, 12, 16, 0)),
        _t(12, G4, "Tổng hợp, trả lời kiến nghị của doanh nghiệp chậm nhất 07 ngày sau khi nhận được",
           "Phòng Kế hoạch - Tài chính", "31/7/2024", THACH, "Hoàn thành", progress=100,
           completed_on=dt.date(2024, 7, 10)),
    ]


def sample_history() -> list[dict[str, Any]]:
    rec = dt.datetime(2024, 6, 30, 22, 0)

    def h(tid: str, status: str, state: str) -> dict[str, Any]:
        return {"period": "2024-06", "task_id": tid, "unit": "", "status": status, "deadline_state": state,
                "recorded_at": rec}

    return [
        h("DDCI-01", "Hoàn thành", "Hoàn thành đúng hạn"),
        h("DDCI-02", "Đang thực hiện", "Quá hạn"),
        h("DDCI-03", "Đang thực hiện", "Quá hạn"),
        h("DDCI-04", "Chưa thực hiện", "Sắp đến hạn"),
        h("DDCI-11", "Đang thực hiện", "Trong hạn"),
    ]


def make_master(path: Path, *, with_derived: bool = False) -> Path:
    """The sample master; ``with_derived`` fills the derived columns as refresh would for AS_OF."""
    reg = sample_registry("langson_ddci_2024")
    tasks = sample_tasks()
    meta = dict(reg["meta"])
    if with_derived:
        for t in tasks:
            t.update(derive(t, AS_OF, plan_year=2024).cells())
        meta["as_of"] = AS_OF
    path = create_master(path, tasks=tasks, units=reg["units"], leaders=reg["leaders"], scores=reg["scores"],
                         meta=meta)
    _add_history(path, sample_history())
    return path


def _add_history(path: Path, rows: list[dict[str, Any]]) -> None:
    from kehoach_xl.io.master_write import write_master
    from kehoach_xl.model import schema
    from kehoach_xl.model.changes import MasterChanges

    ch = MasterChanges()
    for r in rows:
        ch.append(schema.HISTORY.name, [r.get(c.key) for c in schema.HISTORY.columns])
    write_master(path, ch, action="test")
