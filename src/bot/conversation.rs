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
/// and the latest one the bot answered in it since, as asked. Empty outside
/// such a thread, and when the homeserver can't say in time (the question is
/// then searched as worded).
pub(crate) async fn earlier_questions(
    bot: &Bot,
    room: &Room,
    msg: &OriginalSyncRoomMessageEvent,
) -> Vec<String> {
    let Some(Relation::Thread(thread)) = &msg.content.relates_to else {
        return Vec::new();
    };
    let root = &thread.event_id;
    let Some(opening) = opening_question(bot, room, root) else {
        return Vec::new();
    };
    let config = RequestConfig::new().timeout(TIMEOUT).disable_retry();
    let mut questions = Vec::new();
    match room.event(&opening, Some(config)).await {
        Ok(event) => questions.extend(question_in(bot, &event)),
        Err(err) => {
            debug!(event = %opening, error = %err, "cannot read the thread's first question")
        }
    }
    if questions.is_empty() {
        // Deleted, or unreadable: what follows it is not searched with it.
        return questions;
    }
    let options = RelationsOptions {
        dir: Direction::Backward,
        limit: Some(uint!(20)),
        include_relations: IncludeRelations::RelationsOfType(RelationType::Thread),
        ..Default::default()
    };
    let thread = match tokio::time::timeout(TIMEOUT, room.relations(root.clone(), options)).await {
        Ok(Ok(relations)) => relations.chunk,
        Ok(Err(err)) => {
            debug!(thread = %root, error = %err, "cannot read the thread");
            return questions;
        }
        Err(_) => {
            debug!(thread = %root, "the thread took too long to read");
            return questions;
        }
    };
    // Newest first: the latest earlier question the bot answered.
    for event in thread.iter().filter(|e| answered_before(bot, room, e, msg)) {
        if let Some(q) = question_in(bot, event) {
            questions.push(q);
            break;
        }
    }
    questions.truncate(MAX_CONTEXT);
    questions
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

/// Whether `event` is a message the bot answered, sent before `msg`.
fn answered_before(
    bot: &Bot,
    room: &Room,
    event: &TimelineEvent,
    msg: &OriginalSyncRoomMessageEvent,
) -> bool {
    let Ok(Some(id)) = event.raw().get_field::<OwnedEventId>("event_id") else {
        return false;
    };
    let at = event
        .raw()
        .get_field::<u64>("origin_server_ts")
        .ok()
        .flatten();
    let before = id != msg.event_id && at.is_some_and(|t| t <= u64::from(msg.origin_server_ts.0));
    let replies = bot.replies.lock().unwrap_or_else(|e| e.into_inner());
    before && replies.of(&room.room_id().to_owned(), &id).is_some()
}

/// The question `event` asks the bot, as it reads now (its latest edit, when
/// the homeserver bundles one); `None` when it was deleted or asks nothing.
fn question_in(bot: &Bot, event: &TimelineEvent) -> Option<String> {
    let json = event.raw().deserialize_as::<Value>().ok()?;
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

/// How long the homeserver gets to hand back a thread's earlier questions.
const TIMEOUT: Duration = Duration::from_secs(5);
