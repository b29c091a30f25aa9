//! The rule every new password passes, wherever one is set (`user add`, the administrators'
//! API, the demo and seed accounts). The limits count characters, not bytes, so a Chinese
//! password is measured as its owner sees it.

/// Characters a password has at least.
pub const MIN_PASSWORD_CHARS: usize = 8;
/// Characters a password has at most: Argon2 hashes any length, but nobody types more, and
/// a megabyte "password" is only load.
pub const MAX_PASSWORD_CHARS: usize = 128;

/// Passwords guessed first, compared ignoring case. Short on purpose: the ones that top every
/// leaked list and the Chinese favourites (520…, 888…, 1qaz2wsx) that meet the length.
const DENIED: &[&str] = &[
    "12345678",
    "123456789",
    "1234567890",
    "0123456789",
    "87654321",
    "password",
    "password1",
    "password123",
    "passw0rd",
    "p@ssw0rd",
    "admin123",
    "admin1234",
    "administrator",
    "qwertyui",
    "qwertyuiop",
    "qwerty123",
    "asdfghjkl",
    "1qaz2wsx",
    "1q2w3e4r",
    "1q2w3e4r5t",
    "zaq12wsx",
    "abc12345",
    "abcd1234",
    "a1234567",
    "aa123456",
    "iloveyou",
    "woaini1314",
    "5201314520",
    "147258369",
    "123123123",
    "123321123",
    "11223344",
    "12341234",
    "anjian123",
    "anjian2024",
];

/// Why `password` may not be set for `login`, in words for the administrator, or `Ok`.
pub fn check_new_password(login: &str, password: &str) -> Result<(), String> {
    if let Some(c) = password.chars().find(|c| c.is_control()) {
        return Err(format!(
            "密码不能含有控制字符（含有 U+{:04X}）",
            u32::from(c)
        ));
    }
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err(format!(
            "密码至少 {MIN_PASSWORD_CHARS} 个字符（现为 {chars} 个）"
        ));
    }
    if chars > MAX_PASSWORD_CHARS {
        return Err(format!("密码最多 {MAX_PASSWORD_CHARS} 个字符"));
    }
    if password.trim().is_empty() {
        return Err("密码不能只有空格".into());
    }
    let folded = password.to_lowercase();
    let login = login.trim().to_lowercase();
    if !login.is_empty() && (folded == login || folded.chars().rev().eq(login.chars())) {
        return Err("密码不能与账号相同".into());
    }
    let mut distinct: Vec<char> = folded.chars().collect();
    distinct.sort_unstable();
    distinct.dedup();
    if distinct.len() < 3 || DENIED.contains(&folded.as_str()) {
        return Err("密码过于常见，容易被猜中：请换一个".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guessable_passwords_are_refused() {
        for password in [
            "12345678", "password", "PassWord", "88888888", "abababab", "zhangsan", "nasgnahz",
        ] {
            let error = check_new_password("zhangsan", password).unwrap_err();
            assert!(
                error.contains("常见") || error.contains("账号"),
                "{password}: {error}"
            );
        }
    }

    #[test]
    fn length_counts_characters_and_control_characters_are_refused() {
        // Seven Chinese characters are 21 bytes, and still too short.
        assert!(check_new_password("li", "安全生产检查员").is_err());
        assert!(check_new_password("li", "安全生产执法检查员").is_ok());
        let error = check_new_password("li", &"\0".repeat(8)).unwrap_err();
        assert!(error.contains("U+0000"), "{error}");
        assert!(check_new_password("li", "correct\thorse").is_err());
        assert!(check_new_password("li", "        ").is_err());
        assert!(check_new_password("li", &"长".repeat(MAX_PASSWORD_CHARS + 1)).is_err());
        assert!(check_new_password("li", "correct-horse-42").is_ok());
    }
}
