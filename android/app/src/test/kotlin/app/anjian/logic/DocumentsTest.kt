package app.anjian.logic

import app.anjian.ffi.DocumentType
import app.anjian.ffi.IssuedDocumentView
import app.anjian.ffi.PrintReport
import app.anjian.ffi.ThermalLayout
import app.anjian.logic.Samples.hazard
import app.anjian.logic.Samples.record
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test

class DocumentsTest {
    private val recordDoc = IssuedDocumentView(DocumentType.RECORD, "现场检查记录", "(淄)安监检记〔2026〕0001号", "2026-11-28T10:00:00+08:00", "张伟")
    private val orderDoc = IssuedDocumentView(DocumentType.ORDER, "责令限期整改指令书", "(淄)安监责改〔2026〕0001号", "2026-11-28T10:01:00+08:00", "张伟")

    @Test
    fun `the documents offered follow the record's kind and hazards`() {
        assertEquals(listOf(DocumentChoice(DocumentType.RECORD, null)), documentChoices(record()))
        assertEquals(
            listOf(DocumentChoice(DocumentType.RECORD, recordDoc), DocumentChoice(DocumentType.ORDER, null)),
            documentChoices(record(hazards = listOf(hazard("IT-003", "2026-12-28")), documents = listOf(recordDoc))),
        )
        assertEquals(listOf(DocumentChoice(DocumentType.REINSPECTION, null)), documentChoices(record(kind = "reinspection")))
        assertEquals(listOf<DocumentChoice>(), documentChoices(record(kind = "reinspection", inspectionKind = "self")))
        assertEquals(listOf<DocumentChoice>(), documentChoices(record(kind = "amendment")))
    }

    @Test
    fun `a submitted inspection with hazards can be re-inspected, enforcement only with an order`() {
        val hazards = listOf(hazard("IT-003", "2026-12-28"))
        assertTrue(canReinspect(record(status = "submitted", hazards = hazards, documents = listOf(recordDoc, orderDoc))))
        assertFalse(canReinspect(record(status = "draft", hazards = hazards, documents = listOf(recordDoc, orderDoc))))
        assertFalse(canReinspect(record(status = "submitted", hazards = hazards, documents = listOf(recordDoc))))
        assertFalse(canReinspect(record(status = "submitted", documents = listOf(recordDoc))))
        assertTrue(canReinspect(record(status = "submitted", hazards = hazards, inspectionKind = "self")))
        assertFalse(canReinspect(record(status = "submitted", inspectionKind = "self")))
        assertFalse(canReinspect(record(kind = "reinspection", status = "submitted", hazards = hazards, inspectionKind = "self")))
    }

    @Test
    fun `two copies are printed, and a reprint is copy 2 alone`() {
        assertEquals(ThermalLayout(58u, 2u, null, false), thermalLayout(58, reprintCopy2 = false, raster = false))
        assertEquals(ThermalLayout(80u, 2u, 2u.toUByte(), true), thermalLayout(80, reprintCopy2 = true, raster = true))
        assertEquals("第二联已补打：发送 5120 字节（20 块，用时 1.2 秒）", printedText(PrintReport(5120u, 20u, 1_234u), true))
        assertEquals("两联已打印：发送 10 字节（1 块，用时 0.0 秒）", printedText(PrintReport(10u, 1u, 5u), false))
    }
}
