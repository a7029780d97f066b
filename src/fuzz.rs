//! Entry points for fuzzing: the parsers that read what people write (knowledge
//! files and synonyms, questions, the config), each taking arbitrary bytes and
//! checking the invariants the rest of the bot relies on. A panic is a finding.
//! `fuzz/` drives them with libFuzzer outside CI (`scripts/fuzz`); `cargo test`
//! replays their corpus and every crash found (`fuzz/corpus`, `fuzz/artifacts`).

use std::sync::OnceLock;

use crate::config::Config;
use crate::knowledge::{self, ParseOptions, Snippet};
use crate::search::{Answer, Engine, SearchSettings};

/// A fuzz target: arbitrary bytes in, a panic on a finding.
pub type Target = fn(&[u8]);

/// The fuzz targets, by the name of their corpus folder.
pub const TARGETS: &[(&str, Target)] = &[
    ("knowledge_file", knowledge_file),
    ("included", included),
    ("question", question),
    ("config", config),
];

/// One knowledge file: the first byte picks its kind (Markdown, HTML, text,
/// the synonyms file, reStructuredText, AsciiDoc, a Jupyter notebook, a Word
/// or PDF document, a PowerPoint deck, a CSV file, an Excel workbook, an
/// OpenDocument text, spreadsheet or presentation) and
/// strictness, the rest is its text (a document's bytes; for a PDF not
/// starting `%PDF`, its pages' text, split at form feeds).
pub fn knowledge_file(data: &[u8]) {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    // Bit 8 turns Markdown into reStructuredText, HTML into a Word document
    // (unpacked as citebot does), text into AsciiDoc and the synonyms file into
    // a notebook, so the corpus saved before those formats keeps its meaning
    // where bit 8 is clear.
    // Bit 16 turns the synonyms file into a PDF document. (The PDF reader's
    // own panics are caught and kept quiet by citebot, under libFuzzer's
    // panic hook too.)
    let pdf = pick % 4 == 3 && pick & 8 == 0 && pick & 16 != 0;
    // Bit 16 turns the Word document into a PowerPoint deck, text into CSV
    // and AsciiDoc into an Excel workbook; bit 32 the Word document into an
    // OpenDocument text, and the deck into an OpenDocument spreadsheet (with
    // bit 64 both into an OpenDocument presentation).
    let odf = pick % 4 == 1 && pick & 8 != 0 && pick & 32 != 0;
    let deck = pick % 4 == 1 && pick & 8 != 0 && pick & 16 != 0 && !odf;
    let sheet = pick % 4 == 2 && pick & 16 != 0;
    let Some(text) = document_text(pick, rest, [pdf, deck, sheet, odf]) else {
        return;
    };
    let name = match (pick % 4, pick & 8 != 0) {
        (2, false) if sheet => "page.csv",
        (2, true) if sheet => "page.xlsx",
        _ if odf && pick & 64 != 0 => "page.odp",
        _ if odf && pick & 16 != 0 => "page.ods",
        _ if odf => "page.odt",
        _ if pdf => "page.pdf",
        _ if deck => "page.pptx",
        (0, false) => "page.md",
        (0, true) => "page.rst",
        (1, false) => "page.html",
        (1, true) => "page.docx",
        (2, false) => "page.txt",
        (2, true) => "page.adoc",
        (3, true) => "page.ipynb",
        _ => "synonyms.toml",
    };
    if name == knowledge::SYNONYMS_FILE {
        let _ = knowledge::parse_synonyms(name, &text);
        return;
    }
    let options = ParseOptions {
        strict: pick & 4 != 0,
        ..ParseOptions::default()
    };
    if let Ok((info, snippets)) = knowledge::parse_file(name, "page", "", &text, &options) {
        assert_eq!(info.snippets, snippets.len(), "snippet count");
        snippets.iter().for_each(well_formed);
        // A citation names a line of the file (a Word document's: of the
        // Markdown made from it).
        let lines = text.lines().count().max(1);
        for s in &snippets {
            assert!(s.line <= lines, "line {} of a {lines}-line {name}", s.line);
        }
    }
}

/// A PDF's or deck's Markdown, once its page (slide) map is checked: one for
/// each of its lines, from the first on, never going back.
fn pages_checked(converted: knowledge::Converted) -> String {
    let pages = &converted.pages;
    assert_eq!(
        pages.len(),
        converted.text.lines().count(),
        "a page per line"
    );
    assert!(pages.first().is_none_or(|&p| p >= 1), "pages from 1");
    assert!(pages.windows(2).all(|w| w[0] <= w[1]), "pages in order");
    converted.text
}

/// The text [`knowledge_file`] parses: a document's Markdown once its place
/// map is checked (`None` when the reader refuses the document), or the
/// bytes themselves as text.
fn document_text(
    pick: u8,
    rest: &[u8],
    [pdf, deck, sheet, odf]: [bool; 4],
) -> Option<std::borrow::Cow<'_, str>> {
    let converted = if odf && pick & 64 != 0 {
        pages_checked(knowledge::odf::presentation(rest).ok()?)
    } else if odf && pick & 16 != 0 {
        rows_checked(knowledge::odf::spreadsheet(rest).ok()?)
    } else if odf {
        knowledge::odf::text_document(rest).ok()?
    } else if sheet && pick & 8 != 0 {
        rows_checked(knowledge::xlsx::markdown(rest).ok()?)
    } else if sheet {
        rows_checked(knowledge::sheet::csv(rest).ok()?)
    } else if deck {
        pages_checked(knowledge::pptx::markdown(rest).ok()?)
    } else if pick % 4 == 1 && pick & 8 != 0 {
        knowledge::docx::markdown(rest).ok()?
    } else if pdf && rest.starts_with(b"%PDF") {
        pages_checked(knowledge::pdf::markdown(rest).ok()?)
    } else if pdf {
        let text = String::from_utf8_lossy(rest);
        let pages: Vec<String> = text.split('\x0c').map(str::to_string).collect();
        pages_checked(knowledge::pdf::from_pages(&pages))
    } else {
        // As citebot reads a file (a byte-order mark's UTF-16, a legacy
        // encoding, an HTML page's charset); binary bytes still reach the parsers.
        let html = pick % 4 == 1;
        let text = knowledge::encoding::decode(rest, html);
        return Some(text.unwrap_or_else(|| String::from_utf8_lossy(rest)));
    };
    Some(std::borrow::Cow::Owned(converted))
}

/// A spreadsheet's Markdown, once its row map is checked: one for each of
/// its lines, each a row (a workbook's sheets each count from their own).
fn rows_checked(converted: knowledge::Converted) -> String {
    let rows = &converted.pages;
    assert_eq!(rows.len(), converted.text.lines().count(), "a row per line");
    assert!(rows.iter().all(|&r| r >= 1), "rows from 1");
    converted.text
}

/// One page whose include directives read from a folder of parts (prose that
/// includes more, code with anchors and Python objects, a file that includes
/// itself, a large file): the first byte picks reStructuredText or Markdown,
/// the rest is the page. Its passages must cite lines of the page, and nothing
/// outside the folder may be read.
pub fn included(data: &[u8]) {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let root = parts_folder();
    let name = if pick % 2 == 0 {
        "docs/page.rst"
    } else {
        "docs/page.md"
    };
    let text = String::from_utf8_lossy(rest);
    let page_lines = text.lines().count().max(1);
    let Some((files, snippets)) = knowledge::parse_with_includes(root, &root.join(name), &text)
    else {
        return;
    };
    let root = knowledge::absolute_path(root);
    for f in &files {
        assert!(
            f.starts_with(&root),
            "read {} outside {}",
            f.display(),
            root.display()
        );
        let rel = f.strip_prefix(&root).unwrap_or(f);
        let hidden = rel
            .components()
            .any(|c| c.as_os_str().to_string_lossy().starts_with('.'));
        assert!(!hidden, "read the hidden {}", f.display());
    }
    for s in &snippets {
        well_formed(s);
        assert!(
            s.line <= page_lines,
            "line {} of a {page_lines}-line page",
            s.line
        );
    }
}

/// The folder [`included`] reads parts from, made once per process.
fn parts_folder() -> &'static std::path::Path {
    static DIR: OnceLock<std::path::PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("citebot-fuzz-parts-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        crate::files::remove_scratch_of_ended_processes("citebot-fuzz-parts-");
        let files: &[(&str, String)] = &[
            ("outside.txt", "Not to be read.\n".into()),
            ("docs/conf.py", String::new()),
            (
                "docs/part.rst",
                "Shared.\n\n.. include:: more/deeper.rst\n".into(),
            ),
            (
                "docs/more/deeper.rst",
                // Sphinx reads a nested include from the page's folder.
                "Deeper, and back up:\n\n.. include:: part.rst\n".into(),
            ),
            ("docs/.env", "SECRET=hidden\n".into()),
            (
                "docs/part.md",
                "# Part\n\n{{#include code.rs:main}}\n".into(),
            ),
            (
                "docs/code.rs",
                "// ANCHOR: main\nfn main() {}\n// ANCHOR_END: main\n".into(),
            ),
            (
                "docs/app.py",
                "class A:\n    def f(self):\n        return 1\n\ndef g():\n    pass\n".into(),
            ),
            ("docs/self.rst", ".. include:: self.rst\n".into()),
            ("docs/big.txt", "line of a long file\n".repeat(4_000)),
            ("docs/binary.bin", "\0\0\0".into()),
        ];
        for (name, text) in files {
            let path = dir.join(name);
            std::fs::create_dir_all(path.parent().expect("a folder")).expect("a folder");
            std::fs::write(path, text).expect("a part");
        }
        #[cfg(unix)]
        let _ = std::os::unix::fs::symlink(dir.join("outside.txt"), dir.join("docs/link.txt"));
        dir
    })
}

/// What every snippet must be for the index and the renderers.
fn well_formed(s: &Snippet) {
    assert!(s.line >= 1, "line {}", s.line);
    let mut end = 0;
    for &(a, b) in &s.code {
        assert!(
            a >= end && a <= b && b <= s.text.len(),
            "code range {a}..{b}"
        );
        assert!(
            s.text.is_char_boundary(a) && s.text.is_char_boundary(b),
            "code range {a}..{b} splits a character"
        );
        end = b;
    }
}

/// One message (as typed in a room): told apart as a question for the bot or
/// not, in a group room and a direct chat, then asked of the seed knowledge,
/// explained, and rendered every way.
pub fn question(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    for is_dm in [false, true] {
        let ctx = crate::bot::triggers::Context {
            prefix: "!",
            user_id: "@citebot:localhost",
            display_name: "citebot",
            is_dm,
            mentioned: false,
            answer_questions: true,
            in_answer_thread: false,
        };
        let _ = crate::bot::triggers::classify(&text, &ctx);
    }
    let engine = seed_engine();
    let answer = engine
        .ask(&text)
        .expect("a question never fails the search");
    ranges_hold(&answer);
    let _ = crate::render::matrix(&answer);
    let _ = crate::render::terminal(&answer, true);
    let json = crate::render::json(&answer);
    serde_json::from_str::<serde_json::Value>(&json).expect("the JSON answer parses");
    let _ = engine.explain(&text).expect("explaining never fails");
}

/// Highlights and code ranges lie within their text, on character boundaries.
fn ranges_hold(a: &Answer) {
    let check = |text: &str, ranges: &[(usize, usize)]| {
        for &(x, y) in ranges {
            assert!(
                x <= y && y <= text.len(),
                "range {x}..{y} of {}",
                text.len()
            );
            assert!(text.is_char_boundary(x) && text.is_char_boundary(y));
        }
    };
    for p in &a.passages {
        check(&p.text, &p.highlights);
        check(&p.text, &p.code);
    }
    if let Some(line) = &a.answer {
        check(&line.text, &line.code);
    }
}

/// An index of the project's seed knowledge, built once per process in RAM.
fn seed_engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("citebot-fuzz-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("japan-mongolia")).expect("a temp folder");
        std::fs::write(dir.join("japan-mongolia/seed.md"), SEED).expect("writing the seed");
        let engine = Engine::open(&SearchSettings::new(&dir, None)).expect("indexing the seed");
        let _ = std::fs::remove_dir_all(&dir);
        engine
    })
}

/// A small knowledge file with what the analyzers meet in real ones: dates,
/// numbers, names, a list, code and a table.
const SEED: &str = "+++\ntitle = \"Japan and Mongolia\"\nsource = \"Fuzz seed\"\npublished = 2025-06-01\n+++\n\n\
## Visits\n\nThe emperor is expected to visit Mongolia in July 2025, the first such trip.\n\n\
The airport at Ulaanbaatar was built with a loan of 65.6 billion yen.\n\n\
## Setup\n\nAdd the following entry to the config file:\n\n```toml\nmax_upload_size = \"50M\"\n```\n\n\
- first item\n- second item\n\n| name | value |\n| --- | --- |\n| Naadam | July |\n";

/// A config file: parsed, its secrets applied, validated; an error is fine,
/// a panic is not.
pub fn config(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Ok(c) = Config::parse(&text) {
        let _ = c.search_settings();
    }
}
