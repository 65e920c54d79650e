//! From query text to the typed form: a hand-written scanner that says where and why.

use time::Month;

use super::ast::*;
use crate::channel::ChannelKind;
use crate::model::Origin;
use crate::tag::Tag;
use crate::ticket::TicketStatus;

/// Parses query text. Errors say where (character offset) and why; nothing here panics.
pub fn parse(input: &str) -> Result<Query, ParseError> {
    let chars: Vec<char> = input.chars().take(MAX_QUERY_CHARS + 1).collect();
    if chars.len() > MAX_QUERY_CHARS {
        return Err(ParseError::new(MAX_QUERY_CHARS, format!("a query has at most {MAX_QUERY_CHARS} characters")));
    }
    Parser { chars, pos: 0, query: Query::default(), order_by: None, sort: None }.run()
}

/// `name op` at the start of a keyword term, with the offsets errors point at.
struct Head {
    name: String,
    name_at: usize,
    op: Op,
    op_at: usize,
    value_at: usize,
}

struct Parser {
    chars: Vec<char>,
    pos: usize,
    query: Query,
    order_by: Option<SortField>,
    /// `sort:` and where it was, to point at it if `order_by:` never comes.
    sort: Option<(Direction, usize)>,
}

impl Parser {
    fn run(mut self) -> Result<Query, ParseError> {
        loop {
            while self.peek().is_some_and(char::is_whitespace) {
                self.pos += 1;
            }
            if self.pos >= self.chars.len() {
                break;
            }
            self.term()?;
        }
        self.query.order_by = match (self.order_by, self.sort) {
            (Some(field), sort) => Some((field, sort.map_or(Direction::Desc, |(d, _)| d))),
            (None, Some((_, at))) => {
                return Err(ParseError::new(at, "sort: needs an order_by: (order_by:updated sort:asc)"));
            }
            (None, None) => None,
        };
        Ok(self.query)
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn term(&mut self) -> Result<(), ParseError> {
        let start = self.pos;
        let negated = self.peek() == Some('-');
        if negated {
            self.pos += 1;
            if self.peek().is_none_or(char::is_whitespace) {
                return Err(ParseError::new(
                    start,
                    "`-` must be followed, without a space, by what to leave out (-tags:spam)",
                ));
            }
        }
        if self.peek() == Some('"') {
            let open = self.pos;
            let text = self.quoted()?;
            if text.trim().is_empty() {
                return Err(ParseError::new(open, "empty phrase: put words between the quotes"));
            }
            return self.push(start, Term { negated, item: Item::Phrase(text) });
        }
        if let Some(head) = self.head() {
            self.pos = head.value_at;
            return self.keyword(start, negated, head);
        }
        let word = self.bare()?;
        self.push(start, Term { negated, item: Item::Text(word) })
    }

    fn push(&mut self, start: usize, term: Term) -> Result<(), ParseError> {
        if self.query.terms.len() >= MAX_TERMS {
            return Err(ParseError::new(start, format!("a query has at most {MAX_TERMS} terms")));
        }
        self.query.terms.push(term);
        Ok(())
    }

    /// `name op` at the current position, if the term is a keyword.
    fn head(&self) -> Option<Head> {
        let name_at = self.pos;
        if !self.peek()?.is_alphabetic() {
            return None;
        }
        let mut at = name_at;
        while self.chars.get(at).is_some_and(|c| c.is_alphanumeric() || *c == '_') {
            at += 1;
        }
        // `field.<key>`: a custom field's key follows the dot.
        let prefix: String = self.chars[name_at..at].iter().collect();
        if prefix.eq_ignore_ascii_case("field") && self.chars.get(at) == Some(&'.') {
            at += 1;
            while self.chars.get(at).is_some_and(|c| c.is_ascii_alphanumeric() || *c == '_') {
                at += 1;
            }
        }
        let next = self.chars.get(at + 1).copied();
        let (op, len) = match (self.chars.get(at)?, next) {
            (':', _) => (Op::Eq, 1),
            ('<', Some('=')) => (Op::Le, 2),
            ('>', Some('=')) => (Op::Ge, 2),
            ('<', _) => (Op::Lt, 1),
            ('>', _) => (Op::Gt, 1),
            _ => return None,
        };
        let name = self.chars[name_at..at].iter().collect::<String>().to_lowercase();
        Some(Head { name, name_at, op, op_at: at, value_at: at + len })
    }

    fn keyword(&mut self, start: usize, negated: bool, head: Head) -> Result<(), ParseError> {
        if matches!(head.name.as_str(), "type" | "order_by" | "sort") {
            return self.option(start, negated, &head);
        }
        if let Some(key) = head.name.strip_prefix("field.") {
            return self.custom(start, negated, key.to_owned(), &head);
        }
        let Some(field) = Field::from_name(&head.name) else {
            let names = Field::ALL.map(Field::as_str).join(", ");
            return Err(ParseError::new(
                head.name_at,
                format!(
                    "unknown field `{}` (one of {names}, field.<key>, type, order_by, sort); quote text that has a colon",
                    head.name
                ),
            ));
        };
        if head.op != Op::Eq && !field.is_ordered() {
            return Err(ParseError::new(
                head.op_at,
                format!(
                    "`{}` has no order, so it takes `:` not `{}`; only status, created and updated compare",
                    field.as_str(),
                    head.op.as_str()
                ),
            ));
        }
        let (raw, quoted) = self.value(&head)?;
        let value = typed_value(field, head.op, &raw, quoted).map_err(|m| ParseError::new(head.value_at, m))?;
        self.push(start, Term { negated, item: Item::Field { field, op: head.op, value } })
    }

    /// `field.<key> op value`: a custom ticket field. `none` is "not set"; comparisons take a
    /// number or a day.
    fn custom(&mut self, start: usize, negated: bool, key: String, head: &Head) -> Result<(), ParseError> {
        if key.is_empty() || key.len() > MAX_FIELD_KEY {
            return Err(ParseError::new(
                head.name_at,
                format!(
                    "`field.` needs a custom field's key of 1 to {MAX_FIELD_KEY} letters, digits or _ (field.order_no:1234)"
                ),
            ));
        }
        let (raw, quoted) = self.value(head)?;
        let value =
            if !quoted && raw.trim().eq_ignore_ascii_case("none") { FieldValue::Unset } else { FieldValue::Text(raw) };
        if head.op != Op::Eq && value.number().is_none() && value.date().is_none() {
            return Err(ParseError::new(
                head.value_at,
                format!("`field.{key}{}` compares with a number or a day (2026-01-31)", head.op.as_str()),
            ));
        }
        self.push(start, Term { negated, item: Item::Custom { key, op: head.op, value } })
    }

    /// `type:`, `order_by:` and `sort:`, which set the query's options rather than add a term.
    fn option(&mut self, start: usize, negated: bool, head: &Head) -> Result<(), ParseError> {
        let name = head.name.as_str();
        if negated {
            return Err(ParseError::new(start, format!("`{name}:` cannot be negated")));
        }
        if head.op != Op::Eq {
            return Err(ParseError::new(head.op_at, format!("`{name}` takes `:` ({name}:value)")));
        }
        let (raw, _) = self.value(head)?;
        let word = raw.trim().to_lowercase();
        let at = head.value_at;
        let twice = || ParseError::new(start, format!("`{name}:` can be given only once"));
        match name {
            "type" => {
                if self.query.kind.is_some() {
                    return Err(twice());
                }
                let kind = [ResultType::Ticket, ResultType::User].into_iter().find(|k| k.as_str() == word);
                self.query.kind =
                    Some(kind.ok_or_else(|| ParseError::new(at, format!("unknown type `{raw}` (ticket, user)")))?);
            }
            "order_by" => {
                if self.order_by.is_some() {
                    return Err(twice());
                }
                let field = SortField::ALL.into_iter().find(|f| f.as_str() == word).ok_or_else(|| {
                    ParseError::new(at, format!("cannot order by `{raw}` (created, updated, status)"))
                })?;
                self.order_by = Some(field);
            }
            _ => {
                if self.sort.is_some() {
                    return Err(twice());
                }
                let direction = [Direction::Asc, Direction::Desc].into_iter().find(|d| d.as_str() == word);
                let direction =
                    direction.ok_or_else(|| ParseError::new(at, format!("sort is asc or desc, not `{raw}`")))?;
                self.sort = Some((direction, start));
            }
        }
        Ok(())
    }

    /// A keyword's value and whether it was quoted; never blank.
    fn value(&mut self, head: &Head) -> Result<(String, bool), ParseError> {
        let at = self.pos;
        let (raw, quoted) = match self.peek() {
            Some('"') => (self.quoted()?, true),
            Some(c) if !c.is_whitespace() => (self.bare()?, false),
            _ => (String::new(), false),
        };
        if raw.trim().is_empty() {
            let name = &head.name;
            return Err(ParseError::new(
                at,
                format!("empty value: write it right after `{name}{}`, with no space", head.op.as_str()),
            ));
        }
        Ok((raw, quoted))
    }

    /// A quoted string from its opening `"`, with `\"` and `\\` unescaped; it must be followed
    /// by a space or the end.
    fn quoted(&mut self) -> Result<String, ParseError> {
        let open = self.pos;
        self.pos += 1;
        let mut out = String::new();
        loop {
            match self.peek() {
                None => return Err(ParseError::new(open, "unterminated quote: add the closing `\"`")),
                Some('"') => break,
                Some('\\') if matches!(self.chars.get(self.pos + 1), Some('"' | '\\')) => {
                    out.push(self.chars[self.pos + 1]);
                    self.pos += 2;
                }
                Some(c) => {
                    out.push(c);
                    self.pos += 1;
                }
            }
        }
        self.pos += 1;
        if self.peek().is_some_and(|c| !c.is_whitespace()) {
            return Err(ParseError::new(self.pos, "put a space after the closing quote"));
        }
        Ok(out)
    }

    /// Characters up to the next whitespace; a `"` among them is an error.
    fn bare(&mut self) -> Result<String, ParseError> {
        let mut out = String::new();
        while let Some(c) = self.peek().filter(|c| !c.is_whitespace()) {
            if c == '"' {
                return Err(ParseError::new(
                    self.pos,
                    "a quote may only start a phrase or a value: quote the whole word",
                ));
            }
            out.push(c);
            self.pos += 1;
        }
        Ok(out)
    }
}

/// The value of `field op raw`, or why it is not one. `raw` is not blank.
fn typed_value(field: Field, op: Op, raw: &str, quoted: bool) -> Result<Value, String> {
    let word = raw.trim().to_lowercase();
    let unknown = |what: &str, valid: &[&str]| format!("unknown {what} `{raw}` (one of {})", valid.join(", "));
    Ok(match field {
        Field::Status => {
            Value::Status(word.parse().map_err(|_| unknown("status", &TicketStatus::ALL.map(TicketStatus::as_str)))?)
        }
        Field::Channel => {
            Value::Channel(word.parse().map_err(|_| unknown("channel", &ChannelKind::ALL.map(ChannelKind::as_str)))?)
        }
        Field::Kind => Value::Kind(word.parse().map_err(|_| unknown("ticket kind", &["direct", "public", "review"]))?),
        Field::Origin => Value::Origin(match word.as_str() {
            "customer" => Origin::Customer,
            "agent" => Origin::Agent,
            _ => return Err(unknown("origin", &["customer", "agent"])),
        }),
        Field::Assignee | Field::Team | Field::Requester => Value::Who(match word.as_str() {
            "me" if !quoted => Who::Me,
            "none" if !quoted => Who::None,
            _ => Who::Text(raw.to_owned()),
        }),
        Field::Created | Field::Updated => Value::Date(parse_date(&word, op)?),
        Field::Tags => Value::Tag(Tag::parse(raw).map_err(|e| e.to_string())?),
        // account, subject and the user fields: text as typed.
        _ => Value::Text(raw.to_owned()),
    })
}

/// `2026-01-31` or `4hours`, lowercase.
fn parse_date(word: &str, op: Op) -> Result<Date, String> {
    let bad = || {
        format!("`{word}` is not a date: write a day (2026-01-31) or a time ago (30min, 4hours, 2days, 1week, 3months)")
    };
    let digits = word.chars().take_while(char::is_ascii_digit).count();
    let (number, rest) = word.split_at(digits);
    if number.is_empty() {
        return Err(bad());
    }
    if rest.starts_with('-') {
        let b = word.as_bytes();
        let shaped = b.len() == 10
            && b[4] == b'-'
            && b[7] == b'-'
            && b.iter().enumerate().all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
        if !shaped {
            return Err(bad());
        }
        let year: i32 = word[0..4].parse().map_err(|_| bad())?;
        let month: u8 = word[5..7].parse().map_err(|_| bad())?;
        let day: u8 = word[8..10].parse().map_err(|_| bad())?;
        let month = Month::try_from(month).map_err(|_| format!("`{word}` has no month {month}"))?;
        return time::Date::from_calendar_date(year, month, day)
            .map(Date::Absolute)
            .map_err(|_| format!("`{word}` is not a day of the calendar"));
    }
    let unit = match rest {
        "m" => return Err(format!("`{word}`: m could be minutes or months; write min or mo")),
        _ => DateUnit::from_name(rest).ok_or_else(bad)?,
    };
    let amount = number
        .parse::<u32>()
        .ok()
        .filter(|n| (1..=MAX_RELATIVE_AMOUNT).contains(n))
        .ok_or_else(|| format!("`{word}`: a time ago counts from 1 to {MAX_RELATIVE_AMOUNT}"))?;
    if op == Op::Eq {
        return Err(format!("`{word}` is a time ago: use > for since then or < for before then"));
    }
    Ok(Date::Relative { amount, unit })
}
