//! Restarts: the session (device) is restored, questions sent while the bot
//! was down are answered exactly once, nothing is answered twice, and
//! questions older than the catch-up window are skipped.

use std::time::Duration;

use crate::harness::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_keeps_device_and_answers_missed_questions_once() {
    let bot = BotSetup::new(|_| {}).await;
    let hs = synapse().await;
    let admin = admin_token().await;
    let running = bot.start();
    let mut alice = human("alice").await;
    let room = room_with_bot(&mut alice, &bot, &mut [], true).await;
    let q1 = alice.say(&room, EMPEROR).await.unwrap();
    alice
        .reply_from(&bot.user_id, q1.as_str(), WAIT)
        .await
        .unwrap();
    let device = saved_device(&bot);
    running.stop().await;

    // Asked while the bot is down.
    let q2 = alice.say(&room, FRANCE).await.unwrap();

    let running = bot.start();
    alice
        .reply_from(&bot.user_id, q2.as_str(), WAIT)
        .await
        .unwrap();
    let q3 = alice.say(&room, EMPEROR).await.unwrap();
    alice
        .reply_from(&bot.user_id, q3.as_str(), WAIT)
        .await
        .unwrap();
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
    let bot = BotSetup::new(|c| c.answer.max_missed_age_secs = 2).await;
    let running = bot.start();
    let mut alice = human("alice").await;
    let room = room_with_bot(&mut alice, &bot, &mut [], true).await;
    running.stop().await;

    let stale = alice.say(&room, EMPEROR).await.unwrap();
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let running = bot.start();
    let fresh = alice.say(&room, FRANCE).await.unwrap();
    alice
        .reply_from(&bot.user_id, fresh.as_str(), WAIT)
        .await
        .unwrap();
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
    let bot = BotSetup::new(|c| c.sync.timeline_limit = 3).await;
    let running = bot.start();
    let mut alice = human("alice").await;
    // A group room (three members), where chatter is not for the bot.
    let mut bob = human("bob").await;
    let room = room_with_bot(&mut alice, &bot, &mut [&mut bob], false).await;
    // The bot must have seen bob join before it goes down: a reply to a later
    // command means its sync got past bob's join (else the room may still look
    // like a two-person chat to it).
    let seen = alice.say(&room, &format!("!ask {FRANCE}")).await.unwrap();
    alice
        .reply_from(&bot.user_id, seen.as_str(), WAIT)
        .await
        .unwrap();
    running.stop().await;

    let question = alice.say(&room, &format!("!ask {EMPEROR}")).await.unwrap();
    for i in 0..8 {
        alice
            .say(&room, &format!("chatter {i} while the bot is away"))
            .await
            .unwrap();
    }
    let running = bot.start();
    let reply = alice
        .reply_from(&bot.user_id, question.as_str(), WAIT)
        .await
        .unwrap();
    assert!(reply.body().contains("July 2025"), "{}", reply.body());
    let again = bot_messages(&mut alice, &bot, QUIET).await;
    assert!(
        again.is_empty(),
        "answered twice or answered chatter: {:?}",
        again
    );
    running.stop().await;
}
