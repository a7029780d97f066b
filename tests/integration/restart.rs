//! Restarts: the session (device) is restored, questions sent while the bot
//! was down are answered exactly once, nothing is answered twice, and
//! questions older than the catch-up window are skipped.

use std::time::Duration;

use crate::harness::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_keeps_device_and_answers_missed_questions_once() {
    let hs = synapse().await;
    let admin = admin_token().await;
    let mut alice = human("alice").await;
    let (bot, running, room) = start_bot(&mut alice, Meet::Dm, |_| {}).await;
    ask(&mut alice, &bot, &room, EMPEROR).await;
    let device = saved_device(&bot);
    running.stop().await;

    // Asked while the bot is down.
    let q2 = alice.say(&room, FRANCE).await.unwrap();

    let running = bot.start();
    reply_to(&mut alice, &bot, &q2).await;
    ask(&mut alice, &bot, &room, EMPEROR).await;
    let again = bot_messages(&mut alice, &bot, QUIET).await;
    assert!(again.is_empty(), "answered twice: {:?}", again);
    running.stop().await;

    assert_eq!(saved_device(&bot), device, "same device after restart");
    let devices = hs.devices(&admin, &bot.user_id).await.unwrap();
    // One from registration, one from the bot's single login.
    assert_eq!(devices.len(), 2, "{devices:?}");
    assert!(devices.contains(&device));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn questions_older_than_the_catch_up_window_are_skipped() {
    let mut alice = human("alice").await;
    let (bot, running, room) = start_bot(&mut alice, Meet::Dm, |c| {
        c.answer.max_missed_age_secs = 2;
    })
    .await;
    running.stop().await;

    let stale = alice.say(&room, EMPEROR).await.unwrap();
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let running = bot.start();
    ask(&mut alice, &bot, &room, FRANCE).await;
    let stale_replies = alice
        .collect(QUIET, |s| s.is_reply(&bot.user_id, stale.as_str()))
        .await
        .unwrap();
    assert!(stale_replies.is_empty());
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn questions_beyond_the_sync_timeline_limit_are_fetched_and_answered_once() {
    // More messages arrive while the bot is down than one sync returns per room:
    // the question is in the gap before the limited timeline.
    // A group room (three members), where chatter is not for the bot.
    let mut alice = human("alice").await;
    let bob = human("bob").await;
    let (bot, running, room) = start_bot(&mut alice, Meet::Group(&[&bob]), |c| {
        c.sync.timeline_limit = 3;
    })
    .await;
    // The bot must have seen bob join before it goes down: a reply to a later
    // command means its sync got past bob's join (else the room may still look
    // like a two-person chat to it).
    ask(&mut alice, &bot, &room, &format!("!ask {FRANCE}")).await;
    running.stop().await;

    let question = alice.say(&room, &format!("!ask {EMPEROR}")).await.unwrap();
    for i in 0..8 {
        alice
            .say(&room, &format!("chatter {i} while the bot is away"))
            .await
            .unwrap();
    }
    let running = bot.start();
    let reply = reply_to(&mut alice, &bot, &question).await;
    assert!(reply.body().contains("July 2025"), "{}", reply.body());
    let again = bot_messages(&mut alice, &bot, QUIET).await;
    assert!(
        again.is_empty(),
        "answered twice or answered chatter: {:?}",
        again
    );
    running.stop().await;
}
