//! Acronyms the knowledge defines itself: "official development assistance
//! (ODA)" makes "ODA" and its long form synonyms for the rooms that see the
//! passage, as a maintainer's `synonyms.toml` would. A question may name either
//! while the passage that answers it names the other; knowledge nobody wrote a
//! synonyms file for defines its acronyms in its text all the same.
//!
//! The definitions are found as Schwartz and Hearst's algorithm finds them (A
//! Simple Algorithm for Identifying Abbreviation Definitions in Biomedical
//! Text, 2003): an acronym in parentheses, and before it the shortest run of
//! words whose letters spell it in order, the first letter opening a word.

use std::collections::{BTreeMap, BTreeSet};

use super::analyzer::Script;
use crate::knowledge::{Snippet, SynonymGroup, SynonymSet};

/// Most definitions kept per collection, and long forms per acronym: bounds
/// on what a hostile or enormous folder can add to every question's lookup.
const MAX_DEFINITIONS: usize = 10_000;
const MAX_LONG_FORMS: usize = 3;

/// One acronym a passage spells out, in the collection of its page.
#[derive(Debug, Clone, PartialEq)]
pub struct Definition {
    pub collection: String,
    pub acronym: String,
    pub long: String,
}

/// The acronyms one file's `snippets` spell out, in order.
pub fn of_file(snippets: &[Snippet]) -> Vec<Definition> {
    snippets
        .iter()
        .flat_map(|s| {
            definitions(&s.text)
                .into_iter()
                .map(|(acronym, long)| Definition {
                    collection: s.page.collection.clone(),
                    acronym,
                    long,
                })
        })
        .collect()
}

/// The synonym sets that `files`' definitions ([`of_file`], in file order)
/// make: one per collection, each acronym and one of its long forms a group
/// (two long forms of one acronym are not each other's synonyms).
pub fn synonym_sets<'a>(files: impl Iterator<Item = &'a [Definition]>) -> Vec<SynonymSet> {
    let mut by_collection: BTreeMap<&str, BTreeMap<&str, BTreeSet<&str>>> = BTreeMap::new();
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for d in files.flatten() {
        let count = counts.entry(&d.collection).or_default();
        let forms = (by_collection.entry(&d.collection).or_default())
            .entry(&d.acronym)
            .or_default();
        if *count < MAX_DEFINITIONS && forms.len() < MAX_LONG_FORMS && forms.insert(&d.long) {
            *count += 1;
        }
    }
    by_collection
        .into_iter()
        .map(|(collection, acronyms)| SynonymSet {
            collection: Some(collection.to_string()),
            groups: acronyms
                .into_iter()
                .flat_map(|(acronym, forms)| {
                    forms.into_iter().map(move |long| SynonymGroup {
                        terms: vec![acronym.to_string(), long.to_string()],
                    })
                })
                .collect(),
        })
        .collect()
}

/// Each "long form (ACRONYM)" and "ACRONYM (long form)" in `text`, as
/// (acronym, long form); a plural "(CRDs)" defines "CRD".
fn definitions(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(open) = text[from..].find('(').map(|i| from + i) {
        from = open + 1;
        if let Some(found) = acronym_inside(text, open).or_else(|| long_form_inside(text, open)) {
            out.push(found);
        }
    }
    out
}

/// The text after the parenthesis at `open` up to its close, if that is at
/// most `most` bytes on and nothing opens before it.
fn inside(text: &str, open: usize, most: usize) -> Option<&str> {
    // Only so far: a page of "(((…" is read once.
    let near = &text.as_bytes()[open + 1..text.len().min(open + 2 + most)];
    let close = near.iter().position(|&b| b == b')' || b == b'(')?;
    (near[close] == b')').then(|| &text[open + 1..open + 1 + close])
}

/// "long form (ACRONYM)": the acronym in the parentheses at `open`, and its
/// long form among the words before them, within their clause.
fn acronym_inside(text: &str, open: usize) -> Option<(String, String)> {
    let acronym = acronym(inside(text, open, MAX_INSIDE)?)?;
    let start = crate::text::floor_char_boundary(text, open.saturating_sub(MAX_LOOK_BACK));
    let before = text[start..open].trim_end();
    let clause = before
        .rfind(|c: char| ".;:!?()[]\n".contains(c))
        .map_or(before, |i| &before[i + 1..]);
    Some((acronym.to_string(), long_form(acronym, clause)?))
}

/// "ACRONYM (long form)": the word just before the parentheses at `open` is
/// an acronym, and what they hold is its long form, all of it.
fn long_form_inside(text: &str, open: usize) -> Option<(String, String)> {
    let mut start = open.saturating_sub(MAX_INSIDE + 1);
    while !text.is_char_boundary(start) {
        start += 1;
    }
    let before = text[start..open].strip_suffix(' ')?;
    // ASCII letters and digits are never part of another character.
    let tail = before
        .bytes()
        .rev()
        .take_while(u8::is_ascii_alphanumeric)
        .count();
    let word_start = before.len() - tail;
    // The whole word, not the tail of a longer one ("ééPKI"); a letter of a
    // script written without spaces ends a word ("日本のPKI").
    let longer = before[..word_start]
        .chars()
        .next_back()
        .is_some_and(|c| c.is_alphanumeric() && Script::of(c) == Script::Spaced);
    if longer || (word_start == 0 && start > 0) {
        return None;
    }
    let acronym = acronym(&before[word_start..])?;
    let held = inside(text, open, MAX_LONG_INSIDE)?;
    let long = long_form(acronym, held)?;
    let all: Vec<&str> = held
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    (long == all.join(" ").to_lowercase()).then(|| (acronym.to_string(), long))
}

/// The most a long form takes between parentheses.
const MAX_LONG_INSIDE: usize = 80;

/// Bytes before a parenthesis searched for its long form.
const MAX_LOOK_BACK: usize = 200;

/// The most an acronym takes between its parentheses: six, and a plural's "s".
const MAX_INSIDE: usize = 7;

/// The acronym `inside` a pair of parentheses is, if one: 2–6 letters or
/// digits, opening with a capital, with two capitals at least ("ODA",
/// "OAuth2", "K8s" is not), and a plural's "s" left off.
fn acronym(inside: &str) -> Option<&str> {
    let core = match inside.strip_suffix('s') {
        Some(core) if core.bytes().filter(u8::is_ascii_uppercase).count() >= 2 => core,
        _ => inside,
    };
    let ok = (2..=6).contains(&core.len())
        && core.bytes().all(|b| b.is_ascii_alphanumeric())
        && core.as_bytes()[0].is_ascii_uppercase()
        && core.bytes().filter(u8::is_ascii_uppercase).count() >= 2;
    ok.then_some(core)
}

/// The shortest run of words at the end of `clause` whose letters spell
/// `acronym` in order, its first letter opening the run's first word; two
/// words at least, and at most as many as [`Schwartz and Hearst`](self) allow
/// (the acronym's length and five, or twice its length, whichever is fewer).
fn long_form(acronym: &str, clause: &str) -> Option<String> {
    let words: Vec<&str> = clause
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    let most = (acronym.len() + 5).min(2 * acronym.len());
    let words = &words[words.len().saturating_sub(most)..];
    let joined = words.join(" ").to_lowercase();
    let s = joined.as_bytes();
    let mut at = s.len();
    for (n, c) in acronym.to_ascii_lowercase().bytes().rev().enumerate() {
        let first = n + 1 == acronym.len();
        loop {
            at = at.checked_sub(1)?;
            let opens_word = at == 0 || s[at - 1] == b' ';
            if s[at] == c && (!first || opens_word) {
                break;
            }
        }
    }
    let long = &joined[at..];
    let lower = acronym.to_lowercase();
    let count = long.split(' ').count();
    (count >= 2 && !long.split(' ').any(|w| w == lower)).then(|| long.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn definitions_in_text_are_found_and_others_are_not() {
        let table: &[(&str, &[(&str, &str)])] = &[
            (
                "Mongolia hopes to leverage Japan's official development assistance (ODA) to build.",
                &[("ODA", "official development assistance")],
            ),
            (
                "Use the National Institute of Standards and Technology (NIST) guides.",
                &[("NIST", "national institute of standards and technology")],
            ),
            // Hyphenated words give their letters; a plural defines the singular.
            (
                "It keeps a write-ahead log (WAL). Define custom resource definitions (CRDs).",
                &[
                    ("WAL", "write ahead log"),
                    ("CRD", "custom resource definitions"),
                ],
            ),
            // Letters that do not spell it, a word of its own, no capitals, an
            // aside: no definition.
            ("the software development kit (XYZ)", &[]),
            ("Kubernetes (K8s) and Go (Golang)", &[]),
            ("see the guide (see below) (e.g. this)", &[]),
            ("the Java virtual machine. (JVM)", &[]),
            // The first letter must open a word: "cab" spells no "AB".
            ("the cab (AB)", &[]),
            // The acronym first, its long form in the parentheses: all of
            // what they hold, or no definition.
            (
                "Caddy runs its own PKI (Public Key Infrastructure) and speaks CEL (Common Expression Language).",
                &[
                    ("PKI", "public key infrastructure"),
                    ("CEL", "common expression language"),
                ],
            ),
            (
                "the URI (path and query) and the ID (Oracle SID) and a TOTAL (the rest of it)",
                &[],
            ),
            // Characters of several bytes just before either form.
            ("ééééPKI (Public Key Infrastructure) or éé (AB)", &[]),
            (
                "éé PKI (Public Key Infrastructure)",
                &[("PKI", "public key infrastructure")],
            ),
            // Letters of other scripts before it are skipped whole.
            (
                "日本語のテキストですよ。これは、とても長い文章です。 The Japan International Cooperation Agency (JICA) helps.",
                &[("JICA", "japan international cooperation agency")],
            ),
            // Japanese runs into the word with no space, and ends there.
            (
                "日本のPKI (Public Key Infrastructure)",
                &[("PKI", "public key infrastructure")],
            ),
            // A long form holding the acronym as a word of its own is none.
            ("we use the ODA process (ODA)", &[]),
        ];
        // A million parentheses, closed once at the end: read in
        // one pass (this took minutes when each looked for its close to the end).
        let hostile = format!("{})", "(".repeat(1_000_000));
        assert!(definitions(&hostile).is_empty());
        for (text, expect) in table {
            let got = definitions(text);
            let expect: Vec<(String, String)> = expect
                .iter()
                .map(|(a, l)| (a.to_string(), l.to_string()))
                .collect();
            assert_eq!(got, expect, "{text}");
        }
    }
}
