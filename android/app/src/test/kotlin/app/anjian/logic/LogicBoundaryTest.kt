package app.anjian.logic

import java.io.File
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test

class LogicBoundaryTest {
    @Test
    fun `the logic package imports nothing from the Android framework`() {
        // Maven and Gradle both run tests in the module folder.
        val dir = File("src/main/kotlin/app/anjian/logic")
        val sources = dir.listFiles().orEmpty().filter { it.name.endsWith(".kt") }
        assertTrue(sources.size >= 10, "found ${sources.size} sources in ${dir.absolutePath}")
        val offenders = sources.filter { file -> file.readLines().any { it.startsWith("import android") } }
        assertEquals(listOf<File>(), offenders)
    }
}
