package app.anjian.ffi

import app.anjian.ffi.Fixtures.FACTORY
import app.anjian.ffi.Fixtures.GB18030
import app.anjian.ffi.Fixtures.LI
import app.anjian.ffi.Fixtures.answerRequired
import app.anjian.ffi.Fixtures.contains
import java.io.File
import java.time.LocalDate
import java.time.ZoneOffset
import org.junit.jupiter.api.Assertions.assertArrayEquals
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows

/**
 * The field flow without a server, from Kotlin through the generated bindings into the real
 * library: set-up, an inspection on two tablets with a conflict, the three documents, printing.
 */
class FieldFlowTest {
    private val year = LocalDate.now(ZoneOffset.ofHours(8)).year

    private fun zhangStore(): DeviceStore {
        val store = DeviceStore.open(Fixtures.tempDir("zhang").path)
        store.initProfile(InspectorView("张伟", "37030001", "2030-12-31"), Fixtures.agencyToml())
        assertEquals(12u, store.importEnterprises("enterprises.csv", Fixtures.enterprisesCsv()))
        return store
    }

    @Test
    fun `a new store has no inspector and refuses to start an inspection`() {
        val store = DeviceStore.open(Fixtures.tempDir("empty").path)
        val profile = store.profile()
        assertNull(profile.inspector)
        assertEquals(store.deviceId(), profile.deviceId)
        val refused = assertThrows<AnjianException.NotReady> {
            store.startInspection(FACTORY, "trade-enforcement", listOf(), null, null)
        }
        assertEquals("not_initialized", refused.code)
        assertTrue(refused.detail.contains("尚未初始化"), refused.detail)
    }

    @Test
    fun `a bad register row is named and nothing is imported`() {
        val store = zhangStore()
        val bad = "统一社会信用代码,单位名称,地址,行业,区划代码,法定代表人,联系电话\n" +
            "913703050534640908,甲公司,某地,工贸,370305003,王,0533-7512345\n" +
            "12345,乙公司,某地,工贸,370305003,李,0533-7512346\n"
        val before = store.enterprises(null).size
        val refused = assertThrows<AnjianException.InvalidInput> {
            store.importEnterprises("bad.csv", bad.toByteArray())
        }
        assertEquals("invalid_csv", refused.code)
        assertTrue(refused.detail.contains("第 3 行"), refused.detail)
        assertEquals(before, store.enterprises(null).size)
        assertEquals(listOf(FACTORY), store.enterprises("齐林").map { it.creditCode })
        val badCode = assertThrows<AnjianException.InvalidInput> { store.enterprise("91370000000000000X") }
        assertEquals("invalid_credit_code", badCode.code)
        val unknown = assertThrows<AnjianException.NotFound> { store.record("0190a000-0000-7000-8000-000000000000") }
        assertEquals("unknown_record", unknown.code)
    }

    @Test
    fun `two tablets answer one item differently and the conflict is resolved`() {
        val zhang = zhangStore()
        val record = zhang.startInspection(FACTORY, "trade-enforcement", listOf(LI), "一号车间", GpsPoint(36.81, 118.05))
        assertEquals("draft", record.status)
        assertEquals(listOf("张伟", "李娜"), record.inspectors.map { it.name })
        val items = zhang.checklist(record.id)
        // Checklist version 2: an enterprise whose register gives no 细分行业 is asked every 10号令 item.
        assertEquals(91, items.size)
        assertTrue(items.all { it.guidance.isNotBlank() && it.legalBasis.isNotBlank() })
        answerRequired(zhang, record.id, skip = setOf("IT-002"))

        // 李娜's tablet gets the record by exchange file, joins and answers IT-002 itself.
        val li = DeviceStore.open(Fixtures.tempDir("li").path)
        li.initProfile(InspectorView("李娜", "37030002", "2030-12-31"), Fixtures.agencyToml())
        li.importEnterprises("enterprises.csv", Fixtures.enterprisesCsv())
        val imported = li.importRecord("record.anjian", zhang.exportRecord(record.id))
        assertEquals(ImportOutcomeView(record.id, created = true, changed = true), imported)
        li.joinInspection(record.id)
        val photo = File(Fixtures.tempDir("camera"), "IMG_0001.jpg").apply { writeBytes(byteArrayOf(0xFF.toByte(), 0xD8.toByte(), 1, 2, 3)) }
        val emptyPhoto = File(photo.parentFile, "IMG_0002.jpg").apply { writeBytes(ByteArray(0)) }
        val refusedPhoto = assertThrows<AnjianException.InvalidInput> {
            li.answer(record.id, "IT-002", "fail", AnswerInput(deadline = "2030-01-31", photoPaths = listOf(emptyPhoto.path)))
        }
        assertEquals("photo_unreadable", refusedPhoto.code)
        val byLi = li.answer(record.id, "IT-002", "fail", AnswerInput(note = "护栏缺失", deadline = "2030-01-31", photoPaths = listOf(photo.path)))
        val stored = File(requireNotNull(li.photoPath(byLi.photos.single())))
        assertArrayEquals(photo.readBytes(), stored.readBytes(), "the store keeps the photo by its SHA-256")
        zhang.answer(record.id, "IT-002", "pass", AnswerInput())

        val merged = zhang.importRecord("record.anjian", li.exportRecord(record.id))
        assertTrue(merged.changed)
        val conflicted = zhang.record(record.id)
        assertEquals(listOf("IT-002"), conflicted.conflicts.map { it.item })
        val values = conflicted.conflicts.single().values
        assertEquals(setOf("张伟", "李娜"), values.map { it.byName }.toSet())

        // A choice out of range is refused with the range; the record is unchanged.
        val refused = assertThrows<AnjianException.InvalidInput> { zhang.resolveConflict(record.id, "IT-002", 3u) }
        assertTrue(refused.detail.contains("1 到 2"), refused.detail)
        assertEquals(1, zhang.record(record.id).conflicts.size)

        val choice = values.indexOfFirst { it.byName == "李娜" } + 1
        val kept = zhang.resolveConflict(record.id, "IT-002", choice.toUInt())
        assertEquals("fail", kept.status)
        assertEquals("张伟", kept.resolvedBy)
        val resolved = zhang.record(record.id)
        assertTrue(resolved.conflicts.isEmpty())
        val hazard = resolved.hazards.single()
        assertEquals("IT-002", hazard.item)
        assertEquals("2030-01-31", hazard.deadline)
        assertTrue(hazard.legalBasis.isNotBlank())
    }

    @Test
    fun `the three documents render and print, and a submitted record refuses edits`() {
        val zhang = zhangStore()
        for (type in DocumentType.values()) {
            zhang.addNumberBlock(type, year, 1u, 50u)
        }
        val record = zhang.startInspection(FACTORY, "trade-enforcement", listOf(LI), null, null)
        answerRequired(zhang, record.id, skip = setOf("IT-003"))

        // Not complete yet: the missing item is named and nothing is issued.
        val incomplete = assertThrows<AnjianException.Incomplete> { zhang.submit(record.id) }
        assertTrue(incomplete.problems.any { it.contains("IT-003") }, incomplete.problems.toString())
        val past = assertThrows<AnjianException.InvalidInput> {
            zhang.answer(record.id, "IT-003", "fail", AnswerInput(deadline = "2020-01-01"))
        }
        assertEquals("invalid_answer", past.code)
        assertTrue(past.detail.contains("早于检查日期"), past.detail)
        val badDate = assertThrows<AnjianException.InvalidInput> {
            zhang.answer(record.id, "IT-003", "fail", AnswerInput(deadline = "2030-02-30"))
        }
        assertTrue(badDate.detail.contains("YYYY-MM-DD"), badDate.detail)
        // A note the documents could not print is refused at input, naming the character.
        val emoji = assertThrows<AnjianException.InvalidInput> {
            zhang.answer(record.id, "IT-003", "fail", AnswerInput(note = "配电箱\uD83D\uDE00未上锁", deadline = "2030-02-28"))
        }
        assertEquals("invalid_answer", emoji.code)
        assertTrue(emoji.detail.contains("U+1F600"), emoji.detail)
        assertTrue(zhang.record(record.id).answers.none { it.item == "IT-003" }, "a refused answer leaves no trace")
        zhang.answer(record.id, "IT-003", "fail", AnswerInput(note = "配电箱未上锁", deadline = "2030-02-28"))

        val issued = zhang.issueDocument(record.id, DocumentType.RECORD)
        assertTrue(issued.number.contains("检记"), issued.number)
        assertEquals(issued, zhang.issueDocument(record.id, DocumentType.RECORD), "the number never changes")

        val pdf = zhang.renderPdf(record.id, DocumentType.RECORD)
        assertEquals("%PDF", String(pdf, 0, 4, Charsets.US_ASCII))
        val html = zhang.renderHtml(record.id, DocumentType.RECORD)
        assertTrue(html.contains("现场检查记录") && html.contains(issued.number), html.take(300))

        val order = zhang.issueDocument(record.id, DocumentType.ORDER)
        assertTrue(order.number.contains("责改"), order.number)
        val job = zhang.renderEscpos(record.id, DocumentType.ORDER, ThermalLayout(widthMm = 58u))
        assertTrue(contains(job, "责令限期整改指令书".toByteArray(GB18030)), "the title in GB18030")
        assertTrue(contains(job, order.number.toByteArray(GB18030)), "the number in GB18030")
        assertTrue(contains(job, "第一联 执法机关存档".toByteArray(GB18030)))
        assertTrue(contains(job, "第二联 交被检查单位".toByteArray(GB18030)))
        val reprint = zhang.renderEscpos(record.id, DocumentType.ORDER, ThermalLayout(widthMm = 80u, onlyCopy = 2u.toUByte()))
        assertTrue(contains(reprint, "第二联 交被检查单位".toByteArray(GB18030)))
        assertFalse(contains(reprint, "第一联".toByteArray(GB18030)), "a reprint of copy 2 is copy 2 alone")
        val noCopy3 = assertThrows<AnjianException.InvalidInput> {
            zhang.renderEscpos(record.id, DocumentType.ORDER, ThermalLayout(widthMm = 58u, onlyCopy = 3u.toUByte()))
        }
        assertTrue(noCopy3.detail.contains("第 3 联"), noCopy3.detail)
        assertThrows<AnjianException.InvalidInput> {
            zhang.renderEscpos(record.id, DocumentType.ORDER, ThermalLayout(widthMm = 70u))
        }

        // Printing goes through the app's sink in paced chunks, byte for byte.
        val printer = RecordingPrinter()
        val pacing = defaultPrintPacing().copy(pauseMillis = 0u)
        val report = zhang.printDocument(record.id, DocumentType.ORDER, ThermalLayout(widthMm = 58u), printer, pacing)
        assertArrayEquals(job, printer.bytes())
        assertEquals(job.size.toULong(), report.bytes)
        assertTrue(printer.chunks.all { it.size <= pacing.chunkBytes.toInt() })
        assertEquals(((job.size + pacing.chunkBytes.toInt() - 1) / pacing.chunkBytes.toInt()).toULong(), report.chunks)
        assertTrue(printer.finished)

        // A printer that goes away mid-job: the error says how far it got.
        val failing = RecordingPrinter(failAfterChunks = 2)
        val gone = assertThrows<AnjianException.Printer> {
            zhang.printDocument(record.id, DocumentType.ORDER, ThermalLayout(widthMm = 58u), failing, pacing)
        }
        assertEquals((2 * pacing.chunkBytes.toInt()).toULong(), gone.sent)
        assertEquals(job.size.toULong(), gone.total)
        assertTrue(gone.detail.contains("纸仓"), gone.detail)

        val submitted = zhang.submit(record.id)
        assertEquals("submitted", submitted.status)
        assertEquals(listOf(DocumentType.RECORD, DocumentType.ORDER), submitted.documents.map { it.docType })
        val locked = assertThrows<AnjianException.Locked> {
            zhang.answer(record.id, "IT-001", "fail", AnswerInput(deadline = "2030-01-01"))
        }
        assertEquals("record_submitted", locked.code)

        // The re-inspection follows the order up: its items are the order's hazards.
        val reinspection = zhang.startReinspection(record.id, listOf(LI), null)
        assertEquals("reinspection", reinspection.kind)
        assertEquals(order.number, reinspection.reinspectsOrderNumber)
        val items = zhang.checklist(reinspection.id)
        assertEquals(listOf("IT-003"), items.map { it.code })
        zhang.answer(reinspection.id, "IT-003", "pass", AnswerInput(note = "已上锁"))
        val opinion = zhang.renderPdf(reinspection.id, DocumentType.REINSPECTION)
        assertEquals("%PDF", String(opinion, 0, 4, Charsets.US_ASCII))
        val opinionText = zhang.renderHtml(reinspection.id, DocumentType.REINSPECTION)
        assertTrue(opinionText.contains("整改复查意见书") && opinionText.contains(order.number))

        val register = zhang.numberRegister()
        assertEquals(3, register.count { it.state == "issued" })
        assertEquals(
            listOf(issued.number),
            register.filter { it.docType == DocumentType.RECORD }.map { it.number },
        )
    }
}

/** Stands in for the Bluetooth socket: keeps what it is sent, or fails after some chunks. */
class RecordingPrinter(private val failAfterChunks: Int? = null) : PrinterSink {
    val chunks = mutableListOf<ByteArray>()
    var finished = false

    override fun writeChunk(chunk: ByteArray) {
        if (failAfterChunks != null && chunks.size == failAfterChunks) {
            throw AnjianException.Printer(0u, 0u, "打印机纸仓已空")
        }
        chunks.add(chunk)
    }

    override fun finish() {
        finished = true
    }

    fun bytes(): ByteArray = chunks.fold(ByteArray(0)) { all, chunk -> all + chunk }
}
