//! The documents of a set of collections, as bits per segment, and each
//! snapshot's memo of them: what a room's counts are counted within.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tantivy::Term as IndexTerm;
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{BitSet, DocSet, Searcher, TERMINATED};

/// The live documents of some collections, segment by segment: a term's count
/// within them is a walk of its posting list against these bits, where a
/// search intersecting the term with the collections' own posting lists cost
/// several times as much (measured: it was the tail of a limited room's
/// latency at 100,000 passages).
pub(crate) struct Members {
    by_segment: Vec<BitSet>,
    /// How many they are.
    pub(crate) docs: u64,
}

impl Members {
    fn of(searcher: &Searcher, field: Field, collections: &[String]) -> tantivy::Result<Self> {
        let mut by_segment = Vec::with_capacity(searcher.segment_readers().len());
        let mut docs = 0;
        for reader in searcher.segment_readers() {
            let mut bits = BitSet::with_max_value(reader.max_doc());
            let inverted = reader.inverted_index(field)?;
            for c in collections {
                let term = IndexTerm::from_field_text(field, c);
                let Some(mut postings) = inverted.read_postings(&term, IndexRecordOption::Basic)?
                else {
                    continue;
                };
                let mut doc = postings.doc();
                while doc != TERMINATED {
                    if reader.alive_bitset().is_none_or(|a| a.is_alive(doc)) {
                        bits.insert(doc);
                    }
                    doc = postings.advance();
                }
            }
            docs += bits.len() as u64;
            by_segment.push(bits);
        }
        Ok(Members { by_segment, docs })
    }

    /// How many of these documents hold `term`.
    pub(crate) fn holding(&self, searcher: &Searcher, term: &IndexTerm) -> u64 {
        let mut n = 0;
        for (reader, bits) in searcher.segment_readers().iter().zip(&self.by_segment) {
            let Ok(inverted) = reader.inverted_index(term.field()) else {
                continue;
            };
            let Ok(Some(mut block)) = inverted.read_block_postings(term, IndexRecordOption::Basic)
            else {
                continue;
            };
            while !block.docs().is_empty() {
                n += block.docs().iter().filter(|&&d| bits.contains(d)).count() as u64;
                block.advance();
            }
        }
        n
    }
}

/// Each collection set's [`Members`] in one snapshot, made on a room's first
/// question: every question of that room counts within the same documents.
#[derive(Default)]
pub(crate) struct Scopes(Mutex<HashMap<Vec<String>, Arc<Members>>>);

/// Most collection sets remembered per snapshot (each is a bit per passage).
const MAX_SCOPES: usize = 64;

impl Scopes {
    /// The documents of `collections` (the `collection` field's terms).
    pub(crate) fn members(
        &self,
        searcher: &Searcher,
        field: Field,
        collections: &[String],
    ) -> tantivy::Result<Arc<Members>> {
        let mut key = collections.to_vec();
        key.sort();
        key.dedup();
        if let Some(m) = self.0.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
            return Ok(Arc::clone(m));
        }
        let made = Arc::new(Members::of(searcher, field, &key)?);
        let mut known = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if known.len() >= MAX_SCOPES {
            known.clear();
        }
        known.insert(key, Arc::clone(&made));
        Ok(made)
    }
}
