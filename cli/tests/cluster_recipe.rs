//! The many-machines recipe of docs/cluster.md run locally for N = 3: three shard builds with
//! `--shard auto` and a Kubernetes Indexed Job's variables, then `merge`, then `verify`; the
//! merged atlas equals one uninterrupted build, and Slurm array variables give the same shards.
//!
//! Needs the weights, labels and photos in the cache (`microscope fetch all`); without them
//! the test is skipped with a message, unless `MICROSCOPE_REQUIRE_DATA=1` makes that a failure.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

mod lite0;

use lite0::{
    assert_same_tree, build_args, data_ready, ok, ok_with, run_with, scratch, tree, verify_clean,
};

/// The slice the recipe's local run builds (docs/cluster.md, "Try it locally").
const UNITS: &str = "0-8";
const TECHNIQUES: &str = "channel,examples";

#[test]
fn the_cluster_recipe_runs_locally_for_three_shards() {
    if !data_ready() {
        return;
    }
    let recipe =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/cluster.md"))
            .unwrap();
    for needed in [
        "--shard auto",
        "JOB_COMPLETION_INDEX=$i MICROSCOPE_SHARD_COUNT=3",
        "--units 0-8",
        "--techniques channel,examples",
        "microscope merge atlas shards/0 shards/1 shards/2",
    ] {
        assert!(
            recipe.contains(needed),
            "docs/cluster.md no longer runs {needed:?}: update this test with it"
        );
    }
    let root = scratch("cluster");
    let shard = |i: usize| root.join(format!("shards/{i}"));
    for i in 0..3 {
        let env =
            [("JOB_COMPLETION_INDEX", i.to_string()), ("MICROSCOPE_SHARD_COUNT", "3".to_owned())];
        let text = ok_with(&build_args(&shard(i), UNITS, TECHNIQUES, &["--shard", "auto"]), &env);
        assert!(text.contains(&format!("shard {i}/3 from the Kubernetes Indexed Job")), "{text}");
        assert!(text.contains("3 units to build"), "units {i}, {}, {}: {text}", i + 3, i + 6);
    }
    let atlas = root.join("atlas");
    let mut merge = vec!["merge".to_owned(), atlas.display().to_string()];
    merge.extend((0..3).map(|i| shard(i).display().to_string()));
    let merged = ok(&merge);
    assert!(merged.contains("9 units merged from 3 shards"), "{merged}");
    verify_clean(&atlas);

    let single = root.join("single");
    ok(&build_args(&single, UNITS, TECHNIQUES, &[]));
    assert_same_tree(&single, &atlas);

    // Slurm: `--array=1-3` gives tasks 1, 2, 3, the same shards 0, 1, 2.
    for i in 0..3 {
        let env = [
            ("SLURM_ARRAY_TASK_ID", (i + 1).to_string()),
            ("SLURM_ARRAY_TASK_MIN", "1".to_owned()),
            ("SLURM_ARRAY_TASK_COUNT", "3".to_owned()),
        ];
        let dir: PathBuf = root.join(format!("slurm/{i}"));
        let text = ok_with(&build_args(&dir, UNITS, TECHNIQUES, &["--shard", "auto"]), &env);
        assert!(text.contains(&format!("shard {i}/3 from the Slurm job array")), "{text}");
        assert_eq!(tree(&dir), tree(&shard(i)), "slurm task {} equals shard {i}", i + 1);
    }

    // Without a job engine's variables, `auto` refuses to guess.
    let lost =
        run_with(&build_args(&root.join("lost"), UNITS, TECHNIQUES, &["--shard", "auto"]), &[]);
    assert!(!lost.status.success());
    assert!(String::from_utf8_lossy(&lost.stderr).contains("found no job index"));
    let _ = std::fs::remove_dir_all(&root);
}
