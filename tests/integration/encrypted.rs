//! Encrypted rooms: questions are decrypted and answered with encrypted
//! replies identical to plain-room ones; the bot keeps its device and keys
//! across restarts; a room switched to encryption keeps working; the bot's
//! device is cross-signed by its own identity, which a redeployed bot
//! recovers with the recovery key; admins verify it with emojis; a message
//! whose key comes late (forwarded by another of the bot's devices) is
//! answered; one whose key never comes gets exactly one notice; the longest
//! reply, cut to fit, still fits once encrypted.

use std::time::{Duration, Instant};

use anyhow::Context;

use citebot::bot::human::Human;
use citebot::config::Secret;
use matrix_sdk::ruma::events::room::message::{ReplacementMetadata, RoomMessageEventContent};
use matrix_sdk::ruma::{OwnedDeviceId, OwnedUserId};

use crate::harness::*;

/// Syncs `human` until it sees `device` of `user` cross-signed by its owner.
async fn wait_cross_signed(human: &mut Human, user: &str, device: &str) -> anyhow::Result<()> {
    let user: OwnedUserId = user.try_into()?;
    let device: OwnedDeviceId = device.into();
    let deadline = Instant::now() + WAIT;
    loop {
        let found = human.client.encryption().get_device(&user, &device).await?;
        if found.as_ref().is_some_and(|d| d.is_cross_signed_by_owner()) {
            return Ok(());
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "{user}'s device {device} is not cross-signed by its owner (known: {})",
            found.is_some()
        );
        human.collect(Duration::from_millis(500), |_| false).await?;
    }
}

/// The bot account's master cross-signing key, as the server publishes it.
async fn master_key(human: &Human, user: &str) -> String {
    let user: OwnedUserId = user.try_into().unwrap();
    human
        .client
        .encryption()
        .request_user_identity(&user)
        .await
        .unwrap()
        .expect("the bot has a cross-signing identity")
        .master_key()
        .get_first_key()
        .unwrap()
        .to_base64()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn encrypted_question_gets_encrypted_reply_same_as_plain() {
    let mut alice = human("alice").await;
    let (bot, running, secret) = start_bot(&mut alice, Meet::EncryptedDm, |_| {}).await;
    let plain = room_with(&mut alice, &bot.user_id, Meet::Dm).await;

    let (q, reply) = ask(&mut alice, &bot, &secret, EMPEROR).await;
    let (_, reply_plain) = ask(&mut alice, &bot, &plain, EMPEROR).await;
    assert!(reply.body().contains("July 2025"), "{}", reply.body());
    assert_eq!(
        reply.body(),
        reply_plain.body(),
        "same answer and citations"
    );
    assert_eq!(reply.html(), reply_plain.html());
    let c = &reply.event["content"];
    assert_eq!(c["msgtype"], "m.notice", "{c}");
    assert_eq!(c["m.relates_to"]["rel_type"], "m.thread", "{c}");
    assert_eq!(c["m.relates_to"]["event_id"], q.as_str(), "{c}");

    let reply_id = reply.event_id().unwrap();
    assert_eq!(
        alice
            .server_event_type(secret.room_id(), &reply_id)
            .await
            .unwrap(),
        "m.room.encrypted",
        "the homeserver only ever sees ciphertext"
    );
    assert_eq!(
        alice.server_event_type(secret.room_id(), &q).await.unwrap(),
        "m.room.encrypted"
    );
    // An edit of the question (encrypted too) edits the reply, in ciphertext.
    let edit = RoomMessageEventContent::text_plain(FRANCE)
        .make_replacement(ReplacementMetadata::new(q.clone(), None));
    alice.send(&secret, edit).await.unwrap();
    let edited = edit_of(&mut alice, &bot, &reply).await;
    assert!(edited.starts_with(citebot::messages::DONT_KNOW), "{edited}");
    // Commands work the same.
    let (_, help) = ask(&mut alice, &bot, &secret, "!help").await;
    assert!(help.body().contains("!status"), "{}", help.body());
    running.stop().await;
}

/// The longest reply the bot sends (`!sources` over hundreds of files, cut
/// to fit one event) reaches an encrypted room as the reply itself: its
/// ciphertext, base64, takes a third more than the message, and a reply cut
/// for a plain room only was refused by the homeserver (M_TOO_LARGE), the
/// room getting an apology instead.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_longest_reply_fits_an_encrypted_room() {
    let mut alice = human("alice").await;
    let (bot, _running, secret) = start_bot(&mut alice, Meet::EncryptedDm, |c| {
        let many = c.search.knowledge_dir.join("many");
        std::fs::create_dir_all(&many).unwrap();
        for i in 0..400 {
            let page = format!("# Page {i} of a long list of pages\n\nPage {i} says little.\n");
            let name = format!("page-{i:03}-with-a-name-long-enough-to-fill-the-list.md");
            std::fs::write(many.join(name), page).unwrap();
        }
    })
    .await;
    let (_, reply) = ask(&mut alice, &bot, &secret, "!sources").await;
    let head: String = reply.body().chars().take(300).collect();
    assert!(reply.body().contains("page-000-with"), "{head}");
    assert!(
        reply.body().contains(citebot::messages::SHORTENED),
        "{head}"
    );
    assert!(reply.html().contains("page-000-with"), "{head}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restarted_bot_keeps_device_and_keys_in_encrypted_room() {
    let mut alice = human("alice").await;
    let (bot, running, room) = start_bot(&mut alice, Meet::EncryptedDm, |_| {}).await;
    ask(&mut alice, &bot, &room, EMPEROR).await;
    let device = saved_device(&bot);
    running.stop().await;

    let running = bot.start();
    let (_, r2) = ask(&mut alice, &bot, &room, FRANCE).await;
    assert!(
        r2.body().starts_with(citebot::messages::DONT_KNOW),
        "{}",
        r2.body()
    );
    running.stop().await;
    assert_eq!(saved_device(&bot), device, "same device after restart");
    // The same device is still trusted: its keys were kept.
    wait_cross_signed(&mut alice, &bot.user_id, &device)
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn room_switched_to_encryption_keeps_working() {
    let mut alice = human("alice").await;
    let (bot, running, room) = start_bot(&mut alice, Meet::Dm, |_| {}).await;
    let (_, r1) = ask(&mut alice, &bot, &room, EMPEROR).await;
    let r1_id = r1.event_id().unwrap();
    assert_eq!(
        alice
            .server_event_type(room.room_id(), &r1_id)
            .await
            .unwrap(),
        "m.room.message"
    );

    room.enable_encryption().await.unwrap();
    let (_, r2) = ask(&mut alice, &bot, &room, EMPEROR).await;
    assert_eq!(r1.body(), r2.body());
    let r2_id = r2.event_id().unwrap();
    assert_eq!(
        alice
            .server_event_type(room.room_id(), &r2_id)
            .await
            .unwrap(),
        "m.room.encrypted",
        "after the switch the bot replies encrypted"
    );
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bot_device_is_cross_signed_and_status_says_so() {
    let mut alice = human("alice").await;
    let (bot, running, room) = start_bot(&mut alice, Meet::EncryptedDm, |_| {}).await;
    let device = saved_device(&bot);
    wait_cross_signed(&mut alice, &bot.user_id, &device)
        .await
        .unwrap();

    let (_, status) = ask(&mut alice, &bot, &room, "!status").await;
    let body = status.body();
    assert!(body.contains(&format!("Device: {device}")), "{body}");
    assert!(
        body.contains("Cross-signed by its own identity: yes"),
        "{body}"
    );
    assert!(body.contains("Key backup: on"), "{body}");
    assert!(body.contains("Recovery: enabled"), "{body}");
    assert!(body.contains("Last reload error: none"), "{body}");

    // The recovery key was saved once, owner-only.
    let key_file = citebot::bot::crypto::recovery_key_path(&bot.data_dir());
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&key_file).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    running.stop().await;

    // `citebot status` reports the same from the saved session.
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    let m = &bot.config.matrix;
    std::fs::write(
        &config,
        format!(
            "[matrix]\nhomeserver = {:?}\nuser = {:?}\ndata_dir = {:?}\n\
             [search]\nknowledge_dir = {:?}\nindex_dir = \"\"\nsemantic_model = \"\"\n",
            m.homeserver,
            m.user,
            m.data_dir.display().to_string(),
            bot.config.search.knowledge_dir.display().to_string(),
        ),
    )
    .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_citebot"))
        .env("CITEBOT_PASSWORD", PASSWORD)
        .arg("status")
        .arg("--config")
        .arg(&config)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains(&format!("Device: {device}")), "{stdout}");
    assert!(
        stdout.contains("Cross-signed by its own identity: yes"),
        "{stdout}"
    );
    assert!(stdout.contains("Key backup: on"), "{stdout}");
    assert!(
        stdout.contains("Index updated: ") && stdout.contains(" ago)"),
        "{stdout}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redeployed_bot_recovers_its_identity_with_the_recovery_key() {
    let mut alice = human("alice").await;
    let (mut bot, running, room) = start_bot(&mut alice, Meet::EncryptedDm, |_| {}).await;
    let old_device = saved_device(&bot);
    wait_cross_signed(&mut alice, &bot.user_id, &old_device)
        .await
        .unwrap();
    let master = master_key(&alice, &bot.user_id).await;
    let key =
        std::fs::read_to_string(citebot::bot::crypto::recovery_key_path(&bot.data_dir())).unwrap();
    running.stop().await;

    // Redeploy: empty data dir, the recovery key from the config.
    std::fs::remove_dir_all(bot.data_dir()).unwrap();
    bot.config.matrix.recovery_key = Secret(key.trim().to_string());
    let running = bot.start();
    let session = bot.data_dir().join("session.json");
    let deadline = Instant::now() + WAIT;
    while !session.exists() {
        assert!(
            Instant::now() < deadline,
            "the redeployed bot never logged in"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let new_device = saved_device(&bot);
    assert_ne!(new_device, old_device, "a fresh data dir logs in anew");
    wait_cross_signed(&mut alice, &bot.user_id, &new_device)
        .await
        .unwrap();
    // The bot's first sync after a fresh login skips history: let it pass.
    tokio::time::sleep(Duration::from_secs(1)).await;
    // Alice now knows the new device, so her message is encrypted for it.
    let (_, r) = ask(&mut alice, &bot, &room, EMPEROR).await;
    assert!(r.body().contains("July 2025"), "{}", r.body());
    assert_eq!(
        master_key(&alice, &bot.user_id).await,
        master,
        "same cross-signing identity, not a new one"
    );
    assert!(
        !citebot::bot::crypto::recovery_key_path(&bot.data_dir()).exists(),
        "recovering doesn't mint a new recovery key"
    );
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn undecryptable_message_gets_exactly_one_notice() {
    let mut alice = human("alice").await;
    let (bot, running, room) = start_bot(&mut alice, Meet::EncryptedDm, |c| {
        c.encryption.utd_wait_secs = 2;
    })
    .await;

    let lost = alice.send_undecryptable(&room).await.unwrap();
    let notice = reply_to(&mut alice, &bot, &lost).await;
    assert_eq!(notice.event["content"]["msgtype"], "m.notice");
    assert!(
        notice
            .body()
            .contains("couldn't read your encrypted message"),
        "{}",
        notice.body()
    );
    assert_eq!(
        notice.event["content"]["m.mentions"]["user_ids"],
        serde_json::json!([alice.user_id().as_str()])
    );
    // A second one soon after: the room already had its notice (rate limit).
    let lost2 = alice.send_undecryptable(&room).await.unwrap();
    // Readable messages are still answered meanwhile.
    ask(&mut alice, &bot, &room, EMPEROR).await;
    let more = alice
        .collect(Duration::from_secs(5), |s| {
            s.sender() == bot.user_id
                && (s.in_reply_to() == Some(lost.as_str())
                    || s.in_reply_to() == Some(lost2.as_str()))
        })
        .await
        .unwrap();
    assert!(
        more.is_empty(),
        "one notice only: {:?}",
        more.iter().map(|s| s.body()).collect::<Vec<_>>()
    );
    running.stop().await;
}

/// Drives an emoji verification of the bot's device from `human`'s side,
/// syncing as a client would. Returns the emojis shown, or why it ended.
async fn verify_bot(human: &mut Human, bot_user: &str, bot_device: &str) -> anyhow::Result<String> {
    let user: OwnedUserId = bot_user.try_into()?;
    let device: OwnedDeviceId = bot_device.into();
    let target = human
        .client
        .encryption()
        .get_device(&user, &device)
        .await?
        .context("the bot's device is unknown")?;
    let request = target.request_verification().await?;
    let deadline = Instant::now() + WAIT;
    let mut sas = None;
    let mut emojis = String::new();
    while Instant::now() < deadline {
        human.collect(Duration::from_millis(300), |_| false).await?;
        if request.is_cancelled() {
            anyhow::bail!(
                "cancelled: {:?}",
                request.cancel_info().map(|c| c.reason().to_owned())
            );
        }
        if sas.is_none() && request.is_ready() {
            sas = request.start_sas().await?;
        }
        let Some(sas) = &sas else { continue };
        if sas.is_cancelled() {
            anyhow::bail!(
                "SAS cancelled: {:?}",
                sas.cancel_info().map(|c| c.reason().to_owned())
            );
        }
        if emojis.is_empty()
            && let Some(shown) = sas.emoji()
        {
            emojis = shown
                .iter()
                .map(|e| e.description)
                .collect::<Vec<_>>()
                // Descriptions can be two words ("Light Bulb").
                .join(", ");
            sas.confirm().await?;
        }
        if sas.is_done() {
            return Ok(emojis);
        }
    }
    anyhow::bail!("verification did not finish within {WAIT:?}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admins_can_verify_the_bot_with_emojis_others_cannot() {
    let mut alice = human("alice").await;
    let mut bob = human("bob").await;
    let admin = alice.user_id().to_string();
    let (bot, running, _) = start_bot(&mut alice, Meet::EncryptedDm, |c| {
        c.access.admins = vec![admin];
    })
    .await;
    room_with(&mut bob, &bot.user_id, Meet::EncryptedDm).await;
    let device = saved_device(&bot);
    wait_cross_signed(&mut alice, &bot.user_id, &device)
        .await
        .unwrap();
    wait_cross_signed(&mut bob, &bot.user_id, &device)
        .await
        .unwrap();

    let emojis = verify_bot(&mut alice, &bot.user_id, &device).await.unwrap();
    assert_eq!(emojis.split(", ").count(), 7, "{emojis}");
    let user: OwnedUserId = bot.user_id.as_str().try_into().unwrap();
    let verified = alice
        .client
        .encryption()
        .get_device(&user, device.as_str().into())
        .await
        .unwrap()
        .unwrap();
    assert!(verified.is_verified(), "alice now trusts the bot's device");

    let refused = verify_bot(&mut bob, &bot.user_id, &device).await;
    assert!(
        refused
            .as_ref()
            .is_err_and(|e| e.to_string().contains("cancelled")),
        "a non-admin's request is declined: {refused:?}"
    );
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn message_whose_key_comes_late_is_answered_without_a_notice() {
    let mut alice = human("alice").await;
    let (bot, running, room) = start_bot(&mut alice, Meet::EncryptedDm, |c| {
        c.encryption.utd_wait_secs = 25;
    })
    .await;
    let device = saved_device(&bot);
    wait_cross_signed(&mut alice, &bot.user_id, &device)
        .await
        .unwrap();
    let key =
        std::fs::read_to_string(citebot::bot::crypto::recovery_key_path(&bot.data_dir())).unwrap();

    // A second device of the bot's account, trusted through the recovery
    // key. It gets the room key that the bot's own device is denied, and
    // forwards it when the bot asks its own devices for it.
    let hs = synapse().await;
    let mut sibling = Human::login(&hs.url, &bot.config.matrix.user, PASSWORD)
        .await
        .unwrap();
    sibling
        .client
        .encryption()
        .recovery()
        .recover(key.trim())
        .await
        .unwrap();
    let sibling_device = sibling.client.device_id().unwrap().to_string();
    wait_cross_signed(&mut alice, &bot.user_id, &sibling_device)
        .await
        .unwrap();
    let stop = tokio_util::sync::CancellationToken::new();
    let syncing = tokio::spawn({
        let stop = stop.clone();
        async move {
            while !stop.is_cancelled() {
                sibling
                    .collect(Duration::from_millis(500), |_| false)
                    .await
                    .unwrap();
            }
        }
    });
    // Let the bot's sync learn about its new, cross-signed sibling.
    tokio::time::sleep(Duration::from_secs(3)).await;

    // Alice's client withholds the key from the bot's device.
    let user: OwnedUserId = bot.user_id.as_str().try_into().unwrap();
    alice
        .client
        .encryption()
        .get_device(&user, device.as_str().into())
        .await
        .unwrap()
        .unwrap()
        .set_local_trust(matrix_sdk::encryption::LocalTrust::BlackListed)
        .await
        .unwrap();
    let (_, reply) = ask(&mut alice, &bot, &room, EMPEROR).await;
    assert!(
        reply.body().contains("July 2025"),
        "answered once the key came, not a notice: {}",
        reply.body()
    );
    stop.cancel();
    syncing.await.unwrap();
    running.stop().await;
}
