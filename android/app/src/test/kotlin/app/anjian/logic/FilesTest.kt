package app.anjian.logic

import java.nio.file.Files
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test

class FilesTest {
    @Test
    fun `only plain file names are served`() {
        for (bad in listOf("", "../store/anjian.db", "a/b.jpg", ".hidden", "a\\b", "x y.pdf", "%2e%2e")) {
            assertFalse(isSafeFileName(bad), bad)
        }
        assertTrue(isSafeFileName("(淄)安监责改〔2026〕0012号.pdf"))
        assertEquals("a_b_c", safeFileName("..a/b c"))
        assertTrue(isSafeFileName(safeFileName("../../etc/passwd")))
        assertEquals("责令限期整改指令书-(淄)安监责改〔2026〕0012号.pdf", pdfFileName("责令限期整改指令书", "(淄)安监责改〔2026〕0012号"))
    }

    @Test
    fun `pending photos belong to exactly one item and empty captures do not count`() {
        val dir = Files.createTempDirectory("camera").toFile()
        fun capture(item: String, at: Long, bytes: Int) =
            dir.resolve(CapturedPhotos.fileName("rec-1", item, at)).apply { writeBytes(ByteArray(bytes)) }
        val first = capture("IT_1", 100, 10)
        val second = capture("IT_1", 200, 10)
        capture("IT_1", 300, 0) // cancelled: the camera app never wrote
        capture("IT_10", 100, 10)
        capture("IT_1_2", 100, 10)
        dir.resolve(CapturedPhotos.fileName("rec-2", "IT_1", 100)).writeBytes(ByteArray(10))
        assertEquals(listOf(first, second), CapturedPhotos.pending(dir, "rec-1", "IT_1"))
        assertTrue(CapturedPhotos.fileName("rec-1", "IT/1", 1).let(::isSafeFileName))
        dir.deleteRecursively()
    }
}
