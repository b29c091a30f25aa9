package app.anjian.logic

import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Test

class LoginFormTest {
    @Test
    fun `a good form is trimmed, loses trailing slashes and keeps the password as typed`() {
        val check = checkLogin("  https://anjian.zibo.gov.cn/sync/ ", " zhang ", " 密码 1 ")
        assertEquals(LoginCheck.Ready("https://anjian.zibo.gov.cn/sync", "zhang", " 密码 1 "), check)
        assertEquals(
            LoginCheck.Ready("http://192.168.1.20:8080", "li", "x"),
            checkLogin("http://192.168.1.20:8080", "li", "x"),
        )
    }

    @Test
    fun `every problem of the form is named at once`() {
        val check = checkLogin("anjian.zibo.gov.cn", "  ", "")
        assertEquals(
            LoginCheck.Refused(
                listOf(
                    "服务器地址应以 http:// 或 https:// 开头，如 https://anjian.example.gov.cn",
                    "请填写账号",
                    "请填写密码",
                ),
            ),
            check,
        )
    }

    @Test
    fun `an address without a host or with another scheme is refused`() {
        assertEquals(LoginCheck.Refused(listOf("服务器地址 https:///sync 缺少主机名")), checkLogin("https:///sync/", "a", "b"))
        val ftp = checkLogin("ftp://example.org", "a", "b") as LoginCheck.Refused
        assertEquals(1, ftp.problems.size)
        assertEquals(true, ftp.problems.single().startsWith("服务器地址应以 http://"))
        val empty = checkLogin("", "a", "b") as LoginCheck.Refused
        assertEquals(listOf("请填写服务器地址，如 https://anjian.example.gov.cn"), empty.problems)
    }
}
