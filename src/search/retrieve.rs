//! Candidate retrieval: the tantivy query that picks the passages worth
//! re-scoring for a question.

use tantivy::Term as IndexTerm;
use tantivy::collector::TopDocs;
use tantivy::query::{Bm25StatisticsProvider, BooleanQuery, BoostQuery, Occur, Query, TermQuery};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{DocAddress, Searcher};

use super::index::{SearchError, Snapshot};
use super::members::{Members, TopInScope};
use super::question::{CONTEXT_WEIGHT, Question, Unit};
use super::scope::Counts;

/// How many BM25 candidates are re-scored.
const CANDIDATES: usize = 24;
/// Most units of a question in the candidate query.
const MAX_QUERY_UNITS: usize = 32;
/// A weak prefix clause shared by more passages than this is left out of the
/// candidate query: five letters that many passages begin a word with say
/// little about which two dozen to re-score, and scoring their posting list
/// was the whole tail of the latency at a million passages (profiled: the
/// term scorer of this one clause). Re-scoring still credits prefixes.
const MAX_PREFIX_DOCS: u64 = 5_000;
/// A unit whose words are each in more passages than this (and than a tenth of
/// the index) is left out of the candidate query when the question has rarer
/// ones: its BM25 weight is a small part of any candidate's score, yet
/// block-max WAND must walk its posting list, which made the latency tail at
/// a million passages (profiled). Re-scoring still weighs it; an index this
/// size is needed before any word is left out.
const COMMON_MIN_DOCS: u64 = 50_000;

/// The best BM25 candidates for `q` within the collections `counts` counts in,
/// best first: (score, address). None when nothing of the question is in the
/// index.
pub(super) fn candidates(
    snapshot: &Snapshot,
    q: &Question,
    counts: &Counts<'_>,
) -> Result<Vec<(f32, DocAddress)>, SearchError> {
    if q.units.iter().all(|u| !u.known && u.prefix.is_none()) {
        return Ok(Vec::new());
    }
    let scoped = counts.members().map(|members| ScopedStats {
        counts,
        searcher: &snapshot.searcher,
        members,
    });
    if scoped.as_ref().is_some_and(|s| s.counts.docs() == 0) {
        return Ok(Vec::new());
    }
    let stats = Stats(snapshot, scoped.as_ref());
    let query = tantivy_query(&stats, q);
    // Equal scores are common (the rows of one table, pages repeating a
    // paragraph); ordered by document address they would change with every
    // build, and so would which of them are re-scored. So every passage tied
    // with the last candidate is fetched (a second search, only then), and
    // ties are ordered by content.
    let search = |limit: usize| -> Result<Vec<(f32, DocAddress)>, SearchError> {
        let mut hits = match &scoped {
            // Within some collections: their own statistics, and only their
            // documents kept.
            Some(s) => {
                let top = TopInScope {
                    limit,
                    members: s.members.clone(),
                };
                snapshot
                    .searcher
                    .search_with_statistics_provider(&*query, &top, s)?
            }
            None => {
                let top = TopDocs::with_limit(limit).order_by_score();
                snapshot.searcher.search(&*query, &top)?
            }
        };
        for hit in &mut hits {
            hit.0 = steady(hit.0);
        }
        Ok(hits)
    };
    let limit = CANDIDATES + TIE_MARGIN;
    let mut hits = search(limit)?;
    if hits.len() == limit && hits[limit - 1].0 == hits[CANDIDATES - 1].0 {
        hits = search(MAX_TIED)?;
    }
    let mut keyed: Vec<(f32, u64, DocAddress)> = hits
        .into_iter()
        .map(|(score, addr)| (score, snapshot.doc_key(addr).unwrap_or(u64::MAX), addr))
        .collect();
    keyed.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    keyed.truncate(CANDIDATES);
    Ok(keyed
        .into_iter()
        .map(|(score, _, addr)| (score, addr))
        .collect())
}

/// Document frequencies for the candidate query: the whole index's, or those
/// of the collections a room sees.
struct Stats<'a, 's>(&'a Snapshot, Option<&'a ScopedStats<'a, 's>>);

impl Stats<'_, '_> {
    fn df(&self, field: Field, term: &str) -> u64 {
        let t = IndexTerm::from_field_text(field, term);
        match self.1 {
            Some(scoped) => scoped.counts.index_term(t),
            None => self.0.searcher.doc_freq(&t).unwrap_or(0),
        }
    }

    /// Documents in scope.
    fn docs(&self) -> u64 {
        match self.1 {
            Some(scoped) => scoped.counts.docs(),
            None => self.0.searcher.num_docs(),
        }
    }
}

/// BM25's statistics over the collections a room sees, so that what other
/// collections hold moves none of the room's passages up or down (nor do
/// deleted pages, which tantivy's statistics count until their segment is
/// merged): documents, terms' counts and the average passage length, all
/// within the room's collections.
struct ScopedStats<'c, 's> {
    counts: &'c Counts<'s>,
    searcher: &'s Searcher,
    /// The documents in scope.
    members: &'c std::sync::Arc<Members>,
}

impl Bm25StatisticsProvider for ScopedStats<'_, '_> {
    fn total_num_tokens(&self, field: Field) -> tantivy::Result<u64> {
        // Never 0 where the room has documents: a zero average length would
        // make every term of the field score nothing.
        let n = self.members.tokens(self.searcher, field)?;
        Ok(if self.members.docs > 0 { n.max(1) } else { n })
    }

    fn total_num_docs(&self) -> tantivy::Result<u64> {
        Ok(self.counts.docs())
    }

    fn doc_freq(&self, term: &IndexTerm) -> tantivy::Result<u64> {
        Ok(self.counts.index_term(term.clone()))
    }
}

/// Candidates fetched beyond [`CANDIDATES`], so that passages tied at the
/// cut are chosen by their content, not by where indexing put them.
const TIE_MARGIN: usize = 8;
/// Most passages fetched to find every one tied at the cut: past this many
/// equal scores, which of them are re-scored follows the index's order.
const MAX_TIED: usize = 2048;

/// A BM25 score without its last bits: tantivy sums a passage's term scores
/// in an order that follows its segment's posting lists, so one passage
/// scores a few ulps apart from one build to the next, which was enough to
/// reorder passages that tie (measured: the same question's fourth passage
/// differed between two runs of the same binary over the same files). Two
/// such scores still round apart when they straddle a step, about once in
/// a hundred ties at the step chosen, so a tie is steady nearly always, not
/// always.
fn steady(score: f32) -> f32 {
    const STEP: f32 = 1.0 / 4096.0;
    (score / STEP).round() * STEP
}

/// The units that pick candidates: not the very common ones when the question
/// has rarer words (see [`COMMON_MIN_DOCS`]), and only the weightiest
/// [`MAX_QUERY_UNITS`]: tantivy's union of term queries costs about the square
/// of the number of terms, and the rarest words of a long question are the ones
/// that tell passages apart (re-scoring still weighs every unit).
///
/// Both are counted within the room's collections: counted in the whole index,
/// what other collections hold would decide which of the room's passages are
/// found (a word common only elsewhere left out of its query).
fn query_units<'q>(stats: &Stats, q: &'q Question) -> Vec<&'q Unit> {
    let body = stats.0.store.fields.body;
    let df = |t: &str| stats.df(body, t);
    let common_above = COMMON_MIN_DOCS.max(stats.docs() / 10);
    let rarest_df = |u: &Unit| {
        u.variants
            .iter()
            .filter(|v| v.doc_freq > 0)
            .filter_map(|v| v.terms.iter().map(|t| df(t)).min())
            .min()
    };
    let mut units: Vec<&Unit> = q.units.iter().collect();
    let rare: Vec<&Unit> = units
        .iter()
        .copied()
        .filter(|u| rarest_df(u).is_none_or(|n| n <= common_above))
        .collect();
    if rare.iter().any(|u| u.known) {
        units = rare;
    }
    if units.len() > MAX_QUERY_UNITS {
        units.sort_by(|a, b| b.weight.total_cmp(&a.weight));
        units.truncate(MAX_QUERY_UNITS);
    }
    units
}

/// The candidate query: a flat union of boosted term queries, which tantivy
/// answers with block-max WAND (it skips whole blocks of documents that cannot
/// reach the top), so a common word in the question does not mean scoring most
/// of a large index. Phrases are represented by their rarest word and word
/// proximity is left out here: both are judged exactly when candidates are
/// re-scored by coverage and by their best sentence.
fn tantivy_query(stats: &Stats, q: &Question) -> Box<dyn Query> {
    let snapshot = stats.0;
    let f = snapshot.store.fields;
    let df = |field: Field, t: &str| stats.df(field, t);
    let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    let mut add = |field: Field, term: &str, boost: f32| {
        let t = TermQuery::new(
            IndexTerm::from_field_text(field, term),
            IndexRecordOption::WithFreqs,
        );
        clauses.push((Occur::Should, Box::new(BoostQuery::new(Box::new(t), boost))));
    };
    for u in query_units(stats, q) {
        // The variants of a unit share its weight: a passage saying "Emperor
        // Naruhito" should not count as three times as relevant to "emperor".
        let live = u.variants.iter().filter(|v| v.doc_freq > 0).count().max(1) as f32;
        // A concept carried over from an earlier question weighs less (by
        // CONTEXT_WEIGHT alone: the cap on them all is the re-scoring's, and
        // the candidates are many more than the passages shown).
        let carried = if u.context > 0 { CONTEXT_WEIGHT } else { 1.0 };
        let share = carried / live.sqrt();
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
        // itself did not (re-scoring still credits prefixes). Counted within
        // the room's collections, as the common words are.
        if let Some(p) = u.prefix.as_ref().filter(|_| !u.known)
            && stats.df(f.prefix, p) <= MAX_PREFIX_DOCS
        {
            add(f.prefix, p, 0.3);
        }
    }
    Box::new(BooleanQuery::new(clauses))
}
