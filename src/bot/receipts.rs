//! Read receipts for answered questions, coalesced: at most one receipt a room
//! per second, for the latest question answered there. A receipt is a request to
//! the homeserver, and under load one per question was as many requests as the
//! replies themselves; a receipt says "read up to here", so the latest is enough.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use matrix_sdk::Room;
use matrix_sdk::ruma::api::client::receipt::create_receipt::v3::ReceiptType;
use matrix_sdk::ruma::events::receipt::ReceiptThread;
use matrix_sdk::ruma::{MilliSecondsSinceUnixEpoch, OwnedEventId, OwnedRoomId};
use tokio::sync::Notify;
use tracing::debug;

use super::Bot;

/// How long receipts gather before they are sent.
const EVERY: Duration = Duration::from_secs(1);

/// The receipts waiting to be sent: per room, the latest question answered.
#[derive(Default)]
pub(crate) struct Receipts {
    latest: Mutex<HashMap<OwnedRoomId, (Room, OwnedEventId, MilliSecondsSinceUnixEpoch)>>,
    wake: Notify,
}

impl Receipts {
    /// Notes that the question `event` (sent at `sent`) in `room` was answered.
    pub(crate) fn answered(
        &self,
        room: &Room,
        event: OwnedEventId,
        sent: MilliSecondsSinceUnixEpoch,
    ) {
        let mut latest = self.latest.lock().unwrap_or_else(|e| e.into_inner());
        match latest.get(room.room_id()) {
            // Replies can finish out of order: keep the newest question.
            Some((_, _, at)) if *at > sent => {}
            _ => {
                latest.insert(room.room_id().to_owned(), (room.clone(), event, sent));
            }
        }
        drop(latest);
        self.wake.notify_one();
    }

    /// Sends what is waiting, one receipt a room.
    async fn flush(&self) {
        let due: Vec<_> = self
            .latest
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .drain()
            .map(|(_, v)| v)
            .collect();
        for (room, event, _) in due {
            if let Err(err) = room
                .send_single_receipt(ReceiptType::Read, ReceiptThread::Unthreaded, event)
                .await
            {
                debug!(room = %room.room_id(), error = %err, "read receipt failed");
            }
        }
    }
}

/// Sends the receipts every [`EVERY`] while there are any, until shutdown
/// (sending what is left then).
pub(crate) async fn run(bot: Arc<Bot>) {
    let receipts = &bot.receipts;
    loop {
        tokio::select! {
            _ = bot.shutdown.cancelled() => break,
            _ = receipts.wake.notified() => {}
        }
        tokio::select! {
            _ = bot.shutdown.cancelled() => break,
            _ = tokio::time::sleep(EVERY) => {}
        }
        receipts.flush().await;
    }
    receipts.flush().await;
}
