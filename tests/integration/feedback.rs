//! Feedback against the running bot: a 👎 on an answer and a refused question
//! are recorded and listed by `citebot gaps` and the admin-only `!gaps`, and a
//! 👎 taken back (its reaction redacted) is withdrawn.

use std::process::Command;

use crate::harness::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn down_votes_and_refusals_are_listed_as_gaps() {
    let mut alice = human("alice").await;
    let alice_id = alice.user_id().to_string();
    let (bot, running, room) =
        start_bot(&mut alice, Meet::Dm, |c| c.access.admins = vec![alice_id]).await;

    let (question, answer) = ask(&mut alice, &bot, &room, EMPEROR).await;
    assert!(answer.body().contains("July"), "{}", answer.body());
    let answer_id = answer.event["event_id"].as_str().unwrap().to_owned();
    // With the emoji variation selector, as several clients send it.
    let mut downs = vec![alice.react(&room, &answer_id, "👎\u{FE0F}").await.unwrap()];
    // The same vote under other keys (skin tones) is still one vote.
    downs.push(alice.react(&room, &answer_id, "👎\u{1F3FB}").await.unwrap());
    downs.push(
        alice
            .react(&room, &answer_id, "👎\u{1F3FB}\u{1F3FB}")
            .await
            .unwrap(),
    );
    let (_, refused) = ask(&mut alice, &bot, &room, FRANCE).await;
    assert!(
        refused.body().contains("I don't know"),
        "{}",
        refused.body()
    );
    // A reaction to something other than an answer is no vote on one.
    alice.react(&room, question.as_str(), "👎").await.unwrap();

    // !gaps (admin) lists both once the reaction has been recorded.
    let gaps = ask_until(&mut alice, &bot, &room, "!gaps", WAIT, |r| {
        r.body().contains("👎 1")
    })
    .await;
    assert!(gaps.body().contains(EMPEROR), "{}", gaps.body());
    assert!(gaps.body().contains(FRANCE), "{}", gaps.body());
    assert!(gaps.body().contains("refused 1"), "{}", gaps.body());

    // Not for everyone.
    let mut bob = human("bob").await;
    let bob_room = room_with(&mut bob, &bot.user_id, Meet::Dm).await;
    let (_, r) = ask(&mut bob, &bot, &bob_room, "!gaps").await;
    assert!(r.body().contains("admins only"), "{}", r.body());

    // Taken back: while one of the three 👎 stands, the vote stands (the bot
    // reads the redactions before the command sent after them).
    for down in &downs[..2] {
        alice.redact(&room, down.as_str()).await.unwrap();
    }
    let (_, gaps) = ask(&mut alice, &bot, &room, "!gaps").await;
    assert!(gaps.body().contains("👎 1"), "{}", gaps.body());
    // Across a restart too: the bot reads which reactions stand back from
    // its feedback file.
    running.stop().await;
    let running = bot.start();
    alice.redact(&room, downs[2].as_str()).await.unwrap();
    let (_, gaps) = ask(&mut alice, &bot, &room, "!gaps").await;
    assert!(
        gaps.body().contains(FRANCE) && !gaps.body().contains(EMPEROR),
        "{}",
        gaps.body()
    );
    running.stop().await;

    let (records, _) = citebot::feedback::read(&bot.data_dir().join("feedback.jsonl")).unwrap();
    let count = |f: fn(&citebot::feedback::Record) -> bool| records.iter().filter(|r| f(r)).count();
    assert_eq!(
        (
            count(|r| matches!(r, citebot::feedback::Record::Reaction { .. })),
            count(|r| matches!(r, citebot::feedback::Record::Withdrawal { .. }))
        ),
        (3, 3),
        "the reactions on the answer and their redactions, each once: {records:?}"
    );

    // The command line reads the same file.
    let out = Command::new(env!("CARGO_BIN_EXE_citebot"))
        .args(["gaps", "--json", "--days", "7", "--data-dir"])
        .arg(bot.data_dir())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let list: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    let row = |q: &str| {
        list.iter()
            .find(|g| g["question"] == q)
            .unwrap_or_else(|| panic!("{q} missing from {list:?}"))
            .clone()
    };
    let france = row(FRANCE);
    assert_eq!(
        (france["down"].as_u64(), france["refused"].as_u64()),
        (Some(0), Some(1))
    );
    // The answer voted down, the vote taken back, is no gap.
    assert_eq!(list.len(), 1, "{list:?}");

    let out = Command::new(env!("CARGO_BIN_EXE_citebot"))
        .args(["gaps", "--data-dir"])
        .arg(bot.data_dir())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(FRANCE) && text.contains("refused 1"),
        "{text}"
    );
}
