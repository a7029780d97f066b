//! Edited questions: when the asker edits a message the bot answered (a typo
//! fixed, the question put another way), the bot edits its reply to answer the
//! message as it now reads, so the thread shows one answer, to the question
//! people see. An edit goes through the journal as a question does (a crash
//! loses none); the answer is an `m.replace` of the bot's reply.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use matrix_sdk::Room;
use matrix_sdk::ruma::events::AnySyncTimelineEvent;
use matrix_sdk::ruma::events::Mentions;
use matrix_sdk::ruma::events::room::message::{
    MessageType, OriginalSyncRoomMessageEvent, Relation, ReplacementMetadata,
    RoomMessageEventContent,
};
use matrix_sdk::ruma::serde::Raw;
use matrix_sdk::ruma::{OwnedEventId, OwnedRoomId, OwnedUserId};
use tracing::{debug, error, info};

use super::handlers::Arrival;
use super::limits::Verdict;
use super::membership::{self, Late};
use super::triggers::{self, Request};
use super::{Bot, commands, journal, metrics, reply};
use crate::format::Formatted;
use crate::messages;

/// What the bot replied to one message: its reply and who asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Replied {
    pub reply: OwnedEventId,
    pub asker: OwnedUserId,
}

/// The bot's replies to the latest messages it answered, by room and message,
/// so that an edit of one finds the reply to edit. Kept for the latest
/// [`REMEMBERED`]; filled again from the feedback file at start.
#[derive(Debug, Default)]
pub(crate) struct Replies {
    by_message: HashMap<(OwnedRoomId, OwnedEventId), Replied>,
    order: VecDeque<(OwnedRoomId, OwnedEventId)>,
    /// The latest edit of each message whose answer is still on its way
    /// (journaled), with its ID: handled once the reply is out.
    waiting: HashMap<(OwnedRoomId, OwnedEventId), (OwnedEventId, Raw<AnySyncTimelineEvent>)>,
}

/// How many answered messages [`Replies`] remembers (some 200 bytes each).
const REMEMBERED: usize = 10_000;

/// Most edits kept waiting for their message's reply at once: past it they
/// are forgotten in memory (they stay in the journal: the next start answers
/// them).
const MAX_WAITING: usize = 1_000;

impl Replies {
    /// Notes that `replied` answers `message` in `room`.
    pub(crate) fn note(&mut self, room: OwnedRoomId, message: OwnedEventId, replied: Replied) {
        let key = (room, message);
        if self.by_message.insert(key.clone(), replied).is_none() {
            self.order.push_back(key);
            if self.order.len() > REMEMBERED
                && let Some(old) = self.order.pop_front()
            {
                self.by_message.remove(&old);
            }
        }
    }

    /// Keeps edit `edit` (`raw`) of `message` in `room` until the message's
    /// reply is out; returns the edit it supersedes, if one was waiting.
    fn wait(
        &mut self,
        room: OwnedRoomId,
        message: OwnedEventId,
        edit: OwnedEventId,
        raw: Raw<AnySyncTimelineEvent>,
    ) -> Option<OwnedEventId> {
        // Few: messages edited in the second their answer takes.
        if self.waiting.len() >= MAX_WAITING {
            self.waiting.clear();
        }
        let old = self.waiting.insert((room, message), (edit, raw));
        old.map(|(id, _)| id)
    }

    /// The edit of `message` in `room` that waited for its reply, if any.
    pub(crate) fn waited(
        &mut self,
        room: &OwnedRoomId,
        message: &OwnedEventId,
    ) -> Option<Raw<AnySyncTimelineEvent>> {
        let (_, raw) = self.waiting.remove(&(room.clone(), message.clone()))?;
        Some(raw)
    }

    /// What answered `message` in `room`, when remembered.
    pub(crate) fn of(&self, room: &OwnedRoomId, message: &OwnedEventId) -> Option<Replied> {
        self.by_message
            .get(&(room.clone(), message.clone()))
            .cloned()
    }
}

/// An edit (`msg`, whose relation is the replacement) of a message the bot
/// answered, by its asker, that still asks the bot something: taken on (in the
/// journal, then answered on its own task). An edit of a message whose answer
/// is still on its way waits for it (journaled). Returns whether it was taken
/// on.
pub(crate) async fn handle(
    bot: &Arc<Bot>,
    room: &Room,
    msg: OriginalSyncRoomMessageEvent,
    raw: &Raw<AnySyncTimelineEvent>,
    arrival: Arrival,
) -> bool {
    let id = msg.event_id.clone();
    let taken = take_on(bot, room, msg, raw, arrival).await;
    if arrival.journaled && !taken {
        // Taken on before a restart, and nothing to answer now.
        bot.journal.done(id.as_str());
    }
    taken
}

/// An edit that waited for its message's reply ([`Replies::waited`]), now
/// that the reply is out.
pub(crate) async fn handle_waited(bot: &Arc<Bot>, room: &Room, raw: Raw<AnySyncTimelineEvent>) {
    super::handlers::handle_timeline_event(bot, room, &raw, Arrival::JOURNALED).await;
}

async fn take_on(
    bot: &Arc<Bot>,
    room: &Room,
    msg: OriginalSyncRoomMessageEvent,
    raw: &Raw<AnySyncTimelineEvent>,
    arrival: Arrival,
) -> bool {
    let Some(Relation::Replacement(edit)) = &msg.content.relates_to else {
        return false;
    };
    let MessageType::Text(text) = &edit.new_content.msgtype else {
        return false;
    };
    if arrival.catching_up {
        return false;
    }
    let room_id = room.room_id().to_owned();
    let replied =
        (bot.replies.lock().unwrap_or_else(|e| e.into_inner())).of(&room_id, &edit.event_id);
    // Only the asker's own edit re-asks (clients show no one else's), and
    // only of a message the bot answered: an edit that first addresses the
    // bot is no question it was asked.
    let Some(replied) = replied else {
        return wait(bot, &room_id, &msg, &edit.event_id, raw, arrival);
    };
    if replied.asker != msg.sender {
        debug!(room = %room_id, event = %msg.event_id, "an edit by someone other than the asker");
        return false;
    }
    match membership::too_late(bot, room, u64::from(msg.origin_server_ts.0)).await {
        Some(Late::BeforeUs) => return false,
        Some(Late::TooOld(age)) => {
            info!(room = %room_id, event = %msg.event_id, age_s = age.as_secs(), "skipping an edit older than answer.max_missed_age_secs");
            return false;
        }
        None => {}
    }
    // The message was for the bot; its edit is too, however it now names it.
    let ctx = triggers::Context {
        prefix: &bot.config.answer.command_prefix,
        user_id: bot.user_id.as_str(),
        display_name: &bot.display_name,
        is_dm: membership::is_dm(room).await,
        mentioned: true,
        answer_questions: bot.rooms.answers_questions(room),
    };
    let Some(request) = triggers::classify(&text.body, &ctx) else {
        return false;
    };
    if !arrival.journaled && bot.journal.is_done(msg.event_id.as_str()) {
        return false;
    }
    match bot.limits.check(msg.sender.as_str(), room_id.as_str()) {
        Verdict::Allow => {}
        Verdict::SlowDown(_) | Verdict::Silent => {
            debug!(room = %room_id, sender = %msg.sender, "rate limited; the edit is not answered");
            bot.metrics.question(metrics::Outcome::RateLimited);
            return false;
        }
    }
    let taken = arrival.journaled
        || bot.journal.take(
            msg.event_id.as_str(),
            journal::Open {
                room: room_id.to_string(),
                event: raw
                    .deserialize_as::<serde_json::Value>()
                    .unwrap_or_default(),
                encrypted: false,
            },
        );
    if !taken {
        return false;
    }
    // Answered as the message it edits now reads, under the edit's own ID
    // (the journal's and the transaction's).
    let mut asked = msg.clone();
    asked.content = RoomMessageEventContent::from(edit.new_content.clone());
    let question = edit.event_id.clone();
    let (bot, room) = (bot.clone(), room.clone());
    bot.clone()
        .tasks
        .spawn(async move { respond(&bot, &room, &asked, question, replied, request).await });
    true
}

/// An edit (`msg`, of `message`) whose message's answer is still on its way
/// (open in the journal, by the same sender): journaled, and kept until the
/// reply is out ([`Replies::waited`]), when it is handled again. Returns
/// whether it waits.
fn wait(
    bot: &Bot,
    room_id: &OwnedRoomId,
    msg: &OriginalSyncRoomMessageEvent,
    message: &OwnedEventId,
    raw: &Raw<AnySyncTimelineEvent>,
    arrival: Arrival,
) -> bool {
    let asker = bot.journal.open_event(message.as_str()).and_then(|e| {
        let sender = e.get("sender")?.as_str()?;
        Some(sender == msg.sender.as_str())
    });
    if asker != Some(true) {
        debug!(room = %room_id, event = %msg.event_id, "an edit of a message the bot did not answer");
        return false;
    }
    let taken = arrival.journaled
        || bot.journal.take(
            msg.event_id.as_str(),
            journal::Open {
                room: room_id.to_string(),
                event: raw
                    .deserialize_as::<serde_json::Value>()
                    .unwrap_or_default(),
                encrypted: false,
            },
        );
    if !taken {
        return false;
    }
    let superseded = (bot.replies.lock().unwrap_or_else(|e| e.into_inner())).wait(
        room_id.clone(),
        message.clone(),
        msg.event_id.clone(),
        raw.clone(),
    );
    if let Some(old) = superseded {
        bot.journal.done(old.as_str());
    }
    debug!(room = %room_id, event = %msg.event_id, "an edit of a message being answered waits for its reply");
    true
}

/// Answers the edited message `asked` (the edit event, its content the new
/// text) of message `question` by editing the bot's reply.
async fn respond(
    bot: &Arc<Bot>,
    room: &Room,
    asked: &OriginalSyncRoomMessageEvent,
    question: OwnedEventId,
    replied: Replied,
    request: Request,
) {
    let started = std::time::Instant::now();
    let (body, answer) = commands::build_reply(bot, room, asked, request).await;
    let content = content(&body, &replied);
    let txn = reply::transaction_id(asked, "edit");
    match reply::send(room, content, txn, bot.config.limits.send_attempts).await {
        Ok(_) => {
            bot.journal.done(asked.event_id.as_str());
            bot.metrics.reply_took(started.elapsed());
            info!(room = %room.room_id(), question = %question, reply = %replied.reply, "reply edited to answer the edited question");
            if let Some(answer) = answer {
                super::handlers::record_answer(bot, room, &question, &replied, &answer);
            }
        }
        // Left open in the journal: the next start answers it.
        Err(err) => {
            error!(room = %room.room_id(), question = %question, error = %crate::chain(&err), "the edited reply was not delivered");
            bot.metrics.question(metrics::Outcome::Failed);
        }
    }
}

/// The edit of the bot's reply `replied` that makes it say `body`. The event
/// holds the text twice (the new content and its fallback), so each gets half
/// of what one reply may take.
fn content(body: &Formatted, replied: &Replied) -> RoomMessageEventContent {
    let body = body
        .clone()
        .fit(crate::format::MAX_REPLY_BYTES / 2, messages::SHORTENED);
    // The reply mentioned the asker: the edit does too (in its new content),
    // without pinging them again (the event's own mentions are only the new).
    let asker = || Mentions::with_user_ids([replied.asker.clone()]);
    RoomMessageEventContent::notice_html(body.plain, body.html)
        .add_mentions(asker())
        .make_replacement(ReplacementMetadata::new(
            replied.reply.clone(),
            Some(asker()),
        ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(s: &str) -> OwnedEventId {
        OwnedEventId::try_from(s).unwrap()
    }

    #[test]
    fn replies_are_found_by_room_and_message_and_the_oldest_forgotten() {
        let room = OwnedRoomId::try_from("!r:x").unwrap();
        let other = OwnedRoomId::try_from("!o:x").unwrap();
        let asker = OwnedUserId::try_from("@a:x").unwrap();
        let replied = |r: &str| Replied {
            reply: id(r),
            asker: asker.clone(),
        };
        let mut replies = Replies::default();
        replies.note(room.clone(), id("$q0"), replied("$r0"));
        assert_eq!(replies.of(&room, &id("$q0")), Some(replied("$r0")));
        assert_eq!(replies.of(&other, &id("$q0")), None, "another room's");
        for i in 1..=REMEMBERED {
            replies.note(room.clone(), id(&format!("$q{i}")), replied("$r"));
        }
        assert_eq!(replies.of(&room, &id("$q0")), None);
        assert!(replies.of(&room, &id("$q1")).is_some());
        // An edit waits for its message's reply; a later one supersedes it.
        let raw = |id: &str| Raw::from_json_string(format!(r#"{{"event_id":"{id}"}}"#)).unwrap();
        assert_eq!(
            replies.wait(room.clone(), id("$m"), id("$e1"), raw("$e1")),
            None
        );
        let superseded = replies.wait(room.clone(), id("$m"), id("$e2"), raw("$e2"));
        assert_eq!(superseded, Some(id("$e1")));
        assert_eq!(
            replies
                .waited(&other, &id("$m"))
                .map(|r| r.json().get().to_string()),
            None
        );
        let waited = replies.waited(&room, &id("$m")).unwrap();
        assert!(waited.json().get().contains("$e2"));
        assert!(replies.waited(&room, &id("$m")).is_none(), "handled once");
    }

    #[test]
    fn the_edit_of_a_reply_replaces_it_and_mentions_the_asker_only() {
        let replied = Replied {
            reply: id("$reply"),
            asker: OwnedUserId::try_from("@a:x").unwrap(),
        };
        let json = serde_json::to_value(content(
            &Formatted {
                plain: "July 2025".into(),
                html: "<b>July 2025</b>".into(),
            },
            &replied,
        ))
        .unwrap();
        assert_eq!(json["m.relates_to"]["rel_type"], "m.replace", "{json}");
        assert_eq!(json["m.relates_to"]["event_id"], "$reply", "{json}");
        assert_eq!(json["m.new_content"]["body"], "July 2025", "{json}");
        assert_eq!(json["m.new_content"]["msgtype"], "m.notice", "{json}");
        let asker = serde_json::json!(["@a:x"]);
        assert_eq!(json["m.new_content"]["m.mentions"]["user_ids"], asker);
        assert_eq!(json["m.mentions"], serde_json::json!({}), "no new ping");
        // Twice the text in one event, and still within one event's size.
        let long = Formatted {
            plain: "x".repeat(60_000),
            html: "x".repeat(60_000),
        };
        let size = serde_json::to_vec(&content(&long, &replied)).unwrap().len();
        assert!(size < 65_536 - 4_000, "{size}");
    }
}
