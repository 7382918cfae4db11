//! Receptive fields: which input pixels can influence one position of a layer.
//!
//! For a stack of convolutions the field of an output position is a square of `size` input
//! pixels; neighbouring positions are `jump` pixels apart (the product of the strides so far).
//! These are the theoretical fields: every pixel in them can contribute, though the central
//! ones contribute most, and near the border part of the field lies in the padding.

/// The receptive field of the positions of one layer, in input pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReceptiveField {
    /// Side of the square of input pixels that one position sees.
    pub size: usize,
    /// Distance in input pixels between the fields of neighbouring positions (the layer's
    /// total stride).
    pub jump: usize,
    /// Input-pixel coordinate (row or column; pixel `i` covers `[i - 0.5, i + 0.5]`) of the
    /// centre of the field of position 0. Position `p` is centred at `centre + p * jump`.
    pub centre: f64,
}

impl ReceptiveField {
    /// The field of the input itself: each position sees one pixel.
    pub const INPUT: Self = Self { size: 1, jump: 1, centre: 0.0 };

    /// The field after a convolution (or pooling) with a `kernel`-wide window, `stride` and
    /// `pad_before` padding pixels before the first input position (zero strides count as 1).
    pub fn conv(self, kernel: usize, stride: usize, pad_before: usize) -> Self {
        let kernel = kernel.max(1);
        Self {
            size: self.size + (kernel - 1) * self.jump,
            jump: self.jump * stride.max(1),
            centre: self.centre
                + ((kernel - 1) as f64 / 2.0 - pad_before as f64) * self.jump as f64,
        }
    }

    /// Input-pixel coordinate of the centre of the field of `position` (along one axis).
    pub fn centre_of(&self, position: usize) -> f64 {
        self.centre + (position * self.jump) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_receptive_field_composes() {
        // Stem of lite0 at 224: 3x3 stride 2 with SAME padding (0, 1).
        let stem = ReceptiveField::INPUT.conv(3, 2, 0);
        assert_eq!((stem.size, stem.jump, stem.centre), (3, 2, 1.0));
        assert_eq!(stem.centre_of(5), 11.0);
        // A 1x1 convolution changes nothing.
        assert_eq!(stem.conv(1, 1, 0), stem);
        // A 3x3 stride 1 depthwise with padding 1 keeps the centre and grows by 2 * jump.
        let dw = stem.conv(3, 1, 1);
        assert_eq!((dw.size, dw.jump, dw.centre), (7, 2, 1.0));
        // Stride 2, kernel 5, padding (1, 2).
        let s = dw.conv(5, 2, 1);
        assert_eq!((s.size, s.jump, s.centre), (15, 4, 3.0));
    }
}
