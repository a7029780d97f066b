//! From a chat question to ranked passages.
//!
//! A question is split into [`Unit`]s — the concepts it asks about: single words,
//! synonym phrases ("official development assistance"), and capitalised names
//! ("Chinggis Khaan"). Each unit carries its variants (its own terms, synonyms, and
//! — only when the index has never seen the word — fuzzy corrections) and a weight
//! (inverse document frequency). tantivy's BM25 over those variants picks
//! candidates; each candidate is then scored by *coverage* (how much of the
//! question's weight it matches), what its title and headings match, its BM25 and
//! its best sentence. Whether to answer at all is a [`Confidence`]: a probability
//! from the best passage's coverage and how much of the question the knowledge
//! holds at all, so a question about things the knowledge never mentions is
//! refused instead of answered with whatever shares its commonest word.

use std::collections::HashMap;
use std::fmt::{self, Write as _};

use serde::Serialize;
use tantivy::Term as IndexTerm;
use tantivy::collector::{Count, TopDocs};
use tantivy::query::{
    BooleanQuery, BoostQuery, ConstScoreQuery, FuzzyTermQuery, Occur, PhraseQuery, Query, TermQuery,
};
use tantivy::schema::{Field, IndexRecordOption};

use super::analyzer::{self, QUESTION_FILLER, Term, Wanted};
use super::answer::{self, Kind, Tense};
use super::index::{SearchError, SharedSnippet, Snapshot};
use super::{Answer, AnswerLine, Citation, Freshness, Passage};
use crate::knowledge::Snippet;

/// Below this [`Confidence`] the question is refused ("I don't know"): on the
/// development sets about 5% of answerable questions, and no question about a
/// topic the knowledge never mentions, fall below it.
pub const DEFAULT_MIN_CONFIDENCE: f32 = 0.65;

/// The confidence model's weights, over [`Confidence`]'s figures: a logistic
/// regression fitted on the development sets (SQuAD 2.0 train articles, a public
/// docs folder, the seed's development questions), each knowledge base asked its
/// own questions and, as out of scope, the others' (`scripts/fit-confidence`).
const CONFIDENCE_WEIGHTS: Weights = Weights {
    bias: -8.010,
    coverage: 13.925,
    known: 0.150,
    fuzzy_unmatched: -5.220,
    fuzzy_matched: -3.431,
    sentence: 1.640,
    units: 1.379,
};

struct Weights {
    bias: f32,
    coverage: f32,
    known: f32,
    fuzzy_unmatched: f32,
    fuzzy_matched: f32,
    sentence: f32,
    units: f32,
}

/// How sure the engine is that its best passage answers the question: the
/// estimated probability, and the figures it comes from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Confidence {
    pub value: f32,
    /// The best passage's coverage of the question's weight.
    pub coverage: f32,
    /// Share of the question's weight in concepts the knowledge holds as asked
    /// (or through a synonym).
    pub known: f32,
    /// Share held only through a typo correction, and of that the share the best
    /// passage matches: a correction the passage bears out is likelier right.
    pub fuzzy: f32,
    pub fuzzy_matched: f32,
    /// The best passage's best sentence score (capped at 2).
    pub sentence: f32,
    /// How many concepts the question has.
    pub units: usize,
}

/// The confidence that `ranked[0]` answers `q`.
fn confidence(q: &Question, ranked: &[Scored]) -> Confidence {
    let Some(best) = ranked.first() else {
        return Confidence::default();
    };
    let total = q.total_weight();
    let exact = |u: &Unit| {
        u.variants
            .iter()
            .any(|v| v.doc_freq > 0 && v.kind != VariantKind::Fuzzy)
    };
    let known = q
        .units
        .iter()
        .filter(|u| exact(u))
        .map(|u| u.weight)
        .sum::<f32>()
        / total;
    let (mut fuzzy, mut fuzzy_matched) = (0.0, 0.0);
    for u in q.units.iter().filter(|u| u.known && !exact(u)) {
        fuzzy += u.weight / total;
        if unit_match(u, &best.body_terms, &best.body_prefixes).0 > 0.0 {
            fuzzy_matched += u.weight / total;
        }
    }
    let sentence = best.sentence.as_ref().map_or(0.0, |s| s.1).min(2.0);
    let w = &CONFIDENCE_WEIGHTS;
    let z = w.bias
        + w.coverage * best.coverage
        + w.known * known
        + w.fuzzy_unmatched * (fuzzy - fuzzy_matched)
        + w.fuzzy_matched * fuzzy_matched
        + w.sentence * sentence
        + w.units * (1.0 + q.units.len() as f32).ln();
    Confidence {
        value: 1.0 / (1.0 + (-z).exp()),
        coverage: best.coverage,
        known,
        fuzzy,
        fuzzy_matched,
        sentence,
        units: q.units.len(),
    }
}
/// How much BM25 (relative to the best candidate's) and the best sentence's score
/// add to coverage in a passage's final score.
const BM25_WEIGHT: f32 = 0.15;
const SENTENCE_WEIGHT: f32 = 0.4;
/// How much the share of the question that the title and headings match adds.
const META_WEIGHT: f32 = 0.3;
/// How many BM25 candidates are re-scored.
const CANDIDATES: usize = 24;
/// Strength of a match through a synonym, a fuzzy correction, or only the word's prefix.
const SYNONYM: f32 = 0.9;
const FUZZY_1: f32 = 0.8;
const FUZZY_2: f32 = 0.65;
const PREFIX: f32 = 0.5;
/// A match in the heading, title or tags rather than the passage text.
const HEADING: f32 = 0.8;
/// The noun of "which festival…" weighs this much of its usual weight.
const TYPE_NOUN: f32 = 0.5;
/// Most units of a question in the candidate query.
const MAX_QUERY_UNITS: usize = 32;
/// The longest run of capitalised words read as one name: a run is tried whole
/// and then word by word, so without a bound a message of Title Case words would
/// cost the square of its length.
const MAX_NAME_WORDS: usize = 6;
/// Unknown capitalised names weigh this much more: a question about an entity the
/// knowledge never mentions is most likely out of scope.
const UNKNOWN_NAME: f32 = 2.5;

/// How a variant relates to the word asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum VariantKind {
    Exact,
    Synonym,
    Fuzzy,
}

/// One way a unit can appear in a passage.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Variant {
    /// Index terms; more than one is a phrase.
    pub terms: Vec<String>,
    pub kind: VariantKind,
    pub strength: f32,
    /// Documents holding the variant (for a phrase, an upper bound).
    pub doc_freq: u64,
}

/// One concept of the question.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Unit {
    /// The words as asked.
    pub text: String,
    pub variants: Vec<Variant>,
    /// First letters of the word, for the weak prefix match.
    pub prefix: Option<String>,
    /// A capitalised name or acronym.
    pub name: bool,
    /// Whether any variant occurs in the index.
    pub known: bool,
    pub weight: f32,
}

/// A question, analysed.
#[derive(Debug, Clone, Serialize)]
pub struct Question {
    pub text: String,
    pub kind: Kind,
    pub tense: Tense,
    pub units: Vec<Unit>,
}

impl Question {
    /// The weight of all its units: what coverage is a share of.
    pub fn total_weight(&self) -> f32 {
        self.units
            .iter()
            .map(|u| u.weight)
            .sum::<f32>()
            .max(f32::EPSILON)
    }
}

/// How well one passage matches the question.
#[derive(Debug, Clone)]
pub struct Scored {
    pub snippet: SharedSnippet,
    pub bm25: f32,
    pub coverage: f32,
    pub score: f32,
    pub highlights: Vec<(usize, usize)>,
    pub body_terms: Vec<Term>,
    pub body_prefixes: Vec<Term>,
    /// The sentence that best answers the question, and how well.
    pub sentence: Option<(String, f32)>,
}

/// Why the engine answered as it did (`!why`).
#[derive(Debug, Clone, Serialize)]
pub struct Explanation {
    pub question: Question,
    /// The confidence the best passage needed.
    pub bar: f32,
    pub confidence: Confidence,
    pub answered: bool,
    pub passages: Vec<ExplainedPassage>,
    /// Set when only the question's start was read.
    pub cut: Option<super::QuestionCut>,
}

/// One candidate's figures in an [`Explanation`].
#[derive(Debug, Clone, Serialize)]
pub struct ExplainedPassage {
    pub id: String,
    pub title: String,
    pub heading: String,
    pub bm25: f32,
    pub coverage: f32,
    pub score: f32,
    pub matched: Vec<String>,
    /// The passage's best sentence for the question and its score.
    pub sentence: Option<(String, f32)>,
}

impl fmt::Display for Explanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let q = &self.question;
        if let Some(cut) = &self.cut {
            writeln!(
                f,
                "Read only the first {} of {} words.",
                cut.words_read, cut.words_asked
            )?;
        }
        writeln!(f, "Question type: {:?}, tense: {:?}", q.kind, q.tense)?;
        if q.units.is_empty() {
            writeln!(f, "No searchable words: the question is only stop words.")?;
        }
        for u in &q.units {
            let variants: Vec<String> = u
                .variants
                .iter()
                .map(|v| {
                    format!("{} ({:?}, df {})", v.terms.join(" "), v.kind, v.doc_freq)
                        .to_lowercase()
                })
                .collect();
            writeln!(
                f,
                "- “{}” weight {:.2}{}{}: {}",
                u.text,
                u.weight,
                if u.name { ", name" } else { "" },
                if u.known {
                    ""
                } else {
                    ", not in the knowledge"
                },
                if variants.is_empty() {
                    "—".to_string()
                } else {
                    variants.join(", ")
                }
            )?;
        }
        let c = &self.confidence;
        writeln!(
            f,
            "Confidence {:.2} (coverage {:.2}, known {:.2}, typo-corrected {:.2}, sentence {:.2}, {} concepts), bar {:.2} → {}",
            c.value,
            c.coverage,
            c.known,
            c.fuzzy,
            c.sentence,
            c.units,
            self.bar,
            if self.answered { "answered" } else { "refused" }
        )?;
        for (i, p) in self.passages.iter().enumerate() {
            writeln!(
                f,
                "{}. {} — coverage {:.2}, bm25 {:.2}, score {:.2}; matched: {}",
                i + 1,
                topic(&p.title, &p.heading),
                p.coverage,
                p.bm25,
                p.score,
                if p.matched.is_empty() {
                    "—".to_string()
                } else {
                    p.matched.join(", ")
                }
            )?;
            if let Some((text, score)) = &p.sentence {
                writeln!(f, "   best sentence ({score:.2}): {text}")?;
            }
        }
        Ok(())
    }
}

/// A word of the question as typed.
#[derive(Debug, Clone)]
struct Word {
    raw: String,
    lower: String,
    index: usize,
}

fn words(text: &str) -> Vec<Word> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .enumerate()
        .map(|(index, raw)| Word {
            raw: raw.to_string(),
            lower: raw.to_lowercase(),
            index,
        })
        .collect()
}

impl Snapshot {
    /// Analyses a question against the part of this index `collections` covers
    /// (`None`: all): every count, weight and typo correction comes from that part
    /// only, so what a room is told never depends on knowledge it may not see.
    pub fn question(
        &self,
        text: &str,
        collections: Option<&[String]>,
    ) -> Result<Question, SearchError> {
        let counts = Counts::new(self, collections)?;
        let mut stem = self.stemmed.clone();
        let words = words(text);
        let asked = answer::kind_of(&words.iter().map(|w| w.lower.as_str()).collect::<Vec<_>>());
        let (kind, skip) = (asked.kind, asked.skip);
        let tense =
            answer::question_tense(&words.iter().map(|w| w.lower.as_str()).collect::<Vec<_>>());
        // Title Case or SHOUTING carries no information about names.
        let rest = words.len().saturating_sub(1);
        let capitalised = words
            .iter()
            .skip(1)
            .filter(|w| w.raw.chars().next().is_some_and(char::is_uppercase))
            .count();
        let caps_mean_names = rest < 3 || capitalised * 4 < rest * 3;

        // Content words: (word, stem, is-name).
        let mut content: Vec<(Word, String, bool)> = Vec::new();
        for (i, w) in words.iter().enumerate() {
            if i < skip || QUESTION_FILLER.contains(&w.lower.as_str()) {
                continue;
            }
            // "What does ODA stand for?" asks what the acronym means: "stand for"
            // frames the question like "mean", it is not what it is about.
            if matches!(w.lower.as_str(), "stand" | "stands")
                && words.get(i + 1).is_some_and(|n| n.lower == "for")
            {
                continue;
            }
            let Some(s) = analyzer::stem_word(&mut stem, &w.raw) else {
                continue;
            };
            let first_upper = w.raw.chars().next().is_some_and(char::is_uppercase);
            let acronym = w.raw.len() >= 2
                && w.raw
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
                && w.raw.chars().any(|c| c.is_ascii_uppercase());
            let next_upper = words
                .get(i + 1)
                .is_some_and(|n| n.raw.chars().next().is_some_and(char::is_uppercase));
            let name = acronym || (caps_mean_names && first_upper && (i > 0 || next_upper));
            content.push((w.clone(), s, name));
        }

        let f = self.store.fields;
        let n_docs = counts.docs().max(1);
        let df = |field: Field, t: &str| counts.term(field, t);
        let any_df = |t: &str| {
            let body = df(f.body, t);
            if body > 0 {
                body
            } else {
                df(f.heading, t).max(df(f.title, t)).max(df(f.tags, t))
            }
        };
        let phrase_df = |terms: &[String]| -> u64 {
            if terms.len() == 1 {
                return any_df(&terms[0]);
            }
            if terms.iter().any(|t| any_df(t) == 0) {
                return 0;
            }
            let mut p = PhraseQuery::new(
                terms
                    .iter()
                    .map(|t| IndexTerm::from_field_text(f.body, t))
                    .collect(),
            );
            p.set_slop(1);
            counts.matching(Box::new(p))
        };
        let word_idf = |terms: &[String]| terms.iter().map(|t| idf(any_df(t), n_docs)).sum::<f32>();

        let stems: Vec<String> = content.iter().map(|(_, s, _)| s.clone()).collect();
        let mut units = Vec::new();
        let mut i = 0;
        while i < content.len() {
            let (len, alternatives) = match self.synonyms.longest_match(&stems[i..]) {
                Some(m) => (m.len, m.alternatives),
                None => {
                    // A run of adjacent capitalised words is one name.
                    let mut len = 1;
                    while content[i].2
                        && len < MAX_NAME_WORDS
                        && i + len < content.len()
                        && content[i + len].2
                        && content[i + len].0.index == content[i + len - 1].0.index + 1
                        && self.synonyms.longest_match(&stems[i + len..]).is_none()
                    {
                        len += 1;
                    }
                    // A run the knowledge never has together ("Mongolian FM") is read
                    // word by word.
                    if len > 1 && phrase_df(&stems[i..i + len]) == 0 {
                        len = 1;
                    }
                    (len, Vec::new())
                }
            };
            let own: Vec<String> = stems[i..i + len].to_vec();
            let text = content[i..i + len]
                .iter()
                .map(|(w, _, _)| w.raw.as_str())
                .collect::<Vec<_>>()
                .join(" ");
            let name = content[i..i + len].iter().any(|c| c.2);
            let mut variants = vec![Variant {
                doc_freq: phrase_df(&own),
                terms: own.clone(),
                kind: VariantKind::Exact,
                strength: 1.0,
            }];
            for alt in alternatives {
                variants.push(Variant {
                    doc_freq: phrase_df(&alt),
                    terms: alt,
                    kind: VariantKind::Synonym,
                    strength: SYNONYM,
                });
            }
            let mut known = variants.iter().any(|v| v.doc_freq > 0);
            if !known && len == 1 {
                for (term, distance, doc_freq) in self.fuzzy(f.body, &own[0], &counts)? {
                    let strength = if distance == 1 { FUZZY_1 } else { FUZZY_2 };
                    variants.push(Variant {
                        terms: vec![term],
                        kind: VariantKind::Fuzzy,
                        strength,
                        doc_freq,
                    });
                    known = true;
                }
            }
            let prefix = if len == 1 {
                let mut normal = content[i].0.lower.clone();
                analyzer::american_spelling(&mut normal);
                let p: String = normal.chars().take(analyzer::PREFIX_LEN).collect();
                (normal.chars().count() >= analyzer::PREFIX_LEN && df(f.prefix, &p) > 0)
                    .then_some(p)
            } else {
                None
            };
            let concept_df = variants.iter().map(|v| v.doc_freq).max().unwrap_or(0);
            let type_noun = asked
                .type_noun
                .is_some_and(|t| content[i..i + len].iter().any(|c| c.0.index == t));
            let weight = TYPE_NOUN.powi(i32::from(type_noun))
                * if known {
                    idf(concept_df, n_docs)
                } else if len > 1 && own.iter().all(|t| any_df(t) > 0) {
                    // A name whose words all occur, but never together ("United States"):
                    // it weighs what its words weigh, and matches only in part.
                    word_idf(&own)
                } else {
                    idf(1, n_docs) * if name { UNKNOWN_NAME } else { 1.0 }
                };
            units.push(Unit {
                text,
                variants,
                prefix,
                name,
                known,
                weight,
            });
            i += len;
        }
        Ok(Question {
            text: text.to_string(),
            kind,
            tense,
            units,
        })
    }

    /// Index terms within edit distance of a word the index does not hold: the
    /// closest few, most frequent first.
    fn fuzzy(
        &self,
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
            let mut ranked: Vec<(String, u8, u64)> = self
                .terms_within(field, word, max)?
                .into_iter()
                .filter_map(|(t, df)| {
                    // Out of scope, a term of another collection is no correction.
                    let df = if counts.scoped() {
                        counts.term(field, &t)
                    } else {
                        df
                    };
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

    /// Index terms of `field` within `max` edits of `word`, with their document
    /// frequencies. Two edits keep the word's first letter, as spelling correctors
    /// commonly do (first-letter typos are rare): the search then walks one branch
    /// of the term dictionary instead of all of it, which was most of the time a
    /// question with unknown words took.
    fn terms_within(
        &self,
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
        for segment in self.searcher.segment_readers() {
            let inverted = segment.inverted_index(field)?;
            let mut stream = inverted
                .terms()
                .search(&automaton)
                .into_stream()
                .map_err(tantivy::TantivyError::from)?;
            while stream.advance() {
                if let Ok(term) = std::str::from_utf8(stream.key()) {
                    *found.entry(term.to_string()).or_default() +=
                        u64::from(stream.value().doc_freq);
                }
            }
        }
        Ok(found)
    }

    /// The candidate query: a flat union of boosted term queries, which tantivy
    /// answers with block-max WAND (it skips whole blocks of documents that cannot
    /// reach the top), so a common word in the question does not mean scoring most
    /// of a large index. Phrases are represented by their rarest word and word
    /// proximity is left out here: both are judged exactly when candidates are
    /// re-scored by coverage and by their best sentence.
    fn tantivy_query(&self, q: &Question, collections: Option<&[String]>) -> Box<dyn Query> {
        let f = self.store.fields;
        let df = |field: Field, t: &str| {
            self.searcher
                .doc_freq(&IndexTerm::from_field_text(field, t))
                .unwrap_or(0)
        };
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        let mut add = |field: Field, term: &str, boost: f32| {
            let t = TermQuery::new(
                IndexTerm::from_field_text(field, term),
                IndexRecordOption::WithFreqs,
            );
            clauses.push((Occur::Should, Box::new(BoostQuery::new(Box::new(t), boost))));
        };
        // Only the weightiest units pick candidates: tantivy's union of term
        // queries costs about the square of the number of terms, and the rarest
        // words of a long question are the ones that tell passages apart
        // (re-scoring still weighs every unit).
        let mut units: Vec<&Unit> = q.units.iter().collect();
        if units.len() > MAX_QUERY_UNITS {
            units.sort_by(|a, b| b.weight.total_cmp(&a.weight));
            units.truncate(MAX_QUERY_UNITS);
        }
        for u in units {
            // The variants of a unit share its weight: a passage saying "Emperor
            // Naruhito" should not count as three times as relevant to "emperor".
            let live = u.variants.iter().filter(|v| v.doc_freq > 0).count().max(1) as f32;
            let share = 1.0 / live.sqrt();
            for v in u.variants.iter().filter(|v| v.doc_freq > 0) {
                let Some(term) = v.terms.iter().min_by_key(|t| df(f.body, t)) else {
                    continue;
                };
                for (field, boost) in [
                    (f.body, 1.0),
                    (f.heading, 0.6),
                    (f.title, 0.3),
                    (f.tags, 0.3),
                ] {
                    if df(field, term) > 0 {
                        add(field, term, boost * v.strength * share);
                    }
                }
            }
            // The weak prefix match finds passages for a word the index lacks as
            // such; for a word it has, the prefix's long posting list was the
            // costliest part of the candidate search and found little the word
            // itself did not (re-scoring still credits prefixes).
            if let Some(p) = u.prefix.as_ref().filter(|_| !u.known) {
                add(f.prefix, p, 0.3);
            }
        }
        let query: Box<dyn Query> = Box::new(BooleanQuery::new(clauses));
        match collections {
            None => query,
            Some(cols) => Box::new(BooleanQuery::new(vec![
                (Occur::Must, query),
                (Occur::Must, self.collection_filter(cols)),
            ])),
        }
    }

    /// Matches every document of `collections`, scoring nothing: a filter must not
    /// change how candidates rank against each other.
    fn collection_filter(&self, collections: &[String]) -> Box<dyn Query> {
        let f = self.store.fields;
        let allowed: Vec<(Occur, Box<dyn Query>)> = collections
            .iter()
            .map(|c| {
                let t = TermQuery::new(
                    IndexTerm::from_field_text(f.collection, c),
                    IndexRecordOption::Basic,
                );
                (Occur::Should, Box::new(t) as Box<dyn Query>)
            })
            .collect();
        Box::new(ConstScoreQuery::new(
            Box::new(BooleanQuery::new(allowed)),
            0.0,
        ))
    }

    /// Candidates for `q`, best first.
    pub fn rank(
        &self,
        q: &Question,
        collections: Option<&[String]>,
    ) -> Result<Vec<Scored>, SearchError> {
        if q.units.iter().all(|u| !u.known && u.prefix.is_none()) {
            return Ok(Vec::new());
        }
        let query = self.tantivy_query(q, collections);
        let hits = self
            .searcher
            .search(&*query, &TopDocs::with_limit(CANDIDATES).order_by_score())?;
        let max_bm25 = hits.first().map(|h| h.0).unwrap_or(1.0).max(f32::EPSILON);
        let total = q.total_weight();
        // One thread: since re-scoring analyses only the words a question can
        // match, it costs less than handing candidates to other threads did.
        let mut out = self.rescore(q, total, max_bm25, &hits)?;
        // Equal scores put the passage earlier in its file first — not document
        // order, which differs between builds of the same files (indexing is
        // multi-threaded).
        out.sort_by(|a, b| {
            b.score
                .total_cmp(&a.score)
                .then_with(|| a.snippet.file.cmp(&b.snippet.file))
                .then_with(|| a.snippet.line.cmp(&b.snippet.line))
        });
        Ok(out)
    }

    /// Scores candidates `hits` (BM25 score, address) by coverage, BM25 and best
    /// sentence, in the order given.
    fn rescore(
        &self,
        q: &Question,
        total: f32,
        max_bm25: f32,
        hits: &[(f32, tantivy::DocAddress)],
    ) -> Result<Vec<Scored>, SearchError> {
        let mut both = self.both.clone();
        let wanted = wanted(q);
        let acronyms: Vec<(&Unit, String)> = q
            .units
            .iter()
            .filter_map(|u| acronym_of(&u.text).map(|a| (u, a)))
            .collect();
        let mut meta = String::new();
        let mut out = Vec::with_capacity(hits.len());
        for &(bm25, addr) in hits {
            let snippet = self.snippet(addr)?;
            let (body_terms, body_prefixes) = both.analyze_for(&snippet.text, &wanted);
            meta_text(&snippet, &mut meta);
            let (meta_terms, meta_prefixes) = both.analyze_for(&meta, &wanted);
            let (mut coverage, mut highlights) = coverage_of(
                q,
                total,
                &body_terms,
                &body_prefixes,
                Some((&meta_terms, &meta_prefixes)),
            );
            // The title and headings are the passage's context: what they
            // match is evidence on top of what the text matches.
            let mut meta_coverage = coverage_of(q, total, &meta_terms, &meta_prefixes, None).0;
            // An acronym asked ("NYC") matches where the passage spells it out
            // ("New York City"), as a synonym would.
            let mut spelled: Vec<(&Unit, Vec<(usize, usize)>)> = Vec::new();
            for (u, acronym) in &acronyms {
                let body = spelled_out(acronym, &snippet.text);
                let in_meta = !spelled_out(acronym, &meta).is_empty();
                let had = unit_match(u, &body_terms, &body_prefixes)
                    .0
                    .max(HEADING * unit_match(u, &meta_terms, &meta_prefixes).0);
                let now = if body.is_empty() {
                    if in_meta { HEADING * SYNONYM } else { 0.0 }
                } else {
                    SYNONYM
                };
                coverage += u.weight * (now - had).max(0.0) / total;
                if in_meta {
                    let had = unit_match(u, &meta_terms, &meta_prefixes).0;
                    meta_coverage += u.weight * (SYNONYM - had).max(0.0) / total;
                }
                highlights.extend(body.iter().copied());
                spelled.push((u, body));
            }
            highlights.sort_unstable();
            highlights.dedup();
            // A passage with one sentence that answers everything beats one that
            // scatters the question's words over several.
            let sentence = answer::best_sentence(q, &snippet.text, |range| {
                let terms = within(&body_terms, &range);
                let prefixes = within(&body_prefixes, &range);
                let (mut c, found) = coverage_of(q, total, terms, prefixes, None);
                for (u, spans) in &spelled {
                    if spans
                        .iter()
                        .any(|&(a, b)| a >= range.start && b <= range.end)
                    {
                        let had = unit_match(u, terms, prefixes).0;
                        c += u.weight * (SYNONYM - had).max(0.0) / total;
                    }
                }
                (c, found)
            });
            let score = coverage
                + BM25_WEIGHT * bm25 / max_bm25
                + SENTENCE_WEIGHT * sentence.as_ref().map_or(0.0, |s| s.1)
                + META_WEIGHT * meta_coverage;
            out.push(Scored {
                snippet,
                bm25,
                coverage,
                score,
                highlights,
                body_terms,
                body_prefixes,
                sentence,
            });
        }
        Ok(out)
    }

    /// Answers `question` with up to `n` passages.
    pub fn ask(
        &self,
        question: &str,
        n: usize,
        collections: Option<&[String]>,
        bar: f32,
    ) -> Result<Answer, SearchError> {
        let q = self.question(question, collections)?;
        let ranked = self.rank(&q, collections)?;
        let confidence = confidence(&q, &ranked);
        // Nothing found is never an answer, whatever the bar.
        let answered = !ranked.is_empty() && confidence.value >= bar;
        let answer = if answered {
            ranked[0].sentence.as_ref().map(|(text, _)| AnswerLine {
                text: text.clone(),
                passage: 1,
            })
        } else {
            None
        };
        let today = chrono::Local::now().date_naive();
        let freshness = answer.as_ref().and_then(|line| {
            let due = answer::overdue(&line.text, today)?;
            let source_date = ranked[0].snippet.published?.to_string();
            Some(Freshness { source_date, due })
        });
        let closest_topics = if answered {
            Vec::new()
        } else {
            self.closest_topics(&ranked, collections)
        };
        let passages = ranked
            .into_iter()
            .take(n)
            .enumerate()
            .map(|(i, s)| Passage {
                rank: i + 1,
                score: (s.score * 1000.0).round() / 1000.0,
                id: s.snippet.id.clone(),
                highlights: s.highlights,
                citation: Citation {
                    title: s.snippet.title.clone(),
                    heading: s.snippet.heading.clone(),
                    source: s.snippet.source.clone(),
                    url: s.snippet.url.clone(),
                    published: s.snippet.published.map(|d| d.to_string()),
                    file: s.snippet.file.clone(),
                    line: s.snippet.line,
                },
                text: s.snippet.text.clone(),
                code: s.snippet.code.clone(),
            })
            .collect();
        Ok(Answer {
            question: question.to_string(),
            answered,
            confidence: (confidence.value * 1000.0).round() / 1000.0,
            answer,
            freshness,
            passages,
            closest_topics,
            cut: None,
        })
    }

    /// What to suggest after a refusal: the topics of the passages that matched
    /// something, then the titles of files, all within `collections`.
    fn closest_topics(&self, ranked: &[Scored], collections: Option<&[String]>) -> Vec<String> {
        let mut topics: Vec<String> = Vec::new();
        let near = ranked
            .iter()
            .filter(|s| s.coverage > 0.0)
            .map(|s| topic(&s.snippet.title, &s.snippet.heading));
        let all = self
            .files
            .iter()
            .filter(|f| collections.is_none_or(|cols| cols.contains(&f.collection)))
            .map(|f| f.title.clone());
        for t in near.chain(all) {
            if !topics.contains(&t) {
                topics.push(t);
            }
            if topics.len() == 3 {
                break;
            }
        }
        topics
    }

    /// The figures behind an answer, over `collections` (`None`: all).
    pub fn explain(
        &self,
        question: &str,
        n: usize,
        collections: Option<&[String]>,
        bar: f32,
    ) -> Result<Explanation, SearchError> {
        let q = self.question(question, collections)?;
        let ranked = self.rank(&q, collections)?;
        let confidence = confidence(&q, &ranked);
        // Nothing found is never an answer, whatever the bar.
        let answered = !ranked.is_empty() && confidence.value >= bar;
        let passages = ranked
            .iter()
            .take(n)
            .map(|s| ExplainedPassage {
                id: s.snippet.id.clone(),
                title: s.snippet.title.clone(),
                heading: s.snippet.heading.clone(),
                bm25: s.bm25,
                coverage: s.coverage,
                score: s.score,
                matched: q
                    .units
                    .iter()
                    .filter(|u| unit_match(u, &s.body_terms, &s.body_prefixes).0 > 0.0)
                    .map(|u| u.text.clone())
                    .collect(),
                sentence: s.sentence.clone(),
            })
            .collect();
        Ok(Explanation {
            question: q,
            bar,
            confidence,
            answered,
            passages,
            cut: None,
        })
    }
}

/// Document counts over the part of the index a question may see. Where that is
/// all of it, tantivy's term statistics; otherwise each count is a search limited
/// to the allowed collections, so a room mapped to some collections is never told
/// (through a weight, a count in `!why` or a typo correction) what the others hold.
pub(crate) struct Counts<'s> {
    snapshot: &'s Snapshot,
    /// Matches the allowed collections' documents; `None`: the whole index.
    filter: Option<Box<dyn Query>>,
    docs: u64,
}

impl<'s> Counts<'s> {
    pub(crate) fn new(
        snapshot: &'s Snapshot,
        collections: Option<&[String]>,
    ) -> Result<Self, SearchError> {
        let all = snapshot.searcher.num_docs();
        let Some(cols) = collections else {
            return Ok(Counts {
                snapshot,
                filter: None,
                docs: all,
            });
        };
        let filter = snapshot.collection_filter(cols);
        let docs = snapshot.searcher.search(&*filter, &Count)? as u64;
        // A scope that holds every document counts exactly as the whole index.
        let filter = (docs < all).then_some(filter);
        Ok(Counts {
            snapshot,
            filter,
            docs,
        })
    }

    /// Whether counts are limited to some collections.
    pub(crate) fn scoped(&self) -> bool {
        self.filter.is_some()
    }

    /// Documents in scope.
    pub(crate) fn docs(&self) -> u64 {
        self.docs
    }

    /// Documents in scope whose `field` holds `term`.
    pub(crate) fn term(&self, field: Field, term: &str) -> u64 {
        let t = IndexTerm::from_field_text(field, term);
        let global = self.snapshot.searcher.doc_freq(&t).unwrap_or(0);
        if global == 0 || self.filter.is_none() {
            return global;
        }
        self.matching(Box::new(TermQuery::new(t, IndexRecordOption::Basic)))
    }

    /// Documents in scope that `query` matches.
    pub(crate) fn matching(&self, query: Box<dyn Query>) -> u64 {
        let searcher = &self.snapshot.searcher;
        let counted = match &self.filter {
            None => searcher.search(&*query, &Count),
            Some(filter) => searcher.search(
                &BooleanQuery::new(vec![
                    (Occur::Must, query),
                    (Occur::Must, filter.box_clone()),
                ]),
                &Count,
            ),
        };
        counted.map(|n| n as u64).unwrap_or(0)
    }
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

/// A snippet's title, heading and tags as one text (into `out`, reused between
/// candidates): matches there count for [`HEADING`].
fn meta_text(snippet: &Snippet, out: &mut String) {
    out.clear();
    write!(out, "{} \n {} \n ", snippet.title, snippet.heading).expect("writing to a String");
    for (i, tag) in snippet.tags.iter().enumerate() {
        out.push_str(if i == 0 { "" } else { ", " });
        out.push_str(tag);
    }
}

/// Every term and prefix [`unit_match`] can look for: re-scoring analyses only
/// the words of a passage that may yield one of them.
fn wanted(q: &Question) -> Wanted {
    Wanted::new(
        q.units
            .iter()
            .flat_map(|u| &u.variants)
            .flat_map(|v| v.terms.iter().map(String::as_str)),
        q.units.iter().filter_map(|u| u.prefix.as_deref()),
    )
}

fn topic(title: &str, heading: &str) -> String {
    if heading.is_empty() {
        title.to_string()
    } else {
        format!("{title} › {heading}")
    }
}

/// BM25's inverse document frequency.
fn idf(df: u64, n: u64) -> f32 {
    let (df, n) = (df as f32, n as f32);
    (1.0 + (n - df + 0.5) / (df + 0.5)).ln().max(0.05)
}

/// The share of the question's weight (`total`) that analysed text matches, and
/// where; a match in `meta` (title, heading, tags) counts for [`HEADING`] of one in
/// the text.
fn coverage_of(
    q: &Question,
    total: f32,
    terms: &[Term],
    prefixes: &[Term],
    meta: Option<(&[Term], &[Term])>,
) -> (f32, Vec<(usize, usize)>) {
    let mut covered = 0.0;
    let mut ranges = Vec::new();
    for u in &q.units {
        let (mut strength, found) = unit_match(u, terms, prefixes);
        if let Some((meta_terms, meta_prefixes)) = meta {
            strength = strength.max(HEADING * unit_match(u, meta_terms, meta_prefixes).0);
        }
        covered += u.weight * strength;
        ranges.extend(found);
    }
    (covered / total, ranges)
}

/// The terms of `terms` (in text order, as analysers emit them) that lie inside
/// `range`: a sub-slice, so scoring each sentence copies nothing.
fn within<'t>(terms: &'t [Term], range: &std::ops::Range<usize>) -> &'t [Term] {
    let start = terms.partition_point(|t| t.from < range.start);
    let end = start + terms[start..].partition_point(|t| t.to <= range.end);
    &terms[start..end]
}

/// How strongly a unit occurs in analysed text (0 to 1), and where.
pub fn unit_match(u: &Unit, terms: &[Term], prefixes: &[Term]) -> (f32, Vec<(usize, usize)>) {
    let mut best = 0.0f32;
    let mut ranges = Vec::new();
    for v in &u.variants {
        if v.doc_freq == 0 && v.kind != VariantKind::Exact {
            continue;
        }
        let found = find_phrase(&v.terms, terms);
        if !found.is_empty() {
            best = best.max(v.strength);
            ranges.extend(found);
        } else if v.terms.len() > 1 && v.kind == VariantKind::Exact {
            // Part of a name: some credit, far less than the whole.
            let hits: Vec<&Term> = terms
                .iter()
                .filter(|t| v.terms.iter().any(|w| **w == *t.text))
                .collect();
            let distinct = v
                .terms
                .iter()
                .filter(|w| hits.iter().any(|h| *h.text == ***w))
                .count();
            if distinct > 0 {
                best = best.max(0.4 * distinct as f32 / v.terms.len() as f32);
                ranges.extend(hits.iter().map(|t| (t.from, t.to)));
            }
        }
    }
    if best < PREFIX
        && let Some(p) = &u.prefix
    {
        let hits: Vec<(usize, usize)> = prefixes
            .iter()
            .filter(|t| *t.text == **p)
            .map(|t| (t.from, t.to))
            .collect();
        if !hits.is_empty() {
            best = PREFIX;
            ranges.extend(hits);
        }
    }
    (best, ranges)
}

/// The letters of a question word that is an acronym: two to six capitals, a
/// plural `s` allowed ("NYC", "HHCs").
fn acronym_of(word: &str) -> Option<String> {
    let w = word.strip_suffix('s').unwrap_or(word);
    ((2..=6).contains(&w.len()) && w.chars().all(|c| c.is_ascii_uppercase())).then(|| w.to_string())
}

/// Small words a spelled-out name may hold that its acronym leaves out
/// ("Health and Hospitals Corporation" is HHC).
const LINKING: &[&str] = &["of", "and", "the", "for", "de", "du", "&"];

/// Where `text` spells out `acronym`: byte ranges of runs of capitalised words
/// (linking words allowed inside) whose initials are its letters.
pub fn spelled_out(acronym: &str, text: &str) -> Vec<(usize, usize)> {
    let letters: Vec<char> = acronym.chars().collect();
    let mut words: Vec<(usize, usize)> = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices() {
        match (c.is_alphanumeric() || c == '&', start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                words.push((s, i));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        words.push((s, text.len()));
    }
    let initial = |w: (usize, usize)| text[w.0..w.1].chars().next().unwrap_or(' ');
    let mut out = Vec::new();
    for i in 0..words.len() {
        if initial(words[i]) != letters[0] {
            continue;
        }
        let (mut j, mut k) = (i, 0);
        while k < letters.len() && j < words.len() {
            // Only spaces or a hyphen may stand between the words of one name.
            if j > i
                && !text[words[j - 1].1..words[j].0]
                    .trim_matches([' ', '-'])
                    .is_empty()
            {
                break;
            }
            let w = &text[words[j].0..words[j].1];
            if initial(words[j]) == letters[k] {
                k += 1;
            } else if !(k > 0 && LINKING.contains(&w.to_lowercase().as_str())) {
                break;
            }
            j += 1;
        }
        if k == letters.len() && j - i >= 2 {
            out.push((words[i].0, words[j - 1].1));
        }
    }
    out
}

/// Occurrences of `phrase` in `terms` (positions in order, at most one word apart).
fn find_phrase(phrase: &[String], terms: &[Term]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    for (i, t) in terms.iter().enumerate() {
        if *t.text != *phrase[0] {
            continue;
        }
        let mut end = t;
        let mut ok = true;
        let mut j = i;
        for want in &phrase[1..] {
            match terms.get(j + 1) {
                Some(next) if next.joined && *next.text == **want => {
                    j += 1;
                    end = next;
                }
                _ => {
                    ok = false;
                    break;
                }
            }
        }
        if ok {
            out.push((t.from, end.to));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::{Engine, SearchSettings};
    use std::path::Path;
    use std::sync::Arc;
    use tantivy::query::AllQuery;

    /// The seed knowledge indexed in RAM, and the address of every document.
    fn seed() -> (Arc<Snapshot>, Vec<(f32, tantivy::DocAddress)>) {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let engine = Engine::open(&SearchSettings::new(root.join("knowledge"), None)).unwrap();
        let snap = engine.snapshot();
        let addrs = snap
            .searcher
            .search(&AllQuery, &TopDocs::with_limit(10_000).order_by_score())
            .unwrap();
        (snap, addrs)
    }

    /// Candidates are read from memory; each must be exactly what the index stored.
    #[test]
    fn acronyms_are_found_where_they_are_spelled_out() {
        let table: &[(&str, &str, &[&str])] = &[
            (
                "NYC",
                "Most of New York City is on islands.",
                &["New York City"],
            ),
            (
                "HHC",
                "The Health and Hospitals Corporation runs them.",
                &["Health and Hospitals Corporation"],
            ),
            ("NYC", "New York. City halls are old.", &[]),
            ("NYC", "new york city", &[]),
            (
                "ODA",
                "Official Development Assistance (ODA) funds it.",
                &["Official Development Assistance"],
            ),
        ];
        for (acronym, text, want) in table {
            let got: Vec<&str> = spelled_out(acronym, text)
                .into_iter()
                .map(|(a, b)| &text[a..b])
                .collect();
            assert_eq!(got, *want, "{acronym} in {text:?}");
        }
        assert_eq!(acronym_of("NYC").as_deref(), Some("NYC"));
        assert_eq!(acronym_of("HHCs").as_deref(), Some("HHC"));
        assert_eq!(acronym_of("Nyc"), None);
        assert_eq!(acronym_of("A"), None);
    }

    #[test]
    fn snippets_from_memory_are_the_stored_ones() {
        let (snap, addrs) = seed();
        assert_eq!(addrs.len(), snap.stats().snippets);
        for (_, addr) in addrs {
            assert_eq!(
                snap.snippet_in_memory(addr).map(|s| (*s).clone()),
                Some(snap.stored_snippet(addr).unwrap())
            );
        }
    }

    /// Re-scoring analyses only the words a question can match; every figure it
    /// computes must be what the full analysis gives. Checked over every passage of
    /// the seed knowledge and the development questions (plus typos and phrases).
    #[test]
    fn filtered_analysis_scores_exactly_as_the_full_one() {
        let (snap, addrs) = seed();
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let dev: toml::Table = toml::from_str(
            &std::fs::read_to_string(root.join("tests/data/dev_questions.toml")).unwrap(),
        )
        .unwrap();
        let mut questions: Vec<String> = dev["question"]
            .as_array()
            .unwrap()
            .iter()
            .map(|q| q["text"].as_str().unwrap().to_string())
            .collect();
        questions.extend(
            [
                "wen is the emprer going to mongolia",
                "Chinggis Khaan airport ODA",
                "official development assistance for the new airport",
                "third neighbour policy",
                "who went to Ulaanbaatar and met the president",
            ]
            .map(String::from),
        );
        assert!(addrs.len() >= 15, "{}", addrs.len());
        let mut both = snap.both.clone();
        let mut checked = 0;
        for text in &questions {
            let q = snap.question(text, None).unwrap();
            let total = q.total_weight();
            let wanted = wanted(&q);
            for &(_, addr) in &addrs {
                let s = snap.snippet(addr).unwrap();
                let mut meta = String::new();
                meta_text(&s, &mut meta);
                let full = (both.analyze(&s.text), both.analyze(&meta));
                let part = (
                    both.analyze_for(&s.text, &wanted),
                    both.analyze_for(&meta, &wanted),
                );
                type Analysed = (Vec<Term>, Vec<Term>);
                let score = |((t, p), (mt, mp)): &(Analysed, Analysed)| {
                    let (c, mut h) = coverage_of(&q, total, t, p, Some((mt, mp)));
                    h.sort_unstable();
                    let sentence = answer::best_sentence(&q, &s.text, |r| {
                        coverage_of(&q, total, within(t, &r), within(p, &r), None)
                    });
                    (c, h, sentence)
                };
                assert_eq!(score(&full), score(&part), "{text} / {}", s.id);
                assert!(part.0.0.len() <= full.0.0.len());
                checked += 1;
            }
        }
        assert!(checked > 500, "{checked}");
    }
}
