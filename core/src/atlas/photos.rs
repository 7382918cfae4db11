//! `photos/photos.json`: the photo corpus that dataset examples come from, with each photo's
//! source, license, credit and size, and (when the atlas ships it) the photo file itself.
//! Dataset examples name photos by id and give boxes in these pixel sizes.

use serde::{Deserialize, Serialize};

use super::asset_path::AssetPath;
use super::bounded;
use super::checker::Checker;
use super::error::AtlasError;
use super::file::ImageAsset;
use super::image_header::ImageContent;
use super::limits::{MAX_IMAGE_SIDE, MAX_PHOTOS, MAX_SHORT_TEXT, MAX_TEXT};
use super::manifest::{ListedAsset, Manifest, ManifestKind, run_checks};
use super::model::check_url;
use super::name::Name;
use super::paths;
use super::quote::quote;

/// The photos manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhotosManifest {
    /// The corpus in words (`scikit-image 0.26.0 and scikit-learn 1.9.1 sample images`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub corpus: Option<String>,
    /// The photos, sorted by id.
    #[serde(deserialize_with = "bounded::vec::<_, _, MAX_PHOTOS>")]
    pub photos: Vec<PhotoEntry>,
}

/// One photo and its provenance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhotoEntry {
    /// Its id, as dataset examples name it.
    pub id: Name,
    /// Width of the original, in pixels (the frame of dataset-example boxes).
    pub width: u32,
    /// Height of the original, in pixels.
    pub height: u32,
    /// Where it comes from, in words (package, version and member; or archive and file).
    pub source: String,
    /// A page about it (`https://` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Its license (SPDX id where there is one, else words such as `public domain`).
    pub license: String,
    /// Author or origin, as the source credits it.
    pub credit: String,
    /// The photo as shipped (`photos/<id>.<ext>`; JPEG allowed, kept byte for byte), if the
    /// atlas ships it. Its pixel size must be the photo's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<ImageAsset>,
}

impl PhotosManifest {
    /// The photo of that id (binary search: photos are sorted by id).
    pub fn photo(&self, id: &str) -> Option<&PhotoEntry> {
        self.photos
            .binary_search_by(|photo| photo.id.as_str().cmp(id))
            .ok()
            .and_then(|i| self.photos.get(i))
    }

    fn check(&self, c: &mut Checker) {
        c.opt_text("corpus", self.corpus.as_ref(), MAX_TEXT);
        c.count("photos", self.photos.len(), MAX_PHOTOS);
        c.each("photos", &self.photos, |c, photo| {
            c.within("width", u64::from(photo.width), 1..=u64::from(u32::MAX));
            c.within("height", u64::from(photo.height), 1..=u64::from(u32::MAX));
            c.required_text("source", &photo.source, MAX_TEXT);
            c.required_text("license", &photo.license, MAX_SHORT_TEXT);
            c.required_text("credit", &photo.credit, MAX_SHORT_TEXT);
            if let Some(url) = &photo.url {
                c.at("url", |c| check_url(c, url));
            }
            if let Some(file) = &photo.file {
                c.at("file", |c| {
                    file.check(c, ImageContent::Photographic);
                    if !file.path.is_inside(&paths::photos_dir()) {
                        c.invalid("path", format!("{} lies outside photos/", file.path));
                    }
                    if (file.width, file.height) != (photo.width, photo.height) {
                        c.invalid("width", "the file's size differs from the photo's");
                    }
                    if file.width > MAX_IMAGE_SIDE || file.height > MAX_IMAGE_SIDE {
                        c.invalid(
                            "width",
                            "ship a photo larger than the image limit as crops only",
                        );
                    }
                });
            }
        });
        // Sorted and unique in one pass; also unique ignoring case (they are file names).
        let unsorted =
            self.photos.windows(2).position(|pair| matches!(pair, [a, b] if a.id >= b.id));
        if let Some(i) = unsorted {
            let id =
                self.photos.get(i + 1).map_or_else(String::new, |photo| quote(photo.id.as_str()));
            c.invalid(
                "photos",
                format!(
                    "photo {} ({id}) is out of order or repeated; photos are sorted by id",
                    i + 1
                ),
            );
        }
        c.unique_names("photos", "id", self.photos.iter().map(|photo| &photo.id));
    }
}

impl Manifest for PhotosManifest {
    const KIND: ManifestKind = ManifestKind::Photos;

    fn path(&self) -> AssetPath {
        paths::photos_manifest()
    }

    fn assets(&self) -> Vec<ListedAsset<'_>> {
        self.photos
            .iter()
            .enumerate()
            .filter_map(|(i, photo)| {
                photo
                    .file
                    .as_ref()
                    .map(|file| ListedAsset { field: format!("photos[{i}].file"), asset: file })
            })
            .collect()
    }

    fn validate(&self) -> Vec<AtlasError> {
        run_checks(&self.path(), |c| self.check(c))
    }
}
