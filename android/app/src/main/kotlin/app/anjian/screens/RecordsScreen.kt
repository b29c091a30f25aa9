package app.anjian.screens

import android.view.View
import app.anjian.ffi.DeviceStore
import app.anjian.ffi.RecordSummaryView
import app.anjian.logic.displayTime
import app.anjian.logic.recordLabel
import app.anjian.ui.LoadingScreen
import app.anjian.ui.Palette
import app.anjian.ui.column
import app.anjian.ui.listRow
import app.anjian.ui.message
import app.anjian.ui.scrolling

/** Every record on the tablet, newest first: drafts open the checklist, submitted ones the documents. */
class RecordsScreen : LoadingScreen<List<RecordSummaryView>>() {
    override val title = "检查记录"

    override suspend fun load(store: DeviceStore): List<RecordSummaryView> = store.records()

    override fun content(data: List<RecordSummaryView>): View {
        val ctx = host.activity
        return ctx.scrolling(ctx.column {
            if (data.isEmpty()) message("本机还没有检查记录：在首页选择单位开始检查。", Palette.MUTED)
            for (record in data) {
                val draft = record.status == "draft"
                val detail = buildString {
                    append(if (draft) "草稿" else "已提交")
                    append(" · 已答 ").append(record.answeredCount)
                    append(" · 隐患 ").append(record.hazardCount)
                    if (record.conflictCount > 0u) append(" · 冲突 ").append(record.conflictCount)
                    append(" · ").append(record.place)
                    append(" · 更新于 ").append(displayTime(record.updatedAt))
                }
                listRow(recordLabel(record), detail, if (record.conflictCount > 0u) Palette.WARNING else Palette.TEXT) {
                    host.push(if (draft) ChecklistScreen(record.id) else DocumentScreen(record.id))
                }
            }
        })
    }
}
