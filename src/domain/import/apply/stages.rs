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
use crate::domain::import::{FileSpec, MappedRow, ObjectKind, System};

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
    /// The kinds of closed stage it has (`won`, `lost`).
    closed: Vec<String>,
    stages: Vec<Named>,
}

impl Wanted {
    fn new(name: &str) -> Wanted {
        Wanted {
            name: name.to_string(),
            exists: false,
            known: Vec::new(),
            closed: Vec::new(),
            stages: Vec::new(),
        }
    }

    fn has(&self, stage: &str) -> bool {
        self.known.contains(&norm(stage))
            || self.stages.iter().any(|x| norm(&x.name) == norm(stage))
    }

    fn note(&mut self, stage: &str, probability: Option<f64>) {
        if self.has(stage) {
            if let Some(named) = self
                .stages
                .iter_mut()
                .find(|x| norm(&x.name) == norm(stage))
            {
                named.probabilities.extend(probability);
            }
            return;
        }
        self.stages.push(Named {
            name: stage.to_string(),
            probabilities: probability.into_iter().collect(),
        });
    }
}

/// What the deal rows name, as they are read.
struct Scan {
    wanted: Vec<Wanted>,
    /// Stages of rows that name no pipeline, in no pipeline.
    loose: Wanted,
    /// Whether such a row named an open stage a pipeline has: then the loose stages
    /// join the first pipeline; otherwise the file is another system's pipeline, and
    /// they make one of their own (Salesforce's opportunities name no pipeline).
    loose_known_open: bool,
}

/// `ws` with the pipelines and stages the deal rows name and neither Cairn (`have`) nor
/// `ws` has added; None when there are none and there was no `ws`.
pub(super) fn with_named(
    ws: Option<&Workspace>,
    have: &[Pipeline],
    (files, system): (&[FileSpec], System),
    rows: &[MappedRow],
) -> Option<Workspace> {
    let mut scan = Scan {
        wanted: have
            .iter()
            .map(|p| Wanted {
                exists: true,
                known: p.stages.iter().map(|s| norm(&s.name)).collect(),
                closed: p.stages.iter().map(|s| s.kind.clone()).collect(),
                ..Wanted::new(&p.name)
            })
            .collect(),
        loose: Wanted::new(&loose_name(system)),
        loose_known_open: false,
    };
    for p in ws.map_or(&[][..], |w| &w.pipelines) {
        let known = p.stages.iter().map(|s| norm(&s.name));
        let kinds = p.stages.iter().map(|s| s.kind.clone());
        match scan
            .wanted
            .iter_mut()
            .find(|w| norm(&w.name) == norm(&p.name))
        {
            Some(w) => {
                w.known.extend(known);
                w.closed.extend(kinds);
            }
            None => scan.wanted.push(Wanted {
                exists: true,
                known: known.collect(),
                closed: kinds.collect(),
                ..Wanted::new(&p.name)
            }),
        }
    }
    for row in rows {
        if files.get(row.file).map(|f| f.kind) != Some(ObjectKind::Deal) {
            continue;
        }
        let c = Cells(row);
        if !c.deleted() {
            scan.name(&c);
        }
    }
    let Scan {
        mut wanted,
        loose,
        loose_known_open,
    } = scan;
    if !loose.stages.is_empty() {
        let into = if loose_known_open {
            Some(0)
        } else {
            wanted
                .iter()
                .position(|w| norm(&w.name) == norm(&loose.name))
        };
        match into.and_then(|at| wanted.get_mut(at)) {
            Some(w) => w.stages.extend(loose.stages),
            None => wanted.push(loose),
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

/// The pipeline a file's stages make when its rows name none.
fn loose_name(system: System) -> String {
    let of = match system {
        System::Salesforce => "Salesforce",
        System::HubSpot => "HubSpot",
        System::Pipedrive => "Pipedrive",
        System::Cairn | System::Generic => "Imported",
    };
    format!("{of} pipeline")
}

impl Scan {
    /// Notes the pipeline and stage one row names. A row naming a stage but no
    /// pipeline means the pipeline that has that stage (as the deal's own rules read
    /// it), else one of the loose stages.
    fn name(&mut self, c: &Cells) {
        let Some(stage) = c.field("stage") else {
            if let Some(p) = c.field("pipeline") {
                self.pipeline(p);
            }
            return;
        };
        let probability = c
            .field("probability")
            .and_then(|p| p.trim_end_matches('%').trim().parse::<f64>().ok());
        match c.field("pipeline") {
            Some(p) => {
                let at = self.pipeline(p);
                let w = &mut self.wanted[at];
                if !w.known.contains(&norm(stage)) {
                    w.note(stage, probability);
                }
            }
            None if self.wanted.iter().any(|w| w.known.contains(&norm(stage))) => {
                self.loose_known_open |= kind_of(stage) == "open";
            }
            None if self.wanted.iter().any(|w| w.has(stage)) => {}
            None => self.loose.note(stage, probability),
        }
    }

    /// The index of the pipeline named `name`, noted as new when it is.
    fn pipeline(&mut self, name: &str) -> usize {
        match self.wanted.iter().position(|w| norm(&w.name) == norm(name)) {
            Some(at) => at,
            None => {
                self.wanted.push(Wanted::new(name));
                self.wanted.len() - 1
            }
        }
    }
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
        if w.closed.iter().any(|k| k == kind) {
            // Its deals go to the pipeline's own stage of the kind (`stage_of`).
            continue;
        }
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
            stages: names
                .iter()
                .map(|n| Named {
                    name: n.to_string(),
                    probabilities: Vec::new(),
                })
                .collect(),
            ..Wanted::new("Partners")
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
