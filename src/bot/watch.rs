//! Live reload: watches the knowledge folder (notify, debounced) and brings the
//! index up to date with each burst of changes (`Engine::refresh`: only the
//! changed files, one commit, so questions never see a half-built index). Logs
//! what changed, keeps what `!status` shows, and tells the admin room about
//! problems in the knowledge files once per new set of problems. When the folder
//! can't be watched it is polled instead; the bot keeps running either way.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use matrix_sdk::ruma::events::Mentions;
use matrix_sdk::ruma::events::room::message::RoomMessageEventContent;
use notify::event::{AccessKind, AccessMode};
use notify::{Event, EventKind, RecursiveMode, Watcher};
use tokio::sync::mpsc;
use tracing::{error, info, warn};

use super::Bot;
use crate::format::Formatted;
use crate::messages;

/// Quiet time that ends a burst of events: an editor's save (temp file, write,
/// rename) or a `git pull` becomes one refresh.
const DEBOUNCE: Duration = Duration::from_millis(100);
/// A burst that never goes quiet is still refreshed this often.
const MAX_BURST: Duration = Duration::from_secs(1);
/// How often the folder is re-read when it can't be watched.
const POLL: Duration = Duration::from_secs(5);

/// What `!status` reports about reloading.
#[derive(Debug, Clone, Default)]
pub(crate) struct ReloadState {
    /// How the folder is followed.
    pub watching: String,
    /// The same for a room limited to some collections: without the watcher's
    /// error, which may name another collection's folder.
    pub watching_shown: String,
    /// When the index was last brought up to date, and what changed.
    pub reloads: Reloads,
    /// Why the last reload failed as a whole.
    pub failure: Option<String>,
    /// The problems the admin room was last told about.
    reported: Vec<String>,
    /// Each git source's last pull, by collection.
    pub pulls: std::collections::BTreeMap<String, String>,
}

/// The last time the index was brought up to date with the files.
#[derive(Debug, Clone, Default)]
pub(crate) struct LastReload {
    /// RFC 3339.
    pub at: String,
    pub added: Vec<String>,
    pub updated: Vec<String>,
    pub removed: Vec<String>,
    pub synonyms: bool,
    /// Every file whose content changed, listed above or not (a file that no
    /// longer parses is listed nowhere): whose reload it was.
    pub touched: Vec<String>,
}

impl LastReload {
    /// Its changes to the files of `collection` (`collection_of` tells a
    /// file's), with its time and whether the synonyms were re-read.
    fn of(&self, collection: &str, collection_of: &impl Fn(&str) -> String) -> LastReload {
        let keep = |files: &[String]| -> Vec<String> {
            let keep = files.iter().filter(|f| collection_of(f) == collection);
            keep.cloned().collect()
        };
        LastReload {
            at: self.at.clone(),
            added: keep(&self.added),
            updated: keep(&self.updated),
            removed: keep(&self.removed),
            synonyms: self.synonyms,
            touched: keep(&self.touched),
        }
    }

    /// What changed among the files `visible` lets a room see.
    pub fn summary(&self, visible: impl Fn(&str) -> bool) -> String {
        let keep = |files: &[String]| -> Vec<String> {
            files.iter().filter(|f| visible(f)).cloned().collect()
        };
        messages::reload_summary(
            &keep(&self.added),
            &keep(&self.updated),
            &keep(&self.removed),
            self.synonyms,
        )
    }
}

/// The reloads `!status` tells of. A room that sees every collection is told
/// of the last one. A room limited to some is told of the last that changed
/// its collections' files, re-read the synonyms every room shares, or changed
/// no file at all (a check that found nothing new): when and whether another
/// collection changed is that collection's business, and the room's own last
/// change must not be hidden by a later one elsewhere.
#[derive(Debug, Clone, Default)]
pub(crate) struct Reloads {
    last: Option<LastReload>,
    /// By collection, the last reload that changed its files, with only those.
    by_collection: std::collections::BTreeMap<String, LastReload>,
    /// The last reload that changed no file and was set off by no collection
    /// (the check at start, a poll), or re-read the shared synonyms (told
    /// without the files it changed).
    shared: Option<LastReload>,
    /// By collection, when a reload last changed its files.
    changed_at: std::collections::BTreeMap<String, String>,
    /// When the shared synonyms file last changed: every room's answers did.
    synonyms_at: Option<String>,
}

impl Reloads {
    /// Remembers `reload`, set off for the collections `origin` (whose files a
    /// watcher saw change, whose repository was pulled, whose room asked; none:
    /// a check of everything); `collection_of` tells which collection a file
    /// is in. A reload is its origin's and its changed files' collections', so
    /// one that changed nothing for a pull of B is B's business alone. A check
    /// of everything is every room's, whatever it changed: were it shown only
    /// where it changed nothing, a room polling `!status` would see when other
    /// collections changed.
    pub fn record(
        &mut self,
        reload: LastReload,
        origin: BTreeSet<String>,
        collection_of: impl Fn(&str) -> String,
    ) {
        let everything = origin.is_empty();
        let changed: BTreeSet<String> = reload.touched.iter().map(|f| collection_of(f)).collect();
        for c in &changed {
            self.changed_at.insert(c.clone(), reload.at.clone());
        }
        if reload.synonyms {
            self.synonyms_at = Some(reload.at.clone());
        }
        let collections: BTreeSet<String> = origin.into_iter().chain(changed).collect();
        for c in &collections {
            let own = reload.of(c, &collection_of);
            self.by_collection.insert(c.clone(), own);
        }
        if everything || reload.synonyms {
            self.shared = Some(LastReload {
                at: reload.at.clone(),
                synonyms: reload.synonyms,
                ..LastReload::default()
            });
        }
        self.last = Some(reload);
    }

    /// When a reload last changed a file of `collections`, if one did since
    /// start: when the index was last updated, as far as a room that sees
    /// them may know.
    pub fn last_change(&self, collections: &[String]) -> Option<&str> {
        let at = collections.iter().filter_map(|c| self.changed_at.get(c));
        at.chain(self.synonyms_at.as_ref())
            .map(String::as_str)
            .max()
    }

    /// The last reload a room that sees `collections` (`None`: all) is told of,
    /// with only the changes it may see; `None` when there was none.
    pub fn seen_by(&self, collections: Option<&[String]>) -> Option<LastReload> {
        let Some(collections) = collections else {
            return self.last.clone();
        };
        let seen = collections.iter().filter_map(|c| self.by_collection.get(c));
        let seen: Vec<&LastReload> = seen.chain(self.shared.as_ref()).collect();
        let at = seen.iter().map(|r| &r.at).max()?;
        // Changes of one reload to several of the room's collections, together.
        let mut out = LastReload {
            at: at.clone(),
            ..LastReload::default()
        };
        for r in seen.iter().filter(|r| &r.at == at) {
            out.added.extend(r.added.iter().cloned());
            out.updated.extend(r.updated.iter().cloned());
            out.removed.extend(r.removed.iter().cloned());
            out.synonyms |= r.synonyms;
        }
        Some(out)
    }
}

/// Debounced changes to a knowledge folder: each [`Changes::next`] is one burst
/// (an editor's save, a `git pull`), ready for one `Engine::refresh`.
pub struct Changes {
    // Dropping the watcher stops the events.
    _watcher: notify::RecommendedWatcher,
    events: mpsc::UnboundedReceiver<notify::Result<Event>>,
    /// Files pages include, with those pages ([`Changes::follow_includes`]).
    includes: HashMap<PathBuf, Vec<PathBuf>>,
}

impl Changes {
    /// Starts watching each of `dirs` and everything below them.
    pub fn watch(dirs: &[PathBuf]) -> notify::Result<Changes> {
        let (tx, events) = mpsc::unbounded_channel();
        let mut watcher = notify::recommended_watcher(move |event| {
            let _ = tx.send(event);
        })?;
        // A folder that can't be watched (a docs source gone missing) is logged
        // and left to `!reload`; the others are still followed. Only when none
        // can be watched is it an error (and the caller polls).
        let mut watched = 0;
        let mut last_err = None;
        for dir in dirs {
            match watcher.watch(dir, RecursiveMode::Recursive) {
                Ok(()) => watched += 1,
                Err(e) => {
                    warn!(dir = %dir.display(), error = %e, "cannot watch this knowledge folder");
                    last_err = Some(e);
                }
            }
        }
        if let (0, Some(e)) = (watched, last_err) {
            return Err(e);
        }
        Ok(Changes {
            _watcher: watcher,
            events,
            includes: HashMap::new(),
        })
    }

    /// Follows the files pages include (`includes`: each with the pages that
    /// include it, as [`crate::search::Engine::includers`] gives them): a
    /// change to one, whatever its type, is a change to those pages.
    pub fn follow_includes(&mut self, includes: HashMap<PathBuf, Vec<PathBuf>>) {
        self.includes = includes;
    }

    /// Waits for the next burst of changes to knowledge files and returns the
    /// paths it touched (empty when events may have been lost: re-read all);
    /// `None` when the watcher stopped.
    pub async fn next(&mut self) -> Option<Vec<PathBuf>> {
        loop {
            let first = self.events.recv().await?;
            let mut paths = BTreeSet::new();
            let mut relevant = absorb(first, &mut paths, &self.includes);
            let burst_end = Instant::now() + MAX_BURST;
            while Instant::now() < burst_end {
                tokio::select! {
                    e = self.events.recv() => match e {
                        Some(e) => relevant |= absorb(e, &mut paths, &self.includes),
                        None => break,
                    },
                    _ = tokio::time::sleep(DEBOUNCE) => break,
                }
            }
            if relevant {
                return Some(paths.into_iter().collect());
            }
        }
    }
}

/// Starts following the knowledge folder on the bot's task tracker; the tasks
/// end with the bot's shutdown token. `admin` receives what to post to the admin room.
pub(crate) fn start(bot: &Arc<Bot>, admin: mpsc::UnboundedSender<Formatted>) {
    if bot.config.search.index_check_secs > 0 {
        let (bot2, admin2) = (bot.clone(), admin.clone());
        bot.tasks
            .spawn(async move { guard_index(&bot2, &admin2).await });
    }
    for source in bot
        .config
        .knowledge
        .sources
        .iter()
        .filter(|s| s.git.is_some())
    {
        let (bot2, admin2, source) = (bot.clone(), admin.clone(), source.clone());
        bot.tasks
            .spawn(async move { pull(&bot2, &admin2, &source).await });
    }
    if !bot.config.search.watch {
        set_watching(bot, messages::NOT_WATCHED, messages::NOT_WATCHED);
        let bot2 = bot.clone();
        bot.tasks
            .spawn(async move { refresh(&bot2, &admin, &[], None).await });
        return;
    }
    // Git sources are refreshed after each pull instead: their folder may not
    // exist before the first clone.
    let data_dir = &bot.config.matrix.data_dir;
    let pulled: Vec<PathBuf> = bot
        .config
        .knowledge
        .sources
        .iter()
        .filter(|s| s.git.is_some())
        .map(|s| s.folder(data_dir))
        .collect();
    let dirs: Vec<PathBuf> = bot
        .engine
        .settings()
        .folders()
        .filter(|d| !pulled.iter().any(|p| p == d))
        .map(Path::to_path_buf)
        .collect();
    let dir = bot.engine.settings().knowledge_dir.clone();
    let bot2 = bot.clone();
    match Changes::watch(&dirs) {
        Ok(changes) => {
            info!(dir = %dir.display(), folders = dirs.len(), "watching the knowledge folders for changes");
            set_watching(bot, messages::WATCHING, messages::WATCHING);
            bot.tasks
                .spawn(async move { watch(&bot2, changes, &admin).await });
        }
        Err(err) => {
            warn!(dir = %dir.display(), error = %err, "cannot watch the knowledge folder; polling it every {} s", POLL.as_secs());
            set_watching(
                bot,
                &messages::polling(POLL, &format!("watching failed: {err}")),
                &messages::polling(POLL, &format!("watching failed; {}", messages::SEE_LOG)),
            );
            bot.tasks.spawn(async move { poll(&bot2, &admin).await });
        }
    }
}

/// Records how the folders are followed: `how`, and `shown` for a room
/// limited to some collections.
fn set_watching(bot: &Bot, how: &str, shown: &str) {
    let mut state = bot.reload_state();
    state.watching = how.to_string();
    state.watching_shown = shown.to_string();
}

async fn watch(bot: &Arc<Bot>, mut changes: Changes, admin: &mpsc::UnboundedSender<Formatted>) {
    // Whatever changed between opening the index and the watch starting.
    refresh(bot, admin, &[], None).await;
    loop {
        changes.follow_includes(bot.engine.includers());
        let burst = tokio::select! {
            _ = bot.shutdown.cancelled() => return,
            b = changes.next() => b,
        };
        match burst {
            Some(paths) => refresh(bot, admin, &paths, None).await,
            None => break,
        }
    }
    // The watcher's channel closed: it died. Keep the index fresh anyway.
    warn!(
        "the knowledge folder watcher stopped; polling every {} s",
        POLL.as_secs()
    );
    let stopped = messages::polling(POLL, "the watcher stopped");
    set_watching(bot, &stopped, &stopped);
    poll(bot, admin).await;
}

/// Keeps a git source's checkout up to date: clones it, then pulls every
/// `pull_interval_secs` and refreshes the index when the files moved. A failed
/// pull is logged and shown by `!status`; the last good checkout keeps serving.
async fn pull(
    bot: &Arc<Bot>,
    admin: &mpsc::UnboundedSender<Formatted>,
    source: &crate::config::SourceConfig,
) {
    let collection = source.collection();
    let checkout = source.checkout(&bot.config.matrix.data_dir);
    let url = source.git.clone().unwrap_or_default();
    loop {
        let (u, b, c) = (url.clone(), source.branch.clone(), checkout.clone());
        let result =
            tokio::task::spawn_blocking(move || crate::knowledge::git::sync(&u, b.as_deref(), &c))
                .await
                .unwrap_or_else(|e| Err(e.to_string()));
        let now = chrono::Local::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let changed = match result {
            Ok(synced) => {
                let (how, commit) = match &synced {
                    crate::knowledge::git::Synced::Cloned(c) => ("cloned", c),
                    crate::knowledge::git::Synced::Updated { to, .. } => ("updated", to),
                    crate::knowledge::git::Synced::Unchanged(c) => ("up to date", c),
                };
                info!(source = %collection, commit = %commit, "{how}");
                bot.reload_state()
                    .pulls
                    .insert(collection.clone(), messages::pulled(&now, how, commit));
                synced.changed()
            }
            Err(err) => {
                warn!(source = %collection, error = %err, "pulling the knowledge repository failed; the last good checkout is served");
                bot.reload_state()
                    .pulls
                    .insert(collection.clone(), messages::pull_failed(&now, &err));
                false
            }
        };
        if changed {
            refresh(bot, admin, &[], Some(&collection)).await;
        }
        tokio::select! {
            _ = bot.shutdown.cancelled() => return,
            _ = tokio::time::sleep(Duration::from_secs(source.pull_interval_secs.max(1))) => {}
        }
    }
}

async fn poll(bot: &Arc<Bot>, admin: &mpsc::UnboundedSender<Formatted>) {
    loop {
        refresh(bot, admin, &[], None).await;
        tokio::select! {
            _ = bot.shutdown.cancelled() => return,
            _ = tokio::time::sleep(POLL) => {}
        }
    }
}

/// Adds an event's knowledge paths to `paths` (for a file pages include, by
/// `includes`, those pages); whether it calls for a refresh.
fn absorb(
    event: notify::Result<Event>,
    paths: &mut BTreeSet<PathBuf>,
    includes: &HashMap<PathBuf, Vec<PathBuf>>,
) -> bool {
    let event = match event {
        Ok(e) => e,
        Err(err) => {
            // Events may have been lost (queue overflow): re-read to be safe.
            warn!(error = %err, "knowledge folder watcher error");
            return true;
        }
    };
    match event.kind {
        // Reads, and opening or closing without writing, change nothing.
        EventKind::Access(AccessKind::Close(AccessMode::Write)) => {}
        EventKind::Access(_) => return false,
        _ => {}
    }
    if event.paths.is_empty() || event.need_rescan() {
        return true;
    }
    let mut relevant = false;
    for p in event.paths {
        if let Some(pages) = includes.get(&crate::knowledge::absolute_path(&p)) {
            paths.extend(pages.iter().cloned());
            relevant = true;
        }
        if is_knowledge_path(&p) {
            paths.insert(p);
            relevant = true;
        }
    }
    relevant
}

/// Knowledge files, synonyms files and folders (a renamed or deleted folder
/// takes its files along); not editors' swap, backup and temp files.
fn is_knowledge_path(p: &Path) -> bool {
    let Some(name) = p.file_name().and_then(|n| n.to_str()) else {
        return false;
    };
    if name.starts_with('.') || name.ends_with('~') {
        return false;
    }
    match p.extension().and_then(|e| e.to_str()) {
        Some(_) => {
            crate::knowledge::Format::of(name).is_some()
                || name == crate::knowledge::SYNONYMS_FILE
                || p.is_dir()
        }
        None => !p.is_file(),
    }
}

/// Checks every `search.index_check_secs` that the index's files are whole, and
/// rebuilds a damaged or deleted index from the knowledge files.
async fn guard_index(bot: &Arc<Bot>, admin: &mpsc::UnboundedSender<Formatted>) {
    let every = Duration::from_secs(bot.config.search.index_check_secs);
    loop {
        tokio::select! {
            _ = bot.shutdown.cancelled() => return,
            _ = tokio::time::sleep(every) => {}
        }
        let engine = bot.engine.clone();
        match super::blocking(move || engine.repair_if_damaged()).await {
            Ok(None) => {}
            Ok(Some(report)) => {
                info!(%report, "index rebuilt after damage");
                let stats = bot.engine.stats_in(bot.admin_scope().as_deref());
                let _ = admin.send(messages::index_repaired(stats.files, stats.snippets));
            }
            Err(err) => {
                error!(error = %format!("{err:#}"), "rebuilding the damaged index failed; will retry")
            }
        }
    }
}

/// Keeps the semantic model's passage vectors whole: embeds every passage it
/// has not read, at start and after each reload, so a question costs the model
/// only the question's own vector and no reply waits for a passage's.
pub(super) async fn embed_in_background(bot: Arc<Bot>) {
    loop {
        let engine = bot.engine.clone();
        let stop = bot.shutdown.clone();
        let started = Instant::now();
        match super::blocking(move || engine.embed_all(|| stop.is_cancelled())).await {
            Ok(0) => {}
            Ok(passages) => info!(
                passages,
                secs = started.elapsed().as_secs_f32(),
                "passages embedded for the semantic model"
            ),
            Err(err) => warn!(error = %format!("{err:#}"), "embedding passages failed"),
        }
        tokio::select! {
            _ = bot.shutdown.cancelled() => return,
            _ = bot.engine.changed() => {}
        }
    }
}

/// Brings the index up to date, then records and reports the outcome; what set
/// it off — `changed`, the paths a watcher saw, or `pulled`, the collection
/// whose repository was pulled — makes it those collections' reload too.
async fn refresh(
    bot: &Arc<Bot>,
    admin: &mpsc::UnboundedSender<Formatted>,
    changed: &[PathBuf],
    pulled: Option<&str>,
) {
    let settings = bot.engine.settings();
    let origin = (changed.iter().filter_map(|p| settings.shown(p)))
        .map(|f| bot.engine.collection_of(&f))
        .chain(pulled.map(str::to_string))
        .collect();
    let engine = bot.engine.clone();
    let started = Instant::now();
    let report = match super::blocking(move || engine.refresh()).await {
        Ok(report) => report,
        Err(err) => return failed(bot, admin, &format!("{err:#}")),
    };
    let reload = what_changed(bot, &report);
    if !(reload.added.is_empty()
        && reload.updated.is_empty()
        && reload.removed.is_empty()
        && !reload.synonyms)
    {
        info!(
            added = ?reload.added,
            updated = ?reload.updated,
            removed = ?reload.removed,
            synonyms = reload.synonyms,
            paths_seen = changed.len(),
            snippets = report.snippets,
            files = report.files,
            ms = started.elapsed().as_millis() as u64,
            "knowledge reloaded"
        );
    }
    let post = {
        let mut state = bot.reload_state();
        (state.reloads).record(reload, origin, |f| bot.engine.collection_of(f));
        state.failure = None;
        // Before the first sync the admin room's scope may be a stand-in:
        // its problems are told once the room is known.
        bot.admin_scope_settled()
            .then(|| news_of_problems(&mut state, admin_problems(bot)))
            .flatten()
    };
    if let Some(post) = post {
        let _ = admin.send(post);
    }
}

/// The knowledge files' problems the admin room is told of: those of the
/// collections it may see.
fn admin_problems(bot: &Bot) -> Vec<String> {
    (bot.engine)
        .knowledge_errors_in(bot.admin_scope().as_deref())
        .iter()
        .map(crate::render::problem)
        .collect()
}

/// Records a reload (`report`) asked for in a room that sees `scope` (`None`:
/// all; `!reload`), for `!status`.
pub(crate) fn record_asked(
    bot: &Bot,
    report: &crate::search::RebuildReport,
    scope: Option<&[String]>,
) {
    let reload = what_changed(bot, report);
    let origin = scope.into_iter().flatten().cloned().collect();
    (bot.reload_state().reloads).record(reload, origin, |f| bot.engine.collection_of(f));
}

/// What a rebuild (`report`) changed: each file's content hash before it
/// compared with its hash after it, so a git pull or a poll, which name no
/// paths, is told as a change too. A file counts as updated only when it loaded.
fn what_changed(bot: &Bot, report: &crate::search::RebuildReport) -> LastReload {
    let (before, hashes) = (&report.before.pages, &*report.before.hashes);
    let (after, now) = (&report.after.pages, &*report.after.hashes);
    let failing: BTreeSet<String> = bot
        .engine
        .knowledge_errors()
        .into_iter()
        .map(|e| e.file)
        .collect();
    let touched: BTreeSet<&String> = (hashes.iter())
        .filter(|(f, h)| now.get(*f) != Some(*h))
        .map(|(f, _)| f)
        .chain(now.keys().filter(|f| !hashes.contains_key(*f)))
        .collect();
    // The knowledge folder's own synonyms file serves every room; another
    // (a collection's) is told as that collection's file.
    let settings = bot.engine.settings();
    let shared = settings.shown(&settings.knowledge_dir.join(crate::knowledge::SYNONYMS_FILE));
    let synonyms_file = |f: &String| {
        Some(f) != shared.as_ref() && f.rsplit('/').next() == Some(crate::knowledge::SYNONYMS_FILE)
    };
    let synonyms = |keep: &dyn Fn(&String) -> bool| -> Vec<String> {
        let files = touched.iter().filter(|f| synonyms_file(f) && keep(f));
        files.map(|f| (*f).clone()).collect()
    };
    let (was, is) = (
        |f: &String| hashes.contains_key(f),
        |f: &String| now.contains_key(f),
    );
    let loads = |f: &String| !failing.contains(f);
    let mut added: Vec<String> = after.difference(before).cloned().collect();
    added.extend(synonyms(&|f| !was(f) && loads(f)));
    let mut updated: Vec<String> = (touched.iter())
        .filter(|f| before.contains(**f) && after.contains(**f) && loads(f))
        .map(|f| (*f).clone())
        .collect();
    updated.extend(synonyms(&|f| was(f) && is(f) && loads(f)));
    let mut removed: Vec<String> = before.difference(after).cloned().collect();
    removed.extend(synonyms(&|f| !is(f)));
    LastReload {
        at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        added,
        updated,
        removed,
        synonyms: shared.is_some_and(|own| touched.contains(&own)),
        touched: touched.into_iter().cloned().collect(),
    }
}

/// What to tell the admin room when the knowledge files' `problems` differ
/// from what it was last told (`None`: nothing new), remembering them.
fn news_of_problems(state: &mut ReloadState, problems: Vec<String>) -> Option<Formatted> {
    if problems == state.reported {
        return None;
    }
    let post = if problems.is_empty() {
        info!("the knowledge files load without problems again");
        messages::knowledge_fixed()
    } else {
        warn!(
            count = problems.len(),
            "knowledge files with problems; serving their last good versions"
        );
        messages::knowledge_problems(&problems)
    };
    state.reported = problems;
    Some(post)
}

fn failed(bot: &Bot, admin: &mpsc::UnboundedSender<Formatted>, err: &str) {
    error!(error = %err, "updating the index from the knowledge files failed; the previous index stays in use");
    let mut state = bot.reload_state();
    if state.failure.as_deref() != Some(err) {
        // The error may name any collection's files: an admin room limited to
        // some collections is told only that it failed.
        let shown = bot.admin_scope().is_none().then_some(err);
        let _ = admin.send(messages::reload_error(shown));
    }
    state.failure = Some(err.to_string());
}

/// Posts what it receives to the admin room, in order, once the first sync has
/// made the room known. Without an admin room, drains the channel.
pub(crate) async fn post_to_admin_room(
    bot: Arc<Bot>,
    mut posts: mpsc::UnboundedReceiver<Formatted>,
    mut synced: tokio::sync::watch::Receiver<bool>,
) {
    let Some(room_id) = bot.admin_room.clone() else {
        while posts.recv().await.is_some() {}
        return;
    };
    tokio::select! {
        _ = bot.shutdown.cancelled() => return,
        _ = synced.wait_for(|s| *s) => {}
    }
    // What a refresh before the first sync found, told now that the room's
    // scope is known.
    let first = news_of_problems(&mut bot.reload_state(), admin_problems(&bot));
    let mut first = first.into_iter();
    loop {
        let post = match first.next() {
            Some(post) => Some(post),
            None => tokio::select! {
                _ = bot.shutdown.cancelled() => return,
                p = posts.recv() => p,
            },
        };
        let Some(post) = post else { return };
        let Some(room) = bot.client.get_room(&room_id) else {
            warn!(room = %room_id, "not in the admin room (invite the bot there); not posting");
            continue;
        };
        let post = messages::fitted(post);
        let mut content = RoomMessageEventContent::notice_html(post.plain, post.html);
        // It quotes file names and file content: "@room" or someone's name
        // there must not notify anyone (an empty m.mentions turns off the
        // clients' and servers' body-text mention rules).
        content.mentions = Some(Mentions::new());
        if let Err(err) = room.send(content).await {
            warn!(room = %room_id, error = %err, "posting to the admin room failed");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_room_limited_to_some_collections_is_told_of_their_last_reload_only() {
        let collection_of = |f: &str| f.split('/').next().unwrap_or_default().to_string();
        let reload = |at: &str, updated: &[&str], synonyms: bool| LastReload {
            at: at.into(),
            updated: updated.iter().map(|f| f.to_string()).collect(),
            synonyms,
            touched: (updated.iter().map(|f| f.to_string()))
                .chain(synonyms.then(|| "synonyms.toml".to_string()))
                .collect(),
            ..LastReload::default()
        };
        let (a, b, ab) = (
            ["a".to_string()],
            ["b".to_string()],
            ["a".into(), "b".into()],
        );
        let told = |r: &Reloads, scope: Option<&[String]>| {
            r.seen_by(scope)
                .map(|r| format!("{} {}", r.at, r.summary(|_| true)))
        };
        let mut r = Reloads::default();
        assert_eq!(told(&r, Some(&a)), None);
        let none = BTreeSet::new;
        r.record(reload("t1", &["a/x.md"], false), none(), collection_of);
        r.record(reload("t2", &["b/y.md"], false), none(), collection_of);
        // Table: (scope, what it is told) after each further reload.
        // What a room that sees a scope (`None`: all) is told, if anything.
        type Told<'a> = (Option<&'a [String]>, Option<&'a str>);
        let steps: &[(LastReload, &[Told<'_>])] = &[
            (
                // A check of everything that changed only B: A is told it
                // ran, not what it changed, as when it changes nothing.
                reload("t3", &["b/z.md"], false),
                &[
                    (None, Some("t3 updated b/z.md")),
                    (Some(&a), Some("t3 no changes")),
                    (Some(&b), Some("t3 updated b/z.md")),
                ],
            ),
            (
                reload("t4", &["a/x.md", "b/y.md"], false),
                &[
                    (Some(&a), Some("t4 updated a/x.md")),
                    (Some(&ab), Some("t4 updated a/x.md, b/y.md")),
                ],
            ),
            (
                // Nothing changed (an asked !reload): every room sees it ran.
                reload("t5", &[], false),
                &[
                    (Some(&a), Some("t5 no changes")),
                    (Some(&b), Some("t5 no changes")),
                ],
            ),
            (
                // The synonyms serve every room; B's file is B's.
                reload("t6", &["b/y.md"], true),
                &[
                    (Some(&a), Some("t6 synonyms re-read")),
                    (Some(&b), Some("t6 updated b/y.md; synonyms re-read")),
                ],
            ),
            (
                // A file of B that no longer parses is listed nowhere, but
                // the reload was still B's (a pull or a poll names no paths).
                LastReload {
                    touched: vec!["b/broken.md".into()],
                    ..reload("t7", &[], false)
                },
                &[
                    (Some(&a), Some("t7 no changes")),
                    (Some(&b), Some("t7 no changes")),
                ],
            ),
            (
                // Set off for B (its repository pulled, its path seen, its
                // room asked), it changed nothing: B's business still.
                reload("t8", &[], false),
                &[
                    (Some(&a), Some("t7 no changes")),
                    (Some(&b), Some("t8 no changes")),
                ],
            ),
        ];
        for (i, (next, expected)) in steps.iter().enumerate() {
            let origin = match i + 1 == steps.len() {
                true => BTreeSet::from(["b".to_string()]),
                false => none(),
            };
            r.record(next.clone(), origin, collection_of);
            for (scope, told_of) in *expected {
                assert_eq!(
                    told(&r, *scope).as_deref(),
                    *told_of,
                    "{} {scope:?}",
                    next.at
                );
            }
        }
        // When the index was last updated, for a room: its collections' last
        // change or the shared synonyms', not a reload that changed nothing.
        assert_eq!(r.last_change(&a), Some("t6"));
        assert_eq!(r.last_change(&b), Some("t7"));
    }

    #[test]
    fn knowledge_paths_are_markdown_synonyms_and_folders_not_editor_files() {
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("team");
        std::fs::create_dir(&sub).unwrap();
        for (p, want) in [
            ("a.md", true),
            ("A.MD", true),
            ("synonyms.toml", true),
            ("team", true),
            ("gone-folder", true),
            (".a.md.swp", false),
            ("a.md~", false),
            ("notes.txt", true),
            ("page.html", true),
            ("logo.png", false),
            ("SUMMARY.md", false),
            ("other.toml", false),
        ] {
            assert_eq!(is_knowledge_path(&dir.path().join(p)), want, "{p}");
        }
    }

    #[test]
    fn reads_are_ignored_writes_and_errors_refresh() {
        let mut paths = BTreeSet::new();
        let read = Event::new(EventKind::Access(AccessKind::Open(AccessMode::Read)))
            .add_path("/k/a.md".into());
        assert!(!absorb(Ok(read), &mut paths, &HashMap::new()));
        let write = Event::new(EventKind::Access(AccessKind::Close(AccessMode::Write)))
            .add_path("/k/a.md".into());
        assert!(absorb(Ok(write), &mut paths, &HashMap::new()));
        let swap = Event::new(EventKind::Create(notify::event::CreateKind::File))
            .add_path("/k/.a.md.swp".into());
        assert!(!absorb(Ok(swap), &mut paths, &HashMap::new()));
        assert_eq!(
            paths.into_iter().collect::<Vec<_>>(),
            [PathBuf::from("/k/a.md")]
        );
        assert!(absorb(
            Err(notify::Error::generic("overflow")),
            &mut BTreeSet::new(),
            &HashMap::new()
        ));
        // A file a page includes, of any type, changes the pages that include it.
        let includes = HashMap::from([(
            PathBuf::from("/k/examples/app.py"),
            vec![PathBuf::from("/k/guide.rst")],
        )]);
        let mut paths = BTreeSet::new();
        let edit = Event::new(EventKind::Modify(notify::event::ModifyKind::Any))
            .add_path("/k/guide/../examples/app.py".into());
        assert!(absorb(Ok(edit.clone()), &mut paths, &includes));
        assert_eq!(
            paths.into_iter().collect::<Vec<_>>(),
            [PathBuf::from("/k/guide.rst")]
        );
        assert!(!absorb(Ok(edit), &mut BTreeSet::new(), &HashMap::new()));
        let mut settings = crate::search::SearchSettings::new("/x/knowledge", None);
        settings.sources.push(crate::search::ExtraSource {
            path: "/srv/docs".into(),
            name: "Docs".into(),
            mount: crate::knowledge::Mount {
                collection: "server".into(),
                ..Default::default()
            },
        });
        for (path, want) in [
            ("/x/knowledge/team/a.md", Some("knowledge/team/a.md")),
            ("/srv/docs/admin/b.md", Some("server/admin/b.md")),
            ("/elsewhere/c.md", None),
        ] {
            assert_eq!(settings.shown(Path::new(path)).as_deref(), want, "{path}");
        }
    }

    /// The watcher reports a relative folder's files under the working
    /// directory: they are still that folder's, and so its collection's (else
    /// a change in one collection reads as a reload of all of them).
    #[test]
    fn a_relative_folders_files_are_its_own_as_the_watcher_reports_them() {
        let relative = crate::search::SearchSettings::new("knowledge", None);
        let cwd = std::env::current_dir().unwrap();
        for (path, want) in [
            (cwd.join("knowledge/team/a.md"), Some("knowledge/team/a.md")),
            (
                cwd.join("./knowledge/team/a.md"),
                Some("knowledge/team/a.md"),
            ),
            (
                PathBuf::from("knowledge/team/a.md"),
                Some("knowledge/team/a.md"),
            ),
            (cwd.join("other/knowledge/a.md"), None),
        ] {
            assert_eq!(relative.shown(&path).as_deref(), want, "{path:?}");
        }
    }
}
