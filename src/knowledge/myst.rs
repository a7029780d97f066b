//! MyST Markdown (Jupyter Book, Sphinx's myst-parser) → the Markdown the
//! Markdown reader knows, line for line; R Markdown's and Quarto's code
//! chunks (```` ```{r} ````) are code in their language. A directive fenced as code
//! (```` ```{note} ````, `:::{admonition} Title`) whose content is prose
//! becomes a container (`:::note`, `:::admonition[Title]`), so its text is
//! read as text, not as a code block; a code directive (`{code-block} python`,
//! `{code-cell}`) becomes a code fence in its language; directives that hold
//! no knowledge (`{toctree}`, `{image}`, `{bibliography}`, `{eval-rst}`) are
//! left out. Directive options (`:tags: [hide-input]`, a `---` block of them)
//! are not content. Roles keep their text (`` {ref}`the setup <setup>` ``
//! reads "the setup"); target labels (`(setup)=`), `%` comments and `+++`
//! block breaks are markup.

use std::borrow::Cow;

/// Directives whose content is prose, beyond those a reStructuredText page
/// uses too ([`super::rst::PROSE`]): MyST's, MyST-NB's, sphinx-proof's and
/// sphinx-exercise's. Any other directive is read as code, as a Markdown
/// reader that knows no MyST reads it: its words are kept verbatim, and a
/// chunk of R Markdown or Quarto (```` ```{r} ````, ```` ```{.python} ````)
/// is code.
const PROSE: &[&str] = &[
    "margin",
    "see-also",
    "tabbed",
    "card-carousel",
    "panels",
    "div",
    "figure",
    "csv-table",
    "toggle",
    "exercise",
    "solution",
    "proof",
];

/// Directives that take a label for their content ("Linux"), read as its
/// lead-in, as a tab's label is.
const LABELLED: &[&str] = &["tab-item", "tab", "tabbed"];

/// Code directives that give their language as an argument
/// (```` ```{code-block} yaml ````); the rest are named for it.
pub(super) const CODE_DIRECTIVES: &[&str] = &["code-block", "code", "sourcecode", "code-cell"];

/// Directives that hold no knowledge of their own, left out with their
/// content.
const SKIP: &[&str] = &[
    "toctree",
    "tableofcontents",
    "image",
    "include",
    "literalinclude",
    "bibliography",
    "raw",
    "eval-rst",
    "eval-sphinx",
    "index",
    "contents",
    "glue",
    "meta",
    "autoclass",
    "automodule",
    "autofunction",
    "automethod",
];

/// Longest role name looked for (`{py:attr}`, `{glue:figure}`).
const MAX_ROLE_NAME: usize = 40;

/// Whether `body` uses MyST's syntax at all: the pass is skipped otherwise,
/// and `%` or `+++` lines are taken for MyST's markup only on such pages.
pub(super) fn is_myst(body: &str) -> bool {
    ["```{", "~~~{", ":::{", ")=\n"]
        .iter()
        .any(|m| body.contains(m))
        || body.match_indices("}`").any(|(at, _)| {
            // `{name}` right before, not inside inline code (`` `{x}` ``).
            let bytes = body.as_bytes();
            let start = at.saturating_sub(MAX_ROLE_NAME + 1);
            let Some(open) = bytes[start..at].iter().rposition(|&b| b == b'{') else {
                return false;
            };
            let open = start + open;
            let name = &bytes[open + 1..at];
            !name.is_empty()
                && name
                    .iter()
                    .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b':' | b'.'))
                && (open == 0 || bytes[open - 1] != b'`')
        })
}

/// What a directive's content is read as.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Prose,
    Code,
    Skip,
}

/// A directive open around the line being read.
struct Open {
    fence: String,
    kind: Kind,
}

/// `body` with MyST's directives, roles, labels and comments made plain
/// Markdown; `body` itself when it uses none. Lines stay where they are.
pub(super) fn plain(body: &str) -> Cow<'_, str> {
    if !is_myst(body) {
        return body.into();
    }
    let mut pass = Pass {
        lines: body.lines().map(Into::into).collect(),
        open: Vec::new(),
        code: None,
    };
    let mut i = 0;
    while i < pass.lines.len() {
        i = pass.line(i);
    }
    let mut out = pass.lines.join("\n");
    if body.ends_with('\n') {
        out.push('\n');
    }
    out.into()
}

/// The lines of a page being made plain, and what is open at the line read.
struct Pass<'a> {
    lines: Vec<Cow<'a, str>>,
    /// Directives open, innermost last.
    open: Vec<Open>,
    /// A plain code fence open (its fence): nothing in it is MyST.
    code: Option<String>,
}

impl Pass<'_> {
    /// Reads line `i`; the next line to read.
    fn line(&mut self, i: usize) -> usize {
        let line = self.lines[i].clone();
        let indent = &line[..line.len() - line.trim_start().len()];
        let t = line.trim();
        if let Some(fence) = &self.code {
            if closes(t, fence) {
                self.code = None;
            }
            return i + 1;
        }
        let skipping = self.open.last().is_some_and(|o| o.kind == Kind::Skip);
        if let Some(top) = self.open.last()
            && closes(t, &top.fence)
        {
            self.lines[i] = match top.kind {
                Kind::Prose => format!("{indent}:::").into(),
                Kind::Code | Kind::Skip => "".into(),
            };
            self.open.pop();
            return i + 1;
        }
        if let Some((fence, name, args)) = directive(t) {
            let kind = if skipping { Kind::Skip } else { kind_of(name) };
            return self.directive(i, indent, fence, (name, args), kind);
        }
        if skipping {
            self.lines[i] = "".into();
        } else if let Some(fence) = code_fence(t) {
            self.code = Some(fence);
        } else if is_markup(t) {
            self.lines[i] = "".into();
        } else if t.contains("}`") {
            self.lines[i] = roles(&line).into_owned().into();
        }
        i + 1
    }

    /// Reads the directive opened at line `i` by `fence`, of `name` with
    /// `args`, whose content is read as `kind`; the next line to read.
    fn directive(
        &mut self,
        i: usize,
        indent: &str,
        fence: String,
        (name, args): (&str, &str),
        kind: Kind,
    ) -> usize {
        let options = options_after(&self.lines, i + 1);
        for l in &mut self.lines[i..i + options] {
            *l = "".into();
        }
        // What opens the content goes where the options end, so they are not
        // content.
        let at = i + options;
        let opener: Cow<'_, str> = match kind {
            Kind::Skip => "".into(),
            Kind::Code => {
                // A chunk is named for its language (```` ```{r} ````,
                // ```` ```{.python} ````); a directive gives it first.
                let language = match (name.strip_prefix('.'), CODE_DIRECTIVES.contains(&name)) {
                    (Some(language), _) => language,
                    (None, true) => args.split_whitespace().next().unwrap_or(""),
                    (None, false) => name,
                };
                if fence.starts_with(':') {
                    return self.colon_code(at, indent, &fence, language);
                }
                format!("{indent}{fence}{language}").into()
            }
            Kind::Prose => {
                // `prf:theorem` reads as a `theorem` container.
                let kind = name.rsplit(':').next().unwrap_or(name);
                let title = match kind {
                    // A figure's argument is its image.
                    "figure" => String::new(),
                    _ => super::rst::title_of(kind, args.trim()),
                };
                let title = title.as_str();
                if LABELLED.contains(&kind) && !title.is_empty() {
                    format!("{indent}{}:", roles(title)).into()
                } else if title.is_empty() {
                    format!("{indent}:::{kind}").into()
                } else {
                    format!("{indent}:::{kind}[{}]", roles(title)).into()
                }
            }
        };
        self.lines[at] = opener.into_owned().into();
        if kind == Kind::Code {
            // Read as a plain code fence from here: nothing in it is MyST.
            self.code = Some(fence);
            return at + 1;
        }
        self.open.push(Open { fence, kind });
        at + 1
    }

    /// A code directive fenced by colons, opened at line `at`: a `:::` would
    /// close nothing as code, so it becomes a backtick fence up to its own
    /// `:::`. The next line to read.
    fn colon_code(&mut self, at: usize, indent: &str, fence: &str, language: &str) -> usize {
        self.lines[at] = format!("{indent}````{language}").into();
        let end = (at + 1..self.lines.len()).find(|&k| closes(self.lines[k].trim(), fence));
        match end {
            Some(k) => {
                self.lines[k] = format!("{indent}````").into();
                k + 1
            }
            None => self.lines.len(),
        }
    }
}

/// The opening of a directive: its fence (three or more backticks, tildes or
/// colons), name and arguments (`` ```{code-block} python `` → "```",
/// "code-block", "python").
fn directive(t: &str) -> Option<(String, &str, &str)> {
    let c = t.chars().next().filter(|c| matches!(c, '`' | '~' | ':'))?;
    let fence: String = t.chars().take_while(|&d| d == c).collect();
    if fence.len() < 3 {
        return None;
    }
    let rest = t[fence.len()..].strip_prefix('{')?;
    let (name, args) = rest.split_once('}')?;
    let valid = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | ':' | '.'));
    valid.then_some((fence, name, args))
}

fn kind_of(name: &str) -> Kind {
    let name = name.to_ascii_lowercase();
    if name.starts_with("glue") || SKIP.contains(&name.as_str()) {
        Kind::Skip
    } else if super::rst::PROSE.contains(&name.as_str())
        || PROSE.contains(&name.as_str())
        || name.starts_with("prf:")
    {
        Kind::Prose
    } else {
        Kind::Code
    }
}

/// How many lines from `from` are a directive's options: `:key: value` lines,
/// or a block of them between `---` lines.
fn options_after(lines: &[Cow<'_, str>], from: usize) -> usize {
    let t = |k: usize| lines.get(k).map(|l| l.trim()).unwrap_or("");
    if t(from) == "---" {
        let end = (from + 1..lines.len().min(from + 64)).find(|&k| t(k) == "---");
        return end.map_or(0, |e| e + 1 - from);
    }
    (from..lines.len())
        .take_while(|&k| {
            let l = t(k);
            l.len() > 2
                && l.starts_with(':')
                && l[1..]
                    .split_once(':')
                    .is_some_and(|(key, _)| !key.is_empty() && !key.contains(' '))
        })
        .count()
}

/// Whether `t` closes a block opened by `fence`: the same character, at least
/// as many, and nothing else.
pub(super) fn closes(t: &str, fence: &str) -> bool {
    let c = fence.chars().next().unwrap_or('`');
    t.len() >= fence.len() && t.chars().all(|d| d == c)
}

/// A plain code fence's opener (```` ```python ````): the fence.
pub(super) fn code_fence(t: &str) -> Option<String> {
    let c = t.chars().next().filter(|c| matches!(c, '`' | '~'))?;
    let fence: String = t.chars().take_while(|&d| d == c).collect();
    (fence.len() >= 3).then_some(fence)
}

/// A target label (`(setup)=`), a `%` comment or a `+++` block break.
fn is_markup(t: &str) -> bool {
    (t.starts_with('(') && t.ends_with(")=") && !t[1..t.len() - 2].contains([' ', '(', ')']))
        || t.starts_with('%')
        || t.starts_with("+++")
}

/// `line` with each role (`` {ref}`text <target>` ``, `` {term}`MyST` ``) as
/// its text: the text before a `<target>`, or the target without `~`/`!`.
/// Inline code (`` `{note}` ``) is left as it is.
fn roles(line: &str) -> Cow<'_, str> {
    if !line.contains("}`") {
        return line.into();
    }
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    let closers = backtick_runs(line);
    while let Some(at) = rest.find(['{', '`']) {
        out.push_str(&rest[..at]);
        let here = &rest[at..];
        if here.starts_with('`') {
            // Inline code: copied up to the next run of as many backticks.
            let run = here.len() - here.trim_start_matches('`').len();
            let from = line.len() - here.len();
            let close = closers.get(&run).and_then(|starts| {
                let k = starts.partition_point(|&s| s <= from);
                starts.get(k).map(|&s| s - from)
            });
            match close {
                Some(end) => {
                    out.push_str(&here[..end + run]);
                    rest = &here[end + run..];
                }
                None => {
                    out.push_str(&here[..run]);
                    rest = &here[run..];
                }
            }
            continue;
        }
        // A role's name is short: looked for near the brace only, so a line
        // of braces costs no more than its length.
        let end = crate::text::floor_char_boundary(here, 1 + MAX_ROLE_NAME + 2);
        let near = &here[1..end];
        let name_len = near.find("}`").filter(|&n| {
            n > 0
                && near[..n]
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | ':' | '.'))
        });
        let after = name_len.map(|n| (&here[1..1 + n], &here[1 + n + 2..]));
        match after.and_then(|(name, a)| a.find('`').map(|end| (name, a, end))) {
            Some((name, after, end)) => {
                let text = role_text(&after[..end]);
                // A name in code is shown as code, so `__init__` stays a name.
                if is_code_role(name) {
                    out.push('`');
                    out.push_str(&text);
                    out.push('`');
                } else {
                    out.push_str(&text);
                }
                rest = &after[end + 1..];
            }
            None => {
                out.push('{');
                rest = &here[1..];
            }
        }
    }
    out.push_str(rest);
    out.into()
}

/// Where each run of backticks in `line` starts, by its length: a code span
/// closes at the next run of its opener's length, found here without
/// scanning the rest of the line again for each run.
fn backtick_runs(line: &str) -> std::collections::HashMap<usize, Vec<usize>> {
    let mut runs: std::collections::HashMap<usize, Vec<usize>> = Default::default();
    let bytes = line.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'`' {
            let start = i;
            while i < bytes.len() && bytes[i] == b'`' {
                i += 1;
            }
            runs.entry(i - start).or_default().push(start);
        } else {
            i += 1;
        }
    }
    runs
}

/// Roles whose text is code: `{code}`, `{literal}`, `{file}`, `{command}`,
/// `{envvar}`, `{option}`, `{samp}` and the objects of Sphinx's domains
/// (`{py:meth}`, `{js:func}`).
fn is_code_role(name: &str) -> bool {
    matches!(
        name,
        "code" | "literal" | "file" | "command" | "envvar" | "option" | "samp" | "program"
    ) || name.contains(':') && !name.starts_with("glue") && !name.starts_with("prf")
}

/// What a role shows: `text <target>` → "text"; `~a.b.c` → "c"; else as written.
fn role_text(inner: &str) -> String {
    let inner = inner.trim();
    if let Some(text) = inner
        .strip_suffix('>')
        .and_then(|s| s.rsplit_once('<'))
        .map(|(text, _)| text.trim())
        .filter(|t| !t.is_empty())
    {
        return text.to_string();
    }
    match inner.strip_prefix('~') {
        Some(path) => path.rsplit('.').next().unwrap_or(path).to_string(),
        None => inner.trim_start_matches('!').to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directives_become_containers_code_or_nothing_line_for_line() {
        let table: &[(&str, &str)] = &[
            // A prose directive: a container, its options gone.
            (
                "```{note}\n:class: dropdown\nRun `jb build`.\n```\n",
                "\n:::note\nRun `jb build`.\n:::\n",
            ),
            (
                ":::{admonition} Upgrading from `panels`\nUse sphinx-design.\n:::\n",
                ":::admonition[Upgrading from `panels`]\nUse sphinx-design.\n:::\n",
            ),
            // A code directive: a fence in its language, after its options.
            (
                "```{code-cell} ipython3\n:tags: [hide-input]\n\nprint(1)\n```\n",
                "\n```ipython3\n\nprint(1)\n```\n",
            ),
            (
                "```{code-block} yaml\n---\nlineno-start: 1\n---\nkey: 1\n```\n",
                "\n\n\n```yaml\nkey: 1\n```\n",
            ),
            (
                ":::{code-block} bash\njb build .\n:::\nAfter.\n",
                "````bash\njb build .\n````\nAfter.\n",
            ),
            // Nothing of a directive that holds no knowledge.
            (
                "```{toctree}\n:maxdepth: 2\nintro\n```\nText.\n",
                "\n\n\n\nText.\n",
            ),
            // A plain code fence is left alone, MyST inside it too.
            (
                "````md\n```{note}\nx\n```\n````\n(label)=\n",
                "````md\n```{note}\nx\n```\n````\n\n",
            ),
            // Labels, comments and block breaks are markup; roles keep their text.
            (
                "(setup)=\n% a comment\n+++\nSee {ref}`the setup <setup>` and {term}`MyST`, not `{note}`.\n",
                "\n\n\nSee the setup and MyST, not `{note}`.\n",
            ),
            // Tabs are led in by their labels; a domain's directive is named
            // by its kind; a directive nobody listed is code.
            (
                "````{tab-set}\n```{tab-item} Linux\napt install x\n```\n```{tab-item} macOS\nbrew install x\n```\n````\n",
                ":::tab-set\nLinux:\napt install x\n:::\nmacOS:\nbrew install x\n:::\n:::\n",
            ),
            (
                ":::{prf:theorem} Pythagoras\na² + b² = c²\n:::\n",
                ":::theorem[Pythagoras]\na² + b² = c²\n:::\n",
            ),
            // A version directive says what it marks, as in reStructuredText;
            // a condition is no title.
            (
                "```{versionadded} 5.1.0\nThe option.\n```\n```{only} html\nWeb.\n```\n",
                ":::versionadded[New in version 5.1.0.]\nThe option.\n:::\n:::only\nWeb.\n:::\n",
            ),
            ("```{plantuml}\nA -> B\n```\n", "```plantuml\nA -> B\n```\n"),
            (
                "```{.python}\n# a comment\n```\n",
                "```python\n# a comment\n```\n",
            ),
            ("```{R}\nplot(x)\n```\n", "```R\nplot(x)\n```\n"),
            // R Markdown and Quarto chunks are code.
            ("```{r}\nplot(x)\n```\n", "```r\nplot(x)\n```\n"),
            // A page with no MyST is returned as is, inline code with braces too.
            ("% of users\n+++\n", "% of users\n+++\n"),
            (
                "Use `{x}` here.\n% of users\n",
                "Use `{x}` here.\n% of users\n",
            ),
        ];
        for &(myst, want) in table {
            let got = plain(myst);
            assert_eq!(got, want, "{myst:?}");
            assert_eq!(got.lines().count(), myst.lines().count(), "{myst:?}");
        }
    }

    #[test]
    fn roles_show_their_text() {
        let table: &[(&str, &str)] = &[
            ("{doc}`intro`", "intro"),
            ("{py:func}`~jupyter_book.cli.build`", "`build`"),
            (
                "{py:meth}`__call__` and {command}`jb build`",
                "`__call__` and `jb build`",
            ),
            ("{glue:text}`n_rows`", "n_rows"),
            ("{download}`this notebook <./nb.ipynb>`", "this notebook"),
            ("{ref}`<setup>`", "<setup>"),
            ("a {b} `c` {d}`e`", "a {b} `c` e"),
            ("``{x}`y`` {x}`y`", "``{x}`y`` y"),
            ("{bad role}`x`", "{bad role}`x`"),
            ("{x}`unclosed", "{x}`unclosed"),
        ];
        for &(line, want) in table {
            assert_eq!(roles(line), want, "{line}");
        }
    }
}
