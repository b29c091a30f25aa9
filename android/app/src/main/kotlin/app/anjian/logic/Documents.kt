package app.anjian.logic

import app.anjian.ffi.DocumentType
import app.anjian.ffi.IssuedDocumentView
import app.anjian.ffi.PrintReport
import app.anjian.ffi.RecordView
import app.anjian.ffi.ThermalLayout

/** A document the record can have, and its number once issued. */
data class DocumentChoice(val type: DocumentType, val issued: IssuedDocumentView?)

/**
 * The documents worth offering for a record, following core's issue rules: an inspection
 * gives the record and, when it found hazards, the order; a re-inspection of an enforcement
 * inspection gives the opinion (a self, resident or expert re-check has no order to answer);
 * an amendment gives none. Core still decides at issue time (completeness, certificates).
 */
fun documentChoices(record: RecordView): List<DocumentChoice> {
    val types = when (record.kind) {
        "inspection" -> listOf(DocumentType.RECORD) + if (record.hazards.isNotEmpty()) listOf(DocumentType.ORDER) else emptyList()
        "reinspection" -> if (record.inspectionKind == "enforcement") listOf(DocumentType.REINSPECTION) else emptyList()
        else -> emptyList()
    }
    return types.map { type -> DocumentChoice(type, record.documents.firstOrNull { it.docType == type }) }
}

/**
 * Whether a re-inspection can follow this record up, as core decides: a submitted inspection
 * that found hazards, and for enforcement one with an issued order.
 */
fun canReinspect(record: RecordView): Boolean =
    record.kind == "inspection" && record.status == "submitted" && record.hazards.isNotEmpty() &&
        (record.inspectionKind != "enforcement" || record.documents.any { it.docType == DocumentType.ORDER })

/** Paper widths offered; DOMAIN.md §5: 58 mm (384 dots) and 80 mm (576 dots) portable printers. */
val PAPER_WIDTHS_MM: List<Int> = listOf(58, 80)

/**
 * The layout of a thermal job: both copies (一式两联), or copy 2 alone when the enterprise's
 * copy came out damaged; `raster` for printers without a Chinese font.
 */
fun thermalLayout(widthMm: Int, reprintCopy2: Boolean, raster: Boolean): ThermalLayout =
    ThermalLayout(
        widthMm = widthMm.toUInt(),
        copies = 2u,
        onlyCopy = if (reprintCopy2) 2u.toUByte() else null,
        raster = raster,
    )

fun printedText(report: PrintReport, reprintCopy2: Boolean): String {
    val what = if (reprintCopy2) "第二联已补打" else "两联已打印"
    val seconds = report.millis.toLong() / 100 / 10.0
    return "$what：发送 ${report.bytes} 字节（${report.chunks} 块，用时 $seconds 秒）"
}

/** A file name for a shared PDF: the document number when issued, readable in chat apps. */
fun pdfFileName(title: String, number: String?): String =
    safeFileName(listOfNotNull(title, number).joinToString("-")) + ".pdf"
