//! The tantivy index: schema, building it from a [`KnowledgeBase`], deciding when
//! the on-disk copy is stale, and the point-in-time [`Snapshot`] questions run on.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use tantivy::columnar::Column;
use tantivy::directory::MmapDirectory;
use tantivy::schema::{
    FAST, Field, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions, Value,
};
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, Searcher, TantivyDocument};

use super::acronyms;
use super::analyzer;
use super::synonyms::Synonyms;
use crate::knowledge::{FileInfo, KnowledgeBase, KnowledgeError, Snippet, SynonymSet};

/// Bumped whenever the schema, the analyzers or the cut into passages change,
/// so old indexes rebuild.
const FORMAT: u32 = 11;

/// tantivy's indexing memory per thread: it flushes a segment when full, so a
/// generous budget means fewer, larger segments to write and merge. It is a
/// ceiling, used only while a large folder is (re)indexed.
const WRITER_MEMORY_PER_THREAD: usize = 200_000_000;

/// Errors of the search core.
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error("cannot read the knowledge folder {}", dir.display())]
    Knowledge {
        dir: PathBuf,
        source: std::io::Error,
    },
    #[error("index at {}", dir.display())]
    Index {
        dir: PathBuf,
        source: tantivy::TantivyError,
    },
    #[error("cannot create the index folder {}", dir.display())]
    IndexDir {
        dir: PathBuf,
        source: std::io::Error,
    },
    #[error("search failed")]
    Search(#[from] tantivy::TantivyError),
    #[error("stored snippet {0} is unreadable")]
    Corrupt(String),
    #[error(transparent)]
    Model(#[from] super::semantic::ModelError),
}

impl SearchError {
    /// Whether this is the index's own files failing (deleted, truncated, garbled):
    /// the index is derived data, so rebuilding it from the knowledge files cures it.
    pub fn is_index_damage(&self) -> bool {
        matches!(
            self,
            SearchError::Index { .. } | SearchError::Search(_) | SearchError::Corrupt(_)
        )
    }
}

/// Index size and age, for `!stats` and `citebot status`.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct IndexStats {
    pub snippets: usize,
    pub files: usize,
    /// The whole index's size; `None` in a view of some collections only,
    /// which must not hint at how much else there is.
    pub size_bytes: Option<u64>,
    /// RFC 3339 time the index was built.
    pub built_at: String,
}

/// What a commit records about the files it indexed: enough to update the index
/// file by file, and to keep serving the last good version of a file that broke.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
struct Payload {
    format: u32,
    /// [`KnowledgeBase::hash`] of the folder this commit was synced with.
    hash: String,
    built_at: String,
    /// Each indexed file's content hash and description.
    files: BTreeMap<String, IndexedFile>,
    /// The synonyms in force (each file's last good groups), by file.
    synonyms: BTreeMap<String, SynonymSet>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
struct IndexedFile {
    hash: String,
    info: FileInfo,
}

/// The index's fields.
#[derive(Debug, Clone, Copy)]
pub struct Fields {
    pub id: Field,
    pub file: Field,
    pub collection: Field,
    pub title: Field,
    pub heading: Field,
    pub tags: Field,
    pub body: Field,
    pub prefix: Field,
    /// The whole snippet as JSON, stored only.
    pub stored: Field,
    /// [`snippet_key`] of the snippet, to find it in memory rather than in the store.
    pub key: Field,
}

fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let positions = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(analyzer::STEMMED)
            .set_index_option(IndexRecordOption::WithFreqsAndPositions),
    );
    let prefix = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(analyzer::PREFIX)
            .set_index_option(IndexRecordOption::WithFreqs),
    );
    let fields = Fields {
        id: b.add_text_field("id", STRING),
        file: b.add_text_field("file", STRING),
        collection: b.add_text_field("collection", STRING),
        title: b.add_text_field("title", positions.clone()),
        heading: b.add_text_field("heading", positions.clone()),
        tags: b.add_text_field("tags", positions.clone()),
        body: b.add_text_field("body", positions),
        prefix: b.add_text_field("prefix", prefix),
        stored: b.add_text_field("snippet", STORED),
        key: b.add_u64_field("key", FAST),
    };
    (b.build(), fields)
}

/// The index handle: one per engine, shared by every snapshot.
pub struct Store {
    index: Index,
    reader: IndexReader,
    pub fields: Fields,
    dir: Option<PathBuf>,
    /// The last snapshot's files and what was worked out from their snippets:
    /// the parse cache hands back an unchanged file's very snippets, so a
    /// refresh hashes and reads only what changed.
    key_cache: std::sync::Mutex<Vec<(Arc<[Snippet]>, Derived)>>,
}

/// What a snapshot works out from one file's snippets.
#[derive(Clone)]
struct Derived {
    /// Their [`snippet_key`]s.
    keys: Arc<[u64]>,
    /// The acronyms they spell out.
    acronyms: Arc<[acronyms::Definition]>,
}

impl Store {
    /// Opens the index in `dir` (creating it, or recreating it when its schema is
    /// from another version), or a fresh one in RAM when `dir` is `None`.
    pub fn open(dir: Option<&Path>) -> Result<Store, SearchError> {
        let (schema, fields) = schema();
        let index = match dir {
            None => Index::builder()
                .schema(schema)
                .settings(index_settings())
                .create_in_ram()
                .map_err(|e| index_err(None, e))?,
            Some(dir) => open_dir(dir, schema)?,
        };
        index
            .tokenizers()
            .register(analyzer::STEMMED, analyzer::stemmed());
        index
            .tokenizers()
            .register(analyzer::PREFIX, analyzer::prefix());
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()
            .map_err(|e| index_err(dir, e))?;
        Ok(Store {
            index,
            reader,
            fields,
            dir: dir.map(Path::to_path_buf),
            key_cache: Default::default(),
        })
    }

    /// Whether the on-disk index is whole: its `meta.json` reads, and every file
    /// of every segment it lists is there (always, in RAM).
    pub fn intact(&self) -> bool {
        let Some(dir) = &self.dir else { return true };
        let Ok(metas) = self.index.load_metas() else {
            return false;
        };
        use tantivy::index::SegmentComponent as C;
        metas.segments.iter().all(|segment| {
            let mut parts = vec![
                C::Postings,
                C::Terms,
                C::Store,
                C::FastFields,
                C::FieldNorms,
            ];
            if segment.has_deletes() {
                parts.push(C::Delete);
            }
            parts
                .into_iter()
                .all(|c| dir.join(segment.relative_path(c)).is_file())
        })
    }

    fn payload(&self) -> Option<Payload> {
        let metas = self.index.load_metas().ok()?;
        serde_json::from_str(metas.payload.as_deref()?).ok()
    }

    /// A snapshot of the index brought up to date with `kb`: unchanged files are left
    /// alone, changed, new and deleted files are updated in one commit, and a file
    /// that no longer parses keeps its last good version. `force` rebuilds everything.
    pub fn snapshot(
        self: &Arc<Self>,
        kb: KnowledgeBase,
        force: bool,
    ) -> Result<Snapshot, SearchError> {
        let current =
            |p: Option<Payload>| p.filter(|p| !force && p.hash == kb.hash && p.format == FORMAT);
        let payload = match current(self.payload()) {
            Some(p) => p,
            None => {
                let mut writer = self.writer()?;
                // Another process may have synced it while this one waited for the lock.
                match current(self.payload()) {
                    Some(p) => p,
                    None => {
                        let previous = if force { None } else { self.payload() };
                        self.sync(&mut writer, &kb, previous)?
                    }
                }
            }
        };
        self.reader
            .reload()
            .map_err(|e| index_err(self.dir.as_deref(), e))?;
        Snapshot::new(self.clone(), self.reader.searcher(), payload, kb)
    }

    /// The index writer; waits (up to 30 s) while another process holds it, as two
    /// `citebot ask` started at once on a stale index would.
    fn writer(&self) -> Result<IndexWriter, SearchError> {
        let threads = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
            .min(4);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            match self
                .index
                .writer_with_num_threads(threads, WRITER_MEMORY_PER_THREAD * threads)
            {
                Err(tantivy::TantivyError::LockFailure(..))
                    if std::time::Instant::now() < deadline =>
                {
                    std::thread::sleep(std::time::Duration::from_millis(100));
                    let _ = self.index.load_metas();
                }
                other => return other.map_err(|e| index_err(self.dir.as_deref(), e)),
            }
        }
    }

    /// Writes `kb` into the index in one commit: everything when there is no usable
    /// `previous` commit, otherwise only the files whose content changed.
    fn sync(
        &self,
        writer: &mut IndexWriter,
        kb: &KnowledgeBase,
        previous: Option<Payload>,
    ) -> Result<Payload, SearchError> {
        let f = self.fields;
        let previous = previous.filter(|p| p.format == FORMAT);
        let mut synonyms = kb.synonyms.clone();
        let mut files = match &previous {
            None => {
                writer.delete_all_documents()?;
                BTreeMap::new()
            }
            Some(p) => {
                // A synonyms file that no longer parses keeps its last good groups.
                for file in &kb.synonyms_failed {
                    if let Some(set) = p.synonyms.get(file) {
                        synonyms.insert(file.clone(), set.clone());
                    }
                }
                p.files.clone()
            }
        };
        // Deleted files go; a file that no longer parses stays as it was.
        let gone: Vec<String> = files
            .keys()
            .filter(|k| !kb.file_hashes.contains_key(*k))
            .cloned()
            .collect();
        for file in gone {
            writer.delete_term(tantivy::Term::from_field_text(f.file, &file));
            files.remove(&file);
        }
        let mut to_add: Vec<&Snippet> = Vec::new();
        // Looked up, not scanned for each file: a folder of many bad files made
        // this files × problems.
        let bad: std::collections::HashSet<&str> =
            kb.errors.iter().map(|e| e.file.as_str()).collect();
        for (info, snippets) in kb.files.iter().zip(&kb.file_snippets) {
            let hash = kb.file_hashes.get(&info.file).cloned().unwrap_or_default();
            if files.get(&info.file).is_some_and(|old| old.hash == hash)
                || bad.contains(info.file.as_str())
            {
                continue;
            }
            if previous.is_some() {
                writer.delete_term(tantivy::Term::from_field_text(f.file, &info.file));
            }
            to_add.extend(snippets.iter());
            files.insert(
                info.file.clone(),
                IndexedFile {
                    hash,
                    info: info.clone(),
                },
            );
        }
        self.add_documents(writer, &to_add)?;
        let payload = Payload {
            format: FORMAT,
            hash: kb.hash.clone(),
            built_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            files,
            synonyms,
        };
        let mut commit = writer.prepare_commit()?;
        commit.set_payload(&serde_json::to_string(&payload).expect("payload serialises"));
        commit.commit()?;
        self.merge_if_due(writer, previous.is_none())?;
        Ok(payload)
    }

    /// Merges the index's segments after a commit when that is due. A full build
    /// leaves a segment per indexing thread (or more); every question pays per
    /// segment (term lookups, typo search), so merge them into one now rather
    /// than on every question for the index's lifetime. An update leaves the old
    /// versions of the files it changed as deleted documents, which tantivy's
    /// document counts (the weight of every word) still include until a merge:
    /// once they are more than a twentieth of the index, merge, so that an
    /// updated index weighs words, ranks and answers as a fresh build of the
    /// same files does (up to tantivy's rounding of long passages' lengths) —
    /// not differently for each history of edits (in a small knowledge folder,
    /// one edited file is that much).
    fn merge_if_due(&self, writer: &mut IndexWriter, full_build: bool) -> Result<(), SearchError> {
        let metas = self.index.searchable_segment_metas()?;
        let deleted: u64 = metas.iter().map(|m| u64::from(m.num_deleted_docs())).sum();
        let all: u64 = metas.iter().map(|m| u64::from(m.max_doc())).sum();
        if (full_build && metas.len() > 1) || deleted * 20 > all {
            let segments: Vec<_> = metas.iter().map(|m| m.id()).collect();
            // tantivy's own merge policy may be merging some of them already;
            // then one of the two merges fails, and the committed index is whole
            // either way: a missed merge is no reason to fail the update.
            if let Err(e) = writer.merge(&segments).wait() {
                tracing::warn!("merging the index after a commit: {e:#}");
            }
        }
        Ok(())
    }

    /// Adds the snippets' documents, after any deletes so those cannot hit them.
    fn add_documents(
        &self,
        writer: &IndexWriter,
        snippets: &[&Snippet],
    ) -> Result<(), SearchError> {
        for s in snippets {
            writer.add_document(self.document(s))?;
        }
        Ok(())
    }

    fn document(&self, s: &Snippet) -> TantivyDocument {
        let f = self.fields;
        let mut doc = TantivyDocument::default();
        doc.add_text(f.id, &s.id);
        doc.add_text(f.file, &s.page.file);
        doc.add_text(f.collection, &s.page.collection);
        doc.add_text(f.title, &s.page.title);
        doc.add_text(f.heading, &s.heading);
        doc.add_text(f.tags, s.page.tags.join(", "));
        doc.add_text(f.body, &s.text);
        doc.add_text(f.prefix, &s.text);
        doc.add_text(f.prefix, &s.heading);
        doc.add_text(
            f.stored,
            serde_json::to_string(s).expect("snippets serialise"),
        );
        doc.add_u64(f.key, snippet_key(s));
        doc
    }

    /// What each file's snippets give ([`Derived`]), reusing the last
    /// snapshot's for files whose snippets are the same allocation (which the
    /// cache keeps alive, so no other file's can take its address).
    fn derived(&self, files: &[Arc<[Snippet]>]) -> Vec<Derived> {
        let mut cache = self.key_cache.lock().unwrap_or_else(|e| e.into_inner());
        let previous: rustc_hash::FxHashMap<*const Snippet, &Derived> = cache
            .iter()
            .map(|(snippets, derived)| (snippets.as_ptr(), derived))
            .collect();
        let derived: Vec<Derived> = files
            .iter()
            .map(|snippets| match previous.get(&snippets.as_ptr()) {
                Some(&d) if d.keys.len() == snippets.len() => d.clone(),
                _ => Derived {
                    keys: snippets.iter().map(snippet_key).collect(),
                    acronyms: acronyms::of_file(snippets).into(),
                },
            })
            .collect();
        *cache = files.iter().cloned().zip(derived.iter().cloned()).collect();
        derived
    }

    fn size_bytes(&self, searcher: &Searcher) -> u64 {
        match &self.dir {
            Some(dir) => std::fs::read_dir(dir)
                .map(|it| {
                    it.flatten()
                        .filter_map(|e| e.metadata().ok())
                        .map(|m| m.len())
                        .sum()
                })
                .unwrap_or(0),
            None => searcher
                .space_usage()
                .map(|u| u.total().get_bytes())
                .unwrap_or(0),
        }
    }
}

fn index_err(dir: Option<&Path>, source: tantivy::TantivyError) -> SearchError {
    SearchError::Index {
        dir: dir
            .map(Path::to_path_buf)
            .unwrap_or_else(|| "(memory)".into()),
        source,
    }
}

/// The stored snippets are not compressed: every answer reads two dozen of them
/// from random places, and decompressing a whole block for each was a tenth of a
/// question's time on a large index. It costs disk (about the size of the
/// knowledge files), not time. (One snippet per block saved a little more per
/// question but made building 100k snippets 1–2 s slower.)
fn index_settings() -> tantivy::IndexSettings {
    tantivy::IndexSettings {
        docstore_compression: tantivy::store::Compressor::None,
        ..Default::default()
    }
}

fn open_dir(dir: &Path, schema: Schema) -> Result<Index, SearchError> {
    std::fs::create_dir_all(dir).map_err(|e| SearchError::IndexDir {
        dir: dir.into(),
        source: e,
    })?;
    let mmap = MmapDirectory::open(dir).map_err(|e| index_err(Some(dir), e.into()))?;
    match Index::builder()
        .schema(schema.clone())
        .settings(index_settings())
        .open_or_create(mmap)
    {
        Ok(index) => Ok(index),
        // An index of another schema (an older citebot): it is derived data, so start over.
        Err(tantivy::TantivyError::SchemaError(_))
        | Err(tantivy::TantivyError::IncompatibleIndex(_)) => {
            tracing::info!(
                "index at {} is from another version; rebuilding it",
                dir.display()
            );
            wipe(dir)?;
            let mmap = MmapDirectory::open(dir).map_err(|e| index_err(Some(dir), e.into()))?;
            Index::create(mmap, schema, index_settings()).map_err(|e| index_err(Some(dir), e))
        }
        Err(e) => Err(index_err(Some(dir), e)),
    }
}

/// Deletes the index files in `dir` (not the folder, nor a `.gitkeep`).
fn wipe(dir: &Path) -> Result<(), SearchError> {
    let io = |e| SearchError::IndexDir {
        dir: dir.into(),
        source: e,
    };
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(io(e)),
    };
    for entry in entries {
        let entry = entry.map_err(io)?;
        // The semantic model's vectors are keyed by passage text, not by the
        // index, and cost minutes to compute again.
        let keep = [".gitkeep", super::semantic::VECTORS_FILE];
        if !keep.iter().any(|k| entry.file_name() == *k) && entry.path().is_file() {
            std::fs::remove_file(entry.path()).map_err(io)?;
        }
    }
    Ok(())
}

/// A point-in-time view of the index together with the knowledge it was built from.
pub struct Snapshot {
    pub store: Arc<Store>,
    /// The analyzers questions and passages go through, built once (cloned per use).
    pub stemmed: tantivy::tokenizer::TextAnalyzer,
    pub both: analyzer::Both,
    pub searcher: Searcher,
    pub synonyms: Synonyms,
    /// The synonyms files' groups in force, by file, as [`Snapshot::synonyms`]
    /// was analysed from: a file that stops parsing keeps these, also through
    /// a rebuild from nothing.
    pub(crate) synonym_sets: BTreeMap<String, SynonymSet>,
    /// Each knowledge file's content hash (synonyms files and files that fail
    /// to parse included), by file as shown: what a reload changed.
    pub(crate) file_hashes: Arc<BTreeMap<String, String>>,
    pub files: Vec<FileInfo>,
    pub errors: Vec<KnowledgeError>,
    pub built_at: String,
    /// The content hash of the knowledge it was built from.
    pub knowledge_hash: String,
    snippet_count: usize,
    /// The knowledge's snippets in memory (shared with the parse cache), found by
    /// the `key` fast field of each segment: reading a candidate this way skips
    /// the document store (a block copy and JSON parsing per candidate).
    in_memory: InMemory,
    /// Every indexed passage in memory with its vectors' key and page, for the
    /// semantic model's search by meaning; listed on its first use.
    embedded: std::sync::OnceLock<Vec<Embedded>>,
    /// The documents of each collection set a room has asked within.
    pub(crate) scopes: super::members::Scopes,
}

/// An indexed passage as the search by meaning sees it.
#[derive(Debug)]
pub(crate) struct Embedded {
    pub addr: tantivy::DocAddress,
    /// Its vectors' key ([`super::semantic::passage_key`]).
    pub key: u64,
    pub page: Arc<crate::knowledge::PageInfo>,
}

/// A snippet of the knowledge in memory, shared rather than copied: two dozen
/// candidates are read per question and only the few shown need their text owned.
#[derive(Debug, Clone)]
pub struct SharedSnippet {
    file: Arc<[Snippet]>,
    index: usize,
}

impl std::ops::Deref for SharedSnippet {
    type Target = Snippet;
    fn deref(&self) -> &Snippet {
        &self.file[self.index]
    }
}

/// Snippets by [`snippet_key`], and each segment's key column.
struct InMemory {
    files: Vec<Arc<[Snippet]>>,
    /// Key → (file, snippet) in `files`; keys two snippets share are left out.
    by_key: rustc_hash::FxHashMap<u64, (u32, u32)>,
    keys: Vec<Option<Column<u64>>>,
}

/// A hash of everything a snippet holds. An indexed document whose key is in
/// memory is that very snippet; one that is not (the last good version of a file
/// that now fails to parse) is read from the document store instead.
pub fn snippet_key(s: &Snippet) -> u64 {
    use std::hash::BuildHasher;
    rustc_hash::FxBuildHasher.hash_one(s)
}

impl Snapshot {
    fn new(
        store: Arc<Store>,
        searcher: Searcher,
        payload: Payload,
        kb: KnowledgeBase,
    ) -> Result<Snapshot, SearchError> {
        let mut stemmed = analyzer::stemmed();
        let derived = store.derived(&kb.file_snippets);
        // The acronyms the passages define serve as the synonyms files do, each
        // for the rooms that see the passage that defines it.
        let defined = acronyms::synonym_sets(derived.iter().map(|d| &d.acronyms[..]));
        let synonyms = Synonyms::of_sets(
            payload.synonyms.values().chain(defined.iter()),
            &mut stemmed,
        );
        let mut by_key = rustc_hash::FxHashMap::default();
        by_key.reserve(kb.snippet_count());
        let mut shared = rustc_hash::FxHashSet::default();
        for (f, d) in derived.iter().enumerate() {
            for (i, &key) in d.keys.iter().enumerate() {
                if by_key.insert(key, (f as u32, i as u32)).is_some() {
                    shared.insert(key);
                }
            }
        }
        for key in shared {
            by_key.remove(&key);
        }
        let keys = searcher
            .segment_readers()
            .iter()
            .map(|r| r.fast_fields().u64("key").ok())
            .collect();
        let in_memory = InMemory {
            files: kb.file_snippets,
            by_key,
            keys,
        };
        let errors = kb.errors;
        let file_hashes = Arc::new(kb.file_hashes);
        Ok(Snapshot {
            synonym_sets: payload.synonyms,
            file_hashes,
            in_memory,
            embedded: std::sync::OnceLock::new(),
            scopes: super::members::Scopes::default(),
            stemmed,
            both: analyzer::Both::default(),
            snippet_count: searcher.num_docs() as usize,
            files: payload.files.into_values().map(|f| f.info).collect(),
            store,
            searcher,
            synonyms,
            errors,
            built_at: payload.built_at,
            knowledge_hash: payload.hash,
        })
    }

    /// Opens the index for `kb`, building it if it is missing or stale, or in
    /// any case when `force`. A damaged on-disk index (unreadable, files missing or garbled) is deleted
    /// and built again from `kb`.
    pub fn open_or_build(
        dir: Option<&Path>,
        kb: KnowledgeBase,
        force: bool,
    ) -> Result<Snapshot, SearchError> {
        let opened = Store::open(dir).map(Arc::new).and_then(|store| {
            if store.intact() {
                store.snapshot(kb.clone(), force)
            } else {
                Err(SearchError::Corrupt("the index's own files".into()))
            }
        });
        match (opened, dir) {
            (Err(e), Some(dir)) if e.is_index_damage() => {
                tracing::warn!(index = %dir.display(), error = %crate::chain(&e), "the index is damaged; rebuilding it from the knowledge files");
                Snapshot::rebuild_fresh(dir, kb)
            }
            (result, _) => result,
        }
    }

    /// Deletes the index in `dir` and builds it anew from `kb`.
    pub fn rebuild_fresh(dir: &Path, kb: KnowledgeBase) -> Result<Snapshot, SearchError> {
        wipe(dir)?;
        Arc::new(Store::open(Some(dir))?).snapshot(kb, true)
    }

    /// Every snippet of the knowledge this snapshot was built from.
    pub fn snippets(&self) -> impl Iterator<Item = &Snippet> {
        self.in_memory.files.iter().flat_map(|f| f.iter())
    }

    /// Every indexed passage held in memory, with its vectors' key (those read
    /// from the document store are left out: they are the last good version of
    /// a file that fails to parse now).
    pub(crate) fn embedded(&self) -> &[Embedded] {
        self.embedded.get_or_init(|| {
            let mut all = Vec::with_capacity(self.snippet_count);
            for (ord, reader) in self.searcher.segment_readers().iter().enumerate() {
                for doc in reader.doc_ids_alive() {
                    let addr = tantivy::DocAddress::new(ord as u32, doc);
                    if let Some(s) = self.snippet_in_memory(addr) {
                        all.push(Embedded {
                            addr,
                            key: super::semantic::passage_key(&s),
                            page: s.page.clone(),
                        });
                    }
                }
            }
            all
        })
    }

    /// Brings the index of this snapshot's store up to date with `kb`; `force`
    /// rebuilds it from scratch.
    pub fn sync_with(&self, kb: KnowledgeBase, force: bool) -> Result<Snapshot, SearchError> {
        self.store.snapshot(kb, force)
    }

    /// The snippet of an indexed document: from memory when the knowledge holds it,
    /// else from the document store.
    pub fn snippet(&self, addr: tantivy::DocAddress) -> Result<SharedSnippet, SearchError> {
        match self.snippet_in_memory(addr) {
            Some(snippet) => Ok(snippet),
            None => Ok(SharedSnippet {
                file: Arc::new([self.stored_snippet(addr)?]),
                index: 0,
            }),
        }
    }

    /// The snippet of an indexed document, if the knowledge in memory holds it.
    pub fn snippet_in_memory(&self, addr: tantivy::DocAddress) -> Option<SharedSnippet> {
        let m = &self.in_memory;
        let &(f, i) = m.by_key.get(&self.doc_key(addr)?)?;
        Some(SharedSnippet {
            file: m.files[f as usize].clone(),
            index: i as usize,
        })
    }

    /// The [`snippet_key`] of an indexed document: the same for the same
    /// snippet in every build, where its address depends on which indexing
    /// thread took it.
    pub fn doc_key(&self, addr: tantivy::DocAddress) -> Option<u64> {
        self.in_memory
            .keys
            .get(addr.segment_ord as usize)?
            .as_ref()?
            .first(addr.doc_id)
    }

    /// Reads a snippet from the document store.
    pub fn stored_snippet(&self, addr: tantivy::DocAddress) -> Result<Snippet, SearchError> {
        let doc: TantivyDocument = self.searcher.doc(addr)?;
        let json = doc
            .get_first(self.store.fields.stored)
            .and_then(|v| v.as_str())
            .ok_or_else(|| SearchError::Corrupt(format!("{addr:?}")))?;
        serde_json::from_str(json).map_err(|_| SearchError::Corrupt(format!("{addr:?}")))
    }

    /// Size and age of the index.
    pub fn stats(&self) -> IndexStats {
        IndexStats {
            snippets: self.snippet_count,
            files: self.files.len(),
            size_bytes: Some(self.store.size_bytes(&self.searcher)),
            built_at: self.built_at.clone(),
        }
    }

    /// [`Snapshot::stats`] over the files of `collections` only (`None`: all).
    pub fn stats_in(&self, collections: Option<&[String]>) -> IndexStats {
        let Some(cols) = collections else {
            return self.stats();
        };
        let files: Vec<&FileInfo> = self
            .files
            .iter()
            .filter(|f| cols.contains(&f.collection))
            .collect();
        // The index's own build time moves when any collection changes.
        IndexStats {
            snippets: files.iter().map(|f| f.snippets).sum(),
            files: files.len(),
            size_bytes: None,
            built_at: String::new(),
        }
    }
}
