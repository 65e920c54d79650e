//! Custom ticket fields: admins define them (text, number, dropdown, checkbox, date, with
//! "required to solve"); agents set them on tickets, where values are checked and typed by
//! their definition, and a ticket cannot be solved while a required one is empty.

use std::collections::BTreeMap;

use serde_json::Value;
use switchboard_store::{Conn, fields};

pub use switchboard_store::fields::FieldDef;

use crate::{Actor, Service, ServiceError, ServiceResult, audit};

/// The kinds of field there are.
pub const KINDS: [&str; 5] = ["text", "number", "dropdown", "checkbox", "date"];

/// A field to define.
#[derive(Debug, Clone)]
pub struct NewField {
    pub key: String,
    pub label: String,
    pub kind: String,
    pub options: Vec<String>,
    pub required_on_solve: bool,
}

fn is_date(v: &str) -> bool {
    let b = v.as_bytes();
    b.len() == 10
        && b.iter().enumerate().all(|(i, c)| if i == 4 || i == 7 { *c == b'-' } else { c.is_ascii_digit() })
        && time::Date::parse(v, time::macros::format_description!("[year]-[month]-[day]")).is_ok()
}

/// The value as its field keeps it (a number, a boolean, text), or why it cannot be.
/// Text from forms is accepted for every kind ("12", "true", "2026-01-31").
fn typed(def: &FieldDef, value: &Value) -> Result<Value, String> {
    let text = value.as_str().map(str::trim);
    match def.kind.as_str() {
        "number" => match (value, text) {
            (Value::Number(_), _) => Ok(value.clone()),
            (_, Some(t)) => t
                .parse::<f64>()
                .ok()
                .filter(|n| n.is_finite())
                .and_then(serde_json::Number::from_f64)
                .map(|n| {
                    if t.parse::<i64>().is_ok() {
                        Value::from(t.parse::<i64>().unwrap_or_default())
                    } else {
                        Value::Number(n)
                    }
                })
                .ok_or_else(|| format!("`{t}` is not a number")),
            _ => Err("a number".into()),
        },
        "checkbox" => match (value, text) {
            (Value::Bool(_), _) => Ok(value.clone()),
            (_, Some("true" | "on" | "yes" | "1")) => Ok(Value::Bool(true)),
            (_, Some("false" | "off" | "no" | "0")) => Ok(Value::Bool(false)),
            _ => Err("yes or no".into()),
        },
        "date" => match text {
            Some(t) if is_date(t) => Ok(Value::from(t)),
            _ => Err("a date as YYYY-MM-DD".into()),
        },
        "dropdown" => match text {
            Some(t) if def.options.iter().any(|o| o == t) => Ok(Value::from(t)),
            _ => Err(format!("one of: {}", def.options.join(", "))),
        },
        _ => match text {
            Some(t) if t.chars().count() <= 1000 => Ok(Value::from(t)),
            _ => Err("text of at most 1000 characters".into()),
        },
    }
}

/// The workspace's field definitions, read only when a change needs them: it sets fields or
/// solves the ticket. One read serves both checks.
pub(crate) async fn defs_for(
    conn: &mut Conn<'_>,
    actor: &Actor,
    setting_fields: bool,
    solving: bool,
) -> ServiceResult<Vec<FieldDef>> {
    if setting_fields || solving { Ok(fields::list(conn, actor.workspace()).await?) } else { Ok(Vec::new()) }
}

/// Checks and types the values of defined fields in a ticket change; other keys pass as sent.
pub(crate) fn check_values(defs: &[FieldDef], values: &mut BTreeMap<String, Value>) -> ServiceResult<()> {
    for (key, value) in values.iter_mut() {
        if value.is_null() || value.as_str().is_some_and(|s| s.trim().is_empty()) {
            *value = Value::Null;
            continue;
        }
        if let Some(def) = defs.iter().find(|d| &d.key == key) {
            *value = typed(def, value).map_err(|m| ServiceError::invalid("fields", format!("{}: {m}", def.label)))?;
        }
    }
    Ok(())
}

/// Refuses to solve a ticket whose required fields are not all set.
pub(crate) fn check_solvable(defs: &[FieldDef], values: &BTreeMap<String, Value>) -> ServiceResult<()> {
    let missing: Vec<&str> = defs
        .iter()
        .filter(|d| d.required_on_solve && values.get(&d.key).is_none_or(Value::is_null))
        .map(|d| d.label.as_str())
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(ServiceError::invalid("fields", format!("to solve this ticket, fill in: {}", missing.join(", "))))
    }
}

impl Service {
    /// The workspace's field definitions; every agent reads them (the ticket page).
    pub async fn list_fields(&self, actor: &Actor) -> ServiceResult<Vec<FieldDef>> {
        let mut pooled = self.db().acquire().await?;
        Ok(fields::list(&mut pooled.conn(), actor.workspace()).await?)
    }

    /// Defines a field (admins only).
    pub async fn create_field(&self, actor: &Actor, new: NewField) -> ServiceResult<FieldDef> {
        actor.require_admin()?;
        let key = new.key.trim().to_lowercase();
        if key.is_empty() || key.len() > 64 || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(ServiceError::invalid("key", "1 to 64 letters, digits or _"));
        }
        let label = crate::required_text("label", &new.label, 100)?;
        if !KINDS.contains(&new.kind.as_str()) {
            return Err(ServiceError::invalid("kind", format!("one of: {}", KINDS.join(", "))));
        }
        let options: Vec<String> = new.options.iter().map(|o| o.trim().to_owned()).filter(|o| !o.is_empty()).collect();
        if new.kind == "dropdown" && options.is_empty() {
            return Err(ServiceError::invalid("options", "a dropdown needs at least one choice"));
        }
        let def = FieldDef {
            id: uuid::Uuid::now_v7(),
            key: key.clone(),
            label: label.to_owned(),
            kind: new.kind,
            options,
            required_on_solve: new.required_on_solve,
        };
        let mut tx = self.begin().await?;
        let mut conn = tx.conn();
        fields::insert(&mut conn, actor.workspace(), &def, self.now()).await.map_err(|e| match e {
            switchboard_store::StoreError::Conflict(_) => {
                ServiceError::conflict("field_exists", format!("a field with key `{key}` exists"))
            }
            other => other.into(),
        })?;
        let detail = serde_json::json!({"key": def.key, "label": def.label, "kind": def.kind,
            "options": def.options, "required_on_solve": def.required_on_solve});
        audit::write(&mut conn, actor, "field.created", format!("field:{}", def.id), detail, self.now()).await?;
        tx.commit().await?;
        Ok(def)
    }

    /// Removes a field definition; values on tickets stay as plain fields (admins only).
    pub async fn delete_field(&self, actor: &Actor, id: uuid::Uuid) -> ServiceResult<()> {
        actor.require_admin()?;
        let mut tx = self.begin().await?;
        let mut conn = tx.conn();
        if !fields::delete(&mut conn, actor.workspace(), id).await? {
            return Err(ServiceError::NotFound("field"));
        }
        audit::write(&mut conn, actor, "field.deleted", format!("field:{id}"), serde_json::json!({}), self.now())
            .await?;
        tx.commit().await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn def(kind: &str) -> FieldDef {
        FieldDef {
            id: uuid::Uuid::nil(),
            key: "k".into(),
            label: "K".into(),
            kind: kind.into(),
            options: vec!["gold".into(), "silver".into()],
            required_on_solve: false,
        }
    }

    #[test]
    fn form_text_becomes_the_fields_type_or_is_refused() {
        assert_eq!(typed(&def("number"), &Value::from("12")), Ok(Value::from(12)));
        assert_eq!(typed(&def("number"), &Value::from("1.5")), Ok(Value::from(1.5)));
        assert!(typed(&def("number"), &Value::from("twelve")).is_err());
        assert_eq!(typed(&def("checkbox"), &Value::from("on")), Ok(Value::Bool(true)));
        assert_eq!(typed(&def("date"), &Value::from("2026-01-31")), Ok(Value::from("2026-01-31")));
        assert!(typed(&def("date"), &Value::from("2026-02-31")).is_err());
        assert!(typed(&def("dropdown"), &Value::from("bronze")).is_err());
        assert_eq!(typed(&def("dropdown"), &Value::from("gold")), Ok(Value::from("gold")));
    }
}
