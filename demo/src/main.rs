//! The polysession demo: beego's session example on axum, on 127.0.0.1:8080 by default.
//!
//! Every host (Rust, Node, Python, wasm) serves these same routes for the cross-runtime suite.

use axum::extract::Query;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use polysession_axum::{spawn_gc, Session, SessionError, SessionLayer};
use polysession_core::{AppConf, Config, ErrorKind, Manager};
use serde::Deserialize;
use serde_json::{json, Value};
use std::process::ExitCode;

const USAGE: &str = "polysession-demo: beego's session example on axum

Usage: polysession-demo [OPTIONS]

Options:
  --host HOST              address to bind (default 127.0.0.1)
  --port PORT              port to bind, 0 for any (default 8080)
  --provider NAME          session provider (memory, cookie, file, ...; default memory)
  --provider-config TEXT   provider config string (cookie: {\"keys\":[\"<32+ byte secret>\"]})
  --config FILE            a beego app.conf (sessionon, sessionprovider, sessionname, ...)
  --session-config JSON    beego ManagerConfig JSON, applied over the rest
  -h, --help               this text
";

struct Args {
    host: String,
    port: u16,
    provider: Option<String>,
    provider_config: Option<String>,
    app_conf: Option<String>,
    session_json: Option<String>,
}

fn parse_args() -> Result<Args, String> {
    use lexopt::prelude::*;
    let mut args = Args {
        host: "127.0.0.1".into(),
        port: 8080,
        provider: None,
        provider_config: None,
        app_conf: None,
        session_json: None,
    };
    let mut parser = lexopt::Parser::from_env();
    let text = |p: &mut lexopt::Parser| -> Result<String, String> {
        p.value()
            .map_err(|e| e.to_string())?
            .into_string()
            .map_err(|_| "arguments must be UTF-8".to_owned())
    };
    while let Some(arg) = parser.next().map_err(|e| e.to_string())? {
        match arg {
            Long("host") => args.host = text(&mut parser)?,
            Long("port") => {
                let v = text(&mut parser)?;
                args.port = v
                    .parse()
                    .map_err(|_| format!("--port: `{v}` is not a port number"))?;
            }
            Long("provider") => args.provider = Some(text(&mut parser)?),
            Long("provider-config") => args.provider_config = Some(text(&mut parser)?),
            Long("config") => args.app_conf = Some(text(&mut parser)?),
            Long("session-config") => args.session_json = Some(text(&mut parser)?),
            Short('h') | Long("help") => {
                print!("{USAGE}");
                std::process::exit(0);
            }
            other => return Err(format!("{}\n\n{USAGE}", other.unexpected())),
        }
    }
    Ok(args)
}

fn build_config(args: &Args) -> Result<Config, String> {
    let mut config = match &args.app_conf {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
            let conf = AppConf::parse(&text).map_err(|e| format!("{path}: {e}"))?;
            if !conf.session_on {
                return Err(format!(
                    "{path}: sessionon is false; set `sessionon = true` to run the demo"
                ));
            }
            conf.config
        }
        None => Config::default(),
    };
    if let Some(json) = &args.session_json {
        config
            .apply_beego_json(json)
            .map_err(|e| format!("--session-config: {e}"))?;
    }
    if let Some(p) = &args.provider {
        config.provider = p.clone();
    }
    if let Some(p) = &args.provider_config {
        config.provider_config = p.clone();
    }
    config.validate().map_err(|e| e.to_string())?;
    Ok(config)
}

#[derive(Deserialize)]
struct Key {
    key: String,
}

#[derive(Deserialize)]
struct SetParams {
    key: String,
    value: String,
}

#[derive(Deserialize)]
struct Login {
    user: String,
}

#[derive(Deserialize)]
struct FlashParams {
    level: String,
    msg: String,
}

/// The seed's counter: `asta` counts this client's visits.
async fn index(session: Session) -> Result<Html<String>, SessionError> {
    let num = match session.get_value("asta").await? {
        Some(Value::Number(n)) if n.as_i64().is_some() => {
            let v = n.as_i64().unwrap_or(0);
            session.set("asta", v.saturating_add(1)).await?;
            v
        }
        _ => {
            session.set("asta", 1).await?;
            0
        }
    };
    Ok(Html(format!(
        "<!doctype html>\n<html><head><title>polysession</title></head>\
         <body><h1>polysession demo</h1><p>asta: <span id=\"num\">{num}</span></p></body></html>\n"
    )))
}

async fn get_key(session: Session, Query(q): Query<Key>) -> Result<Json<Value>, SessionError> {
    Ok(Json(
        session.get_value(&q.key).await?.unwrap_or(Value::Null),
    ))
}

async fn set_key(session: Session, Query(q): Query<SetParams>) -> Result<Response, SessionError> {
    let value: Value = match serde_json::from_str(&q.value) {
        Ok(v) => v,
        Err(e) => {
            return Ok(
                (StatusCode::BAD_REQUEST, format!("value is not JSON: {e}\n")).into_response(),
            )
        }
    };
    session.set(&q.key, value).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn delete_key(session: Session, Query(q): Query<Key>) -> Result<StatusCode, SessionError> {
    session.delete(&q.key).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn flush(session: Session) -> Result<StatusCode, SessionError> {
    session.flush().await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn login(session: Session, Query(q): Query<Login>) -> Result<StatusCode, SessionError> {
    session.regenerate().await?;
    session.set("user", q.user).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn logout(session: Session) -> Result<StatusCode, SessionError> {
    session.destroy().await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn add_flash(
    session: Session,
    Query(q): Query<FlashParams>,
) -> Result<StatusCode, SessionError> {
    session.flash(&q.level, &q.msg).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn read_flash(session: Session) -> Result<Json<Value>, SessionError> {
    Ok(Json(json!(session.take_flash().await?)))
}

/// How long `/stats` reuses a count: counting can walk every session of a store, so a client
/// must not be able to make the server do it on every request.
const STATS_TTL: std::time::Duration = std::time::Duration::from_secs(1);

/// The last count and when it was taken.
static STATS: std::sync::Mutex<Option<(std::time::Instant, u64)>> = std::sync::Mutex::new(None);

async fn stats(session: Session) -> Response {
    let cached = *STATS.lock().unwrap_or_else(|p| p.into_inner());
    if let Some((_, n)) = cached.filter(|(at, _)| at.elapsed() < STATS_TTL) {
        return Json(json!({ "active": n })).into_response();
    }
    let counted = session.manager().count().await;
    if let Ok(n) = counted {
        *STATS.lock().unwrap_or_else(|p| p.into_inner()) = Some((std::time::Instant::now(), n));
    }
    match counted {
        Ok(n) => Json(json!({ "active": n })).into_response(),
        Err(e) if e.kind() == ErrorKind::Unsupported => (
            StatusCode::NOT_IMPLEMENTED,
            Json(json!({ "active": null, "error": e.code() })),
        )
            .into_response(),
        Err(e) => SessionError(e).into_response(),
    }
}

fn app(manager: Manager) -> Router {
    Router::new()
        .route("/", get(index))
        .route("/get", get(get_key))
        .route("/set", post(set_key))
        .route("/delete", post(delete_key))
        .route("/flush", post(flush))
        .route("/login", post(login))
        .route("/logout", post(logout))
        .route("/flash", post(add_flash).get(read_flash))
        .route("/stats", get(stats))
        .layer(SessionLayer::new(manager))
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("polysession-demo: {e}");
            return ExitCode::from(2);
        }
    };
    polysession_providers::register_all();
    let manager = match build_config(&args).and_then(|c| Manager::new(c).map_err(|e| e.to_string()))
    {
        Ok(m) => m,
        Err(e) => {
            eprintln!("polysession-demo: {e}");
            return ExitCode::from(2);
        }
    };
    if let Err(e) = manager.init().await {
        eprintln!("polysession-demo: {e}");
        return ExitCode::from(1);
    }
    let listener = match tokio::net::TcpListener::bind((args.host.as_str(), args.port)).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!(
                "polysession-demo: cannot bind {}:{}: {e}",
                args.host, args.port
            );
            return ExitCode::from(1);
        }
    };
    let addr = match listener.local_addr() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("polysession-demo: {e}");
            return ExitCode::from(1);
        }
    };
    let _gc = spawn_gc(manager.clone());
    println!(
        "polysession demo listening on http://{addr} (provider {}, cookie {})",
        manager.config().provider,
        manager.config().cookie_name
    );
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    if let Err(e) = axum::serve(listener, app(manager))
        .with_graceful_shutdown(shutdown)
        .await
    {
        eprintln!("polysession-demo: {e}");
        return ExitCode::from(1);
    }
    ExitCode::SUCCESS
}
