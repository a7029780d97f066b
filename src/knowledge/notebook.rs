//! Jupyter notebooks (`.ipynb`) → Markdown, which the Markdown reader then
//! reads as any page: Markdown cells are the prose and headings, code cells are
//! code (fenced, in the kernel's language) joined to the cell that introduces
//! them, and the text a cell printed follows its code, cut short. A first raw
//! cell of front matter (Quarto, Jupytext, Jupyter Book) is the page's front
//! matter. Every line of the Markdown is mapped back to the notebook's own
//! line, so a citation points into the file as it is. Version 4 notebooks and
//! version 3's worksheets are read; a file that is not a notebook is a problem
//! at the line where its JSON breaks.

use serde_json::Value;

/// Most lines and characters of one cell's printed output kept: the result a
/// reader looks for, not a dump of a data frame.
const MAX_OUTPUT_LINES: usize = 12;
const MAX_OUTPUT_CHARS: usize = 1_200;

/// A notebook as Markdown.
#[derive(Debug)]
pub(super) struct Converted {
    pub text: String,
    /// The notebook's 1-based line of each line of `text`.
    pub lines: Vec<usize>,
}

impl Converted {
    fn push(&mut self, line: &str, at: usize) {
        self.text.push_str(line);
        self.text.push('\n');
        self.lines.push(at);
    }
}

/// The notebook `json` as Markdown, or the line and reason it cannot be read.
pub(super) fn markdown(json: &str) -> Result<Converted, (usize, String)> {
    let nb: Value = serde_json::from_str(json)
        .map_err(|e| (e.line().max(1), format!("not a Jupyter notebook: {e}")))?;
    let cells = nb
        .get("cells")
        .or_else(|| nb.pointer("/worksheets/0/cells"))
        .and_then(Value::as_array)
        .ok_or_else(|| (1, "not a Jupyter notebook: it has no `cells`".to_string()))?;
    let language = [
        "/metadata/kernelspec/language",
        "/metadata/language_info/name",
    ]
    .iter()
    .find_map(|p| nb.pointer(p).and_then(Value::as_str))
    .unwrap_or("")
    .chars()
    .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '#' | '-'))
    .collect::<String>();
    let places = cell_places(json);
    let mut out = Converted {
        text: String::new(),
        lines: Vec::new(),
    };
    for (i, cell) in cells.iter().enumerate() {
        let place = places.get(i).copied().unwrap_or_default();
        let source = text_of(cell.get("source").or_else(|| cell.get("input")));
        let line_of = |k: usize| place.source_line(k);
        match cell.get("cell_type").and_then(Value::as_str) {
            Some("markdown") => {
                // A cell opening with a rule is not the page's front matter.
                if out.text.is_empty() && source.starts_with(['-', '+']) {
                    out.push("", 1);
                }
                let mut fence: Option<String> = None;
                for (k, l) in source.lines().enumerate() {
                    fence = fence_after(fence, l);
                    out.push(l, line_of(k));
                }
                // Jupyter renders each cell alone: a fence it leaves open
                // ends with it.
                if let Some(fence) = fence {
                    out.push(&fence, line_of(source.lines().count().saturating_sub(1)));
                }
            }
            // Version 3's heading cells.
            Some("heading") => {
                let level = cell.get("level").and_then(Value::as_u64).unwrap_or(1);
                let hashes = "#".repeat(level.clamp(1, 6) as usize);
                out.push(
                    &format!("{hashes} {}", source.replace('\n', " ")),
                    line_of(0),
                );
            }
            Some("code") => {
                fenced(&mut out, &source, &language, line_of);
                let printed = output_of(cell);
                fenced(&mut out, &printed, "text", |_| place.line());
            }
            // Front matter, when it opens the notebook; otherwise raw cells
            // are for the converter, not the reader.
            Some("raw") if out.text.is_empty() && source.starts_with(['-', '+']) => {
                for (k, l) in source.lines().enumerate() {
                    out.push(l, line_of(k));
                }
            }
            _ => continue,
        }
        out.push("", place.line());
    }
    Ok(out)
}

/// The code fence open after `line`, given the one open before it.
fn fence_after(open: Option<String>, line: &str) -> Option<String> {
    let t = line.trim();
    match open {
        Some(fence) => (!super::myst::closes(t, &fence)).then_some(fence),
        None => super::myst::code_fence(t),
    }
}

/// `code` as a fenced block in `language`, each line at `line_of` its index;
/// nothing when it is blank.
fn fenced(out: &mut Converted, code: &str, language: &str, line_of: impl Fn(usize) -> usize) {
    if code.trim().is_empty() {
        return;
    }
    let fence = super::code_fence(code);
    out.push("", line_of(0));
    out.push(&format!("{fence}{language}"), line_of(0));
    let mut last = line_of(0);
    for (k, l) in code.lines().enumerate() {
        last = line_of(k);
        out.push(l, last);
    }
    out.push(&fence, last);
}

/// A cell's `source` (or version 3's `input`): a string, or a list of lines.
fn text_of(value: Option<&Value>) -> String {
    match value {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(parts)) => parts.iter().filter_map(Value::as_str).collect(),
        _ => String::new(),
    }
}

/// What a code cell printed as text (streams, results, displays; not errors),
/// cut to [`MAX_OUTPUT_LINES`] and [`MAX_OUTPUT_CHARS`], with "…" when cut.
fn output_of(cell: &Value) -> String {
    let Some(outputs) = cell.get("outputs").and_then(Value::as_array) else {
        return String::new();
    };
    let mut printed = String::new();
    for o in outputs {
        let text = match o.get("output_type").and_then(Value::as_str) {
            // Warnings and progress bars, not the result.
            Some("stream") if o.get("name").and_then(Value::as_str) == Some("stderr") => continue,
            Some("stream") => text_of(o.get("text")),
            Some("execute_result" | "display_data") => text_of(o.pointer("/data/text~1plain")),
            // Version 3.
            Some("pyout") => text_of(o.get("text")),
            _ => continue,
        };
        printed.push_str(&text);
        if !printed.ends_with('\n') {
            printed.push('\n');
        }
    }
    let mut kept = String::new();
    // A line a carriage return rewrote shows what was written last.
    let shown = printed.lines().map(|l| l.rsplit('\r').next().unwrap_or(l));
    for (k, l) in shown.enumerate() {
        if k == MAX_OUTPUT_LINES || kept.len() + l.len() > MAX_OUTPUT_CHARS {
            kept.push('…');
            break;
        }
        kept.push_str(l);
        kept.push('\n');
    }
    kept
}

/// Where a cell is in the notebook's text: the line of its first key, and of
/// its `source`, and whether the source is written one line per string, as
/// Jupyter writes it.
#[derive(Debug, Clone, Copy, Default)]
struct Place {
    cell: usize,
    source: usize,
    per_line: bool,
}

impl Place {
    /// The cell's line: 1 when its place is unknown (a cell without a
    /// `cell_type` key is not found in the text, and what follows it is
    /// placed by the cells before).
    fn line(&self) -> usize {
        self.cell.max(1)
    }

    /// The line of the source's `k`th line.
    fn source_line(&self, k: usize) -> usize {
        match (self.source, self.per_line) {
            (0, _) => self.line(),
            (s, true) => s + 1 + k,
            (s, false) => s,
        }
    }
}

/// Each cell's [`Place`], in order. Keys inside strings are escaped (`\"`), so
/// `"cell_type"` followed by a colon is a cell's key; a cell's source is the
/// last `"source"` (or `"input"`) key before the next cell, as Jupyter sorts
/// a cell's keys and puts its outputs before it.
fn cell_places(json: &str) -> Vec<Place> {
    let starts = key_offsets(json, "cell_type");
    let mut lines = super::LineCounter::new(json);
    let mut places = Vec::with_capacity(starts.len());
    for (i, &start) in starts.iter().enumerate() {
        let end = starts.get(i + 1).copied().unwrap_or(json.len());
        let region = &json[start..end];
        let source = ["source", "input"]
            .iter()
            .filter_map(|k| key_offsets(region, k).last().copied())
            .max();
        let cell = lines.line_of(start);
        let (source, per_line) = match source {
            Some(at) => {
                let after = region[at..].split_once(':').map_or("", |(_, v)| v);
                let per_line = after.trim_start().starts_with('[')
                    && after.trim_start()[1..]
                        .trim_start_matches([' ', '\t'])
                        .starts_with(['\n', '\r']);
                (lines.line_of(start + at), per_line)
            }
            None => (0, false),
        };
        places.push(Place {
            cell,
            source,
            per_line,
        });
    }
    places
}

/// Byte offsets of `"key"` followed by a colon in `json`.
fn key_offsets(json: &str, key: &str) -> Vec<usize> {
    let quoted = format!("\"{key}\"");
    json.match_indices(&quoted)
        .filter(|(at, q)| {
            json[at + q.len()..]
                .trim_start_matches([' ', '\t', '\n', '\r'])
                .starts_with(':')
        })
        .map(|(at, _)| at)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A notebook as Jupyter writes it: sorted keys, one string per line.
    const NOTEBOOK: &str = r##"{
 "cells": [
  {
   "cell_type": "markdown",
   "id": "a1",
   "metadata": {},
   "source": [
    "# Training a model\n",
    "\n",
    "Load the \"iris\" data first:"
   ]
  },
  {
   "cell_type": "code",
   "execution_count": 1,
   "id": "a2",
   "metadata": {},
   "outputs": [
    {
     "name": "stdout",
     "output_type": "stream",
     "text": [
      "150 rows\n"
     ]
    }
   ],
   "source": [
    "from sklearn.datasets import load_iris\n",
    "data = load_iris()\n",
    "print(len(data.target), 'rows')"
   ]
  },
  {
   "cell_type": "raw",
   "metadata": {},
   "source": ["for nbconvert"]
  },
  {
   "cell_type": "code",
   "execution_count": 2,
   "metadata": {},
   "outputs": [
    {
     "ename": "ValueError",
     "output_type": "error",
     "traceback": ["boom"]
    }
   ],
   "source": "model.fit(```x```)"
  }
 ],
 "metadata": {
  "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}
 },
 "nbformat": 4,
 "nbformat_minor": 5
}
"##;

    #[test]
    fn cells_become_markdown_with_their_lines_in_the_notebook() {
        let c = markdown(NOTEBOOK).unwrap();
        let want = "# Training a model\n\nLoad the \"iris\" data first:\n\n\n```python\nfrom sklearn.datasets import load_iris\ndata = load_iris()\nprint(len(data.target), 'rows')\n```\n\n```text\n150 rows\n```\n\n\n````python\nmodel.fit(```x```)\n````\n\n";
        assert_eq!(c.text, want);
        assert_eq!(c.lines.len(), c.text.lines().count());
        let at = |needle: &str| {
            let k = c.text.lines().position(|l| l == needle).unwrap();
            c.lines[k]
        };
        let line_in_json =
            |needle: &str| NOTEBOOK.lines().position(|l| l.contains(needle)).unwrap() + 1;
        assert_eq!(at("# Training a model"), line_in_json("# Training a model"));
        assert_eq!(
            at("Load the \"iris\" data first:"),
            line_in_json("Load the")
        );
        assert_eq!(at("data = load_iris()"), line_in_json("data = load_iris()"));
        assert_eq!(at("model.fit(```x```)"), line_in_json("model.fit("));
    }

    #[test]
    fn what_is_not_a_notebook_is_a_problem_at_its_line() {
        let table: &[(&str, usize, &str)] = &[
            (
                "{\n \"cells\": [\n  {,\n",
                3,
                "not a Jupyter notebook: key must be a string",
            ),
            (
                "{\"nbformat\": 4}",
                1,
                "not a Jupyter notebook: it has no `cells`",
            ),
            ("[1, 2]", 1, "not a Jupyter notebook: it has no `cells`"),
        ];
        for &(json, line, why) in table {
            let (l, e) = markdown(json).unwrap_err();
            assert_eq!(l, line, "{json}");
            assert!(e.starts_with(why), "{e}");
        }
    }

    #[test]
    fn front_matter_version_3_headings_and_long_outputs() {
        let v3 = r#"{"metadata": {"language_info": {"name": "R"}}, "worksheets": [{"cells": [
            {"cell_type": "raw", "source": ["---\n", "title: Plots\n", "---"]},
            {"cell_type": "heading", "level": 2, "source": ["Setup"]},
            {"cell_type": "code", "input": ["x <- 1:40"], "outputs": [
              {"output_type": "pyout", "text": ["1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n13\n14"]}]},
            {"cell_type": "markdown", "source": "---\nA rule, then text."}
        ]}]}"#;
        let c = markdown(v3).unwrap();
        assert!(c.text.starts_with("---\ntitle: Plots\n---\n"), "{}", c.text);
        assert!(c.text.contains("\n## Setup\n"), "{}", c.text);
        assert!(c.text.contains("```R\nx <- 1:40\n```"), "{}", c.text);
        assert!(c.text.contains("11\n12\n…\n```"), "{}", c.text);
        let first =
            markdown(r#"{"cells": [{"cell_type": "markdown", "source": "---\nText."}]}"#).unwrap();
        assert!(first.text.starts_with("\n---\n"), "{}", first.text);
        // A cell's open fence ends with it; warnings and rewritten lines of
        // a progress bar are not what a cell printed.
        let c = markdown(
            r##"{"cells": [
            {"cell_type": "markdown", "source": "Run:\n```bash\nmake"},
            {"cell_type": "markdown", "source": "# Next"},
            {"cell_type": "code", "source": "fit()", "outputs": [
              {"output_type": "stream", "name": "stderr", "text": "DeprecationWarning"},
              {"output_type": "stream", "name": "stdout", "text": "10%\r100%\ndone"}]}
        ]}"##,
        )
        .unwrap();
        assert!(
            c.text.starts_with("Run:\n```bash\nmake\n```\n\n# Next\n"),
            "{}",
            c.text
        );
        assert!(c.text.contains("```text\n100%\ndone\n```"), "{}", c.text);
        assert!(!c.text.contains("Deprecation"), "{}", c.text);
    }
}
