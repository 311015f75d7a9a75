//! Deal contact rows (Salesforce's `OpportunityContactRole.csv`, Cairn's
//! `deal_contacts.csv`): each links one deal and one contact, of this import or of Cairn
//! (by an earlier import's source id). A link that exists already is skipped; an end in
//! neither waits for a later import, held by the other (`pending`); a row whose ends are
//! both missing fails, naming them. Written with the deals' own `deal::link`.
use std::collections::{HashMap, HashSet};

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde::{Deserialize, Serialize};

use super::cells::Cells;
use super::deal::live_sources;
use super::pending::{self, Waiting};
use super::plan::{Action, Ctx, Plan, Planned, Ref};
use super::{Outcome, deal};
use crate::domain::import::{MappedRow, ObjectKind};
use crate::entities::deal_contact;
use crate::error::AppError;

/// The two ends of a planned link.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub(in crate::domain::import) struct Link {
    pub deal: Ref,
    pub contact: Ref,
}

/// One end of a row's link: planned in this import, else live in Cairn, else waiting for
/// a later import (`Ctx::later`).
fn end(
    ctx: &Ctx,
    known: &HashMap<String, i64>,
    c: &Cells,
    kind: ObjectKind,
    what: &str,
) -> Result<Ref, String> {
    let raw = c
        .link_id(kind)
        .ok_or_else(|| format!("The row names no {what} (its {what} id is empty)."))?;
    let key = ctx.key(raw);
    if let Some(&i) = ctx.by_source.get(&(kind, key.clone())) {
        return Ok(Ref::Planned(i));
    }
    match known.get(&key) {
        Some(&id) => Ok(Ref::Id(id)),
        None => ctx.later(kind, &(what[..1].to_uppercase() + &what[1..]), raw),
    }
}

/// The links that exist already between the deals and contacts of Cairn `links` name.
async fn existing(ctx: &Ctx<'_>, links: &[Link]) -> Result<HashSet<(i64, i64)>, AppError> {
    let deals: Vec<i64> = links
        .iter()
        .filter_map(|l| match (&l.deal, &l.contact) {
            (Ref::Id(d), Ref::Id(_)) => Some(*d),
            _ => None,
        })
        .collect();
    let mut out = HashSet::new();
    for part in deals.chunks(500) {
        let found = deal_contact::Entity::find()
            .filter(deal_contact::Column::DealId.is_in(part.iter().copied()))
            .all(&ctx.db.read)
            .await?;
        out.extend(found.into_iter().map(|l| (l.deal_id, l.contact_id)));
    }
    Ok(out)
}

/// The contacts the planned deals' own rows name, as (deal, contact), read back from the
/// plan's file once (every deal is planned before the first deal contact row).
fn deal_row_contacts(plan: &mut Plan) -> Result<&HashSet<(usize, Ref)>, AppError> {
    if plan.deal_row_contacts.is_none() {
        let mut out = HashSet::new();
        let mut i = 0;
        let mut rows = plan.rows.chunks::<deal::Row>(ObjectKind::Deal)?;
        while let Some(chunk) = rows.next_chunk()? {
            for p in chunk {
                out.extend(p.data.contacts.into_iter().map(|c| (i, c)));
                i += 1;
            }
        }
        plan.deal_row_contacts = Some(out);
    }
    Ok(plan.deal_row_contacts.get_or_insert_default())
}

/// Plans a chunk of deal contact rows.
pub(super) async fn plan(
    ctx: &mut Ctx<'_>,
    plan: &mut Plan,
    chunk: &[MappedRow],
) -> Result<(), AppError> {
    let kind = ObjectKind::DealContact;
    let cells: Vec<Cells> = chunk.iter().map(Cells).collect();
    let deals = live_sources(
        ctx,
        ObjectKind::Deal,
        cells.iter().filter_map(|c| c.link_id(ObjectKind::Deal)),
    )
    .await?;
    let contacts = live_sources(
        ctx,
        ObjectKind::Contact,
        cells.iter().filter_map(|c| c.link_id(ObjectKind::Contact)),
    )
    .await?;
    let ends: Vec<(Result<Ref, String>, Result<Ref, String>)> = cells
        .iter()
        .map(|c| {
            (
                end(ctx, &deals, c, ObjectKind::Deal, "deal"),
                end(ctx, &contacts, c, ObjectKind::Contact, "contact"),
            )
        })
        .collect();
    let named: Vec<Link> = ends
        .iter()
        .filter_map(|(d, c)| match (d, c) {
            (Ok(deal), Ok(contact)) => Some(Link {
                deal: deal.clone(),
                contact: contact.clone(),
            }),
            _ => None,
        })
        .collect();
    let there = existing(ctx, &named).await?;

    for ((row, c), (deal, contact)) in chunk.iter().zip(&cells).zip(ends) {
        if c.deleted() {
            let why = vec!["Marked deleted in the source.".to_string()];
            ctx.report(&mut plan.report, row, kind, Outcome::Skipped, None, why);
            continue;
        }
        let (deal, contact) = match (deal, contact) {
            (Ok(d), Ok(c)) => (d, c),
            (d, c) => {
                let reasons = [d.err(), c.err()].into_iter().flatten().collect();
                ctx.report(&mut plan.report, row, kind, Outcome::Failed, None, reasons);
                continue;
            }
        };
        // A link waits held by one of its ends: with neither in Cairn, nothing holds it.
        if let (Ref::Later(d), Ref::Later(c)) = (&deal, &contact) {
            let why = vec![format!(
                "Neither deal {d} nor contact {c} is in Cairn yet: import one of them first."
            )];
            ctx.report(&mut plan.report, row, kind, Outcome::Failed, None, why);
            continue;
        }
        let notes: Vec<String> = [(&deal, ObjectKind::Deal), (&contact, ObjectKind::Contact)]
            .into_iter()
            .filter_map(|(r, target)| match r {
                Ref::Later(key) => Some(ctx.waiting_note(&Waiting {
                    link: pending::Link::DealContact,
                    target,
                    key: key.clone(),
                })),
                _ => None,
            })
            .collect();
        let deal_id = match deal {
            Ref::Id(id) => Some(id),
            _ => None,
        };
        let by_deal_row = match &deal {
            Ref::Planned(i) => deal_row_contacts(plan)?.contains(&(*i, contact.clone())),
            _ => false,
        };
        let link = Link { deal, contact };
        let linked = match (&link.deal, &link.contact) {
            (Ref::Id(d), Ref::Id(c)) => there.contains(&(*d, *c)),
            _ => false,
        };
        if linked || by_deal_row || plan.deal_links.contains(&link) {
            let why = vec!["The contact is on the deal already.".to_string()];
            ctx.report(&mut plan.report, row, kind, Outcome::Skipped, deal_id, why);
            continue;
        }
        let at = ctx.report(
            &mut plan.report,
            row,
            kind,
            Outcome::Created,
            deal_id,
            notes,
        );
        plan.deal_links.insert(link.clone());
        let planned = Planned {
            report: at,
            source: None,
            action: Action::Create,
            data: link,
            id: None,
        };
        plan.rows.push(kind, &planned)?;
    }
    Ok(())
}
