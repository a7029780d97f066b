//! Interactive (emoji / SAS) verification of the bot by its admins: requests
//! from users in `access.admins` (to-device or in a room) are accepted, the
//! emojis are logged so the admin can compare them with what their client
//! shows, and the bot confirms its side. Requests from anyone else are
//! cancelled.

use futures_util::StreamExt;
use matrix_sdk::Client;
use matrix_sdk::encryption::verification::{
    SasState, SasVerification, VerificationRequest, VerificationRequestState,
};
use matrix_sdk::ruma::UserId;
use matrix_sdk::ruma::events::key::verification::request::ToDeviceKeyVerificationRequestEvent;
use matrix_sdk::ruma::events::room::message::{MessageType, OriginalSyncRoomMessageEvent};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{info, warn};

use super::access::Access;

/// What a verification flow runs under: who may verify, and the bot's task
/// tracker and shutdown token (a flow in progress ends at shutdown).
#[derive(Clone)]
struct Flows {
    access: Access,
    tasks: TaskTracker,
    shutdown: CancellationToken,
}

/// Registers the handlers for verification requests on `client`.
pub fn install(client: &Client, access: Access, tasks: TaskTracker, shutdown: CancellationToken) {
    let flows = Flows {
        access,
        tasks,
        shutdown,
    };
    let to_device = flows.clone();
    client.add_event_handler(
        move |ev: ToDeviceKeyVerificationRequestEvent, client: Client| {
            let flows = to_device.clone();
            async move {
                start(
                    client,
                    flows,
                    &ev.sender,
                    ev.content.transaction_id.as_str(),
                )
                .await;
            }
        },
    );
    // Element verifies other users in a DM: the request is a room message.
    client.add_event_handler(move |ev: OriginalSyncRoomMessageEvent, client: Client| {
        let flows = flows.clone();
        async move {
            if let MessageType::VerificationRequest(_) = &ev.content.msgtype {
                start(client, flows, &ev.sender, ev.event_id.as_str()).await;
            }
        }
    });
}

async fn start(client: Client, flows: Flows, sender: &UserId, flow_id: &str) {
    let Some(request) = client
        .encryption()
        .get_verification_request(sender, flow_id)
        .await
    else {
        warn!(%sender, flow_id, "verification request not found");
        return;
    };
    if !flows.access.is_admin(sender.as_str()) {
        info!(%sender, "declining a verification request from a user not in access.admins");
        if let Err(err) = request.cancel().await {
            warn!(error = %err, "cancelling the verification request failed");
        }
        return;
    }
    info!(%sender, flow_id, "accepting a verification request from an admin");
    // Off the event handler: the flow needs later syncs to progress.
    let shutdown = flows.shutdown.clone();
    flows.tasks.spawn(async move {
        tokio::select! {
            _ = shutdown.cancelled() => {}
            _ = follow_request(request) => {}
        }
    });
}

async fn follow_request(request: VerificationRequest) {
    if let Err(err) = request.accept().await {
        warn!(error = %err, "accepting the verification request failed");
        return;
    }
    let mut changes = request.changes();
    while let Some(state) = changes.next().await {
        match state {
            VerificationRequestState::Transitioned { verification, .. } => {
                match verification.sas() {
                    Some(sas) => follow_sas(sas).await,
                    None => warn!("only emoji (SAS) verification is supported"),
                }
                return;
            }
            VerificationRequestState::Done | VerificationRequestState::Cancelled(_) => return,
            _ => {}
        }
    }
}

async fn follow_sas(sas: SasVerification) {
    let other = sas.other_user_id().to_owned();
    let device = sas.other_device().device_id().to_owned();
    if let Err(err) = sas.accept().await {
        warn!(error = %err, "accepting the emoji verification failed");
        return;
    }
    let mut changes = sas.changes();
    while let Some(state) = changes.next().await {
        match state {
            SasState::KeysExchanged { emojis, decimals } => {
                let shown = match emojis {
                    Some(e) => e
                        .emojis
                        .iter()
                        .map(|e| format!("{} {}", e.symbol, e.description))
                        .collect::<Vec<_>>()
                        .join(", "),
                    None => format!("{} {} {}", decimals.0, decimals.1, decimals.2),
                };
                // The admin compares these with their client before
                // confirming there; the bot has no one to ask, so it confirms.
                info!(%other, %device, emojis = %shown, "verification: compare these with your client");
                if let Err(err) = sas.confirm().await {
                    warn!(error = %err, "confirming the emoji verification failed");
                    return;
                }
            }
            SasState::Done { .. } => {
                info!(%other, %device, "verification done: the bot and the admin trust each other");
                return;
            }
            SasState::Cancelled(info) => {
                info!(%other, reason = info.reason(), "verification cancelled");
                return;
            }
            _ => {}
        }
    }
}
