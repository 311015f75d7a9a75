//! Group commit for new contacts (`group_commit`): a create done alone costs four
//! statements (BEGIN, INSERT, audit INSERT, COMMIT); creates that arrive while a batch is
//! being written wait for the next one, and a whole batch costs those same four
//! statements. Each create stays all-or-nothing: its contact and its audit row are written
//! together, a duplicate email is answered for that create alone, and if a batch fails
//! as a whole its creates are retried one by one so one bad request cannot sink others.
use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use std::future::Future;
use std::sync::Mutex;

use sea_orm::{DatabaseTransaction, EntityTrait, NotSet, Set, TryInsertResult};

use super::{Contact, Valid, active_model, build, company_in, duplicate_email};
use crate::domain::Actor;
use crate::domain::Db;
use crate::domain::group_commit::{self, Batch, Written};
use crate::domain::{normalise, tags, webhooks};
use crate::entities::{audit_log, company, contact, contact_tag, tag};
use crate::error::AppError;

pub(crate) struct CreateJob {
    actor: Actor,
    valid: Valid,
    known_company: Option<company::Model>,
    at: DateTime<Utc>,
}

/// New contacts, committed in groups.
pub(crate) struct Creates;

pub(crate) type Queue = group_commit::Queue<Creates>;

impl Batch for Creates {
    type Job = CreateJob;
    type Out = Contact;
    const MAX: usize = 128;
    const WRITER: &'static str = "contact";

    fn slot(db: &Db) -> &Mutex<Option<Queue>> {
        &db.contact_queue
    }

    fn write<'a>(
        db: &'a Db,
        tx: &'a DatabaseTransaction,
        jobs: &'a [CreateJob],
    ) -> impl Future<Output = Result<Written<Contact>, AppError>> + Send + 'a {
        write(db, tx, jobs)
    }
}

/// Queues a create and waits for its batch to commit.
pub(crate) async fn submit(
    db: &Db,
    actor: &Actor,
    valid: Valid,
    known_company: Option<company::Model>,
    at: DateTime<Utc>,
) -> Result<Contact, AppError> {
    let job = CreateJob {
        actor: actor.clone(),
        valid,
        known_company,
        at,
    };
    group_commit::submit::<Creates>(db, job).await
}

/// Writes the jobs in the group's transaction. The outer error means nothing was
/// written; the inner results say, per job, what was. Long on purpose: the steps (tags,
/// companies, the multi-row insert, links, audit) share the batch's maps and its one
/// transaction.
async fn write(
    db: &Db,
    tx: &DatabaseTransaction,
    jobs: &[CreateJob],
) -> Result<Written<Contact>, AppError> {
    // Companies that did not exist when the requests were validated.
    let mut companies: Vec<Option<company::Model>> = Vec::with_capacity(jobs.len());
    let mut created: HashMap<String, company::Model> = HashMap::new();
    // Each company the batch created, once: its `company.created` event.
    let mut hooked = 0;
    for job in jobs {
        let name = &job.valid.company;
        let company = match (name, &job.known_company) {
            (Some(n), None) => {
                let key = crate::domain::normalise(n);
                match created.get(&key) {
                    Some(c) => Some(c.clone()),
                    None => {
                        let (c, new) = company_in(tx, &job.valid, None).await?;
                        if let Some(c) = &c {
                            created.insert(key, c.clone());
                        }
                        let id = c.as_ref().filter(|_| new).map(|c| c.id);
                        let writer = (Some(job.actor.id), job.actor.ip.as_deref());
                        hooked += super::company_created(db, tx, writer, id).await?;
                        c
                    }
                }
            }
            _ => job.known_company.clone(),
        };
        companies.push(company);
    }

    // Every tag any job names, created once for the batch.
    let mut tag_names: Vec<String> = Vec::new();
    for job in jobs {
        for name in job.valid.tags.iter().flatten() {
            if !tag_names.iter().any(|n| normalise(n) == normalise(name)) {
                tag_names.push(name.clone());
            }
        }
    }
    let tags: HashMap<String, tag::Model> = tags::ensure(tx, &tag_names)
        .await?
        .into_iter()
        .map(|t| (t.name_norm.clone(), t))
        .collect();
    let job_tags = |job: &CreateJob| -> Vec<tag::Model> {
        let mut list: Vec<tag::Model> = job
            .valid
            .tags
            .iter()
            .flatten()
            .filter_map(|n| tags.get(&normalise(n)).cloned())
            .collect();
        list.sort_by(|a, b| a.name_norm.cmp(&b.name_norm));
        list
    };

    // One INSERT for the batch. A duplicate email is skipped (not an error), so the other
    // rows still go in; ids are assigned in VALUES order, which maps them back to jobs.
    let rows = jobs
        .iter()
        .zip(&companies)
        .map(|(job, company)| contact::ActiveModel {
            id: NotSet,
            deleted_at: Set(None),
            deleted_by: Set(None),
            created_at: Set(job.at),
            ..active_model(&job.valid, company.as_ref().map(|c| c.id), job.at)
        });
    let mut inserted = match contact::Entity::insert_many(rows)
        .on_conflict_do_nothing_on([contact::Column::EmailNorm])
        .exec_with_returning_many(tx)
        .await?
    {
        TryInsertResult::Inserted(rows) => rows,
        TryInsertResult::Empty | TryInsertResult::Conflicted => Vec::new(),
    };
    inserted.sort_by_key(|r| r.id);
    let inserted_emails: HashSet<Option<String>> =
        inserted.iter().map(|r| r.email_norm.clone()).collect();

    let mut ids = inserted.iter().map(|r| r.id);
    let mut claimed: HashSet<&str> = HashSet::new();
    let mut outcome: Vec<Option<i64>> = Vec::with_capacity(jobs.len());
    for job in jobs {
        let went_in = match job.valid.email_norm.as_deref() {
            None => true,
            // Present in RETURNING and not already taken by an earlier job of this batch.
            Some(e) => inserted_emails.contains(&Some(e.to_string())) && claimed.insert(e),
        };
        outcome.push(if went_in { ids.next() } else { None });
    }
    if ids.next().is_some() {
        return Err(AppError::Internal(
            "contact batch: ids do not match the requests".into(),
        ));
    }

    let written: Vec<(&CreateJob, i64)> = jobs
        .iter()
        .zip(&outcome)
        .filter_map(|(job, id)| id.map(|id| (job, id)))
        .collect();
    audit_log::Entity::insert_many(written.iter().map(|(job, id)| audit_log::ActiveModel {
        id: NotSet,
        actor_id: Set(Some(job.actor.id)),
        action: Set("create".into()),
        entity: Set("contact".into()),
        entity_id: Set(*id),
        detail: Set(None),
        created_at: Set(job.at),
        ip: Set(job.actor.ip.clone()),
    }))
    .exec_without_returning(tx)
    .await?;
    let links = written.iter().flat_map(|(job, id)| {
        job_tags(job).into_iter().map(|t| contact_tag::ActiveModel {
            contact_id: Set(*id),
            tag_id: Set(t.id),
            ..Default::default()
        })
    });
    contact_tag::Entity::insert_many(links)
        .exec_without_returning(tx)
        .await?;
    let results: Vec<Result<Contact, AppError>> = jobs
        .iter()
        .zip(outcome)
        .zip(companies)
        .map(|((job, id), company)| match id {
            Some(id) => {
                let names = job_tags(job).into_iter().map(|t| t.name).collect();
                Ok(build(id, job.valid.clone(), company, names, job.at, job.at))
            }
            None => Err(duplicate_email()),
        })
        .collect();
    for contact in results.iter().flatten() {
        hooked += webhooks::emit_about(db, tx, "contact", "created", contact).await?;
    }
    let ids: Vec<i64> = results.iter().flatten().map(|c| c.id).collect();
    crate::domain::scoring::lead_scores::changed(db, tx, &ids).await?;
    Ok((results, hooked))
}
