//! What part of the index a question may see: the collection filter, and document
//! counts within it.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;

use tantivy::Term as IndexTerm;
use tantivy::collector::Count;
use tantivy::query::{BooleanQuery, ConstScoreQuery, Occur, Query, TermQuery};
use tantivy::schema::{Field, IndexRecordOption};

use super::index::{SearchError, Snapshot};
use super::members::Members;

/// Matches every document of `collections`, scoring nothing: a filter must not
/// change how candidates rank against each other.
pub(super) fn collection_filter(snapshot: &Snapshot, collections: &[String]) -> Box<dyn Query> {
    let f = snapshot.store.fields;
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

/// Document counts over the part of the index a question may see. Where that is
/// all of it, tantivy's term statistics; otherwise each count is limited to the
/// allowed collections' documents ([`Members`]), so a room mapped to some
/// collections is never told (through a weight, a count in `!why` or a typo
/// correction) what the others hold. Those counts are remembered by the
/// collections' [`Members`] for the snapshot's life; the few counted by a
/// search (the whole index, where deleted documents may be all that hold a
/// term) for the question's, whose candidate query asks for the same terms
/// several times.
pub(crate) struct Counts<'s> {
    snapshot: &'s Snapshot,
    /// Matches the allowed collections' documents; `None`: the whole index.
    filter: Option<Box<dyn Query>>,
    /// The same documents, segment by segment, for counting a term's.
    members: Option<Arc<Members>>,
    /// The collections in scope; `None`: all.
    collections: Option<Vec<String>>,
    docs: u64,
    /// Deleted documents the index still holds (until their segment is
    /// merged): tantivy's term statistics count them.
    deleted: u64,
    memo: RefCell<HashMap<IndexTerm, u64>>,
}

impl<'s> Counts<'s> {
    pub(crate) fn new(
        snapshot: &'s Snapshot,
        collections: Option<&[String]>,
    ) -> Result<Self, SearchError> {
        let all = snapshot.searcher.num_docs();
        let deleted = (snapshot.searcher.segment_readers().iter())
            .map(|r| u64::from(r.num_deleted_docs()))
            .sum();
        let Some(cols) = collections else {
            return Ok(Counts {
                snapshot,
                filter: None,
                members: None,
                collections: None,
                docs: all,
                deleted,
                memo: RefCell::default(),
            });
        };
        let members =
            snapshot
                .scopes
                .members(&snapshot.searcher, snapshot.store.fields.collection, cols)?;
        let docs = members.docs;
        // A scope that holds every document counts exactly as the whole index.
        let scoped = docs < all;
        Ok(Counts {
            snapshot,
            filter: scoped.then(|| collection_filter(snapshot, cols)),
            members: scoped.then_some(members),
            collections: Some(cols.to_vec()),
            docs,
            deleted,
            memo: RefCell::default(),
        })
    }

    /// The documents in scope, when counts are limited to some collections
    /// that are not the whole index.
    pub(crate) fn members(&self) -> Option<&Arc<Members>> {
        self.members.as_ref()
    }

    /// The collections in scope (`None`: all), which also choose the synonyms
    /// that serve a question: a collection's own serve only rooms that see it.
    pub(crate) fn collections(&self) -> Option<&[String]> {
        self.collections.as_deref()
    }

    /// Documents in scope.
    pub(crate) fn docs(&self) -> u64 {
        self.docs
    }

    /// Documents in scope whose `field` holds `term`.
    pub(crate) fn term(&self, field: Field, term: &str) -> u64 {
        self.index_term(IndexTerm::from_field_text(field, term))
    }

    /// Documents in scope that hold `t`.
    pub(crate) fn index_term(&self, t: IndexTerm) -> u64 {
        let global = self.snapshot.searcher.doc_freq(&t).unwrap_or(0);
        // Over the whole index the dictionary's count stands, unless deleted
        // documents could be all that hold the term: then a page just deleted
        // would still lend its words to typo corrections and known words.
        if global == 0 || (self.filter.is_none() && global > self.deleted) {
            return global;
        }
        // Within some collections, their members keep the counts.
        if let Some(members) = &self.members {
            return members.holding(&self.snapshot.searcher, &t);
        }
        if let Some(&n) = self.memo.borrow().get(&t) {
            return n;
        }
        let n = self.matching(Box::new(TermQuery::new(
            t.clone(),
            IndexRecordOption::Basic,
        )));
        self.memo.borrow_mut().insert(t, n);
        n
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
