//! Replays the fuzz targets' corpus and every crash they found
//! (`fuzz/corpus/TARGET`, `fuzz/artifacts/TARGET`) through `citebot::fuzz`,
//! the same entry points libFuzzer drives (`scripts/fuzz`): a crash once fixed
//! stays fixed.

use std::path::Path;

#[test]
fn the_fuzz_corpus_and_past_crashes_replay_without_a_panic() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    for (target, run) in citebot::fuzz::TARGETS {
        let mut replayed = 0;
        for folder in ["corpus", "artifacts"] {
            let Ok(entries) = std::fs::read_dir(root.join(folder).join(target)) else {
                continue;
            };
            for entry in entries.flatten() {
                let data = std::fs::read(entry.path()).unwrap();
                let caught = std::panic::catch_unwind(|| run(&data));
                assert!(
                    caught.is_ok(),
                    "{target}: {} panics",
                    entry.path().display()
                );
                replayed += 1;
            }
        }
        // The corpus is committed: an empty one means it went missing.
        assert!(replayed >= 2, "{target}: only {replayed} inputs replayed");
    }
}
