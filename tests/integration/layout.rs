//! The shape of the source tree, checked so it stays as the README describes it:
//! no import cycles between modules, no long functions outside tests, and one
//! line in the README's Layout section for every module. Read from the source
//! text (no compiler help): `crate::` and `super::` paths, `use` groups, and a
//! parent's `child::` paths are a module's dependencies.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Longest function allowed outside tests, in lines.
const MAX_FUNCTION_LINES: usize = 80;

/// Every module of the crate by path (`bot::sync`; the crate root is ""), with
/// its source file and code before its tests.
fn modules() -> BTreeMap<String, (PathBuf, String)> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut out = BTreeMap::new();
    let mut dirs = vec![src.clone()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let rel = path.strip_prefix(&src).unwrap().with_extension("");
            let mut parts: Vec<String> = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            // The binary is a crate of its own, using the library's public API.
            if rel == Path::new("main") {
                parts = vec!["(binary)".to_string()];
            } else if matches!(parts.last().map(String::as_str), Some("mod" | "lib")) {
                parts.pop();
            }
            let text = std::fs::read_to_string(&path).unwrap();
            out.insert(parts.join("::"), (path, without_tests(&text)));
        }
    }
    out
}

/// The code before the file's `#[cfg(test)]` module, `//` comment lines blanked
/// (so line numbers stay the file's).
fn without_tests(text: &str) -> String {
    text.lines()
        .take_while(|l| l.trim() != "#[cfg(test)]")
        .map(|l| {
            if l.trim_start().starts_with("//") {
                ""
            } else {
                l
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn parent(module: &str) -> &str {
    module.rsplit_once("::").map_or("", |(p, _)| p)
}

fn join(base: &str, name: &str) -> String {
    if base.is_empty() {
        name.to_string()
    } else {
        format!("{base}::{name}")
    }
}

/// The identifier starting at `s` (empty when there is none).
fn ident(s: &str) -> &str {
    let end = s
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(s.len());
    &s[..end]
}

/// The module a path names, from `base` (the module it is relative to) and its
/// segments: the longest prefix that is a module.
fn resolve(modules: &BTreeMap<String, (PathBuf, String)>, base: &str, rest: &str) -> String {
    let mut module = base.to_string();
    let mut s = rest;
    loop {
        let seg = ident(s);
        if seg.is_empty() {
            return module;
        }
        let next = join(&module, seg);
        if !modules.contains_key(&next) {
            return module;
        }
        module = next;
        match s[seg.len()..].strip_prefix("::") {
            Some(after) => s = after,
            None => return module,
        }
    }
}

/// The modules `module` uses, from `base` (what a path starts from) and the text
/// right after `crate::`, `super::` or a child's name: a path or a `{…}` group.
fn uses_from(
    modules: &BTreeMap<String, (PathBuf, String)>,
    base: &str,
    rest: &str,
    out: &mut BTreeSet<String>,
) {
    let Some(group) = rest.strip_prefix('{') else {
        out.insert(resolve(modules, base, rest));
        return;
    };
    // Items of a group, split at its top-level commas.
    let (mut depth, mut start) = (0, 0);
    for (i, c) in group.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => {
                item(modules, base, &group[start..i], out);
                return;
            }
            '}' => depth -= 1,
            ',' if depth == 0 => {
                item(modules, base, &group[start..i], out);
                start = i + 1;
            }
            _ => {}
        }
    }
}

fn item(
    modules: &BTreeMap<String, (PathBuf, String)>,
    base: &str,
    item: &str,
    out: &mut BTreeSet<String>,
) {
    let item = item.trim();
    if item.is_empty() || item == "self" {
        out.insert(base.to_string());
        return;
    }
    let head = ident(item);
    let module = join(base, head);
    match item[head.len()..].strip_prefix("::") {
        Some(rest) if modules.contains_key(&module) => uses_from(modules, &module, rest, out),
        _ => {
            out.insert(resolve(modules, base, item));
        }
    }
}

/// The modules each module uses, without a module's uses of its own ancestors:
/// a child may use what its parent defines for it (`super::Bot`).
fn dependencies(
    modules: &BTreeMap<String, (PathBuf, String)>,
) -> BTreeMap<String, BTreeSet<String>> {
    let mut graph = BTreeMap::new();
    for (name, (_, code)) in modules {
        let mut deps = BTreeSet::new();
        for (i, _) in code.match_indices("crate::") {
            uses_from(modules, "", &code[i + 7..], &mut deps);
        }
        for (i, _) in code.match_indices("super::") {
            let before = &code[..i];
            // `super::super::x` is read once, from its first `super`.
            if before.ends_with("super::") {
                continue;
            }
            let mut base = parent(name);
            let mut rest = &code[i + 7..];
            while let Some(r) = rest.strip_prefix("super::") {
                base = parent(base);
                rest = r;
            }
            uses_from(modules, base, rest, &mut deps);
        }
        // A parent's paths through its children: `handlers::process`.
        for (i, _) in code.match_indices("::") {
            let start = code[..i]
                .rfind(|c: char| !(c.is_alphanumeric() || c == '_'))
                .map_or(0, |j| j + 1);
            let head = &code[start..i];
            let prefix = &code[..start];
            if head.is_empty() || prefix.ends_with("::") || !modules.contains_key(&join(name, head))
            {
                continue;
            }
            uses_from(modules, &join(name, head), &code[i + 2..], &mut deps);
        }
        deps.retain(|d| d != name && !(d.is_empty() || name.starts_with(&format!("{d}::"))));
        graph.insert(name.clone(), deps);
    }
    graph
}

/// A cycle through `from`, if there is one: the modules along it.
fn cycle_through(graph: &BTreeMap<String, BTreeSet<String>>, from: &str) -> Option<Vec<String>> {
    let mut stack = vec![(from.to_string(), vec![from.to_string()])];
    let mut seen = BTreeSet::new();
    while let Some((at, path)) = stack.pop() {
        for next in graph.get(&at).into_iter().flatten() {
            if next == from {
                return Some(path.clone());
            }
            if seen.insert(next.clone()) {
                let mut longer = path.clone();
                longer.push(next.clone());
                stack.push((next.clone(), longer));
            }
        }
    }
    None
}

#[test]
fn modules_depend_on_each_other_without_cycles() {
    let modules = modules();
    let graph = dependencies(&modules);
    // The reading above must see the dependencies that exist.
    for (module, uses) in [
        ("render", "search"),
        ("bot::sync", "bot::handlers"),
        ("search::rank", "search::retrieve"),
        ("search", "search::rank"),
    ] {
        assert!(
            graph[module].contains(uses),
            "{module} uses {uses}, but the check sees only {:?}",
            graph[module]
        );
    }
    let cycles: Vec<String> = graph
        .keys()
        .filter_map(|m| cycle_through(&graph, m))
        .map(|c| c.join(" → "))
        .collect();
    assert!(cycles.is_empty(), "import cycles:\n{}", cycles.join("\n"));
}

#[test]
fn functions_outside_tests_are_short() {
    let mut long = Vec::new();
    for (path, code) in modules().values() {
        let lines: Vec<&str> = code.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            let trimmed = line.trim_start();
            let indent = &line[..line.len() - trimmed.len()];
            let words: Vec<&str> = trimmed.split_whitespace().collect();
            let Some(at) = words.iter().position(|w| *w == "fn") else {
                continue;
            };
            let is_item = words[..at].iter().all(|w| {
                matches!(*w, "pub" | "async" | "const" | "unsafe") || w.starts_with("pub(")
            });
            if !is_item || line.trim_end().ends_with(';') {
                continue;
            }
            let end = lines[i..]
                .iter()
                .position(|l| l.starts_with(&format!("{indent}}}")) && l.trim() == "}")
                .map_or(lines.len(), |n| i + n);
            let length = end - i + 1;
            if length > MAX_FUNCTION_LINES {
                let name = ident(words.get(at + 1).unwrap_or(&""));
                long.push(format!(
                    "{}:{} {name}: {length} lines",
                    path.display(),
                    i + 1
                ));
            }
        }
    }
    assert!(
        long.is_empty(),
        "functions over {MAX_FUNCTION_LINES} lines:\n{}",
        long.join("\n")
    );
}

#[test]
fn the_readme_layout_names_every_module() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let layout = readme
        .split("\n## Layout")
        .nth(1)
        .expect("README.md has a Layout section");
    let layout = layout.split("\n## ").next().unwrap();
    let listed: BTreeSet<String> = layout
        .lines()
        .filter_map(|l| l.strip_prefix("| `src/"))
        .filter_map(|l| l.split('`').next())
        .map(|p| format!("src/{p}"))
        .collect();
    let files: BTreeSet<String> = modules()
        .values()
        .map(|(p, _)| {
            p.strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/")
        })
        .collect();
    let missing: Vec<&String> = files.difference(&listed).collect();
    let gone: Vec<&String> = listed.difference(&files).collect();
    assert!(
        missing.is_empty() && gone.is_empty(),
        "README Layout: modules not listed {missing:?}; listed but not there {gone:?}"
    );
}
