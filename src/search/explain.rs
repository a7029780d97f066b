//! Why the engine answered as it did (`!why`, `citebot ask --why`): the question
//! as analysed, the confidence and its figures, and each candidate's scores.

use serde::Serialize;

use super::index::{SearchError, Snapshot};
use super::question::{Question, QuestionCut};
use super::rank::{Confidence, Judged};

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

impl Snapshot {
    /// The figures behind an answer, over `collections` (`None`: all).
    pub fn explain(
        &self,
        question: &str,
        context: &[String],
        n: usize,
        collections: Option<&[String]>,
        bar: f32,
        semantic: Option<&super::semantic::Semantic>,
    ) -> Result<Explanation, SearchError> {
        let Judged {
            question: q,
            ranked,
            confidence,
            answered,
        } = self.judge(question, context, collections, bar, semantic)?;
        let mut q = q;
        if collections.is_some() {
            // The knowledge folder's synonyms file serves every collection: a
            // room limited to some is shown only the synonyms its own passages
            // hold, not another collection's terms (a codename and what it
            // stands for).
            for u in &mut q.units {
                u.variants
                    .retain(|v| v.kind != super::question::VariantKind::Synonym || v.doc_freq > 0);
            }
        }
        let passages = ranked
            .iter()
            .take(n)
            .map(|s| ExplainedPassage {
                id: s.snippet.id.clone(),
                title: s.snippet.page.title.clone(),
                heading: s.snippet.heading.to_string(),
                bm25: s.bm25,
                coverage: s.coverage,
                score: s.score,
                matched: s.matched(&q).map(|(_, u)| u.text.clone()).collect(),
                sentence: s.sentence_text(),
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

/// "title › heading", or the title alone for a passage before any heading: how
/// a passage's place is named everywhere (citations, `!why`, closest topics).
pub fn topic(title: &str, heading: &str) -> String {
    if heading.is_empty() {
        title.to_string()
    } else {
        format!("{title} › {heading}")
    }
}
