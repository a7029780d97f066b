//! Search benchmarks: question → `Answer` on the seed knowledge base and on a
//! generated knowledge base of 100,000 snippets (latency distribution with p50/p95/p99),
//! the time to build the index for that generated base, and, with the semantic model
//! installed, the scan for the passages nearest a question in meaning over as many.
//!
//! `cargo bench --bench search` (add `-- --quick` for a shorter criterion run;
//! `CITEBOT_BENCH_SNIPPETS=N` changes the generated size, `CITEBOT_BENCH_BUILDS=N`
//! the number of timed builds). `CITEBOT_BENCH_DUMP=FILE` writes every generated
//! question's answer as JSON lines, so a speed change can be shown to change no
//! answer: dump before and after, and compare the files. The index's size on
//! disk and the memory of a fresh process serving it are reported too.
//!
//! The semantic model measured is the default one, or the one in
//! `CITEBOT_SEMANTIC_MODEL=DIR` (`models/all-MiniLM-L6-v2` for the small one).
//!
//! A docs folder is timed too: a generated one of 10 MB of Markdown pages shaped
//! as teams keep theirs (`CITEBOT_BENCH_DOCS_MB=N` another size), or a real one
//! (`CITEBOT_BENCH_DOCS=DIR`); `CITEBOT_BENCH_DOCS_ONLY=1` stops after it.
//!
//! To profile: `CITEBOT_BENCH_DIR=DIR` keeps the generated knowledge and index,
//! `CITEBOT_BENCH_BUILD_ONLY=1` stops after the build, and
//! `CITEBOT_BENCH_SERVE='DIR/generated/knowledge|DIR/generated/index-0'` runs
//! only the serving side (`CITEBOT_BENCH_KIND=0..3` one kind of question,
//! `CITEBOT_BENCH_ROUNDS=N` times, `CITEBOT_BENCH_COLLECTION=part-0` as a room
//! limited to that collection) and prints those questions' latency, e.g.
//! under `perf record -g`.

use std::path::Path;
use std::time::Instant;

use citebot::search::{AskOptions, Engine, SearchSettings, SemanticModel};
use criterion::{BenchmarkId, Criterion};

mod common;
use common::{Rng, percentile};

const SEED_QUESTIONS: &[&str] = &[
    "when is the emperor visiting Mongolia?",
    "Which airport is Japan paying to expand?",
    "wen is the emprer going to mongolia",
    "What is the capital of France?",
    "third neighbour policy",
    "How many Japanese detainees died in Mongolia after the war?",
];

fn vocabulary(rng: &mut Rng, n: usize) -> Vec<String> {
    const SYLLABLES: &[&str] = &[
        "ka", "ro", "mi", "ta", "shi", "ba", "to", "lan", "gor", "mon", "ul", "na", "dam", "sen",
        "ver", "tri", "pol", "ex", "an", "sa", "qui", "zen", "dor", "vel", "ist", "ar", "bel",
        "cor", "ny", "ph",
    ];
    let mut words = Vec::with_capacity(n);
    while words.len() < n {
        let len = 2 + rng.below(3);
        let w: String = (0..len)
            .map(|_| SYLLABLES[rng.below(SYLLABLES.len())])
            .collect();
        words.push(w);
    }
    words
}

/// Writes `snippets` paragraphs into 500 knowledge files under `dir`; returns the
/// vocabulary used.
fn generate(dir: &Path, snippets: usize) -> Vec<String> {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let vocab = vocabulary(&mut rng, 50_000);
    let files = 500;
    let per_file = snippets.div_ceil(files);
    std::fs::create_dir_all(dir).unwrap();
    let mut written = 0;
    for f in 0..files {
        let mut text = format!(
            "+++\ntitle = \"Generated topic {f}: {} {}\"\nsource = \"Generated corpus\"\npublished = 2025-01-{:02}\n+++\n",
            vocab[rng.zipf(vocab.len())],
            vocab[rng.zipf(vocab.len())],
            1 + f % 28
        );
        for p in 0..per_file {
            if written == snippets {
                break;
            }
            if p % 5 == 0 {
                text.push_str(&format!(
                    "\n## Section {} {}\n",
                    p / 5,
                    vocab[rng.zipf(vocab.len())]
                ));
            }
            // Over 300 characters whatever its word count: a shorter paragraph
            // would join the passage before it (`knowledge::markdown`), and the
            // base would hold fewer passages than it is said to.
            let words = 30 + rng.below(80);
            let mut para = String::new();
            for i in 0.. {
                if i >= words && para.len() > 320 {
                    break;
                }
                if i > 0 {
                    para.push(if i % 15 == 0 { '.' } else { ' ' });
                    if i % 15 == 0 {
                        para.push(' ');
                    }
                }
                para.push_str(&vocab[rng.zipf(vocab.len())]);
                if i % 23 == 7 {
                    para.push_str(&format!(" in {}", 1990 + rng.below(35)));
                }
            }
            para.push('.');
            let para: String = para.chars().take(790).collect();
            text.push('\n');
            text.push_str(&para);
            text.push('\n');
            written += 1;
        }
        // Two collections, so a room limited to one can be timed.
        let collection = dir.join(format!("part-{}", f % 2));
        std::fs::create_dir_all(&collection).unwrap();
        std::fs::write(collection.join(format!("topic-{f:03}.md")), text).unwrap();
    }
    vocab
}

/// Writes a docs folder of about `bytes` bytes under `dir`, shaped as teams keep
/// theirs: nested folders of Markdown pages without front matter or with a
/// site generator's YAML, a `#` title, `##`/`###` sections, paragraphs that lead
/// in to fenced code, lists, tables, links and HTML comments. Returns how many
/// pages it wrote.
fn generate_docs(dir: &Path, vocab: &[String], bytes: usize) -> usize {
    let mut rng = Rng(0x2545_F491_4F6C_DD1D);
    let sentence = |rng: &mut Rng, words: usize| {
        let mut s: Vec<String> = (0..words)
            .map(|_| vocab[rng.zipf(vocab.len())].clone())
            .collect();
        s[0] = s[0][..1].to_uppercase() + &s[0][1..];
        if words > 6 {
            s[words / 2] = format!("`{}_{}`", s[words / 2], s[1]);
        }
        s.join(" ") + "."
    };
    let (mut written, mut pages) = (0, 0);
    while written < bytes {
        let section = dir.join(format!("area-{}/topic-{}", pages % 12, pages % 7));
        std::fs::create_dir_all(&section).unwrap();
        let mut page = String::new();
        if pages % 3 == 1 {
            page.push_str(&format!(
                "---\ntitle: {}\nweight: {pages}\nsidebar_position: 2\n---\n\n",
                sentence(&mut rng, 3)
            ));
        }
        page.push_str(&format!(
            "# {}\n\n<!-- generated page {pages} -->\n",
            sentence(&mut rng, 4)
        ));
        for h in 0..6 {
            let level = if h % 3 == 0 { "##" } else { "###" };
            page.push_str(&format!("\n{level} {}\n\n", sentence(&mut rng, 3)));
            let words = 12 + rng.below(20);
            page.push_str(&format!(
                "{} {} See [the {} guide](../{}.md).\n\n",
                sentence(&mut rng, words),
                sentence(&mut rng, 10),
                vocab[rng.below(vocab.len())],
                vocab[rng.below(vocab.len())]
            ));
            match h % 3 {
                0 => {
                    page.push_str(&format!(
                        "{} as follows:\n\n```yaml\n",
                        sentence(&mut rng, 6)
                    ));
                    for _ in 0..4 + rng.below(6) {
                        let key = &vocab[rng.zipf(vocab.len())];
                        page.push_str(&format!(
                            "{key}_{}: {}\n",
                            rng.below(100),
                            rng.below(10_000)
                        ));
                    }
                    page.push_str("```\n\n");
                }
                1 => {
                    for _ in 0..3 + rng.below(4) {
                        page.push_str(&format!("- {}\n", sentence(&mut rng, 8)));
                    }
                    page.push('\n');
                }
                _ => {
                    page.push_str("| setting | default | meaning |\n| --- | --- | --- |\n");
                    for _ in 0..3 + rng.below(5) {
                        page.push_str(&format!(
                            "| `{}` | {} | {} |\n",
                            vocab[rng.zipf(vocab.len())],
                            rng.below(1000),
                            sentence(&mut rng, 7)
                        ));
                    }
                    page.push('\n');
                }
            }
        }
        written += page.len();
        std::fs::write(section.join(format!("page-{pages}.md")), page).unwrap();
        pages += 1;
    }
    pages
}

/// The time to index a docs folder: a generated one of `CITEBOT_BENCH_DOCS_MB`
/// megabytes (default 10), or the folder `CITEBOT_BENCH_DOCS` names (a real docs
/// folder, read in place); index built from nothing, words only, 3 runs.
fn docs_folder_report(tmp: &Path, vocab: &[String]) {
    let (folder, what) = match std::env::var_os("CITEBOT_BENCH_DOCS") {
        Some(dir) => {
            let dir = std::path::PathBuf::from(dir);
            let what = dir.display().to_string();
            (dir, what)
        }
        None => {
            let mb: usize = std::env::var("CITEBOT_BENCH_DOCS_MB")
                .ok()
                .and_then(|s| s.parse().ok())
                .unwrap_or(10);
            let dir = tmp.join("docs");
            let _ = std::fs::remove_dir_all(&dir);
            let pages = generate_docs(&dir, vocab, mb << 20);
            (dir, format!("a generated docs folder ({pages} pages)"))
        }
    };
    let size = folder_size(&folder);
    let mut builds = Vec::new();
    let mut snippets = 0;
    for run in 0..3 {
        let index = tmp.join(format!("docs-index-{run}"));
        let _ = std::fs::remove_dir_all(&index);
        let t = Instant::now();
        let e = Engine::open(&SearchSettings::new(&folder, Some(index))).unwrap();
        builds.push(t.elapsed());
        snippets = e.stats().snippets;
    }
    builds.sort();
    println!(
        "docs folder index build ({what}, {:.1} MB, {snippets} snippets, 3 runs): min {:?} · median {:?} · max {:?}",
        size as f64 / (1 << 20) as f64,
        builds[0],
        builds[1],
        builds[2]
    );
}

/// Bytes of the files under `dir`.
fn folder_size(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| match e.file_type() {
                    Ok(t) if t.is_dir() => folder_size(&e.path()),
                    _ => e.metadata().map_or(0, |m| m.len()),
                })
                .sum()
        })
        .unwrap_or(0)
}

/// Questions over the generated base: words of real passages (answerable), with a
/// typo (the fuzzy path), and unknown words (refusals).
fn generated_questions(vocab: &[String], n: usize, seed: u64) -> Vec<String> {
    let mut rng = Rng(seed);
    (0..n)
        .map(|i| {
            let pick = |rng: &mut Rng| vocab[rng.zipf(vocab.len()) % vocab.len()].clone();
            match i % 4 {
                0 => format!("when did {} {} happen?", pick(&mut rng), pick(&mut rng)),
                1 => format!(
                    "what is {} {} {}",
                    pick(&mut rng),
                    pick(&mut rng),
                    pick(&mut rng)
                ),
                2 => {
                    let mut w = pick(&mut rng);
                    if w.len() > 5 {
                        w.remove(2);
                    }
                    format!("who {w} {}", pick(&mut rng))
                }
                _ => format!("how do I reset my {}xyzzy password?", pick(&mut rng)),
            }
        })
        .collect()
}

fn latency_report(label: &str, engine: &Engine, questions: &[String], rounds: usize) {
    latency_report_in(label, engine, questions, rounds, &AskOptions::default());
}

/// [`latency_report`] of questions asked with `options` (a room's collections).
fn latency_report_in(
    label: &str,
    engine: &Engine,
    questions: &[String],
    rounds: usize,
    options: &AskOptions,
) {
    let mut times = Vec::with_capacity(questions.len() * rounds);
    let mut first = Vec::with_capacity(questions.len());
    for round in 0..rounds {
        for q in questions {
            let t = Instant::now();
            let a = engine.ask_with(q, options).unwrap();
            let took = t.elapsed();
            times.push(took);
            if round == 0 {
                first.push(took);
            }
            std::hint::black_box(a);
        }
    }
    times.sort();
    first.sort();
    println!(
        "{label}: {} questions · p50 {:?} · p95 {:?} · p99 {:?} · max {:?} (first round alone: p50 {:?} · p99 {:?})",
        times.len(),
        percentile(&times, 0.5),
        percentile(&times, 0.95),
        percentile(&times, 0.99),
        times.last().unwrap(),
        percentile(&first, 0.5),
        percentile(&first, 0.99),
    );
}

/// The semantic model measured: `CITEBOT_SEMANTIC_MODEL` when set (e.g. the
/// small one, `models/all-MiniLM-L6-v2`), else the default folder.
fn model_dir(root: &Path) -> std::path::PathBuf {
    std::env::var_os("CITEBOT_SEMANTIC_MODEL").map_or_else(
        || root.join(citebot::search::DEFAULT_SEMANTIC_MODEL),
        |dir| root.join(dir),
    )
}

/// With the semantic model installed (`scripts/model`), reported apart: the
/// time to embed the seed's passages, and a question's cost once they are.
fn semantic_report(root: &Path, tmp: &Path, questions: &[String]) {
    let model = model_dir(root);
    if !model.exists() {
        println!("semantic model: not installed (scripts/model); not measured");
        return;
    }
    let engine = Engine::open(&SearchSettings {
        semantic_model: SemanticModel::Required(model),
        ..SearchSettings::new(root.join("knowledge"), Some(tmp.join("seed-semantic")))
    })
    .unwrap();
    let t = Instant::now();
    let n = engine.embed_all(|| false).unwrap();
    let took = t.elapsed();
    println!(
        "semantic model: {n} seed passages embedded in {took:?} ({:?} each)",
        took / n.max(1) as u32
    );
    latency_report(
        "seed knowledge base, semantic model",
        &engine,
        questions,
        20,
    );
}

/// The scan that finds the passages nearest a question in meaning, over `n`
/// known passages (random unit vectors: what is measured is the scan, which
/// compares the question with every passage whatever their content), and the
/// question's own embedding beside it.
fn nearest_report(model: &Path, n: usize) {
    let Ok(semantic) = citebot::search::semantic::Semantic::load(model) else {
        println!("nearest passages: semantic model not installed; not measured");
        return;
    };
    let dim = semantic.dim();
    let mut rng = Rng(7);
    let mut unit = || {
        let v: Vec<f32> = (0..dim)
            .map(|_| (rng.below(2001) as f32 - 1000.0) / 1000.0)
            .collect();
        let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-6);
        v.into_iter().map(|x| x / norm).collect::<Vec<f32>>()
    };
    for key in 0..n as u64 {
        semantic.remember(key, unit());
    }
    let questions = ["how do I rotate the signing keys", "when are the pups fed"];
    let (mut scan, mut embed) = (Vec::new(), Vec::new());
    for round in 0..100 {
        let t = Instant::now();
        let qv = semantic.embed(questions[round % 2]).unwrap();
        embed.push(t.elapsed());
        let t = Instant::now();
        let near = semantic.nearest(&qv, (0..n).map(|i| (i, i as u64)), 10);
        scan.push(t.elapsed());
        std::hint::black_box(near);
    }
    scan.sort();
    embed.sort();
    println!(
        "nearest passages in meaning over {n} passages: p50 {:?} · p95 {:?} · p99 {:?} (the question's embedding: p50 {:?})",
        percentile(&scan, 0.5),
        percentile(&scan, 0.95),
        percentile(&scan, 0.99),
        percentile(&embed, 0.5),
    );
}

/// Cost by question length, 10 to 10,000 words and a 64 KB message, each as
/// ordinary words and as hostile text (capitalised names, typos, unknown words):
/// as configured (read up to `search.max_question_words`), and with no cut, so
/// the analysis's own growth shows.
fn question_length_report(engine: &Engine, vocab: &[String]) {
    let mut rng = Rng(99);
    let mut ordinary = |n: usize| -> String {
        let mut q = String::from("what is");
        for _ in 0..n.saturating_sub(2) {
            q.push(' ');
            q.push_str(&vocab[rng.zipf(vocab.len()) % vocab.len()]);
        }
        q
    };
    let mut rng2 = Rng(7);
    let mut hostile = |n: usize| -> String {
        let mut q = String::new();
        for i in 0..n {
            let w = &vocab[rng2.zipf(vocab.len()) % vocab.len()];
            let w = match i % 3 {
                0 => {
                    let mut c = w.chars();
                    c.next()
                        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
                        .unwrap_or_default()
                }
                1 if w.len() > 5 => format!("{}{}", &w[..2], &w[3..]),
                _ => format!("{w}qx"),
            };
            q.push_str(&w);
            q.push(' ');
        }
        q
    };
    let uncut = {
        let mut settings = engine.settings().clone();
        settings.max_question_words = usize::MAX;
        settings.max_question_bytes = usize::MAX;
        Engine::open(&settings).unwrap()
    };
    let time = |e: &Engine, q: &str, rounds: usize| {
        let mut times: Vec<std::time::Duration> = (0..rounds)
            .map(|_| {
                let t = Instant::now();
                std::hint::black_box(e.ask(q).unwrap());
                t.elapsed()
            })
            .collect();
        times.sort();
        times[times.len() / 2]
    };
    println!("question length (median of runs): words · bytes · as configured · not cut");
    for n in [10, 100, 1_000, 10_000] {
        for (kind, q) in [("ordinary", ordinary(n)), ("hostile", hostile(n))] {
            let rounds = if n >= 1_000 { 3 } else { 20 };
            let cut = time(engine, &q, rounds);
            let whole = if n <= 1_000 {
                format!("{:?}", time(&uncut, &q, rounds))
            } else {
                "-".to_string()
            };
            println!(
                "  {n:>6} words {kind:<8} · {:>6} B · {cut:?} · {whole}",
                q.len()
            );
        }
    }
    // A message at Matrix's 64 KB event limit.
    let mut big = hostile(20_000);
    big.truncate(64 * 1024);
    while !big.is_char_boundary(big.len()) {
        big.pop();
    }
    println!(
        "  64 KB message ({} B) · as configured {:?}",
        big.len(),
        time(engine, &big, 5)
    );
}

/// Fields of this process's /proc status, in kB, in the order named: peak and
/// current resident memory (`VmHWM:`, `VmRSS:`), or resident memory by kind
/// (`RssAnon:` heap and other anonymous memory, `RssFile:` mapped index pages).
fn status_kb<const N: usize>(names: [&str; N]) -> [u64; N] {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    names.map(|name| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
            .unwrap_or(0)
    })
}

/// The serving side alone, in a fresh process (`CITEBOT_BENCH_SERVE=knowledge
/// dir|index dir`): opens the index the bench built, answers questions, and
/// reports their latency (of one kind alone, with `CITEBOT_BENCH_KIND`) and its
/// memory, which a bench process that also generated and built the knowledge
/// can't.
fn serve_only(spec: &str) {
    let (knowledge, index) = spec.split_once('|').expect("knowledge|index");
    let t = Instant::now();
    let engine = Engine::open(&SearchSettings::new(knowledge, Some(index.into()))).unwrap();
    let opened = t.elapsed();
    let vocab = vocabulary(&mut Rng(0x9E37_79B9_7F4A_7C15), 50_000);
    let [anon_open, file_open] = status_kb(["RssAnon:", "RssFile:"]);
    let questions = generated_questions(&vocab, 1000, 42);
    // For profiling one kind: `CITEBOT_BENCH_KIND=0..3` (when, what, typo,
    // unknown words) and `CITEBOT_BENCH_ROUNDS=N`.
    let kind: Option<usize> = std::env::var("CITEBOT_BENCH_KIND")
        .ok()
        .and_then(|k| k.parse().ok());
    let rounds: usize = std::env::var("CITEBOT_BENCH_ROUNDS")
        .ok()
        .and_then(|k| k.parse().ok())
        .unwrap_or(1);
    // `CITEBOT_BENCH_COLLECTION=part-0`: asked as a room limited to it (empty:
    // an unlimited room, as when it is unset).
    let options = AskOptions {
        collections: std::env::var("CITEBOT_BENCH_COLLECTION")
            .ok()
            .filter(|c| !c.is_empty())
            .map(|c| vec![c]),
        ..AskOptions::default()
    };
    let mut times = Vec::new();
    for _ in 0..rounds {
        for (i, q) in questions.iter().enumerate() {
            if kind.is_none_or(|k| i % 4 == k) {
                let t = Instant::now();
                std::hint::black_box(engine.ask_with(q, &options).unwrap());
                times.push(t.elapsed());
            }
        }
    }
    times.sort();
    println!(
        "{} questions (kind {}): p50 {:?} · p95 {:?} · p99 {:?} · max {:?}",
        times.len(),
        kind.map_or("all".to_string(), |k| k.to_string()),
        percentile(&times, 0.5),
        percentile(&times, 0.95),
        percentile(&times, 0.99),
        times.last().unwrap(),
    );
    let [peak, now] = status_kb(["VmHWM:", "VmRSS:"]);
    let [anon, file] = status_kb(["RssAnon:", "RssFile:"]);
    println!(
        "serving process: opened the index (knowledge read, nothing rebuilt) in {opened:?}; after 1,000 questions RSS {} MB, peak {} MB (heap and other anonymous {} MB, index pages {} MB; just after opening {} + {} MB)",
        now / 1024,
        peak / 1024,
        anon / 1024,
        file / 1024,
        anon_open / 1024,
        file_open / 1024,
    );
}

fn main() {
    if let Ok(spec) = std::env::var("CITEBOT_BENCH_SERVE") {
        return serve_only(&spec);
    }
    let mut c = Criterion::default().configure_from_args();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));

    // Seed knowledge base, on-disk index in a temp dir.
    let tmp = tempfile::tempdir().unwrap();
    // `CITEBOT_BENCH_DIR=DIR` builds there and keeps it (to profile the serving
    // side afterwards with `CITEBOT_BENCH_SERVE`).
    let tmp_path = std::env::var_os("CITEBOT_BENCH_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| tmp.path().to_path_buf());
    let seed = Engine::open(&SearchSettings::new(
        root.join("knowledge"),
        Some(tmp.path().join("seed-index")),
    ))
    .unwrap();
    let seed_questions: Vec<String> = SEED_QUESTIONS.iter().map(|s| s.to_string()).collect();
    latency_report("seed knowledge base", &seed, &seed_questions, 500);
    semantic_report(root, tmp.path(), &seed_questions);
    let mut group = c.benchmark_group("seed");
    for q in SEED_QUESTIONS {
        group.bench_with_input(BenchmarkId::new("ask", q), q, |b, q| {
            b.iter(|| seed.ask(q).unwrap())
        });
    }
    group.finish();

    // Generated knowledge base.
    let snippets: usize = std::env::var("CITEBOT_BENCH_SNIPPETS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(100_000);
    nearest_report(&model_dir(root), snippets);
    let knowledge = tmp_path.join("generated/knowledge");
    let t = Instant::now();
    let vocab = generate(&knowledge, snippets);
    println!("generated {snippets} snippets in {:?}", t.elapsed());
    docs_folder_report(&tmp_path, &vocab);
    if std::env::var_os("CITEBOT_BENCH_DOCS_ONLY").is_some() {
        return;
    }
    let runs: usize = std::env::var("CITEBOT_BENCH_BUILDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3)
        .max(1);
    let mut builds = Vec::new();
    let mut engine = None;
    for run in 0..runs {
        let index = tmp_path.join(format!("generated/index-{run}"));
        let _ = std::fs::remove_dir_all(&index); // a kept dir's old build
        let t = Instant::now();
        let e = Engine::open(&SearchSettings::new(&knowledge, Some(index))).unwrap();
        builds.push(t.elapsed());
        assert_eq!(e.stats().snippets, snippets);
        engine = Some(e);
    }
    builds.sort();
    println!(
        "index build ({snippets} snippets, parse + index + commit, {} threads, {runs} runs): min {:?} · median {:?} · max {:?}",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1),
        builds[0],
        builds[runs / 2],
        builds[runs - 1]
    );
    let engine = engine.unwrap();
    let segments = std::fs::read_dir(tmp_path.join(format!("generated/index-{}", runs - 1)))
        .map(|d| {
            d.flatten()
                .filter(|e| e.path().extension().is_some_and(|x| x == "idx"))
                .count()
        })
        .unwrap_or(0);
    println!("index segments: {segments}");
    if std::env::var_os("CITEBOT_BENCH_BUILD_ONLY").is_some() {
        return; // profiling the build
    }
    let index_dir = tmp_path.join(format!("generated/index-{}", runs - 1));
    let on_disk: u64 = std::fs::read_dir(&index_dir)
        .map(|d| {
            d.flatten()
                .filter_map(|e| e.metadata().ok())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0);
    println!("index size on disk: {} MB", on_disk / (1 << 20));
    let serving = std::process::Command::new(std::env::current_exe().unwrap())
        .env(
            "CITEBOT_BENCH_SERVE",
            format!("{}|{}", knowledge.display(), index_dir.display()),
        )
        .output()
        .unwrap();
    print!("{}", String::from_utf8_lossy(&serving.stdout));
    let questions = generated_questions(&vocab, 1000, 42);
    // Warm up on other questions for 3 s, as criterion warms up: just after a build
    // the process pays for page faults, a re-growing heap and empty memos, which is
    // not per-question cost; other questions, so the measured ones find nothing of
    // their own cached.
    let warm_up = generated_questions(&vocab, 1000, 7);
    let t = Instant::now();
    for q in warm_up.iter().cycle() {
        std::hint::black_box(engine.ask(q).unwrap());
        if t.elapsed() > std::time::Duration::from_secs(3) {
            break;
        }
    }
    if let Ok(path) = std::env::var("CITEBOT_BENCH_DUMP") {
        let mut out = String::new();
        for q in &questions {
            out.push_str(&serde_json::to_string(&engine.ask(q).unwrap()).unwrap());
            out.push('\n');
        }
        std::fs::write(&path, out).unwrap();
        println!("answers written to {path}");
    }
    latency_report(
        &format!("generated knowledge base ({snippets} snippets)"),
        &engine,
        &questions,
        3,
    );
    // The same questions by kind, to see which kind makes the tail.
    for (kind, label) in ["when", "what", "typo", "unknown words"].iter().enumerate() {
        let of_kind: Vec<String> = questions.iter().skip(kind).step_by(4).cloned().collect();
        latency_report(&format!("  {label}"), &engine, &of_kind, 3);
    }
    // A room limited to one of the two collections: BM25's statistics are
    // counted within it, each term's posting list walked against its bits.
    let one = AskOptions {
        collections: Some(vec!["part-0".to_string()]),
        ..AskOptions::default()
    };
    latency_report_in("  limited to one collection", &engine, &questions, 3, &one);
    question_length_report(&engine, &vocab);
    let mut group = c.benchmark_group("generated");
    group.bench_function("ask (mixed questions)", |b| {
        let mut i = 0;
        b.iter(|| {
            i = (i + 1) % questions.len();
            engine.ask(&questions[i]).unwrap()
        })
    });
    group.finish();
    c.final_summary();
}
