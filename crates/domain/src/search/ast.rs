//! The query's typed form, and how its terms combine.

use time::{Duration, Month, OffsetDateTime};

use crate::channel::ChannelKind;
use crate::model::Origin;
use crate::tag::Tag;
use crate::ticket::{TicketKind, TicketStatus};

/// The longest query accepted, in characters.
pub const MAX_QUERY_CHARS: usize = 1000;
/// The most search terms a query may have (`type:`, `order_by:` and `sort:` not counted).
pub const MAX_TERMS: usize = 50;
/// The largest amount of a relative date: enough for any real search, small enough that
/// resolving it never leaves the calendar.
pub const MAX_RELATIVE_AMOUNT: u32 = 10_000;

/// A parsed query. `Display` prints its canonical text, which parses back to the same value.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Query {
    pub terms: Vec<Term>,
    /// `order_by:` and `sort:`; `None` leaves the order to the caller (relevance, or a view's own).
    pub order_by: Option<(SortField, Direction)>,
    /// `type:`; `None` searches both tickets and users.
    pub kind: Option<ResultType>,
}

/// One search term, `-` in front when `negated`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Term {
    pub negated: bool,
    pub item: Item,
}

/// What a term asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    /// A free word, for full-text search.
    Text(String),
    /// A quoted phrase, for full-text search of the words in that order.
    Phrase(String),
    /// `field op value`. The parser only pairs a field with the value type it takes.
    Field { field: Field, op: Op, value: Value },
    /// `field.<key> op value`: a custom ticket field, by its key (lowercase letters, digits, `_`).
    Custom { key: String, op: Op, value: FieldValue },
}

/// The longest custom field key, as admins may define them.
pub const MAX_FIELD_KEY: usize = 64;

/// The value of a `field.<key>` term. The language does not know the field's kind, so a value
/// matches however the field keeps it: `field.amount:12` finds the number 12 and the text "12",
/// `field.vip:yes` a ticked checkbox and the text "yes".
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldValue {
    /// `none`: the field is not set on the ticket.
    Unset,
    /// Text as typed; equal ignoring case, or as a number, date or yes/no when it reads as one.
    Text(String),
}

impl FieldValue {
    /// The value as a number, when it is one (`12`, `-3.5`).
    pub fn number(&self) -> Option<f64> {
        let Self::Text(t) = self else { return None };
        let t = t.trim();
        let shaped = !t.is_empty() && t.chars().all(|c| c.is_ascii_digit() || matches!(c, '.' | '-' | '+'));
        t.parse::<f64>().ok().filter(|n| shaped && n.is_finite())
    }

    /// The value as a calendar day written `2026-01-31`, when it is one.
    pub fn date(&self) -> Option<time::Date> {
        let Self::Text(t) = self else { return None };
        let b = t.trim().as_bytes();
        let shaped = b.len() == 10
            && b.iter().enumerate().all(|(i, c)| if i == 4 || i == 7 { *c == b'-' } else { c.is_ascii_digit() });
        if !shaped {
            return None;
        }
        let t = t.trim();
        let month = Month::try_from(t[5..7].parse::<u8>().ok()?).ok()?;
        time::Date::from_calendar_date(t[0..4].parse().ok()?, month, t[8..10].parse().ok()?).ok()
    }

    /// The value as a checkbox's state: yes/true/on or no/false/off.
    pub fn boolean(&self) -> Option<bool> {
        let Self::Text(t) = self else { return None };
        match t.trim().to_lowercase().as_str() {
            "yes" | "true" | "on" => Some(true),
            "no" | "false" | "off" => Some(false),
            _ => None,
        }
    }
}

/// The fields a keyword can name. Aliases parse to these and print as their canonical name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    Status,
    Assignee,
    Team,
    Tags,
    Channel,
    /// The channel account's name or number: the line a ticket came in on.
    Account,
    /// The ticket kind: direct, public or review.
    Kind,
    Origin,
    /// The ticket's customer; `contact` is an alias.
    Requester,
    Created,
    Updated,
    /// `text` is an alias.
    Subject,
    Name,
    Email,
    Phone,
    Whatsapp,
    Line,
    Instagram,
    X,
    Telegram,
}

impl Field {
    pub const ALL: [Field; 20] = [
        Self::Status,
        Self::Assignee,
        Self::Team,
        Self::Tags,
        Self::Channel,
        Self::Account,
        Self::Kind,
        Self::Origin,
        Self::Requester,
        Self::Created,
        Self::Updated,
        Self::Subject,
        Self::Name,
        Self::Email,
        Self::Phone,
        Self::Whatsapp,
        Self::Line,
        Self::Instagram,
        Self::X,
        Self::Telegram,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Status => "status",
            Self::Assignee => "assignee",
            Self::Team => "team",
            Self::Tags => "tags",
            Self::Channel => "channel",
            Self::Account => "account",
            Self::Kind => "kind",
            Self::Origin => "origin",
            Self::Requester => "requester",
            Self::Created => "created",
            Self::Updated => "updated",
            Self::Subject => "subject",
            Self::Name => "name",
            Self::Email => "email",
            Self::Phone => "phone",
            Self::Whatsapp => "whatsapp",
            Self::Line => "line",
            Self::Instagram => "instagram",
            Self::X => "x",
            Self::Telegram => "telegram",
        }
    }

    /// The field a keyword name stands for, aliases included; `name` must be lowercase.
    pub fn from_name(name: &str) -> Option<Field> {
        match name {
            "contact" => Some(Self::Requester),
            "text" => Some(Self::Subject),
            "tag" => Some(Self::Tags),
            _ => Self::ALL.into_iter().find(|f| f.as_str() == name),
        }
    }

    /// Whether the field takes `<`, `>`, `<=` and `>=`.
    pub fn is_ordered(self) -> bool {
        matches!(self, Self::Status | Self::Created | Self::Updated)
    }

    /// Phone fields match as typed *and* by digits alone (see [`phone_digits`]).
    pub fn is_phone(self) -> bool {
        matches!(self, Self::Phone | Self::Whatsapp)
    }

    /// Fields of a user (contact) rather than of a ticket; on tickets they apply to the requester.
    pub fn is_user_field(self) -> bool {
        use Field::{Email, Instagram, Line, Name, Phone, Telegram, Whatsapp, X};
        matches!(self, Name | Email | Phone | Whatsapp | Line | Instagram | X | Telegram)
    }
}

/// How a keyword compares its field with its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Op {
    /// `:` — equals, or for text fields "contains".
    Eq,
    Lt,
    Gt,
    Le,
    Ge,
}

impl Op {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Eq => ":",
            Self::Lt => "<",
            Self::Gt => ">",
            Self::Le => "<=",
            Self::Ge => ">=",
        }
    }
}

/// A keyword's value, typed by its field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Status(TicketStatus),
    Channel(ChannelKind),
    Kind(TicketKind),
    Origin(Origin),
    Who(Who),
    Date(Date),
    Tag(Tag),
    /// Text as typed, symbols and spaces kept.
    Text(String),
}

/// A person or team named by `assignee:`, `team:` or `requester:`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Who {
    /// `me`: the agent searching (for `team:`, any of their teams).
    Me,
    /// `none`: unassigned, no team, no requester.
    None,
    /// A name, e-mail or handle as typed.
    Text(String),
}

/// A date of `created:` or `updated:`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Date {
    /// `2026-01-31`: a calendar day.
    Absolute(time::Date),
    /// `4hours`: that long before now.
    Relative { amount: u32, unit: DateUnit },
}

/// The unit of a relative date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DateUnit {
    Minute,
    Hour,
    Day,
    Week,
    /// A calendar month: 3 months before May 31 is the last day of February.
    Month,
}

impl DateUnit {
    pub const ALL: [DateUnit; 5] = [Self::Minute, Self::Hour, Self::Day, Self::Week, Self::Month];

    /// The canonical singular name; the plural adds an `s`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Minute => "minute",
            Self::Hour => "hour",
            Self::Day => "day",
            Self::Week => "week",
            Self::Month => "month",
        }
    }

    /// The unit a (lowercase) name stands for: full, plural or short.
    pub fn from_name(name: &str) -> Option<DateUnit> {
        match name {
            "min" | "mins" | "minute" | "minutes" => Some(Self::Minute),
            "h" | "hr" | "hrs" | "hour" | "hours" => Some(Self::Hour),
            "d" | "day" | "days" => Some(Self::Day),
            "w" | "wk" | "wks" | "week" | "weeks" => Some(Self::Week),
            "mo" | "mos" | "month" | "months" => Some(Self::Month),
            _ => None,
        }
    }
}

/// The half-open range `[from, until)` of timestamps a date term accepts; `None` is unbounded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub from: Option<OffsetDateTime>,
    pub until: Option<OffsetDateTime>,
}

impl Span {
    pub fn contains(&self, at: OffsetDateTime) -> bool {
        self.from.is_none_or(|from| at >= from) && self.until.is_none_or(|until| at < until)
    }
}

impl Date {
    /// The instant the date stands for: the start of an absolute day in `now`'s offset, or
    /// `now` minus a relative amount. So `created>4hours` means "created after `resolve(now)`".
    /// Never panics: an amount that would leave the calendar saturates at its first day.
    pub fn resolve(&self, now: OffsetDateTime) -> OffsetDateTime {
        let earliest = time::Date::MIN.midnight().assume_utc();
        match *self {
            Self::Absolute(day) => day.midnight().assume_offset(now.offset()),
            Self::Relative { amount, unit } => {
                let amount = i64::from(amount);
                let back = match unit {
                    DateUnit::Minute => now.checked_sub(Duration::minutes(amount)),
                    DateUnit::Hour => now.checked_sub(Duration::hours(amount)),
                    DateUnit::Day => now.checked_sub(Duration::days(amount)),
                    DateUnit::Week => now.checked_sub(Duration::weeks(amount)),
                    DateUnit::Month => months_before(now, amount),
                };
                back.unwrap_or(earliest)
            }
        }
    }

    /// The timestamps `field op self` accepts. An absolute date is a whole day: `>` starts after
    /// it, `>=` at its start, `<` ends at its start, `<=` at its end, `:` is the day. A relative
    /// date is an instant: `>`/`>=` are "since then", `<`/`<=` "before then" (the parser refuses
    /// `:` with a relative date; it is read as `>=` here).
    pub fn span(&self, op: Op, now: OffsetDateTime) -> Span {
        let start = self.resolve(now);
        match *self {
            Self::Absolute(day) => {
                // The calendar's last day ends at its last instant rather than the next midnight.
                let next = day.next_day().map_or(day.with_time(time::Time::MAX), time::Date::midnight);
                let next = next.assume_offset(now.offset());
                let (from, until) = match op {
                    Op::Eq => (Some(start), Some(next)),
                    Op::Gt => (Some(next), None),
                    Op::Ge => (Some(start), None),
                    Op::Lt => (None, Some(start)),
                    Op::Le => (None, Some(next)),
                };
                Span { from, until }
            }
            Self::Relative { .. } => match op {
                Op::Eq | Op::Gt | Op::Ge => Span { from: Some(start), until: None },
                Op::Lt | Op::Le => Span { from: None, until: Some(start) },
            },
        }
    }
}

/// `now` minus `months` calendar months, the day clamped to the target month's length.
pub(super) fn months_before(now: OffsetDateTime, months: i64) -> Option<OffsetDateTime> {
    let index = i64::from(now.year()) * 12 + i64::from(u8::from(now.month())) - 1 - months;
    let year = i32::try_from(index.div_euclid(12)).ok()?;
    let month = Month::try_from(u8::try_from(index.rem_euclid(12) + 1).ok()?).ok()?;
    let day = time::Date::from_calendar_date(year, month, now.day().min(month.length(year))).ok()?;
    Some(now.replace_date(day))
}

/// What `order_by:` can sort on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SortField {
    Created,
    Updated,
    Status,
}

impl SortField {
    pub const ALL: [SortField; 3] = [Self::Created, Self::Updated, Self::Status];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Updated => "updated",
            Self::Status => "status",
        }
    }
}

/// The direction of `sort:`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    Asc,
    Desc,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Asc => "asc",
            Self::Desc => "desc",
        }
    }
}

/// What `type:` restricts the results to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResultType {
    Ticket,
    User,
}

impl ResultType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ticket => "ticket",
            Self::User => "user",
        }
    }
}

/// Query text that does not parse: where (a 0-based character offset) and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} (at character {position})")]
pub struct ParseError {
    pub position: usize,
    pub message: String,
}

impl ParseError {
    pub(super) fn new(position: usize, message: impl Into<String>) -> Self {
        Self { position, message: message.into() }
    }
}

/// One condition of the AND of a query, as the SQL compiler needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Clause {
    /// A free word (`phrase: false`) or a quoted phrase: the record must contain it, or with
    /// `negated` must not.
    Text { negated: bool, text: String, phrase: bool },
    /// The field must satisfy any one of `any_of` (OR); with `negated`, it must not satisfy it.
    /// Only non-negated `:` terms are ever grouped; every other field clause has one condition.
    Field { field: Field, negated: bool, any_of: Vec<Condition> },
    /// The custom field `key` must satisfy any one of `any_of`, grouped as [`Clause::Field`].
    Custom { key: String, negated: bool, any_of: Vec<(Op, FieldValue)> },
}

/// `op value`, one alternative of a [`Clause::Field`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    pub op: Op,
    pub value: Value,
}

impl Query {
    /// The query as an AND of clauses, in the order each first appears in the text.
    ///
    /// - Non-negated `:` terms on the same field form one OR clause, at the place of the
    ///   first of them: `tags:a status:open tags:b` is `(tags a OR b) AND status open`.
    ///   Repeats of the same value are dropped.
    /// - Comparisons are AND'd each on its own, so `created>2026-01-01 created<2026-02-01` is a range.
    /// - Negated terms are AND'd each on its own, so `-tags:a -tags:b` excludes both tags.
    /// - Free words and phrases are AND'd each on its own.
    pub fn clauses(&self) -> Vec<Clause> {
        #[derive(PartialEq)]
        enum Group<'a> {
            Field(Field),
            Custom(&'a str),
        }
        let mut clauses = Vec::new();
        let mut groups: Vec<(Group<'_>, usize)> = Vec::new();
        for term in &self.terms {
            let negated = term.negated;
            let (group, op) = match &term.item {
                Item::Text(text) | Item::Phrase(text) => {
                    let phrase = matches!(term.item, Item::Phrase(_));
                    clauses.push(Clause::Text { negated, text: text.clone(), phrase });
                    continue;
                }
                Item::Field { field, op, .. } => (Group::Field(*field), *op),
                Item::Custom { key, op, .. } => (Group::Custom(key), *op),
            };
            let grouped = !negated && op == Op::Eq;
            let at = groups.iter().find(|(g, _)| *g == group).map(|&(_, at)| at).filter(|_| grouped);
            if at.is_none() && grouped {
                groups.push((group, clauses.len()));
            }
            match (&term.item, at.and_then(|at| clauses.get_mut(at))) {
                (Item::Field { op, value, .. }, Some(Clause::Field { any_of, .. })) => {
                    let condition = Condition { op: *op, value: value.clone() };
                    if !any_of.contains(&condition) {
                        any_of.push(condition);
                    }
                }
                (Item::Custom { op, value, .. }, Some(Clause::Custom { any_of, .. })) => {
                    if !any_of.iter().any(|(o, v)| o == op && v == value) {
                        any_of.push((*op, value.clone()));
                    }
                }
                (Item::Field { field, op, value }, _) => {
                    let any_of = vec![Condition { op: *op, value: value.clone() }];
                    clauses.push(Clause::Field { field: *field, negated, any_of });
                }
                (Item::Custom { key, op, value }, _) => {
                    clauses.push(Clause::Custom { key: key.clone(), negated, any_of: vec![(*op, value.clone())] });
                }
                (Item::Text(_) | Item::Phrase(_), _) => {}
            }
        }
        clauses
    }
}

/// The digits of a phone number as typed, `0`–`9` only: `+1(123)123-3211` → `11231233211`.
/// Phone terms match the stored number as typed *and* these digits against the stored digits.
pub fn phone_digits(s: &str) -> String {
    s.chars().filter(char::is_ascii_digit).collect()
}
