//! `!help`, `!sources`, `!why`, `!stats` and the admin-only `!reload`.

use crate::harness::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn info_commands_answer() {
    let bot = BotSetup::new(|_| {}).await;
    let running = bot.start();
    let mut alice = human("alice").await;
    let room = room_with_bot(&mut alice, &bot, &mut [], true).await;

    let ask = |cmd: &'static str| cmd;
    let q = alice.say(&room, ask("!help")).await.unwrap();
    let r = alice
        .reply_from(&bot.user_id, q.as_str(), WAIT)
        .await
        .unwrap();
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

    let q = alice.say(&room, "!sources").await.unwrap();
    let r = alice
        .reply_from(&bot.user_id, q.as_str(), WAIT)
        .await
        .unwrap();
    for s in bot.engine.sources() {
        assert!(
            r.body().contains(&s.title),
            "{} missing from {}",
            s.title,
            r.body()
        );
    }

    let q = alice.say(&room, &format!("!why {EMPEROR}")).await.unwrap();
    let r = alice
        .reply_from(&bot.user_id, q.as_str(), WAIT)
        .await
        .unwrap();
    assert!(r.body().to_lowercase().contains("emperor"), "{}", r.body());
    assert!(r.html().contains("<pre>"), "{}", r.html());

    let q = alice.say(&room, EMPEROR).await.unwrap();
    alice
        .reply_from(&bot.user_id, q.as_str(), WAIT)
        .await
        .unwrap();
    let q = alice.say(&room, FRANCE).await.unwrap();
    alice
        .reply_from(&bot.user_id, q.as_str(), WAIT)
        .await
        .unwrap();
    let q = alice.say(&room, "!stats").await.unwrap();
    let r = alice
        .reply_from(&bot.user_id, q.as_str(), WAIT)
        .await
        .unwrap();
    assert!(r.body().contains("answered: 1"), "{}", r.body());
    assert!(r.body().contains("refused: 1"), "{}", r.body());
    assert!(r.body().contains("Uptime"), "{}", r.body());
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reload_is_admin_only() {
    let hs = synapse().await;
    let admin_name = unique("boss");
    hs.register(&admin_name, PASSWORD, false).await.unwrap();
    let admin_id = hs.user_id(&admin_name);
    let bot = BotSetup::new(|c| c.access.admins = vec![admin_id.clone()]).await;
    let running = bot.start();

    let mut alice = human("alice").await;
    let room = room_with_bot(&mut alice, &bot, &mut [], true).await;
    let q = alice.say(&room, "!reload").await.unwrap();
    let r = alice
        .reply_from(&bot.user_id, q.as_str(), WAIT)
        .await
        .unwrap();
    assert!(r.body().contains("admins only"), "{}", r.body());

    let mut boss = citebot::bot::human::Human::login(&hs.url, &admin_name, PASSWORD)
        .await
        .unwrap();
    let room = room_with_bot(&mut boss, &bot, &mut [], true).await;
    let before = bot.engine.stats();
    let q = boss.say(&room, "!reload").await.unwrap();
    let r = boss
        .reply_from(&bot.user_id, q.as_str(), WAIT)
        .await
        .unwrap();
    assert!(r.body().contains("Index rebuilt"), "{}", r.body());
    assert_eq!(bot.engine.stats().files, before.files);
    running.stop().await;
}
