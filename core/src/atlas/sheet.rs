//! [`Sheet`]: a sprite sheet, many equal tiles in one image, so that a grid of a whole layer
//! (or a unit's dataset examples) costs a few requests instead of one per image.
//!
//! Tiles are laid out row by row with no gaps: item `first + k` is tile `k`, at column
//! `k % columns`, row `k / columns`, its top-left corner at `(column * tile_width, row *
//! tile_height)` pixels. Tiles of items the atlas lacks are left transparent (or blank); the
//! coverage of the manifest, not the pixels, says which items exist.

use serde::{Deserialize, Serialize};

use super::checker::Checker;
use super::file::ImageAsset;
use super::image_header::ImageContent;
use super::limits::{MAX_IMAGE_SIDE, MAX_SHEET_TILES};

/// A sprite sheet of `count` tiles for the items `first ..= first + count - 1`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sheet {
    /// The sheet image (PNG or WebP; JPEG for dataset examples, format 1.1).
    pub image: ImageAsset,
    /// Width of one tile, in pixels.
    pub tile_width: u32,
    /// Height of one tile, in pixels.
    pub tile_height: u32,
    /// Tiles per row.
    pub columns: u32,
    /// The item (unit index, or example rank) of the first tile.
    pub first: u32,
    /// Number of tiles.
    pub count: u32,
}

/// Where one tile lies in its sheet, in pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tile {
    /// Left edge.
    pub x: u32,
    /// Top edge.
    pub y: u32,
    /// Width.
    pub width: u32,
    /// Height.
    pub height: u32,
}

impl Sheet {
    /// The pixel size a sheet of `count` tiles of `tile` pixels in `columns` columns needs:
    /// what a builder makes the image. `None` when it would pass [`MAX_IMAGE_SIDE`].
    pub fn pixel_size(count: u32, columns: u32, tile: [u32; 2]) -> Option<[u32; 2]> {
        if columns == 0 {
            return None;
        }
        let rows = count.div_ceil(columns);
        let width = columns.min(count).checked_mul(tile[0])?;
        let height = rows.checked_mul(tile[1])?;
        (width <= MAX_IMAGE_SIDE && height <= MAX_IMAGE_SIDE).then_some([width, height])
    }

    /// The last item of the sheet.
    pub fn last(&self) -> u32 {
        self.first.saturating_add(self.count.saturating_sub(1))
    }

    /// Whether the sheet has a tile for `item`.
    pub fn contains(&self, item: u32) -> bool {
        item >= self.first && item - self.first < self.count
    }

    /// The tile of `item`, if the sheet has one.
    pub fn tile(&self, item: u32) -> Option<Tile> {
        if !self.contains(item) || self.columns == 0 {
            return None;
        }
        let k = item - self.first;
        let x = (k % self.columns).checked_mul(self.tile_width)?;
        let y = (k / self.columns).checked_mul(self.tile_height)?;
        Some(Tile { x, y, width: self.tile_width, height: self.tile_height })
    }

    /// The rules of one sheet of images of `content`: a format allowed for it, positive sizes
    /// within the limits, and an image large enough for its tiles (so [`tile`](Self::tile)
    /// never points outside it).
    pub(crate) fn check(&self, c: &mut Checker, content: ImageContent) {
        c.at("image", |c| self.image.check(c, content));
        c.within("tile_width", u64::from(self.tile_width), 1..=u64::from(MAX_IMAGE_SIDE));
        c.within("tile_height", u64::from(self.tile_height), 1..=u64::from(MAX_IMAGE_SIDE));
        c.within("count", u64::from(self.count), 1..=u64::from(MAX_SHEET_TILES));
        c.within("columns", u64::from(self.columns), 1..=u64::from(MAX_SHEET_TILES));
        if u64::from(self.first) + u64::from(self.count) > u64::from(u32::MAX) {
            c.invalid("count", "first + count passes the largest index");
        }
        if self.columns == 0 || self.count == 0 {
            return;
        }
        let rows = u64::from(self.count.div_ceil(self.columns));
        let needed_width = u64::from(self.columns.min(self.count)) * u64::from(self.tile_width);
        let needed_height = rows * u64::from(self.tile_height);
        if needed_width > u64::from(self.image.width)
            || needed_height > u64::from(self.image.height)
        {
            c.invalid(
                "image",
                format!(
                    "{} tiles of {}x{} in {} columns need {needed_width}x{needed_height} pixels, the image is {}x{}",
                    self.count, self.tile_width, self.tile_height, self.columns, self.image.width, self.image.height
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::atlas::{AssetPath, Sha256Hex};

    fn sheet(first: u32, count: u32, columns: u32, size: [u32; 2]) -> Sheet {
        let image = ImageAsset {
            path: AssetPath::new("s/channel-0.webp").unwrap(),
            bytes: 10,
            sha256: Sha256Hex::of(b""),
            width: size[0],
            height: size[1],
        };
        Sheet { image, tile_width: 64, tile_height: 64, columns, first, count }
    }

    #[test]
    fn tiles_are_laid_out_row_by_row() {
        let s = sheet(256, 100, 16, [1024, 448]);
        assert_eq!(Sheet::pixel_size(100, 16, [64, 64]), Some([1024, 448]));
        assert_eq!(s.tile(256), Some(Tile { x: 0, y: 0, width: 64, height: 64 }));
        assert_eq!(s.tile(256 + 17), Some(Tile { x: 64, y: 64, width: 64, height: 64 }));
        assert_eq!(s.tile(355).map(|t| (t.x, t.y)), Some((192, 384)));
        assert_eq!(s.tile(356), None);
        assert_eq!(s.tile(255), None);
        assert_eq!(s.last(), 355);
        let mut c = Checker::default();
        s.check(&mut c, ImageContent::Generated);
        assert!(c.is_clean());
    }

    #[test]
    fn only_a_sheet_of_photographic_crops_may_be_jpeg() {
        let mut s = sheet(0, 4, 2, [128, 128]);
        s.image.path = AssetPath::new("s/dataset_examples-0.jpg").unwrap();
        let mut c = Checker::default();
        s.check(&mut c, ImageContent::Photographic);
        assert!(c.is_clean());
        let mut c = Checker::default();
        s.check(&mut c, ImageContent::Generated);
        let errors = c.into_errors("layer.json");
        assert_eq!(errors.len(), 1);
        assert!(errors[0].to_string().contains("must end in .png or .webp"), "{}", errors[0]);
    }

    #[test]
    fn an_image_too_small_for_its_tiles_is_refused() {
        let mut c = Checker::default();
        sheet(0, 100, 16, [1024, 384]).check(&mut c, ImageContent::Generated);
        let errors = c.into_errors("layer.json");
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].field, "image");
        assert_eq!(Sheet::pixel_size(1_000_000, 1, [64, 64]), None);
        assert_eq!(Sheet::pixel_size(1, 0, [64, 64]), None);
    }
}
