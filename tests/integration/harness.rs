//! Test harness: one Synapse per test binary (started on first use, torn
//! down with its process group when the binary exits), unique users per test
//! so tests can run in parallel, and helpers to start and stop the bot.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use citebot::bot::human::{Human, Seen};
use citebot::bot::synapse::{Synapse, SynapseOptions};
use citebot::config::{Config, Secret};
use citebot::search::{Engine, SearchSettings};
use matrix_sdk::Room;
use matrix_sdk::ruma::{EventId, OwnedEventId};
use tempfile::TempDir;
use tokio::sync::OnceCell;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// How long any single expected thing may take.
pub const WAIT: Duration = Duration::from_secs(30);
/// Window for "nothing (more) arrives".
pub const QUIET: Duration = Duration::from_secs(3);

pub const EMPEROR: &str = "When is the emperor visiting Mongolia?";
pub const FRANCE: &str = "What is the capital of France?";

static SYNAPSE: OnceCell<Synapse> = OnceCell::const_new();
static SYNAPSE_DIR: OnceCell<TempDir> = OnceCell::const_new();

/// The shared, relaxed-ratelimit Synapse.
pub async fn synapse() -> &'static Synapse {
    // Bot logs go to the test's captured output: shown only for failures.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "citebot=debug".into()),
        )
        .with_test_writer()
        .try_init();
    SYNAPSE
        .get_or_init(|| async {
            let dir = SYNAPSE_DIR
                .get_or_init(|| async {
                    // Named by this process: a later run removes it.
                    citebot::files::remove_scratch_of_ended_processes("citebot-synapse-");
                    let prefix = format!("citebot-synapse-{}-", std::process::id());
                    TempDir::with_prefix(prefix).unwrap()
                })
                .await;
            Synapse::start(SynapseOptions {
                dir: dir.path().to_path_buf(),
                port: None,
                strict_ratelimits: false,
            })
            .await
            .expect("starting Synapse")
        })
        .await
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A localpart no other test uses.
pub fn unique(prefix: &str) -> String {
    format!("{prefix}{}", COUNTER.fetch_add(1, Ordering::SeqCst))
}

pub const PASSWORD: &str = "test-password";

/// Registers a fresh user and logs them in.
pub async fn human(prefix: &str) -> Human {
    let hs = synapse().await;
    let name = unique(prefix);
    hs.register(&name, PASSWORD, false)
        .await
        .expect("register human");
    Human::login(&hs.url, &name, PASSWORD)
        .await
        .expect("login human")
}

/// An admin account's access token (for the admin API).
pub async fn admin_token() -> String {
    let hs = synapse().await;
    hs.register(&unique("admin"), PASSWORD, true)
        .await
        .expect("register admin")
        .access_token
}

/// A private copy of the project's `knowledge/` folder, so a test may edit it.
pub fn knowledge() -> TempDir {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("knowledge");
    let dir = TempDir::with_prefix("citebot-knowledge-").unwrap();
    copy_dir(&src, dir.path());
    dir
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// A bot account plus everything it needs on disk.
pub struct BotSetup {
    pub user_id: String,
    pub config: Config,
    pub engine: Engine,
    _data: TempDir,
    _knowledge: TempDir,
}

impl BotSetup {
    /// Registers a bot user; `tweak` adjusts the config (admins, limits...).
    pub async fn new(tweak: impl FnOnce(&mut Config)) -> BotSetup {
        let hs = synapse().await;
        let name = unique("citebot");
        hs.register(&name, PASSWORD, false)
            .await
            .expect("register bot");
        let data = TempDir::with_prefix("citebot-data-").unwrap();
        let knowledge = knowledge();
        let mut config: Config = toml::from_str(&format!(
            "[matrix]\nhomeserver = {:?}\nuser = {name:?}\ndata_dir = {:?}\n\
             [access]\nallowed_inviters = [\"@*:localhost\"]\n\
             [limits]\nuser_burst = 50\nuser_per_minute = 600\n\
             [sync]\ntimeout_secs = 10\n\
             [search]\nknowledge_dir = {:?}\nindex_dir = \"\"\nsemantic_model = \"\"\n",
            hs.url,
            data.path().join("bot").display().to_string(),
            knowledge.path().display().to_string(),
        ))
        .unwrap();
        config.matrix.password = Secret(PASSWORD.into());
        tweak(&mut config);
        config.validate().unwrap();
        // A tweak may name another account (every test Synapse serves `localhost`).
        let user_id = hs.user_id(&config.matrix.user);
        let settings: SearchSettings = config.search_settings();
        let engine = Engine::open(&settings).expect("opening the index");
        BotSetup {
            user_id,
            config,
            engine,
            _data: data,
            _knowledge: knowledge,
        }
    }

    pub fn data_dir(&self) -> PathBuf {
        self.config.matrix.data_dir.clone()
    }

    /// The bot's private knowledge folder (a copy of the project's), for tests to edit.
    pub fn knowledge_dir(&self) -> PathBuf {
        self.config.search.knowledge_dir.clone()
    }

    /// Starts `citebot::bot::run`.
    pub fn start(&self) -> RunningBot {
        let shutdown = CancellationToken::new();
        let handle = tokio::spawn(citebot::bot::run(
            self.config.clone(),
            self.engine.clone(),
            shutdown.clone(),
        ));
        RunningBot {
            shutdown,
            handle: Some(handle),
        }
    }
}

/// The device ID in the bot's saved session (which must not hold the password).
pub fn saved_device(bot: &BotSetup) -> String {
    let text = std::fs::read_to_string(bot.data_dir().join("session.json")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert!(!text.contains(PASSWORD), "the password must not be saved");
    v["device_id"].as_str().unwrap().to_string()
}

pub struct RunningBot {
    shutdown: CancellationToken,
    handle: Option<JoinHandle<anyhow::Result<()>>>,
}

impl RunningBot {
    /// Clean shutdown, as SIGTERM would do; the bot must exit promptly and Ok.
    pub async fn stop(mut self) {
        self.shutdown.cancel();
        let handle = self.handle.take().unwrap();
        tokio::time::timeout(WAIT, handle)
            .await
            .expect("bot stops promptly")
            .unwrap()
            .expect("bot exits Ok");
    }
}

impl Drop for RunningBot {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// Waits for the bot's reply to `question` (sent by anyone `human` shares the room with).
pub async fn reply_to(human: &mut Human, bot: &BotSetup, question: &EventId) -> Seen {
    human
        .reply_from(&bot.user_id, question.as_str(), WAIT)
        .await
        .unwrap()
}

/// Asks `question` in `room`; returns the question's event ID and the bot's reply.
pub async fn ask(
    human: &mut Human,
    bot: &BotSetup,
    room: &Room,
    question: &str,
) -> (OwnedEventId, Seen) {
    let q = human.say(room, question).await.unwrap();
    let reply = reply_to(human, bot, &q).await;
    (q, reply)
}

/// Asks `question` until the reply satisfies `pred` (the bot reloads in the
/// background), for at most `limit`; returns the matching reply.
pub async fn ask_until(
    human: &mut Human,
    bot: &BotSetup,
    room: &Room,
    question: &str,
    limit: Duration,
    pred: impl Fn(&Seen) -> bool,
) -> Seen {
    let deadline = std::time::Instant::now() + limit;
    loop {
        let (_, r) = ask(human, bot, room, question).await;
        if pred(&r) {
            return r;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no matching reply to {question:?} within {limit:?}; last: {}",
            r.body()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The room a person opens with the bot.
pub enum Meet<'a> {
    /// A direct chat.
    Dm,
    /// A direct chat, end-to-end encrypted from the start.
    EncryptedDm,
    /// A group room; the others are invited and join it too.
    Group(&'a [&'a Human]),
    /// A group room the others are invited to but have not joined.
    GroupInvited(&'a [&'a Human]),
}

/// Starts a bot (its config adjusted by `tweak`) and opens `meet` between it
/// and `human`, once the bot has joined.
pub async fn start_bot(
    human: &mut Human,
    meet: Meet<'_>,
    tweak: impl FnOnce(&mut Config),
) -> (BotSetup, RunningBot, Room) {
    let bot = BotSetup::new(tweak).await;
    let running = bot.start();
    let room = room_with(human, &bot.user_id, meet).await;
    (bot, running, room)
}

/// `human` opens `meet` with the bot `bot_id` (a running bot): returns once the
/// bot has joined.
pub async fn room_with(human: &mut Human, bot_id: &str, meet: Meet<'_>) -> Room {
    let (direct, encrypted, others, join) = match meet {
        Meet::Dm => (true, false, &[][..], false),
        Meet::EncryptedDm => (true, true, &[][..], false),
        Meet::Group(others) => (false, false, others, true),
        Meet::GroupInvited(others) => (false, false, others, false),
    };
    let mut invite = vec![bot_id.try_into().unwrap()];
    invite.extend(others.iter().map(|o| o.user_id()));
    let room = human
        .create_room_with("test room", &invite, direct, encrypted)
        .await
        .unwrap();
    if join {
        for other in others {
            other.client.join_room_by_id(room.room_id()).await.unwrap();
        }
    }
    human
        .wait_membership(room.room_id(), bot_id, "join", WAIT)
        .await
        .unwrap();
    room
}

/// The bodies of the bot's messages `human` sees within `within` (none expected
/// once every question has had its reply).
pub async fn bot_messages(human: &mut Human, bot: &BotSetup, within: Duration) -> Vec<String> {
    human
        .collect(within, |s| {
            s.sender() == bot.user_id && s.kind() == "m.room.message"
        })
        .await
        .unwrap()
        .iter()
        .map(|s| s.body().to_string())
        .collect()
}

/// The semantic model's folder, installed by `scripts/model` on first use (as
/// the test Synapse is by `scripts/synapse`).
pub fn semantic_model() -> PathBuf {
    static MODEL: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    MODEL
        .get_or_init(|| {
            let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
            let status = std::process::Command::new(root.join("scripts/model"))
                .status()
                .expect("scripts/model runs");
            assert!(
                status.success(),
                "scripts/model could not install the model"
            );
            root.join(citebot::search::DEFAULT_SEMANTIC_MODEL)
        })
        .clone()
}

/// The body of the bot's edit of its reply `reply`.
pub async fn edit_of(human: &mut Human, bot: &BotSetup, reply: &Seen) -> String {
    let reply_id = reply.event_id().unwrap();
    let edit = human
        .wait_for(WAIT, |s| {
            let rel = &s.event["content"]["m.relates_to"];
            s.sender() == bot.user_id
                && rel["rel_type"] == "m.replace"
                && rel["event_id"] == reply_id.as_str()
        })
        .await
        .expect("the bot's edit of its reply");
    let c = &edit.event["content"];
    assert_eq!(c["m.new_content"]["msgtype"], "m.notice", "{c}");
    c["m.new_content"]["body"].as_str().unwrap().to_string()
}

/// The bot's redaction of its event `reply` (a reply whose question was
/// deleted).
pub async fn retraction_of(human: &mut Human, bot: &BotSetup, reply: &EventId) -> Seen {
    human
        .wait_for(WAIT, |s| {
            s.sender() == bot.user_id && s.redacts() == Some(reply.as_str())
        })
        .await
        .expect("the bot's redaction of its reply")
}
