//! The Matrix side of citebot: logs in, runs the sync loop and answers
//! questions in rooms. `run` is the entry point; submodules own one concern
//! each (session, access, triggers, limits, replies, event handling, per-room
//! settings, live reload of the knowledge folder, encryption trust,
//! undecryptable messages, verification, status, the local Synapse launcher
//! and the demo).

pub(crate) mod access;
pub(crate) mod commands;
pub(crate) mod conversation;
pub mod crypto;
pub(crate) mod demo;
pub(crate) mod edits;
pub(crate) mod handlers;
pub mod human;
pub mod journal;
pub(crate) mod limits;
pub(crate) mod membership;
pub(crate) mod metrics;
pub(crate) mod receipts;
pub(crate) mod reply;
pub(crate) mod rooms;
pub(crate) mod session;
pub(crate) mod status;
pub mod synapse;
pub(crate) mod sync;
pub(crate) mod triggers;
pub(crate) mod undecryptable;
pub(crate) mod verification;
pub mod watch;

use std::collections::HashSet;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use anyhow::Context;
use matrix_sdk::Client;
use matrix_sdk::ruma::{OwnedEventId, OwnedRoomId, OwnedUserId};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{error, info, warn};

pub use demo::{DemoOptions, demo};

use crate::config::Config;
use crate::feedback;
use crate::messages::BotCounters;
use crate::search::Engine;

/// How long shutdown waits for replies already being worked on.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(20);

/// Everything the handlers share.
pub(crate) struct Bot {
    pub client: Client,
    pub config: Config,
    pub engine: Engine,
    pub access: access::Access,
    pub limits: limits::Limits,
    pub user_id: OwnedUserId,
    pub display_name: String,
    pub counters: Counters,
    pub started: Instant,
    pub tasks: TaskTracker,
    /// Cancelled on shutdown, and when the sync loop ends for any reason.
    pub shutdown: CancellationToken,
    /// Encrypted messages waiting for their room keys.
    pub undecryptable: undecryptable::Undecryptable,
    /// `[rooms]` entries by room, aliases resolved.
    pub rooms: rooms::Rooms,
    /// Where reload problems are posted (`access.admin_room`, resolved).
    pub admin_room: Option<OwnedRoomId>,
    /// Live reload: what `!status` shows.
    pub reload: Mutex<watch::ReloadState>,
    /// The feedback file, unless `feedback.record` is off (or it can't be opened).
    pub feedback: Option<feedback::Log>,
    /// The bot's latest answers recorded in the feedback file, each with the
    /// room it was sent in: reactions to these, in that room, are votes (a
    /// reaction may name any event ID).
    pub answers: Mutex<Recent<(OwnedEventId, OwnedRoomId)>>,
    /// Each voter's latest vote recorded on each answer: a reaction a sync
    /// delivers again (after a crash, in a new login's history) or sent again
    /// under another skin tone is the vote already recorded, not another; a
    /// change of mind (👍, then 👎, then 👍 again) is recorded each time.
    pub votes: Mutex<feedback::Votes>,
    /// The bot's replies to the latest messages it answered: an edit of one
    /// is answered by editing the reply.
    pub replies: Mutex<edits::Replies>,
    /// Places for searches running at once (`search.max_concurrent`).
    pub searches: tokio::sync::Semaphore,
    /// The questions taken on and not yet answered, on disk.
    pub journal: journal::Journal,
    /// What `/metrics` and `/health` report.
    pub metrics: metrics::Metrics,
    /// Read receipts waiting to be sent.
    pub receipts: receipts::Receipts,
    /// After a rejected login was replaced (ms since the epoch): the first
    /// sync's messages from then on are answered, not taken as history.
    pub answer_from: Option<u64>,
    /// When the bot was last invited to each room it saw the invite of (ms
    /// since epoch): questions from then on are answered.
    pub invited_at: Mutex<std::collections::HashMap<OwnedRoomId, u64>>,
}

impl Bot {
    pub(crate) fn reload_state(&self) -> MutexGuard<'_, watch::ReloadState> {
        self.reload.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The collections the admin room sees (`None`: all): what it is told about.
    /// Before the first sync the client does not know the room yet: its scope
    /// then comes from its `[rooms]` entry by ID, or is nothing while an alias
    /// is unresolved (see [`Bot::admin_scope_settled`]).
    pub(crate) fn admin_scope(&self) -> Option<Vec<String>> {
        self.scope_of_id(self.admin_room.as_ref()?)
    }

    /// The collections the room `id` sees (`None`: all), from its own state
    /// when the client knows it, else from its `[rooms]` entry by ID.
    pub(crate) fn scope_of_id(&self, id: &matrix_sdk::ruma::RoomId) -> Option<Vec<String>> {
        match self.client.get_room(id) {
            Some(room) => self.rooms.collections(&room),
            None => self.rooms.collections_of_id(id),
        }
    }

    /// Whether [`Bot::admin_scope`] is the admin room's own: there is no admin
    /// room, or the client knows it. Before that, the problems the room is
    /// told of wait for the first sync (`watch::post_to_admin_room`).
    pub(crate) fn admin_scope_settled(&self) -> bool {
        self.admin_room
            .as_ref()
            .is_none_or(|id| self.client.get_room(id).is_some())
    }
}

/// Runs the bot until `shutdown` is cancelled: logs in (or restores the saved
/// session), then syncs and answers. Returns after in-flight replies are sent.
pub async fn run(
    config: Config,
    engine: Engine,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let mut answer_from = None;
    let mut last_rejection: Option<Instant> = None;
    loop {
        let connected =
            retrying("logging in", &shutdown, || session::connect(&config.matrix)).await?;
        let Some(client) = connected else {
            return Ok(()); // shut down while the homeserver was unreachable
        };
        let result = run_with_client(
            client,
            config.clone(),
            engine.clone(),
            shutdown.clone(),
            answer_from,
        )
        .await;
        let Some(rejected) = result
            .as_ref()
            .err()
            .and_then(|e| e.downcast_ref::<sync::TokenRejected>())
        else {
            return result;
        };
        // A login rejected again at once would only repeat: stop and say so.
        if last_rejection.is_some_and(|t| t.elapsed() < Duration::from_secs(60)) {
            return result.context("rejected again right after logging in anew");
        }
        last_rejection = Some(Instant::now());
        // Its store holds the keys of a device that no longer exists: the next
        // login starts a new device on a new store, and answers what was asked
        // since the last sync that worked.
        let retired = session::retire(&config.matrix.data_dir)?;
        warn!(
            retired = %retired.display(),
            "the homeserver rejected the bot's access token (logged out, or its device deleted); logging in again as a new device"
        );
        answer_from = rejected.last_synced_ms.or(answer_from);
    }
}

/// Longest wait between attempts to reach the homeserver.
const MAX_BACKOFF: Duration = Duration::from_secs(10);

/// Whether `err` may go away by itself: the homeserver unreachable, timing out,
/// answering 5xx or 429. A refusal (bad password, forbidden) is not.
pub(crate) fn transient(err: &anyhow::Error) -> bool {
    let server_trouble = |status: matrix_sdk::reqwest::StatusCode| {
        status.is_server_error() || status.as_u16() == 429
    };
    for cause in err.chain() {
        if let Some(e) = cause.downcast_ref::<matrix_sdk::Error>() {
            return reply::transient(e) || reply::rate_limited(e).is_some();
        }
        if let Some(e) = cause.downcast_ref::<matrix_sdk::HttpError>() {
            return e
                .as_client_api_error()
                .is_none_or(|api| server_trouble(api.status_code));
        }
        if let Some(e) = cause.downcast_ref::<matrix_sdk::ClientBuildError>() {
            return matches!(
                e,
                matrix_sdk::ClientBuildError::Http(_)
                    | matrix_sdk::ClientBuildError::AutoDiscovery(_)
            );
        }
        if cause.downcast_ref::<matrix_sdk::reqwest::Error>().is_some() {
            return true;
        }
    }
    false
}

/// Runs `attempt` until it succeeds or fails for good, waiting 1 s, 2 s, … up
/// to [`MAX_BACKOFF`] after each transient failure (one log line each).
/// `Ok(None)`: `shutdown` was cancelled meanwhile.
async fn retrying<T, Fut>(
    what: &str,
    shutdown: &CancellationToken,
    mut attempt: impl FnMut() -> Fut,
) -> anyhow::Result<Option<T>>
where
    Fut: std::future::Future<Output = anyhow::Result<T>>,
{
    let mut wait = Duration::from_secs(1);
    for n in 1.. {
        let err = match attempt().await {
            Ok(v) => return Ok(Some(v)),
            Err(err) if transient(&err) => err,
            Err(err) => return Err(err),
        };
        warn!(
            attempt = n,
            retry_in_s = wait.as_secs(),
            error = format!("{err:#}"),
            "{what} failed; the homeserver may be down, retrying"
        );
        tokio::select! {
            _ = shutdown.cancelled() => return Ok(None),
            _ = tokio::time::sleep(wait) => {}
        }
        wait = (wait * 2).min(MAX_BACKOFF);
    }
    unreachable!("the attempts never end")
}

/// The `citebot status` report, from the session saved by `run` (no new
/// login, no sync: the running bot owns those).
pub async fn status_report(
    config: &Config,
    engine: &Engine,
) -> anyhow::Result<crate::format::Formatted> {
    anyhow::ensure!(
        session::session_path(&config.matrix.data_dir).exists(),
        "no saved session in matrix.data_dir ({}); start the bot with `citebot run` first",
        config.matrix.data_dir.display()
    );
    let client = session::connect(&config.matrix).await?;
    status::report(&client, engine).await
}

/// `run` for a client that is already logged in. `answer_from` (ms since the
/// epoch): after a new login that replaced a rejected one, the first sync's
/// messages sent from then on are answered (not taken as history).
async fn run_with_client(
    client: Client,
    config: Config,
    engine: Engine,
    shutdown: CancellationToken,
    answer_from: Option<u64>,
) -> anyhow::Result<()> {
    if !set_up_trust(&client, &config, &shutdown).await? {
        return Ok(()); // shut down while the homeserver was unreachable
    }
    // A child token: ending the sync loop (even with an error) stops the
    // watcher too, without cancelling the caller's token.
    let shutdown = shutdown.child_token();
    let tasks = TaskTracker::new();
    verification::install(
        &client,
        access::Access::new(&config.access)?,
        tasks.clone(),
        shutdown.clone(),
    );
    let (bot, metrics_listener, open_questions) =
        Bot::new(client, config, engine, tasks, shutdown, answer_from).await?;
    let synced = start_tasks(&bot, metrics_listener);
    sync::resume(&bot, open_questions).await;
    let result = sync::sync_loop(&bot, &synced).await;
    stop(&bot).await;
    result
}

/// Sets up the device's trust (see `crypto`); returns `false` when shut down
/// while waiting for the homeserver. A bot that can't set it up still answers,
/// it just shows as unverified in clients (a wrong recovery key stops it).
async fn set_up_trust(
    client: &Client,
    config: &Config,
    shutdown: &CancellationToken,
) -> anyhow::Result<bool> {
    let trust = if config.matrix.recovery_key.get().is_some() {
        // With a recovery key, trust must be set up; only the homeserver being
        // unreachable is waited out.
        match retrying("setting up trust", shutdown, || {
            crypto::establish_trust(client, &config.matrix)
        })
        .await?
        {
            Some(()) => Ok(()),
            None => return Ok(false),
        }
    } else {
        crypto::establish_trust(client, &config.matrix).await
    };
    if let Err(err) = trust {
        error!(
            error = format!("{err:#}"),
            "setting up cross-signing / key backup failed; continuing with an unverified device"
        );
    }
    Ok(true)
}

/// What the bot takes up when it starts: the questions the journal holds open.
type OpenQuestions = Vec<(String, journal::Open)>;

impl Bot {
    /// The bot's shared state, its metrics listener (bound first: a taken port
    /// is a config mistake) and the questions left open before a restart.
    async fn new(
        client: Client,
        config: Config,
        engine: Engine,
        tasks: TaskTracker,
        shutdown: CancellationToken,
        answer_from: Option<u64>,
    ) -> anyhow::Result<(Arc<Bot>, Option<tokio::net::TcpListener>, OpenQuestions)> {
        let user_id = client
            .user_id()
            .context("client is not logged in")?
            .to_owned();
        let display_name = match client.account().get_display_name().await {
            Ok(Some(name)) => name,
            _ => user_id.localpart().to_owned(),
        };
        let rooms = rooms::Rooms::resolve(&client, &config).await;
        let admin_room = match config.access.admin_room.as_str() {
            "" => None,
            r => rooms::resolve_alias(&client, r).await,
        };
        let metrics_listener = match config.metrics.listen.as_str() {
            "" => None,
            listen => Some(metrics::bind(listen).await?),
        };
        let (feedback, answers, votes, mut replies) = open_feedback(&config);
        let (journal, open_questions) = journal::Journal::open(&config.matrix.data_dir)
            .with_context(|| {
                format!(
                    "opening the question journal in {}",
                    config.matrix.data_dir.display()
                )
            })?;
        // The journal keeps every reply, commands' too and with feedback off.
        replies.note_journaled(journal.replies());
        replies.note_journaled_edits(journal.edits());
        let max_searches = match config.search.max_concurrent {
            0 => std::thread::available_parallelism().map_or(2, |n| n.get()),
            n => n,
        };
        let bot = Arc::new(Bot {
            access: access::Access::new(&config.access)?,
            limits: limits::Limits::new(&config.limits),
            client,
            config,
            engine,
            user_id,
            display_name,
            counters: Counters::default(),
            started: Instant::now(),
            tasks,
            shutdown,
            undecryptable: undecryptable::Undecryptable::default(),
            rooms,
            admin_room,
            reload: Mutex::new(watch::ReloadState::default()),
            feedback,
            answers: Mutex::new(answers),
            votes: Mutex::new(votes),
            replies: Mutex::new(replies),
            searches: tokio::sync::Semaphore::new(max_searches),
            invited_at: Mutex::new(std::collections::HashMap::new()),
            journal,
            metrics: metrics::Metrics::default(),
            receipts: receipts::Receipts::default(),
            answer_from,
        });
        Ok((bot, metrics_listener, open_questions))
    }
}

/// Starts the bot's background work (key waits, alias resolution, the admin
/// room's posts, the knowledge watcher, metrics); returns what tells the admin
/// poster that the first sync is done.
fn start_tasks(
    bot: &Arc<Bot>,
    metrics_listener: Option<tokio::net::TcpListener>,
) -> tokio::sync::watch::Sender<bool> {
    bot.tasks.spawn(undecryptable::run(bot.clone()));
    bot.tasks.spawn(receipts::run(bot.clone()));
    let bot2 = bot.clone();
    bot.tasks.spawn(async move {
        bot2.rooms
            .keep_resolving(&bot2.client, &bot2.shutdown)
            .await
    });
    info!(user = %bot.user_id, name = %bot.display_name, "citebot starting");
    let (admin_tx, admin_rx) = tokio::sync::mpsc::unbounded_channel();
    let (synced_tx, synced_rx) = tokio::sync::watch::channel(false);
    bot.tasks
        .spawn(watch::post_to_admin_room(bot.clone(), admin_rx, synced_rx));
    watch::start(bot, admin_tx);
    if bot.engine.has_semantic_model() {
        bot.tasks.spawn(watch::embed_in_background(bot.clone()));
    }
    if let Some(listener) = metrics_listener {
        bot.tasks.spawn(metrics::serve(bot.clone(), listener));
    }
    synced_tx
}

/// Stops the bot's tasks, waiting (bounded) for replies being worked on.
async fn stop(bot: &Bot) {
    bot.shutdown.cancel();
    bot.tasks.close();
    if tokio::time::timeout(SHUTDOWN_GRACE, bot.tasks.wait())
        .await
        .is_err()
    {
        warn!(
            pending = bot.tasks.len(),
            "shutdown: gave up waiting for in-flight replies"
        );
    }
    info!("citebot stopped");
}

/// Runs `f` on the blocking pool (the search core and the files are
/// synchronous); its error and a panic there are one error.
pub(crate) async fn blocking<T, E>(
    f: impl FnOnce() -> Result<T, E> + Send + 'static,
) -> anyhow::Result<T>
where
    T: Send + 'static,
    E: std::error::Error + Send + Sync + 'static,
{
    Ok(tokio::task::spawn_blocking(f).await??)
}

/// Questions answered, refused and failed since start, by the collections of
/// the room they were asked in: `!stats` in a room limited to some
/// collections counts the questions of rooms that see just those, not the
/// activity of rooms it shares nothing with.
#[derive(Default)]
pub(crate) struct Counters(Mutex<std::collections::HashMap<Option<Vec<String>>, BotCounters>>);

impl Counters {
    /// Counts a question asked in a room that sees `scope` (`None`: all).
    pub(crate) fn count(&self, scope: Option<&[String]>, f: impl FnOnce(&mut BotCounters)) {
        let mut all = self.0.lock().unwrap_or_else(|e| e.into_inner());
        f(all.entry(scope_key(scope)).or_default());
    }

    /// What `!stats` shows a room that sees `scope`: every question when it
    /// sees everything, else those of rooms that see what it sees.
    pub(crate) fn seen_by(&self, scope: Option<&[String]>) -> BotCounters {
        let all = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if scope.is_some() {
            return all.get(&scope_key(scope)).cloned().unwrap_or_default();
        }
        let mut sum = BotCounters::default();
        for c in all.values() {
            sum.answered += c.answered;
            sum.refused += c.refused;
            sum.failed += c.failed;
        }
        sum
    }
}

/// One key for a scope however its collections are listed.
fn scope_key(scope: Option<&[String]>) -> Option<Vec<String>> {
    scope.map(|s| {
        let mut s = s.to_vec();
        s.sort();
        s.dedup();
        s
    })
}

/// How many of its latest answers the bot counts votes on.
const VOTED_ANSWERS: usize = 100_000;

/// A set of the `cap` items inserted last: memory that stays bounded however
/// long the bot runs.
pub(crate) struct Recent<T> {
    order: std::collections::VecDeque<T>,
    set: HashSet<T>,
    cap: usize,
}

impl<T: Clone + Eq + std::hash::Hash> Recent<T> {
    pub(crate) fn new(cap: usize) -> Self {
        Recent {
            order: std::collections::VecDeque::new(),
            set: HashSet::new(),
            cap: cap.max(1),
        }
    }

    /// Adds `item`, forgetting the oldest when full; `false` when it was
    /// there already.
    pub(crate) fn insert(&mut self, item: T) -> bool {
        if !self.set.insert(item.clone()) {
            return false;
        }
        self.order.push_back(item);
        if self.order.len() > self.cap
            && let Some(old) = self.order.pop_front()
        {
            self.set.remove(&old);
        }
        true
    }

    pub(crate) fn contains(&self, item: &T) -> bool {
        self.set.contains(item)
    }

    /// Forgets `item` (its place in the order is dropped when it comes round).
    pub(crate) fn remove(&mut self, item: &T) {
        self.set.remove(item);
    }

    /// The `n` latest items, oldest first.
    pub(crate) fn newest(&self, n: usize) -> impl Iterator<Item = &T> {
        self.order.iter().skip(self.order.len().saturating_sub(n))
    }
}

/// Opens the feedback file (when `feedback.record`) and reads back which replies
/// were answers, so votes on answers given before a restart still count, and
/// the votes recorded, so none is recorded twice.
fn open_feedback(config: &Config) -> Feedback {
    let mut answers = Recent::new(VOTED_ANSWERS);
    let mut votes = feedback::Votes::new(VOTED_ANSWERS);
    let mut replies = edits::Replies::default();
    if !config.feedback.record {
        return (None, answers, votes, replies);
    }
    let log = match feedback::Log::open(&config.matrix.data_dir, config.feedback.max_bytes) {
        Ok(log) => log,
        Err(err) => {
            error!(error = %crate::chain(&err), "feedback will not be recorded");
            return (None, answers, votes, replies);
        }
    };
    // Streamed: only the answers' IDs, the messages they answer and the
    // votes' keys are kept.
    let read = feedback::read_where(log.path(), |r| {
        match r {
            feedback::Record::Answer {
                reply,
                room,
                asker,
                message,
                ..
            } => {
                if let Ok(id) = OwnedEventId::try_from(reply.as_str())
                    && let Ok(room) = OwnedRoomId::try_from(room.as_str())
                {
                    if let Some(Ok(message)) = message.as_deref().map(OwnedEventId::try_from)
                        && let Ok(asker) = OwnedUserId::try_from(asker.as_str())
                    {
                        let replied = edits::Replied {
                            reply: id.clone(),
                            asker,
                        };
                        replies.note(room.clone(), message, replied);
                    }
                    answers.insert((id, room));
                }
            }
            feedback::Record::Reaction { .. } | feedback::Record::Withdrawal { .. } => {
                votes.replay(r);
            }
        }
        false
    });
    if let Err(err) = read {
        warn!(error = %crate::chain(&err), "cannot read earlier feedback; votes on older answers are not recorded");
    }
    (Some(log), answers, votes, replies)
}

/// The feedback file, and what it tells of earlier answers: which replies are
/// answers, the votes on them, and the messages they answer.
type Feedback = (
    Option<feedback::Log>,
    Recent<(OwnedEventId, OwnedRoomId)>,
    feedback::Votes,
    edits::Replies,
);

#[cfg(test)]
mod tests {
    use super::{Counters, Recent};

    #[test]
    fn stats_counts_a_limited_room_only_the_questions_of_rooms_that_see_the_same() {
        let counters = Counters::default();
        let scope = |c: &[&str]| c.iter().map(|c| c.to_string()).collect::<Vec<_>>();
        let (team, other) = (scope(&["team", "ops"]), scope(&["hr"]));
        counters.count(Some(&team), |c| c.answered += 1);
        counters.count(Some(&scope(&["ops", "team"])), |c| c.refused += 1);
        counters.count(Some(&other), |c| c.answered += 1);
        counters.count(None, |c| c.failed += 1);
        let seen = |s: Option<&[String]>| {
            let c = counters.seen_by(s);
            (c.answered, c.refused, c.failed)
        };
        // (answered, refused, failed) as each scope sees them.
        assert_eq!(seen(Some(&team)), (1, 1, 0));
        assert_eq!(seen(Some(&other)), (1, 0, 0));
        assert_eq!(seen(Some(&scope(&["zoo"]))), (0, 0, 0));
        assert_eq!(seen(None), (2, 1, 1));
    }

    #[test]
    fn recent_keeps_the_last_items_only() {
        let mut r = Recent::new(3);
        for i in 0..10 {
            r.insert(i);
            r.insert(i);
        }
        assert_eq!(
            (0..10).filter(|i| r.contains(i)).collect::<Vec<_>>(),
            [7, 8, 9]
        );
        assert_eq!((r.order.len(), r.set.len()), (3, 3));
    }
}
