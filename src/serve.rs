//! `cairn serve`: the web server with its job workers, the separate metrics address, and
//! the log and traces every command starts with (`init_tracing`). Stops on SIGTERM or
//! Ctrl-C, finishing open requests and running jobs.
use std::sync::Arc;

use actix_web::cookie::Key;
use actix_web::{HttpServer, web};

use crate::app::{self, AppState};
use crate::cli::{Failure, fail, open};
use crate::config::Config;
use crate::domain::{Db, backup, secrets, setup};
use crate::jobs;

/// Log lines on stderr: text, coloured on a terminal, or with `json` one JSON object per
/// line (its fields at the top level) for a log collector. With an OTLP endpoint, spans
/// go there too, whatever `CAIRN_LOG` lets through to the log.
pub(crate) fn init_tracing(config: &Config) -> Result<(), String> {
    use tracing_subscriber::Layer;
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    let filter = tracing_subscriber::EnvFilter::try_new(&config.log)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let fmt = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
    let fmt = match config.log_json {
        true => fmt.json().flatten_event(true).boxed(),
        false => fmt
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .boxed(),
    };
    let spans = match &config.otlp_endpoint {
        None => None,
        Some(endpoint) => {
            let tracer = crate::traces::start(endpoint)
                .map_err(|e| format!("invalid CAIRN_OTLP_ENDPOINT: {e}"))?;
            let cairn = tracing_subscriber::filter::Targets::new()
                .with_target("cairn", tracing::Level::INFO);
            Some(
                tracing_opentelemetry::layer()
                    .with_tracer(tracer)
                    .with_filter(cairn),
            )
        }
    };
    let _ = tracing_subscriber::registry()
        .with(fmt.with_filter(filter))
        .with(spans)
        .try_init();
    Ok(())
}

pub(crate) async fn serve(config: Config) -> Result<(), Failure> {
    // Held until the server stops: `cairn restore` refuses while it is (`backup::lock`).
    let _serving = match backup::sqlite_path(&config.database_url) {
        Some(path) => Some(backup::lock::shared(&path)?),
        None => None,
    };
    let db = open(&config).await?;
    let key_bytes = secrets::session_key(&db, config.secret_key.as_deref()).await?;
    let key = Key::try_from(&key_bytes[..]).map_err(|e| fail(format!("session key: {e}")))?;
    if let Some(token) = setup::begin(&db).await? {
        tracing::warn!(
            "No user exists yet. Create the first admin at {}/setup?token={token}",
            config.base_url
        );
    }
    jobs::kinds::ensure_recurring(&db).await?;
    crate::domain::stripe::backfill::ensure(&db).await?;
    let mail_env = Arc::new(config.mail.clone());
    warn_if_mail_is_held(&db, &mail_env).await?;
    let workers = config.job_workers;
    let runner = (workers > 0).then(|| {
        let options = jobs::Options {
            workers,
            ..Default::default()
        };
        let hooks = Arc::new(crate::domain::webhooks::Env::new(
            config.webhooks_allow_private,
            &config.base_url,
        ));
        let registry = jobs::kinds::registry_with(mail_env, hooks);
        jobs::Runner::new(db.clone(), registry, options).start()
    });
    let bind = config.bind;
    let metrics_bind = config.metrics_bind;
    let state = web::Data::new(AppState {
        db,
        config: Arc::new(config),
    });
    let metrics = match metrics_bind {
        Some(at) => Some(metrics_server(state.clone(), at)?),
        None => None,
    };
    let upkeep = tokio::spawn(async {
        let mut every = tokio::time::interval(std::time::Duration::from_secs(5));
        loop {
            every.tick().await;
            crate::telemetry::upkeep();
        }
    });
    let app_state = state.clone();
    let server = HttpServer::new(move || app::build(app_state.clone(), key.clone()))
        .bind(bind)
        .map_err(|e| Failure {
            code: 2,
            message: format!("invalid CAIRN_BIND: cannot listen on {bind}: {e}"),
        })?;
    tracing::info!("Cairn is listening on http://{bind} with {workers} job workers");
    let served = until_stopped(server.run(), runner.as_ref()).await;
    upkeep.abort();
    if let Some(m) = metrics {
        m.stop(true).await;
    }
    // The exporter's thread sends what it holds; waiting for it blocks, so off the runtime.
    let _ = tokio::task::spawn_blocking(crate::traces::flush).await;
    if let Some(runner) = runner
        && !runner.finish(jobs::worker::SHUTDOWN_WAIT).await
    {
        tracing::warn!(
            "jobs still running after {} s were left: they run again when their lease ends",
            jobs::worker::SHUTDOWN_WAIT.as_secs()
        );
    }
    served.map_err(|e| fail(format!("server stopped: {e}")))
}

/// The separate metrics address (`CAIRN_METRICS_BIND`): one worker, no signals of its
/// own (the pages' server stops it).
fn metrics_server(
    state: web::Data<AppState>,
    at: std::net::SocketAddr,
) -> Result<actix_web::dev::ServerHandle, Failure> {
    let server = HttpServer::new(move || crate::web::metrics::separate(state.clone()))
        .workers(1)
        .disable_signals()
        .bind(at)
        .map_err(|e| Failure {
            code: 2,
            message: format!("invalid CAIRN_METRICS_BIND: cannot listen on {at}: {e}"),
        })?
        .run();
    let handle = server.handle();
    tokio::spawn(server);
    tracing::info!("metrics are served without a token on http://{at}/metrics");
    Ok(handle)
}

/// Says once, at start, that email is kept in the outbox rather than sent.
async fn warn_if_mail_is_held(db: &Db, env: &crate::mail::Env) -> Result<(), Failure> {
    let mail = crate::mail::settings::effective(&db.read, env).await?;
    match &mail.smtp {
        None => tracing::warn!(
            "email is not being sent: no SMTP server is configured (CAIRN_SMTP_URL or Settings → Email); messages are kept in the outbox"
        ),
        // The URL as shown has no password.
        Some(s) => {
            tracing::info!(smtp = %s.shown(), from = %mail.from, "email goes out through this SMTP server")
        }
    }
    Ok(())
}

/// Serves until actix stops by itself on SIGTERM or Ctrl-C (it finishes open requests);
/// on the same signal the job workers stop claiming, so both wind down together.
async fn until_stopped(
    server: actix_web::dev::Server,
    runner: Option<&jobs::Running>,
) -> std::io::Result<()> {
    let mut server = std::pin::pin!(server);
    tokio::select! {
        served = &mut server => served,
        () = shutdown_signal() => {
            tracing::info!("stopping: finishing open requests and running jobs");
            if let Some(r) = runner {
                r.stop();
            }
            server.await
        }
    }
}

async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    match signal(SignalKind::terminate()) {
        Ok(mut term) => tokio::select! {
            _ = term.recv() => {}
            () = ctrl_c => {}
        },
        Err(_) => ctrl_c.await,
    }
}
