//! Throughput under load, against the floor: the `citebot` binary and a bare
//! matrix-sdk echo bot (the floor: what any bot on this homeserver can do) each
//! run as their own process on one local Synapse, while 20 real matrix-sdk
//! clients, each in a new room of its own (plain and encrypted, half each), ask
//! questions at rising rates.
//!
//! For each rate: questions answered, lost (no reply within 60 s of the last
//! question), replies per second, reply latency (p50/p95, sent to seen by the
//! asker), and the bot process's CPU time and peak RSS; then citebot's figures
//! as a share of the floor's. `cargo bench --bench load`
//! (`LOAD_ROOMS=N`, `LOAD_RATES=2,5,10,20` questions per second in all,
//! `LOAD_SECONDS=S` per rate; `LOAD_KEEP=1` keeps the logs;
//! `LOAD_SEMANTIC_MODEL=DIR` ranks with the semantic model in DIR, `""` by
//! words alone; unset, as `citebot` does by default).
#![recursion_limit = "256"]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

// Only its percentiles: the same definition as the other benches'.
#[allow(dead_code)]
mod common;

use citebot::bot::human::Human;
use citebot::bot::synapse::{Synapse, SynapseOptions};
use matrix_sdk::config::SyncSettings;
use matrix_sdk::ruma::OwnedEventId;
use matrix_sdk::ruma::events::room::member::StrippedRoomMemberEvent;
use matrix_sdk::ruma::events::room::message::{
    AddMentions, ForwardThread, MessageType, OriginalSyncRoomMessageEvent, RoomMessageEventContent,
};
use matrix_sdk::{Client, Room, RoomState};

const QUESTIONS: &[&str] = &[
    "When is the emperor visiting Mongolia?",
    "Who did the Mongolian foreign minister meet in Japan?",
    "What is the third neighbour policy?",
    "Who funded the new airport in Ulaanbaatar?",
    "What is the capital of France?",
];

/// Where the bench itself is re-run as the echo bot.
const ROLE: &str = "CITEBOT_LOAD_ROLE";

fn main() -> anyhow::Result<()> {
    let runtime = tokio::runtime::Runtime::new()?;
    if std::env::var(ROLE).as_deref() == Ok("echo") {
        return runtime.block_on(echo_bot());
    }
    runtime.block_on(bench())
}

/// One rate's figures for one bot.
struct Step {
    rate: f64,
    asked: usize,
    answered: usize,
    /// Replies per second, from the first question to the last reply.
    throughput: f64,
    p50: Duration,
    p95: Duration,
    cpu: Duration,
    peak_rss_mb: f64,
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

async fn bench() -> anyhow::Result<()> {
    let rooms: usize = env_or("LOAD_ROOMS", 20);
    let seconds: f64 = env_or("LOAD_SECONDS", 10.0);
    let rates: Vec<f64> = std::env::var("LOAD_RATES")
        .unwrap_or_else(|_| "2,5,10,20".into())
        .split(',')
        .filter_map(|r| r.trim().parse().ok())
        .collect();
    let tmp = tempfile::TempDir::with_prefix("citebot-load-")?;
    let hs = Synapse::start(SynapseOptions {
        dir: tmp.path().join("synapse"),
        port: None,
        strict_ratelimits: false,
    })
    .await?;
    println!(
        "{rooms} rooms (half encrypted), rates {rates:?} questions/s, {seconds} s each, on {} cores",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    let mut results = Vec::new();
    for bot in ["echo", "citebot"] {
        hs.register(bot, "pw-bot", false).await?;
        let mut child = start_bot(bot, &hs, tmp.path())?;
        let steps = drive(&hs, bot, rooms, &rates, seconds, child.id().unwrap_or(0)).await;
        child.kill().await?;
        let steps = steps?;
        for s in &steps {
            print_step(bot, s);
        }
        results.push(steps);
    }
    if std::env::var_os("LOAD_KEEP").is_some() {
        // The homeserver's log and each bot's, for counting requests.
        println!("kept {}", tmp.keep().display());
    }
    println!("citebot against the floor (echo bot), per rate:");
    for (c, e) in results[1].iter().zip(&results[0]) {
        println!(
            "  {:>5.1} q/s: throughput {:.2}× (goal ≥ 0.9×), p95 {:.2}× (goal ≤ 1.2×), lost {} (goal 0)",
            c.rate,
            c.throughput / e.throughput.max(f64::EPSILON),
            c.p95.as_secs_f64() / e.p95.as_secs_f64().max(f64::EPSILON),
            c.asked - c.answered
        );
    }
    Ok(())
}

fn print_step(bot: &str, s: &Step) {
    println!(
        "{bot:>8} {:>5.1} q/s: answered {}/{} (lost {}), {:.2} replies/s, p50 {:.0} ms, p95 {:.0} ms, bot CPU {:.2} s, peak RSS {:.0} MB",
        s.rate,
        s.answered,
        s.asked,
        s.asked - s.answered,
        s.throughput,
        s.p50.as_secs_f64() * 1000.0,
        s.p95.as_secs_f64() * 1000.0,
        s.cpu.as_secs_f64(),
        s.peak_rss_mb
    );
}

/// Starts the bot `bot` as a process of its own: the `citebot` binary with a
/// config for this homeserver, or this bench re-run as the echo bot.
fn start_bot(bot: &str, hs: &Synapse, tmp: &Path) -> anyhow::Result<tokio::process::Child> {
    let data_dir = tmp.join(bot);
    std::fs::create_dir_all(&data_dir)?;
    let mut command = if bot == "citebot" {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let config = data_dir.join("config.toml");
        std::fs::write(
            &config,
            format!(
                "[matrix]\nhomeserver = {:?}\nuser = \"citebot\"\npassword = \"pw-bot\"\ndata_dir = {:?}\n\
                 [access]\nallowed_inviters = [\"@*:localhost\"]\n\
                 [limits]\nuser_burst = 100000\nuser_per_minute = 100000\nroom_burst = 100000\nroom_per_minute = 100000\n\
                 [search]\nknowledge_dir = {:?}\nindex_dir = {:?}\n{}",
                hs.url,
                data_dir.join("state").display().to_string(),
                root.join("knowledge").display().to_string(),
                data_dir.join("index").display().to_string(),
                std::env::var("LOAD_SEMANTIC_MODEL")
                    .map_or(String::new(), |m| format!("semantic_model = {m:?}\n")),
            ),
        )?;
        let mut c = tokio::process::Command::new(env!("CARGO_BIN_EXE_citebot"));
        c.arg("run").arg("--config").arg(&config);
        c
    } else {
        let mut c = tokio::process::Command::new(std::env::current_exe()?);
        c.env(ROLE, "echo")
            .env("LOAD_HOMESERVER", &hs.url)
            .env("LOAD_DATA_DIR", &data_dir);
        c
    };
    let log = std::fs::File::create(data_dir.join("log"))?;
    command
        .env(
            "RUST_LOG",
            std::env::var("LOAD_RUST_LOG").unwrap_or_else(|_| "warn".into()),
        )
        .stdout(log.try_clone()?)
        .stderr(log)
        .kill_on_drop(true);
    Ok(command.spawn()?)
}

/// The floor: a bare matrix-sdk bot as its examples write one (autojoin, an
/// event handler, `Client::sync`), replying to every text message with a notice.
async fn echo_bot() -> anyhow::Result<()> {
    let homeserver = std::env::var("LOAD_HOMESERVER")?;
    let data_dir = PathBuf::from(std::env::var("LOAD_DATA_DIR")?);
    let client = Client::builder()
        .homeserver_url(&homeserver)
        .sqlite_store(data_dir.join("store"), None)
        .build()
        .await?;
    client
        .matrix_auth()
        .login_username("echo", "pw-bot")
        .send()
        .await?;
    client.add_event_handler(
        |ev: StrippedRoomMemberEvent, room: Room, client: Client| async move {
            if ev.state_key == client.user_id().expect("logged in") {
                for _ in 0..8 {
                    if room.join().await.is_ok() {
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(300)).await;
                }
            }
        },
    );
    // History from before the bot listened is not answered.
    let response = client.sync_once(SyncSettings::default()).await?;
    client.add_event_handler(
        |ev: OriginalSyncRoomMessageEvent, room: Room, client: Client| async move {
            if room.state() != RoomState::Joined || Some(&*ev.sender) == client.user_id() {
                return;
            }
            let MessageType::Text(text) = &ev.content.msgtype else {
                return;
            };
            let reply = RoomMessageEventContent::notice_plain(format!("echo: {}", text.body))
                .make_reply_to(&ev, ForwardThread::Yes, AddMentions::No);
            let _ = room.send(reply).await;
        },
    );
    client
        .sync(SyncSettings::default().token(response.next_batch))
        .await?;
    Ok(())
}

/// Opens `rooms` rooms with `bot` (one asker each) and asks at each rate.
async fn drive(
    hs: &Synapse,
    bot: &str,
    rooms: usize,
    rates: &[f64],
    seconds: f64,
    pid: u32,
) -> anyhow::Result<Vec<Step>> {
    let bot_id = hs.user_id(bot);
    let mut askers = Vec::new();
    for i in 0..rooms {
        let name = format!("asker-{bot}-{i}");
        hs.register(&name, "pw-asker", false).await?;
        let mut human = Human::login(&hs.url, &name, "pw-asker").await?;
        let room = human
            .create_room_with(&name, &[bot_id.as_str().try_into()?], true, i % 2 == 1)
            .await?;
        human
            .wait_membership(room.room_id(), &bot_id, "join", Duration::from_secs(60))
            .await?;
        askers.push((human, room));
    }
    // Warm-up: one question in every room (encrypted rooms share their keys).
    let mut warm = Vec::new();
    for (human, room) in &mut askers {
        let id = human.say(room, QUESTIONS[0]).await?;
        warm.push(id);
    }
    for ((human, _), id) in askers.iter_mut().zip(&warm) {
        human
            .reply_from(&bot_id, id.as_str(), Duration::from_secs(60))
            .await?;
    }
    let mut steps = Vec::new();
    for &rate in rates {
        let before = usage(pid);
        let (back, asked, latencies, elapsed) = step(askers, &bot_id, rate, seconds).await?;
        askers = back;
        let answered = latencies.len();
        let after = usage(pid);
        let mut sorted = latencies;
        sorted.sort();
        steps.push(Step {
            rate,
            asked,
            answered,
            throughput: answered as f64 / elapsed.as_secs_f64(),
            p50: if sorted.is_empty() {
                Duration::ZERO
            } else {
                common::percentile(&sorted, 0.5)
            },
            p95: if sorted.is_empty() {
                Duration::ZERO
            } else {
                common::percentile(&sorted, 0.95)
            },
            cpu: after.0.saturating_sub(before.0),
            peak_rss_mb: after.1,
        });
    }
    Ok(steps)
}

/// One rate: questions sent round-robin over the rooms at `rate` per second for
/// `seconds`, then every reply waited for (60 s after the last question at most).
/// Returns the askers, how many questions were asked, the latency of each
/// answered one, and the time from the first question to the last reply.
async fn step(
    askers: Vec<(Human, Room)>,
    bot_id: &str,
    rate: f64,
    seconds: f64,
) -> anyhow::Result<(Vec<(Human, Room)>, usize, Vec<Duration>, Duration)> {
    let total = ((rate * seconds).round() as usize).max(1);
    let sent: Arc<Mutex<HashMap<OwnedEventId, Instant>>> = Arc::default();
    let start = Instant::now();
    let n = askers.len();
    // Senders: each room's client sends its share on schedule.
    let mut senders = Vec::new();
    for (i, (_, room)) in askers.iter().enumerate() {
        let (room, sent) = (room.clone(), sent.clone());
        senders.push(tokio::spawn(async move {
            let mut k = i;
            let mut count = 0;
            while k < total {
                let at = start + Duration::from_secs_f64(k as f64 / rate);
                tokio::time::sleep_until(at.into()).await;
                let q = QUESTIONS[k % QUESTIONS.len()];
                let t = Instant::now();
                let content = RoomMessageEventContent::text_plain(q);
                if let Ok(r) = room.send(content).await {
                    sent.lock().unwrap().insert(r.response.event_id, t);
                    count += 1;
                }
                k += n;
            }
            count
        }));
    }
    // Receivers: each asker syncs until it has seen the replies to its questions.
    let deadline = start + Duration::from_secs_f64(seconds) + Duration::from_secs(60);
    let expected: Vec<usize> = (0..n).map(|i| (i..total).step_by(n).count()).collect();
    let mut receivers = Vec::new();
    for ((mut human, room), want) in askers.into_iter().zip(expected) {
        let bot_id = bot_id.to_string();
        receivers.push(tokio::spawn(async move {
            let mut seen: Vec<(OwnedEventId, Instant)> = Vec::new();
            while seen.len() < want {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    break;
                }
                let reply = human
                    .wait_for(left, |s| {
                        s.room_id == room.room_id()
                            && s.sender() == bot_id
                            && s.in_reply_to().is_some()
                    })
                    .await;
                let Ok(reply) = reply else { break };
                if let Some(to) = reply
                    .in_reply_to()
                    .and_then(|t| OwnedEventId::try_from(t).ok())
                {
                    seen.push((to, Instant::now()));
                }
            }
            ((human, room), seen)
        }));
    }
    let mut asked = 0;
    for s in senders {
        asked += s.await?;
    }
    let mut latencies = Vec::new();
    let mut last = start;
    let mut askers = Vec::new();
    for r in receivers {
        let (asker, seen) = r.await?;
        askers.push(asker);
        let sent = sent.lock().unwrap();
        for (to, at) in seen {
            if let Some(t) = sent.get(&to) {
                latencies.push(at - *t);
                last = last.max(at);
            }
        }
    }
    Ok((askers, asked, latencies, last - start))
}

/// The bot process's CPU time (user + system) and peak RSS in MB, from /proc.
fn usage(pid: u32) -> (Duration, f64) {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command (which may hold spaces) start after ") ".
    let fields: Vec<&str> = stat
        .rsplit_once(") ")
        .map_or("", |(_, rest)| rest)
        .split_whitespace()
        .collect();
    let ticks: u64 = [11, 12]
        .iter()
        .filter_map(|&i| fields.get(i)?.parse::<u64>().ok())
        .sum();
    let hz = 100.0; // USER_HZ on Linux
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let peak_kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0.0);
    (Duration::from_secs_f64(ticks as f64 / hz), peak_kb / 1024.0)
}
