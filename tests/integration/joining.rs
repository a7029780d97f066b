//! Invites: accepted from allowed users, rejected from others; the bot
//! leaves rooms where it's left alone.

use crate::harness::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invite_from_allowed_user_is_accepted_and_others_rejected() {
    let mut friend = human("friend").await;
    let mut stranger = human("stranger").await;
    let (bot, running, accepted) = start_bot(&mut friend, Meet::Group(&[]), |c| {
        c.access.allowed_inviters = vec!["@friend*:localhost".into()];
    })
    .await;

    let bot_id = bot.user_id.as_str().try_into().unwrap();
    let rejected = stranger.create_room("no", &[bot_id], false).await.unwrap();
    // A rejected invite shows up as the invitee's own "leave".
    stranger
        .wait_membership(rejected.room_id(), &bot.user_id, "leave", WAIT)
        .await
        .unwrap();
    // As the homeserver sees it: in the friend's room, not in the stranger's.
    let hs = synapse().await;
    let admin = admin_token().await;
    for (room, joined) in [(&accepted, true), (&rejected, false)] {
        let members = hs
            .room_members(&admin, room.room_id().as_str())
            .await
            .unwrap();
        assert_eq!(members.contains(&bot.user_id), joined, "{members:?}");
    }
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bot_leaves_when_left_alone() {
    let mut alice = human("alice").await;
    let (bot, running, room) = start_bot(&mut alice, Meet::Group(&[]), |_| {}).await;
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

/// A question typed right after inviting the bot, before it has joined, is
/// answered once it joins; what was said before the invite is not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_question_sent_before_the_bot_joins_is_answered_after_the_invite_only() {
    let bot = BotSetup::new(|_| {}).await;
    let running = bot.start();
    let mut alice = human("alice").await;
    let bot_id: matrix_sdk::ruma::OwnedUserId = bot.user_id.as_str().try_into().unwrap();

    // As clients start a chat: create the DM with the invite, ask at once.
    let dm = alice
        .create_room_with("dm", std::slice::from_ref(&bot_id), true, false)
        .await
        .unwrap();
    let (_, reply) = ask(&mut alice, &bot, &dm, EMPEROR).await;
    assert!(reply.body().contains("July 2025"), "{}", reply.body());

    // Said before the invite: not for the bot. Said after it: answered.
    let room = alice
        .create_room_with("later", &[], false, false)
        .await
        .unwrap();
    let before = alice.say(&room, FRANCE).await.unwrap();
    room.invite_user_by_id(&bot_id).await.unwrap();
    ask(&mut alice, &bot, &room, EMPEROR).await;
    let is_bot =
        |s: &citebot::bot::human::Seen| s.sender() == bot.user_id && s.kind() == "m.room.message";
    let extra = alice.collect(QUIET, is_bot).await.unwrap();
    assert!(
        extra
            .iter()
            .all(|s| s.in_reply_to() != Some(before.as_str())),
        "a question from before the invite was answered"
    );
    assert!(
        extra.is_empty(),
        "{:?}",
        extra.iter().map(|s| s.body()).collect::<Vec<_>>()
    );
    running.stop().await;
}
