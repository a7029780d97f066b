//! Files a page pulls in: `include` and `literalinclude` in reStructuredText
//! (`.. include:: intro.rst`) and MyST Markdown (```` ```{literalinclude} app.py
//! ````), and mdBook's `{{#include file.rs:2:10}}`. The file is read where the
//! directive stands, as the site generator builds the page — a shared paragraph
//! of prose, or an example program shown as code.
//!
//! What a page may include is bounded, since a page is written by whoever can
//! push to the docs: only files inside the source folder, after links are
//! followed; no hidden file or folder (`.git/config`, `.env`); none in another
//! collection or left out by the source's `include`/`exclude`; at most
//! [`MAX_DEPTH`] deep and [`MAX_INCLUDES`] per page; the page with what it
//! includes at most [`MAX_BYTES`] long; and what all the pages of a folder
//! include at most [`MAX_FOLDER_BYTES`] together (the allowance a page is
//! given, see `mod.rs`).

use std::collections::HashSet;
use std::io::ErrorKind;
use std::path::{Component, Path, PathBuf};

use super::passages::indent;

/// A page with the files it includes read into it.
#[derive(Debug, Default)]
pub(super) struct Spliced {
    pub text: String,
    /// The page's 1-based line of each line of `text`: an included line is
    /// its directive's.
    pub lines: Vec<usize>,
    /// Every file read into the page, nested includes too, as found under the
    /// source folder.
    pub files: Vec<PathBuf>,
    /// Files an include named that did not exist: when one appears, the page
    /// changes.
    pub missing: Vec<PathBuf>,
    /// Files included whole as the page's own text (not shown as code, not in
    /// part): parts of pages rather than pages.
    pub parts: Vec<PathBuf>,
    /// Directives whose file was not read, by the page's line, and why.
    pub problems: Vec<(usize, String)>,
    /// What the includes took of the folder's allowance.
    pub budget: Budget,
}

/// What a page's includes took of the allowance it was read under (its
/// share of [`MAX_FOLDER_BYTES`]), and for which allowances it reads the same.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Budget {
    /// Bytes the includes brought into the page.
    pub brought: usize,
    /// The most any include asked the allowance for that it was given.
    pub needed: usize,
    /// The least any include asked for that it was refused, if any.
    pub refused: Option<usize>,
}

impl Budget {
    /// Whether the page, read under `allowance`, reads as it did: every ask
    /// is answered as it was.
    pub fn holds_for(&self, allowance: usize) -> bool {
        self.needed <= allowance && self.refused.is_none_or(|r| allowance < r)
    }
}

/// How deep includes nest (an include in an included file is one deeper).
pub(super) const MAX_DEPTH: usize = 8;

/// The most a page grows to with what it includes.
pub(super) const MAX_BYTES: usize = 4 << 20;

/// The most the files a page includes may add up to, counted each time one
/// is read (a directive may select a line of a large file).
pub(super) const MAX_SCANNED: usize = 16 * MAX_BYTES;

/// The most include directives read for one page, nested ones too.
pub(super) const MAX_INCLUDES: usize = 1_000;

/// The most the includes of all the pages of one folder (the knowledge folder,
/// or a source) may bring in together. Per page limits alone let a commit of
/// a hundred 30-byte pages, each including the same 4 MB file, make a million
/// passages: 50 s and 2.1 GB of memory to index, 1.4 GB on disk, and ten times
/// that for a thousand pages. 64 MB is 16 pages at [`MAX_BYTES`]: a docs site
/// includes shared paragraphs and example programs, kilobytes each (a
/// thousand pages each including 60 KB stay within it), and 64 MB of passages
/// index in some seconds, in a few hundred MB.
pub(super) const MAX_FOLDER_BYTES: usize = 16 * MAX_BYTES;

/// Which syntax a page's directives are written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Syntax {
    Rst,
    /// Markdown: mdBook's includes, and MyST's directives when `myst`.
    Markdown {
        myst: bool,
    },
}

/// `text`, the page at `page` under the source folder `root`, with the files
/// its include directives name read in; `None` when it has none. `allowed`
/// says whether a file (by its path under `root`) may be read into this page
/// (it is in the page's collection and the source's globs want it), or why
/// not; `allowance`: the most its includes may bring in, what is left of
/// [`MAX_FOLDER_BYTES`].
pub(super) fn splice(
    root: &Path,
    page: &Path,
    text: &str,
    syntax: Syntax,
    allowed: &dyn Fn(&Path) -> Result<(), String>,
    allowance: usize,
) -> Option<Spliced> {
    if !mentions(text) {
        return None;
    }
    let root = absolute(root);
    let page = absolute(page);
    let mut s = Splicer {
        top: sphinx_top(&root, &page),
        page_dir: page.parent().unwrap_or(&root).to_path_buf(),
        real_root: root.canonicalize().ok(),
        root,
        allowed,
        allowance,
        out: Spliced::default(),
        found: false,
        stack: vec![page.canonicalize().unwrap_or_else(|_| page.clone())],
        seen: HashSet::new(),
        bytes: text.len(),
        scanned: 0,
        directives: 0,
        showing_code: false,
    };
    s.text(text, &page, syntax, None, "");
    s.found.then_some(s.out)
}

/// Whether `text` may hold an include directive: most pages do not, and are
/// not looked at further.
pub(super) fn mentions(text: &str) -> bool {
    text.contains("include") || text.contains("{{#playground")
}

struct Splicer<'a> {
    /// The source folder (as named, and with its links followed), the folder
    /// an include path starting with `/` is under (Sphinx's: where `conf.py`
    /// is), and the page's own folder.
    root: PathBuf,
    real_root: Option<PathBuf>,
    top: PathBuf,
    page_dir: PathBuf,
    allowed: &'a dyn Fn(&Path) -> Result<(), String>,
    /// The most the page's includes may bring in (see [`splice`]).
    allowance: usize,
    out: Spliced,
    /// Whether any include directive was met.
    found: bool,
    /// The files being read (their real paths), the page first: a file that
    /// includes itself, however indirectly, is not read again.
    stack: Vec<PathBuf>,
    /// What `out.files` and `out.missing` hold.
    seen: HashSet<PathBuf>,
    bytes: usize,
    scanned: usize,
    directives: usize,
    /// Whether the text being copied is shown as code (an mdBook include in a
    /// fence): a file included there is shown, not part of the page's text.
    showing_code: bool,
}

/// One include directive: whether it shows the file as code, the file it
/// names, its options, and whether it is mdBook's (whose paths are from the
/// file it is in, where Sphinx's and MyST's are from the page being built).
struct Directive<'t> {
    literal: bool,
    path: &'t str,
    options: Vec<(String, String)>,
    mdbook: bool,
}

impl Directive<'_> {
    fn option(&self, name: &str) -> Option<&str> {
        self.options
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Whether it shows the file as code rather than as the page's text.
    fn code(&self) -> bool {
        self.literal || self.option("literal").is_some() || self.option("code").is_some()
    }

    /// Whether it takes the whole file.
    fn whole(&self) -> bool {
        const PART: &[&str] = &[
            "lines",
            "start-line",
            "end-line",
            "start-after",
            "end-before",
            "start-at",
            "end-at",
            "pyobject",
            "anchor",
        ];
        !self.options.iter().any(|(k, _)| PART.contains(&k.as_str()))
    }
}

/// An included file's text (or the part of it selected), its path as named
/// under the source folder, and its real path (links followed).
struct Read {
    text: String,
    path: PathBuf,
    real: PathBuf,
}

/// Why an included file was not read.
enum Unread {
    /// It does not exist (yet): its appearing changes the page.
    Missing(PathBuf, String),
    Refused(String),
}

impl Splicer<'_> {
    /// Copies `text` (the file `file`) to the output with its includes read in,
    /// every line prefixed with `prefix`; `at`: the page's line all of it maps
    /// to (`None`: the page itself, line by line).
    fn text(&mut self, text: &str, file: &Path, syntax: Syntax, at: Option<usize>, prefix: &str) {
        let lines: Vec<&str> = text.lines().collect();
        // Text shown as code (a literal block, a fence) or commented out holds
        // no directives, only examples of them.
        let mut code = Code::None;
        let mut i = 0;
        while i < lines.len() {
            let line = lines[i];
            let here = at.unwrap_or(i + 1);
            // mdBook includes in code too: it is how a book shows a file as code.
            if matches!(syntax, Syntax::Markdown { .. }) && line.contains("{{#") {
                let was = self.showing_code;
                self.showing_code |= matches!(code, Code::Fenced(..));
                self.mdbook_line(line, file, syntax, here, prefix);
                self.showing_code = was;
                i += 1;
                continue;
            }
            if code.holds(line) {
                self.line(prefix, line, here);
                i += 1;
                continue;
            }
            let found = match syntax {
                Syntax::Rst => rst_directive(&lines, i),
                Syntax::Markdown { myst: true } => myst_directive(&lines, i),
                Syntax::Markdown { myst: false } => None,
            };
            let Some((d, end)) = found else {
                code = Code::opened_by(line, syntax);
                self.line(prefix, line, here);
                i += 1;
                continue;
            };
            let inner = format!("{prefix}{}", &line[..indent(line)]);
            self.directive(&d, file, syntax, here, &inner);
            i = end;
        }
    }

    fn line(&mut self, prefix: &str, line: &str, at: usize) {
        self.out.text.push_str(prefix);
        self.out.text.push_str(line);
        self.out.text.push('\n');
        self.out.lines.push(at);
    }

    /// A Markdown line with mdBook includes in it. On a line of its own, as
    /// nearly always, an include is read as the page's own lines, its includes
    /// followed; within other text, its file goes in where it stands, as is.
    /// (`\{{#include x}}` is the text `{{#include x}}`, as mdBook shows it.)
    fn mdbook_line(&mut self, line: &str, file: &Path, syntax: Syntax, at: usize, prefix: &str) {
        if let Some(d) = mdbook_directive(line.trim()) {
            let inner = format!("{prefix}{}", &line[..indent(line)]);
            return self.directive(&d, file, syntax, at, &inner);
        }
        let mut current = String::from(prefix);
        let mut rest = line;
        while let Some(open) = rest.find("{{#") {
            let Some(close) = rest[open..].find("}}").map(|c| open + c + 2) else {
                break;
            };
            let escaped = rest[..open].ends_with('\\');
            match mdbook_directive(&rest[open..close]).filter(|_| !escaped) {
                None => {
                    current.push_str(&rest[..open - usize::from(escaped)]);
                    current.push_str(&rest[open..close]);
                }
                Some(d) => {
                    current.push_str(&rest[..open]);
                    self.found = true;
                    if let Some(Read { text, .. }) = self.resolve(&d, file, at, prefix.len()) {
                        let text = if d.code() {
                            let fence = super::code_fence(&text);
                            format!("{fence}rust\n{text}\n{fence}")
                        } else {
                            text.strip_suffix('\n').unwrap_or(&text).to_string()
                        };
                        let mut parts = text.split('\n');
                        current.push_str(parts.next().unwrap_or_default());
                        for part in parts {
                            self.line("", &current, at);
                            current = format!("{prefix}{part}");
                        }
                    }
                }
            }
            rest = &rest[close..];
        }
        current.push_str(rest);
        self.line("", &current, at);
    }

    /// Writes what the directive `d` in `file` includes, or notes why not.
    fn directive(
        &mut self,
        d: &Directive<'_>,
        file: &Path,
        syntax: Syntax,
        at: usize,
        prefix: &str,
    ) {
        self.found = true;
        let Some(Read {
            text: selected,
            path,
            real,
        }) = self.resolve(d, file, at, prefix.len() + 3)
        else {
            return;
        };
        if !d.code() {
            self.stack.push(real);
            self.text(&selected, &path, syntax, Some(at), prefix);
            self.stack.pop();
            return;
        }
        // Sphinx picks the highlighting by the file's extension when not told.
        let extension = path
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or_default();
        let language = d
            .option("language")
            .or(d.option("code"))
            .filter(|l| !l.is_empty())
            .unwrap_or(extension);
        let caption = d.option("caption").filter(|c| !c.is_empty());
        match syntax {
            Syntax::Rst => {
                self.line(prefix, format!(".. code-block:: {language}").trim_end(), at);
                if let Some(c) = caption {
                    self.line(prefix, &format!("   :caption: {c}"), at);
                }
                self.line("", "", at);
                for l in selected.lines() {
                    let l = if l.trim().is_empty() { "" } else { l };
                    self.line(prefix, &format!("   {l}"), at);
                }
                self.line("", "", at);
            }
            Syntax::Markdown { .. } => {
                if let Some(c) = caption {
                    self.line(prefix, c, at);
                    self.line("", "", at);
                }
                let fence = super::code_fence(&selected);
                self.line(prefix, &format!("{fence}{language}"), at);
                for l in selected.lines() {
                    self.line(prefix, l, at);
                }
                self.line(prefix, &fence, at);
            }
        }
    }

    /// The part of the file `d` (in `file`) names that it selects, with the
    /// file's paths; `None`, with the problem noted, when it is not read.
    /// `indent`: how far each of its lines will be indented, which counts
    /// toward the page's size.
    fn resolve(
        &mut self,
        d: &Directive<'_>,
        file: &Path,
        at: usize,
        indent: usize,
    ) -> Option<Read> {
        self.directives += 1;
        if self.directives > MAX_INCLUDES {
            if self.directives == MAX_INCLUDES + 1 {
                let why =
                    format!("over {MAX_INCLUDES} includes in one page: the rest are not read");
                self.out.problems.push((at, why));
            }
            return None;
        }
        let from = if d.mdbook {
            file.parent().unwrap_or(&self.root).to_path_buf()
        } else {
            self.page_dir.clone()
        };
        let Read { text, path, real } = match self.read(d, &from) {
            Ok(read) => read,
            Err(Unread::Missing(path, why)) => {
                if self.seen.insert(path.clone()) {
                    self.out.missing.push(path);
                }
                self.out.problems.push((at, why));
                return None;
            }
            Err(Unread::Refused(why)) => {
                self.out.problems.push((at, why));
                return None;
            }
        };
        let selected = match select(&text, d) {
            Ok(s) => s,
            Err(why) => {
                self.out.problems.push((at, format!("`{}`: {why}", d.path)));
                return None;
            }
        };
        let lines = selected.bytes().filter(|&b| b == b'\n').count() + 4;
        let cost = selected.len().saturating_add(lines.saturating_mul(indent));
        if let Err(why) = self.fits(d.path, cost) {
            self.out.problems.push((at, why));
            return None;
        }
        self.bytes += cost;
        self.out.budget.brought += cost;
        if d.whole() && !d.code() && !self.showing_code && !self.out.parts.contains(&path) {
            self.out.parts.push(path.clone());
        }
        Some(Read {
            text: selected,
            path,
            real,
        })
    }

    /// The text of the file `d` names, relative to `from`, and its paths.
    fn read(&mut self, d: &Directive<'_>, from: &Path) -> Result<Read, Unread> {
        let name = d.path;
        let refused = |why: String| Err(Unread::Refused(why));
        if name.is_empty() {
            return refused("an include names no file".into());
        }
        // docutils' own files (`<isonum.txt>`): character entities, no knowledge.
        if name.starts_with('<') && name.ends_with('>') {
            return refused(format!("`{name}` is a docutils standard file: not read"));
        }
        if let Some(parser) = d.option("parser").filter(|p| !p.contains("rst")) {
            return refused(format!(
                "`{name}` is included through the parser `{parser}`: not read"
            ));
        }
        let path = match name.strip_prefix('/') {
            Some(under_top) => normal(&self.top.join(under_top)),
            None => normal(&from.join(name)),
        };
        let Ok(rel) = path.strip_prefix(&self.root) else {
            return refused(out_of_bounds(name));
        };
        self.may_read(name, rel)?;
        let linked = through_link(&self.root, rel);
        let real = real_path(name, &path, linked)?;
        // Through a link, every refusal reads the same: the problem reaches
        // the page's rooms (`!status`), and must not tell them which files
        // exist elsewhere (as with a page that is a link, `link_target`).
        let real_rel = (self.real_root.as_ref()).and_then(|r| real.strip_prefix(r).ok());
        let Some(real_rel) = real_rel else {
            return refused(out_of_bounds(name));
        };
        if let Err(why) = self.may_read(name, real_rel) {
            return Err(match linked {
                true => Unread::Refused(out_of_bounds(name)),
                false => why,
            });
        }
        // Followed from here on, whatever becomes of this read: a file refused
        // for its size or a marker it lacks may change into one that is read.
        // By its real path too: an edit to a link's target is an edit to it.
        for p in [&path, &real] {
            if self.seen.insert(p.clone()) {
                self.out.files.push(p.clone());
            }
        }
        if self.stack.contains(&real) {
            return refused(format!("`{name}` includes itself: not read again"));
        }
        if self.stack.len() > MAX_DEPTH {
            return refused(format!(
                "`{name}` is included {MAX_DEPTH} includes deep: not read"
            ));
        }
        let text = read_text(&real, name, |len| {
            self.fits(name, len).map_err(Unread::Refused)
        })?;
        // Each include scans the file it selects from: a page including a
        // large file many times for a line each would read gigabytes.
        self.scanned += text.len();
        if self.scanned > MAX_SCANNED {
            return refused(format!(
                "included file `{name}`: the page's includes read over {} MB: not read",
                MAX_SCANNED >> 20
            ));
        }
        Ok(Read { text, path, real })
    }

    /// Whether the page may take `more` bytes of an include `name`: within
    /// [`MAX_BYTES`], and within its allowance, whose asks are noted for
    /// [`Budget::holds_for`]; else why not.
    fn fits(&mut self, name: &str, more: usize) -> Result<(), String> {
        if self.bytes.saturating_add(more) > MAX_BYTES {
            return Err(format!(
                "included file `{name}` would make the page over {} MB: not read",
                MAX_BYTES >> 20
            ));
        }
        let budget = &mut self.out.budget;
        let ask = budget.brought.saturating_add(more);
        if ask > self.allowance {
            budget.refused = Some(budget.refused.map_or(ask, |r| r.min(ask)));
            return Err(format!(
                "included file `{name}` would take what the pages of this folder include, all together, over {} MB: not read",
                MAX_FOLDER_BYTES >> 20
            ));
        }
        budget.needed = budget.needed.max(ask);
        Ok(())
    }

    /// Whether the file at `rel` under the source folder may be read into the
    /// page: not hidden, in its collection, wanted by the source.
    fn may_read(&self, name: &str, rel: &Path) -> Result<(), Unread> {
        let hidden = rel
            .components()
            .any(|c| c.as_os_str().to_string_lossy().starts_with('.'));
        if hidden {
            return Err(Unread::Refused(format!(
                "included file `{name}` is hidden (a name starting with `.`): not read"
            )));
        }
        (self.allowed)(rel)
            .map_err(|why| Unread::Refused(format!("included file `{name}` {why}: not read")))
    }
}

/// Why an include `name` that leads out of what the page may include (out
/// of the source folder, or through a link to a file it may not read, or to
/// none) is not read: the same words whatever it leads to.
fn out_of_bounds(name: &str) -> String {
    format!(
        "included file `{name}` is not a file the page may include (one of its own collection inside the source folder, not hidden, read by the source; links followed): not read"
    )
}

/// The file `path` (the include's `name`) leads to, links followed; when
/// `linked` (it goes through one), why not reads the same whatever the link
/// leads to. A file missing stays followed: its appearing changes the page.
fn real_path(name: &str, path: &Path, linked: bool) -> Result<PathBuf, Unread> {
    path.canonicalize().map_err(|e| {
        let why = match linked {
            true => out_of_bounds(name),
            false => format!("cannot read included file `{name}`: {e}"),
        };
        match e.kind() {
            ErrorKind::NotFound => Unread::Missing(path.to_path_buf(), why),
            _ => Unread::Refused(why),
        }
    })
}

/// Whether the path `rel` under `root` goes through a link: a file or a
/// folder on the way that is one.
fn through_link(root: &Path, rel: &Path) -> bool {
    let mut at = root.to_path_buf();
    for part in rel.components() {
        at.push(part);
        match std::fs::symlink_metadata(&at) {
            Ok(meta) if meta.file_type().is_symlink() => return true,
            Ok(_) => {}
            Err(_) => return false,
        }
    }
    false
}

/// The text of the file at `real` (named `name` by its include), when `fits`
/// lets the page take its length: a file too large is not read at all.
fn read_text(
    real: &Path,
    name: &str,
    fits: impl FnOnce(usize) -> Result<(), Unread>,
) -> Result<String, Unread> {
    let refused = |why: String| Err(Unread::Refused(why));
    let cannot =
        |e: std::io::Error| Unread::Refused(format!("cannot read included file `{name}`: {e}"));
    let meta = std::fs::metadata(real).map_err(cannot)?;
    if !meta.is_file() {
        return refused(format!("included `{name}` is not a file"));
    }
    fits(usize::try_from(meta.len()).unwrap_or(usize::MAX))?;
    let bytes = std::fs::read(real).map_err(cannot)?;
    let html = super::Format::of(name) == Some(super::Format::Html);
    match super::encoding::decode(&bytes, html) {
        // Composed as the page including it is (`read_text` in the parent).
        Some(text) => Ok(crate::text::composed(text).into_owned()),
        None => refused(format!("included file `{name}` is not text: not read")),
    }
}

/// Whether the lines being copied are code or a comment, where a directive is
/// only an example of one.
enum Code {
    None,
    /// reStructuredText: a literal block, code directive or comment, and its
    /// indentation: lines indented deeper (or blank) are its content.
    Indented(usize),
    /// Markdown: a fence, until it closes.
    Fenced(String),
}

impl Code {
    /// The code block `line` opens.
    fn opened_by(line: &str, syntax: Syntax) -> Code {
        let t = line.trim();
        match syntax {
            Syntax::Rst => {
                let own = Code::Indented(indent(line));
                let Some(directive) = t.strip_prefix("..") else {
                    // A paragraph ending "::" opens a literal block.
                    return if t.ends_with("::") { own } else { Code::None };
                };
                let Some((name, _)) = directive.split_once("::") else {
                    // No "::": a comment (unless a link target or a
                    // footnote), whose indented lines are comment too.
                    let d = directive.trim_start();
                    let target = d.starts_with('_') || d.starts_with('[') || d.starts_with('|');
                    return if target { Code::None } else { own };
                };
                let name = name.trim().to_ascii_lowercase();
                let code = ["code-block", "code", "sourcecode", "parsed-literal"];
                if code.contains(&name.as_str()) {
                    own
                } else {
                    Code::None
                }
            }
            Syntax::Markdown { .. } => match fence(line) {
                Some((open, info)) if !is_directive_info(info) => Code::Fenced(open),
                _ => Code::None,
            },
        }
    }

    /// Whether `line` is inside this code block, which it then updates.
    fn holds(&mut self, line: &str) -> bool {
        match self {
            Code::None => false,
            Code::Indented(own) => {
                if line.trim().is_empty() || indent(line) > *own {
                    true
                } else {
                    *self = Code::None;
                    false
                }
            }
            Code::Fenced(open) => {
                if indent(line) <= 3 && super::myst::closes(line.trim(), open) {
                    *self = Code::None;
                }
                true
            }
        }
    }
}

/// A Markdown fence opening on `line` (indented at most three): the fence,
/// and what follows it.
fn fence(line: &str) -> Option<(String, &str)> {
    if indent(line) > 3 {
        return None;
    }
    let t = line.trim_start();
    let open = super::myst::code_fence(t)?;
    let info = &t[open.len()..];
    Some((open, info))
}

/// A fence's info string naming a MyST directive whose content is text, not
/// code.
fn is_directive_info(info: &str) -> bool {
    let info = info.trim();
    let Some(name) = info.strip_prefix('{').and_then(|r| r.split('}').next()) else {
        return false;
    };
    !(super::myst::CODE_DIRECTIVES.contains(&name) || name == "eval-rst")
}

/// The include directive opening at `lines[i]` in reStructuredText, and the
/// line after it.
fn rst_directive<'t>(lines: &[&'t str], i: usize) -> Option<(Directive<'t>, usize)> {
    let line = lines[i];
    let rest = line.trim_start().strip_prefix("..")?.trim_start();
    let (name, path) = rest.split_once("::")?;
    let literal = match name.trim().to_ascii_lowercase().as_str() {
        "include" => false,
        "literalinclude" => true,
        _ => return None,
    };
    let own = indent(line);
    let mut options = Vec::new();
    let mut end = i + 1;
    while end < lines.len() && indent(lines[end]) > own && lines[end].trim().starts_with(':') {
        if let Some(o) = option(lines[end].trim()) {
            options.push(o);
        }
        end += 1;
    }
    let d = Directive {
        literal,
        path: path.trim(),
        options,
        mdbook: false,
    };
    Some((d, end))
}

/// The include directive whose fence opens at `lines[i]` in MyST Markdown, and
/// the line after its closing fence.
fn myst_directive<'t>(lines: &[&'t str], i: usize) -> Option<(Directive<'t>, usize)> {
    let (open, info) = fence(lines[i]).or_else(|| colon_fence(lines[i]))?;
    let info = info.trim();
    let (literal, path) = if let Some(p) = info.strip_prefix("{include}") {
        (false, p)
    } else if let Some(p) = info.strip_prefix("{literalinclude}") {
        (true, p)
    } else {
        return None;
    };
    let mut options = Vec::new();
    let mut end = i + 1;
    let mut yaml = false;
    while end < lines.len() {
        let t = lines[end].trim();
        end += 1;
        if super::myst::closes(t, &open) {
            break;
        }
        if t == "---" {
            yaml = !yaml;
            continue;
        }
        let o = if yaml {
            t.split_once(':')
                .map(|(k, v)| (k.trim().to_string(), unquote(v.trim()).to_string()))
        } else {
            option(t)
        };
        options.extend(o);
    }
    let d = Directive {
        literal,
        path: path.trim(),
        options,
        mdbook: false,
    };
    Some((d, end))
}

/// mdBook's include (`{{#include file.rs}}`), with lines (`:2`, `:2:10`,
/// `::10`, `:2:`) or an anchor (`:component`) after the path, as mdBook reads
/// them; `{{#rustdoc_include}}` alike, and `{{#playground file.rs}}` as Rust
/// code.
fn mdbook_directive(text: &str) -> Option<Directive<'_>> {
    let inner = text.strip_prefix("{{#")?.strip_suffix("}}")?;
    // "{{#include a}} and {{#include b}}" is two.
    if inner.contains("}}") || inner.contains("{{#") {
        return None;
    }
    let (command, args) = inner.split_once(char::is_whitespace)?;
    let literal = match command {
        "include" | "rustdoc_include" => false,
        "playground" => true,
        _ => return None,
    };
    let args = args.split_whitespace().next()?;
    let (path, selector) = args.split_once(':').unwrap_or((args, ""));
    let mut options = Vec::new();
    if literal {
        options.push(("language".to_string(), "rust".to_string()));
    }
    if !selector.is_empty() {
        let (from, to) = selector.split_once(':').unwrap_or((selector, selector));
        let number = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if from.is_empty() || number(from) {
            // mdBook reads what it cannot take for an end as "to the end".
            let from = if from.is_empty() { "1" } else { from };
            let to = if number(to) { to } else { "" };
            options.push(("lines".to_string(), format!("{from}-{to}")));
        } else {
            options.push(("anchor".to_string(), from.to_string()));
        }
    }
    Some(Directive {
        literal,
        path,
        options,
        mdbook: true,
    })
}

/// A MyST colon fence (`:::{include} intro.md`): like a fence, of colons.
fn colon_fence(line: &str) -> Option<(String, &str)> {
    if indent(line) > 3 {
        return None;
    }
    let t = line.trim_start();
    let n = t.bytes().take_while(|&b| b == b':').count();
    (n >= 3).then(|| (t[..n].to_string(), &t[n..]))
}

fn unquote(v: &str) -> &str {
    v.strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .or_else(|| v.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')))
        .unwrap_or(v)
}

/// A directive option line (`:start-after: # begin`) as name and value.
fn option(t: &str) -> Option<(String, String)> {
    let rest = t.strip_prefix(':')?;
    let (name, value) = rest.split_once(':')?;
    Some((name.trim().to_ascii_lowercase(), value.trim().to_string()))
}

/// The part of an included file its directive's options select, in the
/// order Sphinx applies them: a Python object, docutils' line slice, the text
/// from and to markers, lines by number, dedenting, then what is prepended
/// and appended. A marker that is not there is an error, as in Sphinx.
fn select(text: &str, d: &Directive<'_>) -> Result<String, String> {
    let mut lines: Vec<&str> = text.lines().collect();
    if let Some(name) = d.option("pyobject") {
        let range = pyobject(&lines, name).ok_or_else(|| format!("no Python object `{name}`"))?;
        lines = lines[range].to_vec();
    }
    if let Some(name) = d.option("anchor") {
        lines = anchored(&lines, name);
    }
    // docutils' include counts lines from 0, end excluded.
    let number = |name| d.option(name).and_then(|v| v.parse::<i64>().ok());
    if number("start-line").is_some() || number("end-line").is_some() {
        let n = lines.len() as i64;
        let at = |v: i64| (if v < 0 { n + v } else { v }).clamp(0, n) as usize;
        let start = number("start-line").map_or(0, at);
        let end = number("end-line").map_or(lines.len(), at).max(start);
        lines = lines[start..end].to_vec();
    }
    let find = |lines: &[&str], marker: &str| lines.iter().position(|l| l.contains(marker));
    for (name, after) in [("start-after", true), ("start-at", false)] {
        if let Some(m) = d.option(name).filter(|m| !m.is_empty()) {
            let at = find(&lines, m).ok_or_else(|| format!("{name} text `{m}` not found"))?;
            lines.drain(..at + usize::from(after));
        }
    }
    for (name, at) in [("end-before", false), ("end-at", true)] {
        if let Some(m) = d.option(name).filter(|m| !m.is_empty()) {
            let p = find(&lines, m).ok_or_else(|| format!("{name} text `{m}` not found"))?;
            lines.truncate(p + usize::from(at));
        }
    }
    if let Some(spec) = d.option("lines") {
        lines = line_spec(spec, lines.len())
            .into_iter()
            .map(|i| lines[i])
            .collect();
    }
    let mut out: Vec<String> = match d.option("dedent") {
        Some(by) => dedent(&lines, by.parse::<usize>().ok()),
        None => lines.iter().map(|l| l.to_string()).collect(),
    };
    if let Some(p) = d.option("prepend") {
        out.insert(0, p.to_string());
    }
    if let Some(a) = d.option("append") {
        out.push(a.to_string());
    }
    Ok(out.join("\n"))
}

/// `lines` dedented as Sphinx does: by `by` characters of leading whitespace
/// (at most), or when not told, by the leading whitespace they all share
/// (Python's `textwrap.dedent`: a tab and four spaces share none).
fn dedent(lines: &[&str], by: Option<usize>) -> Vec<String> {
    let lead = |l: &str| l.len() - l.trim_start_matches([' ', '\t']).len();
    let cut = |l: &str, n: usize| {
        if l.trim().is_empty() {
            String::new()
        } else {
            l[n..].to_string()
        }
    };
    match by {
        Some(by) => lines.iter().map(|l| cut(l, by.min(lead(l)))).collect(),
        None => {
            let mut shared: Option<&str> = None;
            for l in lines.iter().filter(|l| !l.trim().is_empty()) {
                let ws = &l[..lead(l)];
                shared = Some(match shared {
                    None => ws,
                    Some(s) => {
                        let same = s
                            .bytes()
                            .zip(ws.bytes())
                            .take_while(|(a, b)| a == b)
                            .count();
                        &s[..same]
                    }
                });
            }
            let n = shared.map_or(0, str::len);
            lines.iter().map(|l| cut(l, n.min(lead(l)))).collect()
        }
    }
}

/// The lines between mdBook's `ANCHOR: name` and `ANCHOR_END: name`, without
/// the lines that mark anchors.
fn anchored<'t>(lines: &[&'t str], name: &str) -> Vec<&'t str> {
    let marks = |l: &str, what: &str| {
        l.split(what).nth(1).is_some_and(|rest| {
            rest.trim_start()
                .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '-'))
                .next()
                .is_some_and(|n| n == name)
        })
    };
    let Some(start) = lines.iter().position(|l| marks(l, "ANCHOR:")) else {
        return Vec::new();
    };
    lines[start + 1..]
        .iter()
        .take_while(|l| !marks(l, "ANCHOR_END:"))
        .filter(|l| !l.contains("ANCHOR:") && !l.contains("ANCHOR_END:"))
        .copied()
        .collect()
}

/// The 0-based indexes a `:lines:` option (`1,3,5-10,20-`, counted from 1)
/// picks of `n` lines, in the order given.
fn line_spec(spec: &str, n: usize) -> Vec<usize> {
    let mut out = Vec::new();
    for part in spec.split(',').map(str::trim) {
        let (a, b) = match part.split_once('-') {
            Some((a, b)) => (a.trim(), Some(b.trim())),
            None => (part, None),
        };
        let from = if a.is_empty() {
            1
        } else {
            a.parse().unwrap_or(0)
        };
        let to = match b {
            None => from,
            Some("") => n,
            Some(b) => b.parse().unwrap_or(0),
        };
        if from == 0 {
            continue;
        }
        // Ranges may repeat lines, but never make more lines than the file has
        // ("1-,1-,1-…" would multiply it).
        let room = n.saturating_sub(out.len());
        out.extend((from..=to.min(n)).map(|l| l - 1).take(room));
    }
    out
}

/// The lines of the Python function or class `name` (`Class.method` for one
/// inside a class): from its `def`/`class` line to the end of its body.
fn pyobject(lines: &[&str], name: &str) -> Option<std::ops::Range<usize>> {
    let mut range = 0..lines.len();
    let mut own = None;
    // Each part searches the one before's body: a name of thousands of parts
    // would search a long file thousands of times.
    if name.split('.').count() > MAX_DEPTH {
        return None;
    }
    for part in name.split('.') {
        let start = range.clone().find(|&i| {
            let t = lines[i].trim_start();
            let t = t.strip_prefix("async ").unwrap_or(t);
            let deeper = own.map_or(indent(lines[i]) == 0, |o| indent(lines[i]) > o);
            deeper
                && ["def ", "class "].iter().any(|k| {
                    t.strip_prefix(k).is_some_and(|r| {
                        r.strip_prefix(part)
                            .is_some_and(|r| r.starts_with(['(', ':', ' ']) || r.is_empty())
                    })
                })
        })?;
        let def = indent(lines[start]);
        let mut end = start + 1;
        while end < range.end && (lines[end].trim().is_empty() || indent(lines[end]) > def) {
            end += 1;
        }
        while end > start + 1 && lines[end - 1].trim().is_empty() {
            end -= 1;
        }
        own = Some(def);
        range = start..end;
    }
    Some(range)
}

/// `path` made absolute (from the working folder, links not followed) and
/// [`normal`]: how included files are named, so the folder walk's and the
/// watcher's names for a file compare equal.
pub(super) fn absolute(path: &Path) -> PathBuf {
    normal(&std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf()))
}

/// `path` with `.` and `..` resolved by its components, not the file system:
/// the form the folder walk and the watcher name files by.
pub(super) fn normal(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            c => out.push(c),
        }
    }
    out
}

/// The folder an include path starting with `/` is under: Sphinx's source
/// folder (the nearest above the page with a `conf.py`; Jupyter Book's
/// `_config.yml` or `myst.yml`), else the source folder.
fn sphinx_top(root: &Path, page: &Path) -> PathBuf {
    let mut dir = page.parent();
    while let Some(d) = dir.filter(|d| d.starts_with(root)) {
        if ["conf.py", "_config.yml", "myst.yml"]
            .iter()
            .any(|f| d.join(f).is_file())
        {
            return d.to_path_buf();
        }
        dir = d.parent();
    }
    root.to_path_buf()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// [`super::splice`] of a page given the whole folder's allowance, as
    /// most pages are.
    fn splice(
        root: &Path,
        page: &Path,
        text: &str,
        syntax: Syntax,
        allowed: &dyn Fn(&Path) -> Result<(), String>,
    ) -> Option<Spliced> {
        super::splice(root, page, text, syntax, allowed, MAX_FOLDER_BYTES)
    }

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let p = dir.join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn included_files_are_read_where_their_directive_stands() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        write(root, "conf.py", "");
        write(
            root,
            "_parts/intro.rst",
            // As Sphinx reads it, a nested include is from the page's folder.
            "Shared intro.\n\n.. include:: ../_parts/more.rst\n",
        );
        write(root, "_parts/more.rst", "More, included from an include.\n");
        let app = "import os\n\n\ndef create_app():\n    app = Flask()\n    return app\n\n\ndef other():\n    pass\n";
        write(root, "examples/app.py", app);
        let page = write(
            root,
            "guide/setup.rst",
            "Setup\n=====\n\n.. include:: ../_parts/intro.rst\n\nThe factory:\n\n.. literalinclude:: /examples/app.py\n   :pyobject: create_app\n   :caption: app.py\n\nShown, not read::\n\n   .. include:: ../_parts/intro.rst\n\nEnd.\n",
        );
        let text = std::fs::read_to_string(&page).unwrap();
        let s = splice(root, &page, &text, Syntax::Rst, &|_| Ok(())).unwrap();
        assert!(s.problems.is_empty(), "{:?}", s.problems);
        let want = "Setup\n=====\n\nShared intro.\n\nMore, included from an include.\n\nThe factory:\n\n.. code-block:: py\n   :caption: app.py\n\n   def create_app():\n       app = Flask()\n       return app\n\n\nShown, not read::\n\n   .. include:: ../_parts/intro.rst\n\nEnd.\n";
        assert_eq!(s.text, want);
        assert_eq!(s.lines.len(), s.text.lines().count());
        // An included line cites its directive's line in the page.
        let at = |needle: &str| s.lines[s.text.lines().position(|l| l.contains(needle)).unwrap()];
        assert_eq!(at("Shared intro."), 4);
        assert_eq!(at("More, included"), 4);
        assert_eq!(at("return app"), 8);
        assert_eq!(at("End."), 16);
        let names: Vec<_> = s
            .files
            .iter()
            .map(|f| f.strip_prefix(root).unwrap().to_owned())
            .collect();
        assert_eq!(
            names,
            ["_parts/intro.rst", "_parts/more.rst", "examples/app.py"].map(PathBuf::from)
        );
        // No include, nothing to splice.
        assert!(splice(root, &page, "Just text.\n", Syntax::Rst, &|_| Ok(())).is_none());
    }

    #[test]
    fn options_select_lines_as_sphinx_does() {
        let text = "a\nb\n# start\n    c\n    d\n# end\ne\n";
        let d = |opts: &[(&str, &str)]| Directive {
            literal: true,
            path: "x",
            options: opts
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            mdbook: false,
        };
        let ok = |s: &str| Ok(s.to_string());
        type Case<'c> = (&'c [(&'c str, &'c str)], Result<String, String>);
        let cases: &[Case<'_>] = &[
            (&[], ok("a\nb\n# start\n    c\n    d\n# end\ne")),
            (&[("lines", "1,3-4")], ok("a\n# start\n    c")),
            (&[("lines", "6-")], ok("# end\ne")),
            (
                &[("start-after", "# start"), ("end-before", "# end")],
                ok("    c\n    d"),
            ),
            (
                &[("start-at", "# start"), ("end-at", "# end")],
                ok("# start\n    c\n    d\n# end"),
            ),
            // Lines count within what the markers leave.
            (&[("start-after", "# start"), ("lines", "2")], ok("    d")),
            (
                &[
                    ("start-after", "start"),
                    ("end-before", "end"),
                    ("dedent", ""),
                ],
                ok("c\nd"),
            ),
            (
                &[
                    ("start-after", "start"),
                    ("end-before", "end"),
                    ("dedent", "2"),
                ],
                ok("  c\n  d"),
            ),
            // Dedented before what is prepended goes in.
            (
                &[
                    ("start-after", "start"),
                    ("end-before", "end"),
                    ("dedent", "4"),
                    ("prepend", "    x:"),
                ],
                ok("    x:\nc\nd"),
            ),
            (&[("start-line", "1"), ("end-line", "3")], ok("b\n# start")),
            (&[("end-line", "-5")], ok("a\nb")),
            (
                &[("start-after", "nowhere")],
                Err("start-after text `nowhere` not found".into()),
            ),
            (
                &[("end-before", "nowhere")],
                Err("end-before text `nowhere` not found".into()),
            ),
            (
                &[("lines", "2"), ("prepend", "first"), ("append", "last")],
                ok("first\nb\nlast"),
            ),
            // Repeats never make more lines than the file has.
            (&[("lines", &"1,".repeat(50))], ok(&["a"; 7].join("\n"))),
        ];
        for (opts, want) in cases {
            assert_eq!(&select(text, &d(opts)), want, "{opts:?}");
        }
        let py = "class A:\n    def f(self):\n        return 1\n\n    def g(self):\n        pass\n\ndef f():\n    return 2\n";
        assert_eq!(
            select(py, &d(&[("pyobject", "A.f")])),
            ok("    def f(self):\n        return 1")
        );
        assert_eq!(
            select(py, &d(&[("pyobject", "f")])),
            ok("def f():\n    return 2")
        );
        assert!(select(py, &d(&[("pyobject", "missing")])).is_err());
        // A tab and four spaces share no indentation (textwrap.dedent).
        assert_eq!(
            select("\tfoo\n    bar", &d(&[("dedent", "")])),
            ok("\tfoo\n    bar")
        );
        assert_eq!(
            select("\tfoo\n\t  bar", &d(&[("dedent", "")])),
            ok("foo\n  bar")
        );
    }

    #[test]
    fn myst_includes_read_markdown_and_code() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        write(root, "README.md", "# Project\n\nWhat it does.\n");
        write(root, "docs/snippet.py", "print('hi')\n");
        let page = write(
            root,
            "docs/index.md",
            "# Home\n\n```{include} ../README.md\n:start-line: 2\n```\n\n:::{literalinclude} snippet.py\n:language: python\n:::\n\n````md\n```{include} ../README.md\n```\n````\n",
        );
        let text = std::fs::read_to_string(&page).unwrap();
        let s = splice(root, &page, &text, Syntax::Markdown { myst: true }, &|_| {
            Ok(())
        })
        .unwrap();
        assert!(s.problems.is_empty(), "{:?}", s.problems);
        assert_eq!(
            s.text,
            "# Home\n\nWhat it does.\n\n```python\nprint('hi')\n```\n\n````md\n```{include} ../README.md\n```\n````\n"
        );
    }

    #[test]
    fn mdbook_includes_lines_and_anchors_in_code_and_out() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        write(root, "src/arg.md", "Watches `src` by default.\n");
        let code = "// ANCHOR: all\nuse x;\n// ANCHOR: part\nfn part() {}\n// ANCHOR_END: part\nfn rest() {}\n// ANCHOR_END: all\n";
        write(root, "src/file.rs", code);
        let page = write(
            root,
            "src/watch.md",
            "# watch\n\n{{#include arg.md}}\n\n```rust\n{{#include file.rs:part}}\n```\n\n```rust\n{{#include file.rs:2:4}}\n```\n\n\\{{#include file.rs}}\n\n{{#playground file.rs::2}}\n",
        );
        let text = std::fs::read_to_string(&page).unwrap();
        let s = splice(
            root,
            &page,
            &text,
            Syntax::Markdown { myst: false },
            &|_| Ok(()),
        )
        .unwrap();
        assert!(s.problems.is_empty(), "{:?}", s.problems);
        assert_eq!(
            s.text,
            "# watch\n\nWatches `src` by default.\n\n```rust\nfn part() {}\n```\n\n```rust\nuse x;\n// ANCHOR: part\nfn part() {}\n```\n\n{{#include file.rs}}\n\n```rust\n// ANCHOR: all\nuse x;\n```\n"
        );
        let all = mdbook_directive("{{#include file.rs:all}}").unwrap();
        assert_eq!(
            select(code, &all).unwrap(),
            "use x;\nfn part() {}\nfn rest() {}"
        );
    }

    #[test]
    fn files_outside_the_source_missing_or_looping_are_problems_not_reads() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("docs");
        write(dir.path(), "secret.txt", "password\n");
        write(&root, "a.rst", ".. include:: b.rst\n");
        write(&root, "b.rst", "B says hello.\n\n.. include:: a.rst\n");
        #[cfg(unix)]
        std::os::unix::fs::symlink(dir.path().join("secret.txt"), root.join("link.txt")).unwrap();
        let page = write(
            &root,
            "page.rst",
            "Top.\n\n.. include:: ../secret.txt\n.. include:: /etc/passwd\n.. literalinclude:: link.txt\n.. include:: missing.rst\n.. include:: a.rst\n.. include:: <isonum.txt>\n",
        );
        let text = std::fs::read_to_string(&page).unwrap();
        let s = splice(&root, &page, &text, Syntax::Rst, &|_| Ok(())).unwrap();
        assert!(!s.text.contains("password"), "{}", s.text);
        assert!(s.text.contains("B says hello."));
        let lines: Vec<usize> = s.problems.iter().map(|p| p.0).collect();
        let why: Vec<&str> = s.problems.iter().map(|p| p.1.as_str()).collect();
        #[cfg(unix)]
        assert_eq!(lines, [3, 4, 5, 6, 7, 8], "{why:?}");
        assert_eq!(why[0], out_of_bounds("../secret.txt"), "{why:?}");
        #[cfg(unix)]
        assert_eq!(why[2], out_of_bounds("link.txt"), "{why:?}");
        assert!(why[3].contains("cannot read"), "{why:?}");
        assert!(why[4].contains("includes itself"), "{why:?}");
    }

    #[test]
    fn hidden_files_other_collections_and_comments_are_not_read() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        write(root, ".git/config", "url = https://token@example.org\n");
        write(root, ".env", "SECRET=1\n");
        write(root, "private/pay.md", "Salaries.\n");
        write(root, "public/readme.md", "# Read me\n");
        #[cfg(unix)]
        std::os::unix::fs::symlink(root.join(".git"), root.join("public/git")).unwrap();
        let page = root.join("public/page.rst");
        let text = ".. include:: ../.git/config\n.. include:: ../.env\n.. include:: git/config\n.. include:: ../private/pay.md\n..\n   .. include:: readme.md\n.. include:: readme.md\n   :parser: myst_parser.sphinx_\n";
        let public = |rel: &Path| {
            if rel.starts_with("public") {
                Ok(())
            } else {
                Err("is in another collection".to_string())
            }
        };
        let s = splice(root, &page, text, Syntax::Rst, &public).unwrap();
        assert!(
            !s.text.contains("token") && !s.text.contains("SECRET"),
            "{}",
            s.text
        );
        assert!(
            !s.text.contains("Salaries") && !s.text.contains("Read me"),
            "{}",
            s.text
        );
        let why: Vec<&str> = s.problems.iter().map(|p| p.1.as_str()).collect();
        assert!(
            why[0].contains("hidden") && why[1].contains("hidden"),
            "{why:?}"
        );
        #[cfg(unix)]
        assert_eq!(why[2], out_of_bounds("git/config"), "{why:?}");
        assert!(
            why.iter().any(|w| w.contains("another collection")),
            "{why:?}"
        );
        assert!(why.last().unwrap().contains("parser"), "{why:?}");
        // The commented-out include is a comment, not a problem.
        assert_eq!(why.len(), if cfg!(unix) { 5 } else { 4 }, "{why:?}");
    }

    #[test]
    fn selected_text_counts_toward_the_size_and_parts_are_whole_text_includes() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        // One long line picked many times: what is picked counts, not the file.
        let long = format!("{}\n{}", "x".repeat(200_000), "\n".repeat(500));
        write(root, "long.txt", &long);
        let many = format!(
            ".. literalinclude:: long.txt\n   :lines: {}\n",
            "1,".repeat(500)
        );
        let s = splice(root, &root.join("p.rst"), &many, Syntax::Rst, &|_| Ok(())).unwrap();
        assert!(s.text.len() <= MAX_BYTES, "{} bytes", s.text.len());
        assert!(s.problems[0].1.contains("over 4 MB"), "{:?}", s.problems);
        write(root, "part.md", "Part.\n");
        write(root, "code.rs", "fn main() {}\n");
        let page = "{{#include part.md}}\n{{#include code.rs:1}}\n{{#playground code.rs}}\nSee {{#include part.md}} inline, not \\{{#include part.md}}.\n{{#include gone.md}}\n";
        let md = Syntax::Markdown { myst: false };
        let s = splice(root, &root.join("p.md"), page, md, &|_| Ok(())).unwrap();
        let names = |v: &[PathBuf]| -> Vec<String> {
            v.iter()
                .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
                .collect()
        };
        // Only a whole file read as text makes a file a part of pages.
        assert_eq!(names(&s.parts), ["part.md"]);
        assert_eq!(names(&s.files), ["part.md", "code.rs"]);
        assert_eq!(names(&s.missing), ["gone.md"]);
        assert!(
            s.text
                .contains("See Part. inline, not {{#include part.md}}."),
            "{}",
            s.text
        );
        assert!(s.text.contains("```rust\nfn main() {}\n```"), "{}", s.text);
        assert_eq!(s.lines.len(), s.text.lines().count());
        assert_eq!(*s.lines.last().unwrap(), 4);
    }

    #[test]
    fn what_a_page_shows_as_code_or_fails_to_read_is_still_followed() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        write(root, "a.md", "A.\n");
        write(root, "b.md", "B.\n");
        write(root, "c.md", "C.\n");
        write(root, "app.py", "print(1)\n");
        let md = Syntax::Markdown { myst: true };
        let page = "{{#include a.md}} and {{#include b.md}}\n\n```markdown\n{{#include c.md}}\n```\n\n```{literalinclude} app.py\n:start-after: # begin\n```\n";
        let s = splice(root, &root.join("p.md"), page, md, &|_| Ok(())).unwrap();
        assert!(s.text.starts_with("A. and B.\n"), "{}", s.text);
        let names: Vec<String> = s
            .files
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        // app.py lacks the marker, but once it has it the page must change.
        assert_eq!(names, ["a.md", "b.md", "c.md", "app.py"]);
        assert_eq!(s.problems.len(), 1, "{:?}", s.problems);
        // Shown as code in a fence: no part of the page's text.
        let parts: Vec<String> = s
            .parts
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(parts, ["a.md", "b.md"]);
        // A large file picked a line at a time is read at most MAX_SCANNED.
        write(root, "big.txt", &"xy\n".repeat(1 << 20));
        let many = ".. literalinclude:: big.txt\n   :lines: 1\n".repeat(100);
        let s = splice(root, &root.join("p.rst"), &many, Syntax::Rst, &|_| Ok(())).unwrap();
        let over = s
            .problems
            .iter()
            .filter(|p| p.1.contains("read over"))
            .count();
        assert_eq!(
            over,
            100 - MAX_SCANNED / (3 << 20),
            "{:?}",
            s.problems.first()
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_linked_file_is_followed_by_its_real_path_too() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        let real = write(&root, "src/app.py", "print(1)\n");
        std::fs::create_dir_all(root.join("docs")).unwrap();
        std::os::unix::fs::symlink(&real, root.join("docs/app.py")).unwrap();
        let text = ".. literalinclude:: app.py\n";
        let s = splice(&root, &root.join("docs/p.rst"), text, Syntax::Rst, &|_| {
            Ok(())
        })
        .unwrap();
        assert_eq!(s.files, [root.join("docs/app.py"), real]);
    }

    #[test]
    fn includes_stop_at_the_depth_and_size_limits() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        for i in 0..20 {
            write(
                root,
                &format!("{i}.rst"),
                &format!("Level {i}.\n\n.. include:: {}.rst\n", i + 1),
            );
        }
        let page = root.join("0.rst");
        let text = std::fs::read_to_string(&page).unwrap();
        let s = splice(root, &page, &text, Syntax::Rst, &|_| Ok(())).unwrap();
        assert!(s.text.contains(&format!("Level {MAX_DEPTH}.")));
        assert!(!s.text.contains(&format!("Level {}.", MAX_DEPTH + 1)));
        assert_eq!(s.problems.len(), 1);
        // A file included many times counts each time toward the page's size.
        write(root, "big.txt", &"x".repeat(MAX_BYTES / 3));
        let many = ".. literalinclude:: big.txt\n".repeat(5);
        let s = splice(root, &root.join("p.rst"), &many, Syntax::Rst, &|_| Ok(())).unwrap();
        assert!(s.text.len() < MAX_BYTES + 1000);
        assert_eq!(s.problems.len(), 3, "{:?}", s.problems);
    }

    #[cfg(unix)]
    #[test]
    fn an_include_through_a_link_or_out_of_the_folder_tells_nothing_of_its_target() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("docs");
        write(dir.path(), "secret.txt", "password\n");
        write(&root, "a/shared.md", "Shared.\n");
        write(&root, "a/.hidden.md", "Hidden.\n");
        write(&root, "b/other.md", "Other.\n");
        std::fs::create_dir_all(dir.path().join("folder")).unwrap();
        let link = |target: &Path, name: &str| {
            std::os::unix::fs::symlink(target, root.join("a").join(name)).unwrap();
        };
        // (what the page includes, a link there to what; None: read)
        let outside = dir.path();
        let table: &[(&str, Option<PathBuf>, Option<&str>)] = &[
            ("same.md", Some(root.join("a/shared.md")), Some("Shared.")),
            ("out.md", Some(outside.join("secret.txt")), None),
            ("gone.md", Some(outside.join("nope.txt")), None),
            ("folder/secret.txt", Some(outside.join("folder")), None),
            ("file/x.md", Some(outside.join("secret.txt")), None),
            ("hidden.md", Some(root.join("a/.hidden.md")), None),
            ("other.md", Some(root.join("b/other.md")), None),
            ("dangling.md", Some(root.join("a/nope.md")), None),
            ("../../secret.txt", None, None),
            ("../../nope.txt", None, None),
        ];
        for (name, target, _) in table {
            if let Some(target) = target {
                link(target, name.split('/').next().unwrap());
            }
        }
        let collection_a = |rel: &Path| match rel.starts_with("a") {
            true => Ok(()),
            false => Err("is in another collection".to_string()),
        };
        for (name, _, read) in table {
            let text = format!("{{{{#include {name}}}}}\n");
            let md = Syntax::Markdown { myst: false };
            let page = root.join("a/page.md");
            let s = splice(&root, &page, &text, md, &collection_a).unwrap();
            match read {
                Some(want) => assert_eq!(s.text.trim(), *want, "{name}: {:?}", s.problems),
                None => {
                    let why: Vec<&str> = s.problems.iter().map(|p| p.1.as_str()).collect();
                    assert_eq!(why, [out_of_bounds(name)], "{name}");
                    assert!(s.text.trim().is_empty(), "{name}: {}", s.text);
                }
            }
        }
    }

    #[test]
    fn a_pages_includes_stay_within_its_allowance_and_say_when_they_do_not() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        write(root, "big.md", &"Big words here.\n".repeat(64));
        write(root, "small.md", "Small.\n");
        let md = Syntax::Markdown { myst: false };
        let page = root.join("p.md");
        let text = "{{#include big.md}}\n\n{{#include small.md}}\n";
        let splice = |text: &str, allowance: usize| {
            super::splice(root, &page, text, md, &|_| Ok(()), allowance).unwrap()
        };
        let read = |allowance: usize| splice(text, allowance);
        // What each brings in, read alone.
        let big = splice("{{#include big.md}}\n", MAX_FOLDER_BYTES)
            .budget
            .brought;
        let small = splice("{{#include small.md}}\n", MAX_FOLDER_BYTES)
            .budget
            .brought;
        assert!(big > small && small > 1, "{big} {small}");
        // (allowance, whether big.md and small.md are read)
        let table: &[(usize, bool, bool)] = &[
            (MAX_FOLDER_BYTES, true, true),
            (big + small, true, true),
            (big + small - 1, true, false),
            (big, true, false),
            (big - 1, false, true),
            (small, false, true),
            (small - 1, false, false),
            (0, false, false),
        ];
        for &(allowance, has_big, has_small) in table {
            let s = read(allowance);
            assert_eq!(s.text.contains("Big words"), has_big, "{allowance}");
            assert_eq!(s.text.contains("Small."), has_small, "{allowance}");
            let over = s
                .problems
                .iter()
                .filter(|p| p.1.contains("all together, over 64 MB"));
            assert_eq!(
                over.count(),
                usize::from(!has_big) + usize::from(!has_small)
            );
            assert!(s.budget.brought <= allowance, "{allowance}");
            // Read again under any allowance it holds for, it reads the same.
            assert!(s.budget.holds_for(allowance));
            for &(other, ..) in table {
                let again = read(other);
                let same = (again.text == s.text) && (again.problems == s.problems);
                assert!(
                    !s.budget.holds_for(other) || same,
                    "{allowance} then {other}"
                );
            }
        }
    }
}
