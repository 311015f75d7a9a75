//! List requests as they arrive: one struct per list parses the query string, and the
//! OpenAPI document describes that same struct (`IntoParams`), so the two cannot drift.

/// Declares a paged list's query parameters: the struct as given (its derives included,
/// `IntoParams` among them), then `page` and `per_page` as every paged list reads them.
macro_rules! paged_params {
    ($(#[$m:meta])* pub struct $name:ident { $($own:tt)* }) => {
        $(#[$m])*
        pub struct $name {
            $($own)*
            /// From 1
            #[param(value_type = Option<u64>, minimum = 1, maximum = 1000000)]
            pub page: Option<String>,
            /// 1 to 100, default 25
            #[param(value_type = Option<u64>, minimum = 1, maximum = 100)]
            pub per_page: Option<String>,
        }
    };
}

pub(crate) use paged_params;
