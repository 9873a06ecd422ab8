//! `ffc server import-sales`: validate a sales CSV with ffc-sales, then upload it one
//! (site, day) at a time.
use std::path::Path;

use super::{connect, ServerArgs};

/// Validates `file`, refuses it whole when rejected, uploads it otherwise and prints the
/// report and what the server took.
pub async fn run(
    server: &ServerArgs,
    file: &Path,
    stores: &[String],
    valid_rows_only: bool,
) -> Result<(), String> {
    let import = crate::sales::import(file, stores.to_vec(), valid_rows_only)?;
    if import.report.outcome == ffc_sales::Outcome::Rejected {
        println!(
            "{}",
            serde_json::to_string_pretty(
                &serde_json::json!({ "report": import.report, "upload": null })
            )
            .map_err(|e| e.to_string())?
        );
        return Err(format!(
            "{}: rejected, {} errors; nothing was sent",
            file.display(),
            import.report.error_count
        ));
    }
    let client = connect(server)?;
    let (uploaded, failure) =
        match crate::sales::upload::upload_batches(&client, &import.batches).await {
            Ok(uploaded) => (uploaded, None),
            Err((uploaded, e)) => (uploaded, Some(e)),
        };
    let mut upload = uploaded.to_json();
    upload["error"] = serde_json::json!(failure);
    let summary = serde_json::json!({ "report": import.report, "upload": upload });
    println!(
        "{}",
        serde_json::to_string_pretty(&summary).map_err(|e| e.to_string())?
    );
    match failure {
        None => {
            eprintln!(
                "uploaded {} rows of {} (site, day)s",
                uploaded.done,
                import.batches.len()
            );
            Ok(())
        }
        Some(e) => Err(format!(
            "upload stopped at {e}; {} of {} (site, day)s were uploaded whole, run again to send the rest (a day sent twice is replaced, not doubled)",
            uploaded.days.len(),
            import.batches.len()
        )),
    }
}
