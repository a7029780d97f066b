//! Excel workbooks (`.xlsx`, `.xlsm`) → the cells of their visible sheets, in
//! the workbook's order, which [`super::sheet`] writes as tables. A cell shows
//! its shared or inline string, its formula's last value, TRUE or FALSE, or its
//! number: as a date when the cell's number format is a date's (the workbook's
//! 1900 or 1904 calendar), else as written. Error values show nothing. A cell
//! merged over others stands in each of them that holds text in its row.
//!
//! The archive is read as Word documents and decks are, within limits: at most
//! 64 MB of parts read in all (each part once), a million cells, 64 MB of cell
//! text (a shared string counts for every cell showing it), 10,000 merged
//! ranges and 1,000 sheets, so a small hostile file is a problem, never a
//! crash, a hang or gigabytes of memory.

use std::collections::{HashMap, HashSet};
use std::io::Cursor;

use roxmltree::Node;

use super::Converted;
use super::docx::{front_matter, parse, part};
use super::pptx::relationships;
use super::sheet::{self, Grid, Spent};

/// What a workbook is called in its problems.
const WORKBOOK: &str = "workbook";
/// SpreadsheetML's namespace.
const MAIN: &str = "http://schemas.openxmlformats.org/spreadsheetml/2006/main";
/// Relationships' namespace (a sheet's `r:id`).
const R: &str = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";
/// The same namespaces in Strict Office Open XML (ISO 29500 Strict), which
/// Excel can save.
const STRICT: &str = "http://purl.oclc.org/ooxml/spreadsheetml/main";
const STRICT_R: &str = "http://purl.oclc.org/ooxml/officeDocument/relationships";

/// Whether `n` is SpreadsheetML's element `name`, transitional or strict.
fn is(n: &Node<'_, '_>, name: &str) -> bool {
    n.tag_name().name() == name && matches!(n.tag_name().namespace(), Some(MAIN | STRICT))
}
/// Most bytes of parts read from one workbook.
const MAX_READ_BYTES: usize = 64 << 20;
/// Most sheets a workbook may list.
const MAX_SHEETS: usize = 1_000;
/// Most merged ranges read from one sheet.
const MAX_MERGED: usize = 10_000;
/// Most cells merged ranges may cover, in all.
const MAX_VISITS: usize = 4_000_000;
/// Excel's last row and column.
const LAST_ROW: u32 = 1_048_576;
const LAST_COLUMN: u32 = 16_384;
/// Titles Excel gives a workbook nobody named.
const UNTITLED: &[&str] = &["Book1", "Workbook"];

type Zip<'a> = zip::ZipArchive<Cursor<&'a [u8]>>;

/// The Markdown of an Excel workbook, with the row of each of its lines.
pub(crate) fn markdown(bytes: &[u8]) -> Result<Converted, String> {
    // Excel keeps a workbook with a password to open it (and old `.xls`
    // files) in a compound file, not a zip.
    if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
        return Err(format!(
            "an encrypted (password-protected) {WORKBOOK}, or an .xls file named .xlsx: not read"
        ));
    }
    let mut zip = Zip::new(Cursor::new(bytes)).map_err(|e| format!("not a {WORKBOOK}: {e}"))?;
    let mut book = Book {
        budget: MAX_READ_BYTES,
        spent: Spent::default(),
        visits: 0,
    };
    let root = relationships(&book.read(&mut zip, "_rels/.rels")?.unwrap_or_default(), "");
    let main = (root.iter())
        .find(|(_, _, kind)| kind.ends_with("/officeDocument"))
        .map_or("xl/workbook.xml".to_string(), |(_, target, _)| {
            target.clone()
        });
    let workbook = (book.read(&mut zip, &main)?)
        .ok_or_else(|| format!("not a {WORKBOOK}: it has no {main}"))?;
    let folder = main.rsplit_once('/').map_or("", |(f, _)| f);
    // A part beside the workbook, also when that is at the archive's root.
    let beside_main = |name: &str| match folder {
        "" => name.to_string(),
        f => format!("{f}/{name}"),
    };
    let rels_name = beside_main(&format!(
        "_rels/{}.rels",
        main.rsplit('/').next().unwrap_or("")
    ));
    let rels = relationships(&book.read(&mut zip, &rels_name)?.unwrap_or_default(), &main);
    let of_kind = |kind: &str| {
        rels.iter()
            .find(|r| r.2.ends_with(kind))
            .map(|r| r.1.clone())
    };
    // Where a workbook's relationships do not name them, the parts are where
    // Excel puts them.
    let beside = |kind: &str, name: &str| of_kind(kind).unwrap_or_else(|| beside_main(name));
    let strings = beside("/sharedStrings", "sharedStrings.xml");
    let strings = shared_strings(&book.read(&mut zip, &strings)?.unwrap_or_default())?;
    let styles = beside("/styles", "styles.xml");
    let styles = date_styles(&book.read(&mut zip, &styles)?.unwrap_or_default());
    let (sheets, date1904) = sheets(&workbook, &rels)?;
    let core = book
        .read(&mut zip, "docProps/core.xml")?
        .unwrap_or_default();
    let mut out = Converted::starting(front_matter(&core, UNTITLED));
    let shown = Shown {
        strings: &strings,
        styles: &styles,
        date1904,
    };
    let mut read = HashSet::new();
    let mut table_cells = sheet::MAX_TABLE_CELLS;
    for (name, target) in &sheets {
        // A part listed as two sheets is one sheet, read once.
        if !read.insert(target) {
            continue;
        }
        let Some(xml) = book.read(&mut zip, target)? else {
            continue;
        };
        let grid = book.grid(&xml, &shown)?;
        let heading = (sheets.len() > 1).then_some(name.as_str());
        sheet::sheet(&grid, heading, &mut out, &mut table_cells)?;
    }
    Ok(out)
}

/// What one workbook has cost so far, against its limits.
struct Book {
    /// Bytes of parts still to be read.
    budget: usize,
    /// Cells and bytes of their text so far.
    spent: Spent,
    /// Cells merged ranges have covered.
    visits: usize,
}

impl Book {
    /// The part `name`, if the workbook has it, charged to the budget.
    fn read(&mut self, zip: &mut Zip<'_>, name: &str) -> Result<Option<String>, String> {
        // Some tools on Windows zip `xl\workbook.xml`, or name a part in
        // another case than its relationship does (`SharedStrings.xml`).
        let found = match part(zip, name, WORKBOOK)? {
            Some(text) => Some(text),
            None => {
                let wanted = name.to_lowercase();
                let stored = (zip.file_names())
                    .filter_map(Result::ok)
                    .find(|f| f.replace('\\', "/").to_lowercase() == wanted)
                    .map(|f| f.into_owned());
                match stored {
                    Some(f) => part(zip, &f, WORKBOOK)?,
                    None => None,
                }
            }
        };
        let Some(text) = found else {
            return Ok(None);
        };
        self.budget = self.budget.checked_sub(text.len()).ok_or_else(|| {
            let mb = MAX_READ_BYTES >> 20;
            format!("a workbook whose parts unpack to over {mb} MB: not read")
        })?;
        Ok(Some(text))
    }

    /// Counts one more cell of `text`.
    fn count(&mut self, text: &str) -> Result<(), String> {
        self.spent.cells += 1;
        self.spent.bytes += text.len();
        self.spent.check()
    }

    /// Refuses a sheet whose merged ranges have covered too many cells.
    fn visited(&self) -> Result<(), String> {
        match self.visits > MAX_VISITS {
            true => Err(format!(
                "a sheet whose merged ranges cover more than {MAX_VISITS} cells: not read"
            )),
            false => Ok(()),
        }
    }

    /// A sheet part's cells with text, merged ranges spread.
    fn grid(&mut self, xml: &str, shown: &Shown<'_>) -> Result<Grid, String> {
        let doc = parse(xml, WORKBOOK)?;
        let mut grid = Grid::new();
        let data = doc.descendants().find(|n| is(n, "sheetData"));
        let mut r: u32 = 0;
        for row in data.iter().flat_map(|d| d.children()) {
            if !is(&row, "row") {
                continue;
            }
            r = row
                .attribute("r")
                .and_then(|n| n.parse().ok())
                .unwrap_or(r.saturating_add(1));
            let mut c: u32 = 0;
            for cell in row.children().filter(|n| is(n, "c")) {
                let at = cell.attribute("r").and_then(reference);
                c = at.map_or(c.saturating_add(1), |(_, col)| col);
                let r = at.map_or(r, |(row, _)| row);
                if r == 0 || r > LAST_ROW || c == 0 || c > LAST_COLUMN {
                    continue;
                }
                if let Some(text) = shown.cell(cell) {
                    self.count(&text)?;
                    grid.entry(r).or_default().insert(c - 1, text);
                }
            }
        }
        let merged = (doc.descendants())
            .filter(|n| is(n, "mergeCell"))
            .filter_map(|m| m.attribute("ref").and_then(range))
            .collect::<HashSet<_>>();
        if merged.len() > MAX_MERGED {
            return Err(format!(
                "a sheet of more than {MAX_MERGED} merged ranges: not read"
            ));
        }
        for region in merged {
            self.spread(&mut grid, region, region.1.0)?;
        }
        Ok(grid)
    }

    /// Gives the cells below a merged range's first cell its text, in the rows
    /// that hold text (a range may name a million rows, of which only those
    /// are read): a label merged down a group of rows is each row's. A range
    /// across columns says its text once.
    fn spread(
        &mut self,
        grid: &mut Grid,
        ((r0, c0), (_, _)): Range,
        r1: u32,
    ) -> Result<(), String> {
        // A range within one row (across columns) has no row below to fill.
        if r1 <= r0 {
            return Ok(());
        }
        // Every row visited counts, filled or not: ten thousand ranges over a
        // hundred thousand rows took minutes.
        self.visits += grid.range(r0 + 1..=r1).count();
        self.visited()?;
        let empty = (grid.range(r0 + 1..=r1)).any(|(_, row)| !row.contains_key(&(c0 - 1)));
        // The text is copied only when a cell below lacks it (a 30 MB cell
        // under ten thousand ranges was copied for each).
        let text = match grid.get(&r0).and_then(|r| r.get(&(c0 - 1))) {
            Some(text) if empty => text.clone(),
            _ => return Ok(()),
        };
        for (_, row) in grid.range_mut(r0 + 1..=r1) {
            if let std::collections::btree_map::Entry::Vacant(cell) = row.entry(c0 - 1) {
                self.count(&text)?;
                cell.insert(text.clone());
            }
        }
        Ok(())
    }
}

/// A cell range's first and last (row, column), 1-based.
type Range = ((u32, u32), (u32, u32));

/// A range such as "A2:B5" (or one cell), first corner first; `None` when it
/// is malformed or reversed.
fn range(text: &str) -> Option<Range> {
    let (a, b) = text.split_once(':').unwrap_or((text, text));
    let (first, last) = (reference(a)?, reference(b)?);
    (first.0 <= last.0 && first.1 <= last.1).then_some((first, last))
}

/// A cell reference such as "B12" (or "$B$12") as (row, column), 1-based,
/// within Excel's grid.
fn reference(text: &str) -> Option<(u32, u32)> {
    let text = text.replace('$', "");
    let split = text.find(|c: char| c.is_ascii_digit())?;
    let (letters, digits) = text.split_at(split);
    if letters.is_empty() || letters.len() > 3 || !letters.chars().all(|c| c.is_ascii_alphabetic())
    {
        return None;
    }
    let col = (letters.bytes()).fold(0u32, |n, b| {
        n * 26 + u32::from(b.to_ascii_uppercase() - b'A' + 1)
    });
    let row: u32 = digits.parse().ok()?;
    ((1..=LAST_ROW).contains(&row) && col <= LAST_COLUMN).then_some((row, col))
}

/// The visible worksheets, in the workbook's order, with their parts, and
/// whether its dates count from 1904.
fn sheets(
    workbook: &str,
    rels: &[(String, String, String)],
) -> Result<(Vec<(String, String)>, bool), String> {
    let doc = parse(workbook, WORKBOOK)?;
    let date1904 = (doc.descendants())
        .find(|n| is(n, "workbookPr"))
        .and_then(|p| p.attribute("date1904"))
        .is_some_and(|v| v == "1" || v == "true");
    let listed: Vec<Node<'_, '_>> = doc.descendants().filter(|n| is(n, "sheet")).collect();
    if listed.len() > MAX_SHEETS {
        return Err(format!(
            "a workbook of more than {MAX_SHEETS} sheets: not read"
        ));
    }
    let by_id: HashMap<&str, (&String, &String)> = rels
        .iter()
        .map(|(id, target, kind)| (id.as_str(), (target, kind)))
        .collect();
    let sheets = listed
        .into_iter()
        .filter(|s| matches!(s.attribute("state"), None | Some("visible")))
        .filter_map(|s| {
            let id = s
                .attribute((R, "id"))
                .or_else(|| s.attribute((STRICT_R, "id")))?;
            let (target, kind) = by_id.get(id)?;
            // Chart and dialog sheets hold no cells worth reading.
            kind.ends_with("/worksheet").then(|| {
                (
                    s.attribute("name").unwrap_or("").to_string(),
                    (*target).clone(),
                )
            })
        })
        .collect();
    Ok((sheets, date1904))
}

/// The shared strings, in order: each item's text runs, without its
/// phonetic guide.
fn shared_strings(xml: &str) -> Result<Vec<String>, String> {
    if xml.is_empty() {
        return Ok(Vec::new());
    }
    let doc = parse(xml, WORKBOOK)?;
    Ok(doc
        .root_element()
        .children()
        .filter(|n| is(n, "si"))
        .map(string_item)
        .collect())
}

/// The text of a string item (`si`, or a cell's inline `is`): its text runs,
/// not its phonetic guide, walked once (however deep the elements nest).
fn string_item(item: Node<'_, '_>) -> String {
    let mut text = String::new();
    let mut stack = vec![item];
    while let Some(n) = stack.pop() {
        if is(&n, "rPh") {
            continue;
        }
        if is(&n, "t") {
            text.push_str(n.text().unwrap_or(""));
        }
        stack.extend(n.children().filter(Node::is_element).rev());
    }
    unescape_excel(&text)
}

/// Excel's escapes of control characters in strings (`_x000D_`), read.
fn unescape_excel(text: &str) -> String {
    if !text.contains("_x") {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("_x") {
        out.push_str(&rest[..at]);
        let code = rest
            .get(at + 2..at + 6)
            .filter(|_| rest.get(at + 6..at + 7) == Some("_"));
        match code
            .and_then(|c| u32::from_str_radix(c, 16).ok())
            .and_then(char::from_u32)
        {
            Some(c) => {
                out.push(if c.is_control() { ' ' } else { c });
                rest = &rest[at + 7..];
            }
            None => {
                out.push_str("_x");
                rest = &rest[at + 2..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// What a number shows as.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Shows {
    Number,
    /// A share, shown times 100 with `%` ("0%", "0.00%"): a discount of 0.25
    /// reads "25%" in the sheet and is asked after as such.
    Percent,
    Date,
    /// Elapsed time (`[h]:mm`).
    Duration,
}

/// For each cell format (`cellXfs`), in order, what its numbers show as:
/// Excel's built-in date and time formats, or a format code of its own
/// that spells days, months, years or hours, are dates.
fn date_styles(xml: &str) -> Vec<Shows> {
    let Ok(doc) = parse(xml, WORKBOOK) else {
        return Vec::new();
    };
    let custom: HashMap<u32, Shows> = (doc.descendants())
        .filter(|n| is(n, "numFmt"))
        .filter_map(|f| {
            let id = f.attribute("numFmtId")?.parse().ok()?;
            Some((id, shows(f.attribute("formatCode").unwrap_or(""))))
        })
        .collect();
    let xfs = (doc.descendants()).find(|n| is(n, "cellXfs"));
    xfs.iter()
        .flat_map(|x| x.children())
        .filter(|n| is(n, "xf"))
        .map(|xf| {
            let id: u32 = xf
                .attribute("numFmtId")
                .and_then(|i| i.parse().ok())
                .unwrap_or(0);
            let builtin = match id {
                9 | 10 => Shows::Percent,
                46 => Shows::Duration,
                14..=22 | 27..=36 | 45..=47 | 50..=58 => Shows::Date,
                _ => Shows::Number,
            };
            custom.get(&id).copied().unwrap_or(builtin)
        })
        .collect()
}

/// What a number format code shows: elapsed time when it brackets hours,
/// minutes or seconds (`[h]:mm`), a date or time when it spells a day,
/// month, year, hour or second outside quoted text and brackets (`[Red]`), a
/// percentage when it has a `%` there.
fn shows(code: &str) -> Shows {
    let (mut quoted, mut escaped) = (false, false);
    let mut bracket: Option<String> = None;
    let (mut date, mut percent) = (false, false);
    for c in code.chars().take(256) {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '"' => quoted = !quoted,
            _ if quoted => {}
            '[' => bracket = Some(String::new()),
            ']' => {
                // `[h]`, `[mm]`, `[ss]`: elapsed time; `[Red]`, `[$CHF]`,
                // `[DBNum1]` are a colour, a currency, a numeral system.
                let inside = bracket.take().unwrap_or_default().to_lowercase();
                let unit = inside.chars().next();
                if unit.is_some_and(|u| "hms".contains(u))
                    && inside.chars().all(|c| Some(c) == unit)
                {
                    return Shows::Duration;
                }
            }
            _ if bracket.is_some() => bracket.iter_mut().for_each(|b| b.push(c)),
            'd' | 'D' | 'm' | 'M' | 'y' | 'Y' | 'h' | 'H' | 's' | 'S' => date = true,
            '%' => percent = true,
            _ => {}
        }
    }
    match (date, percent) {
        (true, _) => Shows::Date,
        (false, true) => Shows::Percent,
        (false, false) => Shows::Number,
    }
}

/// How a workbook's cells show.
struct Shown<'a> {
    strings: &'a [String],
    styles: &'a [Shows],
    date1904: bool,
}

impl Shown<'_> {
    /// A cell's text as the spreadsheet shows it (near enough: numbers
    /// without their display format, dates as ISO dates), or `None` when it
    /// shows none.
    fn cell(&self, c: Node<'_, '_>) -> Option<String> {
        let value = || c.children().find(|n| is(n, "v")).and_then(|v| v.text());
        let text = match c.attribute("t") {
            Some("s") => self
                .strings
                .get(value()?.trim().parse::<usize>().ok()?)?
                .clone(),
            Some("inlineStr") => string_item(c.children().find(|n| is(n, "is"))?),
            Some("str" | "d") => unescape_excel(value()?),
            Some("b") => if value()?.trim() == "1" {
                "TRUE"
            } else {
                "FALSE"
            }
            .to_string(),
            Some("e") => return None,
            _ => {
                let n: f64 = value()?.trim().parse().ok()?;
                let style: usize = c.attribute("s").and_then(|s| s.parse().ok()).unwrap_or(0);
                match self.styles.get(style).copied().unwrap_or(Shows::Number) {
                    Shows::Date => date(n, self.date1904).unwrap_or_else(|| sheet::number(n)),
                    Shows::Duration => sheet::duration(n),
                    Shows::Percent => format!("{}%", sheet::number(n * 100.0)),
                    Shows::Number => sheet::number(n),
                }
            }
        };
        let text = text.trim();
        (!text.is_empty()).then(|| text.to_string())
    }
}

/// An Excel serial date as an ISO date, with its time when it has one (a
/// time alone when the number is under a day).
fn date(serial: f64, date1904: bool) -> Option<String> {
    if !serial.is_finite() || !(0.0..3_000_000.0).contains(&serial) {
        return None;
    }
    // Whole seconds first, so 23:59:59.9 carries into the next day.
    let total = (serial * 86_400.0).round() as i64;
    let (days, seconds) = (total / 86_400, total % 86_400);
    let (h, m, s) = (seconds / 3600 % 24, seconds / 60 % 60, seconds % 60);
    let time = match s {
        0 => format!("{h:02}:{m:02}"),
        _ => format!("{h:02}:{m:02}:{s:02}"),
    };
    if days == 0 && !date1904 {
        return Some(time);
    }
    // Excel counts 1900 as a leap year: its serial 60 is a day that never was.
    let (epoch, days) = match (date1904, days) {
        (true, d) => ((1904, 1, 1), d),
        (false, d) if d < 60 => ((1899, 12, 31), d),
        (false, d) => ((1899, 12, 30), d),
    };
    let start = chrono::NaiveDate::from_ymd_opt(epoch.0, epoch.1, epoch.2)?;
    let day = start.checked_add_days(chrono::Days::new(days as u64))?;
    Some(match seconds {
        0 => day.to_string(),
        _ => format!("{day} {time}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::knowledge::sheet::tests::lines;
    use crate::knowledge::sheet::{Cell, Cell::*, written};

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
        let c = markdown(&bytes).unwrap();
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
    fn a_broken_or_swollen_workbook_is_refused() {
        assert!(
            markdown(b"PK\x03\x04 truncated")
                .unwrap_err()
                .starts_with("not a workbook")
        );
        assert!(markdown(b"not a zip at all").is_err());
        let compound = markdown(b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1rest").unwrap_err();
        assert!(compound.starts_with("an encrypted"), "{compound}");
        let bytes = written(
            &[("S", false, &[Text("A1", &"word ".repeat(1000))], &[])],
            "",
        );
        assert!(markdown(&bytes).is_ok());
    }

    /// A workbook of `sheets` (name, state, what its part holds) with the
    /// shared `strings` (whose counts promise billions, as a hostile file's
    /// may), `styles` and `extra` before the workbook's sheet list.
    fn book(sheets: &[(&str, &str, &str)], strings: &str, styles: &str, extra: &str) -> Vec<u8> {
        let mut listed = String::new();
        let mut rels = String::new();
        let mut parts: Vec<(String, String)> = Vec::new();
        for (i, (name, state, cells)) in sheets.iter().enumerate() {
            listed.push_str(&format!(
                r#"<sheet name="{name}" state="{state}" sheetId="{i}" r:id="rId{i}"/>"#
            ));
            rels.push_str(&format!(
                r#"<Relationship Id="rId{i}" Type="{R}/worksheet" Target="worksheets/sheet{i}.xml"/>"#
            ));
            parts.push((
                format!("xl/worksheets/sheet{i}.xml"),
                format!(r#"<worksheet xmlns="{MAIN}">{cells}</worksheet>"#),
            ));
        }
        parts.push((
            "xl/workbook.xml".into(),
            format!(r#"<workbook xmlns="{MAIN}" xmlns:r="{R}">{extra}<sheets>{listed}</sheets></workbook>"#),
        ));
        parts.push((
            "xl/_rels/workbook.xml.rels".into(),
            format!(r#"<Relationships xmlns="p">{rels}</Relationships>"#),
        ));
        parts.push((
            "xl/sharedStrings.xml".into(),
            format!(r#"<sst xmlns="{MAIN}" count="4000000000000" uniqueCount="4000000000000">{strings}</sst>"#),
        ));
        parts.push((
            "xl/styles.xml".into(),
            format!(r#"<styleSheet xmlns="{MAIN}">{styles}</styleSheet>"#),
        ));
        let parts: Vec<(&str, &str)> = parts
            .iter()
            .map(|(a, b)| (a.as_str(), b.as_str()))
            .collect();
        super::super::docx::tests::docx(&parts)
    }

    /// The table rows of the Markdown made from `bytes`.
    fn rows(bytes: &[u8]) -> Vec<String> {
        let c = markdown(bytes).unwrap();
        let l = lines(&c);
        l.into_iter()
            .filter(|(_, t)| t.starts_with("| ") || t.starts_with("## "))
            .map(|(r, t)| format!("{r} {t}"))
            .collect()
    }

    #[test]
    fn cells_show_as_the_spreadsheet_shows_them() {
        let strings = r#"<si><r><t>Rich </t></r><r><t>text</t></r><rPh><t>ふりがな</t></rPh></si><si><t>line_x000D_break</t></si>"#;
        let styles = r#"<numFmts><numFmt numFmtId="164" formatCode="yyyy\-mm\-dd"/><numFmt numFmtId="165" formatCode="[h]:mm:ss"/><numFmt numFmtId="166" formatCode="0.00&quot; days&quot;"/><numFmt numFmtId="167" formatCode="[Red]0.0"/><numFmt numFmtId="168" formatCode="0.0%;[Red]\-0.0%"/><numFmt numFmtId="169" formatCode="0&quot; per 100%&quot;"/></numFmts><cellXfs><xf numFmtId="0"/><xf numFmtId="14"/><xf numFmtId="164"/><xf numFmtId="165"/><xf numFmtId="166"/><xf numFmtId="167"/><xf numFmtId="10"/><xf numFmtId="168"/><xf numFmtId="169"/></cellXfs>"#;
        let row = |r: u32, a: &str, b: &str| {
            format!(r#"<row r="{r}"><c r="A{r}" t="inlineStr"><is><t>{a}</t></is></c>{b}</row>"#)
        };
        let cells = [
            row(
                1,
                "What",
                r#"<c r="B1" t="inlineStr"><is><t>Shows</t></is></c>"#,
            ),
            row(2, "shared", r#"<c r="B2" t="s"><v>0</v></c>"#),
            row(3, "escaped", r#"<c r="B3" t="s"><v>1</v></c>"#),
            row(4, "boolean", r#"<c r="B4" t="b"><v>1</v></c>"#),
            row(5, "error", r#"<c r="B5" t="e"><v>#SPILL!</v></c>"#),
            row(
                6,
                "formula",
                r#"<c r="B6" t="str"><f>A1</f><v>What</v></c>"#,
            ),
            row(7, "built-in date", r#"<c r="B7" s="1"><v>45839</v></c>"#),
            row(8, "own date", r#"<c r="B8" s="2"><v>45839.5</v></c>"#),
            row(9, "duration", r#"<c r="B9" s="3"><v>1.5</v></c>"#),
            row(10, "quoted days", r#"<c r="B10" s="4"><v>3</v></c>"#),
            row(11, "colour", r#"<c r="B11" s="5"><v>2.5</v></c>"#),
            row(12, "percent", r#"<c r="B12" s="6"><v>0.25</v></c>"#),
            row(13, "time", r#"<c r="B13" s="1"><v>0.75</v></c>"#),
            row(14, "own percent", r#"<c r="B14" s="7"><v>0.075</v></c>"#),
            row(15, "quoted percent", r#"<c r="B15" s="8"><v>12</v></c>"#),
        ]
        .concat();
        let bytes = book(
            &[(
                "Data",
                "visible",
                &format!("<sheetData>{cells}</sheetData>"),
            )],
            strings,
            styles,
            "",
        );
        let r = rows(&bytes);
        assert_eq!(
            r[2..],
            [
                "2 | shared | Rich text |",
                "3 | escaped | line break |",
                "4 | boolean | TRUE |",
                // An error value shows nothing; nor does it stop the sheet.
                "5 | error |  |",
                "6 | formula | What |",
                r"7 | built\-in date | 2025\-07\-01 |",
                r"8 | own date | 2025\-07\-01 12:00 |",
                "9 | duration | 36:00:00 |",
                r"10 | quoted days | 3 |",
                r"11 | colour | 2\.5 |",
                r"12 | percent | 25\% |",
                "13 | time | 18:00 |",
                r"14 | own percent | 7\.5\% |",
                r"15 | quoted percent | 12 |",
            ]
        );
        // A 1904 workbook counts its dates from 1 January 1904.
        let cells = format!(
            "<sheetData>{}{}</sheetData>",
            row(1, "H", r#"<c r="B1" t="inlineStr"><is><t>V</t></is></c>"#),
            row(2, "epoch", r#"<c r="B2" s="1"><v>0</v></c>"#)
        );
        let r = rows(&book(
            &[("S", "visible", &cells)],
            "",
            styles,
            r#"<workbookPr date1904="1"/>"#,
        ));
        assert_eq!(r[2], r"2 | epoch | 1904\-01\-01 |");
    }

    #[test]
    fn sheets_are_read_by_their_parts_not_their_names() {
        let sheet = |t: &str| {
            format!(
                r#"<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>Fruit</t></is></c></row><row r="2"><c r="A2" t="inlineStr"><is><t>{t}</t></is></c></row></sheetData>"#
            )
        };
        let (secret, shown) = (sheet("hunter2"), sheet("banana"));
        let bytes = book(
            &[
                ("Data", "hidden", &secret),
                ("Data", "visible", &shown),
                ("Odd\nname", "visible", &shown),
            ],
            "",
            "",
            "",
        );
        let r = rows(&bytes).join("\n");
        assert!(!r.contains("hunter2"), "{r}");
        assert!(r.contains("2 | banana |"), "{r}");
        // A line break in a sheet's name does not split its heading.
        assert!(r.contains("## Odd name"), "{r}");
        // Paths zipped with Windows' separators are found.
        let windows: Vec<u8> = {
            let parts = [
                (
                    "xl\\workbook.xml",
                    format!(
                        r#"<workbook xmlns="{MAIN}" xmlns:r="{R}"><sheets><sheet name="S" r:id="rId1"/></sheets></workbook>"#
                    ),
                ),
                (
                    "xl\\_rels\\workbook.xml.rels",
                    format!(
                        r#"<Relationships xmlns="p"><Relationship Id="rId1" Type="{R}/worksheet" Target="worksheets/s.xml"/></Relationships>"#
                    ),
                ),
                (
                    "xl\\worksheets\\s.xml",
                    format!(r#"<worksheet xmlns="{MAIN}">{shown}</worksheet>"#),
                ),
            ];
            let parts: Vec<(&str, &str)> = parts.iter().map(|(a, b)| (*a, b.as_str())).collect();
            super::super::docx::tests::docx(&parts)
        };
        assert_eq!(rows(&windows), ["1 | Fruit |", "1 | --- |", "2 | banana |"]);
    }

    #[test]
    fn hostile_workbooks_are_problems_not_crashes() {
        let big = "word ".repeat(200_000);
        let many_cells: String = (1..=100)
            .map(|r| format!(r#"<row r="{r}"><c r="A{r}" t="s"><v>0</v></c></row>"#))
            .collect();
        let wide_merge = format!(
            r#"<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>{}</t></is></c></row>{}</sheetData><mergeCells><mergeCell ref="A1:BM1048576"/></mergeCells>"#,
            "x".repeat(100_000),
            (2..=2000)
                .map(|r| format!(r#"<row r="{r}"><c r="BN{r}"><v>1</v></c></row>"#))
                .collect::<String>()
        );
        let many_merges = format!(
            "<sheetData/><mergeCells>{}</mergeCells>",
            (1..=10_001)
                .map(|r| format!(r#"<mergeCell ref="A{r}:B{r}"/>"#))
                .collect::<String>()
        );
        let reversed = r#"<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>Head</t></is></c></row><row r="5"><c r="A5" t="inlineStr"><is><t>label</t></is></c></row></sheetData><mergeCells><mergeCell ref="A5:A1"/><mergeCell ref="A1:A99999999999"/></mergeCells>"#;
        let sheets: Vec<(String, String, String)> = (0..1001)
            .map(|i| (format!("S{i}"), "visible".to_string(), String::new()))
            .collect();
        let sheets: Vec<(&str, &str, &str)> = sheets
            .iter()
            .map(|(a, b, c)| (a.as_str(), b.as_str(), c.as_str()))
            .collect();
        let table: [(&str, Vec<u8>, &str); 6] = [
            // Counts that promise billions of strings reserve nothing.
            (
                "huge count",
                book(
                    &[(
                        "S",
                        "visible",
                        r#"<sheetData><row r="1"><c r="A1" t="s"><v>0</v></c></row></sheetData>"#,
                    )],
                    "<si><t>ok</t></si>",
                    "",
                    "",
                ),
                "",
            ),
            (
                "a string in many cells",
                book(
                    &[(
                        "S",
                        "visible",
                        &format!("<sheetData>{many_cells}</sheetData>"),
                    )],
                    &format!("<si><t>{big}</t></si>"),
                    "",
                    "",
                ),
                "MB of text",
            ),
            (
                "a merge over a million rows",
                book(&[("S", "visible", &wide_merge)], "", "", ""),
                "MB of text",
            ),
            (
                "many merges",
                book(&[("S", "visible", &many_merges)], "", "", ""),
                "merged ranges",
            ),
            (
                "reversed and out-of-grid merges",
                book(&[("S", "visible", reversed)], "", "", ""),
                "",
            ),
            ("many sheets", book(&sheets, "", "", ""), "sheets"),
        ];
        for (what, bytes, refused) in table {
            match markdown(&bytes) {
                Ok(_) => assert!(refused.is_empty(), "{what}: read"),
                Err(e) => assert!(!refused.is_empty() && e.contains(refused), "{what}: {e}"),
            }
        }
    }

    #[test]
    fn what_the_second_review_found_is_read_right() {
        let styles = r##"<numFmts><numFmt numFmtId="164" formatCode="[White]0.00"/><numFmt numFmtId="165" formatCode="#,##0.00 [$CHF]"/><numFmt numFmtId="166" formatCode="[mm]:ss"/></numFmts><cellXfs><xf numFmtId="0"/><xf numFmtId="164"/><xf numFmtId="165"/><xf numFmtId="166"/><xf numFmtId="14"/></cellXfs>"##;
        let c = |r: &str, s: u8, v: &str| format!(r#"<c r="{r}" s="{s}"><v>{v}</v></c>"#);
        let t = |r: &str, v: &str| format!(r#"<c r="{r}" t="inlineStr"><is><t>{v}</t></is></c>"#);
        // A title above the header is a line of text, not the header.
        let mut rows = format!(r#"<row r="1">{}</row>"#, t("A1", "Office price list"));
        let label_and_value = [
            (2, t("A2", "Item"), t("B2", "Price")),
            (3, t("A3", "colour"), c("B3", 1, "2.5")),
            (4, t("A4", "currency"), c("B4", 2, "12.5")),
            (5, t("A5", "minutes"), c("B5", 3, "0.01")),
            (6, t("A6", "late"), c("B6", 4, "45839.9999999")),
        ];
        for (r, label, value) in label_and_value {
            rows.push_str(&format!(r#"<row r="{r}">{label}{value}</row>"#));
        }
        // A range across columns says its text once.
        let merged = r#"<mergeCells><mergeCell ref="A1:B1"/></mergeCells>"#;
        let bytes = book(
            &[(
                "S",
                "visible",
                &format!("<sheetData>{rows}</sheetData>{merged}"),
            )],
            "",
            styles,
            "",
        );
        let c = markdown(&bytes).unwrap();
        let l: Vec<(usize, &str)> = lines(&c).into_iter().filter(|l| !l.1.is_empty()).collect();
        assert_eq!(
            l,
            [
                (1, "Office price list"),
                (2, "| Item | Price |"),
                (2, "| --- | --- |"),
                (3, r"| colour | 2\.5 |"),
                (4, r"| currency | 12\.5 |"),
                (5, "| minutes | 0:14:24 |"),
                // 23:59:59.99 carries into the next day.
                (6, r"| late | 2025\-07\-02 |"),
            ]
        );
        // A sparse sheet is as large as its rows times its columns.
        let sparse: String = (1..=70_000)
            .map(|r| {
                format!(
                    r#"<row r="{r}"><c r="{}{r}"><v>1</v></c></row>"#,
                    [
                        "A", "B", "C", "D", "E", "F", "G", "H", "I", "J", "K", "L", "M", "N", "O",
                        "P", "Q", "R", "S", "T", "U", "V", "W", "X", "Y", "Z", "AA", "AB", "AC",
                        "AD", "AE", "AF", "AG", "AH", "AI", "AJ", "AK", "AL", "AM", "AN", "AO",
                        "AP", "AQ", "AR", "AS", "AT", "AU", "AV", "AW", "AX", "AY", "AZ", "BA",
                        "BB", "BC", "BD", "BE", "BF", "BG", "BH", "BI", "BJ", "BK", "BL"
                    ][r % 64]
                )
            })
            .collect();
        let refused = markdown(&book(
            &[("S", "visible", &format!("<sheetData>{sparse}</sheetData>"))],
            "",
            "",
            "",
        ))
        .unwrap_err();
        assert!(refused.contains("rows times columns"), "{refused}");
        // A workbook at the archive's root, its parts named in another case.
        let parts = [
            (
                "_rels/.rels",
                format!(
                    r#"<Relationships xmlns="p"><Relationship Id="r" Type="{R}/officeDocument" Target="workbook.xml"/></Relationships>"#
                ),
            ),
            (
                "workbook.xml",
                format!(
                    r#"<workbook xmlns="{MAIN}" xmlns:r="{R}"><sheets><sheet name="S" r:id="rId1"/></sheets></workbook>"#
                ),
            ),
            (
                "_rels/workbook.xml.rels",
                format!(
                    r#"<Relationships xmlns="p"><Relationship Id="rId1" Type="{R}/worksheet" Target="sheet.xml"/><Relationship Id="rId2" Type="{R}/sharedStrings" Target="sharedStrings.xml"/></Relationships>"#
                ),
            ),
            (
                "SharedStrings.xml",
                format!(r#"<sst xmlns="{MAIN}"><si><t>Hello</t></si><si><t>World</t></si></sst>"#),
            ),
            (
                "sheet.xml",
                format!(
                    r#"<worksheet xmlns="{MAIN}"><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c></row></sheetData></worksheet>"#
                ),
            ),
        ];
        let parts: Vec<(&str, &str)> = parts.iter().map(|(a, b)| (*a, b.as_str())).collect();
        let c = markdown(&super::super::docx::tests::docx(&parts)).unwrap();
        assert!(c.text.contains("Hello · World"), "{}", c.text);
    }
}
