//! A batch's catalog files, rebuilt from its title folders: `catalog.csv` (title, actor,
//! seconds, percent, the title's status and how much of its video was read), `failures.csv`
//! (title, error), `catalog.json`, the catalog chart and `catalog.html`; where asked, the
//! catalog-wide co-appearance matrix `cooccurrence.csv` and its heat map.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;

use crate::error::Result;
use crate::files::atomic;
use crate::job::result::ScreenTime;
use crate::output::cooccurrence::Cooccurrence;
use crate::output::page::{self, CatalogTitle};
use crate::output::result_dir::{INCOMPLETE_STATUS, TitleSummary};
use crate::output::{charts, write};

/// What the catalog files hold.
#[derive(Debug, Default, Serialize)]
pub struct CatalogSummary {
    pub titles: Vec<TitleSummary>,
    /// Total screen time per cast member over every done title (unknown_N labels are per title,
    /// so they are left out here).
    pub actors: Vec<ScreenTime>,
}

/// Writes the catalog files for these titles (in the order given), each atomically; with
/// `cooccurrence`, the catalog's co-appearance matrix and heat map too: each title's, over its
/// cast members (unknown_N labels are per title), added up.
pub fn write(out: &Path, titles: Vec<TitleSummary>, cooccurrence: bool) -> Result<CatalogSummary> {
    let mut totals: BTreeMap<&str, (u64, f64)> = BTreeMap::new();
    for row in titles.iter().flat_map(|t| &t.screen_time) {
        if !row.name.starts_with("unknown_") {
            let total = totals.entry(&row.name).or_default();
            total.0 += row.frames;
            total.1 += row.seconds;
        }
    }
    let all_seconds: f64 = totals.values().map(|t| t.1).sum();
    let mut actors: Vec<ScreenTime> = totals
        .into_iter()
        .map(|(name, (frames, seconds))| ScreenTime {
            name: name.to_string(),
            frames,
            seconds,
            percent: if all_seconds > 0.0 {
                100.0 * seconds / all_seconds
            } else {
                0.0
            },
            first_seen: 0.0,
            last_seen: 0.0,
        })
        .collect();
    actors.sort_by(|a, b| {
        b.seconds
            .total_cmp(&a.seconds)
            .then_with(|| a.name.cmp(&b.name))
    });

    let catalog: Vec<Vec<String>> = titles
        .iter()
        .flat_map(|t| {
            t.screen_time.iter().map(|r| {
                vec![
                    t.title.clone(),
                    r.name.clone(),
                    format!("{:.3}", r.seconds),
                    format!("{:.3}", r.percent),
                    t.status.to_string(),
                    t.read_percent
                        .map_or_else(String::new, |p| format!("{p:.1}")),
                ]
            })
        })
        .collect();
    write::write_table(
        &out.join("catalog.csv"),
        &[
            "title",
            "actor",
            "seconds",
            "percent",
            "status",
            "read_percent",
        ],
        &catalog,
    )?;
    let failures: Vec<Vec<String>> = titles
        .iter()
        .filter_map(|t| Some(vec![t.title.clone(), t.error.clone()?]))
        .collect();
    write::write_table(&out.join("failures.csv"), &["title", "error"], &failures)?;
    let summary = CatalogSummary { titles, actors };
    atomic::write_json(&out.join("catalog.json"), &summary)?;
    let chart_title = "Screen time over the catalog";
    charts::write_chart(&out.join("catalog.png"), chart_title, &summary.actors)?;
    charts::write_chart(&out.join("catalog.svg"), chart_title, &summary.actors)?;
    let cast = |name: &str| !name.starts_with("unknown_");
    let together = cooccurrence.then(|| {
        let per_title: Vec<Cooccurrence> = (summary.titles.iter())
            .map(|t| {
                let names: Vec<String> = (t.screen_time.iter())
                    .map(|r| r.name.clone())
                    .filter(|name| cast(name))
                    .collect();
                Cooccurrence::of(&names, &t.segments)
            })
            .collect();
        Cooccurrence::sum(&per_title, cast)
    });
    if let Some(matrix) = &together {
        matrix.write_csv(&out.join("cooccurrence.csv"))?;
        let title = "Seconds on screen together, every title";
        charts::write_cooccurrence(&out.join("cooccurrence.png"), title, matrix)?;
        charts::write_cooccurrence(&out.join("cooccurrence.svg"), title, matrix)?;
    }
    let pages: Vec<CatalogTitle> = summary
        .titles
        .iter()
        .map(|t| CatalogTitle {
            title: &t.title,
            page: t.page.as_deref(),
            error: t.error.as_deref(),
            incomplete: (t.status == INCOMPLETE_STATUS).then(|| {
                let seconds = t.seconds_read.unwrap_or_default();
                match t.read_percent {
                    Some(p) => format!("read {seconds:.2} s, {p:.1}% of the video"),
                    None => format!("read {seconds:.2} s"),
                }
            }),
            screen_time: &t.screen_time,
        })
        .collect();
    page::write_catalog(out, chart_title, &pages, &summary.actors, together.as_ref())?;
    Ok(summary)
}
