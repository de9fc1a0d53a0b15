//! Runs planned statements on D1.

use crate::error::AppError;
use crate::sql::{SqlValue, Stmt};
use serde_json::{Map, Value};
use worker::wasm_bindgen::JsValue;
use worker::D1Database;

fn bind(db: &D1Database, stmt: &Stmt) -> Result<worker::D1PreparedStatement, AppError> {
    bind_params(db, stmt.sql, &stmt.params)
}

fn bind_params(db: &D1Database, sql: &str, params: &[SqlValue]) -> Result<worker::D1PreparedStatement, AppError> {
    let params: Vec<JsValue> = params
        .iter()
        .map(|p| match p {
            SqlValue::Null => JsValue::NULL,
            // A JS number, not a BigInt: D1 rejects BigInt.
            SqlValue::Int(i) => JsValue::from_f64(f64::from(*i)),
            SqlValue::Text(s) => JsValue::from_str(s),
        })
        .collect();
    db.prepare(sql).bind(&params).map_err(internal)
}

/// All statements in one `batch`: one round trip, one transaction.
pub async fn run(db: &D1Database, stmts: &[Stmt]) -> Result<(), AppError> {
    if stmts.is_empty() {
        return Ok(());
    }
    let prepared = stmts.iter().map(|s| bind(db, s)).collect::<Result<Vec<_>, _>>()?;
    db.batch(prepared).await.map_err(internal)?;
    Ok(())
}

/// Like `run`, returning how many rows each statement changed.
pub async fn run_counted(db: &D1Database, stmts: &[Stmt]) -> Result<Vec<usize>, AppError> {
    let prepared = stmts.iter().map(|s| bind(db, s)).collect::<Result<Vec<_>, _>>()?;
    let results = db.batch(prepared).await.map_err(internal)?;
    results.iter().map(|r| Ok(r.meta().map_err(internal)?.and_then(|m| m.changes).unwrap_or(0))).collect()
}

/// Like `run`, returning each statement's first row (`RETURNING`), if any.
pub async fn run_first_rows(db: &D1Database, stmts: &[Stmt]) -> Result<Vec<Option<Map<String, Value>>>, AppError> {
    if stmts.is_empty() {
        return Ok(vec![]);
    }
    let prepared = stmts.iter().map(|s| bind(db, s)).collect::<Result<Vec<_>, _>>()?;
    let results = db.batch(prepared).await.map_err(internal)?;
    results.iter().map(|r| Ok(r.results::<Map<String, Value>>().map_err(internal)?.into_iter().next())).collect()
}

pub async fn rows(db: &D1Database, sql: &str) -> Result<Vec<Map<String, Value>>, AppError> {
    let result = db.prepare(sql).all().await.map_err(internal)?;
    result.results::<Map<String, Value>>().map_err(internal)
}

/// Every row of a query with bound parameters.
pub async fn query(db: &D1Database, sql: &str, params: &[SqlValue]) -> Result<Vec<Map<String, Value>>, AppError> {
    let result = bind_params(db, sql, params)?.all().await.map_err(internal)?;
    result.results::<Map<String, Value>>().map_err(internal)
}

/// The first row of a query, if any.
pub async fn first(db: &D1Database, sql: &str, params: &[SqlValue]) -> Result<Option<Map<String, Value>>, AppError> {
    bind_params(db, sql, params)?.first::<Map<String, Value>>(None).await.map_err(internal)
}

/// Several read-only queries in one `batch`: one round trip.
pub async fn rows_batch(
    db: &D1Database,
    queries: &[(&str, &[SqlValue])],
) -> Result<Vec<Vec<Map<String, Value>>>, AppError> {
    let prepared = queries.iter().map(|(sql, params)| bind_params(db, sql, params)).collect::<Result<Vec<_>, _>>()?;
    let results = db.batch(prepared).await.map_err(internal)?;
    results.iter().map(|r| r.results::<Map<String, Value>>().map_err(internal)).collect()
}

/// Whether a query returns at least one row.
pub async fn exists(db: &D1Database, sql: &str, params: &[SqlValue]) -> Result<bool, AppError> {
    let first = bind_params(db, sql, params)?.first::<Value>(None).await.map_err(internal)?;
    Ok(first.is_some())
}

fn internal(e: impl std::fmt::Display) -> AppError {
    AppError::Internal(format!("D1: {e}"))
}

pub use crate::sql::row_text as text;
