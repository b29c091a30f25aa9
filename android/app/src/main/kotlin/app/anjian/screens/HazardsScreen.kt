package app.anjian.screens

import android.text.InputType
import android.view.View
import android.widget.LinearLayout
import app.anjian.ffi.AnjianException
import app.anjian.ffi.AnswerInput
import app.anjian.ffi.DeviceStore
import app.anjian.ffi.RecordView
import app.anjian.logic.DateCheck
import app.anjian.logic.HazardRow
import app.anjian.logic.checkDeadline
import app.anjian.logic.deadlineAfter
import app.anjian.logic.displayTime
import app.anjian.logic.hazardRows
import app.anjian.logic.inspectionDate
import app.anjian.logic.userMessage
import app.anjian.ui.LoadingScreen
import app.anjian.ui.Palette
import app.anjian.ui.button
import app.anjian.ui.buttonRow
import app.anjian.ui.column
import app.anjian.ui.divider
import app.anjian.ui.field
import app.anjian.ui.heading
import app.anjian.ui.message
import app.anjian.ui.panel
import app.anjian.ui.scrolling
import app.anjian.ui.text
import java.time.LocalDate

/**
 * The hazards found, each with its deadline (set or changed here), and submission: core
 * checks completeness and the screen lists every problem it names.
 */
class HazardsScreen(private val recordId: String) : LoadingScreen<RecordView>() {
    override val title = "隐患与提交"

    private val deadlines = mutableMapOf<String, String>()
    private val problems = mutableMapOf<String, String>()
    private var submitProblems: List<String> = listOf()

    override suspend fun load(store: DeviceStore): RecordView = store.record(recordId)

    override fun content(data: RecordView): View {
        val ctx = host.activity
        val rows = hazardRows(data)
        val editable = data.status == "draft"
        val day = inspectionDate(data.startedAt)
        return ctx.scrolling(ctx.column {
            heading(data.enterprise.name)
            text("${data.inspectionKindLabel} · ${data.statusLabel} · 检查日期 $day · 执法人员 ${data.inspectors.joinToString("、") { it.name }}", 16f, Palette.MUTED)
            if (data.conflicts.isNotEmpty()) {
                message("有 ${data.conflicts.size} 项答案冲突（${data.conflicts.joinToString("、") { it.item }}）：请在检查项中选择保留的答案。", Palette.WARNING)
                button("去处理冲突") { host.push(ChecklistScreen(recordId)) }
            }
            heading(if (rows.isEmpty()) "未发现隐患" else "隐患 ${rows.size} 项")
            for (row in rows) hazard(row, editable, day)
            divider()
            if (submitProblems.isNotEmpty()) {
                message("尚不能提交：", Palette.ERROR)
                for (problem in submitProblems) message("· $problem", Palette.ERROR)
            }
            if (editable) {
                button("提交检查记录") { submit() }
            } else {
                message("记录已于 ${data.submittedAt?.let(::displayTime) ?: ""} 由 ${data.submittedBy ?: ""} 提交。", Palette.GOOD)
            }
            button("文书预览与打印") { host.push(DocumentScreen(recordId)) }
        })
    }

    private fun LinearLayout.hazard(row: HazardRow, editable: Boolean, day: LocalDate) {
        divider()
        text("${row.item}  ${row.description}", 19f, bold = true)
        text("隐患等级：${row.hazardClass}", 16f, Palette.MUTED)
        panel("法律依据", row.legalBasis)
        row.measure?.let { panel("整改措施", it) }
        if (row.missingDeadline) {
            message("未设整改期限", Palette.ERROR)
        } else {
            text("整改期限：${row.deadline ?: "—"}", 18f)
        }
        val reanswer = row.reanswer
        if (!editable || reanswer == null) return
        val deadlineField = field("新的整改期限 YYYY-MM-DD", deadlines[row.item] ?: row.deadline.orEmpty(), InputType.TYPE_CLASS_DATETIME or InputType.TYPE_DATETIME_VARIATION_DATE) {
            deadlines[row.item] = it
        }
        buttonRow {
            for (days in listOf(7, 15, 30)) button("$days 天", 1f) { deadlineField.setText(deadlineAfter(days, day)) }
            button("设定期限", 1f) { setDeadline(row, reanswer, day) }
        }
        problems[row.item]?.let { message(it, Palette.ERROR) }
    }

    private fun setDeadline(row: HazardRow, reanswer: String, day: LocalDate) {
        val text = deadlines[row.item] ?: row.deadline.orEmpty()
        val value = when (val check = checkDeadline(text, day)) {
            null -> {
                problems[row.item] = "请填写整改期限"
                refresh()
                return
            }
            is DateCheck.Invalid -> {
                problems[row.item] = check.problem
                refresh()
                return
            }
            is DateCheck.Valid -> check.value
        }
        problems.remove(row.item)
        host.call(
            busy = "正在保存整改期限…",
            work = { store ->
                // The same result again: core keeps the note, photos and measure, and takes the deadline.
                store.answer(recordId, row.item, reanswer, AnswerInput(deadline = value))
                store.record(recordId)
            },
            failed = { error ->
                problems[row.item] = userMessage(error)
                refresh()
            },
        ) { fresh ->
            deadlines.remove(row.item)
            replaceData(fresh)
        }
    }

    private fun submit() {
        host.confirm("提交检查记录", "提交后记录不能再修改，同步时由服务器锁定。确定提交？", "提交") {
            host.call(
                busy = "正在提交…",
                work = { store -> store.submit(recordId) },
                failed = { error ->
                    if (error is AnjianException.Incomplete) {
                        submitProblems = error.problems
                        refresh()
                    } else {
                        host.showError(error)
                    }
                },
            ) { submitted ->
                submitProblems = listOf()
                host.toast("检查记录已提交")
                replaceData(submitted)
            }
        }
    }
}
