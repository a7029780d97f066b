//! The bot's TOML configuration: parsing, defaults, secrets from the
//! environment, and validation that names the offending key.
//!
//! Each section's defaults are its `impl Default`, and `#[serde(default)]` on
//! the section fills any key the file leaves out from it; the few defaults the
//! command line shares are the `DEFAULT_*` constants.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use globset::{Glob, GlobSet, GlobSetBuilder};
use serde::Deserialize;

use crate::search::{SearchSettings, SemanticModel};

/// Env var that overrides `matrix.password`.
pub(crate) const ENV_PASSWORD: &str = "CITEBOT_PASSWORD";
/// Env var that overrides `matrix.access_token`.
pub(crate) const ENV_ACCESS_TOKEN: &str = "CITEBOT_ACCESS_TOKEN";
/// Env var that overrides `matrix.store_passphrase`.
pub(crate) const ENV_STORE_PASSPHRASE: &str = "CITEBOT_STORE_PASSPHRASE";
/// Env var that overrides `matrix.recovery_key`.
pub(crate) const ENV_RECOVERY_KEY: &str = "CITEBOT_RECOVERY_KEY";

/// `search.knowledge_dir`, and `citebot --knowledge`.
pub(crate) const DEFAULT_KNOWLEDGE_DIR: &str = "knowledge";
/// `search.index_dir`, and `citebot --index`.
pub(crate) const DEFAULT_INDEX_DIR: &str = "index";
pub(crate) use crate::search::DEFAULT_PASSAGES;
/// `feedback.gaps_days`, and `citebot gaps --days`.
pub(crate) const DEFAULT_GAPS_DAYS: u32 = 30;
/// `feedback.gaps_limit`, and `citebot gaps --limit`.
pub(crate) const DEFAULT_GAPS_LIMIT: usize = 10;

/// A secret string whose `Debug` never prints the value, so configs can be
/// logged with `{:?}` safely.
#[derive(Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct Secret(pub String);

impl Secret {
    /// The secret, or `None` when unset (empty).
    pub(crate) fn get(&self) -> Option<&str> {
        (!self.0.is_empty()).then_some(self.0.as_str())
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_empty() {
            "<unset>"
        } else {
            "<redacted>"
        })
    }
}

/// Compiles globs into one set; a bad glob is named by its place in the list
/// at `key` (`access.allowed_inviters[2]: bad glob "@a[:x"`). An empty list
/// matches nothing.
pub(crate) fn glob_set(key: &str, globs: &[String]) -> anyhow::Result<GlobSet> {
    let mut set = GlobSetBuilder::new();
    for (i, g) in globs.iter().enumerate() {
        set.add(Glob::new(g).with_context(|| format!("{key}[{i}]: bad glob {g:?}"))?);
    }
    Ok(set.build()?)
}

/// The whole configuration file. Only `[matrix]` is required; a section left
/// out is its `Default`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// `[matrix]`: homeserver, account and local store.
    pub matrix: MatrixConfig,
    /// `[access]`: who may invite the bot and who is admin.
    #[serde(default)]
    pub access: AccessConfig,
    /// `[answer]`: when and how the bot replies.
    #[serde(default)]
    pub answer: AnswerConfig,
    /// `[rooms."!room:server"]` or `[rooms."#alias:server"]`: per-room overrides.
    #[serde(default)]
    pub rooms: BTreeMap<String, RoomConfig>,
    /// `[limits]`: per-user and per-room rate limits.
    #[serde(default)]
    pub limits: LimitsConfig,
    /// `[sync]`: the sync loop.
    #[serde(default)]
    pub sync: SyncConfig,
    /// `[search]`: the knowledge files and index.
    #[serde(default)]
    pub search: SearchConfig,
    /// `[knowledge]`: folders and repositories of docs beside `search.knowledge_dir`.
    #[serde(default)]
    pub knowledge: KnowledgeConfig,
    /// `[feedback]`: recording answers and reactions, the gaps report.
    #[serde(default)]
    pub feedback: FeedbackConfig,
    /// `[encryption]`: encrypted rooms.
    #[serde(default)]
    pub encryption: EncryptionConfig,
    /// `[metrics]`: Prometheus metrics and a health check over HTTP.
    #[serde(default)]
    pub metrics: MetricsConfig,
}

/// `[metrics]`
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MetricsConfig {
    /// Address for `/metrics` and `/health` (`127.0.0.1:9464`); `""`: off.
    pub listen: String,
}

/// `[matrix]`
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MatrixConfig {
    /// Homeserver base URL, e.g. `http://127.0.0.1:8008`. Required: its
    /// default is empty, which [`Config::validate`] refuses.
    pub homeserver: String,
    /// The bot's user: a localpart (`citebot`) or full ID. Needed for password login.
    pub user: String,
    /// Password for the first login (env `CITEBOT_PASSWORD` wins).
    pub password: Secret,
    /// Alternative to a password: an existing access token (env `CITEBOT_ACCESS_TOKEN` wins).
    pub access_token: Secret,
    /// Display name of the device created at first login.
    pub device_name: String,
    /// Where the session file and matrix-sdk's SQLite store live.
    pub data_dir: PathBuf,
    /// Passphrase encrypting the SQLite store (env `CITEBOT_STORE_PASSPHRASE` wins).
    pub store_passphrase: Secret,
    /// Recovery key of an earlier deployment (env `CITEBOT_RECOVERY_KEY`,
    /// `citebot run --recovery-key` win): a fresh data dir recovers the
    /// bot's cross-signing identity and key backup with it.
    pub recovery_key: Secret,
}

impl Default for MatrixConfig {
    fn default() -> Self {
        Self {
            homeserver: String::new(),
            user: String::new(),
            password: Secret::default(),
            access_token: Secret::default(),
            device_name: "citebot".into(),
            data_dir: "data".into(),
            store_passphrase: Secret::default(),
            recovery_key: Secret::default(),
        }
    }
}

impl MatrixConfig {
    fn validate(&self) -> anyhow::Result<()> {
        // Not left to serde: the section's Default fills a missing key, so an
        // absent homeserver arrives here empty.
        if self.homeserver.is_empty() {
            bail!("matrix.homeserver: required, e.g. \"http://127.0.0.1:8008\"");
        }
        if !(self.homeserver.starts_with("http://") || self.homeserver.starts_with("https://")) {
            bail!(
                "matrix.homeserver: expected an http:// or https:// URL, got {:?}",
                self.homeserver
            );
        }
        if self.access_token.get().is_none() {
            if self.user.is_empty() {
                bail!("matrix.user: required for password login");
            }
            if self.password.get().is_none() {
                bail!(
                    "matrix.password: set it (or env {ENV_PASSWORD}), or give matrix.access_token (or env {ENV_ACCESS_TOKEN})"
                );
            }
        }
        Ok(())
    }
}

/// `[encryption]`
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EncryptionConfig {
    /// How long an undecryptable message waits for its key before the bot
    /// says it can't read it (seconds).
    pub utd_wait_secs: u64,
    /// At most one "can't read your message" notice per room in this many seconds.
    pub utd_notice_interval_secs: u64,
}

impl Default for EncryptionConfig {
    fn default() -> Self {
        Self {
            utd_wait_secs: 20,
            utd_notice_interval_secs: 300,
        }
    }
}

impl EncryptionConfig {
    /// How long an undecryptable message waits for its key.
    pub(crate) fn utd_wait(&self) -> Duration {
        Duration::from_secs(self.utd_wait_secs)
    }
    /// Minimum gap between two undecryptable-message notices in one room.
    pub(crate) fn utd_notice_interval(&self) -> Duration {
        Duration::from_secs(self.utd_notice_interval_secs)
    }

    fn validate(&self) -> anyhow::Result<()> {
        if self.utd_wait_secs == 0 {
            bail!("encryption.utd_wait_secs: must be at least 1");
        }
        Ok(())
    }
}

/// `[access]`
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AccessConfig {
    /// Globs over user IDs whose invites are accepted (`@*:example.org`).
    /// Empty: every invite is rejected.
    pub allowed_inviters: Vec<String>,
    /// Full user IDs allowed to run admin commands (`!reload`, `!gaps`).
    pub admins: Vec<String>,
    /// Room (ID `!..` or alias `#..`) where problems found while reloading the
    /// knowledge files are posted; `""`: only logged.
    pub admin_room: String,
    /// What a room without a `[rooms]` entry (or whose entry names no
    /// `collections`) sees: `"all"`, or a list (`[]`: nothing).
    pub default_collections: DefaultCollections,
    /// How often `[rooms]` aliases that did not resolve are tried again (s).
    pub alias_retry_secs: u64,
}

impl Default for AccessConfig {
    fn default() -> Self {
        AccessConfig {
            allowed_inviters: Vec::new(),
            admins: Vec::new(),
            admin_room: String::new(),
            default_collections: DefaultCollections::default(),
            alias_retry_secs: 60,
        }
    }
}

impl AccessConfig {
    /// `allowed_inviters` compiled; matches no one when empty.
    pub(crate) fn inviters(&self) -> anyhow::Result<GlobSet> {
        glob_set("access.allowed_inviters", &self.allowed_inviters)
    }

    fn validate(&self) -> anyhow::Result<()> {
        self.inviters()?;
        if self.alias_retry_secs == 0 {
            bail!("access.alias_retry_secs: must be at least 1");
        }
        for (i, admin) in self.admins.iter().enumerate() {
            if !admin.starts_with('@') || !admin.contains(':') {
                bail!(
                    "access.admins[{i}]: expected a full user ID like @alice:example.org, got {admin:?}"
                );
            }
        }
        if !self.admin_room.is_empty() && !is_room_ref(&self.admin_room) {
            bail!(
                "access.admin_room: expected a room ID like \"!abc:example.org\" or an alias like \"#admins:example.org\", got {:?}",
                self.admin_room
            );
        }
        Ok(())
    }
}

/// Whether `r` looks like a room ID (`!abc:server`) or alias (`#name:server`).
fn is_room_ref(r: &str) -> bool {
    (r.starts_with('!') || r.starts_with('#')) && r.contains(':')
}

/// `access.default_collections`: `"all"` or a list of collections.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum DefaultCollections {
    #[default]
    All,
    Only(Vec<String>),
}

impl DefaultCollections {
    /// As a room scope (`None`: all).
    pub(crate) fn scope(&self) -> Option<Vec<String>> {
        match self {
            DefaultCollections::All => None,
            DefaultCollections::Only(c) => Some(c.clone()),
        }
    }
}

impl<'de> Deserialize<'de> for DefaultCollections {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Word(String),
            List(Vec<String>),
        }
        match Raw::deserialize(d)? {
            Raw::Word(w) if w == "all" => Ok(DefaultCollections::All),
            Raw::Word(w) => Err(serde::de::Error::custom(format!(
                "expected \"all\" or a list of collections, got {w:?}"
            ))),
            Raw::List(l) => Ok(DefaultCollections::Only(l)),
        }
    }
}

/// Where a reply goes relative to the question.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReplyMode {
    /// In a thread rooted at the question (or the question's thread).
    #[default]
    Thread,
    /// A plain reply (`m.in_reply_to`) in the main timeline.
    Reply,
}

/// `[answer]`
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AnswerConfig {
    /// Prefix of commands in group rooms: `!ask`, `!help`, ...
    pub command_prefix: String,
    /// `thread` or `reply`.
    pub reply_mode: ReplyMode,
    /// Questions sent while the bot was down are answered up to this age (seconds).
    pub max_missed_age_secs: u64,
    /// Show a typing notice while searching.
    pub typing: bool,
    /// Send read receipts for the questions answered (at most one a room per
    /// second, for the latest).
    pub read_receipts: bool,
    /// A question (ending with `?`) in the thread of one of the bot's answers
    /// is for the bot, without naming it again: a follow-up. A question in
    /// such a thread is searched with the thread's earlier questions.
    pub follow_ups: bool,
}

impl Default for AnswerConfig {
    fn default() -> Self {
        Self {
            command_prefix: "!".into(),
            reply_mode: ReplyMode::default(),
            max_missed_age_secs: 3600,
            typing: true,
            read_receipts: true,
            follow_ups: true,
        }
    }
}

impl AnswerConfig {
    /// How old a missed question may be and still get answered.
    pub(crate) fn max_missed_age(&self) -> Duration {
        Duration::from_secs(self.max_missed_age_secs)
    }

    fn validate(&self) -> anyhow::Result<()> {
        if self.command_prefix.is_empty() || self.command_prefix.contains(' ') {
            bail!("answer.command_prefix: must be non-empty and without spaces");
        }
        Ok(())
    }
}

/// `[rooms."!id:server"]`
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RoomConfig {
    /// Answer every message in this room that ends with `?`, mentioned or not.
    pub answer_questions: bool,
    /// The knowledge collections (sub-folders of the knowledge folder) this room
    /// sees; `None`: all of them.
    pub collections: Option<Vec<String>>,
}

/// `[limits]`
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LimitsConfig {
    /// Requests one user may make in a burst.
    pub user_burst: u32,
    /// Sustained requests per minute per user.
    pub user_per_minute: u32,
    /// Requests one room may make in a burst.
    pub room_burst: u32,
    /// Sustained requests per minute per room.
    pub room_per_minute: u32,
    /// How often a reply is retried on network/server errors before apologising.
    pub send_attempts: u32,
    /// Questions the semantic model may re-rank in a burst, and per minute
    /// sustained, across all rooms. Each costs ~10 ms of CPU; past this rate the
    /// bot ranks by words alone, so a busy homeserver on the same machine keeps
    /// its CPU (`cargo bench --bench load`).
    pub semantic_burst: u32,
    pub semantic_per_minute: u32,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        Self {
            user_burst: 5,
            user_per_minute: 10,
            room_burst: 20,
            room_per_minute: 60,
            send_attempts: 5,
            semantic_burst: 5,
            semantic_per_minute: 30,
        }
    }
}

impl LimitsConfig {
    fn validate(&self) -> anyhow::Result<()> {
        for (key, v) in [
            ("limits.user_burst", self.user_burst),
            ("limits.user_per_minute", self.user_per_minute),
            ("limits.room_burst", self.room_burst),
            ("limits.room_per_minute", self.room_per_minute),
            ("limits.send_attempts", self.send_attempts),
            ("limits.semantic_burst", self.semantic_burst),
            ("limits.semantic_per_minute", self.semantic_per_minute),
        ] {
            if v == 0 {
                bail!("{key}: must be at least 1");
            }
        }
        Ok(())
    }
}

/// `[sync]`
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SyncConfig {
    /// Long-poll timeout of each `/sync` (seconds).
    pub timeout_secs: u64,
    /// Events per room per sync; when more arrived, the rest are fetched from history.
    pub timeline_limit: u32,
}

impl Default for SyncConfig {
    fn default() -> Self {
        Self {
            timeout_secs: 30,
            timeline_limit: 100,
        }
    }
}

impl SyncConfig {
    fn validate(&self) -> anyhow::Result<()> {
        if self.timeline_limit == 0 {
            bail!("sync.timeline_limit: must be at least 1");
        }
        Ok(())
    }
}

/// `[search]`
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SearchConfig {
    /// Folder of Markdown knowledge files.
    pub knowledge_dir: PathBuf,
    /// Where the index is kept on disk; `""` keeps it in RAM.
    pub index_dir: PathBuf,
    /// Ranked passages per answer.
    pub passages: usize,
    /// Below this confidence (0–1) a question is refused.
    pub min_confidence: f32,
    /// Only a question's first words (and bytes) are read; the reply says so.
    pub max_question_words: usize,
    pub max_question_bytes: usize,
    /// Questions searched at once, over all rooms (0: one per CPU core); the
    /// rest wait their turn.
    pub max_concurrent: usize,
    /// How often the running bot checks that the on-disk index is whole, and
    /// rebuilds it from the knowledge files if not (0: never).
    pub index_check_secs: u64,
    /// Watch the knowledge folder and update the index as files change.
    pub watch: bool,
    /// Folder of the semantic model that re-ranks candidates by meaning
    /// (`scripts/model` installs it); unset: the default folder when the model
    /// is installed there; `""` ranks by words alone.
    pub semantic_model: Option<PathBuf>,
}

impl Default for SearchConfig {
    fn default() -> Self {
        Self {
            knowledge_dir: DEFAULT_KNOWLEDGE_DIR.into(),
            index_dir: DEFAULT_INDEX_DIR.into(),
            passages: DEFAULT_PASSAGES,
            min_confidence: crate::search::DEFAULT_MIN_CONFIDENCE,
            max_question_words: crate::search::DEFAULT_MAX_QUESTION_WORDS,
            max_question_bytes: crate::search::DEFAULT_MAX_QUESTION_BYTES,
            max_concurrent: 0,
            index_check_secs: 30,
            watch: true,
            semantic_model: None,
        }
    }
}

impl SearchConfig {
    /// The search core's settings for this config.
    pub(crate) fn settings(&self) -> SearchSettings {
        SearchSettings {
            knowledge_dir: self.knowledge_dir.clone(),
            index_dir: (!self.index_dir.as_os_str().is_empty()).then(|| self.index_dir.clone()),
            passages: self.passages,
            min_confidence: self.min_confidence,
            max_question_words: self.max_question_words,
            max_question_bytes: self.max_question_bytes,
            sources: Vec::new(),
            semantic_model: SemanticModel::from_setting(self.semantic_model.as_deref()),
        }
    }

    fn validate(&self) -> anyhow::Result<()> {
        if !(0.0..=1.0).contains(&self.min_confidence) {
            bail!("search.min_confidence: must be between 0 and 1");
        }
        if self.max_question_words == 0 || self.max_question_bytes < 16 {
            bail!(
                "search.max_question_words / max_question_bytes: must be at least 1 word and 16 bytes"
            );
        }
        if self.passages == 0 {
            bail!("search.passages: must be at least 1");
        }
        Ok(())
    }
}

/// `[knowledge]`
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KnowledgeConfig {
    /// `[[knowledge.sources]]`: each a folder or git repository of docs.
    pub sources: Vec<SourceConfig>,
}

/// `[[knowledge.sources]]`: a docs folder read in place, or a git repository the
/// bot clones into `matrix.data_dir` and pulls.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SourceConfig {
    /// The folder; with `git`, a folder inside the repository (default: all of it).
    pub path: Option<PathBuf>,
    /// A repository to clone (any URL or path `git clone` takes).
    pub git: Option<String>,
    /// The branch to follow (default: the repository's own).
    pub branch: Option<String>,
    /// How often to pull the repository.
    pub pull_interval_secs: u64,
    /// The collection rooms are limited by (default: the repository's name, else
    /// the folder's).
    pub collection: Option<String>,
    /// The source named in citations of pages whose front matter names none
    /// (default: the collection).
    pub name: Option<String>,
    /// Globs of the files to read, relative to the folder (default: all).
    pub include: Vec<String>,
    /// Globs of files to leave out, e.g. `changelogs/**`.
    pub exclude: Vec<String>,
    /// Where the pages are published: citations link to `url_base` + the page.
    pub url_base: Option<String>,
    /// The page's address under `url_base`, `{path}` being the file's path without
    /// extension (default `{path}.html`; `{path}/` for one folder per page).
    pub url_pattern: Option<String>,
}

impl Default for SourceConfig {
    fn default() -> Self {
        Self {
            path: None,
            git: None,
            branch: None,
            pull_interval_secs: 300,
            collection: None,
            name: None,
            include: Vec::new(),
            exclude: Vec::new(),
            url_base: None,
            url_pattern: None,
        }
    }
}

impl SourceConfig {
    /// The collection: as configured, else the folder's or repository's name.
    pub(crate) fn collection(&self) -> String {
        if let Some(c) = &self.collection {
            return c.clone();
        }
        let from_path = self
            .path
            .as_ref()
            .and_then(|p| p.file_name())
            .map(|n| n.to_string_lossy().into_owned())
            .filter(|n| !n.is_empty() && n != ".");
        let from_git = self.git.as_ref().map(|g| {
            let last = g
                .trim_end_matches('/')
                .rsplit(['/', ':'])
                .next()
                .unwrap_or(g);
            last.trim_end_matches(".git").to_string()
        });
        from_git.or(from_path).unwrap_or_else(|| "docs".into())
    }

    /// Where the repository of a `git` source is checked out.
    pub(crate) fn checkout(&self, data_dir: &Path) -> PathBuf {
        data_dir.join("sources").join(self.collection())
    }

    /// The folder the bot reads.
    pub(crate) fn folder(&self, data_dir: &Path) -> PathBuf {
        match (&self.git, &self.path) {
            (Some(_), Some(p)) => self.checkout(data_dir).join(p),
            (Some(_), None) => self.checkout(data_dir),
            (None, Some(p)) => p.clone(),
            (None, None) => PathBuf::new(),
        }
    }

    /// The search core's description of this source.
    pub(crate) fn search_source(
        &self,
        data_dir: &Path,
    ) -> anyhow::Result<crate::search::ExtraSource> {
        // An empty `include` reads every file, not none: no set at all.
        let globs = |key: &str, list: &[String]| -> anyhow::Result<Option<GlobSet>> {
            (!list.is_empty()).then(|| glob_set(key, list)).transpose()
        };
        let collection = self.collection();
        Ok(crate::search::ExtraSource {
            path: self.folder(data_dir),
            name: self.name.clone().unwrap_or_else(|| collection.clone()),
            mount: crate::knowledge::Mount {
                include: globs("knowledge.sources.include", &self.include)?,
                exclude: globs("knowledge.sources.exclude", &self.exclude)?,
                url_base: self.url_base.clone(),
                url_pattern: self.url_pattern.clone(),
                within: self.git.is_some().then(|| self.checkout(data_dir)),
                collection,
            },
        })
    }
}

/// `[feedback]`
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FeedbackConfig {
    /// Record each answer, refusal and 👍/👎 reaction in `feedback.jsonl` in
    /// `matrix.data_dir`.
    pub record: bool,
    /// `!gaps` looks at this many days back.
    pub gaps_days: u32,
    /// `!gaps` lists at most this many questions.
    pub gaps_limit: usize,
    /// The file is moved aside (replacing the one moved aside before) once it
    /// would grow past this many bytes.
    pub max_bytes: u64,
}

impl Default for FeedbackConfig {
    fn default() -> Self {
        Self {
            record: true,
            gaps_days: DEFAULT_GAPS_DAYS,
            gaps_limit: DEFAULT_GAPS_LIMIT,
            max_bytes: crate::feedback::DEFAULT_MAX_BYTES,
        }
    }
}

impl FeedbackConfig {
    fn validate(&self) -> anyhow::Result<()> {
        if self.gaps_days == 0 {
            bail!("feedback.gaps_days: must be at least 1");
        }
        if self.max_bytes < 4096 {
            bail!("feedback.max_bytes: must be at least 4096");
        }
        if self.gaps_limit == 0 {
            bail!("feedback.gaps_limit: must be at least 1");
        }
        Ok(())
    }
}

impl Config {
    /// Reads, parses, applies env secrets and validates `path`.
    pub(crate) fn load(path: &Path) -> anyhow::Result<Config> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading config file {}", path.display()))?;
        Self::parse(&text).with_context(|| format!("config file {}", path.display()))
    }

    /// Just `matrix.data_dir` of the config file at `path`, for tools that read the
    /// bot's data without logging in (no credentials needed).
    pub(crate) fn data_dir_of(path: &Path) -> anyhow::Result<PathBuf> {
        // Deliberately lenient: only `[matrix]` must be there, and keys this
        // doesn't know are ignored.
        #[derive(Deserialize)]
        struct Partial {
            matrix: PartialMatrix,
        }
        #[derive(Deserialize)]
        struct PartialMatrix {
            data_dir: Option<PathBuf>,
        }
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading config file {}", path.display()))?;
        let partial: Partial =
            toml::from_str(&text).with_context(|| format!("config file {}", path.display()))?;
        Ok(partial
            .matrix
            .data_dir
            .unwrap_or_else(|| MatrixConfig::default().data_dir))
    }

    /// Just the docs sources of the config file at `path` (`[[knowledge.sources]]`),
    /// for tools that read knowledge without running the bot (no credentials needed).
    pub(crate) fn sources_of(path: &Path) -> anyhow::Result<Vec<crate::search::ExtraSource>> {
        #[derive(Deserialize)]
        struct Partial {
            #[serde(default)]
            knowledge: KnowledgeConfig,
        }
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading config file {}", path.display()))?;
        let partial: Partial =
            toml::from_str(&text).with_context(|| format!("config file {}", path.display()))?;
        let data_dir = Self::data_dir_of(path)?;
        partial
            .knowledge
            .sources
            .iter()
            .enumerate()
            .map(|(i, s)| {
                s.search_source(&data_dir)
                    .with_context(|| format!("knowledge.sources[{i}]"))
            })
            .collect()
    }

    /// Parses TOML text, applies env secrets and validates.
    pub(crate) fn parse(text: &str) -> anyhow::Result<Config> {
        let mut config: Config = toml::from_str(text)?;
        config.apply_env(|k| std::env::var(k).ok());
        config.validate()?;
        Ok(config)
    }

    /// The search core's settings (`[search]`, and `[[knowledge.sources]]`).
    pub fn search_settings(&self) -> SearchSettings {
        let mut s = self.search.settings();
        s.sources = self
            .knowledge
            .sources
            .iter()
            .filter_map(|src| src.search_source(&self.matrix.data_dir).ok())
            .collect();
        s
    }

    /// Env vars win over the file, so secrets can stay out of it.
    pub(crate) fn apply_env(&mut self, var: impl Fn(&str) -> Option<String>) {
        let set = |slot: &mut Secret, name: &str| {
            if let Some(v) = var(name).filter(|v| !v.is_empty()) {
                *slot = Secret(v);
            }
        };
        set(&mut self.matrix.password, ENV_PASSWORD);
        set(&mut self.matrix.access_token, ENV_ACCESS_TOKEN);
        set(&mut self.matrix.store_passphrase, ENV_STORE_PASSPHRASE);
        set(&mut self.matrix.recovery_key, ENV_RECOVERY_KEY);
    }

    /// Checks what serde can't; each error names the key.
    pub fn validate(&self) -> anyhow::Result<()> {
        self.matrix.validate()?;
        self.access.validate()?;
        self.validate_room_scopes()?;
        self.answer.validate()?;
        self.limits.validate()?;
        self.sync.validate()?;
        self.validate_sources()?;
        self.search.validate()?;
        self.feedback.validate()?;
        self.encryption.validate()
    }

    /// `[rooms]` and `access.default_collections`: what each room sees must
    /// exist.
    fn validate_room_scopes(&self) -> anyhow::Result<()> {
        for (room, rc) in &self.rooms {
            if !is_room_ref(room) {
                bail!(
                    "rooms.{room:?}: expected a room ID like \"!abc:example.org\" or an alias like \"#help:example.org\""
                );
            }
            for (i, c) in rc.collections.iter().flatten().enumerate() {
                self.check_collection(&format!("rooms.{room:?}.collections[{i}]"), c)?;
            }
        }
        if let DefaultCollections::Only(list) = &self.access.default_collections {
            for (i, c) in list.iter().enumerate() {
                self.check_collection(&format!("access.default_collections[{i}]"), c)?;
            }
        }
        Ok(())
    }

    /// `[[knowledge.sources]]`: each a folder or a repository, with a
    /// collection of its own.
    fn validate_sources(&self) -> anyhow::Result<()> {
        let mut collections = std::collections::BTreeSet::new();
        for (i, s) in self.knowledge.sources.iter().enumerate() {
            let key = format!("knowledge.sources[{i}]");
            match (&s.path, &s.git) {
                (None, None) => bail!("{key}: set `path` (a folder) or `git` (a repository)"),
                (Some(p), Some(_)) if p.is_absolute() => {
                    bail!("{key}.path: with `git`, a folder inside the repository, not {p:?}")
                }
                _ => {}
            }
            let c = s.collection();
            if c.is_empty() || c.starts_with('.') || c.contains(['/', '\\']) {
                bail!("{key}.collection: a plain name, not {c:?}");
            }
            if !collections.insert(c.clone()) {
                bail!("{key}.collection: {c:?} is used by another source");
            }
            // Rooms are limited by collection name: one shared with the
            // knowledge folder would show each side's files to the other's rooms.
            let knowledge = &self.search.knowledge_dir;
            if knowledge.file_name().is_some_and(|n| n == c.as_str()) {
                bail!(
                    "{key}.collection: {c:?} is the knowledge folder's name (its files are cited as {c}/…); give the source another collection"
                );
            }
            if knowledge.join(&c).is_dir() {
                bail!(
                    "{key}.collection: {c:?} is a folder in {} too; give the source another collection (or rename the folder)",
                    knowledge.display()
                );
            }
            if let Some(u) = &s.url_base
                && !(u.starts_with("http://") || u.starts_with("https://"))
            {
                bail!("{key}.url_base: expected an http:// or https:// URL, got {u:?}");
            }
            if s.git.is_some() && s.pull_interval_secs == 0 {
                bail!("{key}.pull_interval_secs: must be at least 1");
            }
            s.search_source(&self.matrix.data_dir)
                .with_context(|| key.clone())?;
        }
        Ok(())
    }

    /// That `c`, named at `key`, is a collection: a folder in the knowledge
    /// folder or a docs source's collection.
    fn check_collection(&self, key: &str, c: &str) -> anyhow::Result<()> {
        let dir = self.search.knowledge_dir.join(c);
        let folder = !c.trim().is_empty() && !c.contains("..") && dir.is_dir();
        let source = self.knowledge.sources.iter().any(|s| s.collection() == c);
        if !(folder || source) {
            bail!(
                "{key}: {c:?} is not a folder in {} nor a source's collection",
                self.search.knowledge_dir.display()
            );
        }
        Ok(())
    }

    /// Path of the feedback file.
    pub(crate) fn feedback_path(&self) -> PathBuf {
        self.matrix.data_dir.join(crate::feedback::FILE)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: &str =
        "[matrix]\nhomeserver = \"http://127.0.0.1:8008\"\nuser = \"citebot\"\npassword = \"pw\"\n";

    #[test]
    fn minimal_config_gets_documented_defaults() {
        let c = Config::parse(MIN).unwrap();
        assert_eq!(c.answer.command_prefix, "!");
        assert_eq!(c.answer.reply_mode, ReplyMode::Thread);
        assert_eq!(c.answer.max_missed_age_secs, 3600);
        assert_eq!(c.search.passages, 3);
        let s = c.search_settings();
        assert_eq!(s.knowledge_dir, PathBuf::from("knowledge"));
        assert_eq!(s.index_dir, Some(PathBuf::from("index")));
        assert_eq!(c.matrix.data_dir, PathBuf::from("data"));
    }

    /// Each section, `[rooms]` entry and `[[knowledge.sources]]` entry is its
    /// `Default` whether it is left out, given with no keys, or (in
    /// config.example.toml, which documents the defaults) spelled out key by key.
    #[test]
    fn every_section_left_out_or_empty_is_its_default() {
        fn debug(v: &dyn fmt::Debug) -> String {
            format!("{v:?}")
        }
        // Each section of `c` beside its default.
        let sections = |c: &Config| {
            // [matrix] has no default as a whole: only its optional keys do.
            let matrix = MatrixConfig {
                homeserver: c.matrix.homeserver.clone(),
                user: c.matrix.user.clone(),
                password: c.matrix.password.clone(),
                ..MatrixConfig::default()
            };
            [
                ("matrix", debug(&c.matrix), debug(&matrix)),
                ("access", debug(&c.access), debug(&AccessConfig::default())),
                ("answer", debug(&c.answer), debug(&AnswerConfig::default())),
                (
                    "rooms",
                    debug(&c.rooms),
                    debug(&BTreeMap::<String, RoomConfig>::new()),
                ),
                ("limits", debug(&c.limits), debug(&LimitsConfig::default())),
                ("sync", debug(&c.sync), debug(&SyncConfig::default())),
                ("search", debug(&c.search), debug(&SearchConfig::default())),
                (
                    "knowledge",
                    debug(&c.knowledge),
                    debug(&KnowledgeConfig::default()),
                ),
                (
                    "feedback",
                    debug(&c.feedback),
                    debug(&FeedbackConfig::default()),
                ),
                (
                    "encryption",
                    debug(&c.encryption),
                    debug(&EncryptionConfig::default()),
                ),
                (
                    "metrics",
                    debug(&c.metrics),
                    debug(&MetricsConfig::default()),
                ),
            ]
        };
        let parse = |text: &str| toml::from_str::<Config>(text).unwrap();
        let minimal = parse(MIN);
        let headers: String = sections(&minimal)
            .iter()
            .filter(|(name, ..)| !MIN.contains(&format!("[{name}]")))
            .map(|(name, ..)| format!("[{name}]\n"))
            .collect();
        let cases = [
            ("left out", minimal.clone()),
            ("given with no keys", parse(&format!("{MIN}{headers}"))),
            // The example documents every default.
            (
                "in config.example.toml",
                parse(include_str!("../config.example.toml")),
            ),
        ];
        for (case, c) in &cases {
            for (name, got, default) in sections(c) {
                assert_eq!(got, default, "[{name}] {case}");
            }
        }
        // Entries of [rooms] and [[knowledge.sources]] too.
        let c = parse(&format!("{MIN}[rooms.\"!a:x\"]\n[[knowledge.sources]]\n"));
        assert_eq!(debug(&c.rooms["!a:x"]), debug(&RoomConfig::default()));
        let source = &c.knowledge.sources[0];
        assert_eq!(debug(source), debug(&SourceConfig::default()));
    }

    #[test]
    fn required_keys_stay_required() {
        for (text, key) in [
            ("", "missing field `matrix`"),
            (
                "[matrix]\nuser = \"a\"\npassword = \"p\"\n",
                "matrix.homeserver",
            ),
            (
                "[matrix]\nhomeserver = \"\"\nuser = \"a\"\npassword = \"p\"\n",
                "matrix.homeserver",
            ),
        ] {
            let err = format!("{:#}", Config::parse(text).unwrap_err());
            assert!(err.contains(key), "error for {key}: {err}");
        }
    }

    #[test]
    fn globs_name_the_bad_one_and_an_empty_list_matches_nothing() {
        let set = glob_set("k", &["@*:example.org".into()]).unwrap();
        assert!(set.is_match("@a:example.org") && !set.is_match("@a:example.net"));
        assert!(!glob_set("k", &[]).unwrap().is_match("@a:example.org"));
        let err = format!(
            "{:#}",
            glob_set("k", &["@a".into(), "@a[".into()]).unwrap_err()
        );
        assert!(err.starts_with("k[1]: bad glob \"@a[\""), "{err}");
    }

    #[test]
    fn sources_are_folders_or_repositories_with_a_collection() {
        let c = Config::parse(&format!(
            "{MIN}[[knowledge.sources]]\npath = \"/srv/synapse/docs\"\nexclude = [\"changelogs/**\"]\n\
             [[knowledge.sources]]\ngit = \"https://example.org/team/handbook.git\"\npath = \"pages\"\n"
        ))
        .unwrap();
        let s = c.search_settings();
        let got: Vec<(String, PathBuf)> = s
            .sources
            .iter()
            .map(|s| (s.mount.collection.clone(), s.path.clone()))
            .collect();
        assert_eq!(
            got,
            [
                ("docs".to_string(), PathBuf::from("/srv/synapse/docs")),
                (
                    "handbook".to_string(),
                    PathBuf::from("data/sources/handbook/pages")
                ),
            ]
        );
        assert!(
            s.sources[0]
                .mount
                .exclude
                .as_ref()
                .unwrap()
                .is_match("changelogs/1.0.md")
        );
        assert_eq!(s.sources[0].name, "docs");
        let git = &c.knowledge.sources[1];
        assert_eq!(git.pull_interval_secs, 300);
        let repo: SourceConfig =
            toml::from_str("git = \"git@example.org:team/handbook.git\"").unwrap();
        assert_eq!(repo.collection(), "handbook");
    }

    #[test]
    fn example_config_parses() {
        let text = include_str!("../config.example.toml");
        let mut c: Config = toml::from_str(text).unwrap();
        // The example leaves the secret empty (it belongs in the env).
        c.matrix.password = Secret("pw".into());
        c.validate().unwrap();
        let d = Config::parse(MIN).unwrap();
        // The example documents the defaults: they must agree.
        assert_eq!(c.answer.max_missed_age_secs, d.answer.max_missed_age_secs);
        assert_eq!(c.limits.user_burst, d.limits.user_burst);
        assert_eq!(c.limits.room_per_minute, d.limits.room_per_minute);
        assert_eq!(c.sync.timeout_secs, d.sync.timeout_secs);
        assert_eq!(c.search.passages, d.search.passages);
        assert_eq!(c.encryption.utd_wait_secs, d.encryption.utd_wait_secs);
        assert_eq!(
            c.encryption.utd_notice_interval_secs,
            d.encryption.utd_notice_interval_secs
        );
        assert_eq!(c.search.watch, d.search.watch);
        assert_eq!(c.access.admin_room, d.access.admin_room);
        assert_eq!(c.feedback.record, d.feedback.record);
        assert_eq!(c.feedback.gaps_days, d.feedback.gaps_days);
        assert_eq!(c.feedback.gaps_limit, d.feedback.gaps_limit);
    }

    #[test]
    fn a_source_collection_is_no_knowledge_folder_name() {
        let dir = tempfile::tempdir().unwrap();
        let k = dir.path().join("knowledge");
        std::fs::create_dir_all(k.join("team")).unwrap();
        let parse = |collection: &str| {
            Config::parse(&format!(
                "{MIN}[search]\nknowledge_dir = {:?}\n[[knowledge.sources]]\npath = \"/srv/docs\"\ncollection = {collection:?}\n",
                k.display().to_string()
            ))
            .map_err(|e| format!("{e:#}"))
        };
        // (collection, the error's words; None: accepted)
        let table: &[(&str, Option<&str>)] = &[
            ("docs", None),
            ("knowledge", Some("is the knowledge folder's name")),
            ("team", Some("is a folder in")),
        ];
        for (collection, want) in table {
            match (parse(collection), want) {
                (Ok(_), None) => {}
                (Err(e), Some(w)) => assert!(e.contains(w), "{collection}: {e}"),
                (got, _) => panic!("{collection}: {got:?}"),
            }
        }
    }

    #[test]
    fn room_collections_must_exist() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("team")).unwrap();
        let k = dir.path().display().to_string();
        Config::parse(&format!(
            "{MIN}[search]\nknowledge_dir = {k:?}\n[rooms.\"#help:x\"]\ncollections = [\"team\"]\n[rooms.\"!a:x\"]\nanswer_questions = true\n"
        ))
        .unwrap();
        let err = format!(
            "{:#}",
            Config::parse(&format!(
                "{MIN}[search]\nknowledge_dir = {k:?}\n[rooms.\"!a:x\"]\ncollections = [\"tema\"]\n"
            ))
            .unwrap_err()
        );
        assert!(err.contains("rooms.\"!a:x\".collections[0]"), "{err}");
        // What rooms without an entry see.
        let default = |v: &str| {
            Config::parse(&format!(
                "{MIN}[access]\ndefault_collections = {v}\n[search]\nknowledge_dir = {k:?}\n"
            ))
            .map(|c| c.access.default_collections.scope())
            .map_err(|e| format!("{e:#}"))
        };
        assert_eq!(default("\"all\""), Ok(None));
        assert_eq!(default("[]"), Ok(Some(vec![])));
        assert_eq!(default("[\"team\"]"), Ok(Some(vec!["team".to_string()])));
        assert!(
            default("\"none\"")
                .unwrap_err()
                .contains("expected \"all\"")
        );
        assert!(
            default("[\"tema\"]")
                .unwrap_err()
                .contains("access.default_collections[0]")
        );
        assert_eq!(
            Config::parse(MIN).unwrap().access.default_collections,
            DefaultCollections::All
        );
    }

    #[test]
    fn bad_configs_name_the_key() {
        let cases: &[(&str, &str)] = &[
            (
                "[matrix]\nhomeserver = \"x\"\nuser = \"a\"\npassword = \"p\"\n",
                "matrix.homeserver",
            ),
            (
                "[matrix]\nhomeserver = \"http://h\"\npassword = \"p\"\n",
                "matrix.user",
            ),
            (
                "[matrix]\nhomeserver = \"http://h\"\nuser = \"a\"\n",
                "matrix.password",
            ),
            (&format!("{MIN}[answer]\nprefix = \"!\"\n"), "prefix"),
            (
                &format!("{MIN}[answer]\nreply_mode = \"dm\"\n"),
                "reply_mode",
            ),
            (
                &format!("{MIN}[access]\nallowed_inviters = [\"@a[:x\"]\n"),
                "access.allowed_inviters[0]",
            ),
            (
                &format!("{MIN}[access]\nadmins = [\"alice\"]\n"),
                "access.admins[0]",
            ),
            (
                &format!("{MIN}[limits]\nuser_burst = 0\n"),
                "limits.user_burst",
            ),
            (&format!("{MIN}[search]\npassages = 0\n"), "search.passages"),
            (
                &format!("{MIN}[search]\nmin_confidence = 1.5\n"),
                "search.min_confidence",
            ),
            (
                &format!("{MIN}[[knowledge.sources]]\ncollection = \"x\"\n"),
                "knowledge.sources[0]: set `path`",
            ),
            (
                &format!(
                    "{MIN}[[knowledge.sources]]\npath = \"/a/docs\"\n[[knowledge.sources]]\npath = \"/b/docs\"\n"
                ),
                "knowledge.sources[1].collection",
            ),
            (
                &format!("{MIN}[[knowledge.sources]]\npath = \"d\"\nurl_base = \"ftp://x\"\n"),
                "knowledge.sources[0].url_base",
            ),
            (
                &format!("{MIN}[[knowledge.sources]]\npath = \"d\"\nexclude = [\"a[\"]\n"),
                "knowledge.sources.exclude",
            ),
            (
                &format!("{MIN}[[knowledge.sources]]\ngit = \"/r.git\"\npath = \"/abs\"\n"),
                "knowledge.sources[0].path",
            ),
            (
                &format!("{MIN}[rooms.general]\nanswer_questions = true\n"),
                "rooms",
            ),
            (&format!("{MIN}[bogus]\n"), "bogus"),
            (
                &format!("{MIN}[access]\nadmin_room = \"admins\"\n"),
                "access.admin_room",
            ),
            (
                &format!("{MIN}[feedback]\ngaps_days = 0\n"),
                "feedback.gaps_days",
            ),
            (
                &format!("{MIN}[encryption]\nutd_wait_secs = 0\n"),
                "encryption.utd_wait_secs",
            ),
        ];
        for (text, key) in cases {
            let err = format!("{:#}", Config::parse(text).unwrap_err());
            assert!(err.contains(key), "error for {key}: {err}");
        }
    }

    #[test]
    fn env_secrets_override_the_file_and_never_print() {
        let mut c: Config = toml::from_str(MIN).unwrap();
        c.apply_env(|k| (k == ENV_PASSWORD).then(|| "from-env".to_string()));
        assert_eq!(c.matrix.password.get(), Some("from-env"));
        let dbg = format!("{c:?}");
        assert!(!dbg.contains("from-env") && dbg.contains("<redacted>"));
    }
}
