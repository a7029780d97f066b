//! A local, loopback-only Synapse for the demo, the integration tests and the
//! latency bench: configured by `scripts/synapse`, run in its own process
//! group (with a watchdog that takes the group down when our process dies,
//! however it dies), and users registered through the shared-secret admin API.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use hmac::{Hmac, Mac};
use matrix_sdk::reqwest;
use serde::Deserialize;
use tokio::process::{Child, Command};

/// Where `scripts/synapse` lives: `CITEBOT_SYNAPSE_SCRIPT`, else this checkout's.
pub fn script_path() -> PathBuf {
    std::env::var_os("CITEBOT_SYNAPSE_SCRIPT")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/synapse"))
}

/// A free TCP port on 127.0.0.1 (free when asked; Synapse binds it right after).
pub fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// How to start the homeserver.
#[derive(Debug, Clone)]
pub struct SynapseOptions {
    /// State directory (config, SQLite database, logs).
    pub dir: PathBuf,
    /// Port on 127.0.0.1; `None` picks a free one.
    pub port: Option<u16>,
    /// Keep Synapse's default message rate limits (to provoke M_LIMIT_EXCEEDED).
    pub strict_ratelimits: bool,
}

/// A user created by [`Synapse::register`].
#[derive(Debug, Clone, Deserialize)]
pub struct Registered {
    /// Full user ID.
    pub user_id: String,
    /// Access token of the device registration created.
    pub access_token: String,
}

/// A running Synapse; stopped (whole process group) on drop.
pub struct Synapse {
    /// Base URL, `http://127.0.0.1:PORT`.
    pub url: String,
    /// Server name (user IDs end in `:localhost`).
    pub server_name: String,
    /// State directory.
    pub dir: PathBuf,
    secret: String,
    child: Option<Child>,
}

type HmacSha1 = Hmac<sha1::Sha1>;

/// A fresh HTTP client per call: a `Synapse` may outlive the tokio runtime
/// that started it (one per test binary, shared by every test's runtime), and
/// pooled connections are tied to their runtime.
fn http() -> reqwest::Client {
    reqwest::Client::new()
}

impl Synapse {
    /// Installs (if needed), configures and starts Synapse, and waits until it
    /// answers.
    pub async fn start(opts: SynapseOptions) -> anyhow::Result<Synapse> {
        let script = script_path();
        anyhow::ensure!(
            script.is_file(),
            "{} is missing: starting a Synapse (`citebot demo`, the tests) needs a checkout of citebot, or CITEBOT_SYNAPSE_SCRIPT naming its scripts/synapse",
            script.display()
        );
        let port = match opts.port {
            Some(p) => p,
            None => free_port()?,
        };
        std::fs::create_dir_all(&opts.dir)
            .with_context(|| format!("creating {}", opts.dir.display()))?;
        let mut config = Command::new("bash");
        config
            .arg(&script)
            .arg("config")
            .arg(&opts.dir)
            .arg(port.to_string());
        if opts.strict_ratelimits {
            config.arg("--strict-ratelimits");
        }
        let status = config
            .status()
            .await
            .with_context(|| format!("running {}", script.display()))?;
        if !status.success() {
            bail!("{} config failed ({status})", script.display());
        }
        let secret = std::fs::read_to_string(opts.dir.join("registration_secret"))
            .context("reading the registration secret")?
            .trim()
            .to_string();
        let python = Command::new("bash")
            .arg(&script)
            .arg("python")
            .output()
            .await?;
        let python = String::from_utf8(python.stdout)?.trim().to_string();

        // The watchdog shell shares Synapse's process group and kills the
        // group as soon as our process is gone: no orphans even if a test
        // panics or the process is SIGKILLed (Drop never runs for statics).
        let watchdog = r#"
            "$PYTHON" -m synapse.app.homeserver --config-path "$CONFIG" &
            child=$!
            while kill -0 "$WATCH" 2>/dev/null && kill -0 "$child" 2>/dev/null; do sleep 0.3; done
            kill -TERM 0
        "#;
        let config_path = opts.dir.join("homeserver.yaml");
        let mut cmd = Command::new("bash");
        cmd.arg("-c")
            .arg(watchdog)
            .env("PYTHON", &python)
            .env("CONFIG", &config_path)
            .env("WATCH", std::process::id().to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(
                std::fs::File::create(opts.dir.join("stderr.log"))
                    .context("creating stderr.log")?,
            ))
            .process_group(0)
            .kill_on_drop(false);
        let child = cmd.spawn().context("starting Synapse")?;
        let mut synapse = Synapse {
            url: format!("http://127.0.0.1:{port}"),
            server_name: "localhost".into(),
            dir: opts.dir.clone(),
            secret,
            child: Some(child),
        };
        synapse.wait_ready(Duration::from_secs(90)).await?;
        Ok(synapse)
    }

    async fn wait_ready(&mut self, limit: Duration) -> anyhow::Result<()> {
        let deadline = Instant::now() + limit;
        let url = format!("{}/_matrix/client/versions", self.url);
        loop {
            if let Ok(r) = http().get(&url).send().await
                && r.status().is_success()
            {
                return Ok(());
            }
            if let Some(child) = &mut self.child
                && let Some(status) = child.try_wait()?
            {
                bail!(
                    "Synapse exited ({status}); see {}/homeserver.log and stderr.log",
                    self.dir.display()
                );
            }
            if Instant::now() > deadline {
                bail!("Synapse did not answer on {} within {limit:?}", self.url);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Full user ID for a localpart.
    pub fn user_id(&self, localpart: &str) -> String {
        format!("@{localpart}:{}", self.server_name)
    }

    /// Registers a user with the shared secret (`/_synapse/admin/v1/register`).
    pub async fn register(
        &self,
        localpart: &str,
        password: &str,
        admin: bool,
    ) -> anyhow::Result<Registered> {
        #[derive(Deserialize)]
        struct Nonce {
            nonce: String,
        }
        let url = format!("{}/_synapse/admin/v1/register", self.url);
        let nonce: Nonce = serde_json::from_slice(
            &http()
                .get(&url)
                .send()
                .await?
                .error_for_status()?
                .bytes()
                .await?,
        )?;
        let mut mac = HmacSha1::new_from_slice(self.secret.as_bytes())?;
        let role = if admin { "admin" } else { "notadmin" };
        mac.update(format!("{}\0{localpart}\0{password}\0{role}", nonce.nonce).as_bytes());
        let mac: String = mac
            .finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let body = serde_json::json!({
            "nonce": nonce.nonce, "username": localpart, "password": password,
            "admin": admin, "mac": mac,
        });
        let resp = http().post(&url).body(body.to_string()).send().await?;
        let status = resp.status();
        let bytes = resp.bytes().await?;
        if !status.is_success() {
            bail!(
                "registering {localpart}: {status} {}",
                String::from_utf8_lossy(&bytes)
            );
        }
        Ok(serde_json::from_slice(&bytes)?)
    }

    /// Sets a per-user message rate limit (admin API), e.g. to provoke
    /// `M_LIMIT_EXCEEDED` for one user on an otherwise relaxed server.
    pub async fn override_ratelimit(
        &self,
        admin_token: &str,
        user_id: &str,
        messages_per_second: u32,
        burst_count: u32,
    ) -> anyhow::Result<()> {
        let url = format!(
            "{}/_synapse/admin/v1/users/{user_id}/override_ratelimit",
            self.url
        );
        let body = serde_json::json!({"messages_per_second": messages_per_second, "burst_count": burst_count});
        let resp = http()
            .post(&url)
            .bearer_auth(admin_token)
            .body(body.to_string())
            .send()
            .await?;
        if !resp.status().is_success() {
            bail!(
                "override_ratelimit: {} {}",
                resp.status(),
                resp.text().await.unwrap_or_default()
            );
        }
        Ok(())
    }

    /// GET on the admin API, as JSON.
    async fn admin_get(&self, admin_token: &str, path: &str) -> anyhow::Result<serde_json::Value> {
        let resp = http()
            .get(format!("{}{path}", self.url))
            .bearer_auth(admin_token)
            .send()
            .await?
            .error_for_status()?;
        Ok(serde_json::from_slice(&resp.bytes().await?)?)
    }

    /// Device IDs of `user_id` (admin API).
    pub async fn devices(&self, admin_token: &str, user_id: &str) -> anyhow::Result<Vec<String>> {
        let body = self
            .admin_get(
                admin_token,
                &format!("/_synapse/admin/v2/users/{user_id}/devices"),
            )
            .await?;
        Ok(body["devices"]
            .as_array()
            .map(|d| {
                d.iter()
                    .filter_map(|d| d["device_id"].as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default())
    }

    /// Deletes a device of `user_id` (admin API): its access token stops
    /// working at once, as after a logout.
    pub async fn delete_device(
        &self,
        admin_token: &str,
        user_id: &str,
        device_id: &str,
    ) -> anyhow::Result<()> {
        http()
            .delete(format!(
                "{}/_synapse/admin/v2/users/{user_id}/devices/{device_id}",
                self.url
            ))
            .bearer_auth(admin_token)
            .send()
            .await?
            .error_for_status()?;
        Ok(())
    }

    /// Member user IDs of a room (admin API), whatever our own membership.
    pub async fn room_members(
        &self,
        admin_token: &str,
        room_id: &str,
    ) -> anyhow::Result<Vec<String>> {
        let body = self
            .admin_get(
                admin_token,
                &format!("/_synapse/admin/v1/rooms/{room_id}/members"),
            )
            .await?;
        Ok(body["members"]
            .as_array()
            .map(|m| {
                m.iter()
                    .filter_map(|m| m.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default())
    }

    /// Stops the whole process group (SIGTERM, then SIGKILL).
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        if let Some(pid) = child.id() {
            let pgid = pid as libc::pid_t;
            // SAFETY: kill(2) with a negative pid signals our own child's group.
            unsafe { libc::kill(-pgid, libc::SIGTERM) };
            let deadline = Instant::now() + Duration::from_secs(5);
            while Instant::now() < deadline {
                if matches!(child.try_wait(), Ok(Some(_))) {
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            // SAFETY: as above; the group may already be gone (ESRCH is fine).
            unsafe { libc::kill(-pgid, libc::SIGKILL) };
        }
        let _ = child.start_kill();
    }
}

impl Drop for Synapse {
    fn drop(&mut self) {
        self.stop();
    }
}
