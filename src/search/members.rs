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
    /// Terms' counts within them, kept for the snapshot's life: a room's
    /// questions share their common words, whose posting lists are the
    /// longest to walk.
    counted: Mutex<rustc_hash::FxHashMap<IndexTerm, u64>>,
    /// Their tokens in each field, summed once (BM25's average length).
    tokens: Mutex<HashMap<Field, u64>>,
}

/// Most terms' counts a [`Members`] keeps before it starts afresh: a term and
/// its count take about 100 bytes, so at most 2 MB a collection set and 128 MB
/// for all of a snapshot's ([`MAX_SCOPES`]); a question asks for some tens.
const MAX_COUNTED: usize = 20_000;

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
        Ok(Members {
            by_segment,
            docs,
            counted: Mutex::default(),
            tokens: Mutex::default(),
        })
    }

    /// How many tokens these documents hold in `field`, by the lengths the
    /// index keeps for scoring: BM25's average passage length within them,
    /// which what other collections hold must not move.
    pub(crate) fn tokens(&self, searcher: &Searcher, field: Field) -> tantivy::Result<u64> {
        let mut memo = self.tokens.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(&n) = memo.get(&field) {
            return Ok(n);
        }
        let mut n = 0u64;
        for (reader, bits) in searcher.segment_readers().iter().zip(&self.by_segment) {
            let norms = reader.get_fieldnorms_reader(field)?;
            n += (0..reader.max_doc())
                .filter(|&d| bits.contains(d))
                .map(|d| u64::from(norms.fieldnorm(d)))
                .sum::<u64>();
        }
        memo.insert(field, n);
        Ok(n)
    }

    /// How many of these documents hold `term`.
    pub(crate) fn holding(&self, searcher: &Searcher, term: &IndexTerm) -> u64 {
        if let Some(&n) = self.counted().get(term) {
            return n;
        }
        let n = self.count(searcher, term);
        let mut counted = self.counted();
        if counted.len() >= MAX_COUNTED {
            counted.clear();
        }
        counted.insert(term.clone(), n);
        n
    }

    fn counted(&self) -> std::sync::MutexGuard<'_, rustc_hash::FxHashMap<IndexTerm, u64>> {
        // A count is written whole or not at all: a panic elsewhere leaves
        // nothing half-done to guard against.
        self.counted.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// [`Members::holding`], walked.
    fn count(&self, searcher: &Searcher, term: &IndexTerm) -> u64 {
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

/// The best `limit` documents by score among [`Members`]: tantivy's top-score
/// search (block-max WAND: it skips blocks of documents that cannot beat the
/// worst kept) with a document outside the members never kept, so they never
/// raise the bar. A search intersecting the query with the collections'
/// filter scored every document of every query term instead, which made a
/// limited room's questions take half as long again at 100,000 passages
/// (p50 700 µs against 472 µs unlimited). Its own heap rather than tantivy's
/// `TopNComputer`: that one raises its bar only each time its buffer of twice
/// `limit` fills, so the pruning would skip less; the order (score, then
/// earlier document) is `TopDocs`'s, which a test holds it to.
pub(crate) struct TopInScope {
    pub(crate) limit: usize,
    pub(crate) members: Arc<Members>,
}

/// One segment's best, kept by [`TopInScope`].
pub(crate) struct SegmentTop {
    limit: usize,
    members: Arc<Members>,
    segment: usize,
    /// Worst first: the bar to beat is on top.
    kept: std::collections::BinaryHeap<std::cmp::Reverse<Ranked>>,
}

/// A document and its score, ordered by score, then earlier document first.
#[derive(PartialEq)]
struct Ranked(tantivy::Score, tantivy::DocId);

impl Eq for Ranked {}

impl PartialOrd for Ranked {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Ranked {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0
            .total_cmp(&other.0)
            .then_with(|| other.1.cmp(&self.1))
    }
}

impl SegmentTop {
    /// Keeps `doc` when it is a member and among the best; the score the next
    /// one must beat.
    fn offer(&mut self, doc: tantivy::DocId, score: tantivy::Score) -> tantivy::Score {
        let member = self
            .members
            .by_segment
            .get(self.segment)
            .is_some_and(|b| b.contains(doc));
        if member {
            self.kept.push(std::cmp::Reverse(Ranked(score, doc)));
            if self.kept.len() > self.limit {
                self.kept.pop();
            }
        }
        match self.kept.peek() {
            Some(worst) if self.kept.len() == self.limit => worst.0.0,
            _ => tantivy::Score::MIN,
        }
    }
}

impl tantivy::collector::SegmentCollector for SegmentTop {
    type Fruit = Vec<(tantivy::Score, tantivy::DocAddress)>;

    fn collect(&mut self, doc: tantivy::DocId, score: tantivy::Score) {
        self.offer(doc, score);
    }

    fn harvest(self) -> Self::Fruit {
        let segment = self.segment as u32;
        self.kept
            .into_iter()
            .map(|r| (r.0.0, tantivy::DocAddress::new(segment, r.0.1)))
            .collect()
    }
}

impl tantivy::collector::Collector for TopInScope {
    type Fruit = Vec<(tantivy::Score, tantivy::DocAddress)>;
    type Child = SegmentTop;

    fn for_segment(
        &self,
        segment: tantivy::SegmentOrdinal,
        _reader: &tantivy::SegmentReader,
    ) -> tantivy::Result<SegmentTop> {
        Ok(SegmentTop {
            limit: self.limit.max(1),
            members: self.members.clone(),
            segment: segment as usize,
            kept: std::collections::BinaryHeap::new(),
        })
    }

    fn requires_scoring(&self) -> bool {
        true
    }

    fn merge_fruits(&self, fruits: Vec<Self::Fruit>) -> tantivy::Result<Self::Fruit> {
        let mut all: Self::Fruit = fruits.into_iter().flatten().collect();
        all.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
        all.truncate(self.limit);
        Ok(all)
    }

    fn collect_segment(
        &self,
        weight: &dyn tantivy::query::Weight,
        segment: tantivy::SegmentOrdinal,
        reader: &tantivy::SegmentReader,
    ) -> tantivy::Result<Self::Fruit> {
        use tantivy::collector::SegmentCollector;
        let mut top = self.for_segment(segment, reader)?;
        // Members are live documents only: the deleted are never kept.
        weight.for_each_pruning(tantivy::Score::MIN, reader, &mut |doc, score| {
            top.offer(doc, score)
        })?;
        Ok(top.harvest())
    }
}
