//! Deterministic demo data: the same seed gives the same people, companies, sources and
//! creation dates (spread over the year before the day of seeding).
use chrono::{Duration, TimeZone, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, NotSet, QueryFilter, QueryOrder, QuerySelect, Set,
};

use crate::domain::Db;
use crate::domain::companies::{INDUSTRIES, SIZE_BANDS};
use crate::domain::{normalise, now};
use crate::entities::{company, contact, deal, task, user};
use crate::error::AppError;

pub(crate) const FIRST: &[&str] = &[
    "Ana",
    "Ben",
    "Chloé",
    "David",
    "Elena",
    "Farid",
    "Grace",
    "Hiro",
    "Ines",
    "Jonas",
    "Kemi",
    "Liam",
    "Maya",
    "Noah",
    "Olga",
    "Priya",
    "Quinn",
    "Rafael",
    "Sofia",
    "Tariq",
    "Uma",
    "Victor",
    "Wen",
    "Ximena",
    "Yusuf",
    "Zoe",
    "Aisha",
    "Bruno",
    "Carmen",
    "Dmitri",
    "Emma",
    "Felix",
    "Hana",
    "Igor",
    "Julia",
    "Kofi",
    "Lena",
    "Mateo",
    "Nadia",
    "Oscar",
    "Paula",
    "Ravi",
    "Sara",
    "Tom",
    "Valentina",
    "Will",
    "Yara",
    "Zain",
];
pub(crate) const LAST: &[&str] = &[
    "Smith",
    "García",
    "Müller",
    "Nguyen",
    "Okafor",
    "Rossi",
    "Kowalski",
    "Tanaka",
    "Silva",
    "Dubois",
    "Johansson",
    "Patel",
    "Kim",
    "Cohen",
    "Novak",
    "Haddad",
    "Larsen",
    "Moreau",
    "Schmidt",
    "Ivanova",
    "Fischer",
    "Costa",
    "Brown",
    "Wilson",
    "Lopez",
    "Martin",
    "Yilmaz",
    "Mensah",
    "Andersen",
    "Reyes",
    "Chen",
    "Singh",
    "O'Brien",
    "Weber",
    "Jansen",
    "Sato",
    "Ferreira",
    "Walsh",
    "Kaur",
    "Berg",
];
pub(crate) const COMPANY_A: &[&str] = &[
    "Acme", "Blue", "Bright", "Cedar", "Delta", "Echo", "Falcon", "Granite", "Harbor", "Iron",
    "Juniper", "Kite", "Lumen", "Maple", "North", "Orbit", "Pine", "Quartz", "River", "Summit",
    "Tidal", "Union", "Vertex", "Willow", "Zenith",
];
const COMPANY_B: &[&str] = &[
    "Labs",
    "Systems",
    "Analytics",
    "Health",
    "Logistics",
    "Foods",
    "Robotics",
    "Media",
    "Capital",
    "Energy",
    "Software",
    "Studio",
    "Networks",
    "Bio",
    "Works",
    "Cloud",
];
const TITLES: &[&str] = &[
    "CEO",
    "CTO",
    "Founder",
    "Head of Sales",
    "VP Marketing",
    "Engineer",
    "Product Manager",
    "Operations Lead",
    "Designer",
    "CFO",
    "Account Executive",
    "Procurement Manager",
];
// Weighted: organic and referral are the common ways people arrive.
pub(crate) const SOURCES: &[&str] = &[
    "organic", "organic", "organic", "referral", "referral", "paid", "event", "import", "stripe",
    "other",
];

/// splitmix64: tiny, fast and the same on every platform, which is all seeding needs.
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub(crate) fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    /// A number in [0, 1).
    pub(crate) fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    pub(crate) fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

pub struct Seeded {
    pub contacts: u64,
    pub companies: u64,
}

/// Inserts `contacts` contacts and their companies in batches (see `insert_batched`),
/// owned in turn by the install's active users. The caller refreshes the planner's
/// statistics once everything is seeded (`refresh_statistics`).
pub async fn run(db: &Db, contacts: u64, seed: u64) -> Result<Seeded, AppError> {
    let today = Utc.from_utc_datetime(&now().date_naive().and_time(chrono::NaiveTime::MIN));
    let year_secs = 365 * 24 * 3600;
    run_with(db, contacts, seed, |_, rng| {
        today - Duration::seconds(rng.below(year_secs) as i64)
    })
    .await
}

/// `run` with each contact's creation time given by `created` (its index, the rng).
pub(crate) async fn run_with(
    db: &Db,
    contacts: u64,
    seed: u64,
    mut created: impl FnMut(u64, &mut Rng) -> chrono::DateTime<Utc> + Send,
) -> Result<Seeded, AppError> {
    let owners = ensure_owners(db).await?;
    let mut rng = Rng(seed);
    let company_count = (contacts / 8).clamp(1, 20_000);
    let mut company_names = Vec::with_capacity(company_count as usize);
    for i in 0..company_count {
        let base = format!("{} {}", rng.pick(COMPANY_A), rng.pick(COMPANY_B));
        // Past the first few hundred combinations, a number keeps names distinct.
        let name = if i < 400 {
            base
        } else {
            format!("{base} {}", i / 400 + 1)
        };
        company_names.push(name);
    }
    company_names.sort();
    company_names.dedup();
    let company_ids = insert_companies(db, &company_names, &owners, &mut rng).await?;

    let conflict = OnConflict::column(contact::Column::EmailNorm)
        .do_nothing()
        .to_owned();
    insert_batched(db, contacts, Some(conflict), |i| {
        let first = rng.pick(FIRST);
        let last = rng.pick(LAST);
        let ci = rng.below(company_ids.len());
        let company_slug: String = company_names[ci]
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_lowercase();
        let local: String = format!("{first}.{last}")
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '.')
            .collect::<String>()
            .to_lowercase();
        let email = format!("{local}.{seed}x{i}@{company_slug}.example");
        let phone = format!("+1 555 {:03} {:04}", rng.below(1000), rng.below(10_000));
        let created = created(i, &mut rng);
        let title = rng.pick(TITLES);
        let source = rng.pick(SOURCES);
        let owner = owners[rng.below(owners.len())];
        contact::ActiveModel {
            id: NotSet,
            first_name: Set(first.to_string()),
            last_name: Set(last.to_string()),
            email_norm: Set(Some(normalise(&email))),
            email: Set(Some(email)),
            phone: Set(Some(phone)),
            company_id: Set(Some(company_ids[ci])),
            title: Set(Some(title.to_string())),
            source: Set(source.to_string()),
            owner_id: Set(owner),
            custom: NotSet,
            deleted_at: Set(None),
            deleted_by: Set(None),
            created_at: Set(created),
            updated_at: Set(created),
        }
    })
    .await?;
    Ok(Seeded {
        contacts,
        companies: company_ids.len() as u64,
    })
}

/// Rows per INSERT: 1 000 rows of at most 21 columns stay under both engines' limits on
/// bound values (SQLite 32 766, PostgreSQL 65 535), and fewer, larger statements are what
/// makes a million rows take minutes rather than half an hour.
const PER_STATEMENT: u64 = 1000;
/// Rows per transaction: each commit flushes the search index's pending terms as a new
/// segment (SQLite), so large transactions leave it fewer segments to merge.
const PER_TRANSACTION: u64 = 25_000;

/// Inserts `count` rows made by `row` (given each row's index, in order, so a seed gives
/// the same rows however they are batched): multi-row INSERTs of `PER_STATEMENT` rows,
/// `PER_TRANSACTION` rows per transaction.
pub(crate) async fn insert_batched<A>(
    db: &Db,
    count: u64,
    conflict: Option<OnConflict>,
    mut row: impl FnMut(u64) -> A + Send,
) -> Result<(), AppError>
where
    A: ActiveModelTrait + Send,
{
    let mut done = 0u64;
    while done < count {
        let tx = db.begin_write().await?;
        let end = count.min(done + PER_TRANSACTION);
        while done < end {
            let n = PER_STATEMENT.min(end - done);
            let rows: Vec<A> = (done..done + n).map(&mut row).collect();
            let mut insert = <A::Entity as EntityTrait>::insert_many(rows);
            if let Some(c) = &conflict {
                insert = insert.on_conflict(c.clone());
            }
            insert.exec_without_returning(&tx).await?;
            done += n;
        }
        tx.commit().await?;
    }
    Ok(())
}

/// Fresh planner statistics once the tables have grown (after the last kind seeded), so
/// that the planner picks the right indexes.
pub async fn refresh_statistics(db: &Db) -> Result<(), AppError> {
    crate::db::refresh_statistics(&db.write).await?;
    Ok(())
}

/// Companies with a domain, an industry, a size and an owner each.
async fn insert_companies(
    db: &Db,
    names: &[String],
    owners: &[i64],
    rng: &mut Rng,
) -> Result<Vec<i64>, AppError> {
    let t = now();
    let tx = db.begin_write().await?;
    let mut ids = Vec::with_capacity(names.len());
    for chunk in names.chunks(500) {
        let rows = chunk.iter().map(|name| {
            let slug: String = name
                .chars()
                .filter(|c| c.is_ascii_alphanumeric())
                .collect::<String>()
                .to_lowercase();
            let industry = INDUSTRIES[rng.below(INDUSTRIES.len())].0;
            let size = SIZE_BANDS[rng.below(SIZE_BANDS.len())];
            let owner = owners[rng.below(owners.len())];
            company::ActiveModel {
                id: NotSet,
                name: Set(name.clone()),
                name_norm: Set(normalise(name)),
                domain: Set(Some(format!("{slug}.example"))),
                industry: Set(Some(industry.to_string())),
                size_band: Set(Some(size.to_string())),
                website: NotSet,
                phone: NotSet,
                address: NotSet,
                owner_id: Set(Some(owner)),
                custom: NotSet,
                deleted_at: Set(None),
                deleted_by: Set(None),
                created_at: Set(t),
                updated_at: Set(t),
            }
        });
        // A rerun meets its own names and domains: those companies are kept as they are.
        company::Entity::insert_many(rows)
            .on_conflict(OnConflict::new().do_nothing().to_owned())
            .exec_without_returning(&tx)
            .await?;
    }
    let mut by_norm = std::collections::HashMap::with_capacity(names.len());
    for chunk in names.chunks(500) {
        let found: Vec<(i64, String)> = company::Entity::find()
            .select_only()
            .columns([company::Column::Id, company::Column::NameNorm])
            .filter(company::Column::NameNorm.is_in(chunk.iter().map(|n| normalise(n))))
            .into_tuple()
            .all(&tx)
            .await?;
        by_norm.extend(found.into_iter().map(|(id, norm)| (norm, id)));
    }
    for name in names {
        let id = by_norm
            .get(&normalise(name))
            .ok_or_else(|| AppError::Internal(format!("seeded company {name} missing")))?;
        ids.push(*id);
    }
    tx.commit().await?;
    Ok(ids)
}

/// Owners for the demo contacts: the install's active users. Seeding needs one, so that
/// demo accounts never take the place of the first admin that setup creates.
pub(crate) async fn ensure_owners(db: &Db) -> Result<Vec<i64>, AppError> {
    let owners: Vec<i64> = user::Entity::find()
        .select_only()
        .column(user::Column::Id)
        .filter(user::Column::Active.eq(true))
        .order_by_asc(user::Column::Id)
        .into_tuple()
        .all(&db.read)
        .await?;
    if owners.is_empty() {
        return Err(AppError::BadRequest(
            "seeding needs a user to own the contacts: finish /setup or run `cairn user create` first".into(),
        ));
    }
    Ok(owners)
}

pub(crate) const PRODUCTS: &[&str] = &[
    "pilot",
    "annual plan",
    "expansion",
    "renewal",
    "onboarding",
    "enterprise licence",
    "add-on",
];

/// Deals over the first pipeline's stages: mostly open, some won and lost, with amounts,
/// owners, companies and expected close dates in the coming months.
pub async fn deals(db: &Db, count: u64, seed: u64) -> Result<u64, AppError> {
    if count == 0 {
        return Ok(0);
    }
    let owners = ensure_owners(db).await?;
    let pipeline = crate::domain::deals::pipelines(&db.read)
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| AppError::Internal("no pipeline to seed deals into".into()))?;
    let companies: Vec<i64> = company::Entity::find()
        .select_only()
        .column(company::Column::Id)
        .order_by_asc(company::Column::Id)
        .limit(2000)
        .into_tuple()
        .all(&db.read)
        .await?;
    let mut rng = Rng(seed.wrapping_mul(31).wrapping_add(7));
    let mut positions = std::collections::HashMap::new();
    let t = now();
    let today = t.date_naive();
    let open: Vec<_> = pipeline
        .stages
        .iter()
        .filter(|s| s.kind == "open")
        .collect();
    insert_batched(db, count, None, |_| {
        // Nine in ten open.
        let stage = if rng.below(10) == 0 {
            &pipeline.stages[pipeline.stages.len() - 1 - rng.below(2)]
        } else {
            open[rng.below(open.len())]
        };
        let position = positions.entry(stage.id).or_insert(0i64);
        *position += 1;
        let company = (!companies.is_empty()).then(|| companies[rng.below(companies.len())]);
        let entered = t - Duration::days(rng.below(60) as i64);
        let close = today + Duration::days(rng.below(180) as i64);
        deal::ActiveModel {
            id: NotSet,
            title: Set(format!("{} {}", rng.pick(COMPANY_A), rng.pick(PRODUCTS))),
            pipeline_id: Set(pipeline.id),
            stage_id: Set(stage.id),
            position: Set(*position),
            amount_minor: Set((rng.below(500) as i64 + 1) * 10_000),
            currency: Set("USD".to_string()),
            company_id: Set(company),
            owner_id: Set(owners[rng.below(owners.len())]),
            expected_close: Set(Some(close)),
            probability: NotSet,
            source: Set(rng.pick(SOURCES).to_string()),
            closed_at: Set((stage.kind != "open").then_some(entered)),
            lost_reason: Set((stage.kind == "lost").then(|| "Chose a competitor".to_string())),
            custom: Set("{}".to_string()),
            version: Set(1),
            stage_entered_at: Set(entered),
            deleted_at: Set(None),
            deleted_by: Set(None),
            created_at: Set(entered),
            updated_at: Set(entered),
        }
    })
    .await?;
    Ok(count)
}

pub(crate) const TASKS: &[&str] = &[
    "Call",
    "Email",
    "Send the proposal to",
    "Book a demo with",
    "Follow up with",
    "Check in with",
];

/// Tasks for the first user (My tasks' worst case: one person with all of them), due
/// over the two months around today (half on a date, half at a time, a few with no due),
/// about a third done, half about a seeded contact.
pub async fn tasks(db: &Db, count: u64, seed: u64) -> Result<u64, AppError> {
    if count == 0 {
        return Ok(0);
    }
    let owners = ensure_owners(db).await?;
    let contacts: Vec<i64> = contact::Entity::find()
        .select_only()
        .column(contact::Column::Id)
        .order_by_asc(contact::Column::Id)
        .limit(2000)
        .into_tuple()
        .all(&db.read)
        .await?;
    let mut rng = Rng(seed.wrapping_mul(131).wrapping_add(17));
    let t = now();
    insert_batched(db, count, None, |_| {
        let minutes = rng.below(120 * 24 * 60) as i64 - 60 * 24 * 60;
        let due = t + Duration::minutes(minutes);
        let (due_at, due_date) = match rng.below(20) {
            0 => (None, None),
            k if k % 2 == 0 => (Some(due), None),
            _ => (None, Some(due.date_naive())),
        };
        let finished = rng.below(3) == 0;
        let contact = (!contacts.is_empty() && rng.below(2) == 0)
            .then(|| contacts[rng.below(contacts.len())]);
        task::ActiveModel {
            id: NotSet,
            title: Set(format!("{} {}", rng.pick(TASKS), rng.pick(FIRST))),
            notes: Set(None),
            due_at: Set(due_at),
            due_date: Set(due_date),
            priority: Set(["low", "normal", "normal", "high"][rng.below(4)].to_string()),
            assignee_id: Set(owners[0]),
            created_by: Set(Some(owners[0])),
            contact_id: Set(contact),
            company_id: Set(None),
            deal_id: Set(None),
            done: Set(finished),
            record_trashed: Set(false),
            done_at: Set(finished.then(|| t - Duration::minutes(rng.below(60 * 24 * 30) as i64))),
            version: Set(1),
            created_at: Set(t),
            updated_at: Set(t),
        }
    })
    .await?;
    Ok(count)
}
