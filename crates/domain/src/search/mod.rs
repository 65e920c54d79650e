//! The search language of DESIGN §7: query text to a typed [`Query`], and back to text.
//!
//! One language serves the search box, the API's `q=` and saved views. This module only parses
//! and prints; the store compiles a [`Query`] to parameterised SQL, so user text only ever reaches
//! the database as a bound value. Pure like the rest of the crate: no I/O and no clock — relative
//! dates are resolved against a `now` the caller hands in.
//!
//! # Grammar
//!
//! ```text
//! query   = ws* [ term { ws+ term } ] ws*                   at most 1000 characters, 50 terms
//! term    = [ "-" ] ( phrase | keyword | word )             no space after "-"
//! phrase  = quoted                                          not blank
//! keyword = name op value                                   no space around op
//! name    = alphabetic { alphanumeric | "_" }               case-insensitive
//!         | "field." key                                    a custom ticket field
//! key     = 1 to 64 of ASCII letters, digits, "_"           case-insensitive
//! op      = ":" | "<" | ">" | "<=" | ">="
//! value   = quoted | bare                                   not blank
//! quoted  = '"' { any char but '"' and '\' | '\"' | '\\' } '"'    followed by a space or the end
//! bare    = one or more chars up to the next whitespace, none of them '"'
//! word    = bare that does not begin `name op`; its first char is not '"'
//! ```
//!
//! A `"` opens a phrase or a quoted value only at the start of a term or value; anywhere else it
//! is an error rather than a guess. Any text whose word begins `name:` (or `name<`, `name>`)
//! is a keyword, so an unknown name is an error: `re:refund` must be quoted to be searched as text.
//!
//! # Keywords
//!
//! | keyword                                      | value                                              |
//! |----------------------------------------------|----------------------------------------------------|
//! | `status`                                     | new, open, pending, on_hold, solved, closed, spam  |
//! | `assignee`, `team`, `requester` (`contact`)  | `me`, `none`, or a name; `"me"` quoted is a name   |
//! | `tags` (`tag`)                               | a tag, lowercased as tags are                      |
//! | `channel`                                    | a channel kind: whatsapp, messenger, instagram, …  |
//! | `kind`                                       | direct, public, review                             |
//! | `origin`                                     | customer, agent                                    |
//! | `created`, `updated`                         | `2026-01-31`, or a time ago: `4hours`, `2days`     |
//! | `account`, `subject` (`text`), and the user  | text as typed, symbols kept                        |
//! | fields `name`, `email`, `phone`, `whatsapp`, |                                                    |
//! | `line`, `instagram`, `x`, `telegram`         |                                                    |
//! | `field.<key>` (a custom field)              | text as typed, or `none` (not set)                 |
//!
//! `field.<key>:value` finds tickets whose custom field equals the value however the field keeps
//! it: text ignoring case, a number (`field.amount:12`), a ticked or cleared checkbox
//! (`field.vip:yes`, `no`), a date (`field.due:2026-01-31`). `field.<key>` also compares with
//! a number or a day: `field.amount>100`, `field.due<2026-02-01`.
//!
//! Only `status`, `created` and `updated` (and custom fields) have an order and take `<`, `>`, `<=`, `>=`; `status`
//! follows new < open < pending < on_hold < solved < closed (< spam). Keyword names and the
//! words of typed values are case-insensitive; text values keep their case.
//!
//! Dates: `created>2026-01-31` is after that day, `created<2026-01-31` before it,
//! `created:2026-01-31` during it (days in the offset of the `now` handed to [`Date::span`]).
//! `created>4hours` is "within the last 4 hours", `updated<2days` "more than 2 days ago"; a time
//! ago needs `<` or `>`. Units, singular or plural: `min`/`minute`, `h`/`hr`/`hour`,
//! `d`/`day`, `w`/`wk`/`week`, `mo`/`month` (calendar months). A bare `m` is refused as
//! ambiguous. Amounts run from 1 to 10 000.
//!
//! Three options apply to the whole query, each at most once, never negated, always with `:`:
//! `type:ticket|user`, `order_by:created|updated|status` and `sort:asc|desc`. `order_by`
//! without `sort` sorts descending (newest first); `sort` without `order_by` is an error.
//!
//! # Combining terms
//!
//! See [`Query::clauses`]: `:` terms on the same field are OR'd (`tags:a tags:b`), everything
//! else is AND'd (`tags:a status:open`, the range `created>2026-01-01 created<2026-02-01`,
//! and `-tags:a -tags:b`, which excludes both).

mod ast;
mod parser;
mod print;

pub use ast::*;
pub use parser::parse;

#[cfg(test)]
mod tests;
