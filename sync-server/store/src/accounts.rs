//! Regions, accounts and their tokens: the SQL both backends run, once, over [`Exec`].
//!
//! Statements are written with PostgreSQL's `$n` placeholders; the SQLite executor reads them
//! as its own `?n`, which number the same way.

use anjian_core::record::Inspector;
use anjian_core::sync::protocol::Role;

use super::exec::{Cell, Cells, Exec, next_seq, serialize_writes};
use super::{
    Region, StoreError, StoreResult, TokenKind, TokenRow, User, from_millis, millis, parse_date,
};

pub(super) fn add_region(db: &mut impl Exec, region: &Region) -> StoreResult<()> {
    let inserted = db.execute(
        "INSERT INTO regions (code, name, parent) VALUES ($1, $2, $3)
         ON CONFLICT (code) DO NOTHING",
        &[
            Cell::Text(region.code.clone()),
            Cell::Text(region.name.clone()),
            Cell::OptText(region.parent.clone()),
        ],
    )?;
    if inserted == 0 {
        return Err(StoreError::Conflict(format!(
            "区划代码 {} 已存在",
            region.code
        )));
    }
    Ok(())
}

pub(super) fn regions(db: &mut impl Exec) -> StoreResult<Vec<Region>> {
    db.rows(
        "SELECT code, name, parent FROM regions ORDER BY code",
        &[],
        |row| {
            Ok(Region {
                code: row.text(0)?,
                name: row.text(1)?,
                parent: row.opt_text(2)?,
            })
        },
    )
}

pub(super) fn add_user(db: &mut impl Exec, user: &User) -> StoreResult<()> {
    serialize_writes(db)?;
    let login = Cell::Text(user.login.clone());
    let taken = db.rows(
        "SELECT EXISTS (SELECT 1 FROM users WHERE login = $1)",
        std::slice::from_ref(&login),
        |row| row.boolean(0),
    )?;
    if taken.first().copied().unwrap_or(false) {
        return Err(StoreError::Conflict(format!("账号 {} 已存在", user.login)));
    }
    if let Some(cert) = &user.cert {
        let holders = db.rows(
            "SELECT login FROM users WHERE cert = $1",
            &[Cell::Text(cert.clone())],
            |row| row.text(0),
        )?;
        if let Some(holder) = holders.first() {
            return Err(StoreError::Conflict(format!(
                "执法证号 {cert} 已属于账号 {holder}"
            )));
        }
    }
    let seq = next_seq(db)?;
    db.execute(
        "INSERT INTO users (login, name, role, scope, cert, cert_valid_until,
             password_hash, disabled, seq)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        &[
            login,
            Cell::Text(user.name.clone()),
            Cell::Text(user.role.as_str().to_string()),
            Cell::Text(user.scope.clone()),
            Cell::OptText(user.cert.clone()),
            Cell::OptText(user.cert_valid_until.map(|d| d.to_string())),
            Cell::Text(user.password_hash.clone()),
            Cell::Bool(user.disabled),
            Cell::Int(seq),
        ],
    )?;
    Ok(())
}

fn user_from_row(row: &dyn Cells) -> StoreResult<User> {
    let role = row.text(2)?;
    Ok(User {
        login: row.text(0)?,
        name: row.text(1)?,
        role: Role::parse(&role).ok_or_else(|| StoreError::Corrupt(format!("role {role:?}")))?,
        scope: row.text(3)?,
        cert: row.opt_text(4)?,
        cert_valid_until: parse_date(row.opt_text(5)?)?,
        password_hash: row.text(6)?,
        disabled: row.boolean(7)?,
    })
}

pub(super) fn user(db: &mut impl Exec, login: &str) -> StoreResult<Option<User>> {
    Ok(db
        .rows(
            "SELECT login, name, role, scope, cert, cert_valid_until, password_hash, disabled
             FROM users WHERE login = $1",
            &[Cell::Text(login.to_string())],
            user_from_row,
        )?
        .pop())
}

pub(super) fn set_user_disabled(
    db: &mut impl Exec,
    login: &str,
    disabled: bool,
) -> StoreResult<bool> {
    let seq = next_seq(db)?;
    let changed = db.execute(
        "UPDATE users SET disabled = $2, seq = $3 WHERE login = $1",
        &[
            Cell::Text(login.to_string()),
            Cell::Bool(disabled),
            Cell::Int(seq),
        ],
    )?;
    Ok(changed == 1)
}

pub(super) fn certified_users_since(db: &mut impl Exec, seq: i64) -> StoreResult<Vec<Inspector>> {
    db.rows(
        "SELECT name, cert, cert_valid_until FROM users
         WHERE cert IS NOT NULL AND NOT disabled AND seq > $1 ORDER BY cert",
        &[Cell::Int(seq)],
        |row| {
            Ok(Inspector {
                name: row.text(0)?,
                cert: row.text(1)?,
                cert_valid_until: parse_date(row.opt_text(2)?)?,
            })
        },
    )
}

pub(super) fn insert_token(db: &mut impl Exec, token: &TokenRow) -> StoreResult<()> {
    db.execute(
        "INSERT INTO tokens (hash, kind, login, device_id, expires_at, revoked)
         VALUES ($1, $2, $3, $4, $5, $6)",
        &[
            Cell::Text(token.hash.clone()),
            Cell::Text(token.kind.as_str().to_string()),
            Cell::Text(token.login.clone()),
            Cell::Text(token.device_id.clone()),
            Cell::Int(millis(token.expires_at)),
            Cell::Bool(token.revoked),
        ],
    )?;
    Ok(())
}

pub(super) fn token(db: &mut impl Exec, hash: &str) -> StoreResult<Option<TokenRow>> {
    Ok(db
        .rows(
            "SELECT hash, kind, login, device_id, expires_at, revoked FROM tokens
             WHERE hash = $1",
            &[Cell::Text(hash.to_string())],
            |row| {
                let kind = row.text(1)?;
                Ok(TokenRow {
                    hash: row.text(0)?,
                    kind: TokenKind::parse(&kind)
                        .ok_or_else(|| StoreError::Corrupt(format!("token kind {kind:?}")))?,
                    login: row.text(2)?,
                    device_id: row.text(3)?,
                    expires_at: from_millis(row.int(4)?)?,
                    revoked: row.boolean(5)?,
                })
            },
        )?
        .pop())
}

pub(super) fn revoke_token(db: &mut impl Exec, hash: &str) -> StoreResult<()> {
    db.execute(
        "UPDATE tokens SET revoked = TRUE WHERE hash = $1",
        &[Cell::Text(hash.to_string())],
    )?;
    Ok(())
}

pub(super) fn revoke_tokens(
    db: &mut impl Exec,
    login: &str,
    device_id: Option<&str>,
) -> StoreResult<usize> {
    let revoked = db.execute(
        "UPDATE tokens SET revoked = TRUE
         WHERE login = $1 AND (CAST($2 AS TEXT) IS NULL OR device_id = $2) AND NOT revoked",
        &[
            Cell::Text(login.to_string()),
            Cell::OptText(device_id.map(str::to_string)),
        ],
    )?;
    usize::try_from(revoked).map_err(|_| StoreError::Database("row count".into()))
}
