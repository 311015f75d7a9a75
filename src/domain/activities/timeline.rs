//! A record's timeline: which activities make it up (its own, and its deals' when asked),
//! read page by page from the newest, as its page and the API show it.
use super::*;

crate::domain::params::paged_params! {
    /// A timeline request as it arrives (page and API alike), as the OpenAPI document
    /// describes it.
    #[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
    #[serde(deny_unknown_fields)]
    #[into_params(parameter_in = Query)]
    pub struct ListParams {
        /// The deal's activities
        pub deal_id: Option<i64>,
        /// The contact's activities
        pub contact_id: Option<i64>,
        /// The company's activities
        pub company_id: Option<i64>,
        // The page's "Show older" continues after the last entry it showed, so entries
        // logged or removed meanwhile do not shift the rest.
        /// Only entries older than this one: `<occurred_at>_<id>` of the last entry seen (its RFC 3339 time, `_`, its id)
        pub before: Option<String>,
        /// For a contact or company: also the activities of its deals
        #[serde(default)]
        #[param(value_type = Option<bool>)]
        pub with_deals: bool,
    }
}

#[derive(Debug, Clone, Copy)]
pub struct ListQuery {
    pub subject: Subject,
    pub page: u64,
    pub per_page: u64,
    pub before: Option<(DateTime<Utc>, i64)>,
    /// Fetch one row past the page, to tell whether anything older is left.
    pub peek: bool,
    /// A contact's or company's timeline also holds its deals' activities.
    pub with_deals: bool,
}

impl ListParams {
    pub fn validate(&self, default_per_page: u64) -> Result<ListQuery, AppError> {
        let mut fields = FieldErrors::new();
        let subject = match (self.deal_id, self.contact_id, self.company_id) {
            (Some(id), None, None) => Some(Subject::Deal(id)),
            (None, Some(id), None) => Some(Subject::Contact(id)),
            (None, None, Some(id)) => Some(Subject::Company(id)),
            _ => {
                fields.set(
                    "deal_id",
                    "Give exactly one of deal_id, contact_id and company_id.",
                );
                None
            }
        };
        let (page, per_page) =
            crate::domain::paging(&self.page, &self.per_page, default_per_page, &mut fields);
        let before = match self.before.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(b) => {
                let parsed = b.rsplit_once('_').and_then(|(at, id)| {
                    Some((
                        DateTime::parse_from_rfc3339(at).ok()?.with_timezone(&Utc),
                        id.parse::<i64>().ok()?,
                    ))
                });
                if parsed.is_none() {
                    fields.set("before", "before is <RFC 3339 time>_<id> of an entry.");
                }
                parsed
            }
        };
        match subject {
            Some(subject) if fields.is_empty() => Ok(ListQuery {
                subject,
                page,
                per_page,
                before,
                peek: false,
                with_deals: self.with_deals,
            }),
            _ => Err(AppError::validation(fields)),
        }
    }
}

impl Activity {
    /// Where "Show older" continues after this entry.
    pub fn cursor(&self) -> String {
        format!(
            "{}_{}",
            self.occurred_at
                .to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            self.id
        )
    }
}

/// Which activities make up a record's timeline: its own, and with `with_deals` those of
/// its deals (a contact's through deal_contacts, a company's through deals.company_id);
/// each side is an index range.
fn timeline(subject: Subject, with_deals: bool) -> Condition {
    let own = match subject {
        Subject::Deal(id) => activity::Column::DealId.eq(id),
        Subject::Contact(id) => activity::Column::ContactId.eq(id),
        Subject::Company(id) => activity::Column::CompanyId.eq(id),
    };
    let deals = match (subject, with_deals) {
        (Subject::Contact(c), true) => Some(
            Query::select()
                .column(deal_contact::Column::DealId)
                .from(deal_contact::Entity)
                .inner_join(
                    deal::Entity,
                    Expr::col((deal::Entity, deal::Column::Id))
                        .equals((deal_contact::Entity, deal_contact::Column::DealId)),
                )
                .and_where(deal_contact::Column::ContactId.eq(c))
                .and_where(Expr::col((deal::Entity, deal::Column::DeletedAt)).is_null())
                .to_owned(),
        ),
        (Subject::Company(c), true) => Some(
            Query::select()
                .column(deal::Column::Id)
                .from(deal::Entity)
                .and_where(deal::Column::CompanyId.eq(c))
                .and_where(deal::Column::DeletedAt.is_null())
                .to_owned(),
        ),
        _ => None,
    };
    let timeline = Condition::any().add(own);
    match deals {
        Some(deals) => timeline.add(activity::Column::DealId.in_subquery(deals)),
        None => timeline,
    }
}

/// A record's activities, newest first: a page of them, or those after `before`. A record
/// that does not exist is a 404.
pub async fn list(db: &Db, actor: &Actor, q: &ListQuery) -> Result<Page<Activity>, AppError> {
    let subject = q.subject;
    let mut noun = subject.noun().to_string();
    noun[..1].make_ascii_uppercase();
    if !exists(&db.read, subject).await? {
        return Err(AppError::not_found(&noun));
    }
    check_subject(db, &db.read, actor, subject, &noun).await?;
    // A contact's timeline with its deals' activities shows only the deals it may see.
    let visible = visible_condition(access::visible(db, actor).await?);
    let total = activity::Entity::find()
        .select_only()
        .column_as(Expr::col(Asterisk).count(), "n")
        .filter(timeline(subject, q.with_deals))
        .apply_if(visible.clone(), |q, v| q.filter(v))
        .into_tuple::<i64>()
        .one(&db.read)
        .await?
        .map_or(0, |n| u64::try_from(n).unwrap_or(0));
    let mut query = select()
        .filter(timeline(subject, q.with_deals))
        .apply_if(visible, |q, v| q.filter(v));
    if let Some((at, before_id)) = q.before {
        query = query.filter(
            Condition::any()
                .add(activity::Column::OccurredAt.lt(at))
                .add(
                    Condition::all()
                        .add(activity::Column::OccurredAt.eq(at))
                        .add(activity::Column::Id.lt(before_id)),
                ),
        );
    }
    query = query
        .order_by_desc(activity::Column::OccurredAt)
        .order_by_desc(activity::Column::Id)
        .limit(q.per_page + u64::from(q.peek));
    if q.before.is_none() {
        query = query.offset((q.page - 1) * q.per_page);
    }
    let items = query.into_model::<Activity>().all(&db.read).await?;
    Ok(Page {
        total,
        total_is_estimate: false,
        page: q.page,
        per_page: q.per_page,
        items,
    })
}
