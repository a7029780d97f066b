//! Front matter: the optional metadata block a knowledge file starts with — TOML
//! between `+++` lines (citebot's own format, Hugo) or YAML between `---` lines
//! (Jekyll, MkDocs, Docusaurus, Hugo, Obsidian) — read into one [`Meta`].
//!
//! Site generators put many keys of their own there (`weight`, `nav_order`,
//! `sidebar_position`…), so unknown keys are ignored, except one that looks like a
//! misspelt key citebot reads (`pubished`): that is a maintainer's typo whose value
//! would otherwise be lost without a word. `strict` (citebot's own knowledge files,
//! `citebot check --strict`) also requires title, source and published, and rejects
//! every unknown key.

use std::borrow::Cow;

use chrono::NaiveDate;
use serde_json::{Map, Value};

use super::ProblemKind;
use crate::text;

/// What a file's front matter says about it; every field is optional.
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct Meta {
    pub title: Option<String>,
    pub source: Option<String>,
    pub url: Option<String>,
    /// `published`, else the site generator's `lastmod` / `last_update` / `date`.
    pub published: Option<NaiveDate>,
    pub description: Option<String>,
    /// `tags`, `keywords` and `aliases` that are names rather than URL paths.
    pub tags: Vec<String>,
    /// `draft: true`: the site generator does not publish the page, so neither
    /// does citebot.
    pub draft: bool,
}

/// A front matter block found at the top of a file.
#[derive(Debug)]
pub(super) struct Block<'a> {
    pub meta: Meta,
    /// The text after the block.
    pub body: &'a str,
    /// Byte offset of [`Block::body`] in the file.
    pub body_start: usize,
}

/// A problem with the front matter, at a 1-based line of the file.
pub(super) type Problem = (usize, ProblemKind);

/// Keys citebot reads. `published` is citebot's own; the rest are the site
/// generators' names for the same things.
const KNOWN: &[&str] = &[
    "title",
    "source",
    "url",
    "published",
    "date",
    "lastmod",
    "last_update",
    "description",
    "tags",
    "keywords",
    "aliases",
    "language",
    "draft",
    "alias",
];

/// Keys a typo of which is reported rather than ignored.
const TYPO_CHECKED: &[&str] = &[
    "title",
    "source",
    "published",
    "description",
    "language",
    "lastmod",
    "last_update",
    "aliases",
];

#[derive(Clone, Copy, PartialEq)]
enum Format {
    Toml,
    Yaml,
}

/// Splits the front matter off `text` (which has no byte-order mark) and reads it.
/// No block at all is `Ok` with an empty [`Meta`].
pub(super) fn read(text: &str, strict: bool) -> Result<Block<'_>, Problem> {
    let first = text.split_inclusive('\n').next().unwrap_or("");
    let format = match first.trim_end() {
        "+++" => Format::Toml,
        "---" => Format::Yaml,
        _ => {
            if strict {
                return Err((1, ProblemKind::MissingFrontMatter));
            }
            return Ok(Block {
                meta: Meta::default(),
                body: text,
                body_start: 0,
            });
        }
    };
    let fm_start = first.len();
    let mut offset = fm_start;
    let mut end = None;
    for line in text[fm_start..].split_inclusive('\n') {
        let l = line.trim_end();
        if (format == Format::Toml && l == "+++")
            || (format == Format::Yaml && (l == "---" || l == "..."))
        {
            end = Some((offset, offset + line.len()));
            break;
        }
        offset += line.len();
    }
    let Some((fm_end, body_start)) = end else {
        if format == Format::Yaml && !strict {
            // A lone `---` is a Markdown thematic break, not front matter.
            return Ok(Block {
                meta: Meta::default(),
                body: text,
                body_start: 0,
            });
        }
        return Err((1, ProblemKind::UnclosedFrontMatter));
    };
    let fm_text = &text[fm_start..fm_end];
    let value = match format {
        Format::Toml => parse_toml(fm_text)?,
        Format::Yaml => parse_yaml(fm_text)?,
    };
    let meta = meta_of(fm_text, &value, strict)?;
    Ok(Block {
        meta,
        body: &text[body_start..],
        body_start,
    })
}

/// Line (of the file: the block starts on line 2) where `key` is set.
fn key_line(fm_text: &str, key: &str) -> usize {
    key_lines(fm_text).get(key).copied().unwrap_or(1)
}

/// The line (as [`key_line`]) of every key `fm_text` sets, read in one pass: the
/// first line whose text before its first `:` or `=`, quotes and spaces aside,
/// is the key.
fn key_lines(fm_text: &str) -> std::collections::HashMap<&str, usize> {
    let mut lines = std::collections::HashMap::new();
    for (i, l) in fm_text.lines().enumerate() {
        let l = l.trim_start().trim_start_matches(['"', '\'']);
        if let Some(at) = l.find([':', '=']) {
            let key = l[..at].trim_end().trim_end_matches(['"', '\'']);
            lines.entry(key).or_insert(i + 2);
        }
    }
    lines
}

fn parse_toml(fm_text: &str) -> Result<Value, Problem> {
    let table: toml::Table = toml::from_str(fm_text).map_err(|e| {
        let line = e
            .span()
            .map(|s| super::line_of(fm_text, s.start) + 1)
            .unwrap_or(1);
        (
            line,
            ProblemKind::FrontMatter(e.message().trim().to_string()),
        )
    })?;
    Ok(toml_to_json(toml::Value::Table(table)))
}

/// TOML dates become their text, so both formats read alike.
fn toml_to_json(v: toml::Value) -> Value {
    match v {
        toml::Value::String(s) => Value::String(s),
        toml::Value::Integer(i) => Value::from(i),
        toml::Value::Float(f) => Value::from(f),
        toml::Value::Boolean(b) => Value::Bool(b),
        toml::Value::Datetime(d) => Value::String(d.to_string()),
        toml::Value::Array(a) => Value::Array(a.into_iter().map(toml_to_json).collect()),
        toml::Value::Table(t) => {
            Value::Object(t.into_iter().map(|(k, v)| (k, toml_to_json(v))).collect())
        }
    }
}

/// Deeper than this, YAML's parser refuses a block anyway (its recursion
/// limit), but only after a scan whose time grows with the square of the depth:
/// 100 KB of `[` took 25 s.
const MAX_FLOW_DEPTH: usize = 128;

/// The line (of the file) where `fm_text`'s `[` and `{` run deeper than
/// [`MAX_FLOW_DEPTH`], counting every bracket, quoted or not: no site's front
/// matter holds a hundred unclosed ones in its strings.
fn flow_too_deep(fm_text: &str) -> Option<usize> {
    let mut depth = 0usize;
    for (i, line) in fm_text.lines().enumerate() {
        for c in line.bytes() {
            match c {
                b'[' | b'{' => depth += 1,
                b']' | b'}' => depth = depth.saturating_sub(1),
                _ => continue,
            }
            if depth > MAX_FLOW_DEPTH {
                return Some(i + 2);
            }
        }
    }
    None
}

/// Most aliases (`*name`) YAML front matter may use. Each repeats what its
/// anchor names, so N anchored lines used M times make N × M values: 100 KB
/// took 22 s and 6 GB, within the parser's own limit. Site generators' front
/// matter uses none.
const MAX_ALIASES: usize = 16;

/// How many aliases `fm_text` uses: a `*` that starts a value (after the
/// line's start, `- `, `: `, `? `, `[`, `{` or `,`), outside quotes.
fn aliases(fm_text: &str) -> usize {
    let mut n = 0;
    for line in fm_text.lines() {
        let (mut quote, mut prev) = (None, ' ');
        for c in line.chars() {
            match (quote, c) {
                (Some(q), c) if c == q => quote = None,
                (Some(_), _) => {}
                (None, '\'' | '"') if matches!(prev, ' ' | '[' | '{' | ',' | ':' | '-') => {
                    quote = Some(c)
                }
                (None, '*') if matches!(prev, ' ' | '[' | '{' | ',' | ':' | '-' | '?') => n += 1,
                (None, '#') if prev == ' ' => break,
                _ => {}
            }
            if !c.is_whitespace() || prev != ' ' {
                prev = if c.is_whitespace() { ' ' } else { c };
            }
        }
    }
    n
}

fn parse_yaml(fm_text: &str) -> Result<Value, Problem> {
    if fm_text.trim().is_empty() {
        return Ok(Value::Object(Default::default()));
    }
    if aliases(fm_text) > MAX_ALIASES {
        return Err((
            2,
            ProblemKind::FrontMatter(format!(
                "more than {MAX_ALIASES} aliases (`*name`): each repeats what its anchor holds"
            )),
        ));
    }
    if let Some(line) = flow_too_deep(fm_text) {
        return Err((
            line,
            ProblemKind::FrontMatter(format!(
                "nested more than {MAX_FLOW_DEPTH} deep in `[` or `{{`"
            )),
        ));
    }
    let value: serde_yaml_ng::Value = serde_yaml_ng::from_str(fm_text).map_err(|e| {
        let line = e.location().map(|l| l.line() + 1).unwrap_or(1);
        (line, ProblemKind::FrontMatter(e.to_string()))
    })?;
    let json = yaml_to_json(value);
    match json {
        Value::Object(_) => Ok(json),
        Value::Null => Ok(Value::Object(Default::default())),
        _ => Err((
            2,
            ProblemKind::FrontMatter("must be a mapping of keys to values".into()),
        )),
    }
}

fn yaml_to_json(v: serde_yaml_ng::Value) -> Value {
    use serde_yaml_ng::Value as Y;
    match v {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(b),
        Y::Number(n) => n
            .as_i64()
            .map(Value::from)
            .or_else(|| n.as_f64().map(Value::from))
            .unwrap_or(Value::Null),
        Y::String(s) => Value::String(s),
        Y::Sequence(s) => Value::Array(s.into_iter().map(yaml_to_json).collect()),
        Y::Mapping(m) => Value::Object(
            m.into_iter()
                .filter_map(|(k, v)| {
                    let key = match k {
                        Y::String(s) => s,
                        Y::Number(n) => n.to_string(),
                        Y::Bool(b) => b.to_string(),
                        _ => return None,
                    };
                    Some((key, yaml_to_json(v)))
                })
                .collect(),
        ),
        Y::Tagged(t) => yaml_to_json(t.value),
    }
}

/// A scalar as text: strings as they are, numbers and booleans written out.
fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A list of names: an array of scalars, or one string separated by commas.
fn list(v: &Value) -> Vec<String> {
    match v {
        Value::Array(a) => a.iter().filter_map(scalar).collect(),
        Value::String(s) => s.split(',').map(|t| t.trim().to_string()).collect(),
        _ => Vec::new(),
    }
    .into_iter()
    .filter(|t| !t.is_empty())
    .collect()
}

/// Parses a date as front matter writes them: `2025-03-05`, with or without a time
/// after it, `2025/03/05`, `March 5, 2025`, `5 March 2025`.
fn parse_date(text: &str) -> Option<NaiveDate> {
    let t = text.trim();
    let head = t.get(..10).unwrap_or(t);
    for f in ["%Y-%m-%d", "%Y/%m/%d"] {
        if let Ok(d) = NaiveDate::parse_from_str(head, f) {
            return Some(d);
        }
    }
    for f in ["%B %d, %Y", "%b %d, %Y", "%d %B %Y", "%d %b %Y"] {
        if let Ok(d) = NaiveDate::parse_from_str(t, f) {
            return Some(d);
        }
    }
    None
}

/// Reads the keys citebot knows from the front matter's `value`; `fm_text` is the
/// block's text, to name the line of a problem.
fn meta_of(fm_text: &str, value: &Value, strict: bool) -> Result<Meta, Problem> {
    let Value::Object(raw) = value else {
        return Ok(Meta::default());
    };
    // Site generators read keys without regard to case (Hugo's `lastMod`, `Title`).
    let map: Cow<'_, Map<String, Value>> = if strict {
        Cow::Borrowed(raw)
    } else {
        Cow::Owned(
            raw.iter()
                .map(|(k, v)| (k.to_lowercase(), v.clone()))
                .collect(),
        )
    };
    let map = map.as_ref();
    check_unknown_keys(fm_text, map, strict)?;
    let mut meta = Meta {
        title: text_of(fm_text, map, "title")?,
        source: text_of(fm_text, map, "source")?,
        url: text_of(fm_text, map, "url")?,
        description: text_of(fm_text, map, "description")?,
        ..Meta::default()
    };
    if strict {
        check_required_keys(map)?;
    }
    for (key, value) in [("title", &meta.title), ("source", &meta.source)] {
        if value.as_ref().is_some_and(|v| v.is_empty()) {
            return Err((key_line(fm_text, key), ProblemKind::EmptyField(key)));
        }
    }
    check_url(fm_text, &mut meta, strict)?;
    read_date(fm_text, map, strict, &mut meta)?;
    meta.draft |= matches!(map.get("draft"), Some(Value::Bool(true)));
    read_tags(map, &mut meta);
    Ok(meta)
}

/// Fails on the first key (in the order written) that citebot does not read: with
/// `strict` any such key, else only one that looks like a typo of a key it reads.
fn check_unknown_keys(
    fm_text: &str,
    map: &Map<String, Value>,
    strict: bool,
) -> Result<(), Problem> {
    // Each key's line found in one pass: a block may set tens of thousands of
    // keys, and looking each up again while sorting took minutes.
    let lines = key_lines(fm_text);
    let line = |key: &str| lines.get(key).copied().unwrap_or(1);
    let mut keys: Vec<&String> = map.keys().collect();
    keys.sort_by_key(|k| line(k));
    for key in keys {
        if KNOWN.contains(&key.as_str()) {
            continue;
        }
        let lower = key.to_lowercase();
        let near = TYPO_CHECKED
            .iter()
            .find(|k| lower.chars().count() >= 5 && text::edit_distance(&lower, k) <= 2);
        if strict || near.is_some() {
            let hint = near.map_or(String::new(), |k| format!(" (did you mean `{k}`?)"));
            return Err((
                line(key),
                ProblemKind::FrontMatter(format!("unknown key `{key}`{hint}")),
            ));
        }
    }
    Ok(())
}

/// The text of `key`, if set; a value that is not a scalar is a problem.
fn text_of(fm_text: &str, map: &Map<String, Value>, key: &str) -> Result<Option<String>, Problem> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => match scalar(v) {
            Some(s) => Ok(Some(s)),
            None => Err((
                key_line(fm_text, key),
                ProblemKind::FrontMatter(format!("`{key}` must be text")),
            )),
        },
    }
}

/// `strict`: citebot's own files must give title, source and published.
fn check_required_keys(map: &Map<String, Value>) -> Result<(), Problem> {
    for key in ["title", "source", "published"] {
        if !map.contains_key(key) {
            return Err((1, ProblemKind::FrontMatter(format!("missing key `{key}`"))));
        }
    }
    Ok(())
}

/// Keeps `meta.url` only when it is a web address citebot can link to.
fn check_url(fm_text: &str, meta: &mut Meta, strict: bool) -> Result<(), Problem> {
    if let Some(url) = &meta.url
        && !(url.starts_with("http://") || url.starts_with("https://"))
    {
        // A site generator's `url: /about/` is the page's path on the site, not
        // an address citebot can link to.
        if strict || !url.starts_with('/') {
            return Err((key_line(fm_text, "url"), ProblemKind::BadUrl(url.clone())));
        }
        meta.url = None;
    }
    Ok(())
}

/// Sets `meta.published` (and `meta.draft` for Jekyll's `published: false`).
fn read_date(
    fm_text: &str,
    map: &Map<String, Value>,
    strict: bool,
    meta: &mut Meta,
) -> Result<(), Problem> {
    // `published` is citebot's own key: a value that is not a date is an error.
    // The site generators' keys are theirs: a value citebot can't read is passed
    // over and the date comes from git or the file's time instead.
    // Jekyll's `published: false` means "do not publish": a draft.
    if let Some(Value::Bool(published)) = map.get("published")
        && !strict
    {
        meta.draft |= !published;
    } else if let Some(v) = map.get("published").filter(|v| !v.is_null()) {
        let text = scalar(v).unwrap_or_default();
        meta.published = Some(parse_date(&text).ok_or_else(|| {
            (
                key_line(fm_text, "published"),
                ProblemKind::BadDate(format!(
                    "`published` must be a date like 2025-03-05, not `{text}`"
                )),
            )
        })?);
    } else {
        meta.published = site_generator_date(map);
    }
    Ok(())
}

/// The first of `lastmod`, `last_update` (Docusaurus: `last_update.date`) and
/// `date` that reads as a date.
fn site_generator_date(map: &Map<String, Value>) -> Option<NaiveDate> {
    ["lastmod", "last_update", "date"]
        .into_iter()
        .find_map(|key| {
            let found = match map.get(key) {
                Some(Value::Object(o)) => o.get("date").and_then(scalar),
                Some(v) => scalar(v),
                None => None,
            };
            found.as_deref().and_then(parse_date)
        })
}

/// Adds `tags`, `keywords` and the aliases that are names to `meta.tags`.
fn read_tags(map: &Map<String, Value>, meta: &mut Meta) {
    for key in ["tags", "keywords"] {
        if let Some(v) = map.get(key) {
            meta.tags.extend(list(v));
        }
    }
    if let Some(v) = map.get("aliases").or_else(|| map.get("alias")) {
        // Hugo's aliases are old URL paths; Obsidian's are other names of the note.
        meta.tags
            .extend(list(v).into_iter().filter(|a| !a.contains('/')));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toml_yaml_or_none() {
        // (text, title, date, tags)
        type Row<'a> = (&'a str, Option<&'a str>, Option<&'a str>, &'a [&'a str]);
        let table: &[Row] = &[
            (
                "+++\ntitle = \"T\"\nsource = \"S\"\npublished = 2025-03-05\ntags = [\"a\"]\n+++\nbody\n",
                Some("T"),
                Some("2025-03-05"),
                &["a"],
            ),
            (
                "---\ntitle: Install\ndate: 2021-04-01 10:00:00 +0000\ntags: [ops, install]\nnav_order: 3\naliases: [/old/install, Setup]\n---\nbody\n",
                Some("Install"),
                Some("2021-04-01"),
                &["ops", "install", "Setup"],
            ),
            (
                "---\ntitle: \"Docs\"\nlast_update:\n  date: 2024-01-02\n  author: x\nsidebar_position: 2\n---\nbody\n",
                Some("Docs"),
                Some("2024-01-02"),
                &[],
            ),
            (
                "+++\ntitle = \"Hugo page\"\nweight = 10\ndraft = false\nlastmod = 2023-05-06\n+++\nbody\n",
                Some("Hugo page"),
                Some("2023-05-06"),
                &[],
            ),
            ("# Just Markdown\n\nbody\n", None, None, &[]),
            ("---\n\nA thematic break, then text.\n", None, None, &[]),
            ("---\n---\nbody\n", None, None, &[]),
            (
                "---\nTitle: Hugo\nlastMod: 2022-02-02\nurl: /about/\nalias: [Other name]\n---\nbody\n",
                Some("Hugo"),
                Some("2022-02-02"),
                &["Other name"],
            ),
        ];
        for (text, title, date, tags) in table {
            let b = read(text, false).unwrap_or_else(|e| panic!("{text:?}: {e:?}"));
            assert_eq!(b.meta.title.as_deref(), *title, "{text:?}");
            assert_eq!(
                b.meta.published.map(|d| d.to_string()).as_deref(),
                *date,
                "{text:?}"
            );
            assert_eq!(b.meta.tags, *tags, "{text:?}");
            assert!(b.body.trim_end().ends_with("text.") || b.body.contains("body"));
        }
    }

    #[test]
    fn a_block_of_tens_of_thousands_of_keys_names_the_line_of_a_bad_one() {
        let n = 50_000;
        let keys: String = (0..n).map(|i| format!("k{i}: v\n")).collect();
        let text = format!("---\n{keys}pubished: 2025-01-01\n---\nbody\n");
        let (line, kind) = read(&text, false).unwrap_err();
        assert_eq!(line, n + 2, "{kind}");
        assert!(kind.to_string().contains("`pubished`"), "{kind}");
        // Strict: the first key citebot does not read, in the order written.
        let (line, kind) = read(&text, true).unwrap_err();
        assert_eq!(line, 2, "{kind}");
        assert!(kind.to_string().contains("`k0`"), "{kind}");
    }

    #[test]
    fn problems_name_their_line() {
        let table: &[(&str, bool, usize, &str)] = &[
            ("+++\ntitle = \"x\"\n", false, 1, "never closed"),
            ("+++\ntitle = x\n+++\n", false, 2, "front matter"),
            ("---\ntitle: [unclosed\n---\n", false, 3, "front matter"),
            ("---\njust a string\n---\n", false, 2, "mapping"),
            (
                "+++\ntitle = \"x\"\npubished = 2025-03-05\n+++\n",
                false,
                3,
                "unknown key `pubished` (did you mean `published`?)",
            ),
            (
                "---\ntitle: x\npublished: March 2025\n---\n",
                false,
                3,
                "must be a date",
            ),
            (
                "---\ntitle: \"\"\n---\n",
                false,
                2,
                "`title` must not be empty",
            ),
            ("---\nurl: ftp://x\n---\n", false, 2, "`url` must start"),
            (
                &format!("---\ntitle: x\ntags: {}\n---\n", "[".repeat(100_000)),
                false,
                3,
                "nested more than 128 deep",
            ),
            (
                &format!(
                    "---\nx: &a\n{}y:\n{}---\n",
                    "  - w\n".repeat(8000),
                    "  - *a\n".repeat(8000)
                ),
                false,
                2,
                "more than 16 aliases",
            ),
            ("no front matter\n", true, 1, "missing front matter"),
            (
                "+++\ntitle = \"x\"\nsource = \"y\"\npublished = 2025-01-01\nweight = 1\n+++\n",
                true,
                5,
                "unknown key `weight`",
            ),
            (
                "+++\ntitle = \"x\"\nsource = \"y\"\n+++\n",
                true,
                1,
                "missing key `published`",
            ),
        ];
        for (text, strict, line, needle) in table {
            let (l, kind) = read(text, *strict).unwrap_err();
            assert_eq!(l, *line, "{text:?} -> {kind}");
            assert!(kind.to_string().contains(needle), "{text:?} -> {kind}");
        }
    }

    #[test]
    fn aliases_are_counted_where_a_value_starts_outside_quotes() {
        let table: &[(&str, usize)] = &[
            ("title: x\ntags: [a, b]\n", 0),
            ("title: \"*bold* words\"\nnote: '*'\n", 0),
            ("a: &x 1\nb: *x\nc: [*x, *x]\nd:\n  - *x\n", 4),
            ("e: {k: *x}\nf: *x # and *x in a comment\n", 2),
        ];
        for (text, n) in table {
            assert_eq!(aliases(text), *n, "{text:?}");
        }
        // A few are read as YAML reads them.
        let b = read("---\ntitle: &t Tents\ndescription: *t\n---\nx\n", false).unwrap();
        assert_eq!(b.meta.title.as_deref(), Some("Tents"));
    }

    #[test]
    fn drafts_are_marked() {
        assert!(
            read("---\npublished: false\n---\nx\n", false)
                .unwrap()
                .meta
                .draft
        );
        assert!(
            read("---\ndraft: true\n---\nx\n", false)
                .unwrap()
                .meta
                .draft
        );
        assert!(
            !read("+++\ndraft = false\n+++\nx\n", false)
                .unwrap()
                .meta
                .draft
        );
    }

    #[test]
    fn site_generator_dates_that_do_not_parse_are_passed_over() {
        let b = read("---\ndate: someday\n---\nx\n", false).unwrap();
        assert_eq!(b.meta.published, None);
        assert_eq!(
            parse_date("March 5, 2025"),
            NaiveDate::from_ymd_opt(2025, 3, 5)
        );
    }
}
