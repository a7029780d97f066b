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

    let seen = flooder
        .collect(QUIET * 2, |s| {
            s.sender() == bot.user_id && s.kind() == "m.room.message"
        })
        .await
        .unwrap();
    let replies: Vec<&str> = seen.iter().map(|s| s.body()).collect();
    let slow_downs: Vec<_> = seen
        .iter()
        .filter(|s| s.body().contains("Slow down"))
        .collect();
    assert_eq!(slow_downs.len(), 1, "{replies:?}");
    assert_eq!(replies.len(), 3 + 1, "{replies:?}");

    // The flooder deletes the message the notice was about: the notice goes
    // with it.
    let notice = slow_downs[0];
    let about = notice
        .in_reply_to()
        .expect("the notice replies to a message");
    flooder.redact(&flood_room, about).await.unwrap();
    let notice = notice.event_id().unwrap();
    retraction_of(&mut flooder, &bot, &notice).await;
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
