//! What planning a row is for every kind: a row marked deleted is skipped, a second row
//! for one record fails, a match (by source id, else the kind's own keys) is skipped,
//! updated or created beside as the user chose, the kind checks the rest, and the row is
//! reported and planned. A kind declares only its own parts ([`Kind`]).
use std::collections::{HashMap, HashSet};

use serde::Serialize;

use super::cells::Cells;
use super::pending::Waits;
use super::plan::{Action, Ctx, Plan, Planned};
use super::{Outcome, links};
use crate::domain::Db;
use crate::domain::import::{MappedRow, ObjectKind, OnMatch, Target};
use crate::error::AppError;

/// A row's own verdict: why it fails, and notes on what was made of it (a source type
/// Cairn has no kind for) that do not fail it.
#[derive(Default)]
pub(super) struct Verdict {
    pub reasons: Vec<String>,
    pub notes: Vec<String>,
}

/// One kind of record as planning sees it.
pub(super) trait Kind: Sized {
    const KIND: ObjectKind;
    /// The record a row may match, as stored.
    type Existing;
    /// What a chunk looks up in bulk besides its matches by source id.
    type Known;
    /// A planned row, kept in the plan's file until written (`spill`).
    type Row: Serialize;

    /// The stored records of `ids` (trashed ones too).
    async fn by_id(db: &Db, ids: &HashSet<i64>) -> Result<HashMap<i64, Self::Existing>, AppError>;
    /// `plan` is mutable for what it reads back of its planned rows (`about`).
    async fn known(
        ctx: &Ctx<'_>,
        plan: &mut Plan,
        cells: &[Cells<'_>],
    ) -> Result<Self::Known, AppError>;
    fn id(e: &Self::Existing) -> i64;

    /// Keys besides the source id that make two rows one record (`ctx.by_name`).
    fn keys(_c: &Cells) -> Vec<String> {
        Vec::new()
    }
    /// The keys a planned row is known by (`ctx.by_name`).
    fn keys_of(_row: &Self::Row) -> Vec<String> {
        Vec::new()
    }
    /// The message of a second row for one record.
    fn same_as(row: u64, file: &str) -> String {
        format!("The same {} as row {row} of {file}.", Self::noun())
    }
    fn noun() -> &'static str;
    /// An existing record the row matches by its own keys.
    fn match_by_keys<'k>(_known: &'k Self::Known, _c: &Cells) -> Option<&'k Self::Existing> {
        None
    }
    /// Why a match in the trash fails the row; None when it is live.
    fn trashed(_e: &Self::Existing) -> Option<String> {
        None
    }
    /// Why a match is skipped.
    fn skipped(e: &Self::Existing) -> String;

    /// The kind's own checks of a row: the record it becomes (over `current` when
    /// updating), or None with the reasons in `verdict`. `matched`: it matches a record
    /// it does not update (OnMatch::Create).
    async fn check(
        ctx: &Ctx<'_>,
        known: &Self::Known,
        c: &Cells<'_>,
        current: Option<&Self::Existing>,
        matched: bool,
        dry: bool,
        verdict: &mut Verdict,
    ) -> Result<Option<Self::Row>, AppError>;
}

/// Plans a chunk of rows of kind `K`.
pub(super) async fn plan<K: Kind>(
    ctx: &mut Ctx<'_>,
    plan: &mut Plan,
    chunk: &[MappedRow],
    dry: bool,
) -> Result<(), AppError>
where
    K::Row: Waits,
{
    let kind = K::KIND;
    let cells: Vec<Cells> = chunk.iter().map(Cells).collect();
    let keys: HashSet<String> = cells
        .iter()
        .filter_map(|c| c.source_id().map(|s| ctx.key(s)))
        .collect();
    let by_source = links::sources(&ctx.db.read, ctx.options.system, kind, &keys).await?;
    let ids: HashSet<i64> = by_source.values().copied().collect();
    let by_id = K::by_id(ctx.db, &ids).await?;
    let known = K::known(ctx, plan, &cells).await?;

    for (row, c) in chunk.iter().zip(&cells) {
        let fail = |ctx: &Ctx, plan: &mut Plan, reasons: Vec<String>| {
            ctx.report(&mut plan.report, row, kind, Outcome::Failed, None, reasons);
        };
        let source = c.source_id().map(|s| ctx.key(s));
        if c.deleted() {
            if let Some(s) = &source {
                ctx.not_planned
                    .insert((kind, s.clone()), (row.file, row.row));
            }
            let why = vec!["Marked deleted in the source.".to_string()];
            ctx.report(&mut plan.report, row, kind, Outcome::Skipped, None, why);
            continue;
        }
        let keys = K::keys(c);
        let repeat = (source.is_none() && keys.is_empty()).then(|| repeat_key(row));
        let dup = source
            .as_ref()
            .and_then(|s| ctx.by_source.get(&(kind, s.clone())))
            .or_else(|| keys.into_iter().find_map(|k| ctx.by_name.get(&(kind, k))));
        let repeated = repeat
            .as_ref()
            .and_then(|k| ctx.by_name.get(&(kind, k.clone())));
        if let Some(&at) = dup.or(repeated) {
            let first = plan
                .rows
                .report_of(kind, at)
                .and_then(|r| plan.report.rows.get(r))
                .ok_or_else(|| AppError::Internal("import: a planned row has no report".into()))?;
            let why = match dup {
                Some(_) => K::same_as(first.row, &first.file.clone()),
                None => format!(
                    "Repeats row {} of {}: every value is the same, and neither names a source id or another key of a {}.",
                    first.row,
                    first.file,
                    K::noun()
                ),
            };
            fail(ctx, plan, vec![why]);
            continue;
        }
        let matched = source
            .as_ref()
            .and_then(|s| by_source.get(s))
            .and_then(|id| by_id.get(id))
            .filter(|m| K::trashed(m).is_none())
            .or_else(|| K::match_by_keys(&known, c));
        if let Some(why) = matched.and_then(K::trashed) {
            fail(ctx, plan, vec![why]);
            continue;
        }
        let on_match = ctx.options.on_match;
        if let (Some(m), OnMatch::Skip) = (matched, on_match) {
            let why = vec![K::skipped(m)];
            let id = Some(K::id(m));
            ctx.report(&mut plan.report, row, kind, Outcome::Skipped, id, why);
            continue;
        }
        let current = matched.filter(|_| on_match == OnMatch::Update);
        let mut verdict = Verdict::default();
        let beside = current.is_none() && matched.is_some();
        let checked = K::check(ctx, &known, c, current, beside, dry, &mut verdict).await?;
        let (Some(data), true) = (checked, verdict.reasons.is_empty()) else {
            if let Some(s) = &source {
                ctx.not_planned
                    .insert((kind, s.clone()), (row.file, row.row));
            }
            fail(ctx, plan, verdict.reasons);
            continue;
        };
        let waits = data.waiting().into_iter().map(|w| ctx.waiting_note(&w));
        verdict.notes.extend(waits);
        let (action, outcome, id) = match current {
            Some(m) => (Action::Update(K::id(m)), Outcome::Updated, Some(K::id(m))),
            None => (Action::Create, Outcome::Created, None),
        };
        let at = ctx.report(&mut plan.report, row, kind, outcome, id, verdict.notes);
        let index = plan.rows.count(kind);
        if let Some(s) = &source {
            ctx.by_source.insert((kind, s.clone()), index);
        }
        for k in K::keys_of(&data).into_iter().chain(repeat) {
            ctx.by_name.insert((kind, k), index);
        }
        let planned = Planned {
            report: at,
            source,
            action,
            data,
            id,
        };
        plan.rows.push(kind, &planned)?;
    }
    Ok(())
}

/// What makes a row without a source id or key the same as another: all its values, by
/// column, hashed (a hundred thousand such rows keep 6 MB of keys, not their text). Its
/// leading byte keeps it apart from the names and emails beside it in `ctx.by_name`.
fn repeat_key(row: &MappedRow) -> String {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    for (target, value) in &row.values {
        let value = value.trim();
        if *target == Target::Ignore || value.is_empty() {
            continue;
        }
        h.update(format!("{target:?}").as_bytes());
        h.update([0]);
        h.update(value.as_bytes());
        h.update([0]);
    }
    format!("\u{1}{}", hex::encode(&h.finalize()[..16]))
}

/// The messages of a refusal into the verdict (see `plan::reasons_of`).
pub(super) fn refused(e: AppError, verdict: &mut Verdict) -> Result<(), AppError> {
    super::plan::reasons_of(e, &mut verdict.reasons)
}
