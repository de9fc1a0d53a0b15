//! Sentry's UI-component requests and its post-install redirect page.

use super::env::{config, db};
use super::{d1, http};
use crate::config::MAX_BODY_BYTES;
use crate::error::AppError;
use crate::plan::Reply;
use crate::sentry::setup::{self, SetupQuery};
use crate::sentry::ui::{self, LinkAction, Options};
use crate::sql::SqlValue;
use crate::store::{self, installations as inst};
use crate::time::format_millis;
use worker::{console_log, Date, Env, Request, Response, Result};

/// Reads and authenticates a UI-component request; the raw body is returned.
async fn signed_body(req: &mut Request, env: &Env) -> std::result::Result<Vec<u8>, AppError> {
    let body = http::read_body(req, MAX_BODY_BYTES).await?;
    let signature = crate::verify::one_signature(
        http::header(req, "Sentry-App-Signature"),
        http::header(req, "Sentry-Hook-Signature"),
    );
    ui::authenticate(&config(env), signature.as_deref(), &body)?;
    Ok(body)
}

pub async fn options(mut req: Request, env: &Env, kind: Options) -> Result<Response> {
    let started = Date::now().as_millis();
    let result = async {
        signed_body(&mut req, env).await?;
        let pairs = http::with_url(&req, |u| u.query_pairs())?;
        let param = |name: &str| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
        let installation = param("installationId").unwrap_or_default();
        let pattern = inst::like_pattern(param("query").as_deref());
        let sql = match kind {
            Options::Items => inst::OPTION_ITEMS,
            Options::Users => inst::OPTION_USERS,
        };
        let rows = d1::query(&db(env)?, sql, &[installation.into(), pattern.into()]).await?;
        Ok(Reply::ok(ui::options_json(kind, &rows)))
    }
    .await;
    finish(env, &req, kind.logged_as(), started, result).await
}

pub async fn issue_link(mut req: Request, env: &Env, action: LinkAction) -> Result<Response> {
    let started = Date::now().as_millis();
    let result = async {
        let body = signed_body(&mut req, env).await?;
        let link = ui::parse_issue_link(&body)?;
        let target = ui::link_target(action, &link)?;
        let db = db(env)?;
        let exists = d1::exists(&db, inst::CARD_EXISTS, &[SqlValue::from(target)]).await?;
        let origin = http::with_url(&req, |u| u.origin()).unwrap_or_default();
        let plan = ui::plan_issue_link(action, &link, exists, &origin, &now())?;
        d1::run(&db, &plan.statements).await?;
        Ok(plan.reply)
    }
    .await;
    finish(env, &req, action.logged_as(), started, result).await
}

pub async fn alert_rule_action(mut req: Request, env: &Env) -> Result<Response> {
    let started = Date::now().as_millis();
    let result = async { ui::check_alert_rule_action(&signed_body(&mut req, env).await?) }.await;
    finish(env, &req, "alert_rule_action", started, result).await
}

/// Answers and records the request in the delivery log, like a webhook.
async fn finish(
    env: &Env,
    req: &Request,
    action: &str,
    started: u64,
    result: std::result::Result<Reply, AppError>,
) -> Result<Response> {
    let request_id = http::header(req, "Request-ID");
    let received_at = format_millis(started as i64);
    let detail = ui::detail(&result);
    let latency_ms = Date::now().as_millis().saturating_sub(started) as u32;
    let record = ui::log_record(action, &received_at, request_id.as_deref(), &result, detail.as_deref(), latency_ms);
    let recorded = match db(env) {
        Ok(db) => d1::run(&db, &store::record_delivery(&record)).await.is_ok(),
        Err(_) => false,
    };
    record.line_for(config(env).log_deliveries, recorded).iter().for_each(|line| console_log!("{line}"));
    match &result {
        Ok(reply) => http::json_response(reply),
        Err(e) => http::error_response(e),
    }
}

pub async fn setup_page(req: Request, env: &Env) -> Result<Response> {
    let q = match http::with_url(&req, |u| SetupQuery::parse(u.query().unwrap_or(""))) {
        Ok(q) => q,
        Err(e) => return http::error_response(&e),
    };
    let known = match (&q.installation_id, db(env)) {
        (Some(id), Ok(db)) => d1::first(&db, inst::INSTALLATION_VIEW, &[id.as_str().into()]).await.ok().flatten(),
        _ => None,
    };
    let known = known.map(|row| setup::Known {
        status: d1::text(&row, "status").unwrap_or_default(),
        org_slug: d1::text(&row, "org_slug"),
        error: d1::text(&row, "error"),
    });
    let (status, html) = setup::page(&q, known.as_ref());
    Ok(Response::from_html(html)?.with_status(status))
}

fn now() -> String {
    format_millis(Date::now().as_millis() as i64)
}
