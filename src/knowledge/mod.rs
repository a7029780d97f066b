//! Knowledge files → snippets.
//!
//! A knowledge folder holds pages — Markdown (`.md`, `.markdown`, `.mdx`), HTML
//! (`.html`, `.htm`), plain text (`.txt`), and documents read as the Markdown
//! they make (reStructuredText, AsciiDoc, notebooks, Word, PDF and PowerPoint,
//! see `docx`, `pdf` and `pptx`); a `README.md` at its root and site
//! navigation such as `SUMMARY.md` excepted — plus optional `synonyms.toml` files:
//! the one at its root serves every room, one in a folder below (or at a docs
//! source's root) the rooms that see that folder's (the source's) collection.
//! A page may start with front matter (TOML between `+++` lines, YAML
//! between `---` lines, see `front_matter`) or not: its title is then its first
//! `#` heading or its file name, its source the folder's name, and its date that of
//! its last git commit or its modification time. Each paragraph with the code and
//! list that follow it, and each table row, becomes one [`Snippet`] (see
//! `markdown`; one page's text to its snippets is `page`), cited by the page's
//! title and the headings above it. This module walks the folders, caches what it
//! parsed and gathers the problems. A malformed
//! file is reported as a [`KnowledgeError`] carrying file and line; the other files
//! still load.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use chrono::NaiveDate;
use pulldown_cmark::{Event, Options, Parser, Tag};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::text;

mod adoc;
mod dates;
pub(crate) mod docx;
pub(crate) mod encoding;
mod front_matter;
pub(crate) mod git;
mod html;
mod include;
mod markdown;
mod myst;
mod notebook;
pub(crate) mod odf;
mod page;
mod passages;
pub(crate) mod pdf;
mod pdf_scan;
pub(crate) mod pptx;
mod rst;
pub(crate) mod sheet;
pub(crate) mod xlsx;

use page::{Document, lint, parse_spliced, split_long};
pub(crate) use page::{parse_file, slug};
pub use pdf::written as written_pdf;
pub use sheet::{Cell as WorkbookCell, written as written_workbook};

/// Longest snippet, in characters, a Chinese, Japanese or Korean one counting two
/// ([`crate::text::width`]); longer paragraphs are split at sentence ends.
pub(crate) const MAX_SNIPPET_CHARS: usize = 800;
/// Name of a synonyms file: at the root of the knowledge folder, for every room;
/// in a folder below it or at a docs source's root, for its collection's rooms.
pub(crate) const SYNONYMS_FILE: &str = "synonyms.toml";

/// One citable passage of a knowledge file. What a page's passages share is
/// one [`PageInfo`] and a section's heading one string, not a copy per
/// passage: at a million passages the copies were a fifth of the bot's memory.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Snippet {
    /// Stable id: file path (without `.md`), heading slug and ordinal under that heading.
    pub id: String,
    #[serde(flatten)]
    pub page: Arc<PageInfo>,
    /// 1-based line where the snippet's text starts.
    pub line: usize,
    /// Headings above the snippet, outermost first, joined with " › ".
    pub heading: Arc<str>,
    pub url: Option<Arc<str>>,
    pub text: String,
    /// Byte ranges of `text` that are code, shown verbatim.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub code: Vec<(usize, usize)>,
}

impl Snippet {
    /// Where in its file the passage is, as one opening the file finds it.
    pub fn place(&self) -> Place {
        Place::of_line(&self.page.file, self.line)
    }
}

/// A document's text as Markdown (a PDF's, a slide deck's) and where each of
/// its lines is in the document as a reader of it finds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Converted {
    pub text: String,
    /// The 1-based page (of a PDF) or slide (of a deck) of each line of
    /// `text`: what a passage's citation names, since the program showing the
    /// document shows those, not the lines of the text made from it.
    pub pages: Vec<usize>,
    /// The pages the reader could not read, 1-based: their text is left out.
    pub unread: Vec<usize>,
}

impl Converted {
    /// A document's Markdown so far: `front_matter`, its lines on page 1.
    pub(crate) fn starting(front_matter: String) -> Converted {
        Converted {
            pages: vec![1; front_matter.matches('\n').count()],
            text: front_matter,
            unread: Vec::new(),
        }
    }
}

/// Where a passage is in its file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// A line of a text file, 1-based.
    Line(usize),
    /// A page of a PDF, 1-based.
    Page(usize),
    /// A slide of a deck, 1-based.
    Slide(usize),
    /// A row of a workbook's sheet, 1-based as the spreadsheet program numbers
    /// them (the sheet is the passage's heading).
    Row(usize),
    /// Somewhere in a document whose text has no lines or pages of its own to
    /// name (a Word document: its pages are laid out by the program showing it),
    /// or a document as a whole.
    Document,
}

impl Place {
    /// The place of `line` of `file` as its reader counts lines: a line of a
    /// text file, but a page of a PDF and a slide of a deck (the reader counts
    /// the lines of the Markdown it makes by the page or slide they come from,
    /// see [`Converted`]).
    fn of_line(file: &str, line: usize) -> Place {
        match Format::of(file) {
            Some(Format::Pdf) => Place::Page(line),
            Some(Format::Pptx | Format::Odp) => Place::Slide(line),
            Some(Format::Xlsx | Format::Ods) => Place::Row(line),
            // The lines are those of the Markdown made from the document.
            Some(Format::Docx | Format::Odt) => Place::Document,
            _ => Place::Line(line),
        }
    }

    /// The line, when it is one.
    pub fn line(self) -> Option<usize> {
        match self {
            Place::Line(n) => Some(n),
            _ => None,
        }
    }

    /// The page, when it is one.
    pub fn page(self) -> Option<usize> {
        match self {
            Place::Page(n) => Some(n),
            _ => None,
        }
    }

    /// The slide, when it is one.
    pub fn slide(self) -> Option<usize> {
        match self {
            Place::Slide(n) => Some(n),
            _ => None,
        }
    }

    /// The row, when it is one.
    pub fn row(self) -> Option<usize> {
        match self {
            Place::Row(n) => Some(n),
            _ => None,
        }
    }
}

/// What every passage of a page shares.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PageInfo {
    /// Path relative to the knowledge folder's parent, e.g. `knowledge/x.md`.
    pub file: String,
    /// Sub-folder of the knowledge folder ("" at its root): the passages' collection.
    pub collection: String,
    pub title: String,
    pub source: String,
    pub published: Option<NaiveDate>,
    pub tags: Vec<String>,
}

/// What is wrong with a knowledge file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProblemKind {
    Unreadable(String),
    MissingFrontMatter,
    UnclosedFrontMatter,
    FrontMatter(String),
    BadDate(String),
    BadUrl(String),
    EmptyField(&'static str),
    NoSnippets,
    DuplicateId(String),
    Synonyms(String),
    /// A `.ipynb` file that is not a notebook's JSON.
    Notebook(String),
    /// A file an include directive names that is not read.
    Include(String),
    LongParagraph(usize),
    BadLink(String),
    FutureDate(String),
    /// Pages of a PDF the reader could not read (1-based): the rest is served.
    UnreadPages(Vec<usize>),
    /// A folder under the knowledge folder that cannot be listed: its files
    /// are left out, the rest is served.
    UnreadableFolder(String),
    /// A table with more columns than are read (their count).
    WideTable(usize),
}

impl fmt::Display for ProblemKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProblemKind::Unreadable(e) => write!(f, "cannot read file: {e}"),
            ProblemKind::UnreadableFolder(e) => {
                write!(f, "cannot read this folder ({e}): its files are left out")
            }
            ProblemKind::MissingFrontMatter => {
                write!(
                    f,
                    "missing front matter: the file must start with a `+++` line, then title/source/published, then `+++`"
                )
            }
            ProblemKind::UnclosedFrontMatter => {
                write!(f, "front matter is never closed: add a `+++` line after it")
            }
            ProblemKind::FrontMatter(e) => write!(f, "front matter: {e}"),
            ProblemKind::BadDate(e) => write!(f, "{e}"),
            ProblemKind::BadUrl(u) => {
                write!(f, "`url` must start with http:// or https://, not `{u}`")
            }
            ProblemKind::EmptyField(k) => write!(f, "`{k}` must not be empty"),
            ProblemKind::NoSnippets => write!(
                f,
                "no paragraphs after the front matter: nothing to answer from"
            ),
            ProblemKind::DuplicateId(id) => write!(f, "duplicate snippet id `{id}`"),
            ProblemKind::Synonyms(e) => write!(f, "synonyms: {e}"),
            ProblemKind::Notebook(e) | ProblemKind::Include(e) => write!(f, "{e}"),
            ProblemKind::LongParagraph(n) => write!(
                f,
                "paragraph of {n} characters, more than a snippet holds ({MAX_SNIPPET_CHARS}, a Chinese, Japanese or Korean one counting two): it is cut into several snippets at sentence ends; split it where the meaning allows"
            ),
            ProblemKind::BadLink(l) => write!(
                f,
                "broken link `{l}`: use an http(s)/mailto address or a path to an existing file"
            ),
            ProblemKind::FutureDate(d) => write!(f, "`published` is in the future ({d})"),
            ProblemKind::WideTable(n) => write!(
                f,
                "a table of {n} columns: only its first {} are read",
                passages::MAX_COLUMNS
            ),
            ProblemKind::UnreadPages(pages) => {
                let list: Vec<String> = pages.iter().map(usize::to_string).collect();
                let (noun, them) = match pages.len() {
                    1 => ("page", "its"),
                    _ => ("pages", "their"),
                };
                write!(
                    f,
                    "{noun} {} could not be read: {them} text is left out, the other pages are served",
                    list.join(", ")
                )
            }
        }
    }
}

/// A problem in one knowledge file, at one line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}: {kind}")]
pub struct KnowledgeError {
    pub file: String,
    pub line: usize,
    pub kind: ProblemKind,
}

impl KnowledgeError {
    /// Where in its file the problem is, as a passage's place is named
    /// ([`Snippet::place`]): a line of a text file, a page of a PDF, a slide
    /// of a deck, or the document as a whole.
    pub fn place(&self) -> Place {
        match (Format::of(&self.file), &self.kind) {
            // A duplicate id's line is its passage's: a page or slide, as
            // the reader counts a document's lines.
            (
                Some(Format::Pdf | Format::Pptx | Format::Odp | Format::Xlsx | Format::Ods),
                ProblemKind::DuplicateId(_),
            ) => Place::of_line(&self.file, self.line),
            // Any other problem of a document is about all of it (it cannot
            // be read, pages are left out, its properties make bad front
            // matter, it holds no text): its line is no page or slide.
            (Some(Format::Pdf | Format::Pptx | Format::Odp | Format::Xlsx | Format::Ods), _) => {
                Place::Document
            }
            (Some(Format::Docx | Format::Odt), _) => Place::Document,
            _ => Place::Line(self.line),
        }
    }
}

/// A group of words or phrases that mean the same thing (`synonyms.toml`).
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct SynonymGroup {
    pub terms: Vec<String>,
}

/// The synonym groups of one `synonyms.toml`, and the rooms they serve.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Default)]
pub struct SynonymSet {
    /// The collection whose rooms they serve; `None`: every room (the file at
    /// the knowledge folder's root).
    pub collection: Option<String>,
    pub groups: Vec<SynonymGroup>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct SynonymsFile {
    #[serde(default)]
    group: Vec<SynonymGroup>,
}

/// A knowledge file that loaded, as listed by `!sources`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FileInfo {
    pub file: String,
    /// The collection its snippets are in (what rooms are limited by).
    #[serde(default)]
    pub collection: String,
    pub title: String,
    pub source: String,
    pub published: Option<NaiveDate>,
    pub snippets: usize,
}

/// Everything read from a knowledge folder.
#[derive(Debug, Default, Clone)]
pub struct KnowledgeBase {
    /// The files that loaded.
    pub files: Vec<FileInfo>,
    /// The snippets of each of [`KnowledgeBase::files`], in the same order; shared
    /// with the parse cache, so a reload of a large folder copies none of them.
    pub file_snippets: Vec<Arc<[Snippet]>>,
    /// The synonyms files that loaded, by file as shown.
    pub synonyms: BTreeMap<String, SynonymSet>,
    /// Synonyms files that exist but are malformed: their last good synonyms
    /// stay in force.
    pub synonyms_failed: BTreeSet<String>,
    /// Problems found; the files they name contributed no snippets.
    pub errors: Vec<KnowledgeError>,
    /// Problems `citebot check` reports that do not stop a file from loading
    /// (over-long paragraphs, broken links, a publication date in the future).
    pub warnings: Vec<KnowledgeError>,
    /// Hash of every file's path and bytes: changes whenever any file does.
    pub hash: String,
    /// Hash of each file read (good or bad, synonyms files included), by its path.
    pub file_hashes: BTreeMap<String, String>,
}

impl KnowledgeBase {
    /// Every snippet, file by file.
    pub(crate) fn snippets(&self) -> impl Iterator<Item = &Snippet> {
        self.file_snippets.iter().flat_map(|s| s.iter())
    }

    /// How many snippets the files hold.
    pub(crate) fn snippet_count(&self) -> usize {
        self.file_snippets.iter().map(|s| s.len()).sum()
    }

    /// Adds the files of another folder (a configured source), its synonyms
    /// file (which serves its collection) included.
    pub(crate) fn merge(&mut self, other: KnowledgeBase) {
        self.files.extend(other.files);
        self.synonyms.extend(other.synonyms);
        self.synonyms_failed.extend(other.synonyms_failed);
        self.file_snippets.extend(other.file_snippets);
        self.errors.extend(other.errors);
        self.warnings.extend(other.warnings);
        self.file_hashes.extend(other.file_hashes);
        let mut hasher = Sha256::new();
        hasher.update(self.hash.as_bytes());
        hasher.update(other.hash.as_bytes());
        self.hash = format!("{:x}", hasher.finalize());
        drop_duplicate_ids(self);
    }

    /// Leaves out the files of `collection` and of the collections in it
    /// (`collection/sub`), shown under `folder` (`knowledge/team/`), with their
    /// problems and warnings; whether there were any.
    pub(crate) fn drop_collection(&mut self, collection: &str, folder: &str) -> bool {
        let nested = format!("{collection}/");
        let of = |f: &FileInfo| f.collection == collection || f.collection.starts_with(&nested);
        let keep: Vec<bool> = self.files.iter().map(|f| !of(f)).collect();
        let mut dropped = keep.contains(&false);
        let mut keep_files = keep.iter();
        self.files
            .retain(|_| *keep_files.next().expect("one flag a file"));
        let mut keep_snippets = keep.iter();
        (self.file_snippets).retain(|_| *keep_snippets.next().expect("one flag a file"));
        let before = self.errors.len() + self.warnings.len();
        self.errors.retain(|e| !e.file.starts_with(folder));
        self.warnings.retain(|e| !e.file.starts_with(folder));
        dropped |= self.errors.len() + self.warnings.len() < before;
        self.file_hashes.retain(|f, _| !f.starts_with(folder));
        let synonyms = self.synonyms.len() + self.synonyms_failed.len();
        self.synonyms.retain(|f, _| !f.starts_with(folder));
        self.synonyms_failed.retain(|f| !f.starts_with(folder));
        dropped |= self.synonyms.len() + self.synonyms_failed.len() < synonyms;
        dropped
    }

    /// Adds what one file contributed: its snippets, the synonyms, or its problem.
    fn add(&mut self, parsed: Parsed) {
        match parsed {
            Parsed::Synonyms {
                file,
                collection,
                groups: Ok(groups),
            } => {
                self.synonyms
                    .insert(file, SynonymSet { collection, groups });
            }
            Parsed::Synonyms {
                file,
                groups: Err(e),
                ..
            } => {
                self.synonyms_failed.insert(file);
                self.errors.push(e);
            }
            Parsed::File(Ok((info, snippets))) => {
                self.files.push(info);
                self.file_snippets.push(snippets);
            }
            Parsed::File(Err(e)) => self.errors.push(e),
        }
    }
}

/// Reads every knowledge file under `dir`. Only an unreadable folder is an error;
/// bad files are collected in [`KnowledgeBase::errors`].
pub(crate) fn load(dir: &Path) -> std::io::Result<KnowledgeBase> {
    let options = ParseOptions::default();
    read(
        dir,
        &options,
        false,
        &mut Cache::default(),
        include::MAX_FOLDER_BYTES,
    )
}

/// [`load`], plus the maintainer warnings `citebot check` reports
/// ([`KnowledgeBase::warnings`]); kept off `load` because the bot re-reads the
/// folder on every change.
pub(crate) fn load_for_check(dir: &Path, options: &ParseOptions) -> std::io::Result<KnowledgeBase> {
    read(
        dir,
        options,
        true,
        &mut Cache::default(),
        include::MAX_FOLDER_BYTES,
    )
}

/// [`load`] that re-reads and re-parses only the files whose size or modification
/// time changed since `cache` saw them: with 100k snippets, parsing every file on
/// each edit would take longer than the edit deserves.
pub(crate) fn load_cached(
    dir: &Path,
    options: &ParseOptions,
    cache: &mut Cache,
) -> std::io::Result<KnowledgeBase> {
    read(dir, options, false, cache, include::MAX_FOLDER_BYTES)
}

/// Parsed knowledge files by path, reused by [`load_cached`] while a file's size and
/// modification time stay the same.
#[derive(Debug, Default)]
pub(crate) struct Cache {
    files: HashMap<PathBuf, CachedFile>,
}

impl Cache {
    /// Forgets everything: the next load reads every file again.
    pub fn clear(&mut self) {
        self.files.clear();
    }

    /// Every file a page includes, with the pages that include it: a change
    /// to one changes them, whatever its type (an example program, a `.inc`
    /// file).
    pub fn includers(&self) -> HashMap<PathBuf, Vec<PathBuf>> {
        let mut out: HashMap<PathBuf, Vec<PathBuf>> = HashMap::new();
        for (page, c) in &self.files {
            for (file, _) in &c.includes {
                out.entry(file.clone()).or_default().push(page.clone());
            }
        }
        out
    }
}

/// Timestamps this close to the time a file was read can't tell a later write
/// apart (coarse file-system clocks), so such entries are not trusted; the same
/// rule git uses for its index.
const RACY: std::time::Duration = std::time::Duration::from_secs(2);

#[derive(Debug, Clone)]
struct CachedFile {
    /// Size and modification time when read.
    stamp: (u64, SystemTime),
    read_at: SystemTime,
    hash: String,
    parsed: Parsed,
    /// The files the page includes ([`include`]), with their stamps when read
    /// ([`MISSING`]: named, but not there): a change to one is a change to
    /// the page.
    includes: Vec<(PathBuf, Stamp)>,
    /// Of those, the files included whole as the page's text.
    parts: Vec<PathBuf>,
    /// What its includes took of the folder's allowance: it is read again when
    /// what pages before it leave reads them differently.
    budget: include::Budget,
}

/// A file's size and modification time.
type Stamp = (u64, SystemTime);

/// The stamp of a file that does not exist.
const MISSING: Stamp = (u64::MAX, SystemTime::UNIX_EPOCH);

fn stamp(meta: &std::io::Result<std::fs::Metadata>) -> Stamp {
    match meta {
        Ok(m) => (m.len(), m.modified().unwrap_or(SystemTime::UNIX_EPOCH)),
        Err(_) => MISSING,
    }
}

impl CachedFile {
    fn fresh_for(&self, meta: &std::fs::Metadata) -> bool {
        let unchanged = |was: Stamp, meta: &std::fs::Metadata| {
            let Ok(modified) = meta.modified() else {
                return false;
            };
            was == (meta.len(), modified)
                && self
                    .read_at
                    .duration_since(modified)
                    .is_ok_and(|d| d >= RACY)
        };
        unchanged(self.stamp, meta)
            && self
                .includes
                .iter()
                .all(|(p, was)| match std::fs::metadata(p) {
                    Ok(m) => *was != MISSING && unchanged(*was, &m),
                    Err(_) => *was == MISSING,
                })
    }
}

/// What one file contributed to a knowledge base.
#[derive(Debug, Clone)]
enum Parsed {
    /// A synonyms file, as shown, with the collection it serves (`None`: all).
    Synonyms {
        file: String,
        collection: Option<String>,
        groups: Result<Vec<SynonymGroup>, KnowledgeError>,
    },
    File(Result<(FileInfo, Arc<[Snippet]>), KnowledgeError>),
}

/// Freshly read entries (or why a file can't be read) by path index, with each
/// file's warnings.
type Fresh = HashMap<usize, Result<(CachedFile, Vec<KnowledgeError>), KnowledgeError>>;

/// What reading each file of one folder needs to know.
struct Folder<'a> {
    dir: &'a Path,
    /// How the folder is shown ([`display_root`]).
    shown: &'a Path,
    options: &'a ParseOptions,
    with_warnings: bool,
    /// What the includes of all its pages may bring in together.
    allowance: usize,
}

/// Reads the folder `dir`, re-reading only what `cache` holds no fresh entry
/// for; its pages' includes may bring in `allowance` bytes together.
fn read(
    dir: &Path,
    options: &ParseOptions,
    with_warnings: bool,
    cache: &mut Cache,
    allowance: usize,
) -> std::io::Result<KnowledgeBase> {
    let display_root = display_root(dir, options.mount.as_ref());
    let mut options = options.clone();
    if options.source.is_none() {
        options.source = Some(display_root.to_string_lossy().into_owned());
    }
    let options = &options;
    if let Some(within) = options.mount.as_ref().and_then(|m| m.within.as_ref()) {
        confined(dir, within)?;
    }
    let walked = knowledge_paths(dir, options.mount.as_ref())?;
    let paths = &walked.files;
    let metas: Vec<std::io::Result<std::fs::Metadata>> =
        paths.iter().map(std::fs::metadata).collect();
    let folder = Folder {
        dir,
        shown: &display_root,
        options,
        with_warnings,
        allowance,
    };
    let mut fresh = read_changed(&folder, paths, &metas, cache);
    dates::fill(dir, paths, &metas, &mut fresh);
    let mut kb = assemble(dir, &display_root, paths, fresh, cache);
    drop_duplicate_ids(&mut kb);
    let under = |p: &Path| p.strip_prefix(dir).unwrap_or(p).to_path_buf();
    kb.errors.extend(
        walked
            .unlisted
            .into_iter()
            .map(|(folder, why)| KnowledgeError {
                // With a closing `/`: the folder's own collection, not its parent's.
                file: format!("{}/", shown_path(&display_root, &under(&folder))),
                line: 1,
                kind: ProblemKind::UnreadableFolder(why),
            }),
    );
    for (path, is_folder) in walked.misnamed {
        // Without a closing `/`: the problem of the folder it is in, whose
        // rooms can rename it.
        let file = misnamed_path(&display_root, &under(&path));
        let why = MISNAMED.to_string();
        let kind = match is_folder {
            true => ProblemKind::UnreadableFolder(why),
            false => {
                // Still a file of the folder, as an unreadable one is: its
                // appearing is a change to its collection.
                kb.file_hashes.insert(file.clone(), "misnamed".into());
                ProblemKind::Unreadable(why)
            }
        };
        kb.errors.push(KnowledgeError {
            file,
            line: 1,
            kind,
        });
    }
    Ok(kb)
}

/// Why a file or folder whose name holds a `\` or is not UTF-8 is not read.
const MISNAMED: &str = "its name holds a `\\` or is not UTF-8, which citations cannot tell apart from another name: rename it";

/// The entries of the files of `paths` (with `metas`) that `cache` holds none
/// fresh for, read and parsed on all cores; and of pages whose includes
/// would now read differently.
///
/// What all pages include is bounded (`f.allowance`, the folder's
/// [`include::MAX_FOLDER_BYTES`]): each page's includes get what the pages
/// before it, in path order, left. So the same pages get the same includes
/// whichever thread finishes first, and whether a page was read now or comes
/// from the cache: files are read on all cores, but the includes of the pages
/// that have any are read in path order (a page of a few lines including a
/// 4 MB file is read whole only while the allowance lasts), then those pages
/// parsed on all cores. A cached page is kept while its includes read the same
/// under what it is left ([`include::Budget`]).
fn read_changed(
    f: &Folder<'_>,
    paths: &[PathBuf],
    metas: &[std::io::Result<std::fs::Metadata>],
    cache: &Cache,
) -> Fresh {
    let stale: Vec<usize> = (0..paths.len())
        .filter(|&i| match (&metas[i], cache.files.get(&paths[i])) {
            (Ok(meta), Some(c)) => !c.fresh_for(meta),
            _ => true,
        })
        .collect();
    let read = parallel_map(&stale, |&i| read_file(f, &paths[i], &metas[i]));
    let mut read: HashMap<usize, _> = stale.into_iter().zip(read).collect();
    let mut fresh = Fresh::new();
    let mut left = f.allowance;
    let mut pages = Vec::new();
    for (i, path) in paths.iter().enumerate() {
        let step = match (read.remove(&i), cache.files.get(path)) {
            (Some(step), _) => step,
            (None, Some(c)) if c.budget.holds_for(left) => {
                left -= c.budget.brought;
                continue;
            }
            // Pages before it changed what it is left: read again.
            (None, _) => read_file(f, path, &metas[i]),
        };
        match step {
            Ok(Step::Read(entry, warnings)) => {
                fresh.insert(i, Ok((*entry, warnings)));
            }
            Ok(Step::Includes(page)) => {
                let rel = path.strip_prefix(f.dir).unwrap_or(path);
                let spliced = splice_page(f, path, rel, &page.text, page.format, left);
                left -= spliced.as_ref().map_or(0, |s| s.budget.brought);
                pages.push((i, page, spliced));
            }
            Err(e) => {
                fresh.insert(i, Err(e));
            }
        }
    }
    let parsed = parallel_map(&pages, |(i, page, spliced)| {
        let read = Read {
            text: page.text.as_str().into(),
            pages: None,
            unread: Vec::new(),
        };
        let (path, meta) = (&paths[*i], &metas[*i]);
        finish(
            f,
            path,
            meta,
            (page.read_at, &page.bytes),
            read,
            spliced.as_ref(),
        )
    });
    let indices = pages.iter().map(|(i, ..)| *i);
    fresh.extend(indices.zip(parsed.into_iter().map(Ok)));
    fresh
}

/// Whether `dir`, links followed, lies in `within` (also followed): else an
/// error saying so.
fn confined(dir: &Path, within: &Path) -> std::io::Result<()> {
    let (real, root) = (dir.canonicalize()?, within.canonicalize()?);
    if real.starts_with(&root) {
        Ok(())
    } else {
        Err(std::io::Error::other(
            "this folder leads out of the repository's checkout (through a link or `..`): not read",
        ))
    }
}

/// How the files of `dir` are shown: under the mount's collection, else under the
/// folder's own name.
pub(crate) fn display_root(dir: &Path, mount: Option<&Mount>) -> PathBuf {
    match mount {
        Some(m) => PathBuf::from(&m.collection),
        None => dir
            .file_name()
            .map(PathBuf::from)
            .unwrap_or_else(|| dir.to_path_buf()),
    }
}

/// How the file at `rel` under a folder shown as `root` (see [`display_root`])
/// is named in citations, problems and reload reports: `knowledge/team/x.md`,
/// `collection/page.md`.
pub(crate) fn shown_path(root: &Path, rel: &Path) -> String {
    root.join(rel).to_string_lossy().replace('\\', "/")
}

/// The collection of the file at `rel` in a folder read with `mount`: the
/// mount's collection, else the file's folder under the knowledge folder (""
/// at its root). Rooms are limited by collections.
pub(crate) fn collection_of(rel: &Path, mount: Option<&Mount>) -> String {
    match mount {
        Some(m) => m.collection.clone(),
        None => rel
            .parent()
            .map(|p| p.to_string_lossy().replace('\\', "/"))
            .unwrap_or_default(),
    }
}

/// The knowledge files under `dir` that `mount` wants, in path order, the
/// folders under it that could not be listed, and those not read for their
/// names.
fn knowledge_paths(dir: &Path, mount: Option<&Mount>) -> std::io::Result<Walked> {
    let mut walked = Walked::default();
    // The folder itself must be readable; one folder below it that is not
    // (`lost+found` on a volume of its own) leaves out only its own files.
    for entry in std::fs::read_dir(dir)? {
        walk_entry(dir, entry, &mut walked);
    }
    if let Some(m) = mount {
        let rel = |p: &Path| p.strip_prefix(dir).unwrap_or(p).to_path_buf();
        // A folder is the source's problem only when a page in it could be
        // one the source reads (one left out by `include`/`exclude` is no
        // problem its rooms can mend).
        let could_hold = |folder: &Path| {
            (EXTENSIONS.iter()).any(|(ext, _)| m.wants(&folder.join(format!("page.{ext}"))))
        };
        (walked.misnamed).retain(|(p, folder)| match folder {
            true => could_hold(&rel(p)),
            false => m.wants(&rel(p)),
        });
        walked.files.retain(|p| {
            let rel = p.strip_prefix(dir).unwrap_or(p);
            // A docs source's synonyms file is the one at its root, read
            // unless excluded: `include` picks pages. One deeper in someone
            // else's docs tree may be anything.
            if rel.file_name() == Some(std::ffi::OsStr::new(SYNONYMS_FILE)) {
                return rel == Path::new(SYNONYMS_FILE) && !m.excludes(rel);
            }
            m.wants(rel)
        });
    }
    walked.files.sort();
    walked.unlisted.sort();
    walked.misnamed.sort();
    Ok(walked)
}

/// What a walk of a folder found.
#[derive(Debug, Default)]
struct Walked {
    /// The knowledge files.
    files: Vec<PathBuf>,
    /// Folders that could not be listed, with why.
    unlisted: Vec<(PathBuf, String)>,
    /// Knowledge files and folders (`true`) not read for their names
    /// ([`misnamed`]).
    misnamed: Vec<(PathBuf, bool)>,
}

/// The knowledge base of `paths` in their order, each from `fresh` or else from
/// the cache, which is brought up to date (fresh entries in, gone files out).
fn assemble(
    dir: &Path,
    display_root: &Path,
    paths: &[PathBuf],
    mut fresh: Fresh,
    cache: &mut Cache,
) -> KnowledgeBase {
    let mut kb = KnowledgeBase::default();
    let mut seen_paths = HashSet::new();
    let mut entries = Vec::with_capacity(paths.len());
    for (i, path) in paths.iter().enumerate() {
        let entry = match fresh.remove(&i) {
            None => match cache.files.get(path) {
                Some(c) => c.clone(),
                None => continue,
            },
            Some(Err(unreadable)) => {
                cache.files.remove(path);
                // Still a file of the folder: its last good version stays in
                // the index, and a reload that makes it unreadable is its
                // collection's.
                let rel = path.strip_prefix(dir).unwrap_or(path);
                let why = format!("unreadable: {}", unreadable.kind);
                kb.file_hashes.insert(shown_path(display_root, rel), why);
                kb.errors.push(unreadable);
                continue;
            }
            Some(Ok((entry, warnings))) => {
                kb.warnings.extend(warnings);
                cache.files.insert(path.clone(), entry.clone());
                entry
            }
        };
        seen_paths.insert(path.clone());
        entries.push((path, entry));
    }
    let partials = partials(&entries);
    let mut hasher = Sha256::new();
    for (path, entry) in entries {
        if !partials.is_empty() && partials.contains(&include::absolute(path)) {
            continue;
        }
        let rel = path.strip_prefix(dir).unwrap_or(path);
        let shown = shown_path(display_root, rel);
        hasher.update(shown.as_bytes());
        hasher.update(entry.hash.as_bytes());
        kb.file_hashes.insert(shown, entry.hash);
        kb.add(entry.parsed);
    }
    // Deleted files leave the cache too (the cache also holds other folders').
    cache
        .files
        .retain(|p, _| !p.starts_with(dir) || seen_paths.contains(p));
    kb.hash = format!("{:x}", hasher.finalize());
    kb
}

/// The files that pages include, which are not pages of their own: a part
/// of a page (Sphinx's `_includes/*.rst`, an mdBook chapter's shared
/// paragraph) is read where it is included, as its readers see it. A file
/// included only by files that are themselves included (or by each other) stays
/// a page.
fn partials(entries: &[(&PathBuf, CachedFile)]) -> HashSet<PathBuf> {
    // Only a page that is shown shows its parts (not a draft, nor one that
    // does not parse).
    let shown = |e: &CachedFile| matches!(&e.parsed, Parsed::File(Ok((_, s))) if !s.is_empty());
    let including = || {
        entries
            .iter()
            .filter(|(_, e)| !e.parts.is_empty() && shown(e))
    };
    let included: HashSet<&PathBuf> = including().flat_map(|(_, e)| &e.parts).collect();
    if included.is_empty() {
        return HashSet::new();
    }
    including()
        .filter(|(path, _)| !included.contains(&include::absolute(path)))
        .flat_map(|(_, e)| e.parts.iter().cloned())
        .collect()
}

/// A file holding a snippet id an earlier file (in path order) already has is not
/// loaded: ids must be unique for citations and for updating the index by file.
fn drop_duplicate_ids(kb: &mut KnowledgeBase) {
    let mut seen = HashSet::new();
    let mut dups = Vec::new();
    for (i, snippets) in kb.file_snippets.iter().enumerate() {
        let mut dup = None;
        for s in snippets.iter() {
            if !seen.insert(s.id.as_str()) {
                dup = Some(s);
            }
        }
        if let Some(s) = dup {
            dups.push((
                i,
                KnowledgeError {
                    file: kb.files[i].file.clone(),
                    line: s.line,
                    kind: ProblemKind::DuplicateId(s.id.clone()),
                },
            ));
        }
    }
    // Removed in one pass each: removing one at a time moved every later file
    // for each duplicate (80,000 duplicates took 16 s to check).
    let dropped: HashSet<usize> = dups.iter().map(|(i, _)| *i).collect();
    let kept = |i: &usize| !dropped.contains(i);
    let files = std::mem::take(&mut kb.files).into_iter().enumerate();
    kb.files = files.filter(|(i, _)| kept(i)).map(|(_, f)| f).collect();
    let snippets = std::mem::take(&mut kb.file_snippets)
        .into_iter()
        .enumerate();
    kb.file_snippets = snippets.filter(|(i, _)| kept(i)).map(|(_, s)| s).collect();
    kb.errors.extend(dups.into_iter().rev().map(|(_, e)| e));
}

/// What reading one file gave: its cache entry and warnings, or a page whose
/// includes are still to be read ([`read_changed`] reads them in path order).
enum Step {
    /// Boxed: an entry is several times the size of a page read.
    Read(Box<CachedFile>, Vec<KnowledgeError>),
    Includes(Unspliced),
}

/// A page, read, that may include files.
struct Unspliced {
    read_at: SystemTime,
    bytes: Vec<u8>,
    text: String,
    format: Format,
}

/// Reads and parses one file (and lints it, for `check`), unless it is a page
/// that may include files; or why it can't be read.
fn read_file(
    f: &Folder<'_>,
    path: &Path,
    meta: &std::io::Result<std::fs::Metadata>,
) -> Result<Step, KnowledgeError> {
    let rel = path.strip_prefix(f.dir).unwrap_or(path);
    let shown = shown_path(f.shown, rel);
    let read_at = SystemTime::now();
    let unreadable = |why: String| KnowledgeError {
        file: shown.clone(),
        line: 1,
        kind: ProblemKind::Unreadable(why),
    };
    let target = link_target(f.dir, path, rel, f.options.mount.as_ref()).map_err(unreadable)?;
    let format = Format::of(&shown);
    let bytes = read_bytes(&target, format).map_err(unreadable)?;
    // The readers' debug lines (a PDF page left out) name the file they are about.
    let span = tracing::debug_span!("read", file = %shown).entered();
    let read = read_text(&bytes, format).map_err(unreadable)?;
    drop(span);
    match format {
        Some(format @ (Format::Markdown | Format::Rst)) if include::mentions(&read.text) => {
            let text = read.text.into_owned();
            Ok(Step::Includes(Unspliced {
                read_at,
                bytes,
                text,
                format,
            }))
        }
        _ => {
            let (entry, warnings) = finish(f, path, meta, (read_at, &bytes), read, None);
            Ok(Step::Read(Box::new(entry), warnings))
        }
    }
}

/// Parses one file read at `read_at` as `bytes`, whose text is `read`, with
/// the files it includes read in when `spliced` (and lints it, for `check`):
/// its cache entry and warnings.
fn finish(
    f: &Folder<'_>,
    path: &Path,
    meta: &std::io::Result<std::fs::Metadata>,
    (read_at, bytes): (SystemTime, &[u8]),
    read: Read<'_>,
    spliced: Option<&include::Spliced>,
) -> (CachedFile, Vec<KnowledgeError>) {
    let (options, rel) = (f.options, path.strip_prefix(f.dir).unwrap_or(path));
    let shown = shown_path(f.shown, rel);
    let Read {
        text,
        pages,
        unread,
    } = read;
    let parsed = match spliced {
        Some(s) => parse_any(rel, &shown, &s.text, Some(&s.lines), options),
        None => parse_any(rel, &shown, &text, pages.as_deref(), options),
    };
    let warnings = match &parsed {
        Parsed::File(Ok((info, snippets))) if f.with_warnings => {
            let mut w = lint(&shown, f.dir, path, &text, info.published, options.strict);
            let problems = spliced.iter().flat_map(|s| &s.problems);
            w.extend(problems.map(|(line, why)| KnowledgeError {
                file: shown.clone(),
                line: *line,
                kind: ProblemKind::Include(why.clone()),
            }));
            if !unread.is_empty() {
                w.push(KnowledgeError {
                    file: shown.clone(),
                    line: 1,
                    kind: ProblemKind::UnreadPages(unread),
                });
            }
            w
        }
        _ => Vec::new(),
    };
    let entry = CachedFile {
        stamp: stamp(meta),
        includes: spliced.map_or_else(Vec::new, |s| include_stamps(&s.files, &s.missing)),
        parts: spliced.map_or_else(Vec::new, |s| s.parts.clone()),
        budget: spliced.map_or_else(include::Budget::default, |s| s.budget),
        read_at,
        hash: {
            // What the snippets hold depends on the options too (a source's
            // name, collection, links): a change there must rebuild them.
            let mut h = Sha256::new();
            h.update(bytes);
            h.update(options.fingerprint().as_bytes());
            // And on how this citebot cuts the file into passages: the index
            // re-reads a file whose hash changed, so after an upgrade that cuts
            // passages differently, unchanged files get the new passages too.
            if let Parsed::File(Ok((_, snippets))) = &parsed {
                fingerprint_snippets(snippets, &mut h);
            }
            format!("{:x}", h.finalize())
        },
        parsed,
    };
    (entry, warnings)
}

/// Most bytes of one text page (Markdown, HTML, text, reStructuredText,
/// AsciiDoc, a notebook, CSV): it is parsed whole in memory, at several times
/// its size. A book-length page is a few MB.
const MAX_TEXT_FILE_BYTES: u64 = 32 << 20;
/// Most bytes of one office document (Word, PowerPoint, Excel, OpenDocument),
/// whose readers bound what they unpack from it on their own (a PDF's reader
/// has its own, smaller bound).
const MAX_DOCUMENT_BYTES: u64 = 256 << 20;

/// The bytes of the file at `target`, a regular file within the size bound of
/// its `format`.
fn read_bytes(target: &Path, format: Option<Format>) -> Result<Vec<u8>, String> {
    use std::io::Read as _;
    // A named pipe blocks its reader until someone writes to it (the whole
    // load, and every reload, would wait), and a device may never end.
    let meta = std::fs::metadata(target).map_err(|e| e.to_string())?;
    if !meta.is_file() {
        return Err("not a regular file (a pipe, socket or device): not read".into());
    }
    let limit = match format {
        // Its reader refuses more: not read into memory only to be refused.
        Some(Format::Pdf) => pdf::MAX_BYTES as u64,
        Some(
            Format::Docx | Format::Pptx | Format::Xlsx | Format::Odt | Format::Ods | Format::Odp,
        ) => MAX_DOCUMENT_BYTES,
        _ => MAX_TEXT_FILE_BYTES,
    };
    let too_big = || format!("larger than {} MB: not read", limit >> 20);
    if meta.len() > limit {
        return Err(too_big());
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    std::fs::File::open(target)
        .and_then(|f| f.take(limit + 1).read_to_end(&mut bytes))
        .map_err(|e| e.to_string())?;
    // It may have grown since it was looked at.
    if bytes.len() as u64 > limit {
        return Err(too_big());
    }
    Ok(bytes)
}

/// A file's text as its reader reads it.
struct Read<'b> {
    text: std::borrow::Cow<'b, str>,
    /// A PDF's or deck's: the page or slide of each line of `text`, which its
    /// passages are cited by ([`Converted`]).
    pages: Option<Vec<usize>>,
    /// A PDF's pages left out.
    unread: Vec<usize>,
}

/// The text of a file of `format` that holds `bytes`, as [`read_as_written`]
/// reads it, in Unicode's composed form ([`crate::text::composed`]): how a
/// letter was encoded makes no other word of it. Composing leaves every line
/// where it was, so a PDF's or deck's lines keep their pages.
fn read_text(bytes: &[u8], format: Option<Format>) -> Result<Read<'_>, String> {
    let read = read_as_written(bytes, format)?;
    Ok(Read {
        text: crate::text::composed(read.text),
        ..read
    })
}

/// The text of a file of `format` that holds `bytes`: a Word document's, PDF's
/// or deck's as the Markdown it makes, else the file's own; or why it cannot
/// be read.
fn read_as_written(bytes: &[u8], format: Option<Format>) -> Result<Read<'_>, String> {
    let converted = match format {
        Some(Format::Docx) => {
            return Ok(Read {
                text: docx::markdown(bytes)?.into(),
                pages: None,
                unread: Vec::new(),
            });
        }
        Some(Format::Odt) => {
            return Ok(Read {
                text: odf::text_document(bytes)?.into(),
                pages: None,
                unread: Vec::new(),
            });
        }
        Some(Format::Pdf) => pdf::markdown(bytes)?,
        Some(Format::Pptx) => pptx::markdown(bytes)?,
        Some(Format::Xlsx) => xlsx::markdown(bytes)?,
        Some(Format::Ods) => odf::spreadsheet(bytes)?,
        Some(Format::Odp) => odf::presentation(bytes)?,
        Some(Format::Csv) => sheet::csv(cells_text(bytes).as_bytes())?,
        Some(Format::Tsv) => sheet::delimited(cells_text(bytes).as_bytes(), b'\t')?,
        _ => {
            return Ok(Read {
                text: text_of(bytes, format == Some(Format::Html))?,
                pages: None,
                unread: Vec::new(),
            });
        }
    };
    Ok(Read {
        text: converted.text.into(),
        pages: Some(converted.pages),
        unread: converted.unread,
    })
}

/// A CSV or TSV file's `bytes` as text: a NUL byte in a cell is no reason to
/// skip a file the CSV reader reads.
fn cells_text(bytes: &[u8]) -> std::borrow::Cow<'_, str> {
    encoding::decode(bytes, false).unwrap_or_else(|| String::from_utf8_lossy(bytes))
}

/// A text file's `bytes` as text, in whichever encoding they were written.
fn text_of(bytes: &[u8], html: bool) -> Result<std::borrow::Cow<'_, str>, String> {
    encoding::decode(bytes, html).ok_or_else(|| "not a text file: skipped".into())
}

/// The file the page at `path` (`rel` under `dir`) is read from: itself, or
/// the file it links to when that is inside `dir`, not hidden, of the page's
/// own collection and wanted by the source. A link must not show another
/// collection's page (or the bot's config file) as a page of this one. Every
/// refusal reads the same: the problem is shown to the page's rooms, and
/// must not tell them which files exist elsewhere.
fn link_target(
    dir: &Path,
    path: &Path,
    rel: &Path,
    mount: Option<&Mount>,
) -> Result<PathBuf, String> {
    let link = std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
    if !link {
        return Ok(path.to_path_buf());
    }
    let page = collection_of(rel, mount);
    let refused = || {
        format!(
            "a link to no page of its own collection `{page}` (only a link to a readable, not hidden file of the same collection is read): not read"
        )
    };
    let real = path.canonicalize().map_err(|_| refused())?;
    let root = dir.canonicalize().map_err(|_| refused())?;
    let real_rel = real.strip_prefix(&root).map_err(|_| refused())?;
    let hidden = real_rel
        .components()
        .any(|c| c.as_os_str().to_string_lossy().starts_with('.'));
    let wanted = mount.is_none_or(|m| m.wants(real_rel)) && !misnamed_on_way(real_rel);
    if hidden || !wanted || collection_of(real_rel, mount) != page {
        return Err(refused());
    }
    Ok(real)
}

/// The page at `path` (`rel` under the folder), whose text is `text`, with
/// the files it includes read in, when it includes any; they may bring in
/// `allowance` bytes.
fn splice_page(
    f: &Folder<'_>,
    path: &Path,
    rel: &Path,
    text: &str,
    format: Format,
    allowance: usize,
) -> Option<include::Spliced> {
    if !include::mentions(text) {
        return None;
    }
    let syntax = match format {
        Format::Rst => include::Syntax::Rst,
        Format::Markdown => include::Syntax::Markdown {
            myst: myst::is_myst(text),
        },
        _ => return None,
    };
    // A page is shown only to rooms of its collection: what it includes must
    // be of that collection too, and of what the source reads.
    let mount = f.options.mount.as_ref();
    let collection = collection_of(rel, mount);
    let allowed = |inc: &Path| {
        if misnamed_on_way(inc) {
            return Err("is in a folder, or has a name, that holds a `\\` or is not UTF-8".into());
        }
        let other = collection_of(inc, mount);
        if other != collection {
            // A docs source is one collection; in the knowledge folder each
            // folder is one.
            return Err(format!(
                "is in collection `{other}`, not the page's `{collection}` (a source is one collection)"
            ));
        }
        match mount {
            Some(m) if !m.wants(inc) => Err("is left out by the source's include/exclude".into()),
            _ => Ok(()),
        }
    };
    include::splice(f.dir, path, text, syntax, &allowed, allowance)
}

/// The included files `read`, stamped as they are now, and those `missing`.
fn include_stamps(read: &[PathBuf], missing: &[PathBuf]) -> Vec<(PathBuf, Stamp)> {
    let read = read
        .iter()
        .map(|p| (p.clone(), stamp(&std::fs::metadata(p))));
    read.chain(missing.iter().map(|p| (p.clone(), MISSING)))
        .collect()
}

/// Feeds what the index holds of `snippets` (one file's) to `h`: their page,
/// then each one's id, place, headings, link and text. Strings go in with
/// their length, so no two cuts of the same text feed the same bytes.
fn fingerprint_snippets(snippets: &[Snippet], h: &mut Sha256) {
    fn field(h: &mut Sha256, bytes: &[u8]) {
        h.update((bytes.len() as u64).to_le_bytes());
        h.update(bytes);
    }
    // A file's passages share one page.
    if let Some(page) = snippets.first().map(|s| &s.page) {
        for part in [&page.file, &page.collection, &page.title, &page.source] {
            field(h, part.as_bytes());
        }
        let published = page.published.map(|d| d.to_string()).unwrap_or_default();
        field(h, published.as_bytes());
        field(h, page.tags.join("\n").as_bytes());
    }
    for s in snippets {
        for part in [
            &*s.id,
            &*s.heading,
            s.url.as_deref().unwrap_or(""),
            &*s.text,
        ] {
            field(h, part.as_bytes());
        }
        h.update((s.line as u64).to_le_bytes());
        h.update((s.code.len() as u64).to_le_bytes());
        for &(a, b) in &s.code {
            h.update((a as u64).to_le_bytes());
            h.update((b as u64).to_le_bytes());
        }
    }
}

/// Parses one file's text: the synonyms file or a knowledge file.
fn parse_any(
    rel: &Path,
    shown: &str,
    text: &str,
    lines: Option<&[usize]>,
    options: &ParseOptions,
) -> Parsed {
    let collection = collection_of(rel, options.mount.as_ref());
    if rel.file_name() == Some(std::ffi::OsStr::new(SYNONYMS_FILE)) {
        // The knowledge folder's own file serves every room.
        let at_root = options.mount.is_none() && rel == Path::new(SYNONYMS_FILE);
        return Parsed::Synonyms {
            file: shown.to_string(),
            collection: (!at_root).then_some(collection),
            groups: parse_synonyms(shown, text),
        };
    }
    let mut id_base = rel.with_extension("").to_string_lossy().replace('\\', "/");
    if let Some(m) = &options.mount {
        id_base = format!("{}/{id_base}", m.collection);
    }
    Parsed::File(
        parse_spliced(shown, &id_base, &collection, text, lines, options)
            .map(|(info, s)| (info, s.into())),
    )
}

/// `items.iter().map(f)` on all cores, results in input order.
fn parallel_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(items.len().div_ceil(8).max(1));
    if threads <= 1 {
        return items.iter().map(f).collect();
    }
    let chunk = items.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let workers: Vec<_> = items
            .chunks(chunk)
            .map(|part| scope.spawn(|| part.iter().map(&f).collect::<Vec<R>>()))
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().expect("knowledge parser thread panicked"))
            .collect()
    })
}

/// Whether the file at `path` in the knowledge folder `root` is read: a page of
/// a known format, or a synonyms file. A `README.md` at the root describes the
/// folder and is not knowledge.
pub(crate) fn is_knowledge_file(path: &Path, root: &Path) -> bool {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    let at_root = path.parent() == Some(root);
    if name == SYNONYMS_FILE {
        return true;
    }
    // An office suite's lock file (`~$plan.docx`) is no document.
    let lock = name.starts_with("~$");
    !(lock || at_root && name.eq_ignore_ascii_case("readme.md")) && Format::of(&name).is_some()
}

/// How many files under `dir` are of a format citebot does not read, by
/// extension (`.xls`; the file's name when it has none): a folder of
/// spreadsheets or images would otherwise read as empty with no word of why.
pub(crate) fn unread_formats(dir: &Path) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    let mut folders = vec![dir.to_path_buf()];
    while let Some(folder) = folders.pop() {
        let Ok(entries) = std::fs::read_dir(&folder) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            // Hidden files, and the lock files Word and LibreOffice keep beside
            // an open document (`~$plan.docx`, `.~lock.plan.docx#`).
            if name.starts_with('.') || name.starts_with("~$") {
                continue;
            }
            if kind.is_dir() {
                folders.push(entry.path());
                continue;
            }
            let kind_of = match name.rsplit_once('.') {
                Some((_, ext)) => format!(".{}", ext.to_ascii_lowercase()),
                None => name.clone(),
            };
            // Navigation files are of a format read, left out on purpose.
            let read = Format::of(&format!("page{kind_of}")).is_some();
            if !read && name != SYNONYMS_FILE {
                *out.entry(kind_of).or_default() += 1;
            }
        }
    }
    out
}

/// One entry of a folder under `root`, noted in `out`: a knowledge file, a
/// folder walked, a folder that cannot be listed, or one of them misnamed.
fn walk_entry(root: &Path, entry: std::io::Result<std::fs::DirEntry>, out: &mut Walked) {
    // An entry that vanished or cannot be looked at is no file to read.
    let Ok(entry) = entry else { return };
    let path = entry.path();
    let name = entry.file_name();
    let lossy = name.to_string_lossy();
    // Hidden files, and the lock files Word and LibreOffice keep beside
    // an open document (`~$plan.docx`, `.~lock.plan.docx#`).
    if lossy.starts_with('.') || lossy.starts_with("~$") {
        return;
    }
    let folder = entry.file_type().is_ok_and(|t| t.is_dir());
    if misnamed(&name) && (folder || is_knowledge_file(&path, root)) {
        out.misnamed.push((path, folder));
    } else if folder {
        match std::fs::read_dir(&path) {
            Ok(entries) => {
                for entry in entries {
                    walk_entry(root, entry, out);
                }
            }
            Err(e) => out.unlisted.push((path, e.to_string())),
        }
    } else if is_knowledge_file(&path, root) {
        out.files.push(path);
    }
}

/// Whether a file or folder is not read for its `name`: one that holds a `\`
/// or is not UTF-8. Citations, problems and snippet ids name files by their
/// paths with `/`, as text: `team\x.md` would be named as `team/x.md` is,
/// every name not UTF-8 alike, and two files of one name both leave the index
/// (as a duplicate, and as a file with a problem).
fn misnamed(name: &std::ffi::OsStr) -> bool {
    name.to_str().is_none_or(|n| n.contains('\\'))
}

/// Whether a file or folder on the way to `rel` is [`misnamed`]: its
/// collection, named after its folder, may pass for another (`a\b/x.md` for
/// `a/b`'s), so it is neither a page through a link nor included.
fn misnamed_on_way(rel: &Path) -> bool {
    rel.components().any(|c| misnamed(c.as_os_str()))
}

/// How a file or folder not read for its name ([`misnamed`]) at `rel` under
/// a folder shown as `root` is named in its problem: as [`shown_path`] names
/// files, but with its `\` kept and each byte not UTF-8 written `\xFF`. So
/// each such name holds a `\`, which no file read has in its name: its
/// problem can never be taken for another file's.
fn misnamed_path(root: &Path, rel: &Path) -> String {
    use std::fmt::Write as _;
    let mut out = root.to_string_lossy().replace('\\', "/");
    for part in rel.components() {
        out.push('/');
        for chunk in part.as_os_str().as_encoded_bytes().utf8_chunks() {
            out.push_str(chunk.valid());
            for byte in chunk.invalid() {
                let _ = write!(out, "\\x{byte:02X}");
            }
        }
    }
    out
}

/// Parses the synonyms file: `[[group]] terms = ["ODA", "official development assistance"]`.
pub(crate) fn parse_synonyms(file: &str, text: &str) -> Result<Vec<SynonymGroup>, KnowledgeError> {
    let parsed: SynonymsFile = toml::from_str(text).map_err(|e| KnowledgeError {
        file: file.into(),
        line: e.span().map(|s| line_of(text, s.start)).unwrap_or(1),
        kind: ProblemKind::Synonyms(e.message().trim().to_string()),
    })?;
    for group in &parsed.group {
        if group.terms.len() < 2 || group.terms.iter().any(|t| t.trim().is_empty()) {
            let needle = group.terms.first().map(String::as_str).unwrap_or("terms");
            return Err(KnowledgeError {
                file: file.into(),
                line: text.find(needle).map(|i| line_of(text, i)).unwrap_or(1),
                kind: ProblemKind::Synonyms("a group needs at least two non-empty terms".into()),
            });
        }
    }
    Ok(parsed.group)
}

/// Line numbers of byte offsets that only move forward, without rescanning the
/// text from the start each time (a file of many paragraphs would be quadratic).
struct LineCounter<'a> {
    text: &'a str,
    at: usize,
    line: usize,
}

impl<'a> LineCounter<'a> {
    fn new(text: &'a str) -> Self {
        LineCounter {
            text,
            at: 0,
            line: 1,
        }
    }

    fn line_of(&mut self, byte: usize) -> usize {
        let byte = byte.min(self.text.len());
        if byte < self.at {
            *self = LineCounter::new(self.text);
        }
        self.line += self.text.as_bytes()[self.at..byte]
            .iter()
            .filter(|&&b| b == b'\n')
            .count();
        self.at = byte;
        self.line
    }
}

fn line_of(text: &str, byte: usize) -> usize {
    text[..byte.min(text.len())]
        .bytes()
        .filter(|&b| b == b'\n')
        .count()
        + 1
}

/// How files are read: what to assume where a file says nothing of itself.
#[derive(Debug, Clone, Default)]
pub(crate) struct ParseOptions {
    /// Require citebot's own front matter (title, source, published; no other
    /// keys) in every file: `citebot check --strict`.
    pub strict: bool,
    /// The citation's source for files whose front matter names none; `None`:
    /// the name of the folder read.
    pub source: Option<String>,
    /// Set for a folder read as one of the configured sources rather than the
    /// knowledge folder.
    pub mount: Option<Mount>,
}

impl ParseOptions {
    /// Everything here that shapes a file's snippets, as text.
    fn fingerprint(&self) -> String {
        let m = self.mount.as_ref();
        format!(
            "{}|{:?}|{:?}|{:?}|{:?}",
            self.strict,
            self.source,
            m.map(|m| &m.collection),
            m.and_then(|m| m.url_base.as_ref()),
            m.and_then(|m| m.url_pattern.as_ref()),
        )
    }
}

/// How the files of a configured source stand among the others.
#[derive(Debug, Clone, Default)]
pub struct Mount {
    /// The collection of every file (what rooms are limited by); also how its
    /// files are shown (`collection/path.md`) and the start of their ids.
    pub collection: String,
    /// Only files whose path in the folder matches (`None`: all).
    pub include: Option<globset::GlobSet>,
    /// Files whose path matches are left out.
    pub exclude: Option<globset::GlobSet>,
    /// Citations link to the published page: this, then [`Mount::url_pattern`]
    /// with `{path}` the file's path without its extension, then `#` and the
    /// heading's anchor.
    pub url_base: Option<String>,
    /// `{path}.html` unless set (`{path}/` for sites with one folder per page).
    pub url_pattern: Option<String>,
    /// The folder the source's folder must lie in, links followed: a git
    /// source's checkout. A folder committed as a link to elsewhere (another
    /// collection's files, the bot's data) would show those files as this
    /// collection's to its rooms.
    pub within: Option<PathBuf>,
}

impl Mount {
    fn wants(&self, rel: &Path) -> bool {
        self.include.as_ref().is_none_or(|g| g.is_match(rel)) && !self.excludes(rel)
    }

    /// Whether `exclude` names the file at `rel`.
    fn excludes(&self, rel: &Path) -> bool {
        self.exclude.as_ref().is_some_and(|g| g.is_match(rel))
    }

    /// The published page of the file at `path` (without its extension), at
    /// `anchor` when its heading names one, else at the anchor of `heading`.
    fn url(&self, path: &str, heading: &str, explicit_anchor: Option<&str>) -> Option<String> {
        let base = self.url_base.as_ref()?;
        let page = self
            .url_pattern
            .as_deref()
            .unwrap_or("{path}.html")
            .replace("{path}", path);
        let mut url = format!(
            "{}/{}",
            base.trim_end_matches('/'),
            page.trim_start_matches('/')
        );
        let last = heading.rsplit(" › ").next().unwrap_or("");
        if let Some(explicit) = explicit_anchor {
            url.push('#');
            url.push_str(explicit);
        } else if !last.is_empty() {
            url.push('#');
            url.push_str(&anchor(last));
        }
        Some(url)
    }
}

/// Where a configured source's page links from: its mount, and its path in
/// the source (an Antora page's, where Antora publishes it).
fn source_link<'a>(
    options: &'a ParseOptions,
    id_base: &str,
    format: Format,
) -> Option<(&'a Mount, String)> {
    let m = options.mount.as_ref()?;
    let prefix = format!("{}/", m.collection);
    let path = id_base.strip_prefix(prefix.as_str()).unwrap_or(id_base);
    let antora = (format == Format::Adoc)
        .then(|| antora_page(path))
        .flatten();
    Some((m, antora.unwrap_or_else(|| path.to_string())))
}

/// Where Antora publishes the page at `path` (without its extension) of a
/// component's `modules/<module>/pages/`: at its path in `pages/`, under the
/// module's name unless it is `ROOT` (`docs/modules/ROOT/pages/install` →
/// `install`, `modules/admin/pages/users` → `admin/users`). `None` for a
/// path outside such a folder.
fn antora_page(path: &str) -> Option<String> {
    let parts: Vec<&str> = path.split('/').collect();
    let at = parts
        .windows(3)
        .position(|w| w[0] == "modules" && w[2] == "pages")
        .filter(|&k| k + 3 < parts.len())?;
    let rest = parts[at + 3..].join("/");
    Some(match parts[at + 1] {
        "ROOT" => rest,
        module => format!("{module}/{rest}"),
    })
}

/// A heading's anchor as site generators make it (mdBook, MkDocs, Hugo, GitHub):
/// lower case, spaces as hyphens, other punctuation dropped.
pub(crate) fn anchor(heading: &str) -> String {
    heading
        .trim()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            '-' | '_' => Some(c),
            c if c.is_alphanumeric() => Some(c),
            _ => None,
        })
        .flat_map(char::to_lowercase)
        .collect()
}

/// The kind of text a file holds, by its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    Markdown,
    Html,
    Text,
    /// reStructuredText (Sphinx).
    Rst,
    /// AsciiDoc (Antora, Asciidoctor).
    Adoc,
    /// A Jupyter notebook, read as the Markdown its cells make.
    Notebook,
    /// A Word document, read as the Markdown its paragraphs make.
    Docx,
    /// A PowerPoint deck (`.pptx`).
    Pptx,
    /// An Excel workbook (`.xlsx`, `.xlsm`), read as a table per sheet.
    Xlsx,
    /// An OpenDocument text document (`.odt`), read as the Markdown its
    /// paragraphs make.
    Odt,
    /// An OpenDocument spreadsheet (`.ods`), read as a table per sheet.
    Ods,
    /// An OpenDocument presentation (`.odp`), read as a deck is.
    Odp,
    /// Comma-separated values, read as a table.
    Csv,
    /// Tab-separated values, read as a table.
    Tsv,
    /// A PDF document, read as the Markdown its pages' text makes.
    Pdf,
}

impl Format {
    /// The format of a file named `name`, or `None` when it is not knowledge:
    /// another type, or a site generator's navigation (`SUMMARY.md`, `_sidebar.md`).
    pub fn of(name: &str) -> Option<Format> {
        let lower = name.to_ascii_lowercase();
        if NAVIGATION.contains(&lower.as_str()) {
            return None;
        }
        let ext = lower.rsplit_once('.').map(|(_, e)| e)?;
        EXTENSIONS.iter().find(|(e, _)| *e == ext).map(|&(_, f)| f)
    }
}

/// The file extensions read (lower case), with their formats.
const EXTENSIONS: &[(&str, Format)] = &[
    // R Markdown and Quarto pages are Markdown with code chunks.
    ("md", Format::Markdown),
    ("markdown", Format::Markdown),
    ("mdx", Format::Markdown),
    ("rmd", Format::Markdown),
    ("qmd", Format::Markdown),
    ("html", Format::Html),
    ("htm", Format::Html),
    ("txt", Format::Text),
    ("rst", Format::Rst),
    ("adoc", Format::Adoc),
    ("asciidoc", Format::Adoc),
    ("ipynb", Format::Notebook),
    ("docx", Format::Docx),
    ("pdf", Format::Pdf),
    ("pptx", Format::Pptx),
    ("xlsx", Format::Xlsx),
    ("xlsm", Format::Xlsx),
    ("odt", Format::Odt),
    ("ods", Format::Ods),
    ("odp", Format::Odp),
    ("csv", Format::Csv),
    ("tsv", Format::Tsv),
];

/// Files that list pages rather than say anything (mdBook, docsify, Antora).
const NAVIGATION: &[&str] = &[
    "summary.md",
    "_sidebar.md",
    "_navbar.md",
    "_footer.md",
    "nav.adoc",
];

/// An archive of `parts` (name, text), as office suites zip them: what the
/// documents tests read are written with.
pub(super) fn zipped(parts: &[(&str, &str)]) -> Vec<u8> {
    use std::io::Write;
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, text) in parts {
        let options = zip::write::SimpleFileOptions::default();
        zip.start_file(*name, options).expect("a zip in memory");
        zip.write_all(text.as_bytes()).expect("a zip in memory");
    }
    zip.finish().expect("a zip in memory").into_inner()
}

/// Text with every ASCII punctuation character escaped, so nothing in it is
/// read as Markdown (CommonMark takes `\` before any of them as the
/// character itself).
pub(super) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    let mut after_digit = false;
    for c in text.chars() {
        if c.is_ascii_punctuation() && !matches!(c, '.' | ',' | '\'' | '"' | '?' | ';' | ':' | '/')
            || c == '.' && after_digit
        {
            out.push('\\');
        }
        out.push(c);
        after_digit = c.is_ascii_digit();
    }
    out
}

/// The fence for `code` in Markdown made from another format: backticks,
/// more than any run of them in the code, which would close it.
fn code_fence(code: &str) -> String {
    let longest = code.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    "`".repeat(longest.max(2) + 1)
}

/// For fuzzing: `text` read as the page `page` under the folder `root` reads
/// it, its includes read in: the files read, and its snippets (`None`: it
/// does not parse). The include map's own invariants are checked here.
pub(crate) fn parse_with_includes(
    root: &Path,
    page: &Path,
    text: &str,
) -> Option<(Vec<PathBuf>, Vec<Snippet>)> {
    let syntax = match Format::of(&page.to_string_lossy()) {
        Some(Format::Rst) => include::Syntax::Rst,
        _ => include::Syntax::Markdown {
            myst: myst::is_myst(text),
        },
    };
    let shown = page.strip_prefix(root).unwrap_or(page).to_string_lossy();
    let options = ParseOptions::default();
    let allowance = include::MAX_FOLDER_BYTES;
    let Some(spliced) = include::splice(root, page, text, syntax, &|_| Ok(()), allowance) else {
        return parse_file(&shown, "page", "", text, &options)
            .ok()
            .map(|(_, s)| (Vec::new(), s));
    };
    assert_eq!(
        spliced.lines.len(),
        spliced.text.lines().count(),
        "a line map per line"
    );
    let page_lines = text.lines().count().max(1);
    assert!(
        spliced.lines.iter().all(|&l| (1..=page_lines).contains(&l)),
        "lines map into the page"
    );
    assert!(
        spliced.text.len() <= include::MAX_BYTES + 2 * text.len(),
        "page size bounded"
    );
    let (_, snippets) = parse_spliced(
        &shown,
        "page",
        "",
        &spliced.text,
        Some(&spliced.lines),
        &options,
    )
    .ok()?;
    Some((spliced.files, snippets))
}

/// `path` as the watcher and [`Cache::includers`] name files: absolute, with
/// `.` and `..` resolved.
pub(crate) fn absolute_path(path: &Path) -> PathBuf {
    include::absolute(path)
}

/// The file's line of 1-based `line` of a text made from it, by `lines` (the
/// file's line of each line of the text); past the end, the last.
fn map_line(lines: &[usize], line: usize) -> usize {
    let last = lines.last().copied().unwrap_or(1);
    lines.get(line.saturating_sub(1)).copied().unwrap_or(last)
}

/// Most characters of a title, a heading, a source's name or a tag: every
/// passage of a page carries them (in its citation and index fields), so a
/// 500 KB title made gigabytes of index. Longer ones are cut, with "…".
pub(super) const MAX_NAME_CHARS: usize = 200;

/// Most tags a page keeps, for the same reason.
const MAX_TAGS: usize = 50;

/// `text` cut to `max` characters, with "…" when cut.
pub(super) fn clip(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", text[..at].trim_end()),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use page::tests::GOOD;

    #[test]
    fn a_file_hash_follows_its_passages_as_well_as_its_bytes() {
        // The index re-reads a file whose hash changed: an upgrade that cuts the
        // same bytes into other passages must change it.
        let page = Arc::new(PageInfo {
            file: "knowledge/a.md".into(),
            collection: String::new(),
            title: "A".into(),
            source: "S".into(),
            published: None,
            tags: Vec::new(),
        });
        let snippet = |text: &str, line| Snippet {
            id: "a#x-1".into(),
            page: page.clone(),
            line,
            heading: Arc::from("X"),
            url: None,
            text: text.into(),
            code: Vec::new(),
        };
        let hash = |snippets: &[Snippet]| {
            let mut h = Sha256::new();
            fingerprint_snippets(snippets, &mut h);
            format!("{:x}", h.finalize())
        };
        let one = [snippet("Setup. Run apt.", 3)];
        assert_eq!(hash(&one), hash(&[snippet("Setup. Run apt.", 3)]));
        for other in [
            vec![snippet("Setup.", 3), snippet("Run apt.", 3)],
            vec![snippet("Setup. Run apt.", 4)],
            vec![snippet("Setup.", 3)],
        ] {
            assert_ne!(hash(&one), hash(&other), "{other:?}");
        }
    }

    #[test]
    fn notebooks_are_read_as_the_markdown_of_their_cells() {
        let nb = r###"{
 "cells": [
  {
   "cell_type": "markdown",
   "metadata": {},
   "source": [
    "# Plotting sales\n",
    "\n",
    "## Monthly totals\n",
    "\n",
    "Group the orders by month with `resample`:"
   ]
  },
  {
   "cell_type": "code",
   "metadata": {},
   "outputs": [],
   "source": [
    "monthly = orders.resample(\"M\").sum()"
   ]
  }
 ],
 "metadata": {"kernelspec": {"language": "python"}},
 "nbformat": 4
}"###;
        let (info, s) =
            parse_file("k/sales.ipynb", "sales", "", nb, &ParseOptions::default()).unwrap();
        assert_eq!(info.title, "Plotting sales");
        assert_eq!(s.len(), 1, "{s:#?}");
        assert_eq!(&*s[0].heading, "Monthly totals");
        assert_eq!(
            s[0].text,
            "Group the orders by month with resample:\n\nmonthly = orders.resample(\"M\").sum()"
        );
        assert_eq!(s[0].code.len(), 1);
        assert_eq!(s[0].line, 11, "the line of the cell's text in the file");
        let bad = parse_file(
            "k/x.ipynb",
            "x",
            "",
            "{\n \"cells\": [\n",
            &ParseOptions::default(),
        )
        .unwrap_err();
        assert_eq!(bad.line, 3);
        assert!(
            bad.to_string()
                .starts_with("k/x.ipynb:3: not a Jupyter notebook: EOF"),
            "{bad}"
        );
    }

    /// An empty `knowledge` folder in a temporary directory, which lives as
    /// long as the directory returned.
    fn knowledge_folder() -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let k = dir.path().join("knowledge");
        std::fs::create_dir_all(&k).unwrap();
        (dir, k)
    }

    /// Every passage of `kb`, file by file.
    fn passages(kb: &KnowledgeBase) -> impl Iterator<Item = &Snippet> {
        kb.file_snippets.iter().flat_map(|f| f.iter())
    }

    #[test]
    fn word_documents_are_read_and_a_broken_one_is_a_problem() {
        let (_dir, k) = knowledge_folder();
        let w = "http://schemas.openxmlformats.org/wordprocessingml/2006/main";
        let document = format!(
            r#"<w:document xmlns:w="{w}"><w:body><w:p><w:pPr><w:pStyle w:val="Heading2"/></w:pPr><w:r><w:t>Expenses</w:t></w:r></w:p><w:p><w:r><w:t>Claims are paid within 14 days.</w:t></w:r></w:p></w:body></w:document>"#
        );
        let core = r#"<cp:coreProperties xmlns:cp="c" xmlns:dc="d" xmlns:dcterms="t"><dc:title>Finance policy</dc:title><dcterms:modified>2024-05-17T09:30:00Z</dcterms:modified></cp:coreProperties>"#;
        std::fs::write(
            k.join("policy.docx"),
            docx::tests::docx(&[
                ("word/document.xml", &document),
                ("docProps/core.xml", core),
            ]),
        )
        .unwrap();
        std::fs::write(k.join("broken.docx"), b"PK\x03\x04 truncated").unwrap();
        let kb = load(&k).unwrap();
        let s: Vec<&Snippet> = passages(&kb).collect();
        assert_eq!(s.len(), 1, "{:#?}", kb.errors);
        assert_eq!(s[0].text, "Claims are paid within 14 days.");
        assert_eq!(&*s[0].heading, "Expenses");
        assert_eq!(s[0].page.title, "Finance policy");
        assert_eq!(s[0].page.published, NaiveDate::from_ymd_opt(2024, 5, 17));
        // Its lines are the Markdown's made from it: no place a reader finds.
        assert_eq!(s[0].place(), Place::Document);
        let errors: Vec<String> = kb.errors.iter().map(|e| e.to_string()).collect();
        assert_eq!(errors.len(), 1);
        assert!(
            errors[0].starts_with("knowledge/broken.docx:1: cannot read file: not a Word document"),
            "{errors:?}"
        );
    }

    #[test]
    fn spreadsheets_are_read_a_passage_a_row_and_a_broken_one_is_a_problem() {
        use WorkbookCell::*;
        let (_dir, k) = knowledge_folder();
        let faq: &[WorkbookCell<'_>] = &[
            Text("A1", "Question"),
            Text("B1", "Answer"),
            Text("A2", "Where is the VPN guide?"),
            Text("B2", "On the IT wiki."),
            Text("A4", "Who orders laptops?"),
            Text("B4", "Facilities, within a week."),
        ];
        let bytes = written_workbook(&[("FAQ", false, faq, &[])], "Office FAQ");
        std::fs::write(k.join("faq.xlsx"), bytes).unwrap();
        std::fs::write(
            k.join("ports.csv"),
            "Service,Port\nweb,8080\nmetrics,9090\n",
        )
        .unwrap();
        std::fs::write(k.join("broken.xlsx"), b"PK\x03\x04 truncated").unwrap();
        let kb = load(&k).unwrap();
        let s: Vec<(&str, &str, &str, Place)> = passages(&kb)
            .map(|s| (&*s.page.title, &*s.heading, &*s.text, s.place()))
            .collect();
        let row = "Question: Where is the VPN guide?; Answer: On the IT wiki.";
        let laptops = "Question: Who orders laptops?; Answer: Facilities, within a week.";
        assert_eq!(
            s,
            [
                // A row and its header cells, cited by the row.
                ("Office FAQ", "", row, Place::Row(2)),
                ("Office FAQ", "", laptops, Place::Row(4)),
                // A CSV file is text: its rows are cited by their lines.
                ("ports", "", "Service: web; Port: 8080", Place::Line(2)),
                ("ports", "", "Service: metrics; Port: 9090", Place::Line(3)),
            ]
        );
        let errors: Vec<String> = kb.errors.iter().map(|e| e.to_string()).collect();
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(
            errors[0].starts_with("knowledge/broken.xlsx:1: cannot read file: not a workbook"),
            "{errors:?}"
        );
    }

    #[test]
    fn opendocument_files_are_read_as_documents_and_sheets() {
        let (_dir, k) = knowledge_folder();
        let text = r#"<office:text><text:h text:outline-level="2">Expenses</text:h><text:p>Claims are paid within 14 days.</text:p></office:text>"#;
        std::fs::write(
            k.join("policy.odt"),
            odf::tests::odf(text, "", "Finance policy"),
        )
        .unwrap();
        let sheet = r#"<office:spreadsheet><table:table table:name="Rooms"><table:table-row><table:table-cell><text:p>Team</text:p></table:table-cell><table:table-cell><text:p>Room</text:p></table:table-cell></table:table-row><table:table-row table:number-rows-repeated="3"/><table:table-row><table:table-cell><text:p>Support</text:p></table:table-cell><table:table-cell><text:p>3.1</text:p></table:table-cell></table:table-row></table:table></office:spreadsheet>"#;
        std::fs::write(k.join("rooms.ods"), odf::tests::odf(sheet, "", "")).unwrap();
        let kb = load(&k).unwrap();
        assert!(kb.errors.is_empty(), "{:?}", kb.errors);
        let s: Vec<(&str, &str, &str, Place)> = passages(&kb)
            .map(|s| (&*s.page.title, &*s.heading, &*s.text, s.place()))
            .collect();
        assert_eq!(
            s,
            [
                // Its lines are the Markdown's made from it: cited by the file.
                (
                    "Finance policy",
                    "Expenses",
                    "Claims are paid within 14 days.",
                    Place::Document
                ),
                ("rooms", "", "Team: Support; Room: 3.1", Place::Row(5)),
            ]
        );
        assert_eq!(kb.file_snippets.len(), 2);
    }

    #[test]
    fn pdf_documents_are_read_and_a_broken_one_is_a_problem() {
        let (_dir, k) = knowledge_folder();
        let bytes = pdf::tests::pdf(&[
            &[
                &["Travel policy"],
                &["Trains are booked by the office."],
                &["1"],
            ],
            &[
                &["Travel policy"],
                &["Hotels up to 120 euros a night."],
                &["2"],
            ],
        ]);
        std::fs::write(k.join("travel-policy.pdf"), bytes).unwrap();
        std::fs::write(k.join("broken.pdf"), b"%PDF-1.5\n truncated").unwrap();
        let kb = load(&k).unwrap();
        let s: Vec<&Snippet> = passages(&kb).collect();
        let read: Vec<(&str, &str)> = s.iter().map(|s| (&*s.heading, &*s.text)).collect();
        // Two pages: too few for a running title to tell; page numbers go.
        assert_eq!(
            read,
            [
                (
                    "Page 1",
                    "Travel policy\n\nTrains are booked by the office."
                ),
                ("Page 2", "Travel policy\n\nHotels up to 120 euros a night.")
            ],
            "{:#?}",
            kb.errors
        );
        assert_eq!(s[0].page.title, "travel policy");
        let places: Vec<Place> = s.iter().map(|s| s.place()).collect();
        assert_eq!(places, [Place::Page(1), Place::Page(2)]);
        let errors: Vec<String> = kb.errors.iter().map(|e| e.to_string()).collect();
        assert_eq!(errors.len(), 1);
        assert!(
            errors[0].starts_with("knowledge/broken.pdf:1: cannot read file: not a readable PDF"),
            "{errors:?}"
        );
    }

    #[test]
    fn a_sectioned_pdfs_passages_are_cited_by_the_page_they_start_on() {
        let (_dir, k) = knowledge_folder();
        let bytes = pdf::tests::pdf(&[
            &[
                &["1 Leave"],
                &["Everyone gets thirty days."],
                &["2 Expenses"],
                &["Receipts go to finance."],
            ],
            &[&["2.1 Travel"], &["Trains are booked by the office."]],
            &[
                &["More on trains: second class."],
                &["3 Equipment"],
                &["Laptops."],
            ],
        ]);
        std::fs::write(k.join("handbook.pdf"), bytes).unwrap();
        let kb = load(&k).unwrap();
        let s: Vec<(&str, Place)> = passages(&kb).map(|s| (&*s.heading, s.place())).collect();
        // A section that runs on to the next page is cited by its first.
        assert_eq!(
            s,
            [
                ("1 Leave", Place::Page(1)),
                ("2 Expenses", Place::Page(1)),
                ("2 Expenses › 2.1 Travel", Place::Page(2)),
                ("3 Equipment", Place::Page(3)),
            ],
            "{:#?}",
            kb.errors
        );
    }

    #[test]
    fn a_decks_passages_are_cited_by_slide_and_a_broken_deck_is_a_problem() {
        let (_dir, k) = knowledge_folder();
        let bullets = |items: &[&str]| {
            let paras: String = (items.iter())
                .map(|t| format!("<a:p><a:r><a:t>{t}</a:t></a:r></a:p>"))
                .collect();
            pptx::tests::sp(r#"<p:ph idx="1"/>"#, &paras)
        };
        let bytes = pptx::tests::deck(
            &[
                ("Agenda", &bullets(&["Travel", "Equipment"]), None),
                (
                    "Travel",
                    &bullets(&["Trains only"]),
                    Some("Book trains through the office."),
                ),
                // Words a site generator's syntax would take for its own.
                (
                    "Export",
                    &pptx::tests::sp(
                        "",
                        "<a:p><a:r><a:t>export licences from the ministry take six weeks.</a:t></a:r></a:p>\
                         <a:p><a:r><a:t>:::tip ask early</a:t></a:r></a:p>",
                    ),
                    None,
                ),
            ],
            &[0, 1, 2],
            &[],
        );
        std::fs::write(k.join("plan.pptx"), bytes).unwrap();
        std::fs::write(k.join("broken.pptx"), b"PK\x03\x04 truncated").unwrap();
        let kb = load(&k).unwrap();
        let s: Vec<(&str, &str, Place)> = passages(&kb)
            .map(|s| (&*s.heading, &*s.text, s.place()))
            .collect();
        assert_eq!(
            s,
            [
                ("Agenda", "Travel\n\nEquipment", Place::Slide(1)),
                (
                    "Travel",
                    "Trains only\n\nBook trains through the office.",
                    Place::Slide(2)
                ),
                (
                    "Export",
                    "export licences from the ministry take six weeks.\n\n:::tip ask early",
                    Place::Slide(3)
                ),
            ]
        );
        let errors: Vec<String> = kb.errors.iter().map(|e| e.to_string()).collect();
        assert_eq!(errors.len(), 1);
        assert!(
            errors[0]
                .starts_with("knowledge/broken.pptx:1: cannot read file: not a PowerPoint deck"),
            "{errors:?}"
        );
    }

    #[test]
    fn decomposed_text_and_file_names_are_read_composed() {
        let (_dir, k) = knowledge_folder();
        // As macOS writes them: accents and Hangul as separate marks and jamo.
        let page = "# Cre\u{300}me bru\u{302}le\u{301}e\n\nSe\u{301}oul: \u{1112}\u{1161}\u{11AB}\u{1100}\u{116E}\u{11A8}.\n";
        std::fs::write(k.join("dessert.md"), page).unwrap();
        std::fs::write(k.join("Cafe\u{301} menu.txt"), "Cre\u{300}pes all day.\n").unwrap();
        let kb = load_for_check(&k, &ParseOptions::default()).unwrap();
        let mut s: Vec<(&str, &str)> = passages(&kb).map(|s| (&*s.page.title, &*s.text)).collect();
        s.sort();
        assert_eq!(
            s,
            [
                ("Café menu", "Crèpes all day."),
                ("Crème brûlée", "Séoul: 한국."),
            ]
        );
    }

    #[test]
    fn files_in_legacy_encodings_read_as_their_writers_meant() {
        let (_dir, k) = knowledge_folder();
        let cp1252 = |text: &str| encoding_rs::WINDOWS_1252.encode(text).0.into_owned();
        let page = "+++\ntitle = \"Café rules\"\n+++\n\n## Crème brûlée\n\nIt’s served “warm”, says Zoë.\n";
        std::fs::write(k.join("cafe.md"), cp1252(page)).unwrap();
        // Notepad's "Unicode": UTF-16, little-endian, after a byte-order mark.
        let notes = "Übergabe\r\n\r\nDie Schlüssel liegen im Büro.\r\n";
        let utf16: Vec<u8> = [0xFF, 0xFE]
            .into_iter()
            .chain(notes.encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        std::fs::write(k.join("handover.txt"), utf16).unwrap();
        let csv =
            "Plat,Prix\nCrêpe à la crème fraîche,4 €\nSoufflé au fromage préparé à la minute,9 €\n";
        std::fs::write(k.join("menu.csv"), cp1252(csv)).unwrap();
        let html = "<html><head><meta charset=\"iso-8859-1\"><title>Équipe</title></head>\
                    <body><h1>Équipe</h1><p>Réunion à midi.</p></body></html>";
        std::fs::write(k.join("team.html"), cp1252(html)).unwrap();
        std::fs::write(k.join("logo.md"), b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR").unwrap();
        let kb = load_for_check(&k, &ParseOptions::default()).unwrap();
        let mut s: Vec<(&str, &str, Place)> = passages(&kb)
            .map(|s| (&*s.page.title, &*s.text, s.place()))
            .collect();
        s.sort_by_key(|p| p.0);
        assert_eq!(
            s,
            [
                (
                    "Café rules",
                    "It’s served “warm”, says Zoë.",
                    Place::Line(7)
                ),
                (
                    "handover",
                    "Übergabe\n\nDie Schlüssel liegen im Büro.",
                    Place::Line(1)
                ),
                (
                    "menu",
                    "Plat: Crêpe à la crème fraîche; Prix: 4 €",
                    Place::Line(2)
                ),
                (
                    "menu",
                    "Plat: Soufflé au fromage préparé à la minute; Prix: 9 €",
                    Place::Line(3)
                ),
                ("Équipe", "Réunion à midi.", Place::Line(1)),
            ]
        );
        let errors: Vec<String> = kb.errors.iter().map(|e| e.to_string()).collect();
        assert_eq!(
            errors,
            ["knowledge/logo.md:1: cannot read file: not a text file: skipped"]
        );
    }

    #[test]
    fn a_pdf_page_that_cannot_be_read_is_left_out_and_named_by_check() {
        let (_dir, k) = knowledge_folder();
        let good = pdf::written(&[
            &[&["1 Leave"], &["Everyone gets thirty days."]],
            &[&["Unreadable."]],
            &[&["2 Expenses"], &["Receipts go to finance."]],
        ]);
        // Page 2 names a font it does not have: the reader panics on it.
        let bytes = pdf::tests::with_page(&good, 2, b"BT /F9 11 Tf 72 700 Td (x) Tj ET");
        std::fs::write(k.join("handbook.pdf"), bytes).unwrap();
        let kb = load_for_check(&k, &ParseOptions::default()).unwrap();
        let s: Vec<(&str, Place)> = passages(&kb).map(|s| (&*s.text, s.place())).collect();
        assert_eq!(
            s,
            [
                ("Everyone gets thirty days.", Place::Page(1)),
                ("Receipts go to finance.", Place::Page(3)),
            ]
        );
        assert!(kb.errors.is_empty(), "{:?}", kb.errors);
        let warnings: Vec<String> = kb.warnings.iter().map(|e| e.to_string()).collect();
        assert_eq!(
            warnings,
            [
                "knowledge/handbook.pdf:1: page 2 could not be read: its text is left out, the other pages are served"
            ]
        );
        // Its line 1 is no page: the problem is the document's.
        assert_eq!(kb.warnings[0].place(), Place::Document);
    }

    #[test]
    fn a_duplicate_id_in_a_pdf_is_placed_on_its_passages_page() {
        let (_dir, k) = knowledge_folder();
        // Page 2 of the PDF is cited as section "Page 2", as is the page's.
        let page =
            "+++\ntitle = \"Handbook\"\n+++\n\n## Page 2\n\nHotels are booked by the office.\n";
        std::fs::write(k.join("handbook.md"), page).unwrap();
        let bytes = pdf::written(&[&[&["Trains are booked."]], &[&["Hotels too."]]]);
        std::fs::write(k.join("handbook.pdf"), bytes).unwrap();
        let kb = load_for_check(&k, &ParseOptions::default()).unwrap();
        let [e] = &kb.errors[..] else {
            panic!("{:?}", kb.errors);
        };
        assert_eq!(
            (&*e.file, &e.kind),
            (
                "knowledge/handbook.pdf",
                &ProblemKind::DuplicateId("handbook#page-2-1".into())
            )
        );
        assert_eq!(e.place(), Place::Page(2));
    }

    #[test]
    fn antora_pages_link_where_antora_publishes_them() {
        let options = ParseOptions {
            mount: Some(Mount {
                collection: "guide".into(),
                url_base: Some("https://example.org/guide/latest/".into()),
                ..Mount::default()
            }),
            ..ParseOptions::default()
        };
        let table = [
            (
                "guide/docs/modules/ROOT/pages/install",
                "install.html#_setup",
            ),
            (
                "guide/docs/modules/admin/pages/users/add",
                "admin/users/add.html#_setup",
            ),
            ("guide/modules/ROOT/pages/index", "index.html#_setup"),
            // Not Antora's layout: the path as it is.
            ("guide/pages/modules/x", "pages/modules/x.html#_setup"),
        ];
        for (id_base, want) in table {
            let file = format!("{id_base}.adoc");
            let (_, s) =
                parse_file(&file, id_base, "guide", "== Setup\n\nRun it.\n", &options).unwrap();
            assert_eq!(
                s[0].url.as_deref(),
                Some(format!("https://example.org/guide/latest/{want}").as_str()),
                "{id_base}"
            );
        }
        // Only AsciiDoc pages are Antora's.
        let (_, s) = parse_file(
            "guide/modules/ROOT/pages/x.md",
            "guide/modules/ROOT/pages/x",
            "guide",
            "## Setup\n\nRun it.\n",
            &options,
        )
        .unwrap();
        assert_eq!(
            s[0].url.as_deref(),
            Some("https://example.org/guide/latest/modules/ROOT/pages/x.html#setup")
        );
    }

    #[test]
    fn a_link_is_read_only_to_a_page_of_its_own_collection() {
        // The same words whatever the target: they must not tell which files exist.
        const REFUSED: &str = "a link to no page of its own collection `a`";
        let dir = tempfile::tempdir().unwrap();
        let k = dir.path().join("knowledge");
        for folder in ["a", "b", "a/.private"] {
            std::fs::create_dir_all(k.join(folder)).unwrap();
        }
        let page = |title: &str| format!("# {title}\n\nThe {title} text.\n");
        std::fs::write(k.join("a/intro.md"), page("intro")).unwrap();
        std::fs::write(k.join("a/.private/draft.md"), page("draft")).unwrap();
        std::fs::write(k.join("b/secret.md"), page("secret")).unwrap();
        std::fs::write(dir.path().join("config.md"), page("config")).unwrap();
        // (link in a/, its target, why it is refused: None when read)
        let table: &[(&str, &str, Option<&str>)] = &[
            ("same.md", "intro.md", None),
            ("other.md", "../b/secret.md", Some(REFUSED)),
            ("outside.md", "../../config.md", Some(REFUSED)),
            ("hidden.md", ".private/draft.md", Some(REFUSED)),
            ("dangling.md", "gone.md", Some(REFUSED)),
        ];
        for (link, target, _) in table {
            std::os::unix::fs::symlink(target, k.join("a").join(link)).unwrap();
        }
        let kb = load(&k).unwrap();
        for (link, _, why) in table {
            let file = format!("knowledge/a/{link}");
            let error = kb.errors.iter().find(|e| e.file == file);
            match why {
                None => {
                    assert!(error.is_none(), "{link}: {error:?}");
                    assert!(kb.files.iter().any(|f| f.file == file), "{link} not read");
                }
                Some(why) => {
                    let e = error.unwrap_or_else(|| panic!("{link} was read"));
                    assert!(e.to_string().contains(why), "{link}: {e}");
                }
            }
        }
        let in_a: Vec<&str> = kb
            .file_snippets
            .iter()
            .flat_map(|s| s.iter())
            .filter(|s| s.page.collection == "a")
            .map(|s| s.text.as_str())
            .collect();
        assert_eq!(in_a, ["The intro text.", "The intro text."]);
    }

    #[test]
    fn a_git_sources_folder_is_read_only_inside_its_checkout() {
        let dir = tempfile::tempdir().unwrap();
        let (checkout, other) = (dir.path().join("checkout"), dir.path().join("other"));
        for folder in [checkout.join("guide"), other.clone()] {
            std::fs::create_dir_all(folder).unwrap();
        }
        std::fs::write(checkout.join("guide/a.md"), "# A\n\nOwn text.\n").unwrap();
        std::fs::write(other.join("b.md"), "# B\n\nAnother collection's text.\n").unwrap();
        // A folder committed as a link, out of the checkout and within it.
        std::os::unix::fs::symlink("../other", checkout.join("docs")).unwrap();
        std::os::unix::fs::symlink("guide", checkout.join("manual")).unwrap();
        let options = ParseOptions {
            mount: Some(Mount {
                collection: "server".into(),
                within: Some(checkout.clone()),
                ..Mount::default()
            }),
            ..Default::default()
        };
        // (folder read, whether it is read)
        for (folder, read) in [
            (checkout.join("guide"), true),
            (checkout.join("manual"), true),
            (checkout.clone(), true),
            (checkout.join("docs"), false),
            (checkout.join("../other"), false),
        ] {
            let got = load_cached(&folder, &options, &mut Cache::default());
            match got {
                Ok(kb) => {
                    assert!(read, "{folder:?} was read");
                    assert!(kb.files.iter().all(|f| f.file.starts_with("server/")));
                    assert!(
                        !kb.file_snippets
                            .iter()
                            .flat_map(|s| s.iter())
                            .any(|s| s.text.contains("Another"))
                    );
                }
                Err(e) => {
                    assert!(!read, "{folder:?}: {e}");
                    assert!(e.to_string().contains("out of the repository"), "{e}");
                }
            }
        }
    }

    #[test]
    fn files_of_formats_not_read_are_counted_by_extension() {
        let dir = tempfile::tempdir().unwrap();
        let k = dir.path();
        std::fs::create_dir_all(k.join("guide/.git")).unwrap();
        for f in [
            "guide/~$d.docx",
            "guide/a.xls",
            "guide/b.XLS",
            "guide/c.adoc",
            "guide/d.docx",
            "guide/logo.png",
            "guide/Makefile",
            "guide/.git/config",
            "guide/page.rst",
            "guide/SUMMARY.md",
            "synonyms.toml",
            "README.md",
        ] {
            std::fs::write(k.join(f), "x").unwrap();
        }
        let got: Vec<(String, usize)> = unread_formats(k).into_iter().collect();
        assert_eq!(
            got,
            [
                (".png".to_string(), 1),
                (".xls".to_string(), 2),
                ("Makefile".to_string(), 1)
            ]
        );
    }

    #[test]
    fn each_synonyms_file_serves_the_rooms_of_its_folder() {
        let dir = tempfile::tempdir().unwrap();
        let group = "[[group]]\nterms = [\"falcon\", \"osprey\"]\n";
        let write = |root: &Path, rel: &str, text: &str| {
            let path = root.join(rel);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        };
        let k = dir.path().join("knowledge");
        for rel in [
            "synonyms.toml",
            "team/synonyms.toml",
            "team/hr/synonyms.toml",
        ] {
            write(&k, rel, group);
        }
        write(&k, "ops/synonyms.toml", "[[group]\n");
        let docs = dir.path().join("docs");
        for rel in ["synonyms.toml", "deep/synonyms.toml"] {
            write(&docs, rel, group);
        }
        let served = |kb: &KnowledgeBase| -> Vec<(String, Option<String>)> {
            (kb.synonyms.iter())
                .map(|(f, s)| (f.clone(), s.collection.clone()))
                .collect()
        };
        let kb = load(&k).unwrap();
        let own = |c: &str| Some(c.to_string());
        assert_eq!(
            served(&kb),
            [
                ("knowledge/synonyms.toml".into(), None),
                ("knowledge/team/hr/synonyms.toml".into(), own("team/hr")),
                ("knowledge/team/synonyms.toml".into(), own("team")),
            ]
        );
        let failed: Vec<&str> = kb.synonyms_failed.iter().map(String::as_str).collect();
        assert_eq!(failed, ["knowledge/ops/synonyms.toml"]);
        // A docs source's file at its root serves its collection, whatever
        // `include` says; one deeper in its tree is not read.
        let options = ParseOptions {
            mount: Some(Mount {
                collection: "guide".into(),
                include: Some(crate::config::glob_set("include", &["**/*.md".into()]).unwrap()),
                ..Mount::default()
            }),
            ..ParseOptions::default()
        };
        let kb = load_cached(&docs, &options, &mut Cache::default()).unwrap();
        assert_eq!(served(&kb), [("guide/synonyms.toml".into(), own("guide"))]);
        assert!(kb.errors.is_empty(), "{:?}", kb.errors);
        let mut options = options;
        if let Some(m) = options.mount.as_mut() {
            m.exclude =
                Some(crate::config::glob_set("exclude", &["synonyms.toml".into()]).unwrap());
        }
        let kb = load_cached(&docs, &options, &mut Cache::default()).unwrap();
        assert_eq!(served(&kb), []);
    }

    #[test]
    fn folder_loads_good_files_and_reports_bad_ones() {
        let dir = tempfile::tempdir().unwrap();
        let k = dir.path().join("knowledge");
        std::fs::create_dir_all(k.join("team")).unwrap();
        std::fs::write(k.join("good.md"), GOOD).unwrap();
        std::fs::write(k.join("team/bad.md"), "+++\noops\n").unwrap();
        std::fs::write(k.join("README.md"), "not knowledge").unwrap();
        std::fs::write(k.join("team/SUMMARY.md"), "- [a](a.md)\n").unwrap();
        std::fs::write(k.join("team/README.md"), "# Team\n\nThe team page.\n").unwrap();
        std::fs::write(k.join("team/logo.png"), [0x89, b'P', b'N', b'G', 0]).unwrap();
        std::fs::write(k.join("team/blob.md"), [b'a', 0, 1, 2]).unwrap();
        // A named pipe nobody writes to (reading it would wait forever), and a
        // page past the size bound (sparse: no disk used).
        let fifo = std::process::Command::new("mkfifo")
            .arg(k.join("team/pipe.md"))
            .status()
            .unwrap();
        assert!(fifo.success());
        std::fs::File::create(k.join("team/huge.md"))
            .and_then(|f| f.set_len(MAX_TEXT_FILE_BYTES + 1))
            .unwrap();
        std::fs::write(
            k.join("synonyms.toml"),
            "[[group]]\nterms = [\"ODA\", \"official development assistance\"]\n",
        )
        .unwrap();
        let kb = load(&k).unwrap();
        assert_eq!(kb.snippet_count(), 3, "{:#?}", kb.files);
        let mut bad: Vec<String> = kb.errors.iter().map(|e| e.to_string()).collect();
        bad.sort();
        assert_eq!(
            bad,
            [
                "knowledge/team/bad.md:1: front matter is never closed: add a `+++` line after it",
                "knowledge/team/blob.md:1: cannot read file: not a text file: skipped",
                "knowledge/team/huge.md:1: cannot read file: larger than 32 MB: not read",
                "knowledge/team/pipe.md:1: cannot read file: not a regular file (a pipe, socket or device): not read",
            ]
        );
        assert_eq!(kb.synonyms.len(), 1);
        let before = kb.hash.clone();
        std::fs::write(k.join("good.md"), GOOD.replace("prime", "deputy")).unwrap();
        assert_ne!(load(&k).unwrap().hash, before);
    }

    #[test]
    fn cached_loads_reparse_only_files_whose_stamp_changed() {
        let dir = tempfile::tempdir().unwrap();
        let k = dir.path().join("knowledge");
        std::fs::create_dir_all(&k).unwrap();
        let path = k.join("good.md");
        let set_time = |secs_ago: u64| {
            let t = SystemTime::now() - std::time::Duration::from_secs(secs_ago);
            std::fs::File::options()
                .write(true)
                .open(&path)
                .unwrap()
                .set_modified(t)
                .unwrap();
            t
        };
        std::fs::write(&path, GOOD).unwrap();
        let old = set_time(60);
        let mut cache = Cache::default();
        let first = load_cached(&k, &ParseOptions::default(), &mut cache).unwrap();
        // Same size and time: the cached parse is used (the new bytes are not read).
        std::fs::write(&path, GOOD.replace("prime", "PRIME")).unwrap();
        std::fs::File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_modified(old)
            .unwrap();
        let again = load_cached(&k, &ParseOptions::default(), &mut cache).unwrap();
        assert_eq!(again.file_snippets, first.file_snippets);
        assert_eq!(again.hash, first.hash);
        // A new time: re-read.
        set_time(30);
        let changed = load_cached(&k, &ParseOptions::default(), &mut cache).unwrap();
        assert!(changed.snippets().any(|s| s.text.contains("PRIME")));
        assert_ne!(changed.hash, first.hash);
        assert_eq!(changed.hash, load(&k).unwrap().hash);
        // A write just now that keeps size and time is still seen: recent stamps
        // are never trusted.
        std::fs::write(&path, GOOD).unwrap();
        let now = load_cached(&k, &ParseOptions::default(), &mut cache).unwrap();
        std::fs::write(&path, GOOD.replace("prime", "PRIME")).unwrap();
        let racy = load_cached(&k, &ParseOptions::default(), &mut cache).unwrap();
        assert_ne!(racy.hash, now.hash);
        // Deleted: gone from the result and the cache.
        std::fs::remove_file(&path).unwrap();
        assert_eq!(
            load_cached(&k, &ParseOptions::default(), &mut cache)
                .unwrap()
                .snippet_count(),
            0
        );
        assert!(cache.files.is_empty());
    }

    #[test]
    fn included_files_are_read_into_their_pages_and_followed_for_changes() {
        let dir = tempfile::tempdir().unwrap();
        let k = dir.path().join("docs");
        let write = |name: &str, text: &str| {
            let p = k.join(name);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(&p, text).unwrap();
            p
        };
        write(
            "guide.rst",
            "Guide\n=====\n\nSetting up\n----------\n\n.. include:: _parts/intro.rst\n\nThe app factory:\n\n.. literalinclude:: examples/app.py\n   :pyobject: create_app\n\n.. include:: later.rst\n",
        );
        write(
            "_parts/intro.rst",
            "Install the package before anything else.\n",
        );
        let code = write(
            "examples/app.py",
            "def create_app():\n    return Flask(__name__)\n",
        );
        write(
            "chapter.md",
            "# Chapter\n\n{{#include _parts/note.md}}\n\n{{#include howto.md:1}}\n",
        );
        write("_parts/note.md", "A note shared by chapters.\n");
        // Shown in part elsewhere: still a page of its own.
        write("howto.md", "# How to\n\nDo it this way.\n");
        // Shown whole only by a draft, which is not shown: still a page.
        write(
            "draft.md",
            "---\ndraft: true\n---\n\n{{#include shared.md}}\n",
        );
        write("shared.md", "# Shared\n\nShared text.\n");
        // A docs source: one collection, so a page may include from any folder.
        let options = ParseOptions {
            mount: Some(Mount {
                collection: "docs".into(),
                ..Mount::default()
            }),
            ..ParseOptions::default()
        };
        let kb = load_for_check(&k, &options).unwrap();
        // The parts are read where they are included, not as pages.
        let files: Vec<&str> = kb.files.iter().map(|f| f.file.as_str()).collect();
        assert_eq!(
            files,
            [
                "docs/chapter.md",
                "docs/draft.md",
                "docs/guide.rst",
                "docs/howto.md",
                "docs/shared.md"
            ]
        );
        let find = |kb: &KnowledgeBase, needle: &str| {
            kb.snippets()
                .find(|s| s.text.contains(needle))
                .map(|s| (s.heading.clone(), s.line))
                .unwrap_or_else(|| panic!("{needle} not read"))
        };
        assert_eq!(find(&kb, "Install the package"), ("Setting up".into(), 7));
        assert_eq!(find(&kb, "Flask(__name__)"), ("Setting up".into(), 7));
        assert_eq!(find(&kb, "shared by chapters").1, 3);
        let missing: Vec<String> = kb.warnings.iter().map(|w| w.to_string()).collect();
        assert_eq!(missing.len(), 1, "{missing:?}");
        assert!(
            missing[0].starts_with("docs/guide.rst:14: cannot read included file `later.rst`"),
            "{missing:?}"
        );
        // A cached load sees an included file change as its page's change,
        // and a file named but missing appear.
        let mut cache = Cache::default();
        let before = load_cached(&k, &options, &mut cache).unwrap();
        let includers = cache.includers();
        assert_eq!(includers[&absolute_path(&code)], [k.join("guide.rst")]);
        assert_eq!(
            includers[&absolute_path(&k.join("later.rst"))],
            [k.join("guide.rst")]
        );
        std::fs::write(&code, "def create_app():\n    return Quart(__name__)\n").unwrap();
        let after = load_cached(&k, &options, &mut cache).unwrap();
        assert_ne!(after.hash, before.hash);
        find(&after, "Quart(__name__)");
        write("later.rst", "Added later, by another pull request.\n");
        let later = load_cached(&k, &options, &mut cache).unwrap();
        assert_eq!(&*find(&later, "Added later").0, "Setting up");
        // In a knowledge folder each folder is a collection: a page does not
        // show another's files.
        let kb = load_for_check(&k, &ParseOptions::default()).unwrap();
        let shown = |s: &Snippet| s.text.contains("Install the package");
        assert!(
            !kb.snippets()
                .any(|s| s.page.file == "docs/guide.rst" && shown(s))
        );
        // It stays a page of its own collection.
        assert!(
            kb.snippets()
                .any(|s| s.page.file == "docs/_parts/intro.rst" && shown(s))
        );
        assert!(
            kb.warnings.iter().any(|w| w.line == 7
                && w.to_string()
                    .contains("is in collection `_parts`, not the page's ``")),
            "{:?}",
            kb.warnings
        );
    }

    #[test]
    fn bad_synonyms_file_names_its_line() {
        let e = parse_synonyms(
            "k/synonyms.toml",
            "[[group]]\nterms = [\"a\", \"b\"]\n\n[[group]]\nterms = \"oops\"\n",
        )
        .unwrap_err();
        assert_eq!(e.line, 5, "{e}");
        let e = parse_synonyms("k/synonyms.toml", "[[group]]\nterms = [\"lonely\"]\n").unwrap_err();
        assert_eq!(e.line, 2, "{e}");
    }

    #[test]
    fn what_pages_include_is_bounded_for_the_whole_folder_in_path_order() {
        let (_dir, k) = knowledge_folder();
        std::fs::write(k.join("_part.md"), "The shared part.\n".repeat(20)).unwrap();
        let page = |n: usize| format!("# Page {n}\n\n{{{{#include _part.md}}}}\n");
        // Enough pages that they are read on several threads.
        for n in 0..40 {
            std::fs::write(k.join(format!("p{n:02}.md")), page(n)).unwrap();
        }
        // What one page's include brings in.
        let one = include::splice(
            &k,
            &k.join("p00.md"),
            &page(0),
            include::Syntax::Markdown { myst: false },
            &|_| Ok(()),
            usize::MAX,
        )
        .unwrap()
        .budget
        .brought;
        let with_part = |kb: &KnowledgeBase| -> Vec<String> {
            let mut files: Vec<String> = passages(kb)
                .filter(|s| s.text.contains("The shared part."))
                // Included by none, the part is a page of its own.
                .filter(|s| s.page.file != "knowledge/_part.md")
                .map(|s| s.page.file.clone())
                .collect();
            files.dedup();
            files
        };
        let first =
            |n: usize| -> Vec<String> { (0..n).map(|n| format!("knowledge/p{n:02}.md")).collect() };
        let options = ParseOptions::default();
        let mut cache = Cache::default();
        // (pages shown with the part, of those reading their includes; the
        // pages whose include is refused get a warning)
        let table: &[(usize, usize)] = &[(40, 40), (40, 3), (40, 0), (39, 3)];
        for &(pages, read_whole) in table {
            for n in pages..40 {
                std::fs::write(k.join(format!("p{n:02}.md")), "# Plain\n\nNo includes.\n").unwrap();
            }
            let allowance = read_whole * one + one / 2;
            let kb = read(&k, &options, true, &mut Cache::default(), allowance).unwrap();
            assert_eq!(with_part(&kb), first(read_whole), "{allowance}");
            let over: Vec<&str> = (kb.warnings.iter())
                .filter(|w| w.to_string().contains("all together, over 64 MB"))
                .map(|w| w.file.as_str())
                .collect();
            let refused: Vec<String> = first(pages).split_off(read_whole);
            assert_eq!(over, refused, "{allowance}");
            // Read with a cache, then again from it: the same pages.
            for _ in 0..2 {
                let cached = read(&k, &options, false, &mut cache, allowance).unwrap();
                assert_eq!(with_part(&cached), first(read_whole), "{allowance}");
                assert_eq!(cached.hash, kb.hash);
            }
        }
        // A page that stops including frees its share for the next one, which
        // the cache then reads again.
        let allowance = 3 * one + one / 2;
        read(&k, &options, false, &mut cache, allowance).unwrap();
        std::fs::write(k.join("p01.md"), "# Page 1\n\nIts own text now.\n").unwrap();
        let cached = read(&k, &options, false, &mut cache, allowance).unwrap();
        let want = ["knowledge/p00.md", "knowledge/p02.md", "knowledge/p03.md"];
        assert_eq!(with_part(&cached), want);
        let fresh = read(&k, &options, false, &mut Cache::default(), allowance).unwrap();
        assert_eq!(cached.hash, fresh.hash);
    }

    #[cfg(unix)]
    #[test]
    fn a_misnamed_folder_the_source_leaves_out_is_no_problem_of_its() {
        let dir = tempfile::tempdir().unwrap();
        let docs = dir.path();
        for (folder, file) in [("docs/a\\b", "page.md"), ("tests/c\\d", "logo.png")] {
            std::fs::create_dir_all(docs.join(folder)).unwrap();
            std::fs::write(docs.join(folder).join(file), "# X\n\nText.\n").unwrap();
        }
        let options = ParseOptions {
            mount: Some(Mount {
                collection: "server".into(),
                include: Some(crate::config::glob_set("include", &["docs/**".into()]).unwrap()),
                ..Mount::default()
            }),
            ..Default::default()
        };
        let kb = load_cached(docs, &options, &mut Cache::default()).unwrap();
        let files: Vec<&str> = kb.errors.iter().map(|e| e.file.as_str()).collect();
        assert_eq!(files, ["server/docs/a\\b"], "{:?}", kb.errors);
    }

    #[test]
    fn a_file_or_folder_named_as_no_citation_can_tell_apart_is_a_problem_of_its_own() {
        use std::os::unix::ffi::OsStrExt;
        let (_dir, k) = knowledge_folder();
        let name = |bytes: &[u8]| k.join(std::ffi::OsStr::from_bytes(bytes));
        let page = |word: &str| format!("# {word}\n\nThe {word} text.\n");
        // (file, its text, the problem that names it; None: read)
        let table: &[(PathBuf, &str, Option<&str>)] = &[
            (k.join("team/handbook.md"), "zebra", None),
            (
                k.join("team\\handbook.md"),
                "walrus",
                Some("knowledge/team\\handbook.md"),
            ),
            (name(b"\xff.md"), "otter", Some("knowledge/\\xFF.md")),
            (name(b"\xfe.md"), "badger", Some("knowledge/\\xFE.md")),
            (k.join("\u{fffd}.md"), "heron", None),
            (k.join("hr/sub/leave.md"), "lynx", None),
            (
                k.join("hr/sub\\leave.md"),
                "mole",
                Some("knowledge/hr/sub\\leave.md"),
            ),
            (
                k.join("hr\\sub/leave.md"),
                "stoat",
                Some("knowledge/hr\\sub"),
            ),
            (
                name(b"hr/\xffsub/leave.md"),
                "vole",
                Some("knowledge/hr/\\xFFsub"),
            ),
            (k.join("hr\\notes.png"), "not knowledge", None),
        ];
        for (path, word, _) in table {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, page(word)).unwrap();
        }
        // Nor does a page of `hr/sub` show what is in `hr\sub`, by a link or
        // an include.
        let inc = "# Inc\n\nIncludes:\n\n{{#include ../../hr\\sub/leave.md}}\n";
        std::fs::write(k.join("hr/sub/inc.md"), inc).unwrap();
        std::os::unix::fs::symlink("../../hr\\sub/leave.md", k.join("hr/sub/link.md")).unwrap();
        let kb = load(&k).unwrap();
        let read: Vec<&str> = passages(&kb).map(|s| s.text.as_str()).collect();
        for (_, word, problem) in table {
            let text = format!("The {word} text.");
            assert_eq!(
                read.contains(&text.as_str()),
                problem.is_none() && *word != "not knowledge",
                "{word}: {read:?}"
            );
            if let Some(file) = problem {
                let e = kb.errors.iter().find(|e| e.file == *file);
                let e = e.unwrap_or_else(|| panic!("{file}: {:?}", kb.errors));
                assert!(e.to_string().contains("rename it"), "{e}");
            }
        }
        // The link is refused as any link out of its collection is.
        assert_eq!(kb.errors.len(), 7, "{:?}", kb.errors);
        // The index leaves out every file a problem names: none is read.
        for f in &kb.files {
            assert!(kb.errors.iter().all(|e| e.file != f.file), "{}", f.file);
        }
    }
}
