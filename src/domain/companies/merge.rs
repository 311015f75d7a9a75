//! What merging two companies needs beyond `records::merge`: which fields, and moving
//! contacts, deals and activities.
use std::collections::BTreeMap;

use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter};

use super::{Company, CompanyInput, Valid, validate, write_update};
use crate::domain::records::merge::Mergeable;
use crate::domain::{Actor, Db};
use crate::entities::{activity, contact, deal, task};
use crate::error::AppError;

/// The fields whose value can be taken from either company in a merge.
pub const MERGE_FIELDS: [&str; 8] = [
    "name",
    "domain",
    "industry",
    "size_band",
    "website",
    "phone",
    "address",
    "owner_id",
];

impl Mergeable for Company {
    type Input = CompanyInput;
    type Valid = Valid;
    const FIELDS: &'static [&'static str] = &MERGE_FIELDS;

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
        contact::Entity::update_many()
            .col_expr(contact::Column::CompanyId, Expr::value(keep))
            .filter(contact::Column::CompanyId.eq(lose))
            .exec(tx)
            .await?;
        deal::Entity::update_many()
            .col_expr(deal::Column::CompanyId, Expr::value(keep))
            .filter(deal::Column::CompanyId.eq(lose))
            .exec(tx)
            .await?;
        activity::Entity::update_many()
            .col_expr(activity::Column::CompanyId, Expr::value(keep))
            .filter(activity::Column::CompanyId.eq(lose))
            .exec(tx)
            .await?;
        task::Entity::update_many()
            .col_expr(task::Column::CompanyId, Expr::value(keep))
            .filter(task::Column::CompanyId.eq(lose))
            .exec(tx)
            .await?;
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
