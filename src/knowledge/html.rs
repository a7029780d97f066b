//! HTML pages (exports from wikis, Confluence, Notion) → passages, mapped as
//! Markdown is: headings make the heading path, a paragraph with the code and list
//! that follow it is one passage, a table row is one passage. Parsed with a real
//! HTML parser (html5ever, through `scraper`), so broken markup still reads.

use scraper::{ElementRef, Html, Node};

use super::Document;
use super::passages::{Group, MAX_COLUMNS, Part, Passages, numbered};
use crate::text;

/// Elements whose content is not knowledge: scripts, styles, site navigation.
const SKIPPED: &[&str] = &[
    "script", "style", "noscript", "template", "svg", "nav", "header", "footer", "head", "button",
    "form", "iframe", "select",
];

struct Walk {
    p: Passages,
    /// Whether the open group began with a paragraph (code and lists may join it).
    joinable: bool,
    /// The lists open, innermost last: a numbered list's next item's number.
    lists: Vec<Option<u64>>,
}

impl Walk {
    fn close(&mut self) {
        self.p.close();
        self.joinable = false;
    }

    fn add(&mut self, part: Part, joins: bool) {
        // A part that opens a new passage closes the one before.
        let opens = !(part.is_blank() || joins && self.p.open());
        if opens {
            self.joinable = false;
        }
        self.p.add(part, 1, joins);
    }
}

/// The passages of an HTML page, and its `<title>`.
pub(super) fn document(body: &str) -> Document {
    let html = Html::parse_document(&shallow(body));
    let title = html
        .root_element()
        .descendants()
        .filter_map(ElementRef::wrap)
        .find(|e| e.value().name() == "title")
        .map(|e| text::fold_whitespace(&e.text().collect::<String>()))
        .filter(|t| !t.is_empty());
    Document {
        title,
        groups: read(&html, 0).p.out,
    }
}

/// The passages of `html`, the page's table rows having made
/// `named_row_bytes` of text before it ([`Passages::table_row`]).
fn read(html: &Html, named_row_bytes: usize) -> Walk {
    let mut w = Walk {
        p: Passages {
            named_row_bytes,
            ..Passages::default()
        },
        joinable: false,
        lists: Vec::new(),
    };
    walk(html.root_element(), &mut w, 0);
    w.close();
    w
}

/// What an HTML block of a Markdown page holds (Caddy's `<pre><code>`
/// examples, an `<aside>` tip, a `<table>` of a policy page): its passages,
/// read as a page's are, and the headings it ends under, counted from the
/// block's own first.
pub(super) struct Fragment {
    pub groups: Vec<Group>,
    pub headings: Vec<(u8, String)>,
    pub anchor: Option<String>,
    pub sections: usize,
    /// The text the page's table rows have made, this block's counted.
    pub named_row_bytes: usize,
}

/// The passages of `block`, an HTML block of a Markdown page whose table
/// rows made `named_row_bytes` of text before it: a page's blocks share
/// that bound.
pub(super) fn fragment(block: &str, named_row_bytes: usize) -> Fragment {
    let p = read(&Html::parse_fragment(&shallow(block)), named_row_bytes).p;
    Fragment {
        groups: p.out,
        headings: p.headings,
        anchor: p.anchor,
        sections: p.sections,
        named_row_bytes: p.named_row_bytes,
    }
}

/// Whether HTML `block` may hold words: a character outside its tags other
/// than white space. Most blocks of a Markdown page are tags alone (`<div
/// align="center">`, MDX's `<Tabs>`), and need no parser.
pub(super) fn has_text(block: &str) -> bool {
    let mut in_tag = false;
    block.chars().any(|c| {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag && !c.is_whitespace() => return true,
            _ => {}
        }
        false
    })
}

/// Elements open deeper than this are read as their text alone. html5ever's
/// time grows with the square of the depth (each start tag looks through the
/// open elements): 1 MB of unclosed `<div>`s, 100,000 deep, took a minute to
/// parse; browsers stop nesting at about this depth too.
const MAX_PARSE_DEPTH: usize = 512;

/// Elements that never hold others, or whose end the parser implies from the
/// next sibling: they do not deepen a page.
const FLAT: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source",
    "track", "wbr", "p", "li", "dt", "dd", "tr", "td", "th", "option", "thead", "tbody", "tfoot",
    "colgroup",
];

/// The formatting elements: the parser keeps those not closed by their own
/// end tag in a list, and opens a copy of each again wherever text follows
/// outside them (`<b>bold<div>still bold</div>`).
const FORMATTING: &[&str] = &[
    "a", "b", "big", "code", "em", "font", "i", "nobr", "s", "small", "strike", "strong", "tt", "u",
];

/// Formatting elements open at once beyond which their tags are left out.
/// Each one open is copied again at every later piece of text, so a page of
/// 4,000 unclosed `<b id=N>` and 9,000 short `<div>`s grew to 36 million
/// elements (6 GB); a person's page keeps a few open at most.
const MAX_FORMATTING: usize = 16;

/// Elements whose content is text up to their end tag, never markup.
const RAW: &[&str] = &[
    "script", "style", "textarea", "title", "xmp", "noembed", "noframes",
];

/// `body` with the tags of elements opened deeper than [`MAX_PARSE_DEPTH`] (and
/// their end tags) left out, their text kept; `body` itself, uncopied, when no
/// element is that deep (every page a person writes or a wiki exports). A scan
/// of the tags in one pass: comments, quoted attributes and the content of
/// `<script>`, `<style>`… are passed over as the parser would.
fn shallow(body: &str) -> std::borrow::Cow<'_, str> {
    let b = body.as_bytes();
    let mut out: Option<String> = None;
    let mut open = Open::default();
    let mut formatting = Formatting::default();
    let (mut copied, mut i) = (0, 0);
    while let Some(at) = b[i..].iter().position(|&c| c == b'<').map(|p| i + p) {
        let (end, deep) = match tag_at(body, at) {
            Tag::Open { name, end, closed } => {
                if RAW.contains(&name.as_str()) {
                    let close = find_ci(body, end, &format!("</{name}"));
                    (close.map_or(body.len(), |c| skip_past(b, c, b'>')), false)
                } else if FLAT.contains(&name.as_str())
                    || (closed && (open.foreign > 0 || matches!(name.as_str(), "svg" | "math")))
                {
                    // "<div/>" is an open <div> to the parser: only in SVG and
                    // MathML does "/>" close an element.
                    (end, false)
                } else if !formatting.start(&name) {
                    (end, true)
                } else {
                    (end, open.push(name))
                }
            }
            Tag::Close { name, end } if !formatting.end(&name) => (end, true),
            Tag::Close { name, end } => (end, open.close(&name)),
            Tag::Other { end } => (end, false),
        };
        if deep {
            let o = out.get_or_insert_with(|| String::with_capacity(body.len()));
            o.push_str(&body[copied..at]);
            o.push(' ');
            copied = end;
        }
        i = end.max(at + 1);
    }
    match out {
        None => std::borrow::Cow::Borrowed(body),
        Some(mut o) => {
            o.push_str(&body[copied..]);
            std::borrow::Cow::Owned(o)
        }
    }
}

/// The elements open at a point of a page, as the parser keeps them: an end tag
/// closes the nearest open element of its name and all opened after it, and is
/// passed over when none is open ("</x>" closes nothing).
#[derive(Default)]
struct Open {
    /// Each open element's name, and whether its tag was left out (too deep).
    stack: Vec<(String, bool)>,
    /// Where in `stack` each name is open, nearest last.
    at: std::collections::HashMap<String, Vec<usize>>,
    /// How many `<svg>` and `<math>` are open.
    foreign: usize,
}

impl Open {
    /// Opens `name`; whether its tag is too deep to keep.
    fn push(&mut self, name: String) -> bool {
        let deep = self.stack.len() >= MAX_PARSE_DEPTH;
        if matches!(name.as_str(), "svg" | "math") {
            self.foreign += 1;
        }
        self.at
            .entry(name.clone())
            .or_default()
            .push(self.stack.len());
        self.stack.push((name, deep));
        deep
    }

    /// Closes the nearest open `name` (and what was opened after it); whether
    /// its end tag is to be left out, as its start tag was.
    fn close(&mut self, name: &str) -> bool {
        let Some(&j) = self.at.get(name).and_then(|v| v.last()) else {
            return false;
        };
        let deep = self.stack[j].1;
        while self.stack.len() > j {
            let (n, _) = self.stack.pop().expect("j < len");
            if matches!(n.as_str(), "svg" | "math") {
                self.foreign -= 1;
            }
            if let Some(v) = self.at.get_mut(&n) {
                v.pop();
            }
        }
        deep
    }
}

/// The formatting elements a page leaves open, counted as the parser's list
/// of them grows: only their own end tag takes one off it.
#[derive(Default)]
struct Formatting {
    open: usize,
    by_name: std::collections::HashMap<String, usize>,
    /// Start tags left out, by name: as many end tags are left out too.
    left_out: std::collections::HashMap<String, usize>,
}

impl Formatting {
    /// A start tag `name`: whether to keep it.
    fn start(&mut self, name: &str) -> bool {
        if !FORMATTING.contains(&name) {
            return true;
        }
        if self.open >= MAX_FORMATTING {
            *self.left_out.entry(name.to_string()).or_default() += 1;
            return false;
        }
        self.open += 1;
        *self.by_name.entry(name.to_string()).or_default() += 1;
        true
    }

    /// An end tag `name`: whether to keep it.
    fn end(&mut self, name: &str) -> bool {
        if let Some(n) = self.left_out.get_mut(name).filter(|n| **n > 0) {
            *n -= 1;
            return false;
        }
        if let Some(n) = self.by_name.get_mut(name).filter(|n| **n > 0) {
            *n -= 1;
            self.open -= 1;
        }
        true
    }
}

/// What starts at a `<` of a page, and the byte after it.
enum Tag {
    Open {
        name: String,
        end: usize,
        closed: bool,
    },
    Close {
        name: String,
        end: usize,
    },
    /// A comment, doctype, processing instruction, or a `<` that is text.
    Other {
        end: usize,
    },
}

fn tag_at(body: &str, at: usize) -> Tag {
    let b = body.as_bytes();
    let rest = &b[at + 1..];
    if rest.starts_with(b"!--") {
        let end = find_ci(body, at + 4, "-->").map_or(body.len(), |e| e + 3);
        return Tag::Other { end };
    }
    let (close, from) = match rest.first() {
        Some(b'/') => (true, at + 2),
        Some(c) if c.is_ascii_alphabetic() => (false, at + 1),
        Some(b'!' | b'?') => {
            return Tag::Other {
                end: skip_past(b, at, b'>'),
            };
        }
        _ => return Tag::Other { end: at + 1 },
    };
    let name_len = b[from..]
        .iter()
        .take_while(|c| c.is_ascii_alphanumeric() || **c == b'-')
        .count();
    let name = body[from..from + name_len].to_ascii_lowercase();
    // Attributes: a `>` inside a quoted value does not end the tag; a quote
    // opens a value only after `=` ("<i a\"></i>" is an attribute named `a"`).
    let (mut quote, mut after_eq) = (None, false);
    let mut j = from + name_len;
    while j < b.len() {
        match (quote, b[j]) {
            (None, b'>') => break,
            (None, q @ (b'"' | b'\'')) if after_eq => quote = Some(q),
            (Some(q), c) if c == q => (quote, after_eq) = (None, false),
            (None, b'=') => after_eq = true,
            (None, c) if c.is_ascii_whitespace() => {}
            (None, _) => after_eq = false,
            _ => {}
        }
        j += 1;
    }
    let end = (j + 1).min(b.len());
    if close {
        Tag::Close { name, end }
    } else {
        let closed = j > 0 && j < b.len() && b[j - 1] == b'/';
        Tag::Open { name, end, closed }
    }
}

/// The byte after the first `c` at or after `from`, else the end.
fn skip_past(b: &[u8], from: usize, c: u8) -> usize {
    b[from..]
        .iter()
        .position(|&x| x == c)
        .map_or(b.len(), |p| from + p + 1)
}

/// Where `needle` (ASCII) first occurs at or after `from`, in any case.
fn find_ci(body: &str, from: usize, needle: &str) -> Option<usize> {
    let (b, n) = (body.as_bytes(), needle.as_bytes());
    (from..(b.len() + 1).saturating_sub(n.len()))
        .find(|&i| b[i..i + n.len()].eq_ignore_ascii_case(n))
}

/// The text of an element, script and navigation left out; alt text of images
/// kept. Iterative: a page may nest elements thousands deep.
fn text_of(e: ElementRef) -> String {
    text_but(e, |_| false)
}

/// [`text_of`] an element, leaving out the elements (and all they hold) that
/// `left_out` names.
fn text_but(e: ElementRef, left_out: impl Fn(&str) -> bool) -> String {
    let mut s = String::new();
    let mut stack: Vec<_> = e.children().collect();
    stack.reverse();
    while let Some(node) = stack.pop() {
        match node.value() {
            Node::Text(t) => s.push_str(t),
            Node::Element(el) if SKIPPED.contains(&el.name()) || left_out(el.name()) => {}
            Node::Element(el) => {
                match el.name() {
                    "br" => s.push(' '),
                    "img" => {
                        if let Some(alt) = el.attr("alt") {
                            s.push(' ');
                            s.push_str(alt);
                            s.push(' ');
                        }
                    }
                    _ => {}
                }
                let before = stack.len();
                stack.extend(node.children());
                stack[before..].reverse();
            }
            _ => {}
        }
    }
    text::fold_whitespace(&s)
}

/// A list item: its words (after its number in a numbered list), then the
/// lists it holds.
fn item(el: ElementRef, w: &mut Walk, depth: usize) {
    let joins = w.p.open();
    // A nested list's items are parts of their own, after this one's
    // words, as in Markdown.
    let t = text_but(el, |name| matches!(name, "ul" | "ol"));
    // An item of a numbered list shows its number: `value` sets it,
    // and the items after it count on from there.
    let number = w.lists.last_mut().and_then(|next| {
        let counted = (*next)?;
        let value = el.value().attr("value").and_then(|v| v.trim().parse().ok());
        let n = value.unwrap_or(counted);
        *next = Some(n.saturating_add(1));
        Some(n)
    });
    w.add(Part::Prose(numbered(number, t)), joins);
    for list in outermost(el, &["ul", "ol"]) {
        element(list, w, depth + 1);
    }
}

/// A list: its items, numbered when it is a numbered list.
fn list(el: ElementRef, w: &mut Walk, depth: usize) {
    // Numbered in arabic numerals, counting up: letters, Roman
    // numerals and reversed lists are not.
    let numbered = el.value().name() == "ol"
        && el.value().attr("type").is_none_or(|t| t == "1")
        && el.value().attr("reversed").is_none();
    let start = el.value().attr("start").and_then(|s| s.trim().parse().ok());
    w.lists.push(numbered.then(|| start.unwrap_or(1)));
    walk(el, w, depth);
    w.lists.pop();
}

/// The elements in `e` that `names` names (the lists in a list item, the
/// tables in a cell), not those inside them (read with them).
fn outermost<'a>(e: ElementRef<'a>, names: &[&str]) -> Vec<ElementRef<'a>> {
    let mut found = Vec::new();
    let mut stack: Vec<_> = e.children().collect();
    stack.reverse();
    while let Some(node) = stack.pop() {
        let Some(el) = ElementRef::wrap(node) else {
            continue;
        };
        match el.value().name() {
            name if names.contains(&name) => found.push(el),
            name if SKIPPED.contains(&name) => {}
            _ => {
                let before = stack.len();
                stack.extend(node.children());
                stack[before..].reverse();
            }
        }
    }
    found
}

/// Whether all the text of list item `li` is in links to places on its page
/// (`<a href="#setup">`), nested items' included.
fn is_contents_item(li: ElementRef) -> bool {
    let mut any = false;
    for node in li.descendants() {
        let Node::Text(t) = node.value() else {
            continue;
        };
        if t.trim().is_empty() {
            continue;
        }
        let in_page_link = node.ancestors().map_while(ElementRef::wrap).any(|a| {
            a.value().name() == "a" && a.value().attr("href").is_some_and(|h| h.starts_with('#'))
        });
        if !in_page_link {
            return false;
        }
        any = true;
    }
    any
}

/// Deeper than this, an element's whole text is one passage: walking further
/// would only risk the stack on pathological pages.
const MAX_DEPTH: usize = 64;

fn walk(e: ElementRef, w: &mut Walk, depth: usize) {
    for child in e.children() {
        match child.value() {
            Node::Text(t) => {
                // Bare text in a container reads as a paragraph of its own.
                let t = text::fold_whitespace(t);
                if !t.is_empty() {
                    w.add(Part::Prose(t), w.joinable);
                }
            }
            Node::Element(_) => {
                if let Some(el) = ElementRef::wrap(child) {
                    element(el, w, depth + 1);
                }
            }
            _ => {}
        }
    }
}

/// A heading's text, cut as the page's headings are ([`super::clip`]).
fn heading_text(el: ElementRef) -> String {
    super::clip(&text_of(el), super::MAX_NAME_CHARS)
}

fn element(el: ElementRef, w: &mut Walk, depth: usize) {
    let name = el.value().name();
    if SKIPPED.contains(&name) {
        return;
    }
    if depth > MAX_DEPTH {
        let joins = w.joinable;
        w.add(Part::Prose(text_of(el)), joins);
        return;
    }
    match name {
        "h1" | "h2" | "h3" | "h4" | "h5" | "h6" => {
            w.close();
            let level = name[1..].parse::<u8>().unwrap_or(6);
            let anchor = el
                .value()
                .attr("id")
                .map(str::trim)
                .filter(|id| !id.is_empty())
                .map(String::from);
            w.p.heading(level, heading_text(el), anchor);
        }
        "p" | "dt" | "figcaption" | "caption" | "summary" => {
            let t = text_of(el);
            let joins = w.p.open() && text::is_lead_in(&t);
            w.add(Part::Prose(t), joins);
            w.joinable = true;
        }
        "dd" => w.add(Part::Prose(text_of(el)), w.joinable),
        // A page's table of contents (items that only link to its own
        // headings) is navigation, as in Markdown.
        "li" if is_contents_item(el) => {
            // Not read, but counted: the items after it keep their numbers.
            if let Some(Some(next)) = w.lists.last_mut() {
                *next = next.saturating_add(1);
            }
        }
        "li" => item(el, w, depth),
        "pre" => {
            let code: String = el.text().collect();
            let joins = w.p.open();
            w.add(Part::Code(code.trim_end_matches('\n').to_string()), joins);
        }
        "table" => {
            w.close();
            table(el, w, depth);
            w.close();
        }
        "hr" => w.close(),
        "ul" | "ol" | "dl" => list(el, w, depth),
        _ => {
            // A container (div, section, article, blockquote, span…): its blocks.
            let has_blocks = el.descendants().filter_map(ElementRef::wrap).any(|d| {
                matches!(
                    d.value().name(),
                    "p" | "div"
                        | "h1"
                        | "h2"
                        | "h3"
                        | "h4"
                        | "h5"
                        | "h6"
                        | "li"
                        | "pre"
                        | "table"
                        | "section"
                        | "article"
                        | "blockquote"
                        | "dl"
                )
            });
            if has_blocks {
                walk(el, w, depth);
            } else {
                let joins = w.joinable;
                w.add(Part::Prose(text_of(el)), joins);
            }
        }
    }
}

/// A table: a passage per row of its own, cells (the first [`MAX_COLUMNS`])
/// named by its header row. A table in a cell is not the cell's text but a
/// table of its own, read after the row: each cell around it copied its
/// text, and its rows were the outer table's too (500 tables nested in
/// cells over 40,000 rows, 1.9 MB, took 32 s and 2 GB).
fn table(t: ElementRef, w: &mut Walk, depth: usize) {
    let mut header: Vec<String> = Vec::new();
    for row in rows(t) {
        let cells: Vec<ElementRef> = (row.children().filter_map(ElementRef::wrap))
            .filter(|c| matches!(c.value().name(), "td" | "th"))
            .take(MAX_COLUMNS)
            .collect();
        let is_header = !cells.is_empty() && cells.iter().all(|c| c.value().name() == "th");
        let texts = cells.iter().map(|c| text_but(*c, |name| name == "table"));
        if is_header && header.is_empty() {
            header = texts.collect();
        } else {
            w.p.table_row(&header, texts, 1);
            w.joinable = false;
        }
        for cell in cells {
            for inner in outermost(cell, &["table"]) {
                element(inner, w, depth + 1);
            }
        }
    }
}

/// A table's own rows, in order: not those of the tables in its cells.
fn rows(t: ElementRef<'_>) -> impl Iterator<Item = ElementRef<'_>> {
    (t.children().filter_map(ElementRef::wrap))
        .flat_map(|c| match c.value().name() {
            "thead" | "tbody" | "tfoot" => c.children().filter_map(ElementRef::wrap).collect(),
            _ => vec![c],
        })
        .filter(|r| r.value().name() == "tr")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_nested_thousands_deep_are_read_without_overflowing() {
        let depth = 5_000;
        let page = format!(
            "<h2>Deep</h2>{}<p>At the bottom.</p>{}",
            "<div>".repeat(depth),
            "</div>".repeat(depth)
        );
        let on_a_small_stack = |page: String| {
            std::thread::Builder::new()
                .stack_size(256 * 1024)
                .spawn(move || document(&page))
                .unwrap()
                .join()
                .unwrap()
        };
        let d = on_a_small_stack(page);
        assert_eq!(d.groups.len(), 1);
        assert_eq!(d.groups[0].parts, [Part::Prose("At the bottom.".into())]);
        // Lists in list items, as deep: each item's words once.
        let d = on_a_small_stack(format!("{}<li>bottom", "<ol><li>step".repeat(depth)));
        let text: String = (d.groups.iter().flat_map(|g| &g.parts))
            .map(|p| match p {
                Part::Prose(t) | Part::Code(t) => t.clone(),
            })
            .collect::<Vec<_>>()
            .join(" ");
        assert_eq!(text.matches("step").count(), depth, "{}", &text[..200]);
        assert!(text.ends_with("bottom"), "{}", &text[text.len() - 200..]);
    }

    #[test]
    fn pages_nested_deeper_than_the_parser_bears_keep_their_text() {
        // A page a person writes is read as it is.
        let plain =
            "<!-- <div> --><div class='a>b'><p>One<br/>two<script>if (a<b) '<div>'</script></div>";
        assert!(matches!(shallow(plain), std::borrow::Cow::Borrowed(_)));
        // 100,000 unclosed <div>s: those past the bound are left out, not the text.
        let n = 100_000;
        let page = format!(
            "<h2>Deep</h2>{}<p>At the bottom.</p>",
            "<DIV class=x>".repeat(n)
        );
        let flat = shallow(&page);
        assert_eq!(flat.matches("<DIV").count(), MAX_PARSE_DEPTH);
        assert!(flat.ends_with("<p>At the bottom.</p>"));
        let d = document(&page);
        assert_eq!(d.groups.len(), 1);
        assert_eq!(d.groups[0].parts, [Part::Prose("At the bottom.".into())]);
        // What the parser nests is counted as nested: "<div/>" (the "/" means
        // nothing on a <div>), an end tag of nothing open, <rt> outside <ruby>,
        // and a quote in an attribute's name.
        for page in [
            "<div/>".repeat(n),
            "<div></x>".repeat(n),
            "<rt>".repeat(n),
            format!("<i a\"></i>{}\"", "<div>".repeat(n)),
        ] {
            let flat = shallow(&page);
            assert!(flat.len() < page.len(), "{}", &page[..40]);
        }
        // In SVG, "/>" does close.
        let svg = format!(
            "{}<svg>{}</svg>",
            "<svg/>".repeat(2 * MAX_PARSE_DEPTH),
            "<path d='x'/>".repeat(2 * MAX_PARSE_DEPTH)
        );
        assert!(matches!(shallow(&svg), std::borrow::Cow::Borrowed(_)));
        // Closed again, the depth falls: what follows is read as markup.
        let page = format!(
            "{}x{}<h2>After</h2><p>Shallow again.</p>",
            "<section>".repeat(2 * MAX_PARSE_DEPTH),
            "</section>".repeat(2 * MAX_PARSE_DEPTH)
        );
        let d = document(&page);
        let last = d.groups.last().unwrap();
        assert_eq!(last.parts, [Part::Prose("Shallow again.".into())]);
        assert_eq!(last.headings, [(2, "After".to_string())]);
    }

    #[test]
    fn formatting_left_open_is_bounded_and_closed_formatting_is_not() {
        // Formatting closed by its own end tag, however much: read as it is.
        let page = "<p><b>bold</b> and <i>italic <a href=x>link</a></i></p>".repeat(1000);
        assert!(matches!(shallow(&page), std::borrow::Cow::Borrowed(_)));
        // 4,000 left open (closed only by their <div>), then 9,000 pieces of
        // text: the parser would copy every open one at each (36 million
        // elements); past the bound their tags are left out, the text kept.
        let open: String = (0..10)
            .map(|g| {
                let bs: String = (0..400)
                    .map(|i| format!("<b id={}>", g * 400 + i))
                    .collect();
                format!("<div>{bs}</div>")
            })
            .collect();
        let page = format!(
            "<h1>T</h1>{open}{}<p>The end.</p>",
            "<div>x</div>".repeat(9000)
        );
        let flat = shallow(&page);
        assert_eq!(flat.matches("<b ").count(), MAX_FORMATTING);
        let d = document(&page);
        let last = d.groups.last().unwrap();
        assert_eq!(last.parts.last(), Some(&Part::Prose("The end.".into())));
        // A left-out start tag's end tag is left out too.
        let page = format!("{}<i>x</i>", "<u>".repeat(MAX_FORMATTING));
        assert!(shallow(&page).ends_with(" x "), "{}", shallow(&page));
    }

    /// The text of each part of `groups`.
    fn texts(groups: &[Group]) -> Vec<&str> {
        (groups.iter().flat_map(|g| &g.parts))
            .map(|p| match p {
                Part::Prose(t) | Part::Code(t) => t.as_str(),
            })
            .collect()
    }

    #[test]
    fn a_table_in_a_cell_is_read_once_as_a_table_of_its_own() {
        let page = "<table><tr><th>Key</th><th>Value</th></tr>\
            <tr><td>ports</td><td>as below:<table><tr><th>Port</th></tr><tr><td>8008</td></tr>\
            <tr><td><table><tr><td>inner</td></tr></table></td></tr></table></td></tr>\
            <tr><td>last</td><td>row</td></tr></table>";
        let d = document(page);
        let want = [
            "Key: ports; Value: as below:",
            "Port: 8008",
            "inner",
            "Key: last; Value: row",
        ];
        assert_eq!(texts(&d.groups), want);
        assert!(d.groups.iter().all(|g| g.row));
        // Tables nested in cells hundreds deep, then thousands of rows: each
        // row's words once, in as much text as the page (every outer cell
        // and table copied them: 2 GB of a 1.9 MB page).
        let (depth, rows) = (300, 2_000);
        let page = format!(
            "{}{}",
            "<table><tr><td>".repeat(depth),
            "<tr><td>lorem ipsum\n".repeat(rows)
        );
        let size = page.len();
        let read = std::thread::Builder::new()
            .stack_size(256 * 1024)
            .spawn(move || [document(&page).groups, fragment(&page, 0).groups])
            .unwrap()
            .join()
            .unwrap();
        for groups in read {
            let text = texts(&groups).concat();
            assert_eq!(text.matches("lorem").count(), rows);
            assert!(text.len() < size, "{}", text.len());
        }
    }

    #[test]
    fn a_wide_table_reads_its_first_columns() {
        let row = |tag: &str| -> String {
            let cells: String = (0..1_000).map(|i| format!("<{tag}>{tag}{i}")).collect();
            format!("<tr>{cells}</tr>")
        };
        let page = format!("<table>{}{}</table>", row("th"), row("td"));
        let d = document(&page);
        let want: Vec<String> = (0..MAX_COLUMNS).map(|i| format!("th{i}: td{i}")).collect();
        assert_eq!(texts(&d.groups), [want.join("; ")]);
        // Past the text a page's rows may make named, a row is its cells.
        let f = fragment("<table><tr><th>Key<tr><td>a</table>", usize::MAX);
        assert_eq!(texts(&f.groups), ["a"]);
        let f = fragment("<table><tr><th>Key<tr><td>a</table>", 0);
        assert_eq!((texts(&f.groups), f.named_row_bytes), (vec!["Key: a"], 6));
    }

    #[test]
    fn a_lead_in_paragraph_joins_the_passage_before_it() {
        let html = "<h3>max_upload_size</h3><p>The largest upload allowed.</p><p>Example configuration:</p><pre>max_upload_size: 60M\n</pre><p>The proxy has a limit of its own to set:</p><pre>x</pre>";
        let doc = document(html);
        let parts: Vec<usize> = doc.groups.iter().map(|g| g.parts.len()).collect();
        assert_eq!(parts, [3, 2], "{:?}", doc.groups);
    }

    #[test]
    fn a_page_table_of_contents_is_not_a_passage() {
        let html = "<p>Ways to install it:</p><ul><li><a href='#debian'>Debian</a><ul><li><a href='#apt'>APT</a></li></ul></li>\
            <li><a href='#docker'>Docker</a> images are signed</li><li><a href='build.html'>Build</a></li></ul>\
            <h2 id='debian'>Debian</h2><p>Run apt.</p>";
        let doc = document(html);
        let got: Vec<Vec<Part>> = doc.groups.into_iter().map(|g| g.parts).collect();
        let prose = |s: &str| Part::Prose(s.into());
        assert_eq!(
            got,
            [
                vec![
                    prose("Ways to install it:"),
                    prose("Docker images are signed"),
                    prose("Build")
                ],
                vec![prose("Run apt.")],
            ]
        );
    }

    #[test]
    fn numbered_lists_keep_their_numbers() {
        let page = "<p>To restore:</p><ol><li><a href='#top'>Top</a></li><li>Stop it.<ul><li>a bullet</li></ul></li>\
            <li>Restore.<ol start='5'><li>five</li><li value='9'>nine</li><li>ten</li></ol></li></ol>\
            <ol type='a'><li>a letter</li></ol><ol reversed><li>down</li></ol>";
        let parts: Vec<Part> = (document(page).groups.into_iter())
            .flat_map(|g| g.parts)
            .collect();
        let want = [
            "To restore:",
            "2. Stop it.",
            "a bullet",
            "3. Restore.",
            "5. five",
            "9. nine",
            "10. ten",
            "a letter",
            "down",
        ];
        assert_eq!(parts, want.map(|t| Part::Prose(t.into())));
    }

    #[test]
    fn headings_paragraphs_code_lists_and_tables() {
        let page = "<html><head><title>Ops handbook</title><style>p{}</style></head><body>\
            <nav><a href='/'>Home</a></nav>\
            <h1>Ops handbook</h1><h2 id='backups-v2'>Backups</h2>\
            <p>Back up the database <b>nightly</b>:</p><pre>pg_dump synapse &gt; db.sql\n</pre>\
            <ul><li>keep 7 copies</li></ul>\
            <p>Restore with psql.<br>Check the logs.</p>\
            <table><tr><th>Port</th><th>Use</th></tr><tr><td>8008</td><td>clients</td></tr></table>\
            <div>Unclosed <p>broken markup\
            </body></html>";
        let d = document(page);
        assert_eq!(d.title.as_deref(), Some("Ops handbook"));
        assert_eq!(d.groups[0].anchor.as_deref(), Some("backups-v2"));
        let got: Vec<(String, Vec<Part>)> = d
            .groups
            .into_iter()
            .map(|g| {
                (
                    g.headings
                        .iter()
                        .map(|h| h.1.clone())
                        .collect::<Vec<_>>()
                        .join(" › "),
                    g.parts,
                )
            })
            .collect();
        let hp = "Ops handbook › Backups".to_string();
        assert_eq!(
            got,
            [
                (
                    hp.clone(),
                    vec![
                        Part::Prose("Back up the database nightly:".into()),
                        Part::Code("pg_dump synapse > db.sql".into()),
                        Part::Prose("keep 7 copies".into()),
                    ]
                ),
                (
                    hp.clone(),
                    vec![Part::Prose("Restore with psql. Check the logs.".into())]
                ),
                (
                    hp.clone(),
                    vec![Part::Prose("Port: 8008; Use: clients".into())]
                ),
                (hp.clone(), vec![Part::Prose("Unclosed".into())]),
                (hp, vec![Part::Prose("broken markup".into())]),
            ]
        );
    }
}
