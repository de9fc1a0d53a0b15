//! The error-log API: groups with trends, one group with its events and
//! series, and totals (including dead-lettered events).

use super::env::db;
use super::{d1, http};
use crate::error::AppError;
use crate::store::errors::{self as store, Filter};
use serde_json::{json, Value};
use worker::{console_log, Date, Env, Request, Response, Result};

pub async fn list(req: &Request, env: &Env) -> Result<Response> {
    let result = async {
        let pairs = http::with_url(req, |u| u.query_pairs())?;
        let param = |name: &str| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
        let filter = Filter {
            status: param("status"),
            level: param("level"),
            project: param("project"),
            q: param("q"),
            sort: param("sort"),
        };
        let days = store::days_ending(now(), store::TREND_DAYS);
        let params = store::list_params(&filter);
        let since = [days[0].as_str().into()];
        let db = db(env)?;
        let read = d1::rows_batch(&db, &[(store::LIST_GROUPS, &params), (store::DAILY_SINCE, &since)]).await?;
        match read.as_slice() {
            [groups, daily] => Ok(store::list_json(groups, daily, &days)),
            _ => Err(AppError::Internal("D1 batch returned an unexpected result count".into())),
        }
    }
    .await;
    answer("errors", result)
}

pub async fn group(id: &str, env: &Env) -> Result<Response> {
    let result = async {
        let db = db(env)?;
        let (issue, since) = ([id.into()], [id.into(), store::hours_since(now(), store::TREND_DAYS).into()]);
        let read =
            d1::rows_batch(&db, &[(store::GROUP, &issue), (store::RECENT_EVENTS, &issue), (store::HOURLY, &since)])
                .await?;
        let [group, events, hourly] = read.as_slice() else {
            return Err(AppError::Internal("D1 batch returned an unexpected result count".into()));
        };
        let group = group.first().ok_or(AppError::NotFound)?;
        Ok(store::group_answer(group, events, hourly))
    }
    .await;
    answer("error_group", result)
}

pub async fn stats(env: &Env) -> Result<Response> {
    let result = async {
        let row = d1::first(&db(env)?, store::STATS, &[]).await?;
        Ok(row.map_or(Value::Null, Value::Object))
    }
    .await;
    answer("error_stats", result)
}

fn answer(what: &str, result: std::result::Result<Value, AppError>) -> Result<Response> {
    match result {
        Ok(body) => Response::from_json(&body),
        Err(e) => {
            if matches!(e, AppError::Internal(_)) {
                console_log!("{}", json!({"event": "read_failed", "what": what, "error": format!("{e:?}")}));
            }
            http::error_response(&e)
        }
    }
}

fn now() -> i64 {
    Date::now().as_millis() as i64
}
