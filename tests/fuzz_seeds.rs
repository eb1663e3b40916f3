//! Replays the committed fuzz seeds (fuzz/seeds/<target>/*) through the same entry points the
//! cargo-fuzz targets run (`supervisor::fuzz`), on stable Rust: an input that once broke an
//! invariant is committed as a seed and stays a test. A missing or empty seed directory fails.

use std::path::{Path, PathBuf};

fn seeds_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds")
}

fn files_in(dir: &Path) -> Vec<PathBuf> {
    let entries = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e} (the committed fuzz seeds)", dir.display()));
    let mut files: Vec<PathBuf> = entries
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

#[test]
fn every_seed_of_every_target_replays() {
    let mut failed = Vec::new();
    for (name, run) in supervisor::fuzz::TARGETS {
        let seeds = files_in(&seeds_root().join(name));
        assert!(!seeds.is_empty(), "no seeds for the fuzz target {name}");
        for seed in seeds {
            let data = std::fs::read(&seed).expect("a readable seed");
            if std::panic::catch_unwind(|| run(&data)).is_err() {
                failed.push(seed.display().to_string());
            }
        }
    }
    assert!(failed.is_empty(), "seeds that fail: {failed:#?}");
}

/// Every cargo-fuzz target has its entry point and seeds, and every seed directory a target,
/// so a target cannot be added or renamed on one side only.
#[test]
fn targets_seeds_and_entry_points_agree() {
    let stem = |p: &PathBuf| p.file_stem().map(|s| s.to_string_lossy().into_owned());
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut fuzzed: Vec<String> = files_in(&root.join("fuzz_targets"))
        .iter()
        .filter_map(stem)
        .collect();
    let mut seeded: Vec<String> = std::fs::read_dir(seeds_root())
        .expect("fuzz/seeds")
        .map(|e| {
            e.expect("a directory entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    let mut entries: Vec<String> = supervisor::fuzz::TARGETS
        .iter()
        .map(|(n, _)| n.to_string())
        .collect();
    fuzzed.sort();
    seeded.sort();
    entries.sort();
    assert_eq!(
        fuzzed, entries,
        "fuzz/fuzz_targets vs supervisor::fuzz::TARGETS"
    );
    assert_eq!(seeded, entries, "fuzz/seeds vs supervisor::fuzz::TARGETS");
    let manifest = std::fs::read_to_string(root.join("Cargo.toml")).expect("fuzz/Cargo.toml");
    for name in &entries {
        assert!(
            manifest.contains(&format!("name = \"{name}\"")),
            "fuzz/Cargo.toml has no [[bin]] {name}"
        );
    }
}
