//! Files a page pulls in: `include` and `literalinclude` in reStructuredText
//! (`.. include:: intro.rst`) and MyST Markdown (```` ```{literalinclude} app.py
//! ````), and mdBook's `{{#include file.rs:2:10}}`. The file is read where the
//! directive stands, as the site generator builds the page — a shared paragraph
//! of prose, or an example program shown as code.
//! Only files inside the page's source folder are read (a page in a pulled
//! repository is no way to publish `/etc/passwd`), includes nest at most
//! [`MAX_DEPTH`] deep, and a page with what it includes is at most
//! [`MAX_BYTES`] long.

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
    /// Directives whose file was not read, by the page's line, and why.
    pub problems: Vec<(usize, String)>,
}

/// How deep includes nest (an include in an included file is one deeper).
pub(super) const MAX_DEPTH: usize = 8;

/// The most a page grows to with what it includes.
pub(super) const MAX_BYTES: usize = 4 << 20;

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
/// its `include`/`literalinclude` directives name read in; `None` when it
/// has none.
pub(super) fn splice(root: &Path, page: &Path, text: &str, syntax: Syntax) -> Option<Spliced> {
    if !text.contains("include") && !text.contains("{{#playground") {
        return None;
    }
    let root = absolute(root);
    let page = absolute(page);
    let mut s = Splicer {
        top: sphinx_top(&root, &page),
        root,
        out: Spliced::default(),
        found: false,
        stack: vec![page.clone()],
        bytes: text.len(),
    };
    s.text(text, &page, syntax, None, "");
    s.found.then_some(s.out)
}

struct Splicer {
    /// The source folder, and the folder an include path starting with `/` is
    /// under (Sphinx's: where `conf.py` is).
    root: PathBuf,
    top: PathBuf,
    out: Spliced,
    /// Whether any include directive was met.
    found: bool,
    /// The files being read, the page first: a file that includes itself,
    /// however indirectly, is not read again.
    stack: Vec<PathBuf>,
    bytes: usize,
}

/// One include directive: its name, the file it names and its options.
struct Directive<'t> {
    literal: bool,
    path: &'t str,
    options: Vec<(String, String)>,
}

impl Directive<'_> {
    fn option(&self, name: &str) -> Option<&str> {
        self.options
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

impl Splicer {
    /// Copies `text` (the file `file`) to the output with its includes read in,
    /// every line prefixed with `prefix`; `at`: the page's line all of it maps
    /// to (`None`: the page itself, line by line).
    fn text(&mut self, text: &str, file: &Path, syntax: Syntax, at: Option<usize>, prefix: &str) {
        let lines: Vec<&str> = text.lines().collect();
        // Text shown as code (a literal block, a fence) holds no directives,
        // only examples of them.
        let mut code = Code::None;
        let mut i = 0;
        while i < lines.len() {
            let line = lines[i];
            let here = at.unwrap_or(i + 1);
            // mdBook includes in code too: it is how a book shows a file as code.
            let mdbook = match syntax {
                Syntax::Markdown { .. } => mdbook_directive(line),
                Syntax::Rst => None,
            };
            if let Some(d) = mdbook {
                self.found = true;
                self.directive(
                    &d,
                    file,
                    syntax,
                    here,
                    &format!("{prefix}{}", &line[..indent(line)]),
                );
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
            self.found = true;
            self.directive(
                &d,
                file,
                syntax,
                here,
                &format!("{prefix}{}", &line[..indent(line)]),
            );
            i = end;
        }
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
        let (included, path) = match self.read(d, file) {
            Ok(read) => read,
            Err(why) => return self.out.problems.push((at, why)),
        };
        // Each line is written after the directive's indentation (and a code
        // block's): that counts toward the page's size too.
        let lines = included.bytes().filter(|&b| b == b'\n').count() + 4;
        let cost = included
            .len()
            .saturating_add(lines.saturating_mul(prefix.len() + 3));
        if self.bytes.saturating_add(cost) > MAX_BYTES {
            let why = format!(
                "included file `{}` would make the page over {} MB: not read",
                d.path,
                MAX_BYTES >> 20
            );
            return self.out.problems.push((at, why));
        }
        self.bytes += cost;
        if !self.out.files.contains(&path) {
            self.out.files.push(path.clone());
        }
        self.include(d, &included, &path, syntax, at, prefix);
    }

    fn line(&mut self, prefix: &str, line: &str, at: usize) {
        self.out.text.push_str(prefix);
        self.out.text.push_str(line);
        self.out.text.push('\n');
        self.out.lines.push(at);
    }

    /// Writes what the directive `d` includes (the text of `path`).
    fn include(
        &mut self,
        d: &Directive<'_>,
        included: &str,
        path: &Path,
        syntax: Syntax,
        at: usize,
        prefix: &str,
    ) {
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
        let code = d.literal || d.option("literal").is_some() || d.option("code").is_some();
        let selected = select(included, d);
        if !code {
            self.stack.push(path.to_path_buf());
            self.text(&selected, path, syntax, Some(at), prefix);
            self.stack.pop();
            return;
        }
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

    /// The text of the file `d` names, included from `from`, and its path.
    fn read(&mut self, d: &Directive<'_>, from: &Path) -> Result<(String, PathBuf), String> {
        let name = d.path;
        if name.is_empty() {
            return Err("an include names no file".into());
        }
        // docutils' own files (`<isonum.txt>`): character entities, no knowledge.
        if name.starts_with('<') && name.ends_with('>') {
            return Err(format!("`{name}` is a docutils standard file: not read"));
        }
        let path = match name.strip_prefix('/') {
            Some(under_top) => normal(&self.top.join(under_top)),
            None => normal(&from.parent().unwrap_or(&self.root).join(name)),
        };
        if !path.starts_with(&self.root) || !real_path_within(&path, &self.root) {
            return Err(format!(
                "included file `{name}` is outside the source folder: not read"
            ));
        }
        if self.stack.contains(&path) {
            return Err(format!("`{name}` includes itself: not read again"));
        }
        if self.stack.len() > MAX_DEPTH {
            return Err(format!(
                "`{name}` is included {MAX_DEPTH} includes deep: not read"
            ));
        }
        let cannot = |e: std::io::Error| format!("cannot read included file `{name}`: {e}");
        let meta = std::fs::metadata(&path).map_err(cannot)?;
        if !meta.is_file() {
            return Err(format!("included `{name}` is not a file"));
        }
        let size = usize::try_from(meta.len()).unwrap_or(usize::MAX);
        if self.bytes.saturating_add(size) > MAX_BYTES {
            return Err(format!(
                "included file `{name}` would make the page over {} MB: not read",
                MAX_BYTES >> 20
            ));
        }
        let bytes = std::fs::read(&path).map_err(cannot)?;
        if bytes[..bytes.len().min(8000)].contains(&0) {
            return Err(format!("included file `{name}` is not text: not read"));
        }
        let text = String::from_utf8_lossy(&bytes);
        let text = text.strip_prefix('\u{feff}').unwrap_or(&text).to_string();
        Ok((text, path))
    }
}

/// Whether the lines being copied are code, where a directive is only an
/// example of one.
enum Code {
    None,
    /// reStructuredText: a literal block or code directive, and its indentation:
    /// lines indented deeper (or blank) are its content.
    Indented(usize),
    /// Markdown: a fence (its character and length) until it closes.
    Fenced(u8, usize),
}

impl Code {
    /// The code block `line` opens.
    fn opened_by(line: &str, syntax: Syntax) -> Code {
        let t = line.trim();
        match syntax {
            Syntax::Rst => {
                let directive = t.strip_prefix("..").map(str::trim_start);
                let code_directive = directive.is_some_and(|d| {
                    let name = d.split("::").next().unwrap_or_default().trim();
                    d.contains("::")
                        && ["code-block", "code", "sourcecode", "parsed-literal"]
                            .contains(&name.to_ascii_lowercase().as_str())
                });
                let literal = directive.is_none() && t.ends_with("::");
                if code_directive || literal {
                    Code::Indented(indent(line))
                } else {
                    Code::None
                }
            }
            Syntax::Markdown { .. } => match fence(line) {
                Some((c, n, info)) if !is_directive_info(info) => Code::Fenced(c, n),
                _ => Code::None,
            },
        }
    }

    /// Whether `line` is inside this code block, which it then updates.
    fn holds(&mut self, line: &str) -> bool {
        match *self {
            Code::None => false,
            Code::Indented(own) => {
                if line.trim().is_empty() || indent(line) > own {
                    true
                } else {
                    *self = Code::None;
                    false
                }
            }
            Code::Fenced(c, n) => {
                if let Some((c2, n2, info)) = fence(line)
                    && c2 == c
                    && n2 >= n
                    && info.trim().is_empty()
                {
                    *self = Code::None;
                }
                true
            }
        }
    }
}

/// A Markdown fence: its character, its length and what follows it.
fn fence(line: &str) -> Option<(u8, usize, &str)> {
    if indent(line) > 3 {
        return None;
    }
    let t = line.trim_start();
    let c = *t.as_bytes().first()?;
    if c != b'`' && c != b'~' {
        return None;
    }
    let n = t.bytes().take_while(|&b| b == c).count();
    (n >= 3).then(|| (c, n, &t[n..]))
}

/// A fence's info string naming a MyST directive whose content is text, not
/// code.
fn is_directive_info(info: &str) -> bool {
    let info = info.trim();
    let Some(name) = info.strip_prefix('{').and_then(|r| r.split('}').next()) else {
        return false;
    };
    !["code-block", "code", "sourcecode", "code-cell", "eval-rst"].contains(&name)
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
    };
    Some((d, end))
}

/// The include directive whose fence opens at `lines[i]` in MyST Markdown, and
/// the line after its closing fence.
fn myst_directive<'t>(lines: &[&'t str], i: usize) -> Option<(Directive<'t>, usize)> {
    let (c, n, info) = fence(lines[i]).or_else(|| colon_fence(lines[i]))?;
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
        let closes = t.bytes().all(|b| b == c) && t.len() >= n;
        if closes {
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
    };
    Some((d, end))
}

/// mdBook's include on a line of its own: `{{#include file.rs}}`, with lines
/// (`:2`, `:2:10`, `::10`, `:2:`) or an anchor (`:component`) after the path;
/// `{{#rustdoc_include}}` alike, and `{{#playground file.rs}}` as Rust code.
fn mdbook_directive(line: &str) -> Option<Directive<'_>> {
    let inner = line.trim().strip_prefix("{{#")?.strip_suffix("}}")?;
    let (command, args) = inner.split_once(char::is_whitespace)?;
    let literal = match command {
        "include" | "rustdoc_include" => false,
        "playground" => true,
        _ => return None,
    };
    let args = args.split_whitespace().next().unwrap_or_default();
    let (path, selector) = args.split_once(':').unwrap_or((args, ""));
    let mut options = Vec::new();
    if literal {
        options.push(("language".to_string(), "rust".to_string()));
    }
    let number = |s: &str| s.is_empty() || s.bytes().all(|b| b.is_ascii_digit());
    if !selector.is_empty() {
        let (from, to) = selector.split_once(':').unwrap_or((selector, selector));
        if number(from) && number(to) {
            let from = if from.is_empty() { "1" } else { from };
            options.push(("lines".to_string(), format!("{from}-{to}")));
        } else {
            options.push(("anchor".to_string(), selector.to_string()));
        }
    }
    Some(Directive {
        literal,
        path,
        options,
    })
}

/// A MyST colon fence (`:::{include} intro.md`): like a fence, of colons.
fn colon_fence(line: &str) -> Option<(u8, usize, &str)> {
    if indent(line) > 3 {
        return None;
    }
    let t = line.trim_start();
    let n = t.bytes().take_while(|&b| b == b':').count();
    (n >= 3).then(|| (b':', n, &t[n..]))
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

/// The part of an included file its directive's options select, as Sphinx
/// applies them: a Python object, lines by number, then the text between
/// markers, then dedenting.
fn select(text: &str, d: &Directive<'_>) -> String {
    let mut lines: Vec<&str> = text.lines().collect();
    if let Some(name) = d.option("pyobject") {
        lines = pyobject(&lines, name).map_or(Vec::new(), |r| lines[r].to_vec());
    }
    if let Some(name) = d.option("anchor") {
        lines = anchored(&lines, name);
    }
    if let Some(spec) = d.option("lines") {
        let n = lines.len();
        let picked: Vec<usize> = line_spec(spec, n);
        lines = picked.into_iter().map(|i| lines[i]).collect();
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
            let from = find(&lines, m).map_or(lines.len(), |p| p + usize::from(after));
            lines.drain(..from);
        }
    }
    for (name, at) in [("end-before", false), ("end-at", true)] {
        if let Some(m) = d.option(name).filter(|m| !m.is_empty())
            && let Some(p) = find(&lines, m)
        {
            lines.truncate(p + usize::from(at));
        }
    }
    let mut out: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
    if let Some(p) = d.option("prepend") {
        out.insert(0, p.to_string());
    }
    if let Some(a) = d.option("append") {
        out.push(a.to_string());
    }
    if let Some(by) = d.option("dedent") {
        let shared = out
            .iter()
            .filter(|l| !l.trim().is_empty())
            .map(|l| indent(l))
            .min()
            .unwrap_or(0);
        let cut = by.parse::<usize>().map_or(shared, |n| n.min(shared));
        for l in &mut out {
            *l = if l.trim().is_empty() {
                String::new()
            } else {
                l[cut..].to_string()
            };
        }
    }
    out.join("\n")
}

/// The lines between mdBook's `ANCHOR: name` and `ANCHOR_END: name`, without
/// the lines that mark anchors.
fn anchored<'t>(lines: &[&'t str], name: &str) -> Vec<&'t str> {
    let marks = |l: &str, what: &str| {
        l.split(what).nth(1).is_some_and(|rest| {
            let rest = rest.trim_start_matches(':').trim_start();
            rest.split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '-'))
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

/// Whether `path`, with its links followed, is still inside `root`'s: a link
/// in the source folder must not lead an include out of it.
fn real_path_within(path: &Path, root: &Path) -> bool {
    match (path.canonicalize(), root.canonicalize()) {
        (Ok(p), Ok(r)) => p.starts_with(r),
        // Missing: reading it fails with its own message.
        (Err(_), _) => true,
        (Ok(_), Err(_)) => false,
    }
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
            "Shared intro.\n\n.. include:: more.rst\n",
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
        let s = splice(root, &page, &text, Syntax::Rst).unwrap();
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
        assert!(splice(root, &page, "Just text.\n", Syntax::Rst).is_none());
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
        };
        let cases: &[(&[(&str, &str)], &str)] = &[
            (&[], "a\nb\n# start\n    c\n    d\n# end\ne"),
            (&[("lines", "1,3-4")], "a\n# start\n    c"),
            (&[("lines", "6-")], "# end\ne"),
            (
                &[("start-after", "# start"), ("end-before", "# end")],
                "    c\n    d",
            ),
            (
                &[("start-at", "# start"), ("end-at", "# end")],
                "# start\n    c\n    d\n# end",
            ),
            (
                &[
                    ("start-after", "start"),
                    ("end-before", "end"),
                    ("dedent", ""),
                ],
                "c\nd",
            ),
            (
                &[
                    ("start-after", "start"),
                    ("end-before", "end"),
                    ("dedent", "2"),
                ],
                "  c\n  d",
            ),
            (&[("start-line", "1"), ("end-line", "3")], "b\n# start"),
            (&[("end-line", "-5")], "a\nb"),
            (&[("start-after", "nowhere")], ""),
            (
                &[("lines", "2"), ("prepend", "first"), ("append", "last")],
                "first\nb\nlast",
            ),
        ];
        for (opts, want) in cases {
            assert_eq!(select(text, &d(opts)), *want, "{opts:?}");
        }
        let py = "class A:\n    def f(self):\n        return 1\n\n    def g(self):\n        pass\n\ndef f():\n    return 2\n";
        assert_eq!(
            select(py, &d(&[("pyobject", "A.f")])),
            "    def f(self):\n        return 1"
        );
        assert_eq!(
            select(py, &d(&[("pyobject", "f")])),
            "def f():\n    return 2"
        );
        assert_eq!(select(py, &d(&[("pyobject", "missing")])), "");
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
        let s = splice(root, &page, &text, Syntax::Markdown { myst: true }).unwrap();
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
        let s = splice(root, &page, &text, Syntax::Markdown { myst: false }).unwrap();
        assert!(s.problems.is_empty(), "{:?}", s.problems);
        assert_eq!(
            s.text,
            "# watch\n\nWatches `src` by default.\n\n```rust\nfn part() {}\n```\n\n```rust\nuse x;\n// ANCHOR: part\nfn part() {}\n```\n\n\\{{#include file.rs}}\n\n```rust\n// ANCHOR: all\nuse x;\n```\n"
        );
        let all = mdbook_directive("{{#include file.rs:all}}").unwrap();
        assert_eq!(select(code, &all), "use x;\nfn part() {}\nfn rest() {}");
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
        let s = splice(&root, &page, &text, Syntax::Rst).unwrap();
        assert!(!s.text.contains("password"), "{}", s.text);
        assert!(s.text.contains("B says hello."));
        let lines: Vec<usize> = s.problems.iter().map(|p| p.0).collect();
        let why: Vec<&str> = s.problems.iter().map(|p| p.1.as_str()).collect();
        #[cfg(unix)]
        assert_eq!(lines, [3, 4, 5, 6, 7, 8], "{why:?}");
        assert!(why[0].contains("outside the source folder"), "{why:?}");
        assert!(why[3].contains("cannot read"), "{why:?}");
        assert!(why[4].contains("includes itself"), "{why:?}");
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
        let s = splice(root, &page, &text, Syntax::Rst).unwrap();
        assert!(s.text.contains(&format!("Level {MAX_DEPTH}.")));
        assert!(!s.text.contains(&format!("Level {}.", MAX_DEPTH + 1)));
        assert_eq!(s.problems.len(), 1);
        // A file included many times counts each time toward the page's size.
        write(root, "big.txt", &"x".repeat(MAX_BYTES / 3));
        let many = ".. literalinclude:: big.txt\n".repeat(5);
        let s = splice(root, &root.join("p.rst"), &many, Syntax::Rst).unwrap();
        assert!(s.text.len() < MAX_BYTES + 1000);
        assert_eq!(s.problems.len(), 3, "{:?}", s.problems);
    }
}
