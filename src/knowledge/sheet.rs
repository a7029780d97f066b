//! Spreadsheets as knowledge: an Excel workbook (`.xlsx`, `.xlsm`) or a CSV or
//! TSV file becomes Markdown whose tables the Markdown reader splits into a
//! passage per row, each with its header cells, so a sheet of questions and
//! answers, a runbook or a price list answers by the row. Each sheet of a
//! workbook of several is a section under its name; a sheet's first row with
//! text is its header. A workbook's passages are cited by their row, as the
//! spreadsheet program numbers them; a CSV file's by its line. Hidden sheets
//! and chart sheets are left out; a merged cell's text stands in every cell
//! it covers, so a label merged down a group of rows is known to each.

use std::collections::BTreeMap;
use std::io::{Cursor, Write};

use calamine::{DataRef, Dimensions, Reader, SheetType, SheetVisible, Xlsx};

use super::Converted;
use super::docx::{escape, front_matter};

/// What a workbook is called in its problems.
const WORKBOOK: &str = "Excel workbook";
/// Most bytes a workbook's parts may unpack to, all together: calamine
/// reads its shared strings whole, and a few kilobytes can unpack to
/// gigabytes.
const MAX_WORKBOOK_BYTES: u64 = 64 << 20;
/// Most cells with text a spreadsheet may have.
const MAX_CELLS: usize = 1_000_000;
/// Most columns of a sheet read (the first that hold text): a row is one
/// passage, and a row of hundreds of cells answers nothing in particular.
const MAX_COLUMNS: usize = 64;
/// Titles Excel gives a workbook nobody named.
const UNTITLED: &[&str] = &["Book1", "Workbook"];

/// A sheet's cells with text: row → column → text, 1-based rows.
pub(super) type Grid = BTreeMap<u32, BTreeMap<u32, String>>;

/// The Markdown of an Excel workbook, with the row of each of its lines.
pub(crate) fn workbook(bytes: &[u8]) -> Result<Converted, String> {
    // Excel keeps a workbook with a password to open it (and old `.xls`
    // files) in a compound file, not a zip.
    if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
        return Err(format!(
            "an encrypted (password-protected) {WORKBOOK}, or an .xls file named .xlsx: not read"
        ));
    }
    unpacked_size(bytes, MAX_WORKBOOK_BYTES)?;
    let mut book: Xlsx<_> =
        Xlsx::new(Cursor::new(bytes)).map_err(|e| format!("not an {WORKBOOK}: {e}"))?;
    let sheets: Vec<String> = (book.sheets_metadata().iter())
        .filter(|s| s.typ == SheetType::WorkSheet && s.visible == SheetVisible::Visible)
        .map(|s| s.name.clone())
        .collect();
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| e.to_string())?;
    let core = super::docx::part(&mut zip, "docProps/core.xml", WORKBOOK)?.unwrap_or_default();
    let mut out = Converted {
        text: front_matter(&core, UNTITLED),
        pages: Vec::new(),
        unread: Vec::new(),
    };
    out.pages = vec![1; out.text.matches('\n').count()];
    let mut cells = 0;
    for name in &sheets {
        let mut grid = cells_of(&mut book, name, &mut cells)?;
        // A broken list of merged cells loses only the merging.
        if let Ok(merged) = book.merge_cells_by_sheet_name(name) {
            spread_merged(&mut grid, &merged);
        }
        let heading = (sheets.len() > 1).then_some(name.as_str());
        sheet(&grid, heading, &mut out);
    }
    Ok(out)
}

/// Refuses a workbook whose parts unpack to more than `most` bytes (the
/// sizes its archive declares, which the unpacking holds it to).
fn unpacked_size(bytes: &[u8], most: u64) -> Result<(), String> {
    let mut zip =
        zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| format!("not an {WORKBOOK}: {e}"))?;
    let mut total: u64 = 0;
    for i in 0..zip.len() {
        let entry = zip
            .by_index_raw(i)
            .map_err(|e| format!("not an {WORKBOOK}: {e}"))?;
        total = total.saturating_add(entry.size());
    }
    if total > most {
        let mb = most >> 20;
        return Err(format!("a workbook that unpacks to over {mb} MB: not read"));
    }
    Ok(())
}

/// The cells with text of the sheet `name`, counted into `cells`.
fn cells_of(book: &mut Xlsx<Cursor<&[u8]>>, name: &str, cells: &mut usize) -> Result<Grid, String> {
    let mut grid = Grid::new();
    let mut reader = book
        .worksheet_cells_reader(name)
        .map_err(|e| format!("not an {WORKBOOK}: sheet {name}: {e}"))?;
    while let Some(cell) = reader
        .next_cell()
        .map_err(|e| format!("not an {WORKBOOK}: sheet {name}: {e}"))?
    {
        let Some(text) = shown(cell.get_value()) else {
            continue;
        };
        *cells += 1;
        if *cells > MAX_CELLS {
            return Err(format!(
                "a spreadsheet of more than {MAX_CELLS} cells: not read"
            ));
        }
        let (row, col) = cell.get_position();
        let row = row.saturating_add(1);
        grid.entry(row).or_default().insert(col, text);
    }
    Ok(grid)
}

/// A cell's text as the spreadsheet shows it (near enough: numbers without
/// their display format, dates as ISO dates), or `None` when it shows none.
fn shown(value: &DataRef<'_>) -> Option<String> {
    let text = match value {
        DataRef::Empty | DataRef::Error(_) => return None,
        DataRef::String(s) => s.clone(),
        DataRef::SharedString(s) => s.to_string(),
        DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => s.clone(),
        DataRef::Int(n) => n.to_string(),
        DataRef::Float(f) => number(*f),
        DataRef::Bool(b) => if *b { "TRUE" } else { "FALSE" }.to_string(),
        DataRef::DateTime(d) if d.is_duration() => duration(d.as_f64()),
        DataRef::DateTime(d) => {
            let (y, mo, day, h, mi, _, _) = d.to_ymd_hms_milli();
            match (d.as_f64() < 1.0, h == 0 && mi == 0) {
                (true, _) => format!("{h:02}:{mi:02}"),
                (false, true) => format!("{y:04}-{mo:02}-{day:02}"),
                (false, false) => format!("{y:04}-{mo:02}-{day:02} {h:02}:{mi:02}"),
            }
        }
    };
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_string())
}

/// A number as a person wrote it: whole numbers without a decimal point,
/// others without the last bits of binary floating point (0.1 + 0.2 is
/// 0.3 in a cell).
fn number(f: f64) -> String {
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

/// A duration of `days` as hours, minutes and seconds ("36:30:00").
fn duration(days: f64) -> String {
    let seconds = (days * 86_400.0).round() as i64;
    let (h, m, s) = (seconds / 3600, seconds / 60 % 60, seconds % 60);
    format!("{h}:{m:02}:{s:02}")
}

/// Gives every cell a merged region covers its first cell's text, in the
/// rows that hold text: a region may name a million rows, of which only those
/// are read.
fn spread_merged(grid: &mut Grid, regions: &[Dimensions]) {
    for d in regions {
        let ((r0, c0), (r1, c1)) = (d.start, d.end);
        let Some(text) = grid.get(&(r0 + 1)).and_then(|r| r.get(&c0)).cloned() else {
            continue;
        };
        let rows: Vec<u32> = grid
            .range(r0 + 1..=r1.saturating_add(1))
            .map(|(&r, _)| r)
            .collect();
        for r in rows {
            let row = grid.entry(r).or_default();
            let width = c1.saturating_sub(c0).min(MAX_COLUMNS as u32);
            for c in c0..=c0 + width {
                row.entry(c).or_insert_with(|| text.clone());
            }
        }
    }
}

/// Writes one sheet's rows, under `heading` when it has one: its first row
/// as a table's header, every other as a row of it.
pub(super) fn sheet(grid: &Grid, heading: Option<&str>, out: &mut Converted) {
    let mut columns: Vec<u32> = grid.values().flat_map(|r| r.keys().copied()).collect();
    columns.sort_unstable();
    columns.dedup();
    columns.truncate(MAX_COLUMNS);
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
        return;
    };
    let mut push = |line: &str, row: u32| {
        out.text.push_str(line);
        out.text.push('\n');
        out.pages.push(row as usize);
    };
    if let Some(name) = heading {
        push("", first);
        push(&format!("## {}", escape(name)), first);
        push("", first);
    }
    if rows.len() == 1 {
        // A header alone makes no table: its cells are a line of text.
        let cells: Vec<&str> = rows[0]
            .1
            .iter()
            .map(String::as_str)
            .filter(|c| !c.is_empty())
            .collect();
        push(&cells.join(" · "), first);
        push("", first);
        return;
    }
    let line = |cells: &[String]| format!("| {} |", cells.join(" | "));
    push(&line(&rows[0].1), first);
    push(&format!("|{}", " --- |".repeat(columns.len())), first);
    for (r, cells) in &rows[1..] {
        push(&line(cells), *r);
    }
    push("", rows[rows.len() - 1].0);
}

/// A cell's text as one table cell: on one line, nothing in it read as
/// Markdown (a `|` would end the cell).
fn cell(text: &str) -> String {
    let one_line: Vec<&str> = text.split_whitespace().collect();
    escape(&one_line.join(" "))
}

/// The Markdown of a CSV (`delimiter` `,`) or TSV (`\t`) file, with the line
/// each of its lines comes from.
pub(crate) fn delimited(bytes: &[u8], delimiter: u8) -> Result<Converted, String> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(bytes);
    let mut grid = Grid::new();
    let mut cells = 0;
    let mut record = csv::ByteRecord::new();
    let (mut line, mut counted) = (1, 0);
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
        line += bytes[counted.min(start)..start]
            .iter()
            .filter(|&&b| b == b'\n')
            .count();
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
            cells += 1;
            if cells > MAX_CELLS {
                return Err(format!(
                    "a spreadsheet of more than {MAX_CELLS} cells: not read"
                ));
            }
            row.insert(col as u32, text.to_string());
        }
    }
    let mut out = Converted {
        text: String::new(),
        pages: Vec::new(),
        unread: Vec::new(),
    };
    sheet(&grid, None, &mut out);
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
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for (name, text) in &parts {
        let options = zip::write::SimpleFileOptions::default();
        zip.start_file(name.as_str(), options)
            .expect("a zip in memory");
        zip.write_all(text.as_bytes()).expect("a zip in memory");
    }
    zip.finish().expect("a zip in memory").into_inner()
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
mod tests {
    use super::*;
    use Cell::*;

    /// The lines of `c`'s text with the row (or line) each comes from.
    fn lines(c: &Converted) -> Vec<(usize, &str)> {
        assert_eq!(c.pages.len(), c.text.lines().count(), "a place per line");
        c.pages.iter().copied().zip(c.text.lines()).collect()
    }

    #[test]
    fn a_workbooks_visible_sheets_are_tables_whose_lines_keep_their_rows() {
        let prices: &[Cell<'_>] = &[
            Text("A1", "Item"),
            Text("B1", "Price"),
            Text("C1", "Since"),
            Text("A3", "Desk lamp"),
            Number("B3", 0.1 + 0.2),
            Date("C3", 45839.0),
            Text("A4", "Chair | swivel"),
            Number("B4", 120.0),
        ];
        let teams: &[Cell<'_>] = &[
            Text("B2", "Team"),
            Text("C2", "Room"),
            Text("B3", "Support"),
            Text("C3", "3.1"),
            Text("C4", "3.2"),
            Text("XFD1048576", "far corner"),
        ];
        let secret: &[Cell<'_>] = &[Text("A1", "Password"), Text("A2", "hunter2")];
        let bytes = written(
            &[
                ("Prices", false, prices, &[]),
                ("Teams", false, teams, &["B3:B4"]),
                ("Secret", true, secret, &[]),
            ],
            "Office book",
        );
        let c = super::workbook(&bytes).unwrap();
        let l = lines(&c);
        let front = l.iter().take_while(|(_, t)| !t.starts_with("## ")).count() - 1;
        assert_eq!(
            l[front..],
            [
                (1, ""),
                (1, "## Prices"),
                (1, ""),
                (1, "| Item | Price | Since |"),
                (1, "| --- | --- | --- |"),
                // Markdown's escapes, which the reader takes off again.
                (3, r"| Desk lamp | 0\.3 | 2025\-07\-01 |"),
                (4, r"| Chair \| swivel | 120 |  |"),
                (4, ""),
                (2, ""),
                (2, "## Teams"),
                (2, ""),
                (2, "| Team | Room |  |"),
                (2, "| --- | --- | --- |"),
                (3, r"| Support | 3\.1 |  |"),
                // The merged label stands in each row it covers.
                (4, r"| Support | 3\.2 |  |"),
                // A cell at the sheet's far corner is one more row, not a
                // grid of a billion empty cells.
                (1048576, "|  |  | far corner |"),
                (1048576, ""),
            ]
        );
        assert!(c.text.contains("title: \"Office book\""), "{}", c.text);
        assert!(!c.text.contains("hunter2"), "a hidden sheet is left out");
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

    #[test]
    fn a_broken_or_swollen_workbook_is_refused() {
        assert!(
            super::workbook(b"PK\x03\x04 truncated")
                .unwrap_err()
                .starts_with("not an Excel workbook")
        );
        assert!(super::workbook(b"not a zip at all").is_err());
        let compound = super::workbook(b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1rest").unwrap_err();
        assert!(compound.starts_with("an encrypted"), "{compound}");
        let bytes = written(
            &[("S", false, &[Text("A1", &"word ".repeat(1000))], &[])],
            "",
        );
        assert!(unpacked_size(&bytes, MAX_WORKBOOK_BYTES).is_ok());
        let refused = unpacked_size(&bytes, 4 << 10).unwrap_err();
        assert!(refused.contains("unpacks to over"), "{refused}");
    }
}
