//! The sales upload path shared by `ffc server import-sales` and the demo: ffc-sales'
//! validated (site, day) batches — rows of the one typed `ffc_core::sales::SalesRow` —
//! wrapped by ffc-client ([`SalesBatch::from_day_batches`]), sent one (site, day) per
//! request.

use chrono::NaiveDate;
use ffc_client::http::V9Client;
use ffc_client::v9::sales::{PartialDays, SalesBatch};

/// What the server took.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Uploaded {
    /// Each (site, day) sent whole, with the rows the server imported.
    pub days: Vec<(String, NaiveDate, u64)>,
    /// Rows the server imported.
    pub done: u64,
    /// Rows the server received.
    pub total: u64,
}

impl Uploaded {
    /// As JSON (`days`, `done`, `total`).
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "days": self.days.iter().map(|(site, date, rows)| serde_json::json!({
                "site": site, "date": date.to_string(), "rows": rows,
            })).collect::<Vec<_>>(),
            "done": self.done,
            "total": self.total,
        })
    }
}

/// Uploads `batches` one (site, day) per request. The server replaces a site's whole day
/// on any row of it, so each request carries one day whole and a failure part-way leaves
/// every day either as before or replaced, never cut; sending a day again replaces it
/// with the same rows. On failure, returns what was uploaded and why it stopped.
pub async fn upload_batches(
    client: &V9Client,
    batches: &[ffc_sales::DayBatch],
) -> Result<Uploaded, (Uploaded, String)> {
    let mut uploaded = Uploaded::default();
    for batch in batches {
        let request = match SalesBatch::from_day_batches(std::iter::once(batch)) {
            Ok(request) => request,
            Err(e) => return Err((uploaded, format!("{} {}: {e}", batch.site, batch.date))),
        };
        match client.upload_sales(&request, PartialDays::Refuse).await {
            Ok(r) => {
                // Counts come from the server: add without trusting them not to overflow.
                uploaded.done = uploaded.done.saturating_add(r.done);
                uploaded.total = uploaded.total.saturating_add(r.total);
                uploaded.days.push((batch.site.clone(), batch.date, r.done));
            }
            Err(e) => return Err((uploaded, format!("{} {}: {e}", batch.site, batch.date))),
        }
    }
    Ok(uploaded)
}
