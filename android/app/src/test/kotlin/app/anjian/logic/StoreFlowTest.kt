package app.anjian.logic

import app.anjian.ffi.AnjianException
import app.anjian.ffi.AnswerInput
import app.anjian.ffi.DeviceStore
import app.anjian.ffi.DocumentType
import app.anjian.ffi.InspectorView
import app.anjian.ffi.RecordView
import app.anjian.ffi.defaultPrintPacing
import java.io.ByteArrayOutputStream
import java.io.File
import java.io.PipedInputStream
import java.io.PipedOutputStream
import java.nio.charset.Charset
import java.nio.file.Files
import org.junit.jupiter.api.Assertions.assertArrayEquals
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows

/**
 * The screens' logic against the real library (libanjian_ffi.so on jna.library.path): the
 * checks it makes before calling core must agree with what core then does.
 */
class StoreFlowTest {
    private val repo = File(System.getProperty("anjian.repo") ?: error("anjian.repo is not set"))
    private val gb18030 = Charset.forName("GB18030")

    private fun store(): DeviceStore {
        val store = DeviceStore.open(Files.createTempDirectory("anjian-app").toFile().apply { deleteOnExit() }.path)
        store.initProfile(InspectorView("张伟", "37030001", "2030-12-31"), File(repo, "templates/agency.example.toml").readText())
        store.importEnterprises("enterprises.csv", File(repo, "templates/demo/enterprises.csv").readBytes())
        return store
    }

    private fun start(store: DeviceStore): RecordView {
        val colleagues = checkCoInspectors("李娜：37030002：2030-12-31", ownCert = "37030001") as CoInspectorsCheck.Ready
        return store.startInspection(FACTORY, "trade-enforcement", colleagues.entries, "一号车间", null)
    }

    private fun ready(check: AnswerCheck): AnswerCheck.Ready = check as? AnswerCheck.Ready ?: error("refused: $check")

    @Test
    fun `following the checklist's next item answers every required item once and the hazards screen completes the record`() {
        store().use { store ->
            val record = start(store)
            val day = inspectionDate(record.startedAt)
            val items = store.checklist(record.id)
            val measured = items.first { answerKind(it) == AnswerKind.MEASURE && it.min != null }
            val low = (measured.min!! - 1).toString()
            val measuredAnswer = ready(prepareAnswer(measured, AnswerChoice.Measured(low), deadlineAfter(15, day), "", "", listOf(), day))
            assertTrue(measuredAnswer.failing)
            store.answer(record.id, measured.code, measuredAnswer.input, measuredAnswer.details)

            var progress = ChecklistProgress(store.checklist(record.id), listOf())
            var index = progress.firstToShow()
            val visited = mutableListOf<String>()
            while (!progress.ready) {
                val item = progress.items[index]
                assertTrue(item.required && item.answer == null, "${item.code} was shown but needs nothing")
                visited += item.code
                val choice = when (answerKind(item)) {
                    AnswerKind.CHECK -> if (item.code == "IT-002") AnswerChoice.Fail else AnswerChoice.Pass
                    AnswerKind.MEASURE -> AnswerChoice.Measured((item.min ?: item.max ?: 0.0).toString())
                    AnswerKind.TEXT -> AnswerChoice.Written("已记录")
                }
                val prepared = ready(prepareAnswer(item, choice, "", "", if (item.code == "IT-002") "无证焊工在岗" else "", listOf(), day))
                store.answer(record.id, item.code, prepared.input, prepared.details)
                progress = ChecklistProgress(store.checklist(record.id), store.record(record.id).conflicts.map { it.item })
                index = progress.afterAnswer(index)
            }
            assertEquals(progress.requiredCount - (if (measured.required) 1 else 0), visited.size)
            assertEquals(visited.size, visited.toSet().size, "no item was shown twice")

            // A failed check without a deadline blocks submission, as the hazards screen says.
            val rows = hazardRows(store.record(record.id)).associateBy { it.item }
            assertEquals(setOf("IT-002", measured.code), rows.keys)
            assertTrue(rows.getValue("IT-002").missingDeadline)
            assertFalse(rows.getValue(measured.code).missingDeadline)
            assertEquals(low, rows.getValue(measured.code).reanswer)
            val incomplete = assertThrows<AnjianException.Incomplete> { store.submit(record.id) }
            assertTrue(incomplete.problems.any { it.contains("IT-002") }, incomplete.problems.toString())
            assertEquals(incomplete.detail, userMessage(incomplete))

            // Core refuses what the local check would have refused, in its own words.
            val past = assertThrows<AnjianException.InvalidInput> {
                store.answer(record.id, "IT-002", "fail", AnswerInput(deadline = day.minusDays(1).toString()))
            }
            val local = checkDeadline(day.minusDays(1).toString(), day) as DateCheck.Invalid
            assertTrue(userMessage(past).contains("早于检查日期") && local.problem.contains("早于检查日期"), userMessage(past))

            // Re-answering unchanged sets the deadline and keeps the note.
            val deadline = checkDeadline(deadlineAfter(30, day), day) as DateCheck.Valid
            store.answer(record.id, "IT-002", rows.getValue("IT-002").reanswer!!, AnswerInput(deadline = deadline.value))
            val completed = store.record(record.id)
            assertTrue(hazardRows(completed).none { it.missingDeadline })
            assertEquals("无证焊工在岗", completed.answers.single { it.item == "IT-002" }.note)
            assertEquals(listOf(DocumentType.RECORD, DocumentType.ORDER), documentChoices(completed).map { it.type })
            // Submitting issues the record and the order with it, from the device's serials.
            for (type in listOf(DocumentType.RECORD, DocumentType.ORDER)) store.addNumberBlock(type, day.year, 1u, 9u)
            val submitted = store.submit(record.id)
            assertEquals("submitted", submitted.status)
            assertEquals(listOf(DocumentType.RECORD, DocumentType.ORDER), submitted.documents.map { it.docType })
        }
    }

    private fun withOrder(store: DeviceStore): String {
        val year = todayInChina().year
        for (type in DocumentType.entries) store.addNumberBlock(type, year, 1u, 50u)
        val record = start(store)
        val day = inspectionDate(record.startedAt)
        for (item in store.checklist(record.id).filter { it.required }) {
            val choice = when (answerKind(item)) {
                AnswerKind.CHECK -> if (item.code == "IT-003") AnswerChoice.Fail else AnswerChoice.Pass
                AnswerKind.MEASURE -> AnswerChoice.Measured((item.min ?: item.max ?: 0.0).toString())
                AnswerKind.TEXT -> AnswerChoice.Written("已记录")
            }
            val prepared = ready(prepareAnswer(item, choice, deadlineAfter(30, day), "", "", listOf(), day))
            store.answer(record.id, item.code, prepared.input, prepared.details)
        }
        store.issueDocument(record.id, DocumentType.RECORD)
        store.issueDocument(record.id, DocumentType.ORDER)
        return record.id
    }

    @Test
    fun `a print job reaches the printer through the timed sink byte for byte, and a reprint is copy 2 alone`() {
        store().use { store ->
            val id = withOrder(store)
            val layout = thermalLayout(58, reprintCopy2 = false, raster = false)
            val job = store.renderEscpos(id, DocumentType.ORDER, layout)
            val printer = PipedInputStream(64 * 1024)
            val out = PipedOutputStream(printer)
            val received = ByteArrayOutputStream()
            val reader = Thread { printer.copyTo(received) }.apply { start() }
            val pacing = defaultPrintPacing().copy(pauseMillis = 0u)
            val report = TimedOutputSink(out, pacing.timeoutMillis.toLong()).use { sink ->
                store.printDocument(id, DocumentType.ORDER, layout, sink, pacing)
            }
            reader.join(5_000)
            assertArrayEquals(job, received.toByteArray())
            assertEquals(job.size.toULong(), report.bytes)

            val reprint = store.renderEscpos(id, DocumentType.ORDER, thermalLayout(80, reprintCopy2 = true, raster = false))
            assertTrue(contains(reprint, "第二联".toByteArray(gb18030)))
            assertFalse(contains(reprint, "第一联".toByteArray(gb18030)))
        }
    }

    @Test
    fun `a printer that stops taking bytes fails the job within the timeout, saying how much it got`() {
        store().use { store ->
            val id = withOrder(store)
            val layout = thermalLayout(58, reprintCopy2 = false, raster = false)
            val total = store.renderEscpos(id, DocumentType.ORDER, layout).size
            // Nobody reads: the pipe takes four 256-byte chunks, then the fifth write blocks.
            val out = PipedOutputStream(PipedInputStream(1024))
            val pacing = defaultPrintPacing().copy(chunkBytes = 256u, pauseMillis = 0u, timeoutMillis = 300u)
            val started = System.currentTimeMillis()
            val gone = TimedOutputSink(out, pacing.timeoutMillis.toLong()).use { sink ->
                assertThrows<AnjianException.Printer> { store.printDocument(id, DocumentType.ORDER, layout, sink, pacing) }
            }
            assertTrue(System.currentTimeMillis() - started < 3_000)
            assertEquals(1024uL, gone.sent)
            assertEquals(total.toULong(), gone.total)
            assertTrue(gone.detail.contains("打印机 300 毫秒内没有接收数据"), gone.detail)
            assertEquals(gone.detail, userMessage(gone))
        }
    }

    private fun contains(haystack: ByteArray, needle: ByteArray): Boolean =
        (0..haystack.size - needle.size).any { start -> needle.indices.all { haystack[start + it] == needle[it] } }

    private companion object {
        /** 淄博齐林电力设备制造有限公司, 工贸. */
        const val FACTORY = "913703030226339277"
    }
}
