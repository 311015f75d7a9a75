//! The pipelines and stages deal rows name that Cairn lacks: HubSpot's "Sales Pipeline"
//! and its stages, a Salesforce `StageName` or a Pipedrive pipeline of the team's own.
//! When the user lets the import add them (`Options::add_stages`), they join what a
//! Cairn export's `workspace.json` declares, so they are created through the same domain
//! functions before the rows (in a dry run only listed), undone with the import, and the
//! rows resolve to them; otherwise each such row fails with the names Cairn has.
use chrono::Utc;

use super::cells::Cells;
use crate::domain::deals::Pipeline;
use crate::domain::export::{PipelineDef, StageDef, Workspace};
use crate::domain::import::presets::norm;
use crate::domain::import::{FileSpec, MappedRow, ObjectKind};

/// A stage a file names, with the probabilities its rows give (to order and weigh a new
/// pipeline's open stages).
struct Named {
    name: String,
    probabilities: Vec<f64>,
}

/// A pipeline the rows name: Cairn's (`exists`), or new.
struct Wanted {
    name: String,
    exists: bool,
    /// Stages Cairn (or `workspace.json`) has in it, normalised.
    known: Vec<String>,
    stages: Vec<Named>,
}

/// `ws` with the pipelines and stages the deal rows name and neither Cairn (`have`) nor
/// `ws` has added; None when there are none and there was no `ws`.
pub(super) fn with_named(
    ws: Option<&Workspace>,
    have: &[Pipeline],
    files: &[FileSpec],
    rows: &[MappedRow],
) -> Option<Workspace> {
    let mut wanted: Vec<Wanted> = have
        .iter()
        .map(|p| Wanted {
            name: p.name.clone(),
            exists: true,
            known: p.stages.iter().map(|s| norm(&s.name)).collect(),
            stages: Vec::new(),
        })
        .collect();
    for p in ws.map_or(&[][..], |w| &w.pipelines) {
        let known = p.stages.iter().map(|s| norm(&s.name));
        match wanted.iter_mut().find(|w| norm(&w.name) == norm(&p.name)) {
            Some(w) => w.known.extend(known),
            None => wanted.push(Wanted {
                name: p.name.clone(),
                exists: true,
                known: known.collect(),
                stages: Vec::new(),
            }),
        }
    }
    for row in rows {
        if files.get(row.file).map(|f| f.kind) != Some(ObjectKind::Deal) {
            continue;
        }
        let c = Cells(row);
        if !c.deleted() {
            name(&mut wanted, &c);
        }
    }
    let added: Vec<PipelineDef> = wanted.into_iter().filter_map(definition).collect();
    if added.is_empty() {
        return ws.cloned();
    }
    let mut out = ws.cloned().unwrap_or_else(|| Workspace {
        format_version: crate::domain::export::FORMAT_VERSION,
        exported_at: Utc::now(),
        cairn_version: String::new(),
        custom_fields: Default::default(),
        pipelines: Vec::new(),
        tags: Vec::new(),
        counts: Default::default(),
    });
    for def in added {
        match out
            .pipelines
            .iter_mut()
            .find(|p| norm(&p.name) == norm(&def.name))
        {
            Some(p) => p.stages.extend(def.stages),
            None => out.pipelines.push(def),
        }
    }
    Some(out)
}

/// Notes the pipeline and stage one row names. A row naming a stage but no pipeline
/// means the pipeline that has that stage, else the first (as the deal's own rules
/// read it).
fn name(wanted: &mut Vec<Wanted>, c: &Cells) {
    let stage = c.field("stage");
    let at = match c.field("pipeline") {
        Some(p) => match wanted.iter().position(|w| norm(&w.name) == norm(p)) {
            Some(at) => at,
            None => {
                wanted.push(Wanted {
                    name: p.to_string(),
                    exists: false,
                    known: Vec::new(),
                    stages: Vec::new(),
                });
                wanted.len() - 1
            }
        },
        None => {
            let Some(s) = stage else { return };
            let has = |w: &Wanted| {
                w.known.contains(&norm(s)) || w.stages.iter().any(|x| norm(&x.name) == norm(s))
            };
            match wanted.iter().position(has) {
                Some(_) => return,
                None if wanted.is_empty() => return,
                None => 0,
            }
        }
    };
    let Some(s) = stage else { return };
    let w = &mut wanted[at];
    if w.known.contains(&norm(s)) {
        return;
    }
    let probability = c
        .field("probability")
        .and_then(|p| p.trim_end_matches('%').trim().parse::<f64>().ok());
    let at = match w.stages.iter().position(|x| norm(&x.name) == norm(s)) {
        Some(at) => at,
        None => {
            w.stages.push(Named {
                name: s.to_string(),
                probabilities: Vec::new(),
            });
            w.stages.len() - 1
        }
    };
    w.stages[at].probabilities.extend(probability);
}

/// Won or lost when the name says so (Salesforce's "Closed Won", HubSpot's
/// `closedlost`); a row's status does not make its stage closed (Pipedrive keeps the
/// stage a deal was won from).
fn kind_of(name: &str) -> &'static str {
    match norm(name).as_str() {
        "closedwon" | "won" => "won",
        "closedlost" | "lost" => "lost",
        _ => "open",
    }
}

/// What is to be created of one pipeline: for Cairn's, the stages it lacks (open ones
/// first, as a new column before won and lost is where an admin would put it); a new
/// pipeline gets its open stages in order of the probability its deals give (else as
/// the file lists them; "New" when it names none) and a won and a lost stage, named so
/// when the file has none.
fn definition(w: Wanted) -> Option<PipelineDef> {
    if w.stages.is_empty() && w.exists {
        return None;
    }
    let (mut open, closed): (Vec<Named>, Vec<Named>) = w
        .stages
        .into_iter()
        .partition(|s| kind_of(&s.name) == "open");
    let mean = |s: &Named| {
        (!s.probabilities.is_empty())
            .then(|| s.probabilities.iter().sum::<f64>() / s.probabilities.len() as f64)
    };
    if open.iter().all(|s| mean(s).is_some()) {
        open.sort_by(|a, b| {
            mean(a)
                .partial_cmp(&mean(b))
                .unwrap_or(std::cmp::Ordering::Equal)
        });
    }
    let n = open.len();
    let mut stages: Vec<StageDef> = open
        .iter()
        .enumerate()
        .map(|(i, s)| StageDef {
            id: 0,
            name: s.name.clone(),
            kind: "open".into(),
            probability: mean(s)
                .map(|p| p.round().clamp(0.0, 100.0) as i32)
                .unwrap_or(((i + 1) * 100 / (n + 1)) as i32),
        })
        .collect();
    if stages.is_empty() && !w.exists {
        // New deals need an open stage to land in (a file of closed deals names none).
        stages.push(StageDef {
            id: 0,
            name: "New".into(),
            kind: "open".into(),
            probability: 10,
        });
    }
    for kind in ["won", "lost"] {
        let named: Vec<&Named> = closed.iter().filter(|s| kind_of(&s.name) == kind).collect();
        for s in &named {
            stages.push(closed_stage(&s.name, kind));
        }
        if named.is_empty() && !w.exists {
            stages.push(closed_stage(
                if kind == "won" { "Won" } else { "Lost" },
                kind,
            ));
        }
    }
    Some(PipelineDef {
        id: 0,
        name: w.name,
        stages,
    })
}

fn closed_stage(name: &str, kind: &str) -> StageDef {
    StageDef {
        id: 0,
        name: name.to_string(),
        kind: kind.to_string(),
        probability: if kind == "won" { 100 } else { 0 },
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::expect_used)]
    use super::*;

    fn wanted(names: &[&str]) -> Wanted {
        Wanted {
            name: "Partners".into(),
            exists: false,
            known: Vec::new(),
            stages: names
                .iter()
                .map(|n| Named {
                    name: n.to_string(),
                    probabilities: Vec::new(),
                })
                .collect(),
        }
    }

    fn stages(def: Option<PipelineDef>) -> Vec<String> {
        let def = def.expect("a pipeline to create");
        def.stages
            .iter()
            .map(|s| format!("{}:{}:{}", s.name, s.kind, s.probability))
            .collect()
    }

    #[test]
    fn open_stages_without_probabilities_keep_the_files_order_spread_evenly() {
        let got = stages(definition(wanted(&[
            "Intro",
            "Closed Won",
            "Demo",
            "Offer",
        ])));
        assert_eq!(
            got,
            [
                "Intro:open:25",
                "Demo:open:50",
                "Offer:open:75",
                "Closed Won:won:100",
                "Lost:lost:0"
            ]
        );
    }

    #[test]
    fn a_pipeline_of_closed_deals_only_gets_an_open_stage_for_new_ones() {
        let got = stages(definition(wanted(&["Closed Lost", "closedwon"])));
        assert_eq!(
            got,
            ["New:open:10", "closedwon:won:100", "Closed Lost:lost:0"]
        );
    }

    #[test]
    fn a_pipeline_cairn_has_gets_only_what_it_lacks() {
        let mut w = wanted(&[]);
        w.exists = true;
        assert!(definition(w).is_none(), "nothing to create");
    }
}
