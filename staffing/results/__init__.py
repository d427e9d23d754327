"""Run outputs: tidy tables as CSV / Parquet, the planners' workbook plan.xlsx, manifest.json.

- `tables`: the dtype schema every reader and writer shares, number formats, calendar columns;
- `files`: atomic single-file writers (CSV, Parquet, manifest.json);
- `workbook`, `dashboard`, `charts`: plan.xlsx (XlsxWriter);
- `load`: reading any format back into the same frames;
- `rundir`: run folders, built beside their destination and renamed into place;
- `export`: one format rebuilt from another.
"""

from .export import export_run
from .files import (atomic, have_pyarrow, json_default, require_pyarrow, write_manifest, write_table_csv,
                    write_table_parquet)
from .load import load, load_manifest
from .rundir import default_formats, new_run_dir, write_run
from .tables import (_STR_DTYPE, EXCEL_MAX_ROWS, MANIFEST_NAME, SCHEMA, SCHEMA_VERSION, WORKBOOK_NAME,
                     add_calendar, column_kinds, normalise_table, number_format, ordered)
from .workbook import (CHART_LEVELS, MANIFEST_SHEET, RESERVED_SHEETS, SHEET_TABLE, STAFFING_SHEET,
                       SUMMARY_SHEET, TABLE_SHEET, staffing_wide, write_workbook)

_ordered = ordered

__all__ = ["CHART_LEVELS", "EXCEL_MAX_ROWS", "MANIFEST_NAME", "MANIFEST_SHEET", "RESERVED_SHEETS", "SCHEMA",
           "SCHEMA_VERSION", "SHEET_TABLE", "STAFFING_SHEET", "SUMMARY_SHEET", "TABLE_SHEET", "WORKBOOK_NAME",
           "add_calendar", "atomic", "column_kinds", "default_formats", "export_run", "have_pyarrow",
           "json_default", "load", "load_manifest", "new_run_dir", "normalise_table", "number_format", "ordered",
           "require_pyarrow", "staffing_wide", "write_manifest", "write_run", "write_table_csv",
           "write_table_parquet", "write_workbook"]
