//! Receptive fields: which input pixels can influence one position of a value, per spatial
//! axis, computed through convolutions, pools, paddings and resizes.
//!
//! Along an axis, the field of a value's positions is `size` input pixels wide, neighbouring
//! positions are `jump` pixels apart, and position `p` is centred at `centre + p * jump`.
//! These are theoretical fields (every pixel in them can contribute; near the border part of
//! the field lies in the padding). Jumps may be fractional after upsampling.

/// The receptive field along one axis, in input pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AxisField {
    /// Width of the span of input pixels one position sees.
    pub size: f64,
    /// Distance in input pixels between the fields of neighbouring positions (the total
    /// stride so far).
    pub jump: f64,
    /// Input-pixel coordinate (pixel `i` covers `[i - 0.5, i + 0.5]`) of the centre of the
    /// field of position 0.
    pub centre: f64,
}

impl AxisField {
    /// The input itself: each position sees one pixel.
    pub const INPUT: Self = Self { size: 1.0, jump: 1.0, centre: 0.0 };

    /// After a window spanning `extent` positions (a dilated kernel's span), moved by
    /// `stride`, with `pad_before` padding positions before the first input position.
    pub fn window(self, extent: usize, stride: usize, pad_before: usize) -> Self {
        let extent = extent.max(1) as f64;
        Self {
            size: self.size + (extent - 1.0) * self.jump,
            jump: self.jump * stride.max(1) as f64,
            centre: self.centre + ((extent - 1.0) / 2.0 - pad_before as f64) * self.jump,
        }
    }

    /// After resampling where output position `x` reads input coordinate `a * x + b` through
    /// `taps` neighbouring positions (1 for nearest, 2 for linear).
    pub fn resample(self, a: f64, b: f64, taps: usize) -> Self {
        Self {
            size: self.size + taps.saturating_sub(1) as f64 * self.jump,
            jump: self.jump * a,
            centre: self.centre + b * self.jump,
        }
    }

    /// The wider of two fields (a merge of branches).
    pub fn max(self, other: Self) -> Self {
        if other.size > self.size { other } else { self }
    }

    /// Input-pixel coordinate of the centre of the field of `position`.
    pub fn centre_of(&self, position: usize) -> f64 {
        self.centre + position as f64 * self.jump
    }
}

/// The receptive field of a value's spatial positions: one [`AxisField`] per axis.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReceptiveField {
    /// Along the height (rows).
    pub height: AxisField,
    /// Along the width (columns).
    pub width: AxisField,
}

impl ReceptiveField {
    /// The input itself.
    pub const INPUT: Self = Self { height: AxisField::INPUT, width: AxisField::INPUT };

    /// Applies `f` to both axes (with the axis index, 0 for height).
    pub fn map(self, f: impl Fn(usize, AxisField) -> AxisField) -> Self {
        Self { height: f(0, self.height), width: f(1, self.width) }
    }

    /// The wider field along each axis.
    pub fn max(self, other: Self) -> Self {
        Self { height: self.height.max(other.height), width: self.width.max(other.width) }
    }

    /// The larger of the two sizes, in input pixels.
    pub fn size(&self) -> f64 {
        self.height.size.max(self.width.size)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn graph_receptive_field_composes() {
        let f = AxisField::INPUT.window(3, 1, 1);
        assert_eq!((f.size, f.jump, f.centre), (3.0, 1.0, 0.0));
        let g = AxisField::INPUT.window(3, 2, 0).window(3, 1, 1);
        assert_eq!((g.size, g.jump, g.centre), (7.0, 2.0, 1.0));
        assert_eq!(g.centre_of(3), 7.0);
        // Nearest 2x upsampling halves the jump; linear adds one more position.
        let up = g.resample(0.5, -0.25, 1);
        assert_eq!((up.size, up.jump, up.centre), (7.0, 1.0, 0.5));
        assert_eq!(g.resample(0.5, -0.25, 2).size, 9.0);
        assert_eq!(f.max(g), g);
    }
}
