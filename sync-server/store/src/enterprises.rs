//! The enterprise register: the SQL both backends run, once, over [`Exec`] (`$n`
//! placeholders, as in [`super::accounts`]).

use anjian_core::enterprise::{CreditCode, ENTERPRISE_SCOPE_ON_UPSERT, Enterprise};

use super::exec::{Cell, Cells, Exec, next_seq};
use super::{StoreError, StoreResult, special_operations_from_column};

const ENTERPRISE_COLUMNS: &str = "credit_code, name, address, industry, region_code,
    legal_representative, phone, sector, special_operations";

fn enterprise_from_row(row: &dyn Cells) -> StoreResult<Enterprise> {
    let code = row.text(0)?;
    Ok(Enterprise {
        credit_code: CreditCode::parse(&code)
            .map_err(|e| StoreError::Corrupt(format!("credit code {code:?}: {e}")))?,
        name: row.text(1)?,
        address: row.text(2)?,
        industry: row.text(3)?,
        region_code: row.text(4)?,
        legal_representative: row.text(5)?,
        phone: row.text(6)?,
        sector: row.opt_text(7)?,
        special_operations: special_operations_from_column(row.opt_text(8)?.as_deref())?,
    })
}

/// Adds or updates every enterprise under one sequence number; one whose region is not
/// registered refuses the whole batch (the caller's transaction rolls back).
pub(super) fn upsert_enterprises(
    db: &mut impl Exec,
    enterprises: &[Enterprise],
) -> StoreResult<usize> {
    let seq = next_seq(db)?;
    let sql = format!(
        "INSERT INTO enterprises (credit_code, name, address, industry, region_code,
                 legal_representative, phone, seq, sector, special_operations)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
             ON CONFLICT (credit_code) DO UPDATE SET name = excluded.name,
                 address = excluded.address, industry = excluded.industry,
                 region_code = excluded.region_code,
                 legal_representative = excluded.legal_representative,
                 phone = excluded.phone, seq = excluded.seq,
                 {ENTERPRISE_SCOPE_ON_UPSERT}",
    );
    for e in enterprises {
        let stored = db.execute_referencing(
            &sql,
            &[
                Cell::Text(e.credit_code.as_str().to_string()),
                Cell::Text(e.name.clone()),
                Cell::Text(e.address.clone()),
                Cell::Text(e.industry.clone()),
                Cell::Text(e.region_code.clone()),
                Cell::Text(e.legal_representative.clone()),
                Cell::Text(e.phone.clone()),
                Cell::Int(seq),
                Cell::OptText(e.sector.clone()),
                Cell::OptText(e.special_operations_column()),
            ],
        )?;
        if stored.is_none() {
            return Err(StoreError::Conflict(format!(
                "企业 {}（{}）的区划代码 {} 未登记：请先用 region add 添加",
                e.name,
                e.credit_code.as_str(),
                e.region_code
            )));
        }
    }
    Ok(enterprises.len())
}

pub(super) fn enterprise(db: &mut impl Exec, credit_code: &str) -> StoreResult<Option<Enterprise>> {
    Ok(db
        .rows(
            &format!("SELECT {ENTERPRISE_COLUMNS} FROM enterprises WHERE credit_code = $1"),
            &[Cell::Text(credit_code.to_string())],
            enterprise_from_row,
        )?
        .pop())
}

pub(super) fn enterprises_since(db: &mut impl Exec, seq: i64) -> StoreResult<Vec<Enterprise>> {
    db.rows(
        &format!(
            "SELECT {ENTERPRISE_COLUMNS} FROM enterprises WHERE seq > $1 ORDER BY credit_code"
        ),
        &[Cell::Int(seq)],
        enterprise_from_row,
    )
}
