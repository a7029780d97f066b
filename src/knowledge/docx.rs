//! Word documents (`.docx`) → Markdown, which the Markdown reader then reads as
//! any page. Paragraphs in a heading style (Word's "Heading 1"…, or any style
//! with an outline level, as a document in another language names them)
//! become headings; list paragraphs list items; paragraphs in a code style
//! ("Code", "HTML Preformatted", "Source Code") code; tables a table, a row
//! per passage. The document's title and last-modified date (`docProps/core.xml`)
//! are its front matter. Deleted text of tracked changes and field codes are
//! not text. The archive is read within limits: a zip bomb, a document of
//! millions of elements, or tables whose merged cells copy their text to
//! over 64 MB (see [`super::sheet::Spent`]) is a problem, not a hang or a
//! crash.

use std::collections::HashMap;
use std::io::Read;

use roxmltree::{Document, Node, ParsingOptions};

use super::escape;
use super::passages::{Numbers, numbered};
use super::sheet::Spent;
use crate::text;

/// Most bytes of one XML part read out of the archive.
const MAX_PART_BYTES: u64 = 64 << 20;
/// Most XML nodes of one part.
const MAX_NODES: u32 = 4_000_000;
/// Most content controls (`w:sdt`) inside one another read into: Word nests
/// a few.
const MAX_DEPTH: usize = 32;
/// Most columns of a table read: every row is written out to the widest.
const MAX_COLUMNS: usize = 64;
/// Most namespace declarations of one part, and most prefixes they declare
/// (Office declares a few dozen, on the root).
const MAX_NAMESPACE_DECLARATIONS: usize = 20_000;
const MAX_PREFIXES: usize = 256;
/// Most attributes of one element (see [`most_attributes`]).
const MAX_ATTRIBUTES: usize = 1_000;
/// Most levels of `basedOn` followed to find what a style is.
const MAX_STYLE_DEPTH: usize = 8;

/// The Word document `bytes` as Markdown, or why it cannot be read.
pub(crate) fn markdown(bytes: &[u8]) -> Result<String, String> {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes))
        .map_err(|e| format!("not a {WORD}: {e}"))?;
    let document = part(&mut zip, "word/document.xml", WORD)?
        .ok_or_else(|| format!("not a {WORD}: it has no word/document.xml"))?;
    let styles = part(&mut zip, "word/styles.xml", WORD)?.unwrap_or_default();
    let core = part(&mut zip, "docProps/core.xml", WORD)?.unwrap_or_default();
    let numbering = part(&mut zip, "word/numbering.xml", WORD)?.unwrap_or_default();
    let styles = Styles::read(&styles);
    let mut lists = Lists::read(&numbering);
    let doc = parse(&document, WORD)?;
    let mut out = front_matter(&core, &[]);
    let body = doc
        .root_element()
        .children()
        .find(|n| n.has_tag_name((W, "body")));
    let mut spent = Spent::default();
    if let Some(body) = body {
        blocks(body, (&styles, &mut lists), (&mut out, &mut spent), 0)?;
    }
    Ok(out)
}

/// WordprocessingML's namespace.
const W: &str = "http://schemas.openxmlformats.org/wordprocessingml/2006/main";

/// What a Word document is called in its problems.
const WORD: &str = "Word document";
/// Where a Word document's text is copied, in its problems.
const TABLES: &str = "tables";

/// The text of the part `name` of the archive (an Office document, `what`
/// in its problems), if it has one.
pub(super) fn part(
    zip: &mut zip::ZipArchive<std::io::Cursor<&[u8]>>,
    name: &str,
    what: &str,
) -> Result<Option<String>, String> {
    let file = match zip.by_name(name) {
        Ok(f) => f,
        Err(zip::result::ZipError::FileNotFound) => return Ok(None),
        Err(e) => return Err(format!("not a {what}: {e}")),
    };
    let mut text = String::new();
    file.take(MAX_PART_BYTES + 1)
        .read_to_string(&mut text)
        .map_err(|e| format!("not a {what}: {name}: {e}"))?;
    if text.len() as u64 > MAX_PART_BYTES {
        return Err(format!(
            "{name} is over {} MB unpacked: not read",
            MAX_PART_BYTES >> 20
        ));
    }
    Ok(Some(text))
}

/// One XML part of an Office document (`what` in its problems), within limits.
pub(super) fn parse<'x>(xml: &'x str, what: &str) -> Result<Document<'x>, String> {
    // roxmltree compares each attribute of an element with those before it:
    // tens of thousands on one element took seconds. Office writes a few.
    if most_attributes(xml) > MAX_ATTRIBUTES {
        return Err(format!(
            "not a {what}: an element has over {MAX_ATTRIBUTES} attributes"
        ));
    }
    // roxmltree copies the namespaces in scope into every element that
    // declares one more, and checks each against those: 999 prefixes on the
    // root and twenty thousand small elements declaring one took minutes.
    let declared = xml.matches("xmlns").count();
    let prefixes: std::collections::HashSet<&str> = (xml.match_indices("xmlns:"))
        .filter_map(|(at, _)| xml[at + 6..].split(['=', ' ', '>']).next())
        .collect();
    if declared > MAX_NAMESPACE_DECLARATIONS || prefixes.len() > MAX_PREFIXES {
        return Err(format!("not a {what}: too many namespace declarations"));
    }
    let options = ParsingOptions {
        allow_dtd: false,
        nodes_limit: MAX_NODES,
        ..ParsingOptions::default()
    };
    Document::parse_with_options(xml, options).map_err(|e| format!("not a {what}: {e}"))
}

/// The most `=` signs inside one tag of `xml`: an upper bound of its
/// attributes.
fn most_attributes(xml: &str) -> usize {
    let (mut most, mut here, mut in_tag) = (0, 0, false);
    for b in xml.bytes() {
        match b {
            b'<' => (in_tag, here) = (true, 0),
            b'>' => in_tag = false,
            b'=' if in_tag => {
                here += 1;
                most = most.max(here);
            }
            _ => {}
        }
    }
    most
}

/// YAML front matter of the document's title and last change, from
/// `docProps/core.xml`; empty when it has neither.
pub(super) fn front_matter(core: &str, untitled: &[&str]) -> String {
    let Ok(doc) = parse(core, WORD) else {
        return String::new();
    };
    let field = |name: &str| {
        doc.descendants()
            .find(|n| n.tag_name().name() == name)
            .and_then(|n| n.text())
            .map(str::trim)
            .filter(|t| !t.is_empty())
    };
    let mut lines = Vec::new();
    let named = |t: &&str| !untitled.iter().any(|u| t.eq_ignore_ascii_case(u));
    if let Some(title) = field("title").filter(named) {
        // A JSON string is a YAML string, quotes and all.
        lines.push(format!("title: {}", serde_json::Value::from(title)));
    }
    // OpenDocument's properties name the last change `dc:date`.
    let modified = field("modified").or_else(|| field("date"));
    if let Some(date) = modified.and_then(|d| d.get(..10))
        && chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d").is_ok()
    {
        lines.push(format!("lastmod: {date}"));
    }
    if lines.is_empty() {
        return String::new();
    }
    format!("---\n{}\n---\n\n", lines.join("\n"))
}

/// What a paragraph style makes of its paragraphs.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Role {
    Heading(u8),
    Code,
    /// A list item by its style ("List Bullet"; "List Number": numbered;
    /// "List Number 2": an item a level down), not its own numbering.
    List {
        numbered: bool,
        level: usize,
    },
    /// A table of contents' heading or entry: navigation, not knowledge.
    Skip,
    Text,
}

/// The document's paragraph styles by id.
struct Styles {
    roles: HashMap<String, Role>,
}

impl Styles {
    fn read(xml: &str) -> Styles {
        let mut roles = HashMap::new();
        let Ok(doc) = parse(xml, WORD) else {
            return Styles { roles };
        };
        // id → (its own role if it says, the style it is based on)
        let mut own: HashMap<String, (Option<Role>, Option<String>)> = HashMap::new();
        let styles = doc.root_element().children();
        for style in styles.filter(|n| n.has_tag_name((W, "style"))) {
            let Some(id) = style.attribute((W, "styleId")) else {
                continue;
            };
            let name = val(child(style, "name")).unwrap_or(id).to_ascii_lowercase();
            let outline = val(child(style, "pPr").and_then(|p| child(p, "outlineLvl")));
            let based_on = val(child(style, "basedOn")).map(str::to_string);
            own.insert(id.to_string(), (role_of(&name, outline), based_on));
        }
        for id in own.keys() {
            let mut at = id;
            let mut role = Role::Text;
            for _ in 0..MAX_STYLE_DEPTH {
                let Some((r, based_on)) = own.get(at) else {
                    break;
                };
                if let Some(r) = r {
                    role = *r;
                    break;
                }
                match based_on {
                    Some(b) => at = b,
                    None => break,
                }
            }
            roles.insert(id.clone(), role);
        }
        Styles { roles }
    }

    /// The role of a paragraph of style `id`; Word's built-in ids when the
    /// document has no styles part.
    fn role(&self, id: &str) -> Role {
        self.roles
            .get(id)
            .copied()
            .unwrap_or_else(|| role_of(&id.to_ascii_lowercase(), None).unwrap_or(Role::Text))
    }
}

/// A style's role by its name ("heading 2", "title", "code", "toc 1") or
/// outline level; `None` when it says nothing (it is what it is based on).
fn role_of(name: &str, outline: Option<&str>) -> Option<Role> {
    let compact: String = name.chars().filter(|c| !c.is_whitespace()).collect();
    if compact.starts_with("toc") || compact == "tableofcontents" {
        return Some(Role::Skip);
    }
    if let Some(n) = compact.strip_prefix("heading")
        && let Ok(level) = n.parse::<u8>()
        && (1..=9).contains(&level)
    {
        return Some(Role::Heading(level.min(6)));
    }
    if compact == "title" {
        return Some(Role::Heading(1));
    }
    if let Some(level) = outline.and_then(|o| o.parse::<u8>().ok()) {
        // Level 9 is Word's "body text": no heading, whatever it is based on.
        return Some(if level < 9 {
            Role::Heading((level + 1).min(6))
        } else {
            Role::Text
        });
    }
    if ["code", "preformatted", "sourcetext", "macro", "verbatim"]
        .iter()
        .any(|k| compact.contains(k))
    {
        return Some(Role::Code);
    }
    if let Some(rest) = (compact.strip_prefix("listbullet")).or(compact.strip_prefix("listnumber"))
    {
        let numbered = compact.starts_with("listnumber");
        let level = rest
            .parse::<usize>()
            .map_or(0, |n| n.clamp(1, LIST_LEVELS) - 1);
        return Some(Role::List { numbered, level });
    }
    None
}

/// Writes the paragraphs and tables under `parent` (the body, a content
/// control) as Markdown, its tables' cells charged to `spent`.
fn blocks(
    parent: Node<'_, '_>,
    (styles, lists): (&Styles, &mut Lists),
    (out, spent): (&mut String, &mut Spent),
    depth: usize,
) -> Result<(), String> {
    let mut code: Vec<String> = Vec::new();
    for node in parent.children().filter(Node::is_element) {
        let role = node
            .has_tag_name((W, "p"))
            .then(|| paragraph_role(node, styles));
        if role != Some(Role::Code) && !code.is_empty() {
            fenced(&std::mem::take(&mut code), out);
        }
        if let Some(role) = role {
            paragraph(node, role, (&mut code, &mut *lists), out);
            // A text box is drawn beside its anchoring paragraph: its
            // paragraphs come after that one's, not inside its sentence.
            let boxes = text_boxes(node);
            if !boxes.is_empty() {
                too_deep(depth)?;
                if !code.is_empty() {
                    fenced(&std::mem::take(&mut code), out);
                }
                for b in boxes {
                    blocks(
                        b,
                        (styles, &mut *lists),
                        (&mut *out, &mut *spent),
                        depth + 1,
                    )?;
                }
            }
        } else if node.has_tag_name((W, "tbl")) {
            table(node, lists, (&mut *out, &mut *spent))?;
        } else if node.has_tag_name((W, "sdt"))
            && !is_contents(node)
            && let Some(content) = child(node, "sdtContent")
        {
            too_deep(depth)?;
            blocks(
                content,
                (styles, &mut *lists),
                (&mut *out, &mut *spent),
                depth + 1,
            )?;
        }
    }
    if !code.is_empty() {
        fenced(&code, out);
    }
    Ok(())
}

/// An error past [`MAX_DEPTH`] content controls or text boxes inside one
/// another: what lies deeper would be left out without a word, so the
/// document is a problem instead (Word nests a few; only a made-up file
/// nests more).
fn too_deep(depth: usize) -> Result<(), String> {
    if depth < MAX_DEPTH {
        Ok(())
    } else {
        Err(format!(
            "content controls or text boxes nested more than {MAX_DEPTH} deep: not read"
        ))
    }
}

/// The text boxes (`w:txbxContent`) drawn in paragraph `p`, not those inside
/// another text box (read with it) nor a drawing's fallback copy.
fn text_boxes<'a, 'i>(p: Node<'a, 'i>) -> Vec<Node<'a, 'i>> {
    outermost(
        p,
        |n| n.has_tag_name((W, "txbxContent")),
        |n| n.tag_name().name() != "Fallback",
    )
}

/// The elements below `parent` that `found` picks, in document order, not
/// looking inside them nor inside those `enter` refuses. Depth first on a heap
/// stack: a document may nest elements deeper than the thread's stack bears.
pub(super) fn outermost<'a, 'i>(
    parent: Node<'a, 'i>,
    found: impl Fn(&Node<'a, 'i>) -> bool,
    enter: impl Fn(&Node<'a, 'i>) -> bool,
) -> Vec<Node<'a, 'i>> {
    let mut out = Vec::new();
    let mut stack: Vec<Node<'a, 'i>> = parent.children().filter(Node::is_element).collect();
    stack.reverse();
    while let Some(n) = stack.pop() {
        if found(&n) {
            out.push(n);
        } else if enter(&n) {
            stack.extend(n.children().filter(Node::is_element).rev());
        }
    }
    out
}

/// The first child of `n` named `name` in Word's namespace.
fn child<'a, 'i>(n: Node<'a, 'i>, name: &str) -> Option<Node<'a, 'i>> {
    n.children().find(|c| c.has_tag_name((W, name)))
}

/// A `w:val` attribute, of Word's many one-value elements.
fn val<'a>(n: Option<Node<'a, '_>>) -> Option<&'a str> {
    n.and_then(|n| n.attribute((W, "val")))
}

/// Whether a content control is Word's table of contents.
fn is_contents(sdt: Node<'_, '_>) -> bool {
    sdt.children()
        .filter(|n| n.has_tag_name((W, "sdtPr")))
        .flat_map(|pr| pr.descendants())
        .any(|n| {
            n.has_tag_name((W, "docPartGallery"))
                && n.attribute((W, "val")) == Some("Table of Contents")
        })
}

fn paragraph_role(p: Node<'_, '_>, styles: &Styles) -> Role {
    let props = child(p, "pPr");
    let style = val(props.and_then(|pr| child(pr, "pStyle")));
    let outline = val(props.and_then(|pr| child(pr, "outlineLvl")));
    match (style.map(|s| styles.role(s)), outline) {
        (Some(role), _) if role != Role::Text => role,
        (_, Some(o)) => role_of("", Some(o)).unwrap_or(Role::Text),
        _ => Role::Text,
    }
}

/// One paragraph of `role`: a heading, a list item, a line of code (gathered in `code`
/// until the code ends) or a paragraph of text.
fn paragraph(
    p: Node<'_, '_>,
    role: Role,
    (code, lists): (&mut Vec<String>, &mut Lists),
    out: &mut String,
) {
    if role == Role::Skip {
        return;
    }
    let text = text_of(p, role == Role::Code);
    if role == Role::Code {
        code.push(text);
        return;
    }
    let text = text::fold_whitespace(&text);
    // An empty numbered paragraph shows its number too: it is counted.
    let item = match (list_item(p), role) {
        (Some((num, level)), _) => Some((lists.next(num, level, None), level)),
        (None, Role::List { numbered, level }) => {
            // Each numbered list style ("List Number 2") counts its own list.
            let style = val(child(p, "pPr").and_then(|pr| child(pr, "pStyle")));
            let key = format!("{STYLED}{}", style.unwrap_or(""));
            let number = numbered.then(|| lists.next(&key, level, Some(1))).flatten();
            Some((number, level))
        }
        _ => None,
    };
    if text.is_empty() {
        return;
    }
    match (role, item) {
        (Role::Heading(level), _) => {
            out.push_str(&"#".repeat(level as usize));
            out.push(' ');
            out.push_str(&escape(&text));
            out.push_str("\n\n");
        }
        (_, Some((number, level))) => {
            out.push_str(&"  ".repeat(level));
            out.push_str("- ");
            // The number as Word shows it, in the item's text: a Markdown
            // ordered list would count on from its first item, not restart
            // where Word does.
            if let Some(n) = number {
                out.push_str(&format!("{n}\\. "));
            }
            out.push_str(&escape(&text));
            out.push('\n');
        }
        _ => {
            if out.ends_with("\n") && !out.ends_with("\n\n") && !out.is_empty() {
                // A paragraph after a list is no part of its last item.
                out.push('\n');
            }
            out.push_str(&escape(&text));
            out.push_str("\n\n");
        }
    }
}

/// The list (`numId`) a paragraph numbered by its own `numPr` is an item of,
/// and how deep in it; `None` for none, or `numId` 0 (Word's "no numbering").
fn list_item<'a>(p: Node<'a, '_>) -> Option<(&'a str, usize)> {
    let num = child(p, "pPr").and_then(|pr| child(pr, "numPr"))?;
    let id = val(child(num, "numId")).unwrap_or("");
    if id == "0" {
        return None;
    }
    let level = val(child(num, "ilvl")).and_then(|v| v.parse::<usize>().ok());
    Some((id, level.unwrap_or(0).min(LIST_LEVELS - 1)))
}

/// How deep Word's lists go.
const LIST_LEVELS: usize = 9;

/// The start of the key of the list the paragraphs of a numbered list style
/// ("List Number") count in, its style's id after it: Word numbers them on,
/// through the document.
const STYLED: &str = "\0style:";

/// Word's list numbering (`word/numbering.xml`): which lists' levels count in
/// numbers, from which, and each list's count so far, so that a numbered step
/// keeps the number Word shows it with ("3. Restore the dump").
#[derive(Default)]
struct Lists {
    /// A list's (`numId`) levels' first numbers, where they count in decimal
    /// numbers (`None`: bullets, letters, Roman numerals), and the count it
    /// goes on: Word counts on through the lists of one definition
    /// (`abstractNum`) unless a list starts again (`startOverride`).
    starts: HashMap<String, ([Option<u64>; LIST_LEVELS], String)>,
    /// Each count's numbers shown so far: an item restarts the levels below
    /// its own, as Word counts.
    shown: HashMap<String, Numbers>,
}

impl Lists {
    fn read(xml: &str) -> Lists {
        let mut lists = Lists::default();
        let Ok(doc) = parse(xml, WORD) else {
            return lists;
        };
        let root = doc.root_element();
        let named = |name: &'static str| move |n: &Node<'_, '_>| n.has_tag_name((W, name));
        let abstracts: HashMap<&str, [Option<u64>; LIST_LEVELS]> = (root.children())
            .filter(named("abstractNum"))
            .filter_map(|a| Some((a.attribute((W, "abstractNumId"))?, level_starts(a))))
            .collect();
        for num in root.children().filter(named("num")) {
            let (Some(id), Some(of)) = (
                num.attribute((W, "numId")),
                val(child(num, "abstractNumId")),
            ) else {
                continue;
            };
            let mut starts = abstracts.get(of).copied().unwrap_or_default();
            let mut count = format!("abstract {of}");
            for o in num.children().filter(named("lvlOverride")) {
                let level = o
                    .attribute((W, "ilvl"))
                    .and_then(|l| l.parse::<usize>().ok());
                let start = val(child(o, "startOverride")).and_then(|v| v.parse().ok());
                if let (Some(slot), Some(start)) = (level.and_then(|l| starts.get_mut(l)), start)
                    && slot.is_some()
                {
                    *slot = Some(start);
                    count = format!("list {id}");
                }
            }
            lists.starts.insert(id.to_string(), (starts, count));
        }
        lists
    }

    /// The number of the next item at `level` of list `num` (`None` when that
    /// level is not numbered: bullets); `start` for a list numbering.xml does
    /// not define.
    fn next(&mut self, num: &str, level: usize, start: Option<u64>) -> Option<u64> {
        let (start, count) = match self.starts.get(num) {
            Some((levels, count)) => (levels[level], count.as_str()),
            None => (start, num),
        };
        let shown = self.shown.entry(count.to_string()).or_default();
        match start {
            Some(s) => Some(shown.item_from(level, s)),
            None => {
                shown.other(level + 1);
                None
            }
        }
    }
}

/// The first number of each level of a list definition (`w:abstractNum`)
/// that counts in decimal numbers.
fn level_starts(list: Node<'_, '_>) -> [Option<u64>; LIST_LEVELS] {
    let mut starts = [None; LIST_LEVELS];
    for lvl in list.children().filter(|n| n.has_tag_name((W, "lvl"))) {
        let Some(level) = (lvl.attribute((W, "ilvl")))
            .and_then(|l| l.parse::<usize>().ok())
            .filter(|&l| l < LIST_LEVELS)
        else {
            continue;
        };
        // Word's default format is decimal ("decimalZero": 01, 02…).
        let decimal = val(child(lvl, "numFmt")).is_none_or(|f| f.starts_with("decimal"));
        let start = val(child(lvl, "start")).and_then(|v| v.parse().ok());
        starts[level] = decimal.then(|| start.unwrap_or(1));
    }
    starts
}

/// The text of a paragraph or cell: its runs' text, tabs and breaks, not the
/// text a tracked change deleted nor a field's code. In code, a break is a
/// new line.
fn text_of(node: Node<'_, '_>, code: bool) -> String {
    let mut text = String::new();
    // Depth first, on a heap stack: a document may nest elements deeper than
    // the thread's stack would bear.
    let mut stack = vec![node];
    while let Some(n) = stack.pop() {
        // Not the fallback copy of a drawing's text, nor text a tracked
        // change deleted or moved away (its new place has it).
        if matches!(n.tag_name().name(), "Fallback" | "del" | "moveFrom") {
            continue;
        }
        // Nor a paragraph's text box: its paragraphs are read after this one
        // (in a table cell, they are the cell's text).
        if n.has_tag_name((W, "txbxContent")) && node.has_tag_name((W, "p")) {
            continue;
        }
        stack.extend(n.children().filter(Node::is_element).rev());
        if n.tag_name().namespace() != Some(W) {
            continue;
        }
        match n.tag_name().name() {
            "t" => text.push_str(n.text().unwrap_or("")),
            "tab" if n.parent().is_some_and(|p| p.has_tag_name((W, "r"))) => text.push('\t'),
            "br" | "cr" => text.push(if code { '\n' } else { ' ' }),
            "noBreakHyphen" => text.push('-'),
            "p" if n != node => text.push(' '),
            _ => {}
        }
    }
    text
}

/// Lines of code as one fenced block.
pub(super) fn fenced(lines: &[String], out: &mut String) {
    let code = lines.join("\n");
    let fence = super::code_fence(&code);
    out.push_str(&format!("{fence}\n{code}\n{fence}\n\n"));
}

/// A table as a Markdown table, its first row the header; a cell's
/// paragraphs run together. Every cell is charged to `spent`, the document's
/// budget, before it is made: a merged cell copies its text into each cell
/// it stands for, and a 3 KB document of a 1 MB header merged down forty
/// rows of 64 columns took 4.8 GB.
fn table(
    tbl: Node<'_, '_>,
    lists: &mut Lists,
    (out, spent): (&mut String, &mut Spent),
) -> Result<(), String> {
    let mut rows: Vec<Vec<String>> = Vec::new();
    for tr in tbl.children().filter(|n| n.has_tag_name((W, "tr"))) {
        let mut row: Vec<String> = Vec::new();
        for tc in tr.children().filter(|n| n.has_tag_name((W, "tc"))) {
            let props = child(tc, "tcPr");
            let span = val(props.and_then(|p| child(p, "gridSpan")))
                .and_then(|v| v.parse::<usize>().ok())
                .unwrap_or(1)
                .clamp(1, MAX_COLUMNS);
            // A cell merged with the one above says what that one says, so
            // that each row, a passage of its own, keeps its group's label.
            let merged = props
                .and_then(|p| child(p, "vMerge"))
                .is_some_and(|m| m.attribute((W, "val")) != Some("restart"));
            let own;
            let text = match rows.last().filter(|_| merged) {
                Some(above) => above.get(row.len()).map_or("", String::as_str),
                None => {
                    own = escape(&cell_text(tc, lists));
                    own.as_str()
                }
            };
            // A header over several columns names each; a cell over several
            // is said once.
            for k in 0..span {
                if row.len() < MAX_COLUMNS {
                    let shown = if k == 0 || rows.is_empty() { text } else { "" };
                    spent.charge((1, shown.len()), WORD, TABLES)?;
                    row.push(shown.to_string());
                }
            }
        }
        if row.iter().any(|c| !c.is_empty()) {
            rows.push(row);
        }
    }
    markdown_table(&rows, out);
    Ok(())
}

/// A table cell's text: its paragraphs' (and tables'), a numbered paragraph's
/// after its number, which counts in its list as the body's paragraphs do.
fn cell_text(tc: Node<'_, '_>, lists: &mut Lists) -> String {
    let mut parts = Vec::new();
    for n in tc.children().filter(Node::is_element) {
        let text = text_of(n, false);
        let number = n.has_tag_name((W, "p")).then(|| list_item(n)).flatten();
        let number = number.and_then(|(num, level)| lists.next(num, level, None));
        parts.push(numbered(number, text::fold_whitespace(&text)));
    }
    text::fold_whitespace(&parts.join(" "))
}

/// `rows` as a Markdown table, the first the header, each row as wide as the
/// widest.
pub(super) fn markdown_table(rows: &[Vec<String>], out: &mut String) {
    let Some(width) = rows.iter().map(Vec::len).max().filter(|&w| w > 0) else {
        return;
    };
    let line = |cells: &[String]| {
        let mut l = String::from("|");
        for k in 0..width {
            l.push(' ');
            l.push_str(cells.get(k).map_or("", String::as_str));
            l.push_str(" |");
        }
        l.push('\n');
        l
    };
    if !out.ends_with("\n\n") && !out.is_empty() {
        out.push('\n');
    }
    out.push_str(&line(&rows[0]));
    out.push_str(&format!("|{}\n", " --- |".repeat(width)));
    for row in &rows[1..] {
        out.push_str(&line(row));
    }
    out.push('\n');
}

// The other readers' tests write their documents with this, as these do.
#[cfg(test)]
pub(super) use super::zipped;

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// A `.docx` of these parts, as Word zips them.
    pub(in crate::knowledge) fn docx(parts: &[(&str, &str)]) -> Vec<u8> {
        super::zipped(parts)
    }

    fn body(xml: &str) -> String {
        format!(
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:document xmlns:w="{W}" xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006"><w:body>{xml}</w:body></w:document>"#
        )
    }

    fn p(style: &str, text: &str) -> String {
        let props = if style.is_empty() {
            String::new()
        } else {
            format!(r#"<w:pPr><w:pStyle w:val="{style}"/></w:pPr>"#)
        };
        format!(r#"<w:p>{props}<w:r><w:t xml:space="preserve">{text}</w:t></w:r></w:p>"#)
    }

    const STYLES: &str = r#"<w:styles xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">
<w:style w:type="paragraph" w:styleId="berschrift1"><w:name w:val="heading 1"/></w:style>
<w:style w:type="paragraph" w:styleId="Kapitel"><w:name w:val="Kapitel"/><w:basedOn w:val="berschrift1"/></w:style>
<w:style w:type="paragraph" w:styleId="Gliederung"><w:name w:val="Gliederung"/><w:pPr><w:outlineLvl w:val="1"/></w:pPr></w:style>
<w:style w:type="paragraph" w:styleId="Quelltext"><w:name w:val="Source Code"/></w:style>
</w:styles>"#;

    const CORE: &str = r#"<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/"><dc:title>On-call "handbook"</dc:title><dcterms:modified>2024-05-17T09:30:00Z</dcterms:modified></cp:coreProperties>"#;

    #[test]
    fn headings_lists_code_and_tables_become_markdown() {
        let list = |level: u8, text: &str| {
            format!(
                r#"<w:p><w:pPr><w:numPr><w:ilvl w:val="{level}"/><w:numId w:val="1"/></w:numPr></w:pPr><w:r><w:t>{text}</w:t></w:r></w:p>"#
            )
        };
        let xml = [
            p("berschrift1", "Paging"),
            p("", "When paged, acknowledge within *5* minutes:"),
            list(0, "open the [alert]"),
            list(1, "check the runbook"),
            p("", "Then 1. escalate"),
            p("Gliederung", "Tools"),
            p("Quelltext", "pagerctl ack --all"),
            p("Quelltext", "pagerctl  `status`"),
            r#"<w:p><w:r><w:t>Kept</w:t></w:r><w:del><w:r><w:delText>gone</w:delText></w:r></w:del><w:r><w:instrText>HYPERLINK x</w:instrText><w:t xml:space="preserve"> text</w:t><w:br/><w:t>after</w:t></w:r></w:p>"#.to_string(),
            r#"<w:tbl><w:tr><w:tc><w:p><w:r><w:t>Team</w:t></w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>Phone</w:t></w:r></w:p></w:tc></w:tr><w:tr><w:tc><w:p><w:r><w:t>Ops | NOC</w:t></w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>555</w:t></w:r></w:p><w:p><w:r><w:t>0100</w:t></w:r></w:p></w:tc></w:tr></w:tbl>"#.to_string(),
            p("Kapitel", "Based on a heading"),
        ]
        .concat();
        let bytes = docx(&[
            ("word/document.xml", &body(&xml)),
            ("word/styles.xml", STYLES),
            ("docProps/core.xml", CORE),
        ]);
        let md = markdown(&bytes).unwrap();
        let want = "---\ntitle: \"On-call \\\"handbook\\\"\"\nlastmod: 2024-05-17\n---\n\n\
# Paging\n\n\
When paged, acknowledge within \\*5\\* minutes:\n\n\
- open the \\[alert\\]\n  - check the runbook\n\n\
Then 1\\. escalate\n\n\
## Tools\n\n\
```\npagerctl ack --all\npagerctl  `status`\n```\n\n\
Kept text after\n\n\
| Team | Phone |\n| --- | --- |\n| Ops \\| NOC | 555 0100 |\n\n\
# Based on a heading\n\n";
        assert_eq!(md, want);
    }

    #[test]
    fn numbered_lists_keep_the_numbers_word_shows() {
        let numbering = format!(
            r#"<w:numbering xmlns:w="{W}">
<w:abstractNum w:abstractNumId="10"><w:lvl w:ilvl="0"><w:start w:val="1"/><w:numFmt w:val="decimal"/></w:lvl><w:lvl w:ilvl="1"><w:numFmt w:val="bullet"/></w:lvl><w:lvl w:ilvl="2"><w:start w:val="1"/><w:numFmt w:val="decimal"/></w:lvl></w:abstractNum>
<w:abstractNum w:abstractNumId="11"><w:lvl w:ilvl="0"><w:start w:val="1"/><w:numFmt w:val="lowerLetter"/></w:lvl></w:abstractNum>
<w:num w:numId="1"><w:abstractNumId w:val="10"/></w:num>
<w:num w:numId="2"><w:abstractNumId w:val="11"/></w:num>
<w:num w:numId="3"><w:abstractNumId w:val="10"/><w:lvlOverride w:ilvl="0"><w:startOverride w:val="5"/></w:lvlOverride></w:num>
<w:num w:numId="4"><w:abstractNumId w:val="10"/></w:num>
</w:numbering>"#
        );
        let styles = r#"<w:styles xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">
<w:style w:styleId="ListNumber"><w:name w:val="List Number"/></w:style>
<w:style w:styleId="ListNumber2"><w:name w:val="List Number 2"/></w:style>
<w:style w:styleId="ListBullet"><w:name w:val="List Bullet"/></w:style>
</w:styles>"#;
        let item = |num: u8, level: u8, text: &str| {
            format!(
                r#"<w:p><w:pPr><w:numPr><w:ilvl w:val="{level}"/><w:numId w:val="{num}"/></w:numPr></w:pPr><w:r><w:t>{text}</w:t></w:r></w:p>"#
            )
        };
        let xml = [
            p("", "To restore the database:"),
            item(1, 0, "Stop the web service."),
            item(1, 1, "Tell the team."),
            item(1, 2, "Post in the channel."),
            item(1, 0, "Restore the dump."),
            item(1, 2, "Check the row counts."),
            p("", "Wait for the restore to finish."),
            item(1, 0, "Start the web service."),
            item(2, 0, "a lettered item"),
            item(3, 0, "Fifth step."),
            item(1, 0, ""),
            item(4, 0, "Fifth of the first list."),
            p("ListNumber", "First styled step."),
            p("ListBullet", "a styled bullet"),
            p("ListNumber2", "styled substep"),
            p("ListNumber", "Second styled step."),
        ]
        .concat();
        let bytes = docx(&[
            ("word/document.xml", &body(&xml)),
            ("word/styles.xml", styles),
            ("word/numbering.xml", &numbering),
        ]);
        let md = markdown(&bytes).unwrap();
        // Word counts a list on through other paragraphs (an empty item
        // too), and through another list of the same definition that does
        // not start again; an item restarts the levels below its own; each
        // numbered list style counts its own list.
        let want = "To restore the database:\n\n\
- 1\\. Stop the web service.\n  - Tell the team.\n    - 1\\. Post in the channel.\n\
- 2\\. Restore the dump.\n    - 1\\. Check the row counts.\n\n\
Wait for the restore to finish.\n\n\
- 3\\. Start the web service.\n- a lettered item\n- 5\\. Fifth step.\n\
- 5\\. Fifth of the first list.\n\
- 1\\. First styled step.\n- a styled bullet\n  - 1\\. styled substep\n- 2\\. Second styled step.\n";
        assert_eq!(md, want);
        let options = crate::knowledge::ParseOptions::default();
        let (_, passages) = crate::knowledge::parse_file("r.docx", "r", "", &md, &options).unwrap();
        let texts: Vec<&str> = passages.iter().map(|s| s.text.as_str()).collect();
        // A numbered paragraph in a table's cell counts in its list too.
        let cell = |inner: &str| format!("<w:tc>{inner}</w:tc>");
        let table = format!(
            "<w:tbl><w:tr>{}</w:tr><w:tr>{}</w:tr></w:tbl>",
            cell(&p("", "Step")),
            cell(&item(1, 0, "Stop the web service."))
        );
        let xml = [table, item(1, 0, "Restore the dump.")].concat();
        let bytes = docx(&[
            ("word/document.xml", &body(&xml)),
            ("word/numbering.xml", &numbering),
        ]);
        let md = markdown(&bytes).unwrap();
        assert!(
            md.contains("| 1\\. Stop the web service. |")
                && md.ends_with("- 2\\. Restore the dump.\n"),
            "{md}"
        );
        assert_eq!(
            texts,
            [
                "To restore the database:\n\n1. Stop the web service.\n\nTell the team.\n\n\
1. Post in the channel.\n\n2. Restore the dump.\n\n1. Check the row counts.\n\n\
Wait for the restore to finish.\n\n3. Start the web service.\n\na lettered item\n\n\
5. Fifth step.\n\n5. Fifth of the first list.\n\n1. First styled step.\n\n\
a styled bullet\n\n1. styled substep\n\n2. Second styled step."
            ]
        );
    }

    #[test]
    fn text_boxes_are_paragraphs_after_their_anchor() {
        let text_box = |inner: &str| {
            format!(
                r#"<w:r><w:drawing><wp:anchor xmlns:wp="wp"><a:graphic xmlns:a="a"><wps:txbx xmlns:wps="wps"><w:txbxContent>{inner}</w:txbxContent></wps:txbx></a:graphic></wp:anchor></w:drawing></w:r>"#
            )
        };
        let boxed = text_box(&[p("", "Box says hi."), p("", "Second line.")].concat());
        let nested = text_box(&format!(
            r#"<w:p><w:r><w:t>Outer box.</w:t></w:r>{}</w:p>"#,
            text_box(&p("", "Inner box."))
        ));
        let xml = [
            format!(
                r#"<w:p><w:r><w:t xml:space="preserve">Anchor text </w:t></w:r>{boxed}<w:r><w:t>goes on.</w:t></w:r></w:p>"#
            ),
            format!(
                r#"<w:p><w:r><w:t>Second anchor.</w:t></w:r><mc:AlternateContent><mc:Choice>{nested}</mc:Choice><mc:Fallback>{}</mc:Fallback></mc:AlternateContent></w:p>"#,
                text_box(&p("", "Fallback copy."))
            ),
        ]
        .concat();
        let md = markdown(&docx(&[("word/document.xml", &body(&xml))])).unwrap();
        assert_eq!(
            md,
            "Anchor text goes on.\n\nBox says hi.\n\nSecond line.\n\nSecond anchor.\n\nOuter box.\n\nInner box.\n\n"
        );
    }

    #[test]
    fn contents_list_styles_and_moved_text() {
        let styles = r#"<w:styles xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">
<w:style w:styleId="Heading1"><w:name w:val="heading 1"/></w:style>
<w:style w:styleId="TOCHeading"><w:name w:val="TOC Heading"/><w:basedOn w:val="Heading1"/><w:pPr><w:outlineLvl w:val="9"/></w:pPr></w:style>
<w:style w:styleId="Note"><w:name w:val="Note"/><w:basedOn w:val="Heading1"/><w:pPr><w:outlineLvl w:val="9"/></w:pPr></w:style>
<w:style w:styleId="TOC1"><w:name w:val="toc 1"/></w:style>
<w:style w:styleId="ListBullet"><w:name w:val="List Bullet"/></w:style>
</w:styles>"#;
        let xml = [
            p("TOCHeading", "Contents"),
            p("TOC1", "Introduction 3"),
            r#"<w:sdt><w:sdtPr><w:docPartObj><w:docPartGallery w:val="Table of Contents"/></w:docPartObj></w:sdtPr><w:sdtContent><w:p><w:r><w:t>Setup 4</w:t></w:r></w:p></w:sdtContent></w:sdt>"#.to_string(),
            p("Heading1", "Introduction"),
            p("Note", "Based on a heading, at body level"),
            p("ListBullet", "a styled item"),
            r#"<w:p><w:pPr><w:numPr><w:ilvl w:val="0"/><w:numId w:val="0"/></w:numPr></w:pPr><w:r><w:t>Numbering removed</w:t></w:r></w:p>"#.to_string(),
            r#"<w:p><w:moveFrom><w:r><w:t>moved</w:t></w:r></w:moveFrom><w:r><w:t>Stays</w:t></w:r></w:p>"#.to_string(),
        ]
        .concat();
        let md = markdown(&docx(&[
            ("word/document.xml", &body(&xml)),
            ("word/styles.xml", styles),
        ]))
        .unwrap();
        assert_eq!(
            md,
            "# Introduction\n\nBased on a heading, at body level\n\n- a styled item\n\nNumbering removed\n\nStays\n\n"
        );
    }

    #[test]
    fn content_controls_nested_too_deep_are_a_problem_not_text_left_out() {
        let nested = |n: usize| {
            let open = "<w:sdt><w:sdtContent>".repeat(n);
            let close = "</w:sdtContent></w:sdt>".repeat(n);
            body(&format!("{open}{}{close}", p("", "Deep text")))
        };
        let read = |n: usize| markdown(&docx(&[("word/document.xml", &nested(n))]));
        assert_eq!(read(MAX_DEPTH).unwrap(), "Deep text\n\n");
        let e = read(MAX_DEPTH + 1).unwrap_err();
        assert!(e.contains("nested more than 32 deep"), "{e}");
    }

    #[test]
    fn merged_cells_keep_their_headers_and_labels() {
        let tc = |props: &str, text: &str| {
            format!(
                r#"<w:tc><w:tcPr>{props}</w:tcPr><w:p><w:r><w:t>{text}</w:t></w:r></w:p></w:tc>"#
            )
        };
        let row = |cells: &[String]| format!("<w:tr>{}</w:tr>", cells.concat());
        let xml = format!(
            "<w:tbl>{}{}{}</w:tbl>",
            row(&[tc("", "Team"), tc(r#"<w:gridSpan w:val="2"/>"#, "Phone")]),
            row(&[
                tc(r#"<w:vMerge w:val="restart"/>"#, "Ops"),
                tc("", "555"),
                tc("", "day")
            ]),
            row(&[tc("<w:vMerge/>", ""), tc("", "556"), tc("", "night")]),
        );
        let md = markdown(&docx(&[("word/document.xml", &body(&xml))])).unwrap();
        assert_eq!(
            md,
            "| Team | Phone | Phone |\n| --- | --- | --- |\n| Ops | 555 | day |\n| Ops | 556 | night |\n\n"
        );
    }

    #[test]
    fn merged_cells_copy_their_text_within_one_budget() {
        let big = "lorem ipsum ".repeat(90_000);
        let tc = |props: &str, text: &str| {
            format!(
                r#"<w:tc><w:tcPr>{props}</w:tcPr><w:p><w:r><w:t>{text}</w:t></w:r></w:p></w:tc>"#
            )
        };
        let tr = |cells: &str| format!("<w:tr>{cells}</w:tr>");
        let tbl = |rows: &str| format!("<w:tbl>{rows}</w:tbl>");
        let span = r#"<w:gridSpan w:val="64"/>"#;
        // A 1 MB cell merged down 70 rows is 70 MB of cells.
        let down = tbl(&format!(
            "{}{}",
            tr(&tc("", &big)),
            tr(&tc("<w:vMerge/>", "")).repeat(70)
        ));
        // A header over 64 columns names each: 38 MB a table, and both
        // tables are charged to the one budget.
        let across = tbl(&tr(&tc(span, &big[..600_000]))).repeat(2);
        // A row of one short cell over 64 columns is 64 cells.
        let wide = tbl(&tr(&tc(span, "x")).repeat(16_000));
        let text = "a Word document of over 64 MB of text in its tables: not read";
        let cells = "a Word document of more than 1000000 cells in its tables: not read";
        for (xml, why) in [(down, text), (across, text), (wide, cells)] {
            let bytes = docx(&[("word/document.xml", &body(&xml))]);
            assert!(bytes.len() < 100_000, "{} bytes", bytes.len());
            let started = std::time::Instant::now();
            assert_eq!(markdown(&bytes).map(|md| md.len()), Err(why.to_string()));
            assert!(started.elapsed().as_secs() < 30, "{:?}", started.elapsed());
        }
    }

    #[test]
    fn what_is_not_a_word_document_says_why() {
        let table: &[(&[u8], &str)] = &[
            (b"plain text", "not a Word document: invalid Zip archive"),
            (
                &docx(&[("x.txt", "x")]),
                "not a Word document: it has no word/document.xml",
            ),
            (
                &docx(&[("word/document.xml", "<w:document")]),
                "not a Word document: ",
            ),
            (
                &docx(&[(
                    "word/document.xml",
                    "<!DOCTYPE x [<!ENTITY a \"b\">]><x>&a;</x>",
                )]),
                "not a Word document: ",
            ),
            (
                &docx(&[(
                    "word/document.xml",
                    &format!(
                        "<x {}/>",
                        (0..1001).map(|i| format!("a{i}=\"\" ")).collect::<String>()
                    ),
                )]),
                "not a Word document: an element has over 1000 attributes",
            ),
        ];
        for (bytes, why) in table {
            let e = markdown(bytes).unwrap_err();
            assert!(e.starts_with(why), "{e}");
        }
    }
}
