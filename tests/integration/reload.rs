//! Live reload against the running bot: a new knowledge file is answered from
//! within 2 s of being written; a broken edit keeps the last good version served
//! while `!status` and the admin room name file and line; the fix is served; a
//! deleted file's content is gone. A PDF dropped in is answered, cited by page.

use std::time::{Duration, Instant};

use crate::harness::*;

const QUESTION: &str = "How is the zorbleflax painted?";

fn file(colour: &str) -> String {
    format!(
        "+++\ntitle = \"Zorbleflax\"\nsource = \"Test Gazette\"\npublished = 2025-05-01\n+++\n\n## Paint\n\nThe zorbleflax is painted {colour} every spring.\n"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edits_to_knowledge_files_are_served_without_a_restart() {
    let mut boss = human("boss").await;
    let mut bot = BotSetup::new(|_| {}).await;
    // The admin room exists before the bot starts; the bot accepts its invite.
    let admin_room = boss
        .create_room(
            "citebot admins",
            &[bot.user_id.as_str().try_into().unwrap()],
            false,
        )
        .await
        .unwrap();
    bot.config.access.admin_room = admin_room.room_id().to_string();
    let running = bot.start();
    boss.wait_membership(admin_room.room_id(), &bot.user_id, "join", WAIT)
        .await
        .unwrap();
    let mut alice = human("alice").await;
    let room = room_with(&mut alice, &bot.user_id, Meet::Dm).await;

    let (_, before) = ask(&mut alice, &bot, &room, QUESTION).await;
    assert!(!before.body().contains("vermilion"), "{}", before.body());

    // Added: answered from the new file within 2 s of the write.
    let path = bot.knowledge_dir().join("japan-mongolia/zorbleflax.md");
    let written = Instant::now();
    std::fs::write(&path, file("vermilion")).unwrap();
    let r = ask_until(
        &mut alice,
        &bot,
        &room,
        QUESTION,
        Duration::from_secs(2),
        |r| r.body().contains("vermilion"),
    )
    .await;
    let took = written.elapsed();
    eprintln!("write -> answer from the new file: {} ms", took.as_millis());
    assert!(took < Duration::from_secs(2), "took {took:?}");
    assert!(
        r.body().contains("japan-mongolia/zorbleflax.md"),
        "{}",
        r.body()
    );

    // Broken: the last good version is still served; !status names file and line,
    // and the admin room is told once.
    std::fs::write(
        &path,
        "+++\ntitle = \"Zorbleflax\"\n\nThe zorbleflax is painted ultramarine.\n",
    )
    .unwrap();
    let status = ask_until(&mut alice, &bot, &room, "!status", WAIT, |r| {
        r.body().contains("zorbleflax.md:1:")
    })
    .await;
    assert!(status.body().contains("Device: "), "{}", status.body());
    assert!(
        status.body().contains("last good version"),
        "{}",
        status.body()
    );
    let (_, r) = ask(&mut alice, &bot, &room, QUESTION).await;
    assert!(r.body().contains("vermilion"), "{}", r.body());
    let post = boss
        .wait_for(WAIT, |s| {
            s.room_id == admin_room.room_id()
                && s.sender() == bot.user_id
                && s.body().contains("zorbleflax.md:1:")
        })
        .await
        .unwrap();
    assert!(post.body().contains("last good version"), "{}", post.body());
    // It quotes what files hold, "@room" and names included: it mentions no one.
    assert_eq!(
        post.event["content"]["m.mentions"],
        serde_json::json!({}),
        "{}",
        post.event
    );

    // Fixed: the new content replaces the old; no problems left.
    std::fs::write(&path, file("ultramarine")).unwrap();
    let r = ask_until(&mut alice, &bot, &room, QUESTION, WAIT, |r| {
        r.body().contains("ultramarine")
    })
    .await;
    assert!(!r.body().contains("vermilion"), "{}", r.body());
    let (_, status) = ask(&mut alice, &bot, &room, "!status").await;
    assert!(
        status.body().contains("Problems in knowledge files: none"),
        "{}",
        status.body()
    );
    boss.wait_for(WAIT, |s| {
        s.room_id == admin_room.room_id()
            && s.sender() == bot.user_id
            && s.body().contains("without problems again")
    })
    .await
    .unwrap();

    // Deleted: its content is gone.
    std::fs::remove_file(&path).unwrap();
    let r = ask_until(&mut alice, &bot, &room, QUESTION, WAIT, |r| {
        !r.body().contains("zorbleflax.md")
    })
    .await;
    assert!(!r.body().contains("ultramarine"), "{}", r.body());
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_editor_saving_through_a_temp_file_and_rename_is_picked_up() {
    let mut alice = human("alice").await;
    let (bot, running, room) = start_bot(&mut alice, Meet::Dm, |_| {}).await;
    let dir = bot.knowledge_dir().join("japan-mongolia");
    // Written beside the target under a name the watcher ignores, then renamed
    // over it, as vim, VS Code and friends save.
    let tmp = dir.join(".zorbleflax.md.tmp");
    std::fs::write(&tmp, file("saffron")).unwrap();
    std::fs::rename(&tmp, dir.join("zorbleflax.md")).unwrap();
    let r = ask_until(&mut alice, &bot, &room, QUESTION, WAIT, |r| {
        r.body().contains("saffron")
    })
    .await;
    // Cited to the file saved, never to the temporary one.
    assert!(
        r.body().contains("japan-mongolia/zorbleflax.md"),
        "{}",
        r.body()
    );
    assert!(!r.body().contains(".zorbleflax.md.tmp"), "{}", r.body());
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pdf_dropped_into_the_folder_is_answered_and_cited_by_its_page() {
    let mut alice = human("alice").await;
    let (bot, running, room) = start_bot(&mut alice, Meet::Dm, |_| {}).await;
    let pdf = citebot::knowledge::written_pdf(&[
        &[&["1 Care of the zorbleflax"], &["It is fed twice a day."]],
        &[
            &["2 Paint"],
            &["The zorbleflax is painted", "teal every spring."],
        ],
    ]);
    std::fs::write(bot.knowledge_dir().join("japan-mongolia/care.pdf"), pdf).unwrap();
    let r = ask_until(&mut alice, &bot, &room, QUESTION, WAIT, |r| {
        r.body().contains("teal")
    })
    .await;
    // The page the section is on, not a line of the text made from it.
    let cited = "japan-mongolia/care.pdf, page 2";
    assert!(r.body().contains(cited), "{}", r.body());
    assert!(
        r.html().contains(&format!("{cited}</code>")),
        "{}",
        r.html()
    );
    assert!(!r.body().contains("care.pdf:"), "{}", r.body());
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_workbook_and_a_windows_note_dropped_into_the_folder_are_answered_and_cited() {
    use citebot::knowledge::WorkbookCell::Text;
    let mut alice = human("alice").await;
    let (bot, running, room) = start_bot(&mut alice, Meet::Dm, |_| {}).await;
    let cells = [
        Text("A1", "Creature"),
        Text("B1", "Care"),
        Text("A2", "Quibbler"),
        Text("B2", "Fed at noon."),
        Text("A5", "Zorbleflax"),
        Text("B5", "Painted ochre every spring."),
    ];
    let book = citebot::knowledge::written_workbook(&[("Care", false, &cells, &[])], "Care sheet");
    std::fs::write(bot.knowledge_dir().join("japan-mongolia/care.xlsx"), book).unwrap();
    let r = ask_until(&mut alice, &bot, &room, QUESTION, WAIT, |r| {
        r.body().contains("ochre")
    })
    .await;
    // The row as the spreadsheet numbers it, with its header cells.
    let cited = "japan-mongolia/care.xlsx, row 5";
    assert!(r.body().contains(cited), "{}", r.body());
    assert!(
        r.html().contains(&format!("{cited}</code>")),
        "{}",
        r.html()
    );
    assert!(r.body().contains("Creature: Zorbleflax"), "{}", r.body());

    // A note saved by a Windows editor (Windows-1252: curly quotes, é) is
    // quoted as written; a workbook that is no workbook is named in `!status`
    // as citations name its place: the document, not a line of it.
    let dir = bot.knowledge_dir().join("japan-mongolia");
    let note = "The glimmerbeast sleeps in the café’s “crème” basket.\r\n";
    let cp1252 = encoding_rs::WINDOWS_1252.encode(note).0;
    std::fs::write(dir.join("note.txt"), &cp1252[..]).unwrap();
    std::fs::write(dir.join("broken.xlsx"), "not a workbook").unwrap();
    let r = ask_until(
        &mut alice,
        &bot,
        &room,
        "Where does the glimmerbeast sleep?",
        WAIT,
        |r| r.body().contains("basket"),
    )
    .await;
    assert!(r.body().contains("café’s “crème” basket"), "{}", r.body());
    let (_, status) = ask(&mut alice, &bot, &room, "!status").await;
    let named = "japan-mongolia/broken.xlsx: cannot read file";
    assert!(status.body().contains(named), "{}", status.body());
    assert!(
        !status.body().contains("broken.xlsx:1"),
        "{}",
        status.body()
    );
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_that_a_page_includes_is_followed_like_the_page() {
    let mut alice = human("alice").await;
    let (bot, running, room) = start_bot(&mut alice, Meet::Dm, |_| {}).await;
    let dir = bot.knowledge_dir().join("japan-mongolia");
    // Not a page (YAML is no format citebot reads), but the page below shows
    // it, as mdBook does: an edit to it must reach the answers too. (In the
    // page's folder: in a knowledge folder, each folder is a collection.)
    let part = dir.join("paint.yaml");
    let yaml = |colour: &str| {
        format!("# The zorbleflax is painted {colour} every spring.\nzorbleflax_colour: {colour}\n")
    };
    std::fs::write(&part, yaml("vermilion")).unwrap();
    std::fs::write(
        dir.join("zorbleflax.md"),
        "+++\ntitle = \"Zorbleflax\"\nsource = \"Test Gazette\"\npublished = 2025-05-01\n+++\n\n## Paint\n\nHow the zorbleflax is painted:\n\n```yaml\n{{#include paint.yaml}}\n```\n",
    )
    .unwrap();
    let r = ask_until(&mut alice, &bot, &room, QUESTION, WAIT, |r| {
        r.body().contains("vermilion")
    })
    .await;
    // Cited to the page, at the include's line.
    assert!(
        r.body().contains("japan-mongolia/zorbleflax.md:"),
        "{}",
        r.body()
    );
    let edited = Instant::now();
    std::fs::write(&part, yaml("saffron")).unwrap();
    let r = ask_until(&mut alice, &bot, &room, QUESTION, WAIT, |r| {
        r.body().contains("saffron")
    })
    .await;
    eprintln!(
        "included file edited -> answer from it: {} ms",
        edited.elapsed().as_millis()
    );
    assert!(!r.body().contains("vermilion"), "{}", r.body());
    running.stop().await;
}
