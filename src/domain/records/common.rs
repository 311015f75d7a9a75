//! What every record type declares the same way: the fields its structs end with, the
//! sorts every list offers, and its writes as the shared pages call them.
use crate::domain::records::{Record, SortKey};
use crate::domain::{Actor, Db};
use crate::error::AppError;

/// Declares a record type's struct with the fields every record type's has after its own:
/// `shown` (tags, custom values and timestamps, as pages and the API show a record),
/// `input` (tags and custom values as a create takes them) or `patch` (the owner, tags
/// and custom values as a partial update takes them).
macro_rules! record_struct {
    (shown $(#[$m:meta])* pub struct $name:ident { $($own:tt)* }) => {
        $(#[$m])*
        pub struct $name {
            $($own)*
            /// Tag names, alphabetical.
            #[serde(default)]
            pub tags: Vec<String>,
            /// Values of the custom fields admins defined, by key.
            #[serde(default)]
            #[schema(value_type = Object)]
            pub custom_fields: std::collections::BTreeMap<String, serde_json::Value>,
            pub created_at: chrono::DateTime<chrono::Utc>,
            pub updated_at: chrono::DateTime<chrono::Utc>,
        }
    };
    (input $(#[$m:meta])* pub struct $name:ident { $($own:tt)* }) => {
        $(#[$m])*
        pub struct $name {
            $($own)*
            /// Tag names; new ones are created.
            #[schema(value_type = Option<Vec<crate::domain::schema::TagName>>, max_items = 20)]
            pub tags: Option<Vec<String>>,
            /// Custom field values by key.
            #[schema(value_type = Option<Object>)]
            pub custom_fields: Option<std::collections::BTreeMap<String, serde_json::Value>>,
        }
    };
    (patch $(#[$m:meta])* pub struct $name:ident { $($own:tt)* }) => {
        $(#[$m])*
        pub struct $name {
            $($own)*
            #[serde(default, deserialize_with = "crate::domain::double_option")]
            #[schema(value_type = i64, required = false)]
            pub owner_id: Option<Option<i64>>,
            /// The whole set of tag names (replaces the current ones; `[]` removes all).
            #[schema(value_type = Option<Vec<crate::domain::schema::TagName>>, max_items = 20)]
            pub tags: Option<Vec<String>>,
            /// Custom field values to change, by key (`null` clears one; others are kept).
            #[schema(value_type = Option<Object>)]
            pub custom_fields: Option<std::collections::BTreeMap<String, serde_json::Value>>,
        }
    };
}

pub(crate) use record_struct;

/// The sorts by creation time every record list offers.
pub const NEWEST: SortKey = SortKey {
    key: "newest",
    label: "Newest first",
    columns: &["created_at"],
    desc: true,
};

pub const OLDEST: SortKey = SortKey {
    key: "oldest",
    label: "Oldest first",
    columns: &["created_at"],
    desc: false,
};

/// A record type's writes, for the code that adds and edits any record type.
#[allow(async_fn_in_trait)]
pub trait Writes: Record + Sized {
    type Input;
    /// A partial update; an input converts to one that sets every field.
    type Patch: From<Self::Input>;
    async fn create(db: &Db, actor: &Actor, input: &Self::Input) -> Result<Self, AppError>;
    async fn update(db: &Db, actor: &Actor, id: i64, patch: Self::Patch) -> Result<Self, AppError>;
}

/// Declares the `create` and `update` of the module it is used in `$record`'s writes.
macro_rules! writes {
    ($record:ident, $input:ident, $patch:ident) => {
        impl crate::domain::records::Writes for $record {
            type Input = $input;
            type Patch = $patch;

            async fn create(db: &Db, actor: &Actor, input: &$input) -> Result<$record, AppError> {
                create(db, actor, input).await
            }

            async fn update(
                db: &Db,
                actor: &Actor,
                id: i64,
                patch: $patch,
            ) -> Result<$record, AppError> {
                update(db, actor, id, patch).await
            }
        }
    };
}

pub(crate) use writes;
