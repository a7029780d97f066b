//! Questions in DMs and by mention get a threaded m.notice with the answer,
//! citations and m.mentions = the asker; out-of-scope questions are refused;
//! chatter, notices and the bot's own messages are ignored; an edit of an
//! answered question edits the reply, and deleting it deletes the reply; user
//! text is escaped in the HTML.

use matrix_sdk::ruma::OwnedEventId;
use matrix_sdk::ruma::events::Mentions;
use matrix_sdk::ruma::events::relation::Thread;
use matrix_sdk::ruma::events::room::message::{
    Relation, ReplacementMetadata, RoomMessageEventContent,
};

use crate::harness::*;

fn assert_threaded_notice(reply: &citebot::bot::human::Seen, question: &str, asker: &str) {
    let c = &reply.event["content"];
    assert_eq!(c["msgtype"], "m.notice", "{c}");
    assert_eq!(c["format"], "org.matrix.custom.html", "{c}");
    assert_eq!(c["m.relates_to"]["rel_type"], "m.thread", "{c}");
    assert_eq!(c["m.relates_to"]["event_id"], question, "{c}");
    assert_eq!(
        c["m.mentions"]["user_ids"],
        serde_json::json!([asker]),
        "{c}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn question_in_dm_gets_threaded_cited_answer() {
    let mut alice = human("alice").await;
    let (bot, running, room) = start_bot(&mut alice, Meet::Dm, |_| {}).await;

    let (q, reply) = ask(&mut alice, &bot, &room, EMPEROR).await;
    assert_threaded_notice(&reply, q.as_str(), alice.user_id().as_str());
    assert!(reply.body().contains("July 2025"), "{}", reply.body());
    assert!(reply.html().contains("July 2025"), "{}", reply.html());
    // Each passage carries its citation: the knowledge files' titles or sources appear.
    let sources = bot.engine.sources();
    assert!(
        sources
            .iter()
            .any(|s| reply.body().contains(&s.title) || reply.body().contains(&s.source)),
        "{}",
        reply.body()
    );

    // Follow-ups in the answer's thread are searched with what came before
    // them: "he" is the emperor, "it" his visit (alone, the first is answered
    // with the tradition his trip continues, the second with what Russia and
    // China will hold).
    let answer_line = |r: &citebot::bot::human::Seen| {
        let body = r.body();
        body.lines().next().unwrap_or("").to_string()
    };
    let first = alice
        .send(&room, in_thread(&q, "Who is he travelling with?"))
        .await
        .unwrap();
    let first_reply = reply_to(&mut alice, &bot, &first).await;
    assert_threaded_notice(&first_reply, q.as_str(), alice.user_id().as_str());
    assert!(
        answer_line(&first_reply).contains("Masako"),
        "{}",
        first_reply.body()
    );
    let f = alice
        .send(&room, in_thread(&q, "What will be held during it?"))
        .await
        .unwrap();
    let r = reply_to(&mut alice, &bot, &f).await;
    assert!(answer_line(&r).contains("mourning"), "{}", r.body());
    // An edited follow-up is still one: its new words are searched with the
    // thread's question before it.
    let edit = RoomMessageEventContent::text_plain("What will be held during it?")
        .make_replacement(ReplacementMetadata::new(first.clone(), None));
    alice.send(&room, edit).await.unwrap();
    let edited = edit_of(&mut alice, &bot, &first_reply).await;
    let line = edited.lines().next().unwrap_or("");
    assert!(line.contains("mourning"), "{edited}");

    let (q, refusal) = ask(&mut alice, &bot, &room, FRANCE).await;
    assert_threaded_notice(&refusal, q.as_str(), alice.user_id().as_str());
    assert!(
        refusal.body().starts_with(citebot::messages::DONT_KNOW),
        "{}",
        refusal.body()
    );
    assert!(
        refusal.body().contains(citebot::messages::CLOSEST_TOPICS),
        "a refusal names the closest topics: {}",
        refusal.body()
    );
    assert!(
        !refusal.body().contains(citebot::messages::ANSWER),
        "{}",
        refusal.body()
    );
    running.stop().await;
}

/// `text` as a message in the thread on `root`.
fn in_thread(root: &OwnedEventId, text: &str) -> RoomMessageEventContent {
    let mut content = RoomMessageEventContent::text_plain(text);
    content.relates_to = Some(Relation::Thread(Thread::plain(root.clone(), root.clone())));
    content
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn group_room_answers_mentions_and_commands_only() {
    let mut alice = human("alice").await;
    let bob = human("bob").await;
    let (bot, running, room) = start_bot(&mut alice, Meet::Group(&[&bob]), |_| {}).await;
    let bob_room = bob.room(room.room_id()).unwrap();
    let is_bot =
        |s: &citebot::bot::human::Seen| s.sender() == bot.user_id && s.kind() == "m.room.message";

    // Un-mentioned chatter, even a question: ignored.
    alice.say(&room, EMPEROR).await.unwrap();
    // Another bot's notice mentioning us: ignored.
    let notice =
        RoomMessageEventContent::notice_plain(format!("{} {EMPEROR}", bot.user_id)).add_mentions(
            Mentions::with_user_ids([bot.user_id.as_str().try_into().unwrap()]),
        );
    bob.send(&bob_room, notice).await.unwrap();

    // An intentional mention (m.mentions + name in the body).
    let mention =
        RoomMessageEventContent::text_plain(format!("{}: {EMPEROR}", bot.user_id)).add_mentions(
            Mentions::with_user_ids([bot.user_id.as_str().try_into().unwrap()]),
        );
    let q = bob.send(&bob_room, mention).await.unwrap();
    let reply = reply_to(&mut alice, &bot, &q).await;
    assert_threaded_notice(&reply, q.as_str(), bob.user_id().as_str());
    assert!(reply.body().contains("July 2025"), "{}", reply.body());

    // An edit of the mention is no new question: the reply is edited.
    let edit = RoomMessageEventContent::text_plain(format!("{}: {FRANCE}", bot.user_id))
        .make_replacement(ReplacementMetadata::new(q.clone(), None));
    bob.send(&bob_room, edit).await.unwrap();
    let edited = edit_of(&mut alice, &bot, &reply).await;
    assert!(edited.starts_with(citebot::messages::DONT_KNOW), "{edited}");
    // Someone else's edit of it asks nothing.
    let edit = RoomMessageEventContent::text_plain(format!("{}: {EMPEROR}", bot.user_id))
        .make_replacement(ReplacementMetadata::new(q.clone(), None));
    alice.send(&room, edit).await.unwrap();

    // The command prefix works without a mention.
    ask(&mut alice, &bot, &room, &format!("!ask {EMPEROR}")).await;

    // A follow-up question in the thread of the answer needs no mention; it is
    // answered in that thread. Other talk there, and a question in a thread
    // the bot has no answer in, are not for it.
    let follow_up = in_thread(&q, "Which countries had Naruhito visited before?");
    let f = bob.send(&bob_room, follow_up).await.unwrap();
    let reply = reply_to(&mut alice, &bot, &f).await;
    assert!(reply.body().contains("United Kingdom"), "{}", reply.body());
    assert_eq!(
        reply.event["content"]["m.relates_to"]["event_id"].as_str(),
        Some(q.as_str()),
        "answered in the thread"
    );
    bob.send(&bob_room, in_thread(&q, "thanks, that helps"))
        .await
        .unwrap();
    // Someone else's question in the asker's thread is for the asker.
    alice
        .send(&room, in_thread(&q, "did you find the date?"))
        .await
        .unwrap();
    let unanswered = alice.say(&room, "lunch at noon").await.unwrap();
    alice
        .send(&room, in_thread(&unanswered, "is it July?"))
        .await
        .unwrap();

    let extra = alice.collect(QUIET, is_bot).await.unwrap();
    assert!(
        extra.is_empty(),
        "unexpected bot messages: {:?}",
        extra
            .iter()
            .map(|s| (s.in_reply_to(), s.body()))
            .collect::<Vec<_>>()
    );
    running.stop().await;
}

/// With plain replies (`answer.reply_mode = "reply"`), a thread opened on
/// the bot's answer is said to it: a question there is a follow-up, answered
/// in that thread, whoever asks.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_question_in_a_thread_on_a_plain_reply_is_a_follow_up() {
    let mut alice = human("alice").await;
    let bob = human("bob").await;
    let (bot, running, room) = start_bot(&mut alice, Meet::Group(&[&bob]), |c| {
        c.answer.reply_mode = citebot::config::ReplyMode::Reply;
    })
    .await;
    let bob_room = bob.room(room.room_id()).unwrap();
    let (_, reply) = ask(&mut alice, &bot, &room, &format!("!ask {EMPEROR}")).await;
    assert!(
        reply.event["content"]["m.relates_to"]["rel_type"].is_null(),
        "a plain reply"
    );
    let answer = reply.event_id().unwrap();
    let follow_up = in_thread(&answer, "Which countries had Naruhito visited before?");
    let f = bob.send(&bob_room, follow_up).await.unwrap();
    let r = reply_to(&mut alice, &bot, &f).await;
    assert!(r.body().contains("United Kingdom"), "{}", r.body());
    assert_eq!(
        r.event["content"]["m.relates_to"]["event_id"].as_str(),
        Some(answer.as_str()),
        "answered in the thread on the answer"
    );
    // The thread's questions go back to the one the answer it was opened on
    // answers: "it" is the emperor's visit.
    let f = alice
        .send(&room, in_thread(&answer, "What will be held during it?"))
        .await
        .unwrap();
    let r = reply_to(&mut alice, &bot, &f).await;
    let line = r.body().lines().next().unwrap_or("").to_string();
    assert!(line.contains("mourning"), "{}", r.body());
    running.stop().await;
}

/// The asker edits an answered question (a typo fixed, another question
/// asked): the bot edits its reply to answer the message as it now reads, in
/// place, with no second reply; after a restart too (the question journal
/// remembers which reply answered which message, a command's too).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edited_question_gets_its_reply_edited() {
    let mut alice = human("alice").await;
    let (bot, running, room) = start_bot(&mut alice, Meet::Dm, |_| {}).await;
    let (q, reply) = ask(&mut alice, &bot, &room, FRANCE).await;
    assert!(reply.body().starts_with(citebot::messages::DONT_KNOW));
    let fix = |text: &str| {
        RoomMessageEventContent::text_plain(text)
            .make_replacement(ReplacementMetadata::new(q.clone(), None))
    };
    alice.send(&room, fix(EMPEROR)).await.unwrap();
    let edited = edit_of(&mut alice, &bot, &reply).await;
    assert!(edited.contains("July 2025"), "{edited}");
    assert!(
        !edited.starts_with(citebot::messages::DONT_KNOW),
        "{edited}"
    );

    // A command's reply is in no feedback record: the journal keeps it.
    let (why, why_reply) = ask(&mut alice, &bot, &room, "!why zebra").await;

    running.stop().await;
    let running = bot.start();
    ask(&mut alice, &bot, &room, "!help").await;
    alice.send(&room, fix(FRANCE)).await.unwrap();
    let edited = edit_of(&mut alice, &bot, &reply).await;
    assert!(edited.starts_with(citebot::messages::DONT_KNOW), "{edited}");
    let why_fixed = RoomMessageEventContent::text_plain("!why emperor")
        .make_replacement(ReplacementMetadata::new(why, None));
    alice.send(&room, why_fixed).await.unwrap();
    let edited = edit_of(&mut alice, &bot, &why_reply).await;
    assert!(edited.starts_with("Why, for “emperor”"), "{edited}");

    // Edited at once, while its answer is on its way: the reply, then its edit.
    let q = alice.say(&room, FRANCE).await.unwrap();
    let now = RoomMessageEventContent::text_plain(EMPEROR)
        .make_replacement(ReplacementMetadata::new(q.clone(), None));
    alice.send(&room, now).await.unwrap();
    let reply = reply_to(&mut alice, &bot, &q).await;
    let edited = edit_of(&mut alice, &bot, &reply).await;
    assert!(edited.contains("July 2025"), "{edited}");
    let extra = bot_messages(&mut alice, &bot, QUIET).await;
    assert!(extra.is_empty(), "one edit each, no new reply: {extra:?}");
    running.stop().await;
}

/// A deleted question takes its reply with it (the reply may quote it, as
/// `!why` does), and its words leave the bot's files; a question deleted
/// straight after it was sent keeps no reply, whether its answer was out yet
/// or not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_question_takes_its_reply_with_it() {
    let mut alice = human("alice").await;
    let (bot, running, room) = start_bot(&mut alice, Meet::Dm, |_| {}).await;
    let (q, reply) = ask(&mut alice, &bot, &room, "!why zebra").await;
    let reply = reply.event_id().unwrap();
    // Edited first: the bot's edit of its reply goes too (a client that
    // shows no edits shows it as a message of its own).
    let fix = RoomMessageEventContent::text_plain("!why emperor")
        .make_replacement(ReplacementMetadata::new(q.clone(), None));
    alice.send(&room, fix).await.unwrap();
    let edit = alice
        .wait_for(WAIT, |s| {
            s.sender() == bot.user_id
                && s.event["content"]["m.relates_to"]["event_id"] == reply.as_str()
        })
        .await
        .unwrap()
        .event_id()
        .unwrap();
    // Across a restart: the journal remembers the reply and its edit.
    running.stop().await;
    let running = bot.start();
    ask(&mut alice, &bot, &room, "!help").await;
    alice.redact(&room, q.as_str()).await.unwrap();
    let retraction = retraction_of(&mut alice, &bot, &reply).await;
    let reason = retraction.event["content"]["reason"].as_str();
    assert_eq!(reason, Some(citebot::messages::QUESTION_DELETED));
    retraction_of(&mut alice, &bot, &edit).await;

    // Its words go from the bot's files too: the feedback file, the journal.
    let secret = format!("{EMPEROR} My PIN is 40417.");
    let (q, reply) = ask(&mut alice, &bot, &room, &secret).await;
    let files = [
        bot.data_dir().join(citebot::feedback::FILE),
        bot.data_dir().join("questions.jsonl"),
    ];
    let holding = || {
        let text = |p: &std::path::PathBuf| std::fs::read_to_string(p).unwrap_or_default();
        files.iter().filter(|p| text(p).contains("40417")).count()
    };
    let deadline = std::time::Instant::now() + WAIT;
    while holding() < 2 && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(holding(), 2, "both files hold the question before");
    alice.redact(&room, q.as_str()).await.unwrap();
    retraction_of(&mut alice, &bot, &reply.event_id().unwrap()).await;
    let deadline = std::time::Instant::now() + WAIT;
    while holding() > 0 && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(holding(), 0, "a deleted question's words stayed on disk");

    let q = alice.say(&room, EMPEROR).await.unwrap();
    alice.redact(&room, q.as_str()).await.unwrap();
    let seen = alice
        .collect(QUIET * 2, |s| s.sender() == bot.user_id)
        .await
        .unwrap();
    let replies: Vec<_> = seen
        .iter()
        .filter(|s| s.is_reply(&bot.user_id, q.as_str()))
        .collect();
    for r in &replies {
        let id = r.event_id().unwrap();
        let retracted = seen.iter().any(|s| s.redacts() == Some(id.as_str()))
            || retraction_of(&mut alice, &bot, &id)
                .await
                .redacts()
                .is_some();
        assert!(retracted, "a reply to a deleted question stayed");
    }
    assert!(replies.len() <= 1, "{replies:?}");
    // Nor is it answered after a restart.
    running.stop().await;
    let running = bot.start();
    ask(&mut alice, &bot, &room, "!help").await;
    let late = alice
        .collect(QUIET, |s| s.is_reply(&bot.user_id, q.as_str()))
        .await
        .unwrap();
    assert!(
        late.is_empty(),
        "a deleted question answered after a restart"
    );
    running.stop().await;
}

/// A group room whose other members are invited but haven't joined is not a
/// direct chat: its chatter goes unanswered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_room_before_the_others_join_is_not_a_dm() {
    let mut alice = human("alice").await;
    let bob = human("bob").await;
    let (bot, running, room) = start_bot(&mut alice, Meet::GroupInvited(&[&bob]), |_| {}).await;
    // Bob is invited, not joined: two joined members, three in the room.
    alice
        .say(&room, "just chatting until bob is here")
        .await
        .unwrap();
    alice.say(&room, EMPEROR).await.unwrap();
    let (_, reply) = ask(&mut alice, &bot, &room, &format!("!ask {EMPEROR}")).await;
    assert!(reply.body().contains("July 2025"), "{}", reply.body());
    let is_bot =
        |s: &citebot::bot::human::Seen| s.sender() == bot.user_id && s.kind() == "m.room.message";
    let extra = alice.collect(QUIET, is_bot).await.unwrap();
    assert!(
        extra.is_empty(),
        "chatter was answered: {:?}",
        extra.iter().map(|s| s.body()).collect::<Vec<_>>()
    );
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn markup_in_questions_is_escaped() {
    let mut alice = human("alice").await;
    let (bot, running, room) = start_bot(&mut alice, Meet::Dm, |_| {}).await;
    for text in [
        "<b>When</b> is the emperor visiting Mongolia? <script>alert(1)</script>".to_string(),
        "!why <b>emperor</b> <script>alert(1)</script>".to_string(),
        "<script>alert(1)</script> <b>zebra</b>?".to_string(),
    ] {
        let (_, reply) = ask(&mut alice, &bot, &room, &text).await;
        let html = reply.html();
        assert!(!html.contains("<script"), "{html}");
        assert!(
            !html.contains("<b>When") && !html.contains("<b>emperor") && !html.contains("<b>zebra"),
            "{html}"
        );
    }
    // `!why` echoes the question: escaped, not dropped.
    let (_, reply) = ask(&mut alice, &bot, &room, "!why <script>x</script> emperor").await;
    assert!(reply.html().contains("&lt;script&gt;"), "{}", reply.html());
    running.stop().await;
}

/// Read receipts are coalesced: after a burst of questions the bot's receipt
/// in the room points at the latest one it answered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_read_receipt_marks_the_latest_question_answered() {
    use matrix_sdk::ruma::events::receipt::{ReceiptThread, ReceiptType};
    use std::time::Duration;

    let mut alice = human("alice").await;
    let (bot, running, room) = start_bot(&mut alice, Meet::Dm, |_| {}).await;
    let mut last = None;
    for q in [EMPEROR, "Who did Battsetseg meet in Japan?", EMPEROR] {
        last = Some(ask(&mut alice, &bot, &room, q).await.0);
    }
    let last = last.unwrap();
    let bot_id: matrix_sdk::ruma::OwnedUserId = bot.user_id.as_str().try_into().unwrap();
    let deadline = std::time::Instant::now() + WAIT;
    let receipt = loop {
        // Receipts arrive with syncs; `collect` syncs for the window.
        alice
            .collect(Duration::from_millis(500), |_| false)
            .await
            .unwrap();
        let receipt = room
            .load_user_receipt(ReceiptType::Read, ReceiptThread::Unthreaded, &bot_id)
            .await
            .unwrap();
        if receipt.as_ref().is_some_and(|(id, _)| *id == last)
            || std::time::Instant::now() > deadline
        {
            break receipt;
        }
    };
    assert_eq!(receipt.map(|(id, _)| id), Some(last));
    running.stop().await;
}
