//! OpenDocument files (LibreOffice, OpenOffice, and what other office suites
//! export for them) as knowledge. A text document (`.odt`) becomes Markdown as
//! a Word document does: headings by their outline level, paragraphs, lists,
//! tables a passage per row, paragraphs in a preformatted style ("Preformatted
//! Text", "Source Text", "Code") code, and a text box's paragraphs after the
//! paragraph it is anchored to; its tables of contents and indexes
//! (navigation), text deleted in tracked changes, comments and footnote
//! bodies are left out. A spreadsheet (`.ods`) is read as workbooks are (see
//! [`super::sheet`]): a passage per row with its header cells, cited by its
//! row; hidden sheets are left out. A presentation (`.odp`) is read as a
//! PowerPoint deck is (see [`super::pptx`]): a section per slide, cited by
//! the slide. The title and date of a document's
//! properties (`meta.xml`) are its front matter. The archive is read within
//! the Word reader's limits, and the cells of all of a document's tables, a
//! repeated cell once for each column it fills, within one budget of cells
//! and text (see [`sheet::Spent`]).

use std::collections::{BTreeMap, HashMap, HashSet};

use roxmltree::Node;

use super::Converted;
use super::docx::{fenced, front_matter, markdown_table, outermost, parse, part};
use super::escape;
use super::sheet::{self, Grid, Spent};
use crate::text;

const OFFICE: &str = "urn:oasis:names:tc:opendocument:xmlns:office:1.0";
const TEXT: &str = "urn:oasis:names:tc:opendocument:xmlns:text:1.0";
const TABLE: &str = "urn:oasis:names:tc:opendocument:xmlns:table:1.0";
const STYLE: &str = "urn:oasis:names:tc:opendocument:xmlns:style:1.0";
const DRAW: &str = "urn:oasis:names:tc:opendocument:xmlns:drawing:1.0";

/// What an OpenDocument file is called in its problems.
const DOCUMENT: &str = "LibreOffice (OpenDocument) file";
/// Most lists, sections and text boxes inside one another read into.
const MAX_DEPTH: usize = 32;
/// Most columns of a table read: every row is written out to the widest.
const MAX_COLUMNS: usize = 64;
/// Most parent styles followed to find what a style is.
const MAX_STYLE_DEPTH: usize = 8;
/// Most times a row or cell with text is repeated: a spreadsheet repeats
/// empty ones to its last row, never as many with text worth reading.
const MAX_REPEAT: u32 = 1_000;
/// Titles office suites give a document nobody named.
const UNTITLED: &[&str] = &["Untitled 1", "Untitled"];

/// The OpenDocument text document `bytes` as Markdown, or why it cannot be read.
pub(crate) fn text_document(bytes: &[u8]) -> Result<String, String> {
    let (content, styles, meta) = parts(bytes, true)?;
    // One part's tree at a time: a tree takes many times its part's size.
    let mut out = front_matter(&meta, UNTITLED);
    let mut styles = Styles::of_part(&styles);
    let doc = parse(&content, DOCUMENT)?;
    styles.add(&doc);
    let body = (doc.descendants()).find(|n| n.has_tag_name((OFFICE, "text")));
    if let Some(body) = body {
        blocks(body, &styles, (&mut out, &mut Spent::default()), 0)?;
    }
    Ok(out)
}

/// The OpenDocument spreadsheet `bytes` as Markdown, with the row of each line.
pub(crate) fn spreadsheet(bytes: &[u8]) -> Result<Converted, String> {
    let (content, _, meta) = parts(bytes, false)?;
    let front = front_matter(&meta, UNTITLED);
    let doc = parse(&content, DOCUMENT)?;
    let hidden = hiding_styles(&doc, "table-properties", (TABLE, "display"), "false");
    let mut out = Converted::starting(front);
    let body = (doc.descendants()).find(|n| n.has_tag_name((OFFICE, "spreadsheet")));
    let tables: Vec<Node<'_, '_>> = body
        .into_iter()
        .flat_map(|b| b.children())
        .filter(|n| n.has_tag_name((TABLE, "table")))
        .filter(|t| {
            !t.attribute((TABLE, "style-name"))
                .is_some_and(|s| hidden.contains(&s))
        })
        .collect();
    let mut spent = Spent::default();
    let mut table_cells = sheet::MAX_TABLE_CELLS;
    for t in &tables {
        let grid = grid(*t, &mut spent)?;
        let name = t.attribute((TABLE, "name")).unwrap_or("");
        let heading = (tables.len() > 1).then_some(name);
        sheet::sheet(&grid, heading, &mut out, &mut table_cells)?;
    }
    Ok(out)
}

/// The OpenDocument presentation `bytes` as Markdown, with the slide of each
/// line: a section per slide under its title (else "Slide N"), its outline's
/// bullets, text boxes and tables, then its speaker notes; hidden slides, and
/// footers, dates and slide numbers, are left out. A title on the first slide
/// titles the deck when its properties do not.
pub(crate) fn presentation(bytes: &[u8]) -> Result<Converted, String> {
    let (content, styles, meta) = parts(bytes, true)?;
    // One part's tree at a time: a tree takes many times its part's size.
    let front = front_matter(&meta, UNTITLED);
    let mut styles = Styles::of_part(&styles);
    let doc = parse(&content, DOCUMENT)?;
    styles.add(&doc);
    // A slide's title is its title shape's, whatever its paragraphs' style.
    styles.titles = false;
    let hidden = hiding_styles(
        &doc,
        "drawing-page-properties",
        (PRESENTATION, "visibility"),
        "hidden",
    );
    let mut out = Converted::starting(front);
    let titled = out.text.contains("\ntitle: ");
    let body = (doc.descendants()).find(|n| n.has_tag_name((OFFICE, "presentation")));
    let slides =
        (body.into_iter().flat_map(|b| b.children())).filter(|n| n.has_tag_name((DRAW, "page")));
    let mut spent = Spent::default();
    for (i, page) in slides.enumerate() {
        let style = page.attribute((DRAW, "style-name"));
        if style.is_some_and(|s| hidden.contains(&s)) {
            continue;
        }
        let before = out.text.len();
        let mut title = None;
        let mut text = String::new();
        let mut notes = String::new();
        for shape in page.children().filter(Node::is_element) {
            if shape.has_tag_name((PRESENTATION, "notes")) {
                let frames = shape.children().filter(|f| class(*f) == Some("notes"));
                for f in frames {
                    shape_text(f, &styles, (&mut notes, &mut spent), 0)?;
                }
            } else {
                slide_shape(shape, &styles, &mut title, (&mut text, &mut spent), 0)?;
            }
        }
        let (heading, level) = match title {
            Some(t) if i == 0 && !titled => (t, "#"),
            Some(t) => (t, "##"),
            None => (format!("Slide {}", i + 1), "##"),
        };
        out.text
            .push_str(&format!("{level} {}\n\n{text}{notes}", escape(&heading)));
        let lines = out.text[before..].matches('\n').count();
        out.pages.extend(std::iter::repeat_n(i + 1, lines));
    }
    Ok(out)
}

/// OpenDocument's presentation namespace.
const PRESENTATION: &str = "urn:oasis:names:tc:opendocument:xmlns:presentation:1.0";

/// A shape's placeholder class ("title", "outline", "notes"…), if it is one.
fn class<'a>(shape: Node<'a, '_>) -> Option<&'a str> {
    shape.attribute((PRESENTATION, "class"))
}

/// A slide's shape: its title into `title` (the first), furniture left out,
/// a group's shapes in order, any other shape's text into `out`, its tables'
/// cells charged to `spent`.
fn slide_shape(
    shape: Node<'_, '_>,
    styles: &Styles,
    title: &mut Option<String>,
    (out, spent): (&mut String, &mut Spent),
    depth: usize,
) -> Result<(), String> {
    match class(shape) {
        Some("title") if title.is_none() => {
            let t = text::fold_whitespace(&text_of(shape, false));
            *title = (!t.is_empty()).then_some(t);
        }
        Some("footer" | "header" | "date-time" | "page-number" | "page") => {}
        _ if shape.has_tag_name((DRAW, "g")) && depth < MAX_DEPTH => {
            for s in shape.children().filter(Node::is_element) {
                slide_shape(s, styles, title, (&mut *out, &mut *spent), depth + 1)?;
            }
        }
        _ => shape_text(shape, styles, (out, spent), depth)?,
    }
    Ok(())
}

/// The text a shape holds: its paragraphs, lists and tables, and those of
/// its text box.
fn shape_text(
    shape: Node<'_, '_>,
    styles: &Styles,
    (out, spent): (&mut String, &mut Spent),
    depth: usize,
) -> Result<(), String> {
    blocks(shape, styles, (&mut *out, &mut *spent), depth + 1)?;
    for b in shape
        .children()
        .filter(|n| n.has_tag_name((DRAW, "text-box")))
    {
        blocks(b, styles, (&mut *out, &mut *spent), depth + 1)?;
    }
    Ok(())
}

/// The names of the styles whose `properties` set `attr` to `value`: those
/// that hide a sheet or a slide.
fn hiding_styles<'a>(
    doc: &'a roxmltree::Document<'_>,
    properties: &str,
    attr: (&str, &str),
    value: &str,
) -> HashSet<&'a str> {
    (doc.descendants())
        .filter(|n| n.has_tag_name((STYLE, "style")))
        .filter(|s| {
            (s.children())
                .any(|p| p.has_tag_name((STYLE, properties)) && p.attribute(attr) == Some(value))
        })
        .filter_map(|s| s.attribute((STYLE, "name")))
        .collect()
}

/// The document's content, styles (when `styled`) and properties parts (the
/// last two empty when it has none).
fn parts(bytes: &[u8], styled: bool) -> Result<(String, String, String), String> {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes))
        .map_err(|e| format!("not a {DOCUMENT}: {e}"))?;
    // A password encrypts the parts (their manifest says how).
    let manifest = part(&mut zip, "META-INF/manifest.xml", DOCUMENT)?.unwrap_or_default();
    if manifest.contains("encryption-data") {
        return Err(format!(
            "an encrypted (password-protected) {DOCUMENT}: not read"
        ));
    }
    let content = part(&mut zip, "content.xml", DOCUMENT)?
        .ok_or_else(|| format!("not a {DOCUMENT}: it has no content.xml"))?;
    let styles = match styled {
        true => part(&mut zip, "styles.xml", DOCUMENT)?.unwrap_or_default(),
        false => String::new(),
    };
    let meta = part(&mut zip, "meta.xml", DOCUMENT)?.unwrap_or_default();
    Ok((content, styles, meta))
}

/// Paragraph styles by name: their parent and their display name.
struct Styles {
    parents: HashMap<String, (Option<String>, String)>,
    /// Whether a paragraph in the "Title" style heads the document.
    titles: bool,
    /// Each style's role once worked out: a document names a few styles
    /// for thousands of paragraphs.
    roles: std::cell::RefCell<HashMap<String, Role>>,
    /// List styles by name: each level's first number, where it counts in
    /// arabic numerals ("1."), so a numbered step keeps its number.
    lists: HashMap<String, Numbering>,
    /// Where the document's lists stopped counting, for a list that goes on
    /// with one (LibreOffice saves a list a paragraph interrupts as two).
    counted: std::cell::RefCell<Counted>,
}

/// The last number of the document's last list, and of each list by its
/// `xml:id`: a list with `text:continue-numbering` counts on from the one,
/// with `text:continue-list` from the other.
#[derive(Default)]
struct Counted {
    last: Option<u64>,
    by_id: HashMap<String, u64>,
}

/// A list style's levels' first numbers (`None`: bullets, letters, Roman
/// numerals, or a level it does not define).
type Numbering = [Option<u64>; LIST_LEVELS];

/// How deep OpenDocument list styles go.
const LIST_LEVELS: usize = 10;

/// Most characters of a style's name read: office suites name them in a
/// few words.
const MAX_STYLE_NAME_CHARS: usize = 100;

impl Styles {
    /// The styles of `styles.xml`, its tree dropped before the content's is
    /// built.
    fn of_part(styles: &str) -> Styles {
        let mut out = Styles {
            parents: HashMap::new(),
            titles: true,
            roles: std::cell::RefCell::default(),
            counted: std::cell::RefCell::default(),
            lists: HashMap::new(),
        };
        if let Ok(doc) = parse(styles, DOCUMENT) {
            out.add(&doc);
        }
        out
    }

    /// Adds the styles `doc` defines (the content's own, for its paragraphs).
    fn add(&mut self, doc: &roxmltree::Document<'_>) {
        for s in doc
            .descendants()
            .filter(|n| n.has_tag_name((STYLE, "style")))
        {
            let Some(name) = s.attribute((STYLE, "name")) else {
                continue;
            };
            let parent = s
                .attribute((STYLE, "parent-style-name"))
                .map(str::to_string);
            let shown = s.attribute((STYLE, "display-name")).unwrap_or(name);
            let shown: String = shown.chars().take(MAX_STYLE_NAME_CHARS).collect();
            self.parents
                .insert(name.to_string(), (parent, shown.replace("_20_", " ")));
        }
        for s in doc
            .descendants()
            .filter(|n| n.has_tag_name((TEXT, "list-style")))
        {
            let Some(name) = s.attribute((STYLE, "name")) else {
                continue;
            };
            let mut numbering = [None; LIST_LEVELS];
            for l in s
                .children()
                .filter(|n| n.has_tag_name((TEXT, "list-level-style-number")))
            {
                let level = (l.attribute((TEXT, "level")))
                    .and_then(|v| v.parse::<usize>().ok())
                    .filter(|v| (1..=LIST_LEVELS).contains(v));
                if let Some(level) = level
                    && l.attribute((STYLE, "num-format")) == Some("1")
                {
                    let start = l
                        .attribute((TEXT, "start-value"))
                        .and_then(|v| v.parse().ok());
                    numbering[level - 1] = Some(start.unwrap_or(1));
                }
            }
            self.lists.insert(name.to_string(), numbering);
        }
    }

    /// The numbering of a list (`text:list`) of style `style`, else of the
    /// list it is in (`outer`).
    fn numbering<'s>(
        &'s self,
        l: Node<'_, '_>,
        outer: Option<&'s Numbering>,
    ) -> Option<&'s Numbering> {
        match l.attribute((TEXT, "style-name")) {
            Some(style) => self.lists.get(style),
            None => outer,
        }
    }

    /// What paragraphs of `style` (or a style it is based on) are: code, the
    /// document's title, or text.
    fn role(&self, style: Option<&str>) -> Role {
        let Some(style) = style else {
            return Role::Text;
        };
        if let Some(&role) = self.roles.borrow().get(style) {
            return role;
        }
        let role = self.role_of(style);
        self.roles.borrow_mut().insert(style.to_string(), role);
        role
    }

    fn role_of(&self, style: &str) -> Role {
        let mut name = Some(style.chars().take(MAX_STYLE_NAME_CHARS).collect::<String>());
        for _ in 0..MAX_STYLE_DEPTH {
            let Some(n) = name else {
                break;
            };
            let shown = (self.parents.get(&n)).map_or(n.replace("_20_", " "), |p| p.1.clone());
            let lower = shown.to_lowercase();
            if ["preformatted", "source text", "code"]
                .iter()
                .any(|c| lower.contains(c))
            {
                return Role::Code;
            }
            if self.titles && (lower == "title" || lower.ends_with("-title")) {
                return Role::Title;
            }
            name = self.parents.get(&n).and_then(|p| p.0.clone());
        }
        Role::Text
    }
}

/// What a paragraph style makes of its paragraphs.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Role {
    Code,
    /// The document's title ("Title"): a heading above its first.
    Title,
    Text,
}

/// Writes the paragraphs, lists and tables under `parent` (the body, a
/// section, a shape) as Markdown, its tables' cells charged to `spent`.
fn blocks(
    parent: Node<'_, '_>,
    styles: &Styles,
    (out, spent): (&mut String, &mut Spent),
    depth: usize,
) -> Result<(), String> {
    let mut code: Vec<String> = Vec::new();
    for node in parent.children().filter(Node::is_element) {
        let name = (node.tag_name().namespace(), node.tag_name().name());
        let role = match name {
            (Some(TEXT), "p") => styles.role(node.attribute((TEXT, "style-name"))),
            _ => Role::Text,
        };
        if role == Role::Code {
            code.push(text_of(node, true));
            continue;
        }
        if !code.is_empty() {
            fenced(&std::mem::take(&mut code), out);
        }
        match name {
            (Some(TEXT), "h") => {
                let level = (node.attribute((TEXT, "outline-level")))
                    .and_then(|l| l.parse::<usize>().ok())
                    .unwrap_or(1)
                    .clamp(1, 6);
                paragraph(&format!("{} ", "#".repeat(level)), node, out);
            }
            (Some(TEXT), "p") if role == Role::Title => paragraph("# ", node, out),
            (Some(TEXT), "p") => paragraph("", node, out),
            (Some(TEXT), "list") if depth < MAX_DEPTH => {
                let numbering = styles.numbering(node, None);
                list(node, (0, numbering, styles), out, depth)
            }
            (Some(TABLE), "table") => table(node, (&mut *out, &mut *spent))?,
            // Containers of paragraphs; not a table of contents or an index,
            // nor the deleted text of tracked changes (elements of their own).
            (Some(TEXT), "section" | "index-body") if depth < MAX_DEPTH => {
                blocks(node, styles, (&mut *out, &mut *spent), depth + 1)?
            }
            _ => {}
        }
        if depth < MAX_DEPTH && matches!(name, (Some(TEXT), "p" | "h")) {
            // A text box is drawn beside its anchoring paragraph: its
            // paragraphs come after that one's, not inside its sentence.
            for b in text_boxes(node) {
                blocks(b, styles, (&mut *out, &mut *spent), depth + 1)?;
            }
        }
    }
    if !code.is_empty() {
        fenced(&code, out);
    }
    Ok(())
}

/// The text boxes drawn in paragraph `p`, not those inside another text box
/// (read with it: each box read from every box around it doubled the text
/// with each level).
fn text_boxes<'a, 'i>(p: Node<'a, 'i>) -> Vec<Node<'a, 'i>> {
    outermost(p, |n| n.has_tag_name((DRAW, "text-box")), |_| true)
}

/// A paragraph's text after `prefix` (a heading's `#`s), when it has any.
fn paragraph(prefix: &str, p: Node<'_, '_>, out: &mut String) {
    let text = text::fold_whitespace(&text_of(p, false));
    if !text.is_empty() {
        out.push_str(&format!("{prefix}{}\n\n", escape(&text)));
    }
}

/// A list's items at `level`, each its paragraphs' text (the first after
/// the item's number, where the list's style numbers this level), nested
/// lists deeper.
fn list(
    l: Node<'_, '_>,
    (level, numbering, styles): (usize, Option<&Numbering>, &Styles),
    out: &mut String,
    depth: usize,
) {
    let start = numbering.and_then(|n| n[level.min(LIST_LEVELS - 1)]);
    let mut count: Option<u64> = None;
    if level == 0 {
        let counted = styles.counted.borrow();
        count = match l.attribute((TEXT, "continue-list")) {
            Some(id) => counted.by_id.get(id).copied(),
            None if l.attribute((TEXT, "continue-numbering")) == Some("true") => counted.last,
            None => None,
        };
    }
    for item in l.children().filter(Node::is_element) {
        // A list header is no item: it has no number.
        let mut number = None;
        if let Some(start) = start.filter(|_| item.has_tag_name((TEXT, "list-item"))) {
            let set = item
                .attribute((TEXT, "start-value"))
                .and_then(|v| v.parse().ok());
            count = Some(set.unwrap_or(count.map_or(start, |c: u64| c.saturating_add(1))));
            number = count;
        }
        for n in item.children().filter(Node::is_element) {
            match (n.tag_name().namespace(), n.tag_name().name()) {
                (Some(TEXT), "p" | "h") => {
                    let indent = "  ".repeat(level);
                    let marker = match number.take() {
                        Some(k) => format!("{indent}- {k}\\. "),
                        None => format!("{indent}- "),
                    };
                    paragraph(&marker, n, out);
                }
                (Some(TEXT), "list") if depth < MAX_DEPTH => {
                    let inner = styles.numbering(n, numbering);
                    list(n, (level + 1, inner, styles), out, depth + 1)
                }
                _ => {}
            }
        }
    }
    if level == 0 && start.is_some() {
        let mut counted = styles.counted.borrow_mut();
        counted.last = count;
        if let (Some(id), Some(n)) = (l.attribute((XML, "id")), count) {
            counted.by_id.insert(id.to_string(), n);
        }
    }
}

/// The XML namespace (`xml:id`).
const XML: &str = "http://www.w3.org/XML/1998/namespace";

/// A table as a Markdown table, its first row the header.
fn table(t: Node<'_, '_>, (out, spent): (&mut String, &mut Spent)) -> Result<(), String> {
    let mut rows: Vec<Vec<String>> = Vec::new();
    for tr in rows_of(t) {
        let mut row = Vec::new();
        for tc in tr
            .children()
            .filter(|n| n.tag_name().namespace() == Some(TABLE))
        {
            let text = escape(&text::fold_whitespace(&text_of(tc, false)));
            let repeat = repeated(tc, "number-columns-repeated") as usize;
            let copies = repeat.min(MAX_COLUMNS - row.len());
            // A cell repeated across columns is copied into each: every copy
            // is charged to the document's one budget before it is made (a
            // budget for each table let sixty tables of a 1 MB cell repeated
            // 64 times take 4 GB).
            spent.charge((copies, text.len() * copies), DOCUMENT, "tables")?;
            row.extend(std::iter::repeat_n(text, copies));
        }
        if row.iter().any(|c| !c.is_empty()) {
            rows.push(row);
        }
    }
    markdown_table(&rows, out);
    Ok(())
}

/// A table's rows, also those inside its header and row groups.
fn rows_of<'a, 'i>(t: Node<'a, 'i>) -> Vec<Node<'a, 'i>> {
    let groups = ["table-header-rows", "table-rows", "table-row-group"];
    outermost(
        t,
        |n| n.has_tag_name((TABLE, "table-row")),
        |n| n.tag_name().namespace() == Some(TABLE) && groups.contains(&n.tag_name().name()),
    )
}

/// How many times a row or cell stands (its `attr`), at least once.
fn repeated(n: Node<'_, '_>, attr: &str) -> u32 {
    (n.attribute((TABLE, attr)))
        .and_then(|r| r.parse::<u32>().ok())
        .unwrap_or(1)
        .max(1)
}

/// The text of a paragraph or cell as shown: for code, its spaces, tabs and
/// line breaks kept. Comments, footnotes' bodies and text boxes (read after
/// their paragraph) are not its text.
fn text_of(node: Node<'_, '_>, code: bool) -> String {
    let mut text = String::new();
    // Depth first, on a heap stack: a document may nest elements deeper than
    // the thread's stack would bear.
    let mut stack = vec![node];
    while let Some(n) = stack.pop() {
        if n.is_text() {
            text.push_str(n.text().unwrap_or(""));
            continue;
        }
        let name = (n.tag_name().namespace(), n.tag_name().name());
        match name {
            (Some(TEXT), "s") => {
                let count = (n.attribute((TEXT, "c")))
                    .and_then(|c| c.parse::<usize>().ok())
                    .unwrap_or(1);
                text.push_str(&" ".repeat(count.clamp(1, 64)));
            }
            (Some(TEXT), "tab") => text.push(if code { '\t' } else { ' ' }),
            (Some(TEXT), "line-break") => text.push(if code { '\n' } else { ' ' }),
            // A footnote's mark and body, and a comment, are not the sentence's.
            (Some(TEXT), "note") | (Some(OFFICE), "annotation") => {}
            (Some(DRAW), "frame") if n != node => {}
            (Some(TEXT), "p" | "h") if n != node => {
                text.push(' ');
                stack.extend(n.children().rev());
            }
            _ => stack.extend(n.children().rev()),
        }
    }
    text
}

/// A sheet's cells with text, by row and column as numbered from 1 and 0.
/// Rows and cells repeated many times are what a spreadsheet writes up to
/// its last row and column: empty ones only move the count on, and those
/// with text are read at most [`MAX_REPEAT`] times.
fn grid(t: Node<'_, '_>, spent: &mut Spent) -> Result<Grid, String> {
    let mut grid = Grid::new();
    // Merged cells still to cover below: column → (rows, text).
    let mut spans: BTreeMap<u32, (u32, String)> = BTreeMap::new();
    let mut r: u32 = 1;
    for tr in rows_of(t) {
        let repeat = repeated(tr, "number-rows-repeated");
        let mut started = BTreeMap::new();
        let mut row = row_cells(tr, &mut started, spent)?;
        // A cell merged over the rows below stands in each, so every row,
        // a passage of its own, keeps its group's label.
        for (&c, (left, text)) in spans.iter_mut() {
            if *left > 0 && !row.contains_key(&c) {
                row.insert(c, text.clone());
            }
        }
        if !row.is_empty() {
            let bytes: usize = row.values().map(String::len).sum();
            for k in 0..repeat.min(MAX_REPEAT) {
                spent.cells += row.len();
                spent.bytes += bytes;
                spent.check()?;
                grid.insert(r.saturating_add(k), row.clone());
            }
        }
        spans.retain(|_, (left, _)| {
            *left = left.saturating_sub(repeat);
            *left > 0
        });
        spans.append(&mut started);
        r = r.saturating_add(repeat);
    }
    Ok(grid)
}

/// A row's cells with text, by column; a cell merged over the next rows is
/// added to `spans` for them, and one merged over the next columns stands
/// in each.
fn row_cells(
    tr: Node<'_, '_>,
    spans: &mut BTreeMap<u32, (u32, String)>,
    spent: &mut Spent,
) -> Result<BTreeMap<u32, String>, String> {
    let mut row = BTreeMap::new();
    let mut c: u32 = 0;
    for tc in tr
        .children()
        .filter(|n| n.tag_name().namespace() == Some(TABLE))
    {
        let repeat = repeated(tc, "number-columns-repeated");
        if let Some(text) = cell_text(tc) {
            // Identical cells side by side are written once, repeated: each
            // copy is a cell, charged before it is made. A cell merged over
            // columns says its text once; over rows, in each row below.
            let copies = repeat.min(MAX_COLUMNS as u32);
            spent.cells += copies as usize;
            spent.bytes += text.len() * copies as usize;
            spent.check()?;
            let below = repeated(tc, "number-rows-spanned") - 1;
            if below > 0 {
                spans.insert(c, (below, text.clone()));
            }
            for k in 0..copies {
                row.insert(c.saturating_add(k), text.clone());
            }
        }
        c = c.saturating_add(repeat);
    }
    Ok(row)
}

/// A cell's text: a date as an ISO date, anything else as the spreadsheet
/// shows it (its paragraphs).
fn cell_text(tc: Node<'_, '_>) -> Option<String> {
    let date = (tc.attribute((OFFICE, "value-type")) == Some("date"))
        .then(|| tc.attribute((OFFICE, "date-value")))
        .flatten();
    let text = match date {
        Some(d) => {
            let (day, time) = d.split_once('T').unwrap_or((d, ""));
            let hm: String = time.chars().take(5).collect();
            match hm.trim_matches(['0', ':']).is_empty() {
                true => day.to_string(),
                false => format!("{day} {hm}"),
            }
        }
        None => text::fold_whitespace(&text_of(tc, false)),
    };
    let text = text.trim().to_string();
    (!text.is_empty()).then_some(text)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// An OpenDocument file of `body` (what `office:body` holds) and, when not
    /// empty, automatic styles and a title.
    pub(crate) fn odf(body: &str, styles: &str, title: &str) -> Vec<u8> {
        let ns = format!(
            r#"xmlns:office="{OFFICE}" xmlns:text="{TEXT}" xmlns:table="{TABLE}" xmlns:style="{STYLE}" xmlns:draw="{DRAW}" xmlns:presentation="{PRESENTATION}""#
        );
        let content = format!(
            r#"<office:document-content {ns}><office:automatic-styles>{styles}</office:automatic-styles><office:body>{body}</office:body></office:document-content>"#
        );
        let meta = format!(
            r#"<office:document-meta xmlns:office="{OFFICE}" xmlns:dc="http://purl.org/dc/elements/1.1/"><office:meta><dc:title>{title}</dc:title><dc:date>2024-03-05T10:00:00</dc:date></office:meta></office:document-meta>"#
        );
        super::super::docx::tests::docx(&[("content.xml", &content), ("meta.xml", &meta)])
    }

    fn p(style: &str, text: &str) -> String {
        format!(r#"<text:p text:style-name="{style}">{text}</text:p>"#)
    }

    #[test]
    fn a_text_documents_structure_becomes_markdown() {
        let styles = r#"<style:style style:name="P1" style:parent-style-name="Preformatted_20_Text"/><style:style style:name="P2" style:parent-style-name="Title"/>"#;
        let body = [
            p("P2", "Operator guide"),
            r#"<text:table-of-content><text:index-body><text:p>Installing ..... 1</text:p></text:index-body></text:table-of-content>"#.into(),
            r#"<text:h text:outline-level="2">Installing</text:h>"#.into(),
            p(
                "Standard",
                r#"The default port<text:note><text:note-citation>1</text:note-citation><text:note-body><text:p>A footnote.</text:p></text:note-body></text:note> is <text:span>8448</text:span>.<office:annotation><text:p>check this</text:p></office:annotation><draw:frame><draw:text-box><text:p>Boxed aside.</text:p></draw:text-box></draw:frame>"#,
            ),
            p("P1", "./install.sh<text:s text:c=\"2\"/>--port 8448"),
            p("P1", "systemctl enable citebot"),
            r#"<text:list><text:list-item><text:p>Stop the service.</text:p><text:list><text:list-item><text:p>the media store</text:p></text:list-item></text:list></text:list-item></text:list>"#.into(),
            r#"<table:table><table:table-header-rows><table:table-row><table:table-cell><text:p>Setting</text:p></table:table-cell><table:table-cell><text:p>Default</text:p></table:table-cell></table:table-row></table:table-header-rows><table:table-row><table:table-cell><text:p>max_upload</text:p></table:table-cell><table:table-cell><text:p>50M</text:p></table:table-cell></table:table-row></table:table>"#.into(),
            r#"<text:tracked-changes><text:changed-region><text:deletion><text:p>Deleted words.</text:p></text:deletion></text:changed-region></text:tracked-changes>"#.into(),
        ]
        .concat();
        let bytes = odf(
            &format!("<office:text>{body}</office:text>"),
            styles,
            "Guide",
        );
        let md = text_document(&bytes).unwrap();
        assert_eq!(
            md,
            "---\ntitle: \"Guide\"\nlastmod: 2024-03-05\n---\n\n\
             # Operator guide\n\n\
             ## Installing\n\n\
             The default port is 8448\\.\n\n\
             Boxed aside.\n\n\
             ```\n./install.sh  --port 8448\nsystemctl enable citebot\n```\n\n\
             - Stop the service.\n\n  - the media store\n\n\
             | Setting | Default |\n| --- | --- |\n| max\\_upload | 50M |\n\n"
        );
    }

    #[test]
    fn numbered_lists_keep_the_numbers_their_style_shows() {
        let styles = r#"<text:list-style style:name="L1"><text:list-level-style-number text:level="1" style:num-format="1"/><text:list-level-style-bullet text:level="2"/><text:list-level-style-number text:level="3" style:num-format="a"/></text:list-style><text:list-style style:name="L2"><text:list-level-style-number text:level="1" style:num-format="1" text:start-value="4"/></text:list-style>"#;
        let item = |text: &str, inner: &str| {
            format!("<text:list-item><text:p>{text}</text:p>{inner}</text:list-item>")
        };
        let nested = format!(
            "<text:list>{}{}</text:list>",
            item("Tell the team.", ""),
            "<text:list-header><text:p>(a header)</text:p></text:list-header>"
        );
        let body = [
            format!(
                r#"<text:list text:style-name="L1">{}{}{}</text:list>"#,
                item("Stop the service.", &nested),
                item("Restore the dump.", ""),
                r#"<text:list-item text:start-value="9"><text:p>Nine.</text:p></text:list-item>"#,
            ),
            format!(
                r#"<text:list xml:id="four" text:style-name="L2">{}</text:list>"#,
                item("Fourth.", "")
            ),
            format!("<text:list>{}</text:list>", item("A bullet.", "")),
            // A list a paragraph interrupted, as LibreOffice saves it.
            format!(
                r#"<text:list text:style-name="L2" text:continue-list="four">{}</text:list>"#,
                item("Fifth.", "")
            ),
            format!(
                r#"<text:list text:style-name="L2" text:continue-numbering="true">{}</text:list>"#,
                item("Sixth.", "")
            ),
        ]
        .concat();
        let bytes = odf(&format!("<office:text>{body}</office:text>"), styles, "");
        let md = text_document(&bytes).unwrap();
        assert!(
            md.ends_with(
                "- 1\\. Stop the service.\n\n  - Tell the team.\n\n  - \\(a header\\)\n\n\
                 - 2\\. Restore the dump.\n\n- 9\\. Nine.\n\n- 4\\. Fourth.\n\n- A bullet.\n\n\
                 - 5\\. Fifth.\n\n- 6\\. Sixth.\n\n"
            ),
            "{md}"
        );
    }

    /// A sheet's cell holding `text` (a date when `date` is not empty).
    fn cell(text: &str, attrs: &str) -> String {
        format!(r#"<table:table-cell {attrs}><text:p>{text}</text:p></table:table-cell>"#)
    }

    #[test]
    fn a_spreadsheets_visible_sheets_are_tables_whose_lines_keep_their_rows() {
        let hidden = r#"<style:style style:name="ta2" style:family="table"><style:table-properties table:display="false"/></style:style>"#;
        let row = |cells: &[String], attrs: &str| {
            format!(
                "<table:table-row {attrs}>{}</table:table-row>",
                cells.concat()
            )
        };
        let team = [
            row(&[cell("Team", ""), cell("Room", "")], ""),
            row(
                &[
                    cell("Support", r#"table:number-rows-spanned="2""#),
                    cell("3.1", ""),
                ],
                "",
            ),
            row(&["<table:covered-table-cell/>".into(), cell("3.2", "")], ""),
            // What a spreadsheet writes to its last row: nothing to read.
            row(
                &[r#"<table:table-cell table:number-columns-repeated="1024"/>"#.into()],
                r#"table:number-rows-repeated="1048570""#,
            ),
        ]
        .concat();
        let dates = [
            row(&[cell("Item", ""), cell("Since", "")], ""),
            row(
                &[
                    cell("Lamp", ""),
                    cell(
                        "07/01/25",
                        r#"office:value-type="date" office:date-value="2025-07-01""#,
                    ),
                ],
                r#"table:number-rows-repeated="3""#,
            ),
            row(
                &[cell("Desk", r#"table:number-columns-repeated="2""#)],
                r#"table:number-rows-repeated="100000""#,
            ),
        ]
        .concat();
        let body = format!(
            r#"<office:spreadsheet><table:table table:name="Teams">{team}</table:table><table:table table:name="Dates">{dates}</table:table><table:table table:name="Old" table:style-name="ta2">{}</table:table></office:spreadsheet>"#,
            row(&[cell("hunter2", "")], "")
        );
        let c = spreadsheet(&odf(&body, hidden, "")).unwrap();
        let lines: Vec<(usize, &str)> = c.pages.iter().copied().zip(c.text.lines()).collect();
        assert_eq!(c.pages.len(), c.text.lines().count());
        let body = &lines[lines.iter().position(|l| l.1 == "## Teams").unwrap()..];
        assert_eq!(
            body[..9],
            [
                (1, "## Teams"),
                (1, ""),
                (1, "| Team | Room |"),
                (1, "| --- | --- |"),
                (2, r"| Support | 3\.1 |"),
                // The merged cell stands in the row it covers.
                (3, r"| Support | 3\.2 |"),
                (3, ""),
                (1, ""),
                (1, "## Dates"),
            ]
        );
        assert!(c.text.contains(r"| Lamp | 2025\-07\-01 |"), "{}", c.text);
        // A row with text repeated is read at most MAX_REPEAT times.
        assert_eq!(
            c.text.matches("| Desk | Desk |").count(),
            MAX_REPEAT as usize
        );
        assert!(!c.text.contains("hunter2"), "a hidden sheet is left out");
    }

    #[test]
    fn a_presentations_slides_are_sections_whose_lines_keep_their_slide() {
        let hidden = r#"<style:style style:name="dp2" style:family="drawing-page"><style:drawing-page-properties presentation:visibility="hidden"/></style:style><style:style style:name="P9" style:parent-style-name="Title"/>"#;
        let frame = |class: &str, inner: &str| {
            format!(
                r#"<draw:frame presentation:class="{class}"><draw:text-box>{inner}</draw:text-box></draw:frame>"#
            )
        };
        let slides = [
            format!(
                "<draw:page>{}{}</draw:page>",
                frame("title", "<text:p>Travel plan</text:p>"),
                frame("subtitle", r#"<text:p text:style-name="P9">Spring 2025</text:p>"#),
            ),
            r#"<draw:page draw:style-name="dp2"><draw:custom-shape><text:p>A hidden slide.</text:p></draw:custom-shape></draw:page>"#.into(),
            format!(
                r#"<draw:page>{}{}{}<draw:g><draw:custom-shape><text:p>Grouped box.</text:p></draw:custom-shape></draw:g><draw:frame><table:table><table:table-row><table:table-cell><text:p>Mode</text:p></table:table-cell></table:table-row><table:table-row><table:table-cell><text:p>Train</text:p></table:table-cell></table:table-row></table:table></draw:frame><presentation:notes><draw:page-thumbnail/>{}</presentation:notes></draw:page>"#,
                frame("title", "<text:p>Trains</text:p>"),
                frame("outline", "<text:list><text:list-item><text:p>Book early</text:p><text:list><text:list-item><text:p>via the office</text:p></text:list-item></text:list></text:list-item></text:list>"),
                frame("page-number", "<text:p>3</text:p>"),
                frame("notes", "<text:p>Trains are cheaper than flights.</text:p>"),
            ),
            "<draw:page><draw:custom-shape><text:p>No title here.</text:p></draw:custom-shape></draw:page>".into(),
        ]
        .concat();
        let body = format!("<office:presentation>{slides}</office:presentation>");
        let bytes = odf(&body, hidden, "");
        let c = presentation(&bytes).unwrap();
        assert_eq!(c.pages.len(), c.text.lines().count(), "a slide per line");
        let lines: Vec<(usize, &str)> = c.pages.iter().copied().zip(c.text.lines()).collect();
        let start = lines.iter().position(|l| l.1.starts_with('#')).unwrap();
        let body: Vec<(usize, &str)> = lines[start..]
            .iter()
            .copied()
            .filter(|l| !l.1.is_empty())
            .collect();
        assert_eq!(
            body,
            [
                // The first slide's title titles the deck; a subtitle in the
                // Title style is no heading.
                (1, "# Travel plan"),
                (1, "Spring 2025"),
                (3, "## Trains"),
                (3, "- Book early"),
                (3, "  - via the office"),
                (3, "Grouped box."),
                (3, "| Mode |"),
                (3, "| --- |"),
                (3, "| Train |"),
                (3, "Trains are cheaper than flights."),
                (4, "## Slide 4"),
                (4, "No title here."),
            ]
        );
    }

    #[test]
    fn repeated_cells_cost_their_copies() {
        let big = "x".repeat(300_000);
        let cell = format!(
            r#"<table:table-cell table:number-columns-repeated="64"><text:p>{big}</text:p></table:table-cell>"#
        );
        let row = format!("<table:table-row>{cell}</table:table-row>");
        // A spreadsheet: one row of a 300 KB cell, 64 columns and 1,000 rows over.
        let sheet = format!(
            r#"<office:spreadsheet><table:table table:name="S"><table:table-row table:number-rows-repeated="1000">{cell}</table:table-row></table:table></office:spreadsheet>"#
        );
        let refused = spreadsheet(&odf(&sheet, "", "")).unwrap_err();
        assert!(refused.contains("MB of text"), "{refused}");
        // A text document's or a presentation's tables, all of them, are
        // copied within one budget: 19 MB a row.
        let table = |rows: usize| format!("<table:table>{}</table:table>", row.repeat(rows));
        let page = |rows: usize| {
            format!(
                "<draw:page><draw:frame>{}</draw:frame></draw:page>",
                table(rows)
            )
        };
        let short = "<table:table-row><table:table-cell table:number-columns-repeated=\"64\"><text:p>x</text:p></table:table-cell></table:table-row>";
        let text =
            "a LibreOffice (OpenDocument) file of over 64 MB of text in its tables: not read";
        let cells =
            "a LibreOffice (OpenDocument) file of more than 1000000 cells in its tables: not read";
        let read = |body: String| -> Result<usize, String> {
            match body.starts_with("<office:text>") {
                true => text_document(&odf(&body, "", "")).map(|md| md.len()),
                false => presentation(&odf(&body, "", "")).map(|c| c.text.len()),
            }
        };
        // (office:body, the problem)
        let cases = [
            (format!("<office:text>{}</office:text>", table(8)), text),
            (
                format!("<office:text>{}</office:text>", table(1).repeat(4)),
                text,
            ),
            (
                format!(
                    "<office:presentation>{}</office:presentation>",
                    page(2).repeat(2)
                ),
                text,
            ),
            (
                format!(
                    "<office:text><table:table>{}</table:table></office:text>",
                    short.repeat(16_000)
                ),
                cells,
            ),
        ];
        for (body, why) in cases {
            let started = std::time::Instant::now();
            assert_eq!(read(body), Err(why.to_string()));
            assert!(started.elapsed().as_secs() < 30, "{:?}", started.elapsed());
        }
    }

    #[test]
    fn a_text_box_inside_text_boxes_is_read_once() {
        let mut inner = "<text:p>Innermost.</text:p>".to_string();
        for level in 0..24 {
            inner = format!(
                "<text:p>Level {level}.<draw:frame><draw:text-box>{inner}</draw:text-box></draw:frame></text:p>"
            );
        }
        let md =
            text_document(&odf(&format!("<office:text>{inner}</office:text>"), "", "")).unwrap();
        assert_eq!(md.matches("Innermost.").count(), 1, "{md}");
        assert_eq!(md.matches("Level ").count(), 24);
        // In order: each paragraph, then what its box holds.
        let at = |level: &str| md.find(level).unwrap();
        assert!(at("Level 23") < at("Level 22"), "{md}");
    }

    #[test]
    fn an_encrypted_or_broken_document_is_refused() {
        let manifest = r#"<manifest:manifest xmlns:manifest="m"><manifest:file-entry manifest:full-path="content.xml"><manifest:encryption-data/></manifest:file-entry></manifest:manifest>"#;
        let bytes = super::super::docx::tests::docx(&[
            ("META-INF/manifest.xml", manifest),
            ("content.xml", "\u{1}binary"),
        ]);
        let refused = text_document(&bytes).unwrap_err();
        assert!(refused.starts_with("an encrypted"), "{refused}");
        let broken = spreadsheet(b"PK\x03\x04 truncated").unwrap_err();
        assert!(broken.starts_with("not a LibreOffice"), "{broken}");
        let empty = super::super::docx::tests::docx(&[("mimetype", "x")]);
        assert!(
            text_document(&empty)
                .unwrap_err()
                .contains("no content.xml")
        );
    }
}
