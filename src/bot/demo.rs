//! `citebot demo`: one command that starts a local Synapse, registers the bot
//! and a demo user, starts the bot, asks sample questions through Matrix and
//! prints the replies as received, then keeps everything running for a
//! person to try with any Matrix client until Ctrl-C.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use tokio_util::sync::CancellationToken;

use super::human::Human;
use super::synapse::{Synapse, SynapseOptions};
use crate::config::Config;
use crate::search::Engine;

/// Demo settings.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    /// State directory for Synapse and the bot; wiped at start.
    pub dir: PathBuf,
    /// Port on 127.0.0.1 for Synapse.
    pub port: u16,
    /// Questions asked by the demo user.
    pub questions: Vec<String>,
}

impl Default for DemoOptions {
    fn default() -> Self {
        DemoOptions {
            dir: PathBuf::from(".synapse/demo"),
            port: 8008,
            questions: vec![
                "When is the emperor visiting Mongolia?".into(),
                "Who did the Mongolian foreign minister meet in Japan?".into(),
                "What is the capital of France?".into(),
            ],
        }
    }
}

/// Demo user's credentials, printed for people to log in with.
pub const DEMO_USER: &str = "demo";
/// Demo user's password.
pub const DEMO_PASSWORD: &str = "demo-password";

/// Runs the demo until `shutdown` is cancelled (wire it to Ctrl-C).
pub async fn demo(
    opts: DemoOptions,
    engine: Engine,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    if opts.dir.exists() {
        std::fs::remove_dir_all(&opts.dir)
            .with_context(|| format!("clearing {}", opts.dir.display()))?;
    }
    println!(
        "Starting Synapse on 127.0.0.1:{} (first run installs it: a minute or two)...",
        opts.port
    );
    let synapse = Synapse::start(SynapseOptions {
        dir: opts.dir.join("synapse"),
        port: Some(opts.port),
        strict_ratelimits: false,
    })
    .await?;
    let bot_password = format!("citebot-{}", std::process::id());
    synapse.register("citebot", &bot_password, false).await?;
    synapse.register(DEMO_USER, DEMO_PASSWORD, true).await?;
    let bot_id = synapse.user_id("citebot");
    let demo_id = synapse.user_id(DEMO_USER);

    let mut config: Config = toml::from_str(&format!(
        "[matrix]\nhomeserver = {:?}\nuser = \"citebot\"\ndata_dir = {:?}\n\
         [access]\nallowed_inviters = [\"@*:localhost\"]\nadmins = [{:?}]\n",
        synapse.url,
        opts.dir.join("bot").display().to_string(),
        demo_id
    ))?;
    config.matrix.password = crate::config::Secret(bot_password);
    config.validate()?;

    let bot_shutdown = shutdown.child_token();
    let bot = tokio::spawn(super::run(config, engine, bot_shutdown.clone()));

    let mut human = Human::login(&synapse.url, DEMO_USER, DEMO_PASSWORD).await?;
    let room = human
        .create_room("citebot demo", &[bot_id.as_str().try_into()?], false)
        .await?;
    human
        .wait_membership(room.room_id(), &bot_id, "join", Duration::from_secs(60))
        .await?;
    println!(
        "\nThe bot joined room {}. Asking as {demo_id}:\n",
        room.room_id()
    );
    for q in &opts.questions {
        let text = format!("!ask {q}");
        println!("> {text}");
        let id = human.say(&room, &text).await?;
        let reply = human
            .reply_from(&bot_id, id.as_str(), Duration::from_secs(30))
            .await?;
        println!("{}\n", indent(reply.body()));
    }
    println!("Homeserver:  {}", synapse.url);
    println!("Login:       {DEMO_USER} / {DEMO_PASSWORD}   (user ID {demo_id})");
    println!(
        "Room:        {}  (or invite {bot_id} to a new room or DM)",
        room.room_id()
    );
    println!("Press Ctrl-C to stop the bot and Synapse.");

    shutdown.cancelled().await;
    bot_shutdown.cancel();
    match bot.await {
        Ok(result) => result?,
        Err(err) => return Err(err).context("bot task"),
    }
    drop(synapse);
    Ok(())
}

fn indent(s: &str) -> String {
    s.lines()
        .map(|l| format!("  {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}
