"""Builders shared by tests: realistic tasks for masters."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from kehoach_xl.commands.init import create_master
from kehoach_xl.model.sample import sample_registry


def sample_tasks() -> list[dict[str, Any]]:
    """Six tasks from the Lạng Sơn DDCI 2024 appendix, in different states."""
    base = {
        "plan_code": "DDCI2024",
        "leaders": "Nguyễn Ngọc Thiều",
    }
    rows = [
        ("DDCI2024-001", "I", "Chỉ số 2: Chi phí thời gian", "1",
         "Thời gian giải quyết thủ tục hành chính trực tuyến năm 2023 nhanh hơn so với năm 2022",
         "Đánh giá hiện trạng (mức độ dễ hiểu, dễ thực hiện) của các quy trình và thủ tục hành chính của Sở",
         "Báo cáo đánh giá và rà soát lại hệ thống quy trình", "Các phòng, đơn vị", "Văn phòng Sở",
         "20/6/2024", dt.date(2024, 6, 20), "Hoàn thành", 100, dt.date(2024, 6, 18)),
        ("DDCI2024-002", "I", "Chỉ số 2: Chi phí thời gian", "",
         "Thời gian giải quyết thủ tục hành chính trực tuyến năm 2023 nhanh hơn so với năm 2022",
         "Cập nhật các quy trình và thủ tục lên Websites", "Cập nhật các quy trình và thủ tục lên Websites",
         "Văn phòng Đăng ký đất đai", "", "10/6/2024", dt.date(2024, 6, 10), "Đang thực hiện", 60, None),
        ("DDCI2024-003", "II", "Chỉ số 3: Chi phí không chính thức", "9",
         "Chi phí không chính thức trong các cuộc kiểm tra giám sát so với trước đây",
         "Rà soát, thu thập thông tin việc phát sinh chi phí không chính thức",
         "Báo cáo, rà soát chi phí không chính thức", "Thanh tra Sở", "Văn phòng Sở",
         "20/5/2024", dt.date(2024, 5, 20), "Hoàn thành", 100, dt.date(2024, 5, 27)),
        ("DDCI2024-004", "III", "Chỉ số 5: Hỗ trợ Doanh nghiệp", "7",
         "Doanh nghiệp được mời tham gia đối thoại, tháo gỡ khó khăn định kỳ, hàng năm",
         "Đánh giá hiệu quả việc tham gia đối thoại với doanh nghiệp", "Báo cáo, rà soát việc đối thoại với doanh nghiệp",
         "Văn phòng Sở", "Các phòng, đơn vị", "30/6/2024", dt.date(2024, 6, 30), "Chưa thực hiện", 0, None),
        ("DDCI2024-005", "IV", "Chỉ số 8: Tính năng động và hiệu lực của hệ thống", "4",
         "Sở thực hiện thủ tục theo hướng thuận lợi cho doanh nghiệp",
         "Đánh giá việc thực hiện thủ tục theo hướng thuận lợi cho doanh nghiệp",
         "Báo cáo kết quả thực hiện thủ tục", "Các phòng, đơn vị", "Văn phòng Sở",
         "Thường xuyên", None, "Đang thực hiện", 50, None),
        ("DDCI2024-006", "IV", "Chỉ số 8: Tính năng động và hiệu lực của hệ thống", "5",
         "Có hiện tượng đùn đẩy trách nhiệm giữa các Sở, ban, ngành",
         "Đánh giá sự phục vụ giải quyết các vấn đề liên quan cho doanh nghiệp",
         "Báo cáo việc giải quyết các vấn đề liên quan cho doanh nghiệp", "Các phòng, đơn vị", "Văn phòng Sở",
         "20/5/2024", dt.date(2024, 5, 20), "Đang thực hiện", 30, None),
    ]
    out = []
    for (tid, grp, gtitle, stt, crit, task, output, lead, coord, dl, due, status, pct, done) in rows:
        out.append({**base, "id": tid, "group": grp, "group_title": gtitle, "stt": stt, "criterion": crit,
                    "task": task, "output": output, "lead_units": lead, "coordinating_units": coord,
                    "deadline_text": dl, "due_date": due, "status": status, "progress": pct, "completed_on": done})
    return out


def make_sample_master(path: Path, tasks: list[dict[str, Any]] | None = None) -> Path:
    reg = sample_registry("langson_ddci_2024")
    return create_master(path, tasks=sample_tasks() if tasks is None else tasks, units=reg["units"],
                         leaders=reg["leaders"], scores=reg["scores"], meta=reg["meta"])
