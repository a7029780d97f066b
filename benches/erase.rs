//! Erasing a deleted question from a full feedback file (`feedback.max_bytes`,
//! 64 MB by default, plus the 64 MB rotated copy): how long `Log::erase`
//! takes, and how long the appends of other answers and votes wait meanwhile
//! (a thread appends a vote every millisecond throughout). Twice: the deleted
//! answer in the current file (the usual case: a recent question), then in the
//! rotated one. `cargo bench --bench erase` (`ERASE_MB=N` another file size).
//! Then the question journal's compaction (what a deleted question also
//! runs): how long it takes with 10,000 replies remembered and 200 questions
//! of 30 KB open, and how long questions being taken on and marked answered
//! (the latter under the lock the bot's handlers share) wait meanwhile.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use citebot::bot::journal::{Journal, Open, Reply};
use citebot::feedback::{self, Log, Record, Vote};

fn vote(i: u64) -> Record {
    Record::reaction(
        &format!("$reply{i}:example.org"),
        "!room:example.org",
        "@someone:example.org",
        if i.is_multiple_of(3) {
            Vote::Down
        } else {
            Vote::Up
        },
        "👍",
        &format!("$reaction{i}:example.org"),
    )
}

/// Appends votes until the current file is nearly full (a megabyte short,
/// room for the votes appended during the erases) after a rotation, so the
/// rotated file is full too; returns how many were written, and how many
/// went into the rotated file.
fn fill(log: &Log, bytes: u64) -> (u64, u64) {
    let (mut i, mut first_in_current, mut last) = (0, None, 0);
    loop {
        log.append(&vote(i)).unwrap();
        let size = std::fs::metadata(log.path()).unwrap().len();
        if size < last && first_in_current.is_none() {
            first_in_current = Some(i);
        }
        last = size;
        i += 1;
        if let Some(k) = first_in_current
            && size + (1 << 20) >= bytes
        {
            return (i, k);
        }
    }
}

/// Erases the records of reply `target` while a thread appends a vote every
/// millisecond; prints the time taken and the appends' waits.
fn erase_timed(log: Arc<Log>, target: u64, label: &str) {
    let stop = Arc::new(AtomicBool::new(false));
    let appender = {
        let (log, stop) = (log.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut waits = Vec::new();
            let mut i = 10_000_000;
            while !stop.load(Ordering::Relaxed) {
                let t = Instant::now();
                log.append(&vote(i)).unwrap();
                waits.push(t.elapsed());
                i += 1;
                std::thread::sleep(Duration::from_millis(1));
            }
            waits
        })
    };
    std::thread::sleep(Duration::from_millis(20));
    let t = Instant::now();
    let erased = log
        .erase(&format!("$reply{target}:example.org"), "!room:example.org")
        .unwrap();
    let took = t.elapsed();
    stop.store(true, Ordering::Relaxed);
    let mut waits = appender.join().unwrap();
    waits.sort();
    let p = |q: f64| waits[((waits.len() - 1) as f64 * q) as usize];
    println!(
        "{label}: {erased} record(s) erased in {took:.2?}; {} appends meanwhile, wait p50 {:.2?}, p99 {:.2?}, max {:.2?}",
        waits.len(),
        p(0.5),
        p(0.99),
        waits.last().unwrap()
    );
}

/// Compacts a journal holding 10,000 replies and 200 open questions of 30 KB
/// while a thread takes on and answers a question every millisecond; prints
/// the time taken and how long each of those lines waited.
fn journal_compaction_timed() {
    let dir = tempfile::tempdir().unwrap();
    let (journal, _) = Journal::open(dir.path()).unwrap();
    let journal = Arc::new(journal);
    let open = |bytes: usize| Open {
        room: "!room:example.org".into(),
        event: serde_json::json!({"content": {"body": "x".repeat(bytes)}}),
        encrypted: false,
    };
    let reply = |i: u64| Reply {
        room: "!room:example.org".into(),
        event: format!("$reply{i}:example.org"),
        asker: "@someone:example.org".into(),
    };
    for i in 0..10_000 {
        let q = format!("$q{i}:example.org");
        journal.take(&q, open(200));
        journal.answered(&q, reply(i));
    }
    for i in 0..200 {
        journal.take(&format!("$open{i}:example.org"), open(30_000));
    }
    let stop = Arc::new(AtomicBool::new(false));
    let answering = {
        let (journal, stop) = (journal.clone(), stop.clone());
        std::thread::spawn(move || {
            let (mut taken, mut answered) = (Vec::new(), Vec::new());
            let mut i = 1_000_000;
            while !stop.load(Ordering::Relaxed) {
                let q = format!("$q{i}:example.org");
                let t = Instant::now();
                journal.take(&q, open(200));
                taken.push(t.elapsed());
                let t = Instant::now();
                journal.answered(&q, reply(i));
                answered.push(t.elapsed());
                i += 1;
                std::thread::sleep(Duration::from_millis(1));
            }
            (taken, answered)
        })
    };
    std::thread::sleep(Duration::from_millis(20));
    let t = Instant::now();
    assert!(journal.compact_now());
    let took = t.elapsed();
    stop.store(true, Ordering::Relaxed);
    let (taken, answered) = answering.join().unwrap();
    let size = std::fs::metadata(dir.path().join("questions.jsonl")).map_or(0, |m| m.len());
    println!(
        "question journal ({:.1} MB after): compacted in {took:.2?}; meanwhile {} questions taken on (synced), wait {}; answered, wait {}",
        size as f64 / 1048576.0,
        taken.len(),
        spread(taken),
        spread(answered)
    );
}

/// "p50 …, p99 …, max …" of `waits`.
fn spread(mut waits: Vec<Duration>) -> String {
    waits.sort();
    let p = |q: f64| waits[((waits.len() - 1) as f64 * q) as usize];
    format!(
        "p50 {:.2?}, p99 {:.2?}, max {:.2?}",
        p(0.5),
        p(0.99),
        waits.last().unwrap()
    )
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let mb: u64 = std::env::var("ERASE_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64);
    let bytes = mb << 20;
    let dir = tempfile::tempdir().unwrap();
    let log = Arc::new(Log::open(dir.path(), bytes).unwrap());
    let t = Instant::now();
    let (n, in_rotated) = fill(&log, bytes);
    let sizes = |log: &Log| {
        let size = |p: &std::path::Path| std::fs::metadata(p).map_or(0, |m| m.len()) >> 20;
        (size(log.path()), size(&feedback::rotated(log.path())))
    };
    let (current, older) = sizes(&log);
    println!(
        "{n} records written in {:.1?}: {current} MB current, {older} MB rotated",
        t.elapsed()
    );
    erase_timed(log.clone(), n - 10, "in the current file");
    erase_timed(log.clone(), in_rotated / 2, "in the rotated file");
    journal_compaction_timed();
}
