//! A minimal, safe reader for Python pickles: it runs the pickle virtual machine over bytes and
//! builds an inert object graph, never calling anything.
//!
//! Only names on a caller-given whitelist may appear in `GLOBAL`; `REDUCE` of such a name is
//! recorded as a [`Object::Call`] for the caller to interpret (the one exception is
//! `collections.OrderedDict()`, which is a dict). Compound objects live in a flat arena and
//! values refer to them by index, so hostile nesting cannot overflow the stack (no recursion,
//! no recursive drops), and every allocation is bounded by the input's length: each opcode adds
//! at most one value or node, and every length read from the input is checked against the bytes
//! that remain before anything is allocated.

use std::collections::HashMap;
use std::rc::Rc;

use super::WeightsError;

/// Index of a compound object in [`Pickle::nodes`].
pub(crate) type ObjId = usize;

/// One pickle value. Compound values are indices into the arena, so values are small and cheap
/// to clone (as the memo requires).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    /// `None`.
    None,
    /// `True` or `False`.
    Bool(bool),
    /// An integer (pickles of torch files need more than 64 bits: the magic number is 77 bits).
    Int(i128),
    /// A float.
    Float(f64),
    /// A (unicode) string.
    Str(Rc<str>),
    /// A byte string (`BINSTRING`, which Python 2 used for `str`, or `BINBYTES`).
    Bytes(Rc<[u8]>),
    /// A whitelisted global: an index into the whitelist given to [`parse`].
    Global(usize),
    /// A compound object.
    Obj(ObjId),
}

impl Value {
    /// The text of a string, or of a byte string that is valid UTF-8 (Python 2 pickles).
    pub(crate) fn as_str(&self) -> Option<&str> {
        match self {
            Self::Str(s) => Some(s),
            Self::Bytes(b) => std::str::from_utf8(b).ok(),
            _ => None,
        }
    }

    /// The value of an integer (`True`/`False` excluded).
    pub(crate) fn as_int(&self) -> Option<i128> {
        match self {
            Self::Int(i) => Some(*i),
            _ => None,
        }
    }
}

/// A compound object.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Object {
    /// A tuple.
    Tuple(Vec<Value>),
    /// A list.
    List(Vec<Value>),
    /// A dict (or `OrderedDict`), with its entries in insertion order as pickled (a repeated key
    /// appears twice: the reader decides) and the state that `BUILD` gave it, if any.
    Dict {
        /// Key/value pairs.
        entries: Vec<(Value, Value)>,
        /// Argument of `BUILD` (torch stores `{'_metadata': ...}` here).
        state: Option<Value>,
    },
    /// `callable(*args)`, recorded but not evaluated.
    Call {
        /// Index into the whitelist.
        callable: usize,
        /// The argument tuple.
        args: Value,
    },
    /// The result of a persistent load of this id (`BINPERSID`/`PERSID`).
    PersistentId(Value),
}

/// A compound object and where the opcode that created it is.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Node {
    /// Byte offset of the creating opcode.
    pub(crate) offset: usize,
    /// The object.
    pub(crate) object: Object,
}

/// The result of running one pickle.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Pickle {
    /// Arena of compound objects.
    pub(crate) nodes: Vec<Node>,
    /// The value that `STOP` returned.
    pub(crate) root: Value,
    /// Byte offset just past the `STOP` opcode.
    pub(crate) end: usize,
}

impl Pickle {
    /// The node `value` refers to, if it is compound.
    pub(crate) fn node(&self, value: &Value) -> Option<&Node> {
        match value {
            Value::Obj(id) => self.nodes.get(*id),
            _ => None,
        }
    }

    /// The items of `value` if it is a tuple.
    pub(crate) fn tuple(&self, value: &Value) -> Option<&[Value]> {
        match self.node(value).map(|n| &n.object) {
            Some(Object::Tuple(items)) => Some(items),
            _ => None,
        }
    }

    /// The items of `value` if it is a list.
    pub(crate) fn list(&self, value: &Value) -> Option<&[Value]> {
        match self.node(value).map(|n| &n.object) {
            Some(Object::List(items)) => Some(items),
            _ => None,
        }
    }

    /// The entries of `value` if it is a dict.
    pub(crate) fn dict(&self, value: &Value) -> Option<&[(Value, Value)]> {
        match self.node(value).map(|n| &n.object) {
            Some(Object::Dict { entries, .. }) => Some(entries),
            _ => None,
        }
    }

    /// Byte offset of the opcode that created `value` if it is compound, else `fallback`.
    pub(crate) fn offset_of(&self, value: &Value, fallback: usize) -> usize {
        self.node(value).map_or(fallback, |n| n.offset)
    }
}

/// The highest pickle protocol whose `PROTO` opcode is accepted.
const MAX_PROTOCOL: u8 = 5;

/// Runs the pickle that starts at `bytes[start]` up to its `STOP`.
///
/// `globals` is the whitelist of `(module, name)` pairs that `GLOBAL` may name; anything else is
/// [`WeightsError::UnsupportedGlobal`]. Offsets in errors are offsets into `bytes`.
pub(crate) fn parse(
    bytes: &[u8],
    start: usize,
    globals: &[(&str, &str)],
) -> Result<Pickle, WeightsError> {
    let mut machine = Machine {
        bytes,
        pos: start.min(bytes.len()),
        globals,
        stack: Vec::new(),
        marks: Vec::new(),
        memo: HashMap::new(),
        nodes: Vec::new(),
    };
    let root = machine.run()?;
    Ok(Pickle { nodes: machine.nodes, root, end: machine.pos })
}

/// The pickle virtual machine's state.
struct Machine<'a, 'g> {
    bytes: &'a [u8],
    /// Next byte to read; never beyond `bytes.len()`.
    pos: usize,
    globals: &'g [(&'g str, &'g str)],
    stack: Vec<Value>,
    /// Stack heights at each open `MARK`.
    marks: Vec<usize>,
    memo: HashMap<u64, Value>,
    nodes: Vec<Node>,
}

impl<'a> Machine<'a, '_> {
    fn run(&mut self) -> Result<Value, WeightsError> {
        loop {
            let at = self.pos;
            let op = self.read_u8("opcode")?;
            match op {
                0x80 => {
                    let protocol = self.read_u8("PROTO argument")?;
                    if protocol > MAX_PROTOCOL {
                        return Err(WeightsError::UnsupportedProtocol { protocol, offset: at });
                    }
                }
                0x95 => {
                    // FRAME: a length hint for buffered readers; the opcodes follow as usual.
                    self.take(8, "FRAME argument")?;
                }
                b'.' => return self.pop("STOP", at),
                b'(' => self.marks.push(self.stack.len()),
                b'0' => {
                    if self.stack.len() > self.floor() {
                        self.stack.pop();
                    } else {
                        self.pop_mark("POP", at)?;
                    }
                }
                b'1' => {
                    self.pop_mark("POP_MARK", at)?;
                }
                b'2' => {
                    let top = self.top("DUP", at)?.clone();
                    self.stack.push(top);
                }
                b'N' => self.stack.push(Value::None),
                0x88 => self.stack.push(Value::Bool(true)),
                0x89 => self.stack.push(Value::Bool(false)),
                b'I' => {
                    let line = self.line("INT argument")?;
                    let value = match line {
                        "00" => Value::Bool(false),
                        "01" => Value::Bool(true),
                        _ => Value::Int(parse_int(line, at)?),
                    };
                    self.stack.push(value);
                }
                b'L' => {
                    let line = self.line("LONG argument")?;
                    let digits = line.strip_suffix('L').unwrap_or(line);
                    self.stack.push(Value::Int(parse_int(digits, at)?));
                }
                b'J' => {
                    let b = self.take_array::<4>("BININT argument")?;
                    self.stack.push(Value::Int(i32::from_le_bytes(b).into()));
                }
                b'K' => {
                    let b = self.read_u8("BININT1 argument")?;
                    self.stack.push(Value::Int(b.into()));
                }
                b'M' => {
                    let b = self.take_array::<2>("BININT2 argument")?;
                    self.stack.push(Value::Int(u16::from_le_bytes(b).into()));
                }
                0x8a => {
                    let n = self.read_u8("LONG1 length")?;
                    let digits = self.take(n.into(), "LONG1 digits")?;
                    self.stack.push(Value::Int(long_from_le(digits, at)?));
                }
                0x8b => {
                    let n = i32::from_le_bytes(self.take_array::<4>("LONG4 length")?);
                    let n = u64::try_from(n)
                        .map_err(|_| WeightsError::pickle(at, "negative LONG4 length"))?;
                    let digits = self.take(n, "LONG4 digits")?;
                    self.stack.push(Value::Int(long_from_le(digits, at)?));
                }
                b'G' => {
                    let b = self.take_array::<8>("BINFLOAT argument")?;
                    self.stack.push(Value::Float(f64::from_be_bytes(b)));
                }
                b'F' => {
                    let line = self.line("FLOAT argument")?;
                    let value = line
                        .trim()
                        .parse::<f64>()
                        .map_err(|_| WeightsError::pickle(at, "FLOAT argument is not a number"))?;
                    self.stack.push(Value::Float(value));
                }
                b'X' => {
                    let n = u32::from_le_bytes(self.take_array::<4>("BINUNICODE length")?);
                    self.push_unicode(n.into(), at)?;
                }
                0x8c => {
                    let n = self.read_u8("SHORT_BINUNICODE length")?;
                    self.push_unicode(n.into(), at)?;
                }
                0x8d => {
                    let n = u64::from_le_bytes(self.take_array::<8>("BINUNICODE8 length")?);
                    self.push_unicode(n, at)?;
                }
                b'T' => {
                    let n = i32::from_le_bytes(self.take_array::<4>("BINSTRING length")?);
                    let n = u64::try_from(n)
                        .map_err(|_| WeightsError::pickle(at, "negative BINSTRING length"))?;
                    self.push_bytes(n, "BINSTRING data")?;
                }
                b'U' => {
                    let n = self.read_u8("SHORT_BINSTRING length")?;
                    self.push_bytes(n.into(), "SHORT_BINSTRING data")?;
                }
                b'B' => {
                    let n = u32::from_le_bytes(self.take_array::<4>("BINBYTES length")?);
                    self.push_bytes(n.into(), "BINBYTES data")?;
                }
                b'C' => {
                    let n = self.read_u8("SHORT_BINBYTES length")?;
                    self.push_bytes(n.into(), "SHORT_BINBYTES data")?;
                }
                0x8e => {
                    let n = u64::from_le_bytes(self.take_array::<8>("BINBYTES8 length")?);
                    self.push_bytes(n, "BINBYTES8 data")?;
                }
                b')' => self.push_node(at, Object::Tuple(Vec::new())),
                b't' => {
                    let items = self.pop_mark("TUPLE", at)?;
                    self.push_node(at, Object::Tuple(items));
                }
                0x85..=0x87 => {
                    let n = usize::from(op - 0x84);
                    let items = self.pop_n(n, "TUPLE1/2/3", at)?;
                    self.push_node(at, Object::Tuple(items));
                }
                b']' => self.push_node(at, Object::List(Vec::new())),
                b'l' => {
                    let items = self.pop_mark("LIST", at)?;
                    self.push_node(at, Object::List(items));
                }
                b'a' => {
                    let item = self.pop("APPEND", at)?;
                    self.list_of_top("APPEND", at)?.push(item);
                }
                b'e' => {
                    let items = self.pop_mark("APPENDS", at)?;
                    self.list_of_top("APPENDS", at)?.extend(items);
                }
                b'}' => self.push_node(at, Object::Dict { entries: Vec::new(), state: None }),
                b'd' => {
                    let items = self.pop_mark("DICT", at)?;
                    let entries = pairs(items, at)?;
                    self.push_node(at, Object::Dict { entries, state: None });
                }
                b's' => {
                    let value = self.pop("SETITEM", at)?;
                    let key = self.pop("SETITEM", at)?;
                    self.dict_of_top("SETITEM", at)?.push((key, value));
                }
                b'u' => {
                    let items = self.pop_mark("SETITEMS", at)?;
                    let entries = pairs(items, at)?;
                    self.dict_of_top("SETITEMS", at)?.extend(entries);
                }
                b'c' => {
                    let module = self.line("GLOBAL module")?;
                    let name = self.line("GLOBAL name")?;
                    let global = self.global(module, name, at)?;
                    self.stack.push(global);
                }
                0x93 => {
                    let name = self.pop("STACK_GLOBAL", at)?;
                    let module = self.pop("STACK_GLOBAL", at)?;
                    let (Value::Str(module), Value::Str(name)) = (module, name) else {
                        return Err(WeightsError::pickle(at, "STACK_GLOBAL needs two strings"));
                    };
                    let global = self.global(&module, &name, at)?;
                    self.stack.push(global);
                }
                b'R' | 0x81 => {
                    let opcode = if op == b'R' { "REDUCE" } else { "NEWOBJ" };
                    let args = self.pop(opcode, at)?;
                    let callable = self.pop(opcode, at)?;
                    self.reduce(callable, args, at)?;
                }
                b'b' => {
                    let new_state = self.pop("BUILD", at)?;
                    let target = self.top("BUILD", at)?.clone();
                    match self.node_mut(&target).map(|n| &mut n.object) {
                        Some(Object::Dict { state, .. }) => *state = Some(new_state),
                        _ => {
                            return Err(WeightsError::pickle(
                                at,
                                "BUILD is only supported on a dict (OrderedDict metadata)",
                            ));
                        }
                    }
                }
                b'Q' => {
                    let pid = self.pop("BINPERSID", at)?;
                    self.push_node(at, Object::PersistentId(pid));
                }
                b'P' => {
                    let pid = self.line("PERSID argument")?;
                    self.push_node(at, Object::PersistentId(Value::Str(pid.into())));
                }
                b'q' => {
                    let index = self.read_u8("BINPUT index")?;
                    self.put(index.into(), "BINPUT", at)?;
                }
                b'r' => {
                    let index = u32::from_le_bytes(self.take_array::<4>("LONG_BINPUT index")?);
                    self.put(index.into(), "LONG_BINPUT", at)?;
                }
                b'p' => {
                    let line = self.line("PUT index")?;
                    let index = parse_index(line, at)?;
                    self.put(index, "PUT", at)?;
                }
                0x94 => {
                    let index = self.memo.len() as u64;
                    self.put(index, "MEMOIZE", at)?;
                }
                b'h' => {
                    let index = self.read_u8("BINGET index")?;
                    self.get(index.into(), at)?;
                }
                b'j' => {
                    let index = u32::from_le_bytes(self.take_array::<4>("LONG_BINGET index")?);
                    self.get(index.into(), at)?;
                }
                b'g' => {
                    let line = self.line("GET index")?;
                    let index = parse_index(line, at)?;
                    self.get(index, at)?;
                }
                _ => return Err(WeightsError::UnknownOpcode { opcode: op, offset: at }),
            }
        }
    }

    /// Bytes left after `pos`.
    fn remaining(&self) -> usize {
        self.bytes.len().saturating_sub(self.pos)
    }

    /// The next `n` bytes; `Truncated` (before any allocation) when there are fewer.
    fn take(&mut self, n: u64, what: &'static str) -> Result<&'a [u8], WeightsError> {
        let truncated = WeightsError::Truncated {
            what,
            offset: self.pos,
            needed: n,
            available: self.remaining(),
        };
        let len = usize::try_from(n).map_err(|_| truncated.clone())?;
        let end = self.pos.checked_add(len).ok_or_else(|| truncated.clone())?;
        let slice = self.bytes.get(self.pos..end).ok_or(truncated)?;
        self.pos = end;
        Ok(slice)
    }

    fn take_array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N], WeightsError> {
        let slice = self.take(N as u64, what)?;
        let mut out = [0u8; N];
        out.copy_from_slice(slice);
        Ok(out)
    }

    fn read_u8(&mut self, what: &'static str) -> Result<u8, WeightsError> {
        Ok(self.take_array::<1>(what)?[0])
    }

    /// A text argument up to (not including) the next `\n`, which is consumed.
    fn line(&mut self, what: &'static str) -> Result<&'a str, WeightsError> {
        let start = self.pos;
        let rest = self.bytes.get(start..).unwrap_or_default();
        let Some(len) = rest.iter().position(|&b| b == b'\n') else {
            return Err(WeightsError::Truncated {
                what,
                offset: start,
                needed: rest.len() as u64 + 1,
                available: rest.len(),
            });
        };
        let text = self.take(len as u64, what)?;
        self.take(1, what)?;
        std::str::from_utf8(text)
            .map_err(|_| WeightsError::pickle(start, format!("{what} is not UTF-8")))
    }

    fn push_unicode(&mut self, n: u64, at: usize) -> Result<(), WeightsError> {
        let data = self.take(n, "string data")?;
        let text = std::str::from_utf8(data)
            .map_err(|_| WeightsError::pickle(at, "string is not valid UTF-8"))?;
        self.stack.push(Value::Str(text.into()));
        Ok(())
    }

    fn push_bytes(&mut self, n: u64, what: &'static str) -> Result<(), WeightsError> {
        let data = self.take(n, what)?;
        self.stack.push(Value::Bytes(data.into()));
        Ok(())
    }

    fn push_node(&mut self, offset: usize, object: Object) {
        self.stack.push(Value::Obj(self.nodes.len()));
        self.nodes.push(Node { offset, object });
    }

    fn node_mut(&mut self, value: &Value) -> Option<&mut Node> {
        match value {
            Value::Obj(id) => self.nodes.get_mut(*id),
            _ => None,
        }
    }

    /// Height of the stack at the innermost open mark: pops must not go below it.
    fn floor(&self) -> usize {
        self.marks.last().copied().unwrap_or(0)
    }

    fn pop(&mut self, opcode: &'static str, at: usize) -> Result<Value, WeightsError> {
        if self.stack.len() <= self.floor() {
            return Err(WeightsError::StackUnderflow { opcode, offset: at });
        }
        self.stack.pop().ok_or(WeightsError::StackUnderflow { opcode, offset: at })
    }

    fn top(&self, opcode: &'static str, at: usize) -> Result<&Value, WeightsError> {
        if self.stack.len() <= self.floor() {
            return Err(WeightsError::StackUnderflow { opcode, offset: at });
        }
        self.stack.last().ok_or(WeightsError::StackUnderflow { opcode, offset: at })
    }

    fn pop_n(
        &mut self,
        n: usize,
        opcode: &'static str,
        at: usize,
    ) -> Result<Vec<Value>, WeightsError> {
        let len = self.stack.len();
        if len < self.floor() + n {
            return Err(WeightsError::StackUnderflow { opcode, offset: at });
        }
        Ok(self.stack.split_off(len - n))
    }

    /// Everything above the innermost mark, which is closed.
    fn pop_mark(&mut self, opcode: &'static str, at: usize) -> Result<Vec<Value>, WeightsError> {
        let mark = self.marks.pop().ok_or(WeightsError::MissingMark { opcode, offset: at })?;
        if mark > self.stack.len() {
            return Err(WeightsError::StackUnderflow { opcode, offset: at });
        }
        Ok(self.stack.split_off(mark))
    }

    fn list_of_top(
        &mut self,
        opcode: &'static str,
        at: usize,
    ) -> Result<&mut Vec<Value>, WeightsError> {
        let target = self.top(opcode, at)?.clone();
        match self.node_mut(&target).map(|n| &mut n.object) {
            Some(Object::List(items)) => Ok(items),
            _ => Err(WeightsError::pickle(at, format!("{opcode} on something that is not a list"))),
        }
    }

    fn dict_of_top(
        &mut self,
        opcode: &'static str,
        at: usize,
    ) -> Result<&mut Vec<(Value, Value)>, WeightsError> {
        let target = self.top(opcode, at)?.clone();
        match self.node_mut(&target).map(|n| &mut n.object) {
            Some(Object::Dict { entries, .. }) => Ok(entries),
            _ => Err(WeightsError::pickle(at, format!("{opcode} on something that is not a dict"))),
        }
    }

    fn global(&self, module: &str, name: &str, at: usize) -> Result<Value, WeightsError> {
        self.globals
            .iter()
            .position(|&(m, n)| m == module && n == name)
            .map(Value::Global)
            .ok_or_else(|| WeightsError::UnsupportedGlobal {
                module: module.to_owned(),
                name: name.to_owned(),
                offset: at,
            })
    }

    fn reduce(&mut self, callable: Value, args: Value, at: usize) -> Result<(), WeightsError> {
        let Value::Global(index) = callable else {
            return Err(WeightsError::pickle(at, "REDUCE of something that is not a global"));
        };
        let arg_count = match self.node_mut(&args).map(|n| &n.object) {
            Some(Object::Tuple(items)) => items.len(),
            _ => return Err(WeightsError::pickle(at, "REDUCE arguments are not a tuple")),
        };
        if self.globals.get(index) == Some(&("collections", "OrderedDict")) {
            if arg_count != 0 {
                return Err(WeightsError::pickle(at, "OrderedDict called with arguments"));
            }
            self.push_node(at, Object::Dict { entries: Vec::new(), state: None });
        } else {
            self.push_node(at, Object::Call { callable: index, args });
        }
        Ok(())
    }

    fn put(&mut self, index: u64, opcode: &'static str, at: usize) -> Result<(), WeightsError> {
        let top = self.top(opcode, at)?.clone();
        self.memo.insert(index, top);
        Ok(())
    }

    fn get(&mut self, index: u64, at: usize) -> Result<(), WeightsError> {
        let value = self
            .memo
            .get(&index)
            .cloned()
            .ok_or(WeightsError::BadMemoIndex { index, offset: at })?;
        self.stack.push(value);
        Ok(())
    }
}

/// Groups `[k0, v0, k1, v1, ...]` into pairs.
fn pairs(items: Vec<Value>, at: usize) -> Result<Vec<(Value, Value)>, WeightsError> {
    if !items.len().is_multiple_of(2) {
        return Err(WeightsError::pickle(at, "odd number of items for a dict"));
    }
    let mut out = Vec::with_capacity(items.len() / 2);
    let mut it = items.into_iter();
    while let (Some(k), Some(v)) = (it.next(), it.next()) {
        out.push((k, v));
    }
    Ok(out)
}

/// A little-endian two's-complement integer of at most 16 bytes (`LONG1`/`LONG4`).
fn long_from_le(digits: &[u8], at: usize) -> Result<i128, WeightsError> {
    if digits.len() > 16 {
        return Err(WeightsError::pickle(
            at,
            format!("integer of {} bytes is too large", digits.len()),
        ));
    }
    let negative = digits.last().is_some_and(|&b| b & 0x80 != 0);
    let mut buf = [if negative { 0xff } else { 0 }; 16];
    for (slot, &b) in buf.iter_mut().zip(digits) {
        *slot = b;
    }
    Ok(i128::from_le_bytes(buf))
}

fn parse_int(text: &str, at: usize) -> Result<i128, WeightsError> {
    text.trim().parse::<i128>().map_err(|_| {
        WeightsError::pickle(at, format!("`{}` is not an integer", text.escape_debug()))
    })
}

fn parse_index(text: &str, at: usize) -> Result<u64, WeightsError> {
    text.trim().parse::<u64>().map_err(|_| {
        WeightsError::pickle(at, format!("`{}` is not a memo index", text.escape_debug()))
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::super::testutil::{Fuzz, PickleWriter};
    use super::*;

    const GLOBALS: &[(&str, &str)] = &[("collections", "OrderedDict"), ("m", "f")];

    fn run(bytes: &[u8]) -> Result<Pickle, WeightsError> {
        parse(bytes, 0, GLOBALS)
    }

    #[test]
    fn weights_pickle_scalars() {
        let cases: &[(&[u8], Value)] = &[
            (b"\x80\x02K\x07.", Value::Int(7)),
            (b"M\xe9\x03.", Value::Int(1001)),
            (b"J\xff\xff\xff\xff.", Value::Int(-1)),
            (b"\x8a\x00.", Value::Int(0)),
            (b"\x8a\x01\xff.", Value::Int(-1)),
            (b"\x8a\x02\xff\x00.", Value::Int(255)),
            (b"\x8b\x02\x00\x00\x00\x00\x80.", Value::Int(-32768)),
            (b"I01\n.", Value::Bool(true)),
            (b"I-12\n.", Value::Int(-12)),
            (b"L123L\n.", Value::Int(123)),
            (b"N.", Value::None),
            (b"\x88.", Value::Bool(true)),
            (b"\x89.", Value::Bool(false)),
            (b"G?\xf0\x00\x00\x00\x00\x00\x00.", Value::Float(1.0)),
            (b"F2.5\n.", Value::Float(2.5)),
            (b"X\x02\x00\x00\x00hi.", Value::Str("hi".into())),
            (b"\x8c\x02hi.", Value::Str("hi".into())),
            (b"U\x02hi.", Value::Bytes(b"hi"[..].into())),
            (b"T\x01\x00\x00\x00z.", Value::Bytes(b"z"[..].into())),
            (b"C\x01z.", Value::Bytes(b"z"[..].into())),
        ];
        for (bytes, expected) in cases {
            let p = run(bytes).unwrap();
            assert_eq!(&p.root, expected, "{bytes:?}");
            assert_eq!(p.end, bytes.len());
        }
    }

    #[test]
    fn weights_pickle_torch_magic_number() {
        // What torch.save writes first: PROTO 2, LONG1 of 10 bytes, STOP.
        let bytes = b"\x80\x02\x8a\x0al\xfc\x9cF\xf9 j\xa8P\x19.";
        assert_eq!(run(bytes).unwrap().root, Value::Int(0x1950a86a20f9469cfc6c));
    }

    #[test]
    fn weights_pickle_containers_and_memo() {
        let mut w = PickleWriter::new();
        w.proto(2).empty_dict().binput(0).mark();
        w.unicode("a").empty_list().binput(1).mark().int(1).int(2).appends();
        w.unicode("b").int(3).int(4).tuple2();
        w.unicode("c").binget(1).unicode("d").global("collections", "OrderedDict").empty_tuple();
        w.reduce().long_binput(7).unicode("x").int(9).setitem().setitems().stop();
        let p = run(w.bytes()).unwrap();
        let entries = p.dict(&p.root).unwrap();
        let names: Vec<_> = entries.iter().map(|(k, _)| k.as_str().unwrap()).collect();
        assert_eq!(names, ["a", "b", "c", "d"]);
        assert_eq!(p.list(&entries[0].1).unwrap(), &[Value::Int(1), Value::Int(2)]);
        assert_eq!(p.tuple(&entries[1].1).unwrap(), &[Value::Int(3), Value::Int(4)]);
        // The memo shares the list object (Python semantics), it does not copy it.
        assert_eq!(entries[2].1, entries[0].1);
        let od = p.dict(&entries[3].1).unwrap();
        assert_eq!(od, &[(Value::Str("x".into()), Value::Int(9))]);
    }

    #[test]
    fn weights_pickle_call_build_and_persid() {
        let mut w = PickleWriter::new();
        w.proto(2).global("m", "f").mark().unicode("k").int(1).tuple().binpersid();
        w.int(5).tuple2().reduce().stop();
        let p = run(w.bytes()).unwrap();
        let Some(Object::Call { callable: 1, args }) = p.node(&p.root).map(|n| &n.object) else {
            panic!("not a call: {:?}", p.root);
        };
        let args = p.tuple(args).unwrap();
        assert!(matches!(p.node(&args[0]).unwrap().object, Object::PersistentId(_)));
        assert_eq!(args[1], Value::Int(5));

        let mut w = PickleWriter::new();
        w.global("collections", "OrderedDict").empty_tuple().reduce();
        w.empty_dict().unicode("_metadata").int(1).setitem().build().stop();
        let p = run(w.bytes()).unwrap();
        let Some(Object::Dict { state: Some(state), .. }) = p.node(&p.root).map(|n| &n.object)
        else {
            panic!("no state")
        };
        assert_eq!(p.dict(state).unwrap().len(), 1);
    }

    #[test]
    fn weights_pickle_errors_name_problem_and_offset() {
        let err = |bytes: &[u8]| run(bytes).unwrap_err();
        assert!(matches!(err(b""), WeightsError::Truncated { offset: 0, .. }));
        assert!(matches!(err(b"K"), WeightsError::Truncated { offset: 1, .. }));
        assert!(matches!(err(b"K\x01"), WeightsError::Truncated { offset: 2, .. }));
        assert!(matches!(
            err(b"X\xff\xff\xff\xffabc"),
            WeightsError::Truncated { offset: 5, needed: 0xffff_ffff, available: 3, .. }
        ));
        assert!(matches!(err(b"\x80\x09."), WeightsError::UnsupportedProtocol { protocol: 9, .. }));
        assert!(matches!(err(b"N\xff."), WeightsError::UnknownOpcode { opcode: 0xff, offset: 1 }));
        assert!(matches!(err(b"."), WeightsError::StackUnderflow { opcode: "STOP", offset: 0 }));
        assert!(matches!(err(b"N(s."), WeightsError::StackUnderflow { opcode: "SETITEM", .. }));
        assert!(matches!(err(b"N(\x85."), WeightsError::StackUnderflow { offset: 2, .. }));
        assert!(matches!(err(b"Nt."), WeightsError::MissingMark { opcode: "TUPLE", offset: 1 }));
        assert!(matches!(err(b"h\x03."), WeightsError::BadMemoIndex { index: 3, offset: 0 }));
        assert!(matches!(
            err(b"j\x00\x00\x00\x80."),
            WeightsError::BadMemoIndex { index: 0x8000_0000, .. }
        ));
        assert!(matches!(err(b"q\x00."), WeightsError::StackUnderflow { opcode: "BINPUT", .. }));
        match err(b"N\x8a\x00cos\nsystem\n.") {
            WeightsError::UnsupportedGlobal { module, name, offset: 3 } => {
                assert_eq!((module.as_str(), name.as_str()), ("os", "system"));
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(err(b"cm\nf"), WeightsError::Truncated { .. }));
        assert!(matches!(
            err(b"X\x01\x00\x00\x00\xff."),
            WeightsError::BadPickle { offset: 0, .. }
        ));
        assert!(matches!(
            err(b"K\x01R."),
            WeightsError::StackUnderflow { opcode: "REDUCE", offset: 2 }
        ));
        assert!(matches!(err(b"K\x01)R."), WeightsError::BadPickle { offset: 3, .. }));
        assert!(matches!(err(b"cm\nf\nK\x01R."), WeightsError::BadPickle { .. }));
        assert!(matches!(err(b"K\x01K\x02b."), WeightsError::BadPickle { .. }));
        assert!(matches!(err(b"K\x01K\x02a."), WeightsError::BadPickle { .. }));
        assert!(matches!(err(b"](K\x01K\x02u."), WeightsError::BadPickle { .. }));
        assert!(matches!(err(b"}(K\x01u."), WeightsError::BadPickle { .. }));
        assert!(matches!(err(b"\x8b\xff\xff\xff\xff."), WeightsError::BadPickle { .. }));
        assert!(matches!(err(b"T\xff\xff\xff\xff."), WeightsError::BadPickle { .. }));
        let mut long = vec![0x8a, 17];
        long.extend([1u8; 17]);
        long.push(b'.');
        assert!(matches!(err(&long), WeightsError::BadPickle { offset: 0, .. }));
        assert!(matches!(
            err(b"ccollections\nOrderedDict\nK\x01\x85R."),
            WeightsError::BadPickle { .. }
        ));
    }

    #[test]
    fn weights_pickle_deep_nesting_does_not_overflow() {
        // A million nested one-tuples: built and dropped without recursion.
        let mut bytes = vec![b'N'];
        bytes.extend(std::iter::repeat_n(0x85u8, 1_000_000));
        bytes.push(b'.');
        let p = run(&bytes).unwrap();
        assert_eq!(p.nodes.len(), 1_000_000);
        // A million open marks, then truncation.
        let marks = vec![b'('; 1_000_000];
        assert!(matches!(run(&marks), Err(WeightsError::Truncated { .. })));
    }

    #[test]
    fn weights_pickle_random_bytes_never_panic() {
        let mut fuzz = Fuzz::new(0x5eed);
        let mut w = PickleWriter::new();
        w.proto(2).global("collections", "OrderedDict").empty_tuple().reduce().binput(0);
        w.mark().unicode("w").global("m", "f").mark().mark().unicode("storage").int(3);
        w.tuple().binpersid().int(0).int(3).tuple1().empty_tuple().binget(0).tuple().reduce();
        w.setitems().empty_dict().build().stop();
        let valid = w.bytes().to_vec();
        assert!(run(&valid).is_ok());
        for _ in 0..20_000 {
            let _ = run(&fuzz.mutate(&valid));
            let _ = run(&fuzz.bytes(64));
        }
    }
}
