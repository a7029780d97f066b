//! What the bot does with one sync response: accepts or rejects invites,
//! leaves rooms where it's alone, and turns room messages addressed to it
//! into replies (each on its own tracked task, so the sync loop never waits
//! for a search or a send).

use std::sync::Arc;
use std::time::Duration;

use matrix_sdk::ruma::api::client::receipt::create_receipt::v3::ReceiptType;
use matrix_sdk::ruma::events::reaction::OriginalSyncReactionEvent;
use matrix_sdk::ruma::events::receipt::ReceiptThread;
use matrix_sdk::ruma::events::room::message::{
    MessageType, OriginalSyncRoomMessageEvent, Relation,
};
use matrix_sdk::ruma::events::{
    AnySyncMessageLikeEvent, AnySyncTimelineEvent, SyncMessageLikeEvent,
};
use matrix_sdk::ruma::serde::Raw;
use matrix_sdk::ruma::{MilliSecondsSinceUnixEpoch, OwnedEventId, OwnedRoomId};
use matrix_sdk::sync::SyncResponse;
use matrix_sdk::{Room, RoomState};
use tracing::{debug, error, info, warn};

use super::Bot;
use super::limits::Verdict;
use super::reply;
use super::triggers::{self, Request};
use super::{journal, metrics, undecryptable};
use crate::feedback::{self, Record, Vote};
use crate::messages;
use crate::render::{self, Formatted};
use crate::search::{Answer, AskOptions};

/// Handles one sync response. `catching_up`: the first sync after a fresh
/// login, whose messages are history and never answered. `since`: the token
/// this sync started from.
pub(crate) async fn process(
    bot: &Arc<Bot>,
    response: SyncResponse,
    catching_up: bool,
    since: Option<&str>,
) {
    for room_id in response.rooms.invited.keys() {
        let bot2 = bot.clone();
        let room_id = room_id.clone();
        bot.tasks
            .spawn(async move { handle_invite(&bot2, room_id).await });
    }
    for (room_id, update) in &response.rooms.joined {
        let Some(room) = bot.client.get_room(room_id) else {
            continue;
        };
        // A limited timeline (more events than sync.timeline_limit since the last
        // sync, as after downtime) has a gap before its events: fetch it first, so
        // questions asked in it are answered too, in order.
        let gap = match (update.timeline.limited && !catching_up, since) {
            (true, Some(since)) => {
                missed_events(bot, &room, update.timeline.prev_batch.as_deref(), since).await
            }
            _ => Vec::new(),
        };
        note_invite(bot, &room, gap.iter().chain(&update.timeline.events));
        for event in gap.iter().chain(&update.timeline.events) {
            // Encrypted events arrive decrypted where the key was at hand;
            // the rest wait for their key (see `undecryptable`).
            if event.kind.is_utd() {
                undecryptable::track(bot, &room, event.raw(), catching_up, false).await;
                continue;
            }
            handle_timeline_event(bot, &room, event.raw(), catching_up, false).await;
        }
        leave_if_alone(bot, &room).await;
    }
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

/// Handles one (plain or decrypted) timeline event: room messages may be
/// questions or commands. `journaled`: the event is an open question of the
/// journal already (handled again after a restart, or just decrypted).
/// Returns whether the bot took it on (a reply is on its way).
pub(crate) async fn handle_timeline_event(
    bot: &Arc<Bot>,
    room: &Room,
    raw: &Raw<AnySyncTimelineEvent>,
    catching_up: bool,
    journaled: bool,
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
        )) => handle_message(bot, room, msg, raw, catching_up, journaled).await,
        AnySyncTimelineEvent::MessageLike(AnySyncMessageLikeEvent::Reaction(
            SyncMessageLikeEvent::Original(reaction),
        )) => {
            handle_reaction(bot, room, &reaction);
            false
        }
        _ => false,
    }
}

/// Accepts invites from allowed users (retrying the join: the invite can
/// reach us before the server lets us join), rejects the rest.
async fn handle_invite(bot: &Arc<Bot>, room_id: OwnedRoomId) {
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

async fn leave_if_alone(bot: &Arc<Bot>, room: &Room) {
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
        .contains(target);
    if !ours {
        return;
    }
    let record = Record::reaction(
        target.as_str(),
        room.room_id().as_str(),
        reaction.sender.as_str(),
        vote,
        key,
    );
    match log.append(&record) {
        Ok(()) => {
            info!(room = %room.room_id(), answer = %target, ?vote, "feedback recorded");
            bot.metrics.vote(vote == Vote::Up);
        }
        Err(err) => error!(error = %err, "recording feedback failed"),
    }
}

/// Remembers when the bot was invited to `room`, from its invite among
/// `events`: what was said from then on was said with the bot in mind (people
/// start a chat with the bot and type the question before it has joined).
fn note_invite<'e>(
    bot: &Bot,
    room: &Room,
    events: impl Iterator<Item = &'e matrix_sdk::deserialized_responses::TimelineEvent>,
) {
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
        }
    }
}

/// When the bot's own join to `room` happened (ms since epoch).
pub(crate) async fn joined_at(bot: &Bot, room: &Room) -> Option<u64> {
    let me = room.get_member_no_sync(&bot.user_id).await.ok()??;
    me.event().timestamp().map(u64::from)
}

/// Whether a message sent at `sent_at` (ms since epoch) in `room` was said
/// before the bot was there to be asked: before its invite when the bot saw
/// that, else before it joined.
pub(crate) async fn said_before_us(bot: &Bot, room: &Room, sent_at: u64) -> bool {
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

async fn handle_message(
    bot: &Arc<Bot>,
    room: &Room,
    msg: OriginalSyncRoomMessageEvent,
    raw: &Raw<AnySyncTimelineEvent>,
    catching_up: bool,
    journaled: bool,
) -> bool {
    if msg.sender == bot.user_id {
        return false;
    }
    // m.notice is how bots talk; answering them invites bot loops.
    let MessageType::Text(text) = &msg.content.msgtype else {
        return false;
    };
    if matches!(msg.content.relates_to, Some(Relation::Replacement(_))) {
        return false; // an edit: the original was (or wasn't) answered already
    }
    if catching_up {
        return false;
    }
    let sent_at = u64::from(msg.origin_server_ts.0);
    if said_before_us(bot, room, sent_at).await {
        return false;
    }
    let room_id = room.room_id().as_str();
    let ctx = triggers::Context {
        prefix: &bot.config.answer.command_prefix,
        user_id: bot.user_id.as_str(),
        display_name: &bot.display_name,
        is_dm: is_dm(room).await,
        mentioned: msg
            .content
            .mentions
            .as_ref()
            .is_some_and(|m| m.user_ids.contains(&bot.user_id)),
        answer_questions: bot.rooms.answers_questions(room),
    };
    let Some(request) = triggers::classify(&text.body, &ctx) else {
        return false;
    };

    let now = u64::from(MilliSecondsSinceUnixEpoch::now().0);
    let age = Duration::from_millis(now.saturating_sub(sent_at));
    if age > bot.config.answer.max_missed_age() {
        info!(room = %room_id, event = %msg.event_id, age_s = age.as_secs(), "skipping a question older than answer.max_missed_age_secs");
        return false;
    }

    if !journaled && bot.journal.is_done(msg.event_id.as_str()) {
        debug!(event = %msg.event_id, "answered already (before a restart)");
        return false;
    }
    match bot.limits.check(msg.sender.as_str(), room_id) {
        Verdict::Allow => {
            // On disk before the sync position holding it is saved: a crash
            // from here on can't lose the question.
            let taken = journaled
                || bot.journal.take(
                    msg.event_id.as_str(),
                    journal::Open {
                        room: room_id.to_owned(),
                        event: raw
                            .deserialize_as::<serde_json::Value>()
                            .unwrap_or_default(),
                        encrypted: false,
                    },
                );
            if !taken {
                debug!(event = %msg.event_id, "answered already");
                return false;
            }
            let (bot, room) = (bot.clone(), room.clone());
            bot.clone()
                .tasks
                .spawn(async move { respond(&bot, &room, &msg, request).await });
            return true;
        }
        Verdict::SlowDown(wait) => {
            info!(room = %room_id, sender = %msg.sender, "rate limited; telling them once");
            bot.metrics.question(metrics::Outcome::RateLimited);
            let (bot, room) = (bot.clone(), room.clone());
            bot.clone().tasks.spawn(async move {
                deliver(&bot, &room, &msg, "slow", &messages::slow_down(wait)).await;
            });
        }
        Verdict::Silent => {
            debug!(room = %room_id, sender = %msg.sender, "rate limited; staying silent");
            bot.metrics.question(metrics::Outcome::RateLimited);
        }
    }
    false
}

/// Direct chats: flagged `is_direct`, or just the asker and the bot, counting
/// those invited: a group room whose other members haven't joined yet is still
/// a group room, and its chatter isn't for the bot.
async fn is_dm(room: &Room) -> bool {
    room.active_members_count() <= 2 || room.is_direct().await.unwrap_or(false)
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
    let work = build_reply(bot, room, msg, request);
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
    let sent = deliver(bot, room, msg, "reply", &body).await;
    if sent.is_some() {
        bot.journal.done(msg.event_id.as_str());
        bot.metrics.reply_took(started.elapsed());
    }
    if let (Some(reply), Some(answer)) = (sent, answer) {
        record_answer(bot, room, msg, reply, &answer);
    }
    debug!(
        event = %msg.event_id,
        build_ms = built.as_millis() as u64,
        total_ms = started.elapsed().as_millis() as u64,
        "replied"
    );
    // Best effort, after the reply so they never delay it.
    if bot.config.answer.read_receipts
        && let Err(err) = room
            .send_single_receipt(
                ReceiptType::Read,
                ReceiptThread::Unthreaded,
                msg.event_id.clone(),
            )
            .await
    {
        debug!(error = %err, "read receipt failed");
    }
    if typed {
        set_typing(room, false).await;
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
            error!(room = %room.room_id(), question = %msg.event_id, error = %err, "reply not delivered");
            bot.metrics.question(metrics::Outcome::Failed);
            bot.counters
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .failed += 1;
            None
        }
    }
}

/// Writes an answer (or refusal) the bot sent to the feedback file, and
/// remembers the reply so reactions to it count as votes.
fn record_answer(
    bot: &Bot,
    room: &Room,
    msg: &OriginalSyncRoomMessageEvent,
    reply: OwnedEventId,
    answer: &Answer,
) {
    let Some(log) = &bot.feedback else { return };
    let record = Record::answer(
        reply.as_str(),
        room.room_id().as_str(),
        msg.sender.as_str(),
        answer,
    );
    if let Err(err) = log.append(&record) {
        error!(error = %err, "recording the answer in the feedback file failed");
        return;
    }
    bot.answers
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(reply);
}

/// Runs `f` on the blocking pool: the search core is synchronous.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> anyhow::Result<T> {
    Ok(tokio::task::spawn_blocking(f).await?)
}

/// Runs the search `f` on the blocking pool once one of `search.max_concurrent`
/// places is free: questions beyond that wait here, not in the blocking pool,
/// which reloads and the crypto store also need.
async fn search<T: Send + 'static>(
    bot: &Bot,
    f: impl FnOnce() -> T + Send + 'static,
) -> anyhow::Result<T> {
    let started = std::time::Instant::now();
    let _permit = bot.searches.acquire().await?;
    let result = blocking(f).await;
    bot.metrics.search_took(started.elapsed());
    result
}

/// The reply to `request` in `room`, and the search core's answer when it was a
/// question (for the feedback file). Everything it tells is limited to the
/// collections the room sees.
async fn build_reply(
    bot: &Arc<Bot>,
    room: &Room,
    msg: &OriginalSyncRoomMessageEvent,
    request: Request,
) -> (Formatted, Option<Answer>) {
    let prefix = bot.config.answer.command_prefix.as_str();
    let engine = bot.engine.clone();
    let scope = bot.rooms.collections(room);
    let options = AskOptions {
        collections: scope.clone(),
        passages: None,
    };
    let reply = match request {
        Request::Ask(question) => {
            match search(bot, move || engine.ask_with(&question, &options)).await {
                Ok(Ok(answer)) => {
                    let mut c = bot.counters.lock().unwrap_or_else(|e| e.into_inner());
                    if answer.answered {
                        c.answered += 1;
                        bot.metrics.question(metrics::Outcome::Answered);
                    } else {
                        c.refused += 1;
                        bot.metrics.question(metrics::Outcome::Refused);
                    }
                    drop(c);
                    return (render::matrix(&answer), Some(answer));
                }
                Ok(Err(err)) => search_failed(bot, &err),
                Err(err) => search_failed(bot, &err),
            }
        }
        Request::Why(question) => {
            match search(bot, move || engine.explain_with(&question, &options)).await {
                // The question as read: a long one was cut.
                Ok(Ok(explanation)) => {
                    messages::why(&explanation.question.text, &explanation.to_string())
                }
                Ok(Err(err)) => search_failed(bot, &err),
                Err(err) => search_failed(bot, &err),
            }
        }
        Request::Sources => messages::sources(&bot.engine.sources_in(scope.as_deref())),
        Request::Stats => {
            let counters = bot
                .counters
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone();
            messages::stats(
                &counters,
                &bot.engine.stats_in(scope.as_deref()),
                bot.started.elapsed(),
            )
        }
        Request::Status => messages::status(&status(bot, scope.as_deref()).await),
        Request::Help => messages::help(prefix, bot.access.is_admin(msg.sender.as_str())),
        Request::Reload | Request::Gaps if !bot.access.is_admin(msg.sender.as_str()) => {
            let command = if request == Request::Reload {
                "reload"
            } else {
                "gaps"
            };
            info!(sender = %msg.sender, command, "refused an admin command from a non-admin");
            messages::admin_only(prefix, command)
        }
        Request::Reload => match blocking(move || engine.rebuild()).await {
            Ok(Ok(report)) => {
                info!(%report, by = %msg.sender, "index rebuilt");
                // Told in the room's terms: its collections' files and problems.
                let stats = bot.engine.stats_in(scope.as_deref());
                let problems: Vec<String> = bot
                    .engine
                    .knowledge_errors_in(scope.as_deref())
                    .iter()
                    .map(ToString::to_string)
                    .collect();
                messages::reload_done(stats.snippets, stats.files, report.millis, &problems)
            }
            Ok(Err(err)) => {
                error!(error = %err, "rebuilding the index failed");
                messages::reload_failed()
            }
            Err(err) => {
                error!(error = %err, "rebuilding the index failed");
                messages::reload_failed()
            }
        },
        Request::Gaps => gaps(bot, room).await,
        Request::MissingQuestion(cmd) => messages::missing_question(prefix, cmd),
        Request::Empty => messages::empty_question(prefix),
        Request::Unknown(cmd) => messages::unknown_command(prefix, &cmd),
    };
    (reply, None)
}

/// What `!status` shows, gathered now; in a room limited to `collections`, only
/// what concerns those collections.
async fn status(bot: &Bot, collections: Option<&[String]>) -> messages::Status {
    let crypto = match super::crypto::status(&bot.client).await {
        Ok(c) => Some(c),
        Err(err) => {
            error!(
                error = format!("{err:#}"),
                "reading the crypto status failed"
            );
            None
        }
    };
    let reload = bot.reload_state().clone();
    let index = bot.engine.stats_in(collections);
    let visible = |file: &str| bot.engine.in_scope(file, collections);
    messages::Status {
        device_id: bot
            .client
            .device_id()
            .map(|d| d.to_string())
            .unwrap_or_else(|| "-".into()),
        crypto,
        index_age: super::status::index_age(&index),
        index,
        watching: Some(reload.watching),
        last_reload: reload
            .last_reload
            .map(|r| (r.at.clone(), r.summary(visible))),
        problems: bot
            .engine
            .knowledge_errors_in(collections)
            .iter()
            .map(ToString::to_string)
            .collect(),
        // The error may name any collection's files.
        reload_failure: reload.failure.map(|f| {
            if collections.is_none() {
                f
            } else {
                messages::SEE_LOG.to_string()
            }
        }),
        pulls: reload
            .pulls
            .into_iter()
            .filter(|(c, _)| collections.is_none_or(|cols| cols.contains(c)))
            .collect(),
        uptime: Some(bot.started.elapsed()),
    }
}

/// `!gaps`: the feedback file's most refused or down-voted questions: those
/// asked in `room`, or in every room when asked in the admin room.
async fn gaps(bot: &Bot, room: &Room) -> Formatted {
    if bot.feedback.is_none() {
        return messages::feedback_off();
    }
    let path = bot.config.feedback_path();
    let (days, limit) = (
        bot.config.feedback.gaps_days,
        bot.config.feedback.gaps_limit,
    );
    let only = (bot.admin_room.as_deref() != Some(room.room_id()))
        .then(|| room.room_id().as_str().to_owned());
    let keep = move |r: &Record| only.as_ref().is_none_or(|room| r.room() == room);
    match blocking(move || feedback::read_where(&path, keep)).await {
        Ok(Ok((records, _))) => messages::gaps(
            &feedback::gaps(&records, feedback::since_days(days), limit),
            days,
        ),
        Ok(Err(err)) => {
            error!(error = %err, "reading the feedback file failed");
            messages::gaps_failed()
        }
        Err(err) => {
            error!(error = %err, "reading the feedback file failed");
            messages::gaps_failed()
        }
    }
}

fn search_failed(bot: &Bot, err: &dyn std::fmt::Display) -> Formatted {
    error!(error = %err, "search failed");
    bot.metrics.question(metrics::Outcome::Failed);
    bot.counters
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .failed += 1;
    messages::search_failed()
}
