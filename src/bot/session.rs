//! Login and session persistence: builds the matrix-sdk client on its SQLite
//! store, restores the saved session (same device on every start), or logs in
//! once with a password or an access token and saves the session next to the
//! store.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use matrix_sdk::authentication::matrix::MatrixSession;
use matrix_sdk::{Client, SessionMeta, SessionTokens};
use serde::{Deserialize, Serialize};
use tracing::info;

use crate::config::MatrixConfig;

/// What is saved in `data_dir/session.json`.
#[derive(Serialize, Deserialize)]
struct SavedSession {
    homeserver: String,
    #[serde(flatten)]
    session: MatrixSession,
}

/// Path of the session file inside the data dir.
pub fn session_path(data_dir: &Path) -> PathBuf {
    data_dir.join("session.json")
}

fn store_path(data_dir: &Path) -> PathBuf {
    data_dir.join("store")
}

/// Sets aside the session and the store of a login the homeserver rejected,
/// so the next [`connect`] logs in as a new device on a new store (the old
/// store's keys belong to a device that no longer exists). They are kept under
/// `data_dir/retired/TIME/`; returns that folder.
pub fn retire(data_dir: &Path) -> anyhow::Result<PathBuf> {
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S%.3fZ").to_string();
    let to = data_dir.join("retired").join(stamp);
    std::fs::create_dir_all(&to).with_context(|| format!("creating {}", to.display()))?;
    for from in [session_path(data_dir), store_path(data_dir)] {
        if let Some(name) = from.file_name()
            && from.exists()
        {
            std::fs::rename(&from, to.join(name))
                .with_context(|| format!("moving {} aside", from.display()))?;
        }
    }
    Ok(to)
}

async fn build_client(cfg: &MatrixConfig) -> anyhow::Result<Client> {
    Client::builder()
        .homeserver_url(&cfg.homeserver)
        .sqlite_store(store_path(&cfg.data_dir), cfg.store_passphrase.get())
        .with_encryption_settings(crate::bot::crypto::encryption_settings())
        .build()
        .await
        .with_context(|| format!("building the Matrix client for {}", cfg.homeserver))
}

/// Returns a logged-in client: restored from `session.json` when present,
/// otherwise a fresh password / access-token login whose session is saved.
pub async fn connect(cfg: &MatrixConfig) -> anyhow::Result<Client> {
    std::fs::create_dir_all(&cfg.data_dir)
        .with_context(|| format!("creating matrix.data_dir {}", cfg.data_dir.display()))?;
    // The session, crypto store and feedback file are the bot's alone.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&cfg.data_dir, std::fs::Permissions::from_mode(0o700))
            .with_context(|| format!("making {} private", cfg.data_dir.display()))?;
    }
    let path = session_path(&cfg.data_dir);
    if path.exists() {
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        let saved: SavedSession =
            serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
        if saved.homeserver != cfg.homeserver {
            bail!(
                "{} belongs to {}, but matrix.homeserver is {}; delete matrix.data_dir to start over",
                path.display(),
                saved.homeserver,
                cfg.homeserver
            );
        }
        let client = build_client(cfg).await?;
        let meta = saved.session.meta.clone();
        client
            .restore_session(saved.session)
            .await
            .context("restoring the saved session")?;
        info!(user = %meta.user_id, device = %meta.device_id, "restored session");
        return Ok(client);
    }

    let session = if let Some(token) = cfg.access_token.get() {
        session_from_token(cfg, token).await?
    } else {
        let password = cfg
            .password
            .get()
            .context("matrix.password: needed for the first login")?;
        // A throwaway client: the real one is built after the device is known,
        // so the store is never tied to a half-finished login.
        let client = Client::builder()
            .homeserver_url(&cfg.homeserver)
            .build()
            .await
            .context("building the login client")?;
        let response = client
            .matrix_auth()
            // A localpart gets the homeserver's name from the server on login.
            .login_username(&cfg.user, password)
            .initial_device_display_name(&cfg.device_name)
            .send()
            .await
            .with_context(|| format!("password login as {}", cfg.user))?;
        MatrixSession::from(&response)
    };
    let client = build_client(cfg).await?;
    let meta = session.meta.clone();
    client
        .restore_session(session.clone())
        .await
        .context("starting the new session")?;
    save(
        &path,
        &SavedSession {
            homeserver: cfg.homeserver.clone(),
            session,
        },
    )?;
    info!(user = %meta.user_id, device = %meta.device_id, "logged in; session saved");
    Ok(client)
}

/// Asks the server who an access token belongs to.
async fn session_from_token(cfg: &MatrixConfig, token: &str) -> anyhow::Result<MatrixSession> {
    let probe = Client::builder()
        .homeserver_url(&cfg.homeserver)
        .build()
        .await
        .context("building the token-check client")?;
    // whoami needs *a* session to send the token; its IDs are replaced below.
    let placeholder = MatrixSession {
        meta: SessionMeta {
            user_id: "@placeholder:invalid".try_into()?,
            device_id: "PLACEHOLDER".into(),
        },
        tokens: SessionTokens {
            access_token: token.to_owned(),
            refresh_token: None,
        },
    };
    probe.restore_session(placeholder).await?;
    let who = probe
        .whoami()
        .await
        .context("matrix.access_token: the server rejected it")?;
    let device_id = who
        .device_id
        .context("matrix.access_token: the token has no device; use a device-bound token")?;
    Ok(MatrixSession {
        meta: SessionMeta {
            user_id: who.user_id,
            device_id,
        },
        tokens: SessionTokens {
            access_token: token.to_owned(),
            refresh_token: None,
        },
    })
}

/// Writes the session readable by the owner only: it holds the access token.
fn save(path: &Path, saved: &SavedSession) -> anyhow::Result<()> {
    crate::files::write_private(path, serde_json::to_string_pretty(saved)?.as_bytes())
}
