//! The canonical text of a query: what `Display` prints, and what parses back to the same value.

use std::fmt::{self, Write as _};

use super::ast::*;
use crate::model::Origin;

/// Whether text must be quoted to parse back as itself.
pub(super) fn needs_quotes(s: &str) -> bool {
    s.is_empty() || s.chars().any(|c| c.is_whitespace() || c == '"')
}

fn write_quoted(f: &mut fmt::Formatter<'_>, s: &str) -> fmt::Result {
    f.write_char('"')?;
    for c in s.chars() {
        if matches!(c, '"' | '\\') {
            f.write_char('\\')?;
        }
        f.write_char(c)?;
    }
    f.write_char('"')
}

fn write_text(f: &mut fmt::Formatter<'_>, s: &str) -> fmt::Result {
    if needs_quotes(s) { write_quoted(f, s) } else { f.write_str(s) }
}

impl fmt::Display for Query {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut sep = "";
        for term in &self.terms {
            write!(f, "{sep}{term}")?;
            sep = " ";
        }
        if let Some(kind) = self.kind {
            write!(f, "{sep}type:{}", kind.as_str())?;
            sep = " ";
        }
        if let Some((field, direction)) = self.order_by {
            write!(f, "{sep}order_by:{} sort:{}", field.as_str(), direction.as_str())?;
        }
        Ok(())
    }
}

impl fmt::Display for Term {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.negated {
            f.write_char('-')?;
        }
        match &self.item {
            Item::Text(word) => f.write_str(word),
            Item::Phrase(phrase) => write_quoted(f, phrase),
            Item::Field { field, op, value } => write!(f, "{}{}{value}", field.as_str(), op.as_str()),
            Item::Custom { key, op, value } => {
                write!(f, "field.{key}{}", op.as_str())?;
                match value {
                    FieldValue::Unset => f.write_str("none"),
                    FieldValue::Text(t) if t.trim().eq_ignore_ascii_case("none") => write_quoted(f, t),
                    FieldValue::Text(t) => write_text(f, t),
                }
            }
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Status(status) => f.write_str(status.as_str()),
            Self::Channel(kind) => f.write_str(kind.as_str()),
            Self::Kind(kind) => f.write_str(kind.as_str()),
            Self::Origin(Origin::Customer) => f.write_str("customer"),
            Self::Origin(Origin::Agent) => f.write_str("agent"),
            Self::Who(Who::Me) => f.write_str("me"),
            Self::Who(Who::None) => f.write_str("none"),
            // A name spelled like a keyword stays a name only in quotes.
            Self::Who(Who::Text(name)) if matches!(name.trim().to_lowercase().as_str(), "me" | "none") => {
                write_quoted(f, name)
            }
            Self::Who(Who::Text(text)) | Self::Text(text) => write_text(f, text),
            Self::Date(date) => write!(f, "{date}"),
            Self::Tag(tag) => f.write_str(tag.as_str()),
        }
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::Absolute(day) => write!(f, "{:04}-{:02}-{:02}", day.year(), u8::from(day.month()), day.day()),
            Self::Relative { amount, unit } => {
                write!(f, "{amount}{}{}", unit.as_str(), if amount == 1 { "" } else { "s" })
            }
        }
    }
}
