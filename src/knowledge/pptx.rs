//! PowerPoint decks (`.pptx`) → Markdown, which the Markdown reader then reads
//! as any page. Each slide, in the deck's order, is a section under its title
//! (else "Slide N"): its text boxes' paragraphs are paragraphs, or list items
//! where the slide shows bullets, tables a row per passage, SmartArt diagrams
//! their boxes' text as a list, and its speaker notes, which often hold the
//! prose the bullets stand for, follow its text.
//! Slide numbers, dates and footers are furniture; hidden slides are left out.
//! A passage is cited by the slide it is on. The deck's title is its document
//! title, else the first slide's when that is a title slide, else the file
//! name. The archive is read within the Word reader's limits, with at most
//! 64 MB of slides, notes, diagrams and their relationships read in all (a
//! part named many times is read once), and the text its tables' merged
//! cells and its diagrams copy, once for each cell or frame showing it,
//! within one budget (see [`super::sheet::Spent`]).

use std::collections::{HashMap, HashSet};

use roxmltree::Node;

use super::Converted;
use super::docx::{front_matter, markdown_table, parse, part};
use super::escape;
use super::passages::{Numbers, numbered};
use super::sheet::Spent;
use crate::text;

/// What a deck is called in its problems.
const DECK: &str = "PowerPoint deck";
/// Where a deck's text is copied, in its problems.
const COPIED: &str = "tables and diagrams";
/// Most slides read.
const MAX_SLIDES: usize = 5_000;
/// Most bytes of XML read out of one deck's slides, notes, diagrams and
/// their relationships together: each part is limited, but a deck has
/// thousands.
const MAX_DECK_BYTES: usize = 64 << 20;
/// Most groups of shapes inside one another read into.
const MAX_DEPTH: usize = 32;
/// Most columns of a table read.
const MAX_COLUMNS: usize = 64;
/// The titles office suites give a deck nobody titled: no title at all.
const UNTITLED: &[&str] = &["PowerPoint Presentation", "Presentation"];

/// PresentationML's namespace.
const P: &str = "http://schemas.openxmlformats.org/presentationml/2006/main";
/// DrawingML's: text, tables.
const A: &str = "http://schemas.openxmlformats.org/drawingml/2006/main";
/// SmartArt's data.
const DGM: &str = "http://schemas.openxmlformats.org/drawingml/2006/diagram";
/// Relationships, as an attribute's namespace.
const R: &str = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";

type Zip<'b> = zip::ZipArchive<std::io::Cursor<&'b [u8]>>;

/// The deck `bytes` as Markdown, with the slide of each line, or why it
/// cannot be read.
pub(crate) fn markdown(bytes: &[u8]) -> Result<Converted, String> {
    markdown_within(bytes, MAX_DECK_BYTES)
}

/// [`markdown`], reading at most `budget` bytes of slides, notes and
/// diagrams.
fn markdown_within(bytes: &[u8], budget: usize) -> Result<Converted, String> {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes))
        .map_err(|e| format!("not a {DECK}: {e}"))?;
    let presentation = part(&mut zip, "ppt/presentation.xml", DECK)?
        .ok_or_else(|| format!("not a {DECK}: it has no ppt/presentation.xml"))?;
    let slides = slide_parts(&mut zip, &presentation)?;
    if slides.len() > MAX_SLIDES {
        return Err(format!("a deck of more than {MAX_SLIDES} slides: not read"));
    }
    let core = part(&mut zip, "docProps/core.xml", DECK)?.unwrap_or_default();
    let mut out = front_matter(&core, UNTITLED);
    let titled = !out.is_empty() && out.contains("\ntitle: ");
    let mut pages = vec![1; out.matches('\n').count()];
    let mut deck = Deck {
        budget,
        diagrams: HashMap::new(),
        spent: Spent::default(),
    };
    let mut read = HashSet::new();
    for (i, name) in slides.iter().enumerate() {
        let before = out.len();
        // A slide part listed twice is one slide, read once.
        let xml = match read.insert(name) {
            true => deck.read(&mut zip, name)?,
            false => None,
        };
        if let Some(xml) = xml {
            let beside = deck.beside(&mut zip, name)?;
            let first = !titled && i == 0;
            slide(&xml, (&beside, &mut deck), (i + 1, first), &mut out)?;
        }
        pages.extend(std::iter::repeat_n(
            i + 1,
            out[before..].matches('\n').count(),
        ));
    }
    Ok(Converted {
        text: out,
        pages,
        unread: Vec::new(),
    })
}

/// The parts of the deck's slides, in the order it shows them
/// (`presentation.xml`'s list, through its relationships).
fn slide_parts(zip: &mut Zip<'_>, presentation: &str) -> Result<Vec<String>, String> {
    let rels = part(zip, "ppt/_rels/presentation.xml.rels", DECK)?.unwrap_or_default();
    let targets = relationships(&rels, "ppt/presentation.xml");
    let doc = parse(presentation, DECK)?;
    let list = doc.descendants().find(|n| n.has_tag_name((P, "sldIdLst")));
    let ids = list.into_iter().flat_map(|l| l.children());
    Ok(ids
        .filter(|n| n.has_tag_name((P, "sldId")))
        .filter_map(|n| n.attribute((R, "id")))
        .filter_map(|id| targets.iter().find(|(i, ..)| i == id))
        .map(|(_, target, _)| target.clone())
        .collect())
}

/// The relationships of the part `of` (`_rels/*.rels` beside it): each
/// one's id, target part (resolved from `of`'s folder) and type.
pub(super) fn relationships(xml: &str, of: &str) -> Vec<(String, String, String)> {
    let Ok(doc) = parse(xml, DECK) else {
        return Vec::new();
    };
    let folder = of.rsplit_once('/').map_or("", |(f, _)| f);
    doc.descendants()
        .filter(|n| n.tag_name().name() == "Relationship")
        .filter(|n| n.attribute("TargetMode") != Some("External"))
        .filter_map(|n| {
            let target = resolve(folder, n.attribute("Target")?);
            let kind = n.attribute("Type").unwrap_or_default().to_string();
            Some((n.attribute("Id")?.to_string(), target, kind))
        })
        .collect()
}

/// The part `target` names from a part in `folder`: absolute from the
/// archive's root when it starts with `/`, else relative (`../notesSlides/…`).
fn resolve(folder: &str, target: &str) -> String {
    let mut path: Vec<&str> = match target.strip_prefix('/') {
        Some(_) => Vec::new(),
        None => folder.split('/').filter(|s| !s.is_empty()).collect(),
    };
    for seg in target.trim_start_matches('/').split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                path.pop();
            }
            s => path.push(s),
        }
    }
    path.join("/")
}

/// What one deck has cost so far, against its limits.
struct Deck {
    /// Bytes of parts still to be read.
    budget: usize,
    /// The text of the deck's SmartArt diagrams, each's points in order, by
    /// the part holding it: a part is read once, however many relationships
    /// name it (two hundred naming one 30 MB part were two hundred reads,
    /// and gigabytes of text, before the budget was checked).
    diagrams: HashMap<String, Vec<String>>,
    /// Cells and bytes of text its tables and diagrams have written.
    spent: Spent,
}

/// What a slide's text draws on besides the slide's own part.
#[derive(Default)]
struct Beside {
    /// Its speaker notes' part.
    notes: Option<String>,
    /// The parts of its diagrams (in [`Deck::diagrams`]) by the relationship
    /// the slide names each by.
    diagrams: HashMap<String, String>,
}

impl Deck {
    /// The part `name`, if the deck has it, charged to the budget: a part
    /// larger than what is left is refused before it is unpacked, and one
    /// whose archive entry lies about its size once it is.
    fn read(&mut self, zip: &mut Zip<'_>, name: &str) -> Result<Option<String>, String> {
        let refused = || {
            let mb = MAX_DECK_BYTES >> 20;
            format!("a deck whose slides, notes and diagrams unpack to over {mb} MB: not read")
        };
        let declared = (zip.index_for_name(name))
            .and_then(|i| zip.by_index_data(i).ok())
            .map_or(0, |entry| entry.size());
        if declared > self.budget as u64 {
            return Err(refused());
        }
        let text = part(zip, name, DECK)?;
        let size = text.as_ref().map_or(0, String::len);
        self.budget = self.budget.checked_sub(size).ok_or_else(refused)?;
        Ok(text)
    }

    /// The parts the slide part `slide` relates to that hold its text: its
    /// notes and its diagrams' data, each diagram's text kept in
    /// [`Deck::diagrams`].
    fn beside(&mut self, zip: &mut Zip<'_>, slide: &str) -> Result<Beside, String> {
        let (folder, file) = slide.rsplit_once('/').unwrap_or(("", slide));
        let rels = self.read(zip, &format!("{folder}/_rels/{file}.rels"))?;
        let mut out = Beside::default();
        for (id, target, kind) in relationships(&rels.unwrap_or_default(), slide) {
            if kind.ends_with("/notesSlide") && out.notes.is_none() {
                out.notes = self.read(zip, &target)?;
            } else if kind.ends_with("/diagramData") {
                if !self.diagrams.contains_key(&target) {
                    let Some(xml) = self.read(zip, &target)? else {
                        continue;
                    };
                    self.diagrams.insert(target.clone(), diagram_text(&xml));
                }
                out.diagrams.insert(id, target);
            }
        }
        Ok(out)
    }
}

/// The text of a SmartArt diagram's points (its boxes), in order.
fn diagram_text(xml: &str) -> Vec<String> {
    let Ok(doc) = parse(xml, DECK) else {
        return Vec::new();
    };
    doc.descendants()
        .filter(|n| n.has_tag_name((DGM, "pt")))
        // Points of the text the diagram shows, not of its connectors or
        // layout ("parTrans", "sibTrans", "pres", "doc").
        .filter(|n| matches!(n.attribute("type"), None | Some("node" | "asst")))
        .filter_map(|n| n.children().find(|c| c.has_tag_name((DGM, "t"))))
        .map(|t| {
            let lines: Vec<String> = paragraphs(t).into_iter().map(|(t, ..)| t).collect();
            lines.join(" ")
        })
        .filter(|t| !t.is_empty())
        .collect()
}

/// What a shape is on its slide, by its placeholder.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Shape {
    /// The slide's title; `true` for a title slide's (`ctrTitle`).
    Title(bool),
    /// A body placeholder: its paragraphs are bullets unless they say not.
    Body,
    /// A text box or subtitle: bullets only where a paragraph says so.
    Text,
    /// Slide number, date, footer, a notes page's picture of its slide.
    Furniture,
}

/// What a shape is, from its `p:nvPr`'s placeholder.
fn shape_of(sp: Node<'_, '_>) -> Shape {
    let ph = sp
        .children()
        .find(|n| n.tag_name().name().starts_with("nv"))
        .and_then(|nv| nv.children().find(|n| n.has_tag_name((P, "nvPr"))))
        .and_then(|pr| pr.children().find(|n| n.has_tag_name((P, "ph"))));
    let Some(ph) = ph else {
        return Shape::Text;
    };
    match ph.attribute("type") {
        Some("title") => Shape::Title(false),
        Some("ctrTitle") => Shape::Title(true),
        Some("sldNum" | "dt" | "ftr" | "hdr" | "sldImg") => Shape::Furniture,
        Some("subTitle") => Shape::Text,
        // "body", "obj", or a content placeholder named by its index alone.
        _ => Shape::Body,
    }
}

/// One slide (`number`, with the parts `beside` it, of `deck`) as a section
/// of `out`; the first slide's title is the deck's when `first` and it is a
/// title slide.
fn slide(
    xml: &str,
    (beside, deck): (&Beside, &mut Deck),
    (number, first): (usize, bool),
    out: &mut String,
) -> Result<(), String> {
    let doc = parse(xml, DECK)?;
    let root = doc.root_element();
    if matches!(root.attribute("show"), Some("0" | "false")) {
        return Ok(());
    }
    let mut title: Option<(String, bool)> = None;
    let mut body = String::new();
    let diagrams: HashMap<&str, &[String]> = (beside.diagrams.iter())
        .filter_map(|(id, target)| Some((id.as_str(), deck.diagrams.get(target)?.as_slice())))
        .collect();
    let on_slide = Reading {
        bullets: true,
        diagrams: &diagrams,
    };
    let spent = &mut deck.spent;
    if let Some(tree) = root.descendants().find(|n| n.has_tag_name((P, "spTree"))) {
        shapes(tree, 0, &on_slide, &mut title, (&mut body, &mut *spent))?;
    }
    // The notes page shows a picture of the slide and the notes' body, which
    // is prose: its placeholder's paragraphs are no bullets.
    let notes = beside.notes.as_deref().and_then(|x| parse(x, DECK).ok());
    if let Some(notes) = notes {
        let tree = notes.descendants().find(|n| n.has_tag_name((P, "spTree")));
        let mut ignored = None;
        let mut text = String::new();
        if let Some(tree) = tree {
            let no_diagrams = HashMap::new();
            let in_notes = Reading {
                bullets: false,
                diagrams: &no_diagrams,
            };
            shapes(tree, 0, &in_notes, &mut ignored, (&mut text, &mut *spent))?;
        }
        body.push_str(&text);
    }
    let (heading, level) = match title {
        Some((t, true)) if first => (t, "#"),
        Some((t, _)) => (t, "##"),
        None => (format!("Slide {number}"), "##"),
    };
    out.push_str(&format!("{level} {}\n\n", escape(&heading)));
    out.push_str(&body);
    Ok(())
}

/// How a shape tree is read.
struct Reading<'a> {
    /// Whether a body placeholder's paragraphs are bullets: on a slide, not
    /// on a notes page.
    bullets: bool,
    /// The text of the slide's diagrams, each's points, by the relationship
    /// the slide names it by.
    diagrams: &'a HashMap<&'a str, &'a [String]>,
}

/// The text of the shapes under `tree` (a slide's shape tree or a group), in
/// order, as `reading` says: the title into `title`, the rest as Markdown
/// into `out`, what tables and diagrams write charged to `spent`.
fn shapes(
    tree: Node<'_, '_>,
    depth: usize,
    reading: &Reading<'_>,
    title: &mut Option<(String, bool)>,
    (out, spent): (&mut String, &mut Spent),
) -> Result<(), String> {
    let bullets = reading.bullets;
    for node in tree.children().filter(Node::is_element) {
        match node.tag_name().name() {
            "sp" => match shape_of(node) {
                Shape::Furniture => {}
                Shape::Title(centred) => {
                    let t = paragraphs(node)
                        .into_iter()
                        .map(|(text, ..)| text)
                        .collect::<Vec<_>>()
                        .join(" ");
                    if !t.is_empty() && title.is_none() {
                        *title = Some((t, centred));
                    } else if !t.is_empty() {
                        out.push_str(&format!("{}\n\n", escape(&t)));
                    }
                }
                shape => text_body(node, bullets && shape == Shape::Body, out),
            },
            "grpSp" if depth < MAX_DEPTH => {
                shapes(node, depth + 1, reading, title, (&mut *out, &mut *spent))?
            }
            // Shapes PowerPoint wraps for newer features (a text box holding an
            // equation): one alternative is read, the first it offers.
            "AlternateContent" if depth < MAX_DEPTH => {
                let choice = node.children().find(|n| n.tag_name().name() == "Choice");
                let fallback = || node.children().find(|n| n.tag_name().name() == "Fallback");
                if let Some(alt) = choice.or_else(fallback) {
                    shapes(alt, depth + 1, reading, title, (&mut *out, &mut *spent))?;
                }
            }
            "graphicFrame" => {
                if let Some(tbl) = node.descendants().find(|n| n.has_tag_name((A, "tbl"))) {
                    table(tbl, (&mut *out, &mut *spent))?;
                }
                // A SmartArt diagram: its boxes' text, a list.
                let diagram = node.descendants().find(|n| n.has_tag_name((DGM, "relIds")));
                let points = diagram
                    .and_then(|d| d.attribute((R, "dm")))
                    .and_then(|id| reading.diagrams.get(id));
                if let Some(points) = points.filter(|p| !p.is_empty()) {
                    for p in *points {
                        // Written for each frame that shows it: 2,000 frames
                        // of one 1 MB diagram took 4 GB.
                        let item = format!("- {}\n", escape(p));
                        spent.charge((0, item.len()), DECK, COPIED)?;
                        out.push_str(&item);
                    }
                    out.push('\n');
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// A shape's paragraphs: each one's text (runs and fields, line breaks as
/// spaces, whitespace folded; after its number when it is numbered, "3. Restore
/// the dump"), indent level and whether it shows a bullet (`bullets`: the
/// shape's default).
fn paragraphs_with(sp: Node<'_, '_>, bullets: bool) -> Vec<(String, usize, bool)> {
    // A shape's or cell's text body; a diagram point's text (`dgm:t`) is one.
    let body = match sp.has_tag_name((DGM, "t")) {
        true => Some(sp),
        false => sp.children().find(|n| n.tag_name().name() == "txBody"),
    };
    let paras = body.into_iter().flat_map(|b| b.children());
    let mut numbers = Numbers::default();
    paras
        .filter(|n| n.has_tag_name((A, "p")))
        .filter_map(|p| {
            let props = p.children().find(|n| n.has_tag_name((A, "pPr")));
            let level = props
                .and_then(|pr| pr.attribute("lvl"))
                .and_then(|l| l.parse::<usize>().ok())
                .unwrap_or(0)
                .min(8);
            let marks = |name: &str| {
                props.is_some_and(|pr| pr.children().any(|n| n.has_tag_name((A, name))))
            };
            let bullet = !marks("buNone") && (bullets || marks("buChar") || marks("buAutoNum"));
            let mut t = String::new();
            for n in p.descendants() {
                if n.has_tag_name((A, "t")) {
                    t.push_str(n.text().unwrap_or_default());
                } else if n.has_tag_name((A, "br")) {
                    t.push(' ');
                }
            }
            let t = text::fold_whitespace(&t);
            let auto =
                props.and_then(|pr| pr.children().find(|n| n.has_tag_name((A, "buAutoNum"))));
            let number = number(
                &mut numbers,
                auto.filter(|_| bullet && !t.is_empty()),
                level,
            );
            let t = numbered(number, t);
            (!t.is_empty()).then_some((t, level, bullet))
        })
        .collect()
}

/// The number of a paragraph at `level` whose `buAutoNum` is `auto`, when it
/// counts in arabic numerals (letters and Roman numerals are shown as
/// bullets): PowerPoint counts on through the paragraphs numbered at a level,
/// from `startAt`, and starts again after one that is not, or after an item a
/// level up.
fn number(numbers: &mut Numbers, auto: Option<Node<'_, '_>>, level: usize) -> Option<u64> {
    let arabic = auto.filter(|a| a.attribute("type").is_some_and(|t| t.starts_with("arabic")));
    let Some(a) = arabic else {
        numbers.other(level);
        return None;
    };
    let start = a.attribute("startAt").and_then(|s| s.parse().ok());
    Some(numbers.item_from(level, start.unwrap_or(1)))
}

/// [`paragraphs_with`] of a shape whose default is no bullet.
fn paragraphs(sp: Node<'_, '_>) -> Vec<(String, usize, bool)> {
    paragraphs_with(sp, false)
}

/// A shape's text as Markdown: paragraphs, and bullets as list items by
/// their level.
fn text_body(sp: Node<'_, '_>, bullets: bool, out: &mut String) {
    let mut in_list = false;
    // The level of the item before in the list: an item is nested at most one
    // deeper (a first item at level 2, indented four spaces, would be code).
    let mut depth: Option<usize> = None;
    for (t, level, bullet) in paragraphs_with(sp, bullets) {
        if bullet {
            let level = level.min(depth.map_or(0, |d| d + 1));
            depth = Some(level);
            out.push_str(&format!("{}- {}\n", "  ".repeat(level), escape(&t)));
        } else {
            depth = None;
            if in_list {
                out.push('\n');
            }
            out.push_str(&format!("{}\n\n", escape(&t)));
        }
        in_list = bullet;
    }
    if in_list {
        out.push('\n');
    }
}

/// A table as a Markdown table, its first row the header. A cell merged
/// with the one above says what that one says, so that each row, a passage
/// of its own, keeps its group's label; one merged with the one before it is
/// empty (DrawingML writes a cell for each column of the grid). Each cell is
/// charged to `spent` before it is made: a 1 MB cell merged down thousands
/// of rows took 6 GB.
fn table(tbl: Node<'_, '_>, (out, spent): (&mut String, &mut Spent)) -> Result<(), String> {
    let mut rows: Vec<Vec<String>> = Vec::new();
    for tr in tbl.children().filter(|n| n.has_tag_name((A, "tr"))) {
        let cells = tr.children().filter(|n| n.has_tag_name((A, "tc")));
        let mut row: Vec<String> = Vec::new();
        for tc in cells.take(MAX_COLUMNS) {
            let merged = |name: &str| matches!(tc.attribute(name), Some("1" | "true"));
            let own;
            let text = if merged("vMerge") {
                rows.last()
                    .and_then(|above| above.get(row.len()))
                    .map_or("", String::as_str)
            } else if merged("hMerge") {
                ""
            } else {
                let cell: Vec<String> = paragraphs(tc).into_iter().map(|(t, ..)| t).collect();
                own = escape(&cell.join(" "));
                own.as_str()
            };
            spent.charge((1, text.len()), DECK, COPIED)?;
            row.push(text.to_string());
        }
        if row.iter().any(|c| !c.is_empty()) {
            rows.push(row);
        }
    }
    markdown_table(&rows, out);
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A `.pptx` of slides, each its title (none: "") and shapes' XML, with
    /// notes where given; slides in the order given, listed by the
    /// presentation in `order` (indexes into `slides`), those in `hidden`
    /// hidden.
    pub(crate) fn deck(
        slides: &[(&str, &str, Option<&str>)],
        order: &[usize],
        hidden: &[usize],
    ) -> Vec<u8> {
        zipped(&deck_parts(slides, order, hidden))
    }

    /// An archive of `parts`, as Office zips them.
    fn zipped(parts: &[(String, String)]) -> Vec<u8> {
        let parts: Vec<(&str, &str)> = parts
            .iter()
            .map(|(a, b)| (a.as_str(), b.as_str()))
            .collect();
        super::super::docx::tests::docx(&parts)
    }

    /// [`deck`]'s parts.
    fn deck_parts(
        slides: &[(&str, &str, Option<&str>)],
        order: &[usize],
        hidden: &[usize],
    ) -> Vec<(String, String)> {
        let mut parts: Vec<(String, String)> = Vec::new();
        let mut ids = String::new();
        let mut rels = String::new();
        for (i, (title, shapes, notes)) in slides.iter().enumerate() {
            let n = i + 1;
            let title = if title.is_empty() {
                String::new()
            } else {
                sp(
                    r#"<p:ph type="title"/>"#,
                    &format!("<a:p><a:r><a:t>{title}</a:t></a:r></a:p>"),
                )
            };
            let show = if hidden.contains(&i) {
                r#" show="0""#
            } else {
                ""
            };
            parts.push((
                format!("ppt/slides/slide{n}.xml"),
                format!(
                    r#"<p:sld{show} xmlns:p="{P}" xmlns:a="{A}" xmlns:r="{R}"><p:cSld><p:spTree>{title}{shapes}</p:spTree></p:cSld></p:sld>"#
                ),
            ));
            if let Some(notes) = notes {
                parts.push((
                    format!("ppt/slides/_rels/slide{n}.xml.rels"),
                    format!(
                        r#"<Relationships><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/notesSlide" Target="../notesSlides/notesSlide{n}.xml"/></Relationships>"#
                    ),
                ));
                let image = sp(r#"<p:ph type="sldImg"/>"#, "");
                let body = sp(
                    r#"<p:ph type="body" idx="1"/>"#,
                    &format!("<a:p><a:r><a:t>{notes}</a:t></a:r></a:p>"),
                );
                parts.push((
                    format!("ppt/notesSlides/notesSlide{n}.xml"),
                    format!(
                        r#"<p:notes xmlns:p="{P}" xmlns:a="{A}"><p:cSld><p:spTree>{image}{body}</p:spTree></p:cSld></p:notes>"#
                    ),
                ));
            }
            rels.push_str(&format!(
                r#"<Relationship Id="rId{}" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/slide" Target="slides/slide{n}.xml"/>"#,
                n + 10
            ));
        }
        for &i in order {
            ids.push_str(&format!(
                r#"<p:sldId id="{}" r:id="rId{}"/>"#,
                256 + i,
                i + 11
            ));
        }
        parts.push((
            "ppt/presentation.xml".into(),
            format!(
                r#"<p:presentation xmlns:p="{P}" xmlns:r="{R}"><p:sldIdLst>{ids}</p:sldIdLst></p:presentation>"#
            ),
        ));
        parts.push((
            "ppt/_rels/presentation.xml.rels".into(),
            format!("<Relationships>{rels}</Relationships>"),
        ));
        parts
    }

    /// A shape with placeholder `ph` ("" for a text box) and paragraphs `paras`.
    pub(crate) fn sp(ph: &str, paras: &str) -> String {
        format!(
            r#"<p:sp><p:nvSpPr><p:cNvPr id="2" name="s"/><p:cNvSpPr/><p:nvPr>{ph}</p:nvPr></p:nvSpPr><p:txBody><a:bodyPr/>{paras}</p:txBody></p:sp>"#
        )
    }

    fn para(text: &str, props: &str) -> String {
        format!("<a:p>{props}<a:r><a:t>{text}</a:t></a:r></a:p>")
    }

    #[test]
    fn slides_become_sections_in_the_decks_order() {
        let body = sp(
            r#"<p:ph idx="1"/>"#,
            &[
                para("Trains are booked by the office.", ""),
                para("Second class only.", r#"<a:pPr lvl="1"/>"#),
                para("Ask first.", "<a:pPr><a:buNone/></a:pPr>"),
            ]
            .concat(),
        );
        let text_box = sp("", &para("Prices include VAT (20%).", ""));
        let number = sp(r#"<p:ph type="sldNum"/>"#, &para("3", ""));
        let table = r#"<p:graphicFrame><a:graphic><a:graphicData><a:tbl><a:tr><a:tc><a:txBody><a:p><a:r><a:t>Item</a:t></a:r></a:p></a:txBody></a:tc><a:tc><a:txBody><a:p><a:r><a:t>Limit</a:t></a:r></a:p></a:txBody></a:tc></a:tr><a:tr><a:tc><a:txBody><a:p><a:r><a:t>Hotel</a:t></a:r></a:p></a:txBody></a:tc><a:tc><a:txBody><a:p><a:r><a:t>120 euros</a:t></a:r></a:p></a:txBody></a:tc></a:tr></a:tbl></a:graphicData></a:graphic></p:graphicFrame>"#;
        let bytes = deck(
            &[
                (
                    "Travel",
                    &format!("{body}{number}"),
                    Some("Say that trains win."),
                ),
                ("", &format!("{text_box}{table}"), None),
                ("Old plan", &sp("", &para("Draft numbers", "")), None),
            ],
            // Slide 2 was moved before slide 1.
            &[1, 0, 2],
            &[],
        );
        let got = markdown(&bytes).unwrap();
        assert_eq!(
            got.text,
            "## Slide 1\n\nPrices include VAT (20%).\n\n\
             | Item | Limit |\n| --- | --- |\n| Hotel | 120 euros |\n\n\
             ## Travel\n\n- Trains are booked by the office.\n  - Second class only.\n\n\
             Ask first.\n\nSay that trains win.\n\n\
             ## Old plan\n\nDraft numbers\n\n"
                .replace("VAT (20%)", "VAT \\(20\\%\\)")
        );
        // Each line's slide, as the deck shows them.
        let slide_of = |needle: &str| {
            let line = got.text.lines().position(|l| l.contains(needle)).unwrap();
            got.pages[line]
        };
        assert_eq!(slide_of("Hotel"), 1);
        assert_eq!(slide_of("Second class"), 2);
        assert_eq!(slide_of("trains win"), 2);
        assert_eq!(got.pages.len(), got.text.lines().count());
    }

    #[test]
    fn numbered_paragraphs_keep_the_numbers_the_slide_shows() {
        let num = |kind: &str, start: &str, level: u8| {
            format!(r#"<a:pPr lvl="{level}"><a:buAutoNum type="{kind}"{start}/></a:pPr>"#)
        };
        let steps = sp(
            "",
            &[
                para("Stop the service.", &num("arabicPeriod", "", 0)),
                para("Tell the team.", &num("alphaLcPeriod", "", 1)),
                para("Restore the dump.", &num("arabicPeriod", "", 0)),
                para("Then check it.", ""),
                para("From seven on.", &num("arabicParenR", r#" startAt="7""#, 0)),
                para("Eight.", &num("arabicPeriod", "", 0)),
            ]
            .concat(),
        );
        let got = markdown(&deck(&[("Restore", &steps, None)], &[0], &[])).unwrap();
        assert_eq!(
            got.text,
            "## Restore\n\n- 1\\. Stop the service.\n  - Tell the team.\n- 2\\. Restore the dump.\n\n\
             Then check it.\n\n- 7\\. From seven on.\n- 8\\. Eight.\n\n"
        );
    }

    #[test]
    fn a_title_slide_titles_the_deck_and_hidden_slides_are_left_out() {
        let title = sp(
            r#"<p:ph type="ctrTitle"/>"#,
            &para("Travel policy 2026", ""),
        );
        let subtitle = sp(
            r#"<p:ph type="subTitle" idx="1"/>"#,
            &para("Finance team", ""),
        );
        let bytes = deck(
            &[
                ("", &format!("{title}{subtitle}"), None),
                ("Secret", &sp("", &para("Not shown.", "")), None),
            ],
            &[0, 1],
            &[1],
        );
        let got = markdown(&bytes).unwrap();
        assert_eq!(got.text, "# Travel policy 2026\n\nFinance team\n\n");
    }

    #[test]
    fn merged_cells_repeat_the_label_above_and_a_default_title_is_none() {
        let cell = |attrs: &str, t: &str| {
            format!(
                r#"<a:tc{attrs}><a:txBody><a:p><a:r><a:t>{t}</a:t></a:r></a:p></a:txBody></a:tc>"#
            )
        };
        let rows = [
            [cell("", "Region"), cell("", "Office"), cell("", "Desk")],
            [
                cell(r#" rowSpan="2""#, "Europe"),
                cell("", "Paris"),
                cell("", "12"),
            ],
            [
                cell(r#" vMerge="1""#, ""),
                cell(r#" gridSpan="2""#, "Berlin"),
                cell(r#" hMerge="1""#, ""),
            ],
        ];
        let rows: String = rows
            .iter()
            .map(|r| format!("<a:tr>{}</a:tr>", r.concat()))
            .collect();
        let table = format!(
            "<p:graphicFrame><a:graphic><a:graphicData><a:tbl>{rows}</a:tbl></a:graphicData></a:graphic></p:graphicFrame>"
        );
        // (the document title, the front matter it makes)
        let titles = [
            // The title an office suite gives an untitled deck is no title.
            ("PowerPoint Presentation", ""),
            ("Desks 2026", "---\ntitle: \"Desks 2026\"\n---\n\n"),
        ];
        for (title, front) in titles {
            let mut parts = deck_parts(&[("Offices", &table, None)], &[0], &[]);
            parts.push((
                "docProps/core.xml".into(),
                format!(r#"<cp:coreProperties xmlns:cp="c" xmlns:dc="d"><dc:title>{title}</dc:title></cp:coreProperties>"#),
            ));
            let got = markdown(&zipped(&parts)).unwrap();
            assert_eq!(
                got.text,
                format!(
                    "{front}## Offices\n\n| Region | Office | Desk |\n| --- | --- | --- |\n\
                     | Europe | Paris | 12 |\n| Europe | Berlin |  |\n\n"
                )
            );
        }
    }

    #[test]
    fn unusual_and_hostile_decks_read_as_they_show() {
        let text = |t: &str| sp("", &para(t, ""));
        let wrapped = format!(
            r#"<mc:AlternateContent xmlns:mc="m"><mc:Choice Requires="a14">{}</mc:Choice><mc:Fallback>{}</mc:Fallback></mc:AlternateContent>"#,
            text("Refunds take fourteen days."),
            text("A picture of the formula.")
        );
        let deep = sp(
            r#"<p:ph idx="1"/>"#,
            &[
                para("Intro line.", "<a:pPr><a:buNone/></a:pPr>"),
                para("Deep item about parking.", r#"<a:pPr lvl="2"/>"#),
                para("Deeper still.", r#"<a:pPr lvl="5"/>"#),
            ]
            .concat(),
        );
        // (slides, order, hidden, Markdown)
        type Slides<'a> = &'a [(&'a str, &'a str, Option<&'a str>)];
        let table: &[(Slides, &[usize], &[usize], &str)] = &[
            // One alternative of wrapped shapes, the first.
            (
                &[("Refunds", &wrapped, None)],
                &[0],
                &[],
                "## Refunds

Refunds take fourteen days.

",
            ),
            // A first item deep in its list is an item, not code.
            (
                &[("Parking", &deep, None)],
                &[0],
                &[],
                "## Parking

Intro line.

- Deep item about parking.
  - Deeper still.

",
            ),
            // A slide listed twice is read once; its second place keeps its number.
            (
                &[
                    ("Once", &text("Only once."), None),
                    ("Last", &text("End."), None),
                ],
                &[0, 0, 1],
                &[],
                "## Once

Only once.

## Last

End.

",
            ),
        ];
        for (slides, order, hidden, want) in table {
            let got = markdown(&deck(slides, order, hidden)).unwrap();
            assert_eq!(got.text, *want);
            assert_eq!(got.pages.len(), got.text.lines().count());
        }
        let got = markdown(&deck(
            &[
                ("Once", &text("Only once."), None),
                ("Last", &text("End."), None),
            ],
            &[0, 0, 1],
            &[],
        ))
        .unwrap();
        assert_eq!(
            got.pages.last(),
            Some(&3),
            "the last slide is the third shown"
        );
        // `show="false"` hides as `show="0"` does.
        let mut parts = deck_parts(&[("Hidden", &text("Secret."), None)], &[0], &[]);
        parts[0].1 = parts[0].1.replace("<p:sld ", r#"<p:sld show="false" "#);
        assert_eq!(markdown(&zipped(&parts)).unwrap().text, "");
        // Slides and notes are read within one budget.
        let big = deck(
            &[
                ("A", &text(&"x".repeat(600)), None),
                ("B", &text(&"y".repeat(600)), None),
            ],
            &[0, 1],
            &[],
        );
        assert!(markdown_within(&big, 4_000).is_ok());
        assert_eq!(
            markdown_within(&big, 1_000).unwrap_err(),
            "a deck whose slides, notes and diagrams unpack to over 64 MB: not read"
        );
    }

    #[test]
    fn a_smartart_diagrams_boxes_are_a_list_where_it_stands() {
        let frame = format!(
            r#"<p:graphicFrame><a:graphic><a:graphicData><dgm:relIds xmlns:dgm="{DGM}" r:dm="rId7"/></a:graphicData></a:graphic></p:graphicFrame>"#
        );
        let mut parts = deck_parts(
            &[(
                "Hiring",
                &format!("{}{frame}", sp("", &para("Three steps:", ""))),
                None,
            )],
            &[0],
            &[],
        );
        let point = |kind: &str, t: &str| {
            format!(
                r#"<dgm:pt modelId="1"{kind}><dgm:t><a:bodyPr/><a:p><a:r><a:t>{t}</a:t></a:r></a:p></dgm:t></dgm:pt>"#
            )
        };
        let data = format!(
            r#"<dgm:dataModel xmlns:dgm="{DGM}" xmlns:a="{A}"><dgm:ptLst>{}{}{}{}</dgm:ptLst></dgm:dataModel>"#,
            point(r#" type="doc""#, ""),
            point("", "Screen"),
            point(r#" type="parTrans""#, "connector"),
            point(r#" type="node""#, "Interview"),
        );
        parts.push((
            "ppt/slides/_rels/slide1.xml.rels".into(),
            r#"<Relationships><Relationship Id="rId7" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/diagramData" Target="../diagrams/data1.xml"/></Relationships>"#.into(),
        ));
        parts.push(("ppt/diagrams/data1.xml".into(), data));
        assert_eq!(
            markdown(&zipped(&parts)).unwrap().text,
            "## Hiring\n\nThree steps:\n\n- Screen\n- Interview\n\n"
        );
    }

    /// A deck of one slide of `shapes` whose relationships `rId0`… name
    /// `names` times the one diagram part of one point, `point`.
    fn diagram_deck(shapes: &str, names: usize, point: &str) -> Vec<u8> {
        let mut parts = deck_parts(&[("Org", shapes, None)], &[0], &[]);
        let rels: String = (0..names)
            .map(|i| format!(r#"<Relationship Id="rId{i}" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/diagramData" Target="../diagrams/data1.xml"/>"#))
            .collect();
        parts.push((
            "ppt/slides/_rels/slide1.xml.rels".into(),
            format!("<Relationships>{rels}</Relationships>"),
        ));
        parts.push((
            "ppt/diagrams/data1.xml".into(),
            format!(
                r#"<dgm:dataModel xmlns:dgm="{DGM}" xmlns:a="{A}"><dgm:ptLst><dgm:pt><dgm:t><a:p><a:r><a:t>{point}</a:t></a:r></a:p></dgm:t></dgm:pt></dgm:ptLst></dgm:dataModel>"#
            ),
        ));
        zipped(&parts)
    }

    /// A frame showing the diagram the slide names `rId0`.
    fn diagram_frame() -> String {
        format!(
            r#"<p:graphicFrame><a:graphic><a:graphicData><dgm:relIds xmlns:dgm="{DGM}" r:dm="rId0"/></a:graphicData></a:graphic></p:graphicFrame>"#
        )
    }

    #[test]
    fn a_diagram_part_named_many_times_is_read_once() {
        let point = "Board".repeat(400);
        let bytes = diagram_deck(&diagram_frame(), 200, &point);
        // Two hundred names of a 2 KB part are 400 KB read if read for each.
        let got = markdown_within(&bytes, 50_000).unwrap();
        assert_eq!(got.text, format!("## Org\n\n- {point}\n\n"));
        // Parts read up to the budget, each charged as it is read.
        assert_eq!(
            markdown_within(&bytes, 2_000).unwrap_err(),
            "a deck whose slides, notes and diagrams unpack to over 64 MB: not read"
        );
    }

    #[test]
    fn diagrams_and_merged_cells_copy_their_text_within_one_budget() {
        let big = "lorem ipsum ".repeat(90_000);
        let merged_down = |rows: usize| {
            format!(
                r#"<p:graphicFrame><a:graphic><a:graphicData><a:tbl><a:tr><a:tc><a:txBody><a:p><a:r><a:t>{big}</a:t></a:r></a:p></a:txBody></a:tc></a:tr>{}</a:tbl></a:graphicData></a:graphic></p:graphicFrame>"#,
                r#"<a:tr><a:tc vMerge="1"/></a:tr>"#.repeat(rows)
            )
        };
        // (frames showing a 1 MB diagram, rows a 1 MB cell is merged down)
        for (frames, rows) in [(70, 0), (0, 70), (35, 35)] {
            let shapes = format!("{}{}", diagram_frame().repeat(frames), merged_down(rows));
            let bytes = diagram_deck(&shapes, 1, &big);
            assert!(bytes.len() < 50_000, "{} bytes", bytes.len());
            let started = std::time::Instant::now();
            assert_eq!(
                markdown(&bytes).map(|c| c.text.len()),
                Err(
                    "a PowerPoint deck of over 64 MB of text in its tables and diagrams: not read"
                        .into()
                ),
                "{frames} frames, {rows} rows"
            );
            assert!(started.elapsed().as_secs() < 30, "{:?}", started.elapsed());
        }
    }

    #[test]
    fn what_is_not_a_deck_is_a_problem() {
        for bytes in [&b""[..], b"PK\x03\x04 truncated", b"%PDF-1.5"] {
            let err = markdown(bytes).unwrap_err();
            assert!(err.starts_with("not a PowerPoint deck"), "{err}");
        }
        let word = super::super::docx::tests::docx(&[("word/document.xml", "<x/>")]);
        assert_eq!(
            markdown(&word).unwrap_err(),
            "not a PowerPoint deck: it has no ppt/presentation.xml"
        );
    }

    #[test]
    fn targets_resolve_from_the_part_that_names_them() {
        // (folder, target, part)
        let table = [
            ("ppt", "slides/slide1.xml", "ppt/slides/slide1.xml"),
            (
                "ppt/slides",
                "../notesSlides/notesSlide1.xml",
                "ppt/notesSlides/notesSlide1.xml",
            ),
            (
                "ppt/slides",
                "/ppt/slides/slide9.xml",
                "ppt/slides/slide9.xml",
            ),
            ("ppt", "../../../etc/passwd", "etc/passwd"),
        ];
        for (folder, target, want) in table {
            assert_eq!(resolve(folder, target), want, "{folder} {target}");
        }
    }
}
