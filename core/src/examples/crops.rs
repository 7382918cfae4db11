//! Which parts of a photo the model sees, and where a response lies in the photo.
//!
//! A photo is cut into square crops at several scales (a fraction of its short side),
//! overlapping by half, each resized to the model's input. A position of a layer sees its
//! receptive field; [`field_box`] maps it back to the photo's own pixels, clipped to the crop
//! (outside the crop the model saw padding, not the photo).

use crate::atlas::{PixelBox, ReceptiveField};

/// A square region of a photo, in the photo's own pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SquareCrop {
    /// Left edge.
    pub left: u32,
    /// Top edge.
    pub top: u32,
    /// Side.
    pub side: u32,
}

/// The crops of a `width x height` photo: per scale (a fraction of the short side, in
/// `(0, 1]`), squares of that side on a grid with steps of at most half a side, spread evenly so that the
/// first and last touch the photo's edges. In scale order, then row by row. Scales that give
/// a side under 16 pixels are skipped.
pub fn crops_of(width: u32, height: u32, scales: &[f32]) -> Vec<SquareCrop> {
    let short = width.min(height);
    let mut crops = Vec::new();
    for &scale in scales {
        if !(scale > 0.0 && scale <= 1.0) {
            continue;
        }
        let side = ((f64::from(short) * f64::from(scale)).round() as u32).clamp(1, short.max(1));
        if side < 16 {
            continue;
        }
        let starts = |extent: u32| -> Vec<u32> {
            let room = extent - side;
            let step = (side / 2).max(1);
            let n = room.div_ceil(step) + 1;
            (0..n)
                .map(|i| {
                    if n == 1 {
                        room / 2
                    } else {
                        (u64::from(room) * u64::from(i) / u64::from(n - 1)) as u32
                    }
                })
                .collect()
        };
        for top in starts(height) {
            for &left in &starts(width) {
                crops.push(SquareCrop { left, top, side });
            }
        }
    }
    crops
}

/// The receptive field of position `(y, x)` of a layer, for a square crop resized to the
/// model's `input` (`[height, width]` pixels, stretched where it is not square), in the photo's pixels, clipped to the crop. Pixel `i` of the input covers `[i - 0.5, i +
/// 0.5]`; the box is rounded outwards and at least one pixel.
pub fn field_box(
    field: &ReceptiveField,
    input: [u32; 2],
    crop: SquareCrop,
    position: [usize; 2],
) -> PixelBox {
    let span = |axis: &crate::atlas::AxisField, p: usize, origin: u32, input: u32| {
        let factor = f64::from(crop.side) / f64::from(input.max(1));
        let centre = axis.centre + p as f64 * axis.jump;
        let low = (centre - axis.size / 2.0 + 0.5) * factor;
        let high = (centre + axis.size / 2.0 + 0.5) * factor;
        let side = f64::from(crop.side);
        let low = low.clamp(0.0, side).floor() as u32;
        let high = (high.clamp(0.0, side).ceil() as u32).max(low + 1).min(crop.side);
        let low = low.min(high.saturating_sub(1));
        (origin + low, high - low)
    };
    let (y, height) = span(&field.height, position[0], crop.top, input[0]);
    let (x, width) = span(&field.width, position[1], crop.left, input[1]);
    PixelBox { x, y, width, height }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::atlas::AxisField;

    #[test]
    fn crops_cover_the_photo_and_stay_inside() {
        let crops = crops_of(640, 480, &[1.0, 0.5]);
        // Scale 1: side 480, one row, starts 0 and 160 (room 160, step 240 -> 2 crops).
        assert_eq!(crops[0], SquareCrop { left: 0, top: 0, side: 480 });
        assert_eq!(crops[1], SquareCrop { left: 160, top: 0, side: 480 });
        let half: Vec<_> = crops.iter().filter(|c| c.side == 240).collect();
        assert_eq!(half.len(), 3 * 5, "rows 0,120,240 x columns 0,100,200,300,400");
        for crop in &crops {
            assert!(crop.left + crop.side <= 640 && crop.top + crop.side <= 480, "{crop:?}");
        }
        assert!(half.iter().any(|c| c.left + c.side == 640 && c.top + c.side == 480));
        assert!(crops_of(20, 20, &[0.5]).is_empty(), "10-pixel crops are too small");
    }

    #[test]
    fn field_boxes_scale_to_the_crop_and_clip() {
        let axis = AxisField { size: 32.0, jump: 16.0, centre: 7.5 };
        let field = ReceptiveField { height: axis, width: axis };
        let crop = SquareCrop { left: 100, top: 50, side: 448 };
        // Input 224, factor 2. Position 3: centre 55.5 -> [40, 72) input -> [80, 144) crop.
        let b = field_box(&field, [224, 224], crop, [3, 3]);
        assert_eq!(b, PixelBox { x: 180, y: 130, width: 64, height: 64 });
        // A 112x224 input: rows stretched twice as much (factor 4), columns as before.
        let b = field_box(&field, [112, 224], crop, [3, 3]);
        assert_eq!(b, PixelBox { x: 180, y: 50 + 160, width: 64, height: 128 });
        // Position 0: [-8.5+0.5, 23.5+0.5) -> clipped at the crop's edge.
        let b = field_box(&field, [224, 224], crop, [0, 0]);
        assert_eq!((b.x, b.y, b.width, b.height), (100, 50, 48, 48));
        let huge = AxisField { size: 1000.0, jump: 0.0, centre: 111.5 };
        let b = field_box(&ReceptiveField { height: huge, width: huge }, [224, 224], crop, [0, 0]);
        assert_eq!(b, PixelBox { x: 100, y: 50, width: 448, height: 448 });
    }
}
