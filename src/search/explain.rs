//! Why the engine answered as it did (`!why`, `citebot ask --why`): the question
//! as analysed, the confidence and its figures, and each candidate's scores.

use std::fmt;

use serde::Serialize;

use super::index::{SearchError, Snapshot};
use super::question::{Question, QuestionCut};
use super::rank::{Confidence, confidence, unit_match};

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
    pub cut: Option<QuestionCut>,
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

impl Snapshot {
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

/// "title › heading", or the title alone for a passage before any heading.
pub(super) fn topic(title: &str, heading: &str) -> String {
    if heading.is_empty() {
        title.to_string()
    } else {
        format!("{title} › {heading}")
    }
}
