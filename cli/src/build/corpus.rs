//! The photo corpus of a build: bundled photos (scikit-image, scikit-learn), curated Debian
//! wallpapers and `--images DIR`, or the labelled Fashion-MNIST test set (each image a
//! "photo" with its class), sorted by id, each decoded once and kept in memory at a
//! working size (long side at most [`WORKING_SIDE`]) with its provenance. Example boxes are
//! computed at the working size and recorded in the original's pixels.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use image::RgbImage;
use image::imageops::{FilterType, resize};
use microscope_core::atlas::{Name, PhotoEntry, PhotosManifest, PixelBox};
use microscope_core::dataset::{
    FASHION_MNIST_CLASSES, FASHION_MNIST_LICENSE, FASHION_MNIST_SOURCE,
};
use microscope_core::photos::BUNDLED_PHOTOS;
use microscope_core::preprocess::decode_rgb;
use microscope_core::weights::sha256_hex;

use super::wallpapers::{WALLPAPERS, unpack};
use crate::{cache, store};

/// Longest side of the in-memory copy of a photo.
pub const WORKING_SIDE: u32 = 512;

/// Which sources a corpus draws from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CorpusKind {
    /// The bundled photos only (fast; tests).
    Bundled,
    /// Bundled photos and the curated Debian wallpapers.
    Full,
    /// The first `limit` images of the Fashion-MNIST test set, each with its class.
    FashionMnist {
        /// How many test images (at most the 10,000 there are).
        limit: usize,
    },
}

/// One photo: provenance and its working copy.
pub struct CorpusPhoto {
    /// As `photos.json` records it (original size).
    pub entry: PhotoEntry,
    /// The working copy.
    pub image: RgbImage,
    /// Original pixels per working pixel (at least 1).
    pub scale: f64,
    /// Its class in a labelled data set.
    pub class: Option<u32>,
}

/// The corpus, sorted by id.
pub struct Corpus {
    /// The photos.
    pub photos: Vec<CorpusPhoto>,
    /// In words, for `photos.json` and the build settings.
    pub description: String,
}

impl CorpusPhoto {
    fn new(entry: PhotoEntry, original: &RgbImage) -> Self {
        let (w, h) = original.dimensions();
        let long = w.max(h).max(1);
        let (image, scale) = if long > WORKING_SIDE {
            let f = f64::from(WORKING_SIDE) / f64::from(long);
            let (ww, wh) = (
                ((f64::from(w) * f).round() as u32).max(1),
                ((f64::from(h) * f).round() as u32).max(1),
            );
            (resize(original, ww, wh, FilterType::Triangle), f64::from(w) / f64::from(ww))
        } else {
            (original.clone(), 1.0)
        };
        Self { entry, image, scale, class: None }
    }

    /// A box of the working copy in the original's pixels (clipped to it).
    pub fn to_original(&self, b: PixelBox) -> PixelBox {
        let (w, h) = (self.entry.width, self.entry.height);
        let x = ((f64::from(b.x) * self.scale).floor() as u32).min(w.saturating_sub(1));
        let y = ((f64::from(b.y) * self.scale).floor() as u32).min(h.saturating_sub(1));
        let right = ((f64::from(b.x + b.width) * self.scale).ceil() as u32).clamp(x + 1, w);
        let bottom = ((f64::from(b.y + b.height) * self.scale).ceil() as u32).clamp(y + 1, h);
        PixelBox { x, y, width: right - x, height: bottom - y }
    }
}

fn decode(path: &Path) -> Result<RgbImage> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    decode_rgb(&bytes).with_context(|| format!("cannot decode {}", path.display()))
}

fn entry(
    id: &str,
    image: &RgbImage,
    source: String,
    license: &str,
    credit: &str,
) -> Result<PhotoEntry> {
    Ok(PhotoEntry {
        id: Name::new(id).map_err(|e| anyhow::anyhow!("photo id `{id}`: {e}"))?,
        width: image.width(),
        height: image.height(),
        source,
        url: None,
        license: license.to_owned(),
        credit: credit.to_owned(),
        file: None,
    })
}

/// A photo id from a file stem: letters, digits, `-`, `_` kept, the rest `-`.
fn id_from_stem(stem: &str) -> String {
    let cleaned: String = stem
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '-' })
        .collect();
    let trimmed = cleaned.trim_matches(|c| c == '-' || c == '_');
    format!("user-{}", if trimmed.is_empty() { "photo" } else { trimmed })
}

/// The PNG, JPEG and WebP files of `dir` and of its subfolders one level down (an ImageNet
/// validation folder sorted into class folders), sorted by path.
fn image_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let is_image = |p: &Path| {
        let ext = p.extension().map(|e| e.to_string_lossy().to_lowercase()).unwrap_or_default();
        matches!(ext.as_str(), "png" | "jpg" | "jpeg" | "webp")
    };
    let list = |dir: &Path| -> Result<Vec<PathBuf>> {
        Ok(std::fs::read_dir(dir)
            .with_context(|| format!("cannot list {}", dir.display()))?
            .flatten()
            .map(|e| e.path())
            .collect())
    };
    let mut files = Vec::new();
    for path in list(dir)? {
        if path.is_dir() {
            files.extend(list(&path)?.into_iter().filter(|p| p.is_file() && is_image(p)));
        } else if is_image(&path) {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// Loads the corpus. Wallpapers that cannot be fetched are skipped with a message (in
/// `description` too); `images` adds every PNG, JPEG and WebP of a folder and its subfolders
/// (sorted by path), each recorded with its path in the folder and the sha256 of its file.
pub fn load(kind: CorpusKind, images: Option<&Path>) -> Result<Corpus> {
    if let CorpusKind::FashionMnist { limit } = kind {
        return fashion_mnist(limit);
    }
    let mut photos = Vec::new();
    let mut parts = Vec::new();
    let folder = store::photos()?;
    for photo in &BUNDLED_PHOTOS {
        let image = decode(&folder.join(photo.file_name()))?;
        let source =
            format!("PyPI {} {}, {}", photo.source.package, photo.source.version, photo.member);
        photos.push(CorpusPhoto::new(
            entry(photo.name, &image, source, photo.license, photo.credit)?,
            &image,
        ));
    }
    parts.push(format!(
        "{} photos bundled with scikit-image 0.26.0 and scikit-learn 1.9.1",
        BUNDLED_PHOTOS.len()
    ));
    if kind == CorpusKind::Full {
        let debs = cache::dir("debs")?;
        let mut count = 0;
        let mut failed = Vec::new();
        let mut packages: Vec<&str> = WALLPAPERS.iter().map(|w| w.package).collect();
        packages.dedup();
        for package in packages {
            match unpack(&debs, package) {
                Ok((root, version)) => {
                    for wallpaper in WALLPAPERS.iter().filter(|w| w.package == package) {
                        let path = root.join(wallpaper.member);
                        match decode(&path) {
                            Ok(image) => {
                                let source =
                                    format!("Debian {package} {version}, /{}", wallpaper.member);
                                let e = entry(
                                    wallpaper.id,
                                    &image,
                                    source,
                                    wallpaper.license,
                                    wallpaper.credit,
                                )?;
                                photos.push(CorpusPhoto::new(e, &image));
                                count += 1;
                            }
                            Err(error) => eprintln!("skipping {}: {error:#}", wallpaper.id),
                        }
                    }
                }
                Err(error) => {
                    eprintln!(
                        "warning: no wallpapers from {package}: {error:#}; going on without them"
                    );
                    failed.push(package);
                }
            }
        }
        parts.push(format!("{count} photographs from Debian wallpaper packages"));
        if !failed.is_empty() {
            parts.push(format!("(not available: {})", failed.join(", ")));
        }
    }
    if let Some(dir) = images {
        let files = image_files(dir)?;
        for path in &files {
            let stem =
                path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
            let bytes =
                std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
            let image =
                decode_rgb(&bytes).with_context(|| format!("cannot decode {}", path.display()))?;
            let relative = path.strip_prefix(dir).unwrap_or(path).to_string_lossy();
            let e = entry(
                &id_from_stem(&stem),
                &image,
                format!("--images {relative}, sha256 {}", sha256_hex(&bytes)),
                "unknown",
                "supplied by the builder",
            )?;
            photos.push(CorpusPhoto::new(e, &image));
        }
        parts.push(format!("{} photos given with --images", files.len()));
    }
    photos.sort_by(|a, b| a.entry.id.as_str().cmp(b.entry.id.as_str()));
    photos.dedup_by(|b, a| a.entry.id.folded() == b.entry.id.folded());
    Ok(Corpus { photos, description: parts.join("; ") })
}

/// A photo id for test image `index` of class `class`: `test-00042-sneaker`.
fn fashion_id(index: usize, class: &str) -> String {
    let slug: String = class
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' })
        .collect();
    format!("test-{index:05}-{slug}")
}

/// The first `limit` Fashion-MNIST test images as a corpus, each with its class.
fn fashion_mnist(limit: usize) -> Result<Corpus> {
    let (_, test) = crate::dataset::fashion_mnist()?;
    let side = u32::try_from(test.side)?;
    let count = limit.min(test.len());
    let mut photos = Vec::with_capacity(count);
    for index in 0..count {
        let (Some(pixels), Some(&label)) = (test.image(index), test.labels.get(index)) else {
            continue;
        };
        let class = FASHION_MNIST_CLASSES.get(usize::from(label)).copied().unwrap_or("unknown");
        let rgb: Vec<u8> = pixels.iter().flat_map(|&p| [p, p, p]).collect();
        let image = RgbImage::from_raw(side, side, rgb).context("a test image")?;
        let source = format!("{FASHION_MNIST_SOURCE}: test image {index}, class {class}");
        let e = entry(
            &fashion_id(index, class),
            &image,
            source,
            FASHION_MNIST_LICENSE,
            "Zalando Research",
        )?;
        let mut photo = CorpusPhoto::new(e, &image);
        photo.class = Some(u32::from(label));
        photos.push(photo);
    }
    photos.sort_by(|a, b| a.entry.id.as_str().cmp(b.entry.id.as_str()));
    Ok(Corpus {
        description: format!("the first {count} images of the Fashion-MNIST test set, labelled"),
        photos,
    })
}

impl Corpus {
    /// `photos/photos.json` (no photo files shipped: example crops are in unit sheets).
    pub fn manifest(&self) -> PhotosManifest {
        PhotosManifest {
            corpus: Some(self.description.clone()),
            photos: self.photos.iter().map(|p| p.entry.clone()).collect(),
        }
    }
}
