//! PDF documents → Markdown, which the Markdown reader then reads as any page.
//! A PDF holds positioned text, not paragraphs: the text of each page is read
//! in reading order (pdf-extract), and what a reader sees is rebuilt from it.
//! A gap between lines ends a paragraph; the lines of one paragraph are joined
//! (a line ending in a hyphen joined to the next without a space: office suites
//! do not hyphenate, so "well-" "known" is "well-known"); a numbered line of its own
//! ("2.3 Travel expenses") followed by text is a heading, at the depth of its
//! number, when the document numbers at least two sections as an outline does
//! (see [`Headings`]); a document that does not is cited by page ("Page 4").
//! What repeats at the top or bottom of most pages (a running title, "Page 3
//! of 9") and a page's own number are page furniture, not text. The title is
//! the file's name (a PDF's own title field is often its authoring tool's, such
//! as "Microsoft Word - draft3.docx"). A PDF that cannot be read (encrypted,
//! damaged, a page tree that loops, too large, no text at all as in a scan, or
//! one that makes the reader fail) is a problem, never a crash. A page the
//! reader panics on is left out, its panic caught and kept off stderr (a
//! debug log line says what it was, see [`quiet_page_panics`]).

use std::cell::Cell;
use std::collections::HashMap;
use std::rc::Rc;

use super::docx::escape;

/// Most pages of one document read.
const MAX_PAGES: usize = 5_000;
/// Largest document read, in bytes.
const MAX_BYTES: usize = 64 << 20;
/// Most `Parent` links followed up a page tree: deeper is a loop.
const MAX_TREE_DEPTH: usize = 64;
/// Longest line, in characters, that may be a numbered heading.
const MAX_HEADING_CHARS: usize = 80;
/// Most words of a numbered heading.
const MAX_HEADING_WORDS: usize = 10;

pub(crate) use super::Converted;

/// The PDF document `bytes` as Markdown, or why it cannot be read.
pub(crate) fn markdown(bytes: &[u8]) -> Result<Converted, String> {
    let unreadable = |why: String| format!("not a readable PDF document: {why}");
    if bytes.len() > MAX_BYTES {
        return Err(format!(
            "a PDF of more than {} MB: not read",
            MAX_BYTES >> 20
        ));
    }
    // Parsed once, and checked before the text is read: the reader follows a
    // page's `Parent` links without a bound (a loop overflows the stack, which
    // no catch_unwind survives).
    let mut doc = lopdf::Document::load_mem(bytes).map_err(|e| unreadable(e.to_string()))?;
    // Documents encrypted with an empty password (permissions only) read as
    // pdf-extract reads them; others are a problem.
    if doc.is_encrypted() {
        doc.decrypt("").map_err(|e| unreadable(e.to_string()))?;
    }
    let count = doc.get_pages().len();
    if count > MAX_PAGES {
        return Err(format!("a PDF of more than {MAX_PAGES} pages: not read"));
    }
    looped_page_tree(&doc).map_err(unreadable)?;
    // The reader panics on some malformed pages (a font the page names but
    // does not have) and fails on others: such a page costs its own text, not
    // the document's, nor the reload. Its place is kept empty, so later pages
    // keep their numbers, which citations name.
    let mut pages = Vec::with_capacity(count);
    let mut unread = Vec::new();
    let ids = doc.get_pages();
    let mut forms = Forms::new(&doc);
    for n in 1..=count as u32 {
        // Drawn forms that loop overflow the reader's stack, which no
        // catch_unwind survives: such a page is not read at all.
        if ids.get(&n).is_none_or(|&id| !forms.bounded(id)) {
            unread.push(n as usize);
            pages.push(String::new());
            continue;
        }
        match read_page(&doc, n) {
            Ok(text) => pages.push(text),
            Err(why) => {
                tracing::debug!("PDF page {n} not read: {why}");
                unread.push(n as usize);
                pages.push(String::new());
            }
        }
    }
    if count > 0 && unread.len() == count {
        return Err(unreadable("the reader failed on every page".into()));
    }
    if pages.iter().all(|p| p.trim().is_empty()) {
        return Err("a PDF with no text (a scan holds only pictures of it): not read".into());
    }
    Ok(Converted {
        unread,
        ..from_pages(&pages)
    })
}

/// The text of page `n` of `doc` as the reader reads it, or why it cannot be
/// read (what the reader's panic said, and where, when it panicked).
fn read_page(doc: &lopdf::Document, n: u32) -> Result<String, String> {
    quiet_page_panics();
    // Only this page's panic is this page's reason.
    PAGE_PANIC.take();
    let reading = ReadingPage::start();
    // Unwind-safe in fact: the reader only borrows the document.
    let read = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let mut text = String::new();
        let mut out = pdf_extract::PlainTextOutput::new(&mut text);
        pdf_extract::output_doc_page(doc, &mut out, n).map(|()| text)
    }));
    drop(reading);
    match read {
        Ok(Ok(text)) => Ok(text),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => {
            let said = PAGE_PANIC.take().unwrap_or_else(|| "(not kept)".into());
            Err(format!("the reader panicked: {said}"))
        }
    }
}

thread_local! {
    /// Whether this thread is reading a PDF page, whose panics are caught
    /// ([`quiet_page_panics`]).
    static READING_PAGE: Cell<bool> = const { Cell::new(false) };
    /// What the page reader's last panic on this thread said, and where.
    static PAGE_PANIC: Cell<Option<String>> = const { Cell::new(None) };
}

/// A panic hook, as `std::panic::set_hook` takes one.
type Hook = Box<dyn Fn(&std::panic::PanicHookInfo<'_>) + Sync + Send + 'static>;

/// Keeps the page reader's panics out of stderr: they are caught and the
/// page left out is a problem `citebot check` names, so the default hook's
/// "thread '…' panicked at …" for each bad page was noise in check's output
/// and the bot's log. Every other panic goes to the hook set before, as it
/// did. Installed once, before the first page is read.
fn quiet_page_panics() {
    static INSTALL: std::sync::Once = std::sync::Once::new();
    INSTALL.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(quiet(previous));
    });
}

/// The hook that keeps what a panic of the page reader said for its page's
/// log line ([`PAGE_PANIC`]), and hands any other panic to `previous`.
fn quiet(previous: Hook) -> Hook {
    Box::new(move |info| {
        if !READING_PAGE.get() {
            return previous(info);
        }
        let said = info.payload_as_str().unwrap_or("(no message)");
        let at = info.location().map(|l| format!(" at {l}"));
        PAGE_PANIC.set(Some(format!("{said}{}", at.unwrap_or_default())));
    })
}

/// Marks this thread as reading a page while it lives; dropping it, when
/// unwinding too, restores the mark as it was.
struct ReadingPage {
    was: bool,
}

impl ReadingPage {
    fn start() -> ReadingPage {
        ReadingPage {
            was: READING_PAGE.replace(true),
        }
    }
}

impl Drop for ReadingPage {
    fn drop(&mut self) {
        READING_PAGE.set(self.was);
    }
}

/// Most forms (XObjects) drawn inside one another that a page may have.
const MAX_FORM_DEPTH: usize = 32;
/// Most steps spent checking one page's forms.
const MAX_FORM_STEPS: usize = 100_000;

/// Checks, before the reader draws a page, that the forms it draws end: the
/// reader follows `Do` without a bound, so a form that draws itself
/// overflows its stack.
struct Forms<'d> {
    doc: &'d lopdf::Document,
    /// The forms each stream draws, by the stream: decoded once per document
    /// (pages share their resources).
    drawn: HashMap<lopdf::ObjectId, Rc<[Vec<u8>]>>,
}

impl<'d> Forms<'d> {
    fn new(doc: &'d lopdf::Document) -> Self {
        Forms {
            doc,
            drawn: HashMap::new(),
        }
    }

    /// Whether the forms page `page` draws (`Do` in its content, within its
    /// resources, its own or the nearest ancestor's as the reader finds
    /// them) end within [`MAX_FORM_DEPTH`] and [`MAX_FORM_STEPS`] steps.
    fn bounded(&mut self, page: lopdf::ObjectId) -> bool {
        let Some(resources) = inherited_resources(self.doc, page) else {
            return true;
        };
        let content = self.doc.get_page_content(page).unwrap_or_default();
        let drawn = drawn_by(&content);
        let mut steps = 0;
        self.end(resources, &drawn, &mut Vec::new(), 0, &mut steps)
    }

    /// Whether the forms `drawn` of those `resources` names end: none draws
    /// one of `path` (the forms drawing it, `depth` of them with those
    /// written in place) and none lies deeper than [`MAX_FORM_DEPTH`].
    fn end(
        &mut self,
        resources: &'d lopdf::Dictionary,
        drawn: &[Vec<u8>],
        path: &mut Vec<lopdf::ObjectId>,
        depth: usize,
        steps: &mut usize,
    ) -> bool {
        let doc = self.doc;
        let Some(forms) = resources.get(b"XObject").ok().and_then(|x| dict_of(doc, x)) else {
            return true;
        };
        for (_, form) in forms.iter().filter(|(name, _)| drawn.contains(name)) {
            *steps += 1;
            if *steps > MAX_FORM_STEPS || depth >= MAX_FORM_DEPTH {
                return false;
            }
            let (id, stream) = match form {
                lopdf::Object::Reference(id) => {
                    match doc.get_object(*id).and_then(lopdf::Object::as_stream) {
                        Ok(s) => (Some(*id), s),
                        Err(_) => continue,
                    }
                }
                lopdf::Object::Stream(s) => (None, s),
                _ => continue,
            };
            if id.is_some_and(|id| path.contains(&id)) {
                return false;
            }
            let names = match id {
                Some(id) => (self.drawn.entry(id))
                    .or_insert_with(|| drawn_by(&stream_bytes(stream)).into())
                    .clone(),
                None => drawn_by(&stream_bytes(stream)).into(),
            };
            // A form without resources of its own draws with its drawer's.
            let own = stream.dict.get(b"Resources").ok();
            let within = own.and_then(|r| dict_of(doc, r)).unwrap_or(resources);
            path.extend(id);
            let ends = self.end(within, &names, path, depth + 1, steps);
            if id.is_some() {
                path.pop();
            }
            if !ends {
                return false;
            }
        }
        true
    }
}

/// A page's resources, its own or the nearest of its ancestors', as the
/// reader finds them.
fn inherited_resources(doc: &lopdf::Document, page: lopdf::ObjectId) -> Option<&lopdf::Dictionary> {
    let mut at = doc.get_dictionary(page).ok();
    // The page tree is known not to loop ([`looped_page_tree`]).
    for _ in 0..=MAX_TREE_DEPTH {
        let dict = at?;
        if let Ok(r) = dict.get(b"Resources") {
            return dict_of(doc, r);
        }
        at = dict
            .get(b"Parent")
            .and_then(lopdf::Object::as_reference)
            .and_then(|id| doc.get_dictionary(id))
            .ok();
    }
    None
}

/// `object` as a dictionary, through a reference if it is one.
fn dict_of<'d>(
    doc: &'d lopdf::Document,
    object: &'d lopdf::Object,
) -> Option<&'d lopdf::Dictionary> {
    match object {
        lopdf::Object::Reference(id) => doc.get_dictionary(*id).ok(),
        o => o.as_dict().ok(),
    }
}

/// A stream's content, unpacked when it can be, as the reader reads it.
fn stream_bytes(stream: &lopdf::Stream) -> Vec<u8> {
    stream
        .decompressed_content()
        .unwrap_or_else(|_| stream.content.clone())
}

/// The names of the forms (XObjects) `content` draws (`Do`).
fn drawn_by(content: &[u8]) -> Vec<Vec<u8>> {
    let Ok(content) = lopdf::content::Content::decode(content) else {
        return Vec::new();
    };
    let mut names: Vec<Vec<u8>> = content
        .operations
        .iter()
        .filter(|op| op.operator == "Do")
        .filter_map(|op| op.operands.first()?.as_name().ok().map(<[u8]>::to_vec))
        .collect();
    names.sort_unstable();
    names.dedup();
    names
}

/// An error when some object's chain of `Parent` links loops or runs deeper
/// than [`MAX_TREE_DEPTH`].
fn looped_page_tree(doc: &lopdf::Document) -> Result<(), String> {
    for object in doc.objects.values() {
        let mut at = object.as_dict().ok();
        let mut depth = 0;
        while let Some(parent) = at.and_then(|d| d.get(b"Parent").ok()) {
            depth += 1;
            if depth > MAX_TREE_DEPTH {
                return Err("its page tree loops".into());
            }
            at = parent
                .as_reference()
                .ok()
                .and_then(|id| doc.get_object(id).ok())
                .and_then(|o| o.as_dict().ok());
        }
    }
    Ok(())
}

/// Markdown of a document whose pages hold `pages`' text, as extracted: lines,
/// with a blank line between paragraphs.
pub(crate) fn from_pages(pages: &[String]) -> Converted {
    let pages: Vec<Vec<Vec<&str>>> = pages.iter().map(|p| paragraphs(p)).collect();
    let furniture = Furniture::of(&pages);
    let headings = Headings::of(&pages, &furniture);
    let mut out = String::new();
    let mut on_page = Vec::new();
    for (n, page) in pages.iter().enumerate() {
        // Each page's text ends in a blank line: its lines are counted whole.
        let before = out.len();
        if headings.none() {
            out.push_str(&format!("## Page {}\n\n", n + 1));
        }
        for (i, paragraph) in page.iter().enumerate() {
            if furniture.is(page, n, i) {
                continue;
            }
            match headings.level(n, i) {
                Some(level) => {
                    let hashes = "#".repeat(level + 1);
                    out.push_str(&format!("{hashes} {}\n\n", escape(paragraph[0])));
                }
                None => {
                    out.push_str(&block(paragraph));
                    out.push_str("\n\n");
                }
            }
        }
        let lines = out[before..].matches('\n').count();
        on_page.extend(std::iter::repeat_n(n + 1, lines));
    }
    Converted {
        text: out,
        pages: on_page,
        unread: Vec::new(),
    }
}

/// The paragraphs that are numbered headings, by page and place. A document
/// has them when it numbers at least two sections as an outline does: a
/// numbered line followed by text or by a deeper one ("2 Setup" before "2.1
/// Install"), not after one of its own depth (numbered lines of one depth in a
/// row are a list: "1. Open the app", "2. Tap Settings"), its first number
/// never going back ("3 Leave" may follow "2.4 Travel"; a "1" after "3" is a
/// list's).
struct Headings {
    levels: HashMap<(usize, usize), usize>,
}

impl Headings {
    fn of(pages: &[Vec<Vec<&str>>], furniture: &Furniture) -> Headings {
        // The text's paragraphs in order, with where they are.
        let text: Vec<(usize, usize, &Vec<&str>)> = (pages.iter().enumerate())
            .flat_map(|(n, page)| page.iter().enumerate().map(move |(i, p)| (n, i, p)))
            .filter(|(n, i, _)| !furniture.is(&pages[*n], *n, *i))
            .collect();
        let numbered: Vec<Option<(usize, u32)>> =
            text.iter().map(|(_, _, p)| numbered_heading(p)).collect();
        let mut levels = HashMap::new();
        let mut last_top = 0;
        for (k, &(n, i, _)) in text.iter().enumerate() {
            let Some((level, top)) = numbered[k] else {
                continue;
            };
            let after_its_like = k > 0 && numbered[k - 1].is_some_and(|(l, _)| l == level);
            let followed = match numbered.get(k + 1) {
                Some(None) => true,
                Some(Some((next, _))) => *next > level,
                None => false,
            };
            if after_its_like || !followed || top < last_top {
                continue;
            }
            last_top = top;
            levels.insert((n, i), level);
        }
        if levels.len() < 2 {
            levels.clear();
        }
        Headings { levels }
    }

    /// Whether the document numbers no sections (it is cited by page).
    fn none(&self) -> bool {
        self.levels.is_empty()
    }

    /// The depth of the heading that is paragraph `i` of page `n`, if it is one.
    fn level(&self, n: usize, i: usize) -> Option<usize> {
        self.levels.get(&(n, i)).copied()
    }
}

/// A page's paragraphs, each its lines (trimmed, none empty): a blank line
/// ends one. Control characters a font's encoding left are dropped.
fn paragraphs(page: &str) -> Vec<Vec<&str>> {
    let mut out: Vec<Vec<&str>> = Vec::new();
    let mut current: Vec<&str> = Vec::new();
    for line in page.lines() {
        let line = line.trim_matches(|c: char| c.is_whitespace() || c.is_control());
        if line.is_empty() {
            if !current.is_empty() {
                out.push(std::mem::take(&mut current));
            }
        } else {
            current.push(line);
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// The depth and first number of a line that may be a numbered heading ("3
/// Leave": 1 and 3, "3.2. Sick leave": 2 and 3): one short line that does not
/// end as a sentence does nor in a number (a table of contents' page), a section number (parts of one or two digits, none
/// starting with 0: "2019", "12.03." and "9.05" are no sections) then a
/// capitalised word.
fn numbered_heading(paragraph: &[&str]) -> Option<(usize, u32)> {
    let [line] = paragraph else {
        return None;
    };
    if line.chars().count() > MAX_HEADING_CHARS
        || line.split_whitespace().count() > MAX_HEADING_WORDS
        || line.ends_with(['.', ',', ';', ':'])
        || line.ends_with(|c: char| c.is_ascii_digit())
    {
        return None;
    }
    let (number, title) = line.split_once(char::is_whitespace)?;
    let parts: Vec<&str> = number.trim_end_matches('.').split('.').collect();
    let numeric = parts.iter().all(|p| {
        (1..=2).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit()) && !p.starts_with('0')
    });
    let capitalised = title
        .trim_start()
        .chars()
        .next()
        .is_some_and(char::is_uppercase);
    if !(numeric && capitalised && parts.len() <= 5) {
        return None;
    }
    Some((parts.len(), parts[0].parse().ok()?))
}

/// A paragraph's lines as one Markdown block: joined with spaces (after a
/// hyphen, with none), a bulleted line a list item.
fn block(lines: &[&str]) -> String {
    let mut text = String::new();
    for line in lines {
        if !text.is_empty() && !text.ends_with('-') {
            text.push(' ');
        }
        text.push_str(line);
    }
    match text.strip_prefix(['•', '◦', '▪', '‣', '–']) {
        Some(item) => format!("- {}", escape(item.trim_start())),
        None => escape(&text),
    }
}

/// The first and last paragraphs that repeat on most pages: a running title
/// or footer, and page numbers.
struct Furniture {
    top: HashMap<String, usize>,
    bottom: HashMap<String, usize>,
    pages: usize,
}

impl Furniture {
    fn of(pages: &[Vec<Vec<&str>>]) -> Furniture {
        let mut top: HashMap<String, usize> = HashMap::new();
        let mut bottom: HashMap<String, usize> = HashMap::new();
        for (n, page) in pages.iter().enumerate() {
            if let Some(first) = page.first() {
                *top.entry(shape(first, n)).or_default() += 1;
            }
            if let Some(last) = page.last() {
                *bottom.entry(shape(last, n)).or_default() += 1;
            }
        }
        Furniture {
            top,
            bottom,
            pages: pages.len(),
        }
    }

    /// Whether paragraph `i` of `page`, the `n`th, is furniture: its first or
    /// last paragraph repeating on most pages, or its last being its number.
    fn is(&self, page: &[Vec<&str>], n: usize, i: usize) -> bool {
        let paragraph = &page[i];
        let first = i == 0 && self.repeats(&self.top, paragraph, n);
        let last = i + 1 == page.len()
            && (self.repeats(&self.bottom, paragraph, n) || self.page_number(paragraph, n));
        first || last
    }

    /// A number alone near the page's own (a cover page may go unnumbered).
    fn page_number(&self, paragraph: &[&str], n: usize) -> bool {
        let [line] = paragraph else {
            return false;
        };
        let number = line.parse::<usize>().ok();
        self.pages > 1 && number.is_some_and(|k| k.abs_diff(n + 1) <= 2)
    }

    fn repeats(&self, seen: &HashMap<String, usize>, paragraph: &[&str], n: usize) -> bool {
        let times = seen.get(&shape(paragraph, n)).copied().unwrap_or(0);
        self.pages >= 3 && times * 2 >= self.pages && times >= 3
    }
}

/// A paragraph of page `n` with that page's number (its first) as `#`: "Page 3 of 9" and
/// "Page 4 of 9" are one running footer; "Release 1.2" and "Release 1.3" two.
fn shape(paragraph: &[&str], n: usize) -> String {
    let page = (n + 1).to_string();
    let text = paragraph.join("\n");
    let mut out = String::with_capacity(text.len());
    let mut rest = text.as_str();
    while let Some(at) = rest.find(|c: char| c.is_ascii_digit()) {
        out.push_str(&rest[..at]);
        let digits = rest[at..].len()
            - rest[at..]
                .trim_start_matches(|c: char| c.is_ascii_digit())
                .len();
        let number = &rest[at..at + digits];
        // Only the first: "Page 3 of 3" is "Page # of 3" as "Page 2 of 3" is.
        let first = number == page && !out.contains('#');
        out.push_str(if first { "#" } else { number });
        rest = &rest[at + digits..];
    }
    out.push_str(rest);
    out
}

/// A PDF document of `pages`, each its paragraphs, each its lines, set in
/// Helvetica with a gap between paragraphs: what tests read (a real document,
/// as an office suite's export is, for the reader that reads those).
pub fn written(pages: &[&[&[&str]]]) -> Vec<u8> {
    use lopdf::content::{Content, Operation};
    use lopdf::{Document, Object, Stream, dictionary};

    let mut doc = Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let font = doc.add_object(dictionary! {
        "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica",
    });
    let resources = doc.add_object(dictionary! { "Font" => dictionary! { "F1" => font } });
    let mut kids: Vec<Object> = Vec::new();
    for paragraphs in pages {
        let mut ops = vec![
            Operation::new("BT", vec![]),
            Operation::new("Tf", vec!["F1".into(), 11.into()]),
            Operation::new("Td", vec![72.into(), 780.into()]),
        ];
        for lines in *paragraphs {
            ops.push(Operation::new("Td", vec![0.into(), (-12).into()]));
            for line in *lines {
                ops.push(Operation::new("Td", vec![0.into(), (-14).into()]));
                ops.push(Operation::new("Tj", vec![Object::string_literal(*line)]));
            }
        }
        ops.push(Operation::new("ET", vec![]));
        let content = Content { operations: ops }
            .encode()
            .expect("text operations encode");
        let content = doc.add_object(Stream::new(dictionary! {}, content));
        kids.push(
            doc.add_object(dictionary! {
                "Type" => "Page", "Parent" => pages_id, "Contents" => content,
            })
            .into(),
        );
    }
    let count = kids.len() as i64;
    doc.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! {
            "Type" => "Pages", "Kids" => kids, "Count" => count, "Resources" => resources,
            "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
        }),
    );
    let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog);
    let mut out = Vec::new();
    doc.save_to(&mut out).expect("a document saves to memory");
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) use super::written as pdf;

    #[test]
    fn a_pdf_documents_pages_are_read_in_order() {
        let bytes = pdf(&[
            &[
                &["1. Leave"],
                &["Everyone gets thirty days of", "paid leave a year."],
            ],
            &[&["2. Expenses"], &["Receipts go to finance."]],
        ]);
        let got = markdown(&bytes).unwrap();
        assert_eq!(
            got.text,
            "## 1\\. Leave\n\nEveryone gets thirty days of paid leave a year.\n\n\
             ## 2\\. Expenses\n\nReceipts go to finance.\n\n"
        );
        // The page of each line: the second section starts on page 2.
        assert_eq!(got.pages, [1, 1, 1, 1, 2, 2, 2, 2]);
    }

    #[test]
    fn pages_become_paragraphs_headings_and_items() {
        let page = |n: usize, body: &str| format!("\n\nStaff handbook\n\n{body}\n\n{n}\n");
        // (pages, Markdown)
        let table: &[(&[&str], &str)] = &[
            (
                // Numbered sections are headings; running title and page numbers go.
                &[
                    "1. Leave\n\nEveryone gets thirty days of paid leave a\nyear, booked in the HR tool.",
                    "1.1 Carry-over\n\nUp to five days carry over to the next year\nif they are booked be-\nfore March.\n\n• Ask your manager first.",
                    "2 Expenses\n\nReceipts go to *finance* within 30 days.",
                ],
                "## 1\\. Leave\n\nEveryone gets thirty days of paid leave a year, booked in the HR tool.\n\n\
                 ### 1\\.1 Carry\\-over\n\nUp to five days carry over to the next year if they are booked be\\-fore March.\n\n\
                 - Ask your manager first.\n\n\
                 ## 2 Expenses\n\nReceipts go to \\*finance\\* within 30 days.\n\n",
            ),
            (
                // No numbered sections: each page is cited by its number; a
                // year (four digits) or a sentence opening with a figure is no
                // section heading.
                &[
                    "2019 Results\n\nSales grew.",
                    "3 Mbps is the minimum.\n\nAsk IT.",
                    "Well-\nknown tools only.",
                ],
                "## Page 1\n\n2019 Results\n\nSales grew.\n\n\
                 ## Page 2\n\n3 Mbps is the minimum.\n\nAsk IT.\n\n\
                 ## Page 3\n\nWell\\-known tools only.\n\n",
            ),
        ];
        for (bodies, want) in table {
            let pages: Vec<String> = (bodies.iter().enumerate())
                .map(|(i, b)| page(i + 1, b))
                .collect();
            assert_eq!(from_pages(&pages).text, *want, "{bodies:?}");
        }
    }

    #[test]
    fn a_page_of_its_own_keeps_its_first_and_last_lines() {
        // One page: nothing repeats, so nothing is furniture.
        let got = from_pages(&["Staff handbook\n\nThe office opens at nine.\n\n1".to_string()]);
        assert_eq!(
            got.text,
            "## Page 1\n\nStaff handbook\n\nThe office opens at nine.\n\n1\n\n"
        );
    }

    /// `bytes` with the content of page `n` replaced by `content`.
    pub(crate) fn with_page(bytes: &[u8], n: u32, content: &[u8]) -> Vec<u8> {
        let mut doc = lopdf::Document::load_mem(bytes).unwrap();
        let page = doc.get_pages()[&n];
        let stream = lopdf::Stream::new(lopdf::dictionary! {}, content.to_vec());
        let c = doc.add_object(stream);
        if let Ok(lopdf::Object::Dictionary(d)) = doc.get_object_mut(page) {
            d.set("Contents", c);
        }
        let mut out = Vec::new();
        doc.save_to(&mut out).unwrap();
        out
    }

    #[test]
    fn a_page_the_reader_cannot_read_costs_only_its_own_text() {
        let good = written(&[&[&["One."]], &[&["Two."]], &[&["Three."]]]);
        // (page 2's content, what the reader does with it)
        let table: &[(&[u8], &str)] = &[
            (b"BT /F9 11 Tf 72 700 Td (Two.) Tj ET", "panics: no font F9"),
            (b"BT /F1 Tf Tj Td ET", "panics: operators without operands"),
        ];
        for (content, why) in table {
            let got = markdown(&with_page(&good, 2, content)).unwrap();
            assert_eq!(
                got.text, "## Page 1\n\nOne.\n\n## Page 2\n\n## Page 3\n\nThree.\n\n",
                "{why}"
            );
            assert_eq!(got.unread, [2], "{why}");
            // Page 3 is still cited as page 3.
            assert_eq!(got.pages.last(), Some(&3), "{why}");
        }
        // Every page unread: the document is.
        let mut bad = good;
        for n in 1..=3 {
            bad = with_page(&bad, n, table[0].0);
        }
        assert_eq!(
            markdown(&bad).unwrap_err(),
            "not a readable PDF document: the reader failed on every page"
        );
    }

    #[test]
    fn the_readers_panics_are_quiet_and_others_reach_the_hook_set_before() {
        thread_local! {
            // Tests run side by side: each thread counts its own panics.
            static SEEN: Cell<usize> = const { Cell::new(0) };
        }
        // A counting hook under a quiet one, as `quiet_page_panics` sets its
        // own over the hook before it. That one lies above or below these
        // (whichever test reads a page first installs it): either way this
        // thread's panics meet a quiet hook before the counting one. Left in
        // place: other threads' panics pass both as before.
        let before = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            SEEN.set(SEEN.get() + 1);
            before(info);
        }));
        std::panic::set_hook(quiet(std::panic::take_hook()));

        let good = written(&[&[&["One."]], &[&["Two."]]]);
        let bad = with_page(&good, 2, b"BT /F9 11 Tf 72 700 Td (Two.) Tj ET");
        let got = markdown(&bad).unwrap();
        assert_eq!(
            (got.unread, SEEN.get()),
            (vec![2], 0),
            "the reader's panic is quiet"
        );
        assert!(!READING_PAGE.get(), "not reading once read");
        // Its message is kept for the log, with where it was.
        let doc = lopdf::Document::load_mem(&bad).unwrap();
        let why = read_page(&doc, 2).unwrap_err();
        assert!(
            why.starts_with("the reader panicked: ") && why.contains(".rs:"),
            "{why}"
        );
        assert_eq!(read_page(&doc, 1).unwrap().trim(), "One.");

        // Any other panic reaches the hook set before.
        assert!(std::panic::catch_unwind(|| panic!("not reading")).is_err());
        assert_eq!(SEEN.get(), 1);
        // A panic that unwinds past the mark unmarks the thread.
        let reading = std::panic::catch_unwind(|| {
            let _reading = ReadingPage::start();
            panic!("reading");
        });
        assert!(reading.is_err());
        assert!(!READING_PAGE.get());
        assert_eq!(SEEN.get(), 1, "quiet while reading");
        assert!(std::panic::catch_unwind(|| panic!("not reading")).is_err());
        assert_eq!(SEEN.get(), 2);
    }

    #[test]
    fn a_page_whose_forms_draw_themselves_is_left_out_not_a_crash() {
        use lopdf::{Object, Stream, dictionary};
        let mut doc =
            lopdf::Document::load_mem(&written(&[&[&["One."]], &[&["Two."]], &[&["Three."]]]))
                .unwrap();
        let pages = doc.get_pages();
        let font = doc
            .get_object(pages[&1])
            .unwrap()
            .as_dict()
            .unwrap()
            .get(b"Parent")
            .cloned();
        let tree = font.unwrap().as_reference().unwrap();
        let fonts = doc
            .get_dictionary(tree)
            .unwrap()
            .get(b"Resources")
            .unwrap()
            .clone();
        let fonts = doc
            .get_dictionary(fonts.as_reference().unwrap())
            .unwrap()
            .get(b"Font")
            .unwrap()
            .clone();
        // Page 2 draws X1, which draws X1 (with its drawer's resources).
        let form = |content: &[u8], doc: &mut lopdf::Document| {
            let dict = dictionary! { "Type" => "XObject", "Subtype" => "Form", "BBox" => vec![0.into(), 0.into(), 595.into(), 842.into()] };
            doc.add_object(Stream::new(dict, content.to_vec()))
        };
        let looping = form(b"/X1 Do", &mut doc);
        // Page 3 draws X2, a form holding its text: read as ever.
        let text = form(b"BT /F1 11 Tf 72 700 Td (Three.) Tj ET", &mut doc);
        for (n, name, id, content) in [
            (2, "X1", looping, &b"/X1 Do"[..]),
            (3, "X2", text, &b"/X2 Do"[..]),
        ] {
            let c = doc.add_object(Stream::new(dictionary! {}, content.to_vec()));
            let resources =
                dictionary! { "Font" => fonts.clone(), "XObject" => dictionary! { name => id } };
            if let Ok(Object::Dictionary(d)) = doc.get_object_mut(pages[&n]) {
                d.set("Contents", c);
                d.set("Resources", resources);
            }
        }
        let mut bytes = Vec::new();
        doc.save_to(&mut bytes).unwrap();
        let got = markdown(&bytes).unwrap();
        assert_eq!(got.unread, [2]);
        assert_eq!(
            got.text,
            "## Page 1\n\nOne.\n\n## Page 2\n\n## Page 3\n\nThree.\n\n"
        );
    }

    #[test]
    fn what_is_not_a_pdf_is_a_problem() {
        for bytes in [&b""[..], b"%PDF-1.5\n garbage", b"PK\x03\x04 a zip"] {
            let err = markdown(bytes).unwrap_err();
            assert!(err.starts_with("not a readable PDF document"), "{err}");
        }
        // Pages with no text, as a scan's are.
        let err = markdown(&pdf(&[&[], &[]])).unwrap_err();
        assert!(err.starts_with("a PDF with no text"), "{err}");
        // A page tree whose `Parent` links loop.
        let mut doc = lopdf::Document::load_mem(&pdf(&[&[&["Text."]]])).unwrap();
        let page = *doc.get_pages().values().next().unwrap();
        let Ok(lopdf::Object::Reference(tree)) = doc
            .get_object(page)
            .unwrap()
            .as_dict()
            .unwrap()
            .get(b"Parent")
            .cloned()
        else {
            panic!("no parent");
        };
        if let Ok(lopdf::Object::Dictionary(d)) = doc.get_object_mut(tree) {
            d.set("Parent", page);
        }
        let mut bytes = Vec::new();
        doc.save_to(&mut bytes).unwrap();
        assert_eq!(
            markdown(&bytes).unwrap_err(),
            "not a readable PDF document: its page tree loops"
        );
    }

    #[test]
    fn lists_numbers_and_repeats_that_are_text_stay_text() {
        // (pages, Markdown)
        let table: &[(&[&str], &str)] = &[
            (
                // Numbered steps in a row are a list, not sections.
                &["Steps\n\n1. Open the app\n\n2. Tap Settings\n\n3 Save the form\n\nDone."],
                "## Page 1\n\nSteps\n\n1\\. Open the app\n\n2\\. Tap Settings\n\n3 Save the form\n\nDone.\n\n",
            ),
            (
                // A section followed by its subsection is a heading; numbering
                // that goes back is a list's; a table of contents' line (its
                // page at its end) is no heading.
                &[
                    "1 Intro 1\n\n1 Intro\n\n1.1 Scope\n\nHello.\n\n2 Setup\n\nInstall.\n\n1 Open\n\nClick.",
                ],
                "1 Intro 1\n\n## 1 Intro\n\n### 1\\.1 Scope\n\nHello.\n\n## 2 Setup\n\nInstall.\n\n1 Open\n\nClick.\n\n",
            ),
            (
                // A heading that changes with the page is text; "Page N of 3" is not.
                &[
                    "Release 1.2\n\nA.\n\nPage 1 of 3",
                    "Release 1.3\n\nB.\n\nPage 2 of 3",
                    "Release 1.4\n\nC.\n\nPage 3 of 3",
                ],
                "## Page 1\n\nRelease 1\\.2\n\nA.\n\n## Page 2\n\nRelease 1\\.3\n\nB.\n\n\
                 ## Page 3\n\nRelease 1\\.4\n\nC.\n\n",
            ),
        ];
        for (pages, want) in table {
            let pages: Vec<String> = pages.iter().map(|p| p.to_string()).collect();
            assert_eq!(from_pages(&pages).text, *want, "{pages:?}");
        }
    }
}
