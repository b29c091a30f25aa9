package app.anjian.shell

import android.Manifest
import app.anjian.ffi.AnswerInput
import app.anjian.ffi.DocumentType
import app.anjian.ffi.defaultPrintPacing
import java.io.File
import java.time.LocalDate
import java.time.ZoneOffset
import java.util.concurrent.TimeUnit
import org.junit.After
import org.junit.Assert.assertArrayEquals
import org.junit.Assert.assertEquals
import org.junit.Before
import org.junit.Test
import org.junit.runner.RunWith
import org.robolectric.RobolectricTestRunner
import org.robolectric.Shadows.shadowOf
import org.robolectric.annotation.Config
import org.robolectric.annotation.GraphicsMode

/**
 * How long an inspector waits at the printer: from tapping 打印 to the last byte of a
 * 10-finding order on a Bluetooth SPP link at 115,200 baud (8N1: 11,520 bytes a second), the
 * link simulated by a socket whose writes take as long as their bytes take on the wire.
 * Measured, never asserted: the number goes to docs/benchmarks.md, and to
 * target/benchmarks/print-115200.txt on each run.
 */
@RunWith(RobolectricTestRunner::class)
@Config(sdk = [35], qualifiers = Sizes.TABLET)
@GraphicsMode(GraphicsMode.Mode.NATIVE)
class PrintBenchmarkTest {
    @Before
    fun fresh() = resetProcess()

    @After
    fun close() = resetProcess()

    @Test
    fun `a 10-finding order from tapping 打印 to its last byte at 115200 baud`() {
        val store = offlineDevice()
        val day = LocalDate.now(ZoneOffset.ofHours(8))
        val recordId = offMain {
            val record = store.startInspection(FACTORY, "trade-enforcement", listOf(LI), "一号车间", null)
            val failing = store.checklist(record.id).filter { it.required && it.answerKind == "check" }.take(FINDINGS)
            for (item in failing) {
                store.answer(record.id, item.code, "fail", AnswerInput(note = "现场发现：${item.hazard}", deadline = day.plusDays(30).toString()))
            }
            record.id
        }
        answerRestPassing(store, recordId, skip = setOf())
        val number = offMain {
            store.issueDocument(recordId, DocumentType.RECORD)
            store.issueDocument(recordId, DocumentType.ORDER).number
        }
        assertEquals(FINDINGS, offMain { store.record(recordId) }.hazards.size)
        val job = cliEscpos(recordId, "order")

        val shell = Shell()
        shadowOf(shell.application).grantPermissions(Manifest.permission.BLUETOOTH_CONNECT, Manifest.permission.BLUETOOTH_SCAN)
        val printer = Printer(shell.application).apply { pair() }
        shell.openOrderPrinting(number)
        shell.await(Printer.NAME)

        val link = PrinterEnd(bytesPerSecond = BYTES_PER_SECOND)
        printer.nextJobGoesTo(link)
        val tapped = System.nanoTime()
        shell.button("打印（一式两联）").performClick()
        shell.await("两联已打印", seconds = 120)
        assertArrayEquals(job, link.bytes)
        val millis = TimeUnit.NANOSECONDS.toMillis(link.lastByteNanos - tapped)
        val pacing = defaultPrintPacing()
        val wire = job.size * 1000L / BYTES_PER_SECOND
        val line = "tap 打印 → last byte, $FINDINGS-finding order (58 mm, 2 copies): ${job.size} bytes in ${link.chunks.size} chunks " +
            "of ${pacing.chunkBytes} B with ${pacing.pauseMillis} ms pauses, at 115200 baud: $millis ms " +
            "(the bytes alone take $wire ms on the wire)"
        println(line)
        File(Paths.screenshots.parentFile, "benchmarks").apply { mkdirs() }.resolve("print-115200.txt").writeText(line + "\n")
    }

    private companion object {
        const val FINDINGS = 10
        const val BYTES_PER_SECOND = 115_200 / 10
    }
}
