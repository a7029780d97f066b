//! Invites: accepted from allowed users, rejected from others; the bot
//! leaves rooms where it's left alone.

use crate::harness::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invite_from_allowed_user_is_accepted_and_others_rejected() {
    let bot =
        BotSetup::new(|c| c.access.allowed_inviters = vec!["@friend*:localhost".into()]).await;
    let running = bot.start();
    let mut friend = human("friend").await;
    let mut stranger = human("stranger").await;
    let bot_id = bot.user_id.as_str().try_into().unwrap();

    let room = friend.create_room("ok", &[bot_id], false).await.unwrap();
    friend
        .wait_membership(room.room_id(), &bot.user_id, "join", WAIT)
        .await
        .unwrap();

    let bot_id = bot.user_id.as_str().try_into().unwrap();
    let room = stranger.create_room("no", &[bot_id], false).await.unwrap();
    // A rejected invite shows up as the invitee's own "leave".
    stranger
        .wait_membership(room.room_id(), &bot.user_id, "leave", WAIT)
        .await
        .unwrap();
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bot_leaves_when_left_alone() {
    let bot = BotSetup::new(|_| {}).await;
    let running = bot.start();
    let mut alice = human("alice").await;
    let room = room_with_bot(&mut alice, &bot, &mut [], false).await;
    let admin = admin_token().await;
    room.leave().await.unwrap();
    let hs = synapse().await;
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let members = hs
            .room_members(&admin, room.room_id().as_str())
            .await
            .unwrap();
        if !members.contains(&bot.user_id) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "bot still in the empty room: {members:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    running.stop().await;
}
