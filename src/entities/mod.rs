//! sea-orm entities, one file per table. No business rules here: those live in `domain`.
//!
//! The SQLite FTS5 search indexes (`contacts_fts`, `companies_fts`, `deals_fts` and their
//! shadow tables) have no entity: they are virtual tables kept by triggers, not tables of
//! records, and PostgreSQL has none (it searches with trigram indexes).

/// Declares the entity of a record type's tag link table (`contact_tags`, `company_tags`):
/// the record's id and the tag's, both keys, both removed with what they point at; then
/// any columns of the link's own (`contact_tag`'s trigger-kept copies).
macro_rules! tag_link {
    ($table:literal, $record:ident, $record_id:ident, $RecordId:ident, $Record:ident
     $(, $(#[$meta:meta])* $field:ident: $ty:ty)* $(,)?) => {
        use sea_orm::entity::prelude::*;

        #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
        #[sea_orm(table_name = $table)]
        pub struct Model {
            #[sea_orm(primary_key, auto_increment = false)]
            pub $record_id: i64,
            #[sea_orm(primary_key, auto_increment = false)]
            pub tag_id: i64,
            $($(#[$meta])* pub $field: $ty,)*
        }

        #[derive(Copy, Clone, Debug, EnumIter)]
        pub enum Relation {
            $Record,
            Tag,
        }

        impl RelationTrait for Relation {
            fn def(&self) -> RelationDef {
                match self {
                    Relation::$Record => Entity::belongs_to(super::$record::Entity)
                        .from(Column::$RecordId)
                        .to(super::$record::Column::Id)
                        .on_delete(ForeignKeyAction::Cascade)
                        .into(),
                    Relation::Tag => Entity::belongs_to(super::tag::Entity)
                        .from(Column::TagId)
                        .to(super::tag::Column::Id)
                        .on_delete(ForeignKeyAction::Cascade)
                        .into(),
                }
            }
        }

        impl Related<super::$record::Entity> for Entity {
            fn to() -> RelationDef {
                Relation::$Record.def()
            }
        }

        impl Related<super::tag::Entity> for Entity {
            fn to() -> RelationDef {
                Relation::Tag.def()
            }
        }

        impl ActiveModelBehavior for ActiveModel {}
    };
}

pub mod activity;
pub mod activity_hour;
pub mod activity_revision;
pub mod api_token;
pub mod audit_log;
pub mod billing_entry;
pub mod change_counter;
pub mod company;
pub mod company_tag;
pub mod contact;
pub mod contact_billing;
pub mod contact_score;
pub mod contact_tag;
pub mod custom_field;
pub mod deal;
pub mod deal_contact;
pub mod deal_score;
pub mod deal_stage_change;
pub mod form;
pub mod form_submission;
pub mod import;
pub mod import_change;
pub mod import_file;
pub mod import_pending_link;
pub mod import_source;
pub mod invite;
pub mod job;
pub mod login_attempt;
pub mod mrr_change;
pub mod notification_pref;
pub mod outbox;
pub mod password_reset;
pub mod pending_sign_in;
pub mod pipeline;
pub mod pipeline_stage;
pub mod record_count;
pub mod recovery_code;
pub mod reset_request;
pub mod saved_view;
pub mod scoring_model;
pub mod session;
pub mod setting;
pub mod stripe_event;
pub mod stripe_pruned_event;
pub mod tag;
pub mod task;
pub mod two_factor;
pub mod user;
pub mod view_default;
pub mod webhook_delivery;
pub mod webhook_endpoint;
