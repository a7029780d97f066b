//! End-to-end encryption trust: on start, makes the bot's device trusted by
//! its own cross-signing identity (bootstrapping it on first login, or
//! recovering it with the recovery key after a redeploy), turns on
//! server-side key backup and recovery, saves and prints the recovery key
//! once, and reports the device's crypto status (`citebot status`,
//! `!status`).

use std::path::{Path, PathBuf};

use anyhow::Context;
use matrix_sdk::Client;
use matrix_sdk::encryption::recovery::RecoveryState;
use matrix_sdk::encryption::{BackupDownloadStrategy, EncryptionSettings};
use matrix_sdk::ruma::api::client::uiaa;
use tracing::{info, warn};

use crate::config::MatrixConfig;
use crate::messages;

/// Name of the file in `matrix.data_dir` that keeps the recovery key.
pub const RECOVERY_KEY_FILE: &str = "recovery-key.txt";

/// Where the recovery key is saved.
pub fn recovery_key_path(data_dir: &Path) -> PathBuf {
    data_dir.join(RECOVERY_KEY_FILE)
}

/// The client's encryption settings: cross-signing and backup are set up
/// explicitly by [`establish_trust`] (so the recovery key can be saved and
/// printed); a message that can't be decrypted fetches its key from the
/// backup (useful after a recovery: keys sent to the old device are there).
pub fn encryption_settings() -> EncryptionSettings {
    EncryptionSettings {
        auto_enable_cross_signing: false,
        auto_enable_backups: false,
        backup_download_strategy: BackupDownloadStrategy::AfterDecryptionFailure,
    }
}

fn recovery_name(state: RecoveryState) -> &'static str {
    match state {
        RecoveryState::Enabled => "enabled",
        RecoveryState::Disabled => "disabled",
        RecoveryState::Incomplete => "incomplete",
        RecoveryState::Unknown => "unknown",
    }
}

/// Reads the crypto status from the local store (no requests beyond what
/// the SDK's start-up tasks do).
pub async fn status(client: &Client) -> anyhow::Result<messages::Encryption> {
    let enc = client.encryption();
    enc.wait_for_e2ee_initialization_tasks().await;
    let own = enc
        .get_own_device()
        .await
        .context("reading the bot's own device")?;
    Ok(messages::Encryption {
        cross_signed: own.is_some_and(|d| d.is_cross_signed_by_owner()),
        backup_enabled: enc.backups().are_enabled().await,
        recovery: recovery_name(enc.recovery().state()),
    })
}

/// Makes this device trusted, as described in the module doc. Errors are
/// for the caller to log: a bot that can't set up trust still answers, its
/// replies just carry an "unverified device" warning in clients.
pub async fn establish_trust(client: &Client, cfg: &MatrixConfig) -> anyhow::Result<()> {
    let enc = client.encryption();
    enc.wait_for_e2ee_initialization_tasks().await;
    let user_id = client
        .user_id()
        .context("client is not logged in")?
        .to_owned();
    let complete = enc
        .cross_signing_status()
        .await
        .is_some_and(|s| s.is_complete());
    if !complete {
        // Ask the server (not the local store, which may be brand new)
        // whether the account already has an identity.
        let existing = enc
            .request_user_identity(&user_id)
            .await
            .context("asking the homeserver for the bot's cross-signing identity")?;
        if existing.is_some() {
            let Some(key) = recovery_key(cfg)? else {
                warn!("{}", messages::recovery_key_needed());
                return Ok(());
            };
            enc.recovery().recover(key.trim()).await.context(
                "matrix.recovery_key (or CITEBOT_RECOVERY_KEY / --recovery-key): recovering the bot's identity with it failed; is it this account's key?",
            )?;
            info!(
                "recovered the bot's cross-signing identity and key backup with the recovery key"
            );
            return Ok(());
        }
        bootstrap_cross_signing(client, cfg).await?;
        info!("created a cross-signing identity for the bot; its device is signed by it");
    }
    if !enc
        .secret_storage()
        .is_enabled()
        .await
        .context("checking whether recovery is set up")?
    {
        let key = enc
            .recovery()
            .enable()
            .await
            .context("enabling key backup and recovery")?;
        let path = recovery_key_path(&cfg.data_dir);
        save_recovery_key(&path, &key)?;
        // Shown once, and only on a terminal (never logged): a service's
        // output ends up in a journal others may read.
        if std::io::IsTerminal::is_terminal(&std::io::stdout()) {
            println!("{}", messages::recovery_key_created(&key, &path));
            warn!(file = %path.display(), "a new recovery key was created and printed once; keep it somewhere safe");
        } else {
            warn!(file = %path.display(), "a new recovery key was created; it is in this file only (not printed: the output is not a terminal); copy it somewhere safe");
        }
    }
    Ok(())
}

/// The recovery key from the config (CLI/env/file key), else from the file
/// an earlier run saved in the data dir.
fn recovery_key(cfg: &MatrixConfig) -> anyhow::Result<Option<String>> {
    if let Some(key) = cfg.recovery_key.get() {
        return Ok(Some(key.to_owned()));
    }
    let path = recovery_key_path(&cfg.data_dir);
    match std::fs::read_to_string(&path) {
        Ok(text) if !text.trim().is_empty() => Ok(Some(text.trim().to_owned())),
        Ok(_) => Ok(None),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(err) => Err(err).with_context(|| format!("reading {}", path.display())),
    }
}

/// Uploads new cross-signing keys, answering the server's interactive auth
/// with the bot's password (Synapse lets a first upload through without it).
async fn bootstrap_cross_signing(client: &Client, cfg: &MatrixConfig) -> anyhow::Result<()> {
    let enc = client.encryption();
    let Err(err) = enc.bootstrap_cross_signing(None).await else {
        return Ok(());
    };
    let Some(uiaa_info) = err.as_uiaa_response() else {
        return Err(err).context("uploading the bot's cross-signing keys");
    };
    let password = cfg.password.get().context(
        "matrix.password: the homeserver wants the password to set up cross-signing (an access-token login can't answer that)",
    )?;
    let user_id = client.user_id().context("client is not logged in")?;
    let mut auth = uiaa::Password::new(
        uiaa::UserIdentifier::Matrix(uiaa::MatrixUserIdentifier::new(user_id.to_string())),
        password.to_owned(),
    );
    auth.session = uiaa_info.session.clone();
    enc.bootstrap_cross_signing(Some(uiaa::AuthData::Password(auth)))
        .await
        .context("uploading the bot's cross-signing keys (with password auth)")
}

/// Writes the key readable by the owner only: with it, anyone can take over
/// the bot's identity and read its key backup.
fn save_recovery_key(path: &Path, key: &str) -> anyhow::Result<()> {
    crate::files::write_private(path, format!("{key}\n").as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(dir: &Path, key: &str) -> MatrixConfig {
        let mut c: crate::config::Config = toml::from_str(&format!(
            "[matrix]\nhomeserver = \"http://h\"\nuser = \"a\"\ndata_dir = {:?}\n",
            dir.display().to_string()
        ))
        .unwrap();
        c.matrix.recovery_key = crate::config::Secret(key.into());
        c.matrix
    }

    #[test]
    fn recovery_key_comes_from_config_first_then_the_saved_file() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(recovery_key(&cfg(dir.path(), "")).unwrap(), None);
        let path = recovery_key_path(dir.path());
        save_recovery_key(&path, "EsT1 abcd").unwrap();
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "owner-only");
        assert_eq!(
            recovery_key(&cfg(dir.path(), "")).unwrap().as_deref(),
            Some("EsT1 abcd")
        );
        assert_eq!(
            recovery_key(&cfg(dir.path(), "EsTz")).unwrap().as_deref(),
            Some("EsTz")
        );
    }
}
