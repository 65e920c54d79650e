//! Values bound to dynamically built SQL (filters, lists). User input only ever reaches SQL
//! as one of these, never spliced into the text.

use uuid::Uuid;

#[derive(Debug, Clone)]
pub enum Param {
    Uuid(Uuid),
    Text(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    /// A value or a NULL of that column type (Postgres types NULLs too).
    OptUuid(Option<Uuid>),
    OptText(Option<String>),
}

/// Binds `params` in order onto a `sqlx::query`/`query_as`/`query_scalar` builder.
#[macro_export]
#[doc(hidden)]
macro_rules! bind_all {
    ($query:expr, $params:expr) => {{
        let mut q = $query;
        for p in $params {
            q = match p {
                $crate::Param::Uuid(v) => q.bind(*v),
                $crate::Param::Text(v) => q.bind(v.clone()),
                $crate::Param::Int(v) => q.bind(*v),
                $crate::Param::Float(v) => q.bind(*v),
                $crate::Param::Bool(v) => q.bind(*v),
                $crate::Param::OptUuid(v) => q.bind(*v),
                $crate::Param::OptText(v) => q.bind(v.clone()),
            };
        }
        q
    }};
}

/// Collects parameters and hands out their `$n` placeholders.
#[derive(Debug, Default)]
pub struct Params(pub Vec<Param>);

impl Params {
    pub fn push(&mut self, p: Param) -> String {
        self.0.push(p);
        format!("${}", self.0.len())
    }
}

/// The most ids one `IN (…)` list binds. A read of more (the participants of a viral post) runs
/// once per this many: statements stay far below SQLite's 32,766 and PostgreSQL's 65,535
/// parameters.
pub(crate) const IN_LIST_MAX: usize = 1000;

/// `ids` without repeats, for an `IN (…)` list read in chunks (a repeat in two chunks would
/// return its rows twice).
pub(crate) fn distinct<T: Ord + Copy>(ids: &[T]) -> Vec<T> {
    let mut ids = ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    ids
}
