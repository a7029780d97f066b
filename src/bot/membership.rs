//! The bot's place in rooms: invites (accepted from allowed users, rejected
//! otherwise), leaving rooms where it is alone, when it came (so what was said
//! before is not taken as a question to it), and whether a room is a direct chat.

use std::sync::Arc;
use std::time::Duration;

use matrix_sdk::ruma::{MilliSecondsSinceUnixEpoch, OwnedRoomId};
use matrix_sdk::{Room, RoomState};
use tracing::{error, info, warn};

use super::Bot;

/// Accepts invites from allowed users (retrying the join: the invite can
/// reach us before the server lets us join), rejects the rest.
pub(crate) async fn handle_invite(bot: &Arc<Bot>, room_id: OwnedRoomId) {
    let Some(room) = bot.client.get_room(&room_id) else {
        return;
    };
    if room.state() != RoomState::Invited {
        return;
    }
    let inviter = match room.invite_details().await {
        Ok(details) => details.inviter_id,
        Err(err) => {
            warn!(room = %room_id, error = %err, "can't tell who sent the invite; rejecting");
            let _ = room.leave().await;
            return;
        }
    };
    if !bot.access.may_invite(inviter.as_str()) {
        info!(room = %room_id, %inviter, "rejecting invite from a user not in access.allowed_inviters");
        if let Err(err) = room.leave().await {
            warn!(room = %room_id, error = %err, "rejecting the invite failed");
        }
        return;
    }
    let mut delay = Duration::from_millis(200);
    for attempt in 1..=8 {
        match room.join().await {
            Ok(()) => {
                info!(room = %room_id, %inviter, "joined");
                return;
            }
            Err(err) => {
                warn!(room = %room_id, error = %err, attempt, "join failed; retrying");
                tokio::select! {
                    _ = bot.shutdown.cancelled() => return,
                    _ = tokio::time::sleep(delay) => {}
                }
                delay = (delay * 2).min(Duration::from_secs(30));
            }
        }
    }
    error!(room = %room_id, "giving up joining after repeated failures");
}

pub(crate) async fn leave_if_alone(bot: &Arc<Bot>, room: &Room) {
    if room.state() == RoomState::Joined && room.joined_members_count() == 1 {
        info!(room = %room.room_id(), "everyone else left; leaving");
        let room = room.clone();
        bot.tasks.spawn(async move {
            if let Err(err) = room.leave().await {
                warn!(room = %room.room_id(), error = %err, "leaving an empty room failed");
            }
        });
    }
}

/// Remembers when the bot was invited to `room`, from its invite among
/// `events`: what was said from then on was said with the bot in mind (people
/// start a chat with the bot and type the question before it has joined).
/// Returns whether the invite was among them.
pub(crate) fn note_invite<'e>(
    bot: &Bot,
    room: &Room,
    events: impl Iterator<Item = &'e matrix_sdk::deserialized_responses::TimelineEvent>,
) -> bool {
    let mut found = false;
    for event in events {
        let raw = event.raw();
        let field = |name: &str| raw.get_field::<String>(name).ok().flatten();
        if field("type").as_deref() != Some("m.room.member")
            || field("state_key").as_deref() != Some(bot.user_id.as_str())
        {
            continue;
        }
        let membership = raw
            .get_field::<serde_json::Value>("content")
            .ok()
            .flatten()
            .and_then(|c| {
                c.get("membership")
                    .and_then(|m| m.as_str().map(str::to_owned))
            });
        let ts = raw
            .get_field::<MilliSecondsSinceUnixEpoch>("origin_server_ts")
            .ok()
            .flatten();
        if let (Some("invite"), Some(ts)) = (membership.as_deref(), ts) {
            bot.invited_at
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(room.room_id().to_owned(), u64::from(ts.0));
            found = true;
        }
    }
    found
}

/// When the bot's own join to `room` happened (ms since epoch).
async fn joined_at(bot: &Bot, room: &Room) -> Option<u64> {
    let me = room.get_member_no_sync(&bot.user_id).await.ok()??;
    me.event().timestamp().map(u64::from)
}

/// Whether a message sent at `sent_at` (ms since epoch) in `room` was said
/// before the bot was there to be asked: before its invite when the bot saw
/// that, else before it joined.
async fn said_before_us(bot: &Bot, room: &Room, sent_at: u64) -> bool {
    let invited = bot
        .invited_at
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(room.room_id())
        .copied();
    let from = match invited {
        Some(t) => Some(t),
        None => joined_at(bot, room).await,
    };
    from.is_some_and(|t| sent_at < t)
}

/// Direct chats: flagged `is_direct`, or just the asker and the bot, counting
/// those invited: a group room whose other members haven't joined yet is still
/// a group room, and its chatter isn't for the bot.
pub(crate) async fn is_dm(room: &Room) -> bool {
    room.active_members_count() <= 2 || room.is_direct().await.unwrap_or(false)
}

/// Why a message is not for the bot to answer, whatever it says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Late {
    /// Said before the bot was there to be asked.
    BeforeUs,
    /// Older than `answer.max_missed_age_secs` (this old).
    TooOld(Duration),
}

/// Whether a message sent at `sent_at` (ms since epoch) in `room` came too
/// early or is too old to answer now; `None`: it may be answered.
pub(crate) async fn too_late(bot: &Bot, room: &Room, sent_at: u64) -> Option<Late> {
    if said_before_us(bot, room, sent_at).await {
        return Some(Late::BeforeUs);
    }
    let now = u64::from(MilliSecondsSinceUnixEpoch::now().0);
    let age = Duration::from_millis(now.saturating_sub(sent_at));
    (age > bot.config.answer.max_missed_age()).then_some(Late::TooOld(age))
}
