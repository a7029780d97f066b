//! What every reader (Markdown, HTML, reStructuredText, AsciiDoc) makes of a
//! page: passages ([`Group`]) of prose and code ([`Part`]), table rows named
//! by their header ([`row_parts`]); and the builder the line-based readers
//! share ([`Passages`]): headings in force, the passage open, and when a new
//! part joins it — the grouping Markdown's and HTML's readers make.

use crate::text;

/// One part of a passage.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Part {
    /// A paragraph, list item or table row, whitespace folded.
    Prose(String),
    /// A code block, verbatim.
    Code(String),
}

impl Part {
    /// Whether there is nothing to show.
    pub(super) fn is_blank(&self) -> bool {
        match self {
            Part::Prose(t) => t.is_empty(),
            Part::Code(t) => t.trim().is_empty(),
        }
    }

    pub(super) fn len(&self) -> usize {
        match self {
            Part::Prose(t) | Part::Code(t) => t.chars().count(),
        }
    }

    /// How much room it takes ([`text::width`]).
    pub(super) fn width(&self) -> usize {
        match self {
            Part::Prose(t) | Part::Code(t) => text::width(t),
        }
    }
}

/// A passage before it is cut to size: its parts, the headings above it
/// (level, text), and the 1-based line of its first part in the text parsed.
#[derive(Debug, Clone)]
pub(super) struct Group {
    pub headings: Vec<(u8, String)>,
    /// The anchor its innermost heading names itself (`## Setup {#setup}`),
    /// which the site generator uses instead of one made from the text.
    pub anchor: Option<String>,
    pub line: usize,
    pub parts: Vec<Part>,
    /// A table row: a passage of its own, never joined to its neighbours.
    pub row: bool,
    /// How many headings came before it: the groups of one section share it,
    /// even where two sections' headings read the same.
    pub section: usize,
}

/// Most columns of a table read (the first), as of a spreadsheet's
/// ([`super::sheet::MAX_COLUMNS`]): a row is one passage, and a row of
/// hundreds of cells answers nothing in particular. Each cell repeats its
/// header's name: a Markdown table 10,000 columns wide over 1,500 rows (31 MB)
/// made 4.8 GB.
pub(super) const MAX_COLUMNS: usize = super::sheet::MAX_COLUMNS;

/// Most bytes of text a page's table rows make with their cells named by
/// their header ([`Passages::table_row`]); the rows after are their cells
/// alone, about as large as the page's text of them. A name is copied into
/// every row: 64 columns of long names over rows of `|x|x|…` made 60 times a
/// page's size.
const MAX_NAMED_ROW_BYTES: usize = super::sheet::MAX_TEXT_BYTES;

/// A table row's cells (its first [`MAX_COLUMNS`]) named by the header
/// (`Header: cell`): one part `Header: cell; …`, or, when a cell holds more
/// than one sentence, a part per cell — so that no sentence of an answer runs
/// from one cell into the next.
pub(super) fn row_parts(head: &[String], cells: impl Iterator<Item = String>) -> Vec<String> {
    let cells: Vec<String> = cells
        .take(MAX_COLUMNS)
        .enumerate()
        .filter(|(_, c)| !c.is_empty())
        .map(|(i, c)| match head.get(i).filter(|h| !h.is_empty()) {
            Some(h) => format!("{}: {c}", label(h)),
            None => c,
        })
        .collect();
    if cells.iter().any(|c| text::sentences(c).len() > 1) {
        cells
    } else {
        vec![cells.join("; ")]
    }
}

/// A header cell as it names a row's cell: a header of a paragraph's length
/// is cut, since every row of its table repeats it (a 100 KB header over
/// 40,000 rows made gigabytes).
fn label(head: &str) -> std::borrow::Cow<'_, str> {
    const MAX_LABEL_CHARS: usize = 120;
    match head.char_indices().nth(MAX_LABEL_CHARS) {
        Some((at, _)) => format!("{}…", &head[..at]).into(),
        None => head.into(),
    }
}

/// Passages read so far, and the one open.
#[derive(Default)]
pub(super) struct Passages {
    pub out: Vec<Group>,
    pub headings: Vec<(u8, String)>,
    /// The anchor of the innermost heading.
    pub anchor: Option<String>,
    pub current: Option<Group>,
    /// Headings read so far.
    pub sections: usize,
    /// Blocks open around the text being read (directives, delimited blocks).
    pub depth: usize,
    /// The numbered lists open, for their items' numbers.
    pub numbers: Numbers,
    /// Bytes of text the table rows read so far made with their cells named
    /// ([`MAX_NAMED_ROW_BYTES`]).
    pub named_row_bytes: usize,
}

/// The numbers of the numbered list items a reader meets, by depth (an
/// item's indent, its marker's length, a Word or PowerPoint list level): an
/// item shows the number it is written with, else one more than the item
/// before it at its depth (reStructuredText's `#.`, AsciiDoc's `.`, Word's and
/// PowerPoint's numbering), so a runbook's "3." stays its third step; other
/// text at a depth ends the lists there and below.
#[derive(Debug, Default)]
pub(super) struct Numbers(Vec<(usize, u64)>);

impl Numbers {
    /// The number of a numbered item at `depth` written with `own` (`None`:
    /// numbered by its place).
    pub fn item(&mut self, depth: usize, own: Option<u64>) -> u64 {
        self.0.retain(|&(d, _)| d <= depth);
        match self.0.last_mut() {
            Some((d, last)) if *d == depth => {
                *last = own.unwrap_or(last.saturating_add(1));
                *last
            }
            _ => {
                let n = own.unwrap_or(1);
                self.0.push((depth, n));
                n
            }
        }
    }

    /// The number of a numbered item at `depth` of a list that counts from
    /// `start`: one more than the item before it at its depth, else `start`.
    pub fn item_from(&mut self, depth: usize, start: u64) -> u64 {
        let continues = self.0.iter().any(|&(d, _)| d == depth);
        self.item(depth, (!continues).then_some(start))
    }

    /// Text other than a numbered item at `depth` (a paragraph, a bullet):
    /// the numbered lists at and below it end.
    pub fn other(&mut self, depth: usize) {
        self.0.retain(|&(d, _)| d < depth);
    }
}

/// A list item's `text` after the `number` it shows ("3. Run the restore."),
/// when it has one and says something.
pub(super) fn numbered(number: Option<u64>, text: String) -> String {
    match number {
        Some(n) if !text.is_empty() => format!("{n}. {text}"),
        _ => text,
    }
}

impl Passages {
    /// Ends the open passage.
    pub fn close(&mut self) {
        if let Some(g) = self.current.take()
            && !g.parts.is_empty()
        {
            self.out.push(g);
        }
    }

    /// Adds a part: to the open passage when `joins`, else to a new one that
    /// starts at `line`.
    pub fn add(&mut self, part: Part, line: usize, joins: bool) {
        if part.is_blank() {
            return;
        }
        if !(joins && self.current.is_some()) {
            self.close();
            self.current = Some(Group {
                headings: self.headings.clone(),
                anchor: self.anchor.clone(),
                line,
                parts: Vec::new(),
                row: false,
                section: self.sections,
            });
        }
        if let Some(g) = self.current.as_mut() {
            g.parts.push(part);
        }
    }

    /// Whether a passage is open.
    pub fn open(&self) -> bool {
        self.current.is_some()
    }

    /// Goes under a heading of `level` (already cut to size) with `anchor`.
    pub fn heading(&mut self, level: u8, heading: String, anchor: Option<String>) {
        self.close();
        self.headings.retain(|(l, _)| *l < level);
        self.anchor = anchor;
        self.headings.push((level, heading));
        self.sections += 1;
        // A heading ends every list.
        self.numbers.other(0);
    }

    /// Adds a table row's parts ([`row_parts`]) as a passage
    /// of its own.
    pub fn row(&mut self, parts: Vec<String>, line: usize) {
        self.close();
        for (k, part) in parts.into_iter().enumerate() {
            self.add(Part::Prose(part), line, k > 0);
        }
        if let Some(g) = self.current.as_mut() {
            g.row = true;
        }
        self.close();
    }

    /// Adds a table row as a passage of its own: its `cells`, named by the
    /// header `head` ([`row_parts`]) while the page's rows have made less
    /// than [`MAX_NAMED_ROW_BYTES`] so.
    pub fn table_row(&mut self, head: &[String], cells: impl Iterator<Item = String>, line: usize) {
        let named = self.named_row_bytes < MAX_NAMED_ROW_BYTES;
        let parts = row_parts(if named { head } else { &[] }, cells);
        if named {
            self.named_row_bytes += parts.iter().map(String::len).sum::<usize>();
        }
        self.row(parts, line);
    }

    /// The passages, the open one closed.
    pub fn finish(mut self) -> Vec<Group> {
        self.close();
        self.out
    }
}

/// The indentation of `line`: its leading spaces and tabs (bytes, so that
/// cutting there never splits a character).
pub(super) fn indent(line: &str) -> usize {
    line.bytes()
        .take_while(|&b| b == b' ' || b == b'\t')
        .count()
}

/// `lines` without the indentation they share ([`indent`]), blank lines
/// empty, as one text without leading or trailing blank lines.
pub(super) fn dedent(lines: &[&str]) -> String {
    let cut = lines
        .iter()
        .filter(|l| !l.trim().is_empty())
        .map(|l| indent(l))
        .min()
        .unwrap_or(0);
    let kept: Vec<&str> = lines
        .iter()
        .map(|l| if l.trim().is_empty() { "" } else { &l[cut..] })
        .collect();
    kept.join("\n").trim_matches('\n').to_string()
}

/// What the readers' tests compare.
#[cfg(test)]
pub(super) mod testing {
    use super::{Group, Part};

    pub fn prose(s: &str) -> Part {
        Part::Prose(s.into())
    }

    pub fn code(s: &str) -> Part {
        Part::Code(s.into())
    }

    /// (heading path, parts) of each passage.
    pub fn paths_and_parts(groups: Vec<Group>) -> Vec<(String, Vec<Part>)> {
        groups
            .into_iter()
            .map(|g| {
                let path: Vec<String> = g.headings.into_iter().map(|(_, h)| h).collect();
                (path.join(" › "), g.parts)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_names_its_first_columns_while_the_page_has_named_little() {
        let head: Vec<String> = (0..100).map(|i| format!("h{i}")).collect();
        let cells = || (0..100).map(|i| format!("c{i}"));
        // (text the page's rows have made before, the row's part)
        let named: Vec<String> = (0..MAX_COLUMNS).map(|i| format!("h{i}: c{i}")).collect();
        let plain: Vec<String> = (0..MAX_COLUMNS).map(|i| format!("c{i}")).collect();
        let cases = [
            (0, named.join("; ")),
            (MAX_NAMED_ROW_BYTES - 1, named.join("; ")),
            (MAX_NAMED_ROW_BYTES, plain.join("; ")),
        ];
        for (before, want) in cases {
            let mut p = Passages {
                named_row_bytes: before,
                ..Passages::default()
            };
            p.table_row(&head, cells(), 1);
            let out = p.finish();
            assert_eq!(out[0].parts, [Part::Prose(want)], "{before}");
            assert!(out[0].row);
        }
        // The text of each row named is counted.
        let mut p = Passages::default();
        p.table_row(&head, cells(), 1);
        p.table_row(&head, cells(), 2);
        assert_eq!(p.named_row_bytes, 2 * named.join("; ").len());
    }
}
