"""Export files: header on open, rendered chunks appended (CSV, JSON Lines) or one sheet (XLSX), rows counted."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from pathlib import Path

import numpy as np

from clientele_demo.context import Context
from clientele_demo.defects import ENTITY_DEFECTS
from clientele_demo.fields import ID_COLUMNS, RENDERERS
from clientele_demo.layouts import FILE_SUFFIX
from clientele_demo.manifest import DemoFile
from clientele_demo.render import Field, field_strings, render_csv, render_jsonl
from clientele_demo.sampling import Table, size

RENDER_ROWS = 250_000  # rows rendered at once: bounds the memory of the byte matrices


class Export:
    """One output file: header on open, rendered chunks appended, rows and defects counted."""

    def __init__(self, out_dir: Path, name: str, entity: str, purpose: str, ctx: Context):
        layout = ctx.layout
        self.entity = entity
        self.ctx = ctx
        self.file_format = layout.formats.get(entity, "csv")
        self.encoding = "xlsx" if self.file_format == "xlsx" else layout.encodings.get(entity, layout.default_encoding)
        self.value_encoding = "utf-8" if self.encoding in ("utf-8-sig", "xlsx") else self.encoding
        header_map = ctx.profile.entities[entity].header_to_column
        self.headers = list(header_map)
        self.columns = [header_map[h] for h in self.headers]
        self.record = DemoFile(
            name=f"{name}.{FILE_SUFFIX[self.file_format]}",
            entity=entity,
            file_format=self.file_format,
            encoding=self.encoding,
            purpose=purpose,
        )
        self.path = out_dir / self.record.name
        self._handle = None
        if self.file_format != "xlsx":
            self._handle = open(self.path, "wb")  # noqa: SIM115 - closed in close()
            if self.encoding == "utf-8-sig":
                self._handle.write(b"\xef\xbb\xbf")
            if self.file_format == "csv":
                text = io.StringIO()
                csv.writer(text, lineterminator=layout.line_end.decode("ascii")).writerow(self.headers)
                self._handle.write(text.getvalue().encode(self.value_encoding))

    def _fields(self, table: Table) -> list[Field]:
        by_column = RENDERERS[self.entity](table, self.ctx, self.value_encoding)
        if "_blank" in table:
            id_field = by_column[ID_COLUMNS[self.entity]]
            blank = table["_blank"]
            id_field.null = blank if id_field.null is None else id_field.null | blank
            by_column[ENTITY_DEFECTS[self.entity][1]].pad_with_spaces(table["_spaces"])
        return [by_column[column] for column in self.columns]

    def write(self, table: Table, defects: dict[str, int] | None = None) -> None:
        n = size(table)
        for kind, count in (defects or {}).items():
            self.record.defects[kind] = self.record.defects.get(kind, 0) + count
        self.record.rows += n
        if self.file_format == "xlsx":
            self._write_xlsx(table)
            return
        for low in range(0, n, RENDER_ROWS):
            part = {key: values[low : low + RENDER_ROWS] for key, values in table.items()}
            fields = self._fields(part)
            if self.file_format == "jsonl":
                data = render_jsonl(self.headers, fields)
            else:
                width = part.get("_width", np.zeros(size(part), np.int64))
                data = render_csv(fields, width, self.ctx.layout.line_end)
            self._handle.write(data)

    def _write_xlsx(self, table: Table) -> None:
        import xlsxwriter

        fields = self._fields(table)
        columns = [field_strings(f, "utf-8") for f in fields]
        money_columns = {i for i, f in enumerate(fields) if not f.is_text and self.columns[i] == "list_price"}
        prices = self.ctx.catalogue["list_cents"][table["product"]] / 100
        end = datetime.fromordinal(date(1970, 1, 1).toordinal() + self.ctx.end_day)
        workbook = xlsxwriter.Workbook(str(self.path), {"constant_memory": True})
        workbook.set_properties({"created": end})  # fixed: same arguments, same bytes
        number_format = workbook.add_format({"num_format": "#,##0.00" if self.ctx.layout.thousands else "0.00"})
        sheet = workbook.add_worksheet(self.ctx.profile.entities[self.entity].module or self.entity)
        sheet.write_row(0, 0, self.headers)
        for row in range(len(prices)):  # a few hundred catalogue rows
            for col, values in enumerate(columns):
                if col in money_columns:
                    sheet.write_number(row + 1, col, float(prices[row]), number_format)
                elif values[row] is not None:
                    sheet.write_string(row + 1, col, values[row])
        workbook.close()

    def close(self) -> DemoFile:
        if self._handle is not None:
            self._handle.close()
        return self.record
