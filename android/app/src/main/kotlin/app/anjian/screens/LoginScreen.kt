package app.anjian.screens

import android.text.InputType
import android.view.View
import app.anjian.ffi.AnjianException
import app.anjian.ffi.LoginView
import app.anjian.ffi.SyncReportView
import app.anjian.logic.LoginCheck
import app.anjian.logic.checkLogin
import app.anjian.logic.userMessage
import app.anjian.platform.Prefs
import app.anjian.ui.Palette
import app.anjian.ui.Screen
import app.anjian.ui.button
import app.anjian.ui.column
import app.anjian.ui.field
import app.anjian.ui.heading
import app.anjian.ui.message
import app.anjian.ui.scrolling
import app.anjian.ui.text

/**
 * Logs the tablet in to the sync server. The account becomes the device's inspector; the first
 * sync right after brings the enterprises, checklists and document numbers for the account's area.
 */
class LoginScreen : Screen() {
    override val title = "登录"

    private var server: String? = null
    private var account: String? = null
    private var password = ""
    private var problems: List<String> = listOf()

    override fun build(): View {
        val ctx = host.activity
        val serverText = server ?: host.prefs.getString(Prefs.LAST_SERVER, "") ?: ""
        val accountText = account ?: host.prefs.getString(Prefs.LAST_ACCOUNT, "") ?: ""
        server = serverText
        account = accountText
        return ctx.scrolling(ctx.column(24) {
            heading("安监执法终端")
            text("登录后，本机执法人员即为该账号；同步需要网络，检查与打印可离线进行。", 16f, Palette.MUTED)
            text("服务器地址", 16f, Palette.MUTED)
            field("如 https://anjian.example.gov.cn", serverText, InputType.TYPE_CLASS_TEXT or InputType.TYPE_TEXT_VARIATION_URI) { server = it }
            text("账号", 16f, Palette.MUTED)
            field("执法账号", accountText) { account = it }
            text("密码", 16f, Palette.MUTED)
            field("密码", password, InputType.TYPE_CLASS_TEXT or InputType.TYPE_TEXT_VARIATION_PASSWORD) { password = it }
            for (problem in problems) message(problem, Palette.ERROR)
            button("登录") { login() }
        })
    }

    private fun login() {
        when (val check = checkLogin(server.orEmpty(), account.orEmpty(), password)) {
            is LoginCheck.Refused -> {
                problems = check.problems
                refresh()
            }
            is LoginCheck.Ready -> {
                problems = listOf()
                host.call<LoginView>(
                    busy = "正在登录…",
                    work = { store -> store.login(check.server, check.account, check.password) },
                    failed = { error ->
                        problems = listOf(userMessage(error))
                        refresh()
                    },
                ) { _ ->
                    host.prefs.edit()
                        .putString(Prefs.LAST_SERVER, check.server)
                        .putString(Prefs.LAST_ACCOUNT, check.account)
                        .apply()
                    password = ""
                    firstSync()
                }
            }
        }
    }

    private fun firstSync() {
        host.call<SyncReportView>(
            busy = "正在同步企业名录、检查表和文书编号…",
            work = { store -> store.sync() },
            failed = { error ->
                // Logged in all the same: the inspector can sync later from the home screen.
                host.resetTo(HomeScreen())
                if (error is AnjianException.Network) host.toast(userMessage(error)) else host.showError(error)
            },
        ) { report ->
            LastSync.remember(report)
            host.resetTo(HomeScreen())
        }
    }
}
