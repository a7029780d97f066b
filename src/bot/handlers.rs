//! What the bot does with one timeline event: a room message addressed to it
//! is taken on (journal first) and answered on its own tracked task, so the sync
//! loop never waits for a search or a send; an edit of an answered question
//! edits the reply, and deleting it deletes the reply; a reaction to one of
//! its answers is a vote for the feedback file.

use std::sync::Arc;
use std::time::Duration;

use futures_util::FutureExt as _;
use matrix_sdk::Room;
use matrix_sdk::ruma::events::reaction::OriginalSyncReactionEvent;
use matrix_sdk::ruma::events::room::message::{
    MessageType, OriginalSyncRoomMessageEvent, Relation, RoomMessageEventContent,
};
use matrix_sdk::ruma::events::room::redaction::SyncRoomRedactionEvent;
use matrix_sdk::ruma::events::{
    AnySyncMessageLikeEvent, AnySyncTimelineEvent, SyncMessageLikeEvent,
};
use matrix_sdk::ruma::serde::Raw;
use matrix_sdk::ruma::{EventId, OwnedEventId, OwnedRoomId, UserId};
use tracing::{debug, error, info, warn};

use super::Bot;
use super::edits::{EditNoted, Replied};
use super::limits::Verdict;
use super::membership::{self, Late};
use super::reply;
use super::triggers::{self, Request};
use super::{commands, journal, metrics};
use crate::feedback::{Record, Vote};
use crate::format::Formatted;
use crate::messages;
use crate::search::Answer;

/// How an event reached the bot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Arrival {
    /// In the first sync after a fresh login: history, never answered.
    pub catching_up: bool,
    /// An open question of the journal already (handled again after a restart,
    /// or just decrypted).
    pub journaled: bool,
}

impl Arrival {
    /// From a sync; `catching_up` when it is a fresh login's first.
    pub(crate) fn synced(catching_up: bool) -> Self {
        Arrival {
            catching_up,
            journaled: false,
        }
    }

    /// From the journal: taken on before and not yet answered.
    pub(crate) const JOURNALED: Arrival = Arrival {
        catching_up: false,
        journaled: true,
    };
}

/// Handles one (plain or decrypted) timeline event: room messages may be
/// questions or commands. Returns whether the bot took it on (a reply is on
/// its way).
///
/// A panic while handling it (a bug some message meets) is logged and the
/// event skipped: it runs inside the sync loop, before the sync position is
/// saved, so a panic left to unwind would stop the bot, and every restart
/// would meet the same event again.
pub(crate) async fn handle_timeline_event(
    bot: &Arc<Bot>,
    room: &Room,
    raw: &Raw<AnySyncTimelineEvent>,
    arrival: Arrival,
) -> bool {
    let handled = std::panic::AssertUnwindSafe(handle_event(bot, room, raw, arrival));
    match handled.catch_unwind().await {
        Ok(taken) => taken,
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .copied()
                .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
                .unwrap_or("(no message)");
            let event_id = raw.get_field::<OwnedEventId>("event_id").ok().flatten();
            error!(room = %room.room_id(), event_id = ?event_id, panic = what,
                "handling an event panicked; skipped it");
            false
        }
    }
}

async fn handle_event(
    bot: &Arc<Bot>,
    room: &Room,
    raw: &Raw<AnySyncTimelineEvent>,
    arrival: Arrival,
) -> bool {
    let event = match raw.deserialize() {
        Ok(e) => e,
        Err(err) => {
            debug!(room = %room.room_id(), error = %err, "skipping undecodable event");
            return false;
        }
    };
    match event {
        AnySyncTimelineEvent::MessageLike(AnySyncMessageLikeEvent::RoomMessage(
            SyncMessageLikeEvent::Original(msg),
        )) => handle_message(bot, room, msg, raw, arrival).await,
        AnySyncTimelineEvent::MessageLike(AnySyncMessageLikeEvent::Reaction(
            SyncMessageLikeEvent::Original(reaction),
        )) => {
            handle_reaction(bot, room, &reaction);
            false
        }
        AnySyncTimelineEvent::MessageLike(AnySyncMessageLikeEvent::RoomRedaction(
            SyncRoomRedactionEvent::Original(redaction),
        )) => {
            // Before room version 11 the redacted event's ID is outside the
            // content, from version 11 inside.
            if let Some(redacted) =
                (redaction.redacts.as_ref()).or(redaction.content.redacts.as_ref())
            {
                handle_withdrawal(bot, room, redacted, &redaction.sender).await;
                handle_deleted(bot, room, redacted, &redaction.sender).await;
            }
            false
        }
        _ => false,
    }
}

/// Records a 👍/👎 on one of the bot's answers in the feedback file.
fn handle_reaction(bot: &Bot, room: &Room, reaction: &OriginalSyncReactionEvent) {
    let Some(log) = &bot.feedback else { return };
    if reaction.sender == bot.user_id {
        return;
    }
    let target = &reaction.content.relates_to.event_id;
    let key = &reaction.content.relates_to.key;
    let Some(vote) = Vote::from_key(key) else {
        return;
    };
    let ours = bot
        .answers
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .contains(&(target.clone(), room.room_id().to_owned()));
    if !ours {
        return;
    }
    let (sender, event) = (reaction.sender.as_str(), reaction.event_id.as_str());
    let changed = {
        let mut votes = bot.votes.lock().unwrap_or_else(|e| e.into_inner());
        let before = votes.vote(target.as_str(), sender);
        if !votes.react(target.as_str(), sender, vote, event) {
            debug!(room = %room.room_id(), answer = %target, "reaction recorded already");
            return;
        }
        before != Some(vote)
    };
    let record = Record::reaction(
        target.as_str(),
        room.room_id().as_str(),
        sender,
        vote,
        key,
        event,
    );
    match log.append(&record) {
        Ok(()) => {
            info!(room = %room.room_id(), answer = %target, ?vote, "feedback recorded");
            // A vote counts once, however many reactions say it.
            if changed {
                bot.metrics.vote(vote == Vote::Up);
            }
        }
        Err(err) => error!(error = %crate::chain(&err), "recording feedback failed"),
    }
}

/// Records that a reaction recorded as a vote was taken back (`redacted` by
/// `by`: its sender, or a moderator): the vote is withdrawn, or the person's
/// earlier reaction there, still standing, is their vote again.
async fn handle_withdrawal(bot: &Bot, room: &Room, redacted: &EventId, by: &UserId) {
    let Some(log) = &bot.feedback else { return };
    let on = (bot.votes.lock().unwrap_or_else(|e| e.into_inner())).on(redacted.as_str());
    let Some((reply, sender)) = on else {
        return;
    };
    // A redaction names any event ID: only one in the answer's own room, by
    // whom the homeserver lets redact the reaction, takes it back (any room
    // member may send one, which is then not applied).
    let ours = OwnedEventId::try_from(reply.as_str()).is_ok_and(|reply| {
        (bot.answers.lock().unwrap_or_else(|e| e.into_inner()))
            .contains(&(reply, room.room_id().to_owned()))
    });
    let allowed = by.as_str() == sender
        || (room.power_levels().await).is_ok_and(|p| p.user_can_redact_event_of_other(by));
    if !ours || !allowed {
        return;
    }
    (bot.votes.lock().unwrap_or_else(|e| e.into_inner())).withdraw(redacted.as_str());
    let record = Record::withdrawal(&reply, room.room_id().as_str(), &sender, redacted.as_str());
    match log.append(&record) {
        Ok(()) => info!(room = %room.room_id(), answer = %reply, "vote withdrawn"),
        Err(err) => error!(error = %crate::chain(&err), "recording feedback failed"),
    }
}

/// A message deleted (redacted) by its sender or a moderator: when the bot
/// answered it, its reply goes too — it answers what nobody can see any more,
/// and may quote it (`!why` does) — and its words leave the bot's files. A
/// question still being answered is done: a reply that goes out now is taken
/// back (`noted`), and a restart does not answer it again.
async fn handle_deleted(bot: &Arc<Bot>, room: &Room, redacted: &EventId, by: &UserId) {
    let (room_id, message) = (room.room_id().to_owned(), redacted.to_owned());
    // Under the replies' lock, which a reply is noted under before its
    // question stops being open: either the reply is found or the question
    // is still open.
    let asker = {
        let replies = bot.replies.lock().unwrap_or_else(|e| e.into_inner());
        match replies.sender_of(&room_id, &message) {
            Some(sender) => sender.to_string(),
            None => match bot.journal.open_entry(redacted.as_str()) {
                Some(open) if open.room == room_id.as_str() => {
                    open.event["sender"].as_str().unwrap_or_default().to_owned()
                }
                _ => return,
            },
        }
    };
    // Anyone may send a redaction naming any event; it is applied only when
    // it is the sender's own or a moderator's.
    let allowed = by.as_str() == asker
        || (room.power_levels().await).is_ok_and(|p| p.user_can_redact_event_of_other(by));
    if allowed {
        delete_question(bot, room, redacted, Vec::new());
    }
}

/// Takes back what the bot said about `redacted` in `room`, deleted (the
/// deletion checked already): its reply and edits, the edits of it still
/// waiting, its words in the bot's files, and `also` (the bot's messages
/// found replying to it); a question still being answered is done.
pub(crate) fn delete_question(
    bot: &Arc<Bot>,
    room: &Room,
    redacted: &EventId,
    also: Vec<OwnedEventId>,
) {
    let (room_id, message) = (room.room_id().to_owned(), redacted.to_owned());
    let gone = (bot.replies.lock().unwrap_or_else(|e| e.into_inner())).delete(&room_id, &message);
    // Taken back already (a second redaction of it, or a restart's check
    // racing another's, which found the same replies): nothing new to do.
    if gone.again {
        return;
    }
    // Its edits, waiting or being answered, are done with too.
    for edit in bot.journal.open_relating_to(redacted.as_str()) {
        bot.journal.done(&edit);
    }
    if let Some(edit) = gone.waiting {
        bot.journal.done(edit.as_str());
    }
    let reply = gone.replied.map(|r| r.reply);
    if let Some(reply) = &reply {
        (bot.answers.lock().unwrap_or_else(|e| e.into_inner()))
            .remove(&(reply.clone(), room_id.clone()));
    }
    let mut retract = Vec::from_iter(reply.clone());
    retract.extend(gone.edits_sent);
    for event in also.into_iter().chain(gone.notices) {
        if !retract.contains(&event) {
            retract.push(event);
        }
    }
    take_back(bot, room, redacted, retract, reply);
}

/// Notes `notice`, the bot's notice about `message` (by `sender`), which it
/// did not answer: taken back with the message when that is deleted, now
/// when it was deleted already.
fn noticed(bot: &Arc<Bot>, room: &Room, message: &EventId, sender: &UserId, notice: OwnedEventId) {
    let (room_id, message) = (room.room_id().to_owned(), message.to_owned());
    let kept = (bot.replies.lock().unwrap_or_else(|e| e.into_inner())).noticed(
        &room_id,
        &message,
        &sender.to_owned(),
        notice.clone(),
    );
    if !kept {
        info!(room = %room_id, message = %message, "the message was deleted as the notice about it went out; taken back");
        take_back(bot, room, &message, vec![notice], None);
    }
}

/// Takes back what the bot said about `question`, deleted: durably noted
/// first (a restart does not answer it, and finishes what is left), then its
/// words erased from the bot's files (the record of its `reply` and the votes
/// on it, the journal's copy) and the bot's events `retract` redacted.
fn take_back(
    bot: &Arc<Bot>,
    room: &Room,
    question: &EventId,
    retract: Vec<OwnedEventId>,
    reply: Option<OwnedEventId>,
) {
    let events: Vec<String> = retract.iter().map(ToString::to_string).collect();
    let room_id = room.room_id().to_owned();
    bot.journal
        .deleted(question.as_str(), room_id.as_str(), events);
    let (bot, room) = (bot.clone(), room.clone());
    bot.clone().tasks.spawn(async move {
        let erased = erase(&bot, &room_id, reply).await;
        for event in &retract {
            finish_retraction(&bot, Some(&room), event, erased).await;
        }
    });
}

/// Finishes taking back what the bot said about questions deleted before a
/// restart (the process may have died before): their replies forgotten,
/// their words erased from the files, its events redacted (once the bot
/// knows their room again: else at the next start).
pub(crate) fn retract_left(bot: &Arc<Bot>) {
    for (question, room, event) in bot.journal.retractions() {
        let (Ok(room_id), Ok(id)) = (
            OwnedRoomId::try_from(room),
            OwnedEventId::try_from(event.as_str()),
        ) else {
            bot.journal.retracted(&event);
            continue;
        };
        if let Ok(question) = OwnedEventId::try_from(question.as_str()) {
            forget_reply(bot, &room_id, &question, &id);
        }
        let tries = bot.journal.tried(&event);
        if tries > RETRACTION_STARTS {
            error!(room = %room_id, event = %event, tries, "gave up redacting an event about a deleted question: every try failed");
            bot.journal.retracted(&event);
            continue;
        }
        let room = bot.client.get_room(&room_id);
        let bot = bot.clone();
        (bot.clone().tasks).spawn(async move {
            let erased = erase(&bot, &room_id, Some(id.clone())).await;
            finish_retraction(&bot, room.as_ref(), &id, erased).await;
        });
    }
}

/// How many starts try again to finish a retraction that keeps failing (the
/// room gone for good, the disk refusing the erase) before giving up on it.
const RETRACTION_STARTS: u32 = 5;

/// Forgets `reply`, the bot's reply to `question` (deleted) in `room_id`: it
/// is no answer to edit, nor one whose reactions are votes.
fn forget_reply(bot: &Bot, room_id: &OwnedRoomId, question: &OwnedEventId, reply: &OwnedEventId) {
    (bot.replies.lock().unwrap_or_else(|e| e.into_inner())).delete(room_id, question);
    (bot.answers.lock().unwrap_or_else(|e| e.into_inner()))
        .remove(&(reply.clone(), room_id.clone()));
}

/// Redacts the bot's `event` about a deleted question (in `room`, when the
/// bot knows it), and notes it done in the journal once it is, and the files
/// were `erased`: else it is tried again at the next start.
async fn finish_retraction(bot: &Bot, room: Option<&Room>, event: &EventId, erased: bool) {
    let Some(room) = room else {
        warn!(event = %event, "an event about a deleted question is in a room the bot does not know now; redacted at the next start");
        return;
    };
    if redact_reply(bot, room, event).await && erased {
        bot.journal.retracted(event.as_str());
    }
}

/// Erases a deleted question's words from the bot's files: the record of the
/// bot's `reply` to it in `room_id`, if any, and the votes on it from the
/// feedback file, and the question's event from the journal (compacted now,
/// the question being done). Returns whether that went well.
async fn erase(bot: &Arc<Bot>, room_id: &OwnedRoomId, reply: Option<OwnedEventId>) -> bool {
    let (bot, room_id) = (bot.clone(), room_id.clone());
    let erased = tokio::task::spawn_blocking(move || {
        let compacted = bot.journal.compact_now();
        let (Some(log), Some(reply)) = (bot.feedback.as_ref(), reply) else {
            return Ok(compacted);
        };
        log.erase(reply.as_str(), room_id.as_str())
            .map(|_| compacted)
    })
    .await;
    match erased {
        Ok(Ok(compacted)) => compacted,
        Ok(Err(err)) => {
            error!(error = %crate::chain(&err), "erasing a deleted question from the feedback file failed; tried again at the next start");
            false
        }
        Err(err) => {
            error!(error = %err, "erasing a deleted question failed; tried again at the next start");
            false
        }
    }
}

/// Redacts the bot's `reply` (or edit of it) to a question that was deleted;
/// returns whether it is done with: redacted, or refused for good (the bot is
/// no longer allowed, or the event is gone).
async fn redact_reply(bot: &Bot, room: &Room, reply: &EventId) -> bool {
    let txn = reply::transaction_id_for(reply, "retract");
    let attempts = bot.config.limits.send_attempts;
    match reply::redact(room, reply, messages::QUESTION_DELETED, txn, attempts).await {
        Ok(()) => {
            info!(room = %room.room_id(), reply = %reply, "the question was deleted, and so was its reply");
            true
        }
        Err(err @ reply::SendError::Refused { .. }) if err.is_final() => {
            warn!(room = %room.room_id(), reply = %reply, error = %crate::chain(&err), "the question was deleted; the homeserver refused to take back its reply");
            true
        }
        Err(err) => {
            warn!(room = %room.room_id(), reply = %reply, error = %crate::chain(&err), "the question was deleted; taking back its reply failed (tried again at the next start)");
            false
        }
    }
}

/// A room message: a question or command addressed to the bot is taken on (in
/// the journal, then answered on its own task) unless it came too early or too
/// late or the sender is rate limited. Returns whether it was taken on.
async fn handle_message(
    bot: &Arc<Bot>,
    room: &Room,
    msg: OriginalSyncRoomMessageEvent,
    raw: &Raw<AnySyncTimelineEvent>,
    arrival: Arrival,
) -> bool {
    if msg.sender == bot.user_id {
        return false;
    }
    // m.notice is how bots talk; answering them invites bot loops.
    let MessageType::Text(text) = &msg.content.msgtype else {
        return false;
    };
    if matches!(msg.content.relates_to, Some(Relation::Replacement(_))) {
        return handle_edit(bot, room, msg, raw, arrival).await;
    }
    if arrival.catching_up {
        return false;
    }
    let late = membership::too_late(bot, room, u64::from(msg.origin_server_ts.0)).await;
    if late == Some(Late::BeforeUs) {
        return false;
    }
    let room_id = room.room_id().as_str();
    let mentioned =
        (msg.content.mentions.as_ref()).is_some_and(|m| m.user_ids.contains(&bot.user_id));
    let follow_up = bot.config.answer.follow_ups && is_follow_up(bot, room, &msg);
    let ctx = context(bot, room, mentioned, follow_up).await;
    let Some(request) = triggers::classify(&text.body, &ctx) else {
        return false;
    };

    if let Some(Late::TooOld(age)) = late {
        info!(room = %room_id, event = %msg.event_id, age_s = age.as_secs(), "skipping a question older than answer.max_missed_age_secs");
        return false;
    }

    if !arrival.journaled && bot.journal.is_done(msg.event_id.as_str()) {
        debug!(event = %msg.event_id, "answered already (before a restart)");
        return false;
    }
    match bot.limits.check(msg.sender.as_str(), room_id) {
        Verdict::Allow => take_on(bot, room, msg, raw, request, arrival.journaled),
        Verdict::SlowDown(wait) => {
            info!(room = %room_id, sender = %msg.sender, "rate limited; telling them once");
            bot.metrics.question(metrics::Outcome::RateLimited);
            let (bot, room) = (bot.clone(), room.clone());
            bot.clone().tasks.spawn(async move {
                let notice = deliver(&bot, &room, &msg, "slow", &messages::slow_down(wait)).await;
                if let Some(notice) = notice {
                    noticed(&bot, &room, &msg.event_id, &msg.sender, notice);
                }
            });
            false
        }
        Verdict::Silent => {
            debug!(room = %room_id, sender = %msg.sender, "rate limited; staying silent");
            bot.metrics.question(metrics::Outcome::RateLimited);
            false
        }
    }
}

/// Takes on `request` (from `msg`): into the journal unless it is there
/// (`journaled`), then answered on its own task. Returns whether it was taken
/// on (not when another copy of the event already was).
fn take_on(
    bot: &Arc<Bot>,
    room: &Room,
    msg: OriginalSyncRoomMessageEvent,
    raw: &Raw<AnySyncTimelineEvent>,
    request: Request,
    journaled: bool,
) -> bool {
    // On disk before the sync position holding it is saved: a crash
    // from here on can't lose the question.
    let taken = journaled || bot.journal.take(msg.event_id.as_str(), open(room, raw));
    if !taken {
        debug!(event = %msg.event_id, "answered already");
        return false;
    }
    let (bot, room) = (bot.clone(), room.clone());
    bot.clone()
        .tasks
        .spawn(async move { respond(&bot, &room, &msg, request).await });
    true
}

/// Searches quicker than this get no typing notice: on a local homeserver
/// the extra request would only delay the reply it announces.
const TYPING_AFTER: Duration = Duration::from_millis(250);

async fn set_typing(room: &Room, typing: bool) {
    if let Err(err) = room.typing_notice(typing).await {
        debug!(error = %err, "typing notice failed");
    }
}

async fn respond(
    bot: &Arc<Bot>,
    room: &Room,
    msg: &OriginalSyncRoomMessageEvent,
    request: Request,
) {
    let started = std::time::Instant::now();
    let work = commands::build_reply(bot, room, msg, None, request);
    tokio::pin!(work);
    let mut typed = false;
    let (body, answer) = match tokio::time::timeout(TYPING_AFTER, &mut work).await {
        Ok(done) => done,
        Err(_) if bot.config.answer.typing => {
            typed = true;
            let (_, done) = tokio::join!(set_typing(room, true), &mut work);
            done
        }
        Err(_) => work.await,
    };
    let built = started.elapsed();
    // Its deletion was journaled and its files erased already.
    if is_deleted(bot, room, msg) {
        info!(room = %room.room_id(), question = %msg.event_id, "the question was deleted before its answer was out; not sent");
        if typed {
            set_typing(room, false).await;
        }
        return;
    }
    let content = reply::content(&body, msg, bot.config.answer.reply_mode);
    let txn = reply::transaction_id(msg, "reply");
    let sent = match reply::send(room, content, txn, bot.config.limits.send_attempts).await {
        Ok(id) => Some(id),
        Err(err) => {
            if typed {
                set_typing(room, false).await;
                typed = false;
            }
            redeliver(bot, room, msg, &body, err).await
        }
    };
    if let Some(reply) = sent {
        delivered(bot, room, msg, reply, answer.as_ref(), started).await;
    }
    debug!(
        event = %msg.event_id,
        build_ms = built.as_millis() as u64,
        total_ms = started.elapsed().as_millis() as u64,
        "replied"
    );
    if bot.config.answer.read_receipts {
        bot.receipts
            .answered(room, msg.event_id.clone(), msg.origin_server_ts);
    }
    if typed {
        set_typing(room, false).await;
    }
}

/// What follows the delivery of `reply` to `msg`: it is noted (and the
/// question done), and an edit of `msg` that waited for it is answered; or,
/// when `msg` was deleted meanwhile, it is taken back.
async fn delivered(
    bot: &Arc<Bot>,
    room: &Room,
    msg: &OriginalSyncRoomMessageEvent,
    reply: OwnedEventId,
    answer: Option<&Answer>,
    started: std::time::Instant,
) {
    // Noted before the question is done: an edit of it that comes now
    // finds either the reply or the question still open (and waits).
    let answered = journal::Reply {
        room: room.room_id().to_string(),
        event: reply.to_string(),
        asker: msg.sender.to_string(),
    };
    let reply_id = reply.clone();
    match noted(bot, room, msg, reply, answer, answered) {
        Ok(waited) => {
            bot.metrics.reply_took(started.elapsed());
            // The asker edited the message while this reply was on its way.
            if let Some(edit) = waited {
                handle_timeline_event(bot, room, &edit, Arrival::JOURNALED).await;
            }
        }
        // Or deleted it: nothing of it is kept.
        Err(Deleted) => {
            info!(room = %room.room_id(), question = %msg.event_id, "the question was deleted as its answer went out; taken back");
            take_back(bot, room, &msg.event_id, vec![reply_id], None);
        }
    }
}

/// The question was deleted before its reply was out.
struct Deleted;

/// Whether `msg` in `room` was deleted (lately): `handle_deleted` has then
/// journaled that and erased its words.
fn is_deleted(bot: &Bot, room: &Room, msg: &OriginalSyncRoomMessageEvent) -> bool {
    let replies = bot.replies.lock().unwrap_or_else(|e| e.into_inner());
    replies.is_deleted(&room.room_id().to_owned(), &msg.event_id)
}

/// Notes `reply` as the bot's reply to `msg` (and `answer`, when one, in the
/// feedback file); returns the edit of `msg` that waited for it, if any, or
/// that `msg` was deleted meanwhile.
fn noted(
    bot: &Bot,
    room: &Room,
    msg: &OriginalSyncRoomMessageEvent,
    reply: OwnedEventId,
    answer: Option<&Answer>,
    answered: journal::Reply,
) -> Result<Option<Raw<AnySyncTimelineEvent>>, Deleted> {
    let replied = Replied {
        reply,
        asker: msg.sender.clone(),
    };
    let room_id = room.room_id().to_owned();
    // Under the replies' lock, so a deletion comes before (nothing is
    // recorded) or after (and erases the record).
    let mut replies = bot.replies.lock().unwrap_or_else(|e| e.into_inner());
    if replies.is_deleted(&room_id, &msg.event_id) {
        return Err(Deleted);
    }
    replies.note(room_id.clone(), msg.event_id.clone(), replied.clone());
    let waited = replies.waited(&room_id, &msg.event_id);
    if let Some(answer) = answer {
        record_answer(bot, room, &msg.event_id, &replied, answer);
    }
    // Done under the lock too, so a deletion's journal line comes after.
    bot.journal.answered(msg.event_id.as_str(), answered);
    Ok(waited)
}

/// How long a reply the homeserver did not take is tried again in this
/// process; after that it stays open in the journal, for the next start.
const REDELIVER_FOR: Duration = Duration::from_secs(3600);
/// The first pause before trying again; it doubles up to [`REDELIVER_MAX_WAIT`].
const REDELIVER_FIRST_WAIT: Duration = Duration::from_secs(5);
const REDELIVER_MAX_WAIT: Duration = Duration::from_secs(300);

/// A reply the homeserver did not take (`first`), tried again with growing
/// pauses until it is taken, with an apology for the delay above it. When the
/// homeserver refuses the reply itself (not just fails), a short apology goes
/// in its place, so the asker hears once either way. Returns the reply's event
/// ID when the reply went out. The transaction ID stays the question's, so a
/// first attempt that did reach the homeserver is not doubled.
async fn redeliver(
    bot: &Arc<Bot>,
    room: &Room,
    msg: &OriginalSyncRoomMessageEvent,
    body: &Formatted,
    first: reply::SendError,
) -> Option<OwnedEventId> {
    error!(room = %room.room_id(), question = %msg.event_id, error = %first, "reply not delivered; trying again later");
    let give_up = std::time::Instant::now() + REDELIVER_FOR;
    let mode = bot.config.answer.reply_mode;
    let late = reply::content(&messages::late(body), msg, mode);
    let mut wait = REDELIVER_FIRST_WAIT;
    loop {
        tokio::select! {
            _ = bot.shutdown.cancelled() => {
                warn!(question = %msg.event_id, "stopping with a reply undelivered; the next start sends it");
                return None;
            }
            _ = tokio::time::sleep(wait) => {}
        }
        wait = (wait * 2).min(REDELIVER_MAX_WAIT);
        if is_deleted(bot, room, msg) {
            info!(room = %room.room_id(), question = %msg.event_id, "the question was deleted; its late reply is not sent");
            return None;
        }
        let txn = reply::transaction_id(msg, "reply");
        let err = match reply::send(room, late.clone(), txn, 1).await {
            Ok(id) => {
                info!(room = %room.room_id(), question = %msg.event_id, "reply delivered late");
                return Some(id);
            }
            Err(err) => err,
        };
        if let reply::SendError::Refused { code, .. } = &err {
            let sorry = reply::content(&messages::undeliverable(code), msg, mode);
            let txn = reply::transaction_id(msg, "sorry");
            if let Ok(notice) = reply::send(room, sorry, txn, 1).await {
                noticed(bot, room, &msg.event_id, &msg.sender, notice);
                warn!(room = %room.room_id(), question = %msg.event_id, error = %crate::chain(&err), "the reply was refused; the asker was told");
                bot.journal.done(msg.event_id.as_str());
                bot.metrics.question(metrics::Outcome::Failed);
                return None;
            }
        }
        if std::time::Instant::now() >= give_up {
            error!(room = %room.room_id(), question = %msg.event_id, error = %crate::chain(&err), "reply still not delivered; it stays open for the next start");
            bot.metrics.question(metrics::Outcome::Failed);
            return None;
        }
        debug!(question = %msg.event_id, error = %crate::chain(&err), retry_in_s = wait.as_secs(), "reply still not delivered");
    }
}

/// Sends `body` as the reply to `msg`; a failure is logged loudly (the reply
/// was already retried) and counted. Returns the reply's event ID when sent.
async fn deliver(
    bot: &Bot,
    room: &Room,
    msg: &OriginalSyncRoomMessageEvent,
    kind: &str,
    body: &Formatted,
) -> Option<OwnedEventId> {
    let content = reply::content(body, msg, bot.config.answer.reply_mode);
    let txn = reply::transaction_id(msg, kind);
    match reply::send(room, content, txn, bot.config.limits.send_attempts).await {
        Ok(id) => Some(id),
        Err(err) => {
            error!(room = %room.room_id(), question = %msg.event_id, error = %crate::chain(&err), "reply not delivered");
            bot.metrics.question(metrics::Outcome::Failed);
            (bot.counters).count(bot.rooms.collections(room).as_deref(), |c| c.failed += 1);
            None
        }
    }
}

/// Writes an answer (or refusal) the bot sent (`replied`, to `message`) to
/// the feedback file, and remembers the reply so reactions to it count as
/// votes.
fn record_answer(bot: &Bot, room: &Room, message: &EventId, replied: &Replied, answer: &Answer) {
    let Some(log) = &bot.feedback else { return };
    let reply = replied.reply.clone();
    let record = Record::answer(
        reply.as_str(),
        room.room_id().as_str(),
        replied.asker.as_str(),
        message.as_str(),
        answer,
    );
    if let Err(err) = log.append(&record) {
        error!(error = %crate::chain(&err), "recording the answer in the feedback file failed");
        return;
    }
    bot.answers
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert((reply, room.room_id().to_owned()));
}

/// An edit (`msg`, whose relation is the replacement) of a message: when it
/// is the asker's, of a message the bot answered, and still asks something,
/// the bot's reply is edited to answer it (see `edits`); an edit of a message
/// whose answer is still on its way waits for the reply. Journaled first, as
/// a question is. Returns whether it was taken on.
async fn handle_edit(
    bot: &Arc<Bot>,
    room: &Room,
    msg: OriginalSyncRoomMessageEvent,
    raw: &Raw<AnySyncTimelineEvent>,
    arrival: Arrival,
) -> bool {
    let id = msg.event_id.clone();
    let taken = take_on_edit(bot, room, msg, raw, arrival).await;
    if !taken && arrival.journaled {
        // Taken on before a restart, and nothing to answer now.
        bot.journal.done(id.as_str());
    }
    taken
}

/// What becomes of an edit, decided under the replies' lock.
enum EditIs {
    /// To answer: by editing this reply.
    Answered(Replied),
    /// Waiting for its message's reply.
    Waiting,
    /// Superseded, not the asker's, or of a message the bot did not answer.
    Ignored,
}

async fn take_on_edit(
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
    if arrival.catching_up || (!arrival.journaled && bot.journal.is_done(msg.event_id.as_str())) {
        return false;
    }
    let room_id = room.room_id().to_owned();
    // Most edits (chatter in a group room) are of messages the bot never took
    // on: those cost nothing, not even a journal line. Open first: a question
    // is noted as answered before it stops being open.
    let ours = bot.journal.is_open(edit.event_id.as_str())
        || (bot.replies.lock().unwrap_or_else(|e| e.into_inner()))
            .of(&room_id, &edit.event_id)
            .is_some();
    if !ours {
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
    let ctx = context(bot, room, true, false).await;
    let Some(request) = triggers::classify(&text.body, &ctx) else {
        return false;
    };
    // On disk first: what follows may park it until the reply is out.
    let taken = arrival.journaled || bot.journal.take(msg.event_id.as_str(), open(room, raw));
    if !taken {
        return false;
    }
    let replied = match edit_is(bot, &room_id, &msg, &edit.event_id, raw) {
        EditIs::Answered(replied) => replied,
        EditIs::Waiting => return true,
        EditIs::Ignored => {
            bot.journal.done(msg.event_id.as_str());
            return false;
        }
    };
    // Answered as the message it edits now reads, under the edit's own ID
    // (the journal's and the transaction's).
    let mut asked = msg.clone();
    asked.content = RoomMessageEventContent::from(edit.new_content.clone());
    let message = edit.event_id.clone();
    match bot.limits.check(msg.sender.as_str(), room_id.as_str()) {
        Verdict::Allow => {}
        verdict => {
            slow_down_edit(bot, room, &asked, &message, verdict);
            bot.journal.done(msg.event_id.as_str());
            return false;
        }
    }
    let (bot, room) = (bot.clone(), room.clone());
    (bot.clone().tasks)
        .spawn(async move { respond_edit(&bot, &room, &asked, message, replied, request).await });
    true
}

/// Whether `msg` may be a follow-up: in the thread of one of the bot's
/// answers, and said to it — the asker's, in the thread on their own question
/// (where the answer is, in thread mode), or anyone's, in a thread on the
/// answer itself — and naming nobody else. People talking to each other in
/// the thread are left alone.
fn is_follow_up(bot: &Bot, room: &Room, msg: &OriginalSyncRoomMessageEvent) -> bool {
    let Some(Relation::Thread(thread)) = &msg.content.relates_to else {
        return false;
    };
    let others = (msg.content.mentions.as_ref())
        .is_some_and(|m| m.user_ids.iter().any(|u| *u != bot.user_id));
    if others {
        return false;
    }
    let (room_id, root) = (room.room_id().to_owned(), thread.event_id.clone());
    let replies = bot.replies.lock().unwrap_or_else(|e| e.into_inner());
    replies
        .of(&room_id, &root)
        .is_some_and(|r| r.asker == msg.sender)
        || replies.is_reply(&room_id, &root)
}

/// What tells whether a message in `room` is for the bot (`mentioned`: its
/// `m.mentions` name the bot; `in_answer_thread`: it may be a follow-up
/// question, see `is_follow_up`).
async fn context<'b>(
    bot: &'b Bot,
    room: &Room,
    mentioned: bool,
    in_answer_thread: bool,
) -> triggers::Context<'b> {
    triggers::Context {
        prefix: &bot.config.answer.command_prefix,
        user_id: bot.user_id.as_str(),
        display_name: &bot.display_name,
        is_dm: membership::is_dm(room).await,
        mentioned,
        answer_questions: bot.rooms.answers_questions(room),
        in_answer_thread,
    }
}

/// The journal's entry for `raw`, an event of `room`.
fn open(room: &Room, raw: &Raw<AnySyncTimelineEvent>) -> journal::Open {
    journal::Open {
        room: room.room_id().to_string(),
        event: raw
            .deserialize_as::<serde_json::Value>()
            .unwrap_or_default(),
        encrypted: false,
    }
}

/// Whether edit `msg` of `message` is answered now, waits for the message's
/// reply, or is ignored; one step under the replies' lock, which the reply
/// to a question is noted under before the question is done.
fn edit_is(
    bot: &Bot,
    room_id: &OwnedRoomId,
    msg: &OriginalSyncRoomMessageEvent,
    message: &OwnedEventId,
    raw: &Raw<AnySyncTimelineEvent>,
) -> EditIs {
    let at = u64::from(msg.origin_server_ts.0);
    let mut replies = bot.replies.lock().unwrap_or_else(|e| e.into_inner());
    if replies.is_deleted(room_id, message) {
        return EditIs::Ignored;
    }
    let superseded = match replies.of(room_id, message) {
        // Only the asker's own edit re-asks (clients show no one else's).
        Some(replied) if replied.asker == msg.sender => {
            match replies.edited(room_id, message, at, &msg.event_id) {
                Ok(superseded) => (EditIs::Answered(replied), superseded),
                Err(()) => (EditIs::Ignored, None),
            }
        }
        Some(_) => (EditIs::Ignored, None),
        // An edit that first addresses the bot is no question it was asked;
        // one of a question being answered waits for its reply.
        None if being_answered(bot, room_id, message, msg) => {
            let superseded = replies.wait(
                room_id.clone(),
                message.clone(),
                msg.event_id.clone(),
                raw.clone(),
            );
            (EditIs::Waiting, superseded)
        }
        None => (EditIs::Ignored, None),
    };
    drop(replies);
    if let (_, Some(old)) = &superseded {
        bot.journal.done(old.as_str());
    }
    superseded.0
}

/// Whether `message` of `room_id` is a question by `edit`'s sender that the
/// bot has taken on and not answered yet (itself no edit).
fn being_answered(
    bot: &Bot,
    room_id: &OwnedRoomId,
    message: &OwnedEventId,
    edit: &OriginalSyncRoomMessageEvent,
) -> bool {
    bot.journal
        .open_entry(message.as_str())
        .is_some_and(|open| {
            let e = &open.event;
            open.room == room_id.as_str()
                && e["sender"].as_str() == Some(edit.sender.as_str())
                && e["content"]["m.relates_to"]["rel_type"] != "m.replace"
        })
}

/// A rate-limited edit: told once (in the message's thread) as a question
/// is, then silent.
fn slow_down_edit(
    bot: &Arc<Bot>,
    room: &Room,
    asked: &OriginalSyncRoomMessageEvent,
    message: &OwnedEventId,
    verdict: Verdict,
) {
    bot.metrics.question(metrics::Outcome::RateLimited);
    let Verdict::SlowDown(wait) = verdict else {
        debug!(room = %room.room_id(), sender = %asked.sender, "rate limited; staying silent");
        return;
    };
    // Said in the thread of the message edited, under the edit's transaction.
    let mut original = asked.clone();
    original.event_id = message.clone();
    let txn_of = asked.event_id.clone();
    let (bot, room) = (bot.clone(), room.clone());
    bot.clone().tasks.spawn(async move {
        let content = reply::content(&messages::slow_down(wait), &original, bot.config.answer.reply_mode);
        let txn = reply::transaction_id_for(&txn_of, "slow");
        match reply::send(&room, content, txn, bot.config.limits.send_attempts).await {
            Ok(notice) => noticed(&bot, &room, &original.event_id, &original.sender, notice),
            Err(err) => {
                warn!(room = %room.room_id(), error = %crate::chain(&err), "the slow-down notice was not delivered");
            }
        }
    });
}

/// Answers the edited message `asked` (the edit event, its content the new
/// text) of `message` by editing the bot's reply; tried again while the
/// homeserver fails, as a reply is, unless a later edit supersedes it.
async fn respond_edit(
    bot: &Arc<Bot>,
    room: &Room,
    asked: &OriginalSyncRoomMessageEvent,
    message: OwnedEventId,
    replied: Replied,
    request: Request,
) {
    let started = std::time::Instant::now();
    let (body, answer) = commands::build_reply(bot, room, asked, Some(&message), request).await;
    let room_id = room.room_id().to_owned();
    let give_up = std::time::Instant::now() + REDELIVER_FOR;
    let mut wait = REDELIVER_FIRST_WAIT;
    loop {
        let latest = (bot.replies.lock().unwrap_or_else(|e| e.into_inner())).is_latest(
            &room_id,
            &message,
            &asked.event_id,
        );
        if !latest {
            debug!(event = %asked.event_id, "a later edit supersedes this one");
            bot.journal.done(asked.event_id.as_str());
            return;
        }
        let content = super::edits::content(&body, &replied);
        let txn = reply::transaction_id(asked, "edit");
        let err = match reply::send(room, content, txn, bot.config.limits.send_attempts).await {
            Ok(edit) => {
                bot.journal.done(asked.event_id.as_str());
                bot.metrics.reply_took(started.elapsed());
                info!(room = %room_id, message = %message, reply = %replied.reply, "reply edited to answer the edited message");
                let mut replies = bot.replies.lock().unwrap_or_else(|e| e.into_inner());
                let noted = replies.edit_sent(&room_id, &message, edit.clone());
                if noted == EditNoted::Deleted {
                    // The message was deleted meanwhile: so goes the edit.
                    drop(replies);
                    take_back(bot, room, &message, vec![edit], None);
                    return;
                }
                if noted == EditNoted::Kept {
                    (bot.journal).edited(message.as_str(), room_id.as_str(), edit.as_str());
                }
                if let Some(answer) = answer {
                    record_answer(bot, room, &message, &replied, &answer);
                }
                return;
            }
            Err(err) => err,
        };
        let refused = matches!(err, reply::SendError::Refused { .. });
        if refused || std::time::Instant::now() >= give_up {
            // Refused: the same edit would be again. Else left open for the next start.
            error!(room = %room_id, message = %message, error = %crate::chain(&err), "the edited reply was not delivered");
            bot.metrics.question(metrics::Outcome::Failed);
            if refused {
                bot.journal.done(asked.event_id.as_str());
            }
            return;
        }
        debug!(event = %asked.event_id, error = %crate::chain(&err), "the edited reply was not delivered; trying again");
        tokio::select! {
            _ = bot.shutdown.cancelled() => return,
            _ = tokio::time::sleep(wait) => {}
        }
        wait = (wait * 2).min(REDELIVER_MAX_WAIT);
    }
}
