//! The bot's TOML configuration: parsing, defaults, secrets from the
//! environment, and validation that names the offending key.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use serde::Deserialize;

use crate::search::SearchSettings;

/// Env var that overrides `matrix.password`.
pub const ENV_PASSWORD: &str = "CITEBOT_PASSWORD";
/// Env var that overrides `matrix.access_token`.
pub const ENV_ACCESS_TOKEN: &str = "CITEBOT_ACCESS_TOKEN";
/// Env var that overrides `matrix.store_passphrase`.
pub const ENV_STORE_PASSPHRASE: &str = "CITEBOT_STORE_PASSPHRASE";
/// Env var that overrides `matrix.recovery_key`.
pub const ENV_RECOVERY_KEY: &str = "CITEBOT_RECOVERY_KEY";

/// A secret string whose `Debug` never prints the value, so configs can be
/// logged with `{:?}` safely.
#[derive(Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct Secret(pub String);

impl Secret {
    /// The secret, or `None` when unset (empty).
    pub fn get(&self) -> Option<&str> {
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

/// The whole configuration file.
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
#[serde(deny_unknown_fields)]
pub struct MetricsConfig {
    /// Address for `/metrics` and `/health` (`127.0.0.1:9464`); `""`: off.
    #[serde(default)]
    pub listen: String,
}

/// `[matrix]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MatrixConfig {
    /// Homeserver base URL, e.g. `http://127.0.0.1:8008`. Required.
    pub homeserver: String,
    /// The bot's user: a localpart (`citebot`) or full ID. Needed for password login.
    #[serde(default)]
    pub user: String,
    /// Password for the first login (env `CITEBOT_PASSWORD` wins).
    #[serde(default)]
    pub password: Secret,
    /// Alternative to a password: an existing access token (env `CITEBOT_ACCESS_TOKEN` wins).
    #[serde(default)]
    pub access_token: Secret,
    /// Display name of the device created at first login.
    #[serde(default = "default_device_name")]
    pub device_name: String,
    /// Where the session file and matrix-sdk's SQLite store live.
    #[serde(default = "default_data_dir")]
    pub data_dir: PathBuf,
    /// Passphrase encrypting the SQLite store (env `CITEBOT_STORE_PASSPHRASE` wins).
    #[serde(default)]
    pub store_passphrase: Secret,
    /// Recovery key of an earlier deployment (env `CITEBOT_RECOVERY_KEY`,
    /// `citebot run --recovery-key` win): a fresh data dir recovers the
    /// bot's cross-signing identity and key backup with it.
    #[serde(default)]
    pub recovery_key: Secret,
}

/// `[encryption]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EncryptionConfig {
    /// How long an undecryptable message waits for its key before the bot
    /// says it can't read it (seconds).
    #[serde(default = "default_utd_wait")]
    pub utd_wait_secs: u64,
    /// At most one "can't read your message" notice per room in this many seconds.
    #[serde(default = "default_utd_notice_interval")]
    pub utd_notice_interval_secs: u64,
}

/// `[access]`
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccessConfig {
    /// Globs over user IDs whose invites are accepted (`@*:example.org`).
    /// Empty: every invite is rejected.
    #[serde(default)]
    pub allowed_inviters: Vec<String>,
    /// Full user IDs allowed to run admin commands (`!reload`, `!gaps`).
    #[serde(default)]
    pub admins: Vec<String>,
    /// Room (ID `!..` or alias `#..`) where problems found while reloading the
    /// knowledge files are posted; `""`: only logged.
    #[serde(default)]
    pub admin_room: String,
    /// What a room without a `[rooms]` entry (or whose entry names no
    /// `collections`) sees: `"all"`, or a list (`[]`: nothing).
    #[serde(default)]
    pub default_collections: DefaultCollections,
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
    pub fn scope(&self) -> Option<Vec<String>> {
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
#[serde(deny_unknown_fields)]
pub struct AnswerConfig {
    /// Prefix of commands in group rooms: `!ask`, `!help`, ...
    #[serde(default = "default_prefix")]
    pub command_prefix: String,
    /// `thread` or `reply`.
    #[serde(default)]
    pub reply_mode: ReplyMode,
    /// Questions sent while the bot was down are answered up to this age (seconds).
    #[serde(default = "default_max_missed_age")]
    pub max_missed_age_secs: u64,
    /// Show a typing notice while searching.
    #[serde(default = "yes")]
    pub typing: bool,
    /// Send read receipts for the questions answered (at most one a room per
    /// second, for the latest).
    #[serde(default = "yes")]
    pub read_receipts: bool,
}

/// `[rooms."!id:server"]`
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoomConfig {
    /// Answer every message in this room that ends with `?`, mentioned or not.
    #[serde(default)]
    pub answer_questions: bool,
    /// The knowledge collections (sub-folders of the knowledge folder) this room
    /// sees; `None`: all of them.
    #[serde(default)]
    pub collections: Option<Vec<String>>,
}

/// `[limits]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsConfig {
    /// Requests one user may make in a burst.
    #[serde(default = "default_user_burst")]
    pub user_burst: u32,
    /// Sustained requests per minute per user.
    #[serde(default = "default_user_per_minute")]
    pub user_per_minute: u32,
    /// Requests one room may make in a burst.
    #[serde(default = "default_room_burst")]
    pub room_burst: u32,
    /// Sustained requests per minute per room.
    #[serde(default = "default_room_per_minute")]
    pub room_per_minute: u32,
    /// How often a reply is retried on network/server errors before apologising.
    #[serde(default = "default_send_attempts")]
    pub send_attempts: u32,
}

/// `[sync]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyncConfig {
    /// Long-poll timeout of each `/sync` (seconds).
    #[serde(default = "default_sync_timeout")]
    pub timeout_secs: u64,
    /// Events per room per sync; when more arrived, the rest are fetched from history.
    #[serde(default = "default_timeline_limit")]
    pub timeline_limit: u32,
}

/// `[search]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchConfig {
    /// Folder of Markdown knowledge files.
    #[serde(default = "default_knowledge_dir")]
    pub knowledge_dir: PathBuf,
    /// Where the index is kept on disk; `""` keeps it in RAM.
    #[serde(default = "default_index_dir")]
    pub index_dir: PathBuf,
    /// Ranked passages per answer.
    #[serde(default = "default_passages")]
    pub passages: usize,
    /// Below this confidence (0–1) a question is refused.
    #[serde(default = "default_min_confidence")]
    pub min_confidence: f32,
    /// Only a question's first words (and bytes) are read; the reply says so.
    #[serde(default = "default_max_question_words")]
    pub max_question_words: usize,
    #[serde(default = "default_max_question_bytes")]
    pub max_question_bytes: usize,
    /// Questions searched at once, over all rooms (0: one per CPU core); the
    /// rest wait their turn.
    #[serde(default)]
    pub max_concurrent: usize,
    /// How often the running bot checks that the on-disk index is whole, and
    /// rebuilds it from the knowledge files if not (0: never).
    #[serde(default = "default_index_check_secs")]
    pub index_check_secs: u64,
    /// Watch the knowledge folder and update the index as files change.
    #[serde(default = "yes")]
    pub watch: bool,
}

/// `[knowledge]`
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KnowledgeConfig {
    /// `[[knowledge.sources]]`: each a folder or git repository of docs.
    #[serde(default)]
    pub sources: Vec<SourceConfig>,
}

/// `[[knowledge.sources]]`: a docs folder read in place, or a git repository the
/// bot clones into `matrix.data_dir` and pulls.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceConfig {
    /// The folder; with `git`, a folder inside the repository (default: all of it).
    #[serde(default)]
    pub path: Option<PathBuf>,
    /// A repository to clone (any URL or path `git clone` takes).
    #[serde(default)]
    pub git: Option<String>,
    /// The branch to follow (default: the repository's own).
    #[serde(default)]
    pub branch: Option<String>,
    /// How often to pull the repository.
    #[serde(default = "default_pull_interval")]
    pub pull_interval_secs: u64,
    /// The collection rooms are limited by (default: the repository's name, else
    /// the folder's).
    #[serde(default)]
    pub collection: Option<String>,
    /// The source named in citations of pages whose front matter names none
    /// (default: the collection).
    #[serde(default)]
    pub name: Option<String>,
    /// Globs of the files to read, relative to the folder (default: all).
    #[serde(default)]
    pub include: Vec<String>,
    /// Globs of files to leave out, e.g. `changelogs/**`.
    #[serde(default)]
    pub exclude: Vec<String>,
    /// Where the pages are published: citations link to `url_base` + the page.
    #[serde(default)]
    pub url_base: Option<String>,
    /// The page's address under `url_base`, `{path}` being the file's path without
    /// extension (default `{path}.html`; `{path}/` for one folder per page).
    #[serde(default)]
    pub url_pattern: Option<String>,
}

fn default_pull_interval() -> u64 {
    300
}

impl SourceConfig {
    /// The collection: as configured, else the folder's or repository's name.
    pub fn collection(&self) -> String {
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
    pub fn checkout(&self, data_dir: &Path) -> PathBuf {
        data_dir.join("sources").join(self.collection())
    }

    /// The folder the bot reads.
    pub fn folder(&self, data_dir: &Path) -> PathBuf {
        match (&self.git, &self.path) {
            (Some(_), Some(p)) => self.checkout(data_dir).join(p),
            (Some(_), None) => self.checkout(data_dir),
            (None, Some(p)) => p.clone(),
            (None, None) => PathBuf::new(),
        }
    }

    fn globs(list: &[String], key: &str) -> anyhow::Result<Option<globset::GlobSet>> {
        if list.is_empty() {
            return Ok(None);
        }
        let mut b = globset::GlobSetBuilder::new();
        for g in list {
            b.add(globset::Glob::new(g).with_context(|| format!("{key}: bad glob {g:?}"))?);
        }
        Ok(Some(b.build()?))
    }

    /// The search core's description of this source.
    pub fn search_source(&self, data_dir: &Path) -> anyhow::Result<crate::search::ExtraSource> {
        let collection = self.collection();
        Ok(crate::search::ExtraSource {
            path: self.folder(data_dir),
            name: self.name.clone().unwrap_or_else(|| collection.clone()),
            mount: crate::knowledge::Mount {
                include: Self::globs(&self.include, "knowledge.sources.include")?,
                exclude: Self::globs(&self.exclude, "knowledge.sources.exclude")?,
                url_base: self.url_base.clone(),
                url_pattern: self.url_pattern.clone(),
                collection,
            },
        })
    }
}

/// `[feedback]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeedbackConfig {
    /// Record each answer, refusal and 👍/👎 reaction in `feedback.jsonl` in
    /// `matrix.data_dir`.
    #[serde(default = "yes")]
    pub record: bool,
    /// `!gaps` looks at this many days back.
    #[serde(default = "default_gaps_days")]
    pub gaps_days: u32,
    /// `!gaps` lists at most this many questions.
    #[serde(default = "default_gaps_limit")]
    pub gaps_limit: usize,
    /// The file is moved aside (replacing the one moved aside before) once it
    /// would grow past this many bytes.
    #[serde(default = "default_feedback_max_bytes")]
    pub max_bytes: u64,
}

fn default_feedback_max_bytes() -> u64 {
    crate::feedback::DEFAULT_MAX_BYTES
}

fn yes() -> bool {
    true
}
fn default_device_name() -> String {
    "citebot".into()
}
fn default_data_dir() -> PathBuf {
    "data".into()
}
fn default_prefix() -> String {
    "!".into()
}
fn default_max_missed_age() -> u64 {
    3600
}
fn default_user_burst() -> u32 {
    5
}
fn default_user_per_minute() -> u32 {
    10
}
fn default_room_burst() -> u32 {
    20
}
fn default_room_per_minute() -> u32 {
    60
}
fn default_send_attempts() -> u32 {
    5
}
fn default_sync_timeout() -> u64 {
    30
}
fn default_timeline_limit() -> u32 {
    100
}
fn default_utd_wait() -> u64 {
    20
}
fn default_utd_notice_interval() -> u64 {
    300
}
fn default_knowledge_dir() -> PathBuf {
    "knowledge".into()
}
fn default_index_dir() -> PathBuf {
    "index".into()
}
fn default_min_confidence() -> f32 {
    crate::search::DEFAULT_MIN_CONFIDENCE
}

fn default_index_check_secs() -> u64 {
    30
}
fn default_max_question_words() -> usize {
    crate::search::DEFAULT_MAX_QUESTION_WORDS
}
fn default_max_question_bytes() -> usize {
    crate::search::DEFAULT_MAX_QUESTION_BYTES
}

fn default_passages() -> usize {
    3
}
fn default_gaps_days() -> u32 {
    30
}
fn default_gaps_limit() -> usize {
    10
}

impl Default for FeedbackConfig {
    fn default() -> Self {
        Self {
            record: true,
            gaps_days: default_gaps_days(),
            gaps_limit: default_gaps_limit(),
            max_bytes: crate::feedback::DEFAULT_MAX_BYTES,
        }
    }
}

impl Default for AnswerConfig {
    fn default() -> Self {
        Self {
            command_prefix: default_prefix(),
            reply_mode: ReplyMode::default(),
            max_missed_age_secs: default_max_missed_age(),
            typing: true,
            read_receipts: true,
        }
    }
}

impl Default for LimitsConfig {
    fn default() -> Self {
        Self {
            user_burst: default_user_burst(),
            user_per_minute: default_user_per_minute(),
            room_burst: default_room_burst(),
            room_per_minute: default_room_per_minute(),
            send_attempts: default_send_attempts(),
        }
    }
}

impl Default for SyncConfig {
    fn default() -> Self {
        Self {
            timeout_secs: default_sync_timeout(),
            timeline_limit: default_timeline_limit(),
        }
    }
}

impl Default for EncryptionConfig {
    fn default() -> Self {
        Self {
            utd_wait_secs: default_utd_wait(),
            utd_notice_interval_secs: default_utd_notice_interval(),
        }
    }
}

impl EncryptionConfig {
    /// How long an undecryptable message waits for its key.
    pub fn utd_wait(&self) -> Duration {
        Duration::from_secs(self.utd_wait_secs)
    }
    /// Minimum gap between two undecryptable-message notices in one room.
    pub fn utd_notice_interval(&self) -> Duration {
        Duration::from_secs(self.utd_notice_interval_secs)
    }
}

impl Default for SearchConfig {
    fn default() -> Self {
        Self {
            knowledge_dir: default_knowledge_dir(),
            index_dir: default_index_dir(),
            passages: default_passages(),
            min_confidence: default_min_confidence(),
            max_question_words: default_max_question_words(),
            max_question_bytes: default_max_question_bytes(),
            max_concurrent: 0,
            index_check_secs: default_index_check_secs(),
            watch: true,
        }
    }
}

impl SearchConfig {
    /// The search core's settings for this config.
    pub fn settings(&self) -> SearchSettings {
        SearchSettings {
            knowledge_dir: self.knowledge_dir.clone(),
            index_dir: (!self.index_dir.as_os_str().is_empty()).then(|| self.index_dir.clone()),
            passages: self.passages,
            min_confidence: self.min_confidence,
            max_question_words: self.max_question_words,
            max_question_bytes: self.max_question_bytes,
            sources: Vec::new(),
        }
    }
}

impl AnswerConfig {
    /// How old a missed question may be and still get answered.
    pub fn max_missed_age(&self) -> Duration {
        Duration::from_secs(self.max_missed_age_secs)
    }
}

impl Config {
    /// Reads, parses, applies env secrets and validates `path`.
    pub fn load(path: &Path) -> anyhow::Result<Config> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading config file {}", path.display()))?;
        Self::parse(&text).with_context(|| format!("config file {}", path.display()))
    }

    /// Just `matrix.data_dir` of the config file at `path`, for tools that read the
    /// bot's data without logging in (no credentials needed).
    pub fn data_dir_of(path: &Path) -> anyhow::Result<PathBuf> {
        #[derive(Deserialize)]
        struct Partial {
            matrix: PartialMatrix,
        }
        #[derive(Deserialize)]
        struct PartialMatrix {
            #[serde(default = "default_data_dir")]
            data_dir: PathBuf,
        }
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading config file {}", path.display()))?;
        let partial: Partial =
            toml::from_str(&text).with_context(|| format!("config file {}", path.display()))?;
        Ok(partial.matrix.data_dir)
    }

    /// Just the docs sources of the config file at `path` (`[[knowledge.sources]]`),
    /// for tools that read knowledge without running the bot (no credentials needed).
    pub fn sources_of(path: &Path) -> anyhow::Result<Vec<crate::search::ExtraSource>> {
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
    pub fn parse(text: &str) -> anyhow::Result<Config> {
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
    pub fn apply_env(&mut self, var: impl Fn(&str) -> Option<String>) {
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
        let m = &self.matrix;
        if !(m.homeserver.starts_with("http://") || m.homeserver.starts_with("https://")) {
            bail!(
                "matrix.homeserver: expected an http:// or https:// URL, got {:?}",
                m.homeserver
            );
        }
        if m.access_token.get().is_none() {
            if m.user.is_empty() {
                bail!("matrix.user: required for password login");
            }
            if m.password.get().is_none() {
                bail!(
                    "matrix.password: set it (or env {ENV_PASSWORD}), or give matrix.access_token (or env {ENV_ACCESS_TOKEN})"
                );
            }
        }
        for (i, glob) in self.access.allowed_inviters.iter().enumerate() {
            globset::Glob::new(glob)
                .with_context(|| format!("access.allowed_inviters[{i}]: bad glob {glob:?}"))?;
        }
        for (i, admin) in self.access.admins.iter().enumerate() {
            if !admin.starts_with('@') || !admin.contains(':') {
                bail!(
                    "access.admins[{i}]: expected a full user ID like @alice:example.org, got {admin:?}"
                );
            }
        }
        let room_ref = |r: &str| (r.starts_with('!') || r.starts_with('#')) && r.contains(':');
        if !self.access.admin_room.is_empty() && !room_ref(&self.access.admin_room) {
            bail!(
                "access.admin_room: expected a room ID like \"!abc:example.org\" or an alias like \"#admins:example.org\", got {:?}",
                self.access.admin_room
            );
        }
        for (room, rc) in &self.rooms {
            if !room_ref(room) {
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
        if self.answer.command_prefix.is_empty() || self.answer.command_prefix.contains(' ') {
            bail!("answer.command_prefix: must be non-empty and without spaces");
        }
        let l = &self.limits;
        for (key, v) in [
            ("limits.user_burst", l.user_burst),
            ("limits.user_per_minute", l.user_per_minute),
            ("limits.room_burst", l.room_burst),
            ("limits.room_per_minute", l.room_per_minute),
            ("limits.send_attempts", l.send_attempts),
            ("sync.timeline_limit", self.sync.timeline_limit),
        ] {
            if v == 0 {
                bail!("{key}: must be at least 1");
            }
        }
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
        if !(0.0..=1.0).contains(&self.search.min_confidence) {
            bail!("search.min_confidence: must be between 0 and 1");
        }
        if self.search.max_question_words == 0 || self.search.max_question_bytes < 16 {
            bail!(
                "search.max_question_words / max_question_bytes: must be at least 1 word and 16 bytes"
            );
        }
        if self.search.passages == 0 {
            bail!("search.passages: must be at least 1");
        }
        if self.feedback.gaps_days == 0 {
            bail!("feedback.gaps_days: must be at least 1");
        }
        if self.feedback.max_bytes < 4096 {
            bail!("feedback.max_bytes: must be at least 4096");
        }
        if self.feedback.gaps_limit == 0 {
            bail!("feedback.gaps_limit: must be at least 1");
        }
        if self.encryption.utd_wait_secs == 0 {
            bail!("encryption.utd_wait_secs: must be at least 1");
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

    /// The `[rooms]` entry of a room, by its ID or else by one of its aliases.
    pub fn room<'a>(
        &self,
        room_id: &str,
        aliases: impl IntoIterator<Item = &'a str>,
    ) -> Option<&RoomConfig> {
        self.rooms
            .get(room_id)
            .or_else(|| aliases.into_iter().find_map(|a| self.rooms.get(a)))
    }

    /// Path of the feedback file.
    pub fn feedback_path(&self) -> PathBuf {
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
    fn rooms_are_found_by_id_or_alias_and_collections_must_exist() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("team")).unwrap();
        let k = dir.path().display().to_string();
        let c = Config::parse(&format!(
            "{MIN}[search]\nknowledge_dir = {k:?}\n[rooms.\"#help:x\"]\ncollections = [\"team\"]\n[rooms.\"!a:x\"]\nanswer_questions = true\n"
        ))
        .unwrap();
        assert!(c.room("!a:x", []).unwrap().answer_questions);
        let by_alias = c.room("!b:x", ["#other:x", "#help:x"]).unwrap();
        assert_eq!(
            by_alias.collections.as_deref(),
            Some(&["team".to_string()][..])
        );
        assert!(c.room("!b:x", ["#other:x"]).is_none());
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
