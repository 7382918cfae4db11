//! Property tests of the manifest parsers, seeded and reproducible: no input makes them panic
//! (random bytes, and many thousands of random mutations of valid manifests), and every
//! manifest they accept is written back to bytes that read as the same manifest and write as
//! the same bytes. `verify` does not panic on damaged atlases either.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod atlas_sample;

use microscope_core::atlas::*;

/// The project's seeded generator, so the cases are the same on every run.
struct Rng(microscope_core::rng::SplitMix64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0.next_u64()
    }

    fn below(&mut self, n: usize) -> usize {
        self.0.below(n.max(1))
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Fragments that steer mutations towards the parser's interesting corners.
const TOKENS: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    ",",
    ":",
    "\"",
    "\\",
    "null",
    "true",
    "false",
    "0",
    "-1",
    "1e39",
    "-0.0",
    "4294967295",
    "4294967296",
    "18446744073709551616",
    "1e400",
    "\"..\"",
    "\"/etc/passwd\"",
    "\"a\\u0000b\"",
    "\"\\ud800\"",
    "\"https://x\"",
    "[[0,1],[1,2]]",
    "{\"kind\":\"unit\"}",
    "\"format_version\":\"2.0\"",
    "\"format_version\":\"1.9\"",
    "\u{feff}",
    "\u{0}",
    "\"\u{7f}\"",
    "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[",
    "\"x\":{\"y\":[1,{\"z\":null}]}",
];

fn mutate(rng: &mut Rng, bytes: &mut Vec<u8>) {
    // Half the cases get a single change, which often leaves a valid manifest with an odd
    // value: those exercise the rules and the round trip rather than the syntax errors.
    let changes = if rng.below(2) == 0 { 1 } else { 1 + rng.below(8) };
    for _ in 0..changes {
        let len = bytes.len();
        let at = rng.below(len + 1);
        match rng.below(7) {
            0 if len > 0 => bytes[at.min(len - 1)] ^= 1 << rng.below(8),
            1 if len > 0 => bytes[at.min(len - 1)] = rng.next() as u8,
            2 => {
                let token = rng.pick(TOKENS).as_bytes();
                bytes.splice(at..at, token.iter().copied());
            }
            3 => {
                let end = (at + rng.below(64)).min(len);
                bytes.drain(at..end);
            }
            4 if len > 0 => {
                // Copy a slice of the file elsewhere (duplicate fields, repeated lists).
                let start = rng.below(len);
                let end = (start + rng.below(256)).min(len);
                let chunk: Vec<u8> = bytes[start..end].to_vec();
                bytes.splice(at..at, chunk);
            }
            5 => {
                // Replace a run of digits with an extreme number.
                if let Some(start) =
                    bytes.iter().skip(at).position(u8::is_ascii_digit).map(|p| p + at)
                {
                    let end = bytes[start..]
                        .iter()
                        .position(|b| !b.is_ascii_digit())
                        .map_or(len, |p| p + start);
                    let extreme = rng.pick(&[
                        "0",
                        "65536",
                        "65537",
                        "4294967295",
                        "99999999999999999999",
                        "1.5",
                        "-3",
                    ]);
                    bytes.splice(start..end, extreme.bytes());
                }
            }
            _ => bytes.truncate(at),
        }
    }
}

/// Parses `bytes` as every kind; for each accepted manifest checks write -> read -> write.
/// Returns how many kinds accepted it.
fn parse_everything(bytes: &[u8]) -> usize {
    fn one<M: Manifest + PartialEq + std::fmt::Debug>(bytes: &[u8]) -> usize {
        let Ok(manifest) = parse::<M>("fuzz.json", bytes) else { return 0 };
        let written = to_json_pretty(&manifest).expect("an accepted manifest can be written");
        let again: M = parse("again.json", &written).expect("what is written can be read");
        assert_eq!(again, manifest);
        assert_eq!(to_json_pretty(&again).unwrap(), written, "writing is deterministic");
        let compact = to_json_compact(&manifest).unwrap();
        assert_eq!(parse::<M>("compact.json", &compact).unwrap(), manifest);
        1
    }
    let _ = peek("fuzz.json", bytes);
    one::<AtlasIndex>(bytes)
        + one::<ModelManifest>(bytes)
        + one::<LayerManifest>(bytes)
        + one::<UnitManifest>(bytes)
        + one::<PhotosManifest>(bytes)
        + one::<AnnotationsManifest>(bytes)
}

fn corpus() -> Vec<Vec<u8>> {
    let atlas = atlas_sample::atlas();
    let mut corpus: Vec<Vec<u8>> = atlas
        .paths()
        .filter(|path| path.ends_with(".json"))
        .map(|path| atlas.get(path).unwrap().to_vec())
        .collect();
    let compact: Vec<Vec<u8>> = corpus
        .iter()
        .map(|bytes| {
            serde_json::to_vec(&serde_json::from_slice::<serde_json::Value>(bytes).unwrap())
                .unwrap()
        })
        .collect();
    corpus.extend(compact);
    corpus
}

#[test]
fn atlas_fuzz_random_bytes_never_panic() {
    let mut rng = Rng(microscope_core::rng::SplitMix64::new(0x000a_71a5_f00d));
    let alphabet = b"{}[]\",:0123456789-.eEtrufalsn \n\\abcdkindformat_version";
    for case in 0..20_000 {
        let len = rng.below(300);
        let bytes: Vec<u8> = (0..len)
            .map(|_| if rng.below(4) == 0 { rng.next() as u8 } else { *rng.pick(alphabet) })
            .collect();
        let mut prefixed = b"{\"kind\":\"unit\",\"format_version\":\"1.0\",".to_vec();
        prefixed.extend(&bytes);
        assert!(parse_everything(&bytes) + parse_everything(&prefixed) <= 2, "case {case}");
    }
}

#[test]
fn atlas_fuzz_mutated_manifests_never_panic_and_what_parses_round_trips() {
    let corpus = corpus();
    let mut rng = Rng(microscope_core::rng::SplitMix64::new(0x5eed_1234));
    let (mut accepted, cases) = (0usize, 40_000);
    for _ in 0..cases {
        let mut bytes = rng.pick(&corpus).clone();
        mutate(&mut rng, &mut bytes);
        accepted += parse_everything(&bytes);
    }
    eprintln!("{accepted} of {cases} mutated manifests parsed and round-tripped");
    // Many mutations keep the file valid (a changed digit, a copied whitespace run): the
    // round-trip property is exercised on thousands of distinct manifests, not just refusals.
    assert!(accepted > cases / 20, "only {accepted} of {cases} mutations parsed");
    assert!(accepted < cases, "mutations should break most files");
}

#[test]
fn atlas_fuzz_verify_never_panics_on_damaged_atlases() {
    let atlas = atlas_sample::atlas();
    let paths: Vec<String> = atlas.paths().map(str::to_owned).collect();
    let mut rng = Rng(microscope_core::rng::SplitMix64::new(0xdead_beef));
    for _ in 0..600 {
        let mut damaged = atlas.clone();
        for _ in 0..=rng.below(3) {
            let path = rng.pick(&paths);
            if rng.below(5) == 0 {
                damaged.remove(path);
            } else if let Some(bytes) = damaged.get_mut(path) {
                mutate(&mut rng, bytes);
            }
        }
        let report = verify(&damaged, &VerifyOptions::default());
        // Findings always name a file.
        assert!(
            report.errors.iter().chain(&report.warnings).all(|finding| !finding.file.is_empty())
        );
    }
}
