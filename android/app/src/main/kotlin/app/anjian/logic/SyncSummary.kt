package app.anjian.logic

import app.anjian.ffi.ReceiptCheckView
import app.anjian.ffi.RecordSummaryView
import app.anjian.ffi.SyncReportView
import app.anjian.ffi.SyncStateView

enum class Tone { GOOD, INFO, WARNING, ERROR }

/** One line of the sync screen; `openRecord` makes it a link to that record. */
data class SyncRow(val text: String, val tone: Tone, val openRecord: String? = null)

/** How a record is named to people: its enterprise and day, falling back to the id. */
fun recordLabel(summary: RecordSummaryView): String {
    val kind = when (summary.kind) {
        "reinspection" -> "复查"
        "amendment" -> "补正"
        else -> "检查"
    }
    return "${summary.enterpriseName} ${summary.startedAt.take(10)} $kind"
}

private fun reason(code: String?, message: String?): String = when {
    message != null && code != null -> "$message（$code）"
    else -> message ?: code ?: "未说明原因"
}

/**
 * The rows for the outcome of one sync: one per uploaded record (with the receipt of a locked
 * one, the reason of a rejection, and a link to the amendment made from refused late changes),
 * then what came down, then the problems. `labels` names records by id where known.
 */
fun syncReportRows(report: SyncReportView, labels: Map<String, String> = emptyMap()): List<SyncRow> {
    val rows = mutableListOf<SyncRow>()
    fun label(id: String) = labels[id] ?: "记录 $id"
    if (report.records.isEmpty()) {
        rows += SyncRow("没有需要上传的记录", Tone.INFO)
    } else {
        val accepted = report.records.count { it.result == "accepted" }
        val locked = report.records.count { it.result == "locked" }
        val rejected = report.records.count { it.result == "rejected" }
        rows += SyncRow(
            "上传 ${report.records.size} 条记录：接收 $accepted，锁定 $locked，拒绝 $rejected",
            if (rejected > 0) Tone.WARNING else Tone.GOOD,
        )
    }
    for (outcome in report.records) {
        rows += when (outcome.result) {
            "accepted" -> SyncRow("${label(outcome.id)}：服务器已接收", Tone.GOOD, outcome.id)
            "locked" -> {
                val receipt = outcome.receipt?.let { "，回执第 ${it.logIndex} 号（${displayTime(it.lockedAt)}）" } ?: "，未附回执"
                SyncRow("${label(outcome.id)}：已锁定$receipt", if (outcome.receipt != null) Tone.GOOD else Tone.WARNING, outcome.id)
            }
            else -> SyncRow("${label(outcome.id)}：被服务器拒绝：${reason(outcome.code, outcome.message)}", Tone.ERROR, outcome.id)
        }
        outcome.amendment?.let { amendment ->
            rows += SyncRow("${label(outcome.id)} 锁定后的修改未被接受，已另存为补正记录，点此打开", Tone.WARNING, amendment)
        }
    }
    for (id in report.downloaded) {
        rows += SyncRow("收到同事的记录：${label(id)}", Tone.INFO, id)
    }
    val reference = listOfNotNull(
        report.enterprises.takeIf { it > 0u }?.let { "企业 $it 家" },
        report.inspectors.takeIf { it > 0u }?.let { "执法人员 $it 名" },
        report.templates.takeIf { it > 0u }?.let { "检查表 $it 份" },
        report.numberBlocks.takeIf { it > 0u }?.let { "文书编号段 $it 个" },
        "执法机关配置".takeIf { report.agencyUpdated },
    )
    if (reference.isNotEmpty()) rows += SyncRow("已更新：" + reference.joinToString("、"), Tone.INFO)
    if (report.alerts > 0u) {
        rows += SyncRow("物联网警报 ${report.alerts} 条（新发出的或已确认的），请在警报列表中查看", Tone.WARNING)
    }
    for (problem in report.problems) rows += SyncRow(problem, Tone.ERROR)
    return rows
}

/** A record's standing with the server, as the sync screen shows it under the record's name. */
data class RecordSyncStatus(val recordId: String, val label: String, val rows: List<SyncRow>)

/**
 * What the device knows of a record's standing: never uploaded, uploaded, or locked with a
 * receipt that still verifies (or why not); the last rejection; the amendments made to it.
 */
fun recordSyncStatus(
    summary: RecordSummaryView,
    state: SyncStateView?,
    receipt: ReceiptCheckView?,
    amendments: List<String>,
    labels: Map<String, String> = emptyMap(),
): RecordSyncStatus {
    val rows = mutableListOf<SyncRow>()
    when {
        state == null -> rows += SyncRow(
            if (summary.status == "submitted") "已提交，尚未上传" else "尚未上传",
            if (summary.status == "submitted") Tone.WARNING else Tone.INFO,
        )
        state.locked && receipt != null && receipt.valid -> rows += SyncRow(
            "服务器已锁定，回执有效（第 ${receipt.receipt.logIndex} 号，${displayTime(receipt.receipt.lockedAt)}）",
            Tone.GOOD,
        )
        state.locked && receipt != null -> rows += SyncRow(
            "服务器已锁定，但回执无效：${receipt.problem ?: "未说明原因"}",
            Tone.ERROR,
        )
        state.locked -> rows += SyncRow("服务器已锁定，本机没有回执", Tone.WARNING)
        summary.status == "submitted" -> rows += SyncRow("已上传，等待服务器锁定", Tone.WARNING)
        else -> rows += SyncRow("已上传，未提交", Tone.INFO)
    }
    if (state != null && (state.lastCode != null || state.lastMessage != null)) {
        rows += SyncRow("上次被拒绝：${reason(state.lastCode, state.lastMessage)}", Tone.ERROR)
    }
    for (amendment in amendments) {
        rows += SyncRow("补正记录：${labels[amendment] ?: amendment}", Tone.INFO, amendment)
    }
    return RecordSyncStatus(summary.id, labels[summary.id] ?: recordLabel(summary), rows)
}
