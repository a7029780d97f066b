//! Live-reload latency: on a generated knowledge base of 100,000 snippets (on-disk
//! index, as the bot runs), the time from writing one changed file to
//! `Engine::ask` returning its new content, through the path the bot uses: the
//! debounced watcher (`bot::watch::Changes`) → `Engine::refresh` → `ask`.
//! Prints median and p95 of that, and of the refresh alone.
//!
//! `cargo bench --bench reload` (`CITEBOT_BENCH_SNIPPETS=N` changes the size,
//! `CITEBOT_BENCH_RUNS=N` the number of edits; default 30).

use std::sync::mpsc;
use std::time::{Duration, Instant};

use citebot::bot::watch::Changes;
use citebot::search::{Engine, SearchSettings};

mod common;
use common::{Rng, percentile};

const FILES: usize = 500;

fn word(rng: &mut Rng) -> String {
    const SYLLABLES: &[&str] = &[
        "ka", "ro", "mi", "ta", "shi", "ba", "to", "lan", "gor", "mon", "ul", "na", "dam", "sen",
        "ver", "tri", "pol", "ex", "an", "sa", "qui", "zen", "dor", "vel", "ist", "ar",
    ];
    let len = 2 + rng.below(3);
    (0..len)
        .map(|_| SYLLABLES[rng.below(SYLLABLES.len())])
        .collect()
}

/// The text of generated file `f`: front matter, sections of paragraphs, and
/// (when given) a last paragraph holding `marker`.
fn file_text(f: usize, per_file: usize, marker: Option<&str>) -> String {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ (f as u64 + 1));
    let mut text = format!(
        "+++\ntitle = \"Generated topic {f}\"\nsource = \"Generated corpus\"\npublished = 2025-01-{:02}\n+++\n",
        1 + f % 28
    );
    for p in 0..per_file {
        if p % 5 == 0 {
            text.push_str(&format!("\n## Section {}\n", p / 5));
        }
        let words: Vec<String> = (0..30 + rng.below(60)).map(|_| word(&mut rng)).collect();
        text.push('\n');
        text.push_str(&words.join(" "));
        text.push_str(".\n");
    }
    if let Some(m) = marker {
        text.push_str(&format!(
            "\n## Changes\n\nThe {m} ledger was updated in the latest revision.\n"
        ));
    }
    text
}

fn main() {
    let snippets: usize = std::env::var("CITEBOT_BENCH_SNIPPETS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(100_000);
    let runs: usize = std::env::var("CITEBOT_BENCH_RUNS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(30);
    let per_file = snippets.div_ceil(FILES);
    let dir = tempfile::tempdir().unwrap();
    let knowledge = dir.path().join("knowledge");
    std::fs::create_dir_all(&knowledge).unwrap();
    for f in 0..FILES {
        std::fs::write(
            knowledge.join(format!("topic-{f:03}.md")),
            file_text(f, per_file, None),
        )
        .unwrap();
    }
    let settings = SearchSettings::new(&knowledge, Some(dir.path().join("index")));
    let started = Instant::now();
    let engine = Engine::open(&settings).unwrap();
    let stats = engine.stats();
    println!(
        "reload: {} snippets in {} files, index built in {:.1} s",
        stats.snippets,
        stats.files,
        started.elapsed().as_secs_f64()
    );

    // The bot's path: debounced watcher → refresh on the blocking pool.
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (refreshed_tx, refreshed) = mpsc::channel::<Duration>();
    let mut changes = Changes::watch(std::slice::from_ref(&knowledge)).unwrap();
    let watcher_engine = engine.clone();
    runtime.spawn(async move {
        while changes.next().await.is_some() {
            let engine = watcher_engine.clone();
            let started = Instant::now();
            tokio::task::spawn_blocking(move || engine.refresh().unwrap())
                .await
                .unwrap();
            let _ = refreshed_tx.send(started.elapsed());
        }
    });

    let mut latencies = Vec::new();
    let mut refreshes = Vec::new();
    for run in 0..runs {
        let f = (run * 37) % FILES;
        let marker = format!("zquorbix{run}");
        let written = Instant::now();
        std::fs::write(
            knowledge.join(format!("topic-{f:03}.md")),
            file_text(f, per_file, Some(&marker)),
        )
        .unwrap();
        let deadline = written + Duration::from_secs(30);
        loop {
            let a = engine.ask(&marker).unwrap();
            if a.passages.first().is_some_and(|p| p.text.contains(&marker)) {
                break;
            }
            assert!(Instant::now() < deadline, "run {run}: change never served");
            std::thread::sleep(Duration::from_millis(5));
        }
        latencies.push(written.elapsed());
        // Let this burst's refresh finish before the next edit.
        while let Ok(d) = refreshed.recv_timeout(Duration::from_millis(400)) {
            refreshes.push(d);
        }
    }
    assert_eq!(engine.stats().snippets, stats.snippets + runs.min(FILES));
    latencies.sort();
    refreshes.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "reload: write -> new answer over {runs} edits: median {:.0} ms, p95 {:.0} ms, max {:.0} ms",
        ms(percentile(&latencies, 0.5)),
        ms(percentile(&latencies, 0.95)),
        ms(*latencies.last().unwrap()),
    );
    println!(
        "reload: Engine::refresh alone over {} refreshes: median {:.0} ms, p95 {:.0} ms",
        refreshes.len(),
        ms(percentile(&refreshes, 0.5)),
        ms(percentile(&refreshes, 0.95)),
    );
}
