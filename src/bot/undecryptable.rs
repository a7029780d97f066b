//! Messages the bot could not decrypt ("UTDs"): their room key often
//! arrives a moment after the message, so each one is kept and retried; once
//! it decrypts it is handled like any other message. If the key doesn't come
//! within `encryption.utd_wait_secs`, the bot posts one plain notice in the
//! room (at most one per room per `encryption.utd_notice_interval_secs`)
//! and forgets the message. No event is ever tracked, answered or noticed
//! twice.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use matrix_sdk::Room;
use matrix_sdk::ruma::events::AnySyncTimelineEvent;
use matrix_sdk::ruma::events::Mentions;
use matrix_sdk::ruma::events::relation::Reply;
use matrix_sdk::ruma::events::room::message::{Relation, RoomMessageEventContent};
use matrix_sdk::ruma::serde::Raw;
use matrix_sdk::ruma::{MilliSecondsSinceUnixEpoch, OwnedEventId, OwnedRoomId, OwnedUserId};
use tokio::sync::Notify;
use tracing::{debug, info, warn};

use super::handlers::{self, Arrival};
use super::{Bot, journal, membership, reply};
use crate::messages;

/// How often pending messages are retried (decryption is a local lookup).
const RETRY_EVERY: Duration = Duration::from_millis(250);

struct Pending {
    room: Room,
    event: Raw<AnySyncTimelineEvent>,
    sender: OwnedUserId,
    since: Instant,
}

/// Most messages waiting for their keys at once; more are logged and dropped
/// (a flood of undecryptable messages must not grow memory without bound).
const MAX_PENDING: usize = 10_000;
/// How many tracked event IDs are remembered, so none is waited for twice.
const TRACKED: usize = 100_000;

/// The undecryptable messages waiting for their keys.
pub(crate) struct Undecryptable {
    pending: Mutex<HashMap<OwnedEventId, Pending>>,
    /// The events tracked lately: a message is waited for (and noticed) once.
    tracked: Mutex<super::Recent<OwnedEventId>>,
    last_notice: Mutex<HashMap<OwnedRoomId, Instant>>,
    wake: Notify,
}

impl Default for Undecryptable {
    fn default() -> Self {
        Undecryptable {
            pending: Mutex::default(),
            tracked: Mutex::new(super::Recent::new(TRACKED)),
            last_notice: Mutex::default(),
            wake: Notify::new(),
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Starts waiting for the key of an undecryptable timeline event, unless it
/// is ours, history (from before we joined) or too old to answer; returns
/// whether it waits. It is kept in the journal meanwhile (unless it `arrival`d
/// from there), so the wait survives a restart.
pub(crate) async fn track(
    bot: &Arc<Bot>,
    room: &Room,
    raw: &Raw<AnySyncTimelineEvent>,
    arrival: Arrival,
) -> bool {
    let journaled = arrival.journaled;
    if arrival.catching_up {
        return false;
    }
    let (Ok(Some(event_id)), Ok(Some(sender)), Ok(Some(ts))) = (
        raw.get_field::<OwnedEventId>("event_id"),
        raw.get_field::<OwnedUserId>("sender"),
        raw.get_field::<MilliSecondsSinceUnixEpoch>("origin_server_ts"),
    ) else {
        debug!(room = %room.room_id(), "undecryptable event without id/sender/ts");
        return false;
    };
    if sender == bot.user_id {
        return false;
    }
    if membership::too_late(bot, room, u64::from(ts.0))
        .await
        .is_some()
    {
        return false; // never meant for us to read, or too old to answer
    }
    let utd = &bot.undecryptable;
    {
        let mut tracked = lock(&utd.tracked);
        if tracked.contains(&event_id) {
            return false;
        }
        tracked.insert(event_id.clone());
    }
    if lock(&utd.pending).len() >= MAX_PENDING {
        warn!(room = %room.room_id(), event = %event_id, "too many messages are waiting for keys; not waiting for this one");
        return false;
    }
    let open = journal::Open {
        room: room.room_id().to_string(),
        event: raw
            .deserialize_as::<serde_json::Value>()
            .unwrap_or_default(),
        encrypted: true,
    };
    if !journaled && !bot.journal.take(event_id.as_str(), open) {
        return false; // answered already
    }
    info!(room = %room.room_id(), event = %event_id, %sender, "can't decrypt a message yet; waiting for its key");
    if !journaled {
        bot.metrics.undecryptable();
    }
    lock(&utd.pending).insert(
        event_id,
        Pending {
            room: room.clone(),
            event: raw.clone(),
            sender,
            since: Instant::now(),
        },
    );
    utd.wake.notify_one();
    true
}

/// Retries pending messages until shutdown: answers those whose key came,
/// gives up on (and notices) those whose wait is over.
pub(crate) async fn run(bot: Arc<Bot>) {
    let utd = &bot.undecryptable;
    loop {
        let idle = lock(&utd.pending).is_empty();
        tokio::select! {
            _ = bot.shutdown.cancelled() => return,
            _ = utd.wake.notified(), if idle => {}
            _ = tokio::time::sleep(RETRY_EVERY), if !idle => {}
        }
        retry(&bot).await;
    }
}

async fn retry(bot: &Arc<Bot>) {
    let utd = &bot.undecryptable;
    let ids: Vec<OwnedEventId> = lock(&utd.pending).keys().cloned().collect();
    for id in ids {
        let Some((room, event, since)) = lock(&utd.pending)
            .get(&id)
            .map(|p| (p.room.clone(), p.event.clone(), p.since))
        else {
            continue;
        };
        match room.decrypt_event(event.cast_ref_unchecked(), None).await {
            Ok(decrypted) if !decrypted.kind.is_utd() => {
                lock(&utd.pending).remove(&id);
                info!(room = %room.room_id(), event = %id, waited_ms = since.elapsed().as_millis() as u64, "the key arrived; handling the message");
                if !handlers::handle_timeline_event(bot, &room, decrypted.raw(), Arrival::JOURNALED)
                    .await
                {
                    bot.journal.done(id.as_str()); // not a question for the bot
                }
                continue;
            }
            Ok(_) => {}
            Err(err) => debug!(event = %id, error = %err, "retrying decryption failed"),
        }
        if since.elapsed() >= bot.config.encryption.utd_wait() {
            let Some(pending) = lock(&utd.pending).remove(&id) else {
                continue;
            };
            give_up(bot, id, pending);
        }
    }
}

/// The key never came: one notice, if the room hasn't had one recently.
fn give_up(bot: &Arc<Bot>, event_id: OwnedEventId, pending: Pending) {
    bot.journal.done(event_id.as_str());
    let room_id = pending.room.room_id().to_owned();
    let interval = bot.config.encryption.utd_notice_interval();
    {
        let mut last = lock(&bot.undecryptable.last_notice);
        // Rooms whose interval is over need no entry.
        last.retain(|_, at| at.elapsed() < interval);
        if last.get(&room_id).is_some_and(|at| at.elapsed() < interval) {
            warn!(room = %room_id, event = %event_id, sender = %pending.sender, "never got the key for a message; a notice went to this room recently, so staying quiet");
            return;
        }
        last.insert(room_id.clone(), Instant::now());
    }
    warn!(room = %room_id, event = %event_id, sender = %pending.sender, "never got the key for a message; telling the room");
    let mut content = RoomMessageEventContent::notice_plain(messages::undecryptable_notice(
        pending.sender.as_str(),
    ));
    content.relates_to = Some(Relation::Reply(Reply::with_event_id(event_id.clone())));
    content.mentions = Some(Mentions::with_user_ids([pending.sender.clone()]));
    let txn = reply::transaction_id_for(&event_id, "utd");
    let (bot, room) = (bot.clone(), pending.room);
    bot.clone().tasks.spawn(async move {
        if let Err(err) = reply::send(&room, content, txn, bot.config.limits.send_attempts).await
        {
            warn!(room = %room.room_id(), error = %err, "the undecryptable-message notice was not delivered");
        }
    });
}
