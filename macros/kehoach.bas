Attribute VB_Name = "KeHoach"
' kehoach_xl: the four buttons of the plan-tracking master, run by Python on this PC.
' Needs Python with kehoach_xl and the xlwings add-in (VBA editor: Tools > References > xlwings)
' or the xlwings standalone VBA module in this workbook. See docs/excel-buttons.md.
' Import either this module or KeHoachMayChu (server), not both: the Sub names are the same.
Option Explicit

Sub KiemTra()
    RunPython "import kehoach_xl.buttons as b; b.kiem_tra()"
End Sub

Sub CapNhat()
    RunPython "import kehoach_xl.buttons as b; b.cap_nhat()"
End Sub

Sub TongHopBaoCaoDonVi()
    RunPython "import kehoach_xl.buttons as b; b.tong_hop_bao_cao_don_vi()"
End Sub

Sub LapBaoCaoGiaoBan()
    RunPython "import kehoach_xl.buttons as b; b.lap_bao_cao_giao_ban()"
End Sub


' Run once (Alt+F8 > TaoNutBam) to place the four buttons on the active sheet,
' starting at the selected cell. Running it again replaces them.
Sub TaoNutBam()
    Dim x As Double, y As Double
    x = ActiveCell.Left: y = ActiveCell.Top
    ThemNut "KiemTra", "Ki" & ChrW(7875) & "m tra", x + 0, y
    ThemNut "CapNhat", "C" & ChrW(7853) & "p nh" & ChrW(7853) & "t", x + 180, y
    ThemNut "TongHopBaoCaoDonVi", "T" & ChrW(7893) & "ng h" & ChrW(7907) & "p b" & ChrW(225) & "o c" & ChrW(225) & "o " & ChrW(273) & ChrW(417) & "n v" & ChrW(7883), x + 360, y
    ThemNut "LapBaoCaoGiaoBan", "L" & ChrW(7853) & "p b" & ChrW(225) & "o c" & ChrW(225) & "o giao ban", x + 540, y
End Sub

' Captions are built with ChrW so this file stays ASCII (the VBA editor reads .bas
' files in the PC's ANSI code page, which cannot hold Vietnamese letters).
Private Sub ThemNut(macroName As String, caption As String, x As Double, y As Double)
    Dim ws As Worksheet, shp As Shape
    Set ws = ActiveSheet
    On Error Resume Next
    ws.Shapes("kehoach_" & macroName).Delete
    On Error GoTo 0
    Set shp = ws.Shapes.AddShape(msoShapeRoundedRectangle, x, y, 170, 30)
    shp.Name = "kehoach_" & macroName
    shp.Placement = xlFreeFloating
    shp.Fill.ForeColor.RGB = RGB(31, 78, 120)
    shp.Line.Visible = msoFalse
    With shp.TextFrame2
        .TextRange.Text = caption
        .TextRange.Font.Name = "Times New Roman"
        .TextRange.Font.Size = 12
        .TextRange.Font.Bold = msoTrue
        .TextRange.Font.Fill.ForeColor.RGB = RGB(255, 255, 255)
        .TextRange.ParagraphFormat.Alignment = msoAlignCenter
        .VerticalAnchor = msoAnchorMiddle
    End With
    shp.OnAction = "'" & ThisWorkbook.Name & "'!" & macroName
End Sub
