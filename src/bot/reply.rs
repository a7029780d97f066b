//! Sending replies: builds the `m.notice` (thread or plain reply, HTML +
//! plain body, `m.mentions` = the asker) and delivers it, waiting out
//! `M_LIMIT_EXCEEDED` and retrying transient failures, so a reply is never
//! silently dropped; takes a reply back (redacts it) the same way.

use std::time::Duration;

use anyhow::anyhow;
use matrix_sdk::Room;
use matrix_sdk::config::RequestConfig;
use matrix_sdk::ruma::api::client::redact::redact_event;
use matrix_sdk::ruma::api::error::{ErrorKind, RetryAfter};
use matrix_sdk::ruma::assign;
use matrix_sdk::ruma::events::Mentions;
use matrix_sdk::ruma::events::room::message::{
    AddMentions, ForwardThread, OriginalSyncRoomMessageEvent, ReplyWithinThread,
    RoomMessageEventContent,
};
use matrix_sdk::ruma::{EventId, OwnedEventId, OwnedTransactionId};
use tracing::warn;

use crate::config::ReplyMode;
use crate::format::Formatted;
use crate::messages;

/// The reply event for `question`.
pub fn content(
    body: &Formatted,
    question: &OriginalSyncRoomMessageEvent,
    mode: ReplyMode,
) -> RoomMessageEventContent {
    let body = messages::fitted(body.clone());
    let notice = RoomMessageEventContent::notice_html(body.plain, body.html);
    let mut content = match mode {
        ReplyMode::Thread => {
            notice.make_for_thread(question, ReplyWithinThread::No, AddMentions::No)
        }
        ReplyMode::Reply => notice.make_reply_to(question, ForwardThread::Yes, AddMentions::No),
    };
    // Exactly the asker: never re-ping people the question mentioned.
    content.mentions = Some(Mentions::with_user_ids([question.sender.clone()]));
    content
}

/// A transaction ID derived from the question, so a retried send (even after
/// a lost response) is deduplicated by the homeserver instead of doubled.
pub fn transaction_id(question: &OriginalSyncRoomMessageEvent, kind: &str) -> OwnedTransactionId {
    transaction_id_for(&question.event_id, kind)
}

/// The transaction ID of the bot's `kind` of message about `event_id`: the
/// same for every attempt, and only of characters transaction IDs may hold.
pub fn transaction_id_for(event_id: &EventId, kind: &str) -> OwnedTransactionId {
    let id: String = event_id
        .as_str()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
        .collect();
    format!("citebot-{kind}-{id}").into()
}

/// Longest single wait honoured for `M_LIMIT_EXCEEDED`; a server asking for
/// more is retried after this long (and asked again).
const MAX_RATE_LIMIT_WAIT: Duration = Duration::from_secs(60);
/// Give up after this many rate-limit rounds (hours of waiting at most).
const MAX_RATE_LIMIT_ROUNDS: u32 = 200;

/// Why a send failed for good.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// The homeserver or network kept failing: worth trying again later.
    #[error("sending the reply failed after {attempts} attempts")]
    Failed {
        /// Attempts made.
        attempts: u32,
        /// The last error.
        source: anyhow::Error,
    },
    /// The homeserver refused this message (forbidden, too large...): the
    /// same message would be refused again until something changes.
    #[error("the homeserver refused the reply")]
    Refused {
        /// The Matrix error code (`M_FORBIDDEN`...), else the HTTP status.
        code: String,
        /// The homeserver's answer.
        source: anyhow::Error,
    },
}

impl SendError {
    /// Whether the homeserver would refuse the same again whatever happens:
    /// the bot may not (`M_FORBIDDEN`) or the event is gone (`M_NOT_FOUND`).
    pub fn is_final(&self) -> bool {
        matches!(self, SendError::Refused { code, .. } if code == "M_FORBIDDEN" || code == "M_NOT_FOUND")
    }
}

/// How long the server asked us to wait, if this is `M_LIMIT_EXCEEDED`.
pub fn rate_limited(err: &matrix_sdk::Error) -> Option<Duration> {
    match err.client_api_error_kind()? {
        ErrorKind::LimitExceeded(data) => Some(match &data.retry_after {
            Some(RetryAfter::Delay(d)) => *d,
            Some(RetryAfter::DateTime(t)) => t
                .duration_since(std::time::SystemTime::now())
                .unwrap_or_default(),
            None => Duration::from_secs(1),
        }),
        _ => None,
    }
}

pub(crate) fn transient(err: &matrix_sdk::Error) -> bool {
    match err.as_client_api_error() {
        Some(api) => api.status_code.is_server_error(),
        // No Matrix error body: network trouble, timeouts, proxies.
        None => matches!(err, matrix_sdk::Error::Http(_)),
    }
}

/// Sends `content` to `room`, retrying as described in the module doc.
pub async fn send(
    room: &Room,
    content: RoomMessageEventContent,
    txn_id: OwnedTransactionId,
    attempts: u32,
) -> Result<OwnedEventId, SendError> {
    retrying(room, attempts, || async {
        // matrix-sdk's own retry is off so that we see (and log) every
        // M_LIMIT_EXCEEDED and wait exactly what the server asks.
        let sent = room
            .send(content.clone())
            .with_transaction_id(txn_id.clone())
            .with_request_config(RequestConfig::new().disable_retry())
            .await?;
        Ok(sent.response.event_id)
    })
    .await
}

/// Redacts the bot's own event `event` in `room` (with `reason`), retrying as
/// a reply is sent; `txn_id` makes a retried redaction one.
pub async fn redact(
    room: &Room,
    event: &EventId,
    reason: &str,
    txn_id: OwnedTransactionId,
    attempts: u32,
) -> Result<(), SendError> {
    retrying(room, attempts, || async {
        let request = assign!(
            redact_event::v3::Request::new(room.room_id().to_owned(), event.to_owned(), txn_id.clone()),
            { reason: Some(reason.to_owned()) }
        );
        // matrix-sdk's own retry is off, as for a send.
        (room.client().send(request))
            .with_request_config(RequestConfig::new().disable_retry())
            .await?;
        Ok(())
    })
    .await
}

/// Runs `call` until it succeeds: waits out `M_LIMIT_EXCEEDED`, retries
/// transient failures up to `attempts` in all, and gives up at once on a
/// refusal.
async fn retrying<T, F, Fut>(room: &Room, attempts: u32, mut call: F) -> Result<T, SendError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, matrix_sdk::Error>>,
{
    let mut failures = 0;
    let mut rate_rounds = 0;
    loop {
        let err = match call().await {
            Ok(done) => return Ok(done),
            Err(err) => err,
        };
        let wait = if let Some(wait) = rate_limited(&err) {
            rate_rounds += 1;
            if rate_rounds > MAX_RATE_LIMIT_ROUNDS {
                return Err(SendError::Failed {
                    attempts: failures + rate_rounds,
                    source: err.into(),
                });
            }
            warn!(room = %room.room_id(), wait_ms = wait.as_millis() as u64, "M_LIMIT_EXCEEDED; waiting, then resending");
            wait.min(MAX_RATE_LIMIT_WAIT)
        } else if transient(&err) && failures + 1 < attempts {
            failures += 1;
            let wait = Duration::from_millis(250 << failures.min(6));
            warn!(room = %room.room_id(), error = %err, attempt = failures, "send failed; retrying");
            wait
        } else if transient(&err) {
            return Err(SendError::Failed {
                attempts: failures + 1,
                source: anyhow!(err).context(format!("sending to {}", room.room_id())),
            });
        } else {
            let code = match (err.client_api_error_kind(), err.as_client_api_error()) {
                (Some(kind), _) => kind.errcode().to_string(),
                (None, Some(api)) => api.status_code.to_string(),
                (None, None) => "no answer".to_owned(),
            };
            return Err(SendError::Refused {
                code,
                source: anyhow!(err).context(format!("sending to {}", room.room_id())),
            });
        };
        // Not cancelled by shutdown: the shutdown waits (bounded) for
        // in-flight replies rather than dropping them.
        tokio::time::sleep(wait).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::tests::encrypted_event_bytes;

    /// A question with the longest IDs there may be (the reply names its
    /// event and its sender, and is in the longest room).
    fn question(in_thread: bool) -> OriginalSyncRoomMessageEvent {
        let mut content = serde_json::json!({"msgtype": "m.text", "body": "?"});
        if in_thread {
            content["m.relates_to"] = serde_json::json!({
                "rel_type": "m.thread",
                "event_id": format!("${}", "t".repeat(43)),
                "is_falling_back": true,
                "m.in_reply_to": {"event_id": format!("${}", "t".repeat(43))},
            });
        }
        serde_json::from_value(serde_json::json!({
            "type": "m.room.message",
            "event_id": format!("${}", "q".repeat(43)),
            "sender": format!("@{}:example.org", "u".repeat(255 - "@:example.org".len())),
            "origin_server_ts": 1,
            "content": content,
        }))
        .unwrap()
    }

    #[test]
    fn the_longest_replies_fit_in_one_encrypted_event() {
        let whole = |f: &Formatted| messages::fitted(f.clone()) == *f;
        for (name, body) in messages::tests::longest_replies(whole) {
            for (mode, in_thread) in [
                (ReplyMode::Thread, false),
                (ReplyMode::Thread, true),
                (ReplyMode::Reply, false),
                (ReplyMode::Reply, true),
            ] {
                let content = content(&body, &question(in_thread), mode);
                let bytes = encrypted_event_bytes(&content);
                assert!(bytes <= 65_536, "{name}, {mode:?}: {bytes} bytes");
            }
        }
    }
}
