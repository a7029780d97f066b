//! PDF documents → Markdown, which the Markdown reader then reads as any page.
//! A PDF holds positioned text, not paragraphs: the text of each page is read
//! in reading order (pdf-extract), and what a reader sees is rebuilt from it.
//! A gap between lines ends a paragraph; the lines of one paragraph are joined
//! (a line ending in a hyphen joined to the next without a space: office suites
//! do not hyphenate, so "well-" "known" is "well-known"); a numbered line of its own
//! ("2.3 Travel expenses") is a heading, at the depth of its number, when the
//! document numbers at least two; a document that numbers none is cited by page
//! ("Page 4"). What repeats at the top or bottom of most pages (a running
//! title, page numbers) is page furniture, not text. The title is the file's
//! name (a PDF's own title field is often its authoring tool's, such as
//! "Microsoft Word - draft3.docx"). A PDF that cannot be read (encrypted,
//! damaged, or one that makes the reader fail) is a problem, never a crash.

use std::collections::HashMap;

use super::docx::escape;

/// Most pages of one document read.
const MAX_PAGES: usize = 5_000;
/// Longest line, in characters, that may be a numbered heading.
const MAX_HEADING_CHARS: usize = 80;
/// Most words of a numbered heading.
const MAX_HEADING_WORDS: usize = 10;

/// The PDF document `bytes` as Markdown, or why it cannot be read.
pub(crate) fn markdown(bytes: &[u8]) -> Result<String, String> {
    // The reader has panicked on malformed documents: a bad file must cost
    // its own problem, not the reload.
    let pages = std::panic::catch_unwind(|| pdf_extract::extract_text_from_mem_by_pages(bytes))
        .map_err(|_| "not a readable PDF document".to_string())?
        .map_err(|e| format!("not a readable PDF document: {e}"))?;
    if pages.len() > MAX_PAGES {
        return Err(format!("a PDF of more than {MAX_PAGES} pages: not read"));
    }
    Ok(from_pages(&pages))
}

/// Markdown of a document whose pages hold `pages`' text, as extracted: lines,
/// with a blank line between paragraphs.
pub(crate) fn from_pages(pages: &[String]) -> String {
    let pages: Vec<Vec<Vec<&str>>> = pages.iter().map(|p| paragraphs(p)).collect();
    let furniture = Furniture::of(&pages);
    let numbered = pages
        .iter()
        .flatten()
        .filter(|p| heading_level(p).is_some())
        .count();
    let mut out = String::new();
    for (n, page) in pages.iter().enumerate() {
        if numbered < 2 {
            out.push_str(&format!("## Page {}\n\n", n + 1));
        }
        let last = page.len().saturating_sub(1);
        for (i, paragraph) in page.iter().enumerate() {
            if (i == 0 && furniture.top(paragraph)) || (i == last && furniture.bottom(paragraph)) {
                continue;
            }
            match heading_level(paragraph).filter(|_| numbered >= 2) {
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
    }
    out
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

/// The depth of a numbered heading ("3 Leave" 1, "3.2. Sick leave" 2), when
/// the paragraph is one: one short line, a section number of at most two
/// digits a part, then a capitalised word ("2019 Results" or "3 Mbps is the
/// minimum." are not).
fn heading_level(paragraph: &[&str]) -> Option<usize> {
    let [line] = paragraph else {
        return None;
    };
    if line.chars().count() > MAX_HEADING_CHARS
        || line.split_whitespace().count() > MAX_HEADING_WORDS
        || line.ends_with(['.', ',', ';', ':'])
    {
        return None;
    }
    let (number, title) = line.split_once(char::is_whitespace)?;
    let parts: Vec<&str> = number.trim_end_matches('.').split('.').collect();
    let numeric = parts
        .iter()
        .all(|p| (1..=2).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit()));
    let capitalised = title
        .trim_start()
        .chars()
        .next()
        .is_some_and(char::is_uppercase);
    (numeric && capitalised && parts.len() <= 5).then_some(parts.len())
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
        for page in pages {
            if let Some(first) = page.first() {
                *top.entry(shape(first)).or_default() += 1;
            }
            if let Some(last) = page.last() {
                *bottom.entry(shape(last)).or_default() += 1;
            }
        }
        Furniture {
            top,
            bottom,
            pages: pages.len(),
        }
    }

    /// Whether a page's first paragraph is furniture.
    fn top(&self, paragraph: &[&str]) -> bool {
        self.repeats(&self.top, paragraph)
    }

    /// Whether a page's last paragraph is furniture: also a page number alone.
    fn bottom(&self, paragraph: &[&str]) -> bool {
        let number = paragraph.len() == 1 && paragraph[0].bytes().all(|b| b.is_ascii_digit());
        (number && self.pages > 1) || self.repeats(&self.bottom, paragraph)
    }

    fn repeats(&self, seen: &HashMap<String, usize>, paragraph: &[&str]) -> bool {
        let times = seen.get(&shape(paragraph)).copied().unwrap_or(0);
        self.pages >= 3 && times * 2 >= self.pages && times >= 3
    }
}

/// A paragraph with its digits as `#`: "Page 3 of 9" and "Page 4 of 9" are one
/// running footer.
fn shape(paragraph: &[&str]) -> String {
    paragraph
        .join("\n")
        .chars()
        .map(|c| if c.is_ascii_digit() { '#' } else { c })
        .collect()
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use lopdf::content::{Content, Operation};
    use lopdf::{Document, Object, Stream, dictionary};

    /// A PDF document of `pages`, each its paragraphs, each its lines, set in
    /// Helvetica with a gap between paragraphs.
    pub(in crate::knowledge) fn pdf(pages: &[&[&[&str]]]) -> Vec<u8> {
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
            let content = Content { operations: ops }.encode().unwrap();
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
        doc.save_to(&mut out).unwrap();
        out
    }

    #[test]
    fn a_pdf_documents_pages_are_read_in_order() {
        let bytes = pdf(&[
            &[
                &["1. Leave"],
                &["Everyone gets thirty days of", "paid leave a year."],
            ],
            &[&["2. Expenses"], &["Receipts go to finance."]],
        ]);
        assert_eq!(
            markdown(&bytes).unwrap(),
            "## 1\\. Leave\n\nEveryone gets thirty days of paid leave a year.\n\n\
             ## 2\\. Expenses\n\nReceipts go to finance.\n\n"
        );
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
                // year or a figure opening a line is no section number.
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
            assert_eq!(from_pages(&pages), *want, "{bodies:?}");
        }
    }

    #[test]
    fn a_page_of_its_own_keeps_its_first_and_last_lines() {
        // One page: nothing repeats, so nothing is furniture.
        let got = from_pages(&["Staff handbook\n\nThe office opens at nine.\n\n1".to_string()]);
        assert_eq!(
            got,
            "## Page 1\n\nStaff handbook\n\nThe office opens at nine.\n\n1\n\n"
        );
    }

    #[test]
    fn what_is_not_a_pdf_is_a_problem() {
        for bytes in [&b""[..], b"%PDF-1.5\n garbage", b"PK\x03\x04 a zip"] {
            let err = markdown(bytes).unwrap_err();
            assert!(err.starts_with("not a readable PDF document"), "{err}");
        }
    }
}
