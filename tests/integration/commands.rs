//! `!help`, `!sources`, `!why`, `!stats` and the admin-only `!reload`.

use crate::harness::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn info_commands_answer() {
    let mut alice = human("alice").await;
    let (bot, running, room) = start_bot(&mut alice, Meet::Dm, |_| {}).await;

    let (_, r) = ask(&mut alice, &bot, &room, "!help").await;
    assert!(
        r.body().contains("!ask") && r.body().contains("!sources"),
        "{}",
        r.body()
    );
    assert!(
        !r.body().contains("!reload"),
        "non-admins aren't shown !reload: {}",
        r.body()
    );

    let (_, r) = ask(&mut alice, &bot, &room, "!sources").await;
    for s in bot.engine.sources() {
        assert!(
            r.body().contains(&s.title),
            "{} missing from {}",
            s.title,
            r.body()
        );
    }

    let (_, r) = ask(&mut alice, &bot, &room, &format!("!why {EMPEROR}")).await;
    assert!(r.body().to_lowercase().contains("emperor"), "{}", r.body());
    assert!(r.html().contains("<pre>"), "{}", r.html());

    ask(&mut alice, &bot, &room, EMPEROR).await;
    ask(&mut alice, &bot, &room, FRANCE).await;
    let (_, r) = ask(&mut alice, &bot, &room, "!stats").await;
    assert!(r.body().contains("answered: 1"), "{}", r.body());
    assert!(r.body().contains("refused: 1"), "{}", r.body());
    assert!(r.body().contains("Uptime"), "{}", r.body());
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reload_is_admin_only() {
    let mut boss = human("boss").await;
    let admin_id = boss.user_id().to_string();
    let mut alice = human("alice").await;
    let (bot, running, room) =
        start_bot(&mut alice, Meet::Dm, |c| c.access.admins = vec![admin_id]).await;
    let (_, r) = ask(&mut alice, &bot, &room, "!reload").await;
    assert!(r.body().contains("admins only"), "{}", r.body());

    let room = room_with(&mut boss, &bot.user_id, Meet::Dm).await;
    let before = bot.engine.stats();
    let (_, r) = ask(&mut boss, &bot, &room, "!reload").await;
    assert!(r.body().contains("Index rebuilt"), "{}", r.body());
    assert_eq!(bot.engine.stats().files, before.files);
    running.stop().await;
}
