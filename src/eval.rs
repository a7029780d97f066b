//! Answer quality, measured: a question file is run through the search engine and
//! through a plain BM25 baseline over the same passages, in the same run, and
//! scored the same way (`citebot eval`).
//!
//! A question file is TOML, `[[question]]` entries with `text`, `expect` (strings a
//! right passage and answer sentence contain, case-insensitive; `[]` when the
//! knowledge does not answer it) and `kind`, and optionally where the answer is:
//! `file` (relative to the knowledge folder), `heading` (the nearest heading above
//! it) and `line` (where its paragraph starts). Where those are given they decide
//! whether a passage is the right one; else the expected strings do. A
//! follow-up question has `context`: the earlier questions it follows up on,
//! oldest first (as the bot reads them in an answer's thread).

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, Occur, Query, TermQuery};
use tantivy::schema::{IndexRecordOption, STORED, Schema, TEXT, Value as _};
use tantivy::tokenizer::{LowerCaser, RemoveLongFilter, Stemmer, TextAnalyzer};
use tantivy::{Index, TantivyDocument};

use crate::knowledge::{self, Snippet};
use crate::search::index::Snapshot;
use crate::search::question::VariantKind;
use crate::search::{
    Answer, AskOptions, DEFAULT_MIN_CONFIDENCE, Engine, SearchError, SearchSettings, SemanticModel,
};
use crate::text;

/// One question of a question file.
#[derive(Debug, Clone, Deserialize)]
pub struct Question {
    pub text: String,
    #[serde(default)]
    pub expect: Vec<String>,
    #[serde(default)]
    pub kind: String,
    pub file: Option<String>,
    pub heading: Option<String>,
    pub line: Option<usize>,
    /// The conversation's earlier questions, oldest first, when this one
    /// follows up on them.
    #[serde(default)]
    pub context: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct QuestionFile {
    question: Vec<Question>,
}

/// Reads a question file.
pub fn read_questions(path: &Path) -> anyhow::Result<Vec<Question>> {
    let text = std::fs::read_to_string(path)?;
    let file: QuestionFile = toml::from_str(&text)?;
    Ok(file.question)
}

/// What a question is, for scoring.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
enum Class {
    /// The knowledge answers it.
    Answerable,
    /// Written against a passage that does not answer it (SQuAD 2.0's impossible
    /// questions): refusing is right, but it is about the knowledge's subject.
    Unanswerable,
    /// About something the knowledge never covers: must be refused.
    OutOfScope,
}

impl Question {
    fn class(&self) -> Class {
        if !self.expect.is_empty() {
            Class::Answerable
        } else if self.file.is_some() || self.kind == "unanswerable" {
            Class::Unanswerable
        } else {
            Class::OutOfScope
        }
    }
}

/// Figures for one system over one question file.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Figures {
    pub answerable: usize,
    /// Answered, with the right passage first.
    pub top1: usize,
    /// The right passage first, answered or not (a refusal's nearest passage).
    pub top1_ranked: usize,
    /// The right passage among the first three, answered or not.
    pub top3_ranked: usize,
    /// Sum of 1/rank of the right passage within the first three.
    pub mrr3: f64,
    /// Answered with an answer sentence holding an expected string.
    pub answer: usize,
    /// Words in the answer lines of answered answerable questions: what a
    /// longer answer line pays for holding the expected string more often.
    pub answer_words: usize,
    pub answerable_refused: usize,
    pub unanswerable: usize,
    pub unanswerable_refused: usize,
    pub out_of_scope: usize,
    pub out_of_scope_refused: usize,
    /// Answerable questions by kind: (questions, right passage first and answered).
    pub by_kind: BTreeMap<String, (usize, usize)>,
}

impl Figures {
    fn pct(n: usize, d: usize) -> String {
        if d == 0 {
            "–".into()
        } else {
            format!("{:.1}%", 100.0 * n as f64 / d as f64)
        }
    }

    /// One line per figure, for a terminal.
    pub fn lines(&self, name: &str, refuses: bool) -> Vec<String> {
        let a = self.answerable;
        let mut out = vec![format!(
            "{name}: p@1 {} · ranked p@1 {} · top-3 {} · MRR@3 {:.3}",
            Self::pct(self.top1, a),
            Self::pct(self.top1_ranked, a),
            Self::pct(self.top3_ranked, a),
            if a == 0 { 0.0 } else { self.mrr3 / a as f64 },
        )];
        if refuses {
            out.push(format!(
                "{name}: answer sentence {} ({:.1} words) · answerable refused {} · unanswerable refused {} ({}) · out of scope refused {} ({})",
                Self::pct(self.answer, a),
                self.answer_words as f64 / (a - self.answerable_refused).max(1) as f64,
                Self::pct(self.answerable_refused, a),
                Self::pct(self.unanswerable_refused, self.unanswerable),
                self.unanswerable,
                Self::pct(self.out_of_scope_refused, self.out_of_scope),
                self.out_of_scope,
            ));
            let kinds: Vec<String> = self
                .by_kind
                .iter()
                .map(|(k, (n, hit))| format!("{k} {}/{n}", hit))
                .collect();
            out.push(format!("{name}: p@1 by kind: {}", kinds.join(", ")));
        }
        out
    }
}

/// A whole evaluation: citebot and the baseline, and citebot's misses.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub questions: usize,
    pub passages: usize,
    /// Whether citebot ranked with the semantic model.
    pub semantic_model: bool,
    pub citebot: Figures,
    pub bm25: Figures,
    pub misses: Vec<String>,
    /// What other confidence bars would have done (`search.min_confidence`).
    pub bars: Vec<Bar>,
    #[serde(skip)]
    scored: Vec<(Class, f32, bool)>,
}

/// The outcome of one confidence bar over the question file.
#[derive(Debug, Clone, Serialize)]
pub struct Bar {
    pub bar: f32,
    /// Share of answerable questions answered.
    pub answered: f64,
    /// Of all questions answered, the share answered with the right passage first.
    pub precision: f64,
    /// `None` where the file has no such questions.
    pub unanswerable_refused: Option<f64>,
    pub out_of_scope_refused: Option<f64>,
}

impl Bar {
    /// One line for a terminal.
    pub fn line(&self) -> String {
        let pct = |v: Option<f64>| v.map_or("–".to_string(), |v| format!("{:.1}%", 100.0 * v));
        format!(
            "bar {:.2}: answers {:.1}% of answerable questions · {:.1}% of answers right first · refuses {} of unanswerable, {} of out of scope",
            self.bar,
            100.0 * self.answered,
            100.0 * self.precision,
            pct(self.unanswerable_refused),
            pct(self.out_of_scope_refused)
        )
    }
}

/// Precision against the share answered for a range of bars, from each question's
/// (class, confidence, right passage first).
fn bars(scored: &[(Class, f32, bool)]) -> Vec<Bar> {
    let share = |n: usize, d: usize| if d == 0 { 1.0 } else { n as f64 / d as f64 };
    (3..=9)
        .map(|i| {
            let bar = i as f32 / 10.0;
            let count = |class: Class| scored.iter().filter(|s| s.0 == class).count();
            let passed =
                |class: Class| scored.iter().filter(|s| s.0 == class && s.1 >= bar).count();
            let answered_all = scored.iter().filter(|s| s.1 >= bar).count();
            let right = scored
                .iter()
                .filter(|s| s.0 == Class::Answerable && s.1 >= bar && s.2)
                .count();
            Bar {
                bar,
                answered: share(passed(Class::Answerable), count(Class::Answerable)),
                precision: share(right, answered_all),
                unanswerable_refused: (count(Class::Unanswerable) > 0)
                    .then(|| 1.0 - share(passed(Class::Unanswerable), count(Class::Unanswerable))),
                out_of_scope_refused: (count(Class::OutOfScope) > 0)
                    .then(|| 1.0 - share(passed(Class::OutOfScope), count(Class::OutOfScope))),
            }
        })
        .collect()
}

fn norm(s: &str) -> String {
    text::fold_whitespace(
        &s.replace('\u{2019}', "'")
            .replace(['\u{201c}', '\u{201d}'], "\""),
    )
    .to_lowercase()
}

/// The parts of a passage that decide whether it is the right one.
struct Cited<'a> {
    text: &'a str,
    file: &'a str,
    title: &'a str,
    heading: &'a str,
    line: usize,
}

impl<'a> Cited<'a> {
    fn of_snippet(s: &'a Snippet) -> Cited<'a> {
        Cited {
            text: &s.text,
            file: &s.page.file,
            title: &s.page.title,
            heading: &s.heading,
            line: s.line,
        }
    }

    /// A passage cited by `c` (its own citation, or one of the places that
    /// say the same).
    fn of(p: &'a crate::search::Passage, c: &'a crate::search::Citation) -> Cited<'a> {
        Cited {
            text: &p.text,
            file: &c.file,
            title: &c.title,
            heading: &c.heading,
            // A PDF's or deck's passages are found by their page or slide,
            // as its snippets' lines are.
            line: (c.line).or(c.page).or(c.slide).or(c.row).unwrap_or(0),
        }
    }
}

fn contains_expected(q: &Question, text: &str) -> bool {
    let t = norm(text);
    q.expect.iter().any(|e| t.contains(&norm(e)))
}

/// Whether `p` is the passage `q` asks for.
fn right(q: &Question, p: &Cited) -> bool {
    let Some(file) = &q.file else {
        return contains_expected(q, p.text);
    };
    // Citations name the file under the knowledge folder's own name.
    let rel = p.file.split_once('/').map_or(p.file, |(_, r)| r);
    if rel != file {
        return false;
    }
    if let Some(line) = q.line {
        return p.line == line;
    }
    if let Some(h) = &q.heading {
        let last = p.heading.rsplit(" › ").next().unwrap_or("");
        let want = norm(h);
        let want = want.trim_end_matches(':');
        return norm(last).trim_end_matches(':') == want
            || (p.heading.is_empty() && norm(p.title) == want);
    }
    true
}

/// Where the first right one of `ranked` (whether each is right) is, among
/// the first three, counted into `f`.
fn score_ranked(ranked: &[bool], f: &mut Figures) -> Option<usize> {
    let rank = ranked.iter().take(3).position(|&r| r);
    if let Some(r) = rank {
        f.top3_ranked += 1;
        f.mrr3 += 1.0 / (r + 1) as f64;
        if r == 0 {
            f.top1_ranked += 1;
        }
    }
    rank
}

/// Runs every question through `engine` and the BM25 baseline built from the
/// knowledge folder `dir`.
pub fn run(
    dir: &Path,
    questions: &[Question],
    semantic_model: SemanticModel,
) -> anyhow::Result<Report> {
    let mut settings = SearchSettings::new(dir, None);
    settings.semantic_model = semantic_model;
    let engine = Engine::open(&settings)?;
    // CITEBOT_EVAL_VECTORS=FILE keeps the passages' vectors between runs (the
    // model's fingerprint guards the file), so a re-run embeds nothing again.
    let vectors = std::env::var_os("CITEBOT_EVAL_VECTORS").map(std::path::PathBuf::from);
    if let (Some(model), Some(file)) = (engine.semantic(), &vectors) {
        model.read_vectors(file);
    }
    // Measured as the bot answers once its background embedding is done: the
    // search by meaning sees only embedded passages.
    engine.embed_all(|| false)?;
    if let (Some(model), Some(file)) = (engine.semantic(), &vectors) {
        model.save(file)?;
    }
    let kb = knowledge::load(dir)?;
    let snippets: Vec<&Snippet> = kb.snippets().collect();
    let bm25 = Bm25::new(&snippets)?;
    let mut report = Report {
        questions: questions.len(),
        passages: snippets.len(),
        semantic_model: engine.has_semantic_model(),
        citebot: Figures::default(),
        bm25: Figures::default(),
        misses: Vec::new(),
        bars: Vec::new(),
        scored: Vec::new(),
    };
    let options = AskOptions {
        passages: Some(3),
        ..AskOptions::default()
    };
    // CITEBOT_EVAL_DUMP=FILE: one JSON line per question with the figures of the
    // question and of every candidate passage, and which candidates are right, for
    // fitting the ranking and the confidence model offline (scripts/fit-confidence).
    let mut dump = match std::env::var_os("CITEBOT_EVAL_DUMP") {
        Some(p) => Some(std::io::BufWriter::new(std::fs::File::create(p)?)),
        None => None,
    };
    let snapshot = engine.snapshot();
    for q in questions {
        let options = AskOptions {
            context: q.context.clone(),
            ..options.clone()
        };
        let a = engine.ask_with(&q.text, &options)?;
        let misses_before = report.misses.len();
        if let Some(out) = dump.as_mut() {
            use std::io::Write as _;
            writeln!(out, "{}", dump_line(&snapshot, engine.semantic(), q, &a)?)?;
        }
        score_citebot(q, &a, &mut report);
        score_bm25(q, &bm25, &snippets, misses_before, &mut report)?;
    }
    report.bars = bars(&report.scored);
    Ok(report)
}

/// Runs `q` through the BM25 baseline over `snippets` and counts it into
/// `report`, marking citebot's miss (the one after `misses_before`) when
/// BM25 had the right passage first.
fn score_bm25(
    q: &Question,
    bm25: &Bm25,
    snippets: &[&Snippet],
    misses_before: usize,
    report: &mut Report,
) -> Result<(), SearchError> {
    // The baseline reads what citebot reads: a follow-up with the questions
    // before it.
    let said: Vec<&str> = q.context.iter().map(String::as_str).collect();
    let hits = bm25.search(&[&said[..], &[q.text.as_str()]].concat().join(" "), 3)?;
    let rights: Vec<bool> = (hits.iter())
        .map(|&i| right(q, &Cited::of_snippet(snippets[i])))
        .collect();
    let f = &mut report.bm25;
    match q.class() {
        Class::Answerable => {
            f.answerable += 1;
            if score_ranked(&rights, f) == Some(0) {
                f.top1 += 1;
                if let Some(m) = report.misses.get_mut(misses_before) {
                    m.push_str(" [BM25 had it first]");
                }
            }
        }
        Class::Unanswerable => f.unanswerable += 1,
        Class::OutOfScope => f.out_of_scope += 1,
    }
    Ok(())
}

/// One question's figures for offline fitting: its units and every candidate
/// passage's scores, marked right or not, with its id, title and headings; and
/// what the bot answered (`a`): the answer line and whether it holds an
/// expected string, so a miss can be told apart as the wrong passage or the
/// wrong line of the right one (`scripts/dump-report`).
fn dump_line(
    snapshot: &Snapshot,
    semantic: Option<&crate::search::semantic::Semantic>,
    q: &Question,
    a: &Answer,
) -> anyhow::Result<serde_json::Value> {
    let judged = snapshot.judge(&q.text, &q.context, None, DEFAULT_MIN_CONFIDENCE, semantic)?;
    let units: Vec<serde_json::Value> = judged
        .question
        .units
        .iter()
        .map(|u| {
            let exact_df = u
                .variants
                .iter()
                .filter(|v| v.kind != VariantKind::Fuzzy)
                .map(|v| v.doc_freq)
                .max()
                .unwrap_or(0);
            serde_json::json!({
                "text": u.text, "weight": u.weight, "known": u.known, "exact_df": exact_df,
            })
        })
        .collect();
    let candidates: Vec<serde_json::Value> = judged
        .ranked
        .iter()
        .enumerate()
        .map(|(rank, c)| {
            let matched: Vec<usize> = c.matched(&judged.question).map(|(i, _)| i).collect();
            let is_right = right(q, &Cited::of_snippet(&c.snippet));
            let sentences = if is_right || rank < DUMP_SENTENCES {
                sentences_of(q, c)
            } else {
                Vec::new()
            };
            serde_json::json!({
                "sentences": sentences,
                "right": is_right,
                "file": c.snippet.page.file,
                "line": c.snippet.line,
                "bm25": c.bm25,
                "coverage": c.coverage,
                "meta_coverage": c.meta_coverage,
                "sentence": c.sentence_score(),
                "score": c.score,
                "matched": matched,
                "words": c.body_terms.len(),
                "whole": c.meaning.map(|m| m.whole),
                "closest": c.meaning.map(|m| m.closest),
                "id": c.snippet.id,
                "heading": &*c.snippet.heading,
                "title": c.snippet.page.title,
            })
        })
        .collect();
    Ok(serde_json::json!({
        "text": q.text,
        "class": format!("{:?}", q.class()),
        "kind": q.kind,
        "question_kind": format!("{:?}", judged.question.kind),
        "units": units,
        "confidence": judged.confidence.value,
        "answered": a.answered,
        "answer": a.answer.as_ref().map(|l| &l.text),
        "answer_hit": a.answer.as_ref().is_some_and(|l| contains_expected(q, &l.text)),
        "candidates": candidates,
    }))
}

/// How many of the first candidates a dump gives the sentences of (each
/// right one's too, wherever it is): enough for every passage the semantic
/// model re-scores, so a ranking or an answer choice from sentence-level
/// figures, or another model's cosines over the same texts, can be measured
/// offline against the same candidates.
const DUMP_SENTENCES: usize = 30;

/// A passage's sentences, and which hold an expected string, for fitting the
/// choice of the answer sentence.
fn sentences_of(q: &Question, c: &crate::search::rank::Scored) -> Vec<serde_json::Value> {
    let text = &c.snippet.text;
    c.figures
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let before = i.checked_sub(1).map_or(0, |j| c.figures[j].range.end);
            let gap = text[before..f.range.start].contains("\n\n");
            serde_json::json!({
                "f": f, "hit": contains_expected(q, &text[f.range.clone()]), "gap": gap,
                "text": &text[f.range.clone()],
            })
        })
        .collect()
}

fn score_citebot(q: &Question, a: &Answer, report: &mut Report) {
    // A passage is right when a place it cites is: the one it is from, or
    // one that says the same words under the same heading.
    let rights: Vec<bool> = (a.passages.iter())
        .map(|p| {
            std::iter::once(&p.citation)
                .chain(&p.also)
                .any(|c| right(q, &Cited::of(p, c)))
        })
        .collect();
    let first_right = rights.first().copied().unwrap_or(false);
    report.scored.push((q.class(), a.confidence, first_right));
    let f = &mut report.citebot;
    match q.class() {
        Class::Answerable => {
            f.answerable += 1;
            let rank = score_ranked(&rights, f);
            let top1 = a.answered && rank == Some(0);
            let answer = a.answered
                && a.answer
                    .as_ref()
                    .is_some_and(|l| contains_expected(q, &l.text));
            f.top1 += usize::from(top1);
            f.answer += usize::from(answer);
            if a.answered {
                f.answer_words += a
                    .answer
                    .as_ref()
                    .map_or(0, |l| l.text.split_whitespace().count());
            }
            f.answerable_refused += usize::from(!a.answered);
            let k = f.by_kind.entry(q.kind.clone()).or_default();
            k.0 += 1;
            k.1 += usize::from(top1);
            if !(top1 && answer) {
                let first = a.passages.first().map_or(String::from("—"), |p| {
                    format!(
                        "{} {}",
                        crate::render::place(&p.citation),
                        p.citation.heading
                    )
                });
                report.misses.push(format!(
                    "{}{}{}({}) {} -> {} | {}",
                    if a.answered { "" } else { "REFUSED " },
                    if top1 { "" } else { "MISS1 " },
                    if answer { "" } else { "MISSA " },
                    q.kind,
                    q.text,
                    first,
                    a.answer.as_ref().map_or("", |l| l.text.as_str())
                ));
            }
        }
        Class::Unanswerable => {
            f.unanswerable += 1;
            f.unanswerable_refused += usize::from(!a.answered);
        }
        Class::OutOfScope => {
            f.out_of_scope += 1;
            if a.answered {
                report.misses.push(format!(
                    "NOT REFUSED {} -> {}",
                    q.text,
                    a.answer.as_ref().map_or("", |l| l.text.as_str())
                ));
            } else {
                f.out_of_scope_refused += 1;
            }
        }
    }
}

/// Plain BM25 (tantivy's defaults: k1 1.2, b 0.75) over one field holding each
/// passage's title, heading and text, words lower-cased and stemmed: the baseline
/// every ranking change is compared with. Its words are split as citebot splits
/// them (Chinese, Japanese and Korean into pairs of characters, as Lucene's CJK
/// analyzer does): split only at spaces and punctuation, a Chinese clause would
/// be one word and the baseline a straw man.
struct Bm25 {
    index: Index,
    reader: tantivy::IndexReader,
    field: tantivy::schema::Field,
    ord: tantivy::schema::Field,
}

impl Bm25 {
    fn analyzer() -> TextAnalyzer {
        TextAnalyzer::builder(crate::search::analyzer::WordTokenizer::default())
            .filter(RemoveLongFilter::limit(40))
            .filter(LowerCaser)
            .filter(Stemmer::new(tantivy::tokenizer::Language::English))
            .build()
    }

    fn new(snippets: &[&Snippet]) -> Result<Bm25, SearchError> {
        let mut b = Schema::builder();
        let opts = TEXT.set_indexing_options(
            tantivy::schema::TextFieldIndexing::default()
                .set_tokenizer("plain")
                .set_index_option(IndexRecordOption::WithFreqs),
        );
        let field = b.add_text_field("text", opts);
        let ord = b.add_u64_field("ord", STORED);
        let index = Index::create_in_ram(b.build());
        index.tokenizers().register("plain", Self::analyzer());
        let mut writer = index.writer_with_num_threads(1, 50_000_000)?;
        for (i, s) in snippets.iter().enumerate() {
            let mut doc = TantivyDocument::default();
            doc.add_text(
                field,
                format!("{}\n{}\n{}", s.page.title, s.heading, s.text),
            );
            doc.add_u64(ord, i as u64);
            writer.add_document(doc)?;
        }
        writer.commit()?;
        let reader = index.reader()?;
        Ok(Bm25 {
            index,
            reader,
            field,
            ord,
        })
    }

    /// Indexes of the best `n` passages for `question`.
    fn search(&self, question: &str, n: usize) -> Result<Vec<usize>, SearchError> {
        let mut analyzer = self
            .index
            .tokenizers()
            .get("plain")
            .unwrap_or_else(Self::analyzer);
        let mut stream = analyzer.token_stream(question);
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        while let Some(t) = stream.next() {
            let term = tantivy::Term::from_field_text(self.field, &t.text);
            clauses.push((
                Occur::Should,
                Box::new(TermQuery::new(term, IndexRecordOption::WithFreqs)),
            ));
        }
        if clauses.is_empty() {
            return Ok(Vec::new());
        }
        let searcher = self.reader.searcher();
        let hits = searcher.search(
            &BooleanQuery::new(clauses),
            &TopDocs::with_limit(n).order_by_score(),
        )?;
        let mut out = Vec::new();
        for (_, addr) in hits {
            let doc: TantivyDocument = searcher.doc(addr)?;
            if let Some(i) = doc.get_first(self.ord).and_then(|v| v.as_u64()) {
                out.push(i as usize);
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(
        expect: &[&str],
        file: Option<&str>,
        heading: Option<&str>,
        line: Option<usize>,
    ) -> Question {
        Question {
            text: "q".into(),
            expect: expect.iter().map(|s| s.to_string()).collect(),
            kind: "plain".into(),
            file: file.map(Into::into),
            heading: heading.map(Into::into),
            line,
            context: Vec::new(),
        }
    }

    #[test]
    fn the_right_passage_is_judged_by_place_when_given_else_by_text() {
        let p = Cited {
            text: "Set max_upload_size to 50M.",
            file: "docs/usage/config.md",
            title: "Configuration",
            heading: "Media › max_upload_size",
            line: 40,
        };
        let table = [
            (q(&["50M"], None, None, None), true),
            (q(&["100M"], None, None, None), false),
            (
                q(
                    &["x"],
                    Some("usage/config.md"),
                    Some("max_upload_size"),
                    None,
                ),
                true,
            ),
            (
                q(&["x"], Some("usage/config.md"), Some("Media"), None),
                false,
            ),
            (
                q(&["x"], Some("config.md"), Some("max_upload_size"), None),
                false,
            ),
            (q(&[], Some("usage/config.md"), None, Some(40)), true),
            (q(&[], Some("usage/config.md"), None, Some(41)), false),
        ];
        for (question, want) in table {
            assert_eq!(right(&question, &p), want, "{question:?}");
        }
        let top = Cited { heading: "", ..p };
        assert!(right(
            &q(&["x"], Some("usage/config.md"), Some("Configuration"), None),
            &top
        ));
    }

    #[test]
    fn citebot_and_bm25_are_scored_on_the_same_passages() {
        let dir = tempfile::tempdir().unwrap();
        let k = dir.path().join("kb");
        std::fs::create_dir_all(&k).unwrap();
        std::fs::write(
            k.join("zoo.md"),
            "# Zoo\n\n## Feeding\n\nThe snow leopards are fed at noon every day.\n\n## Opening\n\nThe zoo opens at nine in the morning.\n",
        )
        .unwrap();
        let questions = vec![
            Question {
                text: "When are the snow leopards fed?".into(),
                expect: vec!["noon".into()],
                kind: "plain".into(),
                file: Some("zoo.md".into()),
                heading: Some("Feeding".into()),
                line: None,
                context: Vec::new(),
            },
            Question {
                text: "What is the capital of Peru?".into(),
                expect: vec![],
                kind: "out-of-scope".into(),
                file: None,
                heading: None,
                line: None,
                context: Vec::new(),
            },
        ];
        let r = run(&k, &questions, SemanticModel::Off).unwrap();
        assert_eq!(r.passages, 2);
        assert_eq!(
            (r.citebot.answerable, r.citebot.top1, r.citebot.answer),
            (1, 1, 1)
        );
        assert_eq!(r.citebot.out_of_scope_refused, 1);
        assert_eq!((r.bm25.answerable, r.bm25.top1), (1, 1));
        assert_eq!(r.bm25.out_of_scope, 1);
        assert!(r.misses.is_empty(), "{:?}", r.misses);
        // The precision / share-answered curve over other bars.
        assert_eq!(r.bars.len(), 7);
        assert_eq!((r.bars[0].answered, r.bars[0].precision), (1.0, 1.0));
        assert!(r.bars.iter().all(|b| b.unanswerable_refused.is_none()));
        assert!(r.bars.iter().all(|b| b.out_of_scope_refused == Some(1.0)));
    }
}
