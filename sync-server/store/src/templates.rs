//! Checklist templates and the agency's settings: the SQL both backends run, once, over
//! [`Exec`] (`$n` placeholders, as in [`super::accounts`]).

use anjian_core::sync::protocol::TemplateSource;

use super::exec::{Cell, Exec, next_seq, serialize_writes};
use super::{StoreError, StoreResult};

fn version_cell(version: u32) -> Cell {
    Cell::Int(i64::from(version))
}

/// Publishes a template version once: the same text again changes nothing (`false`), another
/// text under a published version is a conflict.
pub(super) fn publish_template(db: &mut impl Exec, template: &TemplateSource) -> StoreResult<bool> {
    serialize_writes(db)?;
    let existing = db.rows(
        "SELECT source FROM templates WHERE id = $1 AND version = $2",
        &[
            Cell::Text(template.id.clone()),
            version_cell(template.version),
        ],
        |row| row.text(0),
    )?;
    match existing.first() {
        Some(source) if *source == template.source => Ok(false),
        Some(_) => Err(StoreError::Conflict(format!(
            "模板 {} 第 {} 版已发布且内容不同：修改检查表后必须提高 version",
            template.id, template.version
        ))),
        None => {
            let seq = next_seq(db)?;
            db.execute(
                "INSERT INTO templates (id, version, source, seq) VALUES ($1, $2, $3, $4)",
                &[
                    Cell::Text(template.id.clone()),
                    version_cell(template.version),
                    Cell::Text(template.source.clone()),
                    Cell::Int(seq),
                ],
            )?;
            Ok(true)
        }
    }
}

pub(super) fn template(db: &mut impl Exec, id: &str, version: u32) -> StoreResult<Option<String>> {
    Ok(db
        .rows(
            "SELECT source FROM templates WHERE id = $1 AND version = $2",
            &[Cell::Text(id.to_string()), version_cell(version)],
            |row| row.text(0),
        )?
        .pop())
}

pub(super) fn templates_since(db: &mut impl Exec, seq: i64) -> StoreResult<Vec<TemplateSource>> {
    db.rows(
        "SELECT id, version, source FROM templates WHERE seq > $1 ORDER BY id, version",
        &[Cell::Int(seq)],
        |row| {
            let version = row.int(1)?;
            Ok(TemplateSource {
                id: row.text(0)?,
                version: u32::try_from(version).map_err(|_| {
                    StoreError::Corrupt(format!("template version {version} out of range"))
                })?,
                source: row.text(2)?,
            })
        },
    )
}

pub(super) fn set_agency(db: &mut impl Exec, toml: &str) -> StoreResult<()> {
    let seq = next_seq(db)?;
    db.execute(
        "INSERT INTO agency (id, toml, seq) VALUES (1, $1, $2)
         ON CONFLICT (id) DO UPDATE SET toml = excluded.toml, seq = excluded.seq",
        &[Cell::Text(toml.to_string()), Cell::Int(seq)],
    )?;
    Ok(())
}

pub(super) fn agency(db: &mut impl Exec) -> StoreResult<Option<(String, i64)>> {
    Ok(db
        .rows("SELECT toml, seq FROM agency WHERE id = 1", &[], |row| {
            Ok((row.text(0)?, row.int(1)?))
        })?
        .pop())
}
