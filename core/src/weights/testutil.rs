//! Test helpers: a pickle writer for hand-built byte sequences, a builder of legacy `.pth`
//! files, and a small seeded generator for fuzz-style tests.

/// Emits pickle opcodes.
#[derive(Default)]
pub(crate) struct PickleWriter {
    out: Vec<u8>,
}

impl PickleWriter {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    pub(crate) fn bytes(&self) -> &[u8] {
        &self.out
    }

    pub(crate) fn raw(&mut self, bytes: &[u8]) -> &mut Self {
        self.out.extend_from_slice(bytes);
        self
    }

    pub(crate) fn proto(&mut self, p: u8) -> &mut Self {
        self.raw(&[0x80, p])
    }

    pub(crate) fn stop(&mut self) -> &mut Self {
        self.raw(b".")
    }

    pub(crate) fn mark(&mut self) -> &mut Self {
        self.raw(b"(")
    }

    pub(crate) fn none(&mut self) -> &mut Self {
        self.raw(b"N")
    }

    pub(crate) fn bool(&mut self, b: bool) -> &mut Self {
        self.raw(if b { &[0x88] } else { &[0x89] })
    }

    /// The shortest integer opcode, as Python's pickler chooses it.
    pub(crate) fn int(&mut self, i: i64) -> &mut Self {
        if (0..256).contains(&i) {
            self.raw(&[b'K', i as u8])
        } else if (0..65536).contains(&i) {
            self.raw(b"M").raw(&(i as u16).to_le_bytes())
        } else if let Ok(v) = i32::try_from(i) {
            self.raw(b"J").raw(&v.to_le_bytes())
        } else {
            self.raw(&[0x8a, 8]).raw(&i.to_le_bytes())
        }
    }

    pub(crate) fn unicode(&mut self, s: &str) -> &mut Self {
        self.raw(b"X").raw(&(s.len() as u32).to_le_bytes()).raw(s.as_bytes())
    }

    pub(crate) fn short_binstring(&mut self, s: &str) -> &mut Self {
        self.raw(&[b'U', s.len() as u8]).raw(s.as_bytes())
    }

    pub(crate) fn global(&mut self, module: &str, name: &str) -> &mut Self {
        self.raw(b"c").raw(module.as_bytes()).raw(b"\n").raw(name.as_bytes()).raw(b"\n")
    }

    pub(crate) fn empty_tuple(&mut self) -> &mut Self {
        self.raw(b")")
    }

    pub(crate) fn tuple(&mut self) -> &mut Self {
        self.raw(b"t")
    }

    pub(crate) fn tuple1(&mut self) -> &mut Self {
        self.raw(&[0x85])
    }

    pub(crate) fn tuple2(&mut self) -> &mut Self {
        self.raw(&[0x86])
    }

    pub(crate) fn empty_list(&mut self) -> &mut Self {
        self.raw(b"]")
    }

    pub(crate) fn appends(&mut self) -> &mut Self {
        self.raw(b"e")
    }

    pub(crate) fn empty_dict(&mut self) -> &mut Self {
        self.raw(b"}")
    }

    pub(crate) fn setitem(&mut self) -> &mut Self {
        self.raw(b"s")
    }

    pub(crate) fn setitems(&mut self) -> &mut Self {
        self.raw(b"u")
    }

    pub(crate) fn reduce(&mut self) -> &mut Self {
        self.raw(b"R")
    }

    pub(crate) fn build(&mut self) -> &mut Self {
        self.raw(b"b")
    }

    pub(crate) fn binpersid(&mut self) -> &mut Self {
        self.raw(b"Q")
    }

    pub(crate) fn binput(&mut self, i: u8) -> &mut Self {
        self.raw(&[b'q', i])
    }

    pub(crate) fn long_binput(&mut self, i: u32) -> &mut Self {
        self.raw(b"r").raw(&i.to_le_bytes())
    }

    pub(crate) fn binget(&mut self, i: u8) -> &mut Self {
        self.raw(&[b'h', i])
    }

    pub(crate) fn long_binget(&mut self, i: u32) -> &mut Self {
        self.raw(b"j").raw(&i.to_le_bytes())
    }

    /// A tuple of integers (`()`, `(a,)`, `(a, b)` or `MARK ... TUPLE`).
    pub(crate) fn int_tuple(&mut self, items: &[i64]) -> &mut Self {
        match items {
            [] => self.empty_tuple(),
            [a] => self.int(*a).tuple1(),
            [a, b] => self.int(*a).int(*b).tuple2(),
            _ => {
                self.mark();
                for &i in items {
                    self.int(i);
                }
                self.tuple()
            }
        }
    }
}

/// One tensor of a hand-built legacy checkpoint.
#[derive(Clone, Debug)]
pub(crate) struct TensorSpec {
    pub(crate) name: String,
    pub(crate) storage_type: String,
    pub(crate) key: String,
    pub(crate) storage_numel: i64,
    pub(crate) storage_offset: i64,
    pub(crate) shape: Vec<i64>,
    pub(crate) stride: Vec<i64>,
}

impl TensorSpec {
    /// A float tensor with its own contiguous storage.
    pub(crate) fn float(name: &str, key: &str, shape: &[i64]) -> Self {
        let mut stride = vec![1i64; shape.len()];
        for i in (0..shape.len().saturating_sub(1)).rev() {
            stride[i] = stride[i + 1] * shape[i + 1];
        }
        Self {
            name: name.into(),
            storage_type: "FloatStorage".into(),
            key: key.into(),
            storage_numel: shape.iter().product(),
            storage_offset: 0,
            shape: shape.to_vec(),
            stride,
        }
    }
}

/// The object pickle (an `OrderedDict` of `_rebuild_tensor_v2` calls with `_metadata`), in the
/// layout torch 1.x writes.
pub(crate) fn object_pickle(tensors: &[TensorSpec]) -> Vec<u8> {
    let mut w = PickleWriter::new();
    w.proto(2).global("collections", "OrderedDict").binput(0).empty_tuple().reduce().binput(1);
    w.mark();
    for t in tensors {
        w.unicode(&t.name).global("torch._utils", "_rebuild_tensor_v2").mark();
        w.mark().unicode("storage").global("torch", &t.storage_type).unicode(&t.key);
        w.unicode("cpu").int(t.storage_numel).none().tuple().binpersid();
        w.int(t.storage_offset).int_tuple(&t.shape).int_tuple(&t.stride).bool(false);
        w.binget(0).empty_tuple().reduce().tuple().reduce();
    }
    w.setitems();
    w.empty_dict().unicode("_metadata").binget(0).empty_tuple().reduce();
    w.mark().unicode("").empty_dict().unicode("version").int(1).setitem().setitems();
    w.setitem().build().stop();
    w.bytes().to_vec()
}

/// The three header pickles of a legacy file: magic number, protocol version, sys info.
pub(crate) fn header_pickles() -> Vec<u8> {
    let mut w = PickleWriter::new();
    w.proto(2).raw(&[0x8a, 10]).raw(&0x1950a86a20f9469cfc6cu128.to_le_bytes()[..10]).stop();
    w.proto(2).int(1001).stop();
    w.proto(2).empty_dict().mark().unicode("protocol_version").int(1001);
    w.unicode("little_endian").bool(true).unicode("type_sizes").empty_dict().mark();
    w.unicode("short").int(2).unicode("int").int(4).unicode("long").int(4).setitems();
    w.setitems().stop();
    w.bytes().to_vec()
}

/// The storage-key list pickle.
pub(crate) fn keys_pickle(keys: &[&str]) -> Vec<u8> {
    let mut w = PickleWriter::new();
    w.proto(2).empty_list().mark();
    for k in keys {
        w.unicode(k);
    }
    w.appends().stop();
    w.bytes().to_vec()
}

/// A data block: element count, then the raw bytes.
pub(crate) fn storage_block(numel: i64, data: &[u8]) -> Vec<u8> {
    let mut out = numel.to_le_bytes().to_vec();
    out.extend_from_slice(data);
    out
}

/// Little-endian bytes of `values`.
pub(crate) fn f32_bytes(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

/// A whole legacy file of float tensors: `storages` gives each storage key's values, in the
/// order their blocks are written.
pub(crate) fn build_pth(tensors: &[TensorSpec], storages: &[(&str, Vec<f32>)]) -> Vec<u8> {
    let mut out = header_pickles();
    out.extend(object_pickle(tensors));
    let keys: Vec<&str> = storages.iter().map(|(k, _)| *k).collect();
    out.extend(keys_pickle(&keys));
    for (_, values) in storages {
        out.extend(storage_block(values.len() as i64, &f32_bytes(values)));
    }
    out
}

/// A seeded xorshift generator for fuzz-style tests.
pub(crate) struct Fuzz(u64);

impl Fuzz {
    pub(crate) fn new(seed: u64) -> Self {
        Self(seed | 1)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    /// A number in `0..n` (`n > 0`).
    pub(crate) fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }

    /// Up to `max_len` random bytes.
    pub(crate) fn bytes(&mut self, max_len: usize) -> Vec<u8> {
        let len = self.below(max_len + 1);
        (0..len).map(|_| self.next_u64() as u8).collect()
    }

    /// `input` with a few random edits: byte flips, overwrites with interesting values,
    /// insertions, deletions, truncation.
    pub(crate) fn mutate(&mut self, input: &[u8]) -> Vec<u8> {
        let mut out = input.to_vec();
        let edits = 1 + self.below(4);
        for _ in 0..edits {
            let at = self.below(out.len().max(1));
            match self.below(6) {
                0 => {
                    if let Some(b) = out.get_mut(at) {
                        *b ^= 1 << self.below(8);
                    }
                }
                1 => {
                    let v = [0u8, 0x7f, 0x80, 0xff][self.below(4)];
                    if let Some(b) = out.get_mut(at) {
                        *b = v;
                    }
                }
                2 => {
                    let v = self.next_u64() as u8;
                    out.insert(at.min(out.len()), v);
                }
                3 => {
                    if at < out.len() {
                        out.remove(at);
                    }
                }
                4 => out.truncate(at),
                _ => {
                    if let Some(b) = out.get_mut(at) {
                        *b = self.next_u64() as u8;
                    }
                }
            }
        }
        out
    }
}
