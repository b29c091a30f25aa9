package app.anjian.screens

import android.view.View
import android.view.inputmethod.EditorInfo
import app.anjian.ffi.DeviceStore
import app.anjian.ffi.EnterpriseView
import app.anjian.ffi.ProfileView
import app.anjian.ui.LoadingScreen
import app.anjian.ui.Palette
import app.anjian.ui.button
import app.anjian.ui.buttonRow
import app.anjian.ui.column
import app.anjian.ui.divider
import app.anjian.ui.field
import app.anjian.ui.heading
import app.anjian.ui.listRow
import app.anjian.ui.message
import app.anjian.ui.scrolling
import app.anjian.ui.text

/** The start: who is using the tablet, and the enterprise register to start an inspection from. */
class HomeScreen : LoadingScreen<HomeScreen.Data>() {
    class Data(val profile: ProfileView, val enterprises: List<EnterpriseView>)

    override val title = "安监执法"

    private var query = ""

    override suspend fun load(store: DeviceStore): Data {
        val profile = store.profile()
        val search = query.trim().ifEmpty { null }
        return Data(profile, if (profile.inspector == null) listOf() else store.enterprises(search))
    }

    override fun content(data: Data): View {
        val ctx = host.activity
        val inspector = data.profile.inspector
        if (inspector == null) {
            // A device nobody has logged in on yet: there is no inspector to sign anything.
            host.resetTo(LoginScreen())
            return ctx.column { }
        }
        return ctx.scrolling(ctx.column {
            heading("${inspector.name}（执法证 ${inspector.cert}）")
            text(data.profile.agencyName ?: "尚未配置执法机关：请先同步", 16f, Palette.MUTED)
            val session = data.profile.login?.let { "账号 $it · ${data.profile.roleLabel ?: ""} · ${data.profile.server ?: ""}" } ?: "未登录服务器，仅能离线使用"
            text(session, 16f, Palette.MUTED)
            buttonRow {
                button("检查记录", 1f) { host.push(RecordsScreen()) }
                button("同步", 1f) { host.push(SyncScreen()) }
                if (data.profile.login != null) button("退出登录", 1f) { logout() }
            }
            divider()
            heading("选择被检查单位")
            val search = field("单位名称、统一社会信用代码或地址", query) { query = it }
            search.imeOptions = EditorInfo.IME_ACTION_SEARCH
            search.setOnEditorActionListener { _, action, _ ->
                if (action == EditorInfo.IME_ACTION_SEARCH) reload()
                action == EditorInfo.IME_ACTION_SEARCH
            }
            button("搜索") { reload() }
            if (data.enterprises.isEmpty()) {
                message(if (query.isBlank()) "本机还没有企业名录：请先同步。" else "没有找到“${query.trim()}”。", Palette.MUTED)
            }
            // A district register has thousands of rows; a few hundred views is what stays smooth.
            for (enterprise in data.enterprises.take(SHOWN)) {
                listRow(enterprise.name, "${enterprise.creditCode} · ${enterprise.industry} · ${enterprise.address}") {
                    host.push(StartInspectionScreen(enterprise))
                }
            }
            if (data.enterprises.size > SHOWN) {
                message("共 ${data.enterprises.size} 家，仅显示前 $SHOWN 家：请输入更多关键字。", Palette.MUTED)
            }
        })
    }

    private fun logout() {
        host.confirm("退出登录", "退出后需要联网重新登录才能同步；本机的检查记录不会删除。", "退出登录") {
            host.call<Unit>(busy = "正在退出登录…", work = { store -> store.logout() }) {
                host.resetTo(LoginScreen())
            }
        }
    }

    private companion object {
        const val SHOWN = 200
    }
}
