//! Per-room knowledge: a room mapped (by alias) to one collection never sees
//! another collection — in answers, refusals' nearest passages, `!why` and
//! `!sources`, `!status` — while an unmapped room sees all of them.

use std::time::Duration;

use citebot::bot::human::Human;
use matrix_sdk::ruma::api::client::room::create_room::v3::Request as CreateRoomRequest;

use crate::harness::*;

const ZOO: &str = "+++\ntitle = \"City zoo\"\nsource = \"Zoo Weekly\"\npublished = 2025-02-01\n+++\n\n## Feeding\n\nThe snow leopards at the city zoo are fed at noon.\n";

/// A direct chat `human` creates with the bot under the alias `#name:localhost`.
async fn aliased_room(human: &mut Human, bot: &BotSetup, name: &str) -> matrix_sdk::Room {
    let mut request = CreateRoomRequest::new();
    request.room_alias_name = Some(name.to_string());
    request.invite = vec![bot.user_id.as_str().try_into().unwrap()];
    request.is_direct = true;
    human.client.create_room(request).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_room_mapped_to_a_collection_only_cites_that_collection() {
    let alias_name = unique("zoo-room-");
    let alias = format!("#{alias_name}:localhost");
    let alias2 = alias.clone();
    let bot = BotSetup::new(move |c| {
        let zoo = c.search.knowledge_dir.join("zoo");
        std::fs::create_dir_all(&zoo).unwrap();
        std::fs::write(zoo.join("feeding.md"), ZOO).unwrap();
        // Links in the zoo to the other collection's pages are not read as
        // zoo pages (a link is read only into its own collection).
        let pages = std::fs::read_dir(c.search.knowledge_dir.join("japan-mongolia")).unwrap();
        for (i, page) in pages.flatten().enumerate() {
            std::os::unix::fs::symlink(page.path(), zoo.join(format!("link-{i}.md"))).unwrap();
        }
        let other = c.search.knowledge_dir.join("japan-mongolia/broken.md");
        std::fs::write(other, "+++\ntitle = \"unclosed front matter\"\n").unwrap();
        // The other collection's synonyms serve its rooms only.
        std::fs::write(
            c.search.knowledge_dir.join("japan-mongolia/synonyms.toml"),
            "[[group]]\nterms = [\"irbis\", \"snow leopard\"]\n",
        )
        .unwrap();
        c.rooms
            .insert(alias2, toml::from_str("collections = [\"zoo\"]").unwrap());
    })
    .await;
    let mut alice = human("alice").await;
    // The aliased room exists before the bot starts (aliases resolve at start).
    let zoo_room = aliased_room(&mut alice, &bot, &alias_name).await;
    let running = bot.start();
    alice
        .wait_membership(zoo_room.room_id(), &bot.user_id, "join", WAIT)
        .await
        .unwrap();

    let (_, r) = ask(
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
        let (_, r) = ask(&mut alice, &bot, &zoo_room, q).await;
        assert!(r.body().contains("I don't know"), "{q}: {}", r.body());
        assert!(!r.body().contains("japan-mongolia"), "{q}: {}", r.body());
    }
    let (_, r) = ask(&mut alice, &bot, &zoo_room, &format!("!why {EMPEROR}")).await;
    assert!(!r.body().contains("japan-mongolia"), "{}", r.body());
    // `!why`'s line for the word "irbis": its variants.
    let irbis = "!why When are the irbis fed?";
    let variants = |body: &str| -> String {
        let line = body.lines().find(|l| l.starts_with("- “irbis”"));
        line.unwrap_or_else(|| panic!("no irbis line: {body}"))
            .to_string()
    };
    let (_, r) = ask(&mut alice, &bot, &zoo_room, irbis).await;
    assert!(!variants(r.body()).contains("leopard"), "{}", r.body());
    let (_, r) = ask(&mut alice, &bot, &zoo_room, "!sources").await;
    assert!(r.body().contains("1 knowledge files"), "{}", r.body());
    assert!(r.body().contains("City zoo"), "{}", r.body());
    let (_, r) = ask(&mut alice, &bot, &zoo_room, "!status").await;
    assert!(
        !r.body().contains("broken.md") && !r.body().contains("japan-mongolia"),
        "another collection's problems are not shown: {}",
        r.body()
    );
    assert!(
        r.body().contains("link-0.md") && r.body().contains("a link to no page of its own"),
        "the zoo's own problems are: {}",
        r.body()
    );

    // A room without a mapping sees every collection.
    let other = room_with(&mut alice, &bot.user_id, Meet::Dm).await;
    let (_, r) = ask(&mut alice, &bot, &other, EMPEROR).await;
    assert!(r.body().contains("japan-mongolia/"), "{}", r.body());
    let (_, r) = ask(&mut alice, &bot, &other, "When are the snow leopards fed?").await;
    assert!(r.body().contains("noon"), "{}", r.body());
    let (_, r) = ask(&mut alice, &bot, &other, irbis).await;
    assert!(variants(r.body()).contains("leopard"), "{}", r.body());
    let (_, r) = ask(&mut alice, &bot, &other, "!status").await;
    assert!(r.body().contains("broken.md:1:"), "{}", r.body());
    running.stop().await;
}

/// Every way a room is told something — refusals' closest topics, `!why`'s
/// counts and typo corrections, `!stats`, `!status`'s last reload and problems,
/// `!reload`'s reply, `!gaps`, admin-room posts — stays within the room's
/// collections; a room without an entry gets `access.default_collections`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_read_path_of_a_limited_room_stays_within_its_collections() {
    let mut alice = human("alice").await;
    let (zoo_name, all_name) = (unique("zoo-admin-"), unique("all-"));
    let zoo_alias = format!("#{zoo_name}:localhost");
    let all_alias = format!("#{all_name}:localhost");
    let admin = alice.user_id().to_string();
    let bot = BotSetup::new(move |c| {
        let k = c.search.knowledge_dir.clone();
        std::fs::create_dir_all(k.join("zoo")).unwrap();
        std::fs::write(k.join("zoo/feeding.md"), ZOO).unwrap();
        std::fs::write(
            k.join("japan-mongolia/broken.md"),
            "+++\ntitle = \"unclosed front matter\"\n",
        )
        .unwrap();
        c.rooms.insert(
            zoo_alias.clone(),
            toml::from_str("collections = [\"zoo\"]").unwrap(),
        );
        c.rooms.insert(
            all_alias,
            toml::from_str("collections = [\"zoo\", \"japan-mongolia\"]").unwrap(),
        );
        c.access.admins = vec![admin];
        // The admin room itself sees only the zoo.
        c.access.admin_room = zoo_alias;
        c.access.default_collections = citebot::config::DefaultCollections::Only(Vec::new());
    })
    .await;
    let zoo = aliased_room(&mut alice, &bot, &zoo_name).await;
    let all = aliased_room(&mut alice, &bot, &all_name).await;
    let running = bot.start();
    for room in [&zoo, &all] {
        alice
            .wait_membership(room.room_id(), &bot.user_id, "join", WAIT)
            .await
            .unwrap();
    }

    // Closest topics after a refusal: the zoo's, never the seed's titles.
    let (_, r) = ask(&mut alice, &bot, &zoo, "What is the capital of France?").await;
    assert!(r.body().contains("I don't know"), "{}", r.body());
    assert!(!r.body().contains("Mongolia"), "{}", r.body());
    // `!why`: a typo of a word only the other collection holds is not corrected to it.
    let (_, r) = ask(&mut alice, &bot, &zoo, "!why Naadan festivall").await;
    assert!(!r.body().to_lowercase().contains("naadam"), "{}", r.body());
    assert!(r.body().contains("not in the knowledge"), "{}", r.body());
    // `!stats`: the zoo's totals, no size of the whole index, and only the
    // questions of rooms that see the zoo alone.
    let (_, r) = ask(&mut alice, &bot, &all, EMPEROR).await;
    assert!(r.body().contains("July 2025"), "{}", r.body());
    let (_, r) = ask(&mut alice, &bot, &zoo, "!stats").await;
    assert!(
        r.body().contains("1 passages from 1 files\n"),
        "{}",
        r.body()
    );
    assert!(
        r.body().contains("answered: 0") && r.body().contains("refused: 1"),
        "{}",
        r.body()
    );
    // `!status` after a reload that added a page elsewhere.
    std::fs::write(
        bot.knowledge_dir().join("japan-mongolia/extra.md"),
        "+++\ntitle = \"Extra\"\nsource = \"S\"\npublished = 2025-01-01\n+++\n\n## Extra\n\nThe extra page says little.\n",
    )
    .unwrap();
    let r = ask_until(&mut alice, &bot, &all, "!status", WAIT, |r| {
        r.body().contains("japan-mongolia/extra.md")
    })
    .await;
    // When that reload ran, and so when the index was updated, is the other
    // collection's business too.
    let value = |body: &str, line: &str| -> String {
        let found = body.lines().find_map(|l| l.strip_prefix(line));
        let first = found.and_then(|l| l.split(' ').next());
        first
            .unwrap_or_else(|| panic!("no {line}: {body}"))
            .to_string()
    };
    let when = value(r.body(), "Last reload: ");
    let updated = value(r.body(), "Index updated: ");
    let (_, r) = ask(&mut alice, &bot, &zoo, "!status").await;
    for secret in ["extra.md", "broken.md", "japan-mongolia", &when, &updated] {
        assert!(!r.body().contains(secret), "{secret}: {}", r.body());
    }
    // The zoo's own: the check at start, which found nothing new.
    assert!(
        value(r.body(), "Last reload: ").starts_with("20"),
        "{}",
        r.body()
    );
    assert!(r.body().contains("1 passages from 1 files"), "{}", r.body());
    // `!reload`: the room's files and problems only, and not how long reading
    // every collection took (it grows with what the others hold).
    let (_, r) = ask(&mut alice, &bot, &zoo, "!reload").await;
    assert!(r.body().contains("from 1 files"), "{}", r.body());
    assert!(!r.body().contains("broken.md"), "{}", r.body());
    assert!(!r.body().contains(" ms"), "{}", r.body());
    let (_, r) = ask(&mut alice, &bot, &all, "!reload").await;
    assert!(r.body().contains("broken.md"), "{}", r.body());
    // `!gaps`: this room's questions; the admin room's, those of the rooms
    // that see only collections it sees (not the room that also sees the seed).
    ask(&mut alice, &bot, &all, "Who painted the Mona Lisa?").await;
    let (_, r) = ask(&mut alice, &bot, &all, "!gaps").await;
    assert!(r.body().contains("Mona Lisa"), "{}", r.body());
    assert!(!r.body().contains("France"), "{}", r.body());
    let (_, r) = ask(&mut alice, &bot, &zoo, "!gaps").await;
    assert!(
        !r.body().contains("Mona Lisa") && r.body().contains("France"),
        "{}",
        r.body()
    );
    // Admin-room posts: a problem in the zoo is posted, the seed's never were.
    std::fs::write(
        bot.knowledge_dir().join("zoo/bad.md"),
        "+++\ntitle = \"bad\n",
    )
    .unwrap();
    let post = alice
        .wait_for(WAIT, |s| {
            s.room_id == zoo.room_id()
                && s.sender() == bot.user_id
                && s.body().contains("zoo/bad.md")
        })
        .await
        .unwrap();
    assert!(!post.body().contains("broken.md"), "{}", post.body());
    let posts = bot_messages(&mut alice, &bot, Duration::from_secs(1)).await;
    assert!(posts.iter().all(|p| !p.contains("broken.md")), "{posts:?}");
    // A room without an entry sees what access.default_collections says: nothing.
    let dm = room_with(&mut alice, &bot.user_id, Meet::Dm).await;
    let (_, r) = ask(&mut alice, &bot, &dm, EMPEROR).await;
    assert!(r.body().contains("I don't know"), "{}", r.body());
    assert!(!r.body().contains("Mongolia"), "{}", r.body());
    let (_, r) = ask(&mut alice, &bot, &dm, "!sources").await;
    assert!(r.body().contains("No knowledge files"), "{}", r.body());
    running.stop().await;
}

/// A `[rooms]` alias that names no room when the bot starts: the room gets
/// `access.default_collections` (here nothing) until the alias is created and
/// the bot's retry resolves it; then exactly the entry's collections.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_alias_that_resolves_only_later_gives_its_room_the_entry_once_it_does() {
    let mut alice = human("alice").await;
    let alias = format!("#{}:localhost", unique("later-"));
    let entry = alias.clone();
    let bot = BotSetup::new(move |c| {
        let zoo = c.search.knowledge_dir.join("zoo");
        std::fs::create_dir_all(&zoo).unwrap();
        std::fs::write(zoo.join("feeding.md"), ZOO).unwrap();
        c.rooms
            .insert(entry, toml::from_str("collections = [\"zoo\"]").unwrap());
        c.access.default_collections = citebot::config::DefaultCollections::Only(Vec::new());
        c.access.alias_retry_secs = 1;
    })
    .await;
    let _running = bot.start();
    let dm = room_with(&mut alice, &bot.user_id, Meet::Dm).await;
    let leopards = "When are the snow leopards fed?";
    let (_, r) = ask(&mut alice, &bot, &dm, leopards).await;
    assert!(r.body().contains("I don't know"), "{}", r.body());

    // The alias goes into the room directory only (not the room's state), so
    // nothing but the bot's retry can connect it to the room.
    alice
        .client
        .send(
            matrix_sdk::ruma::api::client::alias::create_alias::v3::Request::new(
                alias.as_str().try_into().unwrap(),
                dm.room_id().to_owned(),
            ),
        )
        .await
        .unwrap();
    let r = ask_until(&mut alice, &bot, &dm, leopards, WAIT, |r| {
        r.body().contains("noon")
    })
    .await;
    assert!(r.body().contains("zoo/feeding.md"), "{}", r.body());
    let (_, r) = ask(&mut alice, &bot, &dm, EMPEROR).await;
    assert!(r.body().contains("I don't know"), "{}", r.body());
    assert!(!r.body().contains("japan-mongolia"), "{}", r.body());
}

/// An upgraded room keeps its predecessor's entry when the old room's
/// tombstone names it, and so does the room it is upgraded to next; a room that only claims the predecessor in its
/// creation event (anyone may) gets the default, here nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upgraded_room_keeps_its_entry_through_two_upgrades_and_a_false_claim_gets_the_default()
{
    let mut alice = human("alice").await;
    let mut bot = BotSetup::new(|c| {
        let zoo = c.search.knowledge_dir.join("zoo");
        std::fs::create_dir_all(&zoo).unwrap();
        std::fs::write(zoo.join("feeding.md"), ZOO).unwrap();
        c.access.default_collections = citebot::config::DefaultCollections::Only(Vec::new());
    })
    .await;
    let old = alice
        .create_room_with(
            "zoo questions",
            &[bot.user_id.as_str().try_into().unwrap()],
            false,
            false,
        )
        .await
        .unwrap();
    bot.config.rooms.insert(
        old.room_id().to_string(),
        toml::from_str("collections = [\"zoo\"]").unwrap(),
    );
    let _running = bot.start();
    alice
        .wait_membership(old.room_id(), &bot.user_id, "join", WAIT)
        .await
        .unwrap();
    let leopards = "When are the snow leopards fed?";
    let (_, r) = ask(&mut alice, &bot, &old, leopards).await;
    assert!(r.body().contains("noon"), "{}", r.body());

    // A room claiming the old one as its predecessor, with no tombstone for it.
    let mut claim = matrix_sdk::ruma::api::client::room::create_room::v3::Request::new();
    claim.invite = vec![bot.user_id.as_str().try_into().unwrap()];
    claim.creation_content = Some(
        matrix_sdk::ruma::serde::Raw::new(&serde_json::json!({
            "predecessor": { "room_id": old.room_id() }
        }))
        .unwrap()
        .cast_unchecked(),
    );
    let false_claim = alice.client.create_room(claim).await.unwrap();
    alice
        .wait_membership(false_claim.room_id(), &bot.user_id, "join", WAIT)
        .await
        .unwrap();
    let (_, r) = ask(&mut alice, &bot, &false_claim, &format!("!ask {leopards}")).await;
    assert!(r.body().contains("I don't know"), "{}", r.body());

    // The real upgrade: the old room's tombstone names the new one.
    let new = upgrade(&mut alice, &bot, &old).await;
    let (_, r) = ask(&mut alice, &bot, &new, leopards).await;
    assert!(r.body().contains("noon"), "{}", r.body());
    let (_, r) = ask(&mut alice, &bot, &new, EMPEROR).await;
    assert!(!r.body().contains("japan-mongolia"), "{}", r.body());

    // Upgraded again: the entry is still the first room's, two tombstones back.
    let newer = upgrade(&mut alice, &bot, &new).await;
    let (_, r) = ask(&mut alice, &bot, &newer, leopards).await;
    assert!(r.body().contains("noon"), "{}", r.body());
    let (_, r) = ask(&mut alice, &bot, &newer, EMPEROR).await;
    assert!(!r.body().contains("japan-mongolia"), "{}", r.body());
}

/// Upgrades `old` as alice, and invites the bot to the new room (it follows
/// an upgrade when invited, as people do) once it has joined.
async fn upgrade(alice: &mut Human, bot: &BotSetup, old: &matrix_sdk::Room) -> matrix_sdk::Room {
    let upgraded = alice
        .client
        .send(
            matrix_sdk::ruma::api::client::room::upgrade_room::v3::Request::new(
                old.room_id().to_owned(),
                matrix_sdk::ruma::RoomVersionId::V11,
            ),
        )
        .await
        .unwrap()
        .replacement_room;
    let new = loop {
        match alice.client.get_room(&upgraded) {
            Some(room) => break room,
            None => alice
                .collect(Duration::from_millis(200), |_| false)
                .await
                .map(|_| ())
                .unwrap(),
        }
    };
    let bot_id = <&matrix_sdk::ruma::UserId>::try_from(bot.user_id.as_str()).unwrap();
    new.invite_user_by_id(bot_id).await.unwrap();
    alice
        .wait_membership(new.room_id(), &bot.user_id, "join", WAIT)
        .await
        .unwrap();
    new
}
