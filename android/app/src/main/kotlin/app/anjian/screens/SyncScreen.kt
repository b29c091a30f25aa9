package app.anjian.screens

import android.view.View
import android.widget.LinearLayout
import app.anjian.ffi.DeviceStore
import app.anjian.ffi.SyncReportView
import app.anjian.logic.CHINA
import app.anjian.logic.RecordSyncStatus
import app.anjian.logic.SyncRow
import app.anjian.logic.displayTime
import app.anjian.logic.recordLabel
import app.anjian.logic.recordSyncStatus
import app.anjian.logic.syncReportRows
import app.anjian.ui.LoadingScreen
import app.anjian.ui.Palette
import app.anjian.ui.button
import app.anjian.ui.column
import app.anjian.ui.divider
import app.anjian.ui.heading
import app.anjian.ui.listRow
import app.anjian.ui.message
import app.anjian.ui.scrolling
import app.anjian.ui.text
import java.time.ZonedDateTime
import java.time.format.DateTimeFormatter

/** The last sync of this run of the app; core keeps each record's standing, not the report. */
object LastSync {
    @Volatile
    var report: SyncReportView? = null
        private set

    @Volatile
    var at: String? = null
        private set

    fun remember(report: SyncReportView) {
        this.report = report
        at = ZonedDateTime.now(CHINA).format(DateTimeFormatter.ISO_OFFSET_DATE_TIME)
    }
}

/**
 * Sync: run one, see its outcome, and every record's standing with the server (locked with a
 * receipt that verifies, rejected and why, amendments made from refused late changes).
 */
class SyncScreen : LoadingScreen<SyncScreen.Data>() {
    class Data(val labels: Map<String, String>, val records: List<RecordSyncStatus>)

    override val title = "同步"

    override suspend fun load(store: DeviceStore): Data {
        val summaries = store.records()
        val labels = summaries.associate { it.id to recordLabel(it) }
        val records = summaries.map { summary ->
            recordSyncStatus(
                summary,
                store.syncState(summary.id),
                store.checkReceipt(summary.id),
                store.amendmentsOf(summary.id),
                labels,
            )
        }
        return Data(labels, records)
    }

    override fun content(data: Data): View {
        val ctx = host.activity
        return ctx.scrolling(ctx.column {
            button("立即同步") { sync() }
            heading("上次同步")
            val report = LastSync.report
            if (report == null) {
                message("本次启动后尚未同步。", Palette.MUTED)
            } else {
                text("时间：" + displayTime(LastSync.at.orEmpty()), 16f, Palette.MUTED)
                for (row in syncReportRows(report, data.labels)) row(row)
            }
            divider()
            heading("记录状态")
            if (data.records.isEmpty()) message("本机还没有检查记录。", Palette.MUTED)
            for (record in data.records) {
                listRow(record.label, null, Palette.ACCENT) { open(record.recordId) }
                for (row in record.rows) row(row)
            }
        })
    }

    private fun LinearLayout.row(row: SyncRow) {
        val target = row.openRecord
        if (target == null) {
            text(row.text, 17f, Palette.of(row.tone))
        } else {
            listRow(row.text, null, Palette.of(row.tone)) { open(target) }
        }
    }

    private fun open(recordId: String) {
        host.call(busy = null, work = { store -> store.record(recordId) }) { record ->
            host.push(if (record.status == "draft") ChecklistScreen(record.id) else DocumentScreen(record.id))
        }
    }

    private fun sync() {
        host.call(busy = "正在同步…", work = { store -> store.sync() }) { report ->
            LastSync.remember(report)
            reload()
        }
    }
}
