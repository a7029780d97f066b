//! AsciiDoc (Antora and Asciidoctor docs: `.adoc`) → passages, mapped as
//! Markdown is: `==` section titles make the heading path (their anchor as
//! Asciidoctor makes it, with the page's `:idprefix:` and `:idseparator:`), a
//! paragraph with the listing block (`----`, a fenced block) and list after
//! it is one passage, a table row (`|===`) is one passage. Admonitions
//! (`NOTE:`, `[TIP]` blocks) and example, sidebar and quote blocks are
//! prose. What is not knowledge — comments, attribute entries, preprocessor
//! lines (`include::`, `ifdef::`), block macros (`image::`), passthrough
//! blocks — is left out; links and cross references keep their text, and
//! `{attribute}` references read as the page defines them.

use std::collections::HashMap;

use super::Document;
use super::passages::{Part, Passages, dedent, numbered};
use crate::text;

/// Delimited blocks whose content is read as blocks (example, sidebar,
/// quote, open): their lines, by the delimiter's character.
const COMPOUND: &[char] = &['=', '*', '_'];

/// Delimited blocks nested deeper than this are read as text.
const MAX_NESTING: usize = 16;

struct Walk {
    p: Passages,
    /// The page's attributes (`:name: value`), for `{name}` references.
    attributes: HashMap<String, String>,
    /// `.Title` or `[source,yaml]` / `[[id]]` lines waiting for their block.
    title: Option<String>,
    anchor: Option<String>,
    /// The block attribute line waiting for its block (`cols="1,2"`, `%header`).
    attrs: Option<String>,
    /// A list continuation (`+`) came last: the paragraph after it is the
    /// item's, and ends no numbered list.
    continued: bool,
}

/// The passages of an AsciiDoc page; its title is its `= Title`.
pub(super) fn document(body: &str) -> Document {
    let lines: Vec<&str> = body.lines().collect();
    let mut w = Walk {
        p: Passages::default(),
        attributes: HashMap::new(),
        title: None,
        anchor: None,
        attrs: None,
        continued: false,
    };
    blocks(&lines, 0, &mut w);
    Document {
        title: None,
        groups: w.p.finish(),
    }
}

/// The delimiter of a delimited block `line` opens (`----`, `....`, `====`,
/// `****`, `____`, `++++`, `////`, `--`, a fence), if it is one.
fn delimiter(line: &str) -> Option<&str> {
    let t = line.trim_end();
    if t == "--" || t.starts_with("```") {
        return Some(if t == "--" { "--" } else { "```" });
    }
    let c = t.chars().next()?;
    (t.len() >= 4 && "-.=*_+/".contains(c) && t.chars().all(|d| d == c)).then_some(t)
}

/// The level and text of a section title (`== Setup`, `# Setup`).
fn section_title(line: &str) -> Option<(u8, &str)> {
    let marks = line.bytes().take_while(|&b| b == b'=' || b == b'#').count();
    let rest = line.get(marks..)?;
    let uniform = line.bytes().take(marks).all(|b| b == line.as_bytes()[0]);
    ((1..=6).contains(&marks) && uniform && rest.starts_with(' ') && !rest.trim().is_empty())
        .then(|| (marks as u8, rest.trim()))
}

/// Reads the blocks of `lines` (the 0-based line `base` of the page first).
fn blocks(lines: &[&str], base: usize, w: &mut Walk) {
    let mut i = 0;
    while i < lines.len() {
        if lines[i].trim().is_empty() {
            i += 1;
            continue;
        }
        i = block(lines, i, base, w).max(i + 1);
    }
}

/// Reads the block at `lines[i]`; returns where the next one may start.
fn block(lines: &[&str], i: usize, base: usize, w: &mut Walk) -> usize {
    let line = lines[i].trim_end();
    let at = base + i + 1;
    if let Some(d) = delimiter(line) {
        let next = delimited(lines, i, base, w, d);
        // What a `+` attached to an item was this block, not the text after it.
        w.continued = false;
        return next;
    }
    if line.starts_with("//") {
        return i + 1; // a comment line
    }
    if let Some((name, value)) = attribute_entry(line) {
        w.attributes.insert(name.to_string(), value.to_string());
        return i + 1;
    }
    if is_macro_line(line) {
        return i + 1;
    }
    if let Some(attrs) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
        block_attributes(attrs, w);
        return i + 1;
    }
    if let Some(title) = line.strip_prefix('.')
        && title.starts_with(|c: char| !c.is_whitespace() && c != '.')
    {
        w.title = Some(title.to_string());
        return i + 1;
    }
    if let Some((level, title)) = section_title(line) {
        let title = super::clip(&inline(title, &w.attributes), super::MAX_NAME_CHARS);
        let anchor = w
            .anchor
            .take()
            .or_else(|| Some(section_id(&title, &w.attributes)));
        w.title = None;
        w.p.heading(level, title, anchor);
        return i + 1;
    }
    if line.starts_with("|===") {
        w.continued = false;
        return table(lines, i, at, w);
    }
    paragraph(lines, i, base, w)
}

/// `:name: value` (or `:name!:`, which unsets): an attribute entry.
fn attribute_entry(line: &str) -> Option<(&str, &str)> {
    let rest = line.strip_prefix(':')?;
    let end = rest.find(':')?;
    let name = &rest[..end];
    let valid = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || c == '-' || c == '_' || c == '!');
    (valid && (rest.len() == end + 1 || rest[end + 1..].starts_with(' ')))
        .then(|| (name.trim_matches('!'), rest[end + 1..].trim()))
}

/// Whether `line` is a preprocessor directive or a block macro: `include::`,
/// `ifdef::…[]`, `image::…[]`, `toc::[]`.
fn is_macro_line(line: &str) -> bool {
    const NAMES: &[&str] = &[
        "include", "ifdef", "ifndef", "ifeval", "endif", "image", "video", "audio", "toc", "tag",
        "end",
    ];
    line.split_once("::").is_some_and(|(name, rest)| {
        NAMES.contains(&name) && !rest.contains(' ') && line.ends_with(']')
    })
}

/// `[[id]]`, `[#id.role]`, `[source,yaml]`, `[NOTE]`: what the next block is.
fn block_attributes(attrs: &str, w: &mut Walk) {
    w.attrs = Some(attrs.to_string());
    let id = if let Some(id) = attrs.strip_prefix('[').and_then(|a| a.strip_suffix(']')) {
        Some(id.split(',').next().unwrap_or(id))
    } else {
        attrs
            .strip_prefix('#')
            .map(|a| a.split(['.', '%', ',']).next().unwrap_or(a))
    };
    if let Some(id) = id.map(str::trim).filter(|id| !id.is_empty()) {
        w.anchor = Some(id.to_string());
    }
}

/// A section's id as Asciidoctor makes it: `idprefix` (default `_`), then
/// the title in lower case, other characters as `idseparator` (default `_`).
fn section_id(title: &str, attributes: &HashMap<String, String>) -> String {
    let prefix = attributes.get("idprefix").map_or("_", String::as_str);
    let sep = attributes.get("idseparator").map_or("_", String::as_str);
    // Spaces, dots and hyphens separate words; other punctuation goes
    // ("What's new?" is "_whats_new").
    let mut id = String::from(prefix);
    let mut pending = false;
    for c in title.chars() {
        if c.is_alphanumeric() || c == '_' {
            if pending && id.len() > prefix.len() {
                id.push_str(sep);
            }
            pending = false;
            id.extend(c.to_lowercase());
        } else if matches!(c, ' ' | '.' | '-') {
            pending = true;
        }
    }
    id
}

/// A delimited block from `lines[i]` to its closing delimiter.
/// Whether blocks delimited by `d` hold text verbatim (listing, literal,
/// passthrough, comment, fence): nothing inside them closes another block.
fn verbatim(d: &str) -> bool {
    d != "--" && (d.starts_with(['-', '.', '+', '/']) || d == "```")
}

/// The line that closes the block `d` opened before `from`: for a block of
/// blocks, past the listings inside it ("====" in a listing in an example
/// does not close the example).
fn closing(lines: &[&str], from: usize, d: &str) -> usize {
    let mut k = from;
    while k < lines.len() {
        let l = lines[k].trim_end();
        if l == d {
            return k;
        }
        if !verbatim(d)
            && let Some(inner) = delimiter(l).filter(|inner| verbatim(inner))
        {
            k = lines[k + 1..]
                .iter()
                .position(|x| x.trim_end() == inner)
                .map_or(lines.len(), |p| k + 1 + p);
        }
        k += 1;
    }
    lines.len()
}

fn delimited(lines: &[&str], i: usize, base: usize, w: &mut Walk, d: &str) -> usize {
    let close = closing(lines, i + 1, d);
    w.attrs = None;
    let inner = &lines[i + 1..close];
    let next = (close + 1).min(lines.len()).max(i + 1);
    let at = base + i + 2;
    let title = w.title.take();
    w.anchor = None;
    let c = d.chars().next().unwrap_or('-');
    if c == '/' || c == '+' {
        return next; // a comment or a passthrough (raw HTML)
    }
    let is_code = c == '-' && d != "--" || c == '.' || d == "```";
    if let Some(t) = title {
        // A listing's title ("Example") joins the passage its code would.
        let t = text::fold_whitespace(&inline(&t, &w.attributes));
        let joins = w.p.open() && (is_code || text::is_lead_in(&t));
        w.p.add(Part::Prose(t), at - 1, joins);
    }
    if is_code {
        let code = inner.join("\n");
        let joins = w.p.open();
        w.p.add(Part::Code(code.trim_matches('\n').to_string()), at, joins);
    } else if COMPOUND.contains(&c) || d == "--" {
        if w.p.depth >= MAX_NESTING {
            let t = text::fold_whitespace(&inline(&inner.join("\n"), &w.attributes));
            w.p.add(Part::Prose(t), at, true);
        } else {
            w.p.depth += 1;
            blocks(inner, base + i + 1, w);
            w.p.depth -= 1;
        }
    }
    next
}

/// The number of the list item `first` starts when it is a numbered one
/// (". " by its place, from the list's `[start=4]` when its `attrs` say,
/// "3. " as written; Asciidoctor letters ".. " items, which have none);
/// other text ends the numbered lists at its depth (a paragraph: all, unless
/// a `+` attached it to an item).
fn item_number((first, attrs): (&str, Option<&str>), continued: bool, w: &mut Walk) -> Option<u64> {
    let t = first.trim_start();
    let marks = |c: u8| t.bytes().take_while(|&b| b == c).count();
    let (dots, digits) = (
        marks(b'.'),
        t.bytes().take_while(u8::is_ascii_digit).count(),
    );
    if dots == 1 && t[dots..].starts_with(' ') {
        let start = attrs
            .and_then(|a| a.split_once("start="))
            .and_then(|(_, s)| {
                let s = s.trim_start_matches('"');
                s[..s.bytes().take_while(u8::is_ascii_digit).count()]
                    .parse()
                    .ok()
            });
        return Some(w.p.numbers.item(1, start));
    }
    if dots > 1 && dots <= 5 && t[dots..].starts_with(' ') {
        w.p.numbers.other(dots);
        return None;
    }
    if (1..=9).contains(&digits) && t[digits..].starts_with(". ") {
        return Some(w.p.numbers.item(1, t[..digits].parse().ok()));
    }
    let bullets = marks(b'*').max(marks(b'-'));
    if bullets > 0 && t[bullets..].starts_with(' ') {
        w.p.numbers.other(bullets);
    } else if !continued {
        w.p.numbers.other(0);
    }
    None
}

/// Whether `line` starts a list item or a description list entry; its text.
fn item_text(line: &str) -> Option<&str> {
    let t = line.trim_start();
    let marks = t
        .bytes()
        .take_while(|&b| b == b'*' || b == b'-' || b == b'.')
        .count();
    if marks > 0 && t[marks..].starts_with(' ') && (marks <= 5) {
        return Some(t[marks..].trim());
    }
    // "1. ", "<1> " (a callout)
    let digits = t.bytes().take_while(u8::is_ascii_digit).count();
    if digits > 0 && t[digits..].starts_with(". ") {
        return Some(t[digits + 2..].trim());
    }
    if t.starts_with('<')
        && let Some(end) = t.find("> ")
        && t[1..end].bytes().all(|b| b.is_ascii_digit() || b == b'.')
    {
        return Some(t[end + 2..].trim());
    }
    None
}

/// Admonition paragraph labels.
const ADMONITIONS: &[&str] = &["NOTE: ", "TIP: ", "IMPORTANT: ", "WARNING: ", "CAUTION: "];

/// A paragraph, list item, description list entry or admonition; an
/// indented (literal) paragraph is code.
fn paragraph(lines: &[&str], i: usize, base: usize, w: &mut Walk) -> usize {
    let mut end = i + 1;
    while end < lines.len() {
        let l = lines[end].trim_end();
        if l.trim().is_empty()
            || delimiter(l).is_some()
            || item_text(l).is_some()
            || description(l).is_some()
            || is_macro_line(l)
            || attribute_entry(l).is_some()
            || l == "+"
            || l.starts_with("//")
            || (l.starts_with('[') && l.ends_with(']'))
        {
            break;
        }
        end += 1;
    }
    let at = base + i + 1;
    let first = lines[i];
    w.anchor = None;
    let attrs = w.attrs.take();
    // A paragraph's title (".Caching") is said first.
    let titled = w.title.take().map(|t| {
        let t = text::fold_whitespace(&inline(&t, &w.attributes));
        let joins = w.p.open() && text::is_lead_in(&t);
        w.p.add(Part::Prose(t), at, joins);
    });
    if first.starts_with([' ', '\t']) && item_text(first).is_none() {
        let joins = w.p.open();
        w.p.add(Part::Code(dedent(&lines[i..end])), at, joins);
        return end;
    }
    if first.trim_end() == "+" {
        w.continued = true;
        return i + 1; // a list continuation: what follows goes on with it
    }
    let item = item_text(first);
    let continued = std::mem::replace(&mut w.continued, false);
    let number = item_number((first, attrs.as_deref()), continued, w);
    let mut t = lines[i..end].join("\n");
    if let Some(rest) = item {
        t = format!("{rest}\n{}", lines[i + 1..end].join("\n"));
    }
    let admonition = ADMONITIONS.iter().find_map(|a| t.strip_prefix(a));
    let t = admonition.map(str::to_string).unwrap_or(t);
    // "term:: definition": a description list entry.
    let described = description(&t);
    let t = text::fold_whitespace(&inline(described.as_deref().unwrap_or(&t), &w.attributes));
    let t = numbered(number, t);
    let joins = w.p.open()
        && (titled.is_some() || item.is_some() || described.is_some() || text::is_lead_in(&t));
    w.p.add(Part::Prose(t), at, joins);
    end
}

/// "term:: definition" (or "term::" alone) as "term: definition".
fn description(t: &str) -> Option<String> {
    let first = t.lines().next()?;
    for mark in [":::: ", "::: ", ":: ", ";; "] {
        if let Some(k) = first.find(mark) {
            return Some(format!("{}: {}", &t[..k], &t[k + mark.len()..]));
        }
    }
    let term = first
        .strip_suffix("::::")
        .or_else(|| first.strip_suffix(":::"))
        .or_else(|| first.strip_suffix("::"))
        .or_else(|| first.strip_suffix(";;"))?;
    Some(format!("{term}: {}", &t[first.len()..]))
}

/// A table (`|===` … `|===`): a passage per row, cells named by the header
/// row (the first, when a blank line follows it or the table says
/// `options="header"`).
fn table(lines: &[&str], i: usize, at: usize, w: &mut Walk) -> usize {
    let close = lines[i + 1..]
        .iter()
        .position(|l| l.trim_end().starts_with("|==="))
        .map_or(lines.len(), |k| i + 1 + k);
    w.title = None;
    w.anchor = None;
    let attrs = w.attrs.take().unwrap_or_default();
    let body = &lines[i + 1..close];
    let first = body.iter().position(|l| !l.trim().is_empty());
    // Columns: as `cols` says, else as many as the first row's line has cells.
    let columns = column_count(&attrs)
        .or_else(|| first.map(|f| cells_of(body[f]).1.len()))
        .unwrap_or(1)
        .max(1);
    let header = attrs.contains("header")
        || first.is_some_and(|f| body.get(f + 1).is_some_and(|l| l.trim().is_empty()));
    // Each cell, and the line (in the body) it starts on: a row cites the
    // line its first cell is on, however the cells fall on lines.
    let mut cells: Vec<(String, usize)> = Vec::new();
    for (k, line) in body.iter().enumerate() {
        let (lead, more) = cells_of(line);
        // Text before the first "|" goes on with the cell before.
        if !lead.trim().is_empty()
            && let Some((last, _)) = cells.last_mut()
        {
            last.push(' ');
            last.push_str(lead.trim());
        }
        cells.extend(more.into_iter().map(|c| (c, k)));
    }
    let cells: Vec<(String, usize)> = cells
        .into_iter()
        .map(|(c, k)| (text::fold_whitespace(&inline(&c, &w.attributes)), k))
        .collect();
    let mut rows = cells.chunks(columns);
    let head: Vec<String> = if header {
        let first = rows.next().unwrap_or_default();
        first.iter().map(|(c, _)| c.clone()).collect()
    } else {
        Vec::new()
    };
    for row in rows {
        let line = at + 1 + row[0].1;
        w.p.table_row(&head, row.iter().map(|(c, _)| c.clone()), line);
    }
    (close + 1).min(lines.len()).max(i + 1)
}

/// How many columns `cols="1,2a"`, `cols="3*"` or `cols=3` gives.
fn column_count(attrs: &str) -> Option<usize> {
    let value = attrs.split_once("cols=")?.1;
    let value = match value.strip_prefix('"') {
        Some(v) => v.split('"').next().unwrap_or(v),
        None => value.split(',').next().unwrap_or(value),
    };
    if let Ok(n) = value.trim().parse::<usize>() {
        return Some(n.min(256));
    }
    let n = value
        .split(',')
        .map(|c| match c.split_once('*') {
            Some((n, _)) => n.trim().parse::<usize>().unwrap_or(1),
            None => 1,
        })
        .sum::<usize>();
    Some(n.min(256))
}

/// Whether `token` is a cell's format ("a", "2+", "3*", ".^h"), written just
/// before its "|".
fn is_cell_spec(token: &str) -> bool {
    let (body, style) = match token.chars().last() {
        Some(c) if "adehlmsv".contains(c) => (&token[..token.len() - 1], true),
        _ => (token, false),
    };
    !token.is_empty()
        && token.len() <= 8
        && body.chars().all(|c| "0123456789.*+<^>".contains(c))
        && (style || body.contains(['*', '+', '<', '^', '>']))
}

/// A table line's text before its first "|", and its cells: "\|" is a "|"
/// in a cell; each cell's format goes, and a cell spanning columns ("2+|")
/// leaves the columns it covers empty.
fn cells_of(line: &str) -> (String, Vec<String>) {
    let mut segments: Vec<String> = vec![String::new()];
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'|') => {
                if let Some(s) = segments.last_mut() {
                    s.push('|');
                }
                chars.next();
            }
            '|' => segments.push(String::new()),
            c => {
                if let Some(s) = segments.last_mut() {
                    s.push(c);
                }
            }
        }
    }
    // The format of the cell after each segment ends it.
    let mut specs: Vec<String> = vec![String::new(); segments.len()];
    for k in 0..segments.len().saturating_sub(1) {
        let s = &segments[k];
        let token = s.rsplit(char::is_whitespace).next().unwrap_or("");
        if is_cell_spec(token) {
            specs[k + 1] = token.to_string();
            let keep = s.len() - token.len();
            segments[k].truncate(keep);
        }
    }
    let lead = segments.remove(0);
    let mut cells = Vec::new();
    for (cell, spec) in segments.into_iter().zip(specs.into_iter().skip(1)) {
        cells.push(cell.trim().to_string());
        let span = spec
            .split_once('+')
            .and_then(|(n, _)| {
                n.rsplit('.')
                    .next_back()
                    .and_then(|n| n.parse::<usize>().ok())
            })
            .filter(|_| !spec.starts_with('.'))
            .unwrap_or(1);
        cells.extend(std::iter::repeat_n(String::new(), span.clamp(1, 64) - 1));
    }
    (lead, cells)
}

/// Text without inline markup: `` `code` `` and `*strong*` keep their words,
/// a link (`https://x[text]`, `xref:page.adoc[text]`, `<<id,text>>`) its text,
/// `{name}` the page's value for it.
pub(super) fn inline(t: &str, attributes: &HashMap<String, String>) -> String {
    let mut out = String::with_capacity(t.len());
    let mut rest = t;
    while let Some(k) = rest.find(['`', '*', '_', '[', '<', '{', '+']) {
        let (before, at) = rest.split_at(k);
        out.push_str(before);
        let c = at.as_bytes()[0];
        let used = match c {
            b'`' => at[1..].find('`').map(|e| {
                out.push_str(&at[1..1 + e]);
                e + 2
            }),
            // "+text+" passes text through; "C++" and "a + b" are text.
            b'+' if !out.chars().next_back().is_some_and(char::is_alphanumeric)
                && at[1..].starts_with(|c: char| !c.is_whitespace() && c != '+') =>
            {
                at[1..].find('+').map(|e| {
                    out.push_str(&at[1..1 + e]);
                    e + 2
                })
            }
            b'+' => None,
            b'[' => macro_text(&mut out, at),
            b'<' => cross_reference(&mut out, at),
            b'{' => attribute_reference(&mut out, at, attributes),
            // Emphasis: a mark at a word's edge; an identifier's "_" stays.
            _ => {
                let prev = out.chars().next_back();
                let next = at[1..].chars().next();
                let edge = !prev.is_some_and(char::is_alphanumeric)
                    || !next.is_some_and(char::is_alphanumeric);
                if !edge {
                    out.push(c as char);
                }
                Some(1)
            }
        };
        match used {
            Some(n) => rest = &at[n..],
            None => {
                out.push(c as char);
                rest = &at[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// `target[text]` after a macro's target (`https://x`, `xref:a.adoc`,
/// `kbd:`): the target already written to `out` is replaced by the text.
/// Bracket texts are short: looking no further keeps it linear.
fn macro_text(out: &mut String, at: &str) -> Option<usize> {
    let window = &at[..at.floor_char_boundary(at.len().min(512))];
    let end = window.find(']')?;
    let text = &at[1..end];
    let tail = out.floor_char_boundary(out.len().saturating_sub(512));
    let start = out[tail..]
        .char_indices()
        .rfind(|&(_, c)| c.is_whitespace() || c == '(')
        .map_or(tail, |(k, c)| tail + k + c.len_utf8());
    let target = &out[start..];
    if !target.contains(':') {
        return None;
    }
    let shown = if text.is_empty() {
        target
            .split_once(':')
            .map_or(target, |(_, t)| t)
            .trim_start_matches("//")
            .to_string()
    } else {
        // "[*clear*]": the text's own emphasis goes too.
        let text = text.split(',').next().unwrap_or(text);
        text.trim_matches(['"', '*', '_', '`']).to_string()
    };
    out.truncate(start);
    out.push_str(&shown);
    Some(end + 1)
}

/// `<<id,text>>` or `<<id>>`: the text, else the id.
fn cross_reference(out: &mut String, at: &str) -> Option<usize> {
    let inner = at.strip_prefix("<<")?;
    let window = &inner[..inner.floor_char_boundary(inner.len().min(256))];
    let end = window.find(">>")?;
    let reference = &inner[..end];
    let shown = match reference.split_once(',') {
        Some((_, text)) => text.trim(),
        None => reference.trim_start_matches('#'),
    };
    out.push_str(shown);
    Some(end + 4)
}

/// `{name}`: the page's value for it, or as written.
fn attribute_reference(
    out: &mut String,
    at: &str,
    attributes: &HashMap<String, String>,
) -> Option<usize> {
    let window = &at[..at.floor_char_boundary(at.len().min(64))];
    let end = window.find('}')?;
    let value = attributes.get(&at[1..end])?;
    out.push_str(value);
    Some(end + 1)
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
    fn sections_nest_and_take_asciidoctor_ids() {
        let page = "= Caching\n:idprefix:\n:idseparator: -\n\nIntro.\n\n== Cache Location\n\nIn `~/.jbang`.\n\n[[clear]]\n=== Clearing It\n\nRun it.\n";
        let g = document(page).groups;
        let paths: Vec<String> = read(page).into_iter().map(|(h, _)| h).collect();
        assert_eq!(
            paths,
            [
                "Caching",
                "Caching › Cache Location",
                "Caching › Cache Location › Clearing It"
            ]
        );
        assert_eq!(g[1].anchor.as_deref(), Some("cache-location"));
        assert_eq!(g[2].anchor.as_deref(), Some("clear"));
        assert_eq!(g[2].line, 14);
        // Asciidoctor's defaults: "_" before and between words.
        let g = document("== What's new in 2.0?\n\nText.\n").groups;
        assert_eq!(g[0].anchor.as_deref(), Some("_whats_new_in_2_0"));
    }

    #[test]
    fn blocks_map_as_markdown_blocks_do() {
        type Case<'a> = (&'a str, &'a [&'a [Part]]);
        let cases: &[Case] = &[
            // A paragraph and the listing after it: one passage, the block code.
            (
                "Add the dependency:\n\n[source,java]\n----\n//DEPS info.picocli:picocli:4.6.3\nclass A {}\n----\n\nNext.\n",
                &[
                    &[
                        prose("Add the dependency:"),
                        code("//DEPS info.picocli:picocli:4.6.3\nclass A {}"),
                    ],
                    &[prose("Next.")],
                ],
            ),
            // A block title leads in to its block; lists go on with the paragraph.
            (
                "Steps:\n\n* one\n** nested\n. ordered\n\n.Example\n```\njbang run a.java\n```\n",
                &[&[
                    prose("Steps:"),
                    prose("one"),
                    prose("nested"),
                    prose("1. ordered"),
                    prose("Example"),
                    code("jbang run a.java"),
                ]],
            ),
            // Admonitions and example blocks are prose; a description list names its term.
            (
                "NOTE: Mind the cache.\n\n[TIP]\n====\nUse `--fresh`.\n====\n\n--fresh:: refetch everything\n",
                &[
                    &[prose("Mind the cache.")],
                    &[prose("Use --fresh."), prose("--fresh: refetch everything")],
                ],
            ),
            // Comments, attributes, preprocessor lines, images and passthroughs go.
            (
                ":toc:\n// a comment\n////\nhidden\n////\nifdef::env-github[]\ninclude::partial.adoc[]\nimage::logo.png[Logo]\n++++\n<div>raw</div>\n++++\nendif::[]\n\nKept.\n",
                &[&[prose("Kept.")]],
            ),
            // A table: a passage per row, cells named by the header.
            (
                "|===\n|Option |Meaning\n\n|--fresh |refetch\n|--quiet |less output\n|===\n",
                &[
                    &[prose("Option: --fresh; Meaning: refetch")],
                    &[prose("Option: --quiet; Meaning: less output")],
                ],
            ),
            // Column counts and headers as the table's attributes say; a
            // cell's format is not text, a span leaves its columns empty.
            (
                "[cols=\"1,2\",options=\"header\"]\n|===\n|Name\n|Value\n|port\na|5000 \\| 8080\n2+|both\n|===\n",
                &[
                    &[prose("Name: port; Value: 5000 | 8080")],
                    &[prose("Name: both")],
                ],
            ),
            // Description entries are parts of their own; a line of a link
            // stays; include and ifdef lines end a paragraph.
            (
                "CPU:: The brain.\nCache:: See xref:cache.adoc[Caching]\n\nIntro text.\ninclude::partial$x.adoc[]\nifdef::env-github[]\n",
                &[
                    &[prose("CPU: The brain."), prose("Cache: See Caching")],
                    &[prose("Intro text.")],
                ],
            ),
            // "====" inside a listing inside an example does not close it.
            (
                "====\nExample:\n\n----\n====\n----\n\nAfter.\n====\n",
                &[&[prose("Example:"), code("====")], &[prose("After.")]],
            ),
            // An indented paragraph is literal text.
            (
                "Run:\n\n  $ jbang version\n",
                &[&[prose("Run:"), code("$ jbang version")]],
            ),
            // Numbered items are numbered by their place (or as written),
            // through a continuation and a nested bullet; a paragraph or a
            // heading ends the list.
            (
                "Steps:\n\n. Stop it.\n+\nReally.\n** a bullet\n.. nested\n.. nested two\n. Start it.\n+\n----\nstart\n----\n\nAfter.\n\n. Again one.\n7. Seven.\n. Eight.\n\n== Next\n\n. One.\n\n[start=4]\n. Four.\n. Five.\n",
                &[
                    &[prose("Steps:"), prose("1. Stop it.")],
                    &[
                        prose("Really."),
                        prose("a bullet"),
                        prose("nested"),
                        prose("nested two"),
                        prose("2. Start it."),
                        code("start"),
                    ],
                    &[
                        prose("After."),
                        prose("1. Again one."),
                        prose("7. Seven."),
                        prose("8. Eight."),
                    ],
                    &[prose("1. One."), prose("4. Four."), prose("5. Five.")],
                ],
            ),
        ];
        for (page, want) in cases {
            let got: Vec<Vec<Part>> = read(page).into_iter().map(|(_, p)| p).collect();
            assert_eq!(got, *want, "{page}");
        }
    }

    #[test]
    fn a_table_row_cites_the_line_its_first_cell_is_on() {
        let lines =
            |page: &str| -> Vec<usize> { document(page).groups.iter().map(|g| g.line).collect() };
        assert_eq!(lines("|===\n|A |B\n\n|1 |2\n|3 |4\n|===\n"), [4, 5]);
        // Rows need not be lines: four cells on one line are two rows there.
        assert_eq!(lines("|===\n|A |B\n\n|1 |2 |3 |4\n|5\n|6\n"), [4, 4, 5]);
    }

    #[test]
    fn a_wide_table_reads_its_first_columns() {
        let head: String = (0..1_000).map(|i| format!("|h{i} ")).collect();
        let row: String = (0..1_000).map(|i| format!("|c{i} ")).collect();
        let page = format!("|===\n{head}\n\n{row}\n|===\n");
        let named: Vec<String> = (0..crate::knowledge::passages::MAX_COLUMNS)
            .map(|i| format!("h{i}: c{i}"))
            .collect();
        assert_eq!(
            read(&page),
            [(String::new(), vec![prose(&named.join("; "))])]
        );
    }

    #[test]
    fn inline_markup_keeps_its_words() {
        let attributes: HashMap<String, String> =
            [("jbang-version".to_string(), "0.120".to_string())].into();
        let cases = [
            (
                "Use *bold* and _it_ on `JBANG_DIR` or MY_VAR.",
                "Use bold and it on JBANG_DIR or MY_VAR.",
            ),
            (
                "See https://jbang.dev[the site], xref:faq.adoc#cache[*FAQ*] and <<setup,Setup>>.",
                "See the site, FAQ and Setup.",
            ),
            (
                "Press kbd:[Ctrl+C] in C++ or a + b; +{raw}+ is {jbang-version}.",
                "Press Ctrl+C in C++ or a + b; {raw} is 0.120.",
            ),
            ("See <<cache>> and [brackets].", "See cache and [brackets]."),
            (
                "詳細は\u{3000}https://x.org[ここ]\u{a0}https://y.org[site]",
                "詳細は\u{3000}ここ\u{a0}site",
            ),
        ];
        for (t, want) in cases {
            assert_eq!(inline(t, &attributes), want, "{t}");
        }
    }
}
