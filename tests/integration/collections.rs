//! Per-room knowledge: a room mapped (by alias) to one collection never sees
//! another collection — in answers, refusals' nearest passages, `!why` and
//! `!sources`, `!status` — while an unmapped room sees all of them.

use matrix_sdk::ruma::api::client::room::create_room::v3::Request as CreateRoomRequest;

use crate::harness::*;

const ZOO: &str = "+++\ntitle = \"City zoo\"\nsource = \"Zoo Weekly\"\npublished = 2025-02-01\n+++\n\n## Feeding\n\nThe snow leopards at the city zoo are fed at noon.\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_room_mapped_to_a_collection_only_cites_that_collection() {
    let alias_name = unique("zoo-room-");
    let alias = format!("#{alias_name}:localhost");
    let alias2 = alias.clone();
    let bot = BotSetup::new(move |c| {
        let zoo = c.search.knowledge_dir.join("zoo");
        std::fs::create_dir_all(&zoo).unwrap();
        std::fs::write(zoo.join("feeding.md"), ZOO).unwrap();
        let other = c.search.knowledge_dir.join("japan-mongolia/broken.md");
        std::fs::write(other, "+++\ntitle = \"unclosed front matter\"\n").unwrap();
        c.rooms
            .insert(alias2, toml::from_str("collections = [\"zoo\"]").unwrap());
    })
    .await;
    let mut alice = human("alice").await;
    // The aliased room exists before the bot starts (aliases resolve at start).
    let mut request = CreateRoomRequest::new();
    request.room_alias_name = Some(alias_name.clone());
    request.invite = vec![bot.user_id.as_str().try_into().unwrap()];
    request.is_direct = true;
    let zoo_room = alice.client.create_room(request).await.unwrap();
    let running = bot.start();
    alice
        .wait_membership(zoo_room.room_id(), &bot.user_id, "join", WAIT)
        .await
        .unwrap();

    let r = ask(
        &mut alice,
        &bot,
        &zoo_room,
        "When are the snow leopards fed?",
    )
    .await;
    assert!(r.body().contains("noon"), "{}", r.body());
    assert!(r.body().contains("zoo/feeding.md"), "{}", r.body());
    // Answered from japan-mongolia elsewhere; here it is not known at all.
    for q in [EMPEROR, "Naadam festival", "Chinggis Khaan airport"] {
        let r = ask(&mut alice, &bot, &zoo_room, q).await;
        assert!(r.body().contains("I don't know"), "{q}: {}", r.body());
        assert!(!r.body().contains("japan-mongolia"), "{q}: {}", r.body());
    }
    let r = ask(&mut alice, &bot, &zoo_room, &format!("!why {EMPEROR}")).await;
    assert!(!r.body().contains("japan-mongolia"), "{}", r.body());
    let r = ask(&mut alice, &bot, &zoo_room, "!sources").await;
    assert!(r.body().contains("1 knowledge files"), "{}", r.body());
    assert!(r.body().contains("City zoo"), "{}", r.body());
    let r = ask(&mut alice, &bot, &zoo_room, "!status").await;
    assert!(
        r.body().contains("Problems in knowledge files: none"),
        "another collection's problems are not shown: {}",
        r.body()
    );

    // A room without a mapping sees every collection.
    let other = room_with_bot(&mut alice, &bot, &mut [], true).await;
    let r = ask(&mut alice, &bot, &other, EMPEROR).await;
    assert!(r.body().contains("japan-mongolia/"), "{}", r.body());
    let r = ask(&mut alice, &bot, &other, "When are the snow leopards fed?").await;
    assert!(r.body().contains("noon"), "{}", r.body());
    let r = ask(&mut alice, &bot, &other, "!status").await;
    assert!(r.body().contains("broken.md:1:"), "{}", r.body());
    running.stop().await;
}
