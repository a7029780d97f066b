//! Synonyms, aliases and acronyms, as maintained in `synonyms.toml` files (the
//! knowledge folder's own serves every room, a collection's only the rooms that
//! see it), analysed into the same terms the index holds so that a question's
//! words can be matched against them at query time.

use std::collections::HashMap;

use tantivy::tokenizer::TextAnalyzer;

use super::analyzer;
use crate::knowledge::{SynonymGroup, SynonymSet};

/// A word or phrase as index terms (more than one term: a phrase).
pub type Phrase = Vec<String>;

/// The analysed synonym groups, looked up by the terms a question holds.
#[derive(Debug, Default, Clone)]
pub struct Synonyms {
    groups: Vec<Vec<Phrase>>,
    /// The collection each group serves (`None`: every room).
    collection: Vec<Option<String>>,
    /// First term of each phrase → (group, phrase index) for every phrase starting with it.
    by_first: HashMap<String, Vec<(usize, usize)>>,
}

/// A run of question terms that matched a synonym phrase.
#[derive(Debug, Clone, PartialEq)]
pub struct SynonymMatch {
    /// How many question terms the phrase covers.
    pub len: usize,
    /// The other phrases of its group.
    pub alternatives: Vec<Phrase>,
}

impl Synonyms {
    /// Analyses every group's terms, for every room; terms that analyse to
    /// nothing (stop words only) are dropped.
    #[cfg(test)]
    pub fn new(groups: &[SynonymGroup], analyzer: &mut TextAnalyzer) -> Synonyms {
        let set = SynonymSet {
            collection: None,
            groups: groups.to_vec(),
        };
        Synonyms::of_sets([&set], analyzer)
    }

    /// Analyses every group of `sets`, each for the rooms its set serves.
    pub fn of_sets<'a>(
        sets: impl IntoIterator<Item = &'a SynonymSet>,
        analyzer: &mut TextAnalyzer,
    ) -> Synonyms {
        let mut out = Synonyms::default();
        for set in sets {
            for group in &set.groups {
                out.add(group, set.collection.as_ref(), analyzer);
            }
        }
        out
    }

    /// Adds `group`, for the rooms that see `collection` (`None`: every room);
    /// terms that analyse to nothing (stop words only) are dropped, and a group
    /// left with one phrase with them.
    fn add(
        &mut self,
        group: &SynonymGroup,
        collection: Option<&String>,
        analyzer: &mut TextAnalyzer,
    ) {
        let mut phrases: Vec<Phrase> = Vec::new();
        let mut seen: std::collections::HashSet<Phrase> = std::collections::HashSet::new();
        for term in &group.terms {
            let phrase: Phrase = analyzer::terms(analyzer, term)
                .into_iter()
                .map(|t| t.text.to_string())
                .collect();
            if !phrase.is_empty() && seen.insert(phrase.clone()) {
                phrases.push(phrase);
            }
        }
        if phrases.len() < 2 {
            return;
        }
        let g = self.groups.len();
        for (i, p) in phrases.iter().enumerate() {
            self.by_first.entry(p[0].clone()).or_default().push((g, i));
        }
        self.groups.push(phrases);
        self.collection.push(collection.cloned());
    }

    /// Number of groups.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.groups.len()
    }

    /// The longest synonym phrase starting at `terms[0]`, with its alternatives
    /// (merged over every group the phrase belongs to), among the groups that
    /// serve a room seeing `collections` (`None`: every collection).
    pub fn longest_match(
        &self,
        terms: &[String],
        collections: Option<&[String]>,
    ) -> Option<SynonymMatch> {
        let first = terms.first()?;
        let serves = |g: usize| match (&self.collection[g], collections) {
            (None, _) | (_, None) => true,
            (Some(c), Some(cols)) => cols.contains(c),
        };
        let candidates: Vec<(usize, usize)> = (self.by_first.get(first)?.iter())
            .copied()
            .filter(|&(g, _)| serves(g))
            .collect();
        // Each candidate compared once, and alternatives deduplicated through a
        // set: a file of thousands of phrases sharing a first word took a
        // minute per question when each was compared with every other.
        let best_len = candidates
            .iter()
            .map(|&(g, i)| &self.groups[g][i])
            .filter(|p| !p.is_empty() && terms.starts_with(p))
            .map(|p| p.len())
            .max()?;
        let phrase = &terms[..best_len];
        let mut alternatives: Vec<Phrase> = Vec::new();
        let mut seen: std::collections::HashSet<&Phrase> = std::collections::HashSet::new();
        for &(g, i) in &candidates {
            if self.groups[g][i] != phrase {
                continue;
            }
            for (j, alt) in self.groups[g].iter().enumerate() {
                if j != i && alt != phrase && seen.insert(alt) {
                    alternatives.push(alt.clone());
                }
            }
        }
        Some(SynonymMatch {
            len: best_len,
            alternatives,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group(terms: &[&str]) -> SynonymGroup {
        SynonymGroup {
            terms: terms.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn terms(words: &[&str]) -> Vec<String> {
        words.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn matches_words_phrases_and_acronyms_both_ways() {
        let syn = Synonyms::new(
            &[
                group(&["emperor", "Naruhito"]),
                group(&["ODA", "official development assistance"]),
                group(&["neighbour", "neighbor"]),
                group(&["the", "of"]),
            ],
            &mut analyzer::stemmed(),
        );
        // Spellings fold in the analyzer already, and stop words vanish: two groups drop.
        assert_eq!(syn.len(), 2);
        type Expected<'a> = Option<(usize, &'a [&'a [&'a str]])>;
        let table: &[(&[&str], Expected)] = &[
            (&["emperor", "visit"], Some((1, &[&["naruhito"]]))),
            (&["naruhito"], Some((1, &[&["emperor"]]))),
            (&["oda"], Some((1, &[&["offici", "develop", "assist"]]))),
            (
                &["offici", "develop", "assist", "japan"],
                Some((3, &[&["oda"]])),
            ),
            (&["offici", "visit"], None),
            (&["mongolia"], None),
        ];
        for (input, expect) in table {
            let got = syn.longest_match(&terms(input), None);
            let expect = expect.map(|(len, alts)| SynonymMatch {
                len,
                alternatives: alts.iter().map(|a| terms(a)).collect(),
            });
            assert_eq!(got, expect, "{input:?}");
        }
    }

    #[test]
    fn thousands_of_phrases_sharing_a_first_word_match_the_longest() {
        let groups: Vec<SynonymGroup> = (0..2000)
            .map(|i| group(&[&format!("gobi q{i}"), &format!("desert r{i}")]))
            .chain([group(&["gobi", "steppe"]), group(&["gobi q7 far", "waste"])])
            .collect();
        let syn = Synonyms::new(&groups, &mut analyzer::stemmed());
        let got = syn
            .longest_match(&terms(&["gobi", "q7", "far", "x"]), None)
            .unwrap();
        assert_eq!((got.len, got.alternatives), (3, vec![terms(&["wast"])]));
        let got = syn.longest_match(&terms(&["gobi", "q7"]), None).unwrap();
        assert_eq!(
            (got.len, got.alternatives),
            (2, vec![terms(&["desert", "r7"])])
        );
        let got = syn.longest_match(&terms(&["gobi"]), None).unwrap();
        assert_eq!((got.len, got.alternatives), (1, vec![terms(&["stepp"])]));
    }
}
