package app.anjian.logic

import app.anjian.ffi.AnswerView
import app.anjian.ffi.ChecklistItemView
import app.anjian.ffi.EnterpriseView
import app.anjian.ffi.HazardView
import app.anjian.ffi.IssuedDocumentView
import app.anjian.ffi.RecordSummaryView
import app.anjian.ffi.RecordView

/** Hand-made views for the tests that need no store. */
object Samples {
    fun item(
        code: String,
        kind: String = "check",
        required: Boolean = true,
        min: Double? = null,
        max: Double? = null,
        unit: String? = null,
        answer: AnswerView? = null,
    ) = ChecklistItemView(
        code = code,
        section = "一、安全管理",
        text = "检查项 $code",
        answerKind = kind,
        requirement = if (kind == "measure") "≥ ${min ?: 0.0} ${unit ?: ""}" else null,
        unit = unit,
        min = min,
        max = max,
        required = required,
        guidance = "查看现场",
        legalBasis = "《安全生产法》第二十一条",
        hazard = "$code 不符合要求",
        `class` = "一般",
        defaultMeasure = null,
        answer = answer,
    )

    fun answer(item: String, status: String, value: String? = null, resolvedBy: String? = null) = AnswerView(
        item = item,
        status = status,
        statusLabel = mapOf("pass" to "合格", "fail" to "不合格", "na" to "不适用", "recorded" to "已记录")[status] ?: status,
        value = value,
        note = null,
        photos = listOf(),
        byName = "张伟",
        byCert = "37030001",
        device = "d1",
        at = "2026-11-28T09:30:00+08:00",
        hazard = null,
        resolvedBy = resolvedBy,
    )

    fun hazard(item: String, deadline: String?, measure: String? = null) = HazardView(
        item = item,
        description = "$item 不符合要求",
        `class` = "重大",
        legalBasis = "《安全生产法》第四十一条",
        measure = measure,
        deadline = deadline,
        note = null,
    )

    val enterprise = EnterpriseView("913703030226339277", "淄博齐林电力设备制造有限公司", "淄博市张店区", "工贸", "370303007", "王", "0533-1")

    fun record(
        id: String = "rec-1",
        kind: String = "inspection",
        status: String = "draft",
        answers: List<AnswerView> = listOf(),
        hazards: List<HazardView> = listOf(),
        documents: List<IssuedDocumentView> = listOf(),
        inspectionKind: String = "enforcement",
    ) = RecordView(
        id = id,
        kind = kind,
        inspectionKind = inspectionKind,
        inspectionKindLabel = if (inspectionKind == "enforcement") "执法检查" else "企业自查",
        templateId = "trade-enforcement",
        templateVersion = 1u,
        enterprise = enterprise,
        inspectors = listOf(),
        place = "一号车间",
        onSitePost = null,
        startedAt = "2026-11-28T09:00:00+08:00",
        createdByDevice = "d1",
        status = status,
        statusLabel = status,
        submittedAt = null,
        submittedBy = null,
        documents = documents,
        reinspectsRecordId = null,
        reinspectsOrderNumber = null,
        amendsRecordId = null,
        answers = answers,
        hazards = hazards,
        conflicts = listOf(),
        heads = listOf(),
    )

    fun summary(id: String, status: String = "draft", kind: String = "inspection") = RecordSummaryView(
        id = id,
        kind = kind,
        inspectionKind = "enforcement",
        template = "trade-enforcement",
        enterprise = enterprise.creditCode,
        enterpriseName = enterprise.name,
        place = "一号车间",
        status = status,
        startedAt = "2026-11-28T09:00:00+08:00",
        updatedAt = "2026-11-28T10:00:00+08:00",
        answeredCount = 0u,
        hazardCount = 0u,
        conflictCount = 0u,
    )
}
