package app.anjian.screens

import android.view.View
import android.widget.Button
import app.anjian.ffi.DeviceStore
import app.anjian.ffi.DocumentType
import app.anjian.ffi.EnterpriseView
import app.anjian.ffi.ProfileView
import app.anjian.ffi.RecordView
import app.anjian.ffi.TemplateView
import app.anjian.logic.CoInspectorsCheck
import app.anjian.logic.checkCoInspectors
import app.anjian.logic.preselectedTemplate
import app.anjian.logic.templatesFor
import app.anjian.platform.Prefs
import app.anjian.ui.LoadingScreen
import app.anjian.ui.Palette
import app.anjian.ui.button
import app.anjian.ui.chosen
import app.anjian.ui.column
import app.anjian.ui.field
import app.anjian.ui.heading
import app.anjian.ui.message
import app.anjian.ui.scrolling
import app.anjian.ui.text

/**
 * Starts an inspection of an enterprise against a checklist, or the re-inspection of a
 * record whose order was issued (then the checklist is the order's hazards).
 */
class StartInspectionScreen private constructor(
    private val enterprise: EnterpriseView?,
    private val orderRecordId: String?,
) : LoadingScreen<StartInspectionScreen.Data>() {
    constructor(enterprise: EnterpriseView) : this(enterprise, null)

    class Data(val profile: ProfileView, val templates: List<TemplateView>, val order: RecordView?)

    override val title = if (orderRecordId != null) "开始复查" else "开始检查"

    private var templateId: String? = null
    private var colleagues: String? = null
    private var place = ""
    private var post = ""
    private var problems: List<String> = listOf()

    override suspend fun load(store: DeviceStore): Data {
        val order = orderRecordId?.let { store.record(it) }
        val industry = enterprise?.industry ?: ""
        return Data(store.profile(), if (enterprise != null) templatesFor(store.templates(), industry) else listOf(), order)
    }

    override fun content(data: Data): View {
        val ctx = host.activity
        val target = enterprise ?: data.order?.enterprise
        if (colleagues == null) colleagues = host.prefs.getString(Prefs.LAST_COLLEAGUES, "") ?: ""
        if (templateId == null && enterprise != null) templateId = preselectedTemplate(data.templates, enterprise.industry)?.id
        return ctx.scrolling(ctx.column {
            heading(target?.name ?: "")
            target?.let { text("${it.creditCode}\n${it.address}\n法定代表人 ${it.legalRepresentative} · ${it.phone}", 16f, Palette.MUTED) }
            data.order?.let { order ->
                val number = order.documents.firstOrNull { it.docType == DocumentType.ORDER }?.number ?: ""
                text("复查依据：责令限期整改指令书 $number，隐患 ${order.hazards.size} 项", 18f)
            }
            if (enterprise != null) {
                text("检查表", 16f, Palette.MUTED)
                if (data.templates.isEmpty()) message("本机没有检查表：请先同步。", Palette.ERROR)
                val buttons = mutableListOf<Pair<String, Button>>()
                for (template in data.templates) {
                    val label = "${template.title}（${template.kindLabel} · ${template.industry} · ${template.itemCount} 项 · 第 ${template.version} 版）"
                    buttons += template.id to button(label) {
                        templateId = template.id
                        refresh()
                    }
                }
                buttons.forEach { (id, view) -> view.chosen(id == templateId) }
                val chosen = data.templates.firstOrNull { it.id == templateId }
                if (chosen?.kind == "enforcement") {
                    text("执法检查须由至少 2 名持有效执法证的执法人员进行：请填写同行人员。", 16f, Palette.WARNING)
                }
            }
            text("同行执法人员（每行一位：姓名:执法证号:有效期至）", 16f, Palette.MUTED)
            field("如 李娜:37030002:2030-12-31", colleagues ?: "", lines = 3) { colleagues = it }
            text("检查地点（不填则为单位地址）", 16f, Palette.MUTED)
            field("如 一号车间", place) { place = it }
            if (enterprise != null) {
                // The 现场检查记录 names the enterprise's person on site with their post.
                text("企业现场负责人职务（签发现场检查记录前可改）", 16f, Palette.MUTED)
                field("如 安全科长", post) { post = it }
            }
            for (problem in problems) message(problem, Palette.ERROR)
            button(if (orderRecordId != null) "开始复查" else "开始检查") { start(data) }
        })
    }

    private fun start(data: Data) {
        val check = checkCoInspectors(colleagues.orEmpty(), data.profile.inspector?.cert)
        if (check is CoInspectorsCheck.Refused) {
            problems = check.problems
            refresh()
            return
        }
        val entries = (check as CoInspectorsCheck.Ready).entries
        val where = place.trim().ifEmpty { null }
        val order = orderRecordId
        val code = enterprise?.creditCode
        val template = templateId
        val onSitePost = post.trim()
        if (order == null && (code == null || template == null)) {
            problems = listOf("请选择检查表")
            refresh()
            return
        }
        problems = listOf()
        host.call(
            busy = "正在建立检查记录…",
            work = { store ->
                // No GPS: the tablet's location would need a permission of its own; the place
                // field and the enterprise's address say where.
                if (order != null) {
                    store.startReinspection(order, entries, where)
                } else {
                    val started = store.startInspection(checkNotNull(code), checkNotNull(template), entries, where, null)
                    if (onSitePost.isEmpty()) started else store.setOnSitePost(started.id, onSitePost)
                }
            },
        ) { record ->
            host.prefs.edit().putString(Prefs.LAST_COLLEAGUES, colleagues.orEmpty().trim()).apply()
            host.replace(ChecklistScreen(record.id))
        }
    }

    companion object {
        fun reinspection(orderRecordId: String) = StartInspectionScreen(null, orderRecordId)
    }
}
