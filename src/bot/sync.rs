//! The sync loop: each `/sync` response's invites, messages and gaps handed to
//! the handlers, the sync position saved only once its questions are in the
//! journal, and the questions the journal held open before a restart taken up
//! again.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use futures_util::StreamExt as _;
use matrix_sdk::Room;
use matrix_sdk::config::{RequestConfig, SyncSettings};
use matrix_sdk::ruma::api::client::filter::{
    Filter as PresenceFilter, FilterDefinition, LazyLoadOptions, RoomEventFilter,
};
use matrix_sdk::ruma::api::client::sync::sync_events::v3::Filter;
use matrix_sdk::ruma::api::error::ErrorKind;
use matrix_sdk::ruma::events::AnySyncTimelineEvent;
use matrix_sdk::ruma::{EventId, MilliSecondsSinceUnixEpoch, OwnedEventId, OwnedRoomId};
use matrix_sdk::store::{StateStoreDataKey, StateStoreDataValue};
use matrix_sdk::sync::SyncResponse;
use tracing::{error, info, warn};

use super::handlers::{self, Arrival};
use super::{Bot, MAX_BACKOFF, journal, membership, undecryptable};

/// Handles one sync response. `catching_up`: the first sync after a fresh
/// login, whose messages are history and never answered. `since`: the token
/// this sync started from.
async fn process(bot: &Arc<Bot>, response: SyncResponse, catching_up: bool, since: Option<&str>) {
    for room_id in response.rooms.invited.keys() {
        let bot2 = bot.clone();
        let room_id = room_id.clone();
        bot.tasks
            .spawn(async move { membership::handle_invite(&bot2, room_id).await });
    }
    for (room_id, update) in &response.rooms.joined {
        let Some(room) = bot.client.get_room(room_id) else {
            continue;
        };
        // A limited timeline (more events than sync.timeline_limit since the last
        // sync, as after downtime) has a gap before its events: fetch it first, so
        // questions asked in it are answered too, in order. Not when the timeline
        // reaches back to the bot's invite (a room just joined): what came before
        // that was not said to the bot.
        let invited_here = membership::note_invite(bot, &room, update.timeline.events.iter());
        let gap = match (
            update.timeline.limited && !catching_up && !invited_here,
            since,
        ) {
            (true, Some(since)) => {
                missed_events(bot, &room, update.timeline.prev_batch.as_deref(), since).await
            }
            _ => Vec::new(),
        };
        membership::note_invite(bot, &room, gap.iter());
        for event in gap.iter().chain(&update.timeline.events) {
            let arrival = Arrival::synced(catching_up && !after_rejection(bot, event));
            // Encrypted events arrive decrypted where the key was at hand;
            // the rest wait for their key (see `undecryptable`).
            if event.kind.is_utd() {
                undecryptable::track(bot, &room, event.raw(), arrival).await;
                continue;
            }
            handlers::handle_timeline_event(bot, &room, event.raw(), arrival).await;
        }
        membership::leave_if_alone(bot, &room).await;
    }
}

/// Whether `event` was sent after the last sync of a login the homeserver
/// rejected: not history, though it arrives in a new login's first sync.
fn after_rejection(bot: &Bot, event: &matrix_sdk::deserialized_responses::TimelineEvent) -> bool {
    let Some(from) = bot.answer_from else {
        return false;
    };
    event
        .raw()
        .get_field::<MilliSecondsSinceUnixEpoch>("origin_server_ts")
        .ok()
        .flatten()
        .is_some_and(|ts| u64::from(ts.0) >= from)
}

/// Most events fetched to fill one room's gap: a bound on the work after a long
/// outage in a busy room (older questions would be past `max_missed_age` anyway).
const MAX_GAP_EVENTS: usize = 1000;

/// The events of `room` between `since` (the previous sync) and `prev_batch` (the
/// start of a limited timeline), oldest first, fetched backwards through
/// `/messages` until the gap is closed, the events are older than
/// `answer.max_missed_age_secs`, or [`MAX_GAP_EVENTS`] are fetched.
async fn missed_events(
    bot: &Arc<Bot>,
    room: &Room,
    prev_batch: Option<&str>,
    since: &str,
) -> Vec<matrix_sdk::deserialized_responses::TimelineEvent> {
    let Some(mut from) = prev_batch.map(str::to_owned) else {
        return Vec::new();
    };
    let oldest_wanted = std::time::SystemTime::now()
        .checked_sub(bot.config.answer.max_missed_age())
        .and_then(MilliSecondsSinceUnixEpoch::from_system_time);
    let mut events = Vec::new();
    loop {
        let mut options = matrix_sdk::room::MessagesOptions::backward().from(from.as_str());
        options.to = Some(since.to_owned());
        options.limit = 100u32.into();
        let page = match room.messages(options).await {
            Ok(page) => page,
            Err(err) => {
                warn!(room = %room.room_id(), error = %err, "cannot fetch the messages sent while away; some may go unanswered");
                break;
            }
        };
        let done = page.chunk.is_empty() || page.end.is_none();
        let mut too_old = false;
        for event in page.chunk {
            let ts = event
                .raw()
                .get_field::<MilliSecondsSinceUnixEpoch>("origin_server_ts")
                .ok()
                .flatten();
            too_old |= matches!((ts, oldest_wanted), (Some(ts), Some(oldest)) if ts < oldest);
            events.push(event);
        }
        if done || too_old || events.len() >= MAX_GAP_EVENTS {
            break;
        }
        from = page.end.unwrap_or_default();
    }
    info!(room = %room.room_id(), events = events.len(), "fetched the messages sent while away that the sync left out");
    events.reverse();
    events
}

/// Takes up again the questions the journal holds open from before a restart
/// (or a crash): each goes through the usual checks (too old, rate limits) and
/// is answered; an encrypted one waits for its key again, and one deleted
/// while the bot was away is not. What the bot said about questions deleted
/// before the restart and is not yet redacted is.
pub(crate) async fn resume(bot: &Arc<Bot>, open: Vec<(String, journal::Open)>) {
    handlers::retract_left(bot);
    if open.is_empty() {
        return;
    }
    info!(
        questions = open.len(),
        "answering the questions left open before the restart"
    );
    let checks_until = std::time::Instant::now() + DELETION_CHECKS_FOR;
    // Checked a few at a time, taken up in order.
    // Tasks of their own: they go on while an entry is taken up.
    let checked = futures_util::stream::iter(open)
        .map(|(id, q)| {
            let room = OwnedRoomId::try_from(q.room.as_str())
                .ok()
                .and_then(|r| bot.client.get_room(&r));
            let (bot2, room2, id2, event) = (bot.clone(), room.clone(), id.clone(), q.event.clone());
            let check = bot.tasks.spawn(async move {
                match &room2 {
                    Some(room) => gone_while_away(&bot2, room, &id2, &event, checks_until).await,
                    None => false,
                }
            });
            async move {
                let gone = check.await.unwrap_or_else(|err| {
                    error!(event = %id, error = %err, "checking whether an open question was deleted failed; answering it");
                    false
                });
                (id, q, room, gone)
            }
        })
        .buffered(DELETION_CHECKS_AT_ONCE);
    let mut checked = std::pin::pin!(checked);
    loop {
        let next = tokio::select! {
            // What is left stays open in the journal, for the next start.
            _ = bot.shutdown.cancelled() => return,
            next = checked.next() => next,
        };
        let Some((id, q, room, gone)) = next else {
            return;
        };
        if gone {
            continue;
        }
        let raw = serde_json::value::to_raw_value(&q.event)
            .ok()
            .map(matrix_sdk::ruma::serde::Raw::<AnySyncTimelineEvent>::from_json);
        let (Some(room), Some(raw)) = (room, raw) else {
            warn!(event = %id, "an open question's room is gone; dropping it");
            bot.journal.done(&id);
            continue;
        };
        let taken = if q.encrypted {
            match room.decrypt_event(raw.cast_ref_unchecked(), None).await {
                Ok(d) if !d.kind.is_utd() => {
                    handlers::handle_timeline_event(bot, &room, d.raw(), Arrival::JOURNALED).await
                }
                _ => undecryptable::track(bot, &room, &raw, Arrival::JOURNALED).await,
            }
        } else {
            handlers::handle_timeline_event(bot, &room, &raw, Arrival::JOURNALED).await
        };
        if !taken {
            bot.journal.done(&id);
        }
    }
}

/// Whether the open entry `id` (`event`, in `room`) is not to be taken up:
/// no longer open (its question deleted meanwhile), or deleted while the bot
/// was away, or an edit of a question that was — the homeserver hands the
/// message back redacted. Then what the bot said about the question is
/// taken back and its words leave the bot's files. Without asking, the reply
/// would go out, and be taken back once the sync brings the redaction. Past
/// `until`, or when the homeserver can't say, the entry is taken up (and the
/// reply taken back if that redaction comes).
async fn gone_while_away(
    bot: &Arc<Bot>,
    room: &Room,
    id: &str,
    event: &serde_json::Value,
    until: std::time::Instant,
) -> bool {
    if !bot.journal.is_open(id) {
        return true;
    }
    // Too old to answer (or from before the bot joined): taking it up drops
    // it, without a request to the homeserver.
    let sent_at = event["origin_server_ts"].as_u64().unwrap_or(0);
    if membership::too_late(bot, room, sent_at).await.is_some() {
        return false;
    }
    let relates = &event["content"]["m.relates_to"];
    let edited = (relates["rel_type"] == "m.replace")
        .then(|| relates["event_id"].as_str())
        .flatten();
    for message in std::iter::once(id).chain(edited) {
        let Ok(message) = OwnedEventId::try_from(message) else {
            continue;
        };
        if std::time::Instant::now() >= until {
            return false;
        }
        if let Some(said) = deleted_with_replies(bot, room, &message).await {
            // Another entry's check (the message's own, or an edit's) may
            // have found it so meanwhile.
            let room_id = room.room_id().to_owned();
            let seen = (bot.replies.lock().unwrap_or_else(|e| e.into_inner()))
                .is_deleted(&room_id, &message);
            if seen {
                return true;
            }
            info!(room = %room.room_id(), event = %message, "a message was deleted while the bot was away; not answering it");
            handlers::delete_question(bot, room, &message, said);
            return true;
        }
    }
    false
}

/// When `message` in `room` comes back redacted: the bot's messages in reply
/// to it among the ones that follow (a reply sent just before a crash, not
/// yet noted). `None` when it is not redacted, or the homeserver can't say.
async fn deleted_with_replies(
    bot: &Bot,
    room: &Room,
    message: &EventId,
) -> Option<Vec<OwnedEventId>> {
    let config = RequestConfig::new()
        .timeout(DELETION_CHECK_TIMEOUT)
        .disable_retry();
    let context = match (room.event_with_context(
        message,
        true,
        CONTEXT_EVENTS.into(),
        Some(config),
    ))
    .await
    {
        Ok(context) => context,
        Err(err) => {
            warn!(room = %room.room_id(), event = %message, error = %err, "cannot tell whether an open question was deleted; answering it");
            return None;
        }
    };
    let redacted = (context.event.as_ref())
        .and_then(|e| {
            e.raw()
                .get_field::<serde_json::Value>("unsigned")
                .ok()
                .flatten()
        })
        .is_some_and(|unsigned| unsigned.get("redacted_because").is_some());
    if !redacted {
        return None;
    }
    let replies = (context.events_after.iter())
        .filter_map(|e| e.raw().deserialize_as::<serde_json::Value>().ok())
        .filter(|e| {
            e["sender"] == bot.user_id.as_str()
                && e["content"]["m.relates_to"]["m.in_reply_to"]["event_id"] == message.as_str()
        })
        .filter_map(|e| OwnedEventId::try_from(e["event_id"].as_str()?).ok())
        .collect();
    Some(replies)
}

/// How long the homeserver gets to say whether an open question was deleted.
const DELETION_CHECK_TIMEOUT: Duration = Duration::from_secs(10);
/// How long checks are begun for (the sync waits for them, and those under
/// way take up to [`DELETION_CHECK_TIMEOUT`] more); the questions left are
/// taken up unchecked.
const DELETION_CHECKS_FOR: Duration = Duration::from_secs(30);
/// Checks under way at once.
const DELETION_CHECKS_AT_ONCE: usize = 8;
/// Events around a deleted question searched for the bot's replies (half of
/// them after it).
const CONTEXT_EVENTS: u32 = 40;

fn sync_filter(timeline_limit: u32) -> Filter {
    let mut def = FilterDefinition::default();
    def.room.timeline.limit = Some(timeline_limit.into());
    // Lazy-loading members makes Synapse send the room summary (joined
    // member counts), which DM detection and leave-when-alone rely on.
    def.room.state.lazy_load_options = LazyLoadOptions::Enabled {
        include_redundant_members: false,
    };
    // Typing notices, read receipts and presence are of no use to the bot, and
    // each would end a long poll early: a question arriving while the bot handles
    // such a wake-up waits for that whole round trip (measured: tens of ms a reply).
    def.room.ephemeral = RoomEventFilter::ignore_all();
    def.presence = PresenceFilter::ignore_all();
    Filter::FilterDefinition(def)
}

/// Where the sync position the bot has fully handled is kept, in `data_dir`.
const SYNC_TOKEN: &str = "sync-token";

/// Saves `token` atomically (a crash leaves the old one or the new one).
fn save_token(data_dir: &std::path::Path, token: &str) -> std::io::Result<()> {
    let tmp = data_dir.join(format!("{SYNC_TOKEN}.tmp"));
    std::fs::write(&tmp, token)?;
    std::fs::rename(tmp, data_dir.join(SYNC_TOKEN))
}

/// The homeserver no longer accepts the bot's access token (it was logged out,
/// or its device deleted): `run` logs in again as a new device.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TokenRejected {
    /// When the last sync that worked was asked for, or (rejected at start)
    /// when the sync position was last saved; ms since the epoch.
    pub last_synced_ms: Option<u64>,
}

impl std::fmt::Display for TokenRejected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the homeserver rejected the access token (logged out, or the device deleted)")
    }
}

/// Where the first sync starts: whether it is a fresh login's (whose messages
/// are history, not addressed to a bot that wasn't listening), and the token.
async fn starting_point(bot: &Bot) -> anyhow::Result<(bool, Option<String>)> {
    let stored = bot
        .client
        .state_store()
        .get_kv_data(StateStoreDataKey::SyncToken)
        .await
        .context("reading the stored sync token")?;
    // matrix-sdk saves its token before the handlers run; ours is saved after
    // them, once every question of the response is in the journal, so a crash
    // in between replays the response instead of losing its questions.
    let ours = std::fs::read_to_string(bot.config.matrix.data_dir.join(SYNC_TOKEN))
        .ok()
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty());
    // Without a stored token this is a fresh login: the first sync returns
    // history, which is not addressed to a bot that wasn't listening.
    // (Ours only goes with the state store it was saved with: a fresh store
    // needs a full first sync.)
    let catching_up = stored.is_none();
    let since = match stored {
        Some(StateStoreDataValue::SyncToken(token)) => ours.or(Some(token)),
        _ => None,
    };
    if catching_up {
        info!("no stored sync token: skipping history in the first sync");
    } else {
        info!("continuing from the stored sync token");
    }
    Ok((catching_up, since))
}

/// Our own loop around `sync_once`: `Client::sync()` sleeps about a second
/// after every quick `/sync`, which would add that second to most replies.
pub(crate) async fn sync_loop(
    bot: &Arc<Bot>,
    synced: &tokio::sync::watch::Sender<bool>,
) -> anyhow::Result<()> {
    let cfg = &bot.config.sync;
    let data_dir = &bot.config.matrix.data_dir;
    // `since`: the token the next sync starts from, where a gap in a limited
    // timeline ends.
    let (mut catching_up, mut since) = starting_point(bot).await?;
    let mut first = true;
    let mut backoff = Duration::from_millis(500);
    let mut last_synced = None;
    loop {
        // Long-poll, except for the first sync so startup is quick.
        let timeout = if first {
            Duration::ZERO
        } else {
            Duration::from_secs(cfg.timeout_secs)
        };
        let mut settings = SyncSettings::default()
            .filter(sync_filter(cfg.timeline_limit))
            .timeout(timeout);
        if let Some(token) = &since {
            settings = settings.token(token.clone());
        }
        let asked_at = u64::from(MilliSecondsSinceUnixEpoch::now().0);
        let response = tokio::select! {
            biased;
            _ = bot.shutdown.cancelled() => return Ok(()),
            r = bot.client.sync_once(settings) => r,
        };
        match response {
            Ok(response) => {
                // Everything sent before this sync was asked for has been seen.
                last_synced = Some(asked_at);
                backoff = Duration::from_millis(500);
                let next = response.next_batch.clone();
                process(bot, response, catching_up, since.as_deref()).await;
                if let Err(err) = save_token(data_dir, &next) {
                    warn!(error = %err, "saving the sync position failed");
                }
                since = Some(next);
                catching_up = false;
                first = false;
                synced.send_replace(true);
                bot.metrics.synced();
            }
            Err(err) => {
                if let Some(ErrorKind::UnknownToken(_)) = err.client_api_error_kind() {
                    // Rejected at start: the position saved last says when.
                    let saved_at = || {
                        let modified = std::fs::metadata(data_dir.join(SYNC_TOKEN))
                            .and_then(|m| m.modified())
                            .ok()?;
                        MilliSecondsSinceUnixEpoch::from_system_time(modified)
                            .map(|t| u64::from(t.0))
                    };
                    return Err(anyhow::Error::new(err).context(TokenRejected {
                        last_synced_ms: last_synced.or_else(saved_at),
                    }));
                }
                error!(error = %err, retry_in_ms = backoff.as_millis() as u64, "sync failed");
                bot.metrics.sync_failed(&err.to_string());
                tokio::select! {
                    _ = bot.shutdown.cancelled() => return Ok(()),
                    _ = tokio::time::sleep(backoff) => {}
                }
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
    }
}
