//! The text form of objectives: parsing, with typed errors that say where and what was
//! expected. [`Objective`]'s `Display` prints the canonical form, which parses back to an
//! equal objective.
//!
//! ```text
//! expr    := term (("+" | "-") term)*
//! term    := ["-"] NUMBER "*" term          scaled (prefix factor)
//!          | unary ("*" ["-"] NUMBER)*       scaled (postfix factor)
//! unary   := "-" unary | primary             negated
//! primary := "(" expr ")"
//!          | LAYER ":" INT [at]                                 channel (lucid's "layer:unit")
//!          | "channel(" LAYER ":" INT ")" [at]
//!          | "neuron(" LAYER ":" INT ["," INT "," INT] ")" [at]  position x, y; default centre
//!          | "dream(" LAYER ")" [at]                            mean squared activation
//!          | "direction(" LAYER "," "[" NUMBER ("," NUMBER)* "]" ["," ("cos" | "dot")] ")" [at]
//!          | "class(" INT ")" [at]                              logit
//!          | "caricature(" LAYER ["," NUMBER] ")" [at]          cosine power, default 1
//!          | "invert(" LAYER ")" [at]
//!          | "diversity(" LAYER ["," NUMBER] ")"                weight, default 1
//!          | ("tv" | "l1" | "l2") "(" [NUMBER] ")"              weight, default 1
//! at      := "@" INT                          only this batch element
//! LAYER   := [A-Za-z_/][A-Za-z0-9_./]*  |  "\"" any text, with \" and \\ escaped "\""
//! ```
//!
//! Examples: `blocks.8:50 + 0.5 * blocks.8:12 - tv(0.1)`, `neuron(blocks.8:50, 3, 4)`,
//! `dream(blocks.8)`, `class(967)`, `blocks.8:50 + diversity(blocks.8, 0.01)`, `-blocks.8:50`.
//!
//! The text comes from links, so its size is bounded before any work: at most
//! [`MAX_TEXT_BYTES`] bytes and [`MAX_DEPTH`] levels of nesting, each checked before the parser
//! recurses (a 20,000-deep objective is an error, not a stack overflow).

use std::fmt;
use std::str::FromStr;

use super::algebra::Objective;
use super::layer_name::{continues_bare, starts_bare};

/// The longest objective text read, in bytes. A link carries the objective, so its length is
/// chosen by whoever wrote the link; this is far more than any hand-written objective needs.
pub const MAX_TEXT_BYTES: usize = 64 * 1024;

/// The deepest nesting read: parentheses, unary minus and factors each add a level. The parser
/// (and everything that walks the objective afterwards) recurses once per level, and a browser
/// worker's stack is small, so a deeper text is an error rather than a stack overflow.
pub const MAX_DEPTH: usize = 64;

/// What the parser wanted where it failed.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", content = "symbol", rename_all = "snake_case")]
pub enum Expected {
    /// The start of an objective (a unit, a function, `-` or `(`).
    Objective,
    /// A number (a weight or factor).
    Number,
    /// A non-negative integer (a unit, class, position or batch index).
    Integer,
    /// A layer name.
    Layer,
    /// This punctuation.
    Symbol(char),
    /// One of the known functions.
    Function,
    /// `cos` or `dot`.
    DirectionKind,
    /// The end of the text (or an operator).
    End,
    /// A text of at most [`MAX_TEXT_BYTES`] bytes.
    ShorterText,
    /// At most [`MAX_DEPTH`] levels of nesting.
    ShallowerNesting,
}

impl fmt::Display for Expected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Objective => f.write_str("an objective (`layer:unit`, a function such as `neuron(...)`, `-` or `(`)"),
            Self::Number => f.write_str("a number"),
            Self::Integer => f.write_str("a non-negative integer"),
            Self::Layer => f.write_str("a layer name"),
            Self::Symbol(c) => write!(f, "`{c}`"),
            Self::Function => f.write_str(
                "a function (channel, neuron, dream, direction, class, caricature, invert, diversity, tv, l1, l2)",
            ),
            Self::DirectionKind => f.write_str("`cos` or `dot`"),
            Self::End => f.write_str("`+`, `-`, `*` or the end"),
            Self::ShorterText => write!(f, "an objective of at most {MAX_TEXT_BYTES} bytes"),
            Self::ShallowerNesting => write!(
                f,
                "at most {MAX_DEPTH} levels of nesting (parentheses, minus signs and factors)"
            ),
        }
    }
}

/// Why a text is not an objective.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, serde::Serialize, serde::Deserialize)]
#[error("at character {}: expected {expected}, found {found}", position + 1)]
pub struct ParseError {
    /// Byte offset of the offending token in the text (0-based).
    pub position: usize,
    /// What would have been accepted there.
    pub expected: Expected,
    /// What was there instead.
    pub found: String,
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Name(String),
    Quoted(String),
    Number(String),
    Symbol(char),
    End,
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Name(s) | Self::Number(s) => write!(f, "`{s}`"),
            Self::Quoted(s) => write!(f, "\"{s}\""),
            Self::Symbol(c) => write!(f, "`{c}`"),
            Self::End => f.write_str("the end"),
        }
    }
}

const SYMBOLS: &str = "+-*()[],:@";

/// Splits `text` into tokens with their byte offsets (ending with [`Token::End`]).
fn tokenize(text: &str) -> Result<Vec<(usize, Token)>, ParseError> {
    let mut tokens = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some(&(start, c)) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if SYMBOLS.contains(c) {
            chars.next();
            tokens.push((start, Token::Symbol(c)));
        } else if c.is_ascii_digit() || c == '.' {
            let mut number = String::new();
            let mut last = ' ';
            while let Some(&(_, d)) = chars.peek() {
                let exponent_sign = matches!(d, '+' | '-') && matches!(last, 'e' | 'E');
                if d.is_ascii_digit() || d == '.' || matches!(d, 'e' | 'E') || exponent_sign {
                    number.push(d);
                    last = d;
                    chars.next();
                } else {
                    break;
                }
            }
            tokens.push((start, Token::Number(number)));
        } else if starts_bare(c) {
            let mut name = String::new();
            while let Some(&(_, d)) = chars.peek() {
                if continues_bare(d) {
                    name.push(d);
                    chars.next();
                } else {
                    break;
                }
            }
            tokens.push((start, Token::Name(name)));
        } else if c == '"' {
            chars.next();
            let mut name = String::new();
            loop {
                match chars.next() {
                    Some((_, '"')) => break,
                    Some((_, '\\')) => match chars.next() {
                        Some((_, escaped)) => name.push(escaped),
                        None => return Err(unterminated(text)),
                    },
                    Some((_, d)) => name.push(d),
                    None => return Err(unterminated(text)),
                }
            }
            tokens.push((start, Token::Quoted(name)));
        } else {
            return Err(ParseError {
                position: start,
                expected: Expected::Objective,
                found: format!("`{c}`"),
            });
        }
    }
    tokens.push((text.len(), Token::End));
    Ok(tokens)
}

fn unterminated(text: &str) -> ParseError {
    ParseError {
        position: text.len(),
        expected: Expected::Symbol('"'),
        found: Token::End.to_string(),
    }
}

struct Parser {
    tokens: Vec<(usize, Token)>,
    next: usize,
    /// Levels of nesting open at the current token (see [`MAX_DEPTH`]).
    depth: usize,
}

impl Parser {
    fn peek(&self) -> &Token {
        self.peek_at(0)
    }

    fn peek_at(&self, ahead: usize) -> &Token {
        self.tokens.get(self.next + ahead).or(self.tokens.last()).map_or(&Token::End, |(_, t)| t)
    }

    fn position(&self) -> usize {
        self.tokens.get(self.next).or(self.tokens.last()).map_or(0, |(p, _)| *p)
    }

    fn error(&self, expected: Expected) -> ParseError {
        ParseError { position: self.position(), expected, found: self.peek().to_string() }
    }

    fn eat(&mut self, symbol: char) -> bool {
        if *self.peek() == Token::Symbol(symbol) {
            self.next += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, symbol: char) -> Result<(), ParseError> {
        if self.eat(symbol) { Ok(()) } else { Err(self.error(Expected::Symbol(symbol))) }
    }

    /// Opens `levels` levels of nesting, or fails before anything recursive runs when that
    /// would pass [`MAX_DEPTH`]. Every `enter` is matched by a `leave` on success; after an
    /// error the parser is dropped, so the count no longer matters.
    fn enter(&mut self, levels: usize) -> Result<(), ParseError> {
        self.depth += levels;
        if self.depth > MAX_DEPTH {
            return Err(self.error(Expected::ShallowerNesting));
        }
        Ok(())
    }

    fn leave(&mut self, levels: usize) {
        self.depth = self.depth.saturating_sub(levels);
    }

    fn expr(&mut self) -> Result<Objective, ParseError> {
        self.enter(1)?;
        let objective = self.sum()?;
        self.leave(1);
        Ok(objective)
    }

    fn sum(&mut self) -> Result<Objective, ParseError> {
        let mut terms = vec![self.term()?];
        loop {
            if self.eat('+') {
                terms.push(self.term()?);
            } else if self.eat('-') {
                // `a - b` holds `b` in a negation: a level, as for a unary minus.
                self.enter(1)?;
                let term = self.term()?;
                self.leave(1);
                terms.push(Objective::Negated(Box::new(term)));
            } else {
                break;
            }
        }
        Ok(Objective::total(terms).unwrap_or(Objective::Sum(Vec::new())))
    }

    fn term(&mut self) -> Result<Objective, ParseError> {
        let negative_number =
            *self.peek() == Token::Symbol('-') && matches!(self.peek_at(1), Token::Number(_));
        if negative_number || matches!(self.peek(), Token::Number(_)) {
            let factor = self.signed_number()?;
            self.expect('*')?;
            self.enter(1)?;
            let inner = self.term()?;
            self.leave(1);
            return Ok(Objective::Scaled { factor, inner: Box::new(inner) });
        }
        let mut objective = self.unary()?;
        // Postfix factors nest without recursing here, but whatever walks the objective later
        // recurses through each of them: they count as levels too.
        let mut factors = 0;
        while self.eat('*') {
            self.enter(1)?;
            factors += 1;
            let factor = self.signed_number()?;
            objective = Objective::Scaled { factor, inner: Box::new(objective) };
        }
        self.leave(factors);
        Ok(objective)
    }

    fn unary(&mut self) -> Result<Objective, ParseError> {
        if self.eat('-') {
            self.enter(1)?;
            let inner = self.unary()?;
            self.leave(1);
            return Ok(Objective::Negated(Box::new(inner)));
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Objective, ParseError> {
        if self.eat('(') {
            let inner = self.expr()?;
            self.expect(')')?;
            return Ok(inner);
        }
        match (self.peek().clone(), self.peek_at(1)) {
            (Token::Name(name), Token::Symbol('(')) => {
                let position = self.position();
                self.next += 2;
                self.call(&name, position)
            }
            (Token::Name(_) | Token::Quoted(_), _) => {
                let (layer, unit) = self.unit()?;
                Ok(Objective::Channel { layer, unit, batch: self.at()? })
            }
            _ => Err(self.error(Expected::Objective)),
        }
    }

    /// The arguments of `name(` (already consumed) and the closing parenthesis.
    fn call(&mut self, name: &str, position: usize) -> Result<Objective, ParseError> {
        let objective = match name {
            "channel" => {
                let (layer, unit) = self.unit()?;
                self.expect(')')?;
                Objective::Channel { layer, unit, batch: self.at()? }
            }
            "neuron" => {
                let (layer, unit) = self.unit()?;
                let position = if self.eat(',') {
                    let x = self.integer()?;
                    self.expect(',')?;
                    Some([x, self.integer()?])
                } else {
                    None
                };
                self.expect(')')?;
                Objective::Neuron { layer, unit, position, batch: self.at()? }
            }
            "dream" => {
                let layer = self.layer()?;
                self.expect(')')?;
                Objective::Dream { layer, batch: self.at()? }
            }
            "direction" => {
                let layer = self.layer()?;
                self.expect(',')?;
                self.expect('[')?;
                let mut vector = vec![self.signed_number()?];
                while self.eat(',') {
                    vector.push(self.signed_number()?);
                }
                self.expect(']')?;
                let cosine = if self.eat(',') {
                    let cosine = match self.peek() {
                        Token::Name(kind) if kind == "cos" => true,
                        Token::Name(kind) if kind == "dot" => false,
                        _ => return Err(self.error(Expected::DirectionKind)),
                    };
                    self.next += 1;
                    cosine
                } else {
                    false
                };
                self.expect(')')?;
                Objective::Direction { layer, vector, cosine, batch: self.at()? }
            }
            "class" => {
                let class = self.integer()?;
                self.expect(')')?;
                Objective::Class { class, batch: self.at()? }
            }
            "caricature" => {
                let layer = self.layer()?;
                let power = if self.eat(',') { self.signed_number()? } else { 1.0 };
                self.expect(')')?;
                Objective::Caricature { layer, power, batch: self.at()? }
            }
            "invert" => {
                let layer = self.layer()?;
                self.expect(')')?;
                Objective::Inversion { layer, batch: self.at()? }
            }
            "diversity" => {
                let layer = self.layer()?;
                let weight = if self.eat(',') { self.signed_number()? } else { 1.0 };
                self.expect(')')?;
                Objective::Diversity { layer, weight }
            }
            "tv" | "l1" | "l2" => {
                let weight = if matches!(self.peek(), Token::Symbol(')')) {
                    1.0
                } else {
                    self.signed_number()?
                };
                self.expect(')')?;
                match name {
                    "tv" => Objective::TotalVariation { weight },
                    "l1" => Objective::L1 { weight },
                    _ => Objective::L2 { weight },
                }
            }
            _ => {
                return Err(ParseError {
                    position,
                    expected: Expected::Function,
                    found: format!("`{name}`"),
                });
            }
        };
        Ok(objective)
    }

    /// `LAYER ":" INT`.
    fn unit(&mut self) -> Result<(String, usize), ParseError> {
        let layer = self.layer()?;
        self.expect(':')?;
        Ok((layer, self.integer()?))
    }

    fn layer(&mut self) -> Result<String, ParseError> {
        match self.peek().clone() {
            Token::Name(name) | Token::Quoted(name) => {
                self.next += 1;
                Ok(name)
            }
            _ => Err(self.error(Expected::Layer)),
        }
    }

    /// An optional `@ INT`.
    fn at(&mut self) -> Result<Option<usize>, ParseError> {
        if self.eat('@') { Ok(Some(self.integer()?)) } else { Ok(None) }
    }

    fn integer(&mut self) -> Result<usize, ParseError> {
        match self.peek().clone() {
            Token::Number(text) if text.bytes().all(|b| b.is_ascii_digit()) => match text.parse() {
                Ok(value) => {
                    self.next += 1;
                    Ok(value)
                }
                Err(_) => Err(self.error(Expected::Integer)),
            },
            _ => Err(self.error(Expected::Integer)),
        }
    }

    fn signed_number(&mut self) -> Result<f32, ParseError> {
        let start = self.next;
        let sign = if self.eat('-') { -1.0 } else { 1.0 };
        match self.peek().clone() {
            Token::Number(text) => match text.parse::<f32>() {
                Ok(value) if value.is_finite() => {
                    self.next += 1;
                    Ok(sign * value)
                }
                _ => Err(self.error(Expected::Number)),
            },
            _ => {
                let error = self.error(Expected::Number);
                self.next = start;
                Err(error)
            }
        }
    }
}

impl FromStr for Objective {
    type Err = ParseError;

    /// Parses the text form (see the [module documentation](self)).
    fn from_str(text: &str) -> Result<Self, ParseError> {
        if text.len() > MAX_TEXT_BYTES {
            return Err(ParseError {
                position: MAX_TEXT_BYTES,
                expected: Expected::ShorterText,
                found: format!("{} bytes", text.len()),
            });
        }
        let mut parser = Parser { tokens: tokenize(text)?, next: 0, depth: 0 };
        let objective = parser.expr()?;
        if *parser.peek() != Token::End {
            return Err(parser.error(Expected::End));
        }
        Ok(objective)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::SplitMix64;

    fn parse(text: &str) -> Objective {
        text.parse().unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    #[test]
    fn fv_grammar_parses_the_documented_examples() {
        let ch = |layer: &str, unit| Objective::channel(layer, unit);
        assert_eq!(
            parse("blocks.8:50 + 0.5 * blocks.8:12 - tv(0.1)"),
            Objective::Sum(vec![
                ch("blocks.8", 50),
                0.5 * ch("blocks.8", 12),
                -Objective::TotalVariation { weight: 0.1 }
            ])
        );
        assert_eq!(
            parse("neuron(blocks.8:50, 3, 4)"),
            Objective::Neuron {
                layer: "blocks.8".into(),
                unit: 50,
                position: Some([3, 4]),
                batch: None
            }
        );
        assert_eq!(parse("dream(blocks.8)"), Objective::dream("blocks.8"));
        assert_eq!(parse("class(967)"), Objective::class(967));
        assert_eq!(
            parse("diversity(blocks.8, 1e-2)"),
            Objective::Diversity { layer: "blocks.8".into(), weight: 0.01 }
        );
        assert_eq!(parse("-blocks.8:50"), -ch("blocks.8", 50));
        assert_eq!(parse("channel(head:3)@2"), ch("head", 3).at(2));
        assert_eq!(parse("blocks.8:50 * 2"), 2.0 * ch("blocks.8", 50));
        assert_eq!(parse("-0.5*stem:1"), -0.5 * ch("stem", 1));
        assert_eq!(parse("\"a-b:c\":3"), ch("a-b:c", 3));
        assert_eq!(
            parse("direction(head, [1, -2.5, 0], cos)@1"),
            Objective::Direction {
                layer: "head".into(),
                vector: vec![1.0, -2.5, 0.0],
                cosine: true,
                batch: Some(1)
            }
        );
        assert_eq!(parse("tv()"), Objective::TotalVariation { weight: 1.0 });
        assert_eq!(parse("caricature(blocks.8, 2)").to_string(), "caricature(blocks.8, 2)");
    }

    #[test]
    fn fv_grammar_errors_say_where_and_what() {
        let error = |text: &str| text.parse::<Objective>().unwrap_err();
        let e = error("blocks.8:");
        assert_eq!((e.position, e.expected.clone()), (9, Expected::Integer));
        assert_eq!(
            e.to_string(),
            "at character 10: expected a non-negative integer, found the end"
        );
        let e = error("blocks.8:5 +");
        assert_eq!(e.expected, Expected::Objective);
        let e = error("frobnicate(blocks.8)");
        assert_eq!((e.position, e.expected), (0, Expected::Function));
        let e = error("blocks.8:5 blocks.8:6");
        assert_eq!((e.position, e.expected), (11, Expected::End));
        let e = error("blocks.8");
        assert_eq!((e.position, e.expected), (8, Expected::Symbol(':')));
        let e = error("neuron(blocks.8:1, 2)");
        assert_eq!((e.position, e.expected), (20, Expected::Symbol(',')));
        let e = error("2 * 3");
        assert_eq!((e.position, e.expected), (5, Expected::Symbol('*')));
        let e = error("blocks.8:1.5");
        assert_eq!((e.position, e.expected), (9, Expected::Integer));
        let e = error("x:1 * y:2");
        assert_eq!((e.position, e.expected), (6, Expected::Number));
        let e = error("\"open");
        assert_eq!(e.expected, Expected::Symbol('"'));
        let e = error("direction(head, [1], sin)");
        assert_eq!((e.position, e.expected), (21, Expected::DirectionKind));
    }

    /// Runs `f` on a thread with a 1 MiB stack, the default stack of a wasm module such as the
    /// renderer worker.
    fn on_small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
        std::thread::Builder::new().stack_size(1 << 20).spawn(f).unwrap().join().unwrap()
    }

    #[test]
    fn objective_grammar_refuses_deep_nesting_before_it_recurses() {
        let deep = 20_000;
        let cases = [
            format!("{}blocks.8:1{}", "(".repeat(deep), ")".repeat(deep)),
            format!("{}blocks.8:1", "-".repeat(deep)),
            format!("{}blocks.8:1", "2*".repeat(deep)),
            format!("blocks.8:1{}", "*2".repeat(deep)),
            format!("{}blocks.8:1{}", "-(".repeat(deep / 2), ")".repeat(deep / 2)),
            format!("{}x:1{}", "(x:1 - ".repeat(deep / 8), ")".repeat(deep / 8)),
        ];
        let errors = on_small_stack(move || {
            cases.iter().map(|text| text.parse::<Objective>().unwrap_err()).collect::<Vec<_>>()
        });
        for error in errors {
            assert_eq!(error.expected, Expected::ShallowerNesting, "{error}");
            // Found within the first levels, not after reading 20,000 of them.
            assert!(error.position < 8 * MAX_DEPTH, "{error}");
        }
        // Just inside the limit still parses, and the objective is as deep as written.
        let ok = format!("{}blocks.8:1", "-".repeat(MAX_DEPTH - 1));
        let objective = on_small_stack(move || ok.parse::<Objective>().unwrap());
        assert_eq!(objective.depth(), MAX_DEPTH);
        let too_deep = format!("{}blocks.8:1", "-".repeat(MAX_DEPTH));
        assert_eq!(too_deep.parse::<Objective>().unwrap_err().expected, Expected::ShallowerNesting);
        // Whatever parses is at most one level deeper than the parser's count (the innermost
        // term), which is what `validate` allows.
        for n in 1..MAX_DEPTH {
            let text = format!("{}x:1{}", "(x:1 - ".repeat(n), ")".repeat(n));
            if let Ok(objective) = text.parse::<Objective>() {
                assert!(objective.depth() <= MAX_DEPTH + 1, "{text}");
            }
        }
    }

    #[test]
    fn objective_grammar_refuses_long_texts_before_reading_them() {
        let long = format!("blocks.8:1{}", " + blocks.8:1".repeat(MAX_TEXT_BYTES / 12));
        let error = long.parse::<Objective>().unwrap_err();
        assert_eq!(
            (error.position, error.expected.clone()),
            (MAX_TEXT_BYTES, Expected::ShorterText)
        );
        assert!(error.to_string().contains("65536 bytes"), "{error}");
        // A long flat sum within the limit is fine: sums do not nest.
        let sum = format!("blocks.8:1{}", " + blocks.8:1".repeat(4000));
        let Objective::Sum(terms) = sum.parse::<Objective>().unwrap() else { panic!("not a sum") };
        assert_eq!(terms.len(), 4001);
    }

    /// A random objective built with the algebra.
    fn random_objective(rng: &mut SplitMix64, depth: usize) -> Objective {
        let layers = ["blocks.8", "head", "a b\"c", "stem"];
        let layer = (*rng.choose(&layers).unwrap()).to_owned();
        let batch = if rng.below(3) == 0 { Some(rng.below(4)) } else { None };
        let number =
            |rng: &mut SplitMix64| *rng.choose(&[0.5f32, -2.0, 1e-3, 1.0, 3.25e7, -0.125]).unwrap();
        let leaf = rng.below(11);
        if depth == 0 || rng.below(3) == 0 {
            return match leaf {
                0 => Objective::Channel { layer, unit: rng.below(100), batch },
                1 => Objective::Neuron {
                    layer,
                    unit: rng.below(9),
                    position: (rng.below(2) == 0).then(|| [rng.below(7), rng.below(7)]),
                    batch,
                },
                2 => Objective::Dream { layer, batch },
                3 => Objective::Direction {
                    layer,
                    vector: (0..1 + rng.below(4)).map(|_| number(rng)).collect(),
                    cosine: rng.below(2) == 0,
                    batch,
                },
                4 => Objective::Class { class: rng.below(1000), batch },
                5 => Objective::Caricature { layer, power: number(rng).abs(), batch },
                6 => Objective::Inversion { layer, batch },
                7 => Objective::Diversity { layer, weight: number(rng) },
                8 => Objective::TotalVariation { weight: number(rng) },
                9 => Objective::L1 { weight: number(rng) },
                _ => Objective::L2 { weight: number(rng) },
            };
        }
        match rng.below(4) {
            0 => number(rng) * random_objective(rng, depth - 1),
            1 => -random_objective(rng, depth - 1),
            2 => random_objective(rng, depth - 1) - random_objective(rng, depth - 1),
            _ => Objective::Sum(
                (0..2 + rng.below(2)).map(|_| random_objective(rng, depth - 1)).collect(),
            ),
        }
    }

    #[test]
    fn fv_grammar_round_trips_random_objectives() {
        let mut rng = SplitMix64::new(2024);
        for _ in 0..2000 {
            let objective = random_objective(&mut rng, 4);
            let text = objective.to_string();
            let back: Objective = text.parse().unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(back, objective, "{text}");
            assert_eq!(back.to_string(), text);
            assert!(!objective.describe().is_empty());
        }
    }
}
