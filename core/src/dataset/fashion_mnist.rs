//! Fashion-MNIST (Zalando Research, 2017, MIT license): 70,000 labelled 28×28 grayscale
//! photographs of clothing in 10 classes, 60,000 for training and 10,000 for testing, as
//! Debian's `dataset-fashion-mnist` package installs them. [`ImageSet`] pairs an images file
//! with its labels file.

use super::{IdxArray, IdxError};

/// Where the data comes from.
pub const FASHION_MNIST_SOURCE: &str = "Fashion-MNIST, Zalando Research (https://github.com/zalandoresearch/fashion-mnist), via Debian package dataset-fashion-mnist";

/// Its license (Debian calls it Expat).
pub const FASHION_MNIST_LICENSE: &str = "MIT (Expat), Copyright 2017 Zalando SE";

/// Where the Debian package puts the IDX files.
pub const FASHION_MNIST_DIR: &str = "/usr/share/datasets/fashion-mnist";

/// The four files: training images and labels, test images and labels (gzip'd IDX).
pub const FASHION_MNIST_FILES: [&str; 4] = [
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
];

/// Side of the square images, in pixels.
pub const FASHION_MNIST_SIDE: usize = 28;

/// The class names, by label.
pub const FASHION_MNIST_CLASSES: [&str; 10] = [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
];

/// Why an images file and a labels file do not make a data set.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FashionMnistError {
    /// A file is not a valid IDX array.
    #[error("{file}: {source}")]
    Idx {
        /// Which file.
        file: &'static str,
        /// What is wrong with it.
        source: IdxError,
    },
    /// The images are not `[N, 28, 28]`.
    #[error("the images have dimensions {0:?}, not [N, 28, 28]")]
    ImageShape(Vec<usize>),
    /// The labels are not a vector of the same length as the images.
    #[error("{labels:?} labels for {images} images")]
    LabelCount {
        /// Number of images.
        images: usize,
        /// The labels' dimensions.
        labels: Vec<usize>,
    },
    /// A label is not a class.
    #[error("label {label} of item {index} is not one of the 10 classes")]
    BadLabel {
        /// Which item.
        index: usize,
        /// Its label.
        label: u8,
    },
}

/// Labelled square grayscale images: pixel bytes, `side * side` per image, and a class per
/// image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageSet {
    /// Image side in pixels.
    pub side: usize,
    /// Pixels of every image, row-major, 0 (black) to 255.
    pub pixels: Vec<u8>,
    /// The class of every image, below [`FASHION_MNIST_CLASSES`]' length.
    pub labels: Vec<u8>,
}

impl ImageSet {
    /// Pairs the raw (not gzip'd) IDX bytes of an images file and a labels file.
    ///
    /// Fails when either is not IDX, when the images are not 28×28, when the counts differ
    /// or when a label is not a class.
    pub fn from_idx(images: &[u8], labels: &[u8]) -> Result<Self, FashionMnistError> {
        let images = super::parse_idx(images)
            .map_err(|source| FashionMnistError::Idx { file: "images", source })?;
        let labels = super::parse_idx(labels)
            .map_err(|source| FashionMnistError::Idx { file: "labels", source })?;
        Self::from_arrays(images, labels)
    }

    fn from_arrays(images: IdxArray, labels: IdxArray) -> Result<Self, FashionMnistError> {
        if images.dims.len() != 3 || images.dims[1..] != [FASHION_MNIST_SIDE; 2] {
            return Err(FashionMnistError::ImageShape(images.dims));
        }
        if labels.dims != [images.items()] {
            return Err(FashionMnistError::LabelCount {
                images: images.items(),
                labels: labels.dims,
            });
        }
        if let Some((index, &label)) =
            labels.data.iter().enumerate().find(|(_, l)| usize::from(**l) >= 10)
        {
            return Err(FashionMnistError::BadLabel { index, label });
        }
        Ok(Self { side: FASHION_MNIST_SIDE, pixels: images.data, labels: labels.data })
    }

    /// The number of images.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether there are no images.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// The pixels of image `index`, if there is one.
    pub fn image(&self, index: usize) -> Option<&[u8]> {
        let n = self.side * self.side;
        self.pixels.get(index * n..(index + 1) * n)
    }

    /// The first `count` images (all of them if there are fewer).
    pub fn take(&self, count: usize) -> Self {
        let count = count.min(self.len());
        let n = self.side * self.side;
        Self {
            side: self.side,
            pixels: self.pixels[..count * n].to_vec(),
            labels: self.labels[..count].to_vec(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn idx(dims: &[u32], data: &[u8]) -> Vec<u8> {
        let mut out = vec![0, 0, 0x08, dims.len() as u8];
        for d in dims {
            out.extend_from_slice(&d.to_be_bytes());
        }
        out.extend_from_slice(data);
        out
    }

    #[test]
    fn pairs_images_with_labels() {
        let pixels: Vec<u8> = (0..2 * 28 * 28).map(|i| (i % 251) as u8).collect();
        let set = ImageSet::from_idx(&idx(&[2, 28, 28], &pixels), &idx(&[2], &[9, 3])).unwrap();
        assert_eq!(set.len(), 2);
        assert_eq!(set.image(1), Some(&pixels[784..]));
        assert_eq!(set.image(2), None);
        assert_eq!(set.take(1).labels, [9]);
        assert_eq!(FASHION_MNIST_CLASSES[usize::from(set.labels[0])], "Ankle boot");
    }

    #[test]
    fn rejects_mismatched_files() {
        let pixels = vec![0u8; 2 * 28 * 28];
        let images = idx(&[2, 28, 28], &pixels);
        let err = ImageSet::from_idx(&images, &idx(&[3], &[0, 1, 2])).unwrap_err();
        assert!(matches!(err, FashionMnistError::LabelCount { images: 2, .. }), "{err}");
        let err = ImageSet::from_idx(&images, &idx(&[2], &[0, 10])).unwrap_err();
        assert_eq!(err, FashionMnistError::BadLabel { index: 1, label: 10 });
        let err = ImageSet::from_idx(&idx(&[1, 56, 28], &pixels), &idx(&[1], &[0])).unwrap_err();
        assert!(matches!(err, FashionMnistError::ImageShape(_)), "{err}");
        let err = ImageSet::from_idx(&images[..100], &idx(&[2], &[0, 1])).unwrap_err();
        assert!(err.to_string().starts_with("images: truncated"), "{err}");
    }
}
