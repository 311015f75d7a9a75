//! The macros a record type is declared with: `record!` (its entities and columns),
//! `list_params!` (its list's query parameters) and `owned_input!` (its input's owner,
//! tags and custom values). What they write is the same for every record type; what
//! differs is what the record type's module passes them.

/// Declares `$record` a record: its entity module, its tag link module and the link's
/// column naming the record. Columns are the ones every record table has. Given its input
/// and patch (`Record(Input, Patch)`), the input is declared the record's
/// (`owned_input!`) and the module's `create` and `update` its writes (`writes!`).
macro_rules! record {
    ($record:ident($input:ident, $patch:ident), $entity:ident, $link:ident, $link_record:ident) => {
        crate::domain::records::record!($record, $entity, $link, $link_record);
        crate::domain::records::owned_input!($input, KIND);
        crate::domain::records::writes!($record, $input, $patch);
    };
    ($record:ident, $entity:ident, $link:ident, $link_record:ident) => {
        impl crate::domain::records::Record for $record {
            const KIND: &'static crate::domain::records::Kind = &KIND;
            type Entity = crate::entities::$entity::Entity;
            type TagLink = crate::entities::$link::Entity;
            const ID: crate::entities::$entity::Column = crate::entities::$entity::Column::Id;
            const OWNER: crate::entities::$entity::Column =
                crate::entities::$entity::Column::OwnerId;
            const UPDATED_AT: crate::entities::$entity::Column =
                crate::entities::$entity::Column::UpdatedAt;
            const DELETED_AT: crate::entities::$entity::Column =
                crate::entities::$entity::Column::DeletedAt;
            const DELETED_BY: crate::entities::$entity::Column =
                crate::entities::$entity::Column::DeletedBy;
            const LINK_RECORD: crate::entities::$link::Column =
                crate::entities::$link::Column::$link_record;
            const LINK_TAG: crate::entities::$link::Column = crate::entities::$link::Column::TagId;

            fn id(&self) -> i64 {
                self.id
            }

            fn tags(&self) -> &[String] {
                &self.tags
            }

            fn custom(&self) -> &std::collections::BTreeMap<String, serde_json::Value> {
                &self.custom_fields
            }
        }
    };
}

pub(crate) use record;

/// Declares a record list's parameters: the struct that parses the query string, which is
/// also what the OpenAPI document describes (`IntoParams`). It has the record type's own
/// fields (`q` first) and then those every list reads: owner, tags, sort, custom field
/// filters, page, per_page and after. The type's docs for `tags` and `sort` and its sort
/// schema come after the struct. The module implements `fn own(&self, q, fields)`, its own
/// filters checked (messages on `fields`); this gives `from_query`, `validate` and `Params`.
macro_rules! list_params {
    (
        $(#[$m:meta])*
        pub struct $params:ident { $($own:tt)* }
        $(#[$tags_doc:meta])* tags,
        $(#[$sort_doc:meta])* sort: $sort:ident $(,)?
    ) => {
        $(#[$m])*
        #[derive(Debug, Clone, Default, serde::Deserialize, serde::Serialize, utoipa::IntoParams)]
        #[into_params(parameter_in = Query)]
        pub struct $params {
            $($own)*
            /// Owner's user id.
            #[param(value_type = Option<i64>)]
            pub owner: Option<String>,
            $(#[$tags_doc])*
            pub tags: Option<String>,
            $(#[$sort_doc])*
            #[param(value_type = Option<crate::domain::schema::$sort>)]
            pub sort: Option<String>,
            /// Custom field filters, one `cf.<key>=value` per field (`cf.plan=pro`): the value
            /// equals the field's, or is one of a multi-select's. An unknown key is a 422.
            #[serde(rename = "cf", default, deserialize_with = "crate::domain::records::not_read")]
            #[param(value_type = Option<Object>)]
            pub custom: std::collections::BTreeMap<String, String>,
            /// 1 or more (default 1).
            #[param(value_type = Option<u64>, minimum = 1, maximum = 1000000)]
            pub page: Option<String>,
            /// 1 to 100 (default 25).
            #[param(value_type = Option<u64>, minimum = 1, maximum = 100)]
            pub per_page: Option<String>,
            /// Keyset paging: the id of the last record of the previous page. The page starts
            /// right after that record in the list's order (`page` then only numbers it), so a
            /// deep page costs what the first does; an id no record has gives an empty page.
            #[param(value_type = Option<i64>)]
            pub after: Option<String>,
        }

        impl $params {
            /// Reads a list's query string, custom field filters (`cf.<key>`) included.
            pub fn from_query(query: &str) -> Result<$params, crate::error::AppError> {
                crate::domain::records::params_from_query(query, |p: &mut $params, custom| {
                    p.custom = custom
                })
            }

            /// Unknown or out-of-range values are a 422 naming the parameter, never an
            /// empty list.
            pub fn validate(
                &self,
                default_per_page: u64,
            ) -> Result<crate::domain::records::ListQuery, crate::error::AppError> {
                let mut fields = crate::error::FieldErrors::new();
                let common = crate::domain::records::Common {
                    q: &self.q,
                    owner: &self.owner,
                    tags: &self.tags,
                    sort: &self.sort,
                    page: &self.page,
                    per_page: &self.per_page,
                    after: &self.after,
                    custom: &self.custom,
                }
                .check(&KIND, default_per_page, &mut fields);
                let own = self.own(common.q.as_deref(), &mut fields);
                if !fields.is_empty() {
                    return Err(crate::error::AppError::validation(fields));
                }
                Ok(common.query(&KIND, own))
            }
        }

        impl crate::domain::records::Params for $params {
            fn from_query(query: &str) -> Result<$params, crate::error::AppError> {
                $params::from_query(query)
            }

            fn validate(
                &self,
                default_per_page: u64,
            ) -> Result<crate::domain::records::ListQuery, crate::error::AppError> {
                $params::validate(self, default_per_page)
            }

            fn custom(&self) -> &std::collections::BTreeMap<String, String> {
                &self.custom
            }
        }
    };
}

pub(crate) use list_params;

/// Declares `$input` (with `owner_id`, `tags` and `custom_fields`) the input of the
/// record type whose `Kind` is `$kind`.
macro_rules! owned_input {
    ($input:ident, $kind:path) => {
        impl crate::domain::records::OwnedInput for $input {
            const KIND: &'static crate::domain::records::Kind = &$kind;
            fn owner_id(&self) -> Option<i64> {
                self.owner_id
            }
            fn tags(&self) -> Option<&Vec<String>> {
                self.tags.as_ref()
            }
            fn custom_fields(&self) -> Option<&BTreeMap<String, serde_json::Value>> {
                self.custom_fields.as_ref()
            }
            fn set_tags(&mut self, tags: Vec<String>) {
                self.tags = Some(tags);
            }
            fn set_owner_id(&mut self, owner_id: i64) {
                self.owner_id = Some(owner_id);
            }
            fn set_custom_fields(&mut self, custom: BTreeMap<String, serde_json::Value>) {
                self.custom_fields = Some(custom);
            }
        }
    };
}

pub(crate) use owned_input;
