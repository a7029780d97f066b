//! The conversation a question in an answer's thread belongs to: the earlier
//! questions of that thread that the bot answered, read back from the
//! homeserver, so that a follow-up ("and in the US?", "what did she win?") is
//! searched with what it follows up on. Nothing of them is kept here: a
//! question deleted since comes back redacted and is not carried over.

use std::time::Duration;

use matrix_sdk::Room;
use matrix_sdk::config::RequestConfig;
use matrix_sdk::deserialized_responses::TimelineEvent;
use matrix_sdk::room::{IncludeRelations, RelationsOptions};
use matrix_sdk::ruma::api::Direction;
use matrix_sdk::ruma::events::relation::RelationType;
use matrix_sdk::ruma::events::room::message::{OriginalSyncRoomMessageEvent, Relation};
use matrix_sdk::ruma::{EventId, OwnedEventId, uint};
use serde_json::Value;
use tracing::debug;

use super::Bot;
use super::triggers::{self, Request};
use crate::search::question::MAX_CONTEXT;

/// The earlier questions `msg` follows up on, oldest first: when it is in the
/// thread of one of the bot's answers, the question that opened the thread
/// and the latest one the bot answered in it since, as asked. `edited`: the
/// message `msg` is an edit of (whose thread it is in, and which is not an
/// earlier question of its own). Empty outside such a thread and when the
/// opening question was deleted or can't be read; read within [`TIMEOUT`] in
/// all, else as far as it got (the question is then searched with less).
pub(crate) async fn earlier_questions(
    bot: &Bot,
    room: &Room,
    msg: &OriginalSyncRoomMessageEvent,
    edited: Option<&EventId>,
) -> Vec<String> {
    let mut questions = Vec::new();
    let read = read_thread(bot, room, msg, edited, &mut questions);
    if tokio::time::timeout(TIMEOUT, read).await.is_err() {
        debug!(event = %msg.event_id, "the thread's earlier questions took too long to read");
    }
    questions
}

/// [`earlier_questions`]' work, into `questions` as it goes.
async fn read_thread(
    bot: &Bot,
    room: &Room,
    msg: &OriginalSyncRoomMessageEvent,
    edited: Option<&EventId>,
    questions: &mut Vec<String>,
) {
    let Some((message, at, root)) = place(room, msg, edited).await else {
        return;
    };
    let Some(opening) = opening_question(bot, room, &root) else {
        return;
    };
    let options = RelationsOptions {
        dir: Direction::Backward,
        limit: Some(uint!(20)),
        include_relations: IncludeRelations::RelationsOfType(RelationType::Thread),
        ..Default::default()
    };
    // Both at once: a follow-up waits for the slower, not for the two.
    let (first, thread) = tokio::join!(
        room.event(&opening, Some(RequestConfig::new().disable_retry())),
        room.relations(root.clone(), options)
    );
    match first {
        Ok(event) => questions.extend(question_in(bot, &event)),
        Err(err) => {
            debug!(event = %opening, error = %err, "cannot read the thread's first question")
        }
    }
    // Deleted or unreadable, what follows it is not searched with it; and
    // an edit of the opening question follows up on nothing.
    if questions.is_empty() || opening == message {
        questions.clear();
        return;
    }
    let thread = match thread {
        Ok(relations) => relations.chunk,
        Err(err) => {
            debug!(thread = %root, error = %err, "cannot read the thread");
            return;
        }
    };
    // Newest first: the latest earlier question the bot answered.
    let earlier = (thread.iter()).filter(|e| answered_before(bot, room, e, &message, at));
    if let Some(q) = earlier.filter_map(|e| question_in(bot, e)).next() {
        questions.push(q);
    }
    questions.truncate(MAX_CONTEXT);
}

/// Where the question `msg` is: its message (the one it edits, for an edit),
/// when that was sent, and the thread it is in; `None` outside a thread.
async fn place(
    room: &Room,
    msg: &OriginalSyncRoomMessageEvent,
    edited: Option<&EventId>,
) -> Option<(OwnedEventId, u64, OwnedEventId)> {
    let Some(original) = edited else {
        let Some(Relation::Thread(thread)) = &msg.content.relates_to else {
            return None;
        };
        let at = u64::from(msg.origin_server_ts.0);
        return Some((msg.event_id.clone(), at, thread.event_id.clone()));
    };
    // An edit's new content carries no thread: its message's does.
    let event = match room
        .event(original, Some(RequestConfig::new().disable_retry()))
        .await
    {
        Ok(event) => event,
        Err(err) => {
            debug!(event = %original, error = %err, "cannot read the edited question");
            return None;
        }
    };
    let json = event.raw().deserialize_as::<Value>().ok()?;
    let relation = &json["content"]["m.relates_to"];
    if relation["rel_type"] != "m.thread" {
        return None;
    }
    let root = OwnedEventId::try_from(relation["event_id"].as_str()?).ok()?;
    Some((
        original.to_owned(),
        json["origin_server_ts"].as_u64()?,
        root,
    ))
}

/// The question that opened the thread rooted at `root`: the root itself when
/// the bot answered it (in thread mode), or the question the root answers
/// when the root is the bot's reply (a thread opened on it).
fn opening_question(bot: &Bot, room: &Room, root: &EventId) -> Option<OwnedEventId> {
    let (room_id, root) = (room.room_id().to_owned(), root.to_owned());
    let replies = bot.replies.lock().unwrap_or_else(|e| e.into_inner());
    if replies.of(&room_id, &root).is_some() {
        return Some(root);
    }
    replies.answered_by(&room_id, &root)
}

/// Whether `event` is a message the bot answered, other than `message` and
/// sent no later (`at`).
fn answered_before(
    bot: &Bot,
    room: &Room,
    event: &TimelineEvent,
    message: &EventId,
    at: u64,
) -> bool {
    let Ok(Some(id)) = event.raw().get_field::<OwnedEventId>("event_id") else {
        return false;
    };
    let sent = event
        .raw()
        .get_field::<u64>("origin_server_ts")
        .ok()
        .flatten();
    if id == message || sent.is_none_or(|t| t > at) {
        return false;
    }
    let replies = bot.replies.lock().unwrap_or_else(|e| e.into_inner());
    replies.of(&room.room_id().to_owned(), &id).is_some()
}

/// The question `event` asks the bot, as it reads now (its latest edit, when
/// the homeserver bundles one); `None` when it was deleted or asks nothing.
fn question_in(bot: &Bot, event: &TimelineEvent) -> Option<String> {
    let json = event.raw().deserialize_as::<Value>().ok()?;
    // A deleted question's words are never searched with, whatever a
    // homeserver still bundles with it.
    if !json["unsigned"]["redacted_because"].is_null() {
        return None;
    }
    let edited = &json["unsigned"]["m.relations"]["m.replace"]["content"]["m.new_content"];
    let body = edited["body"]
        .as_str()
        .or_else(|| json["content"]["body"].as_str())?;
    // Read as said to the bot: its mention or command prefix is not a word
    // of the question.
    let ctx = triggers::Context {
        prefix: &bot.config.answer.command_prefix,
        user_id: bot.user_id.as_str(),
        display_name: &bot.display_name,
        is_dm: true,
        mentioned: true,
        answer_questions: true,
        in_answer_thread: true,
    };
    match triggers::classify(body, &ctx)? {
        Request::Ask(q) | Request::Why(q) => Some(q),
        _ => None,
    }
}

/// How long the homeserver gets to hand back a thread's earlier questions, in
/// all (the answer waits for them).
const TIMEOUT: Duration = Duration::from_secs(5);
