//! Candidate retrieval: the tantivy query that picks the passages worth
//! re-scoring for a question.

use tantivy::DocAddress;
use tantivy::Term as IndexTerm;
use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, BoostQuery, Occur, Query, TermQuery};
use tantivy::schema::{Field, IndexRecordOption};

use super::index::{SearchError, Snapshot};
use super::question::{Question, Unit};
use super::scope::collection_filter;

/// How many BM25 candidates are re-scored.
const CANDIDATES: usize = 24;
/// Most units of a question in the candidate query.
const MAX_QUERY_UNITS: usize = 32;

/// The best BM25 candidates for `q` within `collections` (`None`: all), best
/// first: (score, address). None when nothing of the question is in the index.
pub(super) fn candidates(
    snapshot: &Snapshot,
    q: &Question,
    collections: Option<&[String]>,
) -> Result<Vec<(f32, DocAddress)>, SearchError> {
    if q.units.iter().all(|u| !u.known && u.prefix.is_none()) {
        return Ok(Vec::new());
    }
    let query = tantivy_query(snapshot, q, collections);
    Ok(snapshot
        .searcher
        .search(&*query, &TopDocs::with_limit(CANDIDATES).order_by_score())?)
}

/// The candidate query: a flat union of boosted term queries, which tantivy
/// answers with block-max WAND (it skips whole blocks of documents that cannot
/// reach the top), so a common word in the question does not mean scoring most
/// of a large index. Phrases are represented by their rarest word and word
/// proximity is left out here: both are judged exactly when candidates are
/// re-scored by coverage and by their best sentence.
fn tantivy_query(
    snapshot: &Snapshot,
    q: &Question,
    collections: Option<&[String]>,
) -> Box<dyn Query> {
    let f = snapshot.store.fields;
    let df = |field: Field, t: &str| {
        snapshot
            .searcher
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
            (Occur::Must, collection_filter(snapshot, cols)),
        ])),
    }
}
