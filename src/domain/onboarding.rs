//! The first steps offered to an admin of a new install (on `/welcome`) until they are
//! done or dismissed: invite the team, check the pipeline's stages, add contacts (or load
//! demo data to try things first).
use sea_orm::{ConnectionTrait, EntityTrait};

use crate::domain::{Action, Actor, Db, seed, settings, users};
use crate::entities::record_count;
use crate::error::AppError;

const PIPELINE_CHECKED: &str = "onboarding.pipeline_checked";
const DISMISSED: &str = "onboarding.dismissed";
/// How much demo data an admin may load from `/welcome`: enough to try every page.
pub const DEMO_CONTACTS: u64 = 200;
pub const DEMO_DEALS: u64 = 40;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Steps {
    /// Someone besides the first admin has an account.
    pub team: bool,
    /// An admin has opened Settings → Pipelines.
    pub pipeline: bool,
    /// There is at least one contact.
    pub contacts: bool,
    pub dismissed: bool,
}

impl Steps {
    pub fn done(&self) -> usize {
        [self.team, self.pipeline, self.contacts]
            .iter()
            .filter(|d| **d)
            .count()
    }

    pub const TOTAL: usize = 3;

    /// Nothing left to offer: every step done, or the admin said not to show them again.
    pub fn complete(&self) -> bool {
        self.dismissed || self.done() == Self::TOTAL
    }
}

async fn contact_count(conn: &impl ConnectionTrait) -> Result<i64, AppError> {
    Ok(record_count::Entity::find_by_id("contacts".to_string())
        .one(conn)
        .await?
        .map_or(0, |c| c.n))
}

pub async fn steps(db: &Db) -> Result<Steps, AppError> {
    Ok(Steps {
        team: users::count(&db.read).await? > 1,
        pipeline: settings::get(&db.read, PIPELINE_CHECKED).await?.is_some(),
        contacts: contact_count(&db.read).await? > 0,
        dismissed: settings::get(&db.read, DISMISSED).await?.is_some(),
    })
}

/// Called when an admin opens Settings → Pipelines: looking at the stages is the step.
pub async fn pipeline_checked(db: &Db, actor: &Actor) -> Result<(), AppError> {
    if !actor.can(Action::ManagePipelines)
        || settings::get(&db.read, PIPELINE_CHECKED).await?.is_some()
    {
        return Ok(());
    }
    settings::set(&db.write, PIPELINE_CHECKED, "1").await
}

pub async fn dismiss(db: &Db, actor: &Actor) -> Result<(), AppError> {
    actor.require(Action::Onboarding)?;
    settings::set(&db.write, DISMISSED, "1").await
}

/// Fills an empty install with demo contacts, companies and deals to try the product
/// with. Refused once there are contacts: demo data must never mix with real data.
pub async fn load_demo(db: &Db, actor: &Actor) -> Result<seed::Seeded, AppError> {
    actor.require(Action::Onboarding)?;
    if contact_count(&db.read).await? > 0 {
        return Err(AppError::Conflict {
            message: "Demo data can only be loaded into an empty workspace; this one has contacts."
                .into(),
            fields: Default::default(),
        });
    }
    let seeded = seed::run(db, DEMO_CONTACTS, 1).await?;
    seed::deals(db, DEMO_DEALS, 1).await?;
    seed::refresh_statistics(db).await?;
    Ok(seeded)
}
