//! One page's text → its description ([`FileInfo`]) and snippets: front
//! matter or the title and date a page without it gets, the passages its
//! format's reader makes (`markdown`, `html`, `rst`, `adoc`, plain text),
//! each cut to the snippet length and given a stable id; and the page's lint
//! (over-long paragraphs, broken links, future dates) that `check` reports.

use super::*;

/// A file's passages before they become snippets, and its title if it has one.
pub(super) struct Document {
    pub(super) title: Option<String>,
    pub(super) groups: Vec<markdown::Group>,
}

impl Document {
    /// The passages of a page's `body` (its text after any front matter).
    fn parse(format: Format, body: &str) -> Document {
        match format {
            Format::Markdown | Format::Notebook => Document {
                title: None,
                groups: markdown::groups(body),
            },
            Format::Docx
            | Format::Pdf
            | Format::Pptx
            | Format::Xlsx
            | Format::Odt
            | Format::Ods
            | Format::Odp
            | Format::Csv
            | Format::Tsv => Document {
                title: None,
                groups: markdown::document_groups(body),
            },
            Format::Html => html::document(body),
            Format::Rst => rst::document(body),
            Format::Adoc => adoc::document(body),
            Format::Text => Document {
                title: None,
                groups: plain_text(body),
            },
        }
    }
}

/// Parses one knowledge file's text into its description and snippets. A file
/// that holds nothing to answer from (a page of front matter only) yields no
/// snippets; `strict` makes that an error.
pub(crate) fn parse_file(
    file: &str,
    id_base: &str,
    collection: &str,
    text: &str,
    options: &ParseOptions,
) -> Result<(FileInfo, Vec<Snippet>), KnowledgeError> {
    parse_spliced(file, id_base, collection, text, None, options)
}

/// [`parse_file`] for a page whose text has the files it includes read in:
/// `lines` holds the page's line of each line of `text`.
pub(super) fn parse_spliced(
    file: &str,
    id_base: &str,
    collection: &str,
    text: &str,
    lines: Option<&[usize]>,
    options: &ParseOptions,
) -> Result<(FileInfo, Vec<Snippet>), KnowledgeError> {
    let err = |line, kind| KnowledgeError {
        file: file.into(),
        line,
        kind,
    };
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let format = Format::of(file).unwrap_or(Format::Markdown);
    let notebook = match format {
        Format::Notebook => {
            Some(notebook::markdown(text).map_err(|(l, e)| err(l, ProblemKind::Notebook(e)))?)
        }
        _ => None,
    };
    let text = notebook.as_ref().map_or(text, |n| n.text.as_str());
    let lines = notebook.as_ref().map(|n| n.lines.as_slice()).or(lines);
    // A problem's line in the file as it is, not in a notebook's Markdown or
    // among the lines of what the page includes.
    let line_in_file = |line| lines.map_or(line, |l| map_line(l, line));
    let err = |line, kind| err(line_in_file(line), kind);
    // A page of reStructuredText may open with a title overlined by "---".
    let (meta, body, body_start) = if matches!(format, Format::Html | Format::Rst) {
        (front_matter::Meta::default(), text, 0)
    } else {
        let block = front_matter::read(text, options.strict).map_err(|(l, k)| err(l, k))?;
        (block.meta, block.body, block.body_start)
    };
    let body_line = line_of(text, body_start);
    if meta.draft && !options.strict {
        return Ok((draft_info(file, id_base, collection, &meta), Vec::new()));
    }
    let doc = Document::parse(format, body);
    let title = title_of(&meta, doc.title, &doc.groups, id_base);
    let source = clip(
        &meta
            .source
            .clone()
            .or_else(|| options.source.clone())
            .unwrap_or_default(),
        MAX_NAME_CHARS,
    );
    // A source's pages link to where they are published.
    let link = source_link(options, id_base, format);
    let page = Page {
        file,
        id_base,
        link: link.as_ref().map(|(m, path)| (*m, path.as_str())),
        collection,
        title: title.trim(),
        source: source.trim(),
        meta: &meta,
        body_line,
    };
    let mut snippets = page.snippets(doc.groups);
    if lines.is_some() {
        for s in &mut snippets {
            s.line = line_in_file(s.line);
        }
    }
    if snippets.is_empty() && options.strict {
        return Err(err(body_line, ProblemKind::NoSnippets));
    }
    let info = FileInfo {
        file: file.into(),
        collection: collection.into(),
        title: page.title.into(),
        source: page.source.into(),
        published: meta.published,
        snippets: snippets.len(),
    };
    Ok((info, snippets))
}

/// How a draft is listed: as its front matter or file name says, without snippets
/// (the site generator does not publish it, so neither does citebot).
pub(super) fn draft_info(
    file: &str,
    id_base: &str,
    collection: &str,
    meta: &front_matter::Meta,
) -> FileInfo {
    FileInfo {
        file: file.into(),
        collection: collection.into(),
        title: clip(
            meta.title.as_deref().unwrap_or(&title_from_name(id_base)),
            MAX_NAME_CHARS,
        ),
        source: meta.source.clone().unwrap_or_default(),
        published: meta.published,
        snippets: 0,
    }
}

/// A page's title: its front matter's, else its HTML `<title>`, else its first `#`
/// heading, else its file name.
pub(super) fn title_of(
    meta: &front_matter::Meta,
    doc_title: Option<String>,
    groups: &[markdown::Group],
    id_base: &str,
) -> String {
    let first_h1 = groups.iter().find_map(|g| {
        g.headings
            .iter()
            .find(|(level, _)| *level == 1)
            .map(|(_, h)| h.clone())
    });
    let title = meta
        .title
        .clone()
        .or(doc_title)
        .or(first_h1)
        .filter(|t| !t.trim().is_empty())
        .unwrap_or_else(|| title_from_name(id_base));
    clip(&title, MAX_NAME_CHARS)
}

/// What every snippet of a page shares.
struct Page<'a> {
    file: &'a str,
    id_base: &'a str,
    /// For a configured source: its mount and the file's path (no extension).
    link: Option<(&'a Mount, &'a str)>,
    collection: &'a str,
    title: &'a str,
    source: &'a str,
    meta: &'a front_matter::Meta,
    /// Line of the file where the parsed body starts.
    body_line: usize,
}

impl Page<'_> {
    /// The page's passages cut to size, numbered under each heading.
    fn snippets(&self, groups: Vec<markdown::Group>) -> Vec<Snippet> {
        let mut snippets = Vec::new();
        let mut ordinals: BTreeMap<Arc<str>, usize> = BTreeMap::new();
        let page = Arc::new(PageInfo {
            file: self.file.into(),
            collection: self.collection.into(),
            title: self.title.into(),
            source: self.source.into(),
            published: self.meta.published,
            tags: self
                .meta
                .tags
                .iter()
                .take(MAX_TAGS)
                .map(|t| clip(t, MAX_NAME_CHARS))
                .collect(),
        });
        let page_url: Option<Arc<str>> = self.meta.url.as_deref().map(Arc::from);
        for group in markdown::join_short_sections(groups, MAX_SNIPPET_CHARS) {
            let heading: Arc<str> = self.heading_of(&group).into();
            let url = page_url.clone().or_else(|| {
                let (mount, path) = self.link?;
                mount
                    .url(path, &heading, group.anchor.as_deref())
                    .map(Arc::from)
            });
            for mut part in markdown::cut(&group.parts, MAX_SNIPPET_CHARS) {
                // Built up piece by piece, the text may hold twice its length
                // in capacity; kept for the index's lifetime, that adds up.
                part.text.shrink_to_fit();
                part.code.shrink_to_fit();
                let n = ordinals.entry(heading.clone()).or_insert(0);
                *n += 1;
                snippets.push(Snippet {
                    id: snippet_id(self.id_base, &heading, *n),
                    page: page.clone(),
                    line: self.body_line + group.line - 1,
                    heading: heading.clone(),
                    url: url.clone(),
                    text: part.text,
                    code: part.code,
                });
            }
        }
        snippets
    }

    /// The headings above `group` joined with " › ", less a `#` heading that
    /// repeats the page's title.
    fn heading_of(&self, group: &markdown::Group) -> String {
        group
            .headings
            .iter()
            .filter(|(level, h)| !(*level == 1 && h.eq_ignore_ascii_case(self.title)))
            .map(|(_, h)| h.as_str())
            .collect::<Vec<_>>()
            .join(" › ")
    }
}

/// `id_base#heading-slug-n`, or `id_base#n` under no heading.
pub(super) fn snippet_id(id_base: &str, heading: &str, n: usize) -> String {
    let slug = slug(heading);
    if slug.is_empty() {
        format!("{id_base}#{n}")
    } else {
        format!("{id_base}#{slug}-{n}")
    }
}

/// A title for a file that names none: its file name, words spaced out
/// (`reverse_proxy` → "reverse proxy").
pub(super) fn title_from_name(id_base: &str) -> String {
    let stem = id_base.rsplit('/').next().unwrap_or(id_base);
    // macOS names files decomposed ("Cre\u{300}me.md"); the title is words a
    // question names, composed as the text is (`text::composed`).
    let spaced: String = text::composed(stem.into())
        .chars()
        .map(|c| if c == '_' || c == '-' { ' ' } else { c })
        .collect();
    text::fold_whitespace(&spaced)
}

/// Plain text: paragraphs are separated by blank lines; there are no headings.
pub(super) fn plain_text(body: &str) -> Vec<markdown::Group> {
    let mut out = Vec::new();
    let mut para = String::new();
    let mut start = 0;
    let mut flush = |para: &mut String, start: usize| {
        if !para.trim().is_empty() {
            out.push(markdown::Group {
                headings: Vec::new(),
                anchor: None,
                line: start,
                parts: vec![markdown::Part::Prose(text::fold_whitespace(para))],
                row: false,
                section: 0,
            });
        }
        para.clear();
    };
    for (i, line) in body.lines().enumerate() {
        if line.trim().is_empty() {
            flush(&mut para, start);
        } else {
            if para.is_empty() {
                start = i + 1;
            }
            para.push_str(line);
            para.push(' ');
        }
    }
    flush(&mut para, start);
    out
}

/// Problems in a file that parses but deserves a maintainer's look: links to
/// nowhere, and with `strict` (citebot's own knowledge files) over-long paragraphs
/// and a publication date in the future. `path` is the file's, in the source
/// folder `root`.
pub(super) fn lint(
    shown: &str,
    root: &Path,
    path: &Path,
    text: &str,
    published: Option<NaiveDate>,
    strict: bool,
) -> Vec<KnowledgeError> {
    let mut out = Vec::new();
    let warn = |line, kind| KnowledgeError {
        file: shown.into(),
        line,
        kind,
    };
    if Format::of(shown) != Some(Format::Markdown) {
        return out;
    }
    let Ok(block) = front_matter::read(text, false) else {
        return out;
    };
    let body = block.body;
    let first = line_of(text, block.body_start);
    if strict {
        if let Some(d) = published
            && d > chrono::Local::now().date_naive()
        {
            let line = text
                .lines()
                .position(|l| l.trim_start().starts_with("published"))
                .map_or(1, |i| i + 1);
            out.push(warn(line, ProblemKind::FutureDate(d.to_string())));
        }
        for group in markdown::groups(body) {
            for part in &group.parts {
                if let markdown::Part::Prose(t) = part
                    && text::width(t) > MAX_SNIPPET_CHARS
                {
                    let n = t.chars().count();
                    out.push(warn(first + group.line - 1, ProblemKind::LongParagraph(n)));
                }
            }
        }
    }
    let body = &markdown::shallow_containers(body);
    let mut lines = LineCounter::new(body);
    // MyST links to a target label as to a page (`[](syntax/roles)`): on its
    // pages a path with no extension that names no file is taken for one.
    let labels = myst::is_myst(body);
    let mut columns = Columns::default();
    for (event, range) in Parser::new_ext(body, Options::ENABLE_TABLES).into_offset_iter() {
        if let Some((at, n)) = columns.see(&event, range.start) {
            out.push(warn(
                first + lines.line_of(at) - 1,
                ProblemKind::WideTable(n),
            ));
        }
        if let Event::Start(Tag::Link { dest_url, .. } | Tag::Image { dest_url, .. }) = event {
            let dest = dest_url.trim();
            let label = labels && !dest.rsplit('/').next().unwrap_or(dest).contains('.');
            if !label && !link_ok(root, path, dest) {
                out.push(warn(
                    first + lines.line_of(range.start) - 1,
                    ProblemKind::BadLink(dest.to_string()),
                ));
            }
        }
    }
    out
}

/// The widest row of the table being read, and where it starts: a table wider
/// than the readers read ([`passages::MAX_COLUMNS`]) loses its last columns,
/// and `check` says so.
#[derive(Default)]
struct Columns {
    table: usize,
    cells: usize,
    widest: usize,
}

impl Columns {
    /// Takes in the next Markdown event (at byte `at`); at a table's end, its
    /// start and width when it is wider than is read.
    fn see(&mut self, event: &Event<'_>, at: usize) -> Option<(usize, usize)> {
        match event {
            Event::Start(Tag::Table(_)) => {
                *self = Columns {
                    table: at,
                    ..Columns::default()
                }
            }
            Event::Start(Tag::TableHead | Tag::TableRow) => self.cells = 0,
            Event::Start(Tag::TableCell) => {
                self.cells += 1;
                self.widest = self.widest.max(self.cells);
            }
            Event::End(pulldown_cmark::TagEnd::Table) if self.widest > passages::MAX_COLUMNS => {
                return Some((self.table, self.widest));
            }
            _ => {}
        }
        None
    }
}

/// Whether a link from the file at `path`, in the source folder `root`, leads
/// somewhere: a web or mail address, or a file beside it. A site generator's
/// page links are followed as it would: `page.html` is `page.md`, and a folder
/// is its `index.md`, `_index.md` or `README.md`. Links from the site's root
/// (`/docs/x/`) can't be checked from the files alone and pass; so do links out
/// of the source folder (`../../README.md`), which are not looked up: what
/// lies outside it is not the bot's to read, and which of those files exist
/// would show in `check` and `!status`, to whoever writes a page.
pub(super) fn link_ok(root: &Path, path: &Path, dest: &str) -> bool {
    if let Some((scheme, rest)) = dest.split_once(':').filter(|(s, _)| !s.contains('/')) {
        let scheme = scheme.to_ascii_lowercase();
        return match scheme.as_str() {
            "http" | "https" => rest.starts_with("//") && rest.len() > 2,
            "mailto" => rest.contains('@'),
            "javascript" | "vbscript" | "data" => false,
            // A typo of the above ("htps:"); any other scheme is the site
            // generator's or an app's: MyST's `inv:` and `project:`, `tel:`,
            // or a label written with a colon (`content:references`).
            s => !["http", "https", "mailto"]
                .iter()
                .any(|known| crate::text::edit_distance(s, known) <= 1),
        };
    }
    let target = dest.split(['#', '?']).next().unwrap_or("");
    // A bare name (`genindex`, `install-fig`) is a label or a page's address
    // in the site (MyST, Sphinx, Docusaurus), not a file beside this one.
    let bare = !target.contains(['.', '/', '\\']);
    if target.is_empty() || bare || target.starts_with('/') || target.contains("{{") {
        return true;
    }
    let Some(dir) = path.parent() else {
        return false;
    };
    // Editors and exports write a link to "Setup Guide.md" as
    // `Setup%20Guide.md` (Notion, Obsidian, GitHub wikis), as browsers do.
    let decoded = percent_encoding::percent_decode_str(target).decode_utf8();
    let inside = |target: &str| stays_within(root, dir, target);
    if !inside(target) || decoded.as_ref().is_ok_and(|d| !inside(d)) {
        return true;
    }
    let names = |base: &Path, target: &str| {
        names_a_page(base, target)
            || decoded
                .as_ref()
                .is_ok_and(|d| d != target && names_a_page(base, d))
    };
    // A site with pretty addresses (MkDocs, Hugo, Docusaurus) serves
    // `querying/examples.md` at `querying/examples/`: its links are relative
    // to that, so `../basics/` is `querying/basics.md`. (The page's folder
    // of that name need not exist: `..` is taken off the link, not walked.)
    let pretty = || match (target.strip_prefix("../"), path.file_stem()) {
        (Some(up), _) => names(dir, up),
        (None, Some(stem)) => names(&dir.join(stem), target),
        (None, None) => false,
    };
    // Hugo's docs (with its link hook) write a page's path from the site's
    // root without the `/` (`methods/page/title/`).
    let from_root = || dir != root && stays_within(root, root, target) && names(root, target);
    names(dir, target) || pretty() || from_root()
}

/// Whether `target`, a path relative to the folder `dir` in `root`, names a
/// place in `root`, read as written (`..` leaves the folder it follows).
fn stays_within(root: &Path, dir: &Path, target: &str) -> bool {
    let Ok(below) = dir.strip_prefix(root) else {
        return false;
    };
    let mut depth = below.components().count();
    for part in target.split(['/', '\\']) {
        match part {
            "" | "." => {}
            ".." if depth == 0 => return false,
            ".." => depth -= 1,
            _ => depth += 1,
        }
    }
    true
}

/// Whether `target`, relative to `dir`, is a file, or a page a site
/// generator publishes there (`page.html` of `page.md`, a folder's index,
/// mdBook's `index.html` of a `README.md`).
fn names_a_page(dir: &Path, target: &str) -> bool {
    // `registration.md/` names the page as its folder-like address does.
    let full = dir.join(target.trim_end_matches('/'));
    if full.is_file() {
        return true;
    }
    // A site's addresses are in lower case (Hugo's), its files' names may
    // not be: `methods/page/title/` is `methods/page/Title.md`.
    let trimmed = target.trim_end_matches('/');
    let (folder, name) = trimmed.rsplit_once('/').unwrap_or(("", trimmed));
    if target.to_lowercase() == target
        && !name.is_empty()
        && let Ok(entries) = std::fs::read_dir(dir.join(folder))
    {
        let named = |file: &str| {
            let file = file.to_lowercase();
            file == name
                || ["md", "markdown", "mdx"]
                    .iter()
                    .any(|e| file == format!("{name}.{e}"))
        };
        if entries
            .flatten()
            .any(|e| e.file_name().to_str().is_some_and(named))
        {
            return true;
        }
    }
    let html_as_md = target
        .strip_suffix(".html")
        .or_else(|| target.strip_suffix(".htm"))
        .is_some_and(|stem| {
            let readme = (stem.strip_suffix("index"))
                .is_some_and(|folder| dir.join(folder).join("README.md").is_file());
            readme
                || ["md", "markdown", "mdx"]
                    .iter()
                    .any(|e| dir.join(format!("{stem}.{e}")).is_file())
        });
    html_as_md
        || full.is_dir()
            && ["index.md", "_index.md", "README.md", "index.html"]
                .iter()
                .any(|f| full.join(f).is_file())
        || dir
            .join(format!("{}.md", target.trim_end_matches('/')))
            .is_file()
}

/// Splits text wider than [`MAX_SNIPPET_CHARS`] ([`text::width`]) at sentence
/// ends (or, for one over-long sentence, at a space), so no snippet exceeds the
/// limit.
pub(super) fn split_long(text: &str) -> Vec<String> {
    if text::width(text) <= MAX_SNIPPET_CHARS {
        return vec![text.to_string()];
    }
    let mut parts = Vec::new();
    let mut current = String::new();
    for range in text::sentences(text) {
        let sentence = &text[range];
        let mut pieces = vec![sentence.to_string()];
        if text::width(sentence) > MAX_SNIPPET_CHARS {
            pieces = hard_wrap(sentence);
        }
        for piece in pieces {
            if !current.is_empty()
                && text::width(&current) + 1 + text::width(&piece) > MAX_SNIPPET_CHARS
            {
                parts.push(std::mem::take(&mut current));
            }
            if !current.is_empty() {
                current.push(' ');
            }
            current.push_str(&piece);
        }
    }
    if !current.is_empty() {
        parts.push(current);
    }
    parts
}

pub(super) fn hard_wrap(sentence: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    for word in sentence.split(' ') {
        if !current.is_empty() && text::width(&current) + 1 + text::width(word) > MAX_SNIPPET_CHARS
        {
            out.push(std::mem::take(&mut current));
        }
        if !current.is_empty() {
            current.push(' ');
        }
        let mut w = word;
        // Where the first MAX_SNIPPET_CHARS columns end, found by counting no further
        // (counting the whole rest again for each cut made a long word quadratic).
        loop {
            let cut = text::width_cut(w, MAX_SNIPPET_CHARS);
            if cut == w.len() {
                break;
            }
            out.push(w[..cut].to_string());
            w = &w[cut..];
        }
        current.push_str(w);
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// Lowercase ASCII slug of a heading, for snippet ids.
pub(crate) fn slug(heading: &str) -> String {
    let mut out = String::new();
    for c in heading.chars() {
        if c.is_alphanumeric() {
            out.extend(c.to_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_string()
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    pub(in crate::knowledge) const GOOD: &str = "+++\ntitle = \"Visit\"\nsource = \"Paper\"\npublished = 2025-03-05\ntags = [\"a\"]\n+++\n\n# Visit\n\n## Who she met\n\nShe met the\nprime minister.\n\n- first item\n- second item\n\n## Dates\n\nIt ended on March 5.\n";

    #[test]
    fn parses_front_matter_paragraphs_headings_and_lines() {
        let (info, s) =
            parse_file("knowledge/v.md", "v", "", GOOD, &ParseOptions::default()).unwrap();
        assert_eq!(info.title, "Visit");
        assert_eq!(info.snippets, 2);
        let got: Vec<(&str, &str, usize, &str)> = s
            .iter()
            .map(|s| (s.id.as_str(), &*s.heading, s.line, s.text.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                (
                    "v#who-she-met-1",
                    "Who she met",
                    12,
                    "She met the prime minister.\n\nfirst item\n\nsecond item"
                ),
                ("v#dates-1", "Dates", 20, "It ended on March 5."),
            ]
        );
        assert_eq!(s[0].page.published, NaiveDate::from_ymd_opt(2025, 3, 5));
        assert_eq!(s[0].page.source, "Paper");
    }

    #[test]
    fn malformed_files_name_the_line_and_the_problem() {
        // (text, strict, line, problem)
        let table: &[(&str, bool, usize, &str)] = &[
            ("no front matter\n", true, 1, "missing front matter"),
            ("+++\ntitle = \"x\"\n", false, 1, "never closed"),
            (
                "+++\ntitle = \"x\"\nsource = \"y\"\npubished = 2025-03-05\n+++\ntext\n",
                false,
                4,
                "unknown key `pubished`",
            ),
            (
                "+++\ntitle = \"x\"\nsource = \"y\"\n+++\ntext\n",
                true,
                1,
                "missing key `published`",
            ),
            (
                "+++\ntitle = \"x\"\nsource = \"y\"\npublished = \"March 2025\"\n+++\ntext\n",
                false,
                4,
                "must be a date",
            ),
            (
                "+++\ntitle = \"x\"\nsource = \"y\"\npublished = 2025-03-05\nurl = \"ftp://x\"\n+++\ntext\n",
                false,
                5,
                "`url` must start",
            ),
            (
                "+++\ntitle = \"\"\nsource = \"y\"\npublished = 2025-03-05\n+++\ntext\n",
                false,
                2,
                "`title` must not be empty",
            ),
            (
                "+++\ntitle = \"x\"\nsource = \"y\"\npublished = 2025-03-05\n+++\n\n# Only a heading\n",
                true,
                6,
                "no paragraphs",
            ),
            ("+++\ntitle = x\n+++\n", false, 2, "front matter"),
        ];
        for (text, strict, line, needle) in table {
            let options = ParseOptions {
                strict: *strict,
                ..Default::default()
            };
            let e = parse_file("k/bad.md", "bad", "", text, &options).unwrap_err();
            assert_eq!(e.line, *line, "{text:?} -> {e}");
            assert!(e.to_string().contains(needle), "{text:?} -> {e}");
            assert!(
                e.to_string().starts_with(&format!("k/bad.md:{line}: ")),
                "{e}"
            );
        }
    }

    #[test]
    fn a_huge_title_heading_or_tag_list_is_cut_once_not_copied_to_every_passage() {
        let options = ParseOptions::default();
        // A title, heading or tag list runs into every passage of its page:
        // one of a megabyte is cut, not copied a thousand times.
        let huge = "word ".repeat(20_000);
        let tags: Vec<String> = (0..1000).map(|i| format!("t{i}")).collect();
        let text = format!(
            "---\ntitle: {huge}\ntags: [{}]\n---\n\n## {huge}\n\nText.\n",
            tags.join(", ")
        );
        let (info, s) = parse_file("docs/huge.md", "huge", "", &text, &options).unwrap();
        assert_eq!(info.title.chars().count(), MAX_NAME_CHARS);
        assert!(info.title.ends_with("word…"), "{}", info.title);
        assert_eq!(s[0].heading.chars().count(), MAX_NAME_CHARS);
        assert_eq!(s[0].page.tags.len(), MAX_TAGS);
    }

    #[test]
    fn pages_without_front_matter_take_title_and_source_from_what_they_have() {
        let options = ParseOptions {
            source: Some("Ops docs".into()),
            ..Default::default()
        };
        let table: &[(&str, &str, &str, &str)] = &[
            // (file, text, title, first snippet's heading)
            (
                "docs/reverse_proxy.md",
                "# Using a reverse proxy\n\n## Nginx\n\nUse proxy_pass.\n",
                "Using a reverse proxy",
                "Nginx",
            ),
            ("docs/setup-guide.md", "Just text.\n", "setup guide", ""),
            (
                "docs/page.md",
                "---\ntitle: From YAML\nnav_order: 2\n---\n\n# Other\n\nText.\n",
                "From YAML",
                "Other",
            ),
            (
                "docs/notes.txt",
                "First paragraph\nwrapped.\n\nSecond.\n",
                "notes",
                "",
            ),
            (
                "docs/wiki.html",
                "<title>Wiki page</title><h2>Part</h2><p>Text.</p>",
                "Wiki page",
                "Part",
            ),
            (
                "docs/guide.adoc",
                "= Guide\n:toc:\n\n== Setup\n\nText.\n",
                "Guide",
                "Setup",
            ),
            // An overlined title is no YAML front matter.
            (
                "docs/config.rst",
                "------\nConfig\n------\n\nKeys\n====\n\nText.\n",
                "Config",
                "Keys",
            ),
        ];
        for (file, text, title, heading) in table {
            let id_base = file.trim_start_matches("docs/").rsplit_once('.').unwrap().0;
            let (info, s) = parse_file(file, id_base, "", text, &options).unwrap();
            assert_eq!(info.title, *title, "{file}");
            assert_eq!(info.source, "Ops docs", "{file}");
            assert_eq!(&*s[0].heading, *heading, "{file}");
            assert_eq!(s[0].page.title, *title, "{file}");
        }
        // Long enough to be a passage of its own (a short one joins the one before).
        let long = "A second paragraph that goes on. "
            .repeat(10)
            .trim()
            .to_string();
        let (_, s) = parse_file(
            "docs/notes.txt",
            "notes",
            "",
            &format!("First paragraph\nwrapped.\n\n{long}\n"),
            &options,
        )
        .unwrap();
        assert_eq!(
            s.iter()
                .map(|s| (s.line, s.text.as_str()))
                .collect::<Vec<_>>(),
            [(1, "First paragraph wrapped."), (4, long.as_str())]
        );
        // A page of front matter only is navigation: nothing to index, no problem.
        let (info, s) = parse_file(
            "docs/_index.md",
            "_index",
            "",
            "---\ntitle: Section\n---\n",
            &options,
        )
        .unwrap();
        assert_eq!((info.snippets, s.len()), (0, 0));
    }

    #[test]
    fn code_blocks_and_tables_become_passages_with_code_marked() {
        let text = "# Config\n\n### max_upload_size\n\nThe largest upload allowed.\n\n```yaml\nmax_upload_size: 50M\n```\n\n| Option | Default |\n|---|---|\n| `enable_registration` | false |\n";
        let (_, s) =
            parse_file("d/config.md", "config", "", text, &ParseOptions::default()).unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!(&*s[0].heading, "max_upload_size");
        assert_eq!(
            s[0].text,
            "The largest upload allowed.\n\nmax_upload_size: 50M"
        );
        let (a, b) = s[0].code[0];
        assert_eq!(&s[0].text[a..b], "max_upload_size: 50M");
        assert_eq!(s[1].text, "Option: enable_registration; Default: false");
        assert_eq!(s[1].line, 13);
    }

    /// The snippets of a page with strict front matter and `body`.
    fn snippets_of(body: &str) -> Vec<Snippet> {
        let text =
            format!("+++\ntitle = \"x\"\nsource = \"y\"\npublished = 2025-03-05\n+++\n{body}\n");
        parse_file("k/l.md", "l", "", &text, &ParseOptions::default())
            .unwrap()
            .1
    }

    #[test]
    fn long_paragraphs_split_at_sentences_within_the_limit() {
        let sentence = "This sentence is about seventy characters long, give or take a bit. ";
        let para = sentence.repeat(30);
        let s = snippets_of(&para);
        assert!(s.len() >= 3);
        for snip in &s {
            assert!(snip.text.chars().count() <= MAX_SNIPPET_CHARS);
            assert!(snip.text.ends_with('.'));
        }
        assert_eq!(
            s.iter().map(|s| s.text.len() + 1).sum::<usize>(),
            para.len()
        );
    }

    #[test]
    fn a_long_paragraph_in_chinese_is_cut_at_half_the_characters() {
        // 16 characters, 32 columns: 60 of them are 960 characters, 1,920 columns.
        let sentence = "纽卡斯尔最早的移民点是哈德良桥。";
        let para = sentence.repeat(60);
        let s = snippets_of(&para);
        assert_eq!(s.len(), 3, "{s:?}");
        for snip in &s {
            assert!(crate::text::width(&snip.text) <= MAX_SNIPPET_CHARS);
            assert!(snip.text.ends_with('。'));
        }
        // One sentence in full-width letters longer than a snippet is cut
        // where it must be, a snippet's width at most.
        let wide = "Ｗ".repeat(900);
        let s = snippets_of(&wide);
        let got: Vec<usize> = s.iter().map(|s| s.text.chars().count()).collect();
        assert_eq!(got, [400, 400, 100]);
    }

    #[test]
    fn lint_finds_long_paragraphs_broken_links_and_future_dates() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("other.md"), "x").unwrap();
        let long = "word ".repeat(200);
        let text = format!(
            "+++\ntitle = \"x\"\nsource = \"y\"\npublished = 2999-01-01\n+++\n\n{long}\n\nSee [a](https://example.org), [b](other.md#top), [c](mailto:a@b.org).\n\nBut [d](missing.md), [e](javascript:alert(1)) and [f](http:nowhere).\n\nNot [g](inv:myst#index), [h](install-fig), [i](tel:+4930) but [j](htps://a.org) and [k](img/x.png), [l](guide/setup).\n"
        );
        let path = dir.path().join("x.md");
        let got: Vec<(usize, String)> = lint(
            "k/x.md",
            dir.path(),
            &path,
            &text,
            Some(NaiveDate::from_ymd_opt(2999, 1, 1).unwrap()),
            true,
        )
        .into_iter()
        .map(|e| (e.line, e.kind.to_string()))
        .collect();
        let lines: Vec<usize> = got.iter().map(|g| g.0).collect();
        assert_eq!(lines, [4, 7, 11, 11, 11, 13, 13, 13], "{got:#?}");
        assert!(got[0].1.contains("future"));
        assert!(got[1].1.contains("paragraph of 999 characters"));
        assert!(got[2].1.contains("`missing.md`"));
        assert!(got[3].1.contains("javascript:"));
        assert!(got[4].1.contains("http:nowhere"));
        assert!(got[5].1.contains("htps://a.org"));
        assert!(got[6].1.contains("img/x.png"));
        assert!(got[7].1.contains("guide/setup"));
        // On a MyST page, the same path is a target label's; a file it
        // names is still checked.
        let myst = "(setup)=\n# Setup\n\nSee [](guide/setup) and [](missing.md).\n";
        let got = lint("k/m.md", dir.path(), &path, myst, None, false);
        assert_eq!(got.len(), 1, "{got:?}");
        assert!(got[0].to_string().contains("missing.md"));
        // A link to a file whose name has spaces, percent-encoded as Notion,
        // Obsidian and GitHub wikis write it, is to that file.
        std::fs::write(dir.path().join("Setup Guide.md"), "x").unwrap();
        let spaced = "See [setup](Setup%20Guide.md#install), [raw](<Setup Guide.md>) \
                      and [gone](Setup%20Guid.md), [bad](Setup%ZZGuide.md).\n";
        let got: Vec<String> = (lint("k/s.md", dir.path(), &path, spaced, None, false).iter())
            .map(ToString::to_string)
            .collect();
        assert_eq!(got.len(), 2, "{got:?}");
        assert!(got[0].contains("Setup%20Guid.md") && got[1].contains("Setup%ZZGuide.md"));
    }

    #[test]
    fn lint_names_a_table_wider_than_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.md");
        let row = |n: usize, cell: &str| format!("|{}\n", format!(" {cell} |").repeat(n));
        let table = |n: usize| format!("{}{}{}", row(n, "h"), row(n, "---"), row(n, "x"));
        // (table widths on the page, the lines and widths named)
        type Named = &'static [(usize, usize)];
        let cases: &[(&[usize], Named)] = &[
            (&[passages::MAX_COLUMNS], &[]),
            (&[3, passages::MAX_COLUMNS + 1], &[(7, 65)]),
            (&[200, 2], &[(3, 200)]),
        ];
        for (widths, expect) in cases {
            let tables: Vec<String> = widths.iter().map(|&n| table(n)).collect();
            let text = format!("# T\n\n{}", tables.join("\n"));
            let got: Vec<(usize, String)> = lint("k/t.md", dir.path(), &path, &text, None, false)
                .into_iter()
                .map(|e| (e.line, e.kind.to_string()))
                .collect();
            let expect: Vec<(usize, String)> = (expect.iter())
                .map(|&(line, n)| {
                    (
                        line,
                        format!("a table of {n} columns: only its first 64 are read"),
                    )
                })
                .collect();
            assert_eq!(got, expect, "{widths:?}");
        }
    }

    #[test]
    fn links_as_site_generators_resolve_them_are_not_broken() {
        let dir = tempfile::tempdir().unwrap();
        let root = &dir.path().join("kb");
        std::fs::create_dir(root).unwrap();
        std::fs::write(dir.path().join("secret.md"), "x").unwrap();
        for f in [
            "querying/examples.md",
            "querying/basics.md",
            "cli/README.md",
            "ref/registration.md",
            "ref/policy.md",
            "guide/creating.md",
            "guide/Upper.md",
        ] {
            std::fs::create_dir_all(root.join(f).parent().unwrap()).unwrap();
            std::fs::write(root.join(f), "x").unwrap();
        }
        // (page, link, whether it names a page)
        let cases = [
            // A pretty address: `querying/examples.md` is served at
            // `querying/examples/` (MkDocs, Hugo, Docusaurus).
            (
                "querying/examples.md",
                "../basics/#range-vector-selectors",
                true,
            ),
            ("querying/examples.md", "../nothing/", false),
            // mdBook publishes a folder's README.md as its index.html.
            ("guide/creating.md", "../cli/index.html", true),
            ("guide/creating.md", "../ref/index.html", false),
            // A page's name written as a folder's.
            ("ref/policy.md", "registration.md/#identity-model", true),
            ("ref/policy.md", "registrations.md/", false),
            // Out of the source folder: not looked up, so a page cannot tell
            // which files exist outside it.
            ("ref/policy.md", "../../secret.md", true),
            ("ref/policy.md", "../../nothing.md", true),
            ("ref/policy.md", "..%2F..%2Fnothing.md", true),
            ("ref/policy.md", "../ref/../../nothing.md", true),
            ("ref/policy.md", "../ref/../nothing.md", false),
            // From the site's root without its `/`, as Hugo's docs link.
            ("ref/policy.md", "querying/basics/", true),
            ("ref/policy.md", "querying/nothing/", false),
            ("ref/policy.md", "querying/../../secret.md", false),
            // A site's address in lower case, the file's name not.
            ("ref/policy.md", "../guide/upper/", true),
            ("ref/policy.md", "../guide/uper/", false),
        ];
        for (page, link, ok) in cases {
            assert_eq!(link_ok(root, &root.join(page), link), ok, "{page}: {link}");
        }
    }
}
