//! The funnel's queries read indexes, not whole tables: each statement's plan, asked of
//! the database itself over seeded data (20 000 contacts over a year, 4 000 deals, 2 000
//! tasks, 20 000 activities), statistics refreshed as `cairn seed` leaves them. A month's
//! funnel must read contacts through an index on their creation time (their first
//! interaction kept on them, no activity or task read), and won deals through their
//! closing time's.
use cairn::domain::reports::{Params, forecast, funnel, pipeline, velocity, win_rate};
use cairn::entities::{activity, deal_stage_change};
use chrono::{Duration, Utc};
use sea_orm::{ActiveValue::NotSet, ConnectionTrait, DatabaseBackend, EntityTrait, Set, Statement};

use crate::support::*;

async fn seeded() -> TestApp {
    let app = TestApp::new().await;
    app.user("admin@example.com", "admin").await;
    cairn::domain::seed::run(&app.db, 20_000, 3).await.unwrap();
    cairn::domain::seed::deals(&app.db, 4_000, 3).await.unwrap();
    cairn::domain::seed::tasks(&app.db, 2_000, 3).await.unwrap();
    let t = Utc::now();
    for batch in 0..20 {
        let rows = (0..1000i64).map(|i| {
            let n = batch * 1000 + i;
            activity::ActiveModel {
                id: NotSet,
                kind: Set("note".into()),
                body: Set("Spoke".into()),
                occurred_at: Set(t - Duration::minutes(n * 26)),
                deal_id: Set(None),
                contact_id: Set(Some(n % 20_000 + 1)),
                company_id: Set(None),
                author_id: Set(Some(1)),
                created_at: Set(t),
                version: Set(1),
                edited_at: Set(None),
            }
        });
        activity::Entity::insert_many(rows)
            .exec(&app.db.write)
            .await
            .unwrap();
    }
    cairn::domain::seed::refresh_statistics(&app.db)
        .await
        .unwrap();
    app
}

/// The plan of each of the funnel's statements for `query`: its scan lines only (the
/// week CASE makes PostgreSQL's other lines long).
async fn plans(app: &TestApp, query: &str) -> Vec<String> {
    explain(app, query, funnel::statements).await
}

pub(crate) async fn explain(
    app: &TestApp,
    query: &str,
    statements: fn(&cairn::domain::reports::Filters, DatabaseBackend) -> Vec<Statement>,
) -> Vec<String> {
    explain_in(app, chrono_tz::Europe::Paris, query, statements).await
}

/// The same for an organisation in `tz`.
async fn explain_in(
    app: &TestApp,
    tz: chrono_tz::Tz,
    query: &str,
    statements: fn(&cairn::domain::reports::Filters, DatabaseBackend) -> Vec<Statement>,
) -> Vec<String> {
    let p = Params::from_query(query).unwrap();
    let f = p.validate(tz, Utc::now()).unwrap();
    let backend = app.db.backend();
    let (explain, col) = match backend {
        DatabaseBackend::Postgres => ("EXPLAIN ", "QUERY PLAN"),
        _ => ("EXPLAIN QUERY PLAN ", "detail"),
    };
    let mut out = Vec::new();
    for s in statements(&f, backend) {
        let values = s.values.clone().map(|v| v.0).unwrap_or_default();
        let stmt = Statement::from_sql_and_values(backend, format!("{explain}{}", s.sql), values);
        let rows = app.db.read.query_all_raw(stmt).await.unwrap();
        let plan: Vec<String> = rows
            .iter()
            .map(|r| r.try_get::<String>("", col).unwrap())
            .filter(|l| {
                l.contains("Scan")
                    || l.contains("SCAN")
                    || l.contains("SEARCH")
                    || l.contains("Cond")
            })
            .map(|l| l.trim().to_string())
            .collect();
        out.push(plan.join("\n"));
    }
    out
}

#[actix_web::test]
async fn a_months_funnel_reads_its_rows_through_indexes() {
    let app = seeded().await;
    for query in [
        "days=30",
        "days=30&owner=1",
        "days=30&source=paid",
        "days=365",
    ] {
        let p = plans(&app, query).await;
        eprintln!("== {query}\n{}", p.join("\n--\n"));
        if query == "days=365" {
            continue; // A year is most of the table: a scan of it may well be the best plan.
        }
        // Created and interacted: the contacts alone (their first interaction is theirs).
        assert!(
            p[0].contains("idx_contacts_"),
            "{query}, contacts: {}",
            p[0]
        );
        assert!(!p[0].contains("activities"), "{query}: {}", p[0]);
        assert!(p[1].contains("idx_deals_closed_at"), "{query}: {}", p[1]);
    }
    // Pipeline by stage: the open stages are most deals (a scan may be best); the closed
    // ones in a range are read by closing time.
    let p = explain(&app, "days=30", pipeline::statements).await;
    eprintln!("== pipeline days=30\n{}", p.join("\n--\n"));
    assert!(
        p[1].contains("idx_deals_closed_at"),
        "closed stages: {}",
        p[1]
    );
    let p = explain(&app, "days=90", win_rate::statements).await;
    eprintln!("== win rate days=90\n{}", p.join("\n--\n"));
    assert!(p[0].contains("idx_deals_closed_at"), "win rate: {}", p[0]);
}

/// Stage velocity over a year of history (four moves each of the 4 000 deals): a month's
/// stays are read through a stay index (by time ended, or by stage and length), not the
/// whole history; the stuck deals' plan is printed (most deals are open: a scan may win).
#[actix_web::test]
async fn velocity_reads_a_months_stays_through_an_index() {
    let app = seeded().await;
    let t = Utc::now();
    let rows = (1..=4000i64).flat_map(|deal| {
        (0..4i64).map(move |k| deal_stage_change::ActiveModel {
            id: NotSet,
            deal_id: Set(deal),
            from_stage_id: Set(Some((deal + k) % 4 + 1)),
            to_stage_id: Set((deal + k + 1) % 4 + 1),
            user_id: Set(None),
            created_at: Set(t - Duration::days(deal * 7919 % 365) + Duration::days(k)),
            from_stage_name: Set(None),
            to_stage_name: Set(None),
            stay_ms: Set(Some((deal * 37 + k) % 20 * 3_600_000)),
        })
    });
    let rows: Vec<_> = rows.collect();
    for chunk in rows.chunks(1000) {
        deal_stage_change::Entity::insert_many(chunk.to_vec())
            .exec(&app.db.write)
            .await
            .unwrap();
    }
    cairn::domain::seed::refresh_statistics(&app.db)
        .await
        .unwrap();
    let p = explain(&app, "days=30", velocity::statements).await;
    eprintln!("== velocity days=30\n{}", p.join("\n--\n"));
    assert!(p[0].contains("idx_stage_changes_"), "stays: {}", p[0]);
    assert!(
        !p[0].contains("Seq Scan on deal_stage_changes"),
        "stays: {}",
        p[0]
    );
    let year = explain(&app, "days=365", velocity::statements).await;
    eprintln!("== velocity days=365\n{}", year.join("\n--\n"));
}

/// The forecast reads the open stages' deals from a board index by stage that carries
/// amount, currency, probability and expected close (SQLite: no table read); most deals
/// are open, so PostgreSQL may well scan the table, which the plan printed shows.
#[actix_web::test]
async fn the_forecast_reads_open_deals_from_an_index() {
    let app = seeded().await;
    let p = explain(&app, "", forecast::statements).await;
    eprintln!("== forecast\n{}", p.join("\n--\n"));
    if app.db.backend() == DatabaseBackend::Sqlite {
        assert!(p[0].contains("COVERING INDEX idx_deals_"), "{}", p[0]);
    }
}

/// Activity per user sums a year's hourly counters (all of them, here: PostgreSQL may
/// read the table whole), never the activities, and the tasks done by their completion
/// time; where weeks start off the hour (Kolkata), the split hours' activities are read
/// from the index by time, not the whole year between them.
#[actix_web::test]
async fn a_years_activity_reads_counters_and_indexes() {
    let app = seeded().await;
    let statements = cairn::domain::reports::activity::statements;
    let p = explain(&app, "days=365", statements).await;
    eprintln!("== activity days=365\n{}", p.join("\n--\n"));
    let counters = |plan: &str| plan.contains("activity_hours") && !plan.contains("activities");
    assert!(counters(&p[0]), "counters: {}", p[0]);
    assert!(p[1].contains("idx_tasks_"), "tasks: {}", p[1]);
    assert_eq!(p.len(), 2, "Paris starts its weeks on the hour: {p:?}");
    let kolkata = explain_in(&app, chrono_tz::Asia::Kolkata, "days=365", statements).await;
    eprintln!("== Kolkata\n{}", kolkata.join("\n--\n"));
    assert!(counters(&kolkata[0]), "counters: {}", kolkata[0]);
    assert!(
        kolkata[2].contains("idx_activities_occurred")
            && !kolkata[2].contains("SCAN")
            && !kolkata[2].contains("Seq Scan"),
        "split hours: {}",
        kolkata[2]
    );
}
