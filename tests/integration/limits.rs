//! Rate limits: a flood from one user gets bounded replies while others are
//! still answered; M_LIMIT_EXCEEDED from the homeserver is waited out and no
//! reply is lost.

use crate::harness::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flood_from_one_user_is_bounded_and_others_still_answered() {
    let mut flooder = human("flooder").await;
    let mut other = human("other").await;
    let (bot, running, flood_room) = start_bot(&mut flooder, Meet::Dm, |c| {
        c.limits.user_burst = 3;
        c.limits.user_per_minute = 1;
    })
    .await;
    let other_room = room_with(&mut other, &bot.user_id, Meet::Dm).await;

    for i in 0..15 {
        flooder
            .say(&flood_room, &format!("{EMPEROR} ({i})"))
            .await
            .unwrap();
    }
    let (_, r) = ask(&mut other, &bot, &other_room, EMPEROR).await;
    assert!(r.body().contains("July 2025"), "{}", r.body());

    let replies = bot_messages(&mut flooder, &bot, QUIET * 2).await;
    let slow_downs = replies.iter().filter(|b| b.contains("Slow down")).count();
    assert_eq!(slow_downs, 1, "{replies:?}");
    assert_eq!(replies.len(), 3 + 1, "{replies:?}");
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn homeserver_rate_limit_is_waited_out_without_losing_replies() {
    let bot = BotSetup::new(|_| {}).await;
    let hs = synapse().await;
    let admin = admin_token().await;
    // This bot alone gets Synapse's strict message limit: 1/s, burst 1.
    hs.override_ratelimit(&admin, &bot.user_id, 1, 1)
        .await
        .unwrap();
    let running = bot.start();
    let mut alice = human("alice").await;
    let room = room_with(&mut alice, &bot.user_id, Meet::Dm).await;

    let mut questions = Vec::new();
    for i in 0..4 {
        questions.push(alice.say(&room, &format!("{EMPEROR} #{i}")).await.unwrap());
    }
    for q in questions {
        let r = reply_to(&mut alice, &bot, &q).await;
        assert!(r.body().contains("July 2025"), "{}", r.body());
    }
    running.stop().await;
}
