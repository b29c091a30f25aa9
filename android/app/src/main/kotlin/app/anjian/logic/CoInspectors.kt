package app.anjian.logic

/** The colleagues typed for an inspection, one per line, or what is wrong with the lines. */
sealed interface CoInspectorsCheck {
    /** Each as core reads it: `姓名:执法证号` or `姓名:执法证号:YYYY-MM-DD`. */
    data class Ready(val entries: List<String>) : CoInspectorsCheck

    data class Refused(val problems: List<String>) : CoInspectorsCheck
}

/**
 * Reads the co-inspector field: one colleague per line (or separated by ；/;), written
 * `姓名:执法证号` with an optional `:有效期至`. Chinese keyboards type the full-width colon,
 * so it counts as a colon. Problems name the line, and a certificate given twice is refused,
 * because core keys inspectors by certificate and would silently keep one.
 */
fun checkCoInspectors(text: String, ownCert: String? = null): CoInspectorsCheck {
    val lines = text.split('\n', ';', '；').map { it.trim() }.filter { it.isNotEmpty() }
    val problems = mutableListOf<String>()
    val entries = mutableListOf<String>()
    val certs = mutableSetOf<String>()
    ownCert?.let { certs += it }
    lines.forEachIndexed { index, line ->
        val label = "第 ${index + 1} 位同行人员“$line”"
        val parts = line.replace('：', ':').split(':').map { it.trim() }
        if (parts.size !in 2..3 || parts[0].isEmpty() || parts[1].isEmpty()) {
            problems += "$label 应写作 姓名:执法证号，或 姓名:执法证号:有效期至(YYYY-MM-DD)"
            return@forEachIndexed
        }
        val (name, cert) = parts
        if (!certs.add(cert)) {
            problems += if (cert == ownCert) "$label 的执法证号与本机执法人员相同" else "$label 的执法证号重复"
            return@forEachIndexed
        }
        if (parts.size == 3) {
            when (val until = checkDate("有效期", parts[2])) {
                is DateCheck.Invalid -> problems += "$label：${until.problem}"
                is DateCheck.Valid -> entries += "$name:$cert:${until.value}"
            }
        } else {
            entries += "$name:$cert"
        }
    }
    return if (problems.isEmpty()) CoInspectorsCheck.Ready(entries) else CoInspectorsCheck.Refused(problems)
}
