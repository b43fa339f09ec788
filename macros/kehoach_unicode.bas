Attribute VB_Name = "KeHoachUnicode"
' kehoach_xl: Unicode message boxes and row appends for the button server's answers.
' VBA's MsgBox converts text through the PC's ANSI code page, so Vietnamese letters show as "?"
' on a PC whose language for non-Unicode programs is not Vietnamese; MessageBoxW takes the
' UTF-16 string VBA already holds. The server answers with runMacro actions that xlwings'
' VBA client replays as Application.Run "KeHoachThongBao", wb, prompt, title, mode (and
' "KeHoachThemDong", wb, sheet, rows for the log and history sheets, whose values are not sent).
' Import this module together with KeHoachMayChu (macros\kehoach_remote.bas).
Option Explicit

#If VBA7 Then
Private Declare PtrSafe Function MessageBoxW Lib "user32" (ByVal hWnd As LongPtr, ByVal lpText As LongPtr, _
    ByVal lpCaption As LongPtr, ByVal uType As Long) As Long
#Else
Private Declare Function MessageBoxW Lib "user32" (ByVal hWnd As Long, ByVal lpText As Long, _
    ByVal lpCaption As Long, ByVal uType As Long) As Long
#End If

Public Const KEHOACH_MB_OK As Long = 0
Public Const KEHOACH_MB_YESNO As Long = 4
Public Const KEHOACH_MB_ICONQUESTION As Long = 32
Public Const KEHOACH_MB_ICONWARNING As Long = 48
Public Const KEHOACH_MB_ICONINFORMATION As Long = 64
Public Const KEHOACH_IDYES As Long = 6

' A Unicode message box over Excel's window; returns the button pressed (6 = Yes).
Public Function KeHoachHoi(prompt As String, title As String, style As Long) As Long
    KeHoachHoi = MessageBoxW(Application.hWnd, StrPtr(prompt), StrPtr(title), style)
End Function

' The server's message (instead of xlwings' "alert" action, which uses MsgBox).
Public Sub KeHoachThongBao(wb As Workbook, prompt As String, title As String, mode As String)
    If mode = "critical" Then
        KeHoachHoi prompt, title, KEHOACH_MB_OK + KEHOACH_MB_ICONWARNING
    Else
        KeHoachHoi prompt, title, KEHOACH_MB_OK + KEHOACH_MB_ICONINFORMATION
    End If
End Sub

' Rows for a sheet whose values were not sent (the log, the history): only Excel knows where its
' last row is. They go right under the sheet's first Excel Table, which is grown over them.
' rows is the JSON array of arrays as xlwings' JSON parser gives it (a Collection of Collections).
Public Sub KeHoachThemDong(wb As Workbook, sheetName As String, rows As Collection)
    Dim ws As Worksheet, lo As ListObject, r As Variant, target As Range
    Dim data() As Variant, nCols As Long, i As Long, j As Long
    If rows.Count = 0 Then Exit Sub
    For Each r In rows
        If r.Count > nCols Then nCols = r.Count
    Next
    If nCols = 0 Then Exit Sub
    ReDim data(1 To rows.Count, 1 To nCols)
    For Each r In rows
        i = i + 1
        For j = 1 To r.Count
            If Not IsNull(r(j)) Then data(i, j) = r(j)
        Next
    Next
    Set ws = wb.Worksheets(sheetName)
    If ws.ListObjects.Count > 0 Then
        Set lo = ws.ListObjects(1)
        Set target = lo.Range.Cells(lo.Range.Rows.Count + 1, 1).Resize(rows.Count, nCols)
        target.Value = data
        If nCols < lo.Range.Columns.Count Then nCols = lo.Range.Columns.Count
        lo.Resize lo.Range.Cells(1, 1).Resize(lo.Range.Rows.Count + rows.Count, nCols)
    Else
        With ws.UsedRange
            Set target = ws.Cells(.Row + .Rows.Count, 1).Resize(rows.Count, nCols)
        End With
        target.Value = data
    End If
End Sub
