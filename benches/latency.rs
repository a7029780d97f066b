//! Send→reply latency of the bot over a real local Synapse: a person's client
//! sends a question and long-polls `/sync` until the bot's reply arrives.
//! Reports median and p95 over 100 questions, in a plain room and in an
//! end-to-end encrypted one. `cargo bench --bench latency`
//! (`LATENCY_QUESTIONS=N` to change the count, `LATENCY_ROOMS=encrypted` or
//! `plain` for one kind of room only).
#![recursion_limit = "256"]

use std::path::Path;
use std::time::{Duration, Instant};

// Only its percentiles: the same definition as the other benches'.
#[allow(dead_code)]
mod common;

use citebot::bot::human::Human;
use citebot::bot::synapse::{Synapse, SynapseOptions};
use citebot::config::{Config, Secret};
use citebot::search::Engine;
use tokio_util::sync::CancellationToken;

const QUESTIONS: &[&str] = &[
    "When is the emperor visiting Mongolia?",
    "What is the capital of France?",
    "Who did the Mongolian foreign minister meet in Japan?",
    "Who funded the new airport in Ulaanbaatar?",
];

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // `cargo bench` passes --bench; nothing else to parse.
    let n: usize = std::env::var("LATENCY_QUESTIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100);
    let tmp = tempfile::TempDir::with_prefix("citebot-latency-")?;
    let hs = Synapse::start(SynapseOptions {
        dir: tmp.path().join("synapse"),
        port: None,
        strict_ratelimits: false,
    })
    .await?;
    hs.register("citebot", "pw-bot", false).await?;
    hs.register("asker", "pw-asker", false).await?;

    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let knowledge = root.join("knowledge");
    let mut config: Config = toml::from_str(&format!(
        "[matrix]\nhomeserver = {:?}\nuser = \"citebot\"\ndata_dir = {:?}\n\
         [access]\nallowed_inviters = [\"@*:localhost\"]\n\
         [limits]\nuser_burst = 100000\nuser_per_minute = 100000\nroom_burst = 100000\nroom_per_minute = 100000\n\
         [search]\nknowledge_dir = {:?}\nindex_dir = \"\"\n",
        hs.url,
        tmp.path().join("bot").display().to_string(),
        knowledge.display().to_string()
    ))?;
    config.matrix.password = Secret("pw-bot".into());
    config.validate()?;
    if std::env::var_os("LATENCY_NO_ACK").is_some() {
        config.answer.typing = false;
        config.answer.read_receipts = false;
    }
    let engine = Engine::open(&config.search_settings())?;
    println!(
        "semantic model: {}",
        if engine.has_semantic_model() {
            "on (installed by scripts/model)"
        } else {
            "off (not installed)"
        }
    );
    let shutdown = CancellationToken::new();
    let bot = tokio::spawn(citebot::bot::run(config, engine, shutdown.clone()));

    let bot_id = hs.user_id("citebot");
    let mut asker = Human::login(&hs.url, "asker", "pw-asker").await?;
    let rooms = std::env::var("LATENCY_ROOMS").unwrap_or_else(|_| "plain,encrypted".into());
    for kind in rooms.split(',').map(str::trim).filter(|k| !k.is_empty()) {
        let encrypted = match kind {
            "plain" => false,
            "encrypted" => true,
            other => anyhow::bail!("LATENCY_ROOMS: unknown room kind {other:?}"),
        };
        let room = asker
            .create_room_with(kind, &[bot_id.as_str().try_into()?], true, encrypted)
            .await?;
        asker
            .wait_membership(room.room_id(), &bot_id, "join", Duration::from_secs(60))
            .await?;
        let samples = measure(&mut asker, &room, &bot_id, n).await?;
        report(kind, n, &samples);
    }
    shutdown.cancel();
    bot.await??;
    drop(hs);
    Ok(())
}

/// `n` timed questions (after 5 that warm up caches and, in encrypted
/// rooms, the Megolm session), sorted.
async fn measure(
    asker: &mut Human,
    room: &matrix_sdk::Room,
    bot_id: &str,
    n: usize,
) -> anyhow::Result<Vec<Duration>> {
    let mut samples = Vec::with_capacity(n);
    for i in 0..n + 5 {
        let q = QUESTIONS[i % QUESTIONS.len()];
        let start = Instant::now();
        let id = asker.say(room, q).await?;
        asker
            .reply_from(bot_id, id.as_str(), Duration::from_secs(30))
            .await?;
        if i >= 5 {
            samples.push(start.elapsed());
        }
    }
    samples.sort();
    Ok(samples)
}

fn report(kind: &str, n: usize, samples: &[Duration]) {
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let pct = |p: f64| common::percentile(samples, p);
    println!(
        "{kind} room: send→reply latency over {n} questions: median {:.1} ms, p95 {:.1} ms, min {:.1} ms, max {:.1} ms",
        ms(pct(0.5)),
        ms(pct(0.95)),
        ms(samples[0]),
        ms(samples[samples.len() - 1])
    );
}
