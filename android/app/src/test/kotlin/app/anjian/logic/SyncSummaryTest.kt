package app.anjian.logic

import app.anjian.ffi.ReceiptCheckView
import app.anjian.ffi.ReceiptView
import app.anjian.ffi.RecordOutcomeView
import app.anjian.ffi.SyncReportView
import app.anjian.ffi.SyncStateView
import app.anjian.logic.Samples.summary
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Test

class SyncSummaryTest {
    private val receipt = ReceiptView("rec-2", listOf("h1"), "c", "2026-11-28T11:05:00+08:00", 17L, "p", "e", "s")

    @Test
    fun `a report with an accepted, a locked and a rejected record with an amendment becomes these rows`() {
        val report = SyncReportView(
            records = listOf(
                RecordOutcomeView("rec-1", "accepted", null, null, null, null),
                RecordOutcomeView("rec-2", "locked", null, null, receipt, null),
                RecordOutcomeView("rec-3", "rejected", "record_locked", "记录已锁定，迟到的修改不能并入", null, "rec-4"),
            ),
            downloaded = listOf("rec-5"),
            enterprises = 1u,
            inspectors = 0u,
            templates = 4u,
            agencyUpdated = true,
            numberBlocks = 3u,
            alerts = 2u,
            problems = listOf("号段申请被拒绝：配额已用完"),
        )
        val labels = mapOf("rec-1" to "齐林电力 2026-11-28 检查", "rec-4" to "齐林电力 2026-11-28 补正")
        assertEquals(
            listOf(
                SyncRow("上传 3 条记录：接收 1，锁定 1，拒绝 1", Tone.WARNING),
                SyncRow("齐林电力 2026-11-28 检查：服务器已接收", Tone.GOOD, "rec-1"),
                SyncRow("记录 rec-2：已锁定，回执第 17 号（2026-11-28 11:05）", Tone.GOOD, "rec-2"),
                SyncRow("记录 rec-3：被服务器拒绝：记录已锁定，迟到的修改不能并入（record_locked）", Tone.ERROR, "rec-3"),
                SyncRow("记录 rec-3 锁定后的修改未被接受，已另存为补正记录，点此打开", Tone.WARNING, "rec-4"),
                SyncRow("收到同事的记录：记录 rec-5", Tone.INFO, "rec-5"),
                SyncRow("已更新：企业 1 家、检查表 4 份、文书编号段 3 个、执法机关配置", Tone.INFO),
                SyncRow("物联网警报 2 条（新发出的或已确认的），请在警报列表中查看", Tone.WARNING),
                SyncRow("号段申请被拒绝：配额已用完", Tone.ERROR),
            ),
            syncReportRows(report, labels),
        )
    }

    @Test
    fun `an empty sync says so`() {
        val report = SyncReportView(listOf(), listOf(), 0u, 0u, 0u, false, 0u, 0u, listOf())
        assertEquals(listOf(SyncRow("没有需要上传的记录", Tone.INFO)), syncReportRows(report))
    }

    @Test
    fun `a record's standing reads from its sync state, receipt check and amendments`() {
        val never = recordSyncStatus(summary("rec-1", status = "submitted"), null, null, listOf())
        assertEquals("淄博齐林电力设备制造有限公司 2026-11-28 检查", never.label)
        assertEquals(listOf(SyncRow("已提交，尚未上传", Tone.WARNING)), never.rows)

        val locked = SyncStateView(true, receipt, null, null)
        val valid = recordSyncStatus(summary("rec-2", status = "submitted"), locked, ReceiptCheckView(receipt, true, null), listOf())
        assertEquals(listOf(SyncRow("服务器已锁定，回执有效（第 17 号，2026-11-28 11:05）", Tone.GOOD)), valid.rows)

        val forged = recordSyncStatus(
            summary("rec-2", status = "submitted"),
            SyncStateView(true, receipt, "record_locked", "锁定后的修改被拒绝"),
            ReceiptCheckView(receipt, false, "签名与服务器公钥不符"),
            listOf("rec-4"),
            mapOf("rec-4" to "齐林电力 补正"),
        )
        assertEquals(
            listOf(
                SyncRow("服务器已锁定，但回执无效：签名与服务器公钥不符", Tone.ERROR),
                SyncRow("上次被拒绝：锁定后的修改被拒绝（record_locked）", Tone.ERROR),
                SyncRow("补正记录：齐林电力 补正", Tone.INFO, "rec-4"),
            ),
            forged.rows,
        )

        val uploaded = recordSyncStatus(summary("rec-1"), SyncStateView(false, null, null, null), null, listOf())
        assertEquals(listOf(SyncRow("已上传，未提交", Tone.INFO)), uploaded.rows)
    }
}
