package app.anjian.logic

import java.net.URI
import java.net.URISyntaxException

/** What the login screen may send to the server, or why not yet. */
sealed interface LoginCheck {
    data class Ready(val server: String, val account: String, val password: String) : LoginCheck

    data class Refused(val problems: List<String>) : LoginCheck
}

/**
 * Checks the login form before the network is tried, so a typo is named at once instead of
 * after a connection timeout in the field. The server address keeps its path (a server may
 * live under a prefix) but loses trailing slashes, which core would otherwise double.
 */
fun checkLogin(server: String, account: String, password: String): LoginCheck {
    val problems = mutableListOf<String>()
    val address = server.trim().trimEnd('/')
    if (address.isEmpty()) {
        problems += "请填写服务器地址，如 https://anjian.example.gov.cn"
    } else {
        val uri = try {
            URI(address)
        } catch (_: URISyntaxException) {
            null
        }
        val scheme = uri?.scheme?.lowercase()
        when {
            scheme != "http" && scheme != "https" ->
                problems += "服务器地址应以 http:// 或 https:// 开头，如 https://anjian.example.gov.cn"
            uri.host.isNullOrEmpty() -> problems += "服务器地址 $address 缺少主机名"
        }
    }
    val login = account.trim()
    if (login.isEmpty()) problems += "请填写账号"
    // Passwords are sent as typed: a space may be part of one.
    if (password.isEmpty()) problems += "请填写密码"
    return if (problems.isEmpty()) LoginCheck.Ready(address, login, password) else LoginCheck.Refused(problems)
}
