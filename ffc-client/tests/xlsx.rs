//! The `.xlsx` reader on a workbook built here (stored zip entries, inline strings, one
//! date-styled cell), so the test needs no fixture file.
#![cfg(feature = "xlsx")]

use std::io::Write;

use ffc_client::files::{read_xlsx, ExportFileOptions, Reason};

fn workbook(sheet_rows: &str) -> Vec<u8> {
    let files = [
        ("[Content_Types].xml", r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/></Types>"#.to_owned()),
        ("_rels/.rels", r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#.to_owned()),
        ("xl/workbook.xml", r#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Export" sheetId="1" r:id="rId1"/></sheets></workbook>"#.to_owned()),
        ("xl/_rels/workbook.xml.rels", r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/></Relationships>"#.to_owned()),
        ("xl/styles.xml", r#"<?xml version="1.0" encoding="UTF-8"?><styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><cellXfs count="2"><xf numFmtId="0"/><xf numFmtId="22" applyNumberFormat="1"/></cellXfs></styleSheet>"#.to_owned()),
        ("xl/worksheets/sheet1.xml", format!(r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>{sheet_rows}</sheetData></worksheet>"#)),
    ];
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (name, body) in files {
        zip.start_file(name, opts).unwrap();
        zip.write_all(body.as_bytes()).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

fn text(r: &str, t: &str) -> String {
    format!(r#"<c r="{r}" t="inlineStr"><is><t>{t}</t></is></c>"#)
}

#[test]
fn reads_date_cells_text_dates_and_reports_bad_rows() {
    let header = format!(
        "<row r=\"1\">{}{}{}</row>",
        text("A1", "DateTime"),
        text("B1", "Value In"),
        text("C1", "ValueOut")
    );
    // 45322.5 is 2024-01-31 12:00 in Excel's 1900 date system, styled as a date.
    let date_cell = r#"<row r="2"><c r="A2" s="1"><v>45322.5</v></c><c r="B2"><v>42</v></c><c r="C2"><v>40</v></c></row>"#;
    let text_row = format!(
        "<row r=\"3\">{}<c r=\"B3\"><v>7</v></c><c r=\"C3\"><v>6</v></c></row>",
        text("A3", "31/01/2024 13:00:00")
    );
    let bad_row = format!(
        "<row r=\"4\">{}<c r=\"B4\"><v>1.5</v></c><c r=\"C4\"><v>1</v></c></row>",
        text("A4", "31/01/2024 14:00:00")
    );
    let bytes = workbook(&format!("{header}{date_cell}{text_row}{bad_row}"));
    let f = read_xlsx("export.xlsx", &bytes, &ExportFileOptions::default()).unwrap();
    assert_eq!(f.rows.len(), 2, "{:?}", f.errors);
    assert_eq!(f.rows[0].local.to_string(), "2024-01-31 12:00:00");
    assert_eq!((f.rows[0].count_in, f.rows[0].count_out), (42, 40));
    assert_eq!(f.rows[1].local.to_string(), "2024-01-31 13:00:00");
    assert_eq!(f.errors.len(), 1);
    assert_eq!(f.errors[0].line, 4);
    assert_eq!(
        f.errors[0].reason,
        Reason::BadNumber {
            column: "ValueIn",
            value: "1.5".into()
        }
    );
    let not_xlsx = read_xlsx(
        "x.xlsx",
        b"PK\x03\x04garbage",
        &ExportFileOptions::default(),
    )
    .unwrap_err();
    assert!(matches!(not_xlsx.reason, Reason::Workbook(_)));
}
