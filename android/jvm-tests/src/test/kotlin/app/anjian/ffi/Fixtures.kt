package app.anjian.ffi

import java.io.File
import java.nio.charset.Charset
import java.nio.file.Files

/** The repository's shipped data, and helpers the tests share. */
object Fixtures {
    val repo: File = File(System.getProperty("anjian.repo") ?: error("anjian.repo is not set"))

    /** 淄博齐林电力设备制造有限公司, 工贸, in 科苑街道 (370303007). */
    const val FACTORY = "913703030226339277"

    /** 张伟's colleague 李娜, as a co-inspector. */
    const val LI = "李娜:37030002:2030-12-31"

    val GB18030: Charset = Charset.forName("GB18030")

    fun enterprisesCsv(): ByteArray = File(repo, "templates/demo/enterprises.csv").readBytes()

    fun agencyToml(): String = File(repo, "templates/agency.example.toml").readText()

    fun tempDir(prefix: String): File = Files.createTempDirectory(prefix).toFile().also { it.deleteOnExit() }

    /** The input that passes an item: pass, the lower bound of a measure, or a note. */
    fun passingInput(item: ChecklistItemView): String = when (item.answerKind) {
        "check" -> "pass"
        "measure" -> (item.min ?: item.max ?: error("measure without bounds: ${item.code}")).toString()
        else -> "已记录"
    }

    /** Answers every required item of a record with a passing answer, except `skip`. */
    fun answerRequired(store: DeviceStore, recordId: String, skip: Set<String> = emptySet()): List<String> =
        store.checklist(recordId)
            .filter { it.required && it.code !in skip }
            .map { item ->
                store.answer(recordId, item.code, passingInput(item), AnswerInput())
                item.code
            }

    /** Whether `needle` occurs in `haystack`. */
    fun contains(haystack: ByteArray, needle: ByteArray): Boolean =
        (0..haystack.size - needle.size).any { start ->
            needle.indices.all { haystack[start + it] == needle[it] }
        }
}
