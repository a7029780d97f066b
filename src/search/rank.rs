//! Ranking, after retrieval: each candidate passage re-scored by *coverage* (how
//! much of the question's weight it matches, in its text and, for less, in its
//! title and headings), its BM25 and its best sentence; then the [`Confidence`]
//! that the best one answers the question — a probability from its coverage and
//! how much of the question the knowledge holds at all, so a question about
//! things the knowledge never mentions is refused instead of answered with
//! whatever shares its commonest word.

use std::fmt::Write as _;

use serde::Serialize;
use tantivy::DocAddress;

use super::analyzer::{self, Both, Term, Wanted};
use super::answer::{self, Sought};
use super::index::{SearchError, SharedSnippet, Snapshot};
use super::question::{Kind, Question, SYNONYM, Unit, Variant, VariantKind};
use super::retrieve;
use super::scope::Counts;
use super::semantic::{Family, Semantic, cosine};
use crate::knowledge::Snippet;

/// Below this [`Confidence`] the question is refused ("I don't know"): the bar
/// that served the tuning sets best, counting answers whose first passage is right
/// and near misses refused (each answerable question asked as if the passages that
/// answer it were missing), with near misses one question in six
/// (`scripts/fit-confidence`). There, about 1% of answerable questions fall below it.
pub const DEFAULT_MIN_CONFIDENCE: f32 = 0.45;

/// The confidence model's weights, over [`Confidence`]'s figures: a logistic
/// regression fitted on the tuning sets (SQuAD 2.0 train articles, a public docs
/// folder, the seed's development questions, each with typo'd variants of its
/// questions), with the other sets' questions and their own out-of-scope and
/// unanswerable ones as negatives (`scripts/fit-confidence`).
const CONFIDENCE_WEIGHTS: Weights = Weights {
    bias: -8.817,
    coverage: 6.874,
    known: 4.404,
    fuzzy_unmatched: 0.176,
    fuzzy_matched: 2.055,
    sentence: 1.345,
    units: 1.127,
    whole: 0.0,
    closest: 0.0,
};

/// The confidence model when the semantic model ranked: the same figures and the
/// best passage's cosines, fitted the same way on the same tuning sets
/// (`scripts/fit-confidence --semantic`). A topic the knowledge never mentions
/// is far in meaning as well as in words: on the validation sets, at the same
/// bar, it refuses fewer answerable questions (SQuAD 3.9 → 2.5%, docs
/// 12–15 → 3–10%) and more out-of-scope ones than the words-alone model.
const SEMANTIC_CONFIDENCE_WEIGHTS: Weights = Weights {
    bias: -6.682,
    coverage: 3.706,
    known: 2.052,
    fuzzy_unmatched: 2.503,
    fuzzy_matched: 4.308,
    sentence: 0.008,
    units: -0.545,
    whole: 6.141,
    closest: 4.729,
};

/// The confidence model for a question written mostly in letters read as
/// pairs ([`analyzer::mostly_paired`]: Chinese, Japanese, Korean, Thai…),
/// which the semantic model does not read: the same figures, fitted the same
/// way on the Chinese, Japanese and Korean tuning sets (scripts/cut-rc: JSQuAD,
/// DRCD, CMRC 2018, KorQuAD). A pair the knowledge holds is more often there
/// by chance than an English word is, so what a question's pairs cover of
/// the best passage counts for more than what the knowledge holds at all.
const PAIRED_CONFIDENCE_WEIGHTS: Weights = Weights {
    bias: -8.887,
    coverage: 9.662,
    known: 4.795,
    fuzzy_unmatched: -0.152,
    fuzzy_matched: 0.0,
    sentence: 2.098,
    units: 0.378,
    whole: 0.0,
    closest: 0.0,
};

struct Weights {
    bias: f32,
    coverage: f32,
    known: f32,
    fuzzy_unmatched: f32,
    fuzzy_matched: f32,
    sentence: f32,
    units: f32,
    /// Over the semantic model's cosines (0 in the words-alone model).
    whole: f32,
    closest: f32,
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
    /// The best passage's cosines to the question, when the semantic model
    /// ranked.
    pub meaning: Option<Meaning>,
    /// The question asks how many, how much or how long and the best passage
    /// states no number (nor, for how long, a unit of time): whatever its
    /// words share with the question, it cannot answer, and the confidence is
    /// 0. "How much is Japan spending on the airport?" over a page that
    /// says only that Japan funds the airport is a question the knowledge does
    /// not answer.
    pub numberless: bool,
}

/// How close a passage is to the question in meaning, by the semantic model.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Meaning {
    /// The whole passage's cosine.
    pub whole: f32,
    /// Its closest sentence's.
    pub closest: f32,
}

/// The confidence that `ranked[0]` answers `q`.
fn confidence(q: &Question, ranked: &[Scored]) -> Confidence {
    let Some(best) = ranked.first() else {
        return Confidence::default();
    };
    let total = q.total_weight();
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
    let sentence = best.sentence_score().min(2.0);
    let (w, meaning) = match best.meaning {
        Some(m) => (&SEMANTIC_CONFIDENCE_WEIGHTS, m),
        None if analyzer::mostly_paired(&q.text) => {
            (&PAIRED_CONFIDENCE_WEIGHTS, Meaning::default())
        }
        None => (&CONFIDENCE_WEIGHTS, Meaning::default()),
    };
    let z = w.bias
        + w.coverage * best.coverage
        + w.known * known
        + w.fuzzy_unmatched * (fuzzy - fuzzy_matched)
        + w.fuzzy_matched * fuzzy_matched
        + w.sentence * sentence
        + w.units * (1.0 + q.units.len() as f32).ln()
        + w.whole * meaning.whole
        + w.closest * meaning.closest;
    // Numbers written in words of Korean ("천만"), in Chinese numerals or in
    // words of any other language ("drei") read as words too: a question
    // asked in another language than English is not refused for a number
    // not seen.
    let numberless =
        q.kind == Kind::HowMany && q.english && !best.figures.iter().any(|f| f.holds_kind);
    Confidence {
        value: if numberless {
            0.0
        } else {
            1.0 / (1.0 + (-z).exp())
        },
        coverage: best.coverage,
        known,
        fuzzy,
        fuzzy_matched,
        sentence,
        units: q.units.len(),
        meaning: best.meaning,
        numberless,
    }
}

/// How much [`proximity`] adds to a passage's score. Tried 0.1, 0.2 and 0.4
/// against 0 on every set in one run: 0.2 put the right passage first more
/// often on both SQuAD splits (train articles 85.2 → 85.6%, validation 80.1 →
/// 80.5%, answer sentence 80.2 → 80.7% and 74.6 → 75.0%); the 480 docs
/// questions lost one (headscale +2.5 points, mdbook and Vite −2.5), the seed
/// none. 0.4 gained no more on SQuAD and cost caddy 5 points.
const PROXIMITY_WEIGHT: f32 = 0.2;

/// How much [`proximity`] adds to a sentence's coverage in the choice of the
/// answer (and so to the passage's best-sentence score). Tried 0.1 and 0.2
/// against 0 in one run: 0.2 took the answer from 4 more of the 480 docs and
/// 84 seed validation questions (Vite, mdbook, jupyterbook, seed +2.4–2.5
/// points) and SQuAD validation 75.0 → 75.2%, the tuning sets unchanged.
const SENTENCE_PROXIMITY_WEIGHT: f32 = 0.2;

/// How much BM25 (relative to the best candidate's) and the best sentence's score
/// add to coverage in a passage's final score.
const BM25_WEIGHT: f32 = 0.15;
const SENTENCE_WEIGHT: f32 = 0.4;
/// How much the share of the question that the title and headings match adds.
const META_WEIGHT: f32 = 0.3;
/// Strength of a match through only the word's prefix.
const PREFIX: f32 = 0.5;
/// A match in the heading, title or tags rather than the passage text.
const HEADING: f32 = 0.8;

/// How well one passage matches the question.
#[derive(Debug, Clone)]
pub struct Scored {
    pub snippet: SharedSnippet,
    /// Where the index keeps it.
    pub addr: DocAddress,
    pub bm25: f32,
    pub coverage: f32,
    /// The share of the question's weight its title and headings match.
    pub meta_coverage: f32,
    pub score: f32,
    pub highlights: Vec<(usize, usize)>,
    pub body_terms: Vec<Term>,
    pub body_prefixes: Vec<Term>,
    /// Where in the passage's text the sentence that best answers the question
    /// is, and how well it does.
    pub sentence: Option<(std::ops::Range<usize>, f32)>,
    /// What the choice of that sentence weighed of each of its sentences.
    pub figures: Vec<answer::Figures>,
    /// Its cosines to the question, when the semantic model re-scored it.
    pub meaning: Option<Meaning>,
}

impl Scored {
    /// The best sentence's score (0 without one).
    pub fn sentence_score(&self) -> f32 {
        self.sentence.as_ref().map_or(0.0, |s| s.1)
    }

    /// The best sentence's text and score.
    pub fn sentence_text(&self) -> Option<(String, f32)> {
        let (range, score) = self.sentence.as_ref()?;
        Some((self.snippet.text[range.clone()].to_string(), *score))
    }

    /// The question's units the passage's text matches, with their positions.
    pub fn matched<'q>(&self, q: &'q Question) -> impl Iterator<Item = (usize, &'q Unit)> {
        q.units
            .iter()
            .enumerate()
            .filter(|(_, u)| unit_match(u, &self.body_terms, &self.body_prefixes).0 > 0.0)
    }
}

/// A question analysed, its candidates ranked, and the verdict on them.
pub(crate) struct Judged {
    pub question: Question,
    pub ranked: Vec<Scored>,
    pub confidence: Confidence,
    /// Whether the best passage met the confidence bar.
    pub answered: bool,
}

impl Snapshot {
    /// `question` analysed and ranked over `collections` (`None`: all), and
    /// whether its best passage answers it at confidence `bar`.
    pub(crate) fn judge(
        &self,
        question: &str,
        context: &[String],
        collections: Option<&[String]>,
        bar: f32,
        semantic: Option<&Semantic>,
    ) -> Result<Judged, SearchError> {
        // Composed as the knowledge is (`text::composed`): an accent or a
        // Hangul syllable typed decomposed is the same letter.
        let question = &*crate::text::composed(question.into());
        let context: Vec<String> = context
            .iter()
            .map(|c| crate::text::composed(c.as_str().into()).into_owned())
            .collect();
        let context = &context[..];
        // One set of counts for the question's analysis and its candidate
        // search: within some collections, each is a search.
        let counts = Counts::new(self, collections)?;
        let mut q = self.question(question, &counts)?;
        self.carry_over(&mut q, context, &counts)?;
        let mut ranked = self.rank(&q, &counts)?;
        // No candidates, nothing to re-score or to search near: the model's
        // time is not spent on a question the words already refuse. Nor is
        // the model asked about a question written mostly in other letters
        // than Latin ones: it is an English model, which reads those one
        // letter at a time ([`analyzer::mostly_latin`]), and its nearness
        // misleads there. On the tuning sets (scripts/cut-rc), by words
        // alone the right passage ranked first more often in every such
        // language: Chinese and Japanese 83.4 → 87.2%, and of XQuAD's first
        // 22 articles Greek 69.2 → 89.2%, Russian 78.7 → 87.3%, Arabic 70.6
        // → 80.2%, Hindi 54.0 → 86.6%, Thai 41.9 → 60.1%.
        let readable = || analyzer::mostly_latin(question);
        if let Some(model) = semantic.filter(|_| !ranked.is_empty() && readable()) {
            // A follow-up means what it says after what was asked before it
            // ("did she win?"): embedded alone, its few words are near any
            // passage (on QReCC follow-ups, weighing the carried concepts as
            // its own: 35.8% of them refused, the right passage first for
            // 46.2%; embedded with what came before, 0.5% and 66.5%).
            // The question first: the model reads so many words, and a long
            // earlier question must not push the follow-up's own out (on the
            // QReCC tuning split it also put the right passage first more
            // often, 68.7 → 70.2%).
            let said = match context {
                [] => q.text.clone(),
                _ => format!("{} {}", q.text, context.join(" ")),
            };
            let qv = model.embed(&said)?;
            let near = self.nearest(model, &qv, collections, &ranked);
            self.rerank(model, &qv, &q, &mut ranked, &near)?;
        }
        let confidence = confidence(&q, &ranked);
        // Nothing found is never an answer, whatever the bar.
        let answered = !ranked.is_empty() && confidence.value >= bar && !off_topic(&q);
        Ok(Judged {
            question: q,
            ranked,
            confidence,
            answered,
        })
    }

    /// Candidates for `q` within the collections of `counts` (which the
    /// question was analysed with), best first.
    fn rank(&self, q: &Question, counts: &Counts<'_>) -> Result<Vec<Scored>, SearchError> {
        let hits = retrieve::candidates(self, q, counts)?;
        let max_bm25 = hits.first().map(|h| h.0).unwrap_or(1.0).max(f32::EPSILON);
        // One thread: since re-scoring analyses only the words a question can
        // match, it costs less than handing candidates to other threads did.
        let mut rescorer = Rescorer::new(self, q, max_bm25);
        let mut out = Vec::with_capacity(hits.len());
        for &(bm25, addr) in &hits {
            out.push(rescorer.score(bm25, addr, None)?);
        }
        out.sort_by(best_first);
        Ok(out)
    }

    /// The embedded passages nearest the question (`qv`) by meaning that the
    /// lexical candidates `ranked` lack, within `collections`, closest first:
    /// a passage worded unlike the question may share too few of its words to
    /// be among the lexical candidates at all. Only asked when there are
    /// lexical candidates: a question none of whose words the knowledge has is
    /// not answered from meaning alone.
    fn nearest(
        &self,
        model: &Semantic,
        qv: &[f32],
        collections: Option<&[String]>,
        ranked: &[Scored],
    ) -> Vec<DocAddress> {
        let have: rustc_hash::FxHashSet<DocAddress> = ranked.iter().map(|s| s.addr).collect();
        let passages = self.embedded();
        let wanted = passages.iter().enumerate().filter(|(_, p)| {
            !have.contains(&p.addr) && collections.is_none_or(|c| c.contains(&p.page.collection))
        });
        model
            .nearest(qv, wanted.map(|(i, p)| (i, p.key)), NEAREST_CANDIDATES)
            .into_iter()
            .map(|(i, _)| passages[i].addr)
            .collect()
    }

    /// Re-scores the first [`SEMANTIC_CANDIDATES`] candidates, and the passages
    /// `near` the question by meaning ([`Snapshot::nearest`]) with them, by
    /// meaning as well as words: adds their cosine to the question (`qv`), the
    /// whole passage's and its closest sentence's, and lets each sentence's
    /// cosine weigh in the choice of the answer. Those re-scored come first.
    fn rerank(
        &self,
        model: &Semantic,
        qv: &[f32],
        q: &Question,
        ranked: &mut Vec<Scored>,
        near: &[DocAddress],
    ) -> Result<(), SearchError> {
        let top = ranked.len().min(SEMANTIC_CANDIDATES);
        if top == 0 {
            return Ok(());
        }
        let max_bm25 = ranked.iter().map(|s| s.bm25).fold(f32::EPSILON, f32::max);
        let mut rescorer = Rescorer::new(self, q, max_bm25);
        let mut todo: Vec<(f32, DocAddress, SharedSnippet)> = ranked[..top]
            .iter()
            .map(|s| (s.bm25, s.addr, s.snippet.clone()))
            .collect();
        for &addr in near {
            // Not among BM25's best: no BM25 credit.
            todo.push((0.0, addr, self.snippet(addr)?));
        }
        let weights = cosine_weights(model.family(), q.foreign);
        // Those not embedded yet, read together.
        let all = model.passages(&todo.iter().map(|(_, _, s)| &**s).collect::<Vec<_>>())?;
        let mut again = Vec::with_capacity(todo.len());
        for ((bm25, addr, _), vectors) in todo.into_iter().zip(all) {
            let sentences: Vec<f32> = vectors.sentences().map(|v| cosine(qv, v)).collect();
            let closest = sentences.iter().copied().fold(0.0, f32::max);
            let bonus = |i: usize| weights.choice * sentences.get(i).copied().unwrap_or(0.0);
            let mut scored = rescorer.score(bm25, addr, Some(&bonus))?;
            let whole = cosine(qv, vectors.whole());
            scored.score += meaning_scale(q) * (weights.whole * whole + weights.closest * closest);
            scored.meaning = Some(Meaning { whole, closest });
            again.push(scored);
        }
        again.sort_by(best_first);
        ranked.splice(..top, again);
        Ok(())
    }
}

/// Whether the knowledge holds unit `u` as asked (not only a typo
/// correction of it).
fn exact(u: &Unit) -> bool {
    u.variants
        .iter()
        .any(|v| v.doc_freq > 0 && v.kind != VariantKind::Fuzzy)
}

/// Whether a follow-up asks about something the knowledge lacks, whatever
/// the earlier questions it carries over: most of its own words' weight is in
/// concepts the knowledge does not hold as asked ("what's the weather
/// tomorrow?" in the thread of an answer about the emperor's visit). The
/// concepts carried over, and its meaning embedded with them, would answer
/// it: the seed's 16 validation questions out of scope, each asked after one
/// in scope, were refused 8 times without this and 16 with it (asked alone,
/// 14); QReCC follow-ups refused 0.6 → 7.3% (validation), where the knowledge
/// is the answers alone and lacks many of their words.
fn off_topic(q: &Question) -> bool {
    let min = 0.5;
    let own = q.units.iter().filter(|u| u.context == 0);
    let total: f32 = own.clone().map(|u| u.weight).sum();
    let known: f32 = own.filter(|u| exact(u)).map(|u| u.weight).sum();
    q.units.iter().any(|u| u.context > 0) && total > 0.0 && known < min * total
}

/// How many of the lexical candidates the semantic model re-scores: enough for
/// the right one, which lexical ranking nearly always puts in its top ten.
const SEMANTIC_CANDIDATES: usize = 20;

/// How many passages nearest the question by meaning join the candidates when
/// the lexical ones lack them. 5, 10 and 20 did the same on the tuning sets
/// (SQuAD train articles: p@1 84.9 → 85.0%, top-3 95.2 → 95.5%).
const NEAREST_CANDIDATES: usize = 10;

/// How much the semantic cosines add to a passage's score (the whole passage's,
/// its closest sentence's) and to a sentence's in the choice of the answer.
/// The closest sentence finds the one line of a long passage that answers
/// ("…previously visited Mongolia in 2007…").
#[derive(Debug, Clone, Copy, PartialEq)]
struct CosineWeights {
    whole: f32,
    closest: f32,
    choice: f32,
}

/// The weights of those tried that served the tuning sets (SQuAD train
/// articles, the Dex docs, the seed's development questions) best, for each
/// family of model: its cosines spread differently. all-MiniLM-L6-v2: whole
/// 1–3, closest sentence 0–1, choice 0–3 (closest 1.5 then put the right
/// passage first for SQuAD train articles 86.1 → 86.7%, but for the seed's
/// development questions 100 → 95% and Dex 72.5 → 67.5%).
const BERT_WEIGHTS: CosineWeights = CosineWeights {
    whole: 2.5,
    closest: 0.5,
    choice: 1.0,
};

/// all-mpnet-base-v2's closest sentence is worth more: whole 1.5–5 × closest
/// 0–3 (SQuAD train articles, right passage ranked first: closest 0.5 → 86.7%,
/// 1.5 → 87.5%, 2–3 → 87.6–87.7% but the seed's and Dex's lower), then choice 0.5,
/// 1, 2, 3 and 4.5 (answer sentence 82.0, 82.3, 82.6, 82.9 and 82.9%; Dex 55,
/// 55, 57.5, 57.5 and 57.5%).
const MPNET_WEIGHTS: CosineWeights = CosineWeights {
    whole: 2.5,
    closest: 1.5,
    choice: 3.0,
};

/// The cosine weights for a question to `family`'s model: a question in
/// another language ([`Question::foreign`]) keeps all-MiniLM-L6-v2's, as
/// all-mpnet-base-v2's cosines are worth less there (it was trained on
/// English): XQuAD's German and Spanish tuning articles lost 2 points of
/// answer sentences with all-mpnet-base-v2's weights (71.8 → 69.8%, 80.1 →
/// 78.0%).
fn cosine_weights(family: Family, foreign: bool) -> CosineWeights {
    match family {
        Family::MpNet if !foreign => MPNET_WEIGHTS,
        _ => BERT_WEIGHTS,
    }
}

/// How much more the cosines weigh for a question of many words than for a
/// short one: 1 up to [`LONG_QUESTION`] words of the question's own (units),
/// rising by [`LONG_QUESTION_GAIN`] for each as many again, to twice that at
/// most. A long question tells its situation ("We host customer sites on
/// their own domains and can't list them in the config ahead of time. How do
/// I stop…"): many of its words are not the passage's, so what its words
/// cover says less of the passage than the passage's meaning does.
fn meaning_scale(q: &Question) -> f32 {
    let own = q.units.iter().filter(|u| u.context == 0).count();
    let over = (own as f32 - LONG_QUESTION) / LONG_QUESTION;
    1.0 + LONG_QUESTION_GAIN * over.clamp(0.0, 2.0)
}

/// Units from which a question counts as long ([`meaning_scale`]).
const LONG_QUESTION: f32 = 6.0;
/// What the cosines gain per [`LONG_QUESTION`] more units. Tried 0.15, 0.25
/// and 0.5 against 0 on every set in one run: 0.15 and 0.25 put the right
/// passage first 3 more times of 600 docs questions (caddy, Prometheus, jbang
/// +2.5 points; Vite −2.5), SQuAD validation +0.1, the seed unchanged; 0.5
/// cost SQuAD validation 0.1 and Vite's answers 2.5 points.
const LONG_QUESTION_GAIN: f32 = 0.25;

/// Higher score first; equal scores put the passage earlier in its file first —
/// not document order, which differs between builds of the same files (indexing
/// is multi-threaded).
fn best_first(a: &Scored, b: &Scored) -> std::cmp::Ordering {
    b.score
        .total_cmp(&a.score)
        .then_with(|| a.snippet.page.file.cmp(&b.snippet.page.file))
        .then_with(|| a.snippet.line.cmp(&b.snippet.line))
        // A PDF's page or a deck's slide is one "line" for all its passages.
        .then_with(|| a.snippet.id.cmp(&b.snippet.id))
}

/// Scores candidates for one question by coverage, BM25 and best sentence.
struct Rescorer<'a> {
    snapshot: &'a Snapshot,
    q: &'a Question,
    /// The question's weight: what coverage is a share of.
    total: f32,
    max_bm25: f32,
    both: Both,
    wanted: Wanted,
    /// The units that are acronyms, with their letters.
    acronyms: Vec<(&'a Unit, String)>,
    /// The question's neighbouring units, for [`proximity`].
    pairs: Pairs,
    /// The candidate's title, headings and tags (a buffer reused between them).
    meta: String,
}

/// What one passage's words match of a question, for the coverage of each of
/// its sentences.
struct SentenceWords<'s, 'a> {
    q: &'a Question,
    total: f32,
    pairs: &'s Pairs,
    terms: &'s [Term],
    prefixes: &'s [Term],
    /// Where the passage spells out each acronym asked.
    spelled: &'s [(&'a Unit, Vec<(usize, usize)>)],
}

impl SentenceWords<'_, '_> {
    /// The coverage of the question by the sentence at `range`, and where its
    /// words matched.
    fn coverage(&self, range: std::ops::Range<usize>) -> (f32, Vec<(usize, usize)>) {
        let terms = within(self.terms, &range);
        let prefixes = within(self.prefixes, &range);
        let (mut c, found) = coverage_of(self.q, self.total, terms, prefixes, None);
        // The line that answers a follow-up answers its own words: the
        // concepts carried over found the passage, and every line of it may
        // name them (on QReCC follow-ups, the answer line held the answer 20.2
        // → 24.0% of the time without them, the passage first 68.2 → 67.8%).
        for u in self.q.units.iter().filter(|u| u.context > 0) {
            c -= u.weight * unit_match(u, terms, prefixes).0 / self.total;
        }
        for (u, spans) in self.spelled.iter().filter(|(u, _)| u.context == 0) {
            if spans
                .iter()
                .any(|&(a, b)| a >= range.start && b <= range.end)
            {
                let had = unit_match(u, terms, prefixes).0;
                c += u.weight * (SYNONYM - had).max(0.0) / self.total;
            }
        }
        // The sentence that has the question's words side by side is likelier
        // the one that says what was asked.
        c += SENTENCE_PROXIMITY_WEIGHT * proximity(self.pairs, terms);
        (c, found)
    }
}

/// What the text and the title and headings of one passage match of a question.
struct Matched<'m> {
    terms: &'m [Term],
    prefixes: &'m [Term],
    meta_terms: &'m [Term],
    meta_prefixes: &'m [Term],
}

impl<'a> Rescorer<'a> {
    fn new(snapshot: &'a Snapshot, q: &'a Question, max_bm25: f32) -> Self {
        Rescorer {
            snapshot,
            q,
            total: q.total_weight(),
            max_bm25,
            both: snapshot.both.clone(),
            wanted: wanted(q),
            acronyms: q
                .units
                .iter()
                .filter_map(|u| acronym_of(&u.text).map(|a| (u, a)))
                .collect(),
            pairs: neighbour_pairs(q),
            meta: String::new(),
        }
    }

    /// The candidate at `addr`, whose BM25 score is `bm25`, scored; `bonus`
    /// (by sentence) weighs in the choice of its answer sentence.
    fn score(
        &mut self,
        bm25: f32,
        addr: DocAddress,
        bonus: Option<&dyn Fn(usize) -> f32>,
    ) -> Result<Scored, SearchError> {
        let (q, total) = (self.q, self.total);
        let snippet = self.snapshot.snippet(addr)?;
        let (body_terms, body_prefixes) = self.both.analyze_for(&snippet.text, &self.wanted);
        meta_text(&snippet, &mut self.meta);
        let (meta_terms, meta_prefixes) = self.both.analyze_for(&self.meta, &self.wanted);
        let matched = Matched {
            terms: &body_terms,
            prefixes: &body_prefixes,
            meta_terms: &meta_terms,
            meta_prefixes: &meta_prefixes,
        };
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
        let spelled =
            self.spelled_acronyms(&snippet.text, &matched, &mut coverage, &mut meta_coverage);
        for (_, body) in &spelled {
            highlights.extend(body.iter().copied());
        }
        merge_highlights(&mut highlights);
        // A passage with one sentence that answers everything beats one that
        // scatters the question's words over several.
        let sentences = SentenceWords {
            q,
            total,
            pairs: &self.pairs,
            terms: &body_terms,
            prefixes: &body_prefixes,
            spelled: &spelled,
        };
        let sought = Sought::of(q);
        let figures = answer::figures(
            &sought,
            &snippet.text,
            &snippet.code,
            |range| sentences.coverage(range),
            |i| bonus.map_or(0.0, |b| b(i)),
        );
        let sentence = answer::choice(&sought, &snippet.text, &figures, bonus.is_some());
        // Words the question puts side by side ("core objective", "head of
        // state") that a passage has side by side speak of the same thing.
        let side_by_side =
            proximity(&self.pairs, &body_terms).max(proximity(&self.pairs, &meta_terms));
        let score = coverage
            + PROXIMITY_WEIGHT * side_by_side
            + BM25_WEIGHT * bm25 / self.max_bm25
            + SENTENCE_WEIGHT * sentence.as_ref().map_or(0.0, |s| s.1)
            + META_WEIGHT * meta_coverage;
        Ok(Scored {
            snippet,
            addr,
            bm25,
            coverage,
            meta_coverage,
            score,
            highlights,
            body_terms,
            body_prefixes,
            sentence,
            figures,
            meaning: None,
        })
    }

    /// An acronym asked ("NYC") matches where the passage spells it out ("New
    /// York City"), as a synonym would: adds that to `coverage` and
    /// `meta_coverage`, and returns where `text` spells out each acronym.
    fn spelled_acronyms(
        &self,
        text: &str,
        m: &Matched<'_>,
        coverage: &mut f32,
        meta_coverage: &mut f32,
    ) -> Vec<(&'a Unit, Vec<(usize, usize)>)> {
        let total = self.total;
        let mut spelled = Vec::new();
        for (u, acronym) in &self.acronyms {
            let body = spelled_out(acronym, text);
            let in_meta = !spelled_out(acronym, &self.meta).is_empty();
            let had = unit_match(u, m.terms, m.prefixes)
                .0
                .max(HEADING * unit_match(u, m.meta_terms, m.meta_prefixes).0);
            let now = if body.is_empty() {
                if in_meta { HEADING * SYNONYM } else { 0.0 }
            } else {
                SYNONYM
            };
            *coverage += u.weight * (now - had).max(0.0) / total;
            if in_meta {
                let had = unit_match(u, m.meta_terms, m.meta_prefixes).0;
                *meta_coverage += u.weight * (SYNONYM - had).max(0.0) / total;
            }
            spelled.push((*u, body));
        }
        spelled
    }
}

/// A snippet's title, heading and tags as one text (into `out`, reused between
/// candidates): matches there count for [`HEADING`].
fn meta_text(snippet: &Snippet, out: &mut String) {
    out.clear();
    write!(out, "{} \n {} \n ", snippet.page.title, snippet.heading).expect("writing to a String");
    for (i, tag) in snippet.page.tags.iter().enumerate() {
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
fn unit_match(u: &Unit, terms: &[Term], prefixes: &[Term]) -> (f32, Vec<(usize, usize)>) {
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

/// Sorts `highlights` and merges those that overlap: the pairs of characters
/// a Chinese or Japanese word is indexed as do ("モン", "ンゴ", "ゴル" are one
/// highlight, "モンゴル").
fn merge_highlights(highlights: &mut Vec<(usize, usize)>) {
    highlights.sort_unstable();
    highlights.dedup_by(|next, kept| {
        let overlaps = next.0 < kept.1;
        if overlaps {
            kept.1 = kept.1.max(next.1);
        }
        overlaps || next == kept
    });
}

/// The pairs of neighbouring units of a question ([`proximity`]), worked out
/// once per question rather than per candidate: each pair's weight (its
/// lighter unit's), and the pairs by the two words that meet where one unit
/// ends and the next begins (the last term of a way of writing the first, the
/// first of a way of writing the second), looked up by their hash so that a
/// passage's terms are read once, with nothing allocated.
struct Pairs {
    weights: Vec<f32>,
    total: f32,
    /// Hash of the two words → (pair, the two words).
    by_words: rustc_hash::FxHashMap<u64, Vec<(usize, String, String)>>,
}

/// Most pairs [`proximity`] looks for (the bits of its mask): a question is
/// cut to far fewer units.
const MAX_PAIRS: usize = 128;

/// The key [`Pairs`] files two words under that meet, in that order.
fn words_hash(a: &str, b: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = rustc_hash::FxHasher::default();
    (a, b).hash(&mut h);
    h.finish()
}

/// The [`Pairs`] of `q`'s neighbouring units, by every way of writing each
/// that the knowledge holds (or as asked).
fn neighbour_pairs(q: &Question) -> Pairs {
    let usable = |v: &&Variant| v.doc_freq > 0 || v.kind == VariantKind::Exact;
    let mut pairs = Pairs {
        weights: Vec::new(),
        total: 0.0,
        by_words: Default::default(),
    };
    // Units carried over from different questions were never neighbours.
    let neighbours = q.units.windows(2).filter(|p| p[0].context == p[1].context);
    for (i, pair) in neighbours.take(MAX_PAIRS).enumerate() {
        let weight = pair[0].weight.min(pair[1].weight);
        pairs.weights.push(weight);
        pairs.total += weight;
        for a in pair[0].variants.iter().filter(usable) {
            for b in pair[1].variants.iter().filter(usable) {
                let (Some(last), Some(first)) = (a.terms.last(), b.terms.first()) else {
                    continue;
                };
                let at = pairs.by_words.entry(words_hash(last, first)).or_default();
                if !at
                    .iter()
                    .any(|(j, x, y)| *j == i && x == last && y == first)
                {
                    at.push((i, last.clone(), first.clone()));
                }
            }
        }
    }
    pairs
}

/// The share of the weight of a question's `pairs` of neighbouring units (each
/// pair weighing as its lighter unit) that `terms` hold side by side, in order:
/// the word that ends the first and the word that begins the second a word
/// apart at most (as [`Term::joined`] says).
fn proximity(pairs: &Pairs, terms: &[Term]) -> f32 {
    if pairs.total <= 0.0 {
        return 0.0;
    }
    let mut found: u128 = 0;
    for w in terms.windows(2) {
        if !w[1].joined {
            continue;
        }
        if let Some(at) = pairs.by_words.get(&words_hash(&w[0].text, &w[1].text)) {
            for (i, a, b) in at {
                if **a == *w[0].text && **b == *w[1].text {
                    found |= 1 << i;
                }
            }
        }
    }
    let got: f32 = pairs
        .weights
        .iter()
        .enumerate()
        .filter(|(i, _)| found & (1 << i) != 0)
        .map(|(_, w)| w)
        .sum();
    got / pairs.total
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
    use tantivy::collector::TopDocs;
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

    #[test]
    fn cosines_weigh_by_model_and_language() {
        let table = [
            (Family::MpNet, false, MPNET_WEIGHTS),
            (Family::MpNet, true, BERT_WEIGHTS),
            (Family::Bert, false, BERT_WEIGHTS),
            (Family::Bert, true, BERT_WEIGHTS),
        ];
        for (family, foreign, want) in table {
            assert_eq!(
                cosine_weights(family, foreign),
                want,
                "{family:?} {foreign}"
            );
        }
        assert_ne!(MPNET_WEIGHTS, BERT_WEIGHTS);
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
            let q = snap
                .question(text, &Counts::new(&snap, None).unwrap())
                .unwrap();
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
                    let sentence = answer::best_sentence(&Sought::of(&q), &s.text, |r| {
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

    /// Passages that tie are re-scored by their content's key, never by where
    /// indexing put them: the forty rows of a table score the same for a word
    /// they all hold, and the same two dozen of them must be candidates in every
    /// build of the index.
    #[test]
    fn candidates_that_tie_are_chosen_by_content_not_by_index_order() {
        let dir = tempfile::tempdir().unwrap();
        let k = dir.path().join("knowledge");
        std::fs::create_dir_all(&k).unwrap();
        let rows: String = (0..40).map(|i| format!("| p{i:02} | shared |\n")).collect();
        std::fs::write(
            k.join("table.md"),
            format!("# Table\n\n| Name | Note |\n| --- | --- |\n{rows}"),
        )
        .unwrap();
        let engine = Engine::open(&SearchSettings::new(&k, None)).unwrap();
        let snap = engine.snapshot();
        let counts = Counts::new(&snap, None).unwrap();
        let q = snap.question("shared", &counts).unwrap();
        let hits = retrieve::candidates(&snap, &q, &counts).unwrap();
        assert_eq!(hits.len(), 24);
        assert!(hits.iter().all(|h| h.0 == hits[0].0), "{hits:?}");
        let got: Vec<u64> = hits.iter().map(|h| snap.doc_key(h.1).unwrap()).collect();
        let all = snap
            .searcher
            .search(&AllQuery, &TopDocs::with_limit(100).order_by_score())
            .unwrap();
        let mut want: Vec<u64> = all
            .iter()
            .filter(|(_, a)| snap.snippet(*a).unwrap().text.contains("shared"))
            .map(|(_, a)| snap.doc_key(*a).unwrap())
            .collect();
        assert_eq!(want.len(), 40);
        want.sort();
        want.truncate(24);
        assert_eq!(got, want);
    }

    /// A question's meaning weighs more the more words of its own it has, from
    /// six, and at most by half again.
    #[test]
    fn meaning_weighs_more_for_long_questions() {
        let (snap, _) = seed();
        let counts = Counts::new(&snap, None).unwrap();
        let table: &[(&str, f32)] = &[
            ("when is the emperor visiting Mongolia?", 1.0),
            ("Which airport is Japan paying to expand?", 1.0),
            (
                "Our ministry plans a delegation to Ulaanbaatar next spring. Which \
                 Japanese officials met the Mongolian foreign minister during her visit?",
                1.25,
            ),
            (
                "We are writing a long briefing for the new ambassador, who asks about \
                 every agreement, loan, airport, railway, mine, festival, memorial, \
                 anniversary and visit between Japan and Mongolia since the war",
                1.5,
            ),
        ];
        for (text, want) in table {
            let q = snap.question(text, &counts).unwrap();
            let got = meaning_scale(&q);
            assert!(
                (got - want).abs() < 1e-6,
                "{text}: {got} ({} units)",
                q.units.len()
            );
        }
    }

    /// Neighbouring words of the question count where the text has them side
    /// by side and in order, a word apart at most; each pair weighs as its
    /// lighter word.
    #[test]
    fn proximity_counts_the_question_s_neighbouring_words_found_side_by_side() {
        let (snap, _) = seed();
        let counts = Counts::new(&snap, None).unwrap();
        let q = snap.question("core objective visit", &counts).unwrap();
        let (core, objective, visit) = (q.units[0].weight, q.units[1].weight, q.units[2].weight);
        let pairs = core.min(objective) + objective.min(visit);
        let table: &[(&str, f32)] = &[
            (
                "The core objective of the visit",
                core.min(objective) / pairs,
            ),
            ("Its core objective: a visit", 1.0),
            ("A visit whose objective was core", 0.0),
            ("The objective, at its core, of a visit", 0.0),
            ("Nothing of it", 0.0),
        ];
        for (text, want) in table {
            let (terms, _) = snap.both.clone().analyze_for(text, &wanted(&q));
            let got = proximity(&neighbour_pairs(&q), &terms);
            assert!((got - want).abs() < 1e-6, "{text}: {got}, want {want}");
        }
    }
}
