package app.anjian.logic

import java.time.DateTimeException
import java.time.LocalDate
import java.time.ZoneOffset
import java.time.format.DateTimeFormatter

/** Documents and deadlines are dated in China Standard Time, whatever the tablet's zone. */
val CHINA: ZoneOffset = ZoneOffset.ofHours(8)

fun todayInChina(): LocalDate = LocalDate.now(CHINA)

/** A checked date text, or the sentence saying what is wrong with it. */
sealed interface DateCheck {
    /** `value` is `YYYY-MM-DD`, zero-padded, the form core parses. */
    data class Valid(val value: String) : DateCheck

    data class Invalid(val problem: String) : DateCheck
}

private val DATE_TEXT = Regex("""(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?""")

/**
 * Reads a date as inspectors type it (2026-12-1, 2026/12/01, 2026年12月1日) and writes it the
 * way core wants it. `field` names the field in the message.
 */
fun checkDate(field: String, text: String): DateCheck {
    val trimmed = text.trim()
    val match = DATE_TEXT.matchEntire(trimmed)
        ?: return DateCheck.Invalid("$field “$trimmed” 应写作 YYYY-MM-DD，如 2026-12-31")
    val (year, month, day) = match.destructured
    return try {
        DateCheck.Valid(LocalDate.of(year.toInt(), month.toInt(), day.toInt()).format(DateTimeFormatter.ISO_LOCAL_DATE))
    } catch (_: DateTimeException) {
        DateCheck.Invalid("$field “$trimmed” 不是有效的日期")
    }
}

/**
 * Checks a rectification deadline the way core will, before the answer is sent: a real date,
 * not before the day of the inspection. A blank text is no deadline (`null`), which core allows
 * but submission does not, so the hazards screen asks for it later.
 */
fun checkDeadline(text: String, inspectionDate: LocalDate): DateCheck? {
    if (text.isBlank()) return null
    return when (val date = checkDate("整改期限", text)) {
        is DateCheck.Invalid -> date
        is DateCheck.Valid -> {
            val day = LocalDate.parse(date.value)
            if (day.isBefore(inspectionDate)) {
                DateCheck.Invalid("整改期限 ${date.value} 早于检查日期 $inspectionDate")
            } else {
                date
            }
        }
    }
}

/** The deadline `days` after `from`, for the quick-pick buttons (7, 15, 30 days). */
fun deadlineAfter(days: Int, from: LocalDate): String = from.plusDays(days.toLong()).format(DateTimeFormatter.ISO_LOCAL_DATE)

/** The day a record was started, from core's RFC 3339 time in China time (`2026-11-28T09:30:00+08:00`). */
fun inspectionDate(startedAt: String): LocalDate = LocalDate.parse(startedAt.take(10))

/** Core's China-time instant as people read it: `2026-11-28 09:30`. */
fun displayTime(rfc3339: String): String =
    if (rfc3339.length >= 16 && rfc3339[10] == 'T') rfc3339.substring(0, 10) + " " + rfc3339.substring(11, 16) else rfc3339
