//! Writing an objective in its canonical text form (the [`Display`](fmt::Display) of
//! [`Objective`]): parsing the text gives back an equal objective, and parentheses appear only
//! where precedence needs them.

use std::fmt;

use super::algebra::Objective;
use super::layer_name::LayerName;

/// Precedence levels of the text form, loosest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Level {
    Sum,
    Term,
    Unary,
}

/// `@i` when a batch element is targeted.
struct At(Option<usize>);

impl fmt::Display for At {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(i) => write!(f, "@{i}"),
            None => Ok(()),
        }
    }
}

/// `, weight` unless the weight is 1.
struct OptionalWeight(f32, bool);

impl fmt::Display for OptionalWeight {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.0 == 1.0, self.1) {
            (true, _) => Ok(()),
            (false, true) => write!(f, ", {}", self.0),
            (false, false) => write!(f, "{}", self.0),
        }
    }
}

impl Objective {
    fn level(&self) -> Level {
        match self {
            Self::Sum(_) => Level::Sum,
            Self::Scaled { .. } => Level::Term,
            Self::Negated(_) => Level::Unary,
            _ => Level::Unary,
        }
    }

    /// Writes `self`, in parentheses when it binds more loosely than `context` allows.
    fn write_at(&self, f: &mut fmt::Formatter<'_>, context: Level) -> fmt::Result {
        if self.level() < context { write!(f, "({self})") } else { write!(f, "{self}") }
    }
}

impl fmt::Display for Objective {
    /// The canonical text form; parsing it gives back an equal objective.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Channel { layer, unit, batch } => {
                write!(f, "{}:{unit}{}", LayerName(layer), At(*batch))
            }
            Self::Neuron { layer, unit, position, batch } => {
                write!(f, "neuron({}:{unit}", LayerName(layer))?;
                if let Some([x, y]) = position {
                    write!(f, ", {x}, {y}")?;
                }
                write!(f, "){}", At(*batch))
            }
            Self::Dream { layer, batch } => write!(f, "dream({}){}", LayerName(layer), At(*batch)),
            Self::Direction { layer, vector, cosine, batch } => {
                write!(f, "direction({}, [", LayerName(layer))?;
                for (i, v) in vector.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{v}")?;
                }
                f.write_str("]")?;
                if *cosine {
                    f.write_str(", cos")?;
                }
                write!(f, "){}", At(*batch))
            }
            Self::Class { class, batch } => write!(f, "class({class}){}", At(*batch)),
            Self::Caricature { layer, power, batch } => {
                write!(
                    f,
                    "caricature({}{}){}",
                    LayerName(layer),
                    OptionalWeight(*power, true),
                    At(*batch)
                )
            }
            Self::Inversion { layer, batch } => {
                write!(f, "invert({}){}", LayerName(layer), At(*batch))
            }
            Self::Diversity { layer, weight } => {
                write!(f, "diversity({}{})", LayerName(layer), OptionalWeight(*weight, true))
            }
            Self::TotalVariation { weight } => write!(f, "tv({})", OptionalWeight(*weight, false)),
            Self::L1 { weight } => write!(f, "l1({})", OptionalWeight(*weight, false)),
            Self::L2 { weight } => write!(f, "l2({})", OptionalWeight(*weight, false)),
            Self::Scaled { factor, inner } => {
                write!(f, "{factor} * ")?;
                inner.write_at(f, Level::Term)
            }
            Self::Negated(inner) => {
                f.write_str("-")?;
                inner.write_at(f, Level::Unary)
            }
            Self::Sum(terms) => {
                for (i, term) in terms.iter().enumerate() {
                    match (i, term) {
                        (0, term) => term.write_at(f, Level::Term)?,
                        (_, Self::Negated(inner)) => {
                            f.write_str(" - ")?;
                            inner.write_at(f, Level::Term)?;
                        }
                        (_, term) => {
                            f.write_str(" + ")?;
                            term.write_at(f, Level::Term)?;
                        }
                    }
                }
                Ok(())
            }
        }
    }
}
