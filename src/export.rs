//! The ledger for the residents' committee: tasks as JSON or CSV.
//!
//! JSON is an array of tasks with the fields `interface.md` promises; CSV
//! has the same columns. Times are RFC 3339 in UTC.

use std::io::Write;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;

use crate::ledger::TaskRecord;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Json,
    Csv,
}

/// The columns, in order; CSV writes them even when there are no tasks.
const COLUMNS: [&str; 15] = [
    "chat_id",
    "number",
    "kind",
    "flat",
    "details",
    "status",
    "requester_id",
    "requester_name",
    "claimer_id",
    "claimer_name",
    "done_note",
    "created_at",
    "claimed_at",
    "done_at",
    "cancelled_at",
];

/// One exported task; its fields are [`COLUMNS`].
#[derive(Debug, Serialize)]
pub struct ExportedTask {
    pub chat_id: i64,
    pub number: u32,
    pub kind: &'static str,
    pub flat: String,
    pub details: String,
    pub status: &'static str,
    pub requester_id: i64,
    pub requester_name: String,
    pub claimer_id: Option<i64>,
    pub claimer_name: Option<String>,
    pub done_note: Option<String>,
    pub created_at: String,
    pub claimed_at: Option<String>,
    pub done_at: Option<String>,
    pub cancelled_at: Option<String>,
}

fn rfc3339(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

impl From<&TaskRecord> for ExportedTask {
    fn from(task: &TaskRecord) -> Self {
        ExportedTask {
            chat_id: task.chat_id,
            number: task.number.get(),
            kind: task.kind.as_str(),
            flat: task.flat.clone(),
            details: task.details.clone(),
            status: task.state.status.as_str(),
            requester_id: task.state.requester.0,
            requester_name: task.requester_name.clone(),
            claimer_id: task.state.claimer.map(|u| u.0),
            claimer_name: task.claimer_name.clone(),
            done_note: task.done_note.clone(),
            created_at: rfc3339(task.created_at),
            claimed_at: task.claimed_at.map(rfc3339),
            done_at: task.done_at.map(rfc3339),
            cancelled_at: task.cancelled_at.map(rfc3339),
        }
    }
}

/// Writes `tasks` to `out` in `format`.
pub fn write(tasks: &[TaskRecord], format: Format, out: impl Write) -> anyhow::Result<()> {
    let rows: Vec<ExportedTask> = tasks.iter().map(ExportedTask::from).collect();
    match format {
        Format::Json => {
            let mut out = out;
            serde_json::to_writer_pretty(&mut out, &rows)?;
            writeln!(out)?;
        }
        Format::Csv => {
            let mut writer = csv::WriterBuilder::new()
                .has_headers(false)
                .from_writer(out);
            writer.write_record(COLUMNS)?;
            for row in &rows {
                writer.serialize(row)?;
            }
            writer.flush()?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_columns_are_the_fields_of_an_exported_task_in_order() {
        let task = ExportedTask {
            chat_id: -1,
            number: 1,
            kind: "pickup",
            flat: "1-1".into(),
            details: String::new(),
            status: "open",
            requester_id: 1,
            requester_name: "Ann".into(),
            claimer_id: None,
            claimer_name: None,
            done_note: None,
            created_at: "2026-11-28T00:00:00Z".into(),
            claimed_at: None,
            done_at: None,
            cancelled_at: None,
        };
        // csv's own header, taken from the struct, in the struct's order.
        let mut writer = csv::Writer::from_writer(Vec::new());
        writer.serialize(&task).unwrap();
        let text = String::from_utf8(writer.into_inner().unwrap()).unwrap();
        assert_eq!(text.lines().next(), Some(COLUMNS.join(",").as_str()));
    }

    #[test]
    fn an_empty_csv_export_still_has_its_header() {
        let mut out = Vec::new();
        write(&[], Format::Csv, &mut out).unwrap();
        assert_eq!(String::from_utf8(out).unwrap().trim(), COLUMNS.join(","));
    }
}
