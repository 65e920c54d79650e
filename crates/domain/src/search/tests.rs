use std::collections::HashSet;

use proptest::prelude::{Just, Strategy, any, prop_assert, prop_assert_eq, prop_oneof};
use proptest::{collection, option, sample::select};
use time::macros::{date, datetime};

use time::{Duration, Month, OffsetDateTime};

use super::ast::*;
use super::parse;
use crate::channel::ChannelKind;
use crate::tag::Tag;
use crate::ticket::TicketStatus::{New, OnHold, Open, Pending, Solved};
use crate::ticket::{TicketKind, TicketStatus};

const NOW: OffsetDateTime = datetime!(2026-05-31 12:00 UTC);

fn terms(input: &str) -> Vec<Term> {
    parse(input).unwrap_or_else(|e| panic!("{input:?} should parse: {e}")).terms
}

fn word(s: &str) -> Term {
    Term { negated: false, item: Item::Text(s.into()) }
}

fn phrase(s: &str) -> Term {
    Term { negated: false, item: Item::Phrase(s.into()) }
}

fn kw(field: Field, op: Op, value: Value) -> Term {
    Term { negated: false, item: Item::Field { field, op, value } }
}

fn not(term: Term) -> Term {
    Term { negated: true, ..term }
}

fn text(s: &str) -> Value {
    Value::Text(s.into())
}

fn who(s: &str) -> Value {
    Value::Who(Who::Text(s.into()))
}

fn tag(s: &str) -> Value {
    Value::Tag(Tag::parse(s).unwrap())
}

fn day(d: time::Date) -> Value {
    Value::Date(Date::Absolute(d))
}

fn ago(amount: u32, unit: DateUnit) -> Value {
    Value::Date(Date::Relative { amount, unit })
}

fn eq(value: Value) -> Condition {
    Condition { op: Op::Eq, value }
}

#[test]
fn free_words_and_phrases_become_text_terms() {
    let cases = [
        ("", vec![]),
        ("refund", vec![word("refund")]),
        ("  late \t refund  ", vec![word("late"), word("refund")]),
        ("\"late refund\"", vec![phrase("late refund")]),
        (r#""she said \"hi\"" "back\\slash""#, vec![phrase("she said \"hi\""), phrase("back\\slash")]),
        (r#""C:\temp""#, vec![phrase("C:\\temp")]),
        (
            "12:30 1<2 a.b:c order#1042 50%",
            vec![word("12:30"), word("1<2"), word("a.b:c"), word("order#1042"), word("50%")],
        ),
    ];
    for (input, expected) in cases {
        assert_eq!(terms(input), expected, "{input}");
    }
}

#[test]
fn every_field_parses_with_its_typed_value() {
    use Field::*;
    let cases = [
        ("status:open", kw(Status, Op::Eq, Value::Status(Open))),
        ("status:ON_HOLD", kw(Status, Op::Eq, Value::Status(OnHold))),
        ("assignee:me", kw(Assignee, Op::Eq, Value::Who(Who::Me))),
        ("assignee:none", kw(Assignee, Op::Eq, Value::Who(Who::None))),
        ("assignee:Alice", kw(Assignee, Op::Eq, who("Alice"))),
        ("team:me", kw(Team, Op::Eq, Value::Who(Who::Me))),
        ("team:none", kw(Team, Op::Eq, Value::Who(Who::None))),
        ("team:Billing", kw(Team, Op::Eq, who("Billing"))),
        ("tags:vip", kw(Tags, Op::Eq, tag("vip"))),
        ("tag:VIP", kw(Tags, Op::Eq, tag("vip"))),
        ("channel:instagram", kw(Channel, Op::Eq, Value::Channel(ChannelKind::Instagram))),
        ("channel:WhatsApp", kw(Channel, Op::Eq, Value::Channel(ChannelKind::Whatsapp))),
        ("account:+6512345678", kw(Account, Op::Eq, text("+6512345678"))),
        ("account:\"Main line\"", kw(Account, Op::Eq, text("Main line"))),
        ("kind:direct", kw(Kind, Op::Eq, Value::Kind(TicketKind::Direct))),
        ("kind:public", kw(Kind, Op::Eq, Value::Kind(TicketKind::Public))),
        ("kind:Review", kw(Kind, Op::Eq, Value::Kind(TicketKind::Review))),
        ("origin:customer", kw(Origin, Op::Eq, Value::Origin(crate::model::Origin::Customer))),
        ("origin:agent", kw(Origin, Op::Eq, Value::Origin(crate::model::Origin::Agent))),
        ("requester:none", kw(Requester, Op::Eq, Value::Who(Who::None))),
        ("contact:\"Ana Lima\"", kw(Requester, Op::Eq, who("Ana Lima"))),
        ("created:2026-01-31", kw(Created, Op::Eq, day(date!(2026 - 01 - 31)))),
        ("updated:2024-02-29", kw(Updated, Op::Eq, day(date!(2024 - 02 - 29)))),
        ("subject:refund", kw(Subject, Op::Eq, text("refund"))),
        ("text:\"late refund\"", kw(Subject, Op::Eq, text("late refund"))),
        ("name:Ana", kw(Name, Op::Eq, text("Ana"))),
        ("email:ana@example.com", kw(Email, Op::Eq, text("ana@example.com"))),
        ("phone:+1", kw(Phone, Op::Eq, text("+1"))),
        ("whatsapp:+1(123)123-3211", kw(Whatsapp, Op::Eq, text("+1(123)123-3211"))),
        ("line:U4af4980629", kw(Line, Op::Eq, text("U4af4980629"))),
        ("instagram:@ana.lima", kw(Instagram, Op::Eq, text("@ana.lima"))),
        ("x:@ana", kw(X, Op::Eq, text("@ana"))),
        ("telegram:ana_l", kw(Telegram, Op::Eq, text("ana_l"))),
        ("STATUS:Open", kw(Status, Op::Eq, Value::Status(Open))),
    ];
    let mut covered = HashSet::new();
    for (input, expected) in cases {
        if let Item::Field { field, .. } = &expected.item {
            covered.insert(*field);
        }
        assert_eq!(terms(input), vec![expected], "{input}");
    }
    for field in Field::ALL {
        assert!(covered.contains(&field), "no case for {}", field.as_str());
    }
}

#[test]
fn status_created_and_updated_compare_with_every_operator() {
    use Field::*;
    let cases = [
        ("status<solved", kw(Status, Op::Lt, Value::Status(Solved))),
        ("status>new", kw(Status, Op::Gt, Value::Status(New))),
        ("status<=pending", kw(Status, Op::Le, Value::Status(Pending))),
        ("status>=on_hold", kw(Status, Op::Ge, Value::Status(OnHold))),
        ("created>2026-01-01", kw(Created, Op::Gt, day(date!(2026 - 01 - 01)))),
        ("created<=2026-01-31", kw(Created, Op::Le, day(date!(2026 - 01 - 31)))),
        ("updated>=2026-01-31", kw(Updated, Op::Ge, day(date!(2026 - 01 - 31)))),
        ("created>4hours", kw(Created, Op::Gt, ago(4, DateUnit::Hour))),
        ("updated<2days", kw(Updated, Op::Lt, ago(2, DateUnit::Day))),
    ];
    for (input, expected) in cases {
        assert_eq!(terms(input), vec![expected], "{input}");
    }
}

#[test]
fn a_minus_negates_any_term() {
    let cases = [
        ("-tags:spam", not(kw(Field::Tags, Op::Eq, tag("spam")))),
        ("-refund", not(word("refund"))),
        ("-\"late refund\"", not(phrase("late refund"))),
        ("-status<solved", not(kw(Field::Status, Op::Lt, Value::Status(Solved)))),
        ("-assignee:none", not(kw(Field::Assignee, Op::Eq, Value::Who(Who::None)))),
        ("--x", not(word("-x"))),
    ];
    for (input, expected) in cases {
        assert_eq!(terms(input), vec![expected], "{input}");
    }
}

#[test]
fn me_and_none_are_keywords_unless_quoted() {
    assert_eq!(
        terms("assignee:ME team:None"),
        [kw(Field::Assignee, Op::Eq, Value::Who(Who::Me)), kw(Field::Team, Op::Eq, Value::Who(Who::None))]
    );
    assert_eq!(
        terms("assignee:\"me\" requester:\"none\""),
        [kw(Field::Assignee, Op::Eq, who("me")), kw(Field::Requester, Op::Eq, who("none"))]
    );
    assert_eq!(parse("assignee:\"me\" assignee:me").unwrap().to_string(), "assignee:\"me\" assignee:me");
}

#[test]
fn relative_dates_take_every_unit_form() {
    use DateUnit::*;
    let cases = [
        ("30min", 30, Minute),
        ("30mins", 30, Minute),
        ("1minute", 1, Minute),
        ("30minutes", 30, Minute),
        ("4h", 4, Hour),
        ("4hr", 4, Hour),
        ("4hrs", 4, Hour),
        ("1hour", 1, Hour),
        ("4hours", 4, Hour),
        ("4HOURS", 4, Hour),
        ("2d", 2, Day),
        ("1day", 1, Day),
        ("2days", 2, Day),
        ("1w", 1, Week),
        ("1wk", 1, Week),
        ("2wks", 2, Week),
        ("1week", 1, Week),
        ("2weeks", 2, Week),
        ("3mo", 3, Month),
        ("3mos", 3, Month),
        ("1month", 1, Month),
        ("3months", 3, Month),
        ("10000days", 10_000, Day),
    ];
    for (input, amount, unit) in cases {
        assert_eq!(terms(&format!("created>{input}")), [kw(Field::Created, Op::Gt, ago(amount, unit))], "{input}");
    }
}

#[test]
fn relative_dates_resolve_to_that_long_before_now() {
    use DateUnit::*;
    let cases = [
        (30, Minute, datetime!(2026-05-31 11:30 UTC)),
        (4, Hour, datetime!(2026-05-31 08:00 UTC)),
        (2, Day, datetime!(2026-05-29 12:00 UTC)),
        (1, Week, datetime!(2026-05-24 12:00 UTC)),
        (1, Month, datetime!(2026-04-30 12:00 UTC)),
        (3, Month, datetime!(2026-02-28 12:00 UTC)),
        (5, Month, datetime!(2025-12-31 12:00 UTC)),
        (12, Month, datetime!(2025-05-31 12:00 UTC)),
    ];
    for (amount, unit, expected) in cases {
        assert_eq!(Date::Relative { amount, unit }.resolve(NOW), expected, "{amount} {unit:?}");
    }
}

#[test]
fn created_after_4_hours_means_created_in_the_last_4_hours() {
    let Item::Field { op, value: Value::Date(date), .. } = &terms("created>4hours")[0].item else {
        panic!("not a date term");
    };
    let span = date.span(*op, NOW);
    assert!(span.contains(NOW - Duration::hours(3)));
    assert!(!span.contains(NOW - Duration::hours(5)));
    let Item::Field { op, value: Value::Date(date), .. } = &terms("updated<2days")[0].item else {
        panic!("not a date term");
    };
    let span = date.span(*op, NOW);
    assert!(span.contains(NOW - Duration::days(3)));
    assert!(!span.contains(NOW - Duration::days(1)));
}

#[test]
fn absolute_dates_are_days_in_the_offset_of_now() {
    let now = datetime!(2026-05-31 12:00 +08:00);
    let jan_31 = Date::Absolute(date!(2026 - 01 - 31));
    assert_eq!(jan_31.resolve(now), datetime!(2026-01-31 00:00 +08:00));
    let before = datetime!(2026-01-30 23:59 +08:00);
    let during = datetime!(2026-01-31 10:00 +08:00);
    let after = datetime!(2026-02-01 00:00 +08:00);
    let cases = [
        (Op::Eq, [false, true, false]),
        (Op::Gt, [false, false, true]),
        (Op::Ge, [false, true, true]),
        (Op::Lt, [true, false, false]),
        (Op::Le, [true, true, false]),
    ];
    for (op, expected) in cases {
        let span = jan_31.span(op, now);
        assert_eq!([before, during, after].map(|at| span.contains(at)), expected, "{op:?}");
    }
    // The same instant, seen from UTC, is still judged by the day in +08:00.
    assert!(jan_31.span(Op::Eq, now).contains(datetime!(2026-01-30 16:00 UTC)));
}

#[test]
fn resolving_a_huge_amount_saturates_instead_of_panicking() {
    let earliest = time::Date::MIN.midnight().assume_utc();
    for unit in [DateUnit::Hour, DateUnit::Day, DateUnit::Week, DateUnit::Month] {
        assert_eq!(Date::Relative { amount: u32::MAX, unit }.resolve(NOW), earliest, "{unit:?}");
    }
    let minutes = Date::Relative { amount: u32::MAX, unit: DateUnit::Minute }.resolve(NOW);
    assert!(minutes < NOW);
    let months = Date::Relative { amount: MAX_RELATIVE_AMOUNT, unit: DateUnit::Month }.resolve(NOW);
    assert_eq!(months.year(), 1193);
    let last_day = Date::Absolute(time::Date::MAX).span(Op::Eq, NOW);
    assert!(last_day.from < last_day.until);
}

#[test]
fn type_order_by_and_sort_set_the_query_options() {
    assert_eq!(
        parse("type:user name:Ana order_by:updated sort:desc").unwrap(),
        Query {
            terms: vec![kw(Field::Name, Op::Eq, text("Ana"))],
            order_by: Some((SortField::Updated, Direction::Desc)),
            kind: Some(ResultType::User),
        }
    );
    let q = parse("sort:asc order_by:CREATED type:Ticket").unwrap();
    assert_eq!((q.order_by, q.kind), (Some((SortField::Created, Direction::Asc)), Some(ResultType::Ticket)));
    assert_eq!(parse("order_by:status").unwrap().order_by, Some((SortField::Status, Direction::Desc)));
    assert_eq!(parse("refund").unwrap().order_by, None);
}

#[test]
fn repeated_keywords_of_a_field_are_ored_and_different_fields_anded() {
    let q = parse("tags:a status:open tags:b tags:a refund status:new").unwrap();
    assert_eq!(
        q.clauses(),
        [
            Clause::Field { field: Field::Tags, negated: false, any_of: vec![eq(tag("a")), eq(tag("b"))] },
            Clause::Field {
                field: Field::Status,
                negated: false,
                any_of: vec![eq(Value::Status(Open)), eq(Value::Status(New))],
            },
            Clause::Text { negated: false, text: "refund".into(), phrase: false },
        ]
    );
}

#[test]
fn negated_terms_and_comparisons_are_anded_one_by_one() {
    let q = parse("-tags:a -tags:b tags:c created>2026-01-01 created<2026-02-01 -\"late refund\"").unwrap();
    let one = |field, negated, op, value| Clause::Field { field, negated, any_of: vec![Condition { op, value }] };
    assert_eq!(
        q.clauses(),
        [
            one(Field::Tags, true, Op::Eq, tag("a")),
            one(Field::Tags, true, Op::Eq, tag("b")),
            one(Field::Tags, false, Op::Eq, tag("c")),
            one(Field::Created, false, Op::Gt, day(date!(2026 - 01 - 01))),
            one(Field::Created, false, Op::Lt, day(date!(2026 - 02 - 01))),
            Clause::Text { negated: true, text: "late refund".into(), phrase: true },
        ]
    );
}

#[test]
fn unicode_words_are_kept_as_typed() {
    assert_eq!(
        terms("café ñandú 日本語 Überweisung 🙂"),
        [word("café"), word("ñandú"), word("日本語"), word("Überweisung"), word("🙂")]
    );
    assert_eq!(
        terms("subject:\"Straße kaputt\" name:Zoë"),
        [kw(Field::Subject, Op::Eq, text("Straße kaputt")), kw(Field::Name, Op::Eq, text("Zoë"))]
    );
}

#[test]
fn phone_values_keep_their_symbols_quoted_or_bare() {
    let cases = [
        ("whatsapp:\"3211\"", "3211"),
        ("whatsapp:\"123)123-3\"", "123)123-3"),
        ("whatsapp:\"+1(123)123\"", "+1(123)123"),
        ("whatsapp:11231233211", "11231233211"),
        ("whatsapp:\"1233211\"", "1233211"),
        ("whatsapp:\"+1 (123) 123-3211\"", "+1 (123) 123-3211"),
        ("phone:+1(123)123-3211", "+1(123)123-3211"),
    ];
    for (input, value) in cases {
        let field = if input.starts_with("phone") { Field::Phone } else { Field::Whatsapp };
        assert!(field.is_phone());
        assert_eq!(terms(input), [kw(field, Op::Eq, text(value))], "{input}");
    }
}

#[test]
fn phone_digits_keeps_only_the_digits() {
    let cases =
        [("+1(123)123-3211", "11231233211"), ("123)123-3", "1231233"), ("+1 ext. 2", "12"), ("٣٢١", ""), ("", "")];
    for (input, digits) in cases {
        assert_eq!(phone_digits(input), digits, "{input}");
    }
}

#[test]
fn injection_looking_input_is_plain_text_or_a_clear_error() {
    let err = parse("status:open' OR 1=1 --").unwrap_err();
    assert_eq!(err.position, 7);
    assert!(err.message.starts_with("unknown status `open'`"), "{err}");
    assert_eq!(
        terms("subject:open' OR 1=1 --"),
        [kw(Field::Subject, Op::Eq, text("open'")), word("OR"), word("1=1"), not(word("-"))]
    );
    assert_eq!(
        terms("'); DROP TABLE tickets; --"),
        [word("');"), word("DROP"), word("TABLE"), word("tickets;"), not(word("-"))]
    );
    assert_eq!(parse("\"); DROP TABLE").unwrap_err(), ParseError::new(0, "unterminated quote: add the closing `\"`"));
    assert_eq!(terms("\"'); DROP TABLE tickets; --\""), [phrase("'); DROP TABLE tickets; --")]);
    assert_eq!(
        terms("name:\"Robert'); DROP TABLE users; --\""),
        [kw(Field::Name, Op::Eq, text("Robert'); DROP TABLE users; --"))]
    );
}

#[test]
fn every_error_says_where_and_why() {
    let cases = [
        ("foo:bar", 0, "unknown field `foo` (one of status, assignee,"),
        ("refund re:late", 7, "unknown field `re`"),
        ("café Priority:high", 5, "unknown field `priority`"),
        ("日本語:テスト", 0, "unknown field `日本語`"),
        ("\"late refund", 0, "unterminated quote"),
        ("name:\"Ana", 5, "unterminated quote"),
        ("\"late\"refund", 6, "space after the closing quote"),
        ("la\"te", 2, "a quote may only start a phrase or a value"),
        ("name:O\"Brien", 6, "a quote may only start a phrase or a value"),
        ("\"\"", 0, "empty phrase"),
        ("-\"  \"", 1, "empty phrase"),
        ("created>2026-13-01", 8, "`2026-13-01` has no month 13"),
        ("created>2026-02-30", 8, "`2026-02-30` is not a day of the calendar"),
        ("created>2026-1-31", 8, "`2026-1-31` is not a date"),
        ("created>yesterday", 8, "`yesterday` is not a date"),
        ("updated<4fortnights", 8, "is not a date"),
        ("updated<4m", 8, "m could be minutes or months; write min or mo"),
        ("updated<0days", 8, "a time ago counts from 1 to 10000"),
        ("updated<99999999999days", 8, "a time ago counts from 1 to 10000"),
        ("created:4hours", 8, "`4hours` is a time ago: use >"),
        ("status:reopened", 7, "unknown status `reopened` (one of new, open, pending, on_hold, solved, closed, spam)"),
        ("channel:fax", 8, "unknown channel `fax` (one of whatsapp,"),
        ("kind:private", 5, "unknown ticket kind `private` (one of direct, public, review)"),
        ("origin:bot", 7, "unknown origin `bot` (one of customer, agent)"),
        ("tags:\"two words\"", 5, "cannot contain"),
        ("tags>vip", 4, "`tags` has no order"),
        ("assignee<=me", 8, "`assignee` has no order"),
        ("tags:", 5, "empty value: write it right after `tags:`"),
        ("tags: vip", 5, "empty value"),
        ("name:\"\"", 5, "empty value"),
        ("status<", 7, "empty value"),
        ("order_by:priority", 9, "cannot order by `priority` (created, updated, status)"),
        ("order_by:updated sort:up", 22, "sort is asc or desc, not `up`"),
        ("sort:asc", 0, "sort: needs an order_by:"),
        ("refund sort:desc", 7, "sort: needs an order_by:"),
        ("type:ticket type:user", 12, "`type:` can be given only once"),
        ("order_by:created order_by:updated", 17, "`order_by:` can be given only once"),
        ("sort:asc sort:desc", 9, "`sort:` can be given only once"),
        ("type:order", 5, "unknown type `order` (ticket, user)"),
        ("-type:user", 0, "`type:` cannot be negated"),
        ("type<user", 4, "`type` takes `:`"),
        ("refund - spam", 7, "`-` must be followed"),
        ("refund -", 7, "`-` must be followed"),
    ];
    for (input, position, message) in cases {
        let err = parse(input).expect_err(input);
        assert_eq!(err.position, position, "{input}: {err}");
        assert!(err.message.contains(message), "{input}: {err}");
    }
}

#[test]
fn queries_over_the_length_or_term_limit_are_refused() {
    assert!(parse(&"a".repeat(MAX_QUERY_CHARS)).is_ok());
    assert!(parse(&"é".repeat(MAX_QUERY_CHARS)).is_ok(), "the limit counts characters, not bytes");
    let err = parse(&"é".repeat(MAX_QUERY_CHARS + 1)).unwrap_err();
    assert_eq!(err, ParseError::new(1000, "a query has at most 1000 characters"));

    let fifty = vec!["x"; MAX_TERMS].join(" ");
    assert_eq!(terms(&fifty).len(), MAX_TERMS);
    assert!(parse(&format!("{fifty} type:user order_by:created sort:asc")).is_ok(), "options are not terms");
    assert_eq!(
        parse(&format!("{fifty} -tags:spam")).unwrap_err(),
        ParseError::new(100, "a query has at most 50 terms")
    );
}

#[test]
fn queries_print_in_canonical_form() {
    let cases = [
        ("  Refund   TAG:VIP  -Tags:spam ", "Refund tags:vip -tags:spam"),
        ("sort:asc type:user order_by:created", "type:user order_by:created sort:asc"),
        ("order_by:updated", "order_by:updated sort:desc"),
        ("contact:\"Ana Lima\" text:refund", "requester:\"Ana Lima\" subject:refund"),
        ("created>4HRS updated<1w created>=2026-01-31", "created>4hours updated<1week created>=2026-01-31"),
        (r#""say \"hi\"" status:"open""#, r#""say \"hi\"" status:open"#),
        ("whatsapp:\"+1 (123)\" whatsapp:\"3211\"", "whatsapp:\"+1 (123)\" whatsapp:3211"),
        ("", ""),
    ];
    for (input, canonical) in cases {
        let query = parse(input).unwrap();
        assert_eq!(query.to_string(), canonical, "{input}");
        assert_eq!(parse(canonical), Ok(query), "{canonical}");
    }
}

/// Text that is not blank, with quotes, backslashes and any other printable character.
fn non_blank() -> impl Strategy<Value = String> {
    prop_oneof![
        "\\PC{1,16}",
        "[ +0-9()-]{1,16}",
        select(vec!["me", " None ", "ME", "a\\", "\"", "\\\""]).prop_map(String::from),
    ]
    .prop_filter("not blank", |s| !s.trim().is_empty())
}

/// A free word as the parser reads one: no space or quote, not starting with `-`, not `name:`.
fn any_word() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z0-9éñ日本_.,'=;()+!?*/#@&%$-]{1,12}"
            .prop_filter("a word does not start with -", |w| { !w.starts_with('-') }),
        select(vec!["12:30", "1<2", "a.b:c", "1=1", "open'", "🙂", "9é>x"]).prop_map(String::from),
    ]
}

fn any_op() -> impl Strategy<Value = Op> {
    select(vec![Op::Eq, Op::Lt, Op::Gt, Op::Le, Op::Ge])
}

fn any_date() -> impl Strategy<Value = Date> {
    prop_oneof![
        (0..=9999_i32, 1..=12_u8, 1..=31_u8).prop_filter_map("a calendar day", |(y, m, d)| {
            let month = Month::try_from(m).ok()?;
            time::Date::from_calendar_date(y, month, d).ok().map(Date::Absolute)
        }),
        (1..=MAX_RELATIVE_AMOUNT, select(DateUnit::ALL.to_vec()))
            .prop_map(|(amount, unit)| Date::Relative { amount, unit }),
    ]
}

fn any_keyword() -> impl Strategy<Value = Item> {
    use Field::*;
    let item = |field, op, value| Item::Field { field, op, value };
    let text_fields = vec![Account, Subject, Name, Email, Phone, Whatsapp, Line, Instagram, X, Telegram];
    let kinds = vec![TicketKind::Direct, TicketKind::Public, TicketKind::Review];
    let origins = vec![crate::model::Origin::Customer, crate::model::Origin::Agent];
    let who = prop_oneof![Just(Who::Me), Just(Who::None), non_blank().prop_map(Who::Text)];
    prop_oneof![
        (any_op(), select(TicketStatus::ALL.to_vec())).prop_map(move |(op, s)| item(Status, op, Value::Status(s))),
        select(ChannelKind::ALL.to_vec()).prop_map(move |k| item(Channel, Op::Eq, Value::Channel(k))),
        select(kinds).prop_map(move |k| item(Kind, Op::Eq, Value::Kind(k))),
        select(origins).prop_map(move |o| item(Origin, Op::Eq, Value::Origin(o))),
        (select(vec![Assignee, Team, Requester]), who).prop_map(move |(f, w)| item(f, Op::Eq, Value::Who(w))),
        (select(vec![Created, Updated]), any_op(), any_date()).prop_map(move |(f, op, date)| {
            let op = if matches!(date, Date::Relative { .. }) && op == Op::Eq { Op::Gt } else { op };
            item(f, op, Value::Date(date))
        }),
        "[a-zA-Z0-9_.:-]{1,20}".prop_map(move |t| item(Tags, Op::Eq, Value::Tag(Tag::parse(&t).unwrap()))),
        (select(text_fields), non_blank()).prop_map(move |(f, t)| item(f, Op::Eq, Value::Text(t))),
        any_custom(),
    ]
}

fn any_custom() -> impl Strategy<Value = Item> {
    let key = "[a-z0-9_]{1,12}";
    let equal = prop_oneof![Just(FieldValue::Unset), non_blank().prop_map(FieldValue::Text)];
    let comparable = prop_oneof![
        select(vec!["12", "-3.5", "+7", "0.25", "2026-01-31", "1999-12-01"]).prop_map(|t| FieldValue::Text(t.into())),
        any::<i32>().prop_map(|n| FieldValue::Text(n.to_string())),
    ];
    prop_oneof![
        (key, equal).prop_map(|(key, value)| Item::Custom { key, op: Op::Eq, value }),
        (key, any_op(), comparable).prop_map(|(key, op, value)| Item::Custom { key, op, value }),
    ]
}

fn any_query() -> impl Strategy<Value = Query> {
    let item = prop_oneof![any_word().prop_map(Item::Text), non_blank().prop_map(Item::Phrase), any_keyword()];
    let term = (any::<bool>(), item).prop_map(|(negated, item)| Term { negated, item });
    let kinds = vec![ResultType::Ticket, ResultType::User];
    let order = (select(SortField::ALL.to_vec()), select(vec![Direction::Asc, Direction::Desc]));
    (collection::vec(term, 0..8), option::of(order), option::of(select(kinds)))
        .prop_map(|(terms, order_by, kind)| Query { terms, order_by, kind })
}

/// Strings made of the language's own pieces, so that they reach deep into the parser.
fn query_like() -> impl Strategy<Value = String> {
    let pieces = vec![
        "status",
        "field.",
        "field.order_no",
        "Field.x",
        "12.5",
        "tags",
        "created",
        "type",
        "sort",
        "order_by",
        "foo",
        ":",
        "<",
        ">",
        "<=",
        ">=",
        "=",
        "\"",
        "\\",
        " ",
        "-",
        "me",
        "none",
        "open",
        "2026-01-31",
        "4hours",
        "0",
        "m",
        "user",
        "asc",
        "é",
        "日",
        "'",
    ];
    collection::vec(select(pieces), 0..40).prop_map(|pieces| pieces.concat())
}

fn custom(key: &str, op: Op, value: FieldValue) -> Term {
    Term { negated: false, item: Item::Custom { key: key.into(), op, value } }
}

fn field_text(s: &str) -> FieldValue {
    FieldValue::Text(s.into())
}

#[test]
fn custom_fields_are_named_field_dot_key() {
    assert_eq!(terms("field.order_no:A-1234"), vec![custom("order_no", Op::Eq, field_text("A-1234"))]);
    assert_eq!(terms("Field.Plan:\"Gold plus\""), vec![custom("plan", Op::Eq, field_text("Gold plus"))]);
    assert_eq!(terms("field.refund:none"), vec![custom("refund", Op::Eq, FieldValue::Unset)]);
    assert_eq!(terms("field.refund:\"none\""), vec![custom("refund", Op::Eq, field_text("none"))]);
    assert_eq!(terms("-field.vip:yes"), vec![not(custom("vip", Op::Eq, field_text("yes")))]);
    assert_eq!(terms("field.amount>=12.5"), vec![custom("amount", Op::Ge, field_text("12.5"))]);
    assert_eq!(terms("field.due<2026-02-01"), vec![custom("due", Op::Lt, field_text("2026-02-01"))]);
    // Without an operator it is a word like any other.
    assert_eq!(terms("field.notes"), vec![word("field.notes")]);
}

#[test]
fn custom_field_values_read_as_numbers_days_and_yes_or_no() {
    assert_eq!(field_text("12").number(), Some(12.0));
    assert_eq!(field_text(" -3.5 ").number(), Some(-3.5));
    assert_eq!(field_text("1e3").number(), None);
    assert_eq!(field_text("NaN").number(), None);
    assert_eq!(field_text("2026-01-31").date(), Some(date!(2026 - 01 - 31)));
    assert_eq!(field_text("2026-02-30").date(), None);
    assert_eq!(field_text("Yes").boolean(), Some(true));
    assert_eq!(field_text("off").boolean(), Some(false));
    assert_eq!(FieldValue::Unset.number(), None);
}

#[test]
fn custom_field_terms_group_by_key_like_other_fields() {
    let query = parse("field.plan:gold status:open field.plan:silver field.plan:gold -field.plan:none").unwrap();
    assert_eq!(
        query.clauses(),
        vec![
            Clause::Custom {
                key: "plan".into(),
                negated: false,
                any_of: vec![(Op::Eq, field_text("gold")), (Op::Eq, field_text("silver"))]
            },
            Clause::Field { field: Field::Status, negated: false, any_of: vec![eq(Value::Status(Open))] },
            Clause::Custom { key: "plan".into(), negated: true, any_of: vec![(Op::Eq, FieldValue::Unset)] },
        ]
    );
}

#[test]
fn custom_field_errors_say_where_and_why() {
    let err = parse("status:open field.:x").unwrap_err();
    assert_eq!(err.position, 12);
    assert!(err.message.contains("custom field's key"), "{err}");
    let err = parse("field.amount>lots").unwrap_err();
    assert_eq!(err.position, 13);
    assert!(err.message.contains("number or a day"), "{err}");
    let err = parse("field.amount<none").unwrap_err();
    assert!(err.message.contains("number or a day"), "{err}");
    let err = parse("field.amount:").unwrap_err();
    assert!(err.message.contains("empty value"), "{err}");
    let long = format!("field.{}:1", "k".repeat(MAX_FIELD_KEY + 1));
    assert!(parse(&long).unwrap_err().message.contains("1 to 64"));
    // Unknown plain fields now point at field.<key> too.
    assert!(parse("plan:gold").unwrap_err().message.contains("field.<key>"));
}

proptest::proptest! {
    #[test]
    fn printing_and_reparsing_any_query_gives_the_same_query(query in any_query()) {
        let text = query.to_string();
        prop_assert_eq!(parse(&text), Ok(query), "printed as {}", text);
    }

    #[test]
    fn parse_never_panics_on_arbitrary_strings(input in any::<String>()) {
        if let Err(err) = parse(&input) {
            prop_assert!(err.position <= input.chars().count());
        }
    }

    #[test]
    fn query_like_strings_parse_to_a_stable_form_or_fail_cleanly(input in query_like()) {
        match parse(&input) {
            Ok(query) => prop_assert_eq!(parse(&query.to_string()), Ok(query)),
            Err(err) => prop_assert!(err.position <= input.chars().count(), "{}", err),
        }
    }
}
