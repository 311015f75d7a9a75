use sea_orm::entity::prelude::*;

/// What one post to a form's endpoint sent and what came of it: `created` or `updated`
/// (the contact), or `rejected` (with `reason`; nothing else was written).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "form_submissions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub form_id: i64,
    pub contact_id: Option<i64>,
    pub status: String,
    pub reason: Option<String>,
    pub ip: Option<String>,
    pub received_at: ChronoDateTimeUtc,
    /// The fields as sent (JSON object of strings).
    pub data: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::form::Entity",
        from = "Column::FormId",
        to = "super::form::Column::Id",
        on_delete = "Cascade"
    )]
    Form,
    #[sea_orm(
        belongs_to = "super::contact::Entity",
        from = "Column::ContactId",
        to = "super::contact::Column::Id",
        on_delete = "SetNull"
    )]
    Contact,
}

impl ActiveModelBehavior for ActiveModel {}
