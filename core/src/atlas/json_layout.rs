//! The layout of pretty manifests: two-space indentation like serde_json's pretty printer, but
//! arrays of numbers, booleans and nulls stay on one line (`"counts": [1, 0, 3]`, a range
//! `[0, 1279]`), so a histogram of 4096 bins is one line, not 4096. Objects and arrays of
//! strings or containers go one item per line. The layout depends only on the values, so it is
//! as deterministic as serde_json's own.

use std::io::{self, Write};

use serde_json::ser::{CompactFormatter, Formatter};

/// A serde_json [`Formatter`] with the atlas layout.
#[derive(Debug, Default)]
pub(crate) struct AtlasLayout {
    /// Open arrays and objects: whether each has gone multi-line.
    open: Vec<bool>,
    /// Set between an array's "next item" call and the item's first token: whether that item
    /// is the array's first. The item's kind decides where it goes.
    pending: Option<bool>,
}

impl AtlasLayout {
    fn indent<W: ?Sized + Write>(&self, writer: &mut W) -> io::Result<()> {
        for _ in 0..self.open.len() {
            writer.write_all(b"  ")?;
        }
        Ok(())
    }

    /// Before a number, boolean or null: inline after a `, `.
    fn scalar<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        match self.pending.take() {
            Some(false) => writer.write_all(b", "),
            _ => Ok(()),
        }
    }

    /// Before a string, array or object: an array item goes on its own line.
    fn block<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        let Some(first) = self.pending.take() else { return Ok(()) };
        if !first {
            writer.write_all(b",")?;
        }
        writer.write_all(b"\n")?;
        self.indent(writer)?;
        if let Some(multiline) = self.open.last_mut() {
            *multiline = true;
        }
        Ok(())
    }

    fn close<W: ?Sized + Write>(&mut self, writer: &mut W, bracket: &[u8]) -> io::Result<()> {
        if self.open.pop().unwrap_or(false) {
            writer.write_all(b"\n")?;
            self.indent(writer)?;
        }
        writer.write_all(bracket)
    }
}

/// Scalars: place them, then write them as the compact formatter does.
macro_rules! scalars {
    ($($method:ident($($type:ty)?)),* $(,)?) => {$(
        fn $method<W: ?Sized + Write>(&mut self, writer: &mut W $(, value: $type)?) -> io::Result<()> {
            self.scalar(writer)?;
            CompactFormatter.$method(writer $(, std::convert::identity::<$type>(value))?)
        }
    )*};
}

impl Formatter for AtlasLayout {
    scalars!(
        write_null(),
        write_bool(bool),
        write_i8(i8),
        write_i16(i16),
        write_i32(i32),
        write_i64(i64),
        write_i128(i128),
        write_u8(u8),
        write_u16(u16),
        write_u32(u32),
        write_u64(u64),
        write_u128(u128),
        write_f32(f32),
        write_f64(f64),
        write_number_str(&str),
    );

    fn begin_string<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.block(writer)?;
        writer.write_all(b"\"")
    }

    fn begin_array<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.block(writer)?;
        self.open.push(false);
        writer.write_all(b"[")
    }

    fn end_array<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.close(writer, b"]")
    }

    fn begin_array_value<W: ?Sized + Write>(
        &mut self,
        _writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.pending = Some(first);
        Ok(())
    }

    fn end_array_value<W: ?Sized + Write>(&mut self, _writer: &mut W) -> io::Result<()> {
        Ok(())
    }

    fn begin_object<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.block(writer)?;
        self.open.push(false);
        writer.write_all(b"{")
    }

    fn end_object<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.close(writer, b"}")
    }

    fn begin_object_key<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        if !first {
            writer.write_all(b",")?;
        }
        writer.write_all(b"\n")?;
        self.indent(writer)?;
        if let Some(multiline) = self.open.last_mut() {
            *multiline = true;
        }
        Ok(())
    }

    fn end_object_key<W: ?Sized + Write>(&mut self, _writer: &mut W) -> io::Result<()> {
        Ok(())
    }

    fn begin_object_value<W: ?Sized + Write>(&mut self, writer: &mut W) -> io::Result<()> {
        writer.write_all(b": ")
    }

    fn end_object_value<W: ?Sized + Write>(&mut self, _writer: &mut W) -> io::Result<()> {
        Ok(())
    }
}

/// Serialises `value` with the atlas layout.
pub(crate) fn to_vec<T: serde::Serialize + ?Sized>(value: &T) -> serde_json::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    let mut serializer = serde_json::Serializer::with_formatter(&mut bytes, AtlasLayout::default());
    value.serialize(&mut serializer)?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn numbers_stay_inline_and_the_rest_goes_one_per_line() {
        let value = json!({
            "a": [1, 2.5, -3],
            "ranges": [[0, 2], [5, 5]],
            "names": ["x", "y"],
            "empty": [],
            "none": {},
            "nested": {"flag": true, "n": null},
            "mixed": [1, {"k": "v"}, 2]
        });
        let text = String::from_utf8(super::to_vec(&value).unwrap()).unwrap();
        let expected = r#"{
  "a": [1, 2.5, -3],
  "empty": [],
  "mixed": [1,
    {
      "k": "v"
    }, 2
  ],
  "names": [
    "x",
    "y"
  ],
  "nested": {
    "flag": true,
    "n": null
  },
  "none": {},
  "ranges": [
    [0, 2],
    [5, 5]
  ]
}"#;
        assert_eq!(text, expected);
        // Whatever the layout, it is JSON that reads back to the same value.
        assert_eq!(serde_json::from_str::<serde_json::Value>(&text).unwrap(), value);
    }
}
