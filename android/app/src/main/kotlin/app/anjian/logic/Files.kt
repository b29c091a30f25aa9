package app.anjian.logic

import java.io.File

private fun allowedInName(c: Char): Boolean = c.isLetterOrDigit() || c in "._-()（）〔〕"

/**
 * Whether a name may be served by the app's file provider: one plain file name, no path and
 * no hidden file, so a crafted content URI cannot reach outside the shared folders.
 */
fun isSafeFileName(name: String): Boolean =
    name.isNotEmpty() && name.length <= 160 && !name.startsWith('.') && name.all(::allowedInName)

/** `text` made into a name that [isSafeFileName] accepts. */
fun safeFileName(text: String): String =
    text.map { if (allowedInName(it)) it else '_' }.joinToString("").trimStart('.').take(150).ifEmpty { "file" }

/**
 * Photos the camera app wrote for an item and that are not yet in the store. They live in the
 * app's files folder under names that say which record and item they belong to, so a photo
 * survives the app being killed while the camera is open: the item shows it again as pending.
 */
object CapturedPhotos {
    private fun prefix(recordId: String, item: String): String = safeFileName("${recordId}_${item}_")

    fun fileName(recordId: String, item: String, nowMillis: Long): String = prefix(recordId, item) + nowMillis + ".jpg"

    /** Non-empty captures of this item, oldest first (a cancelled capture leaves an empty file). */
    fun pending(dir: File, recordId: String, item: String): List<File> {
        val pattern = Regex(Regex.escape(prefix(recordId, item)) + """\d+\.jpg""")
        return dir.listFiles().orEmpty()
            .filter { it.isFile && pattern.matches(it.name) && it.length() > 0 }
            .sortedBy { it.name }
    }
}
