package app.anjian.logic

import app.anjian.ffi.RecordView

/** One hazard of a record as the hazards screen lists it. */
data class HazardRow(
    val item: String,
    val description: String,
    val hazardClass: String,
    val legalBasis: String,
    val measure: String?,
    val deadline: String?,
    /** Submission will be refused for this hazard until it has a deadline. */
    val missingDeadline: Boolean,
    /** The input that re-answers the item unchanged so a deadline can be set; null if it cannot be. */
    val reanswer: String?,
)

/**
 * The record's hazards with what each still lacks. A re-inspection's unrectified hazard may
 * carry a follow-up measure instead of a new deadline, as core's completion rule allows.
 */
fun hazardRows(record: RecordView): List<HazardRow> {
    val answers = record.answers.associateBy { it.item }
    return record.hazards.map { hazard ->
        val escalated = record.kind == "reinspection" && hazard.measure != null
        HazardRow(
            item = hazard.item,
            description = hazard.description,
            hazardClass = hazard.`class`,
            legalBasis = hazard.legalBasis,
            measure = hazard.measure,
            deadline = hazard.deadline,
            missingDeadline = hazard.deadline == null && !escalated,
            reanswer = answers[hazard.item]?.let(::reanswerInput),
        )
    }
}
