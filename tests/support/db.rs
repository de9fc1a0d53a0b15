//! An in-memory SQLite stand-in for D1: the real migrations, the planned
//! statements run as one transaction (as a D1 `batch` is), and the board read
//! through the same SQL and row mapping the worker uses.
//!
//! Include with `#[path = "support/db.rs"] mod db;` or via `mod support;`.
#![allow(dead_code)]

use rusqlite::types::{Value as SqlParam, ValueRef};
use rusqlite::Connection;
use sentry_kanban::sql::{SqlValue, Stmt};
use sentry_kanban::store;
use serde_json::{Map, Value};
use std::path::{Path, PathBuf};

/// `migrations/*.sql`, sorted by file name (the order wrangler applies them).
pub fn migration_files() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|entry| entry.expect("migrations entry").path())
        .filter(|p| p.extension().is_some_and(|ext| ext == "sql"))
        .collect();
    files.sort_by(|a, b| a.file_name().cmp(&b.file_name()));
    assert!(!files.is_empty(), "no migrations in {}", dir.display());
    files
}

/// A new in-memory database with every migration applied.
pub fn migrated_db() -> Connection {
    let conn = Connection::open_in_memory().expect("open in-memory sqlite");
    for file in migration_files() {
        let sql = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("reading {}: {e}", file.display()));
        conn.execute_batch(&sql).unwrap_or_else(|e| panic!("applying {}: {e}", file.display()));
    }
    conn
}

thread_local! {
    /// The migrated schema, applied once per test thread: the property tests
    /// open thousands of databases, and copying pages is far cheaper than
    /// parsing every migration again.
    static MIGRATED: Connection = migrated_db();
}

/// A new in-memory database with every migration applied (a page copy of
/// `migrated_db()`).
pub fn fresh_db() -> Connection {
    let mut conn = Connection::open_in_memory().expect("open in-memory sqlite");
    MIGRATED.with(|template| {
        let copy = rusqlite::backup::Backup::new(template, &mut conn).expect("backup of the migrated schema");
        copy.run_to_completion(1000, std::time::Duration::ZERO, None).expect("copying the migrated schema");
    });
    conn
}

fn param(v: &SqlValue) -> SqlParam {
    match v {
        SqlValue::Null => SqlParam::Null,
        SqlValue::Int(i) => SqlParam::Integer(i64::from(*i)),
        SqlValue::Text(s) => SqlParam::Text(s.clone()),
    }
}

/// Runs all statements in one transaction: all apply or none do.
pub fn try_run(conn: &Connection, stmts: &[Stmt]) -> rusqlite::Result<()> {
    try_run_first_rows(conn, stmts).map(|_| ())
}

/// Like `try_run`, returning each statement's first row (`RETURNING`), as
/// D1's batch results give them to the shell.
pub fn try_run_first_rows(conn: &Connection, stmts: &[Stmt]) -> rusqlite::Result<Vec<Option<Map<String, Value>>>> {
    let tx = conn.unchecked_transaction()?;
    let mut out = Vec::with_capacity(stmts.len());
    for stmt in stmts {
        let mut prepared = tx.prepare(stmt.sql)?;
        let names: Vec<String> = prepared.column_names().iter().map(|n| n.to_string()).collect();
        let mut rows = prepared.query(rusqlite::params_from_iter(stmt.params.iter().map(param)))?;
        let first = rows.next()?.map(|row| row_json(row, &names));
        while rows.next()?.is_some() {}
        out.push(first);
    }
    tx.commit()?;
    Ok(out)
}

/// One row typed the way D1 returns rows: INTEGER and REAL → number, TEXT →
/// string, NULL → null.
fn row_json(row: &rusqlite::Row, names: &[String]) -> Map<String, Value> {
    let mut obj = Map::new();
    for (i, name) in names.iter().enumerate() {
        let v = match row.get_ref(i).expect("column") {
            ValueRef::Null => Value::Null,
            ValueRef::Integer(n) => Value::from(n),
            ValueRef::Real(f) => Value::from(f),
            ValueRef::Text(t) => Value::String(String::from_utf8(t.to_vec()).expect("utf-8 text")),
            ValueRef::Blob(_) => panic!("column {name} is a BLOB; D1 would return an array"),
        };
        obj.insert(name.clone(), v);
    }
    obj
}

/// Like `try_run`, panicking with the failing SQL on error.
pub fn run(conn: &Connection, stmts: &[Stmt]) {
    if let Err(e) = try_run(conn, stmts) {
        panic!("batch failed: {e}\nstatements: {stmts:#?}");
    }
}

/// Every row of `sql` as a JSON object, any parameters bound to NULL (as
/// D1 binds the ones a read leaves out).
pub fn rows(conn: &Connection, sql: &str) -> Vec<Map<String, Value>> {
    query(conn, sql, &[])
}

/// Every row of `sql` with `params` bound, typed the way D1 returns rows:
/// INTEGER and REAL → number, TEXT → string, NULL → null. Parameters beyond
/// `params` are NULL.
pub fn query(conn: &Connection, sql: &str, params: &[SqlValue]) -> Vec<Map<String, Value>> {
    let mut stmt = conn.prepare(sql).unwrap_or_else(|e| panic!("preparing {sql}: {e}"));
    let names: Vec<String> = stmt.column_names().iter().map(|n| n.to_string()).collect();
    let mut bound: Vec<SqlParam> = params.iter().map(param).collect();
    bound.resize(stmt.parameter_count().max(bound.len()), SqlParam::Null);
    let mut out = Vec::new();
    let mut rows = stmt.query(rusqlite::params_from_iter(bound)).expect("query");
    while let Some(row) = rows.next().expect("next row") {
        out.push(row_json(row, &names));
    }
    out
}

/// The board as `GET /api/items` returns it: `store::LIST_ITEMS` mapped
/// through `store::item_from_row`.
pub fn items(conn: &Connection) -> Vec<Value> {
    rows(conn, store::LIST_ITEMS).iter().map(store::item_from_row).collect()
}

/// The one card with this Sentry issue id; panics if there is none or several.
pub fn card(conn: &Connection, id: &str) -> Value {
    let found: Vec<Value> = items(conn).into_iter().filter(|i| i["id"] == id).collect();
    match found.len() {
        1 => found.into_iter().next().unwrap(),
        0 => panic!("no card {id} on the board"),
        n => panic!("{n} cards for issue {id}"),
    }
}

/// Number of rows in `cards`, straight from the table.
pub fn card_count(conn: &Connection) -> i64 {
    conn.query_row("SELECT COUNT(*) FROM cards", [], |r| r.get(0)).expect("count cards")
}

/// Runs the statements in one transaction and returns how many rows each
/// changed, as `d1::run_counted` does on D1.
pub fn run_counted(conn: &Connection, stmts: &[Stmt]) -> Vec<usize> {
    let tx = conn.unchecked_transaction().expect("transaction");
    let counts = stmts
        .iter()
        .map(|s| tx.execute(s.sql, rusqlite::params_from_iter(s.params.iter().map(param))).expect("statement"))
        .collect();
    tx.commit().expect("commit");
    counts
}
