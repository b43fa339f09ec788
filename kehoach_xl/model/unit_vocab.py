"""Vocabulary for reading the names of bodies in plan documents (data only).

Plans issued above a department list several bodies in one cell ("Bộ Công an,
Bộ Nội vụ, Bộ Tài chính"; "Sở Tài chính, Sở Nội vụ và UBND các huyện"; "VTV,
VOV, TTXVN"). A cell is split only where each piece starts like the name of a
body, so these lists are the whole knowledge the splitter has; a master extends
them through its "Đơn vị" sheet (every name and alias is kept whole, an alias
in capitals counts as an abbreviation, a unit of kind "Nhóm đơn vị" is a
collective). Everything is matched on text folded to lower-case ASCII
(``Ủy ban`` → ``uy ban``) so NFD text, "Uỷ"/"Ủy" and case do not matter.
"""

from __future__ import annotations

# Words a body's name starts with (folded). Longer entries first is not required:
# the splitter tries every entry.
BODY_PREFIXES: tuple[str, ...] = (
    "bo", "so", "ban", "uy ban", "uy ban nhan dan", "ubnd", "hoi dong nhan dan", "hdnd", "van phong", "thanh tra",
    "cuc", "tong cuc", "chi cuc", "phong", "trung tam", "vien", "hoc vien", "dai", "thong tan xa", "cong an",
    "bao hiem xa hoi", "ngan hang", "kho bac", "tinh doan", "tinh uy", "thanh uy", "huyen uy", "hoi",
    "lien doan", "lien hiep", "mat tran", "uy ban mat tran", "bo chi huy", "bo doi", "bo phan", "doan",
    "truong", "benh vien", "bao", "tap chi", "quy", "cong ty", "tong cong ty", "tap doan", "chi nhanh",
    "toa an", "vien kiem sat", "hoi dong", "to", "nhom", "chinh phu", "thu tuong", "quoc hoi",
    "cong thong tin", "ban quan ly", "ban chi dao", "doan kiem tra", "to cong tac", "to giup viec",
    "dang uy", "dang doan", "ban can su", "hoi nong dan", "hoi phu nu", "hoi cuu chien binh",
    "dai phat thanh", "bo chi huy quan su", "cuc thue", "hai quan", "cuc hai quan", "chi cuc thue",
)

# Words that may follow a one-word body prefix that is also a common word ("Công an tỉnh",
# "Hội ... cấp huyện"): folded.
PLACE_WORDS: tuple[str, ...] = ("tinh", "huyen", "thanh pho", "thi xa", "xa", "phuong", "trung uong", "nha nuoc",
                                "cap", "khu vuc", "quan", "thi tran")
# How a complete name ends, so that a lower-case note phrase after it is a note ("Văn phòng Sở
# đôn đốc"); an abbreviation in capitals ends a name too. As written (not folded).
NAME_ENDS: tuple[str, ...] = ("Sở", "đơn vị", "công lập", "một cửa", "phòng", "tỉnh", "huyện", "thành phố",
                              "thị xã", "liên quan", "địa phương", "ngành")

# Abbreviations of bodies written in capitals (folded). A piece that is only an
# unknown word in capitals is taken as a body too when the whole list is of that
# shape ("VTV, VOV, TTXVN").
BODY_ABBREVIATIONS: tuple[str, ...] = (
    "ubnd", "hdnd", "vtv", "vov", "ttxvn", "bhxh", "mttq", "ubmttq", "nhnn", "kbnn", "btc", "bca", "bnv",
    "bkhdt", "btnmt", "vpubnd", "vp", "ttr", "ttcntt", "vpdkdd", "sxd", "stc", "snv", "stnmt", "stp", "syt",
    "ctt", "bqlda", "ban qlda", "ct ubnd", "vks", "tand", "vksnd", "ca", "bchqs", "bđbp", "bdbp",
)

# Short forms inside names, expanded only to compare names for likely duplicates
# ("TT. CNTT" and "Trung tâm Công nghệ thông tin" are reported as one unit, never merged silently).
NAME_ABBREVIATIONS: dict[str, str] = {
    "tt": "trung tam", "cong nghe tt": "cong nghe thong tin", "vp": "van phong", "ubnd": "uy ban nhan dan", "hdnd": "hoi dong nhan dan",
    "cntt": "cong nghe thong tin", "tnmt": "tai nguyen va moi truong", "tn&mt": "tai nguyen va moi truong",
    "tn mt": "tai nguyen va moi truong", "qldd": "quan ly dat dai", "bvmt": "bao ve moi truong",
    "vpdkdd": "van phong dang ky dat dai", "dkdd": "dang ky dat dai", "cc": "chi cuc", "ttr": "thanh tra",
    "ks": "khoang san", "tnn": "tai nguyen nuoc", "kh": "ke hoach", "tc": "tai chinh", "bql": "ban quan ly",
    "mttq": "mat tran to quoc", "bhxh": "bao hiem xa hoi", "cchc": "cai cach hanh chinh",
    "tthc": "thu tuc hanh chinh", "khcn": "khoa hoc va cong nghe", "gtvt": "giao thong van tai",
    "nn&ptnt": "nong nghiep va phat trien nong thon", "nnptnt": "nong nghiep va phat trien nong thon",
    "ld-tb&xh": "lao dong thuong binh va xa hoi", "ldtbxh": "lao dong thuong binh va xa hoi",
    "tt&tt": "thong tin va truyen thong", "tttt": "thong tin va truyen thong",
    "vh-tt&dl": "van hoa the thao va du lich", "vhttdl": "van hoa the thao va du lich",
    "kh&dt": "ke hoach va dau tu", "khdt": "ke hoach va dau tu", "gd&dt": "giao duc va dao tao",
    "gddt": "giao duc va dao tao", "tp": "thanh pho",
}
# Words left out when comparing names for duplicates (they do not tell two bodies apart; "tỉnh" and
# "Sở" do: "Thanh tra Sở" and "Thanh tra tỉnh" are two bodies).
NAME_FILLER_WORDS: tuple[str, ...] = ("va", "cua", "thuoc")

# Collective phrases: one unit that stands for many bodies; never split, given the kind
# "Nhóm đơn vị". Regular expressions on folded text, anchored at the start of a piece.
COLLECTIVE_PATTERNS: tuple[str, ...] = (
    r"^cac\b",  # "các bộ, ngành, địa phương", "Các phòng, đơn vị", "các cơ quan liên quan"
    r"^(ubnd|uy ban nhan dan|chu tich ubnd|chu tich uy ban nhan dan) (cac|cap) ",  # "UBND các huyện, thành phố"
    r"^(bo|so|ban|co quan|don vi|dia phuong|nganh)( |, ?)(nganh|ban|dia phuong|don vi)\b",  # "sở, ngành"
    r"^(co quan|don vi|to chuc|dia phuong|nganh|phong|bo phan)s? (lien quan|co lien quan)\b",
    r"^(cac|nhung|toan the) ", r"^moi (co quan|don vi|to chuc|nganh|cap|dia phuong)\b",  # not "Môi trường"
    r"^(dia phuong|dia phuong lien quan|ca nhan, to chuc)\b",
    r"^(co quan|don vi|to chuc|doanh nghiep|dia phuong)\b.*\blien quan$",  # "Cơ quan, tổ chức, doanh nghiệp liên quan"
)
# The collective phrases that start a new piece after a separator ("Sở Tài chính và các cơ quan
# liên quan"); the others ("đơn vị liên quan" in "Các phòng, đơn vị liên quan") continue a name.
COLLECTIVE_STARTS: tuple[str, ...] = (
    r"^(cac|nhung|toan the) ", r"^(ubnd|uy ban nhan dan|chu tich ubnd|chu tich uy ban nhan dan) (cac|cap) ",
)

# Role notes: where a cell says what a body does rather than who it is. Recognised only in
# brackets, after a separator (",", "-", ":") or written in lower case right after a
# complete name, never inside a name ("Sở Xây dựng", "Phòng Tổng hợp").
ROLE_LEAD_PHRASES: tuple[str, ...] = ("chu tri", "cq chu tri", "co quan chu tri", "don vi chu tri")
ROLE_COORD_PHRASES: tuple[str, ...] = ("phoi hop", "cq phoi hop", "co quan phoi hop", "don vi phoi hop")
NOTE_PHRASES: tuple[str, ...] = (
    "chu tri", "phoi hop", "theo doi", "don doc", "tong hop", "huong dan", "kiem tra", "chu dong", "hoan thien",
    "xay dung", "tham muu", "thuc hien", "trien khai", "ra soat", "de xuat", "trinh", "bao cao",
    "thuong truc", "la co quan thuong truc", "co quan thuong truc", "dau moi", "lam dau moi", "giup",
    "cap nhat", "giam sat", "tiep nhan", "cung cap", "du thao", "tham dinh",
)

# Phrases that say in what capacity a body acts ("Bộ Công an theo chức năng, nhiệm vụ"): never part
# of a name, so in lower case they are a note after any body's name, complete or not.
SCOPE_PHRASES: tuple[str, ...] = (
    "theo chuc nang", "theo tham quyen", "theo linh vuc", "theo nhiem vu", "theo phan cong", "doi voi",
    "trong pham vi", "o trung uong", "o dia phuong",
)

# Full names that contain a separator and must stay whole (folded); the master's
# "Đơn vị" sheet adds its own names and aliases to these.
WHOLE_NAMES: tuple[str, ...] = (
    "van phong doan dbqh va hdnd tinh", "van phong doan dai bieu quoc hoi va hoi dong nhan dan tinh",
    "van phong doan dbqh, hdnd va ubnd tinh", "so lao dong, thuong binh va xa hoi",
    "so van hoa, the thao va du lich", "bo lao dong, thuong binh va xa hoi", "bo van hoa, the thao va du lich",
    "dai phat thanh va truyen hinh", "trung tam cong nghe tt va tnmt",
)

# The usual departments and bodies of a province: the test that no name is cut runs over these.
USUAL_BODIES: tuple[str, ...] = (
    "Sở Xây dựng", "Sở Tài chính", "Sở Nội vụ", "Sở Tư pháp", "Sở Kế hoạch và Đầu tư", "Sở Công Thương",
    "Sở Nông nghiệp và Phát triển nông thôn", "Sở Giao thông vận tải", "Sở Tài nguyên và Môi trường",
    "Sở Thông tin và Truyền thông", "Sở Lao động - Thương binh và Xã hội", "Sở Lao động, Thương binh và Xã hội",
    "Sở Văn hóa, Thể thao và Du lịch", "Sở Văn hóa và Thể thao", "Sở Du lịch", "Sở Khoa học và Công nghệ",
    "Sở Giáo dục và Đào tạo", "Sở Y tế", "Sở Ngoại vụ", "Thanh tra tỉnh", "Văn phòng UBND tỉnh",
    "Văn phòng Đoàn ĐBQH và HĐND tỉnh", "Ban Dân tộc", "Công an tỉnh", "Bộ Chỉ huy Quân sự tỉnh",
    "Bộ Chỉ huy Bộ đội Biên phòng tỉnh", "Cục Thuế tỉnh", "Cục Hải quan tỉnh", "Cục Thống kê tỉnh",
    "Kho bạc Nhà nước tỉnh", "Ngân hàng Nhà nước chi nhánh tỉnh", "Bảo hiểm xã hội tỉnh", "Đài Phát thanh và Truyền hình tỉnh",
    "Báo Lạng Sơn", "Tỉnh đoàn", "Hội Nông dân tỉnh", "Hội Liên hiệp Phụ nữ tỉnh", "Hội Cựu chiến binh tỉnh",
    "Liên đoàn Lao động tỉnh", "Ủy ban Mặt trận Tổ quốc Việt Nam tỉnh", "Ban Quản lý Khu kinh tế",
    "Trung tâm Phục vụ hành chính công tỉnh", "Phòng Tổng hợp", "Phòng Theo dõi thi hành pháp luật",
    "Phòng Xây dựng và kiểm tra văn bản", "Phòng Kiểm tra văn bản", "Văn phòng Đăng ký đất đai",
    "Trung tâm Công nghệ thông tin", "Chi cục Kiểm lâm", "Chi cục Thủy lợi", "Phòng Hướng dẫn nghiệp vụ",
    "Phòng Thực hiện chính sách", "Phòng Quản lý xây dựng", "Phòng Kinh tế, Hạ tầng và Đô thị",
    "Phòng Kinh tế và Hạ tầng", "Phòng Tài chính - Kế hoạch", "Phòng Tổ chức cán bộ", "Ban Chỉ đạo",
    "Phòng Triển khai dự án", "Phòng Thẩm định và Xây dựng", "Trung tâm Tư vấn và Dịch vụ",
)

# Reported states of a progress appendix → the master's statuses (folded text, first match wins).
PROGRESS_STATES: tuple[tuple[str, str], ...] = (
    # "Chưa hoàn thành" says neither "not started" nor "in progress": left unmapped and reported.
    (r"^(chua|khong) (thuc hien|trien khai|bat dau)", "not_started"),
    (r"^(da )?hoan thanh|^xong\b|^da (thuc hien|trien khai) xong|^da ban hanh", "done"),
    (r"^(dang|da va dang|tiep tuc) (trien khai|thuc hien|xay dung|hoan thien|du thao)", "in_progress"),
)
