"""Compatibility face for the workbook modules written by kehoach_xl 0.1.0 beside an .xlsm.

Those modules run ``from kehoach_xl.buttons import main``; the buttons now live in
:mod:`kehoach_xl.excel.buttons`. Running ``kehoach-xl xlsm`` again writes the new form.
"""

from kehoach_xl.excel.buttons import main

__all__ = ["main"]
