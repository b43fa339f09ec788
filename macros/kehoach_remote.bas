Attribute VB_Name = "KeHoachMayChu"
' kehoach_xl: the four buttons, run by the department's button server (kehoach-xl serve),
' for PCs with Excel but no Python. Needs the xlwings add-in or standalone module of the SAME
' xlwings version as the server. Set KEHOACH_URL to the server's address. The token comes from
' the PC's environment variable KEHOACH_SERVER_TOKEN, else from xlwings' AUTH setting.
' Import either this module or KeHoach (local Python), not both: the Sub names are the same.
' Needs the module KeHoachUnicode (macros\kehoach_unicode.bas) too: the server's messages and the
' merge's question are shown with MessageBoxW, so Vietnamese reads right on any Windows locale.
' The log and history sheets are not sent (exclude): a year of use would pass the server's request
' limit; the server reads them from the master file it serves and sends their new rows back.
Option Explicit

Private Const KEHOACH_URL As String = "http://127.0.0.1:8765/kehoach"
Private Const KEHOACH_TIMEOUT_MS As Long = 180000

Sub KiemTra()
    RunRemotePython KEHOACH_URL & "/kiem_tra", auth:=KehoachAuth(), exclude:=KehoachExclude(), timeout:=KEHOACH_TIMEOUT_MS
End Sub

Sub CapNhat()
    RunRemotePython KEHOACH_URL & "/cap_nhat", auth:=KehoachAuth(), exclude:=KehoachExclude(), timeout:=KEHOACH_TIMEOUT_MS
End Sub

Sub TongHopBaoCaoDonVi()
    ' A merge always asks first (it writes the units' reports into the open book); the server
    ' refuses the merge route without xac_nhan=1.
    Dim cap As String
    cap = "T" & ChrW(7893) & "ng h" & ChrW(7907) & "p b" & ChrW(225) & "o c" & ChrW(225) & "o " & ChrW(273) & ChrW(417) & "n v" & ChrW(7883)
    If KeHoachHoi(cap & " v" & ChrW(224) & "o s" & ChrW(7893) & " " & ChrW(273) & "ang m" & ChrW(7903) & "?", cap, _
                  KEHOACH_MB_YESNO + KEHOACH_MB_ICONQUESTION) <> KEHOACH_IDYES Then Exit Sub
    RunRemotePython KEHOACH_URL & "/tong_hop_bao_cao_don_vi?xac_nhan=1", auth:=KehoachAuth(), _
                    exclude:=KehoachExclude(), timeout:=KEHOACH_TIMEOUT_MS
End Sub

Sub LapBaoCaoGiaoBan()
    RunRemotePython KEHOACH_URL & "/lap_bao_cao_giao_ban", auth:=KehoachAuth(), exclude:=KehoachExclude(), timeout:=KEHOACH_TIMEOUT_MS
End Sub

' The sheets not sent to the server: the log ("Nhat ky") and the history ("Lich su").
Private Function KehoachExclude() As String
    KehoachExclude = "Nh" & ChrW(7853) & "t k" & ChrW(253) & "," & "L" & ChrW(7883) & "ch s" & ChrW(7917)
End Function

' The Authorization header: empty lets xlwings fall back to its AUTH setting.
Private Function KehoachAuth() As String
    KehoachAuth = Environ("KEHOACH_SERVER_TOKEN")
    If KehoachAuth <> "" Then KehoachAuth = "Bearer " & KehoachAuth
End Function

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
