//! Faults and hostile input against the real bot and Synapse: the index deleted
//! or garbled under the running bot, a question at the size limit of a Matrix
//! event, and a burst of hostile messages from several users at once.

use std::time::Duration;

use citebot::bot::human::Human;
use citebot::bot::synapse::{Synapse, SynapseOptions};

use crate::harness::*;

/// The index folder deleted, then its `meta.json` garbled, while the bot runs:
/// each time it is rebuilt from the knowledge files and the bot answers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_or_garbled_index_is_rebuilt_while_the_bot_runs() {
    let mut alice = human("alice").await;
    let (bot, running, dm) = start_bot(&mut alice, Meet::Dm, |c| {
        c.search.index_dir = c.matrix.data_dir.join("index");
        c.search.index_check_secs = 1;
    })
    .await;
    let index = bot.config.search.index_dir.clone();
    let (_, r) = ask(&mut alice, &bot, &dm, EMPEROR).await;
    assert!(r.body().contains("July 2025"), "{}", r.body());

    let whole = |index: &std::path::Path| {
        std::fs::read_to_string(index.join("meta.json"))
            .ok()
            .is_some_and(|m| serde_json::from_str::<serde_json::Value>(&m).is_ok())
    };
    for what in ["deleted", "garbled"] {
        match what {
            "deleted" => std::fs::remove_dir_all(&index).unwrap(),
            _ => std::fs::write(index.join("meta.json"), "{garbage").unwrap(),
        }
        assert!(!whole(&index), "{what}");
        let deadline = std::time::Instant::now() + WAIT;
        while !whole(&index) {
            assert!(
                std::time::Instant::now() < deadline,
                "{what}: the index was not rebuilt"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let (_, r) = ask(&mut alice, &bot, &dm, EMPEROR).await;
        assert!(r.body().contains("July 2025"), "{what}: {}", r.body());
    }
    running.stop().await;
}

/// A question as long as one Matrix event allows is read up to its first
/// words, answered, and the reply says it was cut.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_question_at_the_event_size_limit_is_cut_and_answered() {
    let mut alice = human("alice").await;
    let (bot, running, dm) = start_bot(&mut alice, Meet::Dm, |_| {}).await;
    // About 60 KB of text: the event stays under Synapse's 64 KiB limit.
    let question = format!("{EMPEROR} {}", "Please answer quickly. ".repeat(2_600));
    assert!(question.len() > 59_000 && question.len() < 62_000);
    let started = std::time::Instant::now();
    let (_, r) = ask(&mut alice, &bot, &dm, &question).await;
    assert!(r.body().contains("July 2025"), "{}", r.body());
    assert!(r.body().contains("first 100 of"), "{}", r.body());
    assert!(started.elapsed() < WAIT);
    // And the bot goes on answering.
    let (_, r) = ask(
        &mut alice,
        &bot,
        &dm,
        "!ask Which airport is Japan paying to expand?",
    )
    .await;
    assert!(r.body().contains("Chinggis Khaan"), "{}", r.body());
    running.stop().await;
}

/// Hostile text: markup, query syntax, control characters, bidi overrides and
/// zero-width characters, mentions of others, empty-looking messages, and the
/// bot's name (`NAME`) among characters whose lowercase is longer or shorter
/// (once a panic that stopped the bot on every restart).
fn hostile(i: usize, name: &str) -> String {
    const PARTS: &[&str] = &[
        "<script>alert(1)</script> when is the emperor visiting?",
        "<a href=\"javascript:x\">airport</a> <img src=x onerror=y>",
        "title:foo AND (bar OR \"baz\"~2)^3 * -emperor +visit [a TO z] {x}",
        "\u{0}\u{7}\u{1b}[31m red \u{7f} bell",
        "\u{202e}ailognoM gnitisiv rorepme\u{202c} when?",
        "\u{200b}\u{200c}\u{200d}\u{feff}",
        "@bob:localhost @room what do you know? <@everyone>",
        "!why !why !ask !reload",
        "&amp;&lt;&#0;&#x110000; naadam",
        "𝔪𝔬𝔫𝔤𝔬𝔩𝔦𝔞 🇲🇳 ǘ̈ ﷽",
        "   ",
        "?",
        "\u{212A} NAME \u{130}\u{130} when is the emperor visiting?",
        "\u{130} NAME\u{2014} \u{2126}",
    ];
    format!("{} #{i}", PARTS[i % PARTS.len()].replace("NAME", name))
}

/// 1,000 hostile messages from three users at once, each in a direct chat with
/// the bot: every one gets exactly one reply, none cites the collection those
/// rooms don't see, and the bot answers normally afterwards.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_hostile_messages_from_three_users_each_get_one_reply() {
    const PER_USER: usize = 334;
    let bot = BotSetup::new(|c| {
        let zoo = c.search.knowledge_dir.join("zoo");
        std::fs::create_dir_all(&zoo).unwrap();
        std::fs::write(
            zoo.join("feeding.md"),
            "+++\ntitle = \"City zoo\"\nsource = \"Zoo Weekly\"\npublished = 2025-02-01\n+++\n\n## Feeding\n\nThe snow leopards are fed at noon when the emperor visits.\n",
        )
        .unwrap();
        c.access.default_collections =
            citebot::config::DefaultCollections::Only(vec!["japan-mongolia".into()]);
        c.limits.user_burst = 10_000;
        c.limits.user_per_minute = 100_000;
        c.limits.room_burst = 10_000;
        c.limits.room_per_minute = 100_000;
    })
    .await;
    let running = bot.start();
    let mut users = Vec::new();
    for name in ["mallory", "trudy", "eve"] {
        let mut h = human(name).await;
        let dm = room_with(&mut h, &bot.user_id, Meet::Dm).await;
        users.push((h, dm));
    }
    let name = bot.user_id[1..].split(':').next().unwrap();
    // Three senders at once.
    let sent: Vec<Vec<String>> =
        futures_util::future::join_all(users.iter().enumerate().map(|(u, (h, dm))| async move {
            let mut ids = Vec::new();
            for i in 0..PER_USER {
                let id = h.say(dm, &hostile(u * PER_USER + i, name)).await.unwrap();
                ids.push(id.to_string());
            }
            ids
        }))
        .await;
    assert_eq!(sent.iter().map(Vec::len).sum::<usize>(), 3 * PER_USER);
    for ((h, dm), ids) in users.iter_mut().zip(&sent) {
        let mut replies: std::collections::HashMap<String, Vec<String>> = Default::default();
        let deadline = std::time::Instant::now() + Duration::from_secs(240);
        while replies.len() < ids.len() && std::time::Instant::now() < deadline {
            for s in h
                .collect(Duration::from_secs(2), |s| {
                    s.sender() == bot.user_id && s.kind() == "m.room.message"
                })
                .await
                .unwrap()
            {
                let to = s.in_reply_to().unwrap_or_default().to_string();
                replies.entry(to).or_default().push(s.body().to_string());
            }
        }
        let wrong: Vec<(usize, &String, usize)> = ids
            .iter()
            .enumerate()
            .map(|(i, id)| (i, id, replies.get(id).map(Vec::len).unwrap_or(0)))
            .filter(|&(_, _, n)| n != 1)
            .collect();
        assert!(
            wrong.is_empty(),
            "{} of {} questions without exactly one reply (index, event, replies): {wrong:?}",
            wrong.len(),
            ids.len()
        );
        assert_eq!(replies.len(), ids.len(), "replies to something else");
        for bodies in replies.values() {
            for b in bodies {
                assert!(!b.contains("snow leopard") && !b.contains("zoo/"), "{b}");
            }
        }
        let (_, r) = ask(h, &bot, dm, EMPEROR).await;
        assert!(r.body().contains("July 2025"), "{}", r.body());
    }
    running.stop().await;
}

/// Starts (or restarts, keeping its database) the private Synapse in `dir`.
async fn private_synapse(dir: &std::path::Path, port: u16) -> Synapse {
    Synapse::start(SynapseOptions {
        dir: dir.to_path_buf(),
        port: Some(port),
        strict_ratelimits: false,
    })
    .await
    .expect("starting a private Synapse")
}

/// The homeserver down when the bot starts (it retries instead of exiting),
/// then down for 30 s mid-conversation: the bot answers once it is back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bot_waits_out_a_homeserver_down_at_start_and_mid_conversation() {
    let dir = tempfile::TempDir::with_prefix("citebot-private-synapse-").unwrap();
    let port = citebot::bot::synapse::free_port().unwrap();
    let mut hs = private_synapse(dir.path(), port).await;
    let (bot_name, alice_name) = (unique("citebot-down"), unique("alice"));
    hs.register(&bot_name, PASSWORD, false).await.unwrap();
    hs.register(&alice_name, PASSWORD, false).await.unwrap();
    let url = hs.url.clone();
    hs.stop();

    let metrics_port = citebot::bot::synapse::free_port().unwrap();
    let health = format!("http://127.0.0.1:{metrics_port}/health");
    let bot = BotSetup::new(|c| {
        c.matrix.homeserver = url.clone();
        c.matrix.user = bot_name.clone();
        c.metrics.listen = format!("127.0.0.1:{metrics_port}");
    })
    .await;
    let running = bot.start();
    // Several failed attempts to log in, then the homeserver comes up.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let mut hs = private_synapse(dir.path(), port).await;
    let mut alice = Human::login(&hs.url, &alice_name, PASSWORD).await.unwrap();
    let dm = room_with(&mut alice, &bot.user_id, Meet::Dm).await;
    let (_, r) = ask(&mut alice, &bot, &dm, EMPEROR).await;
    assert!(r.body().contains("July 2025"), "{}", r.body());

    let status = |url: String| async move {
        match matrix_sdk::reqwest::get(&url).await {
            Ok(r) => (r.status().as_u16(), r.text().await.unwrap_or_default()),
            Err(e) => (0, e.to_string()),
        }
    };
    assert_eq!(status(health.clone()).await.0, 200);

    // Down for 30 s, then back: /health says so meanwhile, the bot's sync
    // recovers and it answers.
    hs.stop();
    let down = std::time::Instant::now();
    let mut unhealthy = None;
    while down.elapsed() < Duration::from_secs(30) {
        let (code, body) = status(health.clone()).await;
        if code == 503 {
            unhealthy.get_or_insert(body);
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let unhealthy = unhealthy.expect("/health reported the homeserver down");
    assert!(unhealthy.contains("sync"), "{unhealthy}");
    let _hs = private_synapse(dir.path(), port).await;
    let (_, r) = ask(&mut alice, &bot, &dm, FRANCE).await;
    assert!(r.body().contains("I don't know"), "{}", r.body());
    running.stop().await;
}

/// A private Synapse with its default message rate limits, and an admin's
/// access token.
async fn strict_synapse(dir: &std::path::Path) -> (Synapse, String) {
    let hs = Synapse::start(SynapseOptions {
        dir: dir.join("synapse"),
        port: None,
        strict_ratelimits: true,
    })
    .await
    .unwrap();
    let admin = hs.register(&unique("admin"), PASSWORD, true).await.unwrap();
    (hs, admin.access_token)
}

/// [`strict_synapse`] with a bot account on it (named from `prefix`): the
/// homeserver, its admin's token, the bot's name and user ID.
async fn strict_synapse_with_bot(
    dir: &std::path::Path,
    prefix: &str,
) -> (Synapse, String, String, String) {
    let (hs, admin) = strict_synapse(dir).await;
    let bot_name = unique(prefix);
    hs.register(&bot_name, PASSWORD, false).await.unwrap();
    let bot_id = hs.user_id(&bot_name);
    (hs, admin, bot_name, bot_id)
}

/// A person on `hs` who may send quickly: only the bot meets the limits.
async fn unlimited_person(hs: &Synapse, admin: &str, prefix: &str) -> Human {
    let name = unique(prefix);
    hs.register(&name, PASSWORD, false).await.unwrap();
    hs.override_ratelimit(admin, &hs.user_id(&name), 0, 0)
        .await
        .unwrap();
    Human::login(&hs.url, &name, PASSWORD).await.unwrap()
}

/// `citebot run` as its own process, logging to `log`: a copy of the binary
/// installed in the config's folder, run from there, as a deployment runs it
/// (nothing of the checkout is used).
fn spawn_bot(config: &std::path::Path, log: &std::path::Path) -> tokio::process::Child {
    let out = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .unwrap();
    let home = config.parent().unwrap();
    let installed = home.join("bin/citebot");
    if !installed.exists() {
        std::fs::create_dir_all(home.join("bin")).unwrap();
        std::fs::copy(env!("CARGO_BIN_EXE_citebot"), &installed).unwrap();
    }
    tokio::process::Command::new(&installed)
        .current_dir(home)
        .env_remove("CITEBOT_SYNAPSE_SCRIPT")
        .env("CITEBOT_PASSWORD", PASSWORD)
        .env("RUST_LOG", "citebot=debug")
        .arg("run")
        .arg("--config")
        .arg(config)
        .stdout(out.try_clone().unwrap())
        .stderr(out)
        .kill_on_drop(true)
        .spawn()
        .unwrap()
}

/// The config of a bot run as its own process (`spawn_bot`) in `dir`, as
/// `bot_name` on `hs`, answering from `knowledge`: its own limits out of the
/// way, so only Synapse's hold its replies back.
fn killable_config(
    dir: &std::path::Path,
    hs: &Synapse,
    bot_name: &str,
    knowledge: &std::path::Path,
) -> std::path::PathBuf {
    let config = dir.join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[matrix]\nhomeserver = {:?}\nuser = {bot_name:?}\ndata_dir = {:?}\n\
             [access]\nallowed_inviters = [\"@*:localhost\"]\n\
             [limits]\nuser_burst = 100\nuser_per_minute = 1000\nroom_burst = 100\nroom_per_minute = 1000\n\
             [answer]\ntyping = false\nread_receipts = false\n\
             [sync]\ntimeout_secs = 5\n\
             [search]\nknowledge_dir = {:?}\nindex_dir = \"\"\nsemantic_model = \"\"\n",
            hs.url,
            dir.join("bot").display().to_string(),
            knowledge.display().to_string(),
        ),
    )
    .unwrap();
    config
}

/// Synapse's default message rate limits hold the bot's replies back; the bot
/// is SIGKILLed with most of them waiting, then started again: every one of 16
/// questions from two users is answered exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replies_in_flight_when_the_bot_is_killed_are_sent_once_after_restart() {
    let dir = tempfile::TempDir::with_prefix("citebot-strict-synapse-").unwrap();
    let (hs, admin, bot_name, bot_id) = strict_synapse_with_bot(dir.path(), "citebot-kill").await;
    let mut people = Vec::new();
    for name in ["alice", "bob"] {
        people.push(unlimited_person(&hs, &admin, name).await);
    }
    let knowledge = knowledge();
    let config = killable_config(dir.path(), &hs, &bot_name, knowledge.path());
    let log = dir.path().join("bot.log");
    let mut bot = spawn_bot(&config, &log);
    let mut rooms = Vec::new();
    for h in people.iter_mut() {
        rooms.push(room_with(h, &bot_id, Meet::Dm).await);
    }
    let mut asked: Vec<Vec<String>> = vec![Vec::new(), Vec::new()];
    for i in 0..8 {
        for (p, (h, dm)) in people.iter().zip(&rooms).enumerate() {
            let q = format!("When is the emperor visiting Mongolia? (#{p}{i})");
            asked[p].push(h.say(dm, &q).await.unwrap().to_string());
        }
    }
    // Let some replies out and the rest queue behind M_LIMIT_EXCEEDED.
    tokio::time::sleep(Duration::from_secs(3)).await;
    bot.kill().await.unwrap(); // SIGKILL
    let _bot = spawn_bot(&config, &log);
    // The scenario happened: questions were still open when the bot died.
    let deadline = std::time::Instant::now() + WAIT;
    while !std::fs::read_to_string(&log)
        .unwrap_or_default()
        .contains("answering the questions left open before the restart")
    {
        assert!(
            std::time::Instant::now() < deadline,
            "no open questions after the kill"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    for ((h, dm), ids) in people.iter_mut().zip(&rooms).zip(&asked) {
        let mut replies: std::collections::HashMap<String, usize> = Default::default();
        let deadline = std::time::Instant::now() + Duration::from_secs(120);
        while ids.iter().any(|id| !replies.contains_key(id)) && std::time::Instant::now() < deadline
        {
            for s in h
                .collect(Duration::from_secs(2), |s| {
                    s.sender() == bot_id
                        && s.kind() == "m.room.message"
                        && s.room_id == dm.room_id()
                })
                .await
                .unwrap()
            {
                *replies
                    .entry(s.in_reply_to().unwrap_or_default().to_string())
                    .or_default() += 1;
            }
        }
        // A moment more for a duplicate to show.
        for s in h
            .collect(Duration::from_secs(3), |s| {
                s.sender() == bot_id && s.kind() == "m.room.message" && s.room_id == dm.room_id()
            })
            .await
            .unwrap()
        {
            *replies
                .entry(s.in_reply_to().unwrap_or_default().to_string())
                .or_default() += 1;
        }
        let counts: Vec<usize> = ids
            .iter()
            .map(|id| replies.get(id).copied().unwrap_or(0))
            .collect();
        assert_eq!(
            counts,
            [1; 8],
            "replies per question; bot log: {}",
            std::fs::read_to_string(&log)
                .unwrap_or_default()
                .lines()
                .rev()
                .take(40)
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
}

/// The homeserver stops accepting the bot's access token (its device deleted,
/// as an admin or a logout from another client does): the bot sets the dead
/// session and its store aside, logs in again as a new device, and answers,
/// the question asked while its token was dead included.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejected_access_token_means_a_new_login_not_a_dead_bot() {
    let mut alice = human("alice").await;
    let (bot, running, room) = start_bot(&mut alice, Meet::Dm, |_| {}).await;
    let (_, reply) = ask(&mut alice, &bot, &room, EMPEROR).await;
    assert!(reply.body().contains("July 2025"), "{}", reply.body());
    let old_device = saved_device(&bot);
    synapse()
        .await
        .delete_device(&admin_token().await, &bot.user_id, &old_device)
        .await
        .unwrap();
    let (_, reply) = ask(&mut alice, &bot, &room, EMPEROR).await;
    assert!(reply.body().contains("July 2025"), "{}", reply.body());
    assert_ne!(saved_device(&bot), old_device, "a new device");
    let retired: Vec<_> = std::fs::read_dir(bot.data_dir().join("retired"))
        .unwrap()
        .collect();
    assert_eq!(
        retired.len(),
        1,
        "the old session and store, set aside once"
    );
    running.stop().await;
}

/// The homeserver refuses the bot's reply (here: the room took away the bot's
/// right to speak just before the question): the reply is tried again with
/// growing pauses and, once the room accepts it, arrives exactly once, with a
/// short apology for the delay above the answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_the_homeserver_refused_arrives_once_it_is_accepted_with_an_apology() {
    let mut alice = human("alice").await;
    let (bot, _running, dm) = start_bot(&mut alice, Meet::Dm, |_| {}).await;
    let bot_id = <&matrix_sdk::ruma::UserId>::try_from(bot.user_id.as_str()).unwrap();
    dm.update_power_levels(vec![(bot_id, (-1).into())])
        .await
        .unwrap();
    let question = alice.say(&dm, EMPEROR).await.unwrap();
    // Nothing gets through while the bot may not speak.
    let early = bot_messages(&mut alice, &bot, Duration::from_secs(3)).await;
    assert!(early.is_empty(), "{early:?}");
    dm.update_power_levels(vec![(bot_id, 0.into())])
        .await
        .unwrap();
    let reply = reply_to(&mut alice, &bot, &question).await;
    assert!(
        reply.body().starts_with("Sorry for the delay"),
        "{}",
        reply.body()
    );
    assert!(reply.body().contains("July 2025"), "{}", reply.body());
    let more = bot_messages(&mut alice, &bot, QUIET).await;
    assert!(more.is_empty(), "one reply only: {more:?}");
}

/// Unmounts (lazily) the tmpfs at its path when dropped.
struct Mounted(std::path::PathBuf);

impl Mounted {
    /// A tmpfs of `size` at `dir`; `None` when this process may not mount.
    fn tmpfs(dir: &std::path::Path, size: &str) -> Option<Mounted> {
        std::process::Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0700"),
                "tmpfs",
            ])
            .arg(dir)
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
            .then(|| Mounted(dir.to_path_buf()))
    }
}

impl Drop for Mounted {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(&self.0)
            .status();
    }
}

/// `data_dir` on a filesystem that fills up (a small tmpfs): questions asked
/// while nothing more can be written are each answered exactly once, at the
/// latest once space is free again, and the bot answers normally afterwards.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_data_dir_delays_answers_but_loses_none() {
    let dir = tempfile::TempDir::with_prefix("citebot-full-").unwrap();
    let Some(_mounted) = Mounted::tmpfs(dir.path(), "24m") else {
        eprintln!("skipped: this process may not mount a tmpfs (it needs root)");
        return;
    };
    let data = dir.path().join("bot");
    let mut alice = human("alice").await;
    let (bot, _running, dm) = start_bot(&mut alice, Meet::Dm, |c| {
        c.matrix.data_dir = data.clone();
    })
    .await;
    let (_, r) = ask(&mut alice, &bot, &dm, EMPEROR).await;
    assert!(r.body().contains("July 2025"), "{}", r.body());

    // Fill the filesystem to the last byte.
    let fill = dir.path().join("fill");
    let mut f = std::fs::File::create(&fill).unwrap();
    let chunk = vec![0u8; 64 * 1024];
    let full = loop {
        use std::io::Write;
        if let Err(e) = f.write_all(&chunk).and_then(|()| f.flush()) {
            break e;
        }
    };
    assert_eq!(full.raw_os_error(), Some(28), "ENOSPC: {full}");
    let asked = [
        alice.say(&dm, EMPEROR).await.unwrap(),
        alice.say(&dm, FRANCE).await.unwrap(),
    ];
    tokio::time::sleep(Duration::from_secs(5)).await;
    drop(f);
    std::fs::remove_file(&fill).unwrap();
    let first = reply_to(&mut alice, &bot, &asked[0]).await;
    assert!(first.body().contains("July 2025"), "{}", first.body());
    let second = reply_to(&mut alice, &bot, &asked[1]).await;
    assert!(second.body().contains("I don't know"), "{}", second.body());
    let more = bot_messages(&mut alice, &bot, QUIET).await;
    assert!(more.is_empty(), "one reply each: {more:?}");
    let (_, r) = ask(&mut alice, &bot, &dm, EMPEROR).await;
    assert!(r.body().contains("July 2025"), "{}", r.body());
}

/// An encrypted question whose room key has not come is journaled as it
/// arrived; the bot is SIGKILLed while it waits, then started again: the asker
/// gets exactly one reply (the "couldn't read it" notice, since the key never
/// comes), and the bot answers normally once keys reach it again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_question_waiting_for_its_key_when_the_bot_is_killed_gets_one_reply_after_restart() {
    let hs = synapse().await;
    let dir = tempfile::TempDir::with_prefix("citebot-kill-utd-").unwrap();
    let bot_name = unique("citebot-utd");
    hs.register(&bot_name, PASSWORD, false).await.unwrap();
    let bot_id = hs.user_id(&bot_name);
    let knowledge = knowledge();
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[matrix]\nhomeserver = {:?}\nuser = {bot_name:?}\ndata_dir = {:?}\n\
             [access]\nallowed_inviters = [\"@*:localhost\"]\n\
             [encryption]\nutd_wait_secs = 5\n\
             [sync]\ntimeout_secs = 5\n\
             [search]\nknowledge_dir = {:?}\nindex_dir = \"\"\nsemantic_model = \"\"\n",
            hs.url,
            dir.path().join("bot").display().to_string(),
            knowledge.path().display().to_string(),
        ),
    )
    .unwrap();
    let log = dir.path().join("bot.log");
    let mut bot = spawn_bot(&config, &log);
    let mut alice = human("alice").await;
    let dm = room_with(&mut alice, &bot_id, Meet::EncryptedDm).await;
    let q = alice.say(&dm, EMPEROR).await.unwrap();
    let r = alice.reply_from(&bot_id, q.as_str(), WAIT).await.unwrap();
    assert!(r.body().contains("July 2025"), "{}", r.body());

    // Alice's client withholds the room key from the bot's device.
    let session = std::fs::read_to_string(dir.path().join("bot/session.json")).unwrap();
    let session: serde_json::Value = serde_json::from_str(&session).unwrap();
    let device = session["device_id"].as_str().unwrap().to_owned();
    let user: matrix_sdk::ruma::OwnedUserId = bot_id.as_str().try_into().unwrap();
    let bot_device = alice
        .client
        .encryption()
        .get_device(&user, device.as_str().into())
        .await
        .unwrap()
        .expect("alice knows the bot's device");
    bot_device
        .set_local_trust(matrix_sdk::encryption::LocalTrust::BlackListed)
        .await
        .unwrap();
    // A new room key: the one in use was shared with the bot before.
    dm.discard_room_key().await.unwrap();
    let waiting = alice.say(&dm, EMPEROR).await.unwrap();
    let deadline = std::time::Instant::now() + WAIT;
    while !std::fs::read_to_string(&log)
        .unwrap_or_default()
        .lines()
        .any(|l| l.contains("waiting for its key") && l.contains(waiting.as_str()))
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the bot never saw the question"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bot.kill().await.unwrap(); // SIGKILL, the question waiting for its key
    let _bot = spawn_bot(&config, &log);
    let replies = alice
        .collect(Duration::from_secs(20), |s| {
            s.sender() == bot_id && s.in_reply_to() == Some(waiting.as_str())
        })
        .await
        .unwrap();
    assert_eq!(
        replies.len(),
        1,
        "one reply to the waiting question: {replies:?}"
    );
    assert!(
        replies[0].body().contains("couldn't read"),
        "{}",
        replies[0].body()
    );

    bot_device
        .set_local_trust(matrix_sdk::encryption::LocalTrust::Unset)
        .await
        .unwrap();
    // A fresh room key, shared with the bot's device again.
    dm.discard_room_key().await.unwrap();
    let q = alice.say(&dm, EMPEROR).await.unwrap();
    let r = alice
        .reply_from(&bot_id, q.as_str(), WAIT)
        .await
        .unwrap_or_else(|e| panic!("{e:#}; bot log:\n{}", tail(&log)));
    assert!(r.body().contains("July 2025"), "{}", r.body());
}

/// The last lines of a log file, for a failure message.
fn tail(log: &std::path::Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(40)..].join("\n")
}

/// Synapse's default message rate limits (0.5 a second, bursts of 3) against
/// 30 questions at once: the bot's sends meet `M_LIMIT_EXCEEDED` for about a
/// minute; every question is answered exactly once, and the bot answers
/// promptly afterwards.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_minute_of_rate_limited_replies_loses_and_doubles_none() {
    let dir = tempfile::TempDir::with_prefix("citebot-429-").unwrap();
    let (hs, admin) = strict_synapse(dir.path()).await;
    let bot_name = unique("citebot-429");
    hs.register(&bot_name, PASSWORD, false).await.unwrap();
    let mut alice = unlimited_person(&hs, &admin, "alice").await;
    let bot = BotSetup::new(|c| {
        c.matrix.homeserver = hs.url.clone();
        c.matrix.user = bot_name.clone();
        c.limits.user_burst = 100;
        c.limits.user_per_minute = 1000;
        c.limits.room_burst = 100;
        c.limits.room_per_minute = 1000;
        c.answer.typing = false;
        c.answer.read_receipts = false;
    })
    .await;
    let _running = bot.start();
    let dm = room_with(&mut alice, &bot.user_id, Meet::Dm).await;
    let mut asked = Vec::new();
    for i in 0..30 {
        let q = format!("When is the emperor visiting Mongolia? (#{i})");
        asked.push(alice.say(&dm, &q).await.unwrap().to_string());
    }
    let started = std::time::Instant::now();
    let mut replies: std::collections::HashMap<String, usize> = Default::default();
    while asked.iter().any(|id| !replies.contains_key(id))
        && started.elapsed() < Duration::from_secs(150)
    {
        for s in alice
            .collect(Duration::from_secs(2), |s| {
                s.sender() == bot.user_id && s.kind() == "m.room.message"
            })
            .await
            .unwrap()
        {
            *replies
                .entry(s.in_reply_to().unwrap_or_default().to_string())
                .or_default() += 1;
        }
    }
    let took = started.elapsed();
    let counts: Vec<usize> = asked
        .iter()
        .map(|id| replies.get(id).copied().unwrap_or(0))
        .collect();
    assert_eq!(counts, [1; 30], "replies per question");
    assert!(
        took > Duration::from_secs(30),
        "the limits held the replies back ({took:?})"
    );
    let more = bot_messages(&mut alice, &bot, QUIET).await;
    assert!(more.is_empty(), "no duplicates: {more:?}");
    hs.override_ratelimit(&admin, &bot.user_id, 0, 0)
        .await
        .unwrap();
    let (_, r) = ask(&mut alice, &bot, &dm, EMPEROR).await;
    assert!(r.body().contains("July 2025"), "{}", r.body());
}

/// The bot is SIGKILLed with questions still waiting for Synapse's rate
/// limits; their asker deletes every question while it is down. After the
/// restart none of the questions left open is answered, not even for a moment
/// (a reply sent, then taken back once the sync brings the deletion).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn questions_deleted_while_the_bot_is_down_are_not_answered() {
    let dir = tempfile::TempDir::with_prefix("citebot-strict-synapse-").unwrap();
    let (hs, admin, bot_name, bot_id) = strict_synapse_with_bot(dir.path(), "citebot-away").await;
    let mut carol = unlimited_person(&hs, &admin, "carol").await;
    let knowledge = knowledge();
    let config = killable_config(dir.path(), &hs, &bot_name, knowledge.path());
    let log = dir.path().join("bot.log");
    let mut bot = spawn_bot(&config, &log);
    let dm = room_with(&mut carol, &bot_id, Meet::Dm).await;
    let mut asked = Vec::new();
    for i in 0..14 {
        let q = format!("When is the emperor visiting Mongolia? (#{i})");
        asked.push(carol.say(&dm, &q).await.unwrap().to_string());
    }
    let replies = |seen: Vec<citebot::bot::human::Seen>| -> Vec<String> {
        seen.iter()
            .filter_map(|s| s.in_reply_to().map(str::to_owned))
            .collect()
    };
    let is_reply = |s: &citebot::bot::human::Seen| {
        s.sender() == bot_id && s.kind() == "m.room.message" && s.room_id == dm.room_id()
    };
    let mut answered = replies(
        carol
            .collect(Duration::from_secs(3), is_reply)
            .await
            .unwrap(),
    );
    bot.kill().await.unwrap(); // SIGKILL
    // What it sent just before it died.
    answered.extend(replies(
        carol
            .collect(Duration::from_secs(2), is_reply)
            .await
            .unwrap(),
    ));
    let open: Vec<&String> = asked.iter().filter(|q| !answered.contains(q)).collect();
    assert!(
        !open.is_empty(),
        "every question was answered before the kill"
    );
    for q in &asked {
        carol.redact(&dm, q).await.unwrap();
    }
    // Synapse's limit lets the bot send again by now: a question it took up
    // would be answered at once.
    tokio::time::sleep(Duration::from_secs(10)).await;
    let _bot = spawn_bot(&config, &log);
    let deadline = std::time::Instant::now() + WAIT;
    let bot_log = || std::fs::read_to_string(&log).unwrap_or_default();
    while !bot_log().contains("answering the questions left open before the restart") {
        assert!(
            std::time::Instant::now() < deadline,
            "no open questions after the kill; bot log: {}",
            bot_log()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let after = replies(
        carol
            .collect(Duration::from_secs(8), is_reply)
            .await
            .unwrap(),
    );
    let answered_after: Vec<&String> = open.iter().copied().filter(|q| after.contains(q)).collect();
    assert!(
        answered_after.is_empty(),
        "deleted questions answered after the restart: {answered_after:?} of {open:?}"
    );
    assert!(
        bot_log().contains("deleted while the bot was away"),
        "{}",
        bot_log()
    );
}
