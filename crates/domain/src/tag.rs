//! Tags: short lowercase labels that views and the notifier select on.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::DomainError;

/// A validated tag: 1–64 characters of lowercase letters, digits, `_`, `-`, `:` or `.`.
/// Input is trimmed and lowercased, as users type `VIP` and mean `vip`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Tag(String);

impl Tag {
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let tag = raw.trim().to_lowercase();
        if tag.is_empty() || tag.chars().count() > 64 {
            return Err(DomainError::invalid("tags", "a tag has 1 to 64 characters"));
        }
        if let Some(bad) = tag.chars().find(|c| !(c.is_alphanumeric() || matches!(c, '_' | '-' | ':' | '.'))) {
            return Err(DomainError::invalid(
                "tags",
                format!("`{raw}`: a tag cannot contain `{bad}` (use letters, digits, _ - : .)"),
            ));
        }
        Ok(Self(tag))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Tag {
    type Error = DomainError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Tag> for String {
    fn from(tag: Tag) -> Self {
        tag.0
    }
}

impl fmt::Display for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_trimmed_and_lowercased() {
        assert_eq!(Tag::parse(" VIP ").unwrap().as_str(), "vip");
        assert_eq!(Tag::parse("messaging_support").unwrap().as_str(), "messaging_support");
    }

    #[test]
    fn bad_tags_are_refused_with_a_reason() {
        for bad in ["", "   ", "two words", "semi;colon", &"x".repeat(65)] {
            assert!(Tag::parse(bad).is_err(), "{bad:?} should be refused");
        }
    }
}
