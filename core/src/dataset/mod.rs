//! Labelled image data sets read from files: the IDX container format and Fashion-MNIST (its
//! source, license and class names).

mod fashion_mnist;
mod idx;

pub use fashion_mnist::{
    FASHION_MNIST_CLASSES, FASHION_MNIST_DIR, FASHION_MNIST_FILES, FASHION_MNIST_LICENSE,
    FASHION_MNIST_SIDE, FASHION_MNIST_SOURCE, FashionMnistError, ImageSet,
};
pub use idx::{IDX_MAX_BYTES, IdxArray, IdxError, parse_idx};
