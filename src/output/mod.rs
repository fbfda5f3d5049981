//! Result files. In: a job's result. Out: files in the output folder, each written whole or not
//! at all ([`write`]): the CSV tables ([`tables`]), charts and the contact sheet ([`charts`]),
//! the pages `report.html` and `catalog.html` ([`page`]), the catalog files of a batch
//! ([`catalog`]), the exports people take elsewhere (who is on screen with whom,
//! [`cooccurrence`]; a WebVTT track for players, [`webvtt`]; an EDL for editors, [`edl`]), and
//! the result folder itself ([`result_dir`]: report.json, faces/, the batch markers), with the
//! list of files a run may replace there ([`ledger`]).

pub mod catalog;
pub mod charts;
pub mod cooccurrence;
pub mod edl;
pub mod ledger;
pub mod page;
pub mod result_dir;
pub mod tables;
pub mod webvtt;
pub mod write;
