//! The columns a saved view's ticket table shows, chosen by an admin: fixed ticket properties
//! and the workspace's custom fields (`field.<key>`), in the order given.

use std::fmt;

/// One column of a view's ticket table.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ViewColumn {
    Number,
    Subject,
    Requester,
    Status,
    Priority,
    Channel,
    Account,
    Assignee,
    Team,
    Tags,
    Created,
    Updated,
    /// A custom ticket field, by its key (`field.<key>`).
    Field(String),
}

/// The most columns a view shows.
pub const MAX_COLUMNS: usize = 12;

impl ViewColumn {
    /// The fixed columns, in the order pickers list them.
    pub const FIXED: [ViewColumn; 12] = [
        ViewColumn::Number,
        ViewColumn::Subject,
        ViewColumn::Requester,
        ViewColumn::Status,
        ViewColumn::Priority,
        ViewColumn::Channel,
        ViewColumn::Account,
        ViewColumn::Assignee,
        ViewColumn::Team,
        ViewColumn::Tags,
        ViewColumn::Created,
        ViewColumn::Updated,
    ];

    /// What a view shows unless an admin chose otherwise (the table the inbox always had).
    pub const DEFAULT: [ViewColumn; 5] =
        [ViewColumn::Number, ViewColumn::Subject, ViewColumn::Status, ViewColumn::Channel, ViewColumn::Updated];

    /// The column's id as the API and storage spell it.
    pub fn id(&self) -> String {
        match self {
            ViewColumn::Field(key) => format!("field.{key}"),
            fixed => fixed.fixed_id().to_owned(),
        }
    }

    fn fixed_id(&self) -> &'static str {
        match self {
            ViewColumn::Number => "number",
            ViewColumn::Subject => "subject",
            ViewColumn::Requester => "requester",
            ViewColumn::Status => "status",
            ViewColumn::Priority => "priority",
            ViewColumn::Channel => "channel",
            ViewColumn::Account => "account",
            ViewColumn::Assignee => "assignee",
            ViewColumn::Team => "team",
            ViewColumn::Tags => "tags",
            ViewColumn::Created => "created",
            ViewColumn::Updated => "updated",
            ViewColumn::Field(_) => "field",
        }
    }

    /// The header a fixed column carries; a field's is its definition's label.
    pub fn label(&self) -> &'static str {
        match self {
            ViewColumn::Number => "#",
            ViewColumn::Subject => "Subject",
            ViewColumn::Requester => "Requester",
            ViewColumn::Status => "Status",
            ViewColumn::Priority => "Priority",
            ViewColumn::Channel => "Channel",
            ViewColumn::Account => "Line",
            ViewColumn::Assignee => "Assignee",
            ViewColumn::Team => "Team",
            ViewColumn::Tags => "Tags",
            ViewColumn::Created => "Created",
            ViewColumn::Updated => "Updated",
            ViewColumn::Field(_) => "Field",
        }
    }

    /// Reads a column id; `field.<key>` for any key (whether the field exists is the caller's check).
    pub fn parse(id: &str) -> Option<ViewColumn> {
        if let Some(key) = id.strip_prefix("field.") {
            return (!key.is_empty()).then(|| ViewColumn::Field(key.to_owned()));
        }
        ViewColumn::FIXED.into_iter().find(|c| c.fixed_id() == id)
    }

    /// Checks a chosen list: 1 to [`MAX_COLUMNS`] known columns (`field_keys` are the custom
    /// fields that exist), none twice, in the order given. The error says what is wrong.
    pub fn parse_list<S: AsRef<str>>(ids: &[S], field_keys: &[&str]) -> Result<Vec<ViewColumn>, String> {
        if ids.is_empty() || ids.len() > MAX_COLUMNS {
            return Err(format!("a view shows 1 to {MAX_COLUMNS} columns"));
        }
        let mut out: Vec<ViewColumn> = Vec::with_capacity(ids.len());
        for id in ids {
            let id = id.as_ref();
            let column = ViewColumn::parse(id)
                .filter(|c| match c {
                    ViewColumn::Field(key) => field_keys.contains(&key.as_str()),
                    _ => true,
                })
                .ok_or_else(|| format!("unknown column `{id}`"))?;
            if out.contains(&column) {
                return Err(format!("column `{id}` is listed twice"));
            }
            out.push(column);
        }
        Ok(out)
    }
}

impl fmt::Display for ViewColumn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.id())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_fixed_id_reads_back_as_its_column() {
        for column in ViewColumn::FIXED {
            assert_eq!(ViewColumn::parse(&column.id()), Some(column));
        }
        assert_eq!(ViewColumn::parse("field.plan"), Some(ViewColumn::Field("plan".into())));
        assert_eq!(ViewColumn::parse("field."), None);
        assert_eq!(ViewColumn::parse("field"), None);
        assert_eq!(ViewColumn::parse("Subject"), None);
    }

    #[test]
    fn a_column_list_keeps_its_order_and_refuses_what_is_wrong() {
        let ok = ViewColumn::parse_list(&["field.plan", "subject", "number"], &["plan"]).unwrap();
        assert_eq!(ok, vec![ViewColumn::Field("plan".into()), ViewColumn::Subject, ViewColumn::Number]);
        let cases: [(&[&str], &str); 5] = [
            (&[], "1 to 12"),
            (&["subject", "subject"], "twice"),
            (&["owner"], "unknown column `owner`"),
            (&["field.missing"], "unknown column `field.missing`"),
            (&["number"; 13], "1 to 12"),
        ];
        for (ids, error) in cases {
            let err = ViewColumn::parse_list(ids, &["plan"]).unwrap_err();
            assert!(err.contains(error), "{ids:?}: {err}");
        }
    }
}
