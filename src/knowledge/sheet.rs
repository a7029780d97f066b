//! Spreadsheets as knowledge: the cells of an Excel workbook's or
//! OpenDocument spreadsheet's sheets (read by [`super::xlsx`] and
//! [`super::odf`]), or of a CSV or TSV file (read here), become Markdown
//! tables that the Markdown reader splits into a passage per row, each with
//! its header cells, so a sheet of questions and answers, a runbook or a
//! price list answers by the row. Each sheet of a workbook of several is a
//! section under its name; a sheet's first row with text is its header. A
//! workbook's passages are cited by their row, as the spreadsheet program
//! numbers them; a CSV file's by its line.

use std::collections::BTreeMap;

use super::Converted;
use super::escape;

/// Most cells with text a spreadsheet may have; most cells, empty ones too,
/// a document's tables may have.
const MAX_CELLS: usize = 1_000_000;
/// Most columns of a sheet read (the first that hold text): a row is one
/// passage, and a row of hundreds of cells answers nothing in particular.
pub(super) const MAX_COLUMNS: usize = 64;
/// Most bytes of text a spreadsheet's cells, or a document's tables, may hold
/// (a repeated, merged or shared text counts once for every cell showing it).
pub(super) const MAX_TEXT_BYTES: usize = 64 << 20;
/// Most cells a spreadsheet's tables may have, as rows times columns (empty
/// ones too: every row is written as wide as its sheet).
pub(super) const MAX_TABLE_CELLS: usize = 4_000_000;
/// Most fields on one line of a CSV or TSV file.
const MAX_FIELDS: usize = 100_000;

/// A sheet's cells with text: row → column → text, 1-based rows.
pub(super) type Grid = BTreeMap<u32, BTreeMap<u32, String>>;

/// A number as a person wrote it: whole numbers without a decimal point,
/// others without the last bits of binary floating point (0.1 + 0.2 is
/// 0.3 in a cell).
pub(super) fn number(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 1e15 {
        return format!("{}", f as i64);
    }
    if f.abs() >= 1e15 || f.abs() < 1e-6 {
        return format!("{f}");
    }
    let rounded = format!("{f:.10}");
    let trimmed = rounded.trim_end_matches('0').trim_end_matches('.');
    match trimmed {
        "" | "-" | "-0" => "0".to_string(),
        t => t.to_string(),
    }
}

/// A duration of `days` as hours, minutes and seconds ("36:30:00",
/// "-0:15:00").
pub(super) fn duration(days: f64) -> String {
    let seconds = (days * 86_400.0).round() as i64;
    let sign = if seconds < 0 { "-" } else { "" };
    let seconds = seconds.unsigned_abs();
    let (h, m, s) = (seconds / 3600, seconds / 60 % 60, seconds % 60);
    format!("{sign}{h}:{m:02}:{s:02}")
}

/// The cells and bytes of text a spreadsheet, or a document's tables, have
/// cost so far.
#[derive(Default)]
pub(super) struct Spent {
    pub cells: usize,
    pub bytes: usize,
}

impl Spent {
    /// Refuses a spreadsheet over the limits.
    pub fn check(&self) -> Result<(), String> {
        self.within(
            || format!("a spreadsheet of more than {MAX_CELLS} cells: not read"),
            |mb| format!("a spreadsheet of over {mb} MB of text in its cells: not read"),
        )
    }

    /// Charges `cells` more cells holding `bytes` bytes of text to a document
    /// (`what`: "Word document"), refusing it over the limits as one whose
    /// `held` ("tables") hold too much. A small file can show one large text
    /// in thousands of places (a cell merged down a column, a diagram in many
    /// frames), so each copy is charged, before it is made.
    pub fn charge(
        &mut self,
        (cells, bytes): (usize, usize),
        what: &str,
        held: &str,
    ) -> Result<(), String> {
        self.cells += cells;
        self.bytes += bytes;
        self.within(
            || format!("a {what} of more than {MAX_CELLS} cells in its {held}: not read"),
            |mb| format!("a {what} of over {mb} MB of text in its {held}: not read"),
        )
    }

    /// The limits, each refusal worded by its caller (`text` is given the
    /// limit in MB).
    fn within(
        &self,
        cells: impl FnOnce() -> String,
        text: impl FnOnce(usize) -> String,
    ) -> Result<(), String> {
        if self.cells > MAX_CELLS {
            return Err(cells());
        }
        if self.bytes > MAX_TEXT_BYTES {
            return Err(text(MAX_TEXT_BYTES >> 20));
        }
        Ok(())
    }
}

/// Writes one sheet's rows, under `heading` when it has one: its header (the
/// first row with two cells of text, when it has two columns; rows above it,
/// such as a title, are lines of text) and every row after it as a table's.
/// Each row is written as wide as the sheet, so a sheet costs `budget` its
/// rows times its columns.
pub(super) fn sheet(
    grid: &Grid,
    heading: Option<&str>,
    out: &mut Converted,
    budget: &mut usize,
) -> Result<(), String> {
    let mut columns: Vec<u32> = grid.values().flat_map(|r| r.keys().copied()).collect();
    columns.sort_unstable();
    columns.dedup();
    columns.truncate(MAX_COLUMNS);
    *budget = (budget.checked_sub(grid.len() * columns.len())).ok_or_else(|| {
        format!(
            "a spreadsheet of more than {MAX_TABLE_CELLS} cells as rows times columns: not read"
        )
    })?;
    let rows: Vec<(u32, Vec<String>)> = grid
        .iter()
        .map(|(&r, cells)| {
            let shown = columns
                .iter()
                .map(|c| cells.get(c).map_or(String::new(), |t| cell(t)));
            (r, shown.collect::<Vec<_>>())
        })
        .filter(|(_, cells)| cells.iter().any(|c| !c.is_empty()))
        .collect();
    let Some(&(first, _)) = rows.first() else {
        return Ok(());
    };
    let mut push = |line: &str, row: u32| {
        out.text.push_str(line);
        out.text.push('\n');
        out.pages.push(row as usize);
    };
    if let Some(name) = heading {
        push("", first);
        // A name on one line: a line break in it would split the heading.
        push(&format!("## {}", cell(name)), first);
        push("", first);
    }
    let filled = |cells: &[String]| cells.iter().filter(|c| !c.is_empty()).count();
    let header = match columns.len() {
        1 => 0,
        _ => rows.iter().position(|(_, c)| filled(c) >= 2).unwrap_or(0),
    };
    // A title above the header, or a header alone, is a line of text.
    let alone = rows.len() == header + 1;
    for (r, cells) in &rows[..header + usize::from(alone)] {
        let cells: Vec<&str> = cells
            .iter()
            .map(String::as_str)
            .filter(|c| !c.is_empty())
            .collect();
        push(&cells.join(" · "), *r);
        push("", *r);
    }
    if alone {
        return Ok(());
    }
    let line = |cells: &[String]| format!("| {} |", cells.join(" | "));
    let (head, r) = (&rows[header].1, rows[header].0);
    push(&line(head), r);
    push(&format!("|{}", " --- |".repeat(columns.len())), r);
    for (r, cells) in &rows[header + 1..] {
        push(&line(cells), *r);
    }
    push("", rows[rows.len() - 1].0);
    Ok(())
}

/// A cell's text as one table cell: on one line, nothing in it read as
/// Markdown (a `|` would end the cell).
fn cell(text: &str) -> String {
    let one_line: Vec<&str> = text.split_whitespace().collect();
    escape(&one_line.join(" "))
}

/// The Markdown of a CSV file, with the line each of its lines comes from.
/// Its cells are parted as its first line parts them: by `;` when that has
/// more semicolons than commas (a spreadsheet saved where a comma is the
/// decimal point: Excel in Germany, France, Brazil…), by tabs when more of
/// those, else by commas; Excel's `sep=;` line says which, and is no row.
pub(crate) fn csv(bytes: &[u8]) -> Result<Converted, String> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let first_end = bytes
        .iter()
        .position(|&b| b == b'\n')
        .unwrap_or(bytes.len());
    let first = &bytes[..first_end];
    if let Some(&sep) = first.strip_prefix(b"sep=").and_then(|s| s.first()) {
        // The line stays, empty, so every row keeps its line.
        let mut rest = b"\n".to_vec();
        rest.extend_from_slice(bytes.get(first_end + 1..).unwrap_or_default());
        return delimited(&rest, sep);
    }
    let (mut counts, mut quoted) = ([0usize; 3], false);
    for &b in first.iter().take(MAX_FIELDS) {
        match b {
            b'"' => quoted = !quoted,
            _ if quoted => {}
            b',' => counts[0] += 1,
            b';' => counts[1] += 1,
            b'\t' => counts[2] += 1,
            _ => {}
        }
    }
    let delimiter = match counts {
        [c, s, t] if t > c && t > s => b'\t',
        [c, s, _] if s > c => b';',
        _ => b',',
    };
    delimited(bytes, delimiter)
}

/// The Markdown of a CSV (`delimiter` `,`) or TSV (`\t`) file, with the line
/// each of its lines comes from.
pub(crate) fn delimited(bytes: &[u8], delimiter: u8) -> Result<Converted, String> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    // The csv reader keeps a record's field ends, 8 bytes each: a line of
    // forty million commas took 1.6 GB.
    let (mut fields, mut quoted) = (0, false);
    for &b in bytes {
        match b {
            b'"' => quoted = !quoted,
            _ if quoted => {}
            b'\n' | b'\r' => fields = 0,
            _ if b == delimiter => fields += 1,
            _ => {}
        }
        if fields > MAX_FIELDS {
            return Err(format!("a line of more than {MAX_FIELDS} fields: not read"));
        }
    }
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(bytes);
    let mut grid = Grid::new();
    let mut spent = Spent::default();
    let mut record = csv::ByteRecord::new();
    let (mut line, mut counted, mut last) = (1, 0, 0);
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => return Err(format!("not a delimited text file: {e}")),
        }
        // csv's own line count skips the line breaks inside quoted cells, and
        // a record's position is before the blank lines it skipped.
        let mut start = record
            .position()
            .map_or(0, |p| p.byte() as usize)
            .min(bytes.len());
        while matches!(bytes.get(start), Some(b'\n' | b'\r')) {
            start += 1;
        }
        // A line ends at `\n`, or at a `\r` alone (as old Mac programs wrote).
        let before = &bytes[counted.min(start)..start];
        let breaks = (before.iter().enumerate())
            .filter(|&(i, &b)| b == b'\n' || b == b'\r' && before.get(i + 1) != Some(&b'\n'))
            .count();
        // Two records are never one row, whatever their bytes say.
        line = (line + breaks).max(last + 1);
        last = line;
        counted = counted.max(start);
        let row = grid
            .entry(u32::try_from(line).unwrap_or(u32::MAX))
            .or_default();
        for (col, field) in record.iter().enumerate() {
            let text = String::from_utf8_lossy(field);
            let text = text.trim();
            if text.is_empty() {
                continue;
            }
            spent.cells += 1;
            spent.bytes += text.len();
            spent.check()?;
            row.insert(col as u32, text.to_string());
        }
    }
    let mut out = Converted::starting(String::new());
    let mut table_cells = MAX_TABLE_CELLS;
    sheet(&grid, None, &mut out, &mut table_cells)?;
    Ok(out)
}

/// A sheet [`written`] writes: its name, whether it is hidden, its cells and
/// its merged ranges.
pub type Sheet<'a> = (&'a str, bool, &'a [Cell<'a>], &'a [&'a str]);

const MAIN: &str = "http://schemas.openxmlformats.org/spreadsheetml/2006/main";
const RELS: &str = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";

/// A cell of a sheet [`written`] writes: its reference ("B2") and what it holds.
pub enum Cell<'a> {
    Text(&'a str, &'a str),
    Number(&'a str, f64),
    /// A number shown as a date (built-in format 14).
    Date(&'a str, f64),
}

/// An Excel workbook of `sheets`, each (name, hidden, cells, merged ranges
/// such as "A2:A4"), titled `title` when it is not empty: what tests read (a
/// real workbook, as a spreadsheet program zips it).
pub fn written(sheets: &[Sheet<'_>], title: &str) -> Vec<u8> {
    let mut listed = String::new();
    let mut rels = String::new();
    let mut parts: Vec<(String, String)> = Vec::new();
    for (i, (name, hidden, cells, merged)) in sheets.iter().enumerate() {
        let n = i + 1;
        let state = if *hidden { r#" state="hidden""# } else { "" };
        listed.push_str(&format!(
            r#"<sheet name="{name}" sheetId="{n}"{state} r:id="rId{n}"/>"#
        ));
        rels.push_str(&format!(
            r#"<Relationship Id="rId{n}" Type="{RELS}/worksheet" Target="worksheets/sheet{n}.xml"/>"#
        ));
        parts.push((
            format!("xl/worksheets/sheet{n}.xml"),
            sheet_xml(cells, merged),
        ));
    }
    parts.push((
        "xl/workbook.xml".into(),
        format!(
            r#"<workbook xmlns="{MAIN}" xmlns:r="{RELS}"><sheets>{listed}</sheets></workbook>"#
        ),
    ));
    parts.push((
        "xl/_rels/workbook.xml.rels".into(),
        format!(
            r#"<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">{rels}</Relationships>"#
        ),
    ));
    parts.push((
        "_rels/.rels".into(),
        format!(
            r#"<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="{RELS}/officeDocument" Target="xl/workbook.xml"/></Relationships>"#
        ),
    ));
    parts.push((
        "xl/styles.xml".into(),
        format!(
            r#"<styleSheet xmlns="{MAIN}"><cellXfs count="2"><xf numFmtId="0"/><xf numFmtId="14" applyNumberFormat="1"/></cellXfs></styleSheet>"#
        ),
    ));
    if !title.is_empty() {
        parts.push((
            "docProps/core.xml".into(),
            format!(r#"<cp:coreProperties xmlns:cp="c" xmlns:dc="d"><dc:title>{title}</dc:title></cp:coreProperties>"#),
        ));
    }
    let parts: Vec<(&str, &str)> = parts
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    super::zipped(&parts)
}

fn sheet_xml(cells: &[Cell<'_>], merged: &[&str]) -> String {
    let mut data = String::new();
    for c in cells {
        data.push_str(&match c {
            Cell::Text(r, t) => format!(r#"<c r="{r}" t="inlineStr"><is><t>{t}</t></is></c>"#),
            Cell::Number(r, v) => format!(r#"<c r="{r}"><v>{v}</v></c>"#),
            Cell::Date(r, v) => format!(r#"<c r="{r}" s="1"><v>{v}</v></c>"#),
        });
    }
    let merges: String = merged
        .iter()
        .map(|m| format!(r#"<mergeCell ref="{m}"/>"#))
        .collect();
    format!(
        r#"<worksheet xmlns="{MAIN}"><sheetData><row>{data}</row></sheetData><mergeCells>{merges}</mergeCells></worksheet>"#
    )
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// The lines of `c`'s text with the row (or line) each comes from.
    pub(in crate::knowledge) fn lines(c: &Converted) -> Vec<(usize, &str)> {
        assert_eq!(c.pages.len(), c.text.lines().count(), "a place per line");
        c.pages.iter().copied().zip(c.text.lines()).collect()
    }

    #[test]
    fn a_csv_file_is_a_table_whose_rows_keep_their_lines() {
        let text = "\u{feff}Question,Answer,Owner\n\
                    Where is the VPN guide?,\"On the wiki,\nunder IT\",Ops\n\
                    \n\
                    Who orders laptops?,Facilities\n\
                    ,,\n";
        let c = delimited(text.as_bytes(), b',').unwrap();
        assert_eq!(
            lines(&c),
            [
                (1, "| Question | Answer | Owner |"),
                (1, "| --- | --- | --- |"),
                // A quoted cell's line break is a space in its one line.
                (
                    2,
                    "| Where is the VPN guide? | On the wiki, under IT | Ops |"
                ),
                // Blank lines and empty records are no rows; a short record
                // leaves its last cells empty.
                (5, "| Who orders laptops? | Facilities |  |"),
                (5, ""),
            ]
        );
        let tsv = delimited(b"Key\tValue\nport\t8080\n", b'\t').unwrap();
        assert_eq!(lines(&tsv)[2], (2, "| port | 8080 |"));
        // A header alone is a line of text, not an empty table.
        let alone = delimited(b"Only, a header\n", b',').unwrap();
        assert_eq!(lines(&alone), [(1, "Only · a header"), (1, "")]);
    }

    #[test]
    fn a_csv_files_cells_are_parted_as_its_first_line_parts_them() {
        // (file, its second row as a table line, on that line)
        let cases: [(&str, &str, usize); 5] = [
            ("Dish,Price\nCrêpe,4.50\n", "| Crêpe | 4\\.50 |", 2),
            // Excel where a comma is the decimal point.
            ("Plat;Prix\nCrêpe;4,50\n", "| Crêpe | 4,50 |", 2),
            ("\"Plat, chaud\";Prix\nCrêpe;4,50\n", "| Crêpe | 4,50 |", 2),
            ("Dish\tPrice\nCrêpe\t4.50\n", "| Crêpe | 4\\.50 |", 2),
            // Excel's own line says which, and is no row: rows keep their lines.
            (
                "sep=;\r\nPlat;Prix\r\nCrêpe;4,50\r\n",
                "| Crêpe | 4,50 |",
                3,
            ),
        ];
        for (file, row, line) in cases {
            let c = csv(file.as_bytes()).unwrap();
            assert_eq!(lines(&c)[2], (line, row), "{file:?}");
        }
    }

    #[test]
    fn numbers_read_as_they_were_written() {
        for (value, shown) in [
            (3.0, "3"),
            (-42.0, "-42"),
            (0.1 + 0.2, "0.3"),
            (2.5, "2.5"),
            (1.0 / 3.0, "0.3333333333"),
            (1e20, "100000000000000000000"),
            (1.5e-9, "0.0000000015"),
            (-0.0000000001, "-0.0000000001"),
        ] {
            assert_eq!(number(value), shown, "{value}");
        }
        assert_eq!(duration(1.5), "36:00:00");
        assert_eq!(duration(0.25 + 30.0 / 86_400.0), "6:00:30");
    }
}
