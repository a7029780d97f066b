//! Typo tolerance: the index terms closest to a question word the index (or the
//! part of it a room may see) does not hold.

use std::collections::HashMap;

use tantivy::Term as IndexTerm;
use tantivy::query::FuzzyTermQuery;
use tantivy::schema::Field;

use super::index::{SearchError, Snapshot};
use super::scope::Counts;

/// Strength of a match through a correction one edit away, and two.
const FUZZY_1: f32 = 0.8;
const FUZZY_2: f32 = 0.65;

/// How strongly a correction `distance` edits away stands for the word asked.
pub(super) fn strength(distance: u8) -> f32 {
    if distance == 1 { FUZZY_1 } else { FUZZY_2 }
}

/// Index terms within edit distance of a word the index does not hold: the
/// closest few, most frequent first.
pub(super) fn corrections(
    snapshot: &Snapshot,
    field: Field,
    word: &str,
    counts: &Counts<'_>,
) -> Result<Vec<(String, u8, u64)>, SearchError> {
    let len = word.chars().count();
    if len < 4 || word.chars().any(|c| c.is_ascii_digit()) {
        return Ok(Vec::new());
    }
    let limit: u8 = if len >= 6 { 2 } else { 1 };
    // One edit first: its automaton is far cheaper to build and to run over the
    // term dictionary than two edits', and when it finds a term at distance 1
    // the two-edit search would keep exactly the same (only the closest count).
    for max in 1..=limit {
        let mut ranked: Vec<(String, u8, u64)> = terms_within(snapshot, field, word, max)?
            .into_keys()
            .filter_map(|t| {
                // Counted as the question's words are: out of scope, a term of
                // another collection is no correction; nor is one that only
                // deleted pages held.
                let df = counts.term(field, &t);
                (df > 0).then_some((t, df))
            })
            .map(|(t, df)| {
                let d = crate::text::edit_distance(word, &t).min(usize::from(limit)) as u8;
                (t, d, df)
            })
            .collect();
        ranked.sort_by(|a, b| a.1.cmp(&b.1).then(b.2.cmp(&a.2)).then(a.0.cmp(&b.0)));
        let Some(best) = ranked.first().map(|r| r.1) else {
            continue;
        };
        if best <= max || max == limit {
            ranked.retain(|r| r.1 == best);
            ranked.truncate(3);
            return Ok(ranked);
        }
    }
    Ok(Vec::new())
}

/// Longest word whose one-edit spellings are tried by [`spelled_corrections`].
const MAX_SPELLED_LEN: usize = 20;

/// Most words of one question whose spellings are tried: each costs about 54
/// analyses per letter, and a question with more unknown words than this is
/// unlikely to be saved by correcting them.
pub(super) const MAX_SPELLED_WORDS: usize = 2;

/// Corrections one edit away from the word as written, not from its stem: a
/// typo can change what the stemmer cuts off ("jinping" stems to "jinp",
/// "jnping" to itself; "developmnet" keeps its tail), which puts the stem
/// further from the right one than the typo did. Every distinct one-edit
/// spelling of `word` (lower case, ASCII letters only) is turned into its index
/// term; the terms the index holds are the corrections, most frequent first, at
/// most three. Only words the stem-based search could not correct come here,
/// at most [`MAX_SPELLED_WORDS`] a question.
pub(super) fn spelled_corrections(
    field: Field,
    word: &str,
    counts: &Counts<'_>,
) -> Vec<(String, u64)> {
    let len = word.len();
    if !(4..=MAX_SPELLED_LEN).contains(&len) || !word.bytes().all(|b| b.is_ascii_lowercase()) {
        return Vec::new();
    }
    let b = word.as_bytes();
    let mut found: Vec<(String, u64)> = Vec::new();
    let mut term = String::with_capacity(len + 1);
    let mut look_up = |spelling: &[u8]| {
        term.clear();
        // Only ASCII letters go in.
        term.extend(spelling.iter().map(|&c| char::from(c)));
        if !super::analyzer::to_term_unkept(&mut term) || found.iter().any(|f| f.0 == term) {
            return;
        }
        let df = counts.term(field, &term);
        if df > 0 {
            found.push((term.clone(), df));
        }
    };
    let mut spelling: Vec<u8> = Vec::with_capacity(len + 1);
    let mut edit = |parts: &[&[u8]]| {
        spelling.clear();
        parts.iter().for_each(|p| spelling.extend_from_slice(p));
        look_up(&spelling);
    };
    // Each distinct spelling once: deleting either letter of a double, or
    // inserting a letter beside itself, spells the same word either way, so
    // only one of the two is tried.
    for i in 0..=len {
        if i < len && b.get(i + 1) != Some(&b[i]) {
            edit(&[&b[..i], &b[i + 1..]]);
        }
        if i + 1 < len && b[i] != b[i + 1] {
            edit(&[&b[..i], &[b[i + 1], b[i]], &b[i + 2..]]);
        }
        for c in b'a'..=b'z' {
            if b.get(i) != Some(&c) {
                edit(&[&b[..i], &[c], &b[i..]]);
            }
            if i < len && b[i] != c {
                edit(&[&b[..i], &[c], &b[i + 1..]]);
            }
        }
    }
    found.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    found.truncate(3);
    found
}

/// Index terms of `field` within `max` edits of `word`, with their document
/// frequencies. Two edits keep the word's first letter, as spelling correctors
/// commonly do (first-letter typos are rare): the search then walks one branch
/// of the term dictionary instead of all of it, which was most of the time a
/// question with unknown words took.
fn terms_within(
    snapshot: &Snapshot,
    field: Field,
    word: &str,
    max: u8,
) -> Result<HashMap<String, u64>, SearchError> {
    let first = word.chars().next().map_or(0, char::len_utf8);
    let (kept, rest) = if max >= 2 {
        word.split_at(first)
    } else {
        ("", word)
    };
    let query = FuzzyTermQuery::new(IndexTerm::from_field_text(field, rest), max, true);
    let automaton = AfterPrefix {
        prefix: kept.as_bytes(),
        rest: query.automaton()?,
    };
    let mut found: HashMap<String, u64> = HashMap::new();
    for segment in snapshot.searcher.segment_readers() {
        let inverted = segment.inverted_index(field)?;
        let mut stream = inverted
            .terms()
            .search(&automaton)
            .into_stream()
            .map_err(tantivy::TantivyError::from)?;
        while stream.advance() {
            if let Ok(term) = std::str::from_utf8(stream.key()) {
                *found.entry(term.to_string()).or_default() += u64::from(stream.value().doc_freq);
            }
        }
    }
    Ok(found)
}

/// Terms that start with `prefix` and go on as `rest` accepts.
struct AfterPrefix<'p, A> {
    prefix: &'p [u8],
    rest: A,
}

/// Where [`AfterPrefix`] stands: inside the prefix, in the rest, or off both.
#[derive(Clone)]
enum PrefixState<S> {
    Prefix(usize),
    Rest(S),
    Dead,
}

impl<A: tantivy_fst::Automaton> tantivy_fst::Automaton for AfterPrefix<'_, A> {
    type State = PrefixState<A::State>;

    fn start(&self) -> Self::State {
        if self.prefix.is_empty() {
            PrefixState::Rest(self.rest.start())
        } else {
            PrefixState::Prefix(0)
        }
    }

    fn is_match(&self, state: &Self::State) -> bool {
        matches!(state, PrefixState::Rest(s) if self.rest.is_match(s))
    }

    fn can_match(&self, state: &Self::State) -> bool {
        match state {
            PrefixState::Prefix(_) => true,
            PrefixState::Rest(s) => self.rest.can_match(s),
            PrefixState::Dead => false,
        }
    }

    fn accept(&self, state: &Self::State, byte: u8) -> Self::State {
        match state {
            PrefixState::Prefix(i) if self.prefix[*i] == byte => {
                if i + 1 == self.prefix.len() {
                    PrefixState::Rest(self.rest.start())
                } else {
                    PrefixState::Prefix(i + 1)
                }
            }
            PrefixState::Rest(s) => PrefixState::Rest(self.rest.accept(s, byte)),
            _ => PrefixState::Dead,
        }
    }
}

/// Most passages holding a correction that [`written_as_name`] reads.
const NAME_EVIDENCE: usize = 32;

/// Whether the knowledge (the part `counts` sees) writes index term `term`
/// as a name: capitalised within a sentence somewhere, or else only ever
/// capitalised (a name that only opens sentences). A name in the question
/// ("Slack", "Mongoila") is corrected only to a name: the typo of a name the
/// knowledge holds is that name, while a name the knowledge never mentions is
/// not "lack" or "stack".
pub(super) fn written_as_name(
    snapshot: &Snapshot,
    field: Field,
    term: &str,
    counts: &Counts<'_>,
) -> Result<bool, SearchError> {
    use tantivy::collector::TopDocs;
    use tantivy::query::{BooleanQuery, Occur, Query, TermQuery};
    let holds: Box<dyn Query> = Box::new(TermQuery::new(
        IndexTerm::from_field_text(field, term),
        tantivy::schema::IndexRecordOption::Basic,
    ));
    let query: Box<dyn Query> = match counts.collections() {
        Some(cols) => Box::new(BooleanQuery::new(vec![
            (Occur::Must, holds),
            (Occur::Must, super::scope::collection_filter(snapshot, cols)),
        ])),
        None => holds,
    };
    let top = snapshot.searcher.search(
        &*query,
        &TopDocs::with_limit(NAME_EVIDENCE).order_by_score(),
    )?;
    let mut seen = Writings::default();
    for (_, addr) in top {
        if let Ok(s) = snapshot.snippet(addr) {
            seen.read(&s.text, term);
            if seen.within_sentence {
                return Ok(true);
            }
        }
    }
    Ok(seen.opening_sentence && !seen.lower_case)
}

/// How a text writes a term: capitalised within a sentence, capitalised
/// where a sentence (line, list item, table cell) opens, in lower case.
#[derive(Debug, Default, PartialEq)]
struct Writings {
    within_sentence: bool,
    opening_sentence: bool,
    lower_case: bool,
}

impl Writings {
    /// Notes how `text` writes index term `term`.
    fn read(&mut self, text: &str, term: &str) {
        // Words not in ASCII go through the whole pipeline (it folds "Ōshima"
        // to "oshima"); made only for such a word.
        let mut analyzer = None;
        let mut is_term = |w: &str| {
            if w.is_ascii() {
                let mut t = w.to_ascii_lowercase();
                return super::analyzer::to_term_unkept(&mut t) && t == term;
            }
            let a = analyzer.get_or_insert_with(super::analyzer::stemmed);
            super::analyzer::stem_word(a, w).is_some_and(|t| t == term)
        };
        let mut at_start = true;
        let mut word: Option<usize> = None;
        for (i, c) in text.char_indices().chain([(text.len(), '\n')]) {
            if c.is_alphanumeric() {
                word.get_or_insert(i);
                continue;
            }
            if let Some(start) = word.take() {
                let w = &text[start..i];
                let capital = w.chars().next().is_some_and(char::is_uppercase);
                let seen = match (capital, at_start) {
                    (true, false) => &mut self.within_sentence,
                    (true, true) => &mut self.opening_sentence,
                    (false, _) => &mut self.lower_case,
                };
                // Each word's term is worked out only while it could tell more.
                if !*seen && is_term(w) {
                    *seen = true;
                }
                at_start = false;
            }
            if matches!(c, '.' | '!' | '?' | '\n' | ':' | '|' | '*' | '#') {
                at_start = true;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Writings;

    #[test]
    fn how_a_text_writes_a_term() {
        // (text, term, (capitalised within a sentence, opening one, lower case))
        let table = [
            (
                "The emperor will visit Mongolia.",
                "mongolia",
                (true, false, false),
            ),
            ("Mongolia is vast.", "mongolia", (false, true, false)),
            (
                "It rains. Mongolia is vast.",
                "mongolia",
                (false, true, false),
            ),
            ("- Mongolia\n- Japan", "mongolia", (false, true, false)),
            ("| Mongolia | 3 |", "mongolia", (false, true, false)),
            ("a banner year. Banners fly", "banner", (false, true, true)),
            (
                "Japan and Mongolia's ties",
                "mongolia",
                (true, false, false),
            ),
            ("arranged by Michiru Ōshima", "oshima", (true, false, false)),
            ("", "mongolia", (false, false, false)),
        ];
        for (text, term, (within, opening, lower)) in table {
            let mut seen = Writings::default();
            seen.read(text, term);
            let expected = Writings {
                within_sentence: within,
                opening_sentence: opening,
                lower_case: lower,
            };
            assert_eq!(seen, expected, "{text:?}");
        }
    }
}
