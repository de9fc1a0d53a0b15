//! SQL plumbing shared by the store (which writes the SQL text), the plans
//! (which carry statements) and the shell (which binds them on D1): bound
//! values, statements and reading a result row. No SQL text lives here.

use serde_json::{Map, Value};

/// A bound SQL parameter. Ids travel as `Text`: D1 cannot carry 64-bit ints.
#[derive(Debug, Clone, PartialEq)]
pub enum SqlValue {
    Null,
    Int(i32),
    Text(String),
}

impl From<&str> for SqlValue {
    fn from(s: &str) -> Self {
        SqlValue::Text(s.to_string())
    }
}

impl From<String> for SqlValue {
    fn from(s: String) -> Self {
        SqlValue::Text(s)
    }
}

impl From<Option<String>> for SqlValue {
    fn from(s: Option<String>) -> Self {
        s.map_or(SqlValue::Null, SqlValue::Text)
    }
}

impl From<bool> for SqlValue {
    fn from(b: bool) -> Self {
        SqlValue::Int(i32::from(b))
    }
}

impl From<i32> for SqlValue {
    fn from(i: i32) -> Self {
        SqlValue::Int(i)
    }
}

/// One statement with numbered (`?1`, `?2`, …) parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct Stmt {
    pub sql: &'static str,
    pub params: Vec<SqlValue>,
}

pub fn id_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A column of a result row as text, whether D1 (or rusqlite) returned a
/// string or a number.
pub fn row_text(row: &Map<String, Value>, key: &str) -> Option<String> {
    row.get(key).and_then(id_text)
}
