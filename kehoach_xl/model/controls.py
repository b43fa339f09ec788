"""The control sheet's buttons as data: names, actions, captions."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ControlButton:
    name: str  # the name Excel gives the form button (XlsxWriter leaves Excel's default, by order)
    action: str | None  # key of BUTTONS; None = run what the dropdown says
    caption: str  # what staff read on the button (Vietnamese)


CONTROL_SHEET = "Điều khiển"


CHOICE_CELL = (3, 2)  # B3: "Chọn việc cần làm"


CHOICE_LABEL = "Chọn việc cần làm"


ACTION_CAPTIONS: dict[str, str] = {
    "kiem_tra": "Kiểm tra",
    "cap_nhat": "Cập nhật",
    "tong_hop_bao_cao_don_vi": "Tổng hợp báo cáo đơn vị",
    "lap_bao_cao_giao_ban": "Lập báo cáo giao ban",
}


CONTROL_BUTTONS: tuple[ControlButton, ...] = (
    *(ControlButton(f"Button {i}", key, caption) for i, (key, caption) in enumerate(ACTION_CAPTIONS.items(), 1)),
    ControlButton(f"Button {len(ACTION_CAPTIONS) + 1}", None, "Thực hiện việc đã chọn ở ô B3"),
)
