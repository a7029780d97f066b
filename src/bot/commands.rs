//! The bot's replies: answers to questions and the `!` commands (`!why`,
//! `!sources`, `!stats`, `!status`, `!help`, and for admins `!reload` and
//! `!gaps`), each limited to the collections the room sees.

use std::sync::Arc;

use matrix_sdk::Room;
use matrix_sdk::ruma::EventId;
use matrix_sdk::ruma::events::room::message::OriginalSyncRoomMessageEvent;
use tracing::{error, info};

use super::triggers::Request;
use super::{Bot, blocking};
use super::{conversation, metrics};
use crate::feedback;
use crate::format::Formatted;
use crate::messages;
use crate::render;
use crate::search::{Answer, AskOptions};

/// Runs the search `f` on the blocking pool once one of `search.max_concurrent`
/// places is free: questions beyond that wait here, not in the blocking pool,
/// which reloads and the crypto store also need.
async fn search<T: Send + 'static, E: std::error::Error + Send + Sync + 'static>(
    bot: &Bot,
    f: impl FnOnce() -> Result<T, E> + Send + 'static,
) -> anyhow::Result<T> {
    let started = std::time::Instant::now();
    let _permit = bot.searches.acquire().await?;
    let result = blocking(f).await;
    bot.metrics.search_took(started.elapsed());
    result
}

/// The reply to `request` (in `msg`, an edit of `edited` when it is one) in
/// `room`, and the search core's answer when it was a question (for the
/// feedback file). Everything it tells is limited to the
/// collections the room sees.
pub(crate) async fn build_reply(
    bot: &Arc<Bot>,
    room: &Room,
    msg: &OriginalSyncRoomMessageEvent,
    edited: Option<&EventId>,
    request: Request,
) -> (Formatted, Option<Answer>) {
    let prefix = bot.config.answer.command_prefix.as_str();
    let scope = bot.rooms.collections(room);
    let is_admin = bot.access.is_admin(msg.sender.as_str());
    let context = match &request {
        Request::Ask(_) | Request::Why(_) if bot.config.answer.follow_ups => {
            conversation::earlier_questions(bot, room, msg, edited).await
        }
        _ => Vec::new(),
    };
    let reply = match request {
        Request::Ask(question) => return ask(bot, question, context, scope).await,
        Request::Why(question) => why(bot, question, context, scope).await,
        Request::Sources => messages::sources(&bot.engine.sources_in(scope.as_deref())),
        Request::Stats => stats(bot, scope.as_deref()),
        Request::Status => messages::status(&status(bot, scope.as_deref()).await),
        Request::Help => messages::help(prefix, is_admin, bot.config.answer.follow_ups),
        Request::Reload | Request::Gaps if !is_admin => {
            let command = if request == Request::Reload {
                "reload"
            } else {
                "gaps"
            };
            info!(sender = %msg.sender, command, "refused an admin command from a non-admin");
            messages::admin_only(prefix, command)
        }
        Request::Reload => reload(bot, msg, scope.as_deref()).await,
        Request::Gaps => gaps(bot, room).await,
        Request::MissingQuestion(cmd) => messages::missing_question(prefix, cmd),
        Request::Empty => messages::empty_question(prefix),
        Request::Unknown(cmd) => messages::unknown_command(prefix, &cmd),
    };
    (reply, None)
}

/// A question (following up on `context`, the earlier questions of its
/// thread): the answer (or refusal) over the room's collections `scope`.
async fn ask(
    bot: &Bot,
    question: String,
    context: Vec<String>,
    scope: Option<Vec<String>>,
) -> (Formatted, Option<Answer>) {
    let engine = bot.engine.clone();
    let options = AskOptions {
        collections: scope.clone(),
        passages: None,
        words_only: !semantic_allowed(bot),
        context,
    };
    match search(bot, move || engine.ask_with(&question, &options)).await {
        Ok(answer) => {
            bot.counters.count(scope.as_deref(), |c| {
                if answer.answered {
                    c.answered += 1;
                } else {
                    c.refused += 1;
                }
            });
            let outcome = if answer.answered {
                metrics::Outcome::Answered
            } else {
                metrics::Outcome::Refused
            };
            bot.metrics.question(outcome);
            (render::matrix(&answer), Some(answer))
        }
        Err(err) => (search_failed(bot, scope.as_deref(), &err), None),
    }
}

/// Whether this question may use the semantic model: only spends its budget
/// when the model is loaded.
fn semantic_allowed(bot: &Bot) -> bool {
    bot.engine.has_semantic_model() && bot.limits.semantic()
}

/// `!why`: how the question (following up on `context`) was understood and
/// scored, over `scope`.
async fn why(
    bot: &Bot,
    question: String,
    context: Vec<String>,
    scope: Option<Vec<String>>,
) -> Formatted {
    let engine = bot.engine.clone();
    let options = AskOptions {
        collections: scope.clone(),
        passages: None,
        words_only: !semantic_allowed(bot),
        context,
    };
    match search(bot, move || engine.explain_with(&question, &options)).await {
        Ok(explanation) => messages::why(&explanation),
        Err(err) => search_failed(bot, scope.as_deref(), &err),
    }
}

/// `!stats`: the bot's counters and the totals of the collections in `scope`.
fn stats(bot: &Bot, scope: Option<&[String]>) -> Formatted {
    let counters = bot.counters.seen_by(scope);
    let index = super::status::index_stats(&bot.engine, &bot.reload_state().reloads, scope);
    messages::stats(&counters, &index, bot.started.elapsed())
}

/// `!reload` (admins): rebuilds the index, and tells it in the room's terms —
/// its collections' files and problems.
async fn reload(
    bot: &Bot,
    msg: &OriginalSyncRoomMessageEvent,
    scope: Option<&[String]>,
) -> Formatted {
    let engine = bot.engine.clone();
    match blocking(move || engine.rebuild()).await {
        Ok(report) => {
            info!(%report, by = %msg.sender, "index rebuilt");
            super::watch::record_asked(bot, &report, scope);
            let stats = bot.engine.stats_in(scope);
            let problems: Vec<String> = bot
                .engine
                .knowledge_errors_in(scope)
                .iter()
                .map(crate::render::problem)
                .collect();
            let took = scope.is_none().then_some(report.millis);
            messages::reload_done(stats.snippets, stats.files, took, &problems)
        }
        Err(err) => {
            error!(error = %format!("{err:#}"), "rebuilding the index failed");
            messages::reload_failed()
        }
    }
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
    let running = super::status::Running {
        reload: bot.reload_state().clone(),
        uptime: bot.started.elapsed(),
    };
    super::status::summary(&bot.client, &bot.engine, collections, crypto, Some(running))
}

/// `!gaps`: the feedback file's most refused or down-voted questions: those
/// asked in `room`; in the admin room, those of every room whose collections
/// it sees (all rooms when it sees every collection).
async fn gaps(bot: &Bot, room: &Room) -> Formatted {
    if bot.feedback.is_none() {
        return messages::feedback_off();
    }
    let path = bot.config.feedback_path();
    let (days, limit) = (
        bot.config.feedback.gaps_days,
        bot.config.feedback.gaps_limit,
    );
    let admin = bot.admin_room.as_deref() == Some(room.room_id());
    let only = (!admin).then(|| room.room_id().as_str().to_owned());
    let keep = move |r: &feedback::Record| only.as_ref().is_none_or(|room| r.room() == room);
    match blocking(move || feedback::read_where(&path, keep)).await {
        Ok((mut records, _)) => {
            if admin && let Some(seen) = bot.admin_scope() {
                records.retain(within(bot, &seen));
            }
            messages::gaps(
                &feedback::gaps(&records, feedback::since_days(days), limit),
                days,
            )
        }
        Err(err) => {
            error!(error = %format!("{err:#}"), "reading the feedback file failed");
            messages::gaps_failed()
        }
    }
}

/// Whether a feedback record is of a room that sees only collections in
/// `seen`: what another room was asked is its collections' business. Each
/// room's scope is looked up once.
fn within<'b>(bot: &'b Bot, seen: &'b [String]) -> impl FnMut(&feedback::Record) -> bool + 'b {
    let mut rooms: std::collections::HashMap<String, bool> = std::collections::HashMap::new();
    move |r| {
        *rooms.entry(r.room().to_owned()).or_insert_with(|| {
            let scope = matrix_sdk::ruma::RoomId::parse(r.room())
                .ok()
                .and_then(|id| bot.scope_of_id(&id));
            scope.is_some_and(|cols| !cols.is_empty() && cols.iter().all(|c| seen.contains(c)))
        })
    }
}

fn search_failed(bot: &Bot, scope: Option<&[String]>, err: &anyhow::Error) -> Formatted {
    error!(error = %format!("{err:#}"), "search failed");
    bot.metrics.question(metrics::Outcome::Failed);
    bot.counters.count(scope, |c| c.failed += 1);
    messages::search_failed()
}
