//! The bounds of an ONNX file. One definition, used by the viewer (which refuses a dropped
//! file before reading it), by the renderer worker and by `microscope import-onnx` (which
//! refuse it before decoding), so a crafted file cannot make a tab or the CLI allocate
//! without bound.

use super::ImportError;

/// How large an ONNX file may be, as bytes and as nodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OnnxLimits {
    /// Largest file, in bytes.
    pub max_bytes: u64,
    /// Most nodes in its graph.
    pub max_nodes: usize,
}

impl OnnxLimits {
    /// What the CLI reads: protobuf's own 2 GiB message limit (a larger model keeps its
    /// weights in external files, which import does not read), and more nodes than any
    /// published vision CNN has (DenseNet-201: about 2,000).
    pub const FILE: Self = Self { max_bytes: 2 << 30, max_nodes: 100_000 };

    /// What a browser tab reads: the file, its decoded weights and their copy on the device
    /// must fit in a wasm module's 4 GiB, next to the renderer's own memory. ResNet-50
    /// (100 MB) fits; VGG-16 (530 MB) does not.
    pub const BROWSER: Self = Self { max_bytes: 256 << 20, ..Self::FILE };

    /// Whether a file of `bytes` bytes may be read.
    pub fn check_bytes(self, bytes: u64) -> Result<(), ImportError> {
        if bytes == 0 {
            return Err(ImportError::Empty);
        }
        if bytes > self.max_bytes {
            return Err(ImportError::TooManyBytes { bytes, max_bytes: self.max_bytes });
        }
        Ok(())
    }

    /// Whether a graph of `nodes` nodes may be imported.
    pub fn check_nodes(self, nodes: usize) -> Result<(), ImportError> {
        if nodes > self.max_nodes {
            return Err(ImportError::TooManyNodes { nodes, max_nodes: self.max_nodes });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_refuse_empty_large_and_many_nodes() {
        let limits = OnnxLimits::BROWSER;
        assert_eq!(limits.check_bytes(0), Err(ImportError::Empty));
        assert_eq!(limits.check_bytes(1), Ok(()));
        assert_eq!(limits.check_bytes(256 << 20), Ok(()));
        let error = limits.check_bytes((256 << 20) + 1).unwrap_err();
        assert_eq!(error.to_string(), "the file has 268435457 bytes; at most 268435456 are read");
        assert_eq!(limits.check_nodes(100_000), Ok(()));
        assert_eq!(
            limits.check_nodes(100_001),
            Err(ImportError::TooManyNodes { nodes: 100_001, max_nodes: 100_000 })
        );
        assert!(OnnxLimits::FILE.check_bytes(1 << 30).is_ok());
    }
}
