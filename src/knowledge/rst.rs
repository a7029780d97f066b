//! reStructuredText (Sphinx docs: `.rst`) → passages, mapped as Markdown is:
//! section titles make the heading path (their level by the order in which
//! the page first uses each underline style, as docutils counts it), a
//! paragraph with the code (`::` literal blocks, `.. code-block::`) and list
//! after it is one passage, a table row is one passage. Admonitions (`..
//! note::`) are prose; an object directive (`.. py:data:: SECRET_KEY`, `..
//! option:: --port`) opens a passage that names it. What is not knowledge —
//! comments and link targets, `toctree`, `include`, `image`, autodoc — is left
//! out; roles and links keep their text. No crate reads reStructuredText
//! as docutils does; this reads the block structure docs are written in.

use super::Document;
use super::passages::{Part, Passages, dedent, indent, numbered};
use crate::text;

/// Directives whose content is prose, shown as written (their title, when they
/// take one, first). MyST pages use the same directives.
pub(super) const PROSE: &[&str] = &[
    "note",
    "warning",
    "tip",
    "hint",
    "important",
    "caution",
    "attention",
    "danger",
    "error",
    "seealso",
    "admonition",
    "topic",
    "sidebar",
    "rubric",
    "versionadded",
    "versionchanged",
    "deprecated",
    "versionremoved",
    "only",
    "container",
    "tab",
    "group-tab",
    "tabs",
    "epigraph",
    "highlights",
    "pull-quote",
    "compound",
    "table",
    "list-table",
    "glossary",
    "dropdown",
    "tab-set",
    "tab-item",
    "card",
    "grid",
    "grid-item",
    "grid-item-card",
];

/// What a prose directive's arguments say before its content: a title, the
/// version a change came in ("New in version 2.2."), or nothing when they
/// are a condition (`only`) or a class (`container`). MyST's directives are
/// the same.
pub(super) fn title_of(directive: &str, args: &str) -> String {
    match directive {
        "versionadded" => format!("New in version {args}."),
        "versionchanged" => format!("Changed in version {args}."),
        "deprecated" => format!("Deprecated since version {args}."),
        "versionremoved" => format!("Removed in version {args}."),
        "only" | "container" | "tabs" | "compound" => String::new(),
        _ => args.to_string(),
    }
}

/// Directives whose content is code.
const CODE: &[&str] = &[
    "code-block",
    "code",
    "sourcecode",
    "parsed-literal",
    "code-tab",
    "doctest",
    "testcode",
    "testoutput",
];

/// Directives that describe one object (a setting, a command-line option, a
/// function): Sphinx's domain directives, with or without their domain.
const OBJECTS: &[&str] = &[
    "data",
    "attribute",
    "function",
    "method",
    "class",
    "exception",
    "option",
    "envvar",
    "confval",
    "describe",
    "object",
    "setting",
    "decorator",
    "property",
    "classmethod",
    "staticmethod",
    "cmdoption",
];

/// Passages read so far, and what levels the page's underline styles have.
struct Walk {
    p: Passages,
    /// Underline styles (character, overlined) in the order the page first
    /// used them: a title's level is its style's place here.
    styles: Vec<(char, bool)>,
}

impl std::ops::Deref for Walk {
    type Target = Passages;
    fn deref(&self) -> &Passages {
        &self.p
    }
}

impl std::ops::DerefMut for Walk {
    fn deref_mut(&mut self) -> &mut Passages {
        &mut self.p
    }
}

impl Walk {
    fn title(&mut self, style: (char, bool), title: &str) {
        let level = match self.styles.iter().position(|s| *s == style) {
            Some(i) => i + 1,
            None => {
                self.styles.push(style);
                self.styles.len()
            }
        }
        .min(6) as u8;
        let title = super::clip(&inline(title), super::MAX_NAME_CHARS);
        // Sphinx's anchor for a section is docutils' id of its title.
        // (docutils drops what comes before the first letter: "2.0 Notes" is
        // "notes").
        let slug = super::slug(&title);
        let anchor = Some(
            slug.trim_start_matches(|c: char| !c.is_alphabetic())
                .to_string(),
        )
        .filter(|a| !a.is_empty());
        self.p.heading(level, title, anchor);
    }
}

/// The passages of a reStructuredText page; its title is its first section's.
pub(super) fn document(body: &str) -> Document {
    let lines: Vec<&str> = body.lines().collect();
    let mut w = Walk {
        p: Passages::default(),
        styles: Vec::new(),
    };
    blocks(&lines, 0, &mut w);
    Document {
        title: None,
        groups: w.p.finish(),
    }
}

/// Whether `line` is a row of one punctuation character (an underline, an
/// overline or a transition).
fn adornment(line: &str) -> Option<char> {
    let line = line.trim_end();
    let c = line.chars().next()?;
    (line.len() >= 3 && c.is_ascii_punctuation() && line.chars().all(|d| d == c)).then_some(c)
}

/// Whether `line` (trimmed) is a border of a simple table: `=====  ======`.
fn is_table_border(line: &str) -> bool {
    line.starts_with("==") && line.chars().all(|c| c == '=' || c == ' ')
}

/// The end of the block of lines from `from` indented more than `than`
/// (blank lines inside it included, trailing ones not).
fn indented_end(lines: &[&str], from: usize, than: usize) -> usize {
    let mut end = from;
    let mut i = from;
    while i < lines.len() {
        if lines[i].trim().is_empty() {
            i += 1;
            continue;
        }
        if indent(lines[i]) <= than {
            break;
        }
        i += 1;
        end = i;
    }
    end
}

/// Reads the blocks of `lines` (the 0-based line `base` of the page first).
fn blocks(lines: &[&str], base: usize, w: &mut Walk) {
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        if line.trim().is_empty() {
            i += 1;
            continue;
        }
        i = block(lines, i, base, w);
    }
}

/// Reads the block at `lines[i]`; returns where the next one may start.
fn block(lines: &[&str], i: usize, base: usize, w: &mut Walk) -> usize {
    let line = lines[i];
    let at = base + i + 1;
    let trimmed = line.trim();
    let next = lines.get(i + 1).copied().unwrap_or("");
    // An overlined title, an underlined one, a transition.
    if let Some(c) = adornment(line)
        && indent(line) == 0
    {
        let under = lines.get(i + 2).copied().unwrap_or("");
        if !next.trim().is_empty() && adornment(under) == Some(c) {
            w.title((c, true), next.trim());
            return i + 3;
        }
        if next.trim().is_empty() {
            w.close();
            return i + 1;
        }
    }
    if indent(line) == 0
        && adornment(next).is_some()
        && adornment(line).is_none()
        && next.trim_end().chars().count() >= trimmed.chars().count().min(4)
    {
        w.title((adornment(next).unwrap_or('='), false), trimmed);
        return i + 2;
    }
    if let Some(rest) = trimmed.strip_prefix("..")
        && (rest.is_empty() || rest.starts_with(' '))
    {
        return directive(lines, i, base, w, rest.trim());
    }
    if trimmed.starts_with("+-") || trimmed.starts_with("+=") {
        return grid_table(lines, i, at, w);
    }
    if is_table_border(trimmed) && trimmed.contains(' ') {
        return simple_table(lines, i, at, w);
    }
    paragraph(lines, i, base, w)
}

/// A paragraph, list item, field, definition or line block, and the literal
/// block a `::` at its end introduces.
fn paragraph(lines: &[&str], i: usize, base: usize, w: &mut Walk) -> usize {
    let own = indent(lines[i]);
    let mut end = i + 1;
    while end < lines.len() && !lines[end].trim().is_empty() {
        // A list item's next item starts a block of its own.
        if indent(lines[end]) <= own && item_text(lines[end].trim()).is_some() {
            break;
        }
        end += 1;
    }
    let first = lines[i].trim();
    let item = item_text(first);
    let number = match enumerated(first) {
        Some(written) => Some(w.numbers.item(own, written)),
        None => {
            w.numbers.other(own);
            None
        }
    };
    // Sphinx's page fields (":orphan:", ":tocdepth: 2") before any text say
    // how to build the page, nothing of its subject.
    if w.sections == 0 && !w.open() && w.out.is_empty() && is_field(first) {
        return end;
    }
    let mut text_lines: Vec<&str> = lines[i..end].iter().map(|l| l.trim()).collect();
    if let Some(rest) = item {
        text_lines[0] = rest;
    }
    let mut t = text_lines.join("\n");
    // A definition: a term and, indented under it, what it means.
    if item.is_none() && end > i + 1 && indent(lines[i + 1]) > own {
        t = format!("{}: {}", first, text_lines[1..].join("\n"));
    }
    let literal = t.trim_end().ends_with("::");
    if literal {
        let cut = t.trim_end().trim_end_matches("::").trim_end().len();
        t.truncate(cut);
        if !t.is_empty() && !t.ends_with(|c: char| c.is_ascii_punctuation()) {
            t.push(':');
        }
    }
    let t = text::fold_whitespace(&inline(&t));
    let t = numbered(number, t);
    if t.starts_with(">>>") {
        let code = dedent(&lines[i..end]);
        let joins = w.open();
        w.add(Part::Code(code), base + i + 1, joins);
        return end;
    }
    // Items, fields, definitions and text indented under something join the
    // passage open: they go on with it, as a list goes on with its paragraph.
    let joins = w.open() && (item.is_some() || own > 0 || text::is_lead_in(&t));
    w.add(Part::Prose(t), base + i + 1, joins);
    if !literal {
        return end;
    }
    // The block is indented past the paragraph's text: for a list item, past
    // its marker ("- Do this::" then "  its next paragraph" is no code).
    let column = match item {
        Some(rest) if item_is_list(first) => own + first.len() - rest.len(),
        _ => own,
    };
    let code_end = indented_end(lines, end, column);
    let code = dedent(&lines[end..code_end]);
    w.add(Part::Code(code), base + end + 1, true);
    code_end.max(end)
}

/// Whether `line` is a field (":orphan:", ":param name: text").
fn is_field(line: &str) -> bool {
    line.strip_prefix(':')
        .and_then(|rest| rest.find(':').map(|k| (&rest[..k], &rest[k + 1..])))
        .is_some_and(|(name, after)| {
            !name.is_empty() && !name.contains('`') && (after.is_empty() || after.starts_with(' '))
        })
}

/// Whether `line` is an enumerated list item, and the number it is written
/// with: "3. ", "3) ", "(3) "; `Some(None)` for "#. ", numbered by its place.
/// Lettered and Roman items are not counted.
fn enumerated(line: &str) -> Option<Option<u64>> {
    if line.starts_with("#. ") {
        return Some(None);
    }
    let body = line.strip_prefix('(').unwrap_or(line);
    let digits = body.bytes().take_while(u8::is_ascii_digit).count();
    let marker = &body[digits..];
    let closes = marker.starts_with(") ") || (marker.starts_with(". ") && body.len() == line.len());
    ((1..=3).contains(&digits) && closes).then(|| body[..digits].parse().ok())
}

/// Whether `line` (which [`item_text`] reads) is a list item, not a field.
fn item_is_list(line: &str) -> bool {
    !line.starts_with(':')
}

/// What a list item, a field or a line of a line block says, without its
/// marker; `None` for other text.
fn item_text(line: &str) -> Option<&str> {
    for marker in ["- ", "* ", "+ ", "• ", "| ", "#. "] {
        if let Some(rest) = line.strip_prefix(marker) {
            return Some(rest);
        }
    }
    // "1. ", "12) ", "(a) ", "a. "
    let body = line.strip_prefix('(').unwrap_or(line);
    let n = body.find(|c: char| !c.is_ascii_alphanumeric()).unwrap_or(0);
    if (1..=3).contains(&n)
        && (body[..n].chars().all(|c| c.is_ascii_digit()) || n == 1)
        && (body[n..].starts_with(". ") || body[n..].starts_with(") "))
    {
        return Some(&body[n + 2..]);
    }
    // ":param name: text"
    if line.starts_with(':')
        && let Some(end) = line[1..].find(": ").map(|e| e + 1)
        && !line[1..end].contains('`')
    {
        return Some(line);
    }
    None
}

/// A directive (`.. name:: arguments` and its indented content), a comment
/// or a link target.
fn directive(lines: &[&str], i: usize, base: usize, w: &mut Walk, rest: &str) -> usize {
    let own = indent(lines[i]);
    let end = indented_end(lines, i + 1, own);
    let Some((name, args)) = rest.split_once("::") else {
        return end; // a comment, a link target, a footnote
    };
    if name.starts_with('|') || name.contains(' ') {
        return end; // a substitution's definition
    }
    let name = name.trim().to_ascii_lowercase();
    let bare = name.rsplit(':').next().unwrap_or(&name);
    let args = args.trim();
    // The content starts after the options (":linenos:") right under it.
    let mut from = i + 1;
    while from < end && lines[from].trim().starts_with(':') && !lines[from].trim().is_empty() {
        from += 1;
    }
    // The content's first line; with no content, the directive's own (a note
    // may say all it says on its first line).
    let at = base + if from < end { from } else { i } + 1;
    if CODE.contains(&bare) {
        // A caption (":caption: ``/etc/hosts``") names the code: it goes first.
        let caption = lines[i + 1..from]
            .iter()
            .find_map(|l| l.trim().strip_prefix(":caption:"));
        let joins = w.open();
        if let Some(caption) = caption {
            let caption = text::fold_whitespace(&inline(caption));
            w.add(Part::Prose(caption), at, joins);
        }
        let joins = w.open();
        w.add(Part::Code(dedent(&lines[from..end])), at, joins);
    } else if PROSE.contains(&bare) {
        let title = title_of(bare, args);
        if !title.is_empty() {
            w.add(
                Part::Prose(text::fold_whitespace(&inline(&title))),
                at,
                false,
            );
        }
        nested(&lines[from..end], base + from, w);
    } else if OBJECTS.contains(&bare) && !args.is_empty() && from < end {
        // The object's name opens its passage; its description, indented
        // under it, goes on with it; an object inside it opens its own.
        w.close();
        w.add(Part::Prose(text::fold_whitespace(&inline(args))), at, false);
        nested(&lines[from..end], base + from, w);
        w.close();
    }
    end
}

/// Directives nested deeper than this are read as their text: each level
/// reads its content again, and a page may nest thousands.
const MAX_NESTING: usize = 16;

/// Reads the content of a directive.
fn nested(lines: &[&str], base: usize, w: &mut Walk) {
    if w.depth >= MAX_NESTING {
        let t = text::fold_whitespace(&inline(&dedent(lines)));
        w.add(Part::Prose(t), base + 1, true);
        return;
    }
    w.depth += 1;
    blocks(lines, base, w);
    w.depth -= 1;
}

/// A grid table (`+---+---+` borders): a passage per row, cells named by the
/// header row above `+===+`.
fn grid_table(lines: &[&str], i: usize, at: usize, w: &mut Walk) -> usize {
    let mut end = i;
    while end < lines.len() && !lines[end].trim().is_empty() {
        end += 1;
    }
    w.close();
    let mut head: Vec<String> = Vec::new();
    let mut row: Vec<String> = Vec::new();
    // The line the row being read starts at.
    let mut row_at = at;
    for (k, line) in lines[i..end].iter().enumerate() {
        let t = line.trim();
        if t.starts_with('+') {
            if t.starts_with("+=") {
                head = row
                    .drain(..)
                    .map(|h| text::fold_whitespace(&inline(&h)))
                    .collect();
            } else if !row.is_empty() {
                table_row(&head, std::mem::take(&mut row), row_at, w);
            }
            continue;
        }
        if row.is_empty() {
            row_at = at + k;
        }
        let cells: Vec<&str> = t.trim_matches('|').split('|').collect();
        if row.len() < cells.len() {
            row.resize(cells.len(), String::new());
        }
        for (cell, text) in row.iter_mut().zip(cells) {
            cell.push(' ');
            cell.push_str(text.trim());
        }
    }
    if !row.is_empty() {
        table_row(&head, row, row_at, w);
    }
    end
}

/// Most columns of a simple table.
const MAX_COLUMNS: usize = 64;

/// A simple table (columns under `=====  =====`): a passage per row, cells
/// named by the header between the first two borders when there are three.
fn simple_table(lines: &[&str], i: usize, at: usize, w: &mut Walk) -> usize {
    let border = lines[i];
    let mut columns: Vec<usize> = Vec::new();
    let mut prev = ' ';
    for (k, c) in border.char_indices() {
        // Each row is cut at every column: a border of thousands would make
        // that quadratic; past the cap, the last column holds the rest.
        if c == '=' && prev == ' ' && columns.len() < MAX_COLUMNS {
            columns.push(k);
        }
        prev = c;
    }
    // The table ends at its last border: a border followed by a blank line.
    let mut end = i + 1;
    let mut borders = vec![i];
    while end < lines.len() {
        if is_table_border(lines[end].trim()) {
            borders.push(end);
            if lines.get(end + 1).is_none_or(|l| l.trim().is_empty()) {
                end += 1;
                break;
            }
        }
        end += 1;
    }
    w.close();
    // Columns are counted in characters: a border is ASCII, a row may not be.
    let cells = |line: &str| -> Vec<String> {
        let mut at: Vec<usize> = line.char_indices().map(|(b, _)| b).collect();
        at.push(line.len());
        let byte = |col: usize| at[col.min(at.len() - 1)];
        (0..columns.len())
            .map(|c| {
                let to = columns.get(c + 1).map_or(line.len(), |&n| byte(n));
                inline(line[byte(columns[c])..to].trim())
            })
            .collect()
    };
    let head = if borders.len() >= 3 {
        lines[i + 1..borders[1]]
            .first()
            .map(|l| cells(l))
            .unwrap_or_default()
    } else {
        Vec::new()
    };
    let body_from = if borders.len() >= 3 {
        borders[1] + 1
    } else {
        i + 1
    };
    // A line whose first cell is empty goes on with the row above it.
    let mut rows: Vec<(usize, Vec<String>)> = Vec::new();
    for (k, line) in lines[body_from..end].iter().enumerate() {
        if line.trim().is_empty() || is_table_border(line.trim()) {
            continue;
        }
        let row = cells(line);
        match rows.last_mut() {
            Some((_, above)) if row.first().is_some_and(String::is_empty) => {
                for (cell, more) in above.iter_mut().zip(row) {
                    cell.push(' ');
                    cell.push_str(&more);
                }
            }
            _ => rows.push((at + body_from - i + k, row)),
        }
    }
    for (line, row) in rows {
        table_row(&head, row, line, w);
    }
    end
}

fn table_row(head: &[String], cells: Vec<String>, line: usize, w: &mut Walk) {
    let cells = cells
        .into_iter()
        .map(|c| text::fold_whitespace(&inline(&c)));
    w.p.table_row(head, cells, line);
}

/// Text without inline markup: ``` ``code`` ``` and `*emphasis*` keep their
/// words, a role (`:func:`url_for``) its text (`~a.b` its last part), a link
/// (`` `Flask <https://…>`_ ``) its text; footnote references go.
pub(super) fn inline(t: &str) -> String {
    let mut out = String::with_capacity(t.len());
    let mut rest = t;
    while let Some(k) = rest.find(['`', ':', '*', '[', '\\']) {
        out.push_str(&rest[..k]);
        let at = &rest[k..];
        if let Some(inner) = at.strip_prefix("``")
            && let Some(end) = inner.find("``")
        {
            out.push_str(&inner[..end]);
            rest = &inner[end + 2..];
        } else if let Some((text, used)) = interpreted(at) {
            out.push_str(&text);
            rest = &at[used..];
        } else if at.starts_with('*') {
            rest = at.trim_start_matches('*');
        } else if let Some(end) = footnote_reference(at) {
            rest = &at[end..];
        } else if let Some(escaped) = at.strip_prefix('\\') {
            // An escaped character is itself, not markup.
            let c = escaped.chars().next().map_or(0, char::len_utf8);
            out.push_str(&escaped[..c]);
            rest = &escaped[c..];
        } else {
            let c = at.chars().next().map_or(1, char::len_utf8);
            out.push_str(&at[..c]);
            rest = &at[c..];
        }
    }
    out.push_str(rest);
    out
}

/// The length of the footnote or citation reference (`[1]_`, `[#note]_`) at
/// the start of `at`. Labels are short: looking no further keeps a page of
/// `[`s linear.
fn footnote_reference(at: &str) -> Option<usize> {
    let label = at.strip_prefix('[')?;
    let window = &label.as_bytes()[..label.len().min(64)];
    let close = window
        .iter()
        .position(|&b| b == b']' || b.is_ascii_whitespace())?;
    (window[close] == b']' && label.as_bytes().get(close + 1) == Some(&b'_')).then_some(close + 3)
}

/// A role or interpreted text or link at the start of `at` (`:role:`x``,
/// `` `x <url>`_ ``, `` `x`_ ``): its text, and the bytes it took.
fn interpreted(at: &str) -> Option<(String, usize)> {
    let mut used = 0;
    if let Some(after) = at.strip_prefix(':') {
        // A role's name ("func", "py:func") ends in ":`". Names are short:
        // looking no further keeps a page of "a:a:a…" linear.
        let window = &after.as_bytes()[..after.len().min(64)];
        let is_name = |b: &u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b':' | b'.');
        let len = window.iter().position(|b| !is_name(b))?;
        if len < 2 || window[len - 1] != b':' || window[len] != b'`' {
            return None;
        }
        used = 1 + len;
    }
    let body = at[used..].strip_prefix('`')?;
    let end = body.find('`')?;
    let mut text = &body[..end];
    used += 1 + end + 1;
    for tail in ["__", "_"] {
        if at[used..].starts_with(tail) {
            used += tail.len();
            break;
        }
    }
    // "text <target>" shows its text; "~a.b.c" its last part; "!x" x.
    if let Some(open) = text.rfind('<').filter(|_| text.ends_with('>')) {
        let shown = text[..open].trim_end();
        text = if shown.is_empty() {
            &text[open + 1..text.len() - 1]
        } else {
            shown
        };
    }
    let text = text.trim_start_matches('!');
    let text = match text.strip_prefix('~') {
        Some(path) => path.rsplit('.').next().unwrap_or(path),
        None => text,
    };
    Some((text.to_string(), used))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::knowledge::passages::testing::{code, paths_and_parts, prose};

    /// (heading path, parts) of each passage of `page`.
    fn read(page: &str) -> Vec<(String, Vec<Part>)> {
        paths_and_parts(document(page).groups)
    }

    #[test]
    fn titles_nest_by_the_order_their_styles_first_appear() {
        let page = "=============\nConfiguration\n=============\n\nIntro.\n\nBuiltin Values\n--------------\n\nText.\n\nDebug\n~~~~~\n\nDeep.\n\nFiles\n-----\n\nBack up.\n";
        let got = read(page);
        let paths: Vec<&str> = got.iter().map(|(h, _)| h.as_str()).collect();
        assert_eq!(
            paths,
            [
                "Configuration",
                "Configuration › Builtin Values",
                "Configuration › Builtin Values › Debug",
                "Configuration › Files"
            ]
        );
        let g = document(page).groups;
        assert_eq!(g[0].headings[0].0, 1);
        assert_eq!(g[1].anchor.as_deref(), Some("builtin-values"));
        assert_eq!(g[3].line, 20);
    }

    #[test]
    fn blocks_map_as_markdown_blocks_do() {
        type Case<'a> = (&'a str, &'a [&'a [Part]]);
        let cases: &[Case] = &[
            // A "::" paragraph and its literal block: one passage, the block code.
            (
                "Run the app::\n\n    $ flask --app hello run\n      * Running\n\nNext.\n",
                &[
                    &[
                        prose("Run the app:"),
                        code("$ flask --app hello run\n  * Running"),
                    ],
                    &[prose("Next.")],
                ],
            ),
            (
                "Install it:\n\n.. code-block:: text\n    :caption: ``shell``\n\n    $ pip install flask\n",
                &[&[
                    prose("Install it:"),
                    prose("shell"),
                    code("$ pip install flask"),
                ]],
            ),
            // Lists, fields and indented text go on with the paragraph.
            (
                "Steps to take:\n\n-   one\n    more\n-   two\n\n:param name: the name\n",
                &[&[
                    prose("Steps to take:"),
                    prose("one more"),
                    prose("two"),
                    prose(":param name: the name"),
                ]],
            ),
            // Admonitions are prose; a versionadded says so.
            (
                "Text.\n\n.. note::\n    Mind the ``SECRET_KEY``.\n\n.. versionadded:: 2.2\n    Added it.\n",
                &[
                    &[prose("Text."), prose("Mind the SECRET_KEY.")],
                    &[prose("New in version 2.2."), prose("Added it.")],
                ],
            ),
            // An object's name opens the passage of its description.
            (
                "Values:\n\n.. py:data:: SECRET_KEY\n\n    A secret key.\n\n    Default: ``None``\n",
                &[
                    &[prose("Values:")],
                    &[
                        prose("SECRET_KEY"),
                        prose("A secret key."),
                        prose("Default: None"),
                    ],
                ],
            ),
            // Comments, targets, toctrees, autodoc and images are not knowledge.
            (
                ".. _setup:\n\n.. toctree::\n   :maxdepth: 2\n\n   install\n\n.. autoclass:: Flask\n   :members:\n\n..\n   A comment.\n\n.. image:: logo.png\n\nKept.\n",
                &[&[prose("Kept.")]],
            ),
            // Tables: a passage per row, cells named by the header.
            (
                "=====  ======\nName   Value\n=====  ======\nport   5000\nhost   local\n=====  ======\n",
                &[
                    &[prose("Name: port; Value: 5000")],
                    &[prose("Name: host; Value: local")],
                ],
            ),
            (
                "+------+-------+\n| Name | Value |\n+======+=======+\n| port | 5000  |\n| (tcp)|       |\n+------+-------+\n",
                &[&[prose("Name: port (tcp); Value: 5000")]],
            ),
            (
                "=====  ======\nNamé   Value\n=====  ======\nport   5000\n       (tcp)\nhôst   local\n=====  ======\n",
                &[
                    &[prose("Namé: port; Value: 5000 (tcp)")],
                    &[prose("Namé: hôst; Value: local")],
                ],
            ),
            // A list item's next paragraph is no literal block; Sphinx's page
            // fields are not text.
            (
                ":orphan:\n\n- Do this::\n\n  Then that.\n\n.. py:class:: Flask\n\n   The app.\n\n   .. py:method:: run()\n\n      Runs it.\n",
                &[
                    &[prose("Do this:"), prose("Then that.")],
                    &[prose("Flask"), prose("The app.")],
                    &[prose("run()"), prose("Runs it.")],
                ],
            ),
            (
                ">>> app.config['DEBUG']\nFalse\n",
                &[&[code(">>> app.config['DEBUG']\nFalse")]],
            ),
            // Enumerated items keep their numbers, as written or (`#.`) by
            // their place; a nested list counts its own; a paragraph at the
            // list's indent ends it.
            (
                "To restore:\n\n#. Stop it.\n\n   Really.\n\n   #. nested\n\n#. Start it.\n(7) Seven.\n\nAfter.\n\n3) Three.\n\na. a letter\n",
                &[
                    &[
                        prose("To restore:"),
                        prose("1. Stop it."),
                        prose("Really."),
                        prose("1. nested"),
                        prose("2. Start it."),
                        prose("7. Seven."),
                    ],
                    &[prose("After."), prose("3. Three."), prose("a letter")],
                ],
            ),
        ];
        for (page, want) in cases {
            let got: Vec<Vec<Part>> = read(page).into_iter().map(|(_, p)| p).collect();
            assert_eq!(got, *want, "{page}");
        }
    }

    #[test]
    fn inline_markup_keeps_its_words() {
        let cases = [
            (
                "Use :func:`url_for` and :meth:`~flask.Flask.run`.",
                "Use url_for and run.",
            ),
            (
                "See :doc:`the guide </deploying/index>` now.",
                "See the guide now.",
            ),
            (
                "`nginx`_ and `Flask <https://x.org>`__ are *fast* and **small**.",
                "nginx and Flask are fast and small.",
            ),
            (
                "Set ``DEBUG = True`` [#]_ (see [1]_).",
                "Set DEBUG = True  (see ).",
            ),
            (
                "A \\*literal\\* star, a [bracket] and a: colon.",
                "A *literal* star, a [bracket] and a: colon.",
            ),
        ];
        for (t, want) in cases {
            assert_eq!(inline(t), want, "{t}");
        }
    }
}
