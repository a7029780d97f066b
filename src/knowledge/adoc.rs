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
use super::passages::{Part, Passages, row_parts};
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
}

/// The passages of an AsciiDoc page; its title is its `= Title`.
pub(super) fn document(body: &str) -> Document {
    let lines: Vec<&str> = body.lines().collect();
    let mut w = Walk {
        p: Passages::default(),
        attributes: HashMap::new(),
        title: None,
        anchor: None,
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
        return delimited(lines, i, base, w, d);
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
    let Some(colons) = line.find("::") else {
        return false;
    };
    let name = &line[..colons];
    !name.is_empty()
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        && line.ends_with(']')
}

/// `[[id]]`, `[#id.role]`, `[source,yaml]`, `[NOTE]`: what the next block is.
fn block_attributes(attrs: &str, w: &mut Walk) {
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
    let mut id = String::from(prefix);
    let mut pending = false;
    for c in title.chars() {
        if c.is_alphanumeric() {
            if pending && id.len() > prefix.len() {
                id.push_str(sep);
            }
            pending = false;
            id.extend(c.to_lowercase());
        } else {
            pending = true;
        }
    }
    id
}

/// A delimited block from `lines[i]` to its closing delimiter.
fn delimited(lines: &[&str], i: usize, base: usize, w: &mut Walk, d: &str) -> usize {
    let close = lines[i + 1..]
        .iter()
        .position(|l| l.trim_end() == d || (d == "```" && l.trim_end() == "```"))
        .map_or(lines.len(), |k| i + 1 + k);
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
    w.title = None;
    w.anchor = None;
    if first.starts_with([' ', '\t']) && item_text(first).is_none() {
        let code = lines[i..end].join("\n");
        let joins = w.p.open();
        w.p.add(Part::Code(dedent(&code)), at, joins);
        return end;
    }
    if first.trim_end() == "+" {
        return i + 1; // a list continuation: what follows goes on with it
    }
    let item = item_text(first);
    let mut t = lines[i..end].join("\n");
    if let Some(rest) = item {
        t = format!("{rest}\n{}", lines[i + 1..end].join("\n"));
    }
    let admonition = ADMONITIONS.iter().find_map(|a| t.strip_prefix(a));
    let t = admonition.map(str::to_string).unwrap_or(t);
    // "term:: definition": a description list entry.
    let described = description(&t);
    let t = text::fold_whitespace(&inline(described.as_deref().unwrap_or(&t), &w.attributes));
    let joins = w.p.open() && (item.is_some() || described.is_some() || text::is_lead_in(&t));
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

fn dedent(code: &str) -> String {
    let cut = code
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    let lines: Vec<&str> = code.lines().map(|l| l.get(cut..).unwrap_or("")).collect();
    lines.join("\n")
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
    let body = &lines[i + 1..close];
    let first = body.iter().position(|l| !l.trim().is_empty());
    // Columns: as many as the first row's line has cells.
    let columns = first.map_or(1, |f| body[f].matches('|').count().max(1));
    let header = first.is_some_and(|f| body.get(f + 1).is_some_and(|l| l.trim().is_empty()));
    let mut cells: Vec<String> = Vec::new();
    for line in body {
        let mut parts = line.split('|');
        // Text before the first "|" goes on with the cell before (or is a
        // cell's format, "a|", "2+|", which is not text).
        let lead = parts.next().unwrap_or("");
        if (!line.trim_start().starts_with('|') || lead.trim().len() > 3)
            && let Some(last) = cells.last_mut()
        {
            last.push(' ');
            last.push_str(lead.trim());
        }
        cells.extend(parts.map(|c| c.trim().to_string()));
    }
    let cells: Vec<String> = cells
        .into_iter()
        .map(|c| text::fold_whitespace(&inline(&c, &w.attributes)))
        .collect();
    let mut rows = cells.chunks(columns);
    let head: Vec<String> = if header {
        rows.next().map(<[String]>::to_vec).unwrap_or_default()
    } else {
        Vec::new()
    };
    for (k, row) in rows.enumerate() {
        w.p.row(row_parts(&head, row.iter().cloned()), at + k);
    }
    (close + 1).min(lines.len()).max(i + 1)
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
        .rfind(|c: char| c.is_whitespace() || c == '(')
        .map_or(tail, |k| tail + k + 1);
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

    fn prose(s: &str) -> Part {
        Part::Prose(s.into())
    }

    fn code(s: &str) -> Part {
        Part::Code(s.into())
    }

    /// (heading path, parts) of each passage of `page`.
    fn read(page: &str) -> Vec<(String, Vec<Part>)> {
        document(page)
            .groups
            .into_iter()
            .map(|g| {
                let path: Vec<String> = g.headings.into_iter().map(|(_, h)| h).collect();
                (path.join(" › "), g.parts)
            })
            .collect()
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
        let g = document("== Native Images\n\nText.\n").groups;
        assert_eq!(g[0].anchor.as_deref(), Some("_native_images"));
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
                    prose("ordered"),
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
            // An indented paragraph is literal text.
            (
                "Run:\n\n  $ jbang version\n",
                &[&[prose("Run:"), code("$ jbang version")]],
            ),
        ];
        for (page, want) in cases {
            let got: Vec<Vec<Part>> = read(page).into_iter().map(|(_, p)| p).collect();
            assert_eq!(got, *want, "{page}");
        }
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
        ];
        for (t, want) in cases {
            assert_eq!(inline(t, &attributes), want, "{t}");
        }
    }
}
