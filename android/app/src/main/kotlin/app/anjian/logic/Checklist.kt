package app.anjian.logic

import app.anjian.ffi.AnswerInput
import app.anjian.ffi.AnswerView
import app.anjian.ffi.ChecklistItemView
import java.time.LocalDate

/** How an item is answered; core names them check, measure and text. */
enum class AnswerKind { CHECK, MEASURE, TEXT }

/** Unknown kinds from a newer template are answered as text, which core accepts for any item. */
fun answerKind(item: ChecklistItemView): AnswerKind = when (item.answerKind) {
    "check" -> AnswerKind.CHECK
    "measure" -> AnswerKind.MEASURE
    else -> AnswerKind.TEXT
}

/** What the inspector chose or typed for an item. */
sealed interface AnswerChoice {
    data object Pass : AnswerChoice

    data object Fail : AnswerChoice

    data object NotApplicable : AnswerChoice

    data class Measured(val text: String) : AnswerChoice

    data class Written(val text: String) : AnswerChoice
}

/** The call to make to core for an answer, or the sentence saying what to correct first. */
sealed interface AnswerCheck {
    /** `failing`: core will record a hazard, so the deadline and measure were kept. */
    data class Ready(val input: String, val details: AnswerInput, val failing: Boolean) : AnswerCheck

    data class Refused(val problem: String) : AnswerCheck
}

// Rust's f64 parser takes exactly this; Kotlin's toDouble would also take "NaN", "1d" or hex.
private val PLAIN_NUMBER = Regex("""[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?""")

/** A measured value as core will read it, or null when core would refuse the text. */
fun parseMeasured(text: String): Double? =
    text.trim().takeIf { PLAIN_NUMBER.matches(it) }?.toDouble()?.takeIf { it.isFinite() }

/** Whether a measured value lies inside the item's inclusive bounds, as core judges it. */
fun withinBounds(item: ChecklistItemView, value: Double): Boolean =
    (item.min?.let { value >= it } ?: true) && (item.max?.let { value <= it } ?: true)

/**
 * Whether this choice makes the item fail, so the screen shows the deadline and measure
 * fields: a "fail" or a measured value out of bounds.
 */
fun predictsFailure(item: ChecklistItemView, choice: AnswerChoice?): Boolean = when (choice) {
    AnswerChoice.Fail -> true
    is AnswerChoice.Measured -> parseMeasured(choice.text)?.let { !withinBounds(item, it) } ?: false
    else -> false
}

/**
 * Turns the screen's fields into core's `answer` arguments. Deadline and measure are sent only
 * for a failing answer (core refuses them otherwise, and the fields are hidden then); blank
 * texts become absent values.
 */
fun prepareAnswer(
    item: ChecklistItemView,
    choice: AnswerChoice,
    deadlineText: String,
    measureText: String,
    noteText: String,
    photoPaths: List<String>,
    inspectionDate: LocalDate,
): AnswerCheck {
    val kind = answerKind(item)
    val input = when (choice) {
        AnswerChoice.Pass, AnswerChoice.Fail ->
            if (kind != AnswerKind.CHECK) return AnswerCheck.Refused("此项不是合格/不合格判断项") else if (choice == AnswerChoice.Pass) "pass" else "fail"
        AnswerChoice.NotApplicable -> "na"
        is AnswerChoice.Measured -> {
            if (kind != AnswerKind.MEASURE) return AnswerCheck.Refused("此项不填写实测值")
            val text = choice.text.trim()
            val unit = item.unit?.let { "（$it）" } ?: ""
            if (text.isEmpty()) return AnswerCheck.Refused("请填写实测值$unit，或选择“不适用”")
            parseMeasured(text) ?: return AnswerCheck.Refused("“$text”不是数值：请填写实测值$unit")
            text
        }
        is AnswerChoice.Written -> {
            if (kind != AnswerKind.TEXT) return AnswerCheck.Refused("此项不是文字记录项")
            choice.text.trim().ifEmpty { return AnswerCheck.Refused("请填写记录内容，或选择“不适用”") }
        }
    }
    val failing = predictsFailure(item, choice)
    var deadline: String? = null
    var measure: String? = null
    if (failing) {
        when (val checked = checkDeadline(deadlineText, inspectionDate)) {
            is DateCheck.Invalid -> return AnswerCheck.Refused(checked.problem)
            is DateCheck.Valid -> deadline = checked.value
            null -> {}
        }
        measure = measureText.trim().ifEmpty { null }
    }
    val details = AnswerInput(
        note = noteText.trim().ifEmpty { null },
        photoPaths = photoPaths,
        deadline = deadline,
        measure = measure,
    )
    return AnswerCheck.Ready(input, details, failing)
}

/**
 * The input that answers a failed item again with the same result, so that only its deadline
 * changes (core keeps the earlier note, photos and measure for an unchanged status): the
 * measured value for a measured item, `fail` otherwise. Null for an answer that is not a failure.
 */
fun reanswerInput(answer: AnswerView): String? =
    if (answer.status == "fail") answer.value ?: "fail" else null

/** One line describing an answer: result, value, who and when. */
fun answerSummary(answer: AnswerView, unit: String?): String = buildString {
    append(answer.statusLabel)
    answer.value?.let { value ->
        append(" · ")
        append(if (unit != null) "实测 $value $unit" else value)
    }
    append(" · ").append(answer.byName).append(' ').append(displayTime(answer.at))
    answer.resolvedBy?.let { append(" · 由").append(it).append("确定") }
}

/**
 * Where the inspector stands in a checklist, and where to go next: the items still needing
 * attention are the required ones without an answer and those with conflicting answers.
 */
class ChecklistProgress(val items: List<ChecklistItemView>, conflictedItems: Collection<String>) {
    private val conflicted = conflictedItems.toSet()

    val requiredCount: Int = items.count { it.required }
    val requiredAnswered: Int = items.count { it.required && it.answer != null }
    val answeredCount: Int = items.count { it.answer != null }
    val conflictCount: Int = items.count { it.code in conflicted }

    /** Nothing left that blocks submission on the checklist's side (core checks the rest). */
    val ready: Boolean get() = requiredAnswered == requiredCount && conflictCount == 0

    fun isConflicted(index: Int): Boolean = items[index].code in conflicted

    fun needsAttention(index: Int): Boolean =
        isConflicted(index) || (items[index].required && items[index].answer == null)

    /** The item to open a checklist at: the first needing attention, else the first. */
    fun firstToShow(): Int = items.indices.firstOrNull(::needsAttention) ?: 0

    /** The next item needing attention after `from`, wrapping round; null when none is left. */
    fun nextNeedingAttention(from: Int): Int? =
        (1 until items.size).map { (from + it) % items.size }.firstOrNull(::needsAttention)

    /** Where to go after answering `from`: the next item needing attention, else simply the next one. */
    fun afterAnswer(from: Int): Int = nextNeedingAttention(from) ?: (from + 1).coerceAtMost(items.lastIndex)

    fun indexOf(code: String): Int? = items.indexOfFirst { it.code == code }.takeIf { it >= 0 }

    /** The mark before an item in the item list. */
    fun marker(index: Int): String = when {
        isConflicted(index) -> "⚠"
        items[index].answer != null -> "✓"
        items[index].required -> "○"
        else -> "·"
    }

    fun summary(): String = buildString {
        append("必查项已答 ").append(requiredAnswered).append('/').append(requiredCount)
        append("，共答 ").append(answeredCount).append('/').append(items.size)
        if (conflictCount > 0) append("，冲突 ").append(conflictCount).append(" 项")
    }
}
