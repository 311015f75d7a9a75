//! What merging two companies needs beyond `records::merge` (which fields: the field
//! table's): moving contacts, deals and activities.
use std::collections::BTreeMap;

use sea_orm::DatabaseTransaction;

use super::{Company, CompanyInput, Valid, validate, write_update};
use crate::domain::records::merge::{Mergeable, relink};
use crate::domain::{Actor, Db};
use crate::entities::{activity, contact, deal, task};
use crate::error::AppError;

impl Mergeable for Company {
    type Valid = Valid;

    async fn check(
        db: &Db,
        actor: &Actor,
        input: &CompanyInput,
        current_owner: Option<i64>,
        custom: &BTreeMap<String, serde_json::Value>,
    ) -> Result<Valid, AppError> {
        validate(db, actor, input, current_owner, custom).await
    }

    async fn move_links(tx: &DatabaseTransaction, keep: i64, lose: i64) -> Result<(), AppError> {
        relink::<contact::Entity>(tx, contact::Column::CompanyId, keep, lose).await?;
        relink::<deal::Entity>(tx, deal::Column::CompanyId, keep, lose).await?;
        relink::<activity::Entity>(tx, activity::Column::CompanyId, keep, lose).await?;
        relink::<task::Entity>(tx, task::Column::CompanyId, keep, lose).await?;
        Ok(())
    }

    async fn write(tx: &DatabaseTransaction, keep: i64, valid: Valid) -> Result<(), AppError> {
        // Both records are the merger's to see (merge checks them); a clash with a third
        // is named as usual.
        write_update(tx, keep, valid, crate::domain::access::Visible::All).await
    }

    fn detail(other: &Company) -> serde_json::Map<String, serde_json::Value> {
        let mut detail = serde_json::Map::new();
        detail.insert("merged_name".into(), other.name.clone().into());
        detail.insert("moved_contacts".into(), other.contact_count.into());
        detail
    }
}
