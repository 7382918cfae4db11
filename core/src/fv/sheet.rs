//! Contact sheets: many renders on one image, in a grid, each labelled (with a built-in
//! 3x5-pixel font for digits, so no font files are needed).

use image::{Rgb, RgbImage};

use super::image::RenderedImage;

/// Pixels between tiles and around the sheet.
const GAP: u32 = 4;
/// Each font pixel drawn as a square of this side.
const FONT_SCALE: u32 = 2;
/// Background of the sheet.
const BACKGROUND: Rgb<u8> = Rgb([255, 255, 255]);
/// Colour of the labels.
const INK: Rgb<u8> = Rgb([0, 0, 0]);

/// Rows of a 3x5 glyph, top to bottom, 3 bits each (most significant bit on the left).
fn glyph(c: char) -> Option<[u8; 5]> {
    Some(match c {
        '0' => [0b111, 0b101, 0b101, 0b101, 0b111],
        '1' => [0b010, 0b110, 0b010, 0b010, 0b111],
        '2' => [0b111, 0b001, 0b111, 0b100, 0b111],
        '3' => [0b111, 0b001, 0b111, 0b001, 0b111],
        '4' => [0b101, 0b101, 0b111, 0b001, 0b001],
        '5' => [0b111, 0b100, 0b111, 0b001, 0b111],
        '6' => [0b111, 0b100, 0b111, 0b101, 0b111],
        '7' => [0b111, 0b001, 0b001, 0b001, 0b001],
        '8' => [0b111, 0b101, 0b111, 0b101, 0b111],
        '9' => [0b111, 0b101, 0b111, 0b001, 0b111],
        '.' => [0b000, 0b000, 0b000, 0b000, 0b010],
        ':' => [0b000, 0b010, 0b000, 0b010, 0b000],
        '-' => [0b000, 0b000, 0b111, 0b000, 0b000],
        _ => return None,
    })
}

/// Draws `text` (digits, `.`, `:`, `-`; other characters leave a space) with its top-left
/// corner at `(x, y)`.
fn draw_label(sheet: &mut RgbImage, text: &str, x: u32, y: u32) {
    let advance = 4 * FONT_SCALE;
    for (i, c) in text.chars().enumerate() {
        let Some(rows) = glyph(c) else { continue };
        let left = x + i as u32 * advance;
        for (row, bits) in rows.iter().enumerate() {
            for col in 0..3u32 {
                if bits & (0b100 >> col) == 0 {
                    continue;
                }
                for dy in 0..FONT_SCALE {
                    for dx in 0..FONT_SCALE {
                        let (px, py) =
                            (left + col * FONT_SCALE + dx, y + row as u32 * FONT_SCALE + dy);
                        if px < sheet.width() && py < sheet.height() {
                            sheet.put_pixel(px, py, INK);
                        }
                    }
                }
            }
        }
    }
}

/// A grid of `images` (`columns` per row; about square when `None`) on white, each with its
/// label below it (none when `labels` is shorter).
pub fn contact_sheet(
    images: &[RenderedImage],
    labels: &[String],
    columns: Option<usize>,
) -> RgbImage {
    let count = images.len().max(1);
    let columns =
        columns.unwrap_or_else(|| (count as f64).sqrt().ceil() as usize).clamp(1, count) as u32;
    let rows = count.div_ceil(columns as usize) as u32;
    let tile_w = images.iter().map(|i| i.width).max().unwrap_or(1) as u32;
    let tile_h = images.iter().map(|i| i.height).max().unwrap_or(1) as u32;
    let label_h = if labels.is_empty() { 0 } else { 5 * FONT_SCALE + GAP };
    let cell_w = tile_w + GAP;
    let cell_h = tile_h + label_h + GAP;
    let mut sheet = RgbImage::from_pixel(GAP + columns * cell_w, GAP + rows * cell_h, BACKGROUND);
    for (i, image) in images.iter().enumerate() {
        let (col, row) = (i as u32 % columns, i as u32 / columns);
        let (x0, y0) = (GAP + col * cell_w, GAP + row * cell_h);
        let tile = image.to_rgb_image();
        for (x, y, pixel) in tile.enumerate_pixels() {
            sheet.put_pixel(x0 + x, y0 + y, *pixel);
        }
        if let Some(label) = labels.get(i) {
            draw_label(&mut sheet, label, x0, y0 + tile_h + GAP / 2);
        }
    }
    sheet
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fv_contact_sheet_lays_out_tiles_and_labels() {
        let tile = |v: f32| RenderedImage { width: 8, height: 8, channels: 1, data: vec![v; 64] };
        let images = vec![tile(0.0), tile(1.0), tile(0.5)];
        let labels: Vec<String> = vec!["0".into(), "12".into(), "3".into()];
        let sheet = contact_sheet(&images, &labels, None);
        // 2 columns, 2 rows; label strip 14 px.
        assert_eq!(sheet.dimensions(), (4 + 2 * 12, 4 + 2 * (8 + 14 + 4)));
        assert_eq!(sheet.get_pixel(4, 4), &Rgb([0, 0, 0]));
        assert_eq!(sheet.get_pixel(16, 4), &Rgb([255, 255, 255]));
        // Some ink under the first tile.
        let ink = (4..12)
            .flat_map(|x| (12..26).map(move |y| (x, y)))
            .any(|(x, y)| sheet.get_pixel(x, y) == &INK);
        assert!(ink);
    }
}
