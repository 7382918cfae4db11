//! Photographs from Debian wallpaper packages: a curated list (photographs only, no artwork or
//! patterns), each with the license and credit that the package's `debian/copyright` file
//! (or, for Plasma, the `Files: *` stanza plus the wallpaper's `metadata.json` author) gives.
//! Packages are fetched with `apt-get download` into the cache and unpacked with `dpkg-deb -x`
//! once; when that fails the build goes on without them.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

/// One curated photograph.
#[derive(Debug, Clone, Copy)]
pub struct Wallpaper {
    /// Photo id in the atlas.
    pub id: &'static str,
    /// Debian package.
    pub package: &'static str,
    /// Path inside the package.
    pub member: &'static str,
    /// License (SPDX) from the package's copyright file.
    pub license: &'static str,
    /// Credit from the package's copyright file.
    pub credit: &'static str,
}

const LOMIRI16: &str = "lomiri-wallpapers-16.04";
const LOMIRI20: &str = "lomiri-wallpapers-20.04";
const MATE: &str = "mate-backgrounds";
const PLASMA: &str = "plasma-workspace-wallpapers";

const fn w(
    id: &'static str,
    package: &'static str,
    member: &'static str,
    license: &'static str,
    credit: &'static str,
) -> Wallpaper {
    Wallpaper { id, package, member, license, credit }
}

/// The curated photographs (the packages also hold artwork, patterns and logos: left out).
pub const WALLPAPERS: [Wallpaper; 37] = [
    w(
        "lomiri-aitzgorri",
        LOMIRI16,
        "usr/share/backgrounds/aitzgorri_by_Aitzol_Berasategi.jpg",
        "CC-BY-4.0",
        "Aitzol Berasategi, 2018",
    ),
    w(
        "lomiri-bridge",
        LOMIRI16,
        "usr/share/backgrounds/Bridge_by_Sander_Klootwijk.jpg",
        "CC-BY-SA-4.0",
        "Sander Klootwijk, 2018",
    ),
    w(
        "lomiri-dragonfly",
        LOMIRI16,
        "usr/share/backgrounds/Dragonfly_by_Bolly.jpg",
        "CC-BY-SA-4.0",
        "Bolly, 2018",
    ),
    w(
        "lomiri-free",
        LOMIRI16,
        "usr/share/backgrounds/free_by_Peter_Nerlich.jpg",
        "CC-BY-SA-4.0",
        "Peter Nerlich, 2018",
    ),
    w(
        "lomiri-friends",
        LOMIRI16,
        "usr/share/backgrounds/friends_by_Aitzol_Berasategi.jpg",
        "CC-BY-4.0",
        "Aitzol Berasategi, 2018",
    ),
    w(
        "lomiri-greentock",
        LOMIRI16,
        "usr/share/backgrounds/greentock_by_Peter_Nerlich.jpg",
        "CC-BY-SA-4.0",
        "Peter Nerlich, 2018",
    ),
    w(
        "lomiri-life",
        LOMIRI16,
        "usr/share/backgrounds/life_by_Aitzol_Berasategi.jpg",
        "CC-BY-4.0",
        "Aitzol Berasategi, 2018",
    ),
    w(
        "lomiri-picosdeeuropa",
        LOMIRI16,
        "usr/share/backgrounds/picosdeeuropa_by_Aitzol_Berasategi.jpg",
        "CC-BY-4.0",
        "Aitzol Berasategi, 2018",
    ),
    w(
        "lomiri-seeding",
        LOMIRI16,
        "usr/share/backgrounds/seeding_by_Clements_Engelhardt.jpg",
        "CC0-1.0",
        "Clemens Engelhardt, 2018",
    ),
    w(
        "lomiri-sunset",
        LOMIRI16,
        "usr/share/backgrounds/sunset_by_Aitzol_Berasategi.jpg",
        "CC-BY-4.0",
        "Aitzol Berasategi, 2018",
    ),
    w(
        "lomiri-umang",
        LOMIRI16,
        "usr/share/backgrounds/umang_by_Abhishek_Mudgal.jpg",
        "CC-BY-4.0",
        "Abhishek Mudgal, 2018",
    ),
    w(
        "lomiri-wine",
        LOMIRI16,
        "usr/share/backgrounds/Wine_by_Jakkub_Mede.jpg",
        "CC-BY-4.0",
        "Jakub Mede, 2018",
    ),
    w(
        "lomiri-kleiber",
        LOMIRI20,
        "usr/share/backgrounds/Kleiber_by_Lukas_Baubkus.jpg",
        "CC-BY-SA-3.0",
        "Lukas Baubkus, 2021",
    ),
    w(
        "lomiri-infinite-sea",
        LOMIRI20,
        "usr/share/backgrounds/Infinite-Sea_by_Aury88.jpg",
        "CC-BY-SA-3.0",
        "Aury88, 2019",
    ),
    w(
        "mate-aqua",
        MATE,
        "usr/share/backgrounds/mate/nature/Aqua.jpg",
        "GPL-2.0-or-later",
        "Charles Barbin, 2008",
    ),
    w(
        "mate-blinds",
        MATE,
        "usr/share/backgrounds/mate/nature/Blinds.jpg",
        "GPL-2.0-or-later",
        "Lennart Poettering, Andrea Cimitan, 2008",
    ),
    w(
        "mate-dune",
        MATE,
        "usr/share/backgrounds/mate/nature/Dune.jpg",
        "GPL-2.0-or-later",
        "Marco Cogoni, 2007; Hylke Bons, 2008",
    ),
    w(
        "mate-freshflower",
        MATE,
        "usr/share/backgrounds/mate/nature/FreshFlower.jpg",
        "GPL-2.0-or-later",
        "Jens Ansorg, 2005",
    ),
    w(
        "mate-garden",
        MATE,
        "usr/share/backgrounds/mate/nature/Garden.jpg",
        "GPL-2.0-or-later",
        "Charles Barbin, 2008",
    ),
    w(
        "mate-greenmeadow",
        MATE,
        "usr/share/backgrounds/mate/nature/GreenMeadow.jpg",
        "GPL-2.0-or-later",
        "Timothy Schellhase, 2005",
    ),
    w(
        "mate-ladybird",
        MATE,
        "usr/share/backgrounds/mate/nature/LadyBird.jpg",
        "GPL-2.0-or-later",
        "Charles Barbin, 2008",
    ),
    w(
        "mate-raindrops",
        MATE,
        "usr/share/backgrounds/mate/nature/RainDrops.jpg",
        "GPL-2.0-or-later",
        "blackcombwhistler07, 2008",
    ),
    w(
        "mate-storm",
        MATE,
        "usr/share/backgrounds/mate/nature/Storm.jpg",
        "GPL-2.0-or-later",
        "Sergey Nazarov, 2008",
    ),
    w(
        "mate-twowings",
        MATE,
        "usr/share/backgrounds/mate/nature/TwoWings.jpg",
        "GPL-2.0-or-later",
        "Charles Barbin, 2008",
    ),
    w(
        "mate-wood",
        MATE,
        "usr/share/backgrounds/mate/nature/Wood.jpg",
        "GPL-2.0-or-later",
        "Jean-François Fortin Tam, 2008",
    ),
    w(
        "mate-yellowflower",
        MATE,
        "usr/share/backgrounds/mate/nature/YellowFlower.jpg",
        "GPL-2.0-or-later",
        "Charles Barbin, 2008",
    ),
    w(
        "plasma-autumn",
        PLASMA,
        "usr/share/wallpapers/Autumn/contents/images/2560x1600.jpg",
        "GPL-2.0-or-later",
        "RJ Quiralta (KDE Visual Design Group)",
    ),
    w(
        "plasma-bythewater",
        PLASMA,
        "usr/share/wallpapers/BytheWater/contents/images/2560x1600.jpg",
        "GPL-2.0-or-later",
        "Maciej Wiklo (KDE Visual Design Group)",
    ),
    w(
        "plasma-coldripple",
        PLASMA,
        "usr/share/wallpapers/ColdRipple/contents/images/2560x1600.jpg",
        "GPL-2.0-or-later",
        "Risto Saukonpää (KDE Visual Design Group)",
    ),
    w(
        "plasma-colorfulcups",
        PLASMA,
        "usr/share/wallpapers/ColorfulCups/contents/images/2560x1600.jpg",
        "GPL-2.0-or-later",
        "Dmitri Popov (KDE Visual Design Group)",
    ),
    w(
        "plasma-darkesthour",
        PLASMA,
        "usr/share/wallpapers/DarkestHour/contents/images/2560x1600.jpg",
        "GPL-2.0-or-later",
        "Risto Saukonpää (KDE Visual Design Group)",
    ),
    w(
        "plasma-eveningglow",
        PLASMA,
        "usr/share/wallpapers/EveningGlow/contents/images/2560x1600.jpg",
        "GPL-2.0-or-later",
        "Ian Hex (KDE Visual Design Group)",
    ),
    w(
        "plasma-fallenleaf",
        PLASMA,
        "usr/share/wallpapers/FallenLeaf/contents/images/2560x1600.jpg",
        "GPL-2.0-or-later",
        "Martin Klapetek (KDE Visual Design Group)",
    ),
    w(
        "plasma-kite",
        PLASMA,
        "usr/share/wallpapers/Kite/contents/images/2560x1600.jpg",
        "GPL-2.0-or-later",
        "Risto Saukonpää (KDE Visual Design Group)",
    ),
    w(
        "plasma-onestandsout",
        PLASMA,
        "usr/share/wallpapers/OneStandsOut/contents/images/2560x1600.jpg",
        "GPL-2.0-or-later",
        "Risto Saukonpää (KDE Visual Design Group)",
    ),
    w(
        "plasma-path",
        PLASMA,
        "usr/share/wallpapers/Path/contents/images/2560x1600.jpg",
        "GPL-2.0-or-later",
        "Risto Saukonpää (KDE Visual Design Group)",
    ),
    w(
        "plasma-summer-1am",
        PLASMA,
        "usr/share/wallpapers/summer_1am/contents/images/2560x1600.jpg",
        "GPL-2.0-or-later",
        "Risto Saukonpää (KDE Visual Design Group)",
    ),
];

/// The `.deb` of `package` in `debs`, if downloaded: its path and version.
fn find_deb(debs: &Path, package: &str) -> Option<(PathBuf, String)> {
    let prefix = format!("{package}_");
    let mut found: Vec<PathBuf> = std::fs::read_dir(debs)
        .ok()?
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            let name = p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            name.starts_with(&prefix) && name.ends_with(".deb")
        })
        .collect();
    found.sort();
    let path = found.pop()?;
    let name = path.file_name()?.to_string_lossy().into_owned();
    let version = name.strip_prefix(&prefix)?.split('_').next()?.replace("%3a", ":");
    Some((path, version))
}

/// Downloads (once) and unpacks (once) `package` under `debs`; returns the unpacked root
/// and the package version.
pub fn unpack(debs: &Path, package: &str) -> Result<(PathBuf, String)> {
    std::fs::create_dir_all(debs).with_context(|| format!("cannot create {}", debs.display()))?;
    if find_deb(debs, package).is_none() {
        let status = Command::new("apt-get")
            .arg("download")
            .arg(package)
            .current_dir(debs)
            .status()
            .context("cannot run apt-get")?;
        if !status.success() {
            bail!("apt-get download {package} failed ({status})");
        }
    }
    let (deb, version) =
        find_deb(debs, package).with_context(|| format!("no .deb of {package} after download"))?;
    let root = debs.join("x").join(package);
    let done = root.join(".unpacked");
    if !done.exists() {
        // dpkg-deb creates the last folder of the target only, not its parents.
        std::fs::create_dir_all(&root)
            .with_context(|| format!("cannot create {}", root.display()))?;
        let status = Command::new("dpkg-deb")
            .arg("-x")
            .arg(&deb)
            .arg(&root)
            .status()
            .context("cannot run dpkg-deb")?;
        if !status.success() {
            bail!("dpkg-deb -x {} failed ({status})", deb.display());
        }
        std::fs::write(&done, b"").with_context(|| format!("cannot write {}", done.display()))?;
    }
    Ok((root, version))
}
