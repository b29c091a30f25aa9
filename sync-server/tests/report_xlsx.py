"""Reads an .xlsx export back with openpyxl and compares every cell with what was written.

Called by the openpyxl test in sync-server/src/report/xlsx.rs:

    python report_xlsx.py WORKBOOK.xlsx EXPECTED.json

EXPECTED.json is {"sheets": [{"name", "title", "header": [label, ...], "rows": [[{"kind", "value"}]]}]}
with kind one of text, int, real, percent, date ("YYYY-MM-DD") or empty. Each sheet must also
be set up to print: landscape on A4, one page wide, the header row repeated on every page and
the title in the page header. On success prints {"cells": N}, the number of cells compared;
otherwise every difference, and exits 1.
"""

import datetime
import json
import sys
import warnings

import openpyxl


def is_number(value):
    # A whole real (3.0) is stored as "3", which openpyxl reads as an int, as it does in any
    # Excel file: a number is a number, and what tells a rate is its format.
    return type(value) in (int, float)


def check_print_setup(worksheet, title, where, problems):
    setup = worksheet.page_setup
    found = {
        "orientation": setup.orientation,
        "paper size": int(setup.paperSize or 0),
        "pages wide": int(setup.fitToWidth if setup.fitToWidth is not None else 1),
        "pages tall": int(setup.fitToHeight if setup.fitToHeight is not None else 1),
        "fit to page": bool(worksheet.sheet_properties.pageSetUpPr.fitToPage),
        "repeated rows": (worksheet.print_title_rows or "").replace("$", ""),
        "page header": worksheet.oddHeader.center.text,
    }
    wanted = {
        "orientation": "landscape",
        "paper size": 9,
        "pages wide": 1,
        "pages tall": 0,
        "fit to page": True,
        "repeated rows": "1:1",
        "page header": title,
    }
    for key, want in wanted.items():
        if found[key] != want:
            problems.append(f"{where}: {key} {found[key]!r}, expected {want!r}")


def check_cell(cell, expected, where, problems):
    kind, want = expected["kind"], expected["value"]
    value = cell.value
    if kind == "text":
        ok = isinstance(value, str) and value == want
    elif kind == "int":
        ok = type(value) is int and value == want
    elif kind == "real":
        ok = is_number(value) and value == want and "%" not in cell.number_format
    elif kind == "percent":
        ok = is_number(value) and value == want and "%" in cell.number_format
    elif kind == "date":
        ok = (
            isinstance(value, datetime.datetime)
            and value == datetime.datetime.fromisoformat(want)
            and cell.is_date
        )
    elif kind == "empty":
        ok = value is None
    else:
        ok = False
    if not ok:
        problems.append(
            f"{where}: expected {kind} {want!r}, read {type(value).__name__} {value!r} "
            f"(format {cell.number_format!r})"
        )


def main():
    workbook_path, expected_path = sys.argv[1:3]
    with open(expected_path, encoding="utf-8") as file:
        expected = json.load(file)
    # openpyxl reports a malformed style sheet only as a warning.
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        workbook = openpyxl.load_workbook(workbook_path)

    problems = []
    names = [sheet["name"] for sheet in expected["sheets"]]
    if workbook.sheetnames != names:
        problems.append(f"sheet names {workbook.sheetnames!r}, expected {names!r}")
    cells = 0
    for sheet in expected["sheets"]:
        if sheet["name"] not in workbook.sheetnames:
            continue
        worksheet = workbook[sheet["name"]]
        where = sheet["name"]
        if worksheet.freeze_panes != "A2":
            problems.append(f"{where}: header not frozen ({worksheet.freeze_panes!r})")
        check_print_setup(worksheet, sheet["title"], where, problems)
        width = len(sheet["header"])
        height = 1 + len(sheet["rows"])
        if worksheet.max_column > width or worksheet.max_row > height:
            problems.append(
                f"{where}: {worksheet.max_row}×{worksheet.max_column} cells, "
                f"expected at most {height}×{width}"
            )
        for column, label in enumerate(sheet["header"], start=1):
            cell = worksheet.cell(row=1, column=column)
            cells += 1
            if cell.value != label or not cell.font.b:
                problems.append(
                    f"{where}!{cell.coordinate}: header {cell.value!r} "
                    f"(bold {cell.font.b}), expected bold {label!r}"
                )
            letter = cell.column_letter
            if not worksheet.column_dimensions[letter].width:
                problems.append(f"{where}: column {letter} has no width")
        for row_number, row in enumerate(sheet["rows"], start=2):
            for column, want in enumerate(row, start=1):
                cell = worksheet.cell(row=row_number, column=column)
                cells += 1
                check_cell(cell, want, f"{where}!{cell.coordinate}", problems)

    if problems:
        print("\n".join(problems))
        sys.exit(1)
    print(json.dumps({"cells": cells}))


if __name__ == "__main__":
    main()
