//! The safetensors format, for the converted weight cache: an 8-byte little-endian header
//! length, a JSON header mapping each tensor name to its dtype, shape and byte range, then the
//! raw little-endian data. Tensors are `F32` or `F16` (read widened to `f32`, exactly);
//! [`write_safetensors`] writes `F32`, [`write_safetensors_f16`] stores the weight matrices and
//! kernels as `F16` (half the size, for the in-browser renderer's download).
//!
//! The reader trusts nothing in the header: its length is capped, every tensor's byte range
//! must match its shape, and the ranges must tile the data section exactly (no gaps, no
//! overlaps, nothing out of range), as the reference implementation requires.

use std::fmt;

use serde::Deserialize;
use serde::de::{Deserializer, MapAccess, Visitor};

use super::float16::{f16_to_f32, f32_to_f16};
use super::{NamedTensor, TensorMap, WeightsError};

/// Largest header accepted, in bytes (the reference implementation's limit).
pub const MAX_HEADER_LEN: u64 = 100_000_000;

/// The header key that holds free-form string metadata rather than a tensor.
const METADATA_KEY: &str = "__metadata__";

/// Bytes per `F32` element.
const F32_SIZE: usize = 4;
/// Bytes per `F16` element.
const F16_SIZE: usize = 2;

/// How a tensor's values are stored in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dtype {
    F32,
    F16,
}

impl Dtype {
    fn name(self) -> &'static str {
        match self {
            Self::F32 => "F32",
            Self::F16 => "F16",
        }
    }

    fn size(self) -> usize {
        match self {
            Self::F32 => F32_SIZE,
            Self::F16 => F16_SIZE,
        }
    }

    fn from_name(name: &str) -> Option<Self> {
        [Self::F32, Self::F16].into_iter().find(|dtype| dtype.name() == name)
    }
}

/// Serialises `tensors` as safetensors, in the map's order, all as `F32`.
///
/// The header is padded with spaces so the data section starts at a multiple of 8 bytes. The
/// name `__metadata__` is reserved by the format: a tensor with that name is written but
/// [`read_safetensors`] (like every other reader) will refuse the file.
pub fn write_safetensors(tensors: &TensorMap) -> Vec<u8> {
    write_with(tensors, |_| Dtype::F32)
}

/// Serialises `tensors` as safetensors, in name order, with every tensor of rank 2 or more (convolution
/// kernels, weight matrices: nearly all the bytes) stored as `F16`, rounded to the nearest,
/// and the rest (biases, normalisation scales and statistics, whose small values half
/// precision would flush or coarsen) as `F32`. About half the size of [`write_safetensors`].
///
/// Fails, naming the tensor, when a value stored as `F16` is finite but past its range
/// (65,504), where it would become infinite.
pub fn write_safetensors_f16(tensors: &TensorMap) -> Result<Vec<u8>, WeightsError> {
    let dtype = |tensor: &NamedTensor| {
        if tensor.shape().len() >= 2 { Dtype::F16 } else { Dtype::F32 }
    };
    for (name, tensor) in tensors.iter() {
        if dtype(tensor) == Dtype::F16
            && let Some(value) = tensor
                .data()
                .iter()
                .find(|v| v.is_finite() && f16_to_f32(f32_to_f16(**v)).is_infinite())
        {
            return Err(WeightsError::safetensors(
                0,
                format!("tensor `{name}` holds {value}, past the range of float16"),
            ));
        }
    }
    // Tensors in name order: the same tensors give the same bytes whatever order they came in
    // (a file read back lists them by name), so converting a converted file changes nothing.
    let mut entries: Vec<(&str, &NamedTensor)> = tensors.iter().collect();
    entries.sort_by(|a, b| a.0.cmp(b.0));
    let mut sorted = TensorMap::new();
    for (name, tensor) in entries {
        sorted.insert(name, tensor.clone());
    }
    Ok(write_with(&sorted, dtype))
}

/// The file with each tensor stored as `dtype` says. Header entries are in the map's order;
/// the data holds the `F32` tensors first, then the `F16` ones, so every tensor starts at a
/// multiple of its element size without padding (which the format does not allow).
fn write_with(tensors: &TensorMap, dtype: impl Fn(&NamedTensor) -> Dtype) -> Vec<u8> {
    let mut offsets = vec![0usize; tensors.len()];
    let mut offset = 0usize;
    for stored in [Dtype::F32, Dtype::F16] {
        for (i, (_, tensor)) in tensors.iter().enumerate() {
            if dtype(tensor) == stored {
                offsets[i] = offset;
                offset += tensor.numel() * stored.size();
            }
        }
    }
    let mut header = String::from("{");
    for (i, (name, tensor)) in tensors.iter().enumerate() {
        if i > 0 {
            header.push(',');
        }
        let stored = dtype(tensor);
        let begin = offsets[i];
        let end = begin + tensor.numel() * stored.size();
        let shape: Vec<String> = tensor.shape().iter().map(|d| d.to_string()).collect();
        header.push_str(&format!(
            "{}:{{\"dtype\":\"{}\",\"shape\":[{}],\"data_offsets\":[{begin},{end}]}}",
            serde_json::Value::String(name.to_owned()),
            stored.name(),
            shape.join(","),
        ));
    }
    header.push('}');
    while (8 + header.len()) % 8 != 0 {
        header.push(' ');
    }
    let mut out = Vec::with_capacity(8 + header.len() + offset);
    out.extend_from_slice(&(header.len() as u64).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    for stored in [Dtype::F32, Dtype::F16] {
        for (_, tensor) in tensors.iter().filter(|(_, tensor)| dtype(tensor) == stored) {
            for v in tensor.data() {
                match stored {
                    Dtype::F32 => out.extend_from_slice(&v.to_le_bytes()),
                    Dtype::F16 => out.extend_from_slice(&f32_to_f16(*v).to_le_bytes()),
                }
            }
        }
    }
    out
}

/// Reads a safetensors file of `F32` and `F16` tensors (`F16` widened to `f32`, exactly), in
/// the order of their data (which is the map's order for files from [`write_safetensors`]).
/// `__metadata__` is checked and ignored.
///
/// Rejects, with the offending byte offset: a header length beyond [`MAX_HEADER_LEN`] or the
/// file, a header that is not a JSON object of well-formed entries (or repeats a name), any
/// dtype but `F32`, a shape whose size disagrees with its byte range, misaligned ranges, and
/// ranges that overlap, leave gaps or reach outside the data.
pub fn read_safetensors(bytes: &[u8]) -> Result<TensorMap, WeightsError> {
    let len_bytes = bytes.get(..8).ok_or(WeightsError::Truncated {
        what: "safetensors header length",
        offset: 0,
        needed: 8,
        available: bytes.len(),
    })?;
    let header_len = len_bytes.try_into().map_or(u64::MAX, u64::from_le_bytes);
    if header_len > MAX_HEADER_LEN {
        return Err(WeightsError::safetensors(
            0,
            format!("header length {header_len} exceeds the limit of {MAX_HEADER_LEN}"),
        ));
    }
    let rest = bytes.get(8..).unwrap_or_default();
    let truncated = WeightsError::Truncated {
        what: "safetensors header",
        offset: 8,
        needed: header_len,
        available: rest.len(),
    };
    let header_len = usize::try_from(header_len).map_err(|_| truncated.clone())?;
    let header = rest.get(..header_len).ok_or(truncated)?;
    let data = rest.get(header_len..).unwrap_or_default();
    let data_start = 8 + header_len;

    let header = std::str::from_utf8(header)
        .map_err(|e| WeightsError::safetensors(8 + e.valid_up_to(), "header is not UTF-8"))?;
    let Entries(entries) = serde_json::from_str(header)
        .map_err(|e| WeightsError::safetensors(8, format!("header is not a JSON object: {e}")))?;

    let mut infos: Vec<(String, Dtype, Vec<usize>, usize, usize)> =
        Vec::with_capacity(entries.len());
    let mut seen = std::collections::HashSet::new();
    for (name, value) in entries {
        if !seen.insert(name.clone()) {
            return Err(WeightsError::safetensors(8, format!("tensor `{name}` appears twice")));
        }
        if name == METADATA_KEY {
            let ok = value.as_object().is_some_and(|m| m.values().all(|v| v.is_string()));
            if !ok {
                return Err(WeightsError::safetensors(8, "__metadata__ is not a map of strings"));
            }
            continue;
        }
        let bad =
            |reason: String| WeightsError::safetensors(8, format!("tensor `{name}`: {reason}"));
        let info: TensorInfo =
            serde_json::from_value(value).map_err(|e| bad(format!("bad entry: {e}")))?;
        let Some(dtype) = Dtype::from_name(&info.dtype) else {
            return Err(bad(format!("dtype {} is not supported (only F32 and F16)", info.dtype)));
        };
        let shape = info
            .shape
            .iter()
            .map(|&d| usize::try_from(d))
            .collect::<Result<Vec<usize>, _>>()
            .map_err(|_| bad("shape does not fit in memory".into()))?;
        let [begin, end] = info.data_offsets;
        let (Ok(begin), Ok(end)) = (usize::try_from(begin), usize::try_from(end)) else {
            return Err(bad("data offsets do not fit in memory".into()));
        };
        if begin > end || end > data.len() {
            return Err(bad(format!(
                "data offsets [{begin}, {end}] are outside the data section of {} bytes",
                data.len()
            )));
        }
        if begin % dtype.size() != 0 {
            return Err(WeightsError::safetensors(
                data_start + begin,
                format!("tensor `{name}` starts at a misaligned offset {begin}"),
            ));
        }
        let needed = shape
            .iter()
            .try_fold(dtype.size(), |acc, &d| acc.checked_mul(d))
            .ok_or_else(|| WeightsError::overflow(format!("the byte length of tensor `{name}`")))?;
        if needed != end - begin {
            return Err(bad(format!(
                "shape {shape:?} needs {needed} bytes but its data offsets span {}",
                end - begin
            )));
        }
        infos.push((name, dtype, shape, begin, end));
    }

    // The ranges must tile the data section exactly.
    infos.sort_by_key(|&(_, _, _, begin, end)| (begin, end));
    let mut covered = 0usize;
    for (name, _, _, begin, end) in &infos {
        if *begin != covered {
            let what =
                if *begin < covered { "overlaps the previous tensor" } else { "leaves a gap" };
            return Err(WeightsError::safetensors(
                data_start + begin,
                format!(
                    "tensor `{name}` {what} (starts at {begin}, previous data ends at {covered})"
                ),
            ));
        }
        covered = *end;
    }
    if covered != data.len() {
        return Err(WeightsError::safetensors(
            data_start + covered,
            format!("{} bytes of data are not covered by any tensor", data.len() - covered),
        ));
    }

    let mut map = TensorMap::new();
    for (name, dtype, shape, begin, end) in infos {
        let raw = data.get(begin..end).unwrap_or_default();
        let values = match dtype {
            Dtype::F32 => raw
                .chunks_exact(F32_SIZE)
                .map(|c| c.try_into().map_or(f32::NAN, f32::from_le_bytes))
                .collect(),
            Dtype::F16 => raw
                .chunks_exact(F16_SIZE)
                .map(|c| c.try_into().map_or(f32::NAN, |b| f16_to_f32(u16::from_le_bytes(b))))
                .collect(),
        };
        map.insert(name, NamedTensor::new(shape, values)?);
    }
    Ok(map)
}

/// One tensor's header entry.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TensorInfo {
    dtype: String,
    shape: Vec<u64>,
    data_offsets: [u64; 2],
}

/// A JSON object's entries in file order, repeated keys included (a plain map would silently
/// keep one of them).
struct Entries(Vec<(String, serde_json::Value)>);

impl<'de> Deserialize<'de> for Entries {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct EntriesVisitor;

        impl<'de> Visitor<'de> for EntriesVisitor {
            type Value = Entries;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Entries, A::Error> {
                let mut out = Vec::new();
                while let Some(entry) = map.next_entry::<String, serde_json::Value>()? {
                    out.push(entry);
                }
                Ok(Entries(out))
            }
        }

        deserializer.deserialize_map(EntriesVisitor)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::super::testutil::Fuzz;
    use super::*;

    fn tensor(shape: &[usize], data: Vec<f32>) -> NamedTensor {
        NamedTensor::new(shape.to_vec(), data).unwrap()
    }

    /// A file with `header` (padded to 8) and `data_len` zero bytes of data.
    fn file(header: &str, data_len: usize) -> Vec<u8> {
        let mut out = (header.len() as u64).to_le_bytes().to_vec();
        out.extend_from_slice(header.as_bytes());
        out.extend(std::iter::repeat_n(0u8, data_len));
        out
    }

    fn reason(bytes: &[u8]) -> String {
        match read_safetensors(bytes) {
            Err(WeightsError::BadSafetensors { reason, .. }) => reason,
            other => panic!("expected BadSafetensors, got {other:?}"),
        }
    }

    #[test]
    fn weights_safetensors_round_trip_keeps_order_and_bits() {
        let mut map = TensorMap::new();
        map.insert(
            "z.weight",
            tensor(&[2, 3], vec![1.0, -2.5, 0.0, -0.0, f32::MAX, f32::MIN_POSITIVE]),
        );
        map.insert("a \"quoted\"\n name", tensor(&[], vec![f32::INFINITY]));
        map.insert("empty", tensor(&[0, 4], vec![]));
        map.insert("nan", tensor(&[1], vec![f32::from_bits(0x7fc0_1234)]));
        let bytes = write_safetensors(&map);
        let header_len = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
        assert_eq!((8 + header_len) % 8, 0);
        let back = read_safetensors(&bytes).unwrap();
        assert_eq!(back.names().collect::<Vec<_>>(), map.names().collect::<Vec<_>>());
        for ((_, a), (_, b)) in map.iter().zip(back.iter()) {
            assert_eq!(a.shape(), b.shape());
            let bits = |t: &NamedTensor| t.data().iter().map(|v| v.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(a), bits(b));
        }
        assert!(read_safetensors(&write_safetensors(&TensorMap::new())).unwrap().is_empty());
    }

    #[test]
    fn weights_safetensors_f16_halves_the_kernels_and_keeps_the_rest() {
        let mut map = TensorMap::new();
        let kernel: Vec<f32> = (0..15).map(|i| (i as f32 - 7.0) * 0.1234).collect();
        map.insert("conv.weight", tensor(&[5, 3], kernel.clone()));
        map.insert("bn.running_var", tensor(&[3], vec![1e-7, 3.3, -0.0]));
        map.insert("fc.weight", tensor(&[1, 1, 3], vec![1.0, 2.0, 65504.0]));
        let bytes = write_safetensors_f16(&map).unwrap();
        assert!(bytes.len() < write_safetensors(&map).len());
        let back = read_safetensors(&bytes).unwrap();
        let mut names: Vec<&str> = back.names().collect();
        names.sort_unstable();
        assert_eq!(names, ["bn.running_var", "conv.weight", "fc.weight"]);
        let get = |name: &str| back.iter().find(|(n, _)| *n == name).unwrap().1.clone();
        // Rank 1: float32, bit for bit (a tiny variance survives).
        assert_eq!(get("bn.running_var").data(), &[1e-7, 3.3, -0.0]);
        // Rank 2 and more: float16, within half a step.
        let conv = get("conv.weight");
        assert_eq!(conv.shape(), &[5, 3]);
        for (a, b) in kernel.iter().zip(conv.data()) {
            assert!((a - b).abs() <= a.abs() * f32::powi(2.0, -11), "{a} -> {b}");
        }
        assert_eq!(get("fc.weight").data(), &[1.0, 2.0, 65504.0]);
        // A value float16 cannot hold is refused, not made infinite.
        map.insert("big.weight", tensor(&[1, 1], vec![1e6]));
        assert!(write_safetensors_f16(&map).unwrap_err().to_string().contains("big.weight"));
    }

    #[test]
    fn weights_safetensors_round_trip_property() {
        let mut fuzz = Fuzz::new(7);
        for _ in 0..200 {
            let mut map = TensorMap::new();
            for i in 0..fuzz.below(6) {
                let rank = fuzz.below(4);
                let shape: Vec<usize> = (0..rank).map(|_| fuzz.below(5)).collect();
                let n = shape.iter().product();
                let data = (0..n).map(|_| f32::from_bits(fuzz.next_u64() as u32)).collect();
                map.insert(format!("t{i}.{}", fuzz.below(1000)), tensor(&shape, data));
            }
            let bytes = write_safetensors(&map);
            let back = read_safetensors(&bytes).unwrap();
            assert_eq!(back.len(), map.len());
            for ((na, a), (nb, b)) in map.iter().zip(back.iter()) {
                assert_eq!(na, nb);
                assert_eq!(a.shape(), b.shape());
                assert!(a.data().iter().zip(b.data()).all(|(x, y)| x.to_bits() == y.to_bits()));
            }
            // Every strict prefix is rejected; mutations never panic.
            for len in 0..bytes.len() {
                assert!(read_safetensors(&bytes[..len]).is_err(), "prefix of {len} accepted");
            }
            for _ in 0..50 {
                let _ = read_safetensors(&fuzz.mutate(&bytes));
            }
        }
    }

    #[test]
    fn weights_safetensors_reads_reference_layout() {
        // As written by the reference implementation: metadata, keys out of data order.
        let header = r#"{"__metadata__":{"format":"pt"},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#;
        let mut bytes = file(header, 0);
        bytes.extend(1.0f32.to_le_bytes());
        bytes.extend(2.0f32.to_le_bytes());
        let map = read_safetensors(&bytes).unwrap();
        assert_eq!(map.names().collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(map.get("b").unwrap().data(), &[2.0]);
    }

    #[test]
    fn weights_safetensors_rejects_hostile_files() {
        assert!(matches!(
            read_safetensors(b"\x01\x00"),
            Err(WeightsError::Truncated { offset: 0, .. })
        ));
        let mut huge = u64::MAX.to_le_bytes().to_vec();
        huge.extend(b"{}");
        assert!(reason(&huge).contains("exceeds the limit"));
        let mut long = 1000u64.to_le_bytes().to_vec();
        long.extend(b"{}");
        assert!(matches!(
            read_safetensors(&long),
            Err(WeightsError::Truncated { offset: 8, needed: 1000, available: 2, .. })
        ));
        assert!(reason(&file("[1, 2]", 0)).contains("not a JSON object"));
        assert!(reason(&file("{", 0)).contains("not a JSON object"));
        assert!(reason(&file("{} trailing", 0)).contains("not a JSON object"));
        let mut bad_utf8 = 2u64.to_le_bytes().to_vec();
        bad_utf8.extend([0xff, 0xfe]);
        assert!(reason(&bad_utf8).contains("UTF-8"));

        let entry = |dtype: &str, shape: &str, begin: u64, end: u64| {
            format!(r#"{{"dtype":"{dtype}","shape":{shape},"data_offsets":[{begin},{end}]}}"#)
        };
        let one = |e: String, data: usize| file(&format!(r#"{{"t":{e}}}"#), data);
        assert!(read_safetensors(&one(entry("F32", "[2]", 0, 8), 8)).is_ok());
        assert!(reason(&one(entry("BF16", "[4]", 0, 8), 8)).contains("only F32 and F16"));
        assert!(read_safetensors(&one(entry("F16", "[4]", 0, 8), 8)).is_ok());
        assert!(reason(&one(entry("F16", "[3]", 0, 8), 8)).contains("needs 6 bytes"));
        assert!(reason(&one(entry("F16", "[1]", 1, 3), 4)).contains("misaligned"));
        assert!(reason(&one(entry("F32", "[3]", 0, 8), 8)).contains("needs 12 bytes"));
        assert!(reason(&one(entry("F32", "[2]", 0, 8), 4)).contains("outside the data"));
        assert!(reason(&one(entry("F32", "[2]", 8, 0), 8)).contains("outside the data"));
        assert!(reason(&one(entry("F32", "[2]", 0, 8), 12)).contains("not covered"));
        assert!(reason(&one(entry("F32", "[1]", 4, 8), 8)).contains("gap"));
        assert!(reason(&one(entry("F32", "[1]", 2, 6), 8)).contains("misaligned"));
        assert!(reason(&one(entry("F32", "[-1]", 0, 8), 8)).contains("bad entry"));
        assert!(matches!(
            read_safetensors(&one(entry("F32", "[4294967296, 4294967296, 4]", 0, 8), 8)),
            Err(WeightsError::SizeOverflow { .. })
        ));
        let e = entry("F32", "[2]", 0, 8);
        assert!(reason(&one(r#"{"dtype":"F32","shape":[2]}"#.to_owned(), 8)).contains("bad entry"));
        assert!(reason(&one(e.replace('}', r#","extra":1}"#), 8)).contains("bad entry"));
        assert!(reason(&file(&format!(r#"{{"t":{e},"t":{e}}}"#), 8)).contains("twice"));
        let overlap = format!(r#"{{"a":{e},"b":{}}}"#, entry("F32", "[1]", 4, 8));
        assert!(reason(&file(&overlap, 8)).contains("overlaps"));
        assert!(reason(&file(r#"{"__metadata__":{"a":1}}"#, 0)).contains("__metadata__"));
        assert!(reason(&file(r#"{"__metadata__":[]}"#, 0)).contains("__metadata__"));
        // Deep nesting is refused by serde_json's recursion limit, without a stack overflow.
        let deep = format!(r#"{{"__metadata__":{}{}}}"#, "[".repeat(100_000), "]".repeat(100_000));
        assert!(read_safetensors(&file(&deep, 0)).is_err());
    }

    #[test]
    fn weights_safetensors_random_bytes_never_panic() {
        let mut fuzz = Fuzz::new(99);
        for _ in 0..20_000 {
            let mut bytes = fuzz.bytes(64);
            if fuzz.below(2) == 0 && bytes.len() >= 8 {
                let len = (bytes.len() - 8) as u64;
                bytes[..8].copy_from_slice(&len.to_le_bytes());
            }
            let _ = read_safetensors(&bytes);
        }
    }
}
