//! An activation map as a picture to lay over the photo: positive activations warm and
//! opaque in proportion to their size, negative ones blue, zero transparent, all relative to
//! the largest magnitude on the map (so every map uses the whole scale).

use super::messages::ActivationMap;
use crate::protocol::Picture;

/// Opacity of the strongest position, out of 255: the photo stays visible under it.
const MAX_ALPHA: f32 = 210.0;

/// The map as RGBA, one pixel per position (the page stretches it over the photo).
pub fn activation_overlay(map: &ActivationMap) -> Picture {
    let scale =
        map.values.iter().fold(0.0f32, |m, v| if v.is_finite() { m.max(v.abs()) } else { m });
    let rgba = map
        .values
        .iter()
        .flat_map(|&v| {
            let t = if scale > 0.0 && v.is_finite() { (v / scale).clamp(-1.0, 1.0) } else { 0.0 };
            let alpha = (t.abs() * MAX_ALPHA).round() as u8;
            if t >= 0.0 {
                // From orange to yellow as the activation grows.
                [255, (120.0 + 135.0 * t).round() as u8, 0, alpha]
            } else {
                [30, 90, 255, alpha]
            }
        })
        .collect();
    Picture { width: map.width, height: map.height, rgba }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlay_is_transparent_at_zero_and_opaque_at_the_peak() {
        let map = ActivationMap { width: 3, height: 1, values: vec![0.0, 2.0, -1.0] };
        let picture = activation_overlay(&map);
        assert_eq!((picture.width, picture.height, picture.rgba.len()), (3, 1, 12));
        assert_eq!(picture.rgba[3], 0, "zero is transparent");
        assert_eq!(picture.rgba[7], MAX_ALPHA as u8, "the peak is the most opaque");
        assert_eq!(picture.rgba[8..11], [30, 90, 255], "negative is blue");
        assert_eq!(picture.rgba[11], (MAX_ALPHA / 2.0).round() as u8);
        let flat = activation_overlay(&ActivationMap { width: 2, height: 1, values: vec![0.0; 2] });
        assert!(flat.rgba.chunks(4).all(|p| p[3] == 0));
    }
}
