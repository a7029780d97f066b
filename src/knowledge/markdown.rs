//! Markdown → passages: the document structure of a page as writers use it.
//!
//! A paragraph and the code blocks and list that directly follow it are one
//! passage (the answer to "how do I…" is often the command right after the sentence
//! that introduces it), and a short one joins the passage before it in a short
//! section ([`join_short_sections`]); a table row is one passage, its cells named by the header;
//! headings above a passage make its heading path. Code is kept verbatim and its
//! byte ranges marked, so replies can show it as code. An HTML block's words
//! are read as an HTML page's ([`super::html::fragment`]). What is not
//! knowledge — HTML tags and comments, MDX `import`/`export` lines, Hugo
//! shortcodes and Liquid tags, admonition fences (`:::tip`) — is left out; link
//! (wikilinks too), image and admonition-title text stays.

use pulldown_cmark::{CodeBlockKind, Event, Options, Parser, Tag, TagEnd};

use super::LineCounter;
pub(super) use super::passages::{Group, Part};
use super::passages::{MAX_COLUMNS, Passages, numbered};
use crate::text;

/// What a group was opened by: what may still join it.
#[derive(PartialEq, Clone, Copy)]
enum Opened {
    /// A paragraph: code and a list may follow in the same passage.
    Paragraph,
    /// Code or a list with no paragraph before it: more of the same may follow.
    Other,
}

/// The passages read so far ([`Passages`]) and what opened the one open.
struct Builder {
    p: Passages,
    /// What opened the open passage (meaningless when none is open).
    opened: Opened,
}

impl std::ops::Deref for Builder {
    type Target = Passages;
    fn deref(&self) -> &Passages {
        &self.p
    }
}

impl std::ops::DerefMut for Builder {
    fn deref_mut(&mut self) -> &mut Passages {
        &mut self.p
    }
}

impl Builder {
    /// Whether the open group is a short list that opens its section (a
    /// setting's `Type:` and `Default:` above its description): the paragraph
    /// after it is the rest of its passage.
    fn opens_section_with_short_list(&self) -> bool {
        let (Some(g), Opened::Other) = (&self.p.current, self.opened) else {
            return false;
        };
        g.parts.len() <= 4
            && g.parts.iter().all(|p| matches!(p, Part::Prose(_)))
            && g.parts.iter().map(Part::len).sum::<usize>() <= 200
            && self
                .p
                .out
                .last()
                .is_none_or(|prev| prev.headings != g.headings)
    }

    /// Adds a part: to the open group when `joins`, else to a new one that
    /// `opened`.
    fn add(&mut self, part: Part, line: usize, joins: bool, opened: Opened) {
        if !(part.is_blank() || joins && self.p.open()) {
            self.opened = opened;
        }
        self.p.add(part, line, joins);
    }

    fn opened(&self) -> Option<Opened> {
        self.p.open().then_some(self.opened)
    }
}

/// Where text is being collected.
enum Sink {
    None,
    Heading(u8, String),
    /// A paragraph outside lists.
    Prose(String),
    Code(String, bool),
    Cell(String),
}

/// Walks the Markdown `body` and returns its passages, with headings and lines.
pub(super) fn groups(body: &str) -> Vec<Group> {
    let myst = super::myst::plain(body);
    walk(&mkdocs_blocks(&myst), true)
}

/// [`groups`] of the Markdown made from a document (Word, PDF, PowerPoint):
/// no site generator's syntax there, so a paragraph that opens "export
/// licences from…" is words, not an MDX statement, and ":::" no fence.
pub(super) fn document_groups(body: &str) -> Vec<Group> {
    walk(body, false)
}

/// Block quotes and list items opened on one line beyond which their markers
/// are read as text. The Markdown parser's time grows with the nesting depth
/// times the lines that continue it: 250,000 `> ` then as many lines of text
/// (1 MB) took 108 s. No page a person writes nests a tenth as deep.
const MAX_CONTAINERS: usize = 32;

/// `body` with each line's run of container markers (`>`, `-`, `*`, `+`,
/// `1.`) cut to [`MAX_CONTAINERS`], the rest of the line kept; `body` itself
/// when no line opens that many (every page a person writes). Lines stay
/// where they were, so what is read keeps its line numbers.
pub(super) fn shallow_containers(body: &str) -> std::borrow::Cow<'_, str> {
    let mut out: Option<String> = None;
    let mut copied = 0;
    let mut at = 0;
    for line in body.split_inclusive('\n') {
        if let Some((keep, resume)) = too_many_containers(line) {
            let o = out.get_or_insert_with(|| String::with_capacity(body.len()));
            o.push_str(&body[copied..at + keep]);
            copied = at + resume;
        }
        at += line.len();
    }
    match out {
        None => std::borrow::Cow::Borrowed(body),
        Some(mut o) => {
            o.push_str(&body[copied..]);
            std::borrow::Cow::Owned(o)
        }
    }
}

/// Where `line`'s container markers past [`MAX_CONTAINERS`] start and end,
/// when it has more.
fn too_many_containers(line: &str) -> Option<(usize, usize)> {
    let b = line.as_bytes();
    let (mut i, mut n, mut keep, mut last) = (0, 0, 0, 0);
    loop {
        while i < b.len() && matches!(b[i], b' ' | b'\t') {
            i += 1;
        }
        let marker = match b.get(i) {
            Some(b'>') => 1,
            Some(b'-' | b'*' | b'+') if matches!(b.get(i + 1), Some(b' ' | b'\t')) => 1,
            Some(c) if c.is_ascii_digit() => {
                let digits = b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
                let after = (b.get(i + digits), b.get(i + digits + 1));
                match after {
                    (Some(b'.' | b')'), Some(b' ' | b'\t')) if digits <= 9 => digits + 1,
                    _ => 0,
                }
            }
            _ => 0,
        };
        if marker == 0 {
            break;
        }
        i += marker;
        last = i;
        n += 1;
        if n == MAX_CONTAINERS {
            keep = i;
        }
    }
    (n > MAX_CONTAINERS).then_some((keep, last))
}

/// The passages of `body`, read with site generators' syntax when `site`.
fn walk(body: &str, site: bool) -> Vec<Group> {
    let body = &shallow_containers(body);
    let mut walk = Walk::new(body);
    walk.site = site;
    // Heading attributes (`## Setup {#setup}`) are anchors, not words; GFM alerts
    // (`> [!NOTE]`) are markup; so is a definition list's `: ` (Hugo, Jekyll's
    // kramdown, MkDocs' def_list, MyST, Pandoc) on a page that writes one.
    let mut options = Options::ENABLE_TABLES
        | Options::ENABLE_WIKILINKS
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_HEADING_ATTRIBUTES
        | Options::ENABLE_GFM;
    if writes_definition_lists(body) {
        options |= Options::ENABLE_DEFINITION_LIST;
    }
    for (event, range) in Parser::new_ext(body, options).into_offset_iter() {
        walk.event(event, range.start);
    }
    walk.end_html();
    walk.b.p.finish()
}

/// What opens an MkDocs block whose content is indented under it: a content
/// tab (`=== "Native"`) or an admonition (`!!! note "Title"`, `??? tip`).
fn mkdocs_marker(line: &str) -> Option<String> {
    let t = line.trim();
    // "=== ", and "===! " / "===+ " (a tab that starts a new set, one selected).
    let tab = ["=== \"", "===! \"", "===+ \""]
        .iter()
        .find_map(|m| t.strip_prefix(m));
    if let Some(label) = tab.and_then(|l| l.strip_suffix('"')) {
        // The tab's label leads in to its content.
        return Some(format!("{}:", label.trim()));
    }
    let rest = ["!!! ", "???+ ", "??? "]
        .iter()
        .find_map(|m| t.strip_prefix(m))?;
    let (kind, title) = match rest.split_once(' ') {
        Some((kind, title)) => (kind, title.trim().trim_matches('"')),
        None => (rest, ""),
    };
    if kind.is_empty() || !kind.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return None;
    }
    // As a Docusaurus admonition reads: its title, then its content.
    Some(if title.is_empty() {
        format!(":::{kind}")
    } else {
        format!(":::{kind}[{title}]")
    })
}

/// `body` with MkDocs Material's content tabs and admonitions opened up: the
/// marker line becomes a lead-in (the tab's label) or an admonition's title,
/// and the content indented four spaces under it is moved out, so that its
/// code is code and its lists are lists, not one indented code block. A marker
/// inside a list item (indented as the item's text is) opens up the same way,
/// its content staying in the item. Lines stay where they are; `body` itself
/// when it has no such block.
fn mkdocs_blocks(body: &str) -> std::borrow::Cow<'_, str> {
    // A setext heading's "===" is no marker: only a tab's `=== "`, `===! "`,
    // `===+ "` send a page the slow way.
    let markers = ["=== \"", "===! \"", "===+ \"", "!!! ", "??? ", "???+ "];
    if !markers.iter().any(|m| body.contains(m)) {
        return body.into();
    }
    let mut lines: Vec<std::borrow::Cow<'_, str>> = body.lines().map(Into::into).collect();
    // The open fence's characters, and the text column it opened at.
    let mut fence: Option<(String, usize)> = None;
    // The text columns of the list items the line is in, innermost last.
    let mut items: Vec<usize> = Vec::new();
    // Whether the line before is a paragraph's, which an ordered list not
    // starting at 1 cannot interrupt ("Since\n2024. we ship").
    let mut in_paragraph = false;
    // Each block moves the lines under it, and a block nested in N others is
    // moved N times: 3,000 nested (18 MB) took 22 s. Past a budget of moves
    // (16 levels of every line: no page nests a tenth as deep) the rest of
    // the markers are left as written.
    let (mut moved, budget) = (0, 16 * lines.len());
    for i in 0..lines.len() {
        let indent = spaces(&lines[i]);
        let t = &lines[i][indent..];
        if let Some((open, column)) = &fence {
            let column = *column;
            let closes = super::myst::closes(t.trim_end(), open);
            // A line left of the item the fence is in ends the item, and the
            // fence with it; it is read as any other line.
            let leaves = !t.trim().is_empty() && indent < column;
            if closes && indent < column + 4 && !leaves {
                fence = None;
                continue;
            }
            if !leaves {
                continue;
            }
            fence = None;
        }
        // A tab in the indentation: measured unlike the spaces this counts,
        // so left as it is.
        if t.trim().is_empty() || t.starts_with('\t') {
            in_paragraph = false;
            continue;
        }
        while items.last().is_some_and(|&column| indent < column) {
            items.pop();
        }
        // Indented less than four past the text of the item it is in (the
        // page's left edge outside lists), or it is an indented code block.
        let base = items.last().copied().unwrap_or(0);
        let in_code = indent >= base + 4;
        let was_paragraph = std::mem::replace(&mut in_paragraph, false);
        if in_code {
            continue;
        }
        if let Some(open) = super::myst::code_fence(t) {
            fence = Some((open, base));
        } else if let Some(marker) = mkdocs_marker(t).filter(|_| moved <= budget) {
            moved += open_up(&mut lines, i, indent, marker, !items.is_empty());
        } else if let Some(width) = list_marker(t).filter(|_| !was_paragraph || starts_list(t)) {
            items.push(indent + width);
        } else {
            in_paragraph = !t.starts_with('#') && !thematic_break(t);
        }
    }
    let mut out = lines.join("\n");
    if body.ends_with('\n') {
        out.push('\n');
    }
    out.into()
}

/// Opens up the MkDocs block whose `marker` is on `lines[i]`, indented
/// `indent`: the marker line becomes it, the content indented four past it
/// moves out by four. In a list item (`in_item`) an admonition's fence would
/// be the item's text: its title alone is. Returns how many lines it moved.
fn open_up(
    lines: &mut [std::borrow::Cow<'_, str>],
    i: usize,
    indent: usize,
    marker: String,
    in_item: bool,
) -> usize {
    let marker = match marker.strip_prefix(":::") {
        Some(m) if in_item => m
            .split_once('[')
            .map_or("", |(_, title)| title.strip_suffix(']').unwrap_or(title))
            .to_string(),
        _ => marker,
    };
    lines[i] = format!("{}{marker}", " ".repeat(indent)).into();
    let mut moved = 0;
    for line in lines.iter_mut().skip(i + 1) {
        let deeper = spaces(line) >= 4 + indent;
        if !(line.trim().is_empty() || deeper) {
            break;
        }
        if deeper {
            *line = line[4..].to_string().into();
        }
        moved += 1;
    }
    moved
}

/// Whether a list item's marker may interrupt a paragraph: a bullet, or a
/// number 1, with text after it (CommonMark's rule; "-" alone under a
/// paragraph underlines it as a heading).
fn starts_list(t: &str) -> bool {
    let numbered = t.as_bytes()[0].is_ascii_digit();
    let empty = t.trim_end().len() <= t.bytes().take_while(|b| !b.is_ascii_whitespace()).count();
    !empty && (!numbered || t.starts_with("1.") || t.starts_with("1)"))
}

/// Whether `t` is a thematic break: three or more `*`, `-` or `_`, spaces
/// between allowed.
fn thematic_break(t: &str) -> bool {
    let marks: Vec<u8> = t
        .trim_end()
        .bytes()
        .filter(|&b| b != b' ' && b != b'\t')
        .collect();
    marks.len() >= 3
        && matches!(marks[0], b'*' | b'-' | b'_')
        && marks.iter().all(|&b| b == marks[0])
}

/// How wide a list item's marker is with the spaces after it (`- `, `12. `),
/// when `t` opens one: the column its text starts at, from the marker's. A
/// thematic break (`* * *`, `---`) opens none.
fn list_marker(t: &str) -> Option<usize> {
    let digits = t.bytes().take_while(u8::is_ascii_digit).count();
    let marker = match t.as_bytes().get(digits)? {
        b'-' | b'*' | b'+' if digits == 0 => 1,
        b'.' | b')' if (1..=9).contains(&digits) => digits + 1,
        _ => return None,
    };
    if digits == 0 && thematic_break(t) {
        return None;
    }
    // Spaces and tabs (to the next multiple of four) after the marker.
    let mut gap = 0;
    for b in t[marker..].bytes() {
        match b {
            b' ' => gap += 1,
            b'\t' => gap += 4 - (marker + gap) % 4,
            _ => break,
        }
    }
    // "-" alone on a line opens an item too; five spaces or more after the
    // marker start an indented code block in the item, whose text is one on.
    match gap {
        0 if t.len() == marker => Some(marker + 1),
        1..=4 => Some(marker + gap),
        0 => None,
        _ => Some(marker + 1),
    }
}

/// How many times `needle` (ASCII) is in `t`, in any case.
fn count_ci(t: &str, needle: &str) -> usize {
    let n = needle.len();
    t.as_bytes()
        .windows(n)
        .filter(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
        .count()
}

/// How many spaces `line` starts with.
fn spaces(line: &str) -> usize {
    line.bytes().take_while(|&b| b == b' ').count()
}

/// An open list item: what it has said so far, its line, and whether all of
/// that is the text of links to places on the same page.
struct Item {
    text: String,
    line: usize,
    contents_only: bool,
    /// Of a definition list's term: the term, "term:", once read. Each of
    /// its definitions is a part that opens with it, "term: definition".
    term: Option<String>,
    /// Its number in an ordered list, until its first words are a part: a
    /// runbook's "3." is the step a question asks for ("what is step 3?").
    number: Option<u64>,
}

/// The table being read: its header's cells, the row being read (each its
/// first [`MAX_COLUMNS`]), and that row's line.
#[derive(Default)]
struct Table {
    head: Vec<String>,
    row: Vec<String>,
    in_head: bool,
    line: usize,
}

/// The state of [`groups`] between parser events.
struct Walk<'a> {
    b: Builder,
    lines: LineCounter<'a>,
    sink: Sink,
    sink_line: usize,
    /// Open list items, innermost last: a paragraph inside an item is the item's.
    item_text: Vec<Item>,
    /// Open lists, innermost last: an ordered list's next item's number.
    lists: Vec<Option<u64>>,
    /// Inside a link to a place on the same page (`[Setup](#setup)`); links
    /// do not nest.
    in_page_link: bool,
    table: Table,
    last_prose_is_admonition: bool,
    /// Whether site generators' syntax is read as such (MDX statements,
    /// admonition fences): not in a document's Markdown.
    site: bool,
    /// A Docusaurus admonition's title was the last part: its text joins it.
    admonition_title: bool,
    /// The HTML block being read, and its first line.
    html: Option<(String, usize)>,
    /// How many `<table>`s the HTML block read leaves open: a blank line ends
    /// a Markdown HTML block, but not the table, whose rows the blocks after
    /// it hold.
    html_tables: usize,
}

impl<'a> Walk<'a> {
    fn new(body: &'a str) -> Self {
        Walk {
            b: Builder {
                p: Passages::default(),
                opened: Opened::Other,
            },
            lines: LineCounter::new(body),
            sink: Sink::None,
            sink_line: 0,
            item_text: Vec::new(),
            lists: Vec::new(),
            in_page_link: false,
            table: Table::default(),
            last_prose_is_admonition: false,
            site: true,
            admonition_title: false,
            html: None,
            html_tables: 0,
        }
    }

    /// Reads an HTML block's event; whether `event` was one. Any other ends a
    /// table the blocks left open.
    fn html_event(&mut self, event: &Event<'_>, start: usize) -> bool {
        match event {
            Event::Start(Tag::HtmlBlock) => match self.html.as_mut() {
                // The next rows of a table an earlier block opened.
                Some((block, _)) => block.push('\n'),
                None => self.html = Some((String::new(), self.lines.line_of(start))),
            },
            Event::Html(t) => {
                self.html_tables = (self.html_tables + count_ci(t, "<table"))
                    .saturating_sub(count_ci(t, "</table"));
                self.html.iter_mut().for_each(|(b, _)| b.push_str(t));
            }
            Event::End(TagEnd::HtmlBlock) => {
                if self.html_tables == 0 {
                    self.end_html();
                }
            }
            _ => {
                if self.html_tables > 0 {
                    self.html_tables = 0;
                    self.end_html();
                }
                return false;
            }
        }
        true
    }

    fn event(&mut self, event: Event<'_>, start: usize) {
        if self.html_event(&event, start) || self.definition_event(&event, start) {
            return;
        }
        match event {
            Event::Start(Tag::Heading { level, id, .. }) => {
                self.b.close();
                self.b.anchor = id
                    .map(|id| id.trim().to_string())
                    .filter(|id| !id.is_empty());
                self.sink = Sink::Heading(level as u8, String::new());
            }
            Event::End(TagEnd::Heading(_)) => self.end_heading(),
            Event::Start(Tag::Item) => self.start_item(start),
            Event::End(TagEnd::Item) => self.end_item(),
            Event::Start(Tag::List(first)) => self.lists.push(first),
            Event::End(TagEnd::List(_)) => {
                self.lists.pop();
            }
            Event::Start(Tag::Paragraph) if self.item_text.is_empty() => {
                self.sink = Sink::Prose(String::new());
                self.sink_line = self.lines.line_of(start);
            }
            Event::End(TagEnd::Paragraph) => self.end_paragraph(),
            Event::Start(Tag::CodeBlock(kind)) => {
                // MkDocs admonitions (`!!! note`) indent their text: it reads as an
                // indented code block, but it is prose.
                let prose =
                    matches!(kind, CodeBlockKind::Indented) && self.last_prose_is_admonition;
                self.sink = Sink::Code(String::new(), prose);
                self.sink_line = self.lines.line_of(start);
            }
            Event::End(TagEnd::CodeBlock) => self.end_code(),
            Event::Start(Tag::Table(_)) => {
                self.b.close();
                self.table.head.clear();
            }
            Event::Start(Tag::TableHead) => {
                self.table.in_head = true;
                self.table.row.clear();
            }
            Event::End(TagEnd::TableHead) => {
                self.table.in_head = false;
                self.table.head = std::mem::take(&mut self.table.row);
            }
            Event::Start(Tag::TableRow) => {
                self.table.row.clear();
                self.table.line = self.lines.line_of(start);
            }
            Event::End(TagEnd::TableRow) => self.end_row(),
            Event::Start(Tag::TableCell) => self.sink = Sink::Cell(String::new()),
            Event::End(TagEnd::TableCell) => self.end_cell(),
            Event::End(TagEnd::Table) => {
                self.b.close();
                self.table.in_head = false;
            }
            Event::Start(Tag::Link { dest_url, .. }) => {
                self.in_page_link = dest_url.starts_with('#')
            }
            Event::End(TagEnd::Link) => self.in_page_link = false,
            Event::Text(t) | Event::Code(t) => self.text(&t),
            Event::SoftBreak | Event::HardBreak => self.line_break(),
            // A thematic break ends a passage.
            Event::Rule => self.b.close(),
            _ => {}
        }
    }

    fn end_heading(&mut self) {
        if let Sink::Heading(level, t) = std::mem::replace(&mut self.sink, Sink::None) {
            self.b.headings.retain(|(l, _)| *l < level);
            // Cut here: every group under it carries it.
            let heading = super::clip(&text::fold_whitespace(&t), super::MAX_NAME_CHARS);
            self.b.headings.push((level, heading));
            self.b.sections += 1;
        }
    }

    /// An HTML block: its words are read as an HTML page's are. A block of
    /// tags alone does not end a passage, so the code an MDX page wraps in
    /// `<Tabs>` stays with the paragraph that introduces it; a comment does
    /// (writers end a list with one).
    fn end_html(&mut self) {
        let Some((block, line)) = self.html.take() else {
            return;
        };
        if block.lines().any(|l| l.trim_start().starts_with("<!--")) {
            self.b.close();
        }
        if !super::html::has_text(&block) {
            return;
        }
        self.flush_item();
        let fragment = super::html::fragment(&block, self.b.named_row_bytes);
        self.b.named_row_bytes = fragment.named_row_bytes;
        let mut section = 0;
        for (i, g) in fragment.groups.into_iter().enumerate() {
            if g.section != section {
                self.enter(&g.headings, g.anchor);
                section = g.section;
            }
            for (j, part) in g.parts.into_iter().enumerate() {
                // The block's first words join the open passage as Markdown's
                // would: code always, a paragraph when it is a lead-in.
                let joins = j > 0
                    || (i == 0
                        && section == 0
                        && self.b.opened().is_some()
                        && match &part {
                            Part::Code(_) => true,
                            Part::Prose(t) => text::is_lead_in(t),
                        });
                let opened = match part {
                    Part::Code(_) => Opened::Other,
                    Part::Prose(_) => Opened::Paragraph,
                };
                self.b.add(part, line, joins, opened);
            }
            if g.row {
                if let Some(open) = self.b.current.as_mut() {
                    open.row = true;
                }
                self.b.close();
            }
        }
        if fragment.sections != section {
            self.enter(&fragment.headings, fragment.anchor);
        }
    }

    /// Goes under the headings an HTML block names, as a Markdown heading of
    /// each level would.
    fn enter(&mut self, headings: &[(u8, String)], anchor: Option<String>) {
        self.b.close();
        for (level, heading) in headings {
            self.b.headings.retain(|(l, _)| l < level);
            self.b.headings.push((*level, heading.clone()));
        }
        self.b.anchor = anchor;
        self.b.sections += 1;
    }

    fn start_item(&mut self, start: usize) {
        // A nested item is a part of its own, after what its outer item said
        // so far: one sentence of a list never runs into the next item's
        // ("…10 minutes. authRequests - …").
        self.flush_item();
        let line = self.lines.line_of(start);
        let number = self.lists.last_mut().and_then(|next| {
            let n = next.as_mut()?;
            let this = *n;
            *n = this.saturating_add(1);
            Some(this)
        });
        self.item_text.push(Item {
            text: String::new(),
            line,
            contents_only: true,
            term: None,
            number,
        });
    }

    fn end_item(&mut self) {
        self.flush_item();
        self.item_text.pop();
    }

    /// Reads a definition list's event; whether `event` was one. A term and
    /// each of its definitions are an item, "term: definition", as a list
    /// item "term: definition" would be.
    fn definition_event(&mut self, event: &Event<'_>, start: usize) -> bool {
        match event {
            Event::Start(Tag::DefinitionList) => self.lists.push(None),
            Event::End(TagEnd::DefinitionList) => {
                self.end_term();
                self.lists.pop();
            }
            Event::Start(Tag::DefinitionListTitle) => {
                self.end_term();
                self.start_item(start);
                if let Some(item) = self.item_text.last_mut() {
                    item.term = Some(String::new());
                }
            }
            Event::End(TagEnd::DefinitionListTitle) => {
                if let Some(item) = self.item_text.last_mut() {
                    let term = text::fold_whitespace(&strip_shortcodes(&item.text));
                    item.text.clear();
                    item.term = Some(if term.is_empty() { term } else { term + ":" });
                }
            }
            Event::Start(Tag::DefinitionListDefinition) => {
                // The definition before it, in a tight list, is said.
                self.flush_item();
                if let Some(item) = self.item_text.last_mut()
                    && let Some(term) = &item.term
                {
                    item.text = format!("{term} ");
                }
            }
            _ => return false,
        }
        true
    }

    /// Ends the definition list's term being read, with its definitions.
    fn end_term(&mut self) {
        if self
            .item_text
            .last()
            .is_some_and(|item| item.term.is_some())
        {
            self.end_item();
        }
    }

    /// Adds what the innermost open list item has said so far as a part of the
    /// passage, and empties it.
    fn flush_item(&mut self) {
        let Some(item) = self.item_text.last_mut() else {
            return;
        };
        let t = text::fold_whitespace(&strip_shortcodes(&std::mem::take(&mut item.text)));
        // A definition that says nothing (a shortcode) is no part.
        let t = match &item.term {
            Some(term) if t == *term => String::new(),
            _ => t,
        };
        let line = item.line;
        // An item that is only a link to a heading of the page is the page's
        // table of contents: navigation, and the heading it names already
        // carries its words (it outranked the section it points to).
        let contents = std::mem::replace(&mut item.contents_only, true);
        if !t.is_empty() && !contents {
            let t = numbered(item.number.take(), t);
            let joins = self.b.opened().is_some();
            self.b.add(Part::Prose(t), line, joins, Opened::Other);
        }
    }

    fn end_paragraph(&mut self) {
        if let Sink::Prose(t) = std::mem::replace(&mut self.sink, Sink::None) {
            if self.site && is_module_syntax(&t) {
                return;
            }
            let (t, title) = match self.site {
                true => strip_admonition_fences(&t),
                false => (std::borrow::Cow::Borrowed(t.as_str()), None),
            };
            let t = text::fold_whitespace(&strip_shortcodes(&t));
            self.last_prose_is_admonition = t.starts_with("!!!") || t.starts_with("???");
            let mut joins = std::mem::replace(&mut self.admonition_title, false)
                || self.b.opens_section_with_short_list()
                || (self.b.opened().is_some() && text::is_lead_in(&t));
            if let Some(title) = title {
                self.b
                    .add(Part::Prose(title), self.sink_line, false, Opened::Paragraph);
                joins = true;
                if t.is_empty() {
                    self.admonition_title = true;
                    return;
                }
            }
            self.b
                .add(Part::Prose(t), self.sink_line, joins, Opened::Paragraph);
        } else {
            // A loose item's paragraphs are parts of their own: "**Type:** `x`"
            // and the description below it are not one sentence.
            self.flush_item();
        }
    }

    fn end_code(&mut self) {
        let Sink::Code(t, prose) = std::mem::replace(&mut self.sink, Sink::None) else {
            return;
        };
        // Code in a list item ("1. Run: ```…```") stays code, after the item's
        // words so far.
        self.flush_item();
        let joins = self.b.opened().is_some();
        let part = if prose {
            Part::Prose(inline_text(&t))
        } else {
            Part::Code(t.trim_end_matches('\n').to_string())
        };
        self.b.add(part, self.sink_line, joins, Opened::Other);
    }

    fn end_cell(&mut self) {
        if let Sink::Cell(t) = std::mem::replace(&mut self.sink, Sink::None)
            && self.table.row.len() < MAX_COLUMNS
        {
            self.table.row.push(text::fold_whitespace(&t));
        }
    }

    fn end_row(&mut self) {
        let t = &mut self.table;
        self.b.p.table_row(&t.head, t.row.drain(..), t.line);
    }

    fn text(&mut self, t: &str) {
        match &mut self.sink {
            Sink::Heading(_, s) | Sink::Prose(s) | Sink::Code(s, _) | Sink::Cell(s) => {
                s.push_str(t)
            }
            Sink::None => {
                if let Some(item) = self.item_text.last_mut() {
                    item.text.push_str(t);
                    if !self.in_page_link && !t.trim().is_empty() {
                        item.contents_only = false;
                    }
                }
            }
        }
    }

    fn line_break(&mut self) {
        match &mut self.sink {
            Sink::Heading(_, s) | Sink::Cell(s) => s.push(' '),
            // A paragraph keeps its lines until it ends (whitespace is folded
            // then): MDX statements and admonition fences are whole lines.
            Sink::Prose(s) | Sink::Code(s, _) => s.push('\n'),
            Sink::None => {
                if let Some(item) = self.item_text.last_mut() {
                    item.text.push(' ');
                }
            }
        }
    }
}

/// Whether `body` writes a definition list: a line of text, then a line
/// that opens with `: ` and says something. The parser takes any line that
/// opens with a colon after text for a definition (`:::tip`, `:8080`), so a
/// page with fences of colons (Docusaurus, VitePress, MyST) is read without.
fn writes_definition_lists(body: &str) -> bool {
    let mut after_text = false;
    let mut defines = false;
    for line in body.lines() {
        let t = line.trim_start();
        if t.starts_with("::") {
            return false;
        }
        let indent = line.len() - t.len();
        if after_text && indent < 4 && (t.starts_with(": ") || t.starts_with(":\t")) {
            defines |= !t[1..].trim().is_empty();
        }
        after_text = !t.is_empty();
    }
    defines
}

/// Whether a paragraph is MDX module syntax (`import Tabs from '@theme/Tabs';`,
/// `export const x = …;`): code of the page's build, not words of the page.
fn is_module_syntax(paragraph: &str) -> bool {
    paragraph.lines().filter(|l| !l.trim().is_empty()).all(|l| {
        let l = l.trim();
        (l.starts_with("import ") || l.starts_with("export "))
            && (l.contains(" from ") || l.ends_with(';') || l.contains(" = "))
    }) && !paragraph.trim().is_empty()
}

/// A paragraph without the fences of a Docusaurus admonition (`:::tip[Title]` or
/// `:::tip Title` opening it, `:::` closing it), and the title it gave.
fn strip_admonition_fences(paragraph: &str) -> (std::borrow::Cow<'_, str>, Option<String>) {
    let lines: Vec<&str> = paragraph.lines().collect();
    let is_fence = |l: &str| l.trim_start().starts_with(":::");
    if !lines.iter().any(|l| is_fence(l)) {
        return (paragraph.into(), None);
    }
    let mut title = None;
    let mut kept = Vec::with_capacity(lines.len());
    for (i, line) in lines.iter().enumerate() {
        let Some(rest) = line.trim().strip_prefix(":::") else {
            kept.push(*line);
            continue;
        };
        // Docusaurus writes `:::tip`, VitePress and Starlight `::: tip`.
        let rest = rest.trim_start();
        let kind_end = rest
            .find(|c: char| !c.is_ascii_alphanumeric() && c != '-' && c != '_')
            .unwrap_or(rest.len());
        let named = rest[kind_end..]
            .trim()
            .trim_start_matches('[')
            .trim_end_matches(']')
            .trim();
        // Pandoc's fenced divs (Quarto's `::: {.callout-tip}`) name
        // classes, not a title.
        if i == 0 && !named.is_empty() && !named.starts_with('{') {
            title = Some(text::fold_whitespace(named));
        }
    }
    (kept.join("\n").into(), title)
}

/// Text without Hugo's shortcodes (`{{< figure … >}}`, `{{% alert %}}`) and
/// Jekyll's Liquid tags (`{% include note.html %}`): template calls, not words
/// of the page. (`{{ .Title }}`-style output stays: it may stand for a word.)
fn strip_shortcodes(t: &str) -> std::borrow::Cow<'_, str> {
    if !t.contains("{{") && !t.contains("{%") {
        return t.into();
    }
    let mut out = String::with_capacity(t.len());
    let mut rest = t;
    // Closers known to be missing from the rest: an opener never closed is
    // looked for once, not again from every later opener (which took 90 s
    // over 1 MB of "{% ").
    let mut missing: Vec<&str> = Vec::new();
    while let Some(start) = rest.find('{') {
        let after = &rest[start + 1..];
        let close = if after.starts_with('%') {
            "%}"
        } else if let Some(inner) = after.strip_prefix('{') {
            match inner.trim_start().chars().next() {
                Some('<') => ">}}",
                Some('%') => "%}}",
                _ => "",
            }
        } else {
            ""
        };
        let found = if close.is_empty() || missing.contains(&close) {
            None
        } else {
            let found = after.find(close);
            if found.is_none() {
                missing.push(close);
            }
            found
        };
        match found {
            Some(end) => {
                out.push_str(&rest[..start]);
                out.push(' ');
                rest = &after[end + close.len()..];
            }
            None => {
                out.push_str(&rest[..start + 1]);
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out.into()
}

/// The text of Markdown without its markup (links keep their text).
fn inline_text(md: &str) -> String {
    let mut s = String::new();
    for event in Parser::new(md) {
        match event {
            Event::Text(t) | Event::Code(t) => s.push_str(&t),
            Event::SoftBreak | Event::HardBreak | Event::End(_) => s.push(' '),
            _ => {}
        }
    }
    text::fold_whitespace(&s)
}

/// A paragraph (with its code and list) this short joins the passage before it
/// in its section: alone it says too little to be found or to answer.
const SHORT_GROUP: usize = 300;

/// A section longer than this keeps its paragraphs apart: a long article's
/// paragraphs are each a passage of their own (on the SQuAD articles, where a
/// section is a whole article, no passage changes).
const SHORT_SECTION: usize = 4000;

/// Joins each short group ([`SHORT_GROUP`]) of a short section ([`SHORT_SECTION`];
/// under one heading, no table row) to the one before it while that stays within
/// `max` characters. A section of a reference page is one topic told in a few
/// paragraphs — a setting's description, then "By default, …" or "The
/// `hash-password` command can help with this." — and a question about it takes
/// words from each; cut apart, the short one holds too few of them to rank, and
/// the one that ranks does not hold the answer.
pub(super) fn join_short_sections(groups: Vec<Group>, max: usize) -> Vec<Group> {
    let size = |g: &Group| g.parts.iter().map(|p| p.width() + 2).sum::<usize>();
    let mut sections: std::collections::BTreeMap<usize, usize> = Default::default();
    for g in &groups {
        *sections.entry(g.section).or_default() += size(g);
    }
    let mut out: Vec<Group> = Vec::with_capacity(groups.len());
    for g in groups {
        if let Some(last) = out.last_mut()
            && !last.row
            && !g.row
            && last.section == g.section
            && sections[&g.section] <= SHORT_SECTION
            && size(&g) <= SHORT_GROUP
            && size(last) + size(&g) <= max + 2
        {
            last.parts.extend(g.parts);
            continue;
        }
        out.push(g);
    }
    out
}

/// A passage cut to size: text, the byte ranges of `text` that are code, and the
/// index of the part it starts with.
#[derive(Debug, Clone, PartialEq, Default)]
pub(super) struct Cut {
    pub text: String,
    pub code: Vec<(usize, usize)>,
}

/// Cuts a group into passages of at most `max` columns ([`text::width`]): parts
/// are packed in order, separated by blank lines; a part longer than `max` is
/// split (prose at sentence ends, code at line ends).
pub(super) fn cut(parts: &[Part], max: usize) -> Vec<Cut> {
    let mut pieces: Vec<Part> = Vec::new();
    for p in parts {
        if p.width() <= max {
            pieces.push(p.clone());
            continue;
        }
        match p {
            Part::Prose(t) => pieces.extend(super::split_long(t).into_iter().map(Part::Prose)),
            Part::Code(t) => pieces.extend(split_code(t, max).into_iter().map(Part::Code)),
        }
    }
    let mut out: Vec<Cut> = Vec::new();
    let mut current = Cut {
        text: String::new(),
        code: Vec::new(),
    };
    let mut columns = 0;
    for piece in pieces {
        let n = piece.width();
        if columns > 0 && columns + 2 + n > max {
            out.push(std::mem::take(&mut current));
            columns = 0;
        }
        if columns > 0 {
            current.text.push_str("\n\n");
            columns += 2;
        }
        let start = current.text.len();
        match piece {
            Part::Prose(t) => current.text.push_str(&t),
            Part::Code(t) => {
                current.text.push_str(&t);
                current.code.push((start, current.text.len()));
            }
        }
        columns += n;
    }
    if !current.text.is_empty() {
        out.push(current);
    }
    out
}

/// Splits code into pieces of at most `max` columns between statements
/// ([`text::passage_sentences`]: a comment stays with the lines it documents),
/// a longer statement at line ends.
fn split_code(code: &str, max: usize) -> Vec<String> {
    let line_start = |at: usize| code[..at].rfind('\n').map_or(0, |i| i + 1);
    let columns = |a: usize, b: usize| text::width(&code[a..b]);
    let mut out = Vec::new();
    let (mut from, mut end) = (0, 0);
    for r in text::passage_sentences(code, &[(0, code.len())]) {
        let start = line_start(r.start).max(from);
        if end <= from {
            // Nothing is pending: the piece begins at this statement's line,
            // not at the blank lines after a statement that was cut alone.
            from = start;
        }
        if end > from && columns(from, r.end) > max {
            out.push(code[from..end].to_string());
            from = start;
        }
        if columns(from, r.end) > max {
            out.extend(split_lines(&code[from..r.end], max));
            from = r.end;
        }
        end = r.end;
    }
    if end > from {
        out.push(code[from..end].to_string());
    }
    out.retain(|p| !p.trim().is_empty());
    out
}

/// Splits code at line ends into pieces of at most `max` columns (a longer
/// line is cut where it must be).
fn split_lines(code: &str, max: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    for line in code.split('\n') {
        let mut line = line;
        // Counting no further than the cut: a megabyte-long line is cut in
        // linear time.
        loop {
            let cut = text::width_cut(line, max);
            if cut == line.len() {
                break;
            }
            if !current.is_empty() {
                out.push(std::mem::take(&mut current));
            }
            out.push(line[..cut].to_string());
            line = &line[cut..];
        }
        let extra = usize::from(!current.is_empty());
        if text::width(&current) + extra + text::width(line) > max {
            out.push(std::mem::take(&mut current));
        }
        if !current.is_empty() {
            current.push('\n');
        }
        current.push_str(line);
    }
    if !current.trim().is_empty() {
        out.push(current);
    }
    out.retain(|p| !p.trim().is_empty());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(md: &str) -> Vec<(String, usize, Vec<Part>)> {
        groups(md)
            .into_iter()
            .map(|g| {
                (
                    g.headings
                        .iter()
                        .map(|h| h.1.as_str())
                        .collect::<Vec<_>>()
                        .join(" › "),
                    g.line,
                    g.parts,
                )
            })
            .collect()
    }

    fn prose(s: &str) -> Part {
        Part::Prose(s.into())
    }

    #[test]
    fn containers_nested_past_the_bound_are_read_as_text_on_their_lines() {
        // As people nest them: read as they are.
        let md = "> quote\n> > nested\n\n- a\n  - b\n    1. c\n> - > 2) d\n";
        assert!(matches!(
            shallow_containers(md),
            std::borrow::Cow::Borrowed(_)
        ));
        // 20,000 block quotes on a line, then as many lines continuing its
        // paragraph: the markers past the bound go, the text and lines stay.
        let n = 20_000;
        let md = format!(
            "# T\n\n{}deep\n{}\n## After\n\nThe end.\n",
            "> ".repeat(n),
            "more\n".repeat(n)
        );
        let flat = shallow_containers(&md);
        assert_eq!(flat.lines().count(), md.lines().count());
        assert_eq!(
            flat.lines().nth(2),
            Some(format!("{}deep", "> ".repeat(MAX_CONTAINERS)).as_str())
        );
        let got = texts(&md);
        let last = got.last().unwrap();
        assert_eq!(
            (last.0.as_str(), last.1, &last.2),
            ("T › After", n + 7, &vec![prose("The end.")])
        );
        // A list item's markers, and numbered ones, count the same.
        let line = format!("{}x", "- 1. ".repeat(MAX_CONTAINERS));
        let (keep, resume) = too_many_containers(&line).unwrap();
        assert_eq!(&line[resume..], " x");
        assert_eq!(line[..keep].matches(['-', '.']).count(), MAX_CONTAINERS);
    }

    #[test]
    fn paragraph_code_and_list_that_follow_are_one_passage() {
        let md = "# Guide\n\n## Reverse proxy\n\nUse `proxy_pass` in nginx:\n\n```nginx\nlocation / {\n    proxy_pass http://localhost:8008;\n}\n```\n\nThen do these two things:\n\n- reload nginx\n- check the *logs*\n\n<!-- a comment -->\n\n```\nstandalone code\n```\n";
        let got = texts(md);
        assert_eq!(
            got,
            [
                (
                    "Guide › Reverse proxy".to_string(),
                    5,
                    vec![
                        prose("Use proxy_pass in nginx:"),
                        Part::Code("location / {\n    proxy_pass http://localhost:8008;\n}".into()),
                    ]
                ),
                (
                    "Guide › Reverse proxy".to_string(),
                    13,
                    vec![
                        prose("Then do these two things:"),
                        prose("reload nginx"),
                        prose("check the logs")
                    ]
                ),
                (
                    "Guide › Reverse proxy".to_string(),
                    20,
                    vec![Part::Code("standalone code".into())]
                ),
            ]
        );
    }

    #[test]
    fn nested_items_and_code_in_items_are_parts_of_their_own() {
        let code = |t: &str| Part::Code(t.into());
        // Each case: Markdown, the one passage's parts.
        let cases: &[(&str, Vec<Part>)] = &[
            (
                "* `expiry` - settings:\n  * `idTokens` - the lifetime. Keep it short.\n  * `signingKeys` - rotation.\n* `oauth2` - flows.\n",
                vec![
                    prose("expiry - settings:"),
                    prose("idTokens - the lifetime. Keep it short."),
                    prose("signingKeys - rotation."),
                    prose("oauth2 - flows."),
                ],
            ),
            (
                "1. Install it:\n\n   ```sh\n   make install\n   ```\n\n   then restart.\n2. Done.\n",
                vec![
                    prose("1. Install it:"),
                    code("make install"),
                    prose("then restart."),
                    prose("2. Done."),
                ],
            ),
            // An ordered list's items keep their numbers, from the list's
            // first; a bulleted list's items have none.
            (
                "7. Back up:\n   - the database\n   - the media\n\n   and check.\n8. Restore.\n",
                vec![
                    prose("7. Back up:"),
                    prose("the database"),
                    prose("the media"),
                    prose("and check."),
                    prose("8. Restore."),
                ],
            ),
            (
                "- Steps:\n  1. stop\n  2. start\n- [](#x)\n",
                vec![prose("Steps:"), prose("1. stop"), prose("2. start")],
            ),
            (
                "- **Scope:** [Global](/x)\n\n  Hook for the dev server. Add middlewares:\n\n  ```js\n  use(m)\n  ```\n",
                vec![
                    prose("Scope: Global"),
                    prose("Hook for the dev server. Add middlewares:"),
                    code("use(m)"),
                ],
            ),
        ];
        for (md, want) in cases {
            let got = texts(md);
            assert_eq!(got.len(), 1, "{md:?}: {got:?}");
            assert_eq!(&got[0].2, want, "{md:?}");
        }
    }

    #[test]
    fn a_lead_in_paragraph_joins_the_passage_before_it() {
        let code = |t: &str| Part::Code(t.into());
        // The setting's description and its example are one passage.
        let md = "### `max_upload_size`\n\nThe largest upload allowed.\n\nExample configuration:\n\n```yaml\nmax_upload_size: 60M\n```\n";
        let got = texts(md);
        assert_eq!(got.len(), 1, "{got:?}");
        assert_eq!(
            got[0].2,
            [
                prose("The largest upload allowed."),
                prose("Example configuration:"),
                code("max_upload_size: 60M"),
            ]
        );
        // Not across a heading, and not a paragraph with more to say.
        let md = "## A\n\nOne.\n\n## B\n\nFor example:\n\n```\nx\n```\n";
        assert_eq!(texts(md).len(), 2);
        let md = "One.\n\nThe proxy has a limit of its own to set:\n\n```\nx\n```\n";
        assert_eq!(texts(md).len(), 2);
    }

    #[test]
    fn heading_attributes_and_alert_markers_are_not_words() {
        let md = "## Setup {#setup-anchor}\n\n> [!NOTE]\n> Run it as root.\n";
        let got = texts(md);
        assert_eq!(got[0].0, "Setup");
        assert_eq!(got[0].2, [prose("Run it as root.")]);
    }

    #[test]
    fn table_rows_are_passages_with_their_header() {
        let md =
            "## Ports\n\n| Port | Use |\n|---|---|\n| 8008 | client API |\n| 8448 | federation |\n";
        let got = texts(md);
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].2, [prose("Port: 8008; Use: client API")]);
        assert_eq!(got[1].1, 6);
        assert_eq!(got[1].0, "Ports");
        // A cell of several sentences: the row's cells are parts of their own.
        let md = "| Level | Duties |\n|---|---|\n| L4 | Leads. Manages 2-3 people. |\n";
        assert_eq!(
            texts(md)[0].2,
            [
                prose("Level: L4"),
                prose("Duties: Leads. Manages 2-3 people.")
            ]
        );
        // A table 1,000 columns wide: its first 64 read (each cell repeated
        // its header's name: 4.8 GB of a 31 MB page).
        let names: Vec<String> = (0..1_000).map(|i| format!("name{i}")).collect();
        let row = format!("|{}\n", "x|".repeat(1_000));
        let md = format!(
            "|{}|\n|{}\n{}",
            names.join("|"),
            "---|".repeat(1_000),
            row.repeat(3)
        );
        let named: Vec<String> = (0..MAX_COLUMNS).map(|i| format!("name{i}: x")).collect();
        let got: Vec<Vec<Part>> = texts(&md).into_iter().map(|g| g.2).collect();
        assert_eq!(got, vec![vec![prose(&named.join("; "))]; 3]);
    }

    #[test]
    fn admonitions_are_prose_and_links_keep_their_text() {
        let md = "!!! note\n\n    Back up the [signing key](keys.md) first.\n\n![diagram of the setup](x.png)\n\n!!! tip\n    Lazy text.\n";
        let got = texts(md);
        // An admonition without a title is its content (as in Docusaurus).
        assert_eq!(got[0].2, [prose("Back up the signing key first.")]);
        assert_eq!(got[1].2, [prose("diagram of the setup")]);
        assert_eq!(got[2].2, [prose("Lazy text.")]);
    }

    #[test]
    fn a_short_list_that_opens_a_section_heads_the_paragraph_after_it() {
        let md = "## server.port\n\n- **Type:** `number`\n- **Default:** `5173`\n\nSpecify server port.\n\n## Other\n\nIntro.\n\n- a\n- b\n\nAfter.\n";
        let got: Vec<Vec<Part>> = texts(md).into_iter().map(|g| g.2).collect();
        assert_eq!(
            got,
            [
                vec![
                    prose("Type: number"),
                    prose("Default: 5173"),
                    prose("Specify server port.")
                ],
                vec![prose("Intro."), prose("a"), prose("b")],
                vec![prose("After.")],
            ]
        );
    }

    #[test]
    fn mkdocs_tabs_and_admonitions_are_read_as_their_content() {
        let code = |t: &str| Part::Code(t.into());
        let page = "Create a user first:\n\n=== \"Native\"\n\n    ```shell\n    headscale users create <USER>\n    ```\n\n=== \"Container\"\n\n    ```shell\n    docker exec -it headscale \\\n      headscale users create <USER>\n    ```\n\n!!! warning \"Mind the name\"\n\n    User names must be **unique**.\n\n    - one\n\n```\n=== \"not a tab\"\n    kept\n```\n";
        let got: Vec<(usize, Vec<Part>)> = groups(page)
            .into_iter()
            .map(|g| (g.line, g.parts))
            .collect();
        assert_eq!(
            got,
            [
                (
                    1,
                    vec![
                        prose("Create a user first:"),
                        prose("Native:"),
                        code("headscale users create <USER>"),
                        prose("Container:"),
                        code("docker exec -it headscale \\\n  headscale users create <USER>"),
                    ]
                ),
                (
                    16,
                    vec![
                        prose("Mind the name"),
                        prose("User names must be unique."),
                        prose("one"),
                        // Code inside a fence is never a tab.
                        code("=== \"not a tab\"\n    kept"),
                    ]
                ),
            ]
        );
    }

    #[test]
    fn admonitions_nested_past_the_budget_are_left_as_written() {
        // 400 admonitions, each inside the one before: opening all would
        // move 80,000 lines; the first levels open, the rest stay as written.
        let n = 400;
        let page: String = (0..n)
            .map(|k| format!("{}!!! note \"Level {k}\"\n", "    ".repeat(k)))
            .collect();
        let opened = mkdocs_blocks(&page).matches(":::note").count();
        assert!((16..=40).contains(&opened), "{opened} opened");
        assert_eq!(mkdocs_blocks(&page).lines().count(), n);
    }

    #[test]
    fn mkdocs_markers_inside_list_items_open_up_in_the_item() {
        let page = "1. Add the records:\n\n    === \"Query with dig\"\n\n        ```console\n        dig +short a.example\n        ```\n\n    !!! tip \"Good to know\"\n\n        - Sort the keys.\n\n2. Done.\n\n       !!! note \"an indented code block\"\n";
        let parts: Vec<Part> = groups(page).into_iter().flat_map(|g| g.parts).collect();
        assert_eq!(
            parts,
            [
                prose("1. Add the records:"),
                prose("Query with dig:"),
                Part::Code("dig +short a.example".into()),
                prose("Good to know"),
                prose("Sort the keys."),
                prose("2. Done."),
                Part::Code("!!! note \"an indented code block\"".into()),
            ]
        );
        let cases = [
            ("- a", Some(2)),
            ("-", Some(2)),
            ("12. x", Some(4)),
            ("1)  x", Some(4)),
            ("-\tStep", Some(4)),
            ("-x", None),
            ("1234567890. x", None),
            ("text", None),
            ("* * *", None),
            ("---", None),
            ("- - -", None),
        ];
        for (t, want) in cases {
            assert_eq!(list_marker(t), want, "{t}");
        }
        // Plain Markdown stays as it was: an indented fence inside a fenced
        // example closes nothing, a thematic break or a paragraph's
        // "2024. " opens no list, and code stays code.
        let plain = [
            "````markdown\n    ```\n    x\n    ```\n````\n\n!!! note \"After\"\n\n    Important text.\n",
            "* * *\n\n    !!! note \"literal\"\n",
            "Since\n2024. we ship.\n\n      !!! note \"x\"\n",
        ];
        let read =
            |page: &str| -> Vec<Part> { groups(page).into_iter().flat_map(|g| g.parts).collect() };
        assert_eq!(
            read(plain[0]),
            [
                Part::Code("    ```\n    x\n    ```".into()),
                prose("After"),
                prose("Important text."),
            ]
        );
        assert!(
            read(plain[1]).contains(&Part::Code("!!! note \"literal\"".into())),
            "{:?}",
            read(plain[1])
        );
        assert!(
            read(plain[2]).contains(&Part::Code("  !!! note \"x\"".into())),
            "{:?}",
            read(plain[2])
        );
        // A tab-indented marker is an indented code block; "-" under a
        // paragraph underlines it; a fence in an item ends with the item; a
        // thematic break is no paragraph.
        let more = [
            "Write this:\n\n\t!!! note\n\t    Content\n",
            "Foo\n-\n\n    !!! note\n        shown as code\n",
            "- item\n\n  ```\n  code\n```\n!!! note \"x\"\n    body\n```\n",
        ];
        assert!(
            read(more[0]).contains(&Part::Code("!!! note\n    Content".into())),
            "{:?}",
            read(more[0])
        );
        assert!(
            read(more[1]).contains(&Part::Code("!!! note\n    shown as code".into())),
            "{:?}",
            read(more[1])
        );
        assert!(
            read(more[2]).contains(&Part::Code("!!! note \"x\"\n    body".into())),
            "{:?}",
            read(more[2])
        );
        let after_break = "***\n2. two\n\n    !!! note \"T\"\n\n        In it.\n";
        assert_eq!(
            read(after_break),
            [prose("2. two"), prose("T"), prose("In it.")]
        );
        // A title's own brackets are kept.
        let bracket = "- Step:\n\n    !!! note \"See [docs]\"\n\n        Read them.\n";
        assert_eq!(
            read(bracket),
            [prose("Step:"), prose("See [docs]"), prose("Read them.")]
        );
    }

    #[test]
    fn site_generator_syntax_is_not_text() {
        let mdx = "import Tabs from '@theme/Tabs';\nexport const x = 1;\n\nInstall it:\n\n<Tabs>\n  <TabItem value=\"npm\">\n\n```bash\nnpm i w\n```\n\n  </TabItem>\n</Tabs>\n";
        let admonition = ":::tip[Upgrading]\n\nRun `w update`.\n\n:::\n\n::: note\nInline note.\n:::\n\n::: warning Old API\nGone.\n:::\n";
        let cases: &[(&str, &[&[Part]])] = &[
            (
                mdx,
                &[&[prose("Install it:"), Part::Code("npm i w".into())]],
            ),
            (
                admonition,
                &[
                    &[prose("Upgrading"), prose("Run w update.")],
                    &[prose("Inline note.")],
                    &[prose("Old API"), prose("Gone.")],
                ],
            ),
            (
                "See {% include note.html %}the [[setup#Ports|ports]] and [[FAQ]].[^1]\n\n[^1]: A note.\n",
                &[&[prose("See the ports and FAQ.")], &[prose("A note.")]],
            ),
            (
                "::: {.callout-tip}\nUse a venv.\n:::\n",
                &[&[prose("Use a venv.")]],
            ),
            // MyST: a note is prose, a code cell code without its options.
            (
                "Build it:\n\n```{code-cell} python\n:tags: [hide-input]\nbuild()\n```\n\n```{note}\nIt takes {term}`a minute <minute>`.\n```\n",
                &[
                    &[prose("Build it:"), Part::Code("build()".into())],
                    &[prose("It takes a minute.")],
                ],
            ),
            (
                "Import the data first.\n\nexport KEY before you run it\n",
                &[
                    &[prose("Import the data first.")],
                    &[prose("export KEY before you run it")],
                ],
            ),
        ];
        for (md, want) in cases {
            let got: Vec<Vec<Part>> = texts(md).into_iter().map(|g| g.2).collect();
            assert_eq!(got, *want, "{md}");
        }
    }

    #[test]
    fn html_blocks_are_read_as_html_pages_are() {
        let code = |t: &str| Part::Code(t.into());
        // (page, [(heading path, parts)])
        type Case<'a> = (&'a str, &'a [(&'a str, &'a [Part])]);
        let cases: &[Case] = &[
            // Caddy's commands: code that joins the line introducing it.
            (
                "Fedora:\n\n<pre><code class=\"cmd\"><span class=\"bash\">dnf copr enable @caddy/caddy</span>\n<span>dnf install caddy</span></code></pre>\n",
                &[(
                    "",
                    &[
                        prose("Fedora:"),
                        code("dnf copr enable @caddy/caddy\ndnf install caddy"),
                    ],
                )],
            ),
            (
                "<aside class=\"tip\">\n\tCaddy uses HTTPS &amp; HTTP/3 by default.\n</aside>\n",
                &[("", &[prose("Caddy uses HTTPS & HTTP/3 by default.")])],
            ),
            (
                "<table>\n<tr><th>Version</th><th>Date</th></tr>\n<tr><td>1.0</td><td>May</td></tr>\n</table>\n",
                &[("", &[prose("Version: 1.0; Date: May")])],
            ),
            // Rows apart from their header, by blank lines: still its rows.
            (
                "<TABLE>\n<tr><th>Version</th><th>Date</th></tr>\n\n<tr><td>1.0</td><td>May</td></tr>\n\n<tr><td>2.0</td><td>June</td></tr>\n</table>\n\nAfter.\n",
                &[
                    ("", &[prose("Version: 1.0; Date: May")]),
                    ("", &[prose("Version: 2.0; Date: June")]),
                    ("", &[prose("After.")]),
                ],
            ),
            // A table in a cell is a table of its own, read once.
            (
                "<table><tr><td>a<table><tr><td>b</td></tr></table></td></tr></table>\n",
                &[("", &[prose("a")]), ("", &[prose("b")])],
            ),
            // One never closed ends with the HTML blocks.
            (
                "<table>\n<tr><th>Key</th></tr>\n\n<tr><td>a</td></tr>\n\nText.\n",
                &[("", &[prose("Key: a")]), ("", &[prose("Text.")])],
            ),
            // A heading in a block heads the Markdown after it.
            (
                "# Guide\n\n<h3 id=\"ports\">Ports</h3>\n\nOpen 443.\n\n## Next\n\nDone.\n",
                &[
                    ("Guide › Ports", &[prose("Open 443.")]),
                    ("Guide › Next", &[prose("Done.")]),
                ],
            ),
            // Tags alone end nothing; a comment ends the passage.
            (
                "Install it:\n\n<div align=\"center\">\n\n```\nnpm i w\n```\n\n</div>\n<!-- end -->\n\n```\nlater\n```\n",
                &[
                    ("", &[prose("Install it:"), code("npm i w")]),
                    ("", &[code("later")]),
                ],
            ),
        ];
        for (md, want) in cases {
            let got: Vec<(String, Vec<Part>)> = texts(md).into_iter().map(|g| (g.0, g.2)).collect();
            let want: Vec<(String, Vec<Part>)> = want
                .iter()
                .map(|(h, parts)| (h.to_string(), parts.to_vec()))
                .collect();
            assert_eq!(got, want, "{md}");
        }
        // The first Markdown passage under an HTML heading is its section's.
        let g = groups("<h2 id=\"ports\">Ports</h2>\n\nOpen 443.\n");
        assert_eq!(g[0].anchor.as_deref(), Some("ports"));
    }

    #[test]
    fn a_page_table_of_contents_is_not_a_passage() {
        let cases: &[(&str, &[&[Part]])] = &[
            // Items that only link to the page's own headings: navigation.
            (
                "Ways to install it:\n\n- [Debian packages](#debian)\n- [Docker](#docker)\n  - [Compose](#compose)\n\n## Debian\n\nRun apt.\n",
                &[&[prose("Ways to install it:")], &[prose("Run apt.")]],
            ),
            // An item that says more than its link, or links elsewhere, is kept.
            (
                "- [Debian](#debian) packages start a service\n- [Build](build.md)\n",
                &[&[prose("Debian packages start a service"), prose("Build")]],
            ),
        ];
        for (md, want) in cases {
            let got: Vec<Vec<Part>> = texts(md).into_iter().map(|g| g.2).collect();
            assert_eq!(got, *want, "{md}");
        }
    }

    #[test]
    fn a_short_paragraph_joins_the_passage_before_it_in_a_short_section() {
        let long = "A sentence that runs on for a while. ".repeat(9);
        let long = long.trim();
        let para = "Defines the grace period for shutting down servers.";
        let big = format!("{long} {long}");
        let han = "纽卡斯尔最早的移民点是哈德良桥。".repeat(10);
        let cases: Vec<(String, Vec<Vec<Part>>)> = vec![
            // A setting's description and its default: one passage.
            (
                format!(
                    "## grace_period\n\n{para}\n\nBy default it is eternal.\n\n```\ngrace_period 10s\n```\n"
                ),
                vec![vec![
                    prose(para),
                    prose("By default it is eternal."),
                    Part::Code("grace_period 10s".into()),
                ]],
            ),
            // Under another heading (even one that reads the same), or after
            // a table row: apart.
            (
                format!("## a\n\n{para}\n\n## b\n\nShort.\n"),
                vec![vec![prose(para)], vec![prose("Short.")]],
            ),
            (
                format!("## Notes\n\n{para}\n\n## Notes\n\nShort.\n"),
                vec![vec![prose(para)], vec![prose("Short.")]],
            ),
            (
                "| k | v |\n|---|---|\n| a | 1 |\n\nShort.\n".into(),
                vec![vec![prose("k: a; v: 1")], vec![prose("Short.")]],
            ),
            // A paragraph too long to be short keeps its own passage.
            (
                format!("{para}\n\n{long}\n"),
                vec![vec![prose(para)], vec![prose(long)]],
            ),
            // So does a short one in a long section (an article's paragraphs).
            (
                format!("{}Short.\n", format!("{big}\n\n").repeat(7)),
                std::iter::repeat_n(vec![prose(&big)], 7)
                    .chain([vec![prose("Short.")]])
                    .collect(),
            ),
            // A paragraph in Chinese is measured in columns: 160 characters
            // say what some 480 Latin letters do, too much to be short.
            (
                format!("{han}\n\n{han}\n"),
                vec![vec![prose(&han)], vec![prose(&han)]],
            ),
            (
                format!("{}\n\n{}\n", &han[..3 * 100], &han[..3 * 100]),
                vec![vec![prose(&han[..300]), prose(&han[..300])]],
            ),
        ];
        for (md, want) in cases {
            let got: Vec<Vec<Part>> = join_short_sections(groups(&md), 800)
                .into_iter()
                .map(|g| g.parts)
                .collect();
            assert_eq!(got, want, "{md}");
        }
    }

    #[test]
    fn shortcodes_are_not_text() {
        let md = "{{% alert title=\"Note\" %}}\nKeep the key safe.\n{{% /alert %}}\n\nSee {{< ref \"x.md\" >}} and {{ .Title }}.\n";
        let got = texts(md);
        assert_eq!(got[0].2, [prose("Keep the key safe.")]);
        assert_eq!(got[1].2, [prose("See and {{ .Title }}.")]);
        // Openers never closed are text; one closed after them still goes.
        let t = format!("{}x {{{{< ref \"y\" >}}}}.", "{% ".repeat(1000));
        let got = strip_shortcodes(&t);
        assert_eq!(got, format!("{}x  .", "{% ".repeat(1000)));
    }

    #[test]
    fn a_definition_lists_terms_carry_their_definitions() {
        // As Hugo's docs write their settings (a shortcode for the version).
        let md = "# Imports\n\nThe settings:\n\n`usePackageJSON`\n: {{< new-in 0.159.0 />}}\n\
                  : (`string`) Whether to use npm. One of `auto` or `never`.\n\n\
                  `path`\n: The module path.\n\nTerm\n\n:   A loose definition.\n\n\
                  :   And a second one.\n\nAfter the list.\n\n- {{< figure >}}\n- An item.\n";
        let got = texts(md);
        assert_eq!(
            got[0].2,
            [
                prose("The settings:"),
                prose("usePackageJSON: (string) Whether to use npm. One of auto or never."),
                prose("path: The module path."),
                prose("Term: A loose definition."),
                prose("Term: And a second one."),
            ],
            "{got:#?}"
        );
        // A list item that is only a shortcode is none.
        assert_eq!(
            got[1].2,
            [prose("After the list."), prose("An item.")],
            "{got:#?}"
        );
        // Two definitions of one term, the list tight.
        let got = texts("Key\n: One.\n: Two.\n");
        assert_eq!(
            got[0].2,
            [prose("Key: One."), prose("Key: Two.")],
            "{got:#?}"
        );
        // A colon that opens a paragraph's line is text, and so is a
        // definition on a page with fences of colons, which the list's
        // parser would take for definitions.
        let got = texts("Listens on\n:8080 and :8443.\n");
        assert_eq!(got[0].2, [prose("Listens on :8080 and :8443.")]);
        let got = texts("Term\n: Its meaning.\n\n:::tip\nA tip.\n:::\n");
        assert_eq!(got[0].2, [prose("Term : Its meaning.")], "{got:#?}");
        assert_eq!(got[1].2, [prose("A tip.")], "{got:#?}");
    }

    #[test]
    fn cut_packs_parts_and_marks_code() {
        let parts = [prose("Run this:"), Part::Code("a\n  b".into())];
        let cuts = cut(&parts, 800);
        assert_eq!(cuts.len(), 1);
        assert_eq!(cuts[0].text, "Run this:\n\na\n  b");
        assert_eq!(
            &cuts[0].text[cuts[0].code[0].0..cuts[0].code[0].1],
            "a\n  b"
        );
        let long = "x = 1\n".repeat(300);
        let cuts = cut(&[prose("Config:"), Part::Code(long.clone())], 800);
        assert!(cuts.len() >= 3);
        for c in &cuts {
            assert!(c.text.chars().count() <= 800, "{}", c.text.len());
            for &(a, b) in &c.code {
                assert!(c.text[a..b].lines().all(|l| l == "x = 1"));
            }
        }
        let total: usize = cuts
            .iter()
            .flat_map(|c| c.code.iter().map(|&(a, b)| c.text[a..b].lines().count()))
            .sum();
        assert_eq!(total, 300);
    }

    #[test]
    fn long_code_is_cut_between_a_comment_and_the_setting_before_it() {
        // Settings of 60 characters or so, each under its comment: a cut never
        // parts a comment from the line it documents.
        let mut yaml = String::from("config:\n");
        for i in 0..30 {
            yaml.push_str(&format!(
                "  # What setting {i} does, in a word or two.\n  setting{i}: {i}\n"
            ));
        }
        let pieces = split_code(&yaml, 200);
        assert!(pieces.len() > 5, "{pieces:?}");
        for p in &pieces {
            assert!(p.chars().count() <= 200, "{p}");
            let lines: Vec<&str> = p.lines().collect();
            assert!(!lines.last().unwrap().trim_start().starts_with('#'), "{p}");
            assert!(
                lines[0].starts_with("  # What") || lines[0] == "config:",
                "{p}"
            );
        }
        let joined: Vec<&str> = pieces.iter().flat_map(|p| p.lines()).collect();
        assert_eq!(joined, yaml.lines().collect::<Vec<_>>(), "nothing lost");
        // A statement too long for a piece is cut alone; the piece after it
        // begins at the next statement, not at the blank lines between.
        let code = format!("{}\n\n\nshort: 1\n", "long: x".repeat(40));
        let pieces = split_code(&code, 200);
        assert_eq!(pieces.last().map(String::as_str), Some("short: 1"));
    }
}
