//! The search core: the tantivy index of knowledge snippets, question analysis
//! (synonyms, typo tolerance, proximity), ranking, the confidence bar and the
//! extractive answer. It knows nothing of Matrix or terminals: it returns an
//! [`Answer`], which `render` turns into text.

pub(crate) mod acronyms;
pub(crate) mod analyzer;
pub(crate) mod answer;
pub(crate) mod explain;
pub(crate) mod index;
pub(crate) mod members;
pub(crate) mod mpnet;
pub(crate) mod question;
pub(crate) mod rank;
pub(crate) mod retrieve;
pub(crate) mod scope;
pub mod semantic;
pub(crate) mod synonyms;
pub(crate) mod typo;

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use serde::Serialize;

pub use explain::{Explanation, topic};
pub use index::{IndexStats, SearchError};
pub use question::{
    DEFAULT_MAX_QUESTION_BYTES, DEFAULT_MAX_QUESTION_WORDS, QuestionCut, cut_question,
};
pub use rank::DEFAULT_MIN_CONFIDENCE;

use crate::knowledge::{self, FileInfo, KnowledgeError, Snippet};
use index::Snapshot;
use question::Question;
use rank::{Judged, Scored};
use semantic::Semantic;

/// Where the knowledge lives and how answers are shaped.
#[derive(Debug, Clone)]
pub struct SearchSettings {
    /// Folder of knowledge files (`knowledge/`).
    pub knowledge_dir: PathBuf,
    /// Folder of the on-disk index; `None` keeps the index in RAM.
    pub index_dir: Option<PathBuf>,
    /// How many ranked passages an answer carries.
    pub passages: usize,
    /// Below this confidence (0–1) a question is refused.
    pub min_confidence: f32,
    /// Questions are read up to this many words and bytes: a question's cost
    /// grows with its length, and one pasted page must not hold up the others.
    pub max_question_words: usize,
    pub max_question_bytes: usize,
    /// Docs folders read besides `knowledge_dir`, each as one collection.
    pub sources: Vec<ExtraSource>,
    /// The semantic model that re-ranks candidates by meaning
    /// (`search.semantic_model`), if any.
    pub semantic_model: SemanticModel,
}

/// Whether and where the semantic model is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SemanticModel {
    /// Rank by words alone.
    Off,
    /// The model in this folder when one is installed there (`scripts/model`),
    /// else words alone: what `citebot` does unless told otherwise.
    IfInstalled(PathBuf),
    /// The model in this folder; not finding it there is an error.
    Required(PathBuf),
}

/// Where `scripts/model` installs the semantic model (all-mpnet-base-v2),
/// relative to the working directory like `knowledge/` and `index/`.
pub const DEFAULT_SEMANTIC_MODEL: &str = "models/all-mpnet-base-v2";

/// Where `scripts/model --small` installs the smaller one (all-MiniLM-L6-v2,
/// the default before all-mpnet-base-v2): used, unnamed, when it is the one
/// installed.
pub const SMALL_SEMANTIC_MODEL: &str = "models/all-MiniLM-L6-v2";

/// The default model's folder: [`DEFAULT_SEMANTIC_MODEL`], or
/// [`SMALL_SEMANTIC_MODEL`] when only that one `exists`.
fn installed_default(exists: impl Fn(&Path) -> bool) -> PathBuf {
    [DEFAULT_SEMANTIC_MODEL, SMALL_SEMANTIC_MODEL]
        .into_iter()
        .map(PathBuf::from)
        .find(|dir| exists(dir))
        .unwrap_or_else(|| DEFAULT_SEMANTIC_MODEL.into())
}

impl SemanticModel {
    /// The setting as written in the config or on the command line: absent is
    /// the default folder if installed (else the small model's, if that is),
    /// `""` is off, a folder is required.
    pub fn from_setting(setting: Option<&Path>) -> SemanticModel {
        match setting {
            None => SemanticModel::IfInstalled(installed_default(|dir| dir.exists())),
            Some(p) if p.as_os_str().is_empty() => SemanticModel::Off,
            Some(p) => SemanticModel::Required(p.to_path_buf()),
        }
    }

    /// The model this setting names, loaded, with the passage vectors saved
    /// beside the index in `index_dir`.
    fn open(&self, index_dir: Option<&Path>) -> Result<Option<Arc<Semantic>>, SearchError> {
        let dir = match self {
            SemanticModel::Off => return Ok(None),
            SemanticModel::IfInstalled(dir) if !dir.exists() => {
                tracing::info!(model = %dir.display(), "no semantic model installed there (scripts/model); ranking by words alone");
                return Ok(None);
            }
            SemanticModel::IfInstalled(dir) | SemanticModel::Required(dir) => dir,
        };
        let model = match Semantic::load(dir) {
            Ok(model) => model,
            // An install nobody asked for by name must not stop the bot.
            Err(e) if matches!(self, SemanticModel::IfInstalled(_)) => {
                tracing::warn!(error = %e, "the semantic model cannot be loaded (run scripts/model again); ranking by words alone");
                return Ok(None);
            }
            Err(e) => return Err(e.into()),
        };
        if let Some(index) = index_dir {
            model.read_vectors(&index.join(semantic::VECTORS_FILE));
        }
        tracing::info!(model = %dir.display(), "semantic model loaded");
        Ok(Some(Arc::new(model)))
    }
}

/// A docs folder read in place besides the knowledge folder.
#[derive(Debug, Clone)]
pub struct ExtraSource {
    pub path: PathBuf,
    /// The source named in citations of pages whose front matter names none.
    pub name: String,
    pub mount: knowledge::Mount,
}

impl SearchSettings {
    /// Every folder read: the knowledge folder, then the sources.
    pub fn folders(&self) -> impl Iterator<Item = &std::path::Path> {
        std::iter::once(self.knowledge_dir.as_path())
            .chain(self.sources.iter().map(|s| s.path.as_path()))
    }

    /// How the file at `path` (in one of [`SearchSettings::folders`]) is shown in
    /// citations and problems: `knowledge/team/x.md`, `collection/page.md`.
    /// A path the file watcher reports is absolute even when the folder was
    /// given relative to the working directory (`knowledge`, the default).
    pub fn shown(&self, path: &std::path::Path) -> Option<String> {
        if let Some(rel) = within(path, &self.knowledge_dir) {
            let root = knowledge::display_root(&self.knowledge_dir, None);
            return Some(knowledge::shown_path(&root, rel));
        }
        self.sources.iter().find_map(|s| {
            let rel = within(path, &s.path)?;
            let root = knowledge::display_root(&s.path, Some(&s.mount));
            Some(knowledge::shown_path(&root, rel))
        })
    }
}

/// `path` relative to `folder`, when it is inside it: as given, or as the
/// file watcher reports paths under a relative folder (joined to the working
/// directory).
fn within<'p>(path: &'p std::path::Path, folder: &std::path::Path) -> Option<&'p std::path::Path> {
    if let Ok(rel) = path.strip_prefix(folder) {
        return Some(rel);
    }
    if folder.is_relative() && path.is_absolute() {
        let cwd = std::env::current_dir().ok()?;
        return path.strip_prefix(cwd.join(folder)).ok();
    }
    None
}

impl SearchSettings {
    /// Settings for the default layout: `knowledge/`, `index/`, three passages.
    pub fn new(knowledge_dir: impl Into<PathBuf>, index_dir: Option<PathBuf>) -> Self {
        SearchSettings {
            knowledge_dir: knowledge_dir.into(),
            index_dir,
            passages: DEFAULT_PASSAGES,
            min_confidence: DEFAULT_MIN_CONFIDENCE,
            max_question_words: DEFAULT_MAX_QUESTION_WORDS,
            max_question_bytes: DEFAULT_MAX_QUESTION_BYTES,
            sources: Vec::new(),
            semantic_model: SemanticModel::Off,
        }
    }
}

/// `search.passages`, and `citebot ask --passages`.
pub const DEFAULT_PASSAGES: usize = 3;

/// Per-question options.
#[derive(Debug, Clone, Default)]
pub struct AskOptions {
    /// Only passages from these collections (sub-folders of the knowledge folder);
    /// `None`: all.
    pub collections: Option<Vec<String>>,
    /// Overrides [`SearchSettings::passages`].
    pub passages: Option<usize>,
    /// Rank by words alone even when the semantic model is loaded (the bot,
    /// past the model's budget).
    pub words_only: bool,
    /// The conversation's earlier questions, oldest first, when this one
    /// follows up on them: it is searched with their concepts, weighing less
    /// than its own.
    pub context: Vec<String>,
}

/// Where a passage comes from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Citation {
    pub title: String,
    pub heading: String,
    pub source: String,
    pub url: Option<String>,
    /// Publication date of the source ("as of"), `YYYY-MM-DD`.
    pub published: Option<String>,
    pub file: String,
    /// The 1-based line of `file` where the passage starts; none in a document
    /// whose text has no lines of its own (a Word document, a PDF).
    pub line: Option<usize>,
    /// For a PDF, the 1-based page where the passage starts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page: Option<usize>,
    /// For a slide deck, the 1-based slide the passage is on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub slide: Option<usize>,
    /// For a workbook, the 1-based row of its sheet (the heading) the passage is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub row: Option<usize>,
}

/// One ranked passage of an answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Passage {
    /// 1-based rank.
    pub rank: usize,
    pub score: f32,
    pub id: String,
    pub text: String,
    /// Byte ranges of `text` that matched the question, for highlighting.
    pub highlights: Vec<(usize, usize)>,
    pub citation: Citation,
    /// The other places that say the same under the same title and heading
    /// (a page copied into each version of versioned docs), ranked lower: one
    /// passage shown with all its citations rather than the same words again.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub also: Vec<Citation>,
    /// Byte ranges of `text` that are code, to be shown verbatim.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub code: Vec<(usize, usize)>,
}

/// Most places one passage names besides its own ([`Passage::also`]).
const MAX_ALSO: usize = 5;

/// The sentence that answers the question, with the code or list it introduces.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AnswerLine {
    pub text: String,
    /// 1-based rank of the passage the sentence comes from.
    pub passage: usize,
    /// Byte ranges of `text` that are code, to be shown verbatim.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub code: Vec<(usize, usize)>,
}

/// An answer that speaks of a plan whose date has passed since its source was written.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Freshness {
    /// Publication date of the answer's source, `YYYY-MM-DD`.
    pub source_date: String,
    /// The date the answer presents as still to come, as written ("July 2025").
    pub due: String,
}

/// The search core's reply to one question.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Answer {
    pub question: String,
    /// Whether the knowledge base answers the question (the confidence bar was met).
    pub answered: bool,
    /// How sure the engine is that its first passage answers the question (0–1).
    pub confidence: f32,
    pub answer: Option<AnswerLine>,
    /// Set when the answer describes as future something already due: the reply says so.
    pub freshness: Option<Freshness>,
    /// Ranked passages; when not answered, the nearest misses (possibly none).
    pub passages: Vec<Passage>,
    /// When not answered: "title › heading" of the nearest topics, to suggest.
    pub closest_topics: Vec<String>,
    /// Set when the question was too long to read whole: `question` is its start.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cut: Option<QuestionCut>,
}

/// What a rebuild found.
#[derive(Debug, Clone)]
pub struct RebuildReport {
    pub files: usize,
    pub snippets: usize,
    /// The knowledge files' problems (`crate::render::problem` names them as
    /// people are shown them; this report's `Display`, for the log, by line).
    pub errors: Vec<KnowledgeError>,
    pub millis: u128,
    /// The knowledge served before the rebuild and after it, taken under the
    /// rebuild lock: what this rebuild changed, whatever else runs at once.
    pub before: Versions,
    pub after: Versions,
}

/// The files a snapshot serves and each knowledge file's content hash
/// (synonyms files and files that fail to parse or to read included).
#[derive(Debug, Clone, Default)]
pub struct Versions {
    pub pages: std::collections::BTreeSet<String>,
    pub hashes: Arc<std::collections::BTreeMap<String, String>>,
}

impl Versions {
    fn of(snapshot: &Snapshot) -> Versions {
        Versions {
            pages: snapshot.files.iter().map(|f| f.file.clone()).collect(),
            hashes: snapshot.file_hashes.clone(),
        }
    }
}

impl RebuildReport {
    /// The report of a build of `snapshot` from knowledge with `errors`, begun
    /// at `started`, after `before`.
    fn of(
        snapshot: &Snapshot,
        before: Versions,
        errors: Vec<KnowledgeError>,
        started: std::time::Instant,
    ) -> Self {
        let stats = snapshot.stats();
        RebuildReport {
            files: stats.files,
            snippets: stats.snippets,
            errors,
            millis: started.elapsed().as_millis(),
            before,
            after: Versions::of(snapshot),
        }
    }
}

impl RebuildReport {
    /// What was indexed, in how long: the first line of the report.
    pub fn summary(&self) -> String {
        format!(
            "indexed {} snippets from {} files in {} ms",
            self.snippets, self.files, self.millis
        )
    }
}

impl fmt::Display for RebuildReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.summary())?;
        for e in &self.errors {
            write!(f, "\n{e}")?;
        }
        Ok(())
    }
}

/// A knowledge file as listed by `!sources`.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SourceInfo {
    pub file: String,
    pub title: String,
    pub source: String,
    pub published: Option<String>,
    pub snippets: usize,
}

impl From<&FileInfo> for SourceInfo {
    fn from(f: &FileInfo) -> Self {
        SourceInfo {
            file: f.file.clone(),
            title: f.title.clone(),
            source: f.source.clone(),
            published: f.published.map(|d| d.to_string()),
            snippets: f.snippets,
        }
    }
}

/// The search engine over one knowledge folder. Cheap to clone and shared between
/// threads; its calls block (tantivy I/O), so async callers use `spawn_blocking`.
#[derive(Clone)]
pub struct Engine {
    settings: Arc<SearchSettings>,
    current: Arc<RwLock<Arc<Snapshot>>>,
    /// Serialises rebuilds: one writer at a time.
    rebuild_lock: Arc<std::sync::Mutex<()>>,
    /// Parsed files kept between refreshes, so a refresh re-parses only what changed.
    cache: Arc<std::sync::Mutex<knowledge::Cache>>,
    /// The semantic model, when configured (its passage vectors outlive snapshots).
    semantic: Option<Arc<Semantic>>,
    /// Told each time a new version of the knowledge is served.
    changed: Arc<tokio::sync::Notify>,
}

impl Engine {
    /// Opens the index, building it first if it is missing or older than the
    /// knowledge files (content hash), so answers never come from stale files.
    pub fn open(settings: &SearchSettings) -> Result<Engine, SearchError> {
        Engine::opened(settings, false).map(|(engine, _)| engine)
    }

    /// Opens the knowledge base and builds its index anew whatever is on disk
    /// (`citebot index`), reading and indexing each file once; with the report
    /// of that build.
    pub fn open_rebuilt(settings: &SearchSettings) -> Result<(Engine, RebuildReport), SearchError> {
        Engine::opened(settings, true)
    }

    fn opened(
        settings: &SearchSettings,
        force: bool,
    ) -> Result<(Engine, RebuildReport), SearchError> {
        let started = std::time::Instant::now();
        let mut cache = knowledge::Cache::default();
        let kb = load_knowledge(settings, &mut cache)?;
        let errors = kb.errors.clone();
        let snapshot = Snapshot::open_or_build(settings.index_dir.as_deref(), kb, force)?;
        // Opened from nothing: everything it serves is new.
        let report = RebuildReport::of(&snapshot, Versions::default(), errors, started);
        let semantic = settings
            .semantic_model
            .open(settings.index_dir.as_deref())?;
        let engine = Engine {
            semantic,
            changed: Arc::new(tokio::sync::Notify::new()),
            settings: Arc::new(settings.clone()),
            current: Arc::new(RwLock::new(Arc::new(snapshot))),
            rebuild_lock: Arc::new(std::sync::Mutex::new(())),
            cache: Arc::new(std::sync::Mutex::new(cache)),
        };
        Ok((engine, report))
    }

    /// The semantic model, when configured.
    pub(crate) fn semantic(&self) -> Option<&Semantic> {
        self.semantic.as_deref()
    }

    /// Returns once a new version of the knowledge is served (a refresh or
    /// rebuild that changed something) since the last call returned.
    pub async fn changed(&self) {
        self.changed.notified().await;
    }

    /// Whether a semantic model re-ranks this engine's answers.
    pub fn has_semantic_model(&self) -> bool {
        self.semantic.is_some()
    }

    /// Saves the passage vectors embedded since the last save beside the on-disk
    /// index, so the next run does not embed them again. A failure costs only
    /// that time, so it is logged, not returned.
    pub fn save_vectors(&self) {
        if let (Some(model), Some(index)) = (&self.semantic, &self.settings.index_dir) {
            let file = index.join(semantic::VECTORS_FILE);
            if let Err(e) = model.save(&file) {
                tracing::warn!(file = %file.display(), error = %e, "cannot save the passage vectors");
            }
        }
    }

    /// With a semantic model: how many passages of `collections` (`None`: all)
    /// it has embedded, and how many there are.
    pub fn semantic_progress(&self, collections: Option<&[String]>) -> Option<(usize, usize)> {
        let model = self.semantic.as_ref()?;
        let snapshot = self.snapshot();
        let in_scope: Vec<&Snippet> = snapshot
            .snippets()
            .filter(|s| self.in_scope(&s.page.file, collections))
            .collect();
        Some((model.count_known(in_scope.iter().copied()), in_scope.len()))
    }

    /// Embeds every passage of the current knowledge the model has not read yet,
    /// saving the vectors as it goes, until done or until `stop` says so: after
    /// this a question costs the model only its own vector. Returns how many
    /// passages it embedded.
    pub fn embed_all(&self, stop: impl Fn() -> bool) -> Result<usize, SearchError> {
        /// Passages embedded between saves, at least: a crash loses at most
        /// this many, or a quarter of those known, so that rewriting the file
        /// costs little beside embedding.
        const SAVE_EVERY: usize = 256;
        /// Passages embedded together ([`Semantic::passages`]): enough for
        /// batches of like lengths, few enough that `stop` is heard within
        /// seconds.
        const EMBED_GROUP: usize = 8;
        let Some(model) = &self.semantic else {
            return Ok(0);
        };
        let snapshot = self.snapshot();
        let mut embedded = 0;
        let mut failure = None;
        let mut group: Vec<&Snippet> = Vec::with_capacity(EMBED_GROUP);
        let mut snippets = snapshot.snippets().peekable();
        while snippets.peek().is_some() {
            if stop() {
                self.save_vectors();
                return Ok(embedded);
            }
            group.clear();
            group.extend(
                snippets
                    .by_ref()
                    .filter(|s| !model.has_passage(s))
                    .take(EMBED_GROUP),
            );
            if group.is_empty() {
                break;
            }
            if model.passages(&group).is_ok() {
                embedded += group.len();
            } else {
                // One passage the model cannot read must not keep it from
                // the rest: the group again, one passage at a time.
                for snippet in &group {
                    match model.passage(snippet) {
                        Ok(_) => embedded += 1,
                        Err(e) => {
                            tracing::warn!(passage = %snippet.id, error = %e, "cannot embed a passage");
                            failure = Some(e);
                        }
                    }
                }
            }
            let (unsaved, known) = model.unsaved();
            if unsaved >= SAVE_EVERY.max(known / 4) {
                self.save_vectors();
            }
        }
        model.retain(snapshot.snippets());
        self.save_vectors();
        // The list the search by meaning walks: made here, in the background,
        // rather than by the first question after a reload.
        snapshot.embedded();
        match failure {
            Some(e) if embedded == 0 => Err(e.into()),
            _ => Ok(embedded),
        }
    }

    pub(crate) fn snapshot(&self) -> Arc<Snapshot> {
        self.current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Answers a question with the default options.
    pub fn ask(&self, question: &str) -> Result<Answer, SearchError> {
        self.ask_with(question, &AskOptions::default())
    }

    /// Answers a question.
    pub fn ask_with(&self, question: &str, options: &AskOptions) -> Result<Answer, SearchError> {
        let n = options.passages.unwrap_or(self.settings.passages).max(1);
        let (question, cut) = self.cut(question);
        let context = self.context(&options.context);
        let mut answer = self.snapshot().ask(
            question,
            &context,
            n,
            options.collections.as_deref(),
            self.settings.min_confidence,
            self.semantic_for(options),
        )?;
        answer.cut = cut;
        Ok(answer)
    }

    /// The semantic model, unless `options` ask for words alone.
    fn semantic_for(&self, options: &AskOptions) -> Option<&Semantic> {
        self.semantic.as_deref().filter(|_| !options.words_only)
    }

    /// The part of a follow-up's `context` the engine reads: its last
    /// [`question::MAX_CONTEXT`] questions, each cut as a question is.
    fn context(&self, context: &[String]) -> Vec<String> {
        let from = context.len().saturating_sub(question::MAX_CONTEXT);
        context[from..]
            .iter()
            .map(|c| self.cut(c).0.to_string())
            .collect()
    }

    /// The part of `question` the settings let the engine read.
    fn cut<'q>(&self, question: &'q str) -> (&'q str, Option<QuestionCut>) {
        cut_question(
            question,
            self.settings.max_question_words,
            self.settings.max_question_bytes,
        )
    }

    /// How a question was understood and scored (for `!why`).
    pub fn explain(&self, question: &str) -> Result<Explanation, SearchError> {
        self.explain_with(question, &AskOptions::default())
    }

    /// [`Engine::explain`] limited to `options.collections`, as a room mapped to
    /// some collections asks.
    pub fn explain_with(
        &self,
        question: &str,
        options: &AskOptions,
    ) -> Result<Explanation, SearchError> {
        let n = options.passages.unwrap_or(self.settings.passages).max(1);
        let (question, cut) = self.cut(question);
        let context = self.context(&options.context);
        let mut explanation = self.snapshot().explain(
            question,
            &context,
            n,
            options.collections.as_deref(),
            self.settings.min_confidence,
            self.semantic_for(options),
        )?;
        explanation.cut = cut;
        Ok(explanation)
    }

    /// Re-reads the knowledge files and rebuilds the whole index now. Questions
    /// asked meanwhile are answered from the previous index; the switch is atomic.
    pub fn rebuild(&self) -> Result<RebuildReport, SearchError> {
        self.sync(true)
    }

    /// Re-reads the knowledge files and updates the index for the files that changed
    /// (added, edited, renamed, deleted), in one commit. A file that no longer parses
    /// keeps its last good version; its problem is in [`Engine::knowledge_errors`].
    pub fn refresh(&self) -> Result<RebuildReport, SearchError> {
        self.sync(false)
    }

    fn sync(&self, force: bool) -> Result<RebuildReport, SearchError> {
        self.rebuild_with(force, |kb| {
            match (self.snapshot().sync_with(kb, force), &self.settings.index_dir) {
                (Err(e), Some(dir)) if e.is_index_damage() => {
                    tracing::warn!(index = %dir.display(), error = %crate::chain(&e), "the index is damaged; rebuilding it from the knowledge files");
                    Snapshot::rebuild_fresh(dir, self.knowledge(false)?)
                }
                (result, _) => result,
            }
        })
    }

    /// Rebuilds the on-disk index from the knowledge files when its own files are
    /// damaged (deleted, truncated, garbled) and says so; `None` when it is whole.
    /// Questions are answered meanwhile from what is already open.
    pub fn repair_if_damaged(&self) -> Result<Option<RebuildReport>, SearchError> {
        if self.snapshot().store.intact() {
            return Ok(None);
        }
        let Some(dir) = &self.settings.index_dir else {
            return Ok(None);
        };
        tracing::warn!(index = %dir.display(), "the index's files are damaged or gone; rebuilding it from the knowledge files");
        self.rebuild_with(false, |kb| Snapshot::rebuild_fresh(dir, kb))
            .map(Some)
    }

    /// The knowledge read through the parse cache (`fresh`: emptied first).
    fn knowledge(&self, fresh: bool) -> Result<knowledge::KnowledgeBase, SearchError> {
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        if fresh {
            cache.clear();
        }
        load_knowledge(&self.settings, &mut cache)
    }

    /// Reads the knowledge, makes a snapshot of it with `build`, and puts that
    /// snapshot in use, one rebuild at a time.
    fn rebuild_with(
        &self,
        fresh: bool,
        build: impl FnOnce(knowledge::KnowledgeBase) -> Result<Snapshot, SearchError>,
    ) -> Result<RebuildReport, SearchError> {
        let _guard = self.rebuild_lock.lock().unwrap_or_else(|e| e.into_inner());
        let started = std::time::Instant::now();
        let current = self.snapshot();
        let served = Versions::of(&current);
        let mut kb = self.knowledge(fresh)?;
        // A synonyms file that no longer parses keeps the groups in force, also
        // when the index is built from nothing (`!reload`, a damaged index).
        let in_force = &current.synonym_sets;
        for file in &kb.synonyms_failed {
            if let Some(set) = in_force.get(file) {
                kb.synonyms
                    .entry(file.clone())
                    .or_insert_with(|| set.clone());
            }
        }
        let errors = kb.errors.clone();
        let snapshot = build(kb)?;
        let report = RebuildReport::of(&snapshot, served, errors, started);
        let now = snapshot.knowledge_hash.clone();
        let before = std::mem::replace(
            &mut *self.current.write().unwrap_or_else(|e| e.into_inner()),
            Arc::new(snapshot),
        );
        if before.knowledge_hash != now {
            self.changed.notify_one();
        }
        Ok(report)
    }

    /// The knowledge files that are indexed.
    pub fn sources(&self) -> Vec<SourceInfo> {
        self.snapshot().files.iter().map(SourceInfo::from).collect()
    }

    /// The indexed knowledge files of `collections` (`None`: all), as a room mapped
    /// to some collections lists them.
    pub fn sources_in(&self, collections: Option<&[String]>) -> Vec<SourceInfo> {
        let mut sources = self.sources();
        if let Some(cols) = collections {
            sources.retain(|s| self.in_scope(&s.file, Some(cols)));
        }
        sources
    }

    /// The collection of a file as citations show it: a configured source's
    /// collection for its files (`collection/page.md`), else [`collection_of`].
    pub fn collection_of(&self, file: &str) -> String {
        let knowledge_root = knowledge::display_root(&self.settings.knowledge_dir, None);
        for s in &self.settings.sources {
            let c = s.mount.collection.as_str();
            // Not read (see `load_knowledge`): the knowledge folder's files
            // are shown under that name.
            if knowledge_root == Path::new(c) {
                continue;
            }
            if file
                .strip_prefix(c)
                .is_some_and(|rest| rest.starts_with('/'))
            {
                return c.to_string();
            }
        }
        collection_of(file)
    }

    /// Whether `file` (as citations show it) is in `collections` (`None`: all).
    pub fn in_scope(&self, file: &str, collections: Option<&[String]>) -> bool {
        collections.is_none_or(|cols| cols.contains(&self.collection_of(file)))
    }

    /// The files pages include (as [`crate::knowledge::absolute_path`] names
    /// them), each with the pages that include it.
    pub fn includers(&self) -> std::collections::HashMap<PathBuf, Vec<PathBuf>> {
        let cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        cache.includers()
    }

    /// Problems found in the knowledge files when the index was last built.
    pub fn knowledge_errors(&self) -> Vec<KnowledgeError> {
        self.snapshot().errors.clone()
    }

    /// Size and age of the index.
    pub fn stats(&self) -> IndexStats {
        self.snapshot().stats()
    }

    /// [`Engine::stats`] over `collections` only (`None`: all), as a room mapped
    /// to some collections is shown them.
    pub fn stats_in(&self, collections: Option<&[String]>) -> IndexStats {
        self.snapshot().stats_in(collections)
    }

    /// The problems of the files in `collections` (`None`: all).
    pub fn knowledge_errors_in(&self, collections: Option<&[String]>) -> Vec<KnowledgeError> {
        let mut errors = self.knowledge_errors();
        if let Some(cols) = collections {
            errors.retain(|e| self.in_scope(&e.file, Some(cols)));
        }
        errors
    }

    /// The settings this engine was opened with.
    pub fn settings(&self) -> &SearchSettings {
        &self.settings
    }
}

/// The answer line from the best passage `snippet`, whose best sentence for `q`
/// is at `at`: that sentence and the code or list it introduces.
fn answer_line(q: &Question, snippet: &Snippet, at: std::ops::Range<usize>) -> AnswerLine {
    let mut range = answer::extent(&answer::Sought::of(q), &snippet.text, &snippet.code, at);
    // An answer that begins inside code begins at its line's start: its first
    // line keeps the indentation that lines it up with the lines below it.
    if let Some(&(a, _)) = snippet
        .code
        .iter()
        .find(|&&(a, b)| a < range.start && range.start < b)
    {
        let line = snippet.text[..range.start].rfind('\n').map_or(0, |i| i + 1);
        let line = line.max(a);
        if snippet.text[line..range.start].trim().is_empty() {
            range.start = line;
        }
    }
    let code = snippet
        .code
        .iter()
        .filter_map(|&(a, b)| {
            let (a, b) = (a.max(range.start), b.min(range.end));
            (a < b).then(|| (a - range.start, b - range.start))
        })
        .collect();
    AnswerLine {
        text: snippet.text[range].to_string(),
        passage: 1,
        code,
    }
}

/// The collection of a file shown as `knowledge/team/x.md`: what
/// [`knowledge::collection_of`] says of its path under the knowledge folder.
fn collection_of(file: &str) -> String {
    let under_root = file.split_once('/').map_or("", |(_, rest)| rest);
    // A problem of a whole folder names it with a closing `/`.
    if let Some(folder) = under_root.strip_suffix('/') {
        return folder.to_string();
    }
    knowledge::collection_of(std::path::Path::new(under_root), None)
}

/// A passage's citation.
fn citation(s: &index::SharedSnippet) -> Citation {
    // The file's format decides what its lines are: read once.
    let place = s.place();
    Citation {
        title: s.page.title.clone(),
        heading: s.heading.to_string(),
        source: s.page.source.clone(),
        url: s.url.as_deref().map(str::to_string),
        published: s.page.published.map(|d| d.to_string()),
        file: s.page.file.clone(),
        line: place.line(),
        page: place.page(),
        slide: place.slide(),
        row: place.row(),
    }
}

/// The first `n` of `ranked` that say something else than those before
/// them, each with the citations of the lower-ranked ones that say the same
/// words under the same heading of a page of the same title. (The same words
/// on another page, "Default: 8080" of another service, are another fact.)
fn distinct(ranked: Vec<Scored>, n: usize) -> Vec<(Scored, Vec<Citation>)> {
    let mut kept: Vec<(Scored, Vec<Citation>)> = Vec::new();
    for s in ranked {
        let same = kept.iter().position(|(k, _)| {
            k.snippet.text == s.snippet.text
                && k.snippet.heading == s.snippet.heading
                && k.snippet.page.title == s.snippet.page.title
        });
        match same {
            Some(k) if kept[k].1.len() < MAX_ALSO => kept[k].1.push(citation(&s.snippet)),
            Some(_) => {}
            None if kept.len() < n => kept.push((s, Vec::new())),
            None => {}
        }
    }
    kept
}

impl Snapshot {
    /// Answers `question` with up to `n` passages.
    pub fn ask(
        &self,
        question: &str,
        context: &[String],
        n: usize,
        collections: Option<&[String]>,
        bar: f32,
        semantic: Option<&Semantic>,
    ) -> Result<Answer, SearchError> {
        let Judged {
            question: q,
            ranked,
            confidence,
            answered,
        } = self.judge(question, context, collections, bar, semantic)?;
        let answer = if answered {
            ranked[0]
                .sentence
                .clone()
                .map(|(at, _)| answer_line(&q, &ranked[0].snippet, at))
        } else {
            None
        };
        let today = chrono::Local::now().date_naive();
        let freshness = answer.as_ref().and_then(|line| {
            let due = answer::overdue(&line.text, today)?;
            let source_date = ranked[0].snippet.page.published?.to_string();
            Some(Freshness { source_date, due })
        });
        let closest_topics = if answered {
            Vec::new()
        } else {
            self.closest_topics(&ranked, collections)
        };
        let passages = distinct(ranked, n)
            .into_iter()
            .enumerate()
            .map(|(i, (s, also))| Passage {
                rank: i + 1,
                score: (s.score * 1000.0).round() / 1000.0,
                id: s.snippet.id.clone(),
                citation: citation(&s.snippet),
                also,
                highlights: s.highlights,
                text: s.snippet.text.clone(),
                code: s.snippet.code.clone(),
            })
            .collect();
        Ok(Answer {
            question: question.to_string(),
            answered,
            confidence: (confidence.value * 1000.0).round() / 1000.0,
            answer,
            freshness,
            passages,
            closest_topics,
            cut: None,
        })
    }

    /// What to suggest after a refusal: the topics of the passages that matched
    /// something, then the titles of files, all within `collections`.
    fn closest_topics(&self, ranked: &[Scored], collections: Option<&[String]>) -> Vec<String> {
        let mut topics: Vec<String> = Vec::new();
        let near = ranked
            .iter()
            .filter(|s| s.coverage > 0.0)
            .map(|s| topic(&s.snippet.page.title, &s.snippet.heading));
        let all = self
            .files
            .iter()
            .filter(|f| collections.is_none_or(|cols| cols.contains(&f.collection)))
            .map(|f| f.title.clone());
        for t in near.chain(all) {
            if !topics.contains(&t) {
                topics.push(t);
            }
            if topics.len() == 3 {
                break;
            }
        }
        topics
    }
}

fn load_knowledge(
    settings: &SearchSettings,
    cache: &mut knowledge::Cache,
) -> Result<knowledge::KnowledgeBase, SearchError> {
    let options = knowledge::ParseOptions::default();
    let mut kb = knowledge::load_cached(&settings.knowledge_dir, &options, cache).map_err(|e| {
        SearchError::Knowledge {
            dir: settings.knowledge_dir.clone(),
            source: e,
        }
    })?;
    let knowledge_root = knowledge::display_root(&settings.knowledge_dir, None);
    for source in &settings.sources {
        let c = &source.mount.collection;
        // Rooms are limited by collection names, and citations name a source's
        // files under its collection: a knowledge folder of the same name would
        // be shown to the source's rooms (and the source to the folder's).
        let folder = format!("{}/{c}/", knowledge_root.display());
        if kb.drop_collection(c, &folder) {
            kb.errors.push(knowledge::KnowledgeError {
                file: folder,
                line: 0,
                kind: knowledge::ProblemKind::Unreadable(format!(
                    "this folder has the name of the docs source collection `{c}`: not read (rename one of them)"
                )),
            });
        }
        if knowledge_root == Path::new(c) {
            kb.errors.push(knowledge::KnowledgeError {
                file: format!("{c}/"),
                line: 0,
                kind: knowledge::ProblemKind::Unreadable(format!(
                    "the docs source collection `{c}` has the knowledge folder's name: not read (rename its collection)"
                )),
            });
            continue;
        }
        let options = knowledge::ParseOptions {
            source: Some(source.name.clone()),
            mount: Some(source.mount.clone()),
            ..Default::default()
        };
        // A source that can't be read (a repository not cloned yet, a folder gone)
        // is a problem to show, not a reason to stop answering from the others.
        match knowledge::load_cached(&source.path, &options, cache) {
            Ok(more) => kb.merge(more),
            Err(e) => kb.errors.push(knowledge::KnowledgeError {
                file: format!("{}/", source.mount.collection),
                line: 0,
                kind: knowledge::ProblemKind::Unreadable(format!("{}: {e}", source.path.display())),
            }),
        }
    }
    for e in &kb.errors {
        tracing::warn!("{e}");
    }
    Ok(kb)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    const FRONT: &str =
        "+++\ntitle = \"{title}\"\nsource = \"Test Times\"\npublished = 2025-03-05\n+++\n\n";

    #[test]
    fn the_default_model_is_the_installed_one_the_larger_first() {
        let cases: [(&[&str], &str); 4] = [
            (&[], DEFAULT_SEMANTIC_MODEL),
            (&[SMALL_SEMANTIC_MODEL], SMALL_SEMANTIC_MODEL),
            (&[DEFAULT_SEMANTIC_MODEL], DEFAULT_SEMANTIC_MODEL),
            (
                &[SMALL_SEMANTIC_MODEL, DEFAULT_SEMANTIC_MODEL],
                DEFAULT_SEMANTIC_MODEL,
            ),
        ];
        for (installed, expected) in cases {
            let found = installed_default(|dir| installed.iter().any(|i| dir == Path::new(i)));
            assert_eq!(found, Path::new(expected), "installed: {installed:?}");
        }
    }

    fn write(dir: &Path, name: &str, title: &str, body: &str) {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, format!("{}{body}", FRONT.replace("{title}", title))).unwrap();
    }

    #[test]
    fn a_folders_problem_belongs_to_the_collection_the_folder_is() {
        for (file, collection) in [
            ("knowledge/team/hr/", "team/hr"),
            ("knowledge/team/hr/pay.md", "team/hr"),
            ("knowledge/team/", "team"),
            ("knowledge/top.md", ""),
        ] {
            assert_eq!(collection_of(file), collection, "{file}");
        }
    }

    #[test]
    fn an_answer_from_indented_code_keeps_its_first_line_indented() {
        let dir = tempfile::tempdir().unwrap();
        let k = dir.path().join("knowledge");
        write(
            &k,
            "connectors.md",
            "Connectors",
            "## GitHub\n\nConfigure the connector:\n\n```yaml\nconnectors:\n  - type: github\n    config:\n      clientID: abc\n\n      # Required for GitHub Enterprise.\n      hostName: git.example.com\n```\n",
        );
        let engine = Engine::open(&SearchSettings::new(&k, None)).unwrap();
        let a = engine.ask("github enterprise hostname").unwrap();
        let line = a.answer.expect("an answer line");
        assert_eq!(
            line.text,
            "      # Required for GitHub Enterprise.\n      hostName: git.example.com"
        );
        assert_eq!(line.code, [(0, line.text.len())]);
    }

    #[test]
    fn a_follow_up_is_searched_with_the_questions_before_it() {
        let dir = tempfile::tempdir().unwrap();
        let k = dir.path().join("knowledge");
        write(
            &k,
            "zorb.md",
            "Zorbserver",
            "## Ports\n\nThe zorbserver listens on port 8448.\n\n## Logs\n\nThe zorbserver writes its logs to /var/log/zorb.\n",
        );
        write(
            &k,
            "quux.md",
            "Quuxd",
            "## Ports\n\nThe quuxd daemon listens on port 9119.\n\n## Logs\n\nThe quuxd daemon writes its logs to the systemd journal.\n",
        );
        let engine = Engine::open(&SearchSettings::new(&k, None)).unwrap();
        let cases: &[(&[&str], &str, &str)] = &[
            (
                &["Which port does the zorbserver listen on?"],
                "Where are its logs?",
                "/var/log/zorb",
            ),
            (
                &["Which port does the quuxd daemon listen on?"],
                "Where are its logs?",
                "systemd journal",
            ),
            (
                &["Where does quuxd write its logs?"],
                "and which port?",
                "9119",
            ),
            // Its own words decide between passages of the same subject.
            (
                &["Where does the zorbserver write its logs?"],
                "Which port does it use?",
                "8448",
            ),
            // Only the last two count: the oldest, about quuxd, is not
            // carried over.
            (
                &[
                    "Which port does quuxd listen on?",
                    "Where does the zorbserver write its logs?",
                    "Which port does the zorbserver use?",
                ],
                "and its logs?",
                "/var/log/zorb",
            ),
        ];
        for (context, question, expected) in cases {
            let options = AskOptions {
                context: context.iter().map(|c| c.to_string()).collect(),
                ..AskOptions::default()
            };
            let a = engine.ask_with(question, &options).unwrap();
            let line = a.answer.as_ref().map(|l| l.text.as_str()).unwrap_or("");
            assert!(line.contains(expected), "{context:?} {question}: {line:?}");
            // The words carried over are shown as such, and weigh less.
            let why = engine.explain_with(question, &options).unwrap();
            let carried: Vec<&question::Unit> = why
                .question
                .units
                .iter()
                .filter(|u| u.context > 0)
                .collect();
            assert!(!carried.is_empty(), "{question}");
            let own = why.question.units.iter().find(|u| u.context == 0);
            for u in &carried {
                assert!(
                    own.is_none_or(|o| !o.variants.iter().any(|v| u.variants[0].terms == v.terms))
                );
            }
        }
        // What the knowledge never mentions stays refused in a thread too.
        let options = AskOptions {
            context: vec!["Which port does the zorbserver listen on?".into()],
            ..AskOptions::default()
        };
        let off = engine
            .ask_with("What is the weather tomorrow in Paris?", &options)
            .unwrap();
        assert!(!off.answered, "{:?}", off.answer);
        // Alone, the follow-up has no subject to go by: "its logs" are
        // either daemon's.
        let alone = engine.explain("Where are its logs?").unwrap();
        assert!(alone.question.units.iter().all(|u| u.context == 0));
    }

    #[test]
    fn the_same_words_in_several_files_are_one_passage_citing_each() {
        let dir = tempfile::tempdir().unwrap();
        let k = dir.path().join("knowledge");
        let setup = "## Ports\n\nThe zorbserver listens on port 8448 by default.\n\n## Logs\n\nThe zorbserver logs to /var/log/zorb.\n";
        // Versioned docs: each version a copy of the page.
        for v in ["v1", "v2", "v3"] {
            write(&k, &format!("docs/{v}/setup.md"), "Setup", setup);
        }
        // The same words on another page are another passage.
        write(
            &k,
            "docs/tls.md",
            "TLS",
            "## Ports\n\nThe zorbserver listens on port 8448 by default.\n",
        );
        let engine = Engine::open(&SearchSettings::new(&k, None)).unwrap();
        let a = engine
            .ask("which port does the zorbserver listen on")
            .unwrap();
        let texts: Vec<&str> = a.passages.iter().map(|p| p.text.as_str()).collect();
        let distinct: std::collections::HashSet<(&str, &str, &str)> = (a.passages.iter())
            .map(|p| {
                (
                    p.text.as_str(),
                    p.citation.heading.as_str(),
                    p.citation.title.as_str(),
                )
            })
            .collect();
        assert_eq!(distinct.len(), a.passages.len(), "{texts:?}");
        let copies = a
            .passages
            .iter()
            .find(|p| p.citation.file.contains("/v") && p.citation.heading == "Ports")
            .unwrap();
        let mut files: Vec<&str> = std::iter::once(&copies.citation)
            .chain(&copies.also)
            .map(|c| c.file.as_str())
            .collect();
        files.sort_unstable();
        assert_eq!(
            files,
            [
                "knowledge/docs/v1/setup.md",
                "knowledge/docs/v2/setup.md",
                "knowledge/docs/v3/setup.md"
            ]
        );
        assert!(
            copies.also.iter().all(|c| c.line == Some(9)),
            "{:?}",
            copies.also
        );
        // The logs passage, not a copy, fills the next place.
        assert!(texts.iter().any(|t| t.contains("logs")), "{texts:?}");
        let json = crate::render::json(&a);
        assert!(json.contains("\"also\""), "{json}");
        let shown = crate::render::matrix(&a);
        assert!(
            shown.plain.contains("also in knowledge/docs/"),
            "{}",
            shown.plain
        );
        assert!(
            shown.html.contains("also in <code>knowledge/docs/"),
            "{}",
            shown.html
        );
    }

    /// The variants of every unit of `question` as `!why` shows them to a
    /// room that sees `collections`.
    fn variants_in(
        e: &Engine,
        question: &str,
        collections: Option<Vec<String>>,
    ) -> Vec<question::Variant> {
        let options = AskOptions {
            collections,
            ..AskOptions::default()
        };
        let why = e.explain_with(question, &options).unwrap();
        why.question
            .units
            .into_iter()
            .flat_map(|u| u.variants)
            .collect()
    }

    #[test]
    fn why_shows_a_limited_room_only_the_synonyms_its_passages_hold() {
        let dir = tempfile::tempdir().unwrap();
        let k = dir.path().join("knowledge");
        write(
            &k,
            "a/plan.md",
            "Plan",
            "## Falcon\n\nFalcon ships in May.\n",
        );
        write(
            &k,
            "b/deal.md",
            "Deal",
            "## Deal\n\nThe acme takeover closes in June.\n",
        );
        std::fs::write(
            k.join("synonyms.toml"),
            "[[group]]\nterms = [\"falcon\", \"acme takeover\"]\n",
        )
        .unwrap();
        let e = Engine::open(&SearchSettings::new(&k, None)).unwrap();
        let shown = |collections: Option<Vec<String>>| {
            let variants = variants_in(&e, "falcon", collections);
            variants
                .iter()
                .map(|v| v.terms.join(" "))
                .collect::<Vec<_>>()
        };
        let all = shown(None);
        assert!(all.iter().any(|t| t.starts_with("acm")), "{all:?}");
        let limited = shown(Some(vec!["a".into()]));
        assert!(!limited.iter().any(|t| t.starts_with("acm")), "{limited:?}");
        assert!(limited.iter().any(|t| t == "falcon"), "{limited:?}");
    }

    #[test]
    fn a_collections_synonyms_serve_only_the_rooms_that_see_it() {
        let dir = tempfile::tempdir().unwrap();
        let k = dir.path().join("knowledge");
        // Every collection's passages hold every word: only the synonyms in
        // force decide which are a question's variants.
        let birds = "## Birds\n\nThe falcon, osprey, kestrel, hawk and raptor nest here.\n";
        write(&k, "a/birds.md", "A", birds);
        write(&k, "b/birds.md", "B", birds);
        let group = |alt: &str| format!("[[group]]\nterms = [\"falcon\", \"{alt}\"]\n");
        std::fs::write(k.join("synonyms.toml"), group("raptor")).unwrap();
        std::fs::write(k.join("a/synonyms.toml"), group("osprey")).unwrap();
        std::fs::write(k.join("b/synonyms.toml"), group("kestrel")).unwrap();
        let e = Engine::open(&SearchSettings::new(&k, Some(dir.path().join("index")))).unwrap();
        let shown = |collections: Option<&[&str]>| {
            let collections = collections.map(|c| c.iter().map(|s| s.to_string()).collect());
            let mut terms: Vec<String> = variants_in(&e, "falcon", collections)
                .iter()
                .map(|v| v.terms.join(" "))
                .filter(|t| t != "falcon")
                .collect();
            terms.sort();
            terms
        };
        // (scope, the synonyms of "falcon" a question there is asked with)
        let table: &[(Option<&[&str]>, &[&str])] = &[
            (None, &["kestrel", "osprey", "raptor"]),
            (Some(&["a"]), &["osprey", "raptor"]),
            (Some(&["b"]), &["kestrel", "raptor"]),
            (Some(&["a", "b"]), &["kestrel", "osprey", "raptor"]),
        ];
        for (scope, expected) in table {
            assert_eq!(shown(*scope), *expected, "{scope:?}");
        }
        // A's file broken: A's last good synonyms stay, B's change is taken.
        std::fs::write(k.join("a/synonyms.toml"), "[[group]\n").unwrap();
        std::fs::write(k.join("b/synonyms.toml"), group("hawk")).unwrap();
        let report = e.refresh().unwrap();
        assert_eq!(report.errors.len(), 1, "{:?}", report.errors);
        assert_eq!(shown(Some(&["a"])), ["osprey", "raptor"]);
        assert_eq!(shown(Some(&["b"])), ["hawk", "raptor"]);
        // Also through a rebuild from nothing (`!reload`).
        e.rebuild().unwrap();
        assert_eq!(shown(Some(&["a"])), ["osprey", "raptor"]);
    }

    #[test]
    fn what_another_collection_holds_does_not_reorder_a_rooms_passages() {
        // What a room limited to `a` is told, however `b` is: whether its
        // passages say the question's words, and how long they are (BM25's
        // average passage length), and whether they hold the prefix of a word
        // neither has (the cost rule that leaves a common prefix out).
        let told = |b_word: &str, b_words: usize, b_pages: usize| {
            let dir = tempfile::tempdir().unwrap();
            let k = dir.path().join("knowledge");
            write(
                &k,
                "a/valves.md",
                "Valves",
                "## One\n\nThe quarn valve sits here.\n\n## Two\n\nThe blent valve sits there, beside the zorblat gauge, and the quarn valve opens at noon.\n",
            );
            for i in 0..b_pages {
                let filler = "more words ".repeat(b_words);
                write(
                    &k,
                    &format!("b/p{i}.md"),
                    "B",
                    &format!("## P\n\nThe {b_word} pump {i} {filler}.\n"),
                );
            }
            let e = Engine::open(&SearchSettings::new(&k, None)).unwrap();
            let options = AskOptions {
                collections: Some(vec!["a".into()]),
                ..AskOptions::default()
            };
            [
                "quarn blent valve",
                "when does the quarn valve open",
                "zorblixx",
            ]
            .iter()
            .map(|q| {
                let x = e.explain_with(q, &options).unwrap();
                let seen: Vec<(String, u32)> = (x.passages.iter())
                    .map(|p| (p.heading.clone(), (p.bm25 * 1000.0).round() as u32))
                    .collect();
                format!("{q}: {seen:?}")
            })
            .collect::<Vec<_>>()
        };
        let alone = told("other", 0, 6);
        for (word, words, pages) in [("quarn", 0, 6), ("other", 60, 6), ("zorblon", 0, 60)] {
            assert_eq!(
                told(word, words, pages),
                alone,
                "b: {word} x{pages}, {words} more words"
            );
        }
    }

    #[test]
    fn a_rooms_counts_by_its_collections_bits_equal_a_search_within_them() {
        let dir = tempfile::tempdir().unwrap();
        let k = dir.path().join("knowledge");
        for (i, c) in ["a", "b", "c", "a", "b", "a"].iter().enumerate() {
            let extra = if i % 2 == 0 { " The pump hums." } else { "" };
            write(
                &k,
                &format!("{c}/page{i}.md"),
                "Page",
                &format!("## Valve {i}\n\nThe valve {i} opens.{extra}\n"),
            );
        }
        let e = Engine::open(&SearchSettings::new(&k, Some(dir.path().join("index")))).unwrap();
        let check = |e: &Engine| {
            let snap = e.snapshot();
            let f = snap.store.fields;
            for cols in [vec!["a"], vec!["b", "c"], vec!["c", "c"], vec!["none"]] {
                let cols: Vec<String> = cols.into_iter().map(String::from).collect();
                let counts = scope::Counts::new(&snap, Some(&cols)).unwrap();
                for (field, term) in [(f.body, "valv"), (f.body, "pump"), (f.heading, "valv")] {
                    let by_bits = counts.term(field, term);
                    let t = tantivy::Term::from_field_text(field, term);
                    let q = tantivy::query::TermQuery::new(
                        t,
                        tantivy::schema::IndexRecordOption::Basic,
                    );
                    assert_eq!(by_bits, counts.matching(Box::new(q)), "{term} in {cols:?}");
                }
            }
        };
        let valves_in_a = |e: &Engine| {
            let snap = e.snapshot();
            let counts = scope::Counts::new(&snap, Some(&["a".to_string()])).unwrap();
            counts.term(snap.store.fields.body, "valv")
        };
        check(&e);
        // Again, the counts now kept by the snapshot's members.
        check(&e);
        assert_eq!(valves_in_a(&e), 3);
        std::fs::remove_file(k.join("a/page0.md")).unwrap();
        e.refresh().unwrap();
        check(&e);
        assert_eq!(valves_in_a(&e), 2, "a deleted page is not counted");
    }

    #[test]
    fn a_rooms_best_passages_by_its_collections_bits_equal_a_search_within_them() {
        use tantivy::query::{BooleanQuery, Occur, Query, TermQuery};
        let dir = tempfile::tempdir().unwrap();
        let k = dir.path().join("knowledge");
        // Scores that differ and scores that tie, across collections.
        for i in 0..60 {
            let c = ["a", "b", "c"][i % 3];
            let pumps = " The pump hums.".repeat(i % 4);
            write(
                &k,
                &format!("{c}/page{i}.md"),
                "Page",
                &format!("## Valve {i}\n\nThe valve {} opens.{pumps}\n", i % 7),
            );
        }
        let e = Engine::open(&SearchSettings::new(&k, Some(dir.path().join("index")))).unwrap();
        let check = |e: &Engine| {
            let snap = e.snapshot();
            let f = snap.store.fields;
            let query = |words: &[&str]| -> Box<dyn Query> {
                Box::new(BooleanQuery::new(
                    words
                        .iter()
                        .map(|w| {
                            let t = tantivy::Term::from_field_text(f.body, w);
                            let q =
                                TermQuery::new(t, tantivy::schema::IndexRecordOption::WithFreqs);
                            (Occur::Should, Box::new(q) as Box<dyn Query>)
                        })
                        .collect(),
                ))
            };
            for cols in [vec!["a"], vec!["b", "c"], vec!["none"]] {
                let cols: Vec<String> = cols.into_iter().map(String::from).collect();
                let counts = scope::Counts::new(&snap, Some(&cols)).unwrap();
                let members = counts.members().expect("a part of the index").clone();
                for words in [
                    &["valv"][..],
                    &["pump"],
                    &["valv", "pump", "hum"],
                    &["absent"],
                ] {
                    for limit in [1, 3, 10, 100] {
                        let by_bits = snap
                            .searcher
                            .search(
                                &*query(words),
                                &members::TopInScope {
                                    limit,
                                    members: members.clone(),
                                },
                            )
                            .unwrap();
                        let within = BooleanQuery::new(vec![
                            (Occur::Must, query(words)),
                            (Occur::Must, scope::collection_filter(&snap, &cols)),
                        ]);
                        let top = tantivy::collector::TopDocs::with_limit(limit).order_by_score();
                        let filtered = snap.searcher.search(&within, &top).unwrap();
                        assert_eq!(by_bits, filtered, "{words:?} in {cols:?}, {limit}");
                    }
                }
            }
        };
        check(&e);
        std::fs::remove_file(k.join("a/page3.md")).unwrap();
        e.refresh().unwrap();
        check(&e);
    }

    #[test]
    fn a_deleted_page_lends_no_word_to_a_typo_correction() {
        let dir = tempfile::tempdir().unwrap();
        let k = dir.path().join("knowledge");
        // Enough pages that one deletion stays under the share that merges
        // segments: the deleted document stays in the term dictionary.
        for i in 0..40 {
            write(
                &k,
                &format!("a/depot{i}.md"),
                "Depot",
                &format!("## Depot {i}\n\nThe depot opens at {i} am.\n"),
            );
        }
        write(
            &k,
            "b/trip.md",
            "Trip",
            "## Zanzibar\n\nThe team flies to Zanzibar.\n",
        );
        let e = Engine::open(&SearchSettings::new(&k, Some(dir.path().join("index")))).unwrap();
        let corrected = |e: &Engine, collections: Option<Vec<String>>| {
            variants_in(e, "zanzibor depot", collections)
                .iter()
                .any(|v| {
                    v.kind == question::VariantKind::Fuzzy
                        && v.terms.iter().any(|t| t.starts_with("zanzibar"))
                })
        };
        let only_a = || Some(vec!["a".to_string()]);
        assert!(corrected(&e, None), "the page is there: a correction");
        assert!(!corrected(&e, only_a()), "another collection's word");
        std::fs::remove_file(k.join("b/trip.md")).unwrap();
        e.refresh().unwrap();
        let readers = e.snapshot().searcher.segment_readers().to_vec();
        let seg: Vec<(u32, u32)> = readers
            .iter()
            .map(|r| (r.max_doc(), r.num_deleted_docs()))
            .collect();
        assert!(
            readers.iter().any(|r| r.has_deletes()),
            "no deletes left to test: {seg:?}"
        );
        assert!(
            !corrected(&e, None),
            "a deleted page's word, all collections"
        );
        assert!(
            !corrected(&e, only_a()),
            "a deleted page's word, one collection"
        );
    }

    #[test]
    fn a_source_never_shares_a_collection_with_the_knowledge_folder() {
        let dir = tempfile::tempdir().unwrap();
        let k = dir.path().join("knowledge");
        write(
            &k,
            "team/plan.md",
            "Plan",
            "## Merger\n\nWe will buy Acme in July.\n",
        );
        write(
            &k,
            "team/sub/deal.md",
            "Deal",
            "## Acme\n\nWe will buy Acme for cash.\n",
        );
        std::fs::write(k.join("team/broken.md"), "+++\ntitle = \"x\"\n").unwrap();
        write(
            &k,
            "ops/zoo.md",
            "Zoo",
            "## Feeding\n\nThe leopards are fed at noon.\n",
        );
        let docs = dir.path().join("docs");
        std::fs::create_dir_all(&docs).unwrap();
        std::fs::write(
            docs.join("proxy.md"),
            "# Proxy\n\nUse nginx as a reverse proxy.\n",
        )
        .unwrap();
        // A source named like a knowledge folder, or like the knowledge folder
        // itself: a room limited to it sees the source's files only.
        for collection in ["team", "knowledge"] {
            let mut settings = SearchSettings::new(&k, None);
            settings.sources.push(ExtraSource {
                path: docs.clone(),
                name: "Docs".into(),
                mount: knowledge::Mount {
                    collection: collection.into(),
                    ..Default::default()
                },
            });
            let engine = Engine::open(&settings).unwrap();
            let only = Some(vec![collection.to_string()]);
            let options = AskOptions {
                collections: only.clone(),
                ..AskOptions::default()
            };
            let a = engine.ask_with("when will we buy Acme?", &options).unwrap();
            let cited: Vec<&str> = a
                .passages
                .iter()
                .map(|p| p.citation.file.as_str())
                .collect();
            assert!(
                !cited.iter().any(|f| f.starts_with("knowledge/")),
                "{collection}: {cited:?}"
            );
            let sources = engine.sources_in(only.as_deref());
            let files: Vec<&str> = sources.iter().map(|s| s.file.as_str()).collect();
            assert!(
                files.iter().all(|f| !f.starts_with("knowledge/")),
                "{collection}: {files:?}"
            );
            let problems = engine.knowledge_errors();
            if collection == "team" {
                // The folder's own problems go with it: one problem says why.
                let named = |p: &&knowledge::KnowledgeError| p.file.starts_with("knowledge/team/");
                let team: Vec<_> = problems.iter().filter(named).collect();
                assert_eq!(team.len(), 1, "{team:?}");
            }
            assert!(
                problems.iter().any(|e| e
                    .to_string()
                    .contains(&format!("collection `{collection}`"))),
                "{collection}: {problems:?}"
            );
            // The problem is told to the rooms of that collection only.
            let told = |c: &str| {
                let errors = engine.knowledge_errors_in(Some(&[c.to_string()]));
                errors.iter().any(|e| e.to_string().contains("not read"))
            };
            assert!(!told("ops"), "{collection}");
            if collection == "team" {
                assert!(told("team") && !told(""));
            }
            // The other folders are read as before.
            let zoo = engine.ask("when are the leopards fed?").unwrap();
            assert_eq!(zoo.passages[0].citation.file, "knowledge/ops/zoo.md");
        }
    }

    #[test]
    fn docs_folders_are_read_in_place_as_collections_with_links_to_their_pages() {
        let dir = tempfile::tempdir().unwrap();
        let k = dir.path().join("knowledge");
        write(
            &k,
            "zoo.md",
            "Zoo",
            "## Feeding\n\nThe snow leopards are fed at noon.\n",
        );
        let docs = dir.path().join("site/docs");
        std::fs::create_dir_all(docs.join("changelogs")).unwrap();
        std::fs::write(
            docs.join("reverse_proxy.md"),
            "# Using a reverse proxy\n\n## Nginx: setup\n\nForward requests with the `proxy_pass` directive:\n\n```nginx\nlocation /_matrix { proxy_pass http://localhost:8008; }\n```\n\n## Caddy {#caddy-v2}\n\nThe Caddyfile needs one reverse_proxy line.\n",
        )
        .unwrap();
        std::fs::write(
            docs.join("changelogs/1.0.md"),
            "# 1.0\n\nproxy_pass was added.\n",
        )
        .unwrap();
        std::fs::write(docs.join("SUMMARY.md"), "- [Proxy](reverse_proxy.md)\n").unwrap();
        let mut exclude = globset::GlobSetBuilder::new();
        exclude.add(globset::Glob::new("changelogs/**").unwrap());
        let mut settings = SearchSettings::new(&k, None);
        settings.sources.push(ExtraSource {
            path: docs.clone(),
            name: "Server docs".into(),
            mount: knowledge::Mount {
                collection: "server".into(),
                exclude: Some(exclude.build().unwrap()),
                url_base: Some("https://docs.example.org/latest/".into()),
                ..Default::default()
            },
        });
        let engine = Engine::open(&settings).unwrap();
        let a = engine.ask("how do I use proxy_pass with nginx").unwrap();
        assert!(a.answered, "{a:#?}");
        let top = &a.passages[0];
        assert_eq!(top.citation.file, "server/reverse_proxy.md");
        assert_eq!(top.citation.title, "Using a reverse proxy");
        assert_eq!(top.citation.heading, "Nginx: setup");
        assert_eq!(top.citation.source, "Server docs");
        assert_eq!(
            top.citation.url.as_deref(),
            Some("https://docs.example.org/latest/reverse_proxy.html#nginx-setup")
        );
        assert_eq!(top.id, "server/reverse_proxy#nginx-setup-1");
        // A heading that names its anchor is linked at it, as its site links it.
        let caddy = engine.ask("what does the caddyfile need").unwrap();
        assert_eq!(
            caddy.passages[0].citation.url.as_deref(),
            Some("https://docs.example.org/latest/reverse_proxy.html#caddy-v2")
        );
        let (a, b) = top.code[0];
        assert!(top.text[a..b].starts_with("location /_matrix"));
        let files: Vec<String> = engine.sources().into_iter().map(|s| s.file).collect();
        assert_eq!(files, ["knowledge/zoo.md", "server/reverse_proxy.md"]);
        assert_eq!(engine.collection_of("server/reverse_proxy.md"), "server");
        // Rooms limited to a collection see only it.
        let only_server = AskOptions {
            collections: Some(vec!["server".into()]),
            ..Default::default()
        };
        let a = engine
            .ask_with("when are the snow leopards fed", &only_server)
            .unwrap();
        assert!(!a.answered, "{a:#?}");
        assert_eq!(engine.sources_in(Some(&["server".to_string()])).len(), 1);
        // A docs folder that can't be read is a problem; the rest still answers.
        settings.sources[0].path = dir.path().join("missing");
        let engine = Engine::open(&settings).unwrap();
        assert!(
            engine
                .ask("when are the snow leopards fed")
                .unwrap()
                .answered
        );
        assert!(
            engine
                .knowledge_errors()
                .iter()
                .any(|e| e.file == "server/"),
            "{:?}",
            engine.knowledge_errors()
        );
    }

    /// A tiny knowledge base, indexed in RAM.
    fn engine() -> (tempfile::TempDir, Engine) {
        let dir = tempfile::tempdir().unwrap();
        let k = dir.path().join("knowledge");
        write(
            &k,
            "visit.md",
            "Imperial visit",
            "## Plans\n\nBattsetseg's visit was the start of a banner year. Emperor Naruhito is expected to visit Mongolia in July 2025. Naruhito previously visited Mongolia in 2007.\n\n## Festival\n\nThe visit coincides with the Naadam Festival, the largest traditional festival.\n",
        );
        write(
            &k,
            "aid.md",
            "Aid",
            "## Money\n\nJapan funds the expansion of Chinggis Khaan International Airport through official development assistance.\n\nMongolia has abundant mineral resources.\n",
        );
        write(
            &k,
            "team/policy.md",
            "Policy",
            "## Third neighbor\n\nMongolia has pursued a third neighbor policy since the 1990s to balance China and Russia.\n",
        );
        std::fs::write(k.join("synonyms.toml"), "[[group]]\nterms = [\"ODA\", \"official development assistance\"]\n\n[[group]]\nterms = [\"emperor\", \"Naruhito\"]\n\n[[group]]\nterms = [\"pay\", \"fund\"]\n").unwrap();
        let engine = Engine::open(&SearchSettings::new(&k, None)).unwrap();
        (dir, engine)
    }

    fn top(engine: &Engine, q: &str) -> Answer {
        engine.ask(q).unwrap()
    }

    /// Each question of `table` answered, from a passage under the heading
    /// given, with an answer line holding the string given.
    fn answer_as_expected(engine: &Engine, table: &[(&str, &str, &str)]) {
        for (q, heading, expect) in table {
            let a = top(engine, q);
            assert!(a.answered, "{q}: refused");
            assert_eq!(a.passages[0].citation.heading, *heading, "{q}");
            let line = a.answer.as_ref().unwrap();
            assert!(line.text.contains(expect), "{q}: {}", line.text);
        }
    }

    #[test]
    fn answers_with_the_sentence_that_holds_what_is_asked() {
        let (_d, e) = engine();
        let table: &[(&str, &str, &str)] = &[
            (
                "When is the emperor visiting Mongolia?",
                "Plans",
                "July 2025",
            ),
            ("When was Naruhito last in Mongolia?", "Plans", "2007"),
            (
                "Which festival coincides with the visit?",
                "Festival",
                "Naadam",
            ),
            ("What does Japan pay for?", "Money", "Chinggis Khaan"),
            (
                "What is ODA used for?",
                "Money",
                "official development assistance",
            ),
            (
                "What does ODA stand for?",
                "Money",
                "official development assistance",
            ),
            ("ODA full form", "Money", "official development assistance"),
            (
                "What is ODA short for?",
                "Money",
                "official development assistance",
            ),
            ("third neighbour policy", "Third neighbor", "1990s"),
            ("wen is the emprer going to mongolia", "Plans", "July 2025"),
            ("chingis khaan airport", "Money", "Airport"),
        ];
        for (q, heading, expect) in table {
            let a = top(&e, q);
            assert!(a.answered, "{q}: refused");
            assert_eq!(a.passages[0].citation.heading, *heading, "{q}");
            let line = a.answer.as_ref().unwrap();
            assert!(line.text.contains(expect), "{q}: {}", line.text);
            assert_eq!(line.passage, 1);
        }
        // Two of three words misspelt, one beyond correction: the right passage
        // still comes first, though too little of the question is known to be
        // sure of it.
        let a = top(&e, "chingis kahn airport");
        assert_eq!(a.passages[0].citation.heading, "Money");
    }

    #[test]
    fn confidence_bar_refuses_what_the_knowledge_does_not_cover() {
        let (_d, e) = engine();
        for q in [
            "What is the capital of France?",
            "How do I reset my password?",
            "What is the population of Mongolia?",
            "Who is the President of India?",
            "?!",
            "the of and",
        ] {
            let a = top(&e, q);
            assert!(!a.answered, "{q}: answered {:?}", a.answer);
            assert!(a.answer.is_none());
            assert!(!a.closest_topics.is_empty(), "{q}: no topics suggested");
        }
    }

    #[test]
    fn a_how_much_question_is_refused_by_a_passage_that_states_no_number() {
        let (dir, e) = engine();
        // The aid page says Japan funds the airport, never how much.
        let q = "How much money is Japan spending on the airport expansion?";
        let a = top(&e, q);
        assert!(!a.answered, "{q}: answered {:?}", a.answer);
        assert_eq!(a.confidence, 0.0);
        let why = e.explain(q).unwrap();
        assert!(why.confidence.numberless);
        // Told how much, it answers.
        write(
            &dir.path().join("knowledge"),
            "loan.md",
            "Loan",
            "## Airport\n\nJapan is spending 50 billion yen on the airport expansion.\n",
        );
        e.refresh().unwrap();
        let a = top(&e, q);
        assert!(a.answered, "{q}: refused");
        assert!(a.answer.unwrap().text.contains("50 billion yen"));
    }

    #[test]
    fn query_syntax_in_chat_text_is_just_text() {
        let (_d, e) = engine();
        for q in [
            "naadam AND (festival OR \"",
            "title:naadam^3 -x +y",
            "*",
            "naadam~2 [a TO b]",
            "🙂 naadam 🎉",
            "",
        ] {
            let _ = e.ask(q).unwrap();
        }
        assert!(top(&e, "naadam AND (festival OR \"").answered);
    }

    #[test]
    fn fuzzy_terms_only_replace_words_the_index_lacks() {
        let (_d, e) = engine();
        let q = e.explain("emprer naadam festivel").unwrap().question;
        let kinds: Vec<Vec<question::VariantKind>> = q
            .units
            .iter()
            .map(|u| u.variants.iter().map(|v| v.kind).collect())
            .collect();
        // "naadam" is known: no fuzzy variants. The typos get fuzzy ones.
        assert!(
            kinds[0].contains(&question::VariantKind::Fuzzy),
            "{kinds:?}"
        );
        assert!(
            !kinds[1].contains(&question::VariantKind::Fuzzy),
            "{kinds:?}"
        );
        assert!(
            kinds[2].contains(&question::VariantKind::Fuzzy),
            "{kinds:?}"
        );
        // A correctly spelled word never gets a fuzzy variant, even if a near word exists.
        let q = e.explain("visit").unwrap().question;
        assert!(
            q.units[0]
                .variants
                .iter()
                .all(|v| v.kind != question::VariantKind::Fuzzy)
        );
    }

    #[test]
    fn typos_are_corrected_to_the_closest_terms_one_edit_before_two() {
        let (_d, e) = engine();
        // (typo, the stem it must be corrected to, edits)
        let table = [
            ("festivel", "festiv", 2), // stems: "festivel" → "festiv"
            ("mongolai", "mongolia", 1),
            ("mngolai", "mongolia", 2),
            ("naruhiot", "naruhito", 1),
            ("nruhiot", "naruhito", 2),
            ("bongolia", "mongolia", 1), // one edit may change the first letter
            // A typo that changes what the stemmer cuts: "developmnet" stems to
            // itself, four edits from "develop"; spelt right it is one edit away.
            ("developmnet", "develop", 1),
        ];
        for (typo, stem, edits) in table {
            let q = e.explain(typo).unwrap().question;
            let fuzzy: Vec<&question::Variant> = q.units[0]
                .variants
                .iter()
                .filter(|v| v.kind == question::VariantKind::Fuzzy)
                .collect();
            assert!(fuzzy.iter().any(|v| v.terms == [stem]), "{typo}: {fuzzy:?}");
            let strength = if edits == 1 { 0.8 } else { 0.65 };
            assert!(
                fuzzy.iter().all(|v| v.strength == strength),
                "{typo}: only the closest corrections count: {fuzzy:?}"
            );
        }
        // Two edits keep the first letter (as spelling correctors do): the search
        // then walks one branch of the term dictionary.
        let q = e.explain("bongolai").unwrap().question;
        assert!(
            q.units[0]
                .variants
                .iter()
                .all(|v| v.kind != question::VariantKind::Fuzzy),
            "{:?}",
            q.units[0].variants
        );
    }

    #[test]
    fn a_name_is_corrected_only_to_a_name_the_knowledge_writes() {
        let (_d, e) = engine();
        // (question, its unit, the corrections it gets): "banner" is only ever
        // written in lower case ("a banner year"), Mongolia as a name.
        let table: [(&str, &str, &[&str]); 5] = [
            ("Is Mongoila rich in minerals?", "Mongoila", &["mongolia"]),
            // Only ever capitalised, though only where sentences open.
            ("Who is Battsetsg?", "Battsetsg", &["battsetseg"]),
            ("Who founded Bannr?", "Bannr", &[]),
            ("who founded bannr", "bannr", &["banner"]),
            (
                "When is Naruhito visiting Mongoila?",
                "Mongoila",
                &["mongolia"],
            ),
        ];
        for (asked, word, expected) in table {
            let q = e.explain(asked).unwrap().question;
            let unit = q.units.iter().find(|u| u.text == word).unwrap();
            let fuzzy: Vec<&str> = (unit.variants.iter())
                .filter(|v| v.kind == question::VariantKind::Fuzzy)
                .map(|v| v.terms[0].as_str())
                .collect();
            assert_eq!(fuzzy, expected, "{asked}");
        }
    }

    #[test]
    fn a_mistyped_stop_word_is_not_a_topic_the_knowledge_lacks() {
        let (_d, e) = engine();
        // (question, the units it keeps)
        let table: &[(&str, &[&str])] = &[
            (
                "wat festival will the emperor attend",
                &["festival", "emperor", "attend"],
            ),
            ("who did the emperor meet ovr there", &["emperor", "meet"]),
            // A word the knowledge lacks that is no stop word stays: it may be
            // what makes the question out of scope.
            (
                "quokka festival emperor",
                &["quokka", "festival", "emperor"],
            ),
        ];
        for (asked, kept) in table {
            let q = e.explain(asked).unwrap().question;
            let units: Vec<&str> = q.units.iter().map(|u| u.text.as_str()).collect();
            assert_eq!(&units, kept, "{asked}");
        }
        let a = top(&e, "wat festival does the visit coincide with");
        assert!(a.answered);
        assert_eq!(a.passages[0].citation.heading, "Festival");
    }

    #[test]
    fn synonyms_and_acronyms_expand_both_ways() {
        let (_d, e) = engine();
        let a = top(
            &e,
            "Which projects does official development assistance support?",
        );
        assert_eq!(a.passages[0].citation.heading, "Money");
        let a = top(&e, "ODA");
        assert!(a.answered);
        assert_eq!(a.passages[0].citation.heading, "Money");
    }

    #[test]
    fn acronyms_the_knowledge_defines_are_synonyms_within_their_collection() {
        let dir = tempfile::tempdir().unwrap();
        let k = dir.path().join("knowledge");
        write(
            &k,
            "team/standards.md",
            "Standards",
            "## Guides\n\nWe follow the National Institute of Standards and Technology (NIST) guides.\n",
        );
        write(
            &k,
            "team/keys.md",
            "Keys",
            "## Laptop keys\n\nLaptop keys rotate every 90 days, as NIST asks.\n",
        );
        write(
            &k,
            "zoo/keys.md",
            "Zoo keys",
            "## Enclosure keys\n\nEnclosure keys rotate every week, as NIST asks.\n",
        );
        let e = Engine::open(&SearchSettings::new(&k, None)).unwrap();
        let asked = "How often do keys rotate under national institute of standards and technology guidance?";
        let scoped = |c: &str| AskOptions {
            collections: Some(vec![c.to_string()]),
            ..AskOptions::default()
        };
        // The passage that names only the acronym answers the long form.
        let a = e.ask_with(asked, &scoped("team")).unwrap();
        assert_eq!(a.passages[0].citation.heading, "Laptop keys");
        // Another collection did not define it: its rooms do not get it.
        let expanded = |c: &str| {
            let why = e.explain_with(asked, &scoped(c)).unwrap();
            why.question
                .units
                .iter()
                .any(|u| (u.variants.iter()).any(|v| v.kind == question::VariantKind::Synonym))
        };
        assert!(expanded("team"));
        assert!(!expanded("zoo"));
        // A refresh reads the changed file again (the others' are kept): the
        // definition taken out is a synonym no longer.
        write(
            &k,
            "team/standards.md",
            "Standards",
            "## Guides\n\nWe follow the standards guides.\n",
        );
        e.refresh().unwrap();
        assert!(!expanded("team"));
    }

    #[test]
    fn a_stop_word_in_capitals_is_asked_for_as_the_acronym_it_is() {
        let dir = tempfile::tempdir().unwrap();
        let k = dir.path().join("knowledge");
        write(
            &k,
            "pay.md",
            "Pay",
            "## Payday\n\nOur payday is the last working day of each month.\n\n## US payroll\n\nIn the US, payday is twice a month: the 15th and the last day.\n",
        );
        let e = Engine::open(&SearchSettings::new(&k, None)).unwrap();
        for q in ["when is the US payday?", "WHEN IS THE US PAYDAY?"] {
            let why = e.explain_with(q, &AskOptions::default()).unwrap();
            let units: Vec<&str> = why.question.units.iter().map(|u| u.text.as_str()).collect();
            // Shouted, every word is in capitals: none is taken for an acronym.
            let expect: &[&str] = if q.starts_with('W') {
                &["PAYDAY"]
            } else {
                &["US", "payday"]
            };
            assert_eq!(units, expect, "{q}");
        }
        let a = top(&e, "when is the US payday?");
        assert_eq!(a.passages[0].citation.heading, "US payroll");
    }

    /// Knowledge in Chinese, Japanese and Korean, beside English.
    fn cjk_engine() -> (tempfile::TempDir, Engine) {
        let dir = tempfile::tempdir().unwrap();
        let k = dir.path().join("knowledge");
        let pages = [
            (
                "ja/visit.md",
                "天皇の訪問",
                "## 予定\n\n天皇陛下は二〇二五年七月にモンゴルを訪問される予定です。陛下は以前、二〇〇七年にもモンゴルを訪れました。\n\n## 祭り\n\n訪問はナーダム祭と重なります。ナーダムはモンゴル最大の伝統的な祭りです。\n",
            ),
            (
                "ja/aid.md",
                "経済協力",
                "## 空港\n\n日本は政府開発援助でチンギスハーン国際空港の建設を支援しました。\n",
            ),
            (
                "zh/capital.md",
                "蒙古国",
                "## 首都\n\n蒙古国的首都是乌兰巴托，人口约一百六十万。\n\n## 货币\n\n蒙古国的货币是图格里克。\n",
            ),
            (
                "ko/seoul.md",
                "한국",
                "## 수도\n\n대한민국의 수도는 서울입니다. 서울의 인구는 약 천만 명입니다.\n",
            ),
            (
                "ko/geumgang.md",
                "금강산",
                "## 계절\n\n금강산은 여름에 봉래산이라고 불립니다.\n\n## 명성\n\n금강산의 아름다움은 예로부터 유명합니다.\n",
            ),
            (
                "en/festival.md",
                "Festival",
                "## Naadam\n\nThe Naadam Festival is held every July in Ulaanbaatar. The WHO office is nearby.\n",
            ),
        ];
        for (file, title, body) in pages {
            write(&k, file, title, body);
        }
        std::fs::write(
            k.join("synonyms.toml"),
            "[[group]]\nterms = [\"首都\", \"京城\"]\n",
        )
        .unwrap();
        let engine = Engine::open(&SearchSettings::new(&k, None)).unwrap();
        (dir, engine)
    }

    #[test]
    fn other_languages_are_searched_as_written() {
        let dir = tempfile::tempdir().unwrap();
        let k = dir.path().join("knowledge");
        let pages = [
            (
                "de/warschau.md",
                "Warschau",
                "## Börse\n\nDie Warschauer Börse wurde 1991 gegründet. Sie ist die größte Börse in Mittel- und Osteuropa.\n",
            ),
            (
                "el/panthers.md",
                "Πάνθερς",
                "## Άμυνα\n\nΗ άμυνα των Πάνθερς δέχτηκε μόνο 308 πόντους στη σεζόν.\n",
            ),
            (
                "ru/final.md",
                "Суперкубок",
                "## Финал\n\nВ Суперкубке 50 победили «Денвер Бронкос» со счётом 24:10.\n",
            ),
            (
                "hi/ganga.md",
                "गंगा",
                "## नदी\n\nगंगा नदी की लंबाई लगभग 2525 किलोमीटर है।\n",
            ),
            (
                "th/bangkok.md",
                "กรุงเทพ",
                "## เมืองหลวง\n\nกรุงเทพมหานครเป็นเมืองหลวงของประเทศไทย มีประชากรประมาณ 10 ล้านคน\n",
            ),
            // Saved decomposed, as macOS writes: "e" and its accent apart.
            (
                "fr/cafe.md",
                "Cafe\u{301}",
                "## Horaires\n\nLe cafe\u{301} de la gare ouvre a\u{300} sept heures. La cre\u{300}me bru\u{302}le\u{301}e cou\u{302}te cinq euros.\n",
            ),
        ];
        for (file, title, body) in pages {
            write(&k, file, title, body);
        }
        let e = Engine::open(&SearchSettings::new(&k, None)).unwrap();
        let table: &[(&str, &str, &str)] = &[
            (
                "Wann wurde die Warschauer Börse gegründet?",
                "Börse",
                "1991",
            ),
            (
                "Πόσους πόντους δέχτηκε η άμυνα των Πάνθερς;",
                "Άμυνα",
                "308",
            ),
            ("गंगा नदी की लंबाई कितनी है?", "नदी", "2525"),
            // Other forms of the page's words: "Суперкубка", "счёт".
            ("Какой счёт был в финале Суперкубка 50?", "Финал", "24:10"),
            ("เมืองหลวงของประเทศไทยคืออะไร", "เมืองหลวง", "กรุงเทพมหานคร"),
            // Typed composed, found in the page saved decomposed, and the
            // other way round.
            ("Combien coûte la crème brûlée?", "Horaires", "cinq euros"),
            (
                "Combien coûte la cre\u{300}me bru\u{302}le\u{301}e?",
                "Horaires",
                "cinq euros",
            ),
        ];
        answer_as_expected(&e, table);
        // The words that ask are no concepts the knowledge lacks, nor both
        // of a pair ("ne zaman"); but in an English question, "Wie" and "NE"
        // are what it asks about.
        let units = |q: &str| -> Vec<String> {
            let why = e.explain(q).unwrap();
            why.question.units.into_iter().map(|u| u.text).collect()
        };
        let german = units("Wann wurde die Warschauer Börse gegründet?");
        assert!(!german.iter().any(|u| u == "Wann"), "{german:?}");
        assert!(german.iter().any(|u| u.contains("Börse")), "{german:?}");
        let turkish = units("Warşova borsası ne zaman kuruldu?");
        assert!(
            !turkish.iter().any(|u| u == "ne" || u == "zaman"),
            "{turkish:?}"
        );
        assert!(units("When did Wie win the cup?").contains(&"Wie".to_string()));
        assert!(units("Which WO is open in Omaha, NE?").contains(&"NE".to_string()));
    }

    #[test]
    fn chinese_japanese_and_korean_are_searched_by_pairs_of_characters() {
        let (_d, e) = cjk_engine();
        let table: &[(&str, &str, &str)] = &[
            (
                "天皇はいつモンゴルを訪問しますか？",
                "予定",
                "二〇二五年七月",
            ),
            ("モンゴル 訪問 天皇", "予定", "二〇二五年七月"),
            ("モンゴル最大の祭りは？", "祭り", "ナーダム"),
            ("チンギスハーン空港", "空港", "政府開発援助"),
            ("蒙古国的首都是哪里？", "首都", "乌兰巴托"),
            ("蒙古的货币是什么", "货币", "图格里克"),
            // How many, answered in numerals, Chinese or Korean.
            ("蒙古国的人口有多少？", "首都", "一百六十万"),
            ("서울의 인구는 몇 명입니까?", "수도", "천만"),
            ("한국의 수도는 어디입니까?", "수도", "서울입니다"),
            // A Korean noun is found whatever particle closes it: "금강산의"
            // is the "금강산은" of the passage that answers.
            ("금강산의 여름 이름은?", "계절", "봉래산"),
            ("금강산의 여름 이름은 무엇인가?", "계절", "봉래산"),
            ("When is Naadam held?", "Naadam", "July"),
        ];
        answer_as_expected(&e, table);
        // The answer line is one sentence, cut at "。".
        let a = top(&e, "天皇はいつモンゴルを訪問しますか？");
        assert!(!a.answer.unwrap().text.contains("二〇〇七"));
        // A word's overlapping pairs are one highlight, on whole characters.
        let p = &a.passages[0];
        let words: Vec<&str> = p.highlights.iter().map(|&(a, b)| &p.text[a..b]).collect();
        assert!(words.contains(&"モンゴル"), "{words:?}");
        assert!(words.contains(&"天皇"), "{words:?}");
        // About what the knowledge never mentions: refused, in any script.
        for q in ["富士山の高さは？", "长城有多长？", "부산의 인구는?"] {
            assert!(!top(&e, q).answered, "{q}: answered");
        }
        // A Chinese question is one run of characters: the pairs the knowledge
        // holds are its concepts, a pair straddling two of them ("古首") is
        // passed over, as are the characters that ask ("哪里", "谁"), and
        // characters no known pair accounts for are concepts the knowledge
        // lacks: "歌是" of "国歌" (anthem), whose "国" the known "古国"
        // accounts for, and "写的".
        let units = |q: &str| -> Vec<(String, bool)> {
            let why = e.explain(q).unwrap();
            why.question
                .units
                .into_iter()
                .map(|u| (u.text, u.known))
                .collect()
        };
        let own = |v: &[(&str, bool)]| -> Vec<(String, bool)> {
            v.iter().map(|&(t, k)| (t.to_string(), k)).collect()
        };
        assert_eq!(
            units("蒙古首都在哪里"),
            own(&[("蒙古", true), ("首都", true)])
        );
        // A run that opens with a synonym: the rest of it is read as any run,
        // and the pair the synonym ends in is accounted for ("都在").
        assert_eq!(units("首都在哪里"), own(&[("首都", true)]));
        // "何人" asks, with the counter after it.
        assert!(units("人口は何人ですか").iter().all(|(_, known)| *known));
        // A synonym inside the run, as anywhere.
        assert_eq!(
            units("蒙古京城在哪里"),
            own(&[("蒙古", true), ("京城", true)])
        );
        assert_eq!(
            top(&e, "蒙古国的京城在哪里").passages[0].citation.heading,
            "首都"
        );
        // Words of no case are not capitals: "WHO" is not shouted, but named.
        assert!(units("WHOの事務所はどこですか").contains(&("WHO".to_string(), true)));
        assert_eq!(
            units("蒙古国歌是谁写的"),
            own(&[
                ("蒙古", true),
                ("古国", true),
                ("歌是", false),
                ("写的", false)
            ])
        );
    }

    #[test]
    fn citations_and_highlights_point_into_the_files() {
        let (_d, e) = engine();
        let a = top(&e, "Naadam festival");
        let p = &a.passages[0];
        assert_eq!(p.citation.file, "knowledge/visit.md");
        assert_eq!(p.citation.line, Some(13));
        assert_eq!(p.citation.published.as_deref(), Some("2025-03-05"));
        assert_eq!(p.citation.source, "Test Times");
        let words: Vec<&str> = p.highlights.iter().map(|&(a, b)| &p.text[a..b]).collect();
        assert!(
            words.contains(&"Naadam") && words.contains(&"festival"),
            "{words:?}"
        );
    }

    #[test]
    fn collections_limit_what_a_question_sees() {
        let (_d, e) = engine();
        let only_team = AskOptions {
            collections: Some(vec!["team".into()]),
            ..AskOptions::default()
        };
        let a = e.ask_with("third neighbor policy", &only_team).unwrap();
        assert!(a.answered);
        assert!(
            a.passages
                .iter()
                .all(|p| p.citation.file.starts_with("knowledge/team/"))
        );
        let a = e.ask_with("Naadam festival", &only_team).unwrap();
        assert!(!a.answered);
        let why = e.explain_with("Naadam festival", &only_team).unwrap();
        assert!(why.passages.iter().all(|p| p.id.starts_with("team/")));
        let files: Vec<String> = e
            .sources_in(only_team.collections.as_deref())
            .into_iter()
            .map(|s| s.file)
            .collect();
        assert_eq!(files, ["knowledge/team/policy.md"]);
        assert_eq!(e.sources_in(None).len(), 3);
    }

    #[test]
    fn a_scope_tells_nothing_of_the_collections_outside_it() {
        let (_d, e) = engine();
        let team = AskOptions {
            collections: Some(vec!["team".into()]),
            ..AskOptions::default()
        };
        let outside = [
            "Imperial visit",
            "Aid",
            "Naadam",
            "naadam",
            "Plans",
            "Money",
        ];
        // Words of the other collections, unless the asker typed them.
        let leaks = |what: &str, text: &str, asked: &str| {
            let asked = asked.to_lowercase();
            for word in outside
                .iter()
                .filter(|w| !asked.contains(&w.to_lowercase()))
            {
                assert!(!text.contains(word), "{what} names {word:?}: {text}");
            }
        };
        // Nearest topics after a refusal.
        let a = e.ask_with("Naadam festival dates", &team).unwrap();
        assert!(!a.answered);
        leaks("closest topics", &a.closest_topics.join("; "), "");
        assert_eq!(a.closest_topics, ["Policy"]);
        // `!why`: counts, weights and typo corrections come from the scope only.
        for q in [
            "Naadam festival",
            "Naadan festivall",
            "Chinggis Khaan airport",
        ] {
            let why = e.explain_with(q, &team).unwrap();
            assert!(why.question.units.iter().all(|u| !u.known), "{why:?}");
            leaks("!why", &crate::messages::explanation(&why), q);
            let all = e.explain(q).unwrap();
            assert!(all.question.units.iter().any(|u| u.known), "{all:?}");
        }
        // The words it does hold are counted within it.
        let why = e.explain_with("Mongolia policy", &team).unwrap();
        let df: Vec<u64> = why
            .question
            .units
            .iter()
            .map(|u| u.variants[0].doc_freq)
            .collect();
        assert_eq!(df, [1, 1], "{why:?}");
        // `!stats`: its own totals, and no size or build time of the whole
        // index (which any collection's change moves).
        let stats = e.stats_in(team.collections.as_deref());
        assert_eq!(
            (
                stats.files,
                stats.snippets,
                stats.size_bytes,
                stats.built_at.as_str()
            ),
            (1, 1, None, "")
        );
        assert_eq!(e.stats_in(None).files, 3);
        // A scope holding every collection is the whole index, figure for figure.
        let every = Some(vec![String::new(), "team".into()]);
        let q = "When does the emperor visit Mongolia?";
        let scoped = e.ask_with(
            q,
            &AskOptions {
                collections: every,
                ..AskOptions::default()
            },
        );
        assert_eq!(scoped.unwrap(), e.ask(q).unwrap());
        // An empty scope (a fail-closed default) sees nothing at all.
        let none = AskOptions {
            collections: Some(Vec::new()),
            ..AskOptions::default()
        };
        let a = e.ask_with(q, &none).unwrap();
        assert!(!a.answered && a.passages.is_empty() && a.closest_topics.is_empty());
        assert!(e.sources_in(Some(&[])).is_empty());
    }

    #[test]
    fn long_questions_are_cut_to_their_first_words() {
        // (question, max words, max bytes, what is read, (words read, words asked))
        type Case<'a> = (&'a str, usize, usize, &'a str, Option<(usize, usize)>);
        let table: &[Case] = &[
            ("when is the visit?", 10, 100, "when is the visit?", None),
            ("when is the visit?", 2, 100, "when is", Some((2, 4))),
            (
                "  when   is the visit?",
                2,
                100,
                "  when   is",
                Some((2, 4)),
            ),
            ("when is the visit?", 10, 9, "when is", Some((2, 4))),
            ("abcdefghijkl rest", 10, 5, "abcde", Some((1, 2))),
            ("ééééé x", 10, 5, "éé", Some((1, 2))),
            ("", 1, 16, "", None),
        ];
        for &(q, words, bytes, kept, cut) in table {
            let (got, c) = cut_question(q, words, bytes);
            assert_eq!(got, kept, "{q:?} {words} {bytes}");
            assert_eq!(
                c.map(|c| (c.words_read, c.words_asked)),
                cut,
                "{q:?} {words} {bytes}"
            );
        }
        // A cut inside a word is told in characters: a question written
        // without spaces is one word.
        let unspaced = "天皇陛下はいつモンゴルを訪問しますか".repeat(40);
        let (got, c) = cut_question(&unspaced, 100, 2000);
        let c = c.unwrap();
        assert!(c.split_word && got.len() <= 2000, "{c:?}");
        assert_eq!((c.chars_read, c.chars_asked), (666, 720));
        assert_eq!(
            crate::messages::question_cut(&c),
            "Your question was long: I read only its first 666 of 720 characters."
        );
        let (_, c) = cut_question("when is the visit?", 2, 100);
        assert_eq!(
            crate::messages::question_cut(&c.unwrap()),
            "Your question was long: I read only its first 2 of 4 words."
        );
        let (_d, e) = engine();
        let long = format!(
            "When is the emperor visiting Mongolia? {}",
            "very ".repeat(5000)
        );
        let a = e.ask(&long).unwrap();
        assert_eq!(a.cut.map(|c| c.words_asked), Some(5006));
        assert!(a.question.len() <= DEFAULT_MAX_QUESTION_BYTES);
        assert!(
            crate::render::matrix(&a)
                .plain
                .contains("first 100 of 5006 words")
        );
    }

    #[test]
    fn a_damaged_index_is_rebuilt_at_open_and_while_in_use() {
        let (dir, _) = engine();
        let k = dir.path().join("knowledge");
        let index = dir.path().join("index");
        let settings = SearchSettings::new(&k, Some(index.clone()));
        let q = "When is the emperor visiting Mongolia?";
        let want = Engine::open(&settings).unwrap().ask(q).unwrap();
        let files = |ext: &str| -> Vec<PathBuf> {
            std::fs::read_dir(&index)
                .unwrap()
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.to_string_lossy().ends_with(ext))
                .collect()
        };
        // Each damage, found at open: the index is rebuilt and answers as before.
        let damage: &[(&str, &dyn Fn())] = &[
            ("garbled meta.json", &|| {
                std::fs::write(index.join("meta.json"), "{not json").unwrap()
            }),
            ("a segment's postings deleted", &|| {
                std::fs::remove_file(&files(".idx")[0]).unwrap()
            }),
            ("a store truncated", &|| {
                std::fs::write(&files(".store")[0], b"x").unwrap()
            }),
            ("the folder deleted", &|| {
                std::fs::remove_dir_all(&index).unwrap()
            }),
        ];
        for (what, harm) in damage {
            harm();
            let e = Engine::open(&settings).unwrap_or_else(|err| panic!("{what}: {err}"));
            assert_eq!(e.ask(q).unwrap(), want, "{what}");
        }
        // While in use: found by the check, then rebuilt; a whole index is left alone.
        let e = Engine::open(&settings).unwrap();
        assert!(e.repair_if_damaged().unwrap().is_none());
        std::fs::remove_dir_all(&index).unwrap();
        assert_eq!(e.ask(q).unwrap(), want, "still answering from what is open");
        let report = e
            .repair_if_damaged()
            .unwrap()
            .expect("the deletion is noticed");
        assert_eq!(report.files, 3);
        assert!(index.join("meta.json").is_file());
        assert_eq!(e.ask(q).unwrap(), want);
        // A refresh that meets a damaged index rebuilds it instead of failing.
        std::fs::write(index.join("meta.json"), "garbage").unwrap();
        write(
            &k,
            "new.md",
            "New",
            "## N\n\nA new page about the Gobi desert.\n",
        );
        e.refresh().unwrap();
        assert!(e.ask("Gobi desert").unwrap().answered);
        assert!(e.repair_if_damaged().unwrap().is_none());
    }

    #[test]
    fn on_disk_index_rebuilds_when_files_change_and_not_otherwise() {
        let (dir, _) = engine();
        let k = dir.path().join("knowledge");
        let settings = SearchSettings::new(&k, Some(dir.path().join("index")));
        let built = Engine::open(&settings).unwrap().stats().built_at;
        std::thread::sleep(std::time::Duration::from_millis(1100));
        assert_eq!(
            Engine::open(&settings).unwrap().stats().built_at,
            built,
            "unchanged files must reuse the index"
        );
        // `citebot index` builds anew even so, once, and says what it built.
        let (e, report) = Engine::open_rebuilt(&settings).unwrap();
        assert_ne!(e.stats().built_at, built, "open_rebuilt must rebuild");
        assert_eq!(
            (report.files, report.snippets),
            (e.stats().files, e.stats().snippets)
        );
        let built = e.stats().built_at;
        drop(e);
        std::thread::sleep(std::time::Duration::from_millis(1100));
        write(
            &k,
            "new.md",
            "Yurts",
            "## Homes\n\nA ger is a round felt tent.\n",
        );
        let e = Engine::open(&settings).unwrap();
        assert_ne!(e.stats().built_at, built);
        assert!(e.ask("felt tent").unwrap().answered);
        assert_eq!(e.stats().files, 4);
        assert!(e.stats().size_bytes.is_some_and(|b| b > 0));
        // An explicit rebuild sees a deletion at once.
        std::fs::remove_file(k.join("new.md")).unwrap();
        let report = e.rebuild().unwrap();
        assert_eq!(report.files, 3);
        assert!(!e.ask("felt tent").unwrap().answered);
    }

    #[test]
    fn an_updated_index_weighs_words_as_a_fresh_build_does() {
        let (dir, _) = engine();
        let k = dir.path().join("knowledge");
        let updated = SearchSettings::new(&k, Some(dir.path().join("index")));
        for round in 0..3 {
            write(
                &k,
                "new.md",
                "Yurts",
                &format!(
                    "## Homes\n\nBattsetseg met a herder in a round felt tent, edit {round}.\n"
                ),
            );
            Engine::open(&updated).unwrap();
        }
        let e = Engine::open(&updated).unwrap();
        let fresh = SearchSettings::new(&k, Some(dir.path().join("fresh")));
        let fresh = Engine::open(&fresh).unwrap();
        for q in ["felt tent", "Who did Battsetseg meet?", "round ger homes"] {
            let (a, b) = (e.ask(q).unwrap(), fresh.ask(q).unwrap());
            assert_eq!(a, b, "{q}");
        }
    }

    #[test]
    fn refresh_updates_changed_files_and_keeps_the_last_good_version_of_a_broken_one() {
        let (dir, _) = engine();
        let k = dir.path().join("knowledge");
        let settings = SearchSettings::new(&k, Some(dir.path().join("index")));
        let e = Engine::open(&settings).unwrap();
        write(
            &k,
            "new.md",
            "Yurts",
            "## Homes\n\nA ger is a round felt tent.\n",
        );
        e.refresh().unwrap();
        assert!(e.ask("felt tent").unwrap().answered);
        // Broken: the last good version is still served, and the problem is reported.
        std::fs::write(
            k.join("new.md"),
            "+++\ntitle = \"Yurts\"\n\nA ger is a round wool tent.\n",
        )
        .unwrap();
        let report = e.refresh().unwrap();
        assert_eq!(report.errors.len(), 1, "{report}");
        assert!(
            report.errors[0]
                .to_string()
                .starts_with("knowledge/new.md:1:"),
            "{report}"
        );
        assert!(e.ask("felt tent").unwrap().answered);
        assert_eq!(e.knowledge_errors()[0].file, "knowledge/new.md");
        // ...also across a restart.
        let again = Engine::open(&settings).unwrap();
        assert!(again.ask("felt tent").unwrap().answered);
        // Fixed: the new content replaces the old.
        write(
            &k,
            "new.md",
            "Yurts",
            "## Homes\n\nA ger is a round wool tent.\n",
        );
        e.refresh().unwrap();
        assert!(e.knowledge_errors().is_empty());
        assert!(e.ask("wool tent").unwrap().answered);
        let a = e.ask("felt tent").unwrap();
        assert!(a.passages.iter().all(|p| !p.text.contains("felt")));
        // Renamed: found under its new name only.
        std::fs::rename(k.join("new.md"), k.join("team/yurts.md")).unwrap();
        e.refresh().unwrap();
        let a = e.ask("wool tent").unwrap();
        assert_eq!(a.passages[0].citation.file, "knowledge/team/yurts.md");
        assert_eq!(
            a.passages
                .iter()
                .filter(|p| p.text.contains("wool"))
                .count(),
            1
        );
        // Deleted: gone.
        std::fs::remove_file(k.join("team/yurts.md")).unwrap();
        e.refresh().unwrap();
        assert!(!e.ask("wool tent").unwrap().answered);
        assert_eq!(e.stats().files, 3);
    }

    #[test]
    fn phrases_that_ask_what_an_acronym_stands_for_are_not_its_subject() {
        let (_dir, e) = engine();
        let snap = e.snapshot();
        let counts = scope::Counts::new(&snap, None).unwrap();
        // (question, the words left as its subject)
        let table: &[(&str, &[&str])] = &[
            ("What does ODA stand for?", &["ODA"]),
            ("ODA full form", &["ODA"]),
            ("ODA full form?", &["ODA"]),
            ("what is the full form of ODA", &["ODA"]),
            ("NATO long form", &["NATO"]),
            ("what is NATO short for", &["NATO"]),
            ("acronym for the G7", &["G7"]),
            ("ODA abbreviation for what", &["ODA"]),
            ("ODA is an abbreviation of what?", &["ODA"]),
            ("What is ODA an abbreviation for?", &["ODA"]),
            // Not next to an acronym, the words are what is asked about
            // ("form" alone goes anyway, read as a typo of "from").
            ("where is the full form submission", &["full", "submission"]),
            (
                "Is the HR full form submission due?",
                &["HR", "full", "submission", "due"],
            ),
            ("Are we short for staff in Q3?", &["short", "staff", "Q3"]),
        ];
        for (question, subject) in table {
            let q = snap.question(question, &counts).unwrap();
            let words: Vec<&str> = q.units.iter().flat_map(|u| u.text.split(' ')).collect();
            assert_eq!(&words, subject, "{question}");
        }
    }

    #[test]
    fn a_broken_synonyms_file_keeps_the_last_good_synonyms() {
        let (dir, _) = engine();
        let k = dir.path().join("knowledge");
        let e = Engine::open(&SearchSettings::new(&k, Some(dir.path().join("index")))).unwrap();
        assert!(e.ask("What does Japan pay for?").unwrap().answered);
        std::fs::write(k.join("synonyms.toml"), "[[group]\nterms = [").unwrap();
        let report = e.refresh().unwrap();
        assert_eq!(report.errors.len(), 1);
        assert!(
            e.ask("What does Japan pay for?").unwrap().answered,
            "pay ↔ fund still known"
        );
    }

    #[test]
    fn a_document_that_becomes_unreadable_keeps_its_last_good_version() {
        let dir = tempfile::tempdir().unwrap();
        let k = dir.path().join("knowledge");
        std::fs::create_dir_all(&k).unwrap();
        let good =
            crate::knowledge::pdf::tests::pdf(&[&[&["Hotels cost up to 120 euros a night."]]]);
        std::fs::write(k.join("travel.pdf"), good).unwrap();
        let e = Engine::open(&SearchSettings::new(&k, Some(dir.path().join("index")))).unwrap();
        let q = "How much may a hotel cost?";
        assert!(e.ask(q).unwrap().answered);
        std::fs::write(k.join("travel.pdf"), b"%PDF-1.5\n cut short").unwrap();
        let report = e.refresh().unwrap();
        assert_eq!(report.errors.len(), 1, "{:?}", report.errors);
        assert!(
            e.ask(q).unwrap().answered,
            "the last good version is served"
        );
        // And the change is seen: the file's hash moved, the page stayed.
        let file = "knowledge/travel.pdf";
        assert_ne!(report.before.hashes[file], report.after.hashes[file]);
        assert!(report.before.pages.contains(file) && report.after.pages.contains(file));
    }

    #[test]
    fn a_malformed_file_does_not_stop_the_others() {
        let (dir, _) = engine();
        let k = dir.path().join("knowledge");
        std::fs::write(k.join("broken.md"), "+++\ntitle = \"x\"\n").unwrap();
        let e = Engine::open(&SearchSettings::new(&k, None)).unwrap();
        assert_eq!(e.knowledge_errors().len(), 1);
        assert_eq!(e.sources().len(), 3);
        assert!(e.ask("Naadam festival").unwrap().answered);
    }
}
